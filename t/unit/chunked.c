/*
 * chunked.c: unit tests of common/chunked.c, printing TAP.
 *
 * Every rule of the chunked coding is broken by at least one body here,
 * each also fed a byte at a time; then valid bodies with extensions and
 * trailers, decoding for an HTTP/1.0 client, a chunked request followed
 * by the next one on the connection, and every byte value against the
 * RFC's character classes, which chunked.c keeps a table of its own for.
 */
#include <ctype.h>

#include "chunked.h"
#include "http1.h"
#include "tap.h"

/* A body the decoder must refuse: bytes with their length (NULs too). */
struct bad {
	const char	*name;
	const char	*in;
	size_t		 len;
};

#define BAD(name, lit)	{ name, lit, sizeof(lit) - 1 }

#define LONG32	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define LONG64	LONG32 LONG32

/* Scan in, whole, with a fresh decoder in c: what scan returned. */
static ssize_t
scan_whole(const char *in, size_t len, struct chunked *c)
{
	chunked_init(c, 64);
	return chunked_scan(c, in, len);
}

/* The same a byte at a time: bytes consumed until done, or -1. */
static ssize_t
scan_bytewise(const char *in, size_t len, struct chunked *c)
{
	size_t	i, used = 0;
	ssize_t	n;

	chunked_init(c, 64);
	for (i = 0; i < len && !chunked_done(c); i++) {
		if ((n = chunked_scan(c, in + i, 1)) == -1)
			return -1;
		used += (size_t)n;
	}
	return (ssize_t)used;
}

#define B50	"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define CHUNKED(lit, c)	scan_whole(lit, sizeof(lit) - 1, c)

static const struct bad bad_chunks[] = {
	BAD("chunk size not hex", "zz\r\nhello\r\n0\r\n\r\n"),
	BAD("chunk size 0x5", "0x5\r\nhello\r\n0\r\n\r\n"),
	BAD("chunk size -5", "-5\r\nhello\r\n0\r\n\r\n"),
	BAD("chunk size +5", "+5\r\nhello\r\n0\r\n\r\n"),
	BAD("chunk size empty", "\r\nhello\r\n0\r\n\r\n"),
	BAD("chunk size 5 5", "5 5\r\nhello\r\n0\r\n\r\n"),
	BAD("chunk size with trailing space", "5 \r\nhello\r\n0\r\n\r\n"),
	BAD("chunk size of 17 digits", "10000000000000000\r\n"),
	BAD("chunk size overflowing", "ffffffffffffffffffff\r\n"),
	BAD("chunk size of 17 digits with leading zeros",
	    "00000000000000005\r\nhello\r\n0\r\n\r\n"),
	BAD("chunk data without CRLF", "5\r\nhelloXX0\r\n\r\n"),
	BAD("chunk data too long", "3\r\nhello\r\n0\r\n\r\n"),
	BAD("chunk data with a bare LF after", "5\r\nhello\n0\r\n\r\n"),
	BAD("chunk data with CR, no LF", "5\r\nhello\rx"),
	BAD("chunk-ext with a control char", "5;a=\x01\r\nhello\r\n"),
	BAD("chunk-ext with NUL", "5;a\0\r\nhello\r\n"),
	BAD("chunk-ext with DEL", "5;a\x7f\r\nhello\r\n"),
	BAD("chunk-ext with a bare LF", "5;a\nhello\r\n"),
	BAD("chunk size line with a bare LF", "5\nhello\r\n0\r\n\r\n"),
	BAD("chunk size line with a bare CR", "5\rhello\r\n0\r\n\r\n"),
	BAD("chunk size line too long", "5;" LONG64 "\r\nhello\r\n"),
	BAD("last chunk with a bare LF", "0\n\r\n"),
	BAD("final CRLF as a bare LF", "0\r\n\n"),
	BAD("final CR without LF", "0\r\n\rX"),
	BAD("trailer with a control char", "0\r\nX-T: a\x01\r\n\r\n"),
	BAD("trailer with NUL", "0\r\nX-T: a\0\r\n\r\n"),
	BAD("trailer folded", "0\r\nX-T: a\r\n b\r\n\r\n"),
	BAD("trailer with space before colon", "0\r\nX-T : a\r\n\r\n"),
	BAD("trailer without colon", "0\r\nX-T\r\n\r\n"),
	BAD("trailer with an empty name", "0\r\n: a\r\n\r\n"),
	BAD("trailer with a bare LF", "0\r\nX-T: a\n\r\n"),
	BAD("trailer line too long", "0\r\nX-T: " LONG64 "\r\n\r\n"),
	BAD("trailer section too large", "0\r\nA: " B50 "\r\nB: " B50
	    "\r\nC: " B50 "\r\nD: " B50 "\r\nE: " B50 "\r\n\r\n"),
};

