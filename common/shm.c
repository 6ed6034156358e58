/*
 * shm.c: the shared memory segment.  See shm.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "shm.h"

#define SNAPSHOT_TRIES	1000

/* shm_name(): see shm.h. */
void
shm_name(pid_t pid, char *name, size_t size)
{
	snprintf(name, size, "/portico.%ld", (long)pid);
}

/* shm_now(): see shm.h. */
int64_t
shm_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* shm_create(): see shm.h. */
struct shm *
shm_create(void)
{
	struct shm	*s;
	char		 name[64];
	int		 fd;

	shm_name(getpid(), name, sizeof(name));
	(void)shm_unlink(name);
	fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd == -1) {
		log_warn("shm_open %s", name);
		return NULL;
	}
	if (ftruncate(fd, sizeof(*s)) == -1) {
		log_warn("ftruncate %s", name);
		goto fail;
	}
	s = mmap(NULL, sizeof(*s), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (s == MAP_FAILED) {
		log_warn("mmap %s", name);
		goto fail;
	}
	close(fd);
	/* A new segment reads as zeros: every slot free. */
	s->version = SHM_VERSION;
	s->master_pid = (int32_t)getpid();
	s->started = shm_now();
	__atomic_store_n(&s->magic, SHM_MAGIC, __ATOMIC_RELEASE);
	return s;
fail:
	close(fd);
	(void)shm_unlink(name);
	return NULL;
}

/* shm_destroy(): see shm.h. */
void
shm_destroy(struct shm *s)
{
	char name[64];

	if (s == NULL)
		return;
	shm_name((pid_t)s->master_pid, name, sizeof(name));
	(void)shm_unlink(name);
	(void)munmap(s, sizeof(*s));
}

/* shm_attach(): see shm.h. */
const struct shm *
shm_attach(pid_t pid)
{
	struct shm	*s;
	struct stat	 st;
	char		 name[64];
	int		 fd;

	shm_name(pid, name, sizeof(name));
	if ((fd = shm_open(name, O_RDONLY | O_CLOEXEC, 0)) == -1)
		return NULL;
	if (fstat(fd, &st) == -1 || (size_t)st.st_size != sizeof(*s)) {
		close(fd);
		errno = EPROTO;
		return NULL;
	}
	s = mmap(NULL, sizeof(*s), PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (s == MAP_FAILED)
		return NULL;
	if (__atomic_load_n(&s->magic, __ATOMIC_ACQUIRE) != SHM_MAGIC ||
	    s->version != SHM_VERSION || s->master_pid != (int32_t)pid) {
		(void)munmap(s, sizeof(*s));
		errno = EPROTO;
		return NULL;
	}
	return s;
}

/* shm_begin(): see shm.h. */
void
shm_begin(struct shm *s)
{
	__atomic_fetch_add(&s->seq, 1, __ATOMIC_ACQ_REL);
}

/* shm_end(): see shm.h. */
void
shm_end(struct shm *s)
{
	__atomic_fetch_add(&s->seq, 1, __ATOMIC_RELEASE);
}

/* shm_snapshot(): see shm.h. */
int
shm_snapshot(const struct shm *s, struct shm *copy)
{
	uint32_t	before;
	int		i;

	for (i = 0; i < SNAPSHOT_TRIES; i++) {
		before = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
		if (before & 1) {
			usleep(1000);
			continue;
		}
		memcpy(copy, s, sizeof(*copy));
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&s->seq, __ATOMIC_RELAXED) == before)
			return 0;
	}
	return -1;
}

/* shm_cache_release(): see shm.h.  A dead holder writes nothing more:
   its claim cannot change under us but by this. */
void
shm_cache_release(struct shm *s, pid_t pid)
{
	struct shm_cache_lock	*l;
	uint64_t		 c;
	unsigned		 i;

	for (i = 0; i < SHM_CACHE_LOCKS; i++) {
		l = &s->cache_locks[i];
		c = __atomic_load_n(&l->claim, __ATOMIC_ACQUIRE);
		if (c == 0 || SHM_CLAIM_PID(c) != pid)
			continue;
		__atomic_store_n(&l->loc, 0, __ATOMIC_RELEASE);
		(void)__atomic_compare_exchange_n(&l->claim, &c, 0, false,
		    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
	}
}

/* shm_server_key(): see shm.h.  FNV-1a over "upstream\0address". */
uint64_t
shm_server_key(const char *upstream, const char *address)
{
	uint64_t	h = 14695981039346656037ULL;
	const char	*p;

	for (p = upstream; *p != '\0'; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ULL;
	h *= 1099511628211ULL;
	for (p = address; *p != '\0'; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ULL;
	return h;
}
