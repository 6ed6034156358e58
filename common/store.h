/*
 * store.h: the cache store: one file of a fixed size, mapped MAP_SHARED
 * by every worker, that holds objects (a key, a head of metadata, a
 * body) under a 64-bit hash of their key.
 *
 * The file is a header, an index and a data area.  The data area is a
 * log used as a ring: a writer reserves the next bytes with one atomic
 * step on the head of the log, writes its object there, and publishes
 * it in the index last.  Eviction is the ring itself: new objects
 * overwrite the oldest, so the file never grows past its size and no
 * process ever has to free anything.
 *
 * Nothing is locked.  An object is where the log was when it was
 * reserved (its "loc", a byte count that only grows), and it is intact
 * while the head of the log has not gone a whole ring past it: a reader
 * checks the object's header (key, hash, loc) and that condition before
 * and after it uses the bytes (store_still()), so an object being
 * overwritten is never taken for another.  A writer that dies before it
 * publishes leaves bytes that nothing points to; one that is lapped
 * while it writes does not publish.  Each object carries a CRC-32 of its
 * bytes, which store_check() verifies (after a crash, at start, off the
 * request path) to drop what a torn write or a bad disk left.  Until it
 * has, an object made before the file was last opened is verified by
 * the first store_get() that finds it, so that nothing is served
 * unchecked after a restart.
 */
#ifndef STORE_H
#define STORE_H

#include "pt.h"

struct store;

/* The header of an object in the data area; key, meta, body follow. */
struct store_obj {
	uint32_t	 magic;
	uint32_t	 key_len;
	uint64_t	 loc;		/* where it was reserved in the log */
	uint64_t	 hash;
	uint64_t	 size;		/* header included, 64-byte aligned */
	uint32_t	 meta_len;
	uint32_t	 crc;		/* CRC-32 of key, meta and body */
	uint64_t	 body_len;
	int64_t		 stored;	/* ms since the epoch */
	uint32_t	 checked;	/* the file's opening (epoch) in which
					   its CRC was last found good */
	uint32_t	 pad;
};

/* An object being written: the caller fills key, meta and body.  The
   rest is the writer's own copy of the header (the one in the file may
   be overwritten under it). */
struct store_put {
	struct store_obj *obj;
	char		*key, *meta, *body;
	struct store_obj head;
};

/* An object found: valid while store_still() says so. */
struct store_ref {
	const struct store_obj *obj;
	uint64_t	 loc;
	const char	*key, *meta, *body;
};

/*
 * store_open(): map path, a file of size bytes, creating it (space
 * allocated on disk, so that a full disk is an error now, not a SIGBUS
 * later) or reusing what it holds when it has this format and size.  A
 * file of another format or size is made anew, and *why says why (NULL
 * otherwise); with why NULL, such a file is an error instead (proxyctl
 * never makes a cache).  NULL on failure, with err set.
 */
struct store *store_open(const char *path, uint64_t size, const char **why,
	    char *err, size_t errlen);

/* store_close(): unmap. */
void	store_close(struct store *s);

/* store_ident(): which file s maps (its device and inode): two
   processes share objects only when they map the same one. */
uint64_t store_ident(const struct store *s);

/* store_max(): the largest object (all of it) the store takes. */
uint64_t store_max(const struct store *s);

/*
 * store_reserve(): room for an object; p points where its parts go.  -1
 * when it is larger than store_max().
 */
int	store_reserve(struct store *s, uint64_t hash, size_t key_len,
	    size_t meta_len, uint64_t body_len, struct store_put *p);

/*
 * store_commit(): the parts are written: seal and publish the object,
 * in place of any with the same key.  -1 when the ring went past it
 * while it was written (it is not published).
 */
int	store_commit(struct store *s, struct store_put *p);

/* store_reserved(): whether p's room is still its own, and far from the
   ring's coming round to it (see store_far()): a writer asks before each
   write into it, and gives up when it is not. */
bool	store_reserved(const struct store *s, const struct store_put *p);

/*
 * store_peek(): a reference to the object being written at loc (not yet
 * published; its header is not there yet) with these lengths, for
 * reading what its writer has written so far; -1 when the ring went past
 * it or the lengths do not fit.
 */
int	store_peek(const struct store *s, uint64_t loc, uint32_t key_len,
	    uint32_t meta_len, uint64_t body_len, struct store_ref *r);

/* store_get(): the object of key, or -1. */
int	store_get(struct store *s, uint64_t hash, const void *key,
	    size_t key_len, struct store_ref *r);

/* store_still(): whether r's bytes are still those of its object. */
bool	store_still(const struct store *s, const struct store_ref *r);

/* store_far(): whether the log can still grow by a quarter of the ring
   before it comes round to r's object: far enough that no write of a
   few hundred KiB from it races its overwrite. */
bool	store_far(const struct store *s, const struct store_ref *r);

/* store_drop(): forget the object of key (purge); -1 if there is none. */
int	store_drop(struct store *s, uint64_t hash, const void *key,
	    size_t key_len);

/*
 * store_check(): verify the objects the index points to, from slot
 * *next on, about budget bytes of them, and forget the ones that fail;
 * *next becomes where the next call goes on, 0 once the last slot was
 * seen.  Returns how many were dropped.
 */
unsigned store_check(struct store *s, uint64_t *next, uint64_t budget);

/*
 * store_purge(): forget the objects whose key is key[len] or starts with
 * key followed by '\n' (its variants), or, with prefix, every key that
 * starts with key; returns how many.
 */
unsigned store_purge(struct store *s, const char *key, size_t len,
	    bool prefix);

/* store_count(): objects in the index, their bytes, and how many objects
   were evicted so far. */
void	store_count(const struct store *s, uint64_t *objects, uint64_t *bytes,
	    uint64_t *evicted);

#endif /* STORE_H */
