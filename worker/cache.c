/*
 * cache.c: the HTTP cache on the request path: look up, answer from the
 * mapping, wait for another worker's miss, purge.  Answering from the
 * store is in cachehit.c, storing what comes back in cachefill.c, the
 * claims on misses in cachelock.c.  See cache.h.
 *
 * A key is text: "http://host/path?query" as the route's key says, then
 * "\nh:" and "\nc:" with the header and cookie the key names.  A
 * response with Vary is stored under its key as a marker that lists the
 * Vary names, and each variant under key + "\nv:" + the request's values
 * of those names; a variant belongs to the marker it was stored under,
 * so that forgetting the marker (invalidation, a new Vary) forgets all
 * its variants at once.
 */
#include <ctype.h>
#include <stdlib.h>
#include <unistd.h>
#include <strings.h>

#include "cache.h"
#include "cachefill.h"
#include "cachelock.h"
#include "fwd.h"
#include "log.h"
#include "policy.h"
#include "proxy.h"
#include "store.h"


static bool	fit(const struct exchange *x, const struct cache_x *cx,
		    int64_t *left, bool *stale_ok);

static struct cache_x *
cx_new(struct exchange *x)
{
	struct cache_x *cx;

	if ((cx = calloc(1, sizeof(*cx))) == NULL)
		return NULL;
	cx->lock = -1;
	x->cx = cx;
	return cx;
}

/* Append to the key, growing it. */
static int
key_put(struct cache_x *cx, const char *p, size_t n)
{
	char	*k;
	size_t	 cap;

	if (cx->key_len + n > cx->key_cap) {
		cap = (cx->key_len + n) * 2 + 64;
		if ((k = realloc(cx->key, cap)) == NULL)
			return -1;
		cx->key = k;
		cx->key_cap = cap;
	}
	memcpy(cx->key + cx->key_len, p, n);
	cx->key_len += n;
	return 0;
}

/* The value of cookie name in the request's Cookie headers. */
static bool
find_cookie(const char *base, const struct http1_msg *m, const char *name,
    const char **v, size_t *vlen)
{
	size_t		 nlen = strlen(name);
	const char	*p, *end, *eq;
	uint32_t	 i;

	for (i = 0; i < m->nheaders; i++) {
		if (!http1_str_eq(base, m->headers[i].name, "cookie"))
			continue;
		p = base + m->headers[i].value.off;
		end = p + m->headers[i].value.len;
		while (p < end) {
			while (p < end && (*p == ' ' || *p == ';'))
				p++;
			eq = memchr(p, '=', (size_t)(end - p));
			if (eq == NULL)
				break;
			if ((size_t)(eq - p) == nlen &&
			    memcmp(p, name, nlen) == 0) {
				*v = eq + 1;
				p = eq + 1;
				while (p < end && *p != ';')
					p++;
				*vlen = (size_t)(p - *v);
				return true;
			}
			while (p < end && *p != ';')
				p++;
		}
	}
	return false;
}

/* cache_key(): see cachefill.h. */
int
cache_key(struct exchange *x, const char *host, size_t host_len,
    const char *path, size_t path_len, struct cache_x *cx)
{
	const struct config_route_cache	*rc = x->route->cache;
	const char			*base = buf_head(x->c->in);
	const struct http1_header	*h;
	const char			*q, *v;
	size_t				 i, vlen;
	int				 rc_ = 0;

	cx->key_len = 0;
	if (rc->key_mask & CACHE_KEY_SCHEME)
		rc_ |= x->w->cf->listeners[x->c->listener].tls != NULL ?
		    key_put(cx, "https://", 8) : key_put(cx, "http://", 7);
	if ((rc->key_mask & CACHE_KEY_HOST) &&
	    (rc_ |= key_put(cx, host, host_len)) == 0)
		for (i = cx->key_len - host_len; i < cx->key_len; i++)
			cx->key[i] = (char)tolower((unsigned char)cx->key[i]);
	q = memchr(path, '?', path_len);
	if (rc->key_mask & CACHE_KEY_PATH)
		rc_ |= key_put(cx, path, q != NULL ? (size_t)(q - path) :
		    path_len);
	if ((rc->key_mask & CACHE_KEY_QUERY) && q != NULL)
		rc_ |= key_put(cx, q, path_len - (size_t)(q - path));
	if (rc->key_header != NULL) {
		rc_ |= key_put(cx, "\nh:", 3);
		if ((h = policy_header(base, &x->req, rc->key_header)) != NULL)
			rc_ |= key_put(cx, base + h->value.off, h->value.len);
	}
	if (rc->key_cookie != NULL) {
		rc_ |= key_put(cx, "\nc:", 3);
		if (find_cookie(base, &x->req, rc->key_cookie, &v, &vlen))
			rc_ |= key_put(cx, v, vlen);
	}
	cx->pkey_len = cx->key_len;
	cx->hash = cache_hash(cx->key, cx->key_len);
	return rc_;
}

