/*
 * client.c: client connections: read and parse each request head, choose
 * its route, answer it locally or hand it to proxy.c, log it, and go on
 * with the next request of the connection.  See client.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>


#include "accesslog.h"
#include "admin.h"
#include "cache.h"
#include "addr.h"
#include "client.h"
#include "fwd.h"
#include "log.h"
#include "proxy.h"
#include "route.h"
#include "status.h"
#include "tls.h"

static void	client_io(struct ev_io *io, uint32_t events);
static void	client_timeout(struct ev_timer *t);
static void	read_head(struct client *c);
static void	linger_read(struct client *c);
static void	linger(struct client *c);
static void	handshake(struct client *c);
static void	client_close(struct client *c);
static void	exchange_free(struct worker *w, struct exchange *x);

static struct client *
timer_client(struct ev_timer *t)
{
	return (struct client *)((char *)t - offsetof(struct client, timer));
}

/* client_timer(): see client.h. */
void
client_timer(struct client *c, struct ev_tq *tq)
{
	if (c->timer.tq != tq)
		ev_timer_start(c->w->loop, tq, &c->timer, client_timeout);
}

/* client_log_prefix(): see client.h. */
const char *
client_log_prefix(const struct client *c)
{
	static char	text[ADDR_TEXT_MAX + 8];
	struct addr	a;
	char		name[ADDR_TEXT_MAX];

	memset(&a, 0, sizeof(a));
	memcpy(&a.sa, &c->peer, sizeof(c->peer));
	a.len = sizeof(c->peer);
	addr_format(&a, name, sizeof(name));
	snprintf(text, sizeof(text), "client %s", name);
	return text;
}

/* client_accept(): see client.h. */
void
client_accept(struct worker *w, unsigned listener, int fd,
    const struct sockaddr *peer, socklen_t peer_len)
{
	const struct config_tls	*tls;
	struct client		*c;
	SSL			*ssl;

	if ((c = w->free_clients) != NULL) {
		w->free_clients = c->next;
		w->nfree_clients--;
	} else if ((c = malloc(sizeof(*c))) == NULL) {
		log_warn("accept: no memory for a connection");
		close(fd);
		return;
	}
	memset(c, 0, sizeof(*c));
	c->k.io.fd = fd;
	c->k.io.fn = client_io;
	c->w = w;
	c->listener = (uint16_t)listener;
	memcpy(&c->peer, peer, pt_min(peer_len, sizeof(c->peer)));
	tls = w->cf->listeners[listener].tls;
	if ((tls != NULL && ((ssl = tls_server_ssl(tls->rt)) == NULL ||
	    io_tls(&c->k, ssl) == -1)) || ev_add(w->loop, &c->k.io) == -1) {
		log_warnx("accept: no memory for a connection: %s",
		    tls != NULL ? tls_error() : strerror(errno));
		io_close(&c->k, false);
		c->next = w->free_clients;
		w->free_clients = c;
		w->nfree_clients++;
		return;
	}
	w->nclients++;
	shm_store(&w->self->connections, w->nclients);
	shm_store(&w->self->accepted, ++w->accepted);
	ev_timer_start(w->loop, &w->tq_header, &c->timer, client_timeout);
	/* The listener defers accept until data arrives: read it now
	   rather than wait for an event that says so. */
	c->k.readable = 1;
	c->k.writable = 1;
	if (c->k.handshake)
		handshake(c);
	else
		read_head(c);
}

/* client_internal(): see client.h. */
void
client_internal(struct exchange *from)
{
	struct worker	*w = from->w;
	struct client	*c;

	if ((c = w->free_clients) != NULL) {
		w->free_clients = c->next;
		w->nfree_clients--;
	} else if ((c = malloc(sizeof(*c))) == NULL)
		return;
	memset(c, 0, sizeof(*c));
	c->k.io.fd = -1;
	c->w = w;
	c->listener = from->c->listener;
	c->peer = from->c->peer;
	c->internal = 1;
	c->eof = 1;		/* nothing to read, nobody to linger for */
	if ((c->in = buf_get(&w->bufs)) == NULL ||
	    from->req.head_len > buf_room(c->in)) {
		buf_put(&w->bufs, c->in);
		free(c);
		return;
	}
	memcpy(buf_tail(c->in), buf_head(from->c->in), from->req.head_len);
	buf_commit(c->in, from->req.head_len);
	w->nclients++;
	read_head(c);
}

