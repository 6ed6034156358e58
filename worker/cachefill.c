/*
 * cachefill.c: storing what the origin answers (RFC 9111 3), updating a
 * stored response from a 304 (4.3.4), invalidation by unsafe methods
 * (4.4), stale-if-error (RFC 5861 4).  See cachefill.h.
 */
#include <ctype.h>
#include <stdlib.h>
#include <strings.h>

#include "cachefill.h"
#include "cachelock.h"
#include "fwd.h"
#include "log.h"
#include "status.h"

/* A growing text, failing as a whole. */
struct text {
	char	*p;
	size_t	 len, cap;
	bool	 ok;
};

static void
text_put(struct text *t, const void *p, size_t n)
{
	char	*q;
	size_t	 cap;

	if (!t->ok)
		return;
	if (t->len + n > t->cap) {
		cap = (t->len + n) * 2 + 256;
		if ((q = realloc(t->p, cap)) == NULL) {
			t->ok = false;
			return;
		}
		t->p = q;
		t->cap = cap;
	}
	memcpy(t->p + t->len, p, n);
	t->len += n;
}

static bool
name_is(const char *base, const struct http1_header *h, const char *name)
{
	return http1_str_eq(base, h->name, name);
}

/* Vary's names, lower case, "a,b"; false for "*" (never matches). */
static bool
vary_names(const char *base, const struct http1_msg *m, struct text *t)
{
	const char	*p, *end, *tok;
	uint32_t	 i;
	size_t		 j;
	char		 c;

	for (i = 0; i < m->nheaders; i++) {
		if (!name_is(base, &m->headers[i], "vary"))
			continue;
		p = base + m->headers[i].value.off;
		end = p + m->headers[i].value.len;
		while (p < end) {
			while (p < end && (*p == ',' || *p == ' ' ||
			    *p == '\t'))
				p++;
			tok = p;
			while (p < end && *p != ',' && *p != ' ' &&
			    *p != '\t')
				p++;
			if (p == tok)
				continue;
			if (p - tok == 1 && *tok == '*')
				return false;
			if (t->len > 0)
				text_put(t, ",", 1);
			for (j = 0; j < (size_t)(p - tok); j++) {
				c = (char)tolower((unsigned char)tok[j]);
				text_put(t, &c, 1);
			}
		}
	}
	return true;
}

/* The Age of m in seconds: 0 without one; *bad when it is not a
   single line of digits (RFC 9111 5.1: a singleton delta-seconds). */
static int64_t
age_value(const char *base, const struct http1_msg *m, bool *bad)
{
	const char	*p;
	int64_t		 age = 0;
	uint32_t	 i, j, lines = 0;

	*bad = false;
	for (i = 0; i < m->nheaders; i++) {
		if (!name_is(base, &m->headers[i], "age"))
			continue;
		lines++;
		p = base + m->headers[i].value.off;
		*bad |= m->headers[i].value.len == 0;
		for (j = 0; j < m->headers[i].value.len; j++) {
			if (!isdigit((unsigned char)p[j])) {
				*bad = true;
				break;
			}
			if (age < (1LL << 31))
				age = age * 10 + (p[j] - '0');
		}
	}
	*bad |= lines > 1;
	return *bad ? 0 : age;
}

/* The meta of a response m (strings at base) into t: the times, the
   freshness, and the header lines a stored response keeps. */
