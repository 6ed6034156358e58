/*
 * checker.c: the checker process.  It runs the active health checks of
 * the upstreams that have a health group, and keeps their servers'
 * slots of the health table: consecutive results, the last outcome, and
 * the state the workers pick servers by.
 *
 * A check is one HTTP/1.1 GET of health.path on a new connection, with
 * Host set to the server's address and Connection: close.  A response
 * head with a status of 200 to 399 within health.timeout is a success;
 * anything else (refused, reset, timed out, malformed, another status)
 * a failure.  A server goes down after health.fall consecutive failures
 * and up again after health.rise consecutive successes; each change is
 * logged.  Each server is checked every health.interval, the first time
 * as the checker starts.  A slot keeps its state across a reload and a
 * restart of the checker.
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

#include "ev.h"
#include "http1.h"
#include "log.h"
#include "role.h"
#include "sock.h"

#define CHECK_BUF	4096	/* a response head must fit */
#define CHECK_HEADERS	64

struct checker;

struct check {
	struct ev_io	 io;		/* fd -1 between checks */
	struct ev_timer	 timer;		/* next check, or its timeout */
	struct checker	*ck;
	const struct config_upstream *up;
	const struct config_server *srv;
	struct shm_server *slot;
	struct ev_tq	*tq_interval, *tq_timeout;
	uint64_t	 started;	/* ms, loop clock */
	size_t		 sent, len;
	char		 buf[CHECK_BUF];
};

struct checker {
	struct ev_loop	*loop;
	struct check	*checks;
	unsigned	 nchecks;
	struct ev_tq	*tqs;		/* interval, timeout per upstream */
};

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

	if (k->io.fd != -1) {
		(void)ev_del(k->ck->loop, &k->io);
		close(k->io.fd);
		k->io.fd = -1;
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

/* The response head, as far as it came: complete, or not yet. */
static void
check_read(struct check *k)
{
	struct http1_header	hdrs[CHECK_HEADERS];
	struct http1_msg	msg;
	struct http1_limits	lim = { CHECK_BUF, CHECK_BUF, CHECK_HEADERS };
	ssize_t			n;
	int			rc;

	for (;;) {
		n = read(k->io.fd, k->buf + k->len, sizeof(k->buf) - k->len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		if (n == -1) {
			check_done(k, false, "read: %s", strerror(errno));
			return;
		}
		if (n == 0) {
			check_done(k, false, "closed before a response");
			return;
		}
		k->len += (size_t)n;
		http1_msg_init(&msg, hdrs, CHECK_HEADERS);
		rc = http1_parse_response(k->buf, k->len, &msg, &lim,
		    HTTP1_M_GET);
		if (rc == PT_AGAIN && k->len < sizeof(k->buf))
			continue;
		if (rc != 0) {
			check_done(k, false, "bad response: %s",
			    rc == PT_AGAIN ? "head too large" : msg.error);
			return;
		}
		check_done(k, msg.status >= 200 && msg.status < 400,
		    "HTTP %u in %llu ms", msg.status, (unsigned long long)
		    (ev_now(k->ck->loop) - k->started));
		return;
	}
}

static void
check_io(struct ev_io *io, uint32_t events)
{
	struct check	*k = (struct check *)io;
	ssize_t		 n;
	int		 err;

	if (io->fd == -1)	/* timed out earlier in this turn */
		return;
	if (k->sent < k->len) {
		if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		if (k->sent == 0 && (err = sock_connect_result(io->fd)) != 0) {
			check_done(k, false, "connect: %s", strerror(err));
			return;
		}
		n = write(io->fd, k->buf + k->sent, k->len - k->sent);
		if (n == -1 && errno == EAGAIN)
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

	k->started = ev_now(k->ck->loop);
	ev_timer_start(k->ck->loop, k->tq_timeout, &k->timer, check_timeout);
	n = snprintf(k->buf, sizeof(k->buf), "GET %s HTTP/1.1\r\nHost: %s\r\n"
	    "User-Agent: portico-check/%s\r\nConnection: close\r\n\r\n",
	    k->up->health.path, k->srv->address, PT_VERSION);
	if (n < 0 || (size_t)n >= sizeof(k->buf)) {
		check_done(k, false, "health.path too long");
		return;
	}
	k->len = (size_t)n;
	k->sent = 0;
	if ((k->io.fd = sock_connect(&k->srv->addr, &in_progress)) == -1) {
		check_done(k, false, "connect: %s", strerror(errno));
		return;
	}
	if (ev_add(k->ck->loop, &k->io) == -1) {
		check_done(k, false, "epoll_ctl: %s", strerror(errno));
		return;
	}
	if (!in_progress)
		check_io(&k->io, EPOLLOUT);
}

static void
checker_init(struct checker *ck, const struct role_ctx *ctx)
{
	const struct config	*cf = ctx->cf;
	unsigned		 u, i, n = 0;

	memset(ck, 0, sizeof(*ck));
	if ((ck->loop = ev_loop_new(64)) == NULL)
		fatal("checker: event loop");
	for (u = 0; u < cf->nupstreams; u++)
		if (cf->upstreams[u].health.enabled)
			n += cf->upstreams[u].nservers;
	ck->checks = calloc(n, sizeof(*ck->checks));
	ck->tqs = calloc(cf->nupstreams * 2, sizeof(*ck->tqs));
	if (ck->checks == NULL || ck->tqs == NULL)
		fatal("checker");
	for (u = 0; u < cf->nupstreams; u++) {
		const struct config_upstream *up = &cf->upstreams[u];

		if (!up->health.enabled)
			continue;
		ev_tq_init(ck->loop, &ck->tqs[2 * u], up->health.interval_ms);
		ev_tq_init(ck->loop, &ck->tqs[2 * u + 1],
		    up->health.timeout_ms);
		for (i = 0; i < up->nservers; i++) {
			struct check *k = &ck->checks[ck->nchecks++];

			k->io.fd = -1;
			k->io.fn = check_io;
			k->ck = ck;
			k->up = up;
			k->srv = &up->servers[i];
			k->slot = &ctx->shm->servers[up->servers[i].slot];
			k->tq_interval = &ck->tqs[2 * u];
			k->tq_timeout = &ck->tqs[2 * u + 1];
		}
	}
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
	for (i = 0; i < ck.nchecks; i++)
		check_start(&ck.checks[i].timer);
	shm_store(&ctx->self->state, SHM_PROC_SERVING);
	ev_run(ck.loop);
	return 0;
}
