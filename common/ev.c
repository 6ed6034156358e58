/*
 * ev.c: the event loop.  See ev.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "ev.h"
#include "log.h"

struct ev_loop {
	int			 epfd;
	bool			 stop;
	uint64_t		 now_ms;
	time_t			 now_sec;
	struct ev_tq		*queues;
	unsigned		 max_events;
	void			(*hook)(void *);
	void			*hook_arg;
	struct epoll_event	 events[];
};

/* ev_loop_new(): see ev.h. */
struct ev_loop *
ev_loop_new(unsigned max_events)
{
	struct ev_loop	*loop;

	if (max_events == 0)
		max_events = 1;
	loop = calloc(1, sizeof(*loop) +
	    max_events * sizeof(struct epoll_event));
	if (loop == NULL)
		return NULL;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd == -1) {
		free(loop);
		return NULL;
	}
	loop->max_events = max_events;
	ev_update_time(loop);
	return loop;
}

/* ev_loop_free(): see ev.h. */
void
ev_loop_free(struct ev_loop *loop)
{
	if (loop == NULL)
		return;
	close(loop->epfd);
	free(loop);
}

/* ev_add(): see ev.h. */
int
ev_add(struct ev_loop *loop, struct ev_io *io)
{
	struct epoll_event ev;

	ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
	ev.data.ptr = io;
	return epoll_ctl(loop->epfd, EPOLL_CTL_ADD, io->fd, &ev);
}

/* ev_add_listener(): see ev.h. */
int
ev_add_listener(struct ev_loop *loop, struct ev_io *io)
{
	struct epoll_event ev;

	/* EPOLLEXCLUSIVE: one worker wakes per connection, not all. */
	ev.events = EPOLLIN | EPOLLEXCLUSIVE;
	ev.data.ptr = io;
	return epoll_ctl(loop->epfd, EPOLL_CTL_ADD, io->fd, &ev);
}

/* ev_del(): see ev.h. */
int
ev_del(struct ev_loop *loop, struct ev_io *io)
{
	return epoll_ctl(loop->epfd, EPOLL_CTL_DEL, io->fd, NULL);
}

/* ev_tq_init(): see ev.h. */
void
ev_tq_init(struct ev_loop *loop, struct ev_tq *tq, uint32_t ms)
{
	tq->head.next = tq->head.prev = &tq->head;
	tq->head.tq = NULL;
	tq->ms = ms;
	tq->next_tq = loop->queues;
	loop->queues = tq;
}

/* ev_timer_start(): see ev.h. */
void
ev_timer_start(struct ev_loop *loop, struct ev_tq *tq, struct ev_timer *t,
    ev_timer_fn fn)
{
	ev_timer_stop(t);
	t->fn = fn;
	t->tq = tq;
	t->deadline = loop->now_ms + tq->ms;
	/* Append: every timer in the queue has the same duration, so the
	   newest always has the latest deadline and the queue stays sorted. */
	t->prev = tq->head.prev;
	t->next = &tq->head;
	tq->head.prev->next = t;
	tq->head.prev = t;
}

/* ev_now(): see ev.h. */
uint64_t
ev_now(const struct ev_loop *loop)
{
	return loop->now_ms;
}

/* ev_time(): see ev.h. */
time_t
ev_time(const struct ev_loop *loop)
{
	return loop->now_sec;
}

/* ev_update_time(): see ev.h. */
void
ev_update_time(struct ev_loop *loop)
{
	struct timespec ts;

	/* The coarse clock is read from the vDSO without a system call;
	   its few milliseconds of resolution are plenty for timeouts. */
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	loop->now_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec /
	    1000000;
	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	loop->now_sec = ts.tv_sec;
}

/* ev_stop(): see ev.h. */
void
ev_stop(struct ev_loop *loop)
{
	loop->stop = true;
}

/* ev_set_hook(): see ev.h. */
void
ev_set_hook(struct ev_loop *loop, void (*fn)(void *), void *arg)
{
	loop->hook = fn;
	loop->hook_arg = arg;
}

/* Milliseconds until the earliest deadline, or -1 for none. */
static int
next_timeout(struct ev_loop *loop)
{
	struct ev_tq	*tq;
	uint64_t	 first = UINT64_MAX;

	for (tq = loop->queues; tq != NULL; tq = tq->next_tq)
		if (tq->head.next != &tq->head &&
		    tq->head.next->deadline < first)
			first = tq->head.next->deadline;
	if (first == UINT64_MAX)
		return -1;
	if (first <= loop->now_ms)
		return 0;
	/* One extra millisecond: the coarse clock must pass the deadline. */
	return (int)pt_min(first - loop->now_ms + 1, 60000);
}

/* Fire every timer whose deadline has passed. */
static void
run_timers(struct ev_loop *loop)
{
	struct ev_tq	*tq;
	struct ev_timer	*t;

	for (tq = loop->queues; tq != NULL; tq = tq->next_tq) {
		while ((t = tq->head.next) != &tq->head &&
		    t->deadline <= loop->now_ms) {
			ev_timer_stop(t);
			t->fn(t);
		}
	}
}

/* ev_run(): see ev.h. */
void
ev_run(struct ev_loop *loop)
{
	int		 i, n;
	struct ev_io	*io;

	loop->stop = false;
	while (!loop->stop) {
		n = epoll_wait(loop->epfd, loop->events, (int)loop->max_events,
		    next_timeout(loop));
		ev_update_time(loop);
		if (n == -1) {
			if (errno != EINTR)
				fatal("epoll_wait");
			n = 0;
		}
		for (i = 0; i < n; i++) {
			io = loop->events[i].data.ptr;
			io->fn(io, loop->events[i].events);
		}
		run_timers(loop);
		if (loop->hook != NULL)
			loop->hook(loop->hook_arg);
	}
}
