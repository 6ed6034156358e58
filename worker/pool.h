/*
 * pool.h: the connections of one worker to the upstream servers, and the
 * idle keep-alive ones among them, per server.
 *
 * An idle connection sits on its server's list, most recently used first,
 * and is taken from the front (a warm connection, and the cold ones at the
 * back time out and close).  While idle it stays in the epoll set, so an
 * origin that closes it is noticed at once and the connection is dropped:
 * a closed connection is never handed out.
 *
 * The worker holds at most max_upstream_connections of them, and at most
 * max_conns to one server; past that, pool_connect() fails and the
 * request gets 503.
 */
#ifndef POOL_H
#define POOL_H

#include "config.h"
#include "ev.h"
#include "io.h"
#include "shm.h"

struct pool;
struct server_rt;

struct upconn {
	struct conn	 k;		/* first: its events name it */
	struct server_rt *srv;
	void		*owner;		/* the request using it, or NULL */
	void		(*owner_fn)(void *owner);	/* its events */
	struct upconn	*next, *prev;	/* idle list, or free list */
	struct ev_timer	 timer;		/* the owner's, or idle timeout */
	uint32_t	 nrequests;	/* requests sent on it so far */
	uint8_t		 connecting;	/* connect(2) in progress */
	uint8_t		 dead;		/* closed; memory recycled soon */
};

struct server_rt {
	const struct config_server *cf;
	struct upstream_rt *up;
	struct upconn	 idle;		/* list head; idle.next: most recent */
	unsigned	 nidle;
	unsigned	 nconns;	/* open, idle or busy (max_conns) */
	int		 current;	/* smooth weighted round robin */
	struct shm_server *health;	/* its slot of the health table */
	uint64_t	 id;		/* for the sticky cookie */
	SSL_SESSION	*session;	/* TLS: to resume with, or NULL */
	char		 tls_name[256];	/* TLS: the name its certificate
					   must have */
	char		 name[ADDR_TEXT_MAX];	/* for logs */
};

struct upstream_rt {
	const struct config_upstream *cf;
	struct pool	*pool;
	struct server_rt *servers;
	unsigned	 nservers;
	struct ring_point *ring;	/* hash: sorted points, balance.c */
	size_t		 nring;
	uint64_t	 xs;		/* random_two: xorshift state */
	unsigned	 start;		/* least_conn: where ties begin */
	struct ev_tq	 tq_connect, tq_read, tq_write, tq_idle;
};

struct pool {
	struct ev_loop	*loop;
	struct upstream_rt *ups;	/* one per cf->upstreams[i] */
	unsigned	 nups;
	unsigned	 nconns;	/* open, idle or busy */
	unsigned	 max_conns;
	struct upconn	*free, *dead;
};

/* pool_init(): runtime state for every upstream of cf; health in shm. */
int	pool_init(struct pool *p, struct ev_loop *loop,
	    const struct config *cf, struct shm *shm);

/* pool_upstream(): the runtime state of upstream cfu. */
static inline struct upstream_rt *
pool_upstream(struct pool *p, const struct config_upstream *cfu)
{
	return &p->ups[cfu->index];
}

/*
 * pool_get_idle(): the most recently used idle connection to s, taken off
 * the idle list and given to owner, or NULL.
 */
struct upconn *pool_get_idle(struct pool *p, struct server_rt *s,
	    void *owner, void (*owner_fn)(void *));

/*
 * pool_connect(): a new connection to s for owner, connecting (wait for
 * writable) or connected.  NULL with errno set: ENOSPC when the worker
 * holds max_upstream_connections already, EBUSY when it holds the
 * server's max_conns.
 */
struct upconn *pool_connect(struct pool *p, struct server_rt *s,
	    void *owner, void (*owner_fn)(void *));

/*
 * pool_release(): the owner is done with u.  A reusable connection goes
 * to the front of its idle list (closing the oldest when keepalive are
 * idle already); otherwise it is closed.
 */
void	pool_release(struct pool *p, struct upconn *u, bool reusable);

/* pool_reap(): recycle the memory of connections closed this turn. */
void	pool_reap(struct pool *p);

/* pool_close_idle(): close every idle connection (graceful stop). */
void	pool_close_idle(struct pool *p);

#endif /* POOL_H */
