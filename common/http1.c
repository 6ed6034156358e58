/*
 * http1.c: the HTTP/1.x head parser (see http1.h); the chunked body that
 * may follow a head is chunked.c's.
 *
 * A head is read a whole line at a time: memchr() finds the LF, the line
 * is checked against the limits, then its bytes are classified through
 * one 256-entry table, never by a function call per byte.  msg->parsed is
 * where the first line not yet parsed starts and msg->scan how far past
 * it there is surely no LF, so a head that arrives a byte at a time is
 * still read once.  Every decision depends on the bytes of whole lines, or
 * on how far an unfinished line has grown, never on how the bytes were
 * split across reads: the result is the same for any split.
 */
#include "http1.h"

/* Character classes: RFC 9110 5.6.2 (token), 5.5 (field value), RFC 9112
   3.2 (request-target), RFC 3986 3.2.2 (reg-name). */
#define C_TCHAR		0x01	/* token: methods, field names, codings */
#define C_VALUE		0x02	/* field-vchar, obs-text, SP, HTAB */
#define C_TARGET	0x04	/* VCHAR but '#': no fragment is sent */
#define C_HOST		0x08	/* unreserved, sub-delims and '%' */
#define C_HEX		0x10
#define C_DIGIT		0x20
#define C_OWS		0x40	/* SP, HTAB */

static const uint8_t cclass[256] = {
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,	/* 00 */
	0x00, 0x42, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,	/* 08 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,	/* 10 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,	/* 18 */
	0x42, 0x0f, 0x06, 0x03, 0x0f, 0x0f, 0x0f, 0x0f,	/* 20 */
	0x0e, 0x0e, 0x0f, 0x0f, 0x0e, 0x0f, 0x0f, 0x06,	/* 28 */
	0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f,	/* 30 */
	0x3f, 0x3f, 0x06, 0x0e, 0x06, 0x0e, 0x06, 0x06,	/* 38 */
	0x06, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x0f,	/* 40 */
	0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f,	/* 48 */
	0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f,	/* 50 */
	0x0f, 0x0f, 0x0f, 0x06, 0x06, 0x06, 0x07, 0x0f,	/* 58 */
	0x07, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x1f, 0x0f,	/* 60 */
	0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f,	/* 68 */
	0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f, 0x0f,	/* 70 */
	0x0f, 0x0f, 0x0f, 0x06, 0x07, 0x06, 0x0f, 0x00,	/* 78 */
	0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,	/* 80 */
	0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,	/* 88 */
	0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,	/* 90 */
	0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,	/* 98 */
	0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,	/* a0 */
	0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,	/* a8 */
	0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,	/* b0 */
	0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,	/* b8 */
	0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,	/* c0 */
	0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,	/* c8 */
	0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,	/* d0 */
	0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,	/* d8 */
	0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,	/* e0 */
	0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,	/* e8 */
	0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,	/* f0 */
	0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,	/* f8 */
};

/* msg->state */
enum {
	ST_START = 0,	/* before the request or status line */
	ST_FIELDS,	/* in the header section */
	ST_DONE,
	ST_ERROR,
};

/* msg->seen: the framing headers met so far. */
#define S_HOST		0x01
#define S_CL		0x02
#define S_TE		0x04
#define S_CHUNKED	0x08	/* chunked among the codings */
#define S_CHUNKED_LAST	0x10	/* ... and the last coding so far */

/* RFC 9112 2.2: a server SHOULD ignore at least one empty line before
   the request-line; a few, no more, so CRLFs cannot hold a worker. */
#define MAX_EMPTY_LINES	4

/*
 * One call's view of a message being parsed: the buffer as unsigned
 * bytes (they index cclass[]), the message, and what kind it is.  Kept
 * on the stack: nothing of a call survives it but the fields of msg.
 */
struct ctx {
	const unsigned char		*p;
	struct http1_msg		*msg;
	const struct http1_limits	*lim;
	bool				 response;
	uint8_t				 req_method;
};

/* ASCII tolower() without the locale: only A-Z move. */
static inline unsigned
lower(unsigned char c)
{
	return (unsigned)(c - 'A') < 26 ? c | 0x20u : c;
}

/* Whether the n bytes at p are lit (lowercase) ignoring ASCII case. */
static inline bool
lc_eq(const unsigned char *p, size_t n, const char *lit, size_t litlen)
{
	size_t	i;

	if (n != litlen)
		return false;
	for (i = 0; i < n; i++)
		if (lower(p[i]) != (unsigned char)lit[i])
			return false;
	return true;
}

