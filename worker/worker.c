/*
 * worker.c: a worker process: its event loop, the listening sockets it
 * accepts on, its signals, and its graceful end.
 *
 * Signals come through a signalfd watched by the loop:
 *   SIGTERM, SIGINT  stop now
 *   SIGQUIT          stop accepting, finish what is in flight (bounded
 *                    by shutdown_timeout), then exit; sent by the
 *                    master to an older generation after a reload, and
 *                    by the kernel when the master dies
 *                    (PR_SET_PDEATHSIG)
 *   SIGUSR1          reopen the logs
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "accesslog.h"
#include "client.h"
#include "log.h"
#include "role.h"
#include "worker.h"

/* Connections taken per wakeup of a listener: a burst is served without
   starving the connections already open. */
#define ACCEPT_BATCH	64
#define ACCEPT_BATCH_TLS 4
#define ACCEPT_PAUSE_MS	100	/* out of descriptors: try again then */

struct sig_rt {
	struct ev_io	 io;
	struct worker	*w;
};

static void	accept_resume(struct ev_timer *t);

static void
watch_listeners(struct worker *w, bool on)
{
	unsigned i;

	for (i = 0; i < w->nlisteners; i++) {
		struct listener_rt *l = &w->listeners[i];

		if (l->watched == on)
			continue;
		if (on ? ev_add_listener(w->loop, &l->io) :
		    ev_del(w->loop, &l->io)) {
			log_warn("epoll_ctl listener %u", i);
			continue;
		}
		l->watched = on;
	}
	w->accepting = on;
}

static void
accept_io(struct ev_io *io, uint32_t events)
{
	struct listener_rt	*l = (struct listener_rt *)io;
	struct worker		*w = l->w;
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	int			 fd, i;

	(void)events;
	/* A TLS connection starts with a handshake of about 0.3 ms of CPU:
	   a few at a time, so that the requests of connections already
	   open are not kept waiting behind a batch of them (the listener
	   is level-triggered: the rest come at the next turn). */
	for (i = 0; i < (w->cf->listeners[l->index].tls != NULL ?
	    ACCEPT_BATCH_TLS : ACCEPT_BATCH); i++) {
		if (w->nclients >= w->cf->max_connections) {
			/* Full: the kernel queues new ones until we can. */
			watch_listeners(w, false);
			return;
		}
		len = sizeof(ss);
		fd = accept4(io->fd, (struct sockaddr *)&ss, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR || errno == ECONNABORTED)
				return;
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				log_warn("accept: pausing for %d ms",
				    ACCEPT_PAUSE_MS);
				watch_listeners(w, false);
				ev_timer_start(w->loop, &w->tq_accept_pause,
				    &w->accept_timer, accept_resume);
				return;
			}
			log_warn("accept");
			return;
		}
		client_accept(w, l->index, fd, (struct sockaddr *)&ss, len);
	}
}

static void
accept_resume(struct ev_timer *t)
{
	struct worker *w = (struct worker *)((char *)t -
	    offsetof(struct worker, accept_timer));

	if (!w->draining)
		watch_listeners(w, true);
}

/* worker_client_closed(): see worker.h. */
void
worker_client_closed(struct worker *w)
{
	if (w->draining) {
		if (w->nclients == 0)
			ev_stop(w->loop);
		return;
	}
	if (!w->accepting && !ev_timer_active(&w->accept_timer) &&
	    w->nclients < w->cf->max_connections)
		watch_listeners(w, true);
}

static void
shutdown_timeout(struct ev_timer *t)
{
	struct worker *w = (struct worker *)((char *)t -
	    offsetof(struct worker, shutdown_timer));

	log_warnx("shutdown_timeout passed with %u connections open: "
	    "closing them", w->nclients);
	if (w->alog != NULL)
		accesslog_flush(w->alog);
	exit(0);
}

/* Close every idle keep-alive connection: they wait on one queue. */
static void
close_idle_clients(struct worker *w)
{
	struct ev_timer *t;

	while ((t = w->tq_keepalive.head.next) != &w->tq_keepalive.head) {
		ev_timer_stop(t);
		t->fn(t);	/* the keep-alive timeout closes it */
	}
}

/*
 * Stop accepting.  Connections in flight finish.  After a reload, an
 * idle keep-alive connection stays open until its next request, which
 * is answered with Connection: close (closing it now could cross a
 * request the client is sending), or until keepalive_timeout; all of it
 * within shutdown_timeout.  When the whole program stops (or the master
 * is gone), nobody will serve that next request: idle ones close now.
 */
