/*
 * balance.c: picking servers, and passive health.  See balance.h.
 */
#include <stdlib.h>
#include <unistd.h>

#include "balance.h"
#include "log.h"

#define RING_POINTS	40	/* ring points per unit of weight */

struct ring_point {
	uint64_t	 hash;
	unsigned	 server;
};

/* splitmix64's finalizer: spreads FNV's bits over the whole word. */
static uint64_t
mix(uint64_t h)
{
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	return h ^ (h >> 31);
}

/* balance_hash(): see balance.h.  FNV-1a, mixed. */
uint64_t
balance_hash(const void *p, size_t len)
{
	const uint8_t	*b = p;
	uint64_t	 h = 14695981039346656037ULL;

	while (len-- > 0)
		h = (h ^ *b++) * 1099511628211ULL;
	return mix(h);
}

static int
point_cmp(const void *a, const void *b)
{
	const struct ring_point *x = a, *y = b;

	return x->hash < y->hash ? -1 : x->hash > y->hash;
}

/* balance_init(): see balance.h.  The points of a server hang on its
   address, not its place in the list: the same server keeps its keys. */
int
balance_init(struct upstream_rt *u)
{
	char		 text[ADDR_TEXT_MAX + 16];
	unsigned	 i, j, n = 0;
	int		 len;

	u->xs = (uint64_t)getpid() * 0x9e3779b97f4a7c15ULL | 1;
	if (u->cf->balance != BALANCE_HASH)
		return 0;
	for (i = 0; i < u->nservers; i++)
		if (!u->servers[i].cf->backup)
			n += RING_POINTS * u->servers[i].cf->weight;
	if ((u->ring = calloc(n, sizeof(*u->ring))) == NULL)
		return -1;
	for (i = 0; i < u->nservers; i++) {
		const struct config_server *cs = u->servers[i].cf;

		if (cs->backup)
			continue;
		for (j = 0; j < RING_POINTS * cs->weight; j++) {
			len = snprintf(text, sizeof(text), "%s#%u",
			    cs->address, j);
			u->ring[u->nring].hash = balance_hash(text,
			    (size_t)len);
			u->ring[u->nring++].server = i;
		}
	}
	qsort(u->ring, u->nring, sizeof(*u->ring), point_cmp);
	return 0;
}

/* balance_free(): see balance.h. */
void
balance_free(struct upstream_rt *u)
{
	free(u->ring);
	u->ring = NULL;
	u->nring = 0;
}

static uint64_t
xorshift(struct upstream_rt *u)
{
	u->xs ^= u->xs << 13;
	u->xs ^= u->xs >> 7;
	u->xs ^= u->xs << 17;
	return u->xs;
}

static bool
was_tried(const struct server_rt *s, struct server_rt *const *tried,
    unsigned ntried)
{
	unsigned i;

	for (i = 0; i < ntried; i++)
		if (tried[i] == s)
			return true;
	return false;
}

/*
 * Whether s may take a request now.  A server down without active
 * checks gets one request each fail_timeout: the worker that moves
 * retry_at on sends it.
 */
