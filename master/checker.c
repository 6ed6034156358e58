/*
 * checker.c: the checker process.  It runs the active health checks of
 * the upstreams that have a health group, and keeps their servers'
 * slots of the health table: consecutive results, the last outcome, and
 * the state the workers pick servers by.
 *
 * An "http" check is one HTTP/1.1 GET of health.path on a new
 * connection, with Host set to health.host (default: the server's
 * address) and Connection: close.  A response head with a status in
 * health.status within health.timeout is a success, and with
 * health.body, only once the body (its first CHECK_BODY bytes, as
 * received) matches that pattern; anything else (refused, reset, timed
 * out, malformed, another status, no match) is a failure.  A "tcp"
 * check succeeds when the connection opens.  A server goes down after
 * health.fall consecutive failures and up again after health.rise
 * consecutive successes; each change is logged.  Each server is checked
 * every health.interval; the first check waits a random part of
 * health.jitter, which spreads the checks of an upstream over it.  A
 * slot keeps its state across a reload and a restart of the checker.
 *
 * Signals: SIGTERM, SIGINT and SIGQUIT stop it (a check in flight has
 * nothing to finish); SIGUSR1 reopens the error log.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "ev.h"
#include "http1.h"
#include "io.h"
#include "log.h"
#include "role.h"
#include "store.h"
#include "sock.h"
#include "tls.h"

#define CHECK_HEAD	4096		/* a response head must fit */
#define CHECK_BODY	(16 * 1024)	/* body bytes health.body sees */
#define CHECK_HEADERS	64
#define JITTER_STEPS	8	/* first waits: jitter * 1/8 .. 8/8 */

struct checker;

struct check {
	struct conn	 c;		/* first; fd -1 between checks */
	struct ev_timer	 timer;		/* next check, or its timeout */
	struct checker	*ck;
	const struct config_upstream *up;
	const struct config_server *srv;
	struct shm_server *slot;
	struct ev_tq	*tq_interval, *tq_timeout;
	pcre2_code	*re;		/* health.body, or NULL */
	pcre2_match_data *md;
	SSL_SESSION	*session;	/* TLS: of the last good check */
	uint64_t	 started;	/* ms, loop clock */
	bool		 connecting;	/* connect(2) in progress */
	unsigned	 status;	/* of the head, while the body comes */
	size_t		 sent, len, head_len, size;
	char		*buf;		/* size bytes */
};

/* Per upstream: its queues of timers. */
struct up_tqs {
	struct ev_tq	 interval, timeout;
	struct ev_tq	 jitter[JITTER_STEPS];
	pcre2_code	*re;
};

struct checker {
	struct ev_loop	*loop;
	struct check	*checks;
	unsigned	 nchecks;
	struct up_tqs	*tqs;		/* one per upstream */
	/* the cache file, checked at start and after a worker died */
	struct store	*store;
	const struct shm *shm;
	struct shm	*wshm;		/* where the counts go */
	uint64_t	 cache_size;
	struct ev_tq	 tq_cache;
	struct ev_timer	 cache_timer;
	uint64_t	 restarts;	/* of workers, at the last check */
	bool		 cache_checked;	/* a pass was begun */
	uint64_t	 check_next;	/* the pass goes on from this slot */
	unsigned	 check_dropped;	/* in this pass so far */
};

#define CHECK_SLICE	(8 * 1024 * 1024)	/* bytes, between clock reads */
#define CHECK_MS	100		/* of each second, at most */

static void	check_start(struct ev_timer *t);

static struct check *
timer_check(struct ev_timer *t)
{
	return (struct check *)((char *)t - offsetof(struct check, timer));
}

/* One result: count it, change the state when rise or fall is reached. */
static void
check_done(struct check *k, bool ok, const char *fmt, ...)
{
	struct shm_server	*s = k->slot;
	const struct config_health *h = &k->up->health;
	char			 result[sizeof(s->result)];
	va_list			 ap;

	if (k->c.io.fd != -1) {
		(void)ev_del(k->ck->loop, &k->c.io);
		/* The next check resumes this session: no full handshake
		   every interval. */
		if (ok && k->c.ssl != NULL && !k->c.handshake) {
			SSL_SESSION_free(k->session);
			k->session = SSL_get1_session(k->c.ssl);
		}
		io_close(&k->c, false);
	}
	va_start(ap, fmt);
	vsnprintf(result, sizeof(result), fmt, ap);
	va_end(ap);
	/* The checker is the only writer of these fields. */
	memcpy(s->result, result, sizeof(result));
	shm_store(&s->checked, shm_now());
	shm_store(&s->checks, s->checks + 1);
	if (ok) {
		shm_store(&s->oks, s->oks + 1);
		shm_store(&s->fails, 0);
	} else {
		shm_store(&s->fails, s->fails + 1);
		shm_store(&s->oks, 0);
	}
	if (s->state == SHM_HEALTH_UP && s->fails >= h->fall) {
		shm_store(&s->state, SHM_HEALTH_DOWN);
		shm_store(&s->since, shm_now());
		log_warnx("upstream %s: server %s is down after %u failed "
		    "checks: %s", k->up->name, k->srv->address, s->fails,
		    result);
	} else if (s->state == SHM_HEALTH_DOWN && s->oks >= h->rise) {
		shm_store(&s->pfails, 0);
		shm_store(&s->recovered, shm_now());
		shm_store(&s->state, SHM_HEALTH_UP);
		shm_store(&s->since, shm_now());
		log_notice("upstream %s: server %s is up after %u good "
		    "checks: %s", k->up->name, k->srv->address, s->oks,
		    result);
	}
	ev_timer_stop(&k->timer);
	ev_timer_start(k->ck->loop, k->tq_interval, &k->timer, check_start);
}