#define LC_EQ(p, n, lit)	lc_eq((p), (n), lit, sizeof(lit) - 1)

/* An offset and a length: both below max_head, so they fit. */
static inline struct http1_str
mkstr(size_t off, size_t len)
{
	struct http1_str s = { (uint32_t)off, (uint32_t)len };

	return s;
}

/* The message is refused: a response always with 502 (http1.h). */
static int
fail(struct ctx *x, uint16_t status, const char *why)
{
	x->msg->error_status = x->response ? 502 : status;
	x->msg->error = why;
	x->msg->state = ST_ERROR;
	return -1;
}

/*
 * The methods the proxy acts on (RFC 9110 9.3, RFC 5789 for PATCH);
 * any other token is passed on as HTTP1_M_OTHER.  RFC 9110 9.1: methods
 * are case-sensitive, so "get" is not GET.
 */
static uint8_t
method_kind(const unsigned char *m, size_t n)
{
	switch (n) {
	case 3:
		if (memcmp(m, "GET", 3) == 0)
			return HTTP1_M_GET;
		if (memcmp(m, "PUT", 3) == 0)
			return HTTP1_M_PUT;
		break;
	case 4:
		if (memcmp(m, "HEAD", 4) == 0)
			return HTTP1_M_HEAD;
		if (memcmp(m, "POST", 4) == 0)
			return HTTP1_M_POST;
		break;
	case 5:
		if (memcmp(m, "TRACE", 5) == 0)
			return HTTP1_M_TRACE;
		if (memcmp(m, "PATCH", 5) == 0)
			return HTTP1_M_PATCH;
		break;
	case 6:
		if (memcmp(m, "DELETE", 6) == 0)
			return HTTP1_M_DELETE;
		break;
	case 7:
		if (memcmp(m, "CONNECT", 7) == 0)
			return HTTP1_M_CONNECT;
		if (memcmp(m, "OPTIONS", 7) == 0)
			return HTTP1_M_OPTIONS;
		break;
	}
	return HTTP1_M_OTHER;
}

/*
 * The header fields the proxy acts on: framing (RFC 9112 6), routing
 * (Host), hop-by-hop ones it strips (RFC 9110 7.6.1) and the ones it
 * adds or replaces.  Names compare case-insensitively (RFC 9110 5.1).
 */
static const struct known_field {
	const char	*name;		/* lowercase */
	uint8_t		 len;
	uint8_t		 kind;
} known_fields[] = {
	{ "host", 4, HTTP1_H_HOST },
	{ "content-length", 14, HTTP1_H_CONTENT_LENGTH },
	{ "transfer-encoding", 17, HTTP1_H_TRANSFER_ENCODING },
	{ "connection", 10, HTTP1_H_CONNECTION },
	{ "keep-alive", 10, HTTP1_H_KEEP_ALIVE },
	{ "te", 2, HTTP1_H_TE },
	{ "trailer", 7, HTTP1_H_TRAILER },
	{ "upgrade", 7, HTTP1_H_UPGRADE },
	{ "expect", 6, HTTP1_H_EXPECT },
	{ "x-forwarded-for", 15, HTTP1_H_X_FORWARDED_FOR },
	{ "x-forwarded-proto", 17, HTTP1_H_X_FORWARDED_PROTO },
	{ "x-forwarded-host", 16, HTTP1_H_X_FORWARDED_HOST },
	{ "via", 3, HTTP1_H_VIA },
	{ "date", 4, HTTP1_H_DATE },
	{ "server", 6, HTTP1_H_SERVER },
	/* httpoxy: a "Proxy" header becomes HTTP_PROXY in a CGI. */
	{ "proxy", 5, HTTP1_H_PROXY_CONNECTION },
};

/* The kind of a field name: a length check rejects most at once. */
static uint8_t
field_kind(const unsigned char *name, size_t n)
{
	const struct known_field	*k;
	size_t				 i;

	/* Proxy-Connection, Proxy-Authorization, ...: never passed on. */
	if (n >= 6 && LC_EQ(name, 6, "proxy-"))
		return HTTP1_H_PROXY_CONNECTION;
	for (i = 0; i < PT_NELEM(known_fields); i++) {
		k = &known_fields[i];
		if (k->len == n &&
		    lower(name[0]) == (unsigned char)k->name[0] &&
		    lc_eq(name, n, k->name, n))
			return k->kind;
	}
	return HTTP1_H_OTHER;
}

