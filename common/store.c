/*
 * store.c: the cache store, one mapped file: header, index, a data area
 * used as a ring.  See store.h.
 *
 * The index is a hash table of buckets of BUCKET_SLOTS slots; a slot is
 * the hash of a key and the loc of its object (0: empty).  A slot whose
 * object has been overwritten by the ring is as good as empty.  A new
 * object takes, in its bucket, the slot of the same key, or an empty
 * one, or the one with the oldest object.
 *
 * Every shared word is read and written with atomics.  The order that
 * makes it safe: a writer moves the head of the log (so that readers of
 * what it will overwrite see it first), writes the object, and stores
 * the slot last; a reader loads the slot, reads the object, and only
 * then loads the head again to see whether the ring went past it.
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "store.h"

#define STORE_MAGIC	0x50544353u	/* "PTCS" */
#define STORE_VERSION	3
#define OBJ_MAGIC	0x4f424a31u	/* "OBJ1" */
#define HEADER_SIZE	4096
#define BUCKET_SLOTS	8
#define ALIGN		64
#define BYTES_PER_SLOT	4096		/* index slots: one per 4 KiB of data */
#define HEAD_MAX	(1ULL << 62)	/* the log's head, far from wrapping */

struct store_slot {
	uint64_t	 hash;
	uint64_t	 loc;		/* + 1: 0 is empty */
};

struct store_hdr {
	uint32_t	 magic, version;
	uint64_t	 size;		/* of the file */
	uint64_t	 nslots;	/* a power of two */
	uint64_t	 index_off, data_off, data_size;
	uint64_t	 head;		/* the log: bytes reserved so far */
	uint64_t	 evicted;	/* objects whose slot went to another */
	uint32_t	 epoch;		/* times the master opened it */
	uint32_t	 pad;
};

struct store {
	char		*map;
	uint64_t	 size;
	struct store_hdr *hdr;
	struct store_slot *slots;
	uint64_t	 nbuckets;
	char		*data;
	uint64_t	 data_size;
	uint64_t	 ident;		/* the file's device and inode */
};

#define LOAD(p)		__atomic_load_n((p), __ATOMIC_ACQUIRE)
#define STORE(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELEASE)

static uint64_t
align_up(uint64_t n, uint64_t a)
{
	return (n + a - 1) & ~(a - 1);
}

/* The geometry a file of size bytes has: a power of two of slots. */
static void
geometry(uint64_t size, struct store_hdr *h)
{
	uint64_t slots = BUCKET_SLOTS;

	while (slots * 2 * BYTES_PER_SLOT <= size)
		slots *= 2;
	memset(h, 0, sizeof(*h));
	h->magic = STORE_MAGIC;
	h->version = STORE_VERSION;
	h->size = size;
	h->nslots = slots;
	h->index_off = HEADER_SIZE;
	h->data_off = align_up(HEADER_SIZE + slots * sizeof(struct store_slot),
	    4096);
	h->data_size = size > h->data_off ? (size - h->data_off) & ~(uint64_t)
	    (ALIGN - 1) : 0;
}

static bool	sane(const struct store *s, const struct store_obj *o,
		    uint64_t loc);

/*
 * A file whose head went back (a damaged header) would have the log
 * write over objects that it takes for intact: forget those that do not
 * end before the head.
 */
static void
forget_past_head(struct store *s)
{
	const struct store_obj	*o;
	uint64_t		 i, l, head = s->hdr->head;

	for (i = 0; i < s->nbuckets * BUCKET_SLOTS; i++) {
		if ((l = s->slots[i].loc) == 0)
			continue;
		o = (const struct store_obj *)(s->data + (l - 1) %
		    s->data_size);
		if (l - 1 >= head || (sane(s, o, l - 1) && l - 1 + o->size >
		    head))
			s->slots[i].loc = 0;
	}
}

