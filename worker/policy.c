/*
 * policy.c: RFC 9111 read from message heads.  See policy.h.
 */
#include <ctype.h>
#include <stdlib.h>
#include <strings.h>
#include <time.h>

#include "policy.h"

#define DELTA_MAX	2147483648LL	/* RFC 9111 1.2.2 */

static const char *
at(const char *base, struct http1_str s)
{
	return base + s.off;
}

/* policy_header(): see policy.h. */
const struct http1_header *
policy_header(const char *base, const struct http1_msg *m, const char *name)
{
	uint32_t i;

	for (i = 0; i < m->nheaders; i++)
		if (http1_str_eq(base, m->headers[i].name, name))
			return &m->headers[i];
	return NULL;
}

/* delta-seconds, capped; -1 when it is not one. */
static int64_t
delta(const char *p, size_t len)
{
	int64_t	n = 0;
	size_t	i;

	if (len == 0)
		return -1;
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)p[i]))
			return -1;
		if (n < DELTA_MAX)
			n = n * 10 + (p[i] - '0');
	}
	return n > DELTA_MAX ? DELTA_MAX : n;
}

/* One directive, name[nlen] = value[vlen] (value NULL: none). */
static void
directive(struct cc *cc, const char *name, size_t nlen, const char *value,
    size_t vlen)
{
	static const struct {
		const char	*name;
		unsigned	 flag;
	} flags[] = {
		{ "no-store", CC_NO_STORE }, { "no-cache", CC_NO_CACHE },
		{ "private", CC_PRIVATE }, { "public", CC_PUBLIC },
		{ "must-revalidate", CC_MUST_REVALIDATE },
		{ "proxy-revalidate", CC_PROXY_REVALIDATE },
		{ "immutable", CC_IMMUTABLE },
		{ "only-if-cached", CC_ONLY_IF_CACHED },
		{ "must-understand", CC_MUST_UNDERSTAND },
	};
	static const struct {
		const char	*name;
		size_t		 off;
	} deltas[] = {
		{ "max-age", offsetof(struct cc, max_age) },
		{ "s-maxage", offsetof(struct cc, s_maxage) },
		{ "max-stale", offsetof(struct cc, max_stale) },
		{ "min-fresh", offsetof(struct cc, min_fresh) },
		{ "stale-while-revalidate", offsetof(struct cc, swr) },
		{ "stale-if-error", offsetof(struct cc, sie) },
	};
	int64_t	*field, v;
	size_t	 i;

	for (i = 0; i < PT_NELEM(flags); i++)
		if (strlen(flags[i].name) == nlen &&
		    strncasecmp(name, flags[i].name, nlen) == 0) {
			/* no-cache="a" and private="a": the response may be
			   stored without those fields. */
			if (value != NULL && (flags[i].flag == CC_NO_CACHE ||
			    flags[i].flag == CC_PRIVATE)) {
				unsigned k = flags[i].flag == CC_PRIVATE;

				if (cc->omit[k] == NULL) {
					cc->omit[k] = value;
					cc->omit_len[k] = vlen;
				}
				return;
			}
			cc->flags |= flags[i].flag;
			return;
		}
	for (i = 0; i < PT_NELEM(deltas); i++) {
		if (strlen(deltas[i].name) != nlen ||
		    strncasecmp(name, deltas[i].name, nlen) != 0)
			continue;
		field = (int64_t *)(void *)((char *)cc + deltas[i].off);
		if (value == NULL && field == &cc->max_stale) {
			cc->flags |= CC_MAX_STALE_ANY;
			return;
		}
		v = value == NULL ? -1 : delta(value, vlen);
		if (v == -1 || *field != -1) {
			/* Unreadable or given twice: no freshness from it. */
			if (field == &cc->max_age || field == &cc->s_maxage)
				cc->flags |= CC_BAD_AGE;
			if (v == -1)
				return;
		}
		if (*field == -1 || v < *field)
			*field = v;
		return;
	}
}

/* One Cache-Control line: directives separated by commas. */
static void
cc_line(struct cc *cc, const char *p, const char *end)
{
	const char	*name, *value;
	size_t		 nlen, vlen;

	while (p < end) {
		while (p < end && (*p == ',' || *p == ' ' || *p == '\t'))
			p++;
		name = p;
		while (p < end && *p != '=' && *p != ',' && *p != ' ' &&
		    *p != '\t')
			p++;
		nlen = (size_t)(p - name);
		value = NULL;
		vlen = 0;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p < end && *p == '=') {
			p++;
			while (p < end && (*p == ' ' || *p == '\t'))
				p++;
			if (p < end && *p == '"') {
				value = ++p;
				while (p < end && *p != '"')
					p += *p == '\\' && p + 1 < end ? 2 : 1;
				vlen = (size_t)((p < end ? p : end) - value);
				if (p < end)
					p++;
			} else {
				value = p;
				while (p < end && *p != ',' && *p != ' ' &&
				    *p != '\t')
					p++;
				vlen = (size_t)(p - value);
			}
		}
		while (p < end && *p != ',')
			p++;
		if (nlen > 0)
			directive(cc, name, nlen, value, vlen);
	}
}

static void
cc_init(struct cc *cc)
{
	memset(cc, 0, sizeof(*cc));
	cc->max_age = cc->s_maxage = cc->max_stale = cc->min_fresh = -1;
	cc->swr = cc->sie = -1;
}