/* Flags for valid_authority(). */
#define A_PORT		0x01	/* the port is required */
#define A_EMPTY		0x02	/* an empty value is allowed */

/*
 * RFC 9110 7.2 and 4.2, RFC 3986 3.2.2: uri-host [ ":" port ], where the
 * host is a reg-name or IPv4address (checked by character, pct-encoded
 * included) or an IP-literal in brackets.  A userinfo ('@') is refused
 * (RFC 9110 4.2.4), as is an empty host with a port, or a port that is
 * empty, longer than 5 digits or above 65535.
 */
static bool
valid_authority(const unsigned char *p, size_t n, int flags)
{
	size_t		i = 0, d;
	uint32_t	port;

	if (n == 0)
		return (flags & A_EMPTY) && !(flags & A_PORT);
	if (p[0] == '[') {
		for (i = 1; i < n && p[i] != ']'; i++)
			if (!(cclass[p[i]] & C_HEX) && p[i] != ':' &&
			    p[i] != '.')
				return false;
		if (i == n || i == 1)
			return false;
		i++;
	} else {
		while (i < n && (cclass[p[i]] & C_HOST)) {
			if (p[i] == '%' && (n - i < 3 ||
			    !(cclass[p[i + 1]] & C_HEX) ||
			    !(cclass[p[i + 2]] & C_HEX)))
				return false;
			i += p[i] == '%' ? 3 : 1;
		}
		if (i == 0)
			return false;
	}
	if (i == n)
		return !(flags & A_PORT);
	if (p[i++] != ':' || n - i == 0 || n - i > 5)
		return false;
	for (port = 0, d = i; d < n; d++) {
		if (!(cclass[p[d]] & C_DIGIT))
			return false;
		port = port * 10 + (p[d] - '0');
	}
	return port <= 65535;
}

/* RFC 9112 2.3: HTTP-version = "HTTP/" DIGIT "." DIGIT, case-sensitive;
   v has 8 bytes.  Only 1.0 and 1.1 are spoken here: others are 505. */
static int
version(struct ctx *x, const unsigned char *v)
{
	if (memcmp(v, "HTTP/", 5) != 0 || !(cclass[v[5]] & C_DIGIT) ||
	    v[6] != '.' || !(cclass[v[7]] & C_DIGIT))
		return fail(x, 400, "invalid HTTP version");
	if (v[5] != '1' || v[7] > '1')
		return fail(x, 505, "HTTP version not supported");
	x->msg->version_minor = (uint8_t)(v[7] - '0');
	return 0;
}

/*
 * RFC 9112 3.2: which form of request-target the method allows.
 * origin-form for all but CONNECT; authority-form (host:port) for CONNECT
 * only (3.2.3); asterisk-form for OPTIONS only (3.2.4); absolute-form with
 * an http or https scheme and a valid, non-empty authority (3.2.2).
 */
static int
target_form(struct ctx *x)
{
	struct http1_msg	*msg = x->msg;
	const unsigned char	*t = x->p + msg->target.off;
	size_t			 n = msg->target.len, a, e;

	if (msg->method == HTTP1_M_CONNECT) {
		if (!valid_authority(t, n, A_PORT))
			return fail(x, 400, "CONNECT target not host:port");
		return 0;
	}
	if (t[0] == '/')
		return 0;
	if (n == 1 && t[0] == '*') {
		if (msg->method != HTTP1_M_OPTIONS)
			return fail(x, 400, "'*' target without OPTIONS");
		return 0;
	}
	if (n > 7 && LC_EQ(t, 7, "http://"))
		a = 7;
	else if (n > 8 && LC_EQ(t, 8, "https://"))
		a = 8;
	else
		return fail(x, 400, "invalid request-target");
	for (e = a; e < n && t[e] != '/' && t[e] != '?'; e++)
		continue;
	if (!valid_authority(t + a, e - a, 0))
		return fail(x, 400, "invalid authority in request-target");
	return 0;
}

/* RFC 9112 3: request-line = method SP request-target SP HTTP-version,
   separated by exactly one SP each, nothing else. */
