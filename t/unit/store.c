/*
 * t/unit/store.c: the cache store (common/store.c) on a file of 1 MiB:
 * put, get, replace, drop; a working set three times the file, which
 * keeps its size and keeps the newest objects; a reopen that keeps the
 * objects; a byte of a body overwritten, which store_check() drops; a
 * file of another size, made anew; and a writer lapped before it
 * publishes.
 */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "store.h"
#include "tap.h"

#define MIB	(1024 * 1024)

static char	dir[] = "/tmp/portico-store-test.XXXXXX";
static char	path[256];

static uint64_t
hash_of(const char *key)
{
	uint64_t	h = 1469598103934665603ULL;

	for (; *key != '\0'; key++)
		h = (h ^ (unsigned char)*key) * 1099511628211ULL;
	return h;
}

/* store_check() over the whole index, a slice of 4 KiB at a time. */
static unsigned
check_all(struct store *s)
{
	uint64_t	next = 0;
	unsigned	dropped = 0;

	do
		dropped += store_check(s, &next, 4096);
	while (next != 0);
	return dropped;
}

/* Store key with a body of n bytes of c; 0 or -1. */
static int
put(struct store *s, const char *key, size_t n, char c)
{
	struct store_put p;

	if (store_reserve(s, hash_of(key), strlen(key), 4, n, &p) == -1)
		return -1;
	memcpy(p.key, key, strlen(key));
	memcpy(p.meta, "meta", 4);
	memset(p.body, c, n);
	return store_commit(s, &p);
}

/* The body of key: its length and first byte, or -1. */
static long
get(struct store *s, const char *key, char *c)
{
	struct store_ref r;

	if (store_get(s, hash_of(key), key, strlen(key), &r) == -1)
		return -1;
	*c = r.body[0];
	if (memcmp(r.meta, "meta", 4) != 0 || !store_still(s, &r))
		return -1;
	return (long)r.obj->body_len;
}

static void
test_basic(void)
{
	struct store	*s;
	const char	*why;
	char		 err[256], c = 0;
	struct stat	 st;
	uint64_t	 n, bytes, evicted;

	s = store_open(path, MIB, &why, err, sizeof(err));
	ok(s != NULL, "a new file opens");
	if (s == NULL)
		diag("%s", err);
	if (s == NULL)
		return;
	ok(why == NULL, "  a new file needs no reason");
	ok(stat(path, &st) == 0 && st.st_size == MIB, "  of exactly its size");
	ok(put(s, "/a", 1000, 'a') == 0, "put /a");
	is_int(get(s, "/a", &c), 1000, "get /a: 1000 bytes");
	ok(c == 'a', "  of its body");
	is_int(get(s, "/b", &c), -1, "get /b: a miss");
	ok(put(s, "/a", 10, 'z') == 0, "put /a again");
	is_int(get(s, "/a", &c), 10, "  the new one is found");
	store_count(s, &n, &bytes, &evicted);
	is_int((long)n, 1, "  and the old one is gone from the index");
	is_int(store_drop(s, hash_of("/a"), "/a", 2), 0, "drop /a");
	is_int(get(s, "/a", &c), -1, "  then a miss");
	is_int(store_drop(s, hash_of("/a"), "/a", 2), -1,
	    "  dropped twice: -1");
	ok(put(s, "/big", store_max(s), 'x') == -1, "an object over "
	    "store_max() is refused");
	store_close(s);
}

/* Three times the file, in 4 KiB objects: the newest stay, the oldest
   are gone, the file keeps its size. */
static void
test_ring(void)
{
	struct store	*s;
	const char	*why;
	char		 err[256], key[32], c;
	struct stat	 st;
	int		 i, n = 3 * MIB / 4096, bad = 0, found = 0;

	if ((s = store_open(path, MIB, &why, err, sizeof(err))) == NULL) {
		ok(0, "reopen: %s", err);
		return;
	}
	for (i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "/o/%d", i);
		if (put(s, key, 4000, (char)('a' + i % 26)) == -1)
			bad++;
	}
	is_int(bad, 0, "%d objects of 4000 bytes stored in a 1 MiB store", n);
	for (i = n - 100; i < n; i++) {
		snprintf(key, sizeof(key), "/o/%d", i);
		if (get(s, key, &c) == 4000 && c == (char)('a' + i % 26))
			found++;
	}
	is_int(found, 100, "  the newest 100 are all there, whole");
	found = 0;
	for (i = 0; i < 100; i++) {
		snprintf(key, sizeof(key), "/o/%d", i);
		if (get(s, key, &c) != -1)
			found++;
	}
	is_int(found, 0, "  the oldest 100 are gone");
	ok(stat(path, &st) == 0 && st.st_size == MIB, "  the file is still "
	    "1 MiB");
	store_close(s);
	s = store_open(path, MIB, &why, err, sizeof(err));
	ok(s != NULL && why == NULL, "reopened as it is");
	snprintf(key, sizeof(key), "/o/%d", n - 1);
	ok(s != NULL && get(s, key, &c) == 4000, "  and the objects are kept");
	store_close(s);
}

