/*
 * accesslog.c: the buffered access log.  See accesslog.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "accesslog.h"
#include "addr.h"
#include "client.h"
#include "log.h"

/* The longest line: request line, referer and agent are cut to fit. */
#define LINE_MAX_BYTES	4096

struct accesslog {
	const struct config_access_log *cf;
	struct ev_loop	*loop;
	int		 fd;
	char		*buf;
	size_t		 len, size;
	struct ev_tq	 tq;
	struct ev_timer	 timer;
	time_t		 stamp_sec;	/* when stamp was formatted */
	char		 stamp[32];	/* "28/Nov/2026:10:00:00 +0000" */
};

/* accesslog_open(): see accesslog.h. */
struct accesslog *
accesslog_open(struct ev_loop *loop, const struct config_access_log *cf)
{
	struct accesslog *al;

	if ((al = calloc(1, sizeof(*al))) == NULL)
		return NULL;
	al->cf = cf;
	al->loop = loop;
	al->size = pt_max(cf->buffer, 2 * LINE_MAX_BYTES);
	if ((al->buf = malloc(al->size)) == NULL) {
		free(al);
		return NULL;
	}
	al->fd = open(cf->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0644);
	if (al->fd == -1) {
		log_warn("cannot open access log %s", cf->path);
		free(al->buf);
		free(al);
		return NULL;
	}
	ev_tq_init(loop, &al->tq, cf->flush_ms);
	al->stamp_sec = -1;
	return al;
}

/* accesslog_flush(): see accesslog.h. */
void
accesslog_flush(struct accesslog *al)
{
	ssize_t n;

	ev_timer_stop(&al->timer);
	if (al->len == 0)
		return;
	/* A regular file takes the whole block; if it does not (disk
	   full), the block is dropped rather than kept growing. */
	n = write(al->fd, al->buf, al->len);
	if (n != (ssize_t)al->len)
		log_warn("access log %s: lost %zu bytes", al->cf->path,
		    al->len - (n > 0 ? (size_t)n : 0));
	al->len = 0;
}

static void
flush_timer(struct ev_timer *t)
{
	struct accesslog *al = (struct accesslog *)((char *)t -
	    offsetof(struct accesslog, timer));

	accesslog_flush(al);
}

/* Copy a quoted field, escaping '"', '\\' and bytes a terminal would act
   on, so that no client can forge a line or a field. */
static size_t
put_quoted(char *dst, size_t room, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t		  i, n = 0;

	if (s == NULL) {
		if (room >= 1)
			dst[n++] = '-';
		return n;
	}
	for (i = 0; i < len && n + 4 < room; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '"' || ch == '\\' || ch < 0x20 || ch >= 0x7f) {
			dst[n++] = '\\';
			dst[n++] = 'x';
			dst[n++] = hex[ch >> 4];
			dst[n++] = hex[ch & 15];
		} else
			dst[n++] = (char)ch;
	}
	return n;
}

/* accesslog_add(): see accesslog.h. */
void
accesslog_add(struct accesslog *al, const struct accesslog_entry *e)
{
	char		 ip[ADDR_TEXT_MAX], *p;
	size_t		 room;
	int		 r;
	time_t		 now = ev_time(al->loop);
	struct tm	 tm;

	if (al->size - al->len < LINE_MAX_BYTES)
		accesslog_flush(al);
	if (now != al->stamp_sec) {
		gmtime_r(&now, &tm);
		strftime(al->stamp, sizeof(al->stamp), "%d/%b/%Y:%H:%M:%S +0000",
		    &tm);
		al->stamp_sec = now;
	}
	addr_format_ip(e->client, ip, sizeof(ip));
	p = al->buf + al->len;
	room = LINE_MAX_BYTES - 128;	/* the fixed fields fit in 128 */
	r = snprintf(p, room, "%s - - [%s] \"", ip, al->stamp);
	p += r;
	p += put_quoted(p, LINE_MAX_BYTES / 2, e->request, e->request_len);
	r = snprintf(p, 64, "\" %u %llu \"", e->status,
	    (unsigned long long)e->bytes);
	p += r;
	p += put_quoted(p, LINE_MAX_BYTES / 8, e->referer, e->referer_len);
	*p++ = '"';
	*p++ = ' ';
	*p++ = '"';
	p += put_quoted(p, LINE_MAX_BYTES / 8, e->user_agent,
	    e->user_agent_len);
	r = snprintf(p, 200, "\" %s %llu.%03llu %llu.%03llu\n",
	    e->upstream != NULL ? e->upstream : "-",
	    (unsigned long long)(e->upstream_ms / 1000),
	    (unsigned long long)(e->upstream_ms % 1000),
	    (unsigned long long)(e->total_ms / 1000),
	    (unsigned long long)(e->total_ms % 1000));
	p += r;
	al->len = (size_t)(p - al->buf);
	if (!ev_timer_active(&al->timer))
		ev_timer_start(al->loop, &al->tq, &al->timer, flush_timer);
}

/* accesslog_reopen(): see accesslog.h. */
void
accesslog_reopen(struct accesslog *al)
{
	int fd;

	accesslog_flush(al);
	fd = open(al->cf->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0644);
	if (fd == -1) {
		log_warn("cannot reopen access log %s", al->cf->path);
		return;
	}
	close(al->fd);
	al->fd = fd;
}

/* accesslog_close(): see accesslog.h. */
void
accesslog_close(struct accesslog *al)
{
	if (al == NULL)
		return;
	accesslog_flush(al);
	close(al->fd);
	free(al->buf);
	free(al);
}

/* accesslog_request(): see accesslog.h. */
void
accesslog_request(struct accesslog *al, const struct exchange *x)
{
	struct accesslog_entry	 e;
	const struct http1_msg	*m = &x->req;
	const char		*base = buf_head(x->c->in);
	const char		*eol;
	uint32_t		 i;

	memset(&e, 0, sizeof(e));
	e.client = &x->c->peer.sa;
	/* The request line, as received, ends at the first CR; a request
	   refused before its head was whole is logged with an empty one. */
	e.request = base + m->method_str.off;
	eol = m->head_len == 0 ? NULL :
	    memchr(e.request, '\r', m->head_len - m->method_str.off);
	e.request_len = eol != NULL ? (size_t)(eol - e.request) : 0;
	for (i = 0; i < m->nheaders && m->head_len != 0; i++) {
		const struct http1_header *h = &m->headers[i];

		if (h->kind != HTTP1_H_OTHER)
			continue;
		if (http1_str_eq(base, h->name, "referer")) {
			e.referer = base + h->value.off;
			e.referer_len = h->value.len;
		} else if (http1_str_eq(base, h->name, "user-agent")) {
			e.user_agent = base + h->value.off;
			e.user_agent_len = h->value.len;
		}
	}
	e.status = x->status;
	e.bytes = x->body_bytes;
	e.upstream = x->srv != NULL ? x->srv->name : NULL;
	if (x->t_upstream != 0)
		e.upstream_ms = (x->t_upstream_end != 0 ? x->t_upstream_end :
		    ev_now(x->w->loop)) - x->t_upstream;
	e.total_ms = ev_now(x->w->loop) - x->t_start;
	accesslog_add(al, &e);
}
