/*
 * http1.h: an incremental, zero-copy parser for HTTP/1.x message heads,
 * strict to RFC 9112.  A chunked body (msg->body == HTTP1_BODY_CHUNKED)
 * is read by chunked.h.
 *
 * The parser never copies: every string it reports is an offset and a
 * length into the caller's buffer (struct http1_str), so the buffer may be
 * moved or grown between calls without invalidating anything.
 *
 * A head is parsed line by line as bytes arrive.  The caller keeps the
 * bytes it has received at the start of one buffer and calls
 * http1_parse_request() (or _response()) again after each read with the
 * whole buffer; the parser resumes at the first line it has not parsed yet
 * (msg->parsed), so a head that arrives a byte at a time costs O(n).
 *
 * Anything ambiguous is an error, never guessed at: the message must be
 * answered with msg->error_status (400, 414, 431, 501, 505) and the
 * connection closed.  For a response the caller answers 502 instead.
 */
#ifndef HTTP1_H
#define HTTP1_H

#include "pt.h"

/* A string inside the caller's buffer. */
struct http1_str {
	uint32_t	off;
	uint32_t	len;
};

struct http1_header {
	struct http1_str name;
	struct http1_str value;	/* without leading and trailing OWS */
	uint8_t		 kind;	/* HTTP1_H_*: the headers the proxy acts on */
};

/* Headers the parser recognises (case-insensitively) and records in kind. */
enum http1_hkind {
	HTTP1_H_OTHER = 0,
	HTTP1_H_HOST,
	HTTP1_H_CONTENT_LENGTH,
	HTTP1_H_TRANSFER_ENCODING,
	HTTP1_H_CONNECTION,
	HTTP1_H_KEEP_ALIVE,
	HTTP1_H_TE,
	HTTP1_H_TRAILER,
	HTTP1_H_UPGRADE,
	HTTP1_H_PROXY_CONNECTION,	/* "Proxy-*" headers, and "Proxy" */
	HTTP1_H_EXPECT,
	HTTP1_H_X_FORWARDED_FOR,
	HTTP1_H_X_FORWARDED_PROTO,
	HTTP1_H_X_FORWARDED_HOST,
	HTTP1_H_VIA,
	HTTP1_H_DATE,
	HTTP1_H_SERVER,
};

enum http1_method {
	HTTP1_M_OTHER = 0,	/* a valid token we do not know: passed on */
	HTTP1_M_GET,
	HTTP1_M_HEAD,
	HTTP1_M_POST,
	HTTP1_M_PUT,
	HTTP1_M_DELETE,
	HTTP1_M_CONNECT,
	HTTP1_M_OPTIONS,
	HTTP1_M_TRACE,
	HTTP1_M_PATCH,
};

/* How the body of a message is delimited (RFC 9112 6.3). */
enum http1_body {
	HTTP1_BODY_NONE = 0,	/* no body at all */
	HTTP1_BODY_LENGTH,	/* content_length bytes */
	HTTP1_BODY_CHUNKED,	/* chunked transfer coding */
	HTTP1_BODY_CLOSE,	/* until the connection closes (responses) */
};

/* Flags set from the head. */
#define HTTP1_F_CONN_CLOSE	0x0001	/* Connection: close */
#define HTTP1_F_CONN_KEEPALIVE	0x0002	/* Connection: keep-alive */
#define HTTP1_F_CONN_UPGRADE	0x0004	/* Connection: upgrade */
#define HTTP1_F_UPGRADE		0x0008	/* an Upgrade header is present */
#define HTTP1_F_EXPECT_CONTINUE	0x0010	/* Expect: 100-continue */
#define HTTP1_F_CONN_OTHER	0x0020	/* Connection names other headers */

struct http1_limits {
	uint32_t	max_line;	/* request or status line, bytes: 414 */
	uint32_t	max_head;	/* whole head, bytes: 431 */
	uint32_t	max_headers;	/* header lines: 431; <= msg capacity */
};