static void
test_chunked_bad(void)
{
	struct chunked	c;
	size_t		i, agree = 0;

	for (i = 0; i < PT_NELEM(bad_chunks); i++) {
		if (!ok(scan_whole(bad_chunks[i].in, bad_chunks[i].len,
		    &c) == -1 && c.error != NULL, "%s: refused",
		    bad_chunks[i].name))
			diag("done %d", chunked_done(&c));
		if (scan_bytewise(bad_chunks[i].in, bad_chunks[i].len,
		    &c) == -1)
			agree++;
	}
	is_int((long long)agree, (long long)PT_NELEM(bad_chunks), "bad "
	    "chunks: byte at a time, refused too");
	is_int(chunked_scan(&c, "0\r\n\r\n", 5), -1, "an error stays "
	    "an error");
}

static void
test_chunked_good(void)
{
	static const char	body[] = "5\r\nhello\r\n0\r\n\r\n";
	static const char	trail[] = "a;n=v;m=\"q \\\" s\"\r\n"
				    "0123456789\r\n"
				    "5 ; x\t;y\r\n01234\r\n000;end\r\n"
				    "X-T: 1\r\nChecksum:\t\xc3\xa7 \r\n\r\n"
				    "GET / HTTP/1.1\r\n";
	struct chunked		c;

	is_int(CHUNKED(body, &c), sizeof(body) - 1, "one chunk: all of it");
	ok(chunked_done(&c), "one chunk: done");
	is_int((long long)c.total, 5, "one chunk: 5 data bytes");
	is_int(CHUNKED(trail, &c), sizeof(trail) - 1 - 16, "extensions, "
	    "trailers, pipelined request: stops at the end of the body");
	ok(chunked_done(&c), "extensions and trailers: done");
	is_int((long long)c.total, 15, "extensions and trailers: 15 bytes");
	is_int(scan_bytewise(trail, sizeof(trail) - 1, &c),
	    sizeof(trail) - 1 - 16, "byte at a time: the same end");
	is_int((long long)c.total, 15, "byte at a time: the same total");
	is_int(CHUNKED("A\r\n0123456789\r\n0\r\n\r\n", &c), 20,
	    "uppercase hex: valid");
	is_int(CHUNKED("0;" LONG32 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n",
	    &c), 64 + 4, "size line of max_line bytes: valid");
	ok(chunked_done(&c), "size line of max_line bytes: done");
	is_int(CHUNKED("0000000000000000\r\n\r\n", &c), 20,
	    "last chunk of 16 zeros: valid");
	ok(chunked_done(&c), "last chunk of 16 zeros: done");
	is_int(CHUNKED("ffffffffffffffff\r\nabc", &c), 21,
	    "size 2^64 - 1: taken, data streams");
	ok(!chunked_done(&c) && c.total == 3, "size 2^64 - 1: 3 bytes "
	    "of it so far");
	is_int(CHUNKED("5\r\nhel", &c), 6, "partial chunk: all consumed");
	ok(!chunked_done(&c), "partial chunk: not done");
	is_int(chunked_scan(&c, "lo\r\n0\r\n\r\nXYZ", 12), 9,
	    "the rest: stops before XYZ");
	ok(chunked_done(&c), "the rest: done");
	is_int(chunked_scan(&c, "XYZ", 3), 0, "after the end: nothing "
	    "more belongs to the body");
}

/* Decoding for an HTTP/1.0 client: the data moves to the front. */
static void
test_chunked_decode(void)
{
	static const char	in[] = "5\r\nhello\r\n6;x=y\r\n world\r\n"
				    "0\r\nX-T: 1\r\n\r\nNEXT";
	char			buf[sizeof(in)], one[sizeof(in)];
	struct chunked		c;
	size_t			data, i, got = 0;
	ssize_t			n, used = 0;

	memcpy(buf, in, sizeof(in));
	chunked_init(&c, 64);
	n = chunked_decode(&c, buf, sizeof(in) - 1, &data);
	is_int(n, sizeof(in) - 1 - 4, "decode: stops at the end of the body");
	ok(chunked_done(&c), "decode: done");
	ok(data == 11 && memcmp(buf, "hello world", 11) == 0,
	    "decode: the data, framing removed, at the start");
	is_int((long long)c.total, 11, "decode: total counts the data");

	/* a byte at a time: each call's data is what it consumed */
	memcpy(buf, in, sizeof(in));
	chunked_init(&c, 64);
	for (i = 0; i < sizeof(in) - 1 && !chunked_done(&c); i++) {
		if ((n = chunked_decode(&c, buf + i, 1, &data)) == -1)
			break;
		used += n;
		if (data == 1)
			one[got++] = buf[i];
	}
	ok(used == (ssize_t)sizeof(in) - 1 - 4 && got == 11 &&
	    memcmp(one, "hello world", 11) == 0, "decode a byte at a time: "
	    "the same data, the same end");
	memcpy(buf, "5\r\nhelloXX", 10);
	chunked_init(&c, 64);
	is_int(chunked_decode(&c, buf, 10, &data), -1,
	    "decode: a missing CRLF is an error too");
}

