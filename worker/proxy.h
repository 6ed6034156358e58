/*
 * proxy.h: forwarding a request to its upstream and relaying the answer.
 *
 * proxy_start() takes an exchange whose request head is parsed and whose
 * route names an upstream; from then on proxy_run() moves it along on
 * every event of either connection, until it calls client_done() or
 * client_error().
 */
#ifndef PROXY_H
#define PROXY_H

#include "client.h"

/* proxy_start(): pick a server, take or open a connection, send. */
void	proxy_start(struct exchange *x);

/* proxy_connect(): a connection to x->srv for the try, pooled or new,
   then on with the request. */
void	proxy_connect(struct exchange *x);

/* proxy_run(): progress after an event on the client or the upstream. */
void	proxy_run(struct exchange *x);

/*
 * proxy_release(): the exchange ends (done, failed, client gone): give
 * the upstream connection back, reusable or not.
 */
void	proxy_release(struct exchange *x, bool reusable);

/*
 * proxy_read_upstream(): read from the upstream into x->uin.  0 when
 * bytes came, PT_AGAIN when none are there, -1 at the end (*err: 0 for a
 * close, else the errno).
 */
int	proxy_read_upstream(struct exchange *x, int *err);

/*
 * proxy_reclaim_body_room(): forget the client bytes after the request
 * head that were already sent upstream, making room to read more.
 */
void	proxy_reclaim_body_room(struct exchange *x);

#endif /* PROXY_H */