/*
 * The TLS handshake, within client_header_timeout with the request head
 * that follows.  Plain HTTP sent to a TLS port gets a plain 400 that
 * says so, as that is what its client can read.
 */
static void
handshake(struct client *c)
{
	static const char plain_400[] = "HTTP/1.1 400 Bad Request\r\n"
	    "Content-Type: text/plain\r\nContent-Length: 40\r\n"
	    "Connection: close\r\n\r\n"
	    "This port speaks HTTPS, not plain HTTP.\n";
	bool plain;
	int rc;

	if ((rc = io_handshake(&c->k, &plain)) == 0) {
		if (c->k.readable)
			read_head(c);
		return;
	}
	if (rc == PT_AGAIN)
		return;
	if (plain) {
		log_info("%s: plain HTTP on a TLS port", client_log_prefix(c));
		(void)tls_error();	/* emptied */
		if (send(c->k.io.fd, plain_400, sizeof(plain_400) - 1,
		    MSG_NOSIGNAL) > 0) {
			linger(c);
			return;
		}
	} else
		log_info("%s: TLS handshake failed: %s",
		    client_log_prefix(c), errno == ECONNRESET ?
		    "closed by the client" : tls_error());
	c->eof = 1;
	client_close(c);
}

/* The one place a connection ends. */
static void
client_close(struct client *c)
{
	struct worker *w = c->w;

	if (c->dead)
		return;
	if (c->x != NULL) {
		proxy_release(c->x, false);
		exchange_free(w, c->x);
		c->x = NULL;
	}
	buf_put(&w->bufs, c->in);
	c->in = NULL;
	ev_timer_stop(&c->timer);
	io_close(&c->k, !c->eof);
	c->dead = 1;
	c->next = w->dead_clients;
	w->dead_clients = c;
	w->nclients--;
	shm_store(&w->self->connections, w->nclients);
	worker_client_closed(w);
}

/* client_reap(): see client.h. */
void
client_reap(struct worker *w)
{
	struct client *c;

	while ((c = w->dead_clients) != NULL) {
		w->dead_clients = c->next;
		/* Keep a bounded number for reuse; the rest go back. */
		if (w->nfree_clients >= 1024) {
			free(c);
			continue;
		}
		c->next = w->free_clients;
		w->free_clients = c;
		w->nfree_clients++;
	}
}

static void
client_io(struct ev_io *io, uint32_t events)
{
	struct client *c = (struct client *)io;

	if (c->dead)
		return;
	io_events(&c->k, events);
	if (c->lingering) {
		if (c->k.readable)
			linger_read(c);
	} else if (c->k.handshake) {
		/* Only when what it waited for came (not the first
		   EPOLLOUT of a new socket while it waits to read). */
		if (c->k.readable && c->k.writable)
			handshake(c);
	} else if (c->x != NULL)
		client_run(c->x);
	else if (c->k.readable)
		read_head(c);
}

/* client_writev(): see client.h. */
ssize_t
client_writev(struct client *c, struct iovec *iov, int n)
{
	ssize_t	len = 0;
	int	i;

	if (c->internal) {
		for (i = 0; i < n; i++)
			len += (ssize_t)iov[i].iov_len;
		return len;
	}
	return io_writev(&c->k, iov, n);
}

static struct exchange *
exchange_new(struct client *c)
{
	struct worker		*w = c->w;
	const struct config	*cf = w->cf;
	struct exchange		*x;
	size_t			 size;

	if ((x = w->free_exchanges) != NULL) {
		w->free_exchanges = x->next_free;
		w->nfree_exchanges--;
	} else {
		size = sizeof(*x) + 2 * (size_t)cf->max_headers *
		    sizeof(struct http1_header);
		if ((x = malloc(size)) == NULL)
			return NULL;
	}
	memset(x, 0, sizeof(*x));
	x->c = c;
	x->w = w;
	x->keepalive = 1;
	x->t_start = ev_now(w->loop);
	http1_msg_init(&x->req, x->hdrs, cf->max_headers);
	return x;
}

