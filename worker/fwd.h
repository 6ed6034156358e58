/*
 * fwd.h: the heads Portico sends on: the request to the upstream and the
 * response to the client.
 *
 * Hop-by-hop headers stop here (RFC 9110 7.6.1): Connection and every
 * header it names, Keep-Alive, TE, Trailer, Upgrade (unless upgrading),
 * Proxy-*.  The request gains X-Forwarded-For, X-Forwarded-Proto,
 * X-Forwarded-Host and Via, each as cf->proxy_headers says.
 */
#ifndef FWD_H
#define FWD_H

#include "client.h"

/*
 * fwd_request_head(): write the upstream request head of x into out.
 * Returns 0, or -1 when it does not fit (the caller answers 431).
 */
int	fwd_request_head(struct exchange *x, struct buf *out);

/*
 * fwd_response_head(): write the client response head for x->resp (its
 * strings in x->uin) into out.  Returns 0, or -1 when it does not fit.
 */
int	fwd_response_head(struct exchange *x, struct buf *out);

/*
 * fwd_local_head(): the head of a response of our own: status, Server,
 * Date, Content-Type, Content-Length, Connection, and Location if given.
 */
int	fwd_local_head(struct exchange *x, struct buf *out, unsigned status,
	    const char *content_type, size_t body_len, const char *location);

#endif /* FWD_H */
