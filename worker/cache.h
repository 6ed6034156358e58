/*
 * cache.h: the HTTP cache on the request path (RFC 9111), over the store
 * every worker maps (store.h).
 *
 * A request on a route with cache is looked up before it goes upstream:
 * a fresh stored response is answered from the mapping (X_CACHE); a
 * stale one is revalidated with its validators; a miss may wait a while
 * for the same miss of another worker (request collapsing, X_CACHE_WAIT)
 * or go on to the origin.  The response that comes back is stored while
 * it is relayed, and published once it is whole.  Unsafe methods
 * invalidate what they change; PURGE removes a URL or a prefix.
 *
 * The order, top to bottom:
 *   cache_request()   before the origin: answer, wait, or go on
 *   cache_response()  the origin's head: store it, or answer from the
 *                     cache instead (304 to a revalidation, stale-if-error)
 *   cache_body()      each run of body bytes relayed
 *   cache_complete()  the response is whole (before its last bytes go
 *                     to the client): publish
 *   cache_end()       the exchange ends, whole or not
 */
#ifndef CACHE_H
#define CACHE_H

#include "client.h"

struct store;

/*
 * cache_request(): x's route has a cache.  0: go on to the origin (x->cx
 * says what to ask for and what to do with the answer); -1: the cache
 * answered x, or holds it until another worker's response is stored.
 */
int	cache_request(struct exchange *x);

/*
 * cache_response(): the final head of the origin's response is parsed.
 * 0: relay it (stored along the way when it may be); 1: the cache
 * answers instead (proxy.c releases the upstream, then calls
 * cache_serve()); 2: a 304 the cache cannot use (the stored response
 * was lost meanwhile, or may not be kept): proxy.c releases the
 * upstream and sends the request again, without validators.
 */
int	cache_response(struct exchange *x);

/* cache_serve(): answer x from the object cache_response() chose. */
void	cache_serve(struct exchange *x);

/* cache_body(): n body bytes at p are relayed (chunked framing and all,
   unless x->dechunk decoded them). */
void	cache_body(struct exchange *x, const char *p, size_t n);

/* cache_complete(): the whole response is relayed. */
void	cache_complete(struct exchange *x);

/* cache_end(): x ends: free what it holds (an unfinished object is
   never published). */
void	cache_end(struct exchange *x);

/* cache_storing(): whether x's response is being stored. */
bool	cache_storing(const struct exchange *x);

/* cache_run(): progress of X_CACHE and X_CACHE_WAIT after an event. */
void	cache_run(struct exchange *x);

/* cache_on_error(): the origin failed x (status): 0 when a stale
   response answered it instead (stale-if-error), -1 otherwise. */
int	cache_on_error(struct exchange *x, unsigned status);

/* cache_status(): the Cache-Status value (RFC 9211) of a response
   forwarded for x, into buf; its length, 0 for none. */
size_t	cache_status(const struct exchange *x, char *buf, size_t size);

/*
 * cache_fwd_header(): whether a header of the client's request stays
 * out of the request to the origin (its conditionals and Range, when
 * the response is to be stored whole).  cache_fwd_extra(): the header
 * lines to add (the stored validators of a revalidation) into buf; their
 * length.
 */
bool	cache_fwd_drop(const struct exchange *x, const char *name,
	    size_t len);
size_t	cache_fwd_extra(const struct exchange *x, char *buf, size_t size);

#endif /* CACHE_H */
