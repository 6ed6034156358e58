/*
 * http1_fuzz.c: the libFuzzer target of common/http1.c and common/chunked.c
 * (make fuzz).
 *
 * An input is three bytes of setup and a message.  The setup picks the
 * limits, the method a response answers and how reads are split; the
 * message goes through the request parser, the response parser and the
 * chunked decoder (scanning and decoding in place) several ways each:
 * whole, a byte at a time, and in random pieces with the buffer moved
 * between calls.  Besides what ASan
 * and UBSan catch, it asserts what callers rely on: every offset inside
 * the head, head_len <= len, parsed <= len, never more headers than the
 * array holds, a status code for every error, a head refused as soon as
 * it is longer than max_head, and the same answer however it was split.
 */
#include <assert.h>
#include <stdlib.h>
#include <sanitizer/asan_interface.h>

#include "chunked.h"
#include "http1.h"

#define HCAP	16	/* headers array: max_headers may be more */

struct setup {
	struct http1_limits	 lim;
	uint8_t			 method;	/* a response answers it */
	uint32_t		 seed;		/* for the random splits */
};

struct result {
	int			 rc;
	struct http1_msg	 msg;
	struct http1_header	*hdrs;		/* HCAP, exactly */
};

static const uint8_t	methods[8] = {
	HTTP1_M_GET, HTTP1_M_HEAD, HTTP1_M_POST, HTTP1_M_CONNECT,
	HTTP1_M_OPTIONS, HTTP1_M_PUT, HTTP1_M_OTHER, HTTP1_M_GET,
};