/* store_open(): see store.h. */
struct store *
store_open(const char *path, uint64_t size, const char **why, char *err,
    size_t errlen)
{
	struct store_hdr	 want, have;
	struct store		*s;
	struct stat		 st;
	const char		*said = NULL;
	char			 tmp[4096];
	int			 fd, rc = 0;
	bool			 fresh = false;

	if (why != NULL)
		*why = NULL;
	geometry(size, &want);
	if (want.data_size < 64 * 1024) {
		snprintf(err, errlen, "%s: %llu bytes is too small for a cache",
		    path, (unsigned long long)size);
		return NULL;
	}
	if ((fd = open(path, O_RDWR | O_CLOEXEC | (why != NULL ? O_CREAT : 0),
	    0600)) == -1 ||
	    fstat(fd, &st) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (fd != -1)
			close(fd);
		return NULL;
	}
	memset(&have, 0, sizeof(have));
	if ((uint64_t)st.st_size != size)
		said = st.st_size == 0 ? NULL : "its size is not cache.size";
	else if (pread(fd, &have, sizeof(have), 0) != sizeof(have) ||
	    have.magic != STORE_MAGIC)
		said = "it is not a cache file";
	else if (have.version != STORE_VERSION)
		said = "it is of another format version";
	else if (have.nslots != want.nslots || have.data_off != want.data_off ||
	    have.data_size != want.data_size)
		said = "its geometry is not this one's";
	else if (have.head % ALIGN != 0 || have.head > HEAD_MAX)
		said = "the head of its log is broken";
	else
		goto map;
	if (why == NULL) {
		snprintf(err, errlen, "%s: %s", path, said != NULL ? said :
		    "it is empty");
		close(fd);
		return NULL;
	}
	*why = said;
	/* Made anew beside it, with its blocks allocated, then renamed over
	   it: processes that still map the old file (an older generation)
	   keep it whole. */
	fresh = true;
	close(fd);
	if (snprintf(tmp, sizeof(tmp), "%s.new", path) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "%s: path too long", path);
		return NULL;
	}
	errno = 0;
	if ((fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1 || (rc = posix_fallocate(fd, 0, (off_t)size)) != 0 ||
	    rename(tmp, path) == -1) {
		snprintf(err, errlen, "%s: cannot allocate %llu bytes: %s",
		    path, (unsigned long long)size,
		    strerror(rc != 0 ? rc : errno));
		if (fd != -1)
			close(fd);
		(void)unlink(tmp);
		return NULL;
	}
map:
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		close(fd);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (fstat(fd, &st) == 0)
		s->ident = ((uint64_t)st.st_dev << 40) ^ (uint64_t)st.st_ino;
	close(fd);
	if (s->map == MAP_FAILED) {
		snprintf(err, errlen, "%s: mmap: %s", path, strerror(errno));
		free(s);
		return NULL;
	}
	s->size = size;
	s->hdr = (struct store_hdr *)s->map;
	if (fresh)
		memcpy(s->hdr, &want, sizeof(want));	/* the rest is zero */
	s->slots = (struct store_slot *)(s->map + want.index_off);
	s->nbuckets = want.nslots / BUCKET_SLOTS;
	s->data = s->map + want.data_off;
	s->data_size = want.data_size;
	/* A new opening: what is in it must be checked before use. */
	if (why != NULL) {
		if (!fresh)
			forget_past_head(s);
		__atomic_fetch_add(&s->hdr->epoch, 1, __ATOMIC_ACQ_REL);
	}
	return s;
}

/* store_close(): see store.h. */
void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	munmap(s->map, s->size);
	free(s);
}

/* store_ident(): see store.h. */
uint64_t
store_ident(const struct store *s)
{
	return s->ident;
}

/* store_max(): see store.h.  An eighth of the ring. */
uint64_t
store_max(const struct store *s)
{
	return s->data_size / 8;
}

/* Whether the object reserved at loc is still there. */
static bool
intact(const struct store *s, uint64_t loc)
{
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return LOAD(&s->hdr->head) <= loc + s->data_size;
}