/* A byte of a body changed on disk: store_check() drops that object. */
static void
test_check(void)
{
	struct store		*s;
	struct store_ref	 r;
	const char		*why;
	char			 err[256], c;

	if ((s = store_open(path, MIB, &why, err, sizeof(err))) == NULL) {
		ok(0, "reopen: %s", err);
		return;
	}
	put(s, "/good", 500, 'g');
	put(s, "/bad", 500, 'b');
	is_int(check_all(s), 0, "store_check(): nothing wrong yet");
	if (store_get(s, hash_of("/bad"), "/bad", 4, &r) == -1) {
		ok(0, "/bad is there");
		store_close(s);
		return;
	}
	/* A byte of the body changes in the file (the mapping is the
	   file), as a bad disk or a torn write would leave it. */
	((char *)r.body)[100] = 'X';
	is_int(check_all(s), 1, "a body byte overwritten: store_check() "
	    "drops one object");
	is_int(get(s, "/bad", &c), -1, "  that one: a miss");
	is_int(get(s, "/good", &c), 500, "  the other is kept");
	store_close(s);
}

/* Another size: made anew, with a reason. */
static void
test_resize(void)
{
	struct store	*s;
	const char	*why;
	char		 err[256], c;

	s = store_open(path, 2 * MIB, &why, err, sizeof(err));
	ok(s != NULL && why != NULL, "a file of another size is made anew "
	    "(%s)", why != NULL ? why : "no reason");
	ok(s != NULL && get(s, "/good", &c) == -1, "  and empty");
	store_close(s);
	s = store_open(path, 1024, &why, err, sizeof(err));
	ok(s == NULL, "a store too small is refused: %s", err);
}

/* A writer that the ring passes before it commits does not publish. */
static void
test_lapped(void)
{
	struct store		*s;
	struct store_put	 p;
	const char		*why;
	char			 err[256], key[32], c;
	int			 i;

	if ((s = store_open(path, MIB, &why, err, sizeof(err))) == NULL) {
		ok(0, "open: %s", err);
		return;
	}
	if (store_reserve(s, hash_of("/slow"), 5, 4, 100, &p) == -1) {
		ok(0, "reserve");
		store_close(s);
		return;
	}
	memcpy(p.key, "/slow", 5);
	memcpy(p.meta, "meta", 4);
	memset(p.body, 's', 100);
	for (i = 0; i < 2 * MIB / 4096; i++) {
		snprintf(key, sizeof(key), "/fast/%d", i);
		put(s, key, 4000, 'f');
	}
	ok(!store_reserved(s, &p), "a writer lapped by the ring is told "
	    "before it writes");
	is_int(store_commit(s, &p), -1, "a writer lapped by the ring does "
	    "not publish");
	is_int(get(s, "/slow", &c), -1, "  and its object is not found");
	store_close(s);
}

/* store_far(): an object is far from its overwrite until the log has
   gone three quarters of the ring past it, and still intact after. */
static void
test_far(void)
{
	struct store		*s;
	struct store_ref	 r;
	struct store_put	 p;
	const char		*why;
	char			 err[256], key[32];
	int			 i, near = -1, lost = -1, gone = -1;

	if ((s = store_open(path, MIB, &why, err, sizeof(err))) == NULL) {
		ok(0, "open: %s", err);
		return;
	}
	put(s, "/far", 4000, 'f');
	if (store_get(s, hash_of("/far"), "/far", 4, &r) == -1) {
		ok(0, "get /far");
		store_close(s);
		return;
	}
	ok(store_far(s, &r), "a new object is far from its overwrite");
	if (store_reserve(s, hash_of("/w"), 2, 4, 100, &p) == -1) {
		ok(0, "reserve /w");
		store_close(s);
		return;
	}
	ok(store_reserved(s, &p), "a new room is its writer's");
	/* 4 KiB at a time round the ring: note when it is near, and when
	   it is gone. */
	for (i = 0; i < MIB / 4096 + 10 && lost == -1; i++) {
		snprintf(key, sizeof(key), "/round/%d", i);
		put(s, key, 4000, 'r');
		if (near == -1 && !store_far(s, &r))
			near = i;
		if (gone == -1 && !store_reserved(s, &p))
			gone = i;
		if (!store_still(s, &r))
			lost = i;
	}
	ok(near > 0 && lost > near, "near (after %d objects) before it is "
	    "overwritten (after %d)", near, lost);
	ok(near >= (MIB / 4096) * 3 / 4 - 8 && near <= (MIB / 4096) * 3 / 4,
	    "  near once three quarters of the ring went past it");
	ok(gone >= near - 1 && gone <= near + 1, "a writer is refused its room "
	    "as near (after %d objects), before the ring overwrites it", gone);
	is_int(store_commit(s, &p), -1, "  nor does it publish there");
	store_close(s);
}