/* cache_hash(): see cachefill.h.  FNV-1a, 64 bits; 0 is kept for "no
   claim" in the lock table. */
uint64_t
cache_hash(const char *p, size_t n)
{
	uint64_t h = 14695981039346656037ULL;

	while (n-- > 0) {
		h ^= (unsigned char)*p++;
		h *= 1099511628211ULL;
	}
	return h == 0 ? 1 : h;
}

/* One member of a header's value list, for sorting. */
struct member {
	const char	*p;
	size_t		 len;
};

static int
member_cmp(const void *a, const void *b)
{
	const struct member	*x = a, *y = b;
	int			 c;

	c = strncasecmp(x->p, y->p, x->len < y->len ? x->len : y->len);
	return c != 0 ? c : (x->len > y->len) - (x->len < y->len);
}

/*
 * One Vary name's part of a variant key: the members of every line of
 * the request header name[nlen], trimmed, joined with ","; for the
 * Accept family, whose members are a set of case-insensitive tokens, in
 * lower case and sorted, so that "en, de" and "De,en" share a variant.
 */
static int
vary_part(struct exchange *x, struct cache_x *cx, const char *name,
    size_t nlen)
{
	const char	*base = buf_head(x->c->in), *p, *e, *t;
	struct member	 m[32];
	struct http1_str hn;
	size_t		 n = 0, i, j;
	uint32_t	 h;
	bool		 set, any = false;
	int		 rc = 0;
	char		 c;

	set = nlen >= 6 && strncasecmp(name, "accept", 6) == 0;
	for (h = 0; h < x->req.nheaders; h++) {
		hn = x->req.headers[h].name;
		if (hn.len != nlen || strncasecmp(base + hn.off, name, nlen) != 0)
			continue;
		any = true;
		p = base + x->req.headers[h].value.off;
		e = p + x->req.headers[h].value.len;
		while (p < e) {
			while (p < e && (*p == ' ' || *p == '\t' || *p == ','))
				p++;
			t = p;
			while (p < e && *p != ',')
				p++;
			j = (size_t)(p - t);
			while (j > 0 && (t[j - 1] == ' ' || t[j - 1] == '\t'))
				j--;
			if (j == 0)
				continue;
			if (n == PT_NELEM(m))
				goto raw;
			m[n++] = (struct member){ t, j };
		}
	}
	if (!any)
		return key_put(cx, "\x01", 1);
	if (set)
		qsort(m, n, sizeof(m[0]), member_cmp);
	for (i = 0; i < n; i++) {
		rc |= key_put(cx, ",", i > 0);
		for (j = 0; j < m[i].len; j++) {
			c = set ? (char)tolower((unsigned char)m[i].p[j]) :
			    m[i].p[j];
			rc |= key_put(cx, &c, 1);
		}
	}
	return rc;
raw:
	/* Too many members to sort: "\x02", then every line as it was
	   sent, each ended by "\x01". */
	rc |= key_put(cx, "\x02", 1);
	for (h = 0; h < x->req.nheaders; h++) {
		hn = x->req.headers[h].name;
		if (hn.len != nlen || strncasecmp(base + hn.off, name, nlen) != 0)
			continue;
		rc |= key_put(cx, base + x->req.headers[h].value.off,
		    x->req.headers[h].value.len);
		rc |= key_put(cx, "\x01", 1);
	}
	return rc;
}