/* policy_surrogate(): see policy.h. */
bool
policy_surrogate(const char *base, const struct http1_msg *m, struct cc *sc)
{
	static const char	 me[] = POLICY_SURROGATE;
	const struct http1_header *h;
	const char		*p, *end, *item, *semi, *comma;
	uint32_t		 i;
	bool			 seen = false;

	cc_init(sc);
	for (i = 0; i < m->nheaders; i++) {
		h = &m->headers[i];
		if (!http1_str_eq(base, h->name, "surrogate-control"))
			continue;
		p = at(base, h->value);
		end = p + h->value.len;
		for (; p < end; p = comma + 1) {
			if ((comma = memchr(p, ',', (size_t)(end - p))) == NULL)
				comma = end;
			item = p;
			semi = memchr(item, ';', (size_t)(comma - item));
			if (semi != NULL) {
				const char *t = semi + 1, *te = comma;

				while (t < te && (*t == ' ' || *t == '\t'))
					t++;
				while (te > t && (te[-1] == ' ' ||
				    te[-1] == '\t'))
					te--;
				if ((size_t)(te - t) != sizeof(me) - 1 ||
				    strncasecmp(t, me, sizeof(me) - 1) != 0)
					continue;	/* another's */
			}
			cc_line(sc, item, semi != NULL ? semi : comma);
			seen = true;
		}
	}
	return seen && (sc->max_age != -1 || (sc->flags &
	    (CC_NO_STORE | CC_BAD_AGE)));
}

/* policy_omitted(): see policy.h. */
bool
policy_omitted(const struct cc *cc, const char *name, size_t len)
{
	const char	*p, *end, *tok;
	unsigned	 k;

	for (k = 0; k < 2; k++) {
		if (cc->omit[k] == NULL)
			continue;
		p = cc->omit[k];
		end = p + cc->omit_len[k];
		while (p < end) {
			while (p < end && (*p == ',' || *p == ' ' ||
			    *p == '\t'))
				p++;
			tok = p;
			while (p < end && *p != ',' && *p != ' ' && *p != '\t')
				p++;
			if ((size_t)(p - tok) == len && len > 0 &&
			    strncasecmp(tok, name, len) == 0)
				return true;
		}
	}
	return false;
}

/* policy_cc(): see policy.h. */
void
policy_cc(const char *base, const struct http1_msg *m, struct cc *cc)
{
	const struct http1_header	*h;
	uint32_t			 i;
	bool				 seen = false;

	cc_init(cc);
	for (i = 0; i < m->nheaders; i++) {
		h = &m->headers[i];
		if (!http1_str_eq(base, h->name, "cache-control"))
			continue;
		seen = true;
		cc_line(cc, at(base, h->value), at(base, h->value) +
		    h->value.len);
	}
	/* RFC 9111 5.4: Pragma counts only without Cache-Control. */
	if (!seen && (h = policy_header(base, m, "pragma")) != NULL &&
	    h->value.len >= 8 && strncasecmp(at(base, h->value), "no-cache",
	    8) == 0)
		cc->flags |= CC_NO_CACHE;
}

/* policy_date(): see policy.h. */
int64_t
policy_date(const char *s, size_t len)
{
	static const char *const forms[] = {
		"%a, %d %b %Y %H:%M:%S GMT",	/* IMF-fixdate */
		"%A, %d-%b-%y %H:%M:%S GMT",	/* obsolete RFC 850 */
		"%a %b %e %H:%M:%S %Y",		/* asctime */
	};
	char		 text[64];
	const char	*end;
	struct tm	 tm;
	size_t		 i;

	if (len == 0 || len >= sizeof(text))
		return -1;
	memcpy(text, s, len);
	text[len] = '\0';
	for (i = 0; i < PT_NELEM(forms); i++) {
		memset(&tm, 0, sizeof(tm));
		end = strptime(text, forms[i], &tm);
		if (end != NULL && *end == '\0')
			return (int64_t)timegm(&tm);
	}
	return -1;
}

/* policy_heuristic(): see policy.h. */
bool
policy_heuristic(unsigned status)
{
	switch (status) {
	case 200: case 203: case 204: case 206: case 300: case 301:
	case 308: case 404: case 405: case 410: case 414: case 501:
		return true;
	default:
		return false;
	}
}

/* policy_lifetime(): see policy.h. */
int64_t
policy_lifetime(const char *base, const struct http1_msg *m,
    const struct cc *cc, int64_t date, const struct config_route_cache *rc)
{
	const struct http1_header	*h;
	int64_t				 t, lm;

	if (cc->flags & CC_BAD_AGE)
		return 0;
	if (cc->s_maxage != -1)
		return cc->s_maxage;
	if (cc->max_age != -1)
		return cc->max_age;
	if ((h = policy_header(base, m, "expires")) != NULL) {
		/* An invalid date means already expired (RFC 9111 5.3). */
		t = policy_date(at(base, h->value), h->value.len);
		return t == -1 || t <= date ? 0 : t - date;
	}
	if ((policy_heuristic(m->status) || (cc->flags & CC_PUBLIC)) &&
	    rc->heuristic > 0 &&
	    (h = policy_header(base, m, "last-modified")) != NULL &&
	    (lm = policy_date(at(base, h->value), h->value.len)) != -1 &&
	    lm < date)
		return (date - lm) * (int64_t)rc->heuristic / 100;
	/* Like a heuristic: only for statuses cacheable by default. */
	return policy_heuristic(m->status) ? rc->default_ttl_ms / 1000 : 0;
}