static int
request_line(struct ctx *x, size_t s, size_t le)
{
	struct http1_msg	*msg = x->msg;
	const unsigned char	*p = x->p;
	size_t			 i = s, t;

	while (i < le && (cclass[p[i]] & C_TCHAR))
		i++;
	if (i == s || i == le || p[i] != ' ')
		return fail(x, 400, "invalid method");
	msg->method_str = mkstr(s, i - s);
	msg->method = method_kind(p + s, i - s);
	t = ++i;
	while (i < le && (cclass[p[i]] & C_TARGET))
		i++;
	if (i == t || i == le || p[i] != ' ')
		return fail(x, 400, "invalid request-target");
	msg->target = mkstr(t, i - t);
	if (le - ++i != 8)
		return fail(x, 400, "invalid HTTP version");
	if (version(x, p + i) == -1)
		return -1;
	return target_form(x);
}

/*
 * RFC 9112 4: status-line = HTTP-version SP status-code SP [ reason ].
 * The SP before an empty reason is required, but origins that leave it
 * out are common and unambiguous, so "HTTP/1.1 200" is taken too.
 */
static int
status_line(struct ctx *x, size_t s, size_t le)
{
	struct http1_msg	*msg = x->msg;
	const unsigned char	*p = x->p + s;
	size_t			 n = le - s, i;

	if (n < 12 || p[8] != ' ')
		return fail(x, 502, "invalid status line");
	if (version(x, p) == -1)
		return -1;
	for (i = 9; i < 12; i++)
		if (!(cclass[p[i]] & C_DIGIT))
			return fail(x, 502, "invalid status code");
	msg->status = (uint16_t)((p[9] - '0') * 100 + (p[10] - '0') * 10 +
	    (p[11] - '0'));
	if (msg->status < 100 || msg->status > 599)
		return fail(x, 502, "status code out of range");
	if (n == 12) {
		msg->reason = mkstr(s + 12, 0);
		return 0;
	}
	if (p[12] != ' ')
		return fail(x, 502, "invalid status line");
	for (i = 13; i < n; i++)
		if (!(cclass[p[i]] & C_VALUE))
			return fail(x, 502, "invalid reason phrase");
	msg->reason = mkstr(s + 13, n - 13);
	return 0;
}

/*
 * RFC 9110 8.6: Content-Length = 1*DIGIT.  A list of identical values
 * (what a careless intermediary makes of duplicates) counts as one value,
 * and so do repeated fields with one value; anything else (a sign, inner
 * spaces, hex, an empty element, more than 2^64 - 1) is refused.
 */
static int
content_length(struct ctx *x, const unsigned char *v, size_t n)
{
	struct http1_msg	*msg = x->msg;
	uint64_t		 val, d;
	size_t			 i = 0;

	for (;;) {
		if (i == n || !(cclass[v[i]] & C_DIGIT))
			return fail(x, 400, "invalid Content-Length");
		for (val = 0; i < n && (cclass[v[i]] & C_DIGIT); i++) {
			d = v[i] - '0';
			if (val > (UINT64_MAX - d) / 10)
				return fail(x, 400, "Content-Length overflows");
			val = val * 10 + d;
		}
		if ((msg->seen & S_CL) && val != msg->content_length)
			return fail(x, 400, "differing Content-Length values");
		msg->content_length = val;
		msg->seen |= S_CL;
		while (i < n && (cclass[v[i]] & C_OWS))
			i++;
		if (i == n)
			return 0;
		if (v[i++] != ',')
			return fail(x, 400, "invalid Content-Length");
		while (i < n && (cclass[v[i]] & C_OWS))
			i++;
	}
}

/*
 * RFC 9112 6.1 and 7: Transfer-Encoding is a list of codings, across all
 * its fields.  chunked may appear once and must come last (checked at the
 * end of the head).  Codings are bare tokens: parameters, which no coding
 * in use takes, and empty elements are refused rather than guessed at.
 */
static int
transfer_encoding(struct ctx *x, const unsigned char *v, size_t n)
{
	struct http1_msg	*msg = x->msg;
	size_t			 i = 0, t;

	msg->seen |= S_TE;
	for (;;) {
		for (t = i; i < n && (cclass[v[i]] & C_TCHAR); i++)
			continue;
		if (i == t)
			return fail(x, 400, "invalid Transfer-Encoding");
		if (LC_EQ(v + t, i - t, "chunked")) {
			if (msg->seen & S_CHUNKED)
				return fail(x, 400, "chunked applied twice");
			msg->seen |= S_CHUNKED | S_CHUNKED_LAST;
		} else
			msg->seen &= (uint8_t)~S_CHUNKED_LAST;
		while (i < n && (cclass[v[i]] & C_OWS))
			i++;
		if (i == n)
			return 0;
		if (v[i++] != ',')
			return fail(x, 400, "invalid Transfer-Encoding");
		while (i < n && (cclass[v[i]] & C_OWS))
			i++;
	}
}

