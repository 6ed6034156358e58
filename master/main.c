/*
 * main.c: the command line of portico, and the master's start-up:
 * configuration, listeners, shared memory, pid file, then proc_run()
 * until it stops.
 *
 *   portico [-Ftv] [-c file]
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "listen.h"
#include "log.h"
#include "proc.h"
#include "tickets.h"
#include "shm.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/usr/local/etc"
#endif

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: portico [-Ftv] [-c file]\n");
	exit(1);
}

int
main(int argc, char *argv[])
{
	const char	*file = SYSCONFDIR "/portico.conf";
	struct config	*cf;
	struct shm	*shm;
	int		 ch, test = 0, foreground = 0, *fds, rc;

	while ((ch = getopt(argc, argv, "c:Ftv")) != -1) {
		switch (ch) {
		case 'c':
			file = optarg;
			break;
		case 'F':
			foreground = 1;
			break;
		case 't':
			test = 1;
			break;
		case 'v':
			printf("portico %s\n", PT_VERSION);
			return 0;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();

	if ((cf = config_load(file, stderr)) == NULL)
		return 1;
	if (test) {
		fprintf(stderr, "portico: configuration file %s test is "
		    "successful\n", file);
		config_free(cf);
		return 0;
	}
	if (daemon_pidfile_check(cf->pid_file) == -1) {
		config_free(cf);
		return 1;
	}
	if (log_open(cf->error_log) == -1) {
		fprintf(stderr, "portico: cannot open error log %s: %s\n",
		    cf->error_log, strerror(errno));
		return 1;
	}
	/* A client that goes away must not kill us with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	daemon_raise_nofile(cf);
	if ((fds = listen_open(cf, NULL, NULL, stderr)) == NULL)
		return 1;
	if (!foreground)
		daemon_detach();
	/* After detaching: the segment is named after the master's pid. */
	if ((shm = shm_create()) == NULL)
		fatalx("cannot create the shared memory");
	if (tickets_create() == -1)
		fatalx("cannot create the TLS ticket keys");
	if (daemon_pidfile_write(cf->pid_file) == -1)
		log_warn("cannot write pid file %s", cf->pid_file);
	daemon_limit_privileges();
	log_notice("portico %s started, %u workers", PT_VERSION, cf->workers);
	rc = proc_run(cf, fds, shm);
	shm_destroy(shm);
	return rc;
}
