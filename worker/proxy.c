/*
 * proxy.c: forwarding a request and relaying its response.  See proxy.h.
 *
 * An exchange moves X_CONNECT -> X_SEND -> X_RECV_HEAD -> X_RELAY (or
 * X_TUNNEL after a 101), one function a state, each returning 0 when the
 * state is finished, PT_AGAIN when it waits for an event, or -1 when it
 * has already answered the client with an error or closed it.
 *
 * Bodies stream through one buffer a direction: the request body through
 * the client's input buffer, the response through x->uin.  A buffer is
 * refilled only once it has been written out, so a slow reader holds one
 * buffer of the other side's data, never more (backpressure both ways).
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "balance.h"
#include "cache.h"
#include "fwd.h"
#include "log.h"
#include "proxy.h"
#include "tries.h"
#include "tunnel.h"
#include "sock.h"
#include "tls.h"

static bool	reusable(const struct exchange *x);
static int	scan_response_body(struct exchange *x, uint32_t from,
		    bool *done);
static int	bad_chunk(struct exchange *x);

static struct exchange *
timer_exchange(struct ev_timer *t)
{
	struct upconn *u = (struct upconn *)((char *)t -
	    offsetof(struct upconn, timer));

	return u->owner;
}

static void
upstream_timeout(struct ev_timer *t)
{
	struct exchange	*x = timer_exchange(t);
	static char	 why[512];
	const char	*what;

	switch (x->state) {
	case X_CONNECT:
		what = "connecting to";
		break;
	case X_SEND:
		what = "sending the request to";
		break;
	case X_TUNNEL:
		tunnel_end(x);
		return;
	default:
		what = "waiting for the response of";
		break;
	}
	if (x->resp_started) {
		log_warnx("%s: upstream %.64s/%s timed out: %s it",
		    client_log_prefix(x->c), x->srv->up->cf->name,
		    x->srv->name, what);
		x->keepalive = 0;
		proxy_release(x, false);
		client_done(x);
		return;
	}
	snprintf(why, sizeof(why), "timed out %s it", what);
	tries_failed(x, NEXT_TIMEOUT, 504, why);
}

static void
upstream_event(void *owner)
{
	proxy_run(owner);
}

static void
up_timer(struct exchange *x, struct ev_tq *tq)
{
	if (x->up->timer.tq != tq || !ev_timer_active(&x->up->timer))
		ev_timer_start(x->w->loop, tq, &x->up->timer,
		    upstream_timeout);
}

/* proxy_release(): see proxy.h. */
void
proxy_release(struct exchange *x, bool reusable)
{
	if (x->counted) {
		balance_end(x->srv);
		x->counted = 0;
	}
	if (x->up == NULL)
		return;
	pool_release(&x->w->pool, x->up, reusable);
	x->up = NULL;
}

/* An upstream failure before any response byte reached the client. */
static void
upstream_error(struct exchange *x, unsigned status, const char *what)
{
	static char why[512];

	snprintf(why, sizeof(why), "upstream %.64s/%s: %.200s",
	    x->srv->up->cf->name, x->srv->name, what);
	client_error(x, status, why);
}

/* proxy_start(): see proxy.h. */
void
proxy_start(struct exchange *x)
{
	struct worker		*w = x->w;
	struct upstream_rt	*u;
	static const char	 cont[] = "HTTP/1.1 100 Continue\r\n\r\n";

	u = pool_upstream(&w->pool, x->route->upstream);
	tries_key(x, u->cf);
	x->ntried = 0;
	x->t_upstream = ev_now(w->loop);
	if (tries_next(x) == -1) {
		tries_none(x);
		return;
	}
	/* RFC 9110 10.1.1: the client waits for 100 before the body; we
	   say it ourselves, so the body streams while we connect.  If it
	   cannot be written whole now, Expect goes on to the origin.  Not
	   over TLS: a record OpenSSL could not send at once must be
	   offered again, and the next write is the response's. */
	if ((x->req.flags & HTTP1_F_EXPECT_CONTINUE) && !x->req_body_done &&
	    x->body_off == x->c->in->end && x->c->k.ssl == NULL) {
		struct iovec	iov = { (void *)cont, sizeof(cont) - 1 };
		ssize_t		n = client_writev(x->c, &iov, 1);

		if (n == (ssize_t)iov.iov_len)
			x->continue_sent = 1;
		else if (n > 0) {
			client_error(x, 500, "could not send 100 Continue");
			return;
		}
	}
	if ((x->out = buf_get(&w->bufs)) == NULL) {
		client_error(x, 500, "no memory for a buffer");
		return;
	}
	if (fwd_request_head(x, x->out) == -1) {
		client_error(x, 431, "forwarded request head too large");
		return;
	}
	proxy_connect(x);
}