/*
 * RFC 9110 7.6.1: Connection = #connection-option, each a token; empty
 * elements are allowed.  Naming a header that frames or routes the
 * message would let a proxy strip it on the way and desynchronise the
 * two sides (request smuggling): refused.
 */
static int
connection(struct ctx *x, const unsigned char *v, size_t n)
{
	struct http1_msg	*msg = x->msg;
	size_t			 i = 0, t, len;

	while (i < n) {
		if (v[i] == ',' || (cclass[v[i]] & C_OWS)) {
			i++;
			continue;
		}
		for (t = i; i < n && (cclass[v[i]] & C_TCHAR); i++)
			continue;
		if (i == t)
			return fail(x, 400, "invalid Connection option");
		len = i - t;
		if (LC_EQ(v + t, len, "close"))
			msg->flags |= HTTP1_F_CONN_CLOSE;
		else if (LC_EQ(v + t, len, "keep-alive"))
			msg->flags |= HTTP1_F_CONN_KEEPALIVE;
		else if (LC_EQ(v + t, len, "upgrade"))
			msg->flags |= HTTP1_F_CONN_UPGRADE;
		else if (LC_EQ(v + t, len, "content-length") ||
		    LC_EQ(v + t, len, "transfer-encoding") ||
		    LC_EQ(v + t, len, "host"))
			return fail(x, 400, "Connection names a framing "
			    "header");
		else
			msg->flags |= HTTP1_F_CONN_OTHER;
	}
	return 0;
}

/*
 * What the headers the parser acts on mean for the message.  Each is
 * checked as its line arrives, so an error is found at the same line
 * however the head was split; what depends on the whole head (a missing
 * Host, TE with CL) waits for the empty line.
 */
static int
field_meaning(struct ctx *x, uint8_t kind, const unsigned char *v, size_t n)
{
	struct http1_msg	*msg = x->msg;

	switch (kind) {
	case HTTP1_H_HOST:
		if (x->response)
			break;
		/* RFC 9112 3.2: exactly one Host; RFC 9110 7.2: its form */
		if (msg->seen & S_HOST)
			return fail(x, 400, "more than one Host");
		if (!valid_authority(v, n, A_EMPTY))
			return fail(x, 400, "invalid Host");
		msg->host = mkstr((size_t)(v - x->p), n);
		msg->seen |= S_HOST;
		break;
	case HTTP1_H_CONTENT_LENGTH:
		return content_length(x, v, n);
	case HTTP1_H_TRANSFER_ENCODING:
		return transfer_encoding(x, v, n);
	case HTTP1_H_CONNECTION:
		return connection(x, v, n);
	case HTTP1_H_UPGRADE:
		/* RFC 9110 7.8: ignored in an HTTP/1.0 message */
		if (msg->version_minor == 1)
			msg->flags |= HTTP1_F_UPGRADE;
		break;
	case HTTP1_H_EXPECT:
		/* RFC 9110 10.1.1: ignored in an HTTP/1.0 request */
		if (!x->response && msg->version_minor == 1 &&
		    LC_EQ(v, n, "100-continue"))
			msg->flags |= HTTP1_F_EXPECT_CONTINUE;
		break;
	}
	return 0;
}

/*
 * RFC 9112 5: field-line = field-name ":" OWS field-value OWS.  No
 * whitespace before the colon (5.1), no obs-fold (5.2), nothing in the
 * value but field-vchar, obs-text, SP and HTAB (RFC 9110 5.5): that
 * leaves out NUL, CR and every other control.
 */