static void
build_meta(struct exchange *x, struct cache_x *cx, const char *base,
    const struct http1_msg *m, const struct cc *cc, const struct cc *sc,
    uint64_t marker, struct text *t)
{
	const struct config_route_cache	*rc = x->route->cache;
	const struct http1_header	*h;
	struct cache_meta		 meta;
	int64_t				 now = (int64_t)ev_time(x->w->loop);
	int64_t				 req_time, date = -1, age, apparent;
	uint32_t			 i;
	size_t				 at;
	bool				 bad_age;

	(void)cx;
	memset(&meta, 0, sizeof(meta));
	meta.version = CACHE_META_VERSION;
	meta.status = m->status;
	meta.marker = marker;
	meta.resp_time = now;
	/* RFC 9111 4.2.3: the corrected initial age. */
	req_time = (int64_t)(x->t_try / 1000 + (uint64_t)now -
	    ev_now(x->w->loop) / 1000);
	if ((h = policy_header(base, m, "date")) != NULL)
		date = policy_date(base + h->value.off, h->value.len);
	age = age_value(base, m, &bad_age);
	apparent = date != -1 && now > date ? now - date : 0;
	age += now - req_time > 0 ? now - req_time : 0;
	meta.initial_age = apparent > age ? apparent : age;
	/* An Age that is not one number makes the response stale. */
	if (bad_age)
		meta.lifetime = 0;
	else if (sc != NULL)
		meta.lifetime = sc->flags & CC_BAD_AGE ? 0 : sc->max_age;
	else
		meta.lifetime = policy_lifetime(base, m, cc, date != -1 ?
		    date : now, rc);
	meta.swr = cc->swr;
	meta.sie = cc->sie;
	if (cc->flags & (CC_MUST_REVALIDATE | CC_PROXY_REVALIDATE) ||
	    cc->s_maxage != -1)
		meta.flags |= META_MUST_REVALIDATE;
	if (cc->flags & CC_NO_CACHE)
		meta.flags |= META_NO_CACHE;
	at = t->len;
	text_put(t, &meta, sizeof(meta));
	for (i = 0; i < m->nheaders; i++) {
		h = &m->headers[i];
		if (fwd_hop_by_hop(base, m, h) ||
		    h->kind == HTTP1_H_CONTENT_LENGTH || name_is(base, h, "age") ||
		    (name_is(base, h, "set-cookie") &&
		    rc->set_cookie != SET_COOKIE_KEEP) ||
		    policy_omitted(cc, base + h->name.off, h->name.len))
			continue;
		if (name_is(base, h, "etag"))
			meta.flags |= META_ETAG;
		if (name_is(base, h, "last-modified"))
			meta.flags |= META_LAST_MODIFIED;
		text_put(t, base + h->name.off, h->name.len);
		text_put(t, ": ", 2);
		text_put(t, base + h->value.off, h->value.len);
		text_put(t, "\r\n", 2);
	}
	if (date == -1) {
		char line[64];
		struct tm tm;
		time_t tt = (time_t)now;

		gmtime_r(&tt, &tm);
		strftime(line, sizeof(line), "Date: %a, %d %b %Y %H:%M:%S GMT"
		    "\r\n", &tm);
		text_put(t, line, strlen(line));
	}
	if (!t->ok)
		return;
	meta.fields_len = (uint32_t)(t->len - at - sizeof(meta));
	memcpy(t->p + at, &meta, sizeof(meta));
}

/* Whether a response may be stored for this request (RFC 9111 3).
   Surrogate-Control, when it is there (sc), says for the cache whether
   to store it and for how long; what is private stays Cache-Control's
   to say. */
static bool
storable(struct exchange *x, const char *base, const struct http1_msg *m,
    const struct cc *cc, const struct cc *sc)
{
	const struct config_route_cache	*rc = x->route->cache;
	const char			*rbase = buf_head(x->c->in);
	unsigned			 st = m->status;

	if (st < 200 || st == 206 || st == 304 || st > 599 ||
	    !(rc->statuses[st / 64] & (1ULL << (st % 64))))
		return false;
	/* must-understand (RFC 9111 5.2.2.3): stored only with a status we
	   know, and then no-store does not count. */
	if ((cc->flags & CC_MUST_UNDERSTAND) && status_reason((int)st)[0] ==
	    '\0')
		return false;
	if (sc != NULL ? (sc->flags & CC_NO_STORE) != 0 :
	    (cc->flags & CC_NO_STORE) && !(cc->flags & CC_MUST_UNDERSTAND))
		return false;
	if (cc->flags & CC_PRIVATE)
		return false;
	if (policy_header(rbase, &x->req, "authorization") != NULL &&
	    !(cc->flags & (CC_PUBLIC | CC_MUST_REVALIDATE)) &&
	    cc->s_maxage == -1)
		return false;
	if (rc->set_cookie == SET_COOKIE_PASS &&
	    policy_header(base, m, "set-cookie") != NULL)
		return false;
	if (m->body == HTTP1_BODY_LENGTH && m->content_length > rc->max_object)
		return false;
	/* Something to say how long it is fresh, or a way to tell. */
	return sc != NULL || cc->max_age != -1 || cc->s_maxage != -1 ||
	    (cc->flags & (CC_PUBLIC | CC_BAD_AGE)) ||
	    policy_header(base, m, "expires") != NULL ||
	    policy_heuristic(st) || rc->default_ttl_ms > 0;
}