/* A small xorshift generator: the same splits for the same input. */
static uint32_t
next_rand(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static int
parse(bool response, const char *p, size_t len, struct result *r,
    const struct setup *su)
{
	if (response)
		return http1_parse_response(p, len, &r->msg, &su->lim,
		    su->method);
	return http1_parse_request(p, len, &r->msg, &su->lim);
}

/* s lies inside the first end bytes. */
static void
inside(struct http1_str s, uint32_t end)
{
	assert(s.off <= end && s.len <= end - s.off);
}

/* What must hold after any call, whatever the input. */
static void
check(bool response, const struct result *r, size_t len,
    const struct setup *su)
{
	const struct http1_msg	*m = &r->msg;
	const uint32_t		 cap = su->lim.max_headers < HCAP ?
				    su->lim.max_headers : HCAP;
	uint32_t		 i;

	assert(r->rc == 0 || r->rc == -1 || r->rc == PT_AGAIN);
	assert(m->parsed <= len);
	assert(m->nheaders <= cap);
	if (r->rc == -1) {
		assert(m->error != NULL);
		if (response)
			assert(m->error_status == 502);
		else
			assert(m->error_status == 400 ||
			    m->error_status == 414 || m->error_status == 431 ||
			    m->error_status == 501 || m->error_status == 505);
		return;
	}
	/* Still waiting: the head can still end within max_head. */
	if (r->rc == PT_AGAIN) {
		assert(len <= su->lim.max_head);
		return;
	}
	assert(m->head_len <= len && m->head_len <= su->lim.max_head);
	assert(m->head_len == m->parsed && m->head_len >= 4);
	assert(m->version_minor <= 1 && m->body <= HTTP1_BODY_CLOSE);
	if (m->body == HTTP1_BODY_LENGTH)
		assert(m->content_length > 0);
	if (response) {
		assert(m->status >= 100 && m->status <= 599);
		assert(m->body != HTTP1_BODY_CLOSE || m->status >= 200);
		inside(m->reason, m->head_len);
	} else {
		assert(m->method_str.len > 0 && m->target.len > 0);
		inside(m->method_str, m->head_len);
		inside(m->target, m->head_len);
		inside(m->host, m->head_len);
		assert(m->body != HTTP1_BODY_CLOSE);
	}
	for (i = 0; i < m->nheaders; i++) {
		assert(r->hdrs[i].name.len > 0);
		inside(r->hdrs[i].name, m->head_len);
		inside(r->hdrs[i].value, m->head_len);
		assert(r->hdrs[i].kind <= HTTP1_H_SERVER);
	}
}

/* Two parses of the same bytes ended the same way. */
static void
same(const struct result *a, const struct result *b)
{
	const struct http1_msg	*x = &a->msg, *y = &b->msg;

	assert(a->rc == b->rc);
	assert(x->error_status == y->error_status);
	if (a->rc != 0)
		return;
	assert(x->head_len == y->head_len && x->nheaders == y->nheaders);
	assert(x->method == y->method && x->status == y->status);
	assert(x->flags == y->flags && x->body == y->body);
	assert(x->content_length == y->content_length);
	assert(x->version_minor == y->version_minor);
	assert(memcmp(&x->target, &y->target, sizeof(x->target)) == 0);
	assert(memcmp(&x->host, &y->host, sizeof(x->host)) == 0);
	assert(memcmp(a->hdrs, b->hdrs, x->nheaders * sizeof(*a->hdrs)) == 0);
}

static void
start(struct result *r)
{
	if (r->hdrs == NULL)
		r->hdrs = malloc(HCAP * sizeof(*r->hdrs));
	assert(r->hdrs != NULL);
	http1_msg_init(&r->msg, r->hdrs, HCAP);
	r->rc = PT_AGAIN;
}

/*
 * A byte at a time, as reads of one byte would bring it: the bytes not
 * yet "read" are poisoned, so that looking at one is an ASan report.
 * Stops at the first answer other than PT_AGAIN, like a caller.
 */
static void
bytewise(bool response, const char *p, size_t len, struct result *r,
    const struct setup *su)
{
	char	*buf;
	size_t	 n;

	start(r);
	if (len == 0)
		return;
	if ((buf = malloc(len)) == NULL)
		abort();
	memcpy(buf, p, len);
	ASAN_POISON_MEMORY_REGION(buf + 1, len - 1);
	for (n = 1; n <= len && r->rc == PT_AGAIN; n++) {
		ASAN_UNPOISON_MEMORY_REGION(buf + n - 1, 1);
		r->rc = parse(response, buf, n, r, su);
		check(response, r, n, su);
		if (r->rc == 0)
			assert(r->msg.head_len == n);
	}
	ASAN_UNPOISON_MEMORY_REGION(buf, len);
	free(buf);
}

/* In random pieces, each call with a fresh copy: the buffer moves. */
static void
pieces(bool response, const char *p, size_t len, struct result *r,
    const struct setup *su)
{
	uint32_t	 s = su->seed;
	size_t		 n = 0;
	char		*buf;

	start(r);
	while (n < len && r->rc == PT_AGAIN) {
		n += 1 + next_rand(&s) % 97;
		if (n > len)
			n = len;
		if ((buf = malloc(n)) == NULL)
			abort();
		memcpy(buf, p, n);
		r->rc = parse(response, buf, n, r, su);
		check(response, r, n, su);
		free(buf);
	}
}

static void
fuzz_head(bool response, const char *p, size_t len, const struct setup *su)
{
	static struct result	whole, bytes, split;

	start(&whole);
	whole.rc = parse(response, p, len, &whole, su);
	check(response, &whole, len, su);
	/* Asked again, it answers the same without reparsing. */
	if (whole.rc != PT_AGAIN) {
		struct http1_msg	copy = whole.msg;

		assert(parse(response, p, len, &whole, su) == whole.rc);
		assert(memcmp(&copy, &whole.msg, sizeof(copy)) == 0);
	}
	bytewise(response, p, len, &bytes, su);
	same(&whole, &bytes);
	pieces(response, p, len, &split, su);
	same(&whole, &split);
}

/* The chunked decoder: n bytes from p in pieces of at most step. */
static ssize_t
scan_pieces(const char *p, size_t len, size_t step, uint32_t max_line,
    struct chunked *c)
{
	size_t	used = 0, k;
	ssize_t	n;

	chunked_init(c, max_line);
	while (used < len && !chunked_done(c)) {
		k = len - used < step ? len - used : step;
		n = chunked_scan(c, p + used, k);
		if (n == -1) {
			assert(c->error != NULL);
			assert(chunked_scan(c, p, len) == -1);
			return -1;
		}
		assert((size_t)n <= k);
		/* Short only at the end of the body. */
		assert((size_t)n == k || chunked_done(c));
		used += (size_t)n;
	}
	return (ssize_t)used;
}

/*
 * Decoding in place, in pieces of at most step: the data of each piece
 * lands at its start and is gathered in out.  Must consume what the
 * scan consumes and yield exactly total bytes.
 */
static ssize_t
decode_pieces(const char *p, size_t len, size_t step, uint32_t max_line,
    struct chunked *c, char *out, size_t *outlen)
{
	char	*buf;
	size_t	 used = 0, k, data;
	ssize_t	 n;

	if ((buf = malloc(len + 1)) == NULL)
		abort();
	memcpy(buf, p, len);
	chunked_init(c, max_line);
	*outlen = 0;
	while (used < len && !chunked_done(c)) {
		k = len - used < step ? len - used : step;
		n = chunked_decode(c, buf + used, k, &data);
		if (n == -1)
			break;
		assert(data <= (size_t)n);
		memcpy(out + *outlen, buf + used, data);
		*outlen += data;
		used += (size_t)n;
	}
	free(buf);
	return c->error != NULL ? -1 : (ssize_t)used;
}

static void
fuzz_chunked(const char *p, size_t len, const struct setup *su)
{
	struct chunked		a, b, c, d, e;
	ssize_t			na, nb, nc, nd, ne;
	char			*od, *oe;
	size_t			ld, le;

	na = scan_pieces(p, len, len + 1, su->lim.max_line, &a);
	nb = scan_pieces(p, len, 1, su->lim.max_line, &b);
	nc = scan_pieces(p, len, 1 + su->seed % 13, su->lim.max_line, &c);
	assert(na == nb && na == nc);
	if ((od = malloc(len + 1)) == NULL || (oe = malloc(len + 1)) == NULL)
		abort();
	nd = decode_pieces(p, len, len + 1, su->lim.max_line, &d, od, &ld);
	ne = decode_pieces(p, len, 1 + su->seed % 7, su->lim.max_line, &e, oe,
	    &le);
	assert(nd == na && ne == na);
	if (na != -1) {
		assert(chunked_done(&a) == chunked_done(&b));
		assert(chunked_done(&a) == chunked_done(&c));
		assert(chunked_done(&a) == chunked_done(&d));
		assert(a.total == b.total && a.total == c.total);
		assert(a.total <= (uint64_t)na);
		assert(ld == a.total && le == a.total);
		assert(memcmp(od, oe, ld) == 0);
	}
	free(od);
	free(oe);
}

/* A request with a chunked body: the body after the head, and then
   whatever follows must start exactly where the body ended. */
static void
fuzz_request_body(const char *p, size_t len, const struct setup *su)
{
	static struct result	r;
	struct chunked		c;
	ssize_t			n;

	start(&r);
	if (parse(false, p, len, &r, su) != 0 ||
	    r.msg.body != HTTP1_BODY_CHUNKED)
		return;
	n = scan_pieces(p + r.msg.head_len, len - r.msg.head_len, len,
	    su->lim.max_line, &c);
	assert(n == -1 || (size_t)n <= len - r.msg.head_len);
}

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct setup	 su;
	const char	*p = (const char *)data + 3;

	if (size < 3)
		return 0;
	su.lim.max_line = 32 + (data[0] & 0x0f) * 32u;
	su.lim.max_head = 128 + (data[0] >> 4) * 256u;
	su.lim.max_headers = data[1] & 0x1f;
	su.method = methods[data[1] >> 5];
	su.seed = 0x9e3779b9u ^ data[2];
	size -= 3;
	fuzz_head(false, p, size, &su);
	fuzz_head(true, p, size, &su);
	fuzz_chunked(p, size, &su);
	fuzz_request_body(p, size, &su);
	return 0;
}
