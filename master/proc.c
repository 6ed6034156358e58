/*
 * proc.c: forking and supervising the child processes.  See proc.h.
 *
 * Roles are data: the table below says which processes exist and how
 * many; one place forks, watches and restarts them all.
 *
 * Signals reach the master through a signalfd; the master does nothing
 * else than wait for signals and restart deadlines, so it never touches
 * client traffic.
 */
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "proc.h"
#include "role.h"

/* A child that dies sooner than this after its start counts as a crash
   loop: its next start waits twice as long as the last, up to the max. */
#define RESPAWN_QUICK_MS	2000
#define RESPAWN_FIRST_MS	100
#define RESPAWN_MAX_MS		30000
#define STOP_KILL_MS		5000	/* fast stop: SIGKILL after this */

struct proc_role {
	const char	*name;
	int		(*entry)(const struct role_ctx *);
};

static const struct proc_role role_worker = { "worker", worker_main };

struct child {
	const struct proc_role *role;
	unsigned	 index;
	pid_t		 pid;		/* 0: not running */
	uint64_t	 started_ms;
	uint64_t	 respawn_at;	/* when pid == 0: start at this time */
	uint32_t	 backoff_ms;
	unsigned	 restarts;
};

struct master {
	const struct config *cf;
	const int	*fds;
	struct child	*children;
	unsigned	 nchildren;
	sigset_t	 sigs;
	int		 sigfd;
	int		 stopping;	/* 0, SIGQUIT or SIGTERM */
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * Workers started as root run as cf->user.  The master keeps root only to
 * bind new listeners on reload.
 */
static void
drop_privileges(const struct config *cf)
{
	struct passwd	*pw;
	struct group	*gr;
	gid_t		 gid;

	if (geteuid() != 0 || cf->user == NULL)
		return;
	if ((pw = getpwnam(cf->user)) == NULL)
		fatalx("unknown user '%s'", cf->user);
	gid = pw->pw_gid;
	if (cf->group != NULL) {
		if ((gr = getgrnam(cf->group)) == NULL)
			fatalx("unknown group '%s'", cf->group);
		gid = gr->gr_gid;
	}
	if (setgroups(1, &gid) == -1 || setgid(gid) == -1 ||
	    setuid(pw->pw_uid) == -1)
		fatal("cannot run as user '%s'", cf->user);
	/* The workers are forked from a root process: ptrace and core dumps
	   are off by default then; turn dumps back on for debugging. */
	(void)prctl(PR_SET_DUMPABLE, 1);
}

static void
start_child(struct master *m, struct child *c)
{
	struct role_ctx	 ctx;
	pid_t		 pid, master = getpid();

	pid = fork();
	if (pid == -1) {
		log_warn("fork %s %u", c->role->name, c->index);
		c->respawn_at = now_ms() + 1000;
		return;
	}
	if (pid == 0) {
		/* The child keeps the signals blocked: the worker reads them
		   from a signalfd of its own, and one that arrives before it
		   exists waits for it instead of killing it. */
		close(m->sigfd);
		drop_privileges(m->cf);
		/* After setuid(), which clears it: hear when the master dies,
		   and make sure it has not died already. */
		(void)prctl(PR_SET_PDEATHSIG, SIGQUIT);
		if (getppid() != master)
			_exit(0);
		ctx.cf = m->cf;
		ctx.listen_fds = m->fds;
		ctx.nlisteners = m->cf->nlisteners;
		ctx.index = c->index;
		ctx.generation = 1;
		_exit(c->role->entry(&ctx));
	}
	c->pid = pid;
	c->started_ms = now_ms();
	log_info("%s %u started as pid %ld", c->role->name, c->index,
	    (long)pid);
}

/* A child ended: log how, and decide when to start its replacement. */
static void
child_ended(struct master *m, struct child *c, int status)
{
	uint64_t	now = now_ms();
	char		how[64];

	if (WIFSIGNALED(status))
		snprintf(how, sizeof(how), "killed by signal %d",
		    WTERMSIG(status));
	else
		snprintf(how, sizeof(how), "exited with status %d",
		    WEXITSTATUS(status));
	c->pid = 0;
	if (m->stopping) {
		log_info("%s %u %s", c->role->name, c->index, how);
		return;
	}
	if (now - c->started_ms < RESPAWN_QUICK_MS) {
		c->backoff_ms = c->backoff_ms == 0 ? RESPAWN_FIRST_MS :
		    (uint32_t)pt_min((size_t)c->backoff_ms * 2,
		    RESPAWN_MAX_MS);
		log_warnx("%s %u %s %llu ms after its start: restarting it "
		    "in %u ms", c->role->name, c->index, how,
		    (unsigned long long)(now - c->started_ms), c->backoff_ms);
	} else {
		c->backoff_ms = 0;
		log_warnx("%s %u %s: restarting it", c->role->name, c->index,
		    how);
	}
	c->respawn_at = now + c->backoff_ms;
	c->restarts++;
}

static void
reap(struct master *m)
{
	pid_t		pid;
	int		status;
	unsigned	i;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < m->nchildren; i++)
			if (m->children[i].pid == pid) {
				child_ended(m, &m->children[i], status);
				break;
			}
	}
}