/* cache_fill_free(): see cachefill.h. */
void
cache_fill_free(struct exchange *x, struct cache_x *cx)
{
	if (cx->writing == WRITE_HEAP)
		x->w->cache_held -= cx->heap_cap;
	free(cx->heap);
	free(cx->meta_buf);
	cx->heap = cx->meta_buf = NULL;
	cx->heap_len = cx->heap_cap = cx->meta_len = 0;
	cx->writing = WRITE_NONE;
}

/* Store meta and body as one object under cx->key; 0 when published. */
static int
put_object(struct exchange *x, struct cache_x *cx, const char *meta,
    size_t meta_len, const char *body, uint64_t body_len,
    const struct store_ref *from, struct store_ref *r)
{
	struct store		*s = x->w->store;
	struct store_put	 p;

	if (store_reserve(s, cx->key_len > cx->pkey_len ? cx->vhash :
	    cx->hash, cx->key_len, meta_len, body_len, &p) == -1)
		return -1;
	memcpy(p.key, cx->key, cx->key_len);
	memcpy(p.meta, meta, meta_len);
	if (body_len > 0)
		memcpy(p.body, body, body_len);
	if ((from != NULL && !store_still(s, from)) ||
	    store_commit(s, &p) == -1)
		return -1;
	if (r != NULL) {
		r->obj = p.obj;
		r->loc = p.head.loc;
		r->key = p.key;
		r->meta = p.meta;
		r->body = p.body;
	}
	return 0;
}

/*
 * The Vary marker to store a variant under: the one found when it lists
 * the same names, else a new one.  Its loc + 1, or 0 on failure; cx->key
 * becomes the variant's key.
 */
static uint64_t
marker_for(struct exchange *x, struct cache_x *cx, const struct text *names)
{
	struct store		*s = x->w->store;
	struct store_ref	 r;
	struct cache_meta	 meta;
	struct text		 t = { NULL, 0, 0, true };
	uint64_t		 loc = 0;

	cx->key_len = cx->pkey_len;
	if (store_get(s, cx->hash, cx->key, cx->pkey_len, &r) == 0 &&
	    r.obj->meta_len >= sizeof(meta)) {
		memcpy(&meta, r.meta, sizeof(meta));
		if ((meta.flags & META_MARKER) && meta.vary_len == names->len &&
		    sizeof(meta) + (uint64_t)meta.fields_len + meta.vary_len <=
		    r.obj->meta_len && memcmp(r.meta + sizeof(meta) +
		    meta.fields_len, names->p, names->len) == 0 &&
		    store_still(s, &r))
			loc = r.loc + 1;
	}
	if (loc == 0) {
		memset(&meta, 0, sizeof(meta));
		meta.version = CACHE_META_VERSION;
		meta.flags = META_MARKER;
		meta.vary_len = (uint32_t)names->len;
		text_put(&t, &meta, sizeof(meta));
		text_put(&t, names->p, names->len);
		if (t.ok && put_object(x, cx, t.p, t.len, NULL, 0, NULL,
		    &r) == 0)
			loc = r.loc + 1;
		free(t.p);
	}
	if (loc != 0 && cache_variant_key(x, cx, names->p, names->len) == -1)
		loc = 0;
	return loc;
}

/* Begin storing x->resp: its meta now, its body as it is relayed. */
static void
begin_store(struct exchange *x, struct cache_x *cx, const struct cc *cc,
    const struct cc *sc)
{
	const char		*base = buf_head(x->uin);
	const struct http1_msg	*m = &x->resp;
	struct text		 names = { NULL, 0, 0, true };
	struct text		 t = { NULL, 0, 0, true };
	uint64_t		 marker = 0;

	if (!vary_names(base, m, &names) || !names.ok)
		goto out;
	if (names.len > 0 && (marker = marker_for(x, cx, &names)) == 0)
		goto out;
	build_meta(x, cx, base, m, cc, sc, marker, &t);
	if (!t.ok)
		goto out;
	if (m->body == HTTP1_BODY_LENGTH || m->body == HTTP1_BODY_NONE) {
		uint64_t len = m->body == HTTP1_BODY_LENGTH ?
		    m->content_length : 0;

		if (store_reserve(x->w->store, names.len > 0 ? cx->vhash :
		    cx->hash, cx->key_len, t.len, len, &cx->put) == -1)
			goto out;
		memcpy(cx->put.key, cx->key, cx->key_len);
		memcpy(cx->put.meta, t.p, t.len);
		cx->writing = WRITE_DIRECT;
		cx->got = 0;
		if (names.len == 0)
			cache_lock_share(x, cx);
	} else {
		cx->meta_buf = t.p;
		cx->meta_len = t.len;
		t.p = NULL;
		cx->writing = WRITE_HEAP;
		chunked_init(&cx->chunk, x->w->cf->max_request_line);
	}
out:
	free(names.p);
	free(t.p);
}

