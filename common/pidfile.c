/*
 * pidfile.c: reading the pid file.  See pidfile.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "pidfile.h"
#include "pt.h"

static bool
is_portico(pid_t pid)
{
	char	path[64], comm[32];
	ssize_t	n;
	int	fd;

	if (pid <= 0 || (kill(pid, 0) == -1 && errno != EPERM))
		return false;
	snprintf(path, sizeof(path), "/proc/%ld/comm", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return true;
	n = read(fd, comm, sizeof(comm) - 1);
	close(fd);
	if (n <= 0)
		return true;
	comm[n] = '\0';
	return strcmp(comm, "portico\n") == 0;
}

/* pidfile_read(): see pidfile.h. */
pid_t
pidfile_read(const char *path, pid_t *stale)
{
	char	text[32];
	ssize_t	n;
	long	pid = 0;
	int	fd;

	if (stale != NULL)
		*stale = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n > 0) {
		text[n] = '\0';
		pid = strtol(text, NULL, 10);
	}
	if (pid <= 0 || pid > INT32_MAX)
		return 0;
	if (stale != NULL)
		*stale = (pid_t)pid;
	return is_portico((pid_t)pid) ? (pid_t)pid : 0;
}
