/*
 * pool.c: upstream connections and their idle pools.  See pool.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>


#include "balance.h"
#include "log.h"
#include "pool.h"
#include "sock.h"
#include "tls.h"

/* A new session from a server: the next connection to it resumes it. */
static int
keep_session(SSL *ssl, SSL_SESSION *session)
{
	struct upconn *c = SSL_get_app_data(ssl);

	if (c == NULL || c->srv == NULL)
		return 0;
	SSL_SESSION_free(c->srv->session);
	c->srv->session = session;
	return 1;
}

/* pool_init(): see pool.h. */
int
pool_init(struct pool *p, struct ev_loop *loop, const struct config *cf,
    struct shm *shm)
{
	unsigned i, j;

	memset(p, 0, sizeof(*p));
	p->loop = loop;
	p->max_conns = cf->max_upstream_connections;
	p->nups = cf->nupstreams;
	if ((p->ups = calloc(p->nups, sizeof(*p->ups))) == NULL)
		return -1;
	for (i = 0; i < p->nups; i++) {
		struct upstream_rt *u = &p->ups[i];
		const struct config_upstream *cu = &cf->upstreams[i];

		u->cf = cu;
		u->pool = p;
		u->nservers = cu->nservers;
		u->servers = calloc(cu->nservers, sizeof(*u->servers));
		if (u->servers == NULL)
			return -1;
		for (j = 0; j < cu->nservers; j++) {
			struct server_rt *s = &u->servers[j];

			s->cf = &cu->servers[j];
			s->up = u;
			s->idle.next = s->idle.prev = &s->idle;
			s->health = &shm->servers[s->cf->slot];
			s->id = shm_server_key(cu->name, s->cf->address);
			addr_format(&s->cf->addr, s->name, sizeof(s->name));
			if (cu->tls != NULL)
				tls_client_name(cu->tls, s->cf->address,
				    s->tls_name, sizeof(s->tls_name));
		}
		if (cu->tls != NULL)
			tls_client_on_session(cu->tls->rt, keep_session);
		ev_tq_init(loop, &u->tq_connect, cu->connect_timeout_ms);
		ev_tq_init(loop, &u->tq_read, cu->read_timeout_ms);
		ev_tq_init(loop, &u->tq_write, cu->write_timeout_ms);
		ev_tq_init(loop, &u->tq_idle, cu->keepalive_timeout_ms);
		if (balance_init(u) == -1)
			return -1;
	}
	return 0;
}

static void
list_unlink(struct upconn *c)
{
	c->prev->next = c->next;
	c->next->prev = c->prev;
	c->next = c->prev = NULL;
}

static void
upconn_close(struct pool *p, struct upconn *c)
{
	if (c->dead)
		return;
	ev_timer_stop(&c->timer);
	io_close(&c->k, false);
	c->dead = 1;
	c->owner = NULL;
	p->nconns--;
	c->srv->nconns--;
	/* Freed at the end of the turn: an event of this turn may name it. */
	c->next = p->dead;
	p->dead = c;
}

/* An idle connection has an event: the origin closed it or talks out of
   turn.  Either way it can no longer carry a request. */
static void
idle_event(struct pool *p, struct upconn *c)
{
	char	byte;
	ssize_t	n;

	/* In TLS, a record that is not data (a session ticket) is taken
	   here and the connection stays. */
	if ((n = io_read(&c->k, &byte, 1)) == PT_AGAIN)
		return;
	if (n > 0)
		log_warnx("upstream %s sent data on an idle connection",
		    c->srv->name);
	c->srv->nidle--;
	list_unlink(c);
	upconn_close(p, c);
}

static void
upconn_io(struct ev_io *io, uint32_t events)
{
	struct upconn *c = (struct upconn *)io;

	if (c->dead)
		return;
	io_events(&c->k, events);
	if (c->owner != NULL)
		c->owner_fn(c->owner);
	else if (c->k.readable)
		idle_event(c->srv->up->pool, c);
}

