/*
 * proxyctl.c: control a running portico through its pid file, signals
 * and its shared memory.
 *
 *   proxyctl [-c file] start | stop [--fast] | reload | restart |
 *            status | configtest | reopen | purge URL
 *
 * Every command waits for its outcome and exits 0 when it happened, or
 * non-zero with a one-line reason: 1 when it failed, 2 for a wrong
 * command line, 3 when portico is not running (stop, reload, status,
 * reopen).
 *
 * Only start, configtest and purge need a valid configuration file.  The others
 * read no more of it than pid_file, so that a broken file can still be
 * reloaded (and refused by the master, which says why) or stopped.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "pidfile.h"
#include "shm.h"
#include "store.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/usr/local/etc"
#endif
#ifndef SBINDIR
#define SBINDIR "/usr/local/sbin"
#endif

#define EXIT_FAILED	1
#define EXIT_USAGE	2
#define EXIT_STOPPED	3

#define WAIT_STEP_MS	20
#define START_WAIT_MS	10000	/* until every worker serves */
#define RELOAD_WAIT_MS	30000	/* until the new generation serves */
#define STOP_SLACK_MS	10000	/* beyond shutdown_timeout */

static const char *conf_file = SYSCONFDIR "/portico.conf";

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: proxyctl [-c file] start | stop [--fast] | "
	    "reload | restart | status | configtest | reopen | purge URL\n");
	exit(EXIT_USAGE);
}

static void
sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static struct config *
load(void)
{
	struct config *cf;

	if ((cf = config_load(conf_file, stderr)) == NULL) {
		fprintf(stderr, "proxyctl: %s is not valid\n", conf_file);
		exit(EXIT_FAILED);
	}
	return cf;
}

/* The pid in the pid file if it is a live portico, else 0. */
static pid_t
running_pid(const char *pid_file)
{
	return pidfile_read(pid_file, NULL);
}

/* The pid of the running master, or exit saying it is not running. */
static pid_t
master_pid(const char *pid_file)
{
	pid_t pid;

	if ((pid = running_pid(pid_file)) == 0) {
		fprintf(stderr, "proxyctl: portico is not running (no live pid "
		    "in %s)\n", pid_file);
		exit(EXIT_STOPPED);
	}
	return pid;
}

/* The shared memory of master pid, or exit saying why not. */
static const struct shm *
attach(pid_t pid)
{
	const struct shm *s;

	if ((s = shm_attach(pid)) == NULL) {
		fprintf(stderr, "proxyctl: cannot read the state of portico "
		    "(pid %ld): %s\n", (long)pid, strerror(errno));
		exit(EXIT_FAILED);
	}
	return s;
}

