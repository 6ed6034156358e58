/*
 * cachehit.c: answering from the cache: the client's conditionals and
 * range against the stored response, the head, and the body written
 * straight from the mapping.  See cache.h.
 */
#include <ctype.h>
#include <strings.h>

#include "cachefill.h"
#include "fwd.h"
#include "log.h"

#define WRITE_MAX	(256 * 1024)	/* bytes of body per write */

/* Weak comparison of an entity-tag with a list (RFC 9110 8.8.3.2). */
static bool
etag_in(const char *tag, size_t tlen, const char *list, size_t llen)
{
	const char	*p = list, *end = list + llen, *t;

	if (tlen > 2 && tag[0] == 'W' && tag[1] == '/') {
		tag += 2;
		tlen -= 2;
	}
	while (p < end) {
		while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
			p++;
		if (p < end && *p == '*')
			return true;
		if (end - p > 2 && p[0] == 'W' && p[1] == '/')
			p += 2;
		t = p;
		if (p < end && *p == '"') {
			p++;
			while (p < end && *p != '"')
				p++;
			if (p < end)
				p++;
		} else
			while (p < end && *p != ',')
				p++;
		if ((size_t)(p - t) == tlen && memcmp(t, tag, tlen) == 0)
			return true;
	}
	return false;
}

/* cache_stored_field(): see cachefill.h. */
bool
cache_stored_field(const char *fields, size_t len, const char *name,
    const char **v, size_t *vlen)
{
	const char	*p = fields, *end = fields + len, *eol;
	size_t		 nlen = strlen(name);

	while (p < end) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			return false;
		if ((size_t)(eol - p) > nlen + 1 && p[nlen] == ':' &&
		    strncasecmp(p, name, nlen) == 0) {
			*v = p + nlen + 1;
			while (*v < eol && **v == ' ')
				(*v)++;
			*vlen = (size_t)(eol - *v) - (eol[-1] == '\r');
			return true;
		}
		p = eol + 1;
	}
	return false;
}

/* Whether the client's conditionals let a 304 answer it (RFC 9110
   13.2.2: If-None-Match first, else If-Modified-Since). */
static bool
not_modified(const struct exchange *x, const char *fields, size_t len)
{
	const char			*base = buf_head(x->c->in);
	const struct http1_header	*h;
	const char			*v;
	size_t				 vlen;
	int64_t				 ims, lm;

	if ((h = policy_header(base, &x->req, "if-none-match")) != NULL)
		return cache_stored_field(fields, len, "etag", &v, &vlen) &&
		    etag_in(v, vlen, base + h->value.off, h->value.len);
	if ((h = policy_header(base, &x->req, "if-modified-since")) == NULL ||
	    (ims = policy_date(base + h->value.off, h->value.len)) == -1)
		return false;
	if (!cache_stored_field(fields, len, "last-modified", &v, &vlen) &&
	    !cache_stored_field(fields, len, "date", &v, &vlen))
		return false;
	return (lm = policy_date(v, vlen)) != -1 && lm <= ims;
}

/* A single byte range the client asked for, within total: 1 and *first,
   *len; 0 to send all; -1 when none can be satisfied. */
static int
want_range(const struct exchange *x, const char *fields, size_t flen,
    uint64_t total, uint64_t *first, uint64_t *len)
{
	const char			*base = buf_head(x->c->in);
	const struct http1_header	*h, *ir;
	const char			*p, *end, *v;
	uint64_t			 a = 0, b = 0;
	size_t				 vlen;
	bool				 has_a = false, has_b = false;

	/* An empty body has no range to send: all of it, then. */
	if (x->req.method != HTTP1_M_GET || total == 0 ||
	    (h = policy_header(base, &x->req, "range")) == NULL)
		return 0;
	/* If-Range: the range only while the validator is the same. */
	if ((ir = policy_header(base, &x->req, "if-range")) != NULL) {
		if (ir->value.len > 0 && base[ir->value.off] == '"') {
			if (!cache_stored_field(fields, flen, "etag", &v, &vlen) ||
			    vlen != ir->value.len || memcmp(v,
			    base + ir->value.off, vlen) != 0)
				return 0;
		} else if (!cache_stored_field(fields, flen, "last-modified", &v,
		    &vlen) || vlen != ir->value.len || memcmp(v,
		    base + ir->value.off, vlen) != 0)
			return 0;
	}
	p = base + h->value.off;
	end = p + h->value.len;
	if (end - p < 6 || strncasecmp(p, "bytes=", 6) != 0)
		return 0;
	for (p += 6; p < end && isdigit((unsigned char)*p); p++, has_a = true)
		a = a * 10 + (uint64_t)(*p - '0');
	if (p >= end || *p++ != '-')
		return 0;
	for (; p < end && isdigit((unsigned char)*p); p++, has_b = true)
		b = b * 10 + (uint64_t)(*p - '0');
	if (p != end || (!has_a && !has_b) || a > (1ULL << 60) ||
	    b > (1ULL << 60))
		return 0;	/* several ranges, or not ours to read: all */
	if (!has_a) {		/* the last b bytes */
		if (b == 0)
			return -1;
		*first = b >= total ? 0 : total - b;
	} else {
		if (a >= total || (has_b && b < a))
			return has_b && b < a ? 0 : -1;
		*first = a;
		if (!has_b || b >= total)
			b = total - 1;
	}
	*len = (has_a ? b : total - 1) - *first + 1;
	return 1;
}