/* pool_get_idle(): see pool.h. */
struct upconn *
pool_get_idle(struct pool *p, struct server_rt *s, void *owner,
    void (*owner_fn)(void *))
{
	struct upconn *c;

	(void)p;
	if (s->nidle == 0)
		return NULL;
	c = s->idle.next;
	list_unlink(c);
	s->nidle--;
	ev_timer_stop(&c->timer);
	c->owner = owner;
	c->owner_fn = owner_fn;
	return c;
}

/* pool_connect(): see pool.h. */
struct upconn *
pool_connect(struct pool *p, struct server_rt *s, void *owner,
    void (*owner_fn)(void *))
{
	const struct config_upstream_tls *tls;
	struct upconn	*c;
	SSL		*ssl;
	bool		 in_progress;
	int		 fd;

	if (p->nconns >= p->max_conns) {
		errno = ENOSPC;
		return NULL;
	}
	if (s->cf->max_conns != 0 && s->nconns >= s->cf->max_conns) {
		errno = EBUSY;
		return NULL;
	}
	if ((fd = sock_connect(&s->cf->addr, &in_progress)) == -1)
		return NULL;
	if ((c = p->free) != NULL)
		p->free = c->next;
	else if ((c = malloc(sizeof(*c))) == NULL) {
		close(fd);
		return NULL;
	}
	memset(c, 0, sizeof(*c));
	c->k.io.fd = fd;
	c->k.io.fn = upconn_io;
	c->srv = s;
	c->owner = owner;
	c->owner_fn = owner_fn;
	c->connecting = in_progress;
	c->k.writable = !in_progress;
	tls = s->up->cf->tls;
	errno = 0;
	if ((tls != NULL && ((ssl = tls_client_ssl(tls->rt, s->tls_name,
	    tls->sni, s->session)) == NULL || io_tls(&c->k, ssl) == -1)) ||
	    ev_add(p->loop, &c->k.io) == -1) {
		int saved = errno != 0 ? errno : ENOMEM;

		(void)tls_error();	/* emptied */
		io_close(&c->k, false);
		c->next = p->free;
		p->free = c;
		errno = saved;
		return NULL;
	}
	if (c->k.ssl != NULL)
		SSL_set_app_data(c->k.ssl, c);	/* for keep_session() */
	p->nconns++;
	s->nconns++;
	return c;
}

static void
idle_timeout(struct ev_timer *t)
{
	struct upconn *c = (struct upconn *)((char *)t -
	    offsetof(struct upconn, timer));

	c->srv->nidle--;
	list_unlink(c);
	upconn_close(c->srv->up->pool, c);
}

/* pool_release(): see pool.h. */
void
pool_release(struct pool *p, struct upconn *c, bool reusable)
{
	struct server_rt	*s = c->srv;
	struct upconn		*oldest;

	c->owner = NULL;
	ev_timer_stop(&c->timer);
	if (!reusable || s->up->cf->keepalive == 0) {
		upconn_close(p, c);
		return;
	}
	if (s->nidle >= s->up->cf->keepalive) {
		oldest = s->idle.prev;
		list_unlink(oldest);
		s->nidle--;
		upconn_close(p, oldest);
	}
	c->next = s->idle.next;
	c->prev = &s->idle;
	s->idle.next->prev = c;
	s->idle.next = c;
	s->nidle++;
	ev_timer_start(p->loop, &s->up->tq_idle, &c->timer, idle_timeout);
}

/* pool_reap(): see pool.h. */
void
pool_reap(struct pool *p)
{
	struct upconn *c;

	while ((c = p->dead) != NULL) {
		p->dead = c->next;
		c->next = p->free;
		p->free = c;
	}
}

/* pool_close_idle(): see pool.h. */
void
pool_close_idle(struct pool *p)
{
	unsigned i, j;

	for (i = 0; i < p->nups; i++)
		for (j = 0; j < p->ups[i].nservers; j++) {
			struct server_rt *s = &p->ups[i].servers[j];

			while (s->nidle > 0) {
				struct upconn *c = s->idle.next;

				list_unlink(c);
				s->nidle--;
				upconn_close(p, c);
			}
		}
}