static void
check_timeout(struct ev_timer *t)
{
	struct check *k = timer_check(t);

	check_done(k, false, "timed out after %u ms",
	    k->up->health.timeout_ms);
}

/* With health.body: whether the body so far matches. */
static bool
body_matches(struct check *k)
{
	return pcre2_match(k->re, (PCRE2_SPTR)(k->buf + k->head_len),
	    k->len - k->head_len, 0, 0, k->md, NULL) >= 0;
}

/* The head parsed: the status decides, or the body will. */
static void
check_head(struct check *k, const struct http1_msg *msg)
{
	const struct config_health *h = &k->up->health;

	k->status = msg->status;
	k->head_len = msg->head_len;
	if (msg->status < h->status_min || msg->status > h->status_max) {
		check_done(k, false, "HTTP %u, not %s", msg->status, h->status);
		return;
	}
	if (k->re == NULL) {
		check_done(k, true, "HTTP %u in %llu ms", msg->status,
		    (unsigned long long)(ev_now(k->ck->loop) - k->started));
		return;
	}
	if (body_matches(k))
		check_done(k, true, "HTTP %u, body matches, in %llu ms",
		    msg->status, (unsigned long long)(ev_now(k->ck->loop) -
		    k->started));
}

/* What the server sent, as far as it came: the head, then the body. */
static void
check_read(struct check *k)
{
	struct http1_header	hdrs[CHECK_HEADERS];
	struct http1_msg	msg;
	struct http1_limits	lim = { CHECK_HEAD, CHECK_HEAD, CHECK_HEADERS };
	ssize_t			n;
	int			rc;

	for (;;) {
		n = io_read(&k->c, k->buf + k->len, k->size - k->len);
		if (n == PT_AGAIN)
			return;
		if (n == -1) {
			check_done(k, false, "read: %s", errno == EPROTO ?
			    tls_error() : strerror(errno));
			return;
		}
		if (n == 0) {
			check_done(k, false, k->status == 0 ? "closed before "
			    "a response" : "HTTP %u, body does not match",
			    k->status);
			return;
		}
		k->len += (size_t)n;
		if (k->status != 0) {
			/* The body, for health.body. */
			if (body_matches(k))
				check_done(k, true, "HTTP %u, body matches",
				    k->status);
			else if (k->len == k->size)
				check_done(k, false, "HTTP %u, body does not "
				    "match", k->status);
			if (k->c.io.fd == -1 || k->len == k->size)
				return;
			continue;
		}
		http1_msg_init(&msg, hdrs, CHECK_HEADERS);
		rc = http1_parse_response(k->buf, pt_min(k->len, CHECK_HEAD),
		    &msg, &lim, HTTP1_M_GET);
		if (rc == PT_AGAIN && k->len < CHECK_HEAD)
			continue;
		if (rc != 0) {
			check_done(k, false, "bad response: %s",
			    rc == PT_AGAIN ? "head too large" : msg.error);
			return;
		}
		check_head(k, &msg);
		if (k->c.io.fd == -1)
			return;
	}
}

