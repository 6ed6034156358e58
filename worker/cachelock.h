/*
 * cachelock.h: the claims on cache misses, shared by every worker: the
 * first miss of a key claims it and fetches it; the others wait for its
 * response, and may send it as it is being stored (its room in the
 * cache file, and how far its body is written, are in the claim).
 */
#ifndef CACHELOCK_H
#define CACHELOCK_H

#include "client.h"

struct cache_x;

/* What a claim says of the response being stored under it. */
struct cache_lock_view {
	uint64_t	 loc;		/* its room, for store_peek() */
	uint64_t	 body_len;
	uint32_t	 key_len, meta_len;
};

/*
 * cache_lock_claim(): claim the miss of cx->hash for x: true when it is
 * ours to fetch (cx->lock says which entry), or nobody's to wait for
 * (the entry is another key's, or its holder is gone or late: then x
 * goes on without a claim); false when another holds it.
 */
bool	cache_lock_claim(struct exchange *x, struct cache_x *cx);

/*
 * cache_lock_held(): whether a live worker that maps the same cache file
 * holds the miss of cx->hash; not patient: only until the claim lapses
 * (lock_timeout without progress).
 */
bool	cache_lock_held(const struct exchange *x, const struct cache_x *cx,
	    bool patient);

/* cache_unlock(): give up our claim on the miss, if any. */
void	cache_unlock(struct exchange *x, struct cache_x *cx);

/* cache_lock_share(): the response being stored under our claim (no
   Vary) may be read by those who wait, as it comes. */
void	cache_lock_share(struct exchange *x, struct cache_x *cx);

/* cache_lock_progress(): cx->got body bytes of it are written. */
void	cache_lock_progress(struct exchange *x, struct cache_x *cx);

/* cache_lock_peek(): the response being stored under the claim on
   cx->hash, read whole from one holder; -1 when there is none. */
int	cache_lock_peek(const struct exchange *x, const struct cache_x *cx,
	    struct cache_lock_view *v);

/* cache_lock_got(): while the claim on cx->hash is still on the response
   at loc, how much of its body is written (*got); -1 when it is not. */
int	cache_lock_got(const struct exchange *x, const struct cache_x *cx,
	    uint64_t loc, uint64_t *got);

#endif /* CACHELOCK_H */
