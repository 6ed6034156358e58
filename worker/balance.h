/*
 * balance.h: which server of an upstream gets a request, and what the
 * outcome of each try tells the health table.
 *
 * Servers are picked from the shared view of their health: a server
 * the checker or the workers marked down gets nothing (but, where no
 * active check is configured, one request every fail_timeout, to see
 * whether it is back), nor does one whose per-worker max_conns is
 * reached.  Among the others:
 *   round_robin  smooth weighted round robin, per worker
 *   least_conn   fewest requests in flight per unit of weight, counted
 *                over all workers in the health table
 *   random_two   the less loaded of two servers drawn at random
 *   hash         a consistent-hash ring (points per unit of weight) on
 *                the hash_key: removing one of N servers moves about
 *                1/N of the keys; a request without the key goes round
 *                robin
 * Backups are picked only when no other server is usable.  A server
 * that came back within its slow_start counts a weight that grows
 * linearly from 1 to its own.  With sticky_cookie, a request naming a
 * usable server in that cookie goes there, whatever the method.
 */
#ifndef BALANCE_H
#define BALANCE_H

#include "pool.h"

/* What the request offers the balancer. */
struct balance_key {
	uint64_t	 hash;		/* of the hash_key's value */
	uint64_t	 sticky;	/* the server id in the sticky cookie */
	bool		 has_hash, has_sticky;
};

/* balance_init(): the ring of a hash upstream; -1 when out of memory. */
int	balance_init(struct upstream_rt *u);

/* balance_free(): what balance_init() allocated. */
void	balance_free(struct upstream_rt *u);

/*
 * balance_pick(): a usable server for a try, none of tried[0..ntried),
 * or NULL when there is none.
 */
struct server_rt *balance_pick(struct upstream_rt *u,
	    const struct balance_key *k, struct server_rt *const *tried,
	    unsigned ntried, int64_t now);

/* balance_begin(), balance_end(): a try starts on s, or is over. */
void	balance_begin(struct server_rt *s);
void	balance_end(struct server_rt *s);

/*
 * balance_result(): what a try on s came to: ok (a response head, in ms
 * after the try began), or a failure (why, for the log).  max_fails
 * failures in a row take s down (unless it is alone in its upstream); a
 * success brings back a server that was down without active checks.
 */
void	balance_result(struct server_rt *s, bool ok, uint64_t ms,
	    const char *why, int64_t now);

/* balance_hash(): the hash of a key's bytes, for balance_key. */
uint64_t balance_hash(const void *p, size_t len);

#endif /* BALANCE_H */