static int
field_line(struct ctx *x, size_t s, size_t le)
{
	struct http1_msg	*msg = x->msg;
	const unsigned char	*p = x->p;
	struct http1_header	*h;
	size_t			 i = s, colon, v;
	uint8_t			 kind;

	if (msg->nheaders >= msg->max_headers ||
	    msg->nheaders >= x->lim->max_headers)
		return fail(x, 431, "too many header fields");
	if (cclass[p[s]] & C_OWS)
		return fail(x, 400, "obs-fold or space before a field name");
	while (i < le && (cclass[p[i]] & C_TCHAR))
		i++;
	if (i == le || p[i] != ':')
		return fail(x, 400, i == le ? "field line without a colon" :
		    (cclass[p[i]] & C_OWS) ? "whitespace in a field name" :
		    p[i] == '\r' ? "bare CR" : "invalid character in a field "
		    "name");
	if (i == s)
		return fail(x, 400, "empty field name");
	colon = i;
	kind = field_kind(p + s, colon - s);
	for (i++; i < le && (cclass[p[i]] & C_OWS); i++)
		continue;
	for (v = i; i < le && (cclass[p[i]] & C_VALUE); i++)
		continue;
	if (i < le)
		return fail(x, 400, p[i] == '\r' ? "bare CR" :
		    "invalid character in a field value");
	while (i > v && (cclass[p[i - 1]] & C_OWS))
		i--;
	if (kind != HTTP1_H_OTHER && field_meaning(x, kind, p + v, i - v) ==
	    -1)
		return -1;
	h = &msg->headers[msg->nheaders++];
	h->name = mkstr(s, colon - s);
	h->value = mkstr(v, i - v);
	h->kind = kind;
	return 0;
}

/*
 * The empty line: how is the body framed?  Requests: RFC 9112 6.1 and
 * 6.3: Transfer-Encoding with HTTP/1.0 or with Content-Length is an
 * error; a final coding other than chunked cannot be read (501);
 * HTTP/1.1 needs a Host (3.2).
 */
static int
request_framing(struct ctx *x)
{
	struct http1_msg	*msg = x->msg;

	if (msg->version_minor == 1 && !(msg->seen & S_HOST))
		return fail(x, 400, "no Host in an HTTP/1.1 request");
	if (msg->seen & S_TE) {
		if (msg->version_minor == 0)
			return fail(x, 400, "Transfer-Encoding in HTTP/1.0");
		if (msg->seen & S_CL)
			return fail(x, 400, "both Transfer-Encoding and "
			    "Content-Length");
		if (!(msg->seen & S_CHUNKED_LAST))
			return fail(x, 501, "final transfer coding is not "
			    "chunked");
		msg->body = HTTP1_BODY_CHUNKED;
	} else if ((msg->seen & S_CL) && msg->content_length > 0)
		msg->body = HTTP1_BODY_LENGTH;
	else
		msg->body = HTTP1_BODY_NONE;
	return 0;
}

/*
 * Responses: RFC 9112 6.3.  No body after HEAD, for 1xx, 204 and 304,
 * nor for a 2xx to CONNECT; then chunked, then Content-Length, then until
 * the connection closes (also when the final coding is not chunked).
 * TE with CL would let TE win, but a message like that was made by
 * something confused or hostile: refused, as is TE in HTTP/1.0 (6.1).
 */
static int
response_framing(struct ctx *x)
{
	struct http1_msg	*msg = x->msg;
	uint16_t		 st = msg->status;

	if ((msg->seen & S_TE) && (msg->seen & S_CL))
		return fail(x, 502, "both Transfer-Encoding and "
		    "Content-Length");
	if ((msg->seen & S_TE) && msg->version_minor == 0)
		return fail(x, 502, "Transfer-Encoding in HTTP/1.0");
	if (x->req_method == HTTP1_M_HEAD || st < 200 || st == 204 ||
	    st == 304 || (x->req_method == HTTP1_M_CONNECT && st < 300))
		msg->body = HTTP1_BODY_NONE;
	else if (msg->seen & S_TE)
		msg->body = (msg->seen & S_CHUNKED_LAST) ?
		    HTTP1_BODY_CHUNKED : HTTP1_BODY_CLOSE;
	else if (msg->seen & S_CL)
		msg->body = msg->content_length > 0 ?
		    HTTP1_BODY_LENGTH : HTTP1_BODY_NONE;
	else
		msg->body = HTTP1_BODY_CLOSE;
	return 0;
}

/*
 * One whole line, [s, le) without its CRLF.  Returns 1 to go on with the
 * next line, 0 when the head is complete, -1 on error.
 */
