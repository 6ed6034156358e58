/*
 * tunnel.c: an upgraded connection (WebSocket and the like).  See tunnel.h.
 */
#include <errno.h>
#include <unistd.h>

#include "proxy.h"
#include "tunnel.h"

/* tunnel_end(): see tunnel.h. */
int
tunnel_end(struct exchange *x)
{
	x->keepalive = 0;
	x->t_upstream_end = ev_now(x->w->loop);
	proxy_release(x, false);
	client_done(x);
	return -1;
}

/*
 * After a 101: bytes both ways until either side closes or the tunnel is
 * idle for tunnel_timeout.  One buffer a direction, as for bodies.
 */
int
tunnel_run(struct exchange *x)
{
	struct client	*c = x->c;
	struct buf	*in = c->in;
	struct iovec	 iov[2];
	ssize_t		 n;
	bool		 progress;
	int		 rc, err;

	ev_timer_stop(&x->up->timer);
	do {
		progress = false;
		/* upstream -> client */
		iov[0].iov_base = x->out->data + x->out_sent;
		iov[0].iov_len = x->out->end - x->out_sent;
		iov[1].iov_base = buf_head(x->uin);
		iov[1].iov_len = buf_len(x->uin);
		if (iov[0].iov_len + iov[1].iov_len > 0) {
			n = client_writev(c, iov, 2);
			if (n == -1)
				return tunnel_end(x);
			if (n > 0) {
				progress = true;
				x->resp_started = 1;
				if ((size_t)n >= iov[0].iov_len) {
					x->out_sent = x->out->end;
					n -= (ssize_t)iov[0].iov_len;
					x->body_bytes += (uint64_t)n;
					buf_consume(x->uin, (uint32_t)n);
				} else
					x->out_sent += (uint32_t)n;
			}
		} else if (x->up->k.readable) {
			buf_reset(x->uin);
			rc = proxy_read_upstream(x, &err);
			if (rc == -1)
				return tunnel_end(x);
			progress = rc == 0;
		}
		/* client -> upstream */
		if (in->end > x->body_off) {
			if (x->up->k.writable) {
				iov[0].iov_base = in->data + x->body_off;
				iov[0].iov_len = in->end - x->body_off;
				n = io_writev(&x->up->k, iov, 1);
				if (n == -1)
					return tunnel_end(x);
				if (n > 0) {
					x->body_off += (uint32_t)n;
					progress = true;
				}
			}
		} else if (c->k.readable) {
			proxy_reclaim_body_room(x);
			n = io_read(&c->k, buf_tail(in), buf_room(in));
			if (n == 0 || n == -1)
				return tunnel_end(x);
			if (n > 0) {
				buf_commit(in, (uint32_t)n);
				progress = true;
			}
		}
	} while (progress);
	/* tunnel_timeout counts from the last byte that moved. */
	ev_timer_stop(&c->timer);
	client_timer(c, &x->w->tq_tunnel);
	return PT_AGAIN;
}