/* The Cache-Status of a response from the cache. */
static void
hit_status(const struct exchange *x, const struct cache_x *cx, char *buf,
    size_t size)
{
	int64_t ttl = cx->meta.lifetime - cx->age;

	if (cx->fwd_status != 0)
		snprintf(buf, size, "portico; fwd=%s; fwd-status=%u; ttl=%lld",
		    cache_fwd_name(cx->fwd), cx->fwd_status, (long long)ttl);
	else if (cx->collapsed)
		snprintf(buf, size, "portico; hit; ttl=%lld; collapsed",
		    (long long)ttl);
	else
		snprintf(buf, size, "portico; hit; ttl=%lld", (long long)ttl);
	(void)x;
}

/* cache_serve(): see cache.h.  The head goes out of x->out, the body
   straight from the mapping. */
void
cache_serve(struct exchange *x)
{
	struct cache_x		*cx = x->cx;
	const struct cache_meta	*m = &cx->meta;
	const char		*fields = cx->ref.meta + sizeof(*m);
	struct fwd_cached	 fc;
	char			 status[128];
	uint64_t		 first = 0, len = cx->body_len;
	int			 r;

	cx->age = cache_age(x, m);
	memset(&fc, 0, sizeof(fc));
	fc.status = m->status;
	fc.fields = fields;
	fc.fields_len = m->fields_len;
	fc.age = cx->age;
	hit_status(x, cx, status, sizeof(status));
	fc.cache_status = status;
	if (m->status == 200 && not_modified(x, fields, m->fields_len)) {
		fc.status = 304;
		len = 0;
	} else if (m->status == 200 && (r = want_range(x, fields,
	    m->fields_len, len, &first, &len)) != 0) {
		fc.status = r == -1 ? 416 : 206;
		fc.first = first;
		fc.total = cx->body_len;
	}
	fc.length = fc.status == 416 ? 0 : len;
	if (x->out == NULL && (x->out = buf_get(&x->w->bufs)) == NULL) {
		client_error(x, 500, "no memory for a buffer");
		return;
	}
	buf_reset(x->out);
	if (fwd_cached_head(x, x->out, &fc) == -1 ||
	    !store_still(x->w->store, &cx->ref)) {
		client_error(x, 500, "cache: stored response unusable");
		return;
	}
	if (x->req.body != HTTP1_BODY_NONE && !x->req_body_done)
		x->keepalive = 0;
	x->status = (uint16_t)fc.status;
	cx->off = first;
	cx->end = x->req.method == HTTP1_M_HEAD || fc.status == 304 ||
	    fc.status == 416 ? first : first + len;
	x->body_bytes = cx->end - cx->off;
	x->state = X_CACHE;
	ev_timer_stop(&x->c->timer);
	cache_write(x);
}

/* The response cannot go on: the connection ends with it, so that the
   client sees it cut short (why: logged, if not the client's doing). */
static void
cut(struct exchange *x, const char *why)
{
	if (why != NULL)
		log_warnx("%s: %s; connection closed", client_log_prefix(x->c),
		    why);
	x->keepalive = 0;
	x->c->eof = 1;
	client_done(x);
}

/*
 * cache_write(): see cachefill.h.  The body goes from the map; the
 * object must still be there after each write, or the client got
 * someone else's bytes.  An object near its end in the ring (less than
 * a quarter of it left before the log comes round) is copied instead,
 * and checked before it is sent, so that no write races its overwrite.
 */
void
cache_write(struct exchange *x)
{
	struct cache_x	*cx = x->cx;
	struct store	*s = x->w->store;
	struct iovec	 iov[2];
	uint64_t	 n64, limit, avail;
	uint32_t	 k;
	ssize_t		 n;

	for (;;) {
		/* Another's response still being stored: as far as it is. */
		limit = cx->end;
		if (cx->streaming) {
			if (cache_stream_avail(x, cx, &avail) == -1) {
				cut(x, "the response it waited for was not "
				    "stored whole");
				return;
			}
			limit = avail < limit ? avail : limit;
		}
		n64 = limit > cx->off ? limit - cx->off : 0;
		if (n64 > 0 && !store_far(s, &cx->ref)) {
			k = n64 < buf_room(x->out) ? (uint32_t)n64 :
			    buf_room(x->out);
			memcpy(buf_tail(x->out), cx->ref.body + cx->off, k);
			if (!store_still(s, &cx->ref)) {
				cut(x, "cache object overwritten while it was "
				    "sent");
				return;
			}
			buf_commit(x->out, k);
			cx->off += k;
			n64 = 0;
		}
		iov[0].iov_base = buf_head(x->out);
		iov[0].iov_len = buf_len(x->out);
		iov[1].iov_base = (void *)(cx->ref.body + cx->off);
		iov[1].iov_len = n64 > WRITE_MAX ? WRITE_MAX : (size_t)n64;
		if (iov[0].iov_len + iov[1].iov_len == 0) {
			if (cx->off < cx->end) {
				cache_wait(x);	/* for the writer */
				return;
			}
			break;
		}
		n = client_writev(x->c, iov, 2);
		if (!store_still(s, &cx->ref)) {
			cut(x, "cache object overwritten while it was sent");
			return;
		}
		if (n == PT_AGAIN) {
			client_timer(x->c, &x->w->tq_send);
			return;
		}
		if (n == -1) {
			cut(x, NULL);
			return;
		}
		x->resp_started = 1;
		/* send_timeout runs between two writes, not over all */
		ev_timer_stop(&x->c->timer);
		if ((size_t)n >= buf_len(x->out)) {
			n -= (ssize_t)buf_len(x->out);
			buf_reset(x->out);
			cx->off += (uint64_t)n;
		} else
			buf_consume(x->out, (uint32_t)n);
	}
	ev_timer_stop(&x->c->timer);
	client_done(x);
}
