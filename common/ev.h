/*
 * ev.h: the event loop of a process: epoll for descriptors, timer queues
 * for timeouts, a clock read once per turn.
 *
 * Descriptors are registered once, edge-triggered, for both directions
 * (ev_add()); the owner keeps "readable"/"writable" flags from the events
 * and clears them when a read or write comes back short.  So a connection
 * costs one epoll_ctl() in its life, not one per request.  Listening
 * sockets are level-triggered and exclusive (ev_add_listener()).
 *
 * Timers: every timeout of one kind has the same duration, so timers that
 * share a duration are kept in one FIFO queue (struct ev_tq) that is
 * always sorted by deadline.  Starting, restarting and stopping a timer is
 * O(1) list work; the loop looks only at the head of each queue.
 */
#ifndef EV_H
#define EV_H

#include <sys/epoll.h>

#include "pt.h"

struct ev_loop;
struct ev_io;

/* Called with the epoll event bits (EPOLLIN, EPOLLOUT, EPOLLERR, ...). */
typedef void	(*ev_io_fn)(struct ev_io *io, uint32_t events);

/* A descriptor watched by the loop; embed it in the owner's struct. */
struct ev_io {
	int		 fd;
	ev_io_fn	 fn;
};

struct ev_timer;
typedef void	(*ev_timer_fn)(struct ev_timer *t);

/* A timer, embedded in its owner; zeroed means stopped. */
struct ev_timer {
	struct ev_timer	*next, *prev;
	struct ev_tq	*tq;		/* NULL when stopped */
	uint64_t	 deadline;	/* ms on the loop's clock */
	ev_timer_fn	 fn;
};

/* A queue of timers of one duration. */
struct ev_tq {
	struct ev_timer	 head;		/* list head: head.next is oldest */
	uint32_t	 ms;		/* the duration */
	struct ev_tq	*next_tq;	/* the loop's list of queues */
};

/* ev_loop_new(): a loop for up to max_events events per wait. */
struct ev_loop *ev_loop_new(unsigned max_events);
void	ev_loop_free(struct ev_loop *loop);

/* ev_add(): watch io->fd, edge-triggered, for input and output. */
int	ev_add(struct ev_loop *loop, struct ev_io *io);

/* ev_add_listener(): watch a listening socket, level, exclusive wakeup. */
int	ev_add_listener(struct ev_loop *loop, struct ev_io *io);

/* ev_del(): stop watching (close(2) does it too, for a plain fd). */
int	ev_del(struct ev_loop *loop, struct ev_io *io);

/*
 * ev_tq_init(): a queue of timers of ms milliseconds, known to the loop.
 * Queues live as long as the loop.
 */
void	ev_tq_init(struct ev_loop *loop, struct ev_tq *tq, uint32_t ms);

/* ev_timer_start(): (re)start t to fire tq->ms from now, calling fn. */
void	ev_timer_start(struct ev_loop *loop, struct ev_tq *tq,
	    struct ev_timer *t, ev_timer_fn fn);

/* ev_timer_stop(): stop t; stopping a stopped timer is allowed. */
static inline void
ev_timer_stop(struct ev_timer *t)
{
	if (t->tq == NULL)
		return;
	t->prev->next = t->next;
	t->next->prev = t->prev;
	t->next = t->prev = NULL;
	t->tq = NULL;
}

static inline bool
ev_timer_active(const struct ev_timer *t)
{
	return t->tq != NULL;
}

/* ev_now(): milliseconds on a monotonic clock, read once per loop turn. */
uint64_t ev_now(const struct ev_loop *loop);

/* ev_time(): the wall clock (seconds), read once per loop turn. */
time_t	ev_time(const struct ev_loop *loop);

/* ev_update_time(): read the clocks again (after a long computation). */
void	ev_update_time(struct ev_loop *loop);

/* ev_run(): wait for events and timers and dispatch them until ev_stop(). */
void	ev_run(struct ev_loop *loop);
void	ev_stop(struct ev_loop *loop);

/* ev_set_hook(): fn(arg) runs once per loop turn, after the events. */
void	ev_set_hook(struct ev_loop *loop, void (*fn)(void *), void *arg);

#endif /* EV_H */