/* proxy_connect(): see proxy.h. */
void
proxy_connect(struct exchange *x)
{
	struct pool *p = &x->w->pool;

	/* A retry takes a fresh connection: the pooled one just failed. */
	x->up = x->retried ? NULL :
	    pool_get_idle(p, x->srv, x, upstream_event);
	if (x->up == NULL) {
		x->up = pool_connect(p, x->srv, x, upstream_event);
		if (x->up == NULL) {
			if (errno == ENOSPC)
				client_error(x, 503, "max_upstream_connections"
				    " reached");
			else if (errno == EBUSY)
				upstream_error(x, 503, "max_conns reached");
			else
				tries_failed(x, NEXT_ERROR, 502, strerror(errno));
			return;
		}
	}
	x->out_sent = 0;
	if (x->up->connecting || x->up->k.handshake) {
		x->state = X_CONNECT;
		up_timer(x, &x->srv->up->tq_connect);
		return;
	}
	x->state = X_SEND;
	proxy_run(x);
}

static int
wait_connect(struct exchange *x)
{
	static char	why[300];
	bool		plain;
	int		err, rc;

	if (x->up->connecting) {
		if (!x->up->k.writable && !x->up->k.readable)
			return PT_AGAIN;
		if ((err = sock_connect_result(x->up->k.io.fd)) != 0) {
			snprintf(why, sizeof(why), "connect failed: %s",
			    strerror(err));
			tries_failed(x, NEXT_ERROR, 502, why);
			return -1;
		}
		x->up->connecting = 0;
		x->up->k.writable = 1;
	}
	/* The TLS handshake, within the same connect_timeout. */
	if (x->up->k.handshake) {
		if ((rc = io_handshake(&x->up->k, &plain)) == PT_AGAIN)
			return PT_AGAIN;
		if (rc == -1) {
			snprintf(why, sizeof(why), "TLS handshake failed: %s",
			    errno == ECONNRESET ? "closed by the server" :
			    tls_error());
			tries_failed(x, NEXT_ERROR, 502, why);
			return -1;
		}
	}
	ev_timer_stop(&x->up->timer);
	x->state = X_SEND;
	return 0;
}

/*
 * Find the body bytes among the bytes read from the client: [body_end,
 * in->end) are new.  Sets next_off when the body is complete.
 */
static int
scan_request_body(struct exchange *x)
{
	struct buf	*in = x->c->in;
	uint32_t	 avail = in->end - x->body_end;
	uint64_t	 k;
	ssize_t		 n;

	if (x->req_body_done || avail == 0)
		return 0;
	if (x->req.body == HTTP1_BODY_LENGTH) {
		k = pt_min(avail, x->req_left);
		x->req_left -= k;
		x->body_end += (uint32_t)k;
		if (x->req_left == 0)
			x->req_body_done = 1;
	} else {
		n = chunked_scan(&x->req_chunk, in->data + x->body_end,
		    avail);
		if (n == -1) {
			client_error(x, 400, x->req_chunk.error);
			return -1;
		}
		x->body_end += (uint32_t)n;
		if (x->w->cf->max_body_size != 0 &&
		    x->req_chunk.total > x->w->cf->max_body_size) {
			client_error(x, 413, "chunked request body larger "
			    "than max_body_size");
			return -1;
		}
		if (chunked_done(&x->req_chunk))
			x->req_body_done = 1;
	}
	if (x->req_body_done)
		x->next_off = x->body_end;
	return 0;
}

