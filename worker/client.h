/*
 * client.h: a client connection and the request it is making.
 *
 * A connection (struct client) lives from accept to close and is small:
 * an idle keep-alive connection holds no buffer and no request state.
 * When the first byte of a request arrives it takes an input buffer and
 * a struct exchange (from the worker's free lists); both go back when the
 * response is done and nothing more is buffered.
 *
 * The request path, top to bottom:
 *   client.c  read and parse the head, pick the route, answer locally
 *   cache.c   a cached route: answer from the cache (cachehit.c), wait
 *             for another's miss, or go on to the origin
 *   proxy.c   upstream connection, forward the request, relay the response
 *             (cachefill.c stores it on the way)
 *   tries.c   which server each try goes to; a failed try, retried or not
 *   fwd.c     the forwarded heads (hop-by-hop headers, X-Forwarded-*)
 *   client.c  access log, then the next request on the connection
 */
#ifndef CLIENT_H
#define CLIENT_H

#include <netinet/in.h>
#include <sys/uio.h>

#include "balance.h"
#include "buf.h"
#include "config.h"
#include "ev.h"
#include "chunked.h"
#include "http1.h"
#include "io.h"
#include "worker.h"

/* Where an exchange is. */
enum exchange_state {
	X_HEAD = 0,	/* reading the request head */
	X_CONNECT,	/* waiting for the upstream connection */
	X_SEND,		/* sending the head and body to the upstream */
	X_RECV_HEAD,	/* reading the response head */
	X_RELAY,	/* relaying the response body */
	X_TUNNEL,	/* upgraded: bytes both ways */
	X_LOCAL,	/* writing a response of our own */
	X_CACHE,	/* writing a response from the cache */
	X_CACHE_WAIT,	/* waiting for another's miss to be stored */
	X_DONE,
};

struct exchange {
	struct client	*c;
	struct worker	*w;
	struct exchange	*next_free;
	uint8_t		 state;		/* enum exchange_state */
	uint8_t		 keepalive;	/* the client connection stays */
	uint8_t		 retried;	/* once on a fresh connection */
	uint8_t		 resp_started;	/* a byte went to the client */
	uint8_t		 req_body_done;
	uint8_t		 upgrade;	/* the request asks to upgrade */
	uint8_t		 continue_sent;	/* we said 100 Continue */
	uint8_t		 close_after;	/* response ends with the close */
	uint8_t		 resp_done;	/* all the body is in uin */
	uint8_t		 dechunk;	/* decode chunked for a 1.0 client */
	uint8_t		 resp_dirty;	/* the origin sent bytes past the
					   body: its connection is not reused */
	uint8_t		 counted;	/* balance_begin() for srv */
	uint8_t		 body_reclaimed;	/* body bytes sent are gone: no
					   retry can send them again */
	uint8_t		 ntried;	/* servers tried, in tried[] */
	uint16_t	 status;	/* sent to the client, for the log */
	uint16_t	 retry_after;	/* seconds, for a 503 of ours; 0 */

	const struct config_route *route;
	struct cache_x	*cx;		/* the route caches: what the cache
					   does for x (cache.c) */
	struct upconn	*up;
	struct server_rt *srv;
	struct server_rt *tried[16];	/* upstream tries <= 16 */
	struct balance_key bkey;

	struct http1_msg req;		/* strings are in c->in */
	struct http1_str host;		/* the request's authority */
	struct http1_str path;		/* origin-form target; len 0: "/" */
	uint8_t		 absolute;	/* absolute-form target */
	struct http1_msg resp;		/* strings are in uin */
	struct chunked req_chunk, resp_chunk;
	uint64_t	 req_left;	/* Content-Length body bytes to read */
	uint64_t	 resp_left;
	uint32_t	 body_off;	/* c->in: next body byte to send */
	uint32_t	 body_end;	/* c->in: end of the body bytes seen */
	uint32_t	 next_off;	/* c->in: end of this request, once
					   known (0 until then) */
	uint32_t	 out_sent;	/* bytes of out sent (out is kept
					   whole for a retry) */

	struct buf	*out;		/* a head we generated, being sent */
	struct buf	*uin;		/* bytes from the upstream */
	const char	*local_body;	/* X_LOCAL: body after out */
	char		*owned_body;	/* freed with the exchange, or NULL */
	size_t		 local_len;

	uint64_t	 t_start;	/* ms: first byte of the request */
	uint64_t	 t_upstream;	/* ms: upstream connection asked */
	uint64_t	 t_try;		/* ms: this try began */
	uint64_t	 t_upstream_end;
	uint64_t	 body_bytes;	/* response body bytes to the client */

	struct http1_header hdrs[];	/* 2 x cf->max_headers */
};

struct client {
	struct conn	 k;		/* first: its events name it */
	struct worker	*w;
	struct buf	*in;		/* NULL while idle */
	struct exchange	*x;		/* NULL while idle */
	struct client	*next;		/* free list or graveyard */
	struct ev_timer	 timer;
	uint32_t	 nrequests;
	uint16_t	 listener;	/* index in cf->listeners */
	uint8_t		 eof;		/* the client is gone */
	uint8_t		 dead;		/* closed; recycled at turn end */
	uint8_t		 in_head;	/* inside read_head() */
	uint8_t		 again;		/* read_head() to run once more */
	uint8_t		 lingering;	/* answered; draining before close */
	uint8_t		 internal;	/* no socket: a request of our own
					   (a background refresh); what it
					   is answered goes nowhere */
	uint64_t	 discarded;	/* bytes drained while lingering */
	union {
		struct sockaddr		 sa;
		struct sockaddr_in	 v4;
		struct sockaddr_in6	 v6;
	}		 peer;
};

/* client_accept(): serve a new connection fd from peer. */
void	client_accept(struct worker *w, unsigned listener, int fd,
	    const struct sockaddr *peer, socklen_t peer_len);

/*
 * client_internal(): a request of our own, as if from the client of x:
 * its head, on a connection without a socket that closes after the
 * response (which nobody reads).  For the cache's background refresh.
 */
void	client_internal(struct exchange *x);

/* client_reap(): recycle connections closed during this loop turn. */
void	client_reap(struct worker *w);

/*
 * client_writev(): write to the client; returns bytes written (maybe
 * fewer: then c->writable is cleared and an EPOLLOUT will come), PT_AGAIN
 * when nothing could be written, -1 when the client is gone.
 */
ssize_t	client_writev(struct client *c, struct iovec *iov, int n);

/*
 * client_respond(): answer x ourselves: status, Content-Type type, body
 * (which must live until the exchange ends), Location if not NULL.
 */
void	client_respond(struct exchange *x, unsigned status, const char *type,
	    const char *body, size_t body_len, const char *location);

/*
 * client_error(): answer x with status and a short HTML page, log reason
 * with the client's address, and close the connection after.  When part
 * of a response was sent already, the connection is closed at once.
 */
void	client_error(struct exchange *x, unsigned status, const char *reason);

/* client_done(): x is answered: access log, then the next request. */
void	client_done(struct exchange *x);

/* client_run(): let x make progress after an event (either side). */
void	client_run(struct exchange *x);

/* client_timer(): (re)start the client's timer on queue tq. */
void	client_timer(struct client *c, struct ev_tq *tq);

/* client_log_prefix(): "client 1.2.3.4:5678" for error-log lines. */
const char *client_log_prefix(const struct client *c);

#endif /* CLIENT_H */
