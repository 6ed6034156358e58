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

/* fwd_hop_by_hop(): whether a response header stops here (for a stored
   head: Transfer-Encoding too). */
bool	fwd_hop_by_hop(const char *base, const struct http1_msg *m,
	    const struct http1_header *h);

/* A response from the cache, as fwd_cached_head() writes it. */
struct fwd_cached {
	unsigned	 status;
	const char	*fields;	/* stored header lines, CRLF each */
	size_t		 fields_len;
	int64_t		 age;		/* seconds */
	uint64_t	 length;	/* Content-Length (none for 304) */
	uint64_t	 first, total;	/* 206: Content-Range first-.. /total;
					   416: total */
	const char	*cache_status;	/* Cache-Status value */
};

/* fwd_cached_head(): the head of a response from the cache. */
int	fwd_cached_head(struct exchange *x, struct buf *out,
	    const struct fwd_cached *c);

#endif /* FWD_H */