/*
 * proxy_reclaim_body_room(): forget the request-body bytes already sent,
 * keeping the head (the access log reads it), moved to the front of the
 * buffer so that there is always room after it.  Head strings are offsets
 * from its start.
 */
void
proxy_reclaim_body_room(struct exchange *x)
{
	struct buf *in = x->c->in;

	if (in->start != 0) {
		memmove(in->data, in->data + in->start, x->req.head_len);
		in->start = 0;
	}
	in->end = x->body_off = x->body_end = x->req.head_len;
	x->body_reclaimed = 1;
}

/* Read more of the request body into the client buffer. */
static int
read_request_body(struct exchange *x)
{
	struct client	*c = x->c;
	struct buf	*in = c->in;
	ssize_t		 n;

	if (!c->k.readable) {
		ev_timer_stop(&x->up->timer);
		client_timer(c, &x->w->tq_body);
		return PT_AGAIN;
	}
	/* Everything seen was sent: the room after the head is free. */
	proxy_reclaim_body_room(x);
	n = io_read(&c->k, buf_tail(in), buf_room(in));
	if (n > 0) {
		buf_commit(in, (uint32_t)n);
		/* client_body_timeout runs between two reads */
		ev_timer_stop(&c->timer);
		return 0;
	}
	if (n == PT_AGAIN)
		return PT_AGAIN;
	log_warnx("%s: closed the connection while sending the request body",
	    client_log_prefix(c));
	c->eof = 1;
	x->keepalive = 0;
	proxy_release(x, false);
	client_done(x);
	return -1;
}

/* Send the head and the request body to the upstream. */
static int
send_request(struct exchange *x)
{
	struct iovec	 iov[2];
	struct buf	*in = x->c->in;
	ssize_t		 n;
	int		 rc;

	for (;;) {
		if (scan_request_body(x) == -1)
			return -1;
		iov[0].iov_base = x->out->data + x->out_sent;
		iov[0].iov_len = x->out->end - x->out_sent;
		iov[1].iov_base = in->data + x->body_off;
		iov[1].iov_len = x->body_end - x->body_off;
		if (iov[0].iov_len + iov[1].iov_len == 0) {
			if (x->req_body_done)
				break;
			if ((rc = read_request_body(x)) != 0)
				return rc;
			continue;
		}
		if (!x->up->k.writable) {
			up_timer(x, &x->srv->up->tq_write);
			return PT_AGAIN;
		}
		n = io_writev(&x->up->k, iov, 2);
		if (n == PT_AGAIN)
			continue;
		if (n == -1) {
			tries_failed(x, NEXT_ERROR, 502, strerror(errno));
			return -1;
		}
		/* write_timeout runs between two writes, not over all */
		ev_timer_stop(&x->up->timer);
		if ((size_t)n >= iov[0].iov_len) {
			x->out_sent += (uint32_t)iov[0].iov_len;
			x->body_off += (uint32_t)(n - (ssize_t)iov[0].iov_len);
		} else
			x->out_sent += (uint32_t)n;
	}
	x->up->nrequests++;
	x->state = X_RECV_HEAD;
	ev_timer_stop(&x->c->timer);
	up_timer(x, &x->srv->up->tq_read);
	return 0;
}

/*
 * The upstream closed or reset before a byte of response.  A reused
 * connection may have been closed by the origin just as we sent: an
 * idempotent request without a body is then sent once more, fresh.
 */
static int
upstream_closed_early(struct exchange *x, const char *what)
{
	if (x->up->nrequests > 1 && !x->retried && tries_idempotent(&x->req) &&
	    x->req.body == HTTP1_BODY_NONE && buf_len(x->uin) == 0) {
		x->retried = 1;
		if (x->up != NULL) {
			pool_release(&x->w->pool, x->up, false);
			x->up = NULL;
		}
		proxy_connect(x);
		return -1;
	}
	tries_failed(x, NEXT_ERROR, 502, what);
	return -1;
}

