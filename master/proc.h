/*
 * proc.h: the master's life after start-up: fork the child processes
 * named in its role table, watch them, restart the ones that die (with
 * back-off), reload the configuration, and pass on the signals that stop
 * the whole program.
 *
 * Each accepted configuration is a generation: its config tree, its
 * listening sockets and its children.  On SIGHUP the master loads the
 * file again; when it is refused, the running generation goes on
 * untouched and the reason is logged and left in the shared memory for
 * proxyctl.  When it is accepted, a new generation starts on the same
 * sockets (new listeners are bound, removed ones closed once no
 * generation uses them), and once all its workers serve, the older
 * generations are told to drain (SIGQUIT) and are not restarted.
 */
#ifndef PROC_H
#define PROC_H

#include "config.h"
#include "shm.h"

/*
 * proc_run(): run generation 1 of cf on the listening sockets fds until
 * a stop signal; returns the exit status.  Takes cf and fds; removes
 * the pid file (of the configuration current then) before it returns.
 */
int	proc_run(struct config *cf, int *fds, struct shm *shm);

#endif /* PROC_H */