static int
parse_line(struct ctx *x, size_t s, size_t le)
{
	struct http1_msg	*msg = x->msg;
	int			 rc;

	if (msg->state == ST_START) {
		if (le == s) {
			if (x->response)
				return fail(x, 502, "empty line before the "
				    "status line");
			if (msg->nempty >= MAX_EMPTY_LINES)
				return fail(x, 400, "empty lines before the "
				    "request line");
			msg->nempty++;
			return 1;
		}
		rc = x->response ? status_line(x, s, le) :
		    request_line(x, s, le);
		if (rc == -1)
			return -1;
		msg->state = ST_FIELDS;
		return 1;
	}
	if (le > s)
		return field_line(x, s, le) == -1 ? -1 : 1;
	rc = x->response ? response_framing(x) : request_framing(x);
	if (rc == -1)
		return -1;
	msg->head_len = (uint32_t)(le + 2);
	msg->state = ST_DONE;
	return 0;
}

/*
 * Find and parse the lines not parsed yet.  A line may end (its LF) no
 * further than max_line bytes plus CRLF from its start, and no further
 * than max_head bytes from the start of the head; an unfinished line is
 * refused as soon as it has passed the nearer of the two, so a head that
 * never ends is refused at the limit rather than waited for.
 */
static int
parse_head(struct ctx *x, size_t len)
{
	struct http1_msg		*msg = x->msg;
	const struct http1_limits	*lim = x->lim;
	const unsigned char		*lf;
	int64_t				 s, line_last, head_last, last;
	size_t				 from, to, e;
	int				 rc;

	if (msg->state == ST_DONE)
		return 0;
	if (msg->state == ST_ERROR)
		return -1;
	for (;;) {
		/* The furthest this line's LF may be: after max_line bytes
		   and the CR, or at the last byte of max_head, whichever is
		   nearer.  Signed, as max_head 0 puts it before the start. */
		s = msg->parsed;
		line_last = s + (int64_t)lim->max_line + 1;
		head_last = (int64_t)lim->max_head - 1;
		last = line_last < head_last ? line_last : head_last;
		/* Look for it only in bytes not looked at yet (from msg->scan),
		   and no further than it may be. */
		to = (int64_t)len < last + 1 ? len : (size_t)(last + 1);
		from = msg->scan > (size_t)s ? msg->scan : (size_t)s;
		lf = NULL;
		if (from < to)
			lf = memchr(x->p + from, '\n', to - from);
		if (lf == NULL) {
			/* Wait while the line may still end in time; else
			   refuse it by the limit it has passed. */
			if ((int64_t)len <= last + 1) {
				if (to > from)
					msg->scan = (uint32_t)to;
				return PT_AGAIN;
			}
			if (line_last > head_last)
				return fail(x, 431, "head too large");
			if (msg->state == ST_START)
				return fail(x, 414, x->response ? "status line "
				    "too long" : "request line too long");
			return fail(x, 431, "header line too long");
		}
		/* RFC 9112 2.2: lines end with CRLF; a bare LF is refused. */
		e = (size_t)(lf - x->p);
		if (e == (size_t)s || x->p[e - 1] != '\r')
			return fail(x, 400, "line ending in a bare LF");
		msg->parsed = msg->scan = (uint32_t)(e + 1);
		if ((rc = parse_line(x, (size_t)s, e - 1)) != 1)
			return rc;
	}
}

/* http1_msg_init(): see http1.h. */
void
http1_msg_init(struct http1_msg *msg, struct http1_header *hdrs,
    uint32_t cap)
{
	memset(msg, 0, sizeof(*msg));
	msg->headers = hdrs;
	msg->max_headers = hdrs != NULL ? cap : 0;
}

/* http1_parse_request(): see http1.h. */
int
http1_parse_request(const char *buf, size_t len, struct http1_msg *msg,
    const struct http1_limits *lim)
{
	struct ctx	x = { (const unsigned char *)buf, msg, lim, false, 0 };

	return parse_head(&x, len);
}

/* http1_parse_response(): see http1.h. */
int
http1_parse_response(const char *buf, size_t len, struct http1_msg *msg,
    const struct http1_limits *lim, uint8_t req_method)
{
	struct ctx	x = { (const unsigned char *)buf, msg, lim, true,
			    req_method };

	return parse_head(&x, len);
}

/* http1_str_eq(): see http1.h. */
bool
http1_str_eq(const char *buf, struct http1_str s, const char *lit)
{
	const unsigned char	*p = (const unsigned char *)buf + s.off;
	size_t			 i;

	for (i = 0; i < s.len; i++)
		if (lit[i] == '\0' ||
		    lower(p[i]) != lower((unsigned char)lit[i]))
			return false;
	return lit[i] == '\0';
}