static void
exchange_free(struct worker *w, struct exchange *x)
{
	cache_end(x);
	buf_put(&w->bufs, x->out);
	buf_put(&w->bufs, x->uin);
	x->out = x->uin = NULL;
	free(x->owned_body);
	x->owned_body = NULL;
	if (w->nfree_exchanges >= 1024) {
		free(x);
		return;
	}
	x->next_free = w->free_exchanges;
	w->free_exchanges = x;
	w->nfree_exchanges++;
}

/* Write a local response (error page or return route) until it is out. */
static void
write_local(struct exchange *x)
{
	struct iovec	iov[2];
	ssize_t		n;

	for (;;) {
		iov[0].iov_base = buf_head(x->out);
		iov[0].iov_len = buf_len(x->out);
		iov[1].iov_base = (void *)x->local_body;
		iov[1].iov_len = x->local_len;
		if (iov[0].iov_len + iov[1].iov_len == 0)
			break;
		n = client_writev(x->c, iov, 2);
		if (n == PT_AGAIN) {
			ev_timer_start(x->w->loop, &x->w->tq_send,
			    &x->c->timer, client_timeout);
			return;
		}
		if (n == -1) {
			client_close(x->c);
			return;
		}
		x->resp_started = 1;
		if ((size_t)n >= buf_len(x->out)) {
			n -= buf_len(x->out);
			buf_reset(x->out);
			x->local_body += n;
			x->local_len -= (size_t)n;
		} else
			buf_consume(x->out, (uint32_t)n);
	}
	client_done(x);
}

/*
 * Answer x with a response of our own.  A request body we will not read
 * would be taken for the next request: such a connection is closed after.
 */
/* client_respond(): see client.h. */
void
client_respond(struct exchange *x, unsigned status, const char *type,
    const char *body, size_t body_len, const char *location)
{
	struct worker *w = x->w;

	if (x->req.body != HTTP1_BODY_NONE && !x->req_body_done)
		x->keepalive = 0;
	if (x->out == NULL && (x->out = buf_get(&w->bufs)) == NULL) {
		client_close(x->c);
		return;
	}
	buf_reset(x->out);
	x->status = (uint16_t)status;
	if (fwd_local_head(x, x->out, status, type, body_len,
	    location) == -1) {
		client_close(x->c);
		return;
	}
	x->local_body = x->req.method == HTTP1_M_HEAD ? "" : body;
	x->local_len = x->req.method == HTTP1_M_HEAD ? 0 : body_len;
	x->body_bytes = x->local_len;
	x->state = X_LOCAL;
	ev_timer_stop(&x->c->timer);
	write_local(x);
}

/* client_error(): see client.h. */
void
client_error(struct exchange *x, unsigned status, const char *reason)
{
	static char	 page[512];
	const char	*phrase = status_reason((int)status);
	int		 n;

	proxy_release(x, false);
	/* stale-if-error: a stored response may answer instead */
	if (x->cx != NULL && cache_on_error(x, status) == 0) {
		log_warnx("%s: %s; a stale response from the cache answered",
		    client_log_prefix(x->c), reason);
		return;
	}
	log_warnx("%s: %u %s: %s", client_log_prefix(x->c), status, phrase,
	    reason);
	if (x->resp_started) {
		client_close(x->c);
		return;
	}
	/* After a malformed or refused request the stream cannot be
	   trusted; after a 404 or an upstream failure it can. */
	if (x->req.head_len == 0 || status == 400 || status == 408 ||
	    status == 413 || status == 414 || status == 431 ||
	    status == 501 || status == 505)
		x->keepalive = 0;
	n = snprintf(page, sizeof(page), "<html>\r\n<head><title>%u %s"
	    "</title></head>\r\n<body>\r\n<h1>%u %s</h1>\r\n<hr>portico\r\n"
	    "</body>\r\n</html>\r\n", status, phrase, status, phrase);
	client_respond(x, status, "text/html", page, (size_t)n, NULL);
}