/* cache_variant_key(): see cachefill.h.  The primary key, "\nv:", then
   each Vary name's part and "\n"; "\x01" for a header not sent. */
int
cache_variant_key(struct exchange *x, struct cache_x *cx, const char *names,
    size_t len)
{
	const char	*n = names, *end = names + len, *comma;
	int		 rc = 0;

	cx->key_len = cx->pkey_len;
	rc |= key_put(cx, "\nv:", 3);
	while (n < end) {
		comma = memchr(n, ',', (size_t)(end - n));
		if (comma == NULL)
			comma = end;
		rc |= vary_part(x, cx, n, (size_t)(comma - n));
		rc |= key_put(cx, "\n", 1);
		n = comma + 1;
	}
	cx->vhash = cache_hash(cx->key, cx->key_len);
	return rc;
}

/* The stored meta (meta_len bytes at p), copied out (aligned) and
   checked. */
static bool
read_meta(const char *p, uint64_t meta_len, struct cache_meta *m)
{
	if (meta_len < sizeof(*m))
		return false;
	memcpy(m, p, sizeof(*m));
	return m->version == CACHE_META_VERSION &&
	    sizeof(*m) + (uint64_t)m->fields_len + m->vary_len <= meta_len;
}

/*
 * Look the request up: the object under its key, or, under a Vary
 * marker, the variant of its request.  Sets cx->have and cx->marker.
 */
static void
lookup(struct exchange *x, struct cache_x *cx)
{
	struct store	*s = x->w->store;
	struct store_ref r;

	cx->have = false;
	cx->marker = 0;
	if (store_get(s, cx->hash, cx->key, cx->pkey_len, &r) == -1 ||
	    !read_meta(r.meta, r.obj->meta_len, &cx->meta)) {
		cx->fwd = FWD_URI_MISS;
		return;
	}
	if (cx->meta.flags & META_MARKER) {
		cx->marker = r.loc + 1;
		if (cache_variant_key(x, cx, r.meta + sizeof(cx->meta) +
		    cx->meta.fields_len, cx->meta.vary_len) == -1 ||
		    !store_still(s, &r) ||
		    store_get(s, cx->vhash, cx->key, cx->key_len, &r) == -1 ||
		    !read_meta(r.meta, r.obj->meta_len, &cx->meta) ||
		    cx->meta.marker != cx->marker) {
			cx->fwd = FWD_VARY_MISS;
			return;
		}
	}
	cx->ref = r;
	cx->body_len = r.obj->body_len;
	cx->have = true;
}

/* cache_age(): see cachefill.h (RFC 9111 4.2.3). */
int64_t
cache_age(const struct exchange *x, const struct cache_meta *m)
{
	int64_t resident = (int64_t)ev_time(x->w->loop) - m->resp_time;

	return m->initial_age + (resident > 0 ? resident : 0);
}

/* ------------------------------------------------ collapsed misses -- */

/*
 * A request that waits: start sending the response that the claim's
 * holder is storing (no Vary, Content-Length), if it is for this key and
 * fits this request.  0 when it does.
 */
static int
stream_from_lock(struct exchange *x, struct cache_x *cx)
{
	struct cache_lock_view	 v;
	struct store_ref	 r;
	int64_t			 left;
	bool			 stale_ok;

	if (cache_lock_peek(x, cx, &v) == -1 || v.key_len != cx->pkey_len ||
	    store_peek(x->w->store, v.loc, v.key_len, v.meta_len, v.body_len,
	    &r) == -1 || memcmp(r.key, cx->key, v.key_len) != 0 ||
	    !read_meta(r.meta, v.meta_len, &cx->meta) ||
	    (cx->meta.flags & META_MARKER) || !store_still(x->w->store, &r))
		return -1;
	cx->ref = r;
	cx->body_len = v.body_len;
	if (!fit(x, cx, &left, &stale_ok))
		return -1;
	cx->have = true;
	cx->streaming = 1;
	return 0;
}

