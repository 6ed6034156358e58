/*
 * tries.c: which server each try of a request goes to, and what a failed
 * try leads to: another server (next_upstream, tries), or an answer of
 * our own.  See tries.h.
 */
#include <stdlib.h>

#include "balance.h"
#include "log.h"
#include "proxy.h"
#include "tries.h"

/* tries_idempotent(): see tries.h. */
bool
tries_idempotent(const struct http1_msg *m)
{
	switch (m->method) {
	case HTTP1_M_GET:
	case HTTP1_M_HEAD:
	case HTTP1_M_PUT:
	case HTTP1_M_DELETE:
	case HTTP1_M_OPTIONS:
	case HTTP1_M_TRACE:
		return true;
	default:
		return false;
	}
}

/* The value of header name in the request, or NULL. */
static const char *
req_header(const struct exchange *x, const char *name, size_t *len)
{
	const char	*base = buf_head(x->c->in);
	uint32_t	 i;

	for (i = 0; i < x->req.nheaders; i++)
		if (http1_str_eq(base, x->req.headers[i].name, name)) {
			*len = x->req.headers[i].value.len;
			return base + x->req.headers[i].value.off;
		}
	return NULL;
}

/* The value of cookie name in the request's Cookie headers, or NULL
   (RFC 6265 5.4: "a=1; b=2"). */
static const char *
req_cookie(const struct exchange *x, const char *name, size_t *len)
{
	const char	*base = buf_head(x->c->in);
	size_t		 nlen = strlen(name);
	uint32_t	 i;

	for (i = 0; i < x->req.nheaders; i++) {
		const char	*p, *end, *semi;

		if (!http1_str_eq(base, x->req.headers[i].name, "cookie"))
			continue;
		p = base + x->req.headers[i].value.off;
		end = p + x->req.headers[i].value.len;
		while (p < end) {
			while (p < end && (*p == ' ' || *p == ';'))
				p++;
			if ((semi = memchr(p, ';', (size_t)(end - p))) == NULL)
				semi = end;
			if ((size_t)(semi - p) > nlen && p[nlen] == '=' &&
			    memcmp(p, name, nlen) == 0) {
				*len = (size_t)(semi - p) - nlen - 1;
				return p + nlen + 1;
			}
			p = semi;
		}
	}
	return NULL;
}

/* tries_key(): see tries.h. */
void
tries_key(struct exchange *x, const struct config_upstream *cu)
{
	struct balance_key	*k = &x->bkey;
	const struct sockaddr	*sa = &x->c->peer.sa;
	const char		*v = NULL;
	size_t			 len = 0;
	char			*end;

	memset(k, 0, sizeof(*k));
	switch (cu->hash_kind) {
	case HASH_KEY_CLIENT:
		if (sa->sa_family == AF_INET) {
			v = (const char *)&x->c->peer.v4.sin_addr;
			len = sizeof(x->c->peer.v4.sin_addr);
		} else {
			v = (const char *)&x->c->peer.v6.sin6_addr;
			len = sizeof(x->c->peer.v6.sin6_addr);
		}
		break;
	case HASH_KEY_URI:
		v = buf_head(x->c->in) + x->path.off;
		len = x->path.len;
		break;
	case HASH_KEY_HEADER:
		v = req_header(x, cu->hash_name, &len);
		break;
	case HASH_KEY_COOKIE:
		v = req_cookie(x, cu->hash_name, &len);
		break;
	default:
		break;
	}
	if (v != NULL) {
		k->hash = balance_hash(v, len);
		k->has_hash = true;
	}
	if (cu->sticky_cookie != NULL &&
	    (v = req_cookie(x, cu->sticky_cookie, &len)) != NULL &&
	    len == 16) {
		char hex[17];

		memcpy(hex, v, 16);
		hex[16] = '\0';
		k->sticky = strtoull(hex, &end, 16);
		k->has_sticky = *end == '\0';
	}
}

/* tries_next(): see tries.h. */
int
tries_next(struct exchange *x)
{
	struct upstream_rt	*u = pool_upstream(&x->w->pool,
				    x->route->upstream);
	struct server_rt	*s;

	if (x->ntried >= PT_NELEM(x->tried))
		return -1;
	s = balance_pick(u, &x->bkey, x->tried, x->ntried, shm_now());
	if (s == NULL)
		return -1;
	x->srv = s;
	x->tried[x->ntried++] = s;
	balance_begin(s);
	x->counted = 1;
	x->t_try = ev_now(x->w->loop);
	return 0;
}