/*
 * Discard what the client still sends, until it closes, for at most
 * twice max_body_size bytes (a refused body may be larger than the limit)
 * and client_body_timeout between two reads.
 */
static void
linger_read(struct client *c)
{
	const struct config	*cf = c->w->cf;
	char			 junk[16384];
	ssize_t			 n;

	for (;;) {
		n = read(c->k.io.fd, junk, sizeof(junk));
		if (n > 0) {
			c->discarded += (uint64_t)n;
			if (cf->max_body_size != 0 &&
			    c->discarded / 2 > cf->max_body_size)
				break;
			continue;
		}
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			c->k.readable = 0;
			ev_timer_start(c->w->loop, &c->w->tq_body, &c->timer,
			    client_timeout);
			return;
		}
		if (n == -1 && errno == EINTR)
			continue;
		break;
	}
	client_close(c);
}

/*
 * A connection closed while the client may still be sending (a body we
 * did not read, bytes after a refused request): closing at once would
 * make the kernel answer them with a reset, which can destroy our
 * response before the client reads it.  Shut our side, then drain.
 */
static void
linger(struct client *c)
{
	buf_put(&c->w->bufs, c->in);
	c->in = NULL;
	io_shutdown(&c->k);
	if (shutdown(c->k.io.fd, SHUT_WR) == -1) {
		client_close(c);
		return;
	}
	c->lingering = 1;
	c->discarded = 0;
	linger_read(c);
}

/* client_done(): see client.h. */
void
client_done(struct exchange *x)
{
	struct client	*c = x->c;
	struct worker	*w = c->w;
	bool		 keep, unread;

	if (w->alog != NULL && x->status != 0)
		accesslog_request(w->alog, x);
	if (x->status != 0) {
		shm_store(&w->self->requests, ++w->requests);
		if (x->status >= 100 && x->status < 600) {
			uint64_t *n = &w->self->status[x->status / 100 - 1];

			shm_store(n, shm_load(n) + 1);	/* ours alone */
		}
	}
	/* A worker that drains keeps a connection whose response promised
	   keep-alive: its next request is answered with Connection: close,
	   rather than closing under a client that may be sending it. */
	keep = x->keepalive && !c->eof;
	/* What follows this request in the buffer is the next one. */
	unread = x->next_off == 0;
	if (x->next_off != 0)
		buf_consume(c->in, x->next_off - c->in->start);
	else
		buf_reset(c->in);
	unread |= buf_len(c->in) > 0;
	c->x = NULL;
	exchange_free(w, x);
	if (!keep) {
		if (unread && !c->eof)
			linger(c);
		else
			client_close(c);
		return;
	}
	c->nrequests++;
	if (buf_len(c->in) == 0) {
		buf_put(&w->bufs, c->in);
		c->in = NULL;
		ev_timer_start(w->loop, &w->tq_keepalive, &c->timer,
		    client_timeout);
		if (!c->k.readable)
			return;
	} else
		ev_timer_start(w->loop, &w->tq_header, &c->timer,
		    client_timeout);
	read_head(c);
}

static void
client_timeout(struct ev_timer *t)
{
	struct client	*c = timer_client(t);
	struct exchange	*x = c->x;

	if (x == NULL) {
		/* Idle, or connected and silent: nothing to answer. */
		client_close(c);
		return;
	}
	switch (x->state) {
	case X_HEAD:
		if (buf_len(c->in) == 0) {
			client_close(c);
			return;
		}
		client_error(x, 408, "timed out reading the request head");
		return;
	case X_SEND:
		client_error(x, 408, "timed out reading the request body");
		return;
	default:
		log_warnx("%s: timed out sending the response",
		    client_log_prefix(c));
		client_close(c);
		return;
	}
}

/*
 * A site that is HTTPS only: a request over plain HTTP is sent to the
 * same host and target over HTTPS, 301 for GET and HEAD, 308 (which keeps
 * the method and body) for the others.
 */