/* Whether the object reserved at loc is far from its overwrite: the log
   can still grow by a quarter of the ring before it comes round to it.
   Bytes are written into the file only while this holds, so that a
   write cannot race the overwrite it checked for. */
static bool
far(const struct store *s, uint64_t loc)
{
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return LOAD(&s->hdr->head) + s->data_size / 4 <= loc + s->data_size;
}

static struct store_obj *
obj_at(const struct store *s, uint64_t loc)
{
	return (struct store_obj *)(s->data + loc % s->data_size);
}

/* store_reserve(): see store.h.  An object never straddles the end of
   the ring: the tail is skipped. */
int
store_reserve(struct store *s, uint64_t hash, size_t key_len,
    size_t meta_len, uint64_t body_len, struct store_put *p)
{
	uint64_t	size, head, start, phys;

	size = align_up(sizeof(struct store_obj) + key_len + meta_len +
	    body_len, ALIGN);
	if (key_len > UINT32_MAX || meta_len > UINT32_MAX ||
	    size > store_max(s))
		return -1;
	head = LOAD(&s->hdr->head);
	do {
		phys = head % s->data_size;
		start = phys + size > s->data_size ?
		    head + (s->data_size - phys) : head;
	} while (!__atomic_compare_exchange_n(&s->hdr->head, &head,
	    start + size, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE));
	p->obj = obj_at(s, start);
	memset(&p->head, 0, sizeof(p->head));
	p->head.loc = start;
	p->head.hash = hash;
	p->head.size = size;
	p->head.key_len = (uint32_t)key_len;
	p->head.meta_len = (uint32_t)meta_len;
	p->head.body_len = body_len;
	p->obj->magic = 0;
	p->key = (char *)(p->obj + 1);
	p->meta = p->key + key_len;
	p->body = p->meta + meta_len;
	return 0;
}

/* The CRC-32 of the key, meta and body that h says are at p. */
static uint32_t
obj_crc(const struct store_obj *h, const unsigned char *p)
{
	uint64_t		 n = (uint64_t)h->key_len + h->meta_len +
				    h->body_len;
	uLong			 crc = crc32(0L, Z_NULL, 0);

	while (n > 0) {
		uInt chunk = n > (1u << 30) ? (1u << 30) : (uInt)n;

		crc = crc32(crc, p, chunk);
		p += chunk;
		n -= chunk;
	}
	return (uint32_t)crc;
}

static struct store_slot *
bucket(const struct store *s, uint64_t hash)
{
	return &s->slots[(hash % s->nbuckets) * BUCKET_SLOTS];
}

/* Whether the header at loc can be believed: its parts fit in it, and it
   fits in the ring (a torn file may say anything). */
static bool
sane(const struct store *s, const struct store_obj *o, uint64_t loc)
{
	return o->magic == OBJ_MAGIC && o->loc == loc &&
	    o->size <= store_max(s) &&
	    loc % s->data_size + o->size <= s->data_size &&
	    o->body_len <= o->size &&
	    sizeof(*o) + (uint64_t)o->key_len + o->meta_len + o->body_len <=
	    o->size;
}

/* Whether slot sl holds, intact, the object of key; *loc is its loc. */
static bool
slot_is(const struct store *s, struct store_slot *sl, uint64_t hash,
    const void *key, size_t key_len, uint64_t *loc)
{
	const struct store_obj	*o;
	uint64_t		 l = LOAD(&sl->loc);

	if (l == 0 || LOAD(&sl->hash) != hash || !intact(s, l - 1))
		return false;
	o = obj_at(s, l - 1);
	if (!sane(s, o, l - 1) || o->hash != hash || o->key_len != key_len ||
	    memcmp(o + 1, key, key_len) != 0 || !intact(s, l - 1))
		return false;
	*loc = l - 1;
	return true;
}

/* store_commit(): see store.h.  Nothing of the file is trusted before
   it is known that the ring did not go past the object. */