/* tries_none(): see tries.h.  Retry-After: when a check or a probe may
   bring a server back. */
void
tries_none(struct exchange *x)
{
	const struct config_upstream	*cu = x->route->upstream;
	uint32_t			 ms;

	struct upstream_rt		*u = pool_upstream(&x->w->pool, cu);
	unsigned			 i, busy = 0;

	for (i = 0; i < u->nservers; i++)
		if (u->servers[i].cf->max_conns != 0 &&
		    u->servers[i].nconns >= u->servers[i].cf->max_conns)
			busy++;
	ms = cu->health.enabled ? cu->health.interval_ms : cu->fail_timeout_ms;
	x->retry_after = (uint16_t)pt_min(3600, pt_max(1, (ms + 999) / 1000));
	client_error(x, 503, busy > 0 ? "no server available: down, or "
	    "max_conns reached" : x->ntried == 0 ? "no server available: "
	    "all down" : "no other server available");
}

/*
 * Whether a failed try may go to another server: the upstream's
 * next_upstream names the failure, tries and next_upstream_timeout are
 * not used up, nothing reached the client, the request can be sent
 * again whole, and, unless non_idempotent is named, a request that is
 * not idempotent was not sent, even in part.
 */
static bool
may_retry(const struct exchange *x, uint32_t kind)
{
	const struct config_upstream *cu = x->route->upstream;

	if (!(cu->next_mask & kind) || x->ntried >= cu->tries ||
	    x->resp_started || x->body_reclaimed)
		return false;
	if (cu->next_upstream_timeout_ms != 0 && ev_now(x->w->loop) -
	    x->t_upstream >= cu->next_upstream_timeout_ms)
		return false;
	return tries_idempotent(&x->req) || x->out_sent == 0 ||
	    (cu->next_mask & NEXT_NON_IDEMPOTENT);
}

/* tries_failed(): see tries.h. */
void
tries_failed(struct exchange *x, uint32_t kind, unsigned status,
    const char *what)
{
	static char	why[512];
	uint32_t	body_start;

	balance_result(x->srv, false, 0, what, shm_now());
	snprintf(why, sizeof(why), "upstream %.64s/%s: %.200s",
	    x->srv->up->cf->name, x->srv->name, what);
	if (!may_retry(x, kind)) {
		client_error(x, status, why);
		return;
	}
	log_warnx("%s: %s; trying another server", client_log_prefix(x->c),
	    why);
	proxy_release(x, false);
	if (tries_next(x) == -1) {
		client_error(x, status, why);
		return;
	}
	/* The same request again: its head, and its body from the start
	   (all of it is still in the buffer: nothing was reclaimed). */
	body_start = x->c->in->start + x->req.head_len;
	x->out_sent = 0;
	x->body_off = body_start;
	x->retried = 0;
	if (x->uin != NULL) {
		buf_reset(x->uin);
		http1_msg_init(&x->resp, x->hdrs + x->w->cf->max_headers,
		    x->w->cf->max_headers);
	}
	proxy_connect(x);
}

/* tries_answered(): see tries.h. */
int
tries_answered(struct exchange *x)
{
	const struct config_upstream	*cu = x->route->upstream;
	unsigned			 st = x->resp.status;
	uint32_t			 kind = st == 502 ? NEXT_502 :
					    st == 503 ? NEXT_503 :
					    st == 504 ? NEXT_504 : 0;
	char				 what[64];

	if (kind != 0 && may_retry(x, kind)) {
		snprintf(what, sizeof(what), "answered %u", st);
		tries_failed(x, kind, st, what);
		return -1;
	}
	if (st >= 500 && cu->fail_on_5xx) {
		snprintf(what, sizeof(what), "answered %u", st);
		balance_result(x->srv, false, 0, what, shm_now());
	} else
		balance_result(x->srv, true, ev_now(x->w->loop) - x->t_try,
		    NULL, shm_now());
	return 0;
}