static void
redirect_https(struct exchange *x, const char *host, size_t host_len,
    const char *path, size_t path_len)
{
	unsigned	 port = x->route->site->https_port;
	size_t		 size = host_len + path_len + 32;
	char		*loc;

	if (host_len == 0) {
		client_error(x, 400, "no Host to redirect to HTTPS");
		return;
	}
	/* The Location lives as long as the exchange: owned_body. */
	if ((loc = malloc(size)) == NULL) {
		client_error(x, 500, "no memory for a redirect");
		return;
	}
	if (port == 443)
		snprintf(loc, size, "https://%.*s%.*s", (int)host_len, host,
		    (int)path_len, path);
	else
		snprintf(loc, size, "https://%.*s:%u%.*s", (int)host_len, host,
		    port, (int)path_len, path);
	x->owned_body = loc;
	client_respond(x, x->req.method == HTTP1_M_GET ||
	    x->req.method == HTTP1_M_HEAD ? 301 : 308, "text/plain", "", 0,
	    loc);
}

/*
 * Checks on a complete head before it goes anywhere, then the route.
 */
static void
start_request(struct exchange *x)
{
	struct client		*c = x->c;
	const struct config	*cf = c->w->cf;
	const char		*base = buf_head(c->in);
	const struct http1_msg	*m = &x->req;
	const char		*host, *path, *colon;
	size_t			 host_len, path_len;

	x->body_off = x->body_end = c->in->start + m->head_len;
	x->next_off = 0;
	if (m->version_minor == 0 && !(m->flags & HTTP1_F_CONN_KEEPALIVE))
		x->keepalive = 0;
	if (m->flags & HTTP1_F_CONN_CLOSE)
		x->keepalive = 0;
	if (cf->keepalive_timeout_ms == 0 || c->w->draining || c->internal)
		x->keepalive = 0;
	if (cf->keepalive_requests != 0 &&
	    c->nrequests + 1 >= cf->keepalive_requests)
		x->keepalive = 0;
	if (m->body == HTTP1_BODY_LENGTH) {
		if (cf->max_body_size != 0 &&
		    m->content_length > cf->max_body_size) {
			client_error(x, 413, "request body larger than "
			    "max_body_size");
			return;
		}
		x->req_left = m->content_length;
	} else if (m->body == HTTP1_BODY_CHUNKED)
		chunked_init(&x->req_chunk, cf->max_request_line);
	else {
		x->req_body_done = 1;
		x->next_off = x->body_off;
	}
	x->upgrade = (m->flags & HTTP1_F_UPGRADE) &&
	    (m->flags & HTTP1_F_CONN_UPGRADE);

	/* RFC 9112 3.2.2: an absolute-form target names the host itself,
	   and the Host header is ignored; the origin gets origin-form. */
	x->host = m->host;
	x->path = m->target;
	path = base + m->target.off;
	if (m->target.len > 0 && path[0] != '/' && path[0] != '*' &&
	    (colon = memchr(path, ':', m->target.len)) != NULL &&
	    (size_t)(colon - path) + 3 <= m->target.len &&
	    colon[1] == '/' && colon[2] == '/') {
		const char	*auth = colon + 3;
		const char	*end = path + m->target.len, *p = auth;

		while (p < end && *p != '/' && *p != '?')
			p++;
		x->absolute = 1;
		x->host.off = (uint32_t)(auth - base);
		x->host.len = (uint32_t)(p - auth);
		x->path.off = (uint32_t)(p - base);
		x->path.len = (uint32_t)(end - p);
	}

	/* Route by host without its port. */
	host = base + x->host.off;
	host_len = x->host.len;
	if (host_len > 0 && host[0] != '[' &&
	    (colon = memchr(host, ':', host_len)) != NULL)
		host_len = (size_t)(colon - host);
	else if (host_len > 0 && host[0] == '[' &&
	    (colon = memchr(host, ']', host_len)) != NULL)
		host_len = (size_t)(colon - host) + 1;
	path = x->path.len > 0 ? base + x->path.off : "/";
	path_len = x->path.len > 0 ? x->path.len : 1;
	if (cf->listeners[c->listener].admin) {
		admin_serve(x, path, path_len);
		return;
	}
	x->route = route_find(cf, host, host_len, path, path_len);
	if (x->route == NULL) {
		client_error(x, 404, "no route for this host and path");
		return;
	}
	if (x->route->site->redirect_https &&
	    cf->listeners[c->listener].tls == NULL) {
		redirect_https(x, host, host_len, path, path_len);
		return;
	}
	if (x->route->ret != NULL) {
		const struct config_return *r = x->route->ret;

		client_respond(x, r->status, r->content_type, r->body,
		    r->body_len, r->location);
		return;
	}
	if (x->route->cache != NULL && c->w->store != NULL &&
	    cache_request(x) == -1)
		return;
	proxy_start(x);
}

