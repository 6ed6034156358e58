/*
 * listen.h: the listening sockets, bound by the master and inherited by
 * every worker it forks.
 */
#ifndef LISTEN_H
#define LISTEN_H

#include "config.h"

/*
 * listen_open(): bind every listener of cf.  Returns an array of
 * cf->nlisteners descriptors, or NULL after logging which address could
 * not be bound and why (nothing stays open then).
 */
int	*listen_open(const struct config *cf);

/* listen_close(): close and free what listen_open() returned. */
void	 listen_close(int *fds, unsigned n);

#endif /* LISTEN_H */
