/*
 * shm.h: the shared memory of one portico instance: what the master
 * knows (its pid, start, generation, the outcome of the last reload),
 * one slot per child process (pid, role, start, restarts, state, and the
 * child's own counters), and the health table (one slot per upstream
 * server).
 *
 * The master creates it with shm_open() as /dev/shm/portico.<master pid>
 * before it forks, so every child inherits the mapping, and proxyctl
 * finds it from the pid file and maps it read-only.
 *
 * Who writes what: the master writes its header and the child slots,
 * inside shm_begin()/shm_end() (a sequence count, so a reader retries a
 * torn read); a child writes only the state and counters of its own
 * slot; the checker writes the health of the servers.  Every shared
 * field is read and written with relaxed atomics: no locks, and a
 * process that dies at any instruction leaves nothing held.
 */
#ifndef SHM_H
#define SHM_H

#include <sys/types.h>

#include "pt.h"

#define SHM_MAGIC	0x50544331u	/* "PTC1" */
#define SHM_VERSION	3
#define SHM_MAX_PROCS	1024	/* child slots, all generations alive */
#define SHM_MAX_SERVERS	4096	/* health slots, all upstreams */
#define SHM_TEXT_MAX	256

enum shm_role {
	SHM_ROLE_NONE = 0,
	SHM_ROLE_WORKER,
	SHM_ROLE_CHECKER,
};

enum shm_proc_state {
	SHM_PROC_STARTING = 0,	/* forked, not serving yet */
	SHM_PROC_SERVING,	/* accepting (worker) or checking */
	SHM_PROC_DRAINING,	/* finishing what is in flight */
	SHM_PROC_WAITING,	/* dead, restart pending (back-off) */
};

enum shm_health {
	SHM_HEALTH_UP = 0,	/* a fresh slot: up until a check fails */
	SHM_HEALTH_DOWN,
};

/* What a worker's cache did (worker/cache.c). */
struct shm_cache_counts {
	uint64_t	 hits;		/* answered from the cache, fresh */
	uint64_t	 misses;	/* went to the origin */
	uint64_t	 stale;		/* answered with a stale response */
	uint64_t	 revalidated;	/* stale, then 304 from the origin */
	uint64_t	 stored;	/* responses stored */
	uint64_t	 collapsed;	/* waited for another's miss */
	uint64_t	 purged;	/* objects removed by PURGE */
};

/*
 * A claim on a cache miss: who fetches it, until when the others wait
 * for it, and the response as it is being stored (which cache file,
 * where in it, and how much of its body is there), so that the requests
 * that wait can send it as it comes.
 *
 * The claim is one word, the holder's pid and the key's hash together,
 * taken from 0 and given back to 0 with compare-and-swap.  Nobody takes
 * over the claim of a live holder, so the rest of the entry has one
 * writer at a time; the master frees the claims of a worker that died.
 * The holder writes the lengths, then loc; a reader reads loc, the
 * rest, then loc again, and uses what it read only when loc did not
 * change (locs only grow, so a new response never has an old one's).
 */
struct shm_cache_lock {
	uint64_t	 claim;		/* SHM_CLAIM(pid, hash); 0: free */
	int64_t		 until;		/* ms (epoch): waiting for it lapses */
	uint64_t	 store;		/* the holder's store_ident() */
	uint64_t	 loc;		/* the reservation's loc + 1; 0: none */
	uint64_t	 got;		/* body bytes written so far */
	uint64_t	 body_len;
	uint32_t	 key_len, meta_len;
};

#define SHM_CLAIM(pid, hash)	((uint64_t)(uint32_t)(pid) << 32 | \
				    (uint32_t)((hash) >> 32))
#define SHM_CLAIM_PID(c)	((pid_t)((c) >> 32))
#define SHM_CLAIM_IS(c, hash)	((c) != 0 && (uint32_t)(c) == \
				    (uint32_t)((hash) >> 32))

#define SHM_CACHE_LOCKS	4096

struct shm_proc {
	uint32_t	 role;		/* enum shm_role; NONE: a free slot */
	uint32_t	 index;		/* worker number */
	uint32_t	 generation;
	uint32_t	 state;		/* enum shm_proc_state */
	int32_t		 pid;		/* 0 while it waits for a restart */
	uint32_t	 restarts;
	int64_t		 started;	/* wall clock, ms since the epoch */
	/* the child's own, written by it */
	uint64_t	 requests;	/* responses finished */
	uint64_t	 connections;	/* client connections open now */
	uint64_t	 accepted;	/* client connections so far */
	uint64_t	 status[5];	/* responses by class: 1xx .. 5xx */
	struct shm_cache_counts cache;
} __attribute__((aligned(64)));