int
store_commit(struct store *s, struct store_put *p)
{
	struct store_obj	*o = p->obj, *h = &p->head;
	struct store_slot	*b = bucket(s, h->hash), *pick = NULL;
	uint64_t		 loc = h->loc, l, oldest = UINT64_MAX;
	bool			 same = false, free_slot = false;
	struct timespec		 ts;
	unsigned		 i;

	if (!far(s, loc))
		return -1;
	clock_gettime(CLOCK_REALTIME, &ts);
	h->stored = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	h->checked = LOAD(&s->hdr->epoch);	/* just written */
	memcpy(o, h, sizeof(*o));
	o->magic = 0;
	o->crc = obj_crc(h, (const unsigned char *)(o + 1));
	__atomic_thread_fence(__ATOMIC_RELEASE);
	STORE(&o->magic, OBJ_MAGIC);
	if (!intact(s, loc))
		return -1;
	for (i = 0; i < BUCKET_SLOTS; i++) {
		if (slot_is(s, &b[i], h->hash, p->key, h->key_len, &l)) {
			pick = &b[i];
			same = true;
			break;
		}
		/* A free slot (empty, or its object lapped) first, else
		   the oldest object's. */
		l = LOAD(&b[i].loc);
		if (l == 0 || !intact(s, l - 1)) {
			if (!free_slot)
				pick = &b[i];
			free_slot = true;
		} else if (!free_slot && l - 1 < oldest) {
			oldest = l - 1;
			pick = &b[i];
		}
	}
	/* A slot that held another object, lapped by the ring or the
	   oldest of a full bucket, is an eviction. */
	if (!same && LOAD(&pick->loc) != 0)
		__atomic_fetch_add(&s->hdr->evicted, 1, __ATOMIC_RELAXED);
	/* Publish: first no loc, so that no reader pairs the new hash with
	   the old object, then the hash, then the loc. */
	STORE(&pick->loc, 0);
	STORE(&pick->hash, h->hash);
	STORE(&pick->loc, loc + 1);
	return 0;
}

/*
 * An object made before the file was opened, not yet checked: check its
 * CRC now.  A bad one loses its slot (sl, if it still points at it).
 */
