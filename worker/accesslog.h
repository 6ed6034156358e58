/*
 * accesslog.h: the access log of a worker, one line per request in the
 * combined format plus three fields:
 *
 *   127.0.0.1 - - [28/Nov/2026:10:00:00 +0000] "GET /x HTTP/1.1" 200 123
 *   "referer" "user-agent" 127.0.0.1:8000 0.001 0.002
 *
 * (one line): upstream address ("-" when answered by Portico itself),
 * upstream response time and total time in seconds.  Lines are gathered in
 * a buffer and written in blocks: when it is full, every flush_ms, and
 * when the worker stops.
 */
#ifndef ACCESSLOG_H
#define ACCESSLOG_H

#include "config.h"
#include "ev.h"

struct accesslog;
struct exchange;

/* The fields of one line; strings need not be NUL-terminated. */
struct accesslog_entry {
	const struct sockaddr *client;
	const char	*request;	/* the request line, without CRLF */
	size_t		 request_len;
	const char	*referer;	/* NULL: "-" */
	size_t		 referer_len;
	const char	*user_agent;	/* NULL: "-" */
	size_t		 user_agent_len;
	unsigned	 status;
	uint64_t	 bytes;		/* body bytes sent to the client */
	const char	*upstream;	/* NULL: "-" */
	uint64_t	 upstream_ms;
	uint64_t	 total_ms;
};

/* accesslog_open(): NULL (after logging why) when the file cannot be
   opened; the worker then runs without an access log. */
struct accesslog *accesslog_open(struct ev_loop *loop,
	    const struct config_access_log *cf);

/* accesslog_add(): format one line into the buffer. */
void	accesslog_add(struct accesslog *al, const struct accesslog_entry *e);

/* accesslog_flush(): write what is buffered. */
void	accesslog_flush(struct accesslog *al);

/* accesslog_reopen(): flush, then reopen the file (logrotate). */
void	accesslog_reopen(struct accesslog *al);

/* accesslog_close(): flush and free. */
void	accesslog_close(struct accesslog *al);

/* accesslog_request(): the line of x, a finished exchange. */
void	accesslog_request(struct accesslog *al, const struct exchange *x);

#endif /* ACCESSLOG_H */
