/*
 * role.h: what the master hands a child process it forks, and the entry
 * points of the child roles.  The master knows the roles only through
 * this header (STYLE.md: master/ and worker/ never include each other).
 */
#ifndef ROLE_H
#define ROLE_H

#include "config.h"
#include "shm.h"

struct store;

struct role_ctx {
	const struct config *cf;
	const int	*listen_fds;	/* one per cf->listeners[i] */
	unsigned	 nlisteners;
	unsigned	 index;		/* worker number, 0.. */
	unsigned	 generation;	/* config generation, 1.. */
	struct shm	*shm;		/* the whole segment */
	struct shm_proc	*self;		/* this process's slot in it */
	struct store	*store;		/* the cache, mapped; NULL: none */
};

/* worker_main(): serve clients until told to stop; returns exit status. */
int	worker_main(const struct role_ctx *ctx);

/*
 * checker_main(): run the active health checks of cf's upstreams and
 * keep the health table until told to stop; returns exit status.
 */
int	checker_main(const struct role_ctx *ctx);

#endif /* ROLE_H */