struct shm_server {
	uint64_t	 key;		/* hash of upstream name and address */
	uint32_t	 refs;		/* generations using it; 0: free */
	uint32_t	 state;		/* enum shm_health */
	uint32_t	 oks, fails;	/* consecutive check results */
	uint64_t	 checks;	/* checks run */
	int64_t		 since;		/* last change of state, ms (epoch) */
	int64_t		 checked;	/* last check, ms (epoch); 0: never */
	int64_t		 recovered;	/* last down -> up, ms (epoch); 0 */
	/* written by the workers */
	uint32_t	 active;	/* requests on it now, all workers */
	uint32_t	 pfails;	/* consecutive failed requests */
	int64_t		 retry_at;	/* passively down: next try, ms */
	uint64_t	 requests;	/* tries sent to it */
	uint64_t	 failures;	/* tries that failed */
	uint64_t	 responses;	/* response heads received ... */
	uint64_t	 resp_ms;	/* ... and the ms they took, summed */
	char		 upstream[64];	/* for status output */
	char		 address[64];
	char		 result[96];	/* last check's outcome */
} __attribute__((aligned(64)));

struct shm {
	uint32_t	 magic, version;
	uint32_t	 seq;		/* odd while the master writes */
	int32_t		 master_pid;
	int64_t		 started;	/* ms since the epoch */
	uint32_t	 generation;	/* the one serving new connections */
	uint32_t	 shutdown_ms;	/* its shutdown_timeout */
	uint32_t	 stopping;	/* the master stops: drain to exit */
	uint32_t	 reloads;	/* reload attempts finished */
	uint32_t	 reload_ok;	/* the last one: 1 accepted, 0 refused */
	uint32_t	 reload_gen;	/* the generation it started */
	char		 reload_msg[SHM_TEXT_MAX];	/* its outcome */
	char		 conf_file[SHM_TEXT_MAX];
	struct shm_proc	 procs[SHM_MAX_PROCS];
	struct shm_server servers[SHM_MAX_SERVERS];
	/* the cache file, as the checker counted it last (each second) */
	uint64_t	 cache_size;	/* bytes of the file; 0: no cache */
	uint64_t	 cache_objects, cache_bytes, cache_evicted;
	struct shm_cache_lock cache_locks[SHM_CACHE_LOCKS];
};

/*
 * shm_create(): the master's: create and map the segment of this process
 * (a stale one of the same name is replaced).  NULL after logging why.
 */
struct shm *shm_create(void);

/* shm_destroy(): unmap and remove it (the master, at exit). */
void	shm_destroy(struct shm *s);

/*
 * shm_attach(): proxyctl's: map the segment of the master pid read-only.
 * NULL with errno set when there is none (or it is not ours).
 */
const struct shm *shm_attach(pid_t pid);

/* shm_name(): "/portico.<pid>", the name given to shm_open(). */
void	shm_name(pid_t pid, char *name, size_t size);

/* shm_begin(), shm_end(): around the master's writes. */
void	shm_begin(struct shm *s);
void	shm_end(struct shm *s);

/*
 * shm_snapshot(): a consistent copy of *s (retried while the master
 * writes).  Returns 0, or -1 when the master never stops writing.
 */
int	shm_snapshot(const struct shm *s, struct shm *copy);

/* shm_cache_release(): free the cache claims of pid, a worker that
   died (the master's, when it reaps one). */
void	shm_cache_release(struct shm *s, pid_t pid);

/* shm_server_key(): the key of a server slot. */
uint64_t shm_server_key(const char *upstream, const char *address);

/* shm_now(): the wall clock in ms (coarse: a few ms), as slots keep it. */
int64_t	shm_now(void);

/* Relaxed atomic access to the shared counters and states. */
#define shm_load(p)		__atomic_load_n((p), __ATOMIC_RELAXED)
#define shm_store(p, v)		__atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define shm_add(p, v)		__atomic_fetch_add((p), (v), __ATOMIC_RELAXED)

#endif /* SHM_H */
