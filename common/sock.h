/*
 * sock.h: the socket calls of the proxy, non-blocking and close-on-exec.
 */
#ifndef SOCK_H
#define SOCK_H

#include "addr.h"

/*
 * sock_listen(): a socket bound to a and listening with backlog.  IPv6
 * sockets are v6-only, so "[::]:80" and "0.0.0.0:80" can both be bound.
 * Returns the descriptor (blocking mode off), or -1 with errno set.
 */
int	sock_listen(const struct addr *a, unsigned backlog);

/*
 * sock_connect(): start a connection to a.  Returns the descriptor;
 * *in_progress says whether the connection is still being made (wait
 * for it to become writable, then sock_connect_result()).  -1 on error.
 */
int	sock_connect(const struct addr *a, bool *in_progress);

/* sock_connect_result(): 0 when connected, else the errno of failure. */
int	sock_connect_result(int fd);

#endif /* SOCK_H */