/* PURGE: a key and its variants ("key\n..."), or a prefix. */
static void
test_purge(void)
{
	struct store	*s;
	const char	*why;
	char		 err[256], c;

	if ((s = store_open(path, MIB, &why, err, sizeof(err))) == NULL) {
		ok(0, "open: %s", err);
		return;
	}
	put(s, "http://a/x", 10, 'x');
	put(s, "http://a/x\nv:en\n", 10, 'e');
	put(s, "http://a/xy", 10, 'y');
	put(s, "http://a/p/1", 10, '1');
	put(s, "http://a/p/2", 10, '2');
	is_int(store_purge(s, "http://a/x", 10, false), 2, "purge a key: it "
	    "and its variant");
	is_int(get(s, "http://a/xy", &c), 10, "  not a longer key");
	is_int(store_purge(s, "http://a/p/", 11, true), 2, "purge a prefix");
	is_int(get(s, "http://a/p/1", &c), -1, "  its objects are gone");
	is_int(store_purge(s, "http://a/none", 13, false), 0, "purge of a "
	    "key not there: none");
	store_close(s);
}

/*
 * A byte changed while the file was not open: the first lookup after
 * the next opening checks the object and drops it, before any check
 * pass; a good one is found, and an index whose bucket has room keeps
 * even the object at the very start of the ring.
 */
static void
test_reopen_checks(void)
{
	struct store		*s;
	struct store_ref	 r;
	const char		*why;
	char			 err[256], key[32], c;
	int			 i;

	unlink(path);
	if ((s = store_open(path, MIB, &why, err, sizeof(err))) == NULL) {
		ok(0, "open: %s", err);
		return;
	}
	put(s, "/first", 100, 'f');
	put(s, "/spoilt", 100, 's');
	for (i = 0; i < 40; i++) {
		snprintf(key, sizeof(key), "/more/%d", i);
		put(s, key, 100, 'm');
	}
	is_int(get(s, "/first", &c), 100, "the first object of a new file "
	    "stays while its bucket has room");
	if (store_get(s, hash_of("/spoilt"), "/spoilt", 7, &r) == 0)
		((char *)r.body)[50] = 'X';
	is_int(get(s, "/spoilt", &c), 100, "a change made in this opening "
	    "is store_check()'s to find");
	store_close(s);
	s = store_open(path, MIB, &why, err, sizeof(err));
	ok(s != NULL && why == NULL, "reopened");
	if (s == NULL)
		return;
	is_int(get(s, "/spoilt", &c), -1, "  the changed object: not served "
	    "by the first lookup after");
	is_int(get(s, "/first", &c), 100, "  a good one: found");
	is_int(check_all(s), 0, "  and nothing is left for store_check()");
	store_close(s);
	s = store_open(path, MIB, NULL, err, sizeof(err));
	ok(s != NULL, "opened without making: %s", s != NULL ? "" : err);
	store_close(s);
}

/* Made anew beside the old file: a process that maps the old one keeps
   its bytes. */
static void
test_remake_keeps_old(void)
{
	struct store	*old, *s;
	const char	*why;
	char		 err[256], c;

	if ((old = store_open(path, MIB, &why, err, sizeof(err))) == NULL) {
		ok(0, "open: %s", err);
		return;
	}
	put(old, "/kept", 3000, 'k');
	s = store_open(path, 2 * MIB, &why, err, sizeof(err));
	ok(s != NULL && why != NULL, "another size: made anew");
	is_int(get(old, "/kept", &c), 3000, "  the old mapping still has its "
	    "object");
	ok(c == 'k', "  with its bytes");
	store_close(s);
	store_close(old);
	s = store_open("/nonexistent/dir/cache.db", MIB, NULL, err,
	    sizeof(err));
	ok(s == NULL, "a missing file is not made without a reason: %s", err);
}

int
main(void)
{
	if (mkdtemp(dir) == NULL) {
		diag("mkdtemp: %s", strerror(errno));
		return 1;
	}
	snprintf(path, sizeof(path), "%s/cache.db", dir);
	test_basic();
	test_ring();
	test_check();
	test_resize();
	test_lapped();
	test_far();
	test_purge();
	test_reopen_checks();
	test_remake_keeps_old();
	(void)unlink(path);
	(void)rmdir(dir);
	return done();
}