/* proxy_read_upstream(): see proxy.h. */
int
proxy_read_upstream(struct exchange *x, int *err)
{
	ssize_t n;

	*err = 0;
	if (!x->up->k.readable)
		return PT_AGAIN;
	n = io_read(&x->up->k, buf_tail(x->uin), buf_room(x->uin));
	if (n > 0) {
		buf_commit(x->uin, (uint32_t)n);
		/* read_timeout runs between two reads, not over all */
		ev_timer_stop(&x->up->timer);
		return 0;
	}
	if (n == PT_AGAIN)
		return PT_AGAIN;
	*err = n == 0 ? 0 : errno;
	return -1;
}

/* The cache cannot use the 304 it asked for: the request goes again,
   as a new one, without validators.  Not one with a body, which was
   sent and is gone. */
static void
send_again(struct exchange *x)
{
	if (x->req.body != HTTP1_BODY_NONE) {
		client_error(x, 502, "cache: the stored response was lost "
		    "while it was revalidated");
		return;
	}
	buf_reset(x->uin);
	http1_msg_init(&x->resp, x->hdrs + x->w->cf->max_headers,
	    x->w->cf->max_headers);
	buf_put(&x->w->bufs, x->out);
	x->out = NULL;
	proxy_start(x);
}

/*
 * Read and parse the response head.  1xx heads other than 101 are passed
 * to the client (an HTTP/1.1 one) and the next head is read.
 */
static int
recv_head(struct exchange *x)
{
	const struct config	*cf = x->w->cf;
	struct http1_limits	 lim;
	int			 rc, err;

	lim.max_line = cf->max_header_size;
	lim.max_head = cf->max_header_size;
	lim.max_headers = cf->max_headers;
	if (x->uin == NULL) {
		if ((x->uin = buf_get(&x->w->bufs)) == NULL) {
			upstream_error(x, 500, "no memory for a buffer");
			return -1;
		}
		http1_msg_init(&x->resp, x->hdrs + cf->max_headers,
		    cf->max_headers);
	}
	for (;;) {
		if (buf_len(x->uin) > 0) {
			rc = http1_parse_response(buf_head(x->uin),
			    buf_len(x->uin), &x->resp, &lim, x->req.method);
			if (rc == -1) {
				static char why[400];

				snprintf(why, sizeof(why), "invalid response: "
				    "%.200s", x->resp.error);
				tries_failed(x, NEXT_ERROR, 502, why);
				return -1;
			}
			if (rc == 0)
				break;
		}
		if (buf_room(x->uin) == 0)
			buf_compact(x->uin);
		if (buf_room(x->uin) == 0) {
			upstream_error(x, 502, "response head too large");
			return -1;
		}
		rc = proxy_read_upstream(x, &err);
		if (rc == PT_AGAIN) {
			up_timer(x, &x->srv->up->tq_read);
			return PT_AGAIN;
		}
		if (rc == -1) {
			if (buf_len(x->uin) > 0)
				return upstream_closed_early(x, "closed the "
				    "connection inside the response head");
			return upstream_closed_early(x, err != 0 ?
			    strerror(err) : "closed the connection without "
			    "answering");
		}
	}

	/* A complete head: what the try came to. */
	if (x->resp.status >= 200 && tries_answered(x) == -1)
		return -1;
	/* The cache may answer instead: a 304 to its revalidation, or a
	   stale response for an error. */
	if (x->resp.status >= 200 && x->cx != NULL &&
	    (rc = cache_response(x)) != 0) {
		x->t_upstream_end = ev_now(x->w->loop);
		proxy_release(x, x->resp.body == HTTP1_BODY_NONE &&
		    buf_len(x->uin) == x->resp.head_len && reusable(x));
		if (rc == 1)
			cache_serve(x);
		else
			send_again(x);
		return -1;
	}
	/* The request need not be sent again now. */
	buf_reset(x->out);
	x->out_sent = 0;
	if (fwd_response_head(x, x->out) == -1) {
		upstream_error(x, 502, "response head too large to forward");
		return -1;
	}
	x->status = x->resp.status;
	buf_consume(x->uin, x->resp.head_len);
	if (x->resp.status < 200 && x->resp.status != 101) {
		/* Interim: ours to drop when we said 100 ourselves or the
		   client cannot take it; then the next head. */
		if ((x->resp.status == 100 && x->continue_sent) ||
		    x->req.version_minor == 0)
			buf_reset(x->out);
		http1_msg_init(&x->resp, x->hdrs + cf->max_headers,
		    cf->max_headers);
		x->state = X_RELAY;
		x->resp_left = 0;
		x->resp.body = HTTP1_BODY_NONE;
		x->resp.status = 0;
		return 0;
	}
	switch (x->resp.body) {
	case HTTP1_BODY_LENGTH:
		x->resp_left = x->resp.content_length;
		break;
	case HTTP1_BODY_CHUNKED:
		chunked_init(&x->resp_chunk, cf->max_request_line);
		break;
	case HTTP1_BODY_CLOSE:
		x->close_after = 1;
		break;
	default:
		break;
	}
	if (x->resp.status == 101) {
		if (!x->upgrade) {
			upstream_error(x, 502, "101 to a request that did not "
			    "ask to upgrade");
			return -1;
		}
		x->state = X_TUNNEL;
		return 0;
	}
	{
		bool done;

		if (scan_response_body(x, x->uin->start, &done) == -1)
			return bad_chunk(x);
		x->resp_done = done;
	}
	x->state = X_RELAY;
	return 0;
}

