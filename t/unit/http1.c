/*
 * http1.c: unit tests of common/http1.c, printing TAP.
 *
 * Every rule of the parser is broken by at least one request here, most
 * of them the shapes request smuggling and cache poisoning are made of;
 * then the valid forms, pipelining, and that feeding a message a byte at
 * a time gives the same answer as feeding it whole.  The chunked body
 * that may follow a head is t/unit/chunked.c's.
 */
#include <stdlib.h>

#include "http1.h"
#include "status.h"
#include "tap.h"

#define HCAP	32

/* A case: bytes with their length (NULs included) and what to answer. */
struct bad {
	const char	*name;
	const char	*in;
	size_t		 len;
	int		 status;
};

#define BAD(name, lit, status)	{ name, lit, sizeof(lit) - 1, status }

static struct http1_header	hdrs[HCAP + 1];
static struct http1_msg		msg;
static const struct http1_limits lim = { 256, 2048, 16 };

#define H	"Host: example.com\r\n"

static int
parse_req(const char *in, size_t len)
{
	http1_msg_init(&msg, hdrs, HCAP);
	return http1_parse_request(in, len, &msg, &lim);
}

static int
parse_resp(const char *in, size_t len, uint8_t method)
{
	http1_msg_init(&msg, hdrs, HCAP);
	return http1_parse_response(in, len, &msg, &lim, method);
}

#define REQ(lit)		parse_req(lit, sizeof(lit) - 1)
#define RESP(lit, method)	parse_resp(lit, sizeof(lit) - 1, method)

/* A string of the message, copied out to be printed and compared. */
static const char *
cut(const char *buf, struct http1_str s)
{
	static char	out[4][512];
	static int	k;
	char		*o = out[k++ % 4];

	snprintf(o, sizeof(out[0]), "%.*s", (int)s.len, buf + s.off);
	return o;
}

/*
 * Parse in len bytes one more at a time, as from reads of one byte,
 * into m; the result of the first call that does not ask for more.
 */
static int
bytewise(bool response, const char *in, size_t len, struct http1_msg *m,
    struct http1_header *h)
{
	size_t	n;
	int	rc = PT_AGAIN;

	http1_msg_init(m, h, HCAP);
	for (n = 1; n <= len && rc == PT_AGAIN; n++)
		rc = response ? http1_parse_response(in, n, m, &lim,
		    HTTP1_M_GET) : http1_parse_request(in, n, m, &lim);
	return rc;
}

/* Whether byte-at-a-time parsing of in ends as whole parsing does. */
static bool
same_bytewise(bool response, const char *in, size_t len)
{
	static struct http1_header	 h1[HCAP], h2[HCAP];
	struct http1_msg		 a, b;
	int				 ra, rb;
	uint32_t			 i;

	http1_msg_init(&a, h1, HCAP);
	ra = response ? http1_parse_response(in, len, &a, &lim,
	    HTTP1_M_GET) : http1_parse_request(in, len, &a, &lim);
	rb = bytewise(response, in, len, &b, h2);
	if (ra != rb || a.error_status != b.error_status ||
	    a.head_len != b.head_len || a.nheaders != b.nheaders ||
	    a.flags != b.flags || a.body != b.body ||
	    a.content_length != b.content_length ||
	    a.status != b.status || a.method != b.method)
		return false;
	for (i = 0; i < a.nheaders; i++)
		if (memcmp(&h1[i], &h2[i], sizeof(h1[i])) != 0)
			return false;
	return true;
}

static void
run_bad(const struct bad *cases, size_t n, bool response)
{
	size_t	i, agree = 0;
	int	rc;

	for (i = 0; i < n; i++) {
		rc = response ? parse_resp(cases[i].in, cases[i].len,
		    HTTP1_M_GET) : parse_req(cases[i].in, cases[i].len);
		if (!ok(rc == -1 && msg.error_status == cases[i].status &&
		    msg.error != NULL, "%s: %d", cases[i].name,
		    cases[i].status))
			diag("rc %d status %d (%s)", rc, msg.error_status,
			    msg.error ? msg.error : "no reason");
		if (same_bytewise(response, cases[i].in, cases[i].len))
			agree++;
		else
			diag("byte at a time differs: %s", cases[i].name);
	}
	is_int((long long)agree, (long long)n, "%s: byte at a time, the same "
	    "answers", response ? "bad responses" : "bad requests");
}

