/*
 * fwd.c: writing the forwarded heads.  See fwd.h.
 *
 * Heads are written field by field into a buffer with explicit lengths;
 * a head that would not fit fails as a whole.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <strings.h>
#include <time.h>

#include "addr.h"
#include "cache.h"
#include "fwd.h"
#include "status.h"
#include "tls.h"

/* A cursor writing into a buffer; ok turns false on overflow. */
struct out {
	char	*p, *end;
	bool	 ok;
};

static inline void
put(struct out *o, const void *s, size_t n)
{
	if ((size_t)(o->end - o->p) < n) {
		o->ok = false;
		return;
	}
	memcpy(o->p, s, n);
	o->p += n;
}

#define PUT_LIT(o, lit)	put((o), (lit), sizeof(lit) - 1)

static inline void
put_str(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static inline void
put_uint(struct out *o, uint64_t v)
{
	char	tmp[24];
	int	i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	put(o, tmp + i, sizeof(tmp) - (size_t)i);
}

static inline const char *
at(const char *base, struct http1_str s)
{
	return base + s.off;
}

/* "name: value\r\n" as received, names keep their case. */
static inline void
put_header(struct out *o, const char *base, const struct http1_header *h)
{
	put(o, at(base, h->name), h->name.len);
	PUT_LIT(o, ": ");
	put(o, at(base, h->value), h->value.len);
	PUT_LIT(o, "\r\n");
}

/*
 * Whether header h is named in a Connection header of m (RFC 9110 7.6.1:
 * such headers are hop-by-hop too).  Only asked when Connection named
 * something other than close, keep-alive and upgrade.
 */
static bool
named_by_connection(const char *base, const struct http1_msg *m,
    const struct http1_header *h)
{
	uint32_t	 i;
	const char	*p, *end, *tok;
	size_t		 len;

	for (i = 0; i < m->nheaders; i++) {
		if (m->headers[i].kind != HTTP1_H_CONNECTION)
			continue;
		p = at(base, m->headers[i].value);
		end = p + m->headers[i].value.len;
		while (p < end) {
			while (p < end && (*p == ' ' || *p == '\t' ||
			    *p == ','))
				p++;
			tok = p;
			while (p < end && *p != ',' && *p != ' ' &&
			    *p != '\t')
				p++;
			len = (size_t)(p - tok);
			if (len == h->name.len && len > 0 &&
			    strncasecmp(tok, at(base, h->name), len) == 0)
				return true;
		}
	}
	return false;
}

/* Whether a header never passes a proxy, in either direction. */
static inline bool
hop_by_hop(const char *base, const struct http1_msg *m,
    const struct http1_header *h, bool upgrading)
{
	switch (h->kind) {
	case HTTP1_H_CONNECTION:
	case HTTP1_H_KEEP_ALIVE:
	case HTTP1_H_TE:
	case HTTP1_H_TRAILER:
	case HTTP1_H_PROXY_CONNECTION:
		return true;
	case HTTP1_H_UPGRADE:
		return !upgrading;
	default:
		break;
	}
	return (m->flags & HTTP1_F_CONN_OTHER) &&
	    named_by_connection(base, m, h);
}

/* The values of every header of a kind, joined with ", ". */
static void
put_joined(struct out *o, const char *base, const struct http1_msg *m,
    uint8_t kind)
{
	uint32_t i;

	for (i = 0; i < m->nheaders; i++) {
		if (m->headers[i].kind != kind)
			continue;
		put(o, at(base, m->headers[i].value), m->headers[i].value.len);
		PUT_LIT(o, ", ");
	}
}

/* The headers that say what client certificate the connection has:
   only Portico sets them, whatever the client sent. */
#define H_VERIFY	"X-Client-Verify"
#define H_SUBJECT	"X-Client-Subject"

/* name is want, in any case and with '_' for '-' (a gateway that maps
   both to HTTP_X_CLIENT_VERIFY would take a look-alike for ours). */
static bool
same_name(const char *name, size_t len, const char *want)
{
	size_t	i;
	int	a;

	if (len != strlen(want))
		return false;
	for (i = 0; i < len; i++) {
		a = tolower((unsigned char)name[i]);
		if (a == '_')
			a = '-';
		if (a != tolower((unsigned char)want[i]))
			return false;
	}
	return true;
}

static bool
ours(const char *base, const struct http1_header *h)
{
	return same_name(at(base, h->name), h->name.len, H_VERIFY) ||
	    same_name(at(base, h->name), h->name.len, H_SUBJECT);
}

static void
put_client_cert(struct out *o, struct client *c)
{
	char subject[1024];

	PUT_LIT(o, H_VERIFY ": ");
	put_str(o, tls_peer(c->k.ssl, subject, sizeof(subject)));
	PUT_LIT(o, "\r\n");
	if (subject[0] != '\0') {
		PUT_LIT(o, H_SUBJECT ": ");
		put_str(o, subject);
		PUT_LIT(o, "\r\n");
	}
}

/* Strict-Transport-Security of the site, over TLS only (RFC 6797 7.2),
   unless the origin sent its own. */
static void
put_hsts(struct out *o, const struct exchange *x, const char *base,
    const struct http1_msg *m)
{
	static const char	 name[] = "Strict-Transport-Security";
	const char		*hsts;
	uint32_t		 i;

	if (x->route == NULL || (hsts = x->route->site->hsts) == NULL ||
	    x->w->cf->listeners[x->c->listener].tls == NULL)
		return;
	for (i = 0; m != NULL && i < m->nheaders; i++)
		if (m->headers[i].name.len == sizeof(name) - 1 &&
		    strncasecmp(at(base, m->headers[i].name), name,
		    sizeof(name) - 1) == 0)
			return;
	PUT_LIT(o, "Strict-Transport-Security: ");
	put_str(o, hsts);
	PUT_LIT(o, "\r\n");
}

/* fwd_request_head(): see fwd.h. */
int
fwd_request_head(struct exchange *x, struct buf *b)
{
	const struct config_proxy_headers *ph = &x->w->cf->proxy_headers;
	const struct http1_msg	*m = &x->req;
	const char		*base = buf_head(x->c->in);
	struct out		 o = { buf_tail(b), b->data + b->size, true };
	const struct http1_header *h;
	const struct config_tls	*tls;
	char			 ip[INET6_ADDRSTRLEN];
	uint32_t		 i;
	bool			 cl_sent = false;

	put(&o, at(base, m->method_str), m->method_str.len);
	PUT_LIT(&o, " ");
	if (x->path.len > 0)
		put(&o, at(base, x->path), x->path.len);
	else
		PUT_LIT(&o, "/");
	/* RFC 9110 2.5: a proxy sends its own version, whatever the
	   client's; a chunked answer to a 1.0 client is decoded. */
	PUT_LIT(&o, " HTTP/1.1\r\n");
	for (i = 0; i < m->nheaders; i++) {
		h = &m->headers[i];
		switch (h->kind) {
		case HTTP1_H_X_FORWARDED_FOR:
			if (ph->x_forwarded_for)
				continue;
			break;
		case HTTP1_H_X_FORWARDED_PROTO:
			if (ph->x_forwarded_proto)
				continue;
			break;
		case HTTP1_H_X_FORWARDED_HOST:
			if (ph->x_forwarded_host)
				continue;
			break;
		case HTTP1_H_VIA:
			if (ph->via)
				continue;
			break;
		case HTTP1_H_HOST:
			/* Replaced by the target's authority. */
			if (x->absolute)
				continue;
			break;
		case HTTP1_H_CONTENT_LENGTH:
			/* One clean value, whatever list the client sent. */
			if (!cl_sent) {
				PUT_LIT(&o, "Content-Length: ");
				put_uint(&o, m->content_length);
				PUT_LIT(&o, "\r\n");
				cl_sent = true;
			}
			continue;
		case HTTP1_H_EXPECT:
			/* 100-continue is answered here, not upstream. */
			if (x->continue_sent)
				continue;
			break;
		default:
			if (h->kind != HTTP1_H_OTHER &&
			    hop_by_hop(base, m, h, x->upgrade))
				continue;
			if (h->kind == HTTP1_H_OTHER &&
			    (m->flags & HTTP1_F_CONN_OTHER) &&
			    named_by_connection(base, m, h))
				continue;
			if (h->kind == HTTP1_H_OTHER && ours(base, h))
				continue;
			if (h->kind == HTTP1_H_OTHER && x->cx != NULL &&
			    cache_fwd_drop(x, at(base, h->name), h->name.len))
				continue;
			break;
		}
		put_header(&o, base, h);
	}
	if (x->cx != NULL) {
		char	extra[1024];
		size_t	n = cache_fwd_extra(x, extra, sizeof(extra));

		put(&o, extra, n);
	}
	if (ph->x_forwarded_for) {
		PUT_LIT(&o, "X-Forwarded-For: ");
		put_joined(&o, base, m, HTTP1_H_X_FORWARDED_FOR);
		addr_format_ip(&x->c->peer.sa, ip, sizeof(ip));
		put_str(&o, ip);
		PUT_LIT(&o, "\r\n");
	}
	tls = x->w->cf->listeners[x->c->listener].tls;
	if (ph->x_forwarded_proto) {
		if (tls != NULL)
			PUT_LIT(&o, "X-Forwarded-Proto: https\r\n");
		else
			PUT_LIT(&o, "X-Forwarded-Proto: http\r\n");
	}
	if (tls != NULL && tls->client_verify != VERIFY_OFF)
		put_client_cert(&o, x->c);
	if (x->absolute) {
		PUT_LIT(&o, "Host: ");
		put(&o, at(base, x->host), x->host.len);
		PUT_LIT(&o, "\r\n");
	} else if (x->host.len == 0) {
		/* An HTTP/1.0 request may lack Host; an HTTP/1.1 one may
		   not (RFC 9112 3.2): name the server, as nginx does. */
		PUT_LIT(&o, "Host: ");
		put_str(&o, x->srv->name);
		PUT_LIT(&o, "\r\n");
	}
	if (ph->x_forwarded_host && x->host.len > 0) {
		PUT_LIT(&o, "X-Forwarded-Host: ");
		put(&o, at(base, x->host), x->host.len);
		PUT_LIT(&o, "\r\n");
	}
	if (ph->via) {
		PUT_LIT(&o, "Via: ");
		put_joined(&o, base, m, HTTP1_H_VIA);
		if (m->version_minor == 0)
			PUT_LIT(&o, "1.0 portico\r\n");
		else
			PUT_LIT(&o, "1.1 portico\r\n");
	}
	if (x->upgrade)
		PUT_LIT(&o, "Connection: upgrade\r\n");
	else if (x->srv->up->cf->keepalive == 0)
		PUT_LIT(&o, "Connection: close\r\n");
	PUT_LIT(&o, "\r\n");
	if (!o.ok)
		return -1;
	b->end = (uint32_t)(o.p - b->data);
	return 0;
}

/*
 * The Connection header of a response to the client, if any.  A worker
 * that drains closes the connection after this response, and says so.
 */
static void
put_client_connection(struct out *o, struct exchange *x)
{
	if (x->w->draining)
		x->keepalive = 0;
	if (!x->keepalive || x->close_after)
		PUT_LIT(o, "Connection: close\r\n");
	else if (x->req.version_minor == 0)
		PUT_LIT(o, "Connection: keep-alive\r\n");
}

/*
 * sticky_cookie: a client whose cookie did not name the server that
 * answered learns it (its id, in 16 hex digits), for its next request.
 */
static void
put_sticky_cookie(struct out *o, const struct exchange *x)
{
	const struct config_upstream	*cu = x->srv->up->cf;
	char				 id[17];

	if (cu->sticky_cookie == NULL ||
	    (x->bkey.has_sticky && x->bkey.sticky == x->srv->id))
		return;
	snprintf(id, sizeof(id), "%016llx", (unsigned long long)x->srv->id);
	PUT_LIT(o, "Set-Cookie: ");
	put_str(o, cu->sticky_cookie);
	PUT_LIT(o, "=");
	put_str(o, id);
	PUT_LIT(o, "; Path=/; HttpOnly\r\n");
}

/* fwd_response_head(): see fwd.h. */
int
fwd_response_head(struct exchange *x, struct buf *b)
{
	const struct http1_msg	*m = &x->resp;
	const char		*base = buf_head(x->uin);
	struct out		 o = { buf_tail(b), b->data + b->size, true };
	bool			 upgrading = m->status == 101;
	bool			 cl_sent = false;
	uint32_t		 i;

	/* An HTTP/1.0 client cannot read chunked coding (RFC 9112 7.1):
	   it gets the data decoded, ended by the close. */
	x->dechunk = m->body == HTTP1_BODY_CHUNKED && x->req.version_minor == 0;
	if (m->body == HTTP1_BODY_CLOSE || x->dechunk)
		x->keepalive = 0;
	PUT_LIT(&o, "HTTP/1.1 ");
	put_uint(&o, m->status);
	PUT_LIT(&o, " ");
	put(&o, at(base, m->reason), m->reason.len);
	PUT_LIT(&o, "\r\n");
	for (i = 0; i < m->nheaders; i++) {
		if (hop_by_hop(base, m, &m->headers[i], upgrading))
			continue;
		if (x->dechunk &&
		    m->headers[i].kind == HTTP1_H_TRANSFER_ENCODING)
			continue;
		if (m->headers[i].kind == HTTP1_H_CONTENT_LENGTH) {
			if (!cl_sent) {
				PUT_LIT(&o, "Content-Length: ");
				put_uint(&o, m->content_length);
				PUT_LIT(&o, "\r\n");
				cl_sent = true;
			}
			continue;
		}
		put_header(&o, base, &m->headers[i]);
	}
	if (m->status >= 200) {
		char	cs[160];
		size_t	n;

		put_sticky_cookie(&o, x);
		put_hsts(&o, x, base, m);
		if ((n = cache_status(x, cs, sizeof(cs))) > 0) {
			PUT_LIT(&o, "Cache-Status: ");
			put(&o, cs, n);
			PUT_LIT(&o, "\r\n");
		}
	}
	if (upgrading)
		PUT_LIT(&o, "Connection: upgrade\r\n");
	else if (m->status >= 200)
		put_client_connection(&o, x);
	PUT_LIT(&o, "\r\n");
	if (!o.ok)
		return -1;
	b->end = (uint32_t)(o.p - b->data);
	return 0;
}

/* fwd_hop_by_hop(): see fwd.h. */
bool
fwd_hop_by_hop(const char *base, const struct http1_msg *m,
    const struct http1_header *h)
{
	return h->kind == HTTP1_H_TRANSFER_ENCODING ||
	    hop_by_hop(base, m, h, false);
}

/* "HTTP/1.1 200 OK\r\n" for a response of our own or from the cache. */
static void
put_status_line(struct out *o, unsigned status)
{
	PUT_LIT(o, "HTTP/1.1 ");
	put_uint(o, status);
	PUT_LIT(o, " ");
	put_str(o, status_reason((int)status));
	PUT_LIT(o, "\r\n");
}

/* The end of a head of our own or from the cache: HSTS, Connection, the
   empty line; then the head is b's, or -1 if it did not fit. */
static int
end_own_head(struct out *o, struct exchange *x, struct buf *b)
{
	put_hsts(o, x, NULL, NULL);
	put_client_connection(o, x);
	PUT_LIT(o, "\r\n");
	if (!o->ok)
		return -1;
	b->end = (uint32_t)(o->p - b->data);
	return 0;
}

/* fwd_cached_head(): see fwd.h. */
int
fwd_cached_head(struct exchange *x, struct buf *b, const struct fwd_cached *c)
{
	struct out o = { buf_tail(b), b->data + b->size, true };

	put_status_line(&o, c->status);
	put(&o, c->fields, c->fields_len);
	PUT_LIT(&o, "Age: ");
	put_uint(&o, c->age > 0 ? (uint64_t)c->age : 0);
	PUT_LIT(&o, "\r\n");
	if (c->status != 304 && c->status != 204) {
		PUT_LIT(&o, "Content-Length: ");
		put_uint(&o, c->length);
		PUT_LIT(&o, "\r\n");
	}
	if (c->status == 416) {
		/* RFC 9110 15.5.17: what the range could have been */
		PUT_LIT(&o, "Content-Range: bytes */");
		put_uint(&o, c->total);
		PUT_LIT(&o, "\r\n");
	} else if (c->status == 206) {
		PUT_LIT(&o, "Content-Range: bytes ");
		put_uint(&o, c->first);
		PUT_LIT(&o, "-");
		put_uint(&o, c->first + c->length - 1);
		PUT_LIT(&o, "/");
		put_uint(&o, c->total);
		PUT_LIT(&o, "\r\n");
	}
	PUT_LIT(&o, "Cache-Status: ");
	put_str(&o, c->cache_status);
	PUT_LIT(&o, "\r\n");
	return end_own_head(&o, x, b);
}

/* The Date header value, formatted once a second (RFC 9110 5.6.7). */
static const char *
http_date(struct worker *w)
{
	static time_t	 last = -1;
	static char	 text[40];
	time_t		 now = ev_time(w->loop);
	struct tm	 tm;

	if (now != last) {
		gmtime_r(&now, &tm);
		strftime(text, sizeof(text), "%a, %d %b %Y %H:%M:%S GMT", &tm);
		last = now;
	}
	return text;
}

/* fwd_local_head(): see fwd.h. */
int
fwd_local_head(struct exchange *x, struct buf *b, unsigned status,
    const char *content_type, size_t body_len, const char *location)
{
	struct out o = { buf_tail(b), b->data + b->size, true };

	put_status_line(&o, status);
	PUT_LIT(&o, "Server: portico\r\nDate: ");
	put_str(&o, http_date(x->w));
	PUT_LIT(&o, "\r\nContent-Type: ");
	put_str(&o, content_type);
	PUT_LIT(&o, "\r\nContent-Length: ");
	put_uint(&o, body_len);
	PUT_LIT(&o, "\r\n");
	if (location != NULL) {
		PUT_LIT(&o, "Location: ");
		put_str(&o, location);
		PUT_LIT(&o, "\r\n");
	}
	if (x->retry_after != 0) {
		PUT_LIT(&o, "Retry-After: ");
		put_uint(&o, x->retry_after);
		PUT_LIT(&o, "\r\n");
	}
	return end_own_head(&o, x, b);
}
