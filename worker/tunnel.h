/*
 * tunnel.h: after a 101 (Switching Protocols) answer to a request that
 * asked to upgrade, the client and upstream connections become one
 * two-way tunnel: bytes are relayed as they come, one buffer a direction,
 * until either side closes or nothing moves for tunnel_timeout.
 */
#ifndef TUNNEL_H
#define TUNNEL_H

#include "client.h"

/* tunnel_run(): relay what can be relayed; PT_AGAIN, or -1 when ended. */
int	tunnel_run(struct exchange *x);

/* tunnel_end(): the tunnel is over: log it, close both sides; -1. */
int	tunnel_end(struct exchange *x);

#endif /* TUNNEL_H */
