/*
 * route.h: which site and route answer a request: the site by the Host
 * of the request, then the first route of that site, in the order of the
 * config, whose path prefix matches.
 */
#ifndef ROUTE_H
#define ROUTE_H

#include "config.h"

/*
 * route_find(): the route for host (without port, any case) and path.
 * Sites are tried in order: an exact host first wins over patterns, then
 * "*.suffix" patterns, then "*".  NULL when nothing matches (404).
 */
const struct config_route *route_find(const struct config *cf,
	    const char *host, size_t host_len, const char *path,
	    size_t path_len);

#endif /* ROUTE_H */
