/*
 * listen.h: the listening sockets, bound by the master and inherited by
 * every worker it forks.  A reload keeps the sockets of the listeners
 * that stay, so that no connection waiting in their queues is lost.
 */
#ifndef LISTEN_H
#define LISTEN_H

#include "config.h"

/*
 * listen_open(): the sockets of cf's listeners, one per listener, in an
 * array of cf->nlisteners.  A listener whose address is in old (with its
 * sockets old_fds) keeps that socket; the others are bound.  old may be
 * NULL.  Returns NULL after writing which address could not be bound and
 * why to errfp; the sockets it bound are closed then.
 */
int	*listen_open(const struct config *cf, const struct config *old,
	    const int *old_fds, FILE *errfp);

#endif /* LISTEN_H */
