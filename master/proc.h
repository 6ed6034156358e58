/*
 * proc.h: the master's life after start-up: fork the child processes
 * named in its role table, watch them, restart the ones that die (with
 * back-off), and pass on the signals that stop the whole program.
 */
#ifndef PROC_H
#define PROC_H

#include "config.h"

/*
 * proc_run(): fork cf->workers workers on the listening sockets fds and
 * supervise them until a stop signal; returns the exit status.
 */
int	proc_run(const struct config *cf, const int *fds);

#endif /* PROC_H */
