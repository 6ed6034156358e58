/*
 * proxyctl.c: control a running portico through its pid file and signals.
 *
 *   proxyctl [-c file] start | stop [--fast] | restart | reopen |
 *            configtest
 *
 * Every command waits for its outcome and exits 0 when it happened, or 1
 * with a one-line reason.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "sock.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/usr/local/etc"
#endif
#ifndef SBINDIR
#define SBINDIR "/usr/local/sbin"
#endif

#define WAIT_STEP_MS	50
#define START_WAIT_MS	10000	/* until the listeners accept */

static const char *conf_file = SYSCONFDIR "/portico.conf";

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: proxyctl [-c file] start | stop [--fast] | "
	    "restart | reopen | configtest\n");
	exit(2);
}

static void
sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* The pid in the pid file if that process lives, else 0. */
static pid_t
running_pid(const struct config *cf)
{
	char	text[32];
	ssize_t	n;
	long	pid;
	int	fd;

	if ((fd = open(cf->pid_file, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	text[n] = '\0';
	pid = strtol(text, NULL, 10);
	if (pid <= 0 || (kill((pid_t)pid, 0) == -1 && errno != EPERM))
		return 0;
	return (pid_t)pid;
}

/* The portico binary beside proxyctl, else the installed one. */
static const char *
portico_path(const char *argv0)
{
	static char	path[4096];
	const char	*slash = strrchr(argv0, '/');

	if (slash != NULL) {
		snprintf(path, sizeof(path), "%.*s/portico",
		    (int)(slash - argv0), argv0);
		if (access(path, X_OK) == 0)
			return path;
	}
	return SBINDIR "/portico";
}

static struct config *
load(void)
{
	struct config *cf;

	if ((cf = config_load(conf_file, stderr)) == NULL) {
		fprintf(stderr, "proxyctl: %s is not valid\n", conf_file);
		exit(1);
	}
	return cf;
}

/* Whether every listener accepts a connection. */
static bool
listeners_up(const struct config *cf)
{
	unsigned	i;
	bool		in_progress;
	int		fd;

	for (i = 0; i < cf->nlisteners; i++) {
		fd = sock_connect(&cf->listeners[i].addr, &in_progress);
		if (fd == -1)
			return false;
		if (in_progress) {
			sleep_ms(10);
			if (sock_connect_result(fd) != 0) {
				close(fd);
				return false;
			}
		}
		close(fd);
	}
	return true;
}

static int
cmd_start(const struct config *cf, const char *argv0)
{
	const char	*bin = portico_path(argv0);
	pid_t		 pid, child;
	int		 status, waited;

	if ((pid = running_pid(cf)) != 0) {
		fprintf(stderr, "proxyctl: portico is already running as pid "
		    "%ld\n", (long)pid);
		return 1;
	}
	if ((child = fork()) == -1) {
		perror("proxyctl: fork");
		return 1;
	}
	if (child == 0) {
		execl(bin, "portico", "-c", conf_file, (char *)NULL);
		fprintf(stderr, "proxyctl: cannot run %s: %s\n", bin,
		    strerror(errno));
		_exit(127);
	}
	/* portico detaches: its first process exits once it has forked
	   the daemon, or fails with its reason on stderr. */
	if (waitpid(child, &status, 0) == -1 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		fprintf(stderr, "proxyctl: portico did not start\n");
		return 1;
	}
	for (waited = 0; waited < START_WAIT_MS; waited += WAIT_STEP_MS) {
		if ((pid = running_pid(cf)) != 0 && listeners_up(cf)) {
			printf("portico started: pid %ld\n", (long)pid);
			return 0;
		}
		sleep_ms(WAIT_STEP_MS);
	}
	fprintf(stderr, "proxyctl: portico did not accept connections within "
	    "%d s; see %s\n", START_WAIT_MS / 1000, cf->error_log);
	return 1;
}

static int
cmd_stop(const struct config *cf, bool fast)
{
	pid_t		pid;
	uint64_t	waited, limit;

	if ((pid = running_pid(cf)) == 0) {
		fprintf(stderr, "proxyctl: portico is not running\n");
		return 1;
	}
	if (kill(pid, fast ? SIGTERM : SIGQUIT) == -1) {
		fprintf(stderr, "proxyctl: kill %ld: %s\n", (long)pid,
		    strerror(errno));
		return 1;
	}
	/* A graceful stop takes at most shutdown_timeout, plus slack. */
	limit = (uint64_t)cf->shutdown_timeout_ms + 10000;
	for (waited = 0; waited < limit; waited += WAIT_STEP_MS) {
		if (kill(pid, 0) == -1 && errno == ESRCH) {
			printf("portico stopped\n");
			return 0;
		}
		sleep_ms(WAIT_STEP_MS);
	}
	fprintf(stderr, "proxyctl: portico (pid %ld) still running after "
	    "%llu s\n", (long)pid, (unsigned long long)(limit / 1000));
	return 1;
}

static int
cmd_signal(const struct config *cf, int sig, const char *done)
{
	pid_t pid;

	if ((pid = running_pid(cf)) == 0) {
		fprintf(stderr, "proxyctl: portico is not running\n");
		return 1;
	}
	if (kill(pid, sig) == -1) {
		fprintf(stderr, "proxyctl: kill %ld: %s\n", (long)pid,
		    strerror(errno));
		return 1;
	}
	printf("%s\n", done);
	return 0;
}

int
main(int argc, char *argv[])
{
	struct config	*cf;
	const char	*cmd;
	int		 ch, rc;
	bool		 fast = false;

	while ((ch = getopt(argc, argv, "c:")) != -1) {
		if (ch != 'c')
			usage();
		conf_file = optarg;
	}
	if (optind >= argc)
		usage();
	cmd = argv[optind++];
	if (optind < argc && strcmp(cmd, "stop") == 0 &&
	    strcmp(argv[optind], "--fast") == 0) {
		fast = true;
		optind++;
	}
	if (optind != argc)
		usage();
	cf = load();
	if (strcmp(cmd, "configtest") == 0) {
		printf("configuration file %s test is successful\n", conf_file);
		rc = 0;
	} else if (strcmp(cmd, "start") == 0)
		rc = cmd_start(cf, argv[0]);
	else if (strcmp(cmd, "stop") == 0)
		rc = cmd_stop(cf, fast);
	else if (strcmp(cmd, "restart") == 0) {
		rc = running_pid(cf) != 0 ? cmd_stop(cf, false) : 0;
		if (rc == 0)
			rc = cmd_start(cf, argv[0]);
	} else if (strcmp(cmd, "reopen") == 0)
		rc = cmd_signal(cf, SIGUSR1, "log files reopened");
	else
		usage();
	config_free(cf);
	return rc;
}