static bool
verify(struct store *s, struct store_slot *sl, uint64_t loc)
{
	struct store_obj	*o = obj_at(s, loc);
	uint64_t		 want = loc + 1;
	uint32_t		 epoch = LOAD(&s->hdr->epoch);

	if (LOAD(&o->checked) == epoch)
		return true;
	if (obj_crc(o, (const unsigned char *)(o + 1)) == o->crc) {
		if (!intact(s, loc))
			return false;
		if (far(s, loc))
			STORE(&o->checked, epoch);
		return true;
	}
	if (intact(s, loc))
		(void)__atomic_compare_exchange_n(&sl->loc, &want, 0, false,
		    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
	return false;
}

/* store_get(): see store.h. */
int
store_get(struct store *s, uint64_t hash, const void *key, size_t key_len,
    struct store_ref *r)
{
	struct store_slot	*b = bucket(s, hash);
	uint64_t		 loc;
	unsigned		 i;

	for (i = 0; i < BUCKET_SLOTS; i++) {
		if (!slot_is(s, &b[i], hash, key, key_len, &loc))
			continue;
		if (!verify(s, &b[i], loc))
			continue;
		r->obj = obj_at(s, loc);
		r->loc = loc;
		r->key = (const char *)(r->obj + 1);
		r->meta = r->key + r->obj->key_len;
		r->body = r->meta + r->obj->meta_len;
		return 0;
	}
	return -1;
}

/* store_reserved(): see store.h. */
bool
store_reserved(const struct store *s, const struct store_put *p)
{
	return far(s, p->head.loc);
}

/* store_peek(): see store.h. */
int
store_peek(const struct store *s, uint64_t loc, uint32_t key_len,
    uint32_t meta_len, uint64_t body_len, struct store_ref *r)
{
	uint64_t size = sizeof(struct store_obj) + (uint64_t)key_len +
	    meta_len + body_len;

	if (size > store_max(s) || loc % s->data_size + size > s->data_size ||
	    !intact(s, loc))
		return -1;
	r->obj = obj_at(s, loc);
	r->loc = loc;
	r->key = (const char *)(r->obj + 1);
	r->meta = r->key + key_len;
	r->body = r->meta + meta_len;
	return 0;
}

/* store_still(): see store.h. */
bool
store_still(const struct store *s, const struct store_ref *r)
{
	return intact(s, r->loc);
}

/* store_far(): see store.h. */
bool
store_far(const struct store *s, const struct store_ref *r)
{
	return far(s, r->loc);
}

/* store_drop(): see store.h.  The slot is emptied only if it still
   points at the object found. */
int
store_drop(struct store *s, uint64_t hash, const void *key, size_t key_len)
{
	struct store_slot	*b = bucket(s, hash);
	uint64_t		 loc, want;
	unsigned		 i;
	int			 rc = -1;

	for (i = 0; i < BUCKET_SLOTS; i++) {
		if (!slot_is(s, &b[i], hash, key, key_len, &loc))
			continue;
		want = loc + 1;
		if (__atomic_compare_exchange_n(&b[i].loc, &want, 0, false,
		    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			rc = 0;
	}
	return rc;
}

/* store_check(): see store.h. */
unsigned
store_check(struct store *s, uint64_t *next, uint64_t budget)
{
	const struct store_obj	*o;
	uint64_t		 i, l, want, n = s->nbuckets * BUCKET_SLOTS;
	uint64_t		 done = 0;
	unsigned		 dropped = 0;

	for (i = *next; i < n && done < budget; i++) {
		if ((l = LOAD(&s->slots[i].loc)) == 0 || !intact(s, l - 1))
			continue;
		o = obj_at(s, l - 1);
		if (sane(s, o, l - 1) && o->hash == LOAD(&s->slots[i].hash) &&
		    obj_crc(o, (const unsigned char *)(o + 1)) == o->crc) {
			if (far(s, l - 1))
				STORE(&((struct store_obj *)o)->checked,
				    LOAD(&s->hdr->epoch));
			done += o->size;
			continue;
		}
		if (!intact(s, l - 1))
			continue;	/* overwritten meanwhile: not bad */
		want = l;
		if (__atomic_compare_exchange_n(&s->slots[i].loc, &want, 0,
		    false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			dropped++;
	}
	*next = i < n ? i : 0;
	return dropped;
}

/* store_purge(): see store.h. */
unsigned
store_purge(struct store *s, const char *key, size_t len, bool prefix)
{
	const struct store_obj	*o;
	const char		*k;
	uint64_t		 i, l, want;
	unsigned		 n = 0;

	for (i = 0; i < s->nbuckets * BUCKET_SLOTS; i++) {
		if ((l = LOAD(&s->slots[i].loc)) == 0 || !intact(s, l - 1))
			continue;
		o = obj_at(s, l - 1);
		if (!sane(s, o, l - 1) || o->key_len < len)
			continue;
		k = (const char *)(o + 1);
		if (memcmp(k, key, len) != 0 || (!prefix &&
		    o->key_len != len && k[len] != '\n'))
			continue;
		want = l;
		if (__atomic_compare_exchange_n(&s->slots[i].loc, &want, 0,
		    false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			n++;
	}
	return n;
}

/* store_count(): see store.h. */
void
store_count(const struct store *s, uint64_t *objects, uint64_t *bytes,
    uint64_t *evicted)
{
	uint64_t i, l;

	*evicted = LOAD(&s->hdr->evicted);
	*objects = *bytes = 0;
	for (i = 0; i < s->nbuckets * BUCKET_SLOTS; i++) {
		if ((l = LOAD(&s->slots[i].loc)) == 0 || !intact(s, l - 1))
			continue;
		(*objects)++;
		*bytes += obj_at(s, l - 1)->size;
	}
}
