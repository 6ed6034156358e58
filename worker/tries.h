/*
 * tries.h: the tries of a request: which server each goes to, and what a
 * failed one leads to.
 *
 * A request offers the balancer a key (its hash_key, its sticky cookie).
 * A try that fails before a byte of the response reached the client
 * counts against its server (balance_result()); it goes to another
 * server when the upstream's next_upstream names the failure, tries and
 * next_upstream_timeout are not used up, the whole request can be sent
 * again, and a request that is not idempotent was not sent (unless
 * non_idempotent is named).  Otherwise the client gets the status.
 */
#ifndef TRIES_H
#define TRIES_H

#include "client.h"

/* tries_idempotent(): RFC 9110 9.2.2: may m be sent again unasked? */
bool	tries_idempotent(const struct http1_msg *m);

/* tries_key(): what the request of x offers the balancer of cu. */
void	tries_key(struct exchange *x, const struct config_upstream *cu);

/* tries_next(): pick the server of the next try; -1 if none is usable. */
int	tries_next(struct exchange *x);

/* tries_none(): no server to try: 503 with Retry-After. */
void	tries_none(struct exchange *x);

/*
 * tries_failed(): the try failed (kind: NEXT_ERROR, NEXT_TIMEOUT, ...;
 * what: why, for the log) before a byte reached the client: another
 * server, or status to the client.
 */
void	tries_failed(struct exchange *x, uint32_t kind, unsigned status,
	    const char *what);

/*
 * tries_answered(): a final response head came: a success for the
 * server (unless a 5xx with fail_on_5xx); a 502, 503 or 504 that
 * next_upstream names is retried elsewhere, and then -1.
 */
int	tries_answered(struct exchange *x);

#endif /* TRIES_H */
