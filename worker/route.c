/*
 * route.c: choosing the site and the route.  See route.h.
 *
 * Host matching follows what nginx users expect of server_name: an exact
 * name beats a wildcard, and "*" is the catch-all, whatever their order in
 * the file.  Within a site, routes match in the order written.
 */
#include <strings.h>

#include "route.h"

enum { MATCH_NONE, MATCH_ANY, MATCH_WILDCARD, MATCH_EXACT };

/* How well pattern (lower case, from the config) matches host. */
static int
host_match(const char *pattern, const char *host, size_t len)
{
	size_t plen;

	if (pattern[0] == '*' && pattern[1] == '\0')
		return MATCH_ANY;
	if (pattern[0] == '*' && pattern[1] == '.') {
		/* "*.a.com" matches "x.a.com" and "x.y.a.com", not "a.com". */
		plen = strlen(pattern + 1);
		if (len > plen && strncasecmp(host + len - plen, pattern + 1,
		    plen) == 0)
			return MATCH_WILDCARD;
		return MATCH_NONE;
	}
	plen = strlen(pattern);
	if (plen == len && strncasecmp(host, pattern, len) == 0)
		return MATCH_EXACT;
	return MATCH_NONE;
}

static const struct config_site *
site_find(const struct config *cf, const char *host, size_t len)
{
	const struct config_site	*best = NULL;
	int				 best_q = MATCH_NONE, q;
	unsigned			 i, j;

	for (i = 0; i < cf->nsites; i++) {
		for (j = 0; j < cf->sites[i].nhosts; j++) {
			q = host_match(cf->sites[i].hosts[j], host, len);
			if (q > best_q) {
				best_q = q;
				best = &cf->sites[i];
				if (q == MATCH_EXACT)
					return best;
			}
		}
	}
	return best;
}

/* route_find(): see route.h. */
const struct config_route *
route_find(const struct config *cf, const char *host, size_t host_len,
    const char *path, size_t path_len)
{
	const struct config_site	*site;
	const struct config_route	*r;
	unsigned			 i;

	if ((site = site_find(cf, host, host_len)) == NULL)
		return NULL;
	for (i = 0; i < site->nroutes; i++) {
		r = &site->routes[i];
		if (path_len >= r->path_len &&
		    memcmp(path, r->path, r->path_len) == 0)
			return r;
	}
	return NULL;
}
