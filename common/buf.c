/*
 * buf.c: the buffer free list.  See buf.h.
 */
#include <stdlib.h>

#include "buf.h"

/* buf_pool_init(): see buf.h. */
void
buf_pool_init(struct buf_pool *p, uint32_t size, unsigned max_free)
{
	p->free = NULL;
	p->size = size;
	p->nfree = 0;
	p->max_free = max_free;
	p->nused = 0;
}

/* buf_get(): see buf.h. */
struct buf *
buf_get(struct buf_pool *p)
{
	struct buf	*b;

	if ((b = p->free) != NULL) {
		p->free = b->next_free;
		p->nfree--;
	} else if ((b = malloc(sizeof(*b) + p->size)) == NULL)
		return NULL;
	b->start = b->end = 0;
	b->size = p->size;
	b->next_free = NULL;
	p->nused++;
	return b;
}

/* buf_put(): see buf.h. */
void
buf_put(struct buf_pool *p, struct buf *b)
{
	if (b == NULL)
		return;
	p->nused--;
	/* Past the bound the memory goes back, so that a burst of traffic
	   does not pin its peak of buffers for the life of the worker. */
	if (p->nfree >= p->max_free) {
		free(b);
		return;
	}
	b->next_free = p->free;
	p->free = b;
	p->nfree++;
}
