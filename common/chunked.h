/*
 * chunked.h: the chunked transfer coding (RFC 9112 7.1), decoded in place
 * as it streams.
 *
 * The proxy forwards the chunked bytes unchanged; this decoder only finds
 * where the body ends and refuses what is malformed: a chunk size that is
 * not hex, longer than 16 digits or overflowing, a chunk-ext or trailer
 * line with control characters or longer than the limit, a missing CRLF
 * after chunk data, bare LF.  For a client that cannot take the coding
 * (HTTP/1.0), chunked_decode() also strips the framing and the trailers.
 *
 * Bytes are fed as they arrive, split anywhere: the decoder keeps no
 * pointer into the caller's buffer, and the answer is the same for any
 * split.  http1.h parses the head that says a body is chunked
 * (HTTP1_BODY_CHUNKED); this module reads the body that follows it.
 */
#ifndef CHUNKED_H
#define CHUNKED_H

#include <sys/types.h>

#include "pt.h"

/* One chunked body being read.  Only the decoder writes it. */
struct chunked {
	uint8_t		 state;		/* private */
	uint8_t		 ndigits;	/* private */
	uint32_t	 line_len;	/* private: the current line's length */
	uint32_t	 trailer_len;	/* private: trailer section bytes */
	uint64_t	 remaining;	/* private: data bytes left in chunk */
	uint64_t	 total;		/* data bytes seen so far */
	uint32_t	 max_line;	/* limit for size and trailer lines */
	const char	*error;		/* on -1: why */
};

/* chunked_init(): a decoder at the start of a chunked body. */
void	chunked_init(struct chunked *c, uint32_t max_line);

/*
 * chunked_scan(): consume up to len bytes of chunked body from p.
 * Returns the number of bytes that belong to the body (<= len; the rest,
 * if any, belongs to what follows the body), or -1 when malformed.
 * chunked_done() tells when the last chunk and the trailer section
 * have been consumed.
 */
ssize_t	chunked_scan(struct chunked *c, const char *p, size_t len);
bool	chunked_done(const struct chunked *c);

/*
 * chunked_decode(): the same, for a client that cannot take the
 * chunked coding (HTTP/1.0): the chunk data among the bytes consumed is
 * also moved to the start of p, framing and trailers removed, and *data
 * says how many bytes of it there are (<= the return value).
 */
ssize_t	chunked_decode(struct chunked *c, char *p, size_t len, size_t *data);

#endif /* CHUNKED_H */