/* A stale response may answer for an error of the origin (RFC 5861 4). */
static bool
stale_if_error(struct exchange *x, struct cache_x *cx)
{
	int64_t	sie, over;

	if (!cx->have || !store_still(x->w->store, &cx->ref))
		return false;
	sie = cx->req_cc.sie != -1 ? cx->req_cc.sie : cx->meta.sie;
	over = (int64_t)ev_time(x->w->loop) - cx->meta.resp_time +
	    cx->meta.initial_age - cx->meta.lifetime;
	return sie >= 0 && over <= sie;
}

/*
 * Whether a header of a 304 (or of a HEAD response) leaves the stored
 * one as it is: hop-by-hop ones, and those that describe the stored
 * body and its validator, which the 304 cannot change.
 */
static bool
kept(const char *base, const struct http1_msg *m, const struct http1_header *h)
{
	static const char *const names[] = {
		"content-encoding", "content-md5", "content-range", "etag",
		"age",
	};
	size_t i;

	if (fwd_hop_by_hop(base, m, h) || h->kind == HTTP1_H_CONTENT_LENGTH)
		return true;
	for (i = 0; i < PT_NELEM(names); i++)
		if (name_is(base, h, names[i]))
			return true;
	return false;
}

/*
 * A 304 to our revalidation (or a HEAD 200 with the stored validator):
 * the stored response, its headers updated by the response's (RFC 9111
 * 4.3.4), stored again.  -1 when the updated response may not be stored
 * (it says private or no-store now, or has a Set-Cookie, or the request
 * has Authorization): then the stored one is dropped too.
 */
static int
freshen(struct exchange *x, struct cache_x *cx)
{
	const struct config	*cf = x->w->cf;
	const char		*base = buf_head(x->uin);
	const char		*old = cx->ref.meta + sizeof(cx->meta), *p, *eol;
	const char		*end = old + cx->meta.fields_len;
	struct text		 head = { NULL, 0, 0, true };
	struct text		 t = { NULL, 0, 0, true };
	struct http1_header	*hdrs;
	struct http1_msg	 m;
	struct http1_limits	 lim;
	struct store_ref	 r;
	struct cc		 cc, sc;
	uint32_t		 i;
	bool			 replaced, surrogate, undated;
	int			 rc = 0;

	/* A 304 without a Date is dated now (RFC 9110 6.6.1), not by the
	   Date of the response it freshens. */
	undated = policy_header(base, &x->resp, "date") == NULL;
	text_put(&head, "HTTP/1.1 200 OK\r\n", 17);
	for (p = old; p < end; p = eol + 1) {
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			break;
		replaced = undated && eol - p > 5 && strncasecmp(p, "date:",
		    5) == 0;
		for (i = 0; i < x->resp.nheaders && !replaced; i++) {
			const struct http1_header *h = &x->resp.headers[i];

			replaced = h->name.len < (size_t)(eol - p) &&
			    p[h->name.len] == ':' && strncasecmp(p, base +
			    h->name.off, h->name.len) == 0 &&
			    !kept(base, &x->resp, h);
		}
		if (!replaced)
			text_put(&head, p, (size_t)(eol - p) + 1);
	}
	for (i = 0; i < x->resp.nheaders; i++) {
		const struct http1_header *h = &x->resp.headers[i];

		if (kept(base, &x->resp, h))
			continue;
		text_put(&head, base + h->name.off, h->name.len);
		text_put(&head, ": ", 2);
		text_put(&head, base + h->value.off, h->value.len);
		text_put(&head, "\r\n", 2);
	}
	text_put(&head, "\r\n", 2);
	hdrs = calloc(2 * cf->max_headers, sizeof(*hdrs));
	lim.max_line = lim.max_head = UINT32_MAX / 2;
	lim.max_headers = 2 * cf->max_headers;
	http1_msg_init(&m, hdrs, 2 * cf->max_headers);
	if (head.ok && hdrs != NULL && http1_parse_response(head.p, head.len,
	    &m, &lim, HTTP1_M_GET) == 0) {
		m.status = cx->meta.status;
		policy_cc(head.p, &m, &cc);
		surrogate = policy_surrogate(head.p, &m, &sc);
		if (!storable(x, head.p, &m, &cc, surrogate ? &sc : NULL)) {
			(void)store_drop(x->w->store, cx->key_len >
			    cx->pkey_len ? cx->vhash : cx->hash, cx->key,
			    cx->key_len);
			rc = -1;
			goto out;
		}
		build_meta(x, cx, head.p, &m, &cc, surrogate ? &sc : NULL,
		    cx->meta.marker, &t);
		if (t.ok && put_object(x, cx, t.p, t.len, cx->ref.body,
		    cx->body_len, &cx->ref, &r) == 0) {
			cx->ref = r;
			memcpy(&cx->meta, r.meta, sizeof(cx->meta));
			shm_add(&x->w->self->cache.stored, 1);
		}
	}
out:
	free(hdrs);
	free(head.p);
	free(t.p);
	return rc;
}

