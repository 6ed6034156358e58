/*
 * daemon.c: detaching, pid file, limits.  See daemon.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <linux/capability.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "pidfile.h"
#include "shm.h"

/* Descriptors a worker needs besides clients and upstream connections:
   listeners, logs, epoll, signalfd, the cache file, slack. */
#define NOFILE_SPARE	128

/* daemon_pidfile_check(): see daemon.h. */
int
daemon_pidfile_check(const char *path)
{
	char	name[64];
	pid_t	pid, stale;

	if ((pid = pidfile_read(path, &stale)) != 0) {
		fprintf(stderr, "portico: already running as pid %ld (pid file "
		    "%s)\n", (long)pid, path);
		return -1;
	}
	/* Nobody holds it: a crash left it behind, and maybe the shared
	   memory of that master too. */
	(void)unlink(path);
	if (stale != 0) {
		shm_name(stale, name, sizeof(name));
		(void)shm_unlink(name);
	}
	return 0;
}

/* daemon_pidfile_write(): see daemon.h. */
int
daemon_pidfile_write(const char *path)
{
	char	tmp[4096], text[32];
	int	fd, n;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return -1;
	n = snprintf(text, sizeof(text), "%ld\n", (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1)
		return -1;
	if (write(fd, text, (size_t)n) != n || close(fd) == -1 ||
	    rename(tmp, path) == -1) {
		(void)unlink(tmp);
		return -1;
	}
	return 0;
}

/* daemon_detach(): see daemon.h. */
void
daemon_detach(void)
{
	int	fd;

	switch (fork()) {
	case -1:
		fatal("fork");
	case 0:
		break;
	default:
		_exit(0);
	}
	if (setsid() == -1)
		fatal("setsid");
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
}

/* daemon_raise_nofile(): see daemon.h. */
void
daemon_raise_nofile(const struct config *cf)
{
	struct rlimit	rl;
	rlim_t		need;

	need = (rlim_t)cf->max_connections + cf->max_upstream_connections +
	    cf->nlisteners + NOFILE_SPARE;
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return;
	if (rl.rlim_cur >= need)
		return;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need &&
	    geteuid() == 0) {
		/* Root may raise the hard limit, unless a container forbids. */
		struct rlimit want = { need, need };

		if (setrlimit(RLIMIT_NOFILE, &want) == 0)
			return;
	}
	rl.rlim_cur = (rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need) ?
	    need : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		log_warn("setrlimit(RLIMIT_NOFILE, %llu)",
		    (unsigned long long)rl.rlim_cur);
	if (rl.rlim_cur < need)
		log_warnx("open files limited to %llu, fewer than the %llu that "
		    "max_connections (%u) and max_upstream_connections (%u) "
		    "need: a worker at the limit stops accepting",
		    (unsigned long long)rl.rlim_cur, (unsigned long long)need,
		    cf->max_connections, cf->max_upstream_connections);
}

/*
 * daemon_limit_privileges(): see daemon.h.  What a reload can need: bind
 * a privileged port, read files whatever their mode, chown what it
 * creates for the workers, raise the descriptor limit, and fork children
 * that become cf->user and are signalled as such.
 */
void
daemon_limit_privileges(void)
{
	static const int keep[] = {
		CAP_NET_BIND_SERVICE, CAP_DAC_OVERRIDE, CAP_CHOWN,
		CAP_SYS_RESOURCE, CAP_SETUID, CAP_SETGID, CAP_KILL
	};
	struct __user_cap_header_struct	hdr = {
		_LINUX_CAPABILITY_VERSION_3, 0
	};
	struct __user_cap_data_struct	data[2];
	size_t				i;

	uint32_t			mask[2] = { 0, 0 };

	if (geteuid() != 0 || syscall(SYS_capget, &hdr, data) == -1)
		return;
	for (i = 0; i < PT_NELEM(keep); i++)
		mask[keep[i] / 32] |= 1u << (keep[i] % 32);
	/* Of those, the ones we have (a container may have fewer). */
	for (i = 0; i < 2; i++) {
		data[i].permitted &= mask[i];
		data[i].effective &= mask[i];
		data[i].inheritable = 0;
	}
	if (syscall(SYS_capset, &hdr, data) == -1)
		log_warn("cannot drop the master's other capabilities");
}
