/*
 * policy.h: what RFC 9111 says about a request and a response, read from
 * their heads: Cache-Control directives, dates, freshness, age.  No state
 * and no I/O: cache.c asks, and decides what to do with the answers.
 */
#ifndef POLICY_H
#define POLICY_H

#include "config.h"
#include "http1.h"

/* Cache-Control directives (RFC 9111 5.2), both directions. */
#define CC_NO_STORE		0x0001
#define CC_NO_CACHE		0x0002
#define CC_PRIVATE		0x0004
#define CC_PUBLIC		0x0008
#define CC_MUST_REVALIDATE	0x0010	/* or proxy-revalidate */
#define CC_IMMUTABLE		0x0020
#define CC_ONLY_IF_CACHED	0x0040
#define CC_MAX_STALE_ANY	0x0080	/* max-stale without a value */
#define CC_BAD_AGE		0x0100	/* max-age or s-maxage unreadable:
					   stale, RFC 9111 4.2.1 */
#define CC_MUST_UNDERSTAND	0x0200
#define CC_PROXY_REVALIDATE	0x0400	/* not a reason to store with
					   Authorization (RFC 9111 3.5) */

struct cc {
	unsigned	 flags;
	int64_t		 max_age, s_maxage;	/* seconds; -1: absent */
	int64_t		 max_stale, min_fresh;
	int64_t		 swr, sie;	/* stale-while-revalidate, -if-error */
	/* no-cache="a, b" and private="c": fields a stored response goes
	   without (RFC 9111 5.2.2.4, 5.2.2.7); NULL: none */
	const char	*omit[2];
	size_t		 omit_len[2];
};

/* The name Portico answers to in Surrogate-Control targets. */
#define POLICY_SURROGATE	"portico"

/* policy_cc(): the Cache-Control of m (all its lines; Pragma: no-cache
   when there is no Cache-Control). */
void	policy_cc(const char *base, const struct http1_msg *m, struct cc *cc);

/*
 * policy_surrogate(): the Surrogate-Control directives of m (W3C Edge
 * Architecture) for us: untargeted, or ";portico".  false when there are
 * none: then Cache-Control decides.  Those that are there take the place
 * of Cache-Control's for the cache (no-store, max-age).
 */
bool	policy_surrogate(const char *base, const struct http1_msg *m,
	    struct cc *sc);

/* policy_omitted(): whether a stored response goes without the field
   name[len] (cc->omit). */
bool	policy_omitted(const struct cc *cc, const char *name, size_t len);

/* policy_header(): the first header of m named name (any case), or
   NULL. */
const struct http1_header *policy_header(const char *base,
	    const struct http1_msg *m, const char *name);

/* policy_date(): an HTTP-date (RFC 9110 5.6.7, all three forms) in
   seconds since the epoch, or -1. */
int64_t	policy_date(const char *s, size_t len);

/* policy_heuristic(): whether status may be given heuristic freshness
   (RFC 9110 15.1). */
bool	policy_heuristic(unsigned status);

/*
 * policy_lifetime(): the freshness lifetime, seconds, of a response to
 * store: s-maxage, max-age, Expires - Date, then a share of the
 * Last-Modified age, then the route's default; 0 when none applies.
 * date is the response's Date (or when it came).
 */
int64_t	policy_lifetime(const char *base, const struct http1_msg *m,
	    const struct cc *cc, int64_t date,
	    const struct config_route_cache *rc);

#endif /* POLICY_H */
