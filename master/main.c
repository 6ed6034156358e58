/*
 * main.c: the command line of portico, and the master's start-up:
 * configuration, listeners, pid file, then proc_run() forever.
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
	/* TLS termination is not built yet: serving plain HTTP on a port
	   meant for TLS would be worse than not starting. */
	for (unsigned i = 0; i < cf->nlisteners; i++)
		if (cf->listeners[i].tls != NULL) {
			fprintf(stderr, "%s:%d: listener %s: TLS is not "
			    "available in this version of portico\n", cf->file,
			    cf->listeners[i].line, cf->listeners[i].address);
			config_free(cf);
			return 1;
		}
	if (daemon_pidfile_check(cf->pid_file) == -1)
		return 1;
	if (log_open(cf->error_log) == -1) {
		fprintf(stderr, "portico: cannot open error log %s: %s\n",
		    cf->error_log, strerror(errno));
		return 1;
	}
	/* A client that goes away must not kill us with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	daemon_raise_nofile(cf);
	if ((fds = listen_open(cf)) == NULL) {
		fprintf(stderr, "portico: cannot bind the listeners; see %s\n",
		    cf->error_log);
		return 1;
	}
	if (!foreground)
		daemon_detach();
	if (daemon_pidfile_write(cf->pid_file) == -1)
		log_warn("cannot write pid file %s", cf->pid_file);
	log_notice("portico %s started, %u workers", PT_VERSION, cf->workers);
	rc = proc_run(cf, fds);
	(void)unlink(cf->pid_file);
	listen_close(fds, cf->nlisteners);
	config_free(cf);
	return rc;
}