/*
 * Classify the bytes of uin not yet seen: body bytes stay, bytes after
 * the end of the body are dropped (an origin that sends more than it
 * announced loses its connection).  Returns whether the body is complete.
 */
static int
scan_response_body(struct exchange *x, uint32_t from, bool *done)
{
	struct buf	*b = x->uin;
	uint32_t	 avail = b->end - from;
	ssize_t		 n;

	*done = false;
	switch (x->resp.body) {
	case HTTP1_BODY_NONE:
		x->resp_dirty |= avail > 0;
		b->end = from;
		*done = true;
		break;
	case HTTP1_BODY_LENGTH:
		if (avail >= x->resp_left) {
			x->resp_dirty |= avail > x->resp_left;
			b->end = from + (uint32_t)x->resp_left;
			x->resp_left = 0;
			*done = true;
		} else
			x->resp_left -= avail;
		break;
	case HTTP1_BODY_CHUNKED:
		if (x->dechunk) {
			size_t data;

			n = chunked_decode(&x->resp_chunk, b->data + from,
			    avail, &data);
			if (n == -1)
				return -1;
			b->end = from + (uint32_t)data;
		} else {
			n = chunked_scan(&x->resp_chunk, b->data + from,
			    avail);
			if (n == -1)
				return -1;
		}
		if (chunked_done(&x->resp_chunk)) {
			x->resp_dirty |= (uint32_t)n < avail;
			if (!x->dechunk)
				b->end = from + (uint32_t)n;
			*done = true;
		}
		break;
	default:
		break;
	}
	if (x->cx != NULL) {
		cache_body(x, b->data + from, b->end - from);
		/* Published before the last bytes go to the client, so
		   that its next request finds it. */
		if (*done)
			cache_complete(x);
	}
	if (b->start == b->end)
		buf_reset(b);
	return 0;
}

/* Whether the upstream connection may serve another request once this
   response is read. */
static bool
reusable(const struct exchange *x)
{
	return x->resp.body != HTTP1_BODY_CLOSE &&
	    !(x->resp.flags & HTTP1_F_CONN_CLOSE) &&
	    (x->resp.version_minor == 1 ||
	    (x->resp.flags & HTTP1_F_CONN_KEEPALIVE)) &&
	    x->req_body_done &&
	    /* nothing more may wait in the socket: no bytes past the body,
	       no FIN seen, no read that filled the buffer */
	    !x->resp_dirty && !x->up->k.rdhup && !x->up->k.readable;
}

/* The response is complete: give back the upstream, finish the request. */
static void
response_done(struct exchange *x)
{
	x->t_upstream_end = ev_now(x->w->loop);
	proxy_release(x, reusable(x));
	if (x->cx != NULL)
		cache_complete(x);
	client_done(x);
}