static bool
usable(struct server_rt *s, int64_t now)
{
	struct shm_server	*h = s->health;
	int64_t			 at;

	if (s->cf->max_conns != 0 && s->nconns >= s->cf->max_conns &&
	    s->nidle == 0)
		return false;
	if (shm_load(&h->state) != SHM_HEALTH_DOWN)
		return true;
	if (s->up->cf->health.enabled)
		return false;
	at = shm_load(&h->retry_at);
	return now >= at && __atomic_compare_exchange_n(&h->retry_at, &at,
	    now + (int64_t)s->up->cf->fail_timeout_ms, false,
	    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

/* The weight now: ramping up after a recovery, within slow_start. */
static int
weight(const struct server_rt *s, int64_t now)
{
	int64_t	since = shm_load(&s->health->recovered);
	int64_t	ramp = s->cf->slow_start_ms;
	int	w = (int)s->cf->weight;

	if (ramp == 0 || since == 0 || now - since >= ramp)
		return w;
	return (int)pt_max(1, (size_t)((int64_t)w * (now - since) / ramp));
}

/* Smooth weighted round robin over the usable servers of one kind. */
static struct server_rt *
pick_rr(struct upstream_rt *u, bool backup, struct server_rt *const *tried,
    unsigned ntried, int64_t now)
{
	struct server_rt	*best = NULL;
	unsigned		 i;
	int			 total = 0, w;

	for (i = 0; i < u->nservers; i++) {
		struct server_rt *s = &u->servers[i];

		if (s->cf->backup != backup || was_tried(s, tried, ntried) ||
		    !usable(s, now))
			continue;
		w = weight(s, now);
		s->current += w;
		total += w;
		if (best == NULL || s->current > best->current)
			best = s;
	}
	if (best != NULL)
		best->current -= total;
	return best;
}

/* In-flight requests per unit of weight, scaled to stay integral. */
static uint64_t
load(const struct server_rt *s, int64_t now)
{
	return ((uint64_t)shm_load(&s->health->active) + 1) * 65536 /
	    (uint64_t)weight(s, now);
}

/* The least loaded; ties go round, from a place that moves. */
static struct server_rt *
pick_least(struct upstream_rt *u, struct server_rt *const *tried,
    unsigned ntried, int64_t now)
{
	struct server_rt	*best = NULL;
	uint64_t		 best_load = 0, l;
	unsigned		 k;

	u->start = (u->start + 1) % u->nservers;
	for (k = 0; k < u->nservers; k++) {
		struct server_rt *s = &u->servers[(u->start + k) %
		    u->nservers];

		if (s->cf->backup || was_tried(s, tried, ntried))
			continue;
		l = load(s, now);
		if (best != NULL && l >= best_load)
			continue;
		if (!usable(s, now))
			continue;
		best = s;
		best_load = l;
	}
	return best;
}

/* Two drawn at random among the usable: the less loaded. */
static struct server_rt *
pick_two(struct upstream_rt *u, struct server_rt *const *tried,
    unsigned ntried, int64_t now)
{
	struct server_rt	*a = NULL, *b = NULL, *s;
	unsigned		 i, n = u->nservers, first;

	/* A random start and a walk find two usable ones in one pass
	   whatever the number down, where retries of draws might not. */
	first = (unsigned)(xorshift(u) % n);
	for (i = 0; i < n && b == NULL; i++) {
		s = &u->servers[(first + i) % n];
		if (s->cf->backup || was_tried(s, tried, ntried) ||
		    !usable(s, now))
			continue;
		if (a == NULL) {
			a = s;
			/* jump ahead at random, so that b is not always
			   a's neighbour */
			i += (unsigned)(xorshift(u) % n) / 2;
		} else
			b = s;
	}
	if (b == NULL)
		return a;
	return load(b, now) < load(a, now) ? b : a;
}

/* The first usable server clockwise from the key on the ring. */
static struct server_rt *
pick_hash(struct upstream_rt *u, uint64_t hash,
    struct server_rt *const *tried, unsigned ntried, int64_t now)
{
	size_t	lo = 0, hi = u->nring, k;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (u->ring[mid].hash < hash)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (k = 0; k < u->nring; k++) {
		struct server_rt *s = &u->servers[u->ring[(lo + k) %
		    u->nring].server];

		if (!was_tried(s, tried, ntried) && usable(s, now))
			return s;
	}
	return NULL;
}

/* balance_pick(): see balance.h. */
struct server_rt *
balance_pick(struct upstream_rt *u, const struct balance_key *k,
    struct server_rt *const *tried, unsigned ntried, int64_t now)
{
	struct server_rt	*s = NULL;
	unsigned		 i;

	if (k->has_sticky)
		for (i = 0; i < u->nservers; i++) {
			s = &u->servers[i];
			if (s->id == k->sticky &&
			    !was_tried(s, tried, ntried) && usable(s, now))
				return s;
		}
	switch (u->cf->balance) {
	case BALANCE_LEAST_CONN:
		s = pick_least(u, tried, ntried, now);
		break;
	case BALANCE_RANDOM_TWO:
		s = pick_two(u, tried, ntried, now);
		break;
	case BALANCE_HASH:
		s = k->has_hash ? pick_hash(u, k->hash, tried, ntried, now) :
		    pick_rr(u, false, tried, ntried, now);
		break;
	default:
		s = pick_rr(u, false, tried, ntried, now);
		break;
	}
	if (s == NULL)
		s = pick_rr(u, true, tried, ntried, now);
	return s;
}

/* balance_begin(): see balance.h. */
void
balance_begin(struct server_rt *s)
{
	shm_add(&s->health->active, 1);
	shm_add(&s->health->requests, 1);
}

/* balance_end(): see balance.h. */
void
balance_end(struct server_rt *s)
{
	__atomic_fetch_sub(&s->health->active, 1, __ATOMIC_RELAXED);
}

/* balance_result(): see balance.h. */
void
balance_result(struct server_rt *s, bool ok, uint64_t ms, const char *why,
    int64_t now)
{
	struct shm_server		*h = s->health;
	const struct config_upstream	*cu = s->up->cf;
	uint32_t			 state, n;

	if (ok) {
		shm_add(&h->responses, 1);
		shm_add(&h->resp_ms, ms);
		if (shm_load(&h->pfails) != 0)
			shm_store(&h->pfails, 0);
		state = SHM_HEALTH_DOWN;
		/* Back without a checker: this request was its probe. */
		if (!cu->health.enabled &&
		    shm_load(&h->state) == SHM_HEALTH_DOWN &&
		    __atomic_compare_exchange_n(&h->state, &state,
		    SHM_HEALTH_UP, false, __ATOMIC_RELAXED,
		    __ATOMIC_RELAXED)) {
			shm_store(&h->since, now);
			shm_store(&h->recovered, now);
			log_notice("upstream %s: server %s is up again: it "
			    "answered", cu->name, s->cf->address);
		}
		return;
	}
	shm_add(&h->failures, 1);
	n = shm_add(&h->pfails, 1) + 1;
	state = SHM_HEALTH_UP;
	/* A lone server is never taken out by its failures: there is no
	   other to send to, and a 503 helps nobody more than a try. */
	if (cu->max_fails != 0 && n >= cu->max_fails && cu->nservers > 1 &&
	    __atomic_compare_exchange_n(&h->state, &state, SHM_HEALTH_DOWN,
	    false, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
		shm_store(&h->since, now);
		shm_store(&h->retry_at, now + (int64_t)cu->fail_timeout_ms);
		shm_store(&h->oks, 0);
		log_warnx("upstream %s: server %s is down after %u failed "
		    "requests: %s", cu->name, s->cf->address, n, why);
	}
}