static unsigned
running(const struct master *m)
{
	unsigned i, n = 0;

	for (i = 0; i < m->nchildren; i++)
		if (m->children[i].pid != 0)
			n++;
	return n;
}

static void
signal_children(struct master *m, int sig)
{
	unsigned i;

	for (i = 0; i < m->nchildren; i++)
		if (m->children[i].pid != 0)
			kill(m->children[i].pid, sig);
}

/* Start the children whose time has come; return ms to the next one. */
static int
respawn_due(struct master *m)
{
	uint64_t	now = now_ms();
	int		wait = -1;
	unsigned	i;

	if (m->stopping)
		return -1;
	for (i = 0; i < m->nchildren; i++) {
		struct child *c = &m->children[i];

		if (c->pid != 0)
			continue;
		if (c->respawn_at <= now)
			start_child(m, c);
		if (c->pid == 0) {
			int left = (int)(c->respawn_at - now);

			if (wait == -1 || left < wait)
				wait = left;
		}
	}
	return wait;
}

static void
handle_signal(struct master *m, int sig)
{
	switch (sig) {
	case SIGCHLD:
		reap(m);
		break;
	case SIGTERM:
	case SIGINT:
		log_notice("signal %d: stopping now", sig);
		m->stopping = SIGTERM;
		signal_children(m, SIGTERM);
		break;
	case SIGQUIT:
		log_notice("SIGQUIT: stopping gracefully");
		m->stopping = SIGQUIT;
		signal_children(m, SIGQUIT);
		break;
	case SIGUSR1:
		if (log_reopen() == -1)
			log_warn("cannot reopen the error log");
		signal_children(m, SIGUSR1);
		break;
	case SIGHUP:
		log_warnx("SIGHUP: reloading is not available in this version;"
		    " restart to apply a new configuration");
		break;
	}
}

/* proc_run(): see proc.h. */
int
proc_run(const struct config *cf, const int *fds)
{
	struct master		 m;
	struct signalfd_siginfo	 si;
	struct pollfd		 pfd;
	uint64_t		 kill_at = 0;
	unsigned		 i;
	int			 timeout;

	memset(&m, 0, sizeof(m));
	m.cf = cf;
	m.fds = fds;
	sigemptyset(&m.sigs);
	sigaddset(&m.sigs, SIGCHLD);
	sigaddset(&m.sigs, SIGTERM);
	sigaddset(&m.sigs, SIGINT);
	sigaddset(&m.sigs, SIGQUIT);
	sigaddset(&m.sigs, SIGHUP);
	sigaddset(&m.sigs, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &m.sigs, NULL) == -1)
		fatal("sigprocmask");
	if ((m.sigfd = signalfd(-1, &m.sigs, SFD_CLOEXEC)) == -1)
		fatal("signalfd");
	m.nchildren = cf->workers;
	if ((m.children = calloc(m.nchildren, sizeof(*m.children))) == NULL)
		fatal("children");
	for (i = 0; i < m.nchildren; i++) {
		m.children[i].role = &role_worker;
		m.children[i].index = i;
		start_child(&m, &m.children[i]);
	}
	for (;;) {
		timeout = respawn_due(&m);
		if (m.stopping) {
			if (running(&m) == 0)
				break;
			if (m.stopping == SIGTERM) {
				if (kill_at == 0)
					kill_at = now_ms() + STOP_KILL_MS;
				if (now_ms() >= kill_at) {
					log_warnx("children still running "
					    "after %d ms: killing them",
					    STOP_KILL_MS);
					signal_children(&m, SIGKILL);
					kill_at = now_ms() + 60000;
				}
				timeout = 100;
			}
		}
		pfd.fd = m.sigfd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, timeout) <= 0)
			continue;
		if (read(m.sigfd, &si, sizeof(si)) == sizeof(si))
			handle_signal(&m, (int)si.ssi_signo);
	}
	free(m.children);
	close(m.sigfd);
	log_info("stopped");
	return 0;
}