/* cache_stream_avail(): see cachefill.h.  While the claim is on the
   response, what its writer has written; once it is released, all of it
   if the object was published where it was written. */
int
cache_stream_avail(struct exchange *x, struct cache_x *cx, uint64_t *avail)
{
	struct store_ref r;
	uint64_t	 got;

	if (cache_lock_got(x, cx, cx->ref.loc, &got) == 0) {
		if (!cache_lock_held(x, cx, true) ||
		    !store_still(x->w->store, &cx->ref))
			return -1;
		*avail = got < cx->body_len ? got : cx->body_len;
		return 0;
	}
	if (store_get(x->w->store, cx->hash, cx->key, cx->pkey_len, &r) == 0 &&
	    r.loc == cx->ref.loc) {
		cx->streaming = 0;
		*avail = cx->body_len;
		return 0;
	}
	return -1;
}

static void
poll_timer(struct ev_timer *t)
{
	struct client *c = (struct client *)((char *)t -
	    offsetof(struct client, timer));

	if (c->x != NULL)
		cache_run(c->x);
}

/* cache_wait(): see cachefill.h. */
void
cache_wait(struct exchange *x)
{
	ev_timer_start(x->w->loop, &x->w->tq_cache_poll, &x->c->timer,
	    poll_timer);
}

/* ------------------------------------------------- the way through -- */

/*
 * Whether the stored response found may answer this request as it is:
 * fresh enough for the response and the request (true), or stale but
 * allowed by the request's max-stale (*stale_ok).  *left: seconds of
 * freshness left, <= 0 when stale.
 */
static bool
fit(const struct exchange *x, const struct cache_x *cx, int64_t *left,
    bool *stale_ok)
{
	const struct cc		*rq = &cx->req_cc;
	const struct cache_meta	*m = &cx->meta;
	int64_t			 age = cache_age(x, m);

	*left = m->lifetime - age;
	/* The client accepts it stale (max-stale), unless the response
	   forbids (must-revalidate, no-cache). */
	*stale_ok = *left <= 0 && !(m->flags & (META_MUST_REVALIDATE |
	    META_NO_CACHE)) && !(rq->flags & CC_NO_CACHE) &&
	    ((rq->flags & CC_MAX_STALE_ANY) ||
	    (rq->max_stale != -1 && -*left <= rq->max_stale)) &&
	    (rq->max_age == -1 || age <= rq->max_age);
	return *left > 0 && !(m->flags & META_NO_CACHE) &&
	    !(rq->flags & CC_NO_CACHE) &&
	    (rq->max_age == -1 || age <= rq->max_age) &&
	    (rq->min_fresh == -1 || *left >= rq->min_fresh);
}

/*
 * What to do with what the lookup found: answer from it, revalidate it,
 * or fetch anew.  0: on to the origin; -1: answered or waiting.
 */
static int
decide(struct exchange *x, struct cache_x *cx)
{
	const struct cc		*rq = &cx->req_cc;
	const struct cache_meta	*m = &cx->meta;
	int64_t			 left;
	bool			 usable, stale_ok;

	if (cx->have) {
		usable = fit(x, cx, &left, &stale_ok);
		if (usable || stale_ok) {
			shm_add(stale_ok ? &x->w->self->cache.stale :
			    &x->w->self->cache.hits, 1);
			cache_serve(x);
			return -1;
		}
		/* Stale while it revalidates (RFC 5861 3): this client gets
		   it now; a request of our own refreshes it, once. */
		if (left <= 0 && m->swr > 0 && -left <= m->swr &&
		    !(m->flags & (META_MUST_REVALIDATE | META_NO_CACHE)) &&
		    !(rq->flags & CC_NO_CACHE) &&
		    x->req.body == HTTP1_BODY_NONE) {
			if (!cache_lock_held(x, cx, false))
				client_internal(x);
			shm_add(&x->w->self->cache.stale, 1);
			cache_serve(x);
			return -1;
		}
		cx->fwd = (rq->flags & CC_NO_CACHE) ? FWD_REQUEST : FWD_STALE;
		cx->reval = (m->flags & (META_ETAG | META_LAST_MODIFIED)) != 0;
	}
	if (rq->flags & CC_ONLY_IF_CACHED) {
		client_error(x, 504, "only-if-cached and not in the cache");
		return -1;
	}
	shm_add(&x->w->self->cache.misses, 1);
	if (x->req.method != HTTP1_M_GET)
		return 0;	/* HEAD: forwarded as it is, not stored */
	cx->fill = !(rq->flags & CC_NO_STORE);
	/* Wait for another's miss only when its response can answer this
	   request: not when it asks for more than a fresh response. */
	if (cx->fill && !cache_lock_claim(x, cx) && !(rq->flags & CC_NO_CACHE) &&
	    rq->min_fresh == -1 && rq->max_age == -1) {
		/* Another worker fetches it: wait for its response. */
		cx->wait_until = ev_now(x->w->loop) +
		    x->w->cf->cache.lock_timeout_ms;
		cx->collapsed = 1;
		x->state = X_CACHE_WAIT;
		cache_wait(x);
		return -1;
	}
	return 0;
}