/*
 * Read and parse until the head of a request is complete, then start it.
 * The head stays at the start of c->in until the exchange is done: its
 * strings are offsets into it.
 */
static void
read_head_once(struct client *c)
{
	struct worker		*w = c->w;
	const struct config	*cf = w->cf;
	struct http1_limits	 lim;
	struct exchange		*x;
	ssize_t			 n;
	int			 rc;

	lim.max_line = cf->max_request_line;
	lim.max_head = cf->max_header_size;
	lim.max_headers = cf->max_headers;
	if (c->in == NULL && (c->in = buf_get(&w->bufs)) == NULL) {
		log_warn("%s: no memory for a buffer", client_log_prefix(c));
		client_close(c);
		return;
	}
	for (;;) {
		if (buf_len(c->in) > 0) {
			if ((x = c->x) == NULL) {
				if ((x = exchange_new(c)) == NULL) {
					client_close(c);
					return;
				}
				c->x = x;
				if (c->timer.tq != &w->tq_header)
					ev_timer_start(w->loop, &w->tq_header,
					    &c->timer, client_timeout);
			}
			rc = http1_parse_request(buf_head(c->in),
			    buf_len(c->in), &x->req, &lim);
			if (rc == 0) {
				ev_timer_stop(&c->timer);
				start_request(x);
				return;
			}
			if (rc == -1) {
				client_error(x, x->req.error_status,
				    x->req.error);
				return;
			}
		}
		if (!c->k.readable)
			return;
		if (buf_room(c->in) == 0) {
			buf_compact(c->in);
			if (buf_room(c->in) == 0) {
				client_error(c->x, 431, "request head larger "
				    "than the buffer");
				return;
			}
		}
		n = io_read(&c->k, buf_tail(c->in), buf_room(c->in));
		if (n > 0) {
			buf_commit(c->in, (uint32_t)n);
			continue;
		}
		if (n == PT_AGAIN) {
			if (c->x == NULL && buf_len(c->in) == 0) {
				buf_put(&w->bufs, c->in);
				c->in = NULL;
			}
			return;
		}
		/* Closed, or reset, between requests or inside a head. */
		if (n == -1 && errno == EPROTO)
			log_info("%s: TLS: %s", client_log_prefix(c),
			    tls_error());
		else if (n == -1 && errno != ECONNRESET)
			log_warn("%s: read", client_log_prefix(c));
		client_close(c);
		return;
	}
}

/*
 * read_head(): read and start requests.  A request answered at once (a
 * return route, a 404) ends in client_done(), which asks for the next
 * pipelined request: that call only sets c->again, and the loop here takes
 * it, so a client pipelining a million requests costs no stack.
 */
static void
read_head(struct client *c)
{
	if (c->in_head) {
		c->again = 1;
		return;
	}
	c->in_head = 1;
	do {
		c->again = 0;
		read_head_once(c);
	} while (c->again && !c->dead);
	/* A dead client's memory lives until the end of the loop turn. */
	c->in_head = 0;
}

/* client_run(): see client.h. */
void
client_run(struct exchange *x)
{
	switch (x->state) {
	case X_HEAD:
		read_head(x->c);
		break;
	case X_LOCAL:
		write_local(x);
		break;
	case X_CACHE:
	case X_CACHE_WAIT:
		cache_run(x);
		break;
	default:
		proxy_run(x);
		break;
	}
}
