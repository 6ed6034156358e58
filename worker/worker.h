/*
 * worker.h: the context of one worker process, passed to every stage of
 * the request path: its event loop, configuration, buffers, timer queues,
 * upstream pools and access log.  Nothing in it is shared with another
 * process but its own slot in the shared memory, where it counts.
 */
#ifndef WORKER_H
#define WORKER_H

#include "buf.h"
#include "config.h"
#include "ev.h"
#include "pool.h"
#include "shm.h"

struct client;
struct exchange;
struct accesslog;
struct store;

struct listener_rt {
	struct ev_io	 io;
	struct worker	*w;
	unsigned	 index;		/* in cf->listeners */
	bool		 watched;	/* in the epoll set */
};

struct worker {
	struct ev_loop	*loop;
	const struct config *cf;
	unsigned	 index;

	struct buf_pool	 bufs;		/* every I/O buffer */
	struct pool	 pool;		/* upstream connections */
	struct accesslog *alog;		/* NULL: no access log */

	struct listener_rt *listeners;
	unsigned	 nlisteners;
	bool		 accepting;
	struct ev_timer	 accept_timer;	/* accept paused: EMFILE */
	struct ev_tq	 tq_accept_pause;

	/* timeouts of the client side, one queue per kind */
	struct ev_tq	 tq_header, tq_body, tq_keepalive, tq_send;
	struct ev_tq	 tq_tunnel, tq_shutdown, tq_cache_poll;
	struct ev_timer	 shutdown_timer;

	/* the cache, mapped; NULL: none */
	struct store	*store;
	uint64_t	 cache_held;	/* bytes of bodies held to store */

	unsigned	 nclients;
	bool		 draining;	/* SIGQUIT: finish and exit */

	/* this worker's slot in the shared memory, and what it counts */
	struct shm	*shm;
	struct shm_proc	*self;
	pid_t		 master;		/* our parent, while it lives */
	pid_t		 pid;			/* ours */
	uint64_t	 requests, accepted;

	/* recycled objects; freed ones wait in the graveyard until the
	   end of the loop turn, in case an event of the same turn names
	   them */
	struct client	*free_clients, *dead_clients;
	struct exchange	*free_exchanges;
	unsigned	 nfree_clients, nfree_exchanges;
};

/* worker_client_closed(): a client went away; accept again if paused. */
void	worker_client_closed(struct worker *w);

#endif /* WORKER_H */