/* Whether x->resp has the stored response's validator (or neither has
   one). */
static bool
same_validator(struct exchange *x, struct cache_x *cx)
{
	const char			*base = buf_head(x->uin), *v;
	const struct http1_header	*h;
	size_t				 vlen;
	bool				 stored;

	stored = cache_stored_field(cx->ref.meta + sizeof(cx->meta),
	    cx->meta.fields_len, "etag", &v, &vlen);
	h = policy_header(base, &x->resp, "etag");
	if (!stored || h == NULL)
		return !stored && h == NULL;
	return h->value.len == vlen && memcmp(base + h->value.off, v,
	    vlen) == 0;
}

/* The target of an unsafe request changed, and so, when they name the
   same host, did its Location and Content-Location (RFC 9111 4.4). */
static void
invalidate(struct exchange *x, struct cache_x *cx)
{
	static const char *const names[] = { "location", "content-location" };
	const char		*base = buf_head(x->uin);
	const char		*host = buf_head(x->c->in) + x->host.off;
	const struct http1_header *h;
	const char		*v, *path;
	size_t			 i, vlen, plen;

	(void)store_drop(x->w->store, cx->hash, cx->key, cx->pkey_len);
	for (i = 0; i < PT_NELEM(names); i++) {
		if ((h = policy_header(base, &x->resp, names[i])) == NULL)
			continue;
		v = base + h->value.off;
		vlen = h->value.len;
		path = v;
		plen = vlen;
		if (vlen > 0 && v[0] != '/') {
			const char *auth = memchr(v, ':', vlen);

			/* absolute: only on the same host */
			if (auth == NULL || (size_t)(auth - v) + 3 > vlen ||
			    auth[1] != '/' || auth[2] != '/')
				continue;
			auth += 3;
			path = memchr(auth, '/', vlen - (size_t)(auth - v));
			if (path == NULL || (size_t)(path - auth) !=
			    x->host.len || strncasecmp(auth, host,
			    x->host.len) != 0)
				continue;
			plen = vlen - (size_t)(path - v);
		}
		if (plen == 0 || cache_key(x, host, x->host.len, path, plen,
		    cx) == -1)
			continue;
		(void)store_drop(x->w->store, cx->hash, cx->key, cx->pkey_len);
	}
}

/* cache_response(): see cache.h. */
int
cache_response(struct exchange *x)
{
	struct cache_x	*cx = x->cx;
	struct cc	 cc;
	unsigned	 st = x->resp.status;

	if (cx == NULL)
		return 0;
	/* Before the client has the answer, so that its next request
	   finds the change. */
	if (cx->invalidate && st >= 200 && st < 400)
		invalidate(x, cx);
	/* A 304 answers our validators, not the client's: it is the
	   stored response that answers, or if that was lost meanwhile or
	   may not be kept, the request goes again without validators. */
	if (cx->reval && st == 304) {
		if (store_still(x->w->store, &cx->ref) && freshen(x, cx) == 0) {
			cache_unlock(x, cx);
			cx->fwd_status = 304;
			shm_add(&x->w->self->cache.revalidated, 1);
			return 1;
		}
		cx->reval = 0;
		cx->have = false;
		return 2;
	}
	/* A HEAD answered 200 freshens what is stored (RFC 9111 4.3.5). */
	if (x->req.method == HTTP1_M_HEAD && cx->have && st == 200 &&
	    store_still(x->w->store, &cx->ref) && same_validator(x, cx))
		(void)freshen(x, cx);
	if (st >= 500 && stale_if_error(x, cx)) {
		cx->fwd_status = (uint16_t)st;
		shm_add(&x->w->self->cache.stale, 1);
		return 1;
	}
	if (cx->fill) {
		const char	*base = buf_head(x->uin);
		struct cc	 sc;
		bool		 surrogate;

		policy_cc(base, &x->resp, &cc);
		surrogate = policy_surrogate(base, &x->resp, &sc);
		if (storable(x, base, &x->resp, &cc, surrogate ? &sc : NULL))
			begin_store(x, cx, &cc, surrogate ? &sc : NULL);
	}
	if (cx->writing == WRITE_NONE)
		cache_unlock(x, cx);
	return 0;
}

