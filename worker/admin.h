/*
 * admin.h: the admin listener's answers, from the shared memory:
 *   GET /status   every process and server, as JSON
 *   GET /metrics  the same figures, in the Prometheus text format
 * Clients outside admin.allow get 403; other paths 404, other methods
 * 405.
 */
#ifndef ADMIN_H
#define ADMIN_H

#include "client.h"

/* admin_serve(): answer x, a request on the admin listener. */
void	admin_serve(struct exchange *x, const char *path, size_t path_len);

#endif /* ADMIN_H */