/*
 * One message head.  Zero it (http1_msg_init()) before the first call for
 * a message; then only the parser writes it until it returns 0 or -1.
 */
struct http1_msg {
	/* request line */
	uint8_t		 method;	/* enum http1_method */
	struct http1_str method_str;
	struct http1_str target;	/* request-target as sent */
	/* status line */
	uint16_t	 status;
	struct http1_str reason;
	/* both */
	uint8_t		 version_minor;	/* HTTP/1.0 or HTTP/1.1 */
	uint16_t	 flags;		/* HTTP1_F_* */
	uint8_t		 body;		/* enum http1_body */
	uint64_t	 content_length;
	struct http1_str host;		/* requests: the Host value, or len 0 */

	struct http1_header *headers;	/* caller's array ... */
	uint32_t	 max_headers;	/* ... and its capacity */
	uint32_t	 nheaders;

	uint32_t	 head_len;	/* when complete: bytes of the head,
					   final CRLF included */
	/* parser state */
	uint32_t	 parsed;	/* bytes of whole lines parsed so far */
	uint16_t	 error_status;	/* on -1: the status to answer */
	const char	*error;		/* on -1: why, for the error log */
	uint32_t	 scan;		/* private: no LF in [parsed, scan) */
	uint8_t		 state;		/* private: start line, fields, done */
	uint8_t		 seen;		/* private: framing headers seen */
	uint8_t		 nempty;	/* private: CRLFs before the request */
};

/* http1_msg_init(): ready msg for a new message, headers in hdrs[cap]. */
void	http1_msg_init(struct http1_msg *msg, struct http1_header *hdrs,
	    uint32_t cap);

/*
 * http1_parse_request(): parse the request head at the start of buf.
 * Returns 0 when the head is complete (msg->head_len bytes), PT_AGAIN when
 * more bytes are needed, -1 when the request is malformed (error_status,
 * error set).  On 0, msg->body says how the body is framed:
 *   - Transfer-Encoding whose final coding is chunked: CHUNKED;
 *     any other Transfer-Encoding: 501; TE in HTTP/1.0: 400;
 *   - Content-Length (digits only; repeated identical values accepted,
 *     differing values 400): LENGTH, or NONE when 0;
 *   - both Transfer-Encoding and Content-Length: 400 (RFC 9112 6.3);
 *   - otherwise NONE.
 * HTTP/1.1 requires exactly one Host (RFC 9112 3.2); a second is 400.
 * Versions other than 1.0 and 1.1: 505.  Lines longer than max_line: 414
 * (request line) or 431 (header); more than max_head bytes or max_headers
 * header lines: 431.  Rejected with 400: obs-fold, whitespace between name
 * and colon, bare CR or bare LF, control characters (other than HTAB) or
 * NUL in values, non-token characters in names and methods, an empty
 * name, an invalid request-target (spaces, controls), a Host with
 * characters not allowed in a uri-host[:port], a Connection header that
 * names Content-Length, Transfer-Encoding or Host.  Line lengths do not
 * count the CRLF; head_len includes up to 4 empty lines before the
 * request line (RFC 9112 2.2), which are otherwise ignored.
 */
int	http1_parse_request(const char *buf, size_t len, struct http1_msg *msg,
	    const struct http1_limits *lim);

/*
 * http1_parse_response(): the same for a response head.  req_method is the
 * method of the request it answers: HEAD, 1xx, 204 and 304 responses have
 * no body; a 2xx answer to CONNECT neither; otherwise chunked, then
 * Content-Length, then CLOSE (read until the origin closes).
 * Errors set error_status 502.  A 1xx head other than 101 is a complete
 * message of its own: the caller relays it and parses the next head.
 */
int	http1_parse_response(const char *buf, size_t len, struct http1_msg *msg,
	    const struct http1_limits *lim, uint8_t req_method);

/* http1_str_eq(): whether s in buf equals lit ignoring ASCII case. */
bool	http1_str_eq(const char *buf, struct http1_str s, const char *lit);


#endif /* HTTP1_H */
