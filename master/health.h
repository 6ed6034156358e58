/*
 * health.h: the slots of the health table (struct shm_server, in the
 * shared memory) that the servers of a generation use.  A server keeps
 * its slot, and so its health, across a reload when its upstream name
 * and address stay: generations count their references to a slot, and
 * the last one to leave frees it.
 */
#ifndef HEALTH_H
#define HEALTH_H

#include <stdio.h>

#include "config.h"
#include "shm.h"

/*
 * health_assign(): give every server of cf its slot (config_server.slot):
 * the slot of the same upstream name and address if a live generation
 * has one (its state carries over), else a free one.  -1, with the
 * reason on errfp, when the table is too small.
 */
int	health_assign(struct shm *shm, struct config *cf, FILE *errfp);

/* health_release(): cf's generation has left: drop its references. */
void	health_release(struct shm *shm, const struct config *cf);

#endif /* HEALTH_H */
