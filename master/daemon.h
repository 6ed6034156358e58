/*
 * daemon.h: the life of the master as a daemon: detaching from the
 * terminal, the pid file, the file-descriptor limit.
 */
#ifndef DAEMON_H
#define DAEMON_H

#include "config.h"

/*
 * daemon_pidfile_check(): -1 (with a message on stderr) when the pid file
 * names a live portico; a stale file (its process gone, or another
 * program's now) is removed, with the shared memory of that pid.  0
 * otherwise.
 */
int	daemon_pidfile_check(const char *path);

/* daemon_pidfile_write(): write our pid atomically (temp file, rename). */
int	daemon_pidfile_write(const char *path);

/* daemon_detach(): fork, setsid, standard streams to /dev/null. */
void	daemon_detach(void);

/*
 * daemon_raise_nofile(): raise RLIMIT_NOFILE so that a worker can hold
 * its clients, its upstream connections and its own files; log the limit
 * obtained when the hard limit is lower than needed.
 */
void	daemon_raise_nofile(const struct config *cf);

/*
 * daemon_limit_privileges(): started as root, keep only the capabilities
 * the master needs to reload and supervise; the others are gone for good.
 */
void	daemon_limit_privileges(void);

#endif /* DAEMON_H */
