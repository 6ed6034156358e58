/*
 * pidfile.h: reading the pid file, for the master (is another instance
 * running?) and proxyctl (which process to signal).
 */
#ifndef PIDFILE_H
#define PIDFILE_H

#include <sys/types.h>

/*
 * pidfile_read(): the pid in the file at path when it names a live
 * portico, else 0; *stale (when not NULL) gets the pid it names anyway
 * (0 if none), so that what a crash left can be cleaned up.
 *
 * A pid left by a crash may name another program now: a process counts
 * as a portico when /proc says its name is "portico", or cannot say.
 */
pid_t	pidfile_read(const char *path, pid_t *stale);

#endif /* PIDFILE_H */