/* PURGE from an allowed address: the target, all its variants; with a
   trailing '*', every key it starts. */
static void
purge(struct exchange *x, const char *host, size_t host_len,
    const char *path, size_t path_len)
{
	static char	 body[64];
	struct cache_x	*cx = x->cx;
	bool		 prefix = path_len > 0 && path[path_len - 1] == '*';
	unsigned	 n;

	if (!config_allowed(&x->w->cf->cache.purge, &x->c->peer.sa)) {
		client_error(x, 403, "PURGE from an address not in "
		    "cache.purge_allow");
		return;
	}
	if (cache_key(x, host, host_len, path, path_len - prefix, cx) == -1) {
		client_error(x, 500, "no memory for the cache key");
		return;
	}
	/* A prefix is the key as far as the path goes. */
	n = store_purge(x->w->store, cx->key, prefix ? cx->key_len :
	    cx->pkey_len, prefix);
	shm_add(&x->w->self->cache.purged, n);
	snprintf(body, sizeof(body), "purged %u\n", n);
	client_respond(x, n > 0 ? 200 : 404, "text/plain", body, strlen(body),
	    NULL);
}

/* cache_request(): see cache.h. */
int
cache_request(struct exchange *x)
{
	const char	*base = buf_head(x->c->in);
	const char	*host = base + x->host.off;
	const char	*path = x->path.len > 0 ? base + x->path.off : "/";
	size_t		 path_len = x->path.len > 0 ? x->path.len : 1;
	struct cache_x	*cx;
	uint8_t		 method = x->req.method;

	if (cx_new(x) == NULL) {
		client_error(x, 500, "no memory for the cache");
		return -1;
	}
	cx = x->cx;
	if (method == HTTP1_M_OTHER &&
	    http1_str_eq(base, x->req.method_str, "PURGE")) {
		purge(x, host, x->host.len, path, path_len);
		return -1;
	}
	if (cache_key(x, host, x->host.len, path, path_len, cx) == -1) {
		client_error(x, 500, "no memory for the cache key");
		return -1;
	}
	if (method != HTTP1_M_GET && method != HTTP1_M_HEAD) {
		/* Unsafe methods invalidate what they change once they
		   succeed (RFC 9111 4.4). */
		cx->invalidate = method != HTTP1_M_OPTIONS &&
		    method != HTTP1_M_TRACE;
		cx->fwd = FWD_METHOD;
		return 0;
	}
	policy_cc(base, &x->req, &cx->req_cc);
	/* A background refresh always asks the origin, and stores what
	   it answers, whatever the client that caused it asked for. */
	if (x->c->internal)
		cx->req_cc.flags = (cx->req_cc.flags | CC_NO_CACHE) &
		    ~(CC_ONLY_IF_CACHED | CC_NO_STORE);
	lookup(x, cx);
	return decide(x, cx);
}

