/*
 * buf.h: the I/O buffer, and the per-process free list it comes from.
 *
 * A buffer holds bytes received and not yet used:
 *
 *     data:  [ consumed | unread bytes         | room            ]
 *            0          start                  end               size
 *
 * Invariant: 0 <= start <= end <= size.  Bytes are appended at end
 * (buf_tail(), buf_commit()) and taken from start (buf_head(),
 * buf_consume()).  When it becomes empty, start and end go back to 0 so
 * the whole room is free again.
 *
 * Ownership: a buffer belongs to exactly one connection or request at a
 * time and goes back to its pool (buf_put()) as soon as that holder has
 * nothing in it: an idle keep-alive connection holds no buffer.  All
 * buffers of a pool have the same size.  Buffers in the free list are
 * reused most recent first, so the ones in use stay warm in the cache.
 */
#ifndef BUF_H
#define BUF_H

#include "pt.h"

struct buf {
	uint32_t	 start;
	uint32_t	 end;
	uint32_t	 size;
	struct buf	*next_free;	/* in the pool's free list */
	char		 data[];
};

struct buf_pool {
	struct buf	*free;
	uint32_t	 size;		/* data bytes per buffer */
	unsigned	 nfree;
	unsigned	 max_free;	/* more than this: back to malloc */
	unsigned	 nused;
};

/* buf_pool_init(): buffers of size bytes; keep at most max_free spare. */
void	buf_pool_init(struct buf_pool *p, uint32_t size, unsigned max_free);

/* buf_get(): an empty buffer, or NULL when memory is exhausted. */
struct buf *buf_get(struct buf_pool *p);

/* buf_put(): give b back; NULL is allowed. */
void	buf_put(struct buf_pool *p, struct buf *b);

static inline uint32_t
buf_len(const struct buf *b)
{
	return b->end - b->start;
}

static inline uint32_t
buf_room(const struct buf *b)
{
	return b->size - b->end;
}

static inline char *
buf_head(struct buf *b)
{
	return b->data + b->start;
}

static inline char *
buf_tail(struct buf *b)
{
	return b->data + b->end;
}

/* buf_commit(): n bytes were written at buf_tail(). */
static inline void
buf_commit(struct buf *b, uint32_t n)
{
	b->end += n;
}

/* buf_consume(): n bytes at buf_head() are used; n <= buf_len(). */
static inline void
buf_consume(struct buf *b, uint32_t n)
{
	b->start += n;
	if (b->start == b->end)
		b->start = b->end = 0;
}

/* buf_reset(): forget every byte. */
static inline void
buf_reset(struct buf *b)
{
	b->start = b->end = 0;
}

/* buf_compact(): move the unread bytes to the front, for more room. */
static inline void
buf_compact(struct buf *b)
{
	if (b->start == 0)
		return;
	memmove(b->data, b->data + b->start, b->end - b->start);
	b->end -= b->start;
	b->start = 0;
}

/* buf_append(): copy n bytes in; returns 0, or -1 if they do not fit. */
static inline int
buf_append(struct buf *b, const void *p, size_t n)
{
	if (n > buf_room(b))
		return -1;
	memcpy(b->data + b->end, p, n);
	b->end += (uint32_t)n;
	return 0;
}

#endif /* BUF_H */