/* A chunked request, its body, and the request after it. */
static void
test_chunked_request(void)
{
	static const char	in[] = "POST /up HTTP/1.1\r\nHost: a\r\n"
				    "Transfer-Encoding: chunked\r\n\r\n"
				    "3\r\nabc\r\n0\r\nX-Sum: 1\r\n\r\n"
				    "GET /next HTTP/1.1\r\nHost: a\r\n\r\n";
	static const struct http1_limits lim = { 256, 2048, 16 };
	struct http1_header	hdrs[16];
	struct http1_msg	msg;
	struct chunked		c;
	size_t			off;
	ssize_t			n;

	http1_msg_init(&msg, hdrs, PT_NELEM(hdrs));
	is_int(http1_parse_request(in, sizeof(in) - 1, &msg, &lim), 0,
	    "chunked request: head complete");
	is_int(msg.body, HTTP1_BODY_CHUNKED, "chunked request: CHUNKED");
	off = msg.head_len;
	chunked_init(&c, 256);
	n = chunked_scan(&c, in + off, sizeof(in) - 1 - off);
	is_int(n, 23, "chunked request: the body is 23 bytes");
	ok(chunked_done(&c), "chunked request: body done");
	off += (size_t)n;
	http1_msg_init(&msg, hdrs, PT_NELEM(hdrs));
	is_int(http1_parse_request(in + off, sizeof(in) - 1 - off, &msg,
	    &lim), 0, "chunked request: the next request follows exactly");
	ok(msg.target.len == 5 && memcmp(in + off + msg.target.off, "/next",
	    5) == 0, "chunked request: /next");
}

/* RFC 9110 5.6.2: tchar, written out rather than read from a table. */
static bool
is_tchar(int ch)
{
	return ch < 0x80 && (isalnum(ch) ||
	    (ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL));
}

/* RFC 9110 5.5: field-vchar (VCHAR, obs-text), SP and HTAB. */
static bool
is_value(int ch)
{
	return ch == '\t' || (ch >= 0x20 && ch != 0x7f);
}

/* Whether a fresh decoder takes the n bytes at p without an error. */
static bool
takes(const char *p, size_t n)
{
	struct chunked	c;

	chunked_init(&c, 64);
	return chunked_scan(&c, p, n) == (ssize_t)n;
}

/*
 * chunked.c classifies bytes through a table of its own: each class it
 * uses, checked for all 256 byte values against the definition above,
 * each byte in the one place of a body where only that class decides.
 */
static void
test_classes(void)
{
	char	b[4];
	int	ch, hex = 0, ows = 0, ext = 0, name = 0;

	for (ch = 0; ch < 256; ch++) {
		b[0] = (char)ch;
		if (takes(b, 1) == (isxdigit(ch) && ch < 0x80))
			hex++;
		memcpy(b, "5", 1);
		b[1] = (char)ch;
		b[2] = ';';
		if (takes(b, 3) == ((isxdigit(ch) && ch < 0x80) ||
		    ch == ' ' || ch == '\t' || ch == ';'))
			ows++;
		memcpy(b, "5;", 2);
		b[2] = (char)ch;
		if (takes(b, 3) == (is_value(ch) || ch == '\r'))
			ext++;
		memcpy(b, "0\r\n", 3);
		b[3] = (char)ch;
		if (takes(b, 4) == (is_tchar(ch) || ch == '\r'))
			name++;
	}
	is_int(hex, 256, "chunk-size: HEXDIG, and only HEXDIG");
	is_int(ows, 256, "after the size: BWS, ';' or more HEXDIG");
	is_int(ext, 256, "chunk-ext: field-vchar, obs-text, SP, HTAB");
	is_int(name, 256, "trailer field name: tchar");
}

int
main(void)
{
	test_chunked_bad();
	test_chunked_good();
	test_chunked_decode();
	test_chunked_request();
	test_classes();
	return done();
}
