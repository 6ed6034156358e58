/*
 * cachelock.c: the claims on cache misses, in the lock table of the
 * shared memory (shm.h says how an entry is written and read).  See
 * cachelock.h.
 */
#include <errno.h>
#include <signal.h>

#include "cachefill.h"
#include "cachelock.h"
#include "shm.h"
#include "store.h"

static struct shm_cache_lock *
entry(const struct exchange *x, const struct cache_x *cx)
{
	return &x->w->shm->cache_locks[cx->hash % SHM_CACHE_LOCKS];
}

/* cache_lock_held(): see cachelock.h.  A worker killed while it held
   the claim holds nothing: the master frees its claim when it reaps it,
   and we do not wait that long. */
bool
cache_lock_held(const struct exchange *x, const struct cache_x *cx,
    bool patient)
{
	const struct shm_cache_lock *l = entry(x, cx);
	uint64_t c = __atomic_load_n(&l->claim, __ATOMIC_ACQUIRE);

	if (!SHM_CLAIM_IS(c, cx->hash) ||
	    __atomic_load_n(&l->store, __ATOMIC_RELAXED) !=
	    store_ident(x->w->store) ||
	    (!patient && __atomic_load_n(&l->until, __ATOMIC_ACQUIRE) <
	    shm_now()))
		return false;
	return SHM_CLAIM_PID(c) == x->w->pid || kill(SHM_CLAIM_PID(c), 0) ==
	    0 || errno != ESRCH;
}

/* cache_lock_claim(): see cachelock.h.  Nobody takes the claim of a
   live holder from it. */
bool
cache_lock_claim(struct exchange *x, struct cache_x *cx)
{
	struct shm_cache_lock	*l;
	uint64_t		 c = 0;
	unsigned		 i = (unsigned)(cx->hash % SHM_CACHE_LOCKS);

	l = &x->w->shm->cache_locks[i];
	if (!__atomic_compare_exchange_n(&l->claim, &c, SHM_CLAIM(x->w->pid,
	    cx->hash), false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return !cache_lock_held(x, cx, false);
	__atomic_store_n(&l->store, store_ident(x->w->store),
	    __ATOMIC_RELAXED);
	__atomic_store_n(&l->until, shm_now() + (int64_t)x->w->cf->cache.
	    lock_timeout_ms, __ATOMIC_RELEASE);
	cx->lock = (int)i;
	return true;
}

/* cache_unlock(): see cachelock.h.  loc first: a reader that still
   sees our loc may trust what it read with it.  until is left far off,
   for the moment between the next claim and its own until. */
void
cache_unlock(struct exchange *x, struct cache_x *cx)
{
	struct shm_cache_lock	*l;
	uint64_t		 c = SHM_CLAIM(x->w->pid, cx->hash);

	if (cx->lock == -1)
		return;
	l = &x->w->shm->cache_locks[cx->lock];
	__atomic_store_n(&l->loc, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&l->until, INT64_MAX, __ATOMIC_RELEASE);
	(void)__atomic_compare_exchange_n(&l->claim, &c, 0, false,
	    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
	cx->lock = -1;
}

/* cache_lock_share(): see cachelock.h.  loc to 0, the rest, then the
   new loc: a reader that sees the same loc before and after it read
   the rest read what was written with that loc. */
void
cache_lock_share(struct exchange *x, struct cache_x *cx)
{
	struct shm_cache_lock *l;

	if (cx->lock == -1)
		return;
	l = &x->w->shm->cache_locks[cx->lock];
	__atomic_store_n(&l->loc, 0, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&l->key_len, (uint32_t)cx->key_len, __ATOMIC_RELAXED);
	__atomic_store_n(&l->meta_len, cx->put.head.meta_len, __ATOMIC_RELAXED);
	__atomic_store_n(&l->body_len, cx->put.head.body_len,
	    __ATOMIC_RELAXED);
	__atomic_store_n(&l->got, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&l->loc, cx->put.head.loc + 1, __ATOMIC_RELEASE);
}

/* cache_lock_progress(): see cachelock.h.  A writer that makes progress
   keeps the others waiting: only one that stalls for lock_timeout lets
   them go to the origin. */
void
cache_lock_progress(struct exchange *x, struct cache_x *cx)
{
	struct shm_cache_lock *l;

	if (cx->lock == -1)
		return;
	l = &x->w->shm->cache_locks[cx->lock];
	__atomic_store_n(&l->until, shm_now() +
	    (int64_t)x->w->cf->cache.lock_timeout_ms, __ATOMIC_RELAXED);
	__atomic_store_n(&l->got, cx->got, __ATOMIC_RELEASE);
}

/* cache_lock_peek(): see cachelock.h.  loc, the rest, loc again. */
int
cache_lock_peek(const struct exchange *x, const struct cache_x *cx,
    struct cache_lock_view *v)
{
	const struct shm_cache_lock	*l = entry(x, cx);
	uint64_t			 loc, ident;

	if ((loc = __atomic_load_n(&l->loc, __ATOMIC_ACQUIRE)) == 0)
		return -1;
	ident = __atomic_load_n(&l->store, __ATOMIC_RELAXED);
	v->key_len = __atomic_load_n(&l->key_len, __ATOMIC_RELAXED);
	v->meta_len = __atomic_load_n(&l->meta_len, __ATOMIC_RELAXED);
	v->body_len = __atomic_load_n(&l->body_len, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (__atomic_load_n(&l->loc, __ATOMIC_RELAXED) != loc ||
	    !SHM_CLAIM_IS(__atomic_load_n(&l->claim, __ATOMIC_ACQUIRE),
	    cx->hash) || ident != store_ident(x->w->store))
		return -1;
	v->loc = loc - 1;
	return 0;
}

/* cache_lock_got(): see cachelock.h.  got between two reads of loc. */
int
cache_lock_got(const struct exchange *x, const struct cache_x *cx,
    uint64_t loc, uint64_t *got)
{
	const struct shm_cache_lock *l = entry(x, cx);

	if (__atomic_load_n(&l->loc, __ATOMIC_ACQUIRE) != loc + 1)
		return -1;
	*got = __atomic_load_n(&l->got, __ATOMIC_ACQUIRE);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return __atomic_load_n(&l->loc, __ATOMIC_RELAXED) == loc + 1 ? 0 : -1;
}
