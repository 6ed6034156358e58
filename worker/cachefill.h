/*
 * cachefill.h: the state the cache keeps for an exchange (struct
 * cache_x), the format of a stored response (struct cache_meta), and
 * what cache.c, cachehit.c and cachefill.c share.  cache.c looks up and
 * decides; cachehit.c answers from the store; cachefill.c stores what the
 * origin answers (cache.h is their face to the rest of the worker).
 */
#ifndef CACHEFILL_H
#define CACHEFILL_H

#include "cache.h"
#include "chunked.h"
#include "policy.h"
#include "store.h"

#define CACHE_META_VERSION	1

/* A stored response's meta: this struct, then fields_len bytes of header
   lines ("Name: value\r\n"), then vary_len bytes of Vary names. */
struct cache_meta {
	uint32_t	 version;
	uint16_t	 status;
	uint16_t	 flags;		/* META_* */
	int64_t		 resp_time;	/* s since the epoch: it came */
	int64_t		 initial_age;	/* s: corrected initial age */
	int64_t		 lifetime;	/* s: freshness lifetime */
	int64_t		 swr, sie;	/* s: stale-while-revalidate, -if-error;
					   -1: none */
	uint64_t	 marker;	/* a variant: its marker's loc + 1 */
	uint32_t	 fields_len;
	uint32_t	 vary_len;	/* a marker: "name,name" (lower case) */
};

#define META_MARKER		0x01	/* a Vary marker, no response */
#define META_MUST_REVALIDATE	0x02
#define META_NO_CACHE		0x04	/* revalidate every time */
#define META_ETAG		0x08	/* validators it has */
#define META_LAST_MODIFIED	0x10

/* Why a request went to the origin (RFC 9211 fwd). */
enum cache_fwd {
	FWD_URI_MISS = 0,
	FWD_VARY_MISS,
	FWD_STALE,
	FWD_REQUEST,
	FWD_METHOD,
};

/* How a response is being stored. */
enum cache_writing {
	WRITE_NONE = 0,
	WRITE_DIRECT,	/* Content-Length: into the mapping as it comes */
	WRITE_HEAP,	/* chunked or until close: held, stored at the end */
};

struct cache_x {
	char		*key;		/* primary key, maybe + variant part */
	size_t		 key_len, key_cap;
	size_t		 pkey_len;	/* the primary key's length */
	uint64_t	 hash, vhash;	/* of the primary and variant keys */
	uint64_t	 marker;	/* the Vary marker found: loc + 1 */
	struct cc	 req_cc;
	struct store_ref ref;		/* what the lookup found ... */
	struct cache_meta meta;		/* ... its meta ... */
	uint64_t	 body_len;	/* ... and the length of its body */
	bool		 have;
	uint8_t		 streaming;	/* ref is another's response still
					   being stored under the lock */
	uint8_t		 fwd;		/* enum cache_fwd */
	uint8_t		 fill;		/* a GET whose response may be stored */
	uint8_t		 reval;		/* validators sent with it */
	uint8_t		 invalidate;	/* an unsafe method */
	uint8_t		 collapsed;	/* waited for another's miss */
	uint8_t		 writing;	/* enum cache_writing */
	uint16_t	 fwd_status;	/* the origin's, answered from cache */
	int		 lock;		/* claimed lock slot, or -1 */
	uint64_t	 wait_until;	/* ms: a collapsed miss gives up */
	/* answering: body bytes [off, end) still to send */
	uint64_t	 off, end;
	int64_t		 age;
	/* storing */
	struct store_put put;
	uint64_t	 got;		/* body bytes so far */
	char		*meta_buf;	/* WRITE_HEAP: meta until the end */
	size_t		 meta_len;
	char		*heap;		/* WRITE_HEAP: the body so far */
	size_t		 heap_len, heap_cap;
	struct chunked	 chunk;		/* decoding it, for WRITE_HEAP */
};

/* cache_key(): x's primary key, from host and path (origin-form, query
   included), into cx; -1 out of memory. */
int	cache_key(struct exchange *x, const char *host, size_t host_len,
	    const char *path, size_t path_len, struct cache_x *cx);

/* cache_variant_key(): the key of x's variant under the Vary names;
   -1 out of memory. */
int	cache_variant_key(struct exchange *x, struct cache_x *cx,
	    const char *names, size_t len);

/* cache_fwd_name(): "uri-miss", ... for Cache-Status fwd=. */
const char *cache_fwd_name(unsigned fwd);

/* cache_hash(): of a key; never 0. */
uint64_t cache_hash(const char *p, size_t n);

/* cache_stream_avail(): streaming: how much of the body is there to
   send (*avail); -1 when it never will be whole (the writer is gone). */
int	cache_stream_avail(struct exchange *x, struct cache_x *cx,
	    uint64_t *avail);

/* cache_wait(): look again in a few ms (the worker's tq_cache_poll):
   for another's miss, or for more of a response being stored. */
void	cache_wait(struct exchange *x);

/* cache_age(): the age of the stored response m now, seconds. */
int64_t	cache_age(const struct exchange *x, const struct cache_meta *m);

/* cache_stored_field(): the value of header name among the stored
   lines fields[len]. */
bool	cache_stored_field(const char *fields, size_t len, const char *name,
	    const char **v, size_t *vlen);

/* cache_write(): X_CACHE: write the head, then the body from the
   mapping, until all is out. */
void	cache_write(struct exchange *x);

/* cache_fill_free(): drop what storing holds (not published). */
void	cache_fill_free(struct exchange *x, struct cache_x *cx);

#endif /* CACHEFILL_H */