static void
check_io(struct ev_io *io, uint32_t events)
{
	struct check	*k = (struct check *)io;
	struct iovec	 iov;
	ssize_t		 n;
	int		 err, rc;

	if (io->fd == -1)	/* timed out earlier in this turn */
		return;
	if (k->up->health.type == CHECK_TCP) {
		if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		if ((err = sock_connect_result(io->fd)) != 0)
			check_done(k, false, "connect: %s", strerror(err));
		else
			check_done(k, true, "connected in %llu ms",
			    (unsigned long long)(ev_now(k->ck->loop) -
			    k->started));
		return;
	}
	io_events(&k->c, events);
	if (k->connecting) {
		if (!k->c.writable)
			return;
		if ((err = sock_connect_result(io->fd)) != 0) {
			check_done(k, false, "connect: %s", strerror(err));
			return;
		}
		k->connecting = false;
	}
	/* An upstream with tls is checked over TLS, as it is used. */
	if (k->c.handshake) {
		bool plain;

		if ((rc = io_handshake(&k->c, &plain)) == PT_AGAIN)
			return;
		if (rc == -1) {
			check_done(k, false, "TLS handshake: %s",
			    errno == ECONNRESET ? "closed by the server" :
			    tls_error());
			return;
		}
	}
	if (k->sent < k->len) {
		iov.iov_base = k->buf + k->sent;
		iov.iov_len = k->len - k->sent;
		if ((n = io_writev(&k->c, &iov, 1)) == PT_AGAIN)
			return;
		if (n == -1) {
			check_done(k, false, "write: %s", strerror(errno));
			return;
		}
		k->sent += (size_t)n;
		if (k->sent < k->len)
			return;
		k->len = 0;
	}
	check_read(k);
}

static void
check_start(struct ev_timer *t)
{
	struct check	*k = timer_check(t);
	bool		 in_progress;
	int		 n;

	const struct config_health *h = &k->up->health;

	k->started = ev_now(k->ck->loop);
	ev_timer_stop(&k->timer);
	ev_timer_start(k->ck->loop, k->tq_timeout, &k->timer, check_timeout);
	n = snprintf(k->buf, CHECK_HEAD, "GET %s HTTP/1.1\r\nHost: %s\r\n"
	    "User-Agent: portico-check/%s\r\nConnection: close\r\n\r\n",
	    h->path, h->host != NULL ? h->host : k->srv->address, PT_VERSION);
	if (n < 0 || n >= CHECK_HEAD) {
		check_done(k, false, "health.path too long");
		return;
	}
	k->len = (size_t)n;
	k->sent = 0;
	k->status = 0;
	k->head_len = 0;
	memset(&k->c, 0, sizeof(k->c));
	k->c.io.fn = check_io;
	if ((k->c.io.fd = sock_connect(&k->srv->addr, &in_progress)) == -1) {
		check_done(k, false, "connect: %s", strerror(errno));
		return;
	}
	k->connecting = in_progress;
	k->c.readable = k->c.writable = !in_progress;
	if (k->up->tls != NULL && k->up->health.type == CHECK_HTTP) {
		char	 name[256];
		SSL	*ssl;

		tls_client_name(k->up->tls, k->srv->address, name,
		    sizeof(name));
		if ((ssl = tls_client_ssl(k->up->tls->rt, name,
		    k->up->tls->sni, k->session)) == NULL ||
		    io_tls(&k->c, ssl) == -1) {
			check_done(k, false, "TLS: %s", tls_error());
			return;
		}
	}
	if (ev_add(k->ck->loop, &k->c.io) == -1) {
		check_done(k, false, "epoll_ctl: %s", strerror(errno));
		return;
	}
	if (!in_progress)
		check_io(&k->c.io, EPOLLOUT);
}

/* The first check of a server waits a random step of the jitter. */
static void
first_wait(struct ev_timer *t)
{
	check_start(t);
}

static void
checker_init(struct checker *ck, const struct role_ctx *ctx)
{
	const struct config	*cf = ctx->cf;
	unsigned		 u, i, j, n = 0;
	PCRE2_SIZE		 off;
	int			 err;

	memset(ck, 0, sizeof(*ck));
	if ((ck->loop = ev_loop_new(64)) == NULL)
		fatal("checker: event loop");
	for (u = 0; u < cf->nupstreams; u++)
		if (cf->upstreams[u].health.enabled)
			n += cf->upstreams[u].nservers;
	ck->checks = calloc(n, sizeof(*ck->checks));
	ck->tqs = calloc(cf->nupstreams, sizeof(*ck->tqs));
	if (ck->checks == NULL || ck->tqs == NULL)
		fatal("checker");
	srandom((unsigned)getpid());
	for (u = 0; u < cf->nupstreams; u++) {
		const struct config_upstream	*up = &cf->upstreams[u];
		struct up_tqs			*q = &ck->tqs[u];

		if (!up->health.enabled)
			continue;
		ev_tq_init(ck->loop, &q->interval, up->health.interval_ms);
		ev_tq_init(ck->loop, &q->timeout, up->health.timeout_ms);
		for (j = 0; j < JITTER_STEPS; j++)
			ev_tq_init(ck->loop, &q->jitter[j],
			    up->health.jitter_ms / JITTER_STEPS * (j + 1));
		/* The config check compiled it once already. */
		if (up->health.body != NULL && (q->re = pcre2_compile(
		    (PCRE2_SPTR)up->health.body, PCRE2_ZERO_TERMINATED, 0,
		    &err, &off, NULL)) == NULL)
			fatalx("upstream %s: health.body does not compile",
			    up->name);
		for (i = 0; i < up->nservers; i++) {
			struct check *k = &ck->checks[ck->nchecks++];

			k->c.io.fd = -1;
			k->c.io.fn = check_io;
			k->ck = ck;
			k->up = up;
			k->srv = &up->servers[i];
			k->slot = &ctx->shm->servers[up->servers[i].slot];
			k->tq_interval = &q->interval;
			k->tq_timeout = &q->timeout;
			k->re = q->re;
			k->size = CHECK_HEAD + (k->re != NULL ? CHECK_BODY : 0);
			if ((k->buf = malloc(k->size)) == NULL ||
			    (k->re != NULL && (k->md =
			    pcre2_match_data_create_from_pattern(k->re,
			    NULL)) == NULL))
				fatal("checker");
			if (up->health.jitter_ms != 0)
				ev_timer_start(ck->loop, &q->jitter[(unsigned)
				    random() % JITTER_STEPS], &k->timer,
				    first_wait);
			else
				check_start(&k->timer);
		}
	}
}