/* Content-Length and Transfer-Encoding: the smuggling vectors. */
static const struct bad bad_framing[] = {
	BAD("CL and TE", "POST / HTTP/1.1\r\n" H "Content-Length: 4\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", 400),
	BAD("TE and CL", "POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked"
	    "\r\nContent-Length: 4\r\n\r\n", 400),
	BAD("TE chunked twice in one field", "POST / HTTP/1.1\r\n" H
	    "Transfer-Encoding: chunked, chunked\r\n\r\n", 400),
	BAD("TE chunked twice in two fields", "POST / HTTP/1.1\r\n" H
	    "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
	    400),
	BAD("TE xchunked", "POST / HTTP/1.1\r\n" H
	    "Transfer-Encoding: xchunked\r\n\r\n", 501),
	BAD("TE chunked, gzip", "POST / HTTP/1.1\r\n" H
	    "Transfer-Encoding: chunked, gzip\r\n\r\n", 501),
	BAD("TE gzip alone", "POST / HTTP/1.1\r\n" H
	    "Transfer-Encoding: gzip\r\n\r\n", 501),
	BAD("TE identity", "POST / HTTP/1.1\r\n" H
	    "Transfer-Encoding: identity\r\n\r\n", 501),
	BAD("TE chunked then gzip in a second field", "POST / HTTP/1.1\r\n" H
	    "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n",
	    501),
	BAD("TE empty", "POST / HTTP/1.1\r\n" H "Transfer-Encoding: \r\n\r\n",
	    400),
	BAD("TE empty element", "POST / HTTP/1.1\r\n" H
	    "Transfer-Encoding: , chunked\r\n\r\n", 400),
	BAD("TE with a parameter", "POST / HTTP/1.1\r\n" H
	    "Transfer-Encoding: chunked;q=1\r\n\r\n", 400),
	BAD("TE chunked with a vertical tab", "POST / HTTP/1.1\r\n" H
	    "Transfer-Encoding: \x0b" "chunked\r\n\r\n", 400),
	BAD("TE in HTTP/1.0", "POST / HTTP/1.0\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", 400),
	BAD("TE with space before colon", "POST / HTTP/1.1\r\n" H
	    "Transfer-Encoding : chunked\r\n\r\n", 400),
	BAD("TE folded", "POST / HTTP/1.1\r\n" H
	    "Transfer-Encoding: identity\r\n chunked\r\n\r\n", 400),
	BAD("CL +5", "POST / HTTP/1.1\r\n" H "Content-Length: +5\r\n\r\n",
	    400),
	BAD("CL -1", "POST / HTTP/1.1\r\n" H "Content-Length: -1\r\n\r\n",
	    400),
	BAD("CL 5 5", "POST / HTTP/1.1\r\n" H "Content-Length: 5 5\r\n\r\n",
	    400),
	BAD("CL 0x10", "POST / HTTP/1.1\r\n" H "Content-Length: 0x10\r\n\r\n",
	    400),
	BAD("CL 1e3", "POST / HTTP/1.1\r\n" H "Content-Length: 1e3\r\n\r\n",
	    400),
	BAD("CL empty", "POST / HTTP/1.1\r\n" H "Content-Length: \r\n\r\n",
	    400),
	BAD("CL abc", "POST / HTTP/1.1\r\n" H "Content-Length: abc\r\n\r\n",
	    400),
	BAD("CL differing duplicates", "POST / HTTP/1.1\r\n" H
	    "Content-Length: 4\r\nContent-Length: 5\r\n\r\n", 400),
	BAD("CL list of differing values", "POST / HTTP/1.1\r\n" H
	    "Content-Length: 5, 4\r\n\r\n", 400),
	BAD("CL list then a differing field", "POST / HTTP/1.1\r\n" H
	    "Content-Length: 5, 5\r\nContent-Length: 6\r\n\r\n", 400),
	BAD("CL list with an empty element", "POST / HTTP/1.1\r\n" H
	    "Content-Length: 4,,4\r\n\r\n", 400),
	BAD("CL list with a trailing comma", "POST / HTTP/1.1\r\n" H
	    "Content-Length: 4,\r\n\r\n", 400),
	BAD("CL huge", "POST / HTTP/1.1\r\n" H
	    "Content-Length: 99999999999999999999999\r\n\r\n", 400),
	BAD("CL 2^64", "POST / HTTP/1.1\r\n" H
	    "Content-Length: 18446744073709551616\r\n\r\n", 400),
	BAD("CL with a vertical tab", "POST / HTTP/1.1\r\n" H
	    "Content-Length: \x0b" "4\r\n\r\n", 400),
	BAD("CL with NUL", "POST / HTTP/1.1\r\n" H
	    "Content-Length: 4\0\r\n\r\n", 400),
	BAD("Connection naming Content-Length", "POST / HTTP/1.1\r\n" H
	    "Connection: close, Content-Length\r\nContent-Length: 4\r\n\r\n",
	    400),
	BAD("Connection naming Transfer-Encoding", "POST / HTTP/1.1\r\n" H
	    "Connection: transfer-encoding\r\n\r\n", 400),
	BAD("Connection naming Host", "GET / HTTP/1.1\r\n" H
	    "Connection: host\r\n\r\n", 400),
	BAD("Connection with a non-token", "GET / HTTP/1.1\r\n" H
	    "Connection: close, a(b)\r\n\r\n", 400),
};