/* cache_run(): see cache.h. */
void
cache_run(struct exchange *x)
{
	struct cache_x	*cx = x->cx;
	int64_t		 left;
	bool		 stale_ok;

	if (x->state == X_CACHE) {
		cache_write(x);
		return;
	}
	/* X_CACHE_WAIT: is it there now, or is the other fetch over? */
	lookup(x, cx);
	if ((cx->have && fit(x, cx, &left, &stale_ok)) ||
	    (cache_lock_held(x, cx, false) && stream_from_lock(x, cx) == 0)) {
		shm_add(&x->w->self->cache.collapsed, 1);
		cache_serve(x);
		return;
	}
	if (cache_lock_held(x, cx, false) && ev_now(x->w->loop) < cx->wait_until) {
		cache_wait(x);
		return;
	}
	/* Not stored, or too long: to the origin ourselves, without a
	   claim, so that the others that waited go at once too. */
	ev_timer_stop(&x->c->timer);
	x->state = X_HEAD;
	proxy_start(x);
}

/* cache_fwd_name(): see cachefill.h. */
const char *
cache_fwd_name(unsigned fwd)
{
	static const char *const fwds[] = {
		[FWD_URI_MISS] = "uri-miss", [FWD_VARY_MISS] = "vary-miss",
		[FWD_STALE] = "stale", [FWD_REQUEST] = "request",
		[FWD_METHOD] = "method",
	};

	return fwd < PT_NELEM(fwds) ? fwds[fwd] : "uri-miss";
}

/* cache_status(): see cache.h. */
size_t
cache_status(const struct exchange *x, char *buf, size_t size)
{
	const struct cache_x	*cx = x->cx;
	int			 n;

	if (cx == NULL)
		return 0;
	n = snprintf(buf, size, "portico; fwd=%s; fwd-status=%u%s%s",
	    cache_fwd_name(cx->fwd), x->resp.status, cx->writing ? "; stored" : "",
	    cx->collapsed ? "; collapsed" : "");
	return n < 0 || (size_t)n >= size ? 0 : (size_t)n;
}

/* cache_fwd_drop(): see cache.h. */
bool
cache_fwd_drop(const struct exchange *x, const char *name, size_t len)
{
	static const char *const names[] = {
		"if-none-match", "if-modified-since", "if-range", "range",
	};
	size_t i;

	if (x->cx == NULL || (!x->cx->fill && !x->cx->reval))
		return false;
	for (i = 0; i < PT_NELEM(names); i++)
		if (len == strlen(names[i]) &&
		    strncasecmp(name, names[i], len) == 0)
			return true;
	return false;
}

/* cache_fwd_extra(): see cache.h. */
size_t
cache_fwd_extra(const struct exchange *x, char *buf, size_t size)
{
	static const char	 cap[] = "Surrogate-Capability: "
				    POLICY_SURROGATE "=\"Surrogate/1.0\"\r\n";
	const struct cache_x	*cx = x->cx;
	const char		*fields, *v;
	size_t			 vlen, n = 0;
	int			 r;

	if (cx == NULL || size < sizeof(cap))
		return 0;
	/* The origin may speak to us with Surrogate-Control. */
	memcpy(buf, cap, sizeof(cap) - 1);
	n = sizeof(cap) - 1;
	if (!cx->reval || !store_still(x->w->store, &cx->ref))
		return n;
	fields = cx->ref.meta + sizeof(cx->meta);
	if (cache_stored_field(fields, cx->meta.fields_len, "etag", &v, &vlen)) {
		r = snprintf(buf + n, size - n, "If-None-Match: %.*s\r\n",
		    (int)vlen, v);
		if (r < 0 || (size_t)r >= size - n)
			return 0;
		n += (size_t)r;
	}
	if (cache_stored_field(fields, cx->meta.fields_len, "last-modified", &v,
	    &vlen)) {
		r = snprintf(buf + n, size - n, "If-Modified-Since: %.*s\r\n",
		    (int)vlen, v);
		if (r < 0 || (size_t)r >= size - n)
			return 0;
		n += (size_t)r;
	}
	return n;
}

/* cache_end(): see cache.h. */
void
cache_end(struct exchange *x)
{
	struct cache_x *cx = x->cx;

	if (cx == NULL)
		return;
	cache_unlock(x, cx);
	cache_fill_free(x, cx);
	free(cx->key);
	free(cx);
	x->cx = NULL;
}