/*
 * Once a second: when the cache has not been checked yet, or a worker
 * was restarted since (it may have died in the middle of a write), a
 * pass checks every object the index points to and drops the bad ones,
 * at most CHECK_MS of each second, so that health checks keep their
 * times.  The workers go on meanwhile: a check is a few reads and a
 * compare-and-swap, and until it has come to an object made before the
 * file was opened, the first lookup of it checks it.
 */
static void
cache_tick(struct ev_timer *t)
{
	struct checker	*ck = (struct checker *)((char *)t -
			    offsetof(struct checker, cache_timer));
	uint64_t	 restarts = 0, objects, bytes, evicted, start;
	unsigned	 i;
	bool		 more = ck->check_next != 0;

	for (i = 0; i < SHM_MAX_PROCS; i++)
		if (shm_load(&ck->shm->procs[i].role) == SHM_ROLE_WORKER)
			restarts += shm_load(&ck->shm->procs[i].restarts);
	if (!ck->cache_checked || restarts != ck->restarts) {
		ck->cache_checked = true;
		ck->restarts = restarts;
		ck->check_next = 0;
		ck->check_dropped = 0;
		more = true;
	}
	start = (uint64_t)shm_now();
	while (more) {
		ck->check_dropped += store_check(ck->store, &ck->check_next,
		    CHECK_SLICE);
		more = ck->check_next != 0;
		if (!more && ck->check_dropped > 0)
			log_warnx("cache: %u damaged objects dropped",
			    ck->check_dropped);
		if ((uint64_t)shm_now() - start >= CHECK_MS)
			break;
	}
	/* For proxyctl status and /metrics. */
	store_count(ck->store, &objects, &bytes, &evicted);
	shm_store(&ck->wshm->cache_size, ck->cache_size);
	shm_store(&ck->wshm->cache_objects, objects);
	shm_store(&ck->wshm->cache_bytes, bytes);
	shm_store(&ck->wshm->cache_evicted, evicted);
	ev_timer_start(ck->loop, &ck->tq_cache, &ck->cache_timer, cache_tick);
}

struct sig_rt {
	struct ev_io	 io;
	struct checker	*ck;
};

static void
signal_io(struct ev_io *io, uint32_t events)
{
	struct signalfd_siginfo	si;
	struct checker		*ck = ((struct sig_rt *)io)->ck;

	(void)events;
	while (read(io->fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGUSR1)
			(void)log_reopen();
		else
			ev_stop(ck->loop);
	}
}

/* checker_main(): see role.h. */
int
checker_main(const struct role_ctx *ctx)
{
	struct checker	 ck;
	struct sig_rt	 sig;
	sigset_t	 set;
	unsigned	 i;

	checker_init(&ck, ctx);
	if ((ck.store = ctx->store) != NULL) {
		ck.shm = ck.wshm = ctx->shm;
		ck.cache_size = ctx->cf->cache.size;
		ev_tq_init(ck.loop, &ck.tq_cache, 1000);
		ev_timer_start(ck.loop, &ck.tq_cache, &ck.cache_timer,
		    cache_tick);
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGHUP);
	sig.io.fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sig.io.fd == -1)
		fatal("signalfd");
	sig.io.fn = signal_io;
	sig.ck = &ck;
	if (ev_add(ck.loop, &sig.io) == -1)
		fatal("epoll_ctl signalfd");
	/* The listening sockets are the workers' business. */
	for (i = 0; i < ctx->nlisteners; i++)
		close(ctx->listen_fds[i]);
	shm_store(&ctx->self->state, SHM_PROC_SERVING);
	ev_run(ck.loop);
	return 0;
}