static void
send_signal(pid_t pid, int sig)
{
	if (kill(pid, sig) == -1) {
		fprintf(stderr, "proxyctl: kill %ld: %s\n", (long)pid,
		    strerror(errno));
		exit(EXIT_FAILED);
	}
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

static int
cmd_start(const char *argv0)
{
	const char		*bin = portico_path(argv0);
	const struct shm	*s = NULL;
	struct config		*cf = load();
	pid_t			 pid, child;
	int			 status, waited;

	if ((pid = running_pid(cf->pid_file)) != 0) {
		fprintf(stderr, "proxyctl: portico is already running as pid "
		    "%ld\n", (long)pid);
		return EXIT_FAILED;
	}
	if ((child = fork()) == -1) {
		perror("proxyctl: fork");
		return EXIT_FAILED;
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
		return EXIT_FAILED;
	}
	for (waited = 0; waited < START_WAIT_MS; waited += WAIT_STEP_MS) {
		if (s == NULL && (pid = running_pid(cf->pid_file)) != 0)
			s = shm_attach(pid);
		if (s != NULL && shm_load(&s->generation) != 0) {
			printf("portico started: pid %ld\n", (long)pid);
			return 0;
		}
		if (s != NULL && kill(pid, 0) == -1 && errno == ESRCH)
			break;
		sleep_ms(WAIT_STEP_MS);
	}
	fprintf(stderr, "proxyctl: portico did not start serving within %d "
	    "s; see %s\n", START_WAIT_MS / 1000, cf->error_log);
	return EXIT_FAILED;
}

static int
cmd_stop(const char *pid_file, bool fast)
{
	pid_t		 pid = master_pid(pid_file);
	const struct shm *s = shm_attach(pid);
	uint64_t	 waited, limit = 30000;

	/* A graceful stop takes at most shutdown_timeout, plus slack. */
	if (s != NULL)
		limit = shm_load(&s->shutdown_ms);
	limit += STOP_SLACK_MS;
	send_signal(pid, fast ? SIGTERM : SIGQUIT);
	for (waited = 0; waited < limit; waited += WAIT_STEP_MS) {
		if (kill(pid, 0) == -1 && errno == ESRCH) {
			printf("portico stopped\n");
			return 0;
		}
		sleep_ms(WAIT_STEP_MS);
	}
	fprintf(stderr, "proxyctl: portico (pid %ld) still running after "
	    "%llu s\n", (long)pid, (unsigned long long)(limit / 1000));
	return EXIT_FAILED;
}

/*
 * SIGHUP, then wait for the master's verdict, and when the configuration
 * is accepted, for its generation to serve.
 */
static int
cmd_reload(const char *pid_file)
{
	pid_t			 pid = master_pid(pid_file);
	const struct shm	*s = attach(pid);
	uint32_t		 before = shm_load(&s->reloads), gen;
	struct shm		*snap;
	int			 waited;

	if ((snap = malloc(sizeof(*snap))) == NULL) {
		perror("proxyctl");
		return EXIT_FAILED;
	}
	send_signal(pid, SIGHUP);
	for (waited = 0; waited < RELOAD_WAIT_MS; waited += WAIT_STEP_MS) {
		if (shm_load(&s->reloads) != before &&
		    shm_snapshot(s, snap) == 0)
			break;
		sleep_ms(WAIT_STEP_MS);
	}
	if (waited >= RELOAD_WAIT_MS) {
		fprintf(stderr, "proxyctl: portico (pid %ld) did not answer the "
		    "reload within %d s\n", (long)pid, RELOAD_WAIT_MS / 1000);
		return EXIT_FAILED;
	}
	if (!snap->reload_ok) {
		fprintf(stderr, "proxyctl: reload refused: %s\n",
		    snap->reload_msg);
		return EXIT_FAILED;
	}
	gen = snap->reload_gen;
	free(snap);
	for (; waited < RELOAD_WAIT_MS; waited += WAIT_STEP_MS) {
		if (shm_load(&s->generation) >= gen) {
			printf("portico reloaded: generation %u serving\n",
			    gen);
			return 0;
		}
		sleep_ms(WAIT_STEP_MS);
	}
	fprintf(stderr, "proxyctl: generation %u was accepted but does not "
	    "serve yet; the previous one goes on\n", gen);
	return EXIT_FAILED;
}

static const char *
state_name(uint32_t state)
{
	static const char *const names[] = {
		"starting", "serving", "draining", "waiting to restart"
	};

	return state < PT_NELEM(names) ? names[state] : "?";
}

static long long
seconds_since(int64_t then, int64_t now)
{
	return then == 0 || now < then ? 0 : (long long)(now - then) / 1000;
}

static int
cmd_status(const char *pid_file)
{
	pid_t			 pid = master_pid(pid_file);
	const struct shm	*s = attach(pid);
	struct shm		*m;
	int64_t			 now = shm_now();
	unsigned		 i;

	if ((m = malloc(sizeof(*m))) == NULL || shm_snapshot(s, m) == -1) {
		fprintf(stderr, "proxyctl: cannot read the state of portico\n");
		return EXIT_FAILED;
	}
	printf("master: pid %ld\n", (long)m->master_pid);
	printf("master: uptime %lld s\n", seconds_since(m->started, now));
	printf("master: generation %u\n", m->generation);
	printf("master: config %s\n", m->conf_file);
	if (m->reloads == 0)
		printf("reload: none yet\n");
	else if (m->reload_ok)
		printf("reload: accepted, generation %u\n", m->reload_gen);
	else
		printf("reload: refused: %s\n", m->reload_msg);
	for (i = 0; i < SHM_MAX_PROCS; i++) {
		const struct shm_proc *p = &m->procs[i];

		if (p->role == SHM_ROLE_WORKER)
			printf("worker %u: pid %ld, generation %u, %s, uptime "
			    "%lld s, restarts %u, connections %llu, "
			    "requests %llu\n", p->index, (long)p->pid,
			    p->generation, state_name(p->state),
			    p->pid == 0 ? 0 : seconds_since(p->started, now),
			    p->restarts, (unsigned long long)p->connections,
			    (unsigned long long)p->requests);
		else if (p->role == SHM_ROLE_CHECKER)
			printf("checker: pid %ld, generation %u, %s, uptime "
			    "%lld s, restarts %u\n", (long)p->pid,
			    p->generation, state_name(p->state),
			    p->pid == 0 ? 0 : seconds_since(p->started, now),
			    p->restarts);
	}
	for (i = 0; i < SHM_MAX_SERVERS; i++) {
		const struct shm_server *h = &m->servers[i];

		if (h->refs == 0)
			continue;
		printf("server %s %s: %s for %lld s, active %u, requests %llu, "
		    "failures %llu, avg %llu ms, checks %llu, last: %s\n",
		    h->upstream, h->address,
		    h->state == SHM_HEALTH_DOWN ? "down" : "up",
		    seconds_since(h->since, now), h->active,
		    (unsigned long long)h->requests,
		    (unsigned long long)h->failures, (unsigned long long)
		    (h->responses == 0 ? 0 : h->resp_ms / h->responses),
		    (unsigned long long)h->checks, h->result);
	}
	if (m->cache_size != 0)
		printf("cache: %llu objects, %llu bytes of %llu, evictions "
		    "%llu\n", (unsigned long long)m->cache_objects,
		    (unsigned long long)m->cache_bytes,
		    (unsigned long long)m->cache_size,
		    (unsigned long long)m->cache_evicted);
	free(m);
	return 0;
}

/*
 * purge URL: drop from the cache file the objects of URL (and its
 * variants), or, when it ends with '*', of every URL it starts.  The
 * file is opened in place, never made: the workers see the change at
 * once.  Keys are "scheme://host/path?query" with the scheme and host
 * in lower case (the default cache key of a route).
 */
static int
cmd_purge(const char *url)
{
	struct config	*cf = load();
	struct store	*s;
	char		 err[512], *key;
	size_t		 len = strlen(url), i;
	const char	*p;
	bool		 prefix = len > 0 && url[len - 1] == '*';
	unsigned	 n;

	if (cf->cache.path == NULL) {
		fprintf(stderr, "proxyctl: %s has no cache\n", conf_file);
		return EXIT_FAILED;
	}
	if ((p = strstr(url, "://")) == NULL || strchr(p + 3, '/') == NULL) {
		fprintf(stderr, "proxyctl: purge wants a URL: "
		    "http://host/path\n");
		return EXIT_USAGE;
	}
	if ((s = store_open(cf->cache.path, cf->cache.size, NULL, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "proxyctl: cache %s\n", err);
		return EXIT_FAILED;
	}
	if ((key = strdup(url)) == NULL) {
		perror("proxyctl");
		return EXIT_FAILED;
	}
	/* Scheme and host as the worker writes them. */
	for (i = 0; i < (size_t)(strchr(p + 3, '/') - url); i++)
		key[i] = (char)tolower((unsigned char)key[i]);
	n = store_purge(s, key, len - prefix, prefix);
	printf("purged %u\n", n);
	free(key);
	store_close(s);
	config_free(cf);
	return 0;
}

int
main(int argc, char *argv[])
{
	struct config	*cf;
	const char	*cmd;
	char		*pid_file;
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
	if (optind != argc && strcmp(cmd, "purge") != 0)
		usage();
	if (strcmp(cmd, "configtest") == 0) {
		config_free(load());
		printf("configuration file %s test is successful\n", conf_file);
		return 0;
	}
	if (strcmp(cmd, "start") == 0)
		return cmd_start(argv[0]);
	if (strcmp(cmd, "purge") == 0 && optind == argc - 1)
		return cmd_purge(argv[optind]);
	if ((pid_file = config_pid_file(conf_file)) == NULL) {
		perror("proxyctl");
		return EXIT_FAILED;
	}
	if (strcmp(cmd, "stop") == 0)
		rc = cmd_stop(pid_file, fast);
	else if (strcmp(cmd, "reload") == 0)
		rc = cmd_reload(pid_file);
	else if (strcmp(cmd, "status") == 0)
		rc = cmd_status(pid_file);
	else if (strcmp(cmd, "restart") == 0) {
		/* Check the new file before stopping the old instance. */
		cf = load();
		config_free(cf);
		rc = running_pid(pid_file) != 0 ? cmd_stop(pid_file, false) :
		    0;
		if (rc == 0)
			rc = cmd_start(argv[0]);
	} else if (strcmp(cmd, "reopen") == 0) {
		send_signal(master_pid(pid_file), SIGUSR1);
		printf("log files reopened\n");
		rc = 0;
	} else
		usage();
	free(pid_file);
	return rc;
}