static void
start_draining(struct worker *w)
{
	unsigned i;

	if (w->draining)
		return;
	w->draining = true;
	shm_store(&w->self->state, SHM_PROC_DRAINING);
	watch_listeners(w, false);
	/* A wakeup for a connection queued just before could have come to
	   this worker alone: take what is queued now, so that nothing
	   waits in the queue for the next arrival to wake another one. */
	for (i = 0; i < w->nlisteners; i++)
		accept_io(&w->listeners[i].io, EPOLLIN);
	/* Then let go of our copies: the master and a new generation hold
	   theirs across a reload; on a stop, the last copy closed refuses
	   new connections rather than queueing them for nobody. */
	for (i = 0; i < w->nlisteners; i++) {
		close(w->listeners[i].io.fd);
		w->listeners[i].io.fd = -1;
	}
	if (shm_load(&w->shm->stopping) || getppid() != w->master)
		close_idle_clients(w);
	if (w->nclients == 0) {
		ev_stop(w->loop);
		return;
	}
	ev_timer_start(w->loop, &w->tq_shutdown, &w->shutdown_timer,
	    shutdown_timeout);
}

static void
signal_io(struct ev_io *io, uint32_t events)
{
	struct sig_rt		*s = (struct sig_rt *)io;
	struct signalfd_siginfo	 si;

	(void)events;
	while (read(io->fd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			ev_stop(s->w->loop);
			s->w->draining = true;
			break;
		case SIGQUIT:
			start_draining(s->w);
			break;
		case SIGUSR1:
			(void)log_reopen();
			if (s->w->alog != NULL)
				accesslog_reopen(s->w->alog);
			break;
		}
	}
}

/* After each turn: recycle what was closed during it. */
static void
turn_end(void *arg)
{
	struct worker *w = arg;

	client_reap(w);
	pool_reap(&w->pool);
}

static void
worker_init(struct worker *w, const struct role_ctx *ctx)
{
	const struct config	*cf = ctx->cf;
	unsigned		 i;

	memset(w, 0, sizeof(*w));
	w->cf = cf;
	w->index = ctx->index;
	w->self = ctx->self;
	w->shm = ctx->shm;
	w->store = ctx->store;
	w->master = getppid();
	w->pid = getpid();
	if ((w->loop = ev_loop_new(512)) == NULL)
		fatal("worker %u: event loop", ctx->index);
	/* A head must fit one buffer whole. */
	buf_pool_init(&w->bufs, (uint32_t)pt_max(cf->buffer_size,
	    cf->max_header_size + 1024), 256);
	if (pool_init(&w->pool, w->loop, cf, ctx->shm) == -1)
		fatal("worker %u: upstream pools", ctx->index);
	ev_tq_init(w->loop, &w->tq_header, cf->client_header_timeout_ms);
	ev_tq_init(w->loop, &w->tq_body, cf->client_body_timeout_ms);
	ev_tq_init(w->loop, &w->tq_keepalive, cf->keepalive_timeout_ms);
	ev_tq_init(w->loop, &w->tq_send, cf->send_timeout_ms);
	ev_tq_init(w->loop, &w->tq_tunnel, cf->tunnel_timeout_ms);
	ev_tq_init(w->loop, &w->tq_shutdown, cf->shutdown_timeout_ms);
	ev_tq_init(w->loop, &w->tq_cache_poll, 5);
	ev_tq_init(w->loop, &w->tq_accept_pause, ACCEPT_PAUSE_MS);
	if (cf->access_log.path != NULL)
		w->alog = accesslog_open(w->loop, &cf->access_log);
	w->nlisteners = ctx->nlisteners;
	w->listeners = calloc(w->nlisteners, sizeof(*w->listeners));
	if (w->listeners == NULL)
		fatal("worker %u: listeners", ctx->index);
	for (i = 0; i < w->nlisteners; i++) {
		w->listeners[i].io.fd = ctx->listen_fds[i];
		w->listeners[i].io.fn = accept_io;
		w->listeners[i].w = w;
		w->listeners[i].index = i;
	}
	ev_set_hook(w->loop, turn_end, w);
}

/* worker_main(): see role.h. */
int
worker_main(const struct role_ctx *ctx)
{
	struct worker	w;
	struct sig_rt	sig;
	sigset_t	set;

	worker_init(&w, ctx);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)
		fatal("sigprocmask");
	sig.io.fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sig.io.fd == -1)
		fatal("signalfd");
	sig.io.fn = signal_io;
	sig.w = &w;
	if (ev_add(w.loop, &sig.io) == -1)
		fatal("epoll_ctl signalfd");
	watch_listeners(&w, true);
	shm_store(&w.self->state, SHM_PROC_SERVING);
	ev_run(w.loop);
	if (w.alog != NULL)
		accesslog_close(w.alog);
	return 0;
}