/* cache_on_error(): see cache.h. */
int
cache_on_error(struct exchange *x, unsigned status)
{
	struct cache_x *cx = x->cx;

	/* Not when the failure was the cache's own answer (X_CACHE). */
	if (cx == NULL || x->resp_started || status < 500 ||
	    x->c->internal || x->state == X_CACHE)
		return -1;
	/* Unreachable: stale-if-error, or without it a short while
	   (stale_on_error), unless the response forbids (RFC 9111 4.2.4). */
	if (!stale_if_error(x, cx) && !(cx->have &&
	    store_still(x->w->store, &cx->ref) &&
	    !(cx->meta.flags & (META_MUST_REVALIDATE | META_NO_CACHE)) &&
	    !(cx->req_cc.flags & CC_NO_CACHE) &&
	    cache_age(x, &cx->meta) - cx->meta.lifetime <=
	    (int64_t)x->route->cache->stale_on_error_ms / 1000))
		return -1;
	cache_fill_free(x, cx);
	cx->fwd_status = (uint16_t)status;
	shm_add(&x->w->self->cache.stale, 1);
	cache_serve(x);
	return 0;
}

/* Give up storing this response. */
static void
abandon(struct exchange *x, struct cache_x *cx)
{
	cache_fill_free(x, cx);
	cache_unlock(x, cx);
}

/* cache_storing(): see cache.h. */
bool
cache_storing(const struct exchange *x)
{
	return x->cx != NULL && x->cx->writing != WRITE_NONE;
}

/* cache_body(): see cache.h. */
void
cache_body(struct exchange *x, const char *p, size_t n)
{
	struct cache_x	*cx = x->cx;
	size_t		 cap, data;
	ssize_t		 used;
	char		*h;

	if (cx == NULL || cx->writing == WRITE_NONE || n == 0)
		return;
	if (cx->writing == WRITE_DIRECT) {
		/* A slow response may be lapped by the ring: then its room
		   is another object's, and not to be written. */
		if (cx->got + n > cx->put.head.body_len ||
		    !store_reserved(x->w->store, &cx->put)) {
			abandon(x, cx);
			return;
		}
		memcpy(cx->put.body + cx->got, p, n);
		cx->got += n;
		cache_lock_progress(x, cx);
		return;
	}
	if (cx->heap_len + n > cx->heap_cap) {
		cap = (cx->heap_len + n) * 2;
		if (cx->heap_len + n > x->route->cache->max_object + 64 * 1024 ||
		    x->w->cache_held + cap - cx->heap_cap >
		    x->w->cf->cache.buffers ||
		    (h = realloc(cx->heap, cap)) == NULL) {
			abandon(x, cx);
			return;
		}
		x->w->cache_held += cap - cx->heap_cap;
		cx->heap = h;
		cx->heap_cap = cap;
	}
	memcpy(cx->heap + cx->heap_len, p, n);
	if (x->resp.body == HTTP1_BODY_CHUNKED && !x->dechunk) {
		used = chunked_decode(&cx->chunk, cx->heap + cx->heap_len, n,
		    &data);
		if (used == -1) {
			abandon(x, cx);
			return;
		}
		n = data;
	}
	cx->heap_len += n;
	if (cx->heap_len > x->route->cache->max_object)
		abandon(x, cx);
}

/* cache_complete(): see cache.h. */
void
cache_complete(struct exchange *x)
{
	struct cache_x	*cx = x->cx;

	if (cx == NULL)
		return;
	if (cx->writing == WRITE_DIRECT) {
		if (cx->got == cx->put.head.body_len &&
		    store_commit(x->w->store, &cx->put) == 0)
			shm_add(&x->w->self->cache.stored, 1);
		cx->writing = WRITE_NONE;
	} else if (cx->writing == WRITE_HEAP) {
		if (put_object(x, cx, cx->meta_buf, cx->meta_len, cx->heap,
		    cx->heap_len, NULL, NULL) == 0)
			shm_add(&x->w->self->cache.stored, 1);
		cache_fill_free(x, cx);
	}
	cache_unlock(x, cx);
}