/* The origin's chunked framing is broken: the response cannot end well. */
static int
bad_chunk(struct exchange *x)
{
	log_warnx("%s: upstream %s/%s: invalid chunked body: %s",
	    client_log_prefix(x->c), x->srv->up->cf->name, x->srv->name,
	    x->resp_chunk.error);
	x->keepalive = 0;
	proxy_release(x, false);
	if (!x->resp_started) {
		client_error(x, 502, "invalid chunked response body");
		return -1;
	}
	client_done(x);
	return -1;
}

/* Relay the response: what was generated in out, then the body. */
static int
relay(struct exchange *x)
{
	struct iovec	 iov[2];
	ssize_t		 n;
	uint32_t	 from;
	bool		 done;
	bool		 interim = x->resp.status == 0;
	int		 rc, err;

	for (;;) {
		iov[0].iov_base = x->out->data + x->out_sent;
		iov[0].iov_len = x->out->end - x->out_sent;
		/* After an interim head, uin holds the next head: not ours
		   to send yet. */
		iov[1].iov_base = buf_head(x->uin);
		iov[1].iov_len = interim ? 0 : buf_len(x->uin);
		if (iov[0].iov_len + iov[1].iov_len > 0) {
			n = client_writev(x->c, iov, 2);
			if (n == PT_AGAIN) {
				/* Waiting on the client, not the upstream. */
				ev_timer_stop(&x->up->timer);
				client_timer(x->c, &x->w->tq_send);
				return PT_AGAIN;
			}
			if (n == -1 && x->cx != NULL && cache_storing(x)) {
				/* The client is gone, but a response being
				   stored is read to its end all the same, for
				   the requests that wait for it: what would
				   go to the client goes nowhere. */
				x->keepalive = 0;
				x->c->eof = 1;
				x->c->internal = 1;
				continue;
			}
			if (n == -1) {
				x->keepalive = 0;
				x->c->eof = 1;
				proxy_release(x, false);
				client_done(x);
				return -1;
			}
			x->resp_started = 1;
			/* send_timeout runs between two writes, not over all */
			ev_timer_stop(&x->c->timer);
			if ((size_t)n >= iov[0].iov_len) {
				x->out_sent = x->out->end;
				n -= (ssize_t)iov[0].iov_len;
				x->body_bytes += (uint64_t)n;
				buf_consume(x->uin, (uint32_t)n);
			} else
				x->out_sent += (uint32_t)n;
			continue;
		}
		ev_timer_stop(&x->c->timer);
		if (interim) {
			buf_reset(x->out);
			x->out_sent = 0;
			x->state = X_RECV_HEAD;
			return 0;
		}
		if (x->resp_done) {
			response_done(x);
			return -1;
		}
		buf_reset(x->uin);
		from = x->uin->end;
		rc = proxy_read_upstream(x, &err);
		if (rc == PT_AGAIN) {
			up_timer(x, &x->srv->up->tq_read);
			return PT_AGAIN;
		}
		if (rc == -1) {
			if (x->resp.body == HTTP1_BODY_CLOSE && err == 0) {
				response_done(x);
				return -1;
			}
			log_warnx("%s: upstream %s/%s closed the connection "
			    "before the end of the response",
			    client_log_prefix(x->c), x->srv->up->cf->name,
			    x->srv->name);
			x->keepalive = 0;
			proxy_release(x, false);
			client_done(x);
			return -1;
		}
		if (scan_response_body(x, from, &done) == -1)
			return bad_chunk(x);
		x->resp_done = done;
	}
}

/* proxy_run(): see proxy.h. */
void
proxy_run(struct exchange *x)
{
	int rc;

	for (;;) {
		switch (x->state) {
		case X_CONNECT:
			rc = wait_connect(x);
			break;
		case X_SEND:
			rc = send_request(x);
			break;
		case X_RECV_HEAD:
			rc = recv_head(x);
			break;
		case X_RELAY:
			rc = relay(x);
			break;
		case X_TUNNEL:
			rc = tunnel_run(x);
			break;
		default:
			return;
		}
		if (rc != 0)
			return;
	}
}