/* Field syntax. */
static const struct bad bad_fields[] = {
	BAD("space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400),
	BAD("tab before colon", "GET / HTTP/1.1\r\n" H "X-A\t: 1\r\n\r\n",
	    400),
	BAD("obs-fold", "GET / HTTP/1.1\r\n" H "X-A: a\r\n b\r\n\r\n", 400),
	BAD("obs-fold with tab", "GET / HTTP/1.1\r\n" H "X-A: a\r\n\tb\r\n"
	    "\r\n", 400),
	BAD("first field line starting with space", "GET / HTTP/1.1\r\n"
	    " X-A: 1\r\n" H "\r\n", 400),
	BAD("bare LF line ends", "GET / HTTP/1.1\nHost: a\n\n", 400),
	BAD("bare LF after the request line", "GET / HTTP/1.1\n" H "\r\n",
	    400),
	BAD("bare LF in one field line", "GET / HTTP/1.1\r\nHost: a\nX-A: 1"
	    "\r\n\r\n", 400),
	BAD("bare LF as the final line", "GET / HTTP/1.1\r\n" H "\n", 400),
	BAD("bare CR in a value", "GET / HTTP/1.1\r\n" H "X-A: a\rb\r\n\r\n",
	    400),
	BAD("bare CR at a line end", "GET / HTTP/1.1\r\n" H "X-A: a\r\r\n"
	    "\r\n", 400),
	BAD("bare CR in a name", "GET / HTTP/1.1\r\n" H "X\rA: a\r\n\r\n",
	    400),
	BAD("bare CR as the final line", "GET / HTTP/1.1\r\n" H "\r\r\n", 400),
	BAD("NUL in a value", "GET / HTTP/1.1\r\n" H "X-A: a\0b\r\n\r\n", 400),
	BAD("NUL in a name", "GET / HTTP/1.1\r\n" H "X-\0A: 1\r\n\r\n", 400),
	BAD("control char in a value", "GET / HTTP/1.1\r\n" H
	    "X-A: a\x01" "b\r\n\r\n", 400),
	BAD("escape in a value", "GET / HTTP/1.1\r\n" H
	    "X-A: a\x1b[0m\r\n\r\n", 400),
	BAD("vertical tab in a value", "GET / HTTP/1.1\r\n" H
	    "X-A: a\x0b" "b\r\n\r\n", 400),
	BAD("form feed in a value", "GET / HTTP/1.1\r\n" H
	    "X-A: a\x0c" "b\r\n\r\n", 400),
	BAD("DEL in a value", "GET / HTTP/1.1\r\n" H "X-A: a\x7f" "b\r\n\r\n",
	    400),
	BAD("DEL in a name", "GET / HTTP/1.1\r\n" H "X-\x7f" "A: 1\r\n\r\n",
	    400),
	BAD("obs-text in a name", "GET / HTTP/1.1\r\n" H "X-\xc3\xa9: 1\r\n"
	    "\r\n", 400),
	BAD("empty name", "GET / HTTP/1.1\r\n" H ": value\r\n\r\n", 400),
	BAD("space in a name", "GET / HTTP/1.1\r\n" H "X A: 1\r\n\r\n", 400),
	BAD("parenthesis in a name", "GET / HTTP/1.1\r\n" H "X(A): 1\r\n\r\n",
	    400),
	BAD("line without a colon", "GET / HTTP/1.1\r\n" H "NoColon\r\n\r\n",
	    400),
};

/* Host (RFC 9112 3.2, RFC 9110 7.2). */
static const struct bad bad_host[] = {
	BAD("missing Host in HTTP/1.1", "GET / HTTP/1.1\r\nX-A: 1\r\n\r\n",
	    400),
	BAD("two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
	BAD("two Hosts, same value", "GET / HTTP/1.1\r\n" H H "\r\n", 400),
	BAD("two Hosts in HTTP/1.0", "GET / HTTP/1.0\r\nHost: a\r\nhost: a"
	    "\r\n\r\n", 400),
	BAD("Host with a space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400),
	BAD("Host with a slash", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400),
	BAD("Host with userinfo", "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", 400),
	BAD("Host with a bad port", "GET / HTTP/1.1\r\nHost: a:8x\r\n\r\n",
	    400),
	BAD("Host with port 65536", "GET / HTTP/1.1\r\nHost: a:65536\r\n\r\n",
	    400),
	BAD("Host with an empty port", "GET / HTTP/1.1\r\nHost: a:\r\n\r\n",
	    400),
	BAD("Host with two ports", "GET / HTTP/1.1\r\nHost: a:1:2\r\n\r\n",
	    400),
	BAD("Host with a port only", "GET / HTTP/1.1\r\nHost: :80\r\n\r\n",
	    400),
	BAD("Host IPv6 unclosed", "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n",
	    400),
	BAD("Host IPv6 with a letter", "GET / HTTP/1.1\r\nHost: [::g]\r\n\r\n",
	    400),
	BAD("Host with a bad escape", "GET / HTTP/1.1\r\nHost: a%zz\r\n\r\n",
	    400),
	BAD("Host with a comma list", "GET / HTTP/1.1\r\nHost: a, b\r\n\r\n",
	    400),
};

/* The request line (RFC 9112 3). */
static const struct bad bad_line[] = {
	BAD("HTTP/1.2", "GET / HTTP/1.2\r\n" H "\r\n", 505),
	BAD("HTTP/2.0", "GET / HTTP/2.0\r\n" H "\r\n", 505),
	BAD("HTTP/0.9", "GET / HTTP/0.9\r\n" H "\r\n", 505),
	BAD("HTTP/0.9 request line", "GET /m\r\n\r\n", 400),
	BAD("lowercase http", "GET / http/1.1\r\n" H "\r\n", 400),
	BAD("HTTP/1.10", "GET / HTTP/1.10\r\n" H "\r\n", 400),
	BAD("HTTP/01.1", "GET / HTTP/01.1\r\n" H "\r\n", 400),
	BAD("HTTP/1", "GET / HTTP/1\r\n" H "\r\n", 400),
	BAD("space after the version", "GET / HTTP/1.1 \r\n" H "\r\n", 400),
	BAD("double space after the method", "GET  / HTTP/1.1\r\n" H "\r\n",
	    400),
	BAD("double space before the version", "GET /  HTTP/1.1\r\n" H "\r\n",
	    400),
	BAD("leading space", " GET / HTTP/1.1\r\n" H "\r\n", 400),
	BAD("tab separators", "GET\t/\tHTTP/1.1\r\n" H "\r\n", 400),
	BAD("space in the target", "GET /a b HTTP/1.1\r\n" H "\r\n", 400),
	BAD("control char in the target", "GET /a\x01 HTTP/1.1\r\n" H "\r\n",
	    400),
	BAD("NUL in the target", "GET /a\0b HTTP/1.1\r\n" H "\r\n", 400),
	BAD("DEL in the target", "GET /a\x7f HTTP/1.1\r\n" H "\r\n", 400),
	BAD("byte 0x80 in the target", "GET /a\x80 HTTP/1.1\r\n" H "\r\n",
	    400),
	BAD("fragment in the target", "GET /a#b HTTP/1.1\r\n" H "\r\n", 400),
	BAD("target without a leading slash", "GET a/b HTTP/1.1\r\n" H "\r\n",
	    400),
	BAD("empty method", " / HTTP/1.1\r\n" H "\r\n", 400),
	BAD("method with a bad char", "G(T / HTTP/1.1\r\n" H "\r\n", 400),
	BAD("method with NUL", "GE\0T / HTTP/1.1\r\n" H "\r\n", 400),
	BAD("not HTTP at all", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\r\n\r\n",
	    400),
	BAD("'*' with GET", "GET * HTTP/1.1\r\n" H "\r\n", 400),
	BAD("'*x' with OPTIONS", "OPTIONS *x HTTP/1.1\r\n" H "\r\n", 400),
	BAD("CONNECT with origin-form", "CONNECT / HTTP/1.1\r\n" H "\r\n",
	    400),
	BAD("CONNECT without a port", "CONNECT example.com HTTP/1.1\r\n" H
	    "\r\n", 400),
	BAD("CONNECT with absolute-form", "CONNECT http://a:1/ HTTP/1.1\r\n"
	    H "\r\n", 400),
	BAD("authority-form with GET", "GET example.com:80 HTTP/1.1\r\n" H
	    "\r\n", 400),
	BAD("absolute-form, other scheme", "GET ftp://a/ HTTP/1.1\r\n" H
	    "\r\n", 400),
	BAD("absolute-form, empty authority", "GET http:///x HTTP/1.1\r\n" H
	    "\r\n", 400),
	BAD("absolute-form, userinfo", "GET http://u:p@a/ HTTP/1.1\r\n" H
	    "\r\n", 400),
	BAD("absolute-form, no authority", "GET http:// HTTP/1.1\r\n" H "\r\n",
	    400),
	BAD("five empty lines first", "\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\n"
	    H "\r\n", 400),
	BAD("a bare LF first", "\nGET / HTTP/1.1\r\n" H "\r\n", 400),
};

/* Limits: 256 bytes a line, 2048 a head, 16 header lines. */
#define LONG32	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define LONG64	LONG32 LONG32
#define LONG256	LONG64 LONG64 LONG64 LONG64
#define X10	"X-A: 1\r\nX-A: 1\r\nX-A: 1\r\nX-A: 1\r\nX-A: 1\r\n" \
		"X-A: 1\r\nX-A: 1\r\nX-A: 1\r\nX-A: 1\r\nX-A: 1\r\n"
#define V200	LONG64 LONG64 LONG64 "aaaaaaaa"
static const struct bad bad_limits[] = {
	BAD("request line too long", "GET /" LONG256 " HTTP/1.1\r\n" H "\r\n",
	    414),
	BAD("request line too long, unfinished", "GET /" LONG256, 414),
	BAD("header line too long", "GET / HTTP/1.1\r\n" H "X-A: " LONG256
	    "\r\n\r\n", 431),
	BAD("header line too long, unfinished", "GET / HTTP/1.1\r\n" H
	    "X-A: " LONG256, 431),
	BAD("17 header lines", "GET / HTTP/1.1\r\n" H X10
	    "X-B: 1\r\nX-B: 1\r\nX-B: 1\r\nX-B: 1\r\nX-B: 1\r\nX-B: 1\r\n\r\n",
	    431),
	BAD("head too large", "GET / HTTP/1.1\r\n" H
	    "X-1: " V200 "\r\nX-2: " V200 "\r\nX-3: " V200 "\r\n"
	    "X-4: " V200 "\r\nX-5: " V200 "\r\nX-6: " V200 "\r\n"
	    "X-7: " V200 "\r\nX-8: " V200 "\r\nX-9: " V200 "\r\n"
	    "X-0: " V200 "\r\n\r\n", 431),
	BAD("head too large, unfinished", "GET / HTTP/1.1\r\n" H
	    "X-1: " V200 "\r\nX-2: " V200 "\r\nX-3: " V200 "\r\n"
	    "X-4: " V200 "\r\nX-5: " V200 "\r\nX-6: " V200 "\r\n"
	    "X-7: " V200 "\r\nX-8: " V200 "\r\nX-9: " V200 "\r\n"
	    "X-0: " V200, 431),
};

/* Responses: every error is a 502. */
static const struct bad bad_resp[] = {
	BAD("two-digit status", "HTTP/1.1 20 OK\r\n\r\n", 502),
	BAD("four-digit status", "HTTP/1.1 2000 OK\r\n\r\n", 502),
	BAD("status 600", "HTTP/1.1 600 X\r\n\r\n", 502),
	BAD("status 099", "HTTP/1.1 099 X\r\n\r\n", 502),
	BAD("HTTP/2.0 status line", "HTTP/2.0 200 OK\r\n\r\n", 502),
	BAD("lowercase http", "http/1.1 200 OK\r\n\r\n", 502),
	BAD("double space", "HTTP/1.1  200 OK\r\n\r\n", 502),
	BAD("no space before reason", "HTTP/1.1 200OK\r\n\r\n", 502),
	BAD("control char in reason", "HTTP/1.1 200 O\x01K\r\n\r\n", 502),
	BAD("empty line first", "\r\nHTTP/1.1 200 OK\r\n\r\n", 502),
	BAD("TE and CL", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
	    "Content-Length: 5\r\n\r\n", 502),
	BAD("TE chunked twice", "HTTP/1.1 200 OK\r\nTransfer-Encoding: "
	    "chunked, chunked\r\n\r\n", 502),
	BAD("TE in HTTP/1.0", "HTTP/1.0 200 OK\r\nTransfer-Encoding: "
	    "chunked\r\n\r\n", 502),
	BAD("differing CL", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n"
	    "Content-Length: 2\r\n\r\n", 502),
	BAD("CL -1", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", 502),
	BAD("obs-fold", "HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\n\r\n", 502),
	BAD("bare LF", "HTTP/1.1 200 OK\nContent-Length: 0\n\n", 502),
	BAD("NUL in a value", "HTTP/1.1 200 OK\r\nX-A: \0\r\n\r\n", 502),
	BAD("status line too long", "HTTP/1.1 200 " LONG256 "\r\n\r\n", 502),
	BAD("status line too long, unfinished", "HTTP/1.1 200 " LONG256, 502),
	BAD("17 header lines", "HTTP/1.1 200 OK\r\n" X10
	    "X-B: 1\r\nX-B: 1\r\nX-B: 1\r\nX-B: 1\r\nX-B: 1\r\nX-B: 1\r\n"
	    "X-B: 1\r\n\r\n", 502),
};

/* A valid request: the fields the proxy reads. */
static void
test_valid_requests(void)
{
	static const char	get[] = "GET /a?b=c HTTP/1.1\r\nHost: "
				    "example.com\r\nX-Empty:\r\n"
				    "X-OWS: \t a b \t\r\n\r\n";
	static const char	post[] = "POST /p HTTP/1.1\r\n" H
				    "Content-Length: 5\r\n\r\nhello";

	is_int(REQ(get), 0, "GET: complete");
	is_int(msg.method, HTTP1_M_GET, "GET: method");
	is_str(cut(get, msg.method_str), "GET", "GET: method string");
	is_str(cut(get, msg.target), "/a?b=c", "GET: target");
	is_int(msg.version_minor, 1, "GET: HTTP/1.1");
	is_str(cut(get, msg.host), "example.com", "GET: host");
	is_int(msg.nheaders, 3, "GET: three header lines");
	is_int(hdrs[0].kind, HTTP1_H_HOST, "GET: Host kind");
	is_str(cut(get, hdrs[1].name), "X-Empty", "GET: name as sent");
	is_int(hdrs[1].value.len, 0, "GET: empty value");
	is_str(cut(get, hdrs[2].value), "a b", "GET: value without OWS");
	is_int(msg.head_len, sizeof(get) - 1, "GET: head_len is all");
	is_int(msg.parsed, msg.head_len, "GET: parsed == head_len");
	is_int(msg.body, HTTP1_BODY_NONE, "GET: no body");

	is_int(REQ(post), 0, "POST with CL: complete");
	is_int(msg.body, HTTP1_BODY_LENGTH, "POST with CL: LENGTH");
	is_int((long long)msg.content_length, 5, "POST with CL: 5");
	is_int(msg.head_len, sizeof(post) - 6, "POST with CL: head_len "
	    "stops before the body");

	is_int(REQ("POST / HTTP/1.1\r\n" H "Content-Length: 0\r\n\r\n"), 0,
	    "CL 0: complete");
	is_int(msg.body, HTTP1_BODY_NONE, "CL 0: no body");
	is_int(REQ("POST / HTTP/1.1\r\n" H "Content-Length: 7\r\n"
	    "content-length: 7\r\n\r\n"), 0, "CL repeated identical: valid");
	is_int((long long)msg.content_length, 7, "CL repeated: 7");
	is_int(REQ("POST / HTTP/1.1\r\n" H "Content-Length: 7 ,\t7,7\r\n\r\n"),
	    0, "CL list of identical values: valid (RFC 9110 8.6)");
	is_int(REQ("POST / HTTP/1.1\r\n" H "Content-Length: 007\r\n\r\n"), 0,
	    "CL with leading zeros: valid");
	is_int((long long)msg.content_length, 7, "CL 007: 7");
	is_int(REQ("POST / HTTP/1.1\r\n" H
	    "Content-Length: 18446744073709551615\r\n\r\n"), 0,
	    "CL 2^64 - 1: valid");

	is_int(REQ("POST / HTTP/1.1\r\n" H "Transfer-Encoding: chunked\r\n"
	    "\r\n"), 0, "TE chunked: complete");
	is_int(msg.body, HTTP1_BODY_CHUNKED, "TE chunked: CHUNKED");
	is_int(REQ("POST / HTTP/1.1\r\n" H "Transfer-Encoding: gzip, "
	    "CHUNKED\r\n\r\n"), 0, "TE gzip, CHUNKED: valid");
	is_int(msg.body, HTTP1_BODY_CHUNKED, "TE gzip, CHUNKED: CHUNKED");
	is_int(REQ("POST / HTTP/1.1\r\n" H "Transfer-Encoding: gzip\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"), 0,
	    "TE over two fields: valid");
	is_int(msg.body, HTTP1_BODY_CHUNKED, "TE over two fields: CHUNKED");
}

static void
test_valid_forms(void)
{
	static const char	abs[] = "GET http://Example.com:8080/x?y "
				    "HTTP/1.1\r\n" H "\r\n";

	is_int(REQ(abs), 0, "absolute-form: valid");
	is_str(cut(abs, msg.target), "http://Example.com:8080/x?y",
	    "absolute-form: target as sent");
	is_int(REQ("GET HTTPS://a.b HTTP/1.1\r\n" H "\r\n"), 0,
	    "absolute-form https without a path: valid");
	is_int(REQ("OPTIONS * HTTP/1.1\r\n" H "\r\n"), 0, "OPTIONS *: valid");
	is_int(msg.method, HTTP1_M_OPTIONS, "OPTIONS *: method");
	is_int(REQ("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443"
	    "\r\n\r\n"), 0, "CONNECT host:port: valid");
	is_int(msg.method, HTTP1_M_CONNECT, "CONNECT: method");
	is_int(REQ("CONNECT [2001:db8::1]:443 HTTP/1.1\r\n" H "\r\n"), 0,
	    "CONNECT [IPv6]:port: valid");
	is_int(REQ("GET / HTTP/1.0\r\n\r\n"), 0, "HTTP/1.0 without Host: "
	    "valid");
	is_int(msg.version_minor, 0, "HTTP/1.0: minor 0");
	is_int(msg.host.len, 0, "HTTP/1.0: no host");
	is_int(REQ("\r\n\r\nGET / HTTP/1.1\r\n" H "\r\n"), 0,
	    "two empty lines first: ignored (RFC 9112 2.2)");
	is_int(msg.method_str.off, 4, "empty lines first: method after them");
	is_int(msg.head_len, 4 + 16 + 19 + 2, "empty lines first: in head_len");
	is_int(REQ("PURGE /x HTTP/1.1\r\n" H "\r\n"), 0, "unknown method: "
	    "valid");
	is_int(msg.method, HTTP1_M_OTHER, "unknown method: OTHER");
	is_int(REQ("get / HTTP/1.1\r\n" H "\r\n"), 0, "lowercase get: a "
	    "valid token");
	is_int(msg.method, HTTP1_M_OTHER, "lowercase get: OTHER (methods are "
	    "case-sensitive)");
	is_int(REQ("GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n"), 0,
	    "Host [::1]:8080: valid");
	is_int(REQ("GET / HTTP/1.1\r\nHost: 10.0.0.1\r\n\r\n"), 0,
	    "Host IPv4: valid");
	is_int(REQ("GET / HTTP/1.1\r\nHost: a%2Db.example:1\r\n\r\n"), 0,
	    "Host with pct-encoding and port: valid");
	is_int(REQ("GET / HTTP/1.1\r\nHost:\r\n\r\n"), 0, "empty Host: valid "
	    "(RFC 9110 7.2)");
	is_int(REQ("GET / HTTP/1.1\r\n" H "X-A: caf\xc3\xa9\r\n\r\n"), 0,
	    "obs-text in a value: valid");
	is_int(REQ("GET /%7E/a;b,c HTTP/1.1\r\n" H "\r\n"), 0, "target with "
	    "escapes and sub-delims: valid");
}

static void
test_methods(void)
{
	static const struct {
		const char	*m;
		int		 kind;
	} m[] = {
		{ "GET", HTTP1_M_GET }, { "HEAD", HTTP1_M_HEAD },
		{ "POST", HTTP1_M_POST }, { "PUT", HTTP1_M_PUT },
		{ "DELETE", HTTP1_M_DELETE }, { "OPTIONS", HTTP1_M_OPTIONS },
		{ "TRACE", HTTP1_M_TRACE }, { "PATCH", HTTP1_M_PATCH },
	};
	char	buf[128];
	size_t	i, good = 0;
	int	n;

	for (i = 0; i < PT_NELEM(m); i++) {
		n = snprintf(buf, sizeof(buf), "%s / HTTP/1.1\r\n" H "\r\n",
		    m[i].m);
		if (parse_req(buf, (size_t)n) == 0 && msg.method == m[i].kind)
			good++;
	}
	is_int((long long)good, (long long)PT_NELEM(m), "every known method "
	    "is recognised");
}

static void
test_kinds(void)
{
	static const char	in[] = "GET / HTTP/1.1\r\n"
	    "hOST: a\r\nCONTENT-LENGTH: 1\r\nconnection: x-y\r\n"
	    "Keep-Alive: 5\r\nTE: trailers\r\nTrailer: X\r\n"
	    "Upgrade: websocket\r\nProxy-Connection: keep-alive\r\n"
	    "Proxy-Authorization: b\r\nProxy: http://evil\r\n"
	    "Expect: 100-Continue\r\nX-Forwarded-For: 1.2.3.4\r\n"
	    "X-Forwarded-Proto: https\r\nX-Forwarded-Host: a\r\n"
	    "Via: 1.1 a\r\nDate: x\r\n\r\n";
	static const uint8_t	want[] = {
		HTTP1_H_HOST, HTTP1_H_CONTENT_LENGTH, HTTP1_H_CONNECTION,
		HTTP1_H_KEEP_ALIVE, HTTP1_H_TE, HTTP1_H_TRAILER,
		HTTP1_H_UPGRADE, HTTP1_H_PROXY_CONNECTION,
		HTTP1_H_PROXY_CONNECTION, HTTP1_H_PROXY_CONNECTION,
		HTTP1_H_EXPECT, HTTP1_H_X_FORWARDED_FOR,
		HTTP1_H_X_FORWARDED_PROTO, HTTP1_H_X_FORWARDED_HOST,
		HTTP1_H_VIA, HTTP1_H_DATE,
	};
	size_t			i, good = 0;

	is_int(REQ(in), 0, "every known header: valid");
	is_int(msg.nheaders, PT_NELEM(want), "every known header: counted");
	for (i = 0; i < PT_NELEM(want) && i < msg.nheaders; i++)
		if (hdrs[i].kind == want[i])
			good++;
		else
			diag("header %zu: kind %d", i, hdrs[i].kind);
	is_int((long long)good, (long long)PT_NELEM(want), "every known "
	    "header: its kind, whatever the case");
	is_int(msg.flags, HTTP1_F_CONN_OTHER | HTTP1_F_UPGRADE |
	    HTTP1_F_EXPECT_CONTINUE, "flags: other, upgrade, 100-continue");
	is_int(REQ("GET / HTTP/1.1\r\n" H "Server: x\r\nProxyx: 1\r\n"
	    "X-Forwarded: 1\r\n\r\n"), 0, "near misses: valid");
	ok(hdrs[1].kind == HTTP1_H_SERVER && hdrs[2].kind == HTTP1_H_OTHER &&
	    hdrs[3].kind == HTTP1_H_OTHER, "Proxyx and X-Forwarded: OTHER");
}

static void
test_flags(void)
{
	is_int(REQ("GET / HTTP/1.1\r\n" H "Connection: close\r\n\r\n"), 0,
	    "Connection: close: valid");
	is_int(msg.flags, HTTP1_F_CONN_CLOSE, "Connection: close: flag");
	is_int(REQ("GET / HTTP/1.1\r\n" H "Connection: Keep-Alive, ,Upgrade"
	    "\r\n\r\n"), 0, "Connection list: valid");
	is_int(msg.flags, HTTP1_F_CONN_KEEPALIVE | HTTP1_F_CONN_UPGRADE,
	    "Connection list: keep-alive and upgrade");
	is_int(REQ("GET / HTTP/1.1\r\n" H "Connection: close\r\n"
	    "Connection: X-Secret\r\n\r\n"), 0, "two Connection fields: valid");
	is_int(msg.flags, HTTP1_F_CONN_CLOSE | HTTP1_F_CONN_OTHER,
	    "two Connection fields: close and other");
	is_int(REQ("GET / HTTP/1.1\r\n" H "Expect: foo\r\n\r\n"), 0,
	    "Expect: foo: left to the caller");
	is_int(msg.flags, 0, "Expect: foo: no flag");
	is_int(REQ("POST / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n"), 0,
	    "Expect in HTTP/1.0: valid");
	is_int(msg.flags, 0, "Expect in HTTP/1.0: ignored (RFC 9110 10.1.1)");
	is_int(REQ("GET / HTTP/1.0\r\nUpgrade: websocket\r\n\r\n"), 0,
	    "Upgrade in HTTP/1.0: valid");
	is_int(msg.flags, 0, "Upgrade in HTTP/1.0: ignored (RFC 9110 7.8)");
}

/* Exactly at each limit passes; one over is refused. */
static void
test_limit_edges(void)
{
	char			 buf[4096];
	struct http1_header	 small[3];
	int			 n;

	/* "GET /" + 242 + " HTTP/1.1" is 256 bytes, the limit */
	n = snprintf(buf, sizeof(buf), "GET /%.242s HTTP/1.1\r\n" H "\r\n",
	    LONG256);
	is_int(parse_req(buf, (size_t)n), 0, "request line of max_line bytes "
	    "passes");
	n = snprintf(buf, sizeof(buf), "GET /%.243s HTTP/1.1\r\n" H "\r\n",
	    LONG256);
	is_int(parse_req(buf, (size_t)n), -1, "one byte more: refused");
	is_int(msg.error_status, 414, "one byte more: 414");
	n = snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\n" H "%s\r\n",
	    X10 "X-B: 1\r\nX-B: 1\r\nX-B: 1\r\nX-B: 1\r\nX-B: 1\r\n");
	is_int(parse_req(buf, (size_t)n), 0, "16 header lines pass");
	is_int(msg.nheaders, 16, "16 header lines counted");

	/* A head of exactly 2048 bytes passes; 2049 does not. */
	memset(buf, 'a', sizeof(buf));
	memcpy(buf, "GET / HTTP/1.1\r\n" H "X-A: ", 16 + 19 + 5);
	memcpy(buf + 2048 - 4, "\r\n\r\n", 4);
	is_int(parse_req(buf, sizeof(buf)), -1, "a 2048-byte head of long "
	    "lines: line limit first");
	is_int(msg.error_status, 431, "... 431");

	/* The capacity of the array, not only the limit, bounds the count. */
	http1_msg_init(&msg, small, 2);
	memset(&small[2], 0x5a, sizeof(small[2]));
	is_int(http1_parse_request("GET / HTTP/1.1\r\n" H "X-A: 1\r\n"
	    "X-B: 1\r\n\r\n", 16 + 19 + 8 + 8 + 2, &msg, &lim), -1,
	    "more lines than the array holds: refused");
	is_int(msg.error_status, 431, "more lines than the array holds: 431");
	is_int(small[2].name.off, 0x5a5a5a5a, "nothing written past it");
}

/* A head of exactly max_head bytes, and one more. */
static void
test_head_edge(void)
{
	static const struct http1_limits	 big = { 2048, 512, 16 };
	char					 buf[600];
	size_t					 n;

	memset(buf, 'v', sizeof(buf));
	n = 16 + 19;
	memcpy(buf, "GET / HTTP/1.1\r\n" H, n);
	memcpy(buf + n, "X-A: ", 5);
	memcpy(buf + 512 - 4, "\r\n\r\n", 4);
	http1_msg_init(&msg, hdrs, HCAP);
	is_int(http1_parse_request(buf, 512, &msg, &big), 0, "head of "
	    "max_head bytes passes");
	is_int(msg.head_len, 512, "head of max_head bytes: head_len");
	memcpy(buf + 512 - 4, "vv\r\n\r\n", 6);
	http1_msg_init(&msg, hdrs, HCAP);
	is_int(http1_parse_request(buf, 512, &msg, &big), PT_AGAIN,
	    "max_head bytes, unfinished: waits, it may still end in time");
	is_int(http1_parse_request(buf, 513, &msg, &big), -1,
	    "max_head + 1 bytes without an end: refused at once");
	is_int(msg.error_status, 431, "... 431");
}

/* Incomplete heads, resuming, sticky results, pipelining. */
static void
test_incremental(void)
{
	static const char	two[] = "GET /1 HTTP/1.1\r\n" H "\r\n"
				    "GET /2 HTTP/1.1\r\n" H "\r\n";
	static const char	big[] = "GET / HTTP/1.1\r\n" H "X-A: 1234";
	size_t			first = 16 + 1 + 19 + 2;

	is_int(parse_req(two, 5), PT_AGAIN, "partial request line: again");
	is_int(http1_parse_request(two, 20, &msg, &lim), PT_AGAIN,
	    "request line done, headers partial: again");
	is_int(msg.parsed, 17, "parsed: the request line");
	is_int(msg.scan, 20, "scan: no rescan of what was seen");
	is_int(http1_parse_request(two, sizeof(two) - 1, &msg, &lim), 0,
	    "then complete");
	is_int(msg.head_len, first, "pipelined: head_len ends at the first");
	is_int(http1_parse_request(two, sizeof(two) - 1, &msg, &lim), 0,
	    "complete stays complete");
	is_int(parse_req(two + first, sizeof(two) - 1 - first), 0,
	    "pipelined: the second parses on its own");
	is_str(cut(two + first, msg.target), "/2", "pipelined: second "
	    "target");
	is_int(REQ(big), PT_AGAIN, "unfinished header: again");
	is_int(REQ("GET / HTTP/1.1\r\n" H "X-A: \0\r\n\r\n"), -1,
	    "an error ...");
	is_int(http1_parse_request("GET / HTTP/1.1\r\n" H "\r\n", 37, &msg,
	    &lim), -1, "... stays an error");
	ok(same_bytewise(false, two, sizeof(two) - 1), "pipelined: byte at "
	    "a time, the same");
}

/* The pieces valid requests are made of, whole and a byte at a time. */
static void
test_bytewise_valid(void)
{
	static const char *const	in[] = {
		"GET / HTTP/1.1\r\n" H "\r\n",
		"\r\nPOST /x HTTP/1.1\r\n" H "Content-Length: 5, 5\r\n"
		    "content-length: 5\r\n\r\nhello",
		"POST /x HTTP/1.1\r\n" H "Transfer-Encoding: gzip ,chunked"
		    "\r\nConnection: keep-alive, x\r\n\r\nbody",
		"GET http://a:1/ HTTP/1.0\r\nX: \t y \t\r\n\r\n",
	};
	size_t				i, agree = 0;

	for (i = 0; i < PT_NELEM(in); i++)
		agree += same_bytewise(false, in[i], strlen(in[i]));
	is_int((long long)agree, (long long)PT_NELEM(in), "valid requests: "
	    "byte at a time, the same");
}

static void
test_responses(void)
{
	static const char	ok200[] = "HTTP/1.1 200 OK\r\n"
				    "Content-Length: 5\r\nHost: a b\r\n"
				    "\r\nhello";

	is_int(RESP(ok200, HTTP1_M_GET), 0, "200 with CL: complete");
	is_int(msg.status, 200, "200: status");
	is_str(cut(ok200, msg.reason), "OK", "200: reason");
	is_int(msg.body, HTTP1_BODY_LENGTH, "200 with CL: LENGTH");
	is_int(msg.head_len, sizeof(ok200) - 6, "200 with CL: head_len");
	is_int(RESP("HTTP/1.1 200\r\n\r\n", HTTP1_M_GET), 0,
	    "no SP and no reason: taken");
	is_int(msg.reason.len, 0, "no reason: empty");
	is_int(RESP("HTTP/1.1 404 \r\n\r\n", HTTP1_M_GET), 0,
	    "empty reason: valid");
	is_int(RESP("HTTP/1.1 200 \xc3\xa7" "a va\r\n\r\n", HTTP1_M_GET), 0,
	    "obs-text in reason: valid");
	is_int(RESP("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n",
	    HTTP1_M_HEAD), 0, "response to HEAD: complete");
	is_int(msg.body, HTTP1_BODY_NONE, "response to HEAD: no body");
	is_int((long long)msg.content_length, 10, "response to HEAD: CL kept");
	is_int(RESP("HTTP/1.1 204 No Content\r\n\r\n", HTTP1_M_GET), 0,
	    "204: complete");
	is_int(msg.body, HTTP1_BODY_NONE, "204: no body");
	is_int(RESP("HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n",
	    HTTP1_M_GET), 0, "304: complete");
	is_int(msg.body, HTTP1_BODY_NONE, "304: no body");
	is_int(RESP("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n",
	    HTTP1_M_POST), 0, "100: complete on its own");
	is_int(msg.body, HTTP1_BODY_NONE, "100: no body");
	is_int(msg.head_len, 25, "100: head_len before the next head");
	is_int(RESP("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket"
	    "\r\nConnection: Upgrade\r\n\r\n", HTTP1_M_GET), 0, "101: valid");
	is_int(msg.flags, HTTP1_F_UPGRADE | HTTP1_F_CONN_UPGRADE,
	    "101: upgrade flags");
	is_int(RESP("HTTP/1.1 200 Connection established\r\n\r\n",
	    HTTP1_M_CONNECT), 0, "2xx to CONNECT: valid");
	is_int(msg.body, HTTP1_BODY_NONE, "2xx to CONNECT: no body");
	is_int(RESP("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
	    HTTP1_M_GET), 0, "chunked response: valid");
	is_int(msg.body, HTTP1_BODY_CHUNKED, "chunked response: CHUNKED");
	is_int(RESP("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
	    HTTP1_M_GET), 0, "TE gzip response: valid");
	is_int(msg.body, HTTP1_BODY_CLOSE, "TE gzip response: until close");
	is_int(RESP("HTTP/1.0 200 OK\r\n\r\n", HTTP1_M_GET), 0,
	    "no framing: valid");
	is_int(msg.body, HTTP1_BODY_CLOSE, "no framing: until close");
	is_int(RESP("HTTP/1.1 200 OK\r\nConnection: close\r\n"
	    "Content-Length: 0\r\n\r\n", HTTP1_M_GET), 0, "CL 0: valid");
	ok(msg.body == HTTP1_BODY_NONE && msg.flags == HTTP1_F_CONN_CLOSE,
	    "CL 0: no body, Connection: close");
	ok(same_bytewise(true, ok200, sizeof(ok200) - 1), "response: byte at "
	    "a time, the same");
}

static void
test_misc(void)
{
	static const char	buf[] = "Content-Length";
	struct http1_str	s = { 0, 14 };
	struct http1_str	p = { 0, 7 };

	is_str(status_reason(200), "OK", "reason 200");
	is_str(status_reason(404), "Not Found", "reason 404");
	is_str(status_reason(413), "Content Too Large", "reason 413 "
	    "(RFC 9110)");
	is_str(status_reason(431), "Request Header Fields Too Large",
	    "reason 431");
	is_str(status_reason(505), "HTTP Version Not Supported",
	    "reason 505");
	is_str(status_reason(299), "", "reason of an unknown code");
	ok(http1_str_eq(buf, s, "content-LENGTH"), "str_eq ignores case");
	ok(!http1_str_eq(buf, s, "content-lengthx"), "str_eq: longer literal");
	ok(!http1_str_eq(buf, p, "content-length"), "str_eq: shorter string");
	ok(!http1_str_eq(buf, s, "content_length"), "str_eq: another char");
}

int
main(void)
{
	run_bad(bad_framing, PT_NELEM(bad_framing), false);
	run_bad(bad_fields, PT_NELEM(bad_fields), false);
	run_bad(bad_host, PT_NELEM(bad_host), false);
	run_bad(bad_line, PT_NELEM(bad_line), false);
	run_bad(bad_limits, PT_NELEM(bad_limits), false);
	run_bad(bad_resp, PT_NELEM(bad_resp), true);
	test_valid_requests();
	test_valid_forms();
	test_methods();
	test_kinds();
	test_flags();
	test_limit_edges();
	test_head_edge();
	test_incremental();
	test_bytewise_valid();
	test_responses();
	test_misc();
	return done();
}
