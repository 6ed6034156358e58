/*
 * chunked.c: the chunked transfer-coding decoder (see chunked.h).
 *
 * The decoder is a state machine fed a byte at a time for the framing
 * (size lines, CRLFs, trailers) and a run at a time for the data, so it
 * never needs to see a byte twice: it consumes all it is given until the
 * body ends, then stops exactly there.
 */
#include <sys/types.h>

#include "chunked.h"

/*
 * Character classes: RFC 9110 5.6.2 (token), 5.5 (field value), RFC 9112
 * 7.1 (chunk-size is HEXDIG).  http1.c classifies head bytes through a
 * table of these classes and more (request-target, uri-host); this is a
 * copy of the four a chunked body needs, not a table exported by http1,
 * so that neither module's internals become the other's interface for
 * the sake of 256 bytes of read-only data.  Its entries are the same
 * RFC definitions, and t/unit/chunked.c checks every byte of it against
 * them through the decoder.
 */
#define C_TCHAR		0x01	/* token: trailer field names */
#define C_VALUE		0x02	/* field-vchar, obs-text, SP, HTAB */
#define C_HEX		0x04	/* HEXDIG, either case */
#define C_OWS		0x08	/* SP, HTAB */

static const uint8_t cclass[256] = {
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,	/* 00 */
	0x00, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,	/* 08 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,	/* 10 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,	/* 18 */
	0x0a, 0x03, 0x02, 0x03, 0x03, 0x03, 0x03, 0x03,	/* 20 */
	0x02, 0x02, 0x03, 0x03, 0x02, 0x03, 0x03, 0x02,	/* 28 */
	0x07, 0x07, 0x07, 0x07, 0x07, 0x07, 0x07, 0x07,	/* 30 */
	0x07, 0x07, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,	/* 38 */
	0x02, 0x07, 0x07, 0x07, 0x07, 0x07, 0x07, 0x03,	/* 40 */
	0x03, 0x03, 0x03, 0x03, 0x03, 0x03, 0x03, 0x03,	/* 48 */
	0x03, 0x03, 0x03, 0x03, 0x03, 0x03, 0x03, 0x03,	/* 50 */
	0x03, 0x03, 0x03, 0x02, 0x02, 0x02, 0x03, 0x03,	/* 58 */
	0x03, 0x07, 0x07, 0x07, 0x07, 0x07, 0x07, 0x03,	/* 60 */
	0x03, 0x03, 0x03, 0x03, 0x03, 0x03, 0x03, 0x03,	/* 68 */
	0x03, 0x03, 0x03, 0x03, 0x03, 0x03, 0x03, 0x03,	/* 70 */
	0x03, 0x03, 0x03, 0x02, 0x03, 0x02, 0x03, 0x00,	/* 78 */
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

/* chunked->state: where in the body the next byte falls */
enum {
	CH_SIZE = 0,	/* the first digit of a chunk-size */
	CH_SIZE_MORE,	/* more digits, BWS, ';' or CR */
	CH_SIZE_BWS,	/* whitespace after the size: more, or ';' */
	CH_EXT,		/* chunk-ext, up to CR */
	CH_SIZE_LF,
	CH_DATA,
	CH_DATA_CR,
	CH_DATA_LF,
	CH_TRAILER,	/* the start of a trailer field line or final CRLF */
	CH_TNAME,
	CH_TVALUE,
	CH_TLF,
	CH_END_LF,
	CH_DONE,
	CH_ERROR,
};

static int
bad_chunk(struct chunked *c, const char *why)
{
	c->state = CH_ERROR;
	c->error = why;
	return -1;
}

/* The trailer section is bounded as a whole too: 4 lines' worth. */
static inline int
count_trailer(struct chunked *c)
{
	if (++c->trailer_len > (uint64_t)c->max_line * 4)
		return bad_chunk(c, "trailer section too large");
	return 0;
}

static inline uint64_t
hexval(unsigned char ch)
{
	return ch <= '9' ? ch - '0' : (ch | 0x20) - 'a' + 10;
}

/* chunked_init(): see chunked.h. */
void
chunked_init(struct chunked *c, uint32_t max_line)
{
	memset(c, 0, sizeof(*c));
	c->max_line = max_line;
}

/*
 * One byte of a chunk-size line, a CRLF or the trailer section; the data
 * itself is skipped in bulk by the caller.  RFC 9112 7.1:
 *   chunk      = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
 *   last-chunk = 1*("0") [ chunk-ext ] CRLF
 *   chunk-ext  = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] )
 * The extension is only checked for its characters (HTAB, SP, VCHAR,
 * obs-text): nothing here acts on it.  Trailer field lines are checked
 * like header field lines (RFC 9112 7.1.2), obs-fold refused.
 */
static int
chunk_byte(struct chunked *c, unsigned char ch)
{
	uint8_t	cl = cclass[ch];

	switch (c->state) {
	case CH_SIZE:
		if (!(cl & C_HEX))
			return bad_chunk(c, "invalid chunk size");
		c->remaining = hexval(ch);
		c->ndigits = 1;
		c->state = CH_SIZE_MORE;
		break;
	case CH_SIZE_MORE:
		if (cl & C_HEX) {
			/* 16 hex digits fill 64 bits: no overflow. */
			if (++c->ndigits > 16)
				return bad_chunk(c, "chunk size too large");
			c->remaining = c->remaining << 4 | hexval(ch);
			break;
		}
		if (ch == '\r') {
			c->state = CH_SIZE_LF;
			break;
		}
		/* FALLTHROUGH */
	case CH_SIZE_BWS:
		if (cl & C_OWS)
			c->state = CH_SIZE_BWS;
		else if (ch == ';')
			c->state = CH_EXT;
		else
			return bad_chunk(c, "invalid chunk size line");
		break;
	case CH_EXT:
		if (ch == '\r')
			c->state = CH_SIZE_LF;
		else if (!(cl & C_VALUE))
			return bad_chunk(c, "invalid chunk extension");
		break;
	case CH_SIZE_LF:
		if (ch != '\n')
			return bad_chunk(c, "chunk size line without CRLF");
		c->state = c->remaining > 0 ? CH_DATA : CH_TRAILER;
		c->line_len = 0;
		return 0;
	case CH_DATA_CR:
	case CH_DATA_LF:
		if (ch != (c->state == CH_DATA_CR ? '\r' : '\n'))
			return bad_chunk(c, "chunk data without CRLF");
		c->state = c->state == CH_DATA_CR ? CH_DATA_LF : CH_SIZE;
		return 0;
	case CH_TRAILER:
		if (ch == '\r')
			c->state = CH_END_LF;
		else if (cl & C_TCHAR)
			c->state = CH_TNAME;
		else
			return bad_chunk(c, cl & C_OWS ? "obs-fold in trailer" :
			    "invalid trailer field");
		break;
	case CH_TNAME:
		if (ch == ':')
			c->state = CH_TVALUE;
		else if (!(cl & C_TCHAR))
			return bad_chunk(c, "invalid trailer field name");
		break;
	case CH_TVALUE:
		if (ch == '\r')
			c->state = CH_TLF;
		else if (!(cl & C_VALUE))
			return bad_chunk(c, "invalid trailer field value");
		break;
	case CH_TLF:
	case CH_END_LF:
		if (ch != '\n')
			return bad_chunk(c, "trailer line without CRLF");
		c->state = c->state == CH_TLF ? CH_TRAILER : CH_DONE;
		c->line_len = 0;
		return count_trailer(c);
	}
	/* Every byte of a size or trailer line counts toward its limit,
	   which, as for a head, leaves out the CRLF. */
	if (++c->line_len > (uint64_t)c->max_line + 1)
		return bad_chunk(c, "chunk size or trailer line too long");
	return c->state >= CH_TRAILER ? count_trailer(c) : 0;
}

/*
 * Run the decoder over len bytes at p.  Chunk data is skipped in bulk;
 * when out is not NULL it is also moved down to out + *data, so that
 * the data of the bytes consumed ends up, framing removed, at the start
 * of the buffer (out <= p always holds: data is never longer than the
 * bytes it came in).  Returns the bytes consumed, or -1.
 */
static ssize_t
feed(struct chunked *c, const char *p, size_t len, char *out, size_t *data)
{
	const unsigned char	*u = (const unsigned char *)p;
	size_t			 i = 0, k;

	if (c->state == CH_ERROR)
		return -1;
	while (i < len && c->state != CH_DONE) {
		if (c->state == CH_DATA) {
			k = len - i;
			if (k > c->remaining)
				k = (size_t)c->remaining;
			if (out != NULL) {
				if (out + *data != p + i)
					memmove(out + *data, p + i, k);
				*data += k;
			}
			i += k;
			c->remaining -= k;
			c->total += k;
			if (c->remaining == 0)
				c->state = CH_DATA_CR;
			continue;
		}
		if (chunk_byte(c, u[i++]) == -1)
			return -1;
	}
	return (ssize_t)i;
}

/* chunked_scan(): see chunked.h. */
ssize_t
chunked_scan(struct chunked *c, const char *p, size_t len)
{
	return feed(c, p, len, NULL, NULL);
}

/* chunked_decode(): see chunked.h. */
ssize_t
chunked_decode(struct chunked *c, char *p, size_t len, size_t *data)
{
	*data = 0;
	return feed(c, p, len, p, data);
}

/* chunked_done(): see chunked.h. */
bool
chunked_done(const struct chunked *c)
{
	return c->state == CH_DONE;
}
