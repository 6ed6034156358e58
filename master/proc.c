/*
 * proc.c: forking and supervising the child processes, and reloading.
 * See proc.h.
 *
 * Roles are data: the table below says which processes a generation
 * has; one place forks, watches and restarts them all.
 *
 * Signals reach the master through a signalfd; the master does nothing
 * else than wait for signals, restart deadlines and new generations that
 * are not serving yet, so it never touches client traffic.
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

#include "daemon.h"
#include "listen.h"
#include "log.h"
#include "proc.h"
#include "health.h"
#include "store.h"
#include "tickets.h"
#include "role.h"

/* A child that dies sooner than this after its start counts as a crash
   loop: its next start waits twice as long as the last, up to the max. */
#define RESPAWN_QUICK_MS	2000
#define RESPAWN_FIRST_MS	100
#define RESPAWN_MAX_MS		30000
#define STOP_KILL_MS		5000	/* fast stop: SIGKILL after this */
#define READY_POLL_MS		20	/* a new generation: serving yet? */

struct proc_role {
	const char	*name;
	enum shm_role	 role;
	int		(*entry)(const struct role_ctx *);
};

static const struct proc_role role_worker = {
	"worker", SHM_ROLE_WORKER, worker_main
};
static const struct proc_role role_checker = {
	"checker", SHM_ROLE_CHECKER, checker_main
};

struct gen;

struct child {
	const struct proc_role *role;
	struct gen	*gen;
	unsigned	 index;
	struct shm_proc	*slot;
	pid_t		 pid;		/* 0: not running */
	uint64_t	 started_ms;
	uint64_t	 respawn_at;	/* when pid == 0: start at this time */
	uint32_t	 backoff_ms;
	unsigned	 restarts;
};

struct gen {
	unsigned	 id;
	struct config	*cf;
	struct store	*store;		/* NULL: no cache; may be another
					   generation's too */
	int		*fds;		/* one per cf->listeners[i] */
	struct child	*children;
	unsigned	 nchildren;
	bool		 retired;	/* told to drain; not restarted */
	struct gen	*older;
};

struct master {
	struct gen	*gens;		/* newest first */
	unsigned	 serving;	/* id of the newest serving generation */
	struct shm	*shm;
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

static bool
gen_has_fd(const struct gen *g, int fd)
{
	unsigned i;

	for (i = 0; i < g->cf->nlisteners; i++)
		if (g->fds[i] == fd)
			return true;
	return false;
}

/* In a child of g: close the sockets that only other generations use, so
   that a listener removed by a reload is closed when those have left. */
static void
close_foreign_sockets(const struct master *m, const struct gen *g)
{
	const struct gen	*o;
	unsigned		 i;

	for (o = m->gens; o != NULL; o = o->older) {
		if (o == g)
			continue;
		for (i = 0; i < o->cf->nlisteners; i++)
			if (!gen_has_fd(g, o->fds[i]))
				close(o->fds[i]);
	}
}

static void
start_child(struct master *m, struct child *c)
{
	struct role_ctx	 ctx;
	pid_t		 pid, master = getpid();

	/* The slot says "starting" before the child can say "serving". */
	shm_begin(m->shm);
	c->slot->state = SHM_PROC_STARTING;
	c->slot->started = shm_now();
	c->slot->restarts = c->restarts;
	c->slot->requests = c->slot->connections = c->slot->accepted = 0;
	shm_end(m->shm);
	pid = fork();
	if (pid == -1) {
		log_warn("fork %s %u", c->role->name, c->index);
		c->respawn_at = now_ms() + 1000;
		shm_store(&c->slot->state, SHM_PROC_WAITING);
		return;
	}
	if (pid == 0) {
		/* The child keeps the signals blocked: it reads them from a
		   signalfd of its own, and one that arrives before it
		   exists waits for it instead of killing it. */
		close(m->sigfd);
		close_foreign_sockets(m, c->gen);
		drop_privileges(c->gen->cf);
		/* After setuid(), which clears it: hear when the master dies,
		   and make sure it has not died already. */
		(void)prctl(PR_SET_PDEATHSIG, SIGQUIT);
		if (getppid() != master)
			_exit(0);
		ctx.cf = c->gen->cf;
		ctx.listen_fds = c->gen->fds;
		ctx.nlisteners = c->gen->cf->nlisteners;
		ctx.index = c->index;
		ctx.generation = c->gen->id;
		ctx.shm = m->shm;
		ctx.self = c->slot;
		ctx.store = c->gen->store;
		_exit(c->role->entry(&ctx));
	}
	c->pid = pid;
	c->started_ms = now_ms();
	shm_begin(m->shm);
	c->slot->pid = (int32_t)pid;
	shm_end(m->shm);
	log_info("%s %u of generation %u started as pid %ld", c->role->name,
	    c->index, c->gen->id, (long)pid);
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
	/* Its cache claims: those who wait for them wait no more. */
	shm_cache_release(m->shm, c->pid);
	c->pid = 0;
	shm_begin(m->shm);
	c->slot->pid = 0;
	c->slot->state = SHM_PROC_WAITING;
	c->slot->connections = 0;
	shm_end(m->shm);
	if (m->stopping || c->gen->retired) {
		log_info("%s %u of generation %u %s", c->role->name, c->index,
		    c->gen->id, how);
		return;
	}
	if (now - c->started_ms < RESPAWN_QUICK_MS) {
		c->backoff_ms = c->backoff_ms == 0 ? RESPAWN_FIRST_MS :
		    (uint32_t)pt_min((size_t)c->backoff_ms * 2,
		    RESPAWN_MAX_MS);
		log_warnx("%s %u %s %llu ms after its start: crash loop? "
		    "restarting it in %u ms", c->role->name, c->index, how,
		    (unsigned long long)(now - c->started_ms), c->backoff_ms);
	} else {
		c->backoff_ms = 0;
		log_warnx("%s %u %s: restarting it", c->role->name, c->index,
		    how);
	}
	c->respawn_at = now + c->backoff_ms;
	c->restarts++;
}

/* Whether cf needs a checker: some upstream has health checks. */
static bool
needs_checker(const struct config *cf)
{
	unsigned u;

	if (cf->cache.path != NULL)
		return true;	/* it checks the cache file */
	for (u = 0; u < cf->nupstreams; u++)
		if (cf->upstreams[u].health.enabled)
			return true;
	return false;
}

/*
 * The cache of cf: an older generation's when it has the same path and
 * size, else the file opened (made anew when it is not one of this
 * format and size, with a line in the log).  -1 with the reason on errfp.
 */
static int
cache_open(struct master *m, const struct config *cf, struct store **sp,
    FILE *errfp)
{
	struct gen	*g;
	const char	*why;
	char		 err[512];

	*sp = NULL;
	if (cf->cache.path == NULL)
		return 0;
	for (g = m->gens; g != NULL; g = g->older)
		if (g->store != NULL && strcmp(g->cf->cache.path,
		    cf->cache.path) == 0 && g->cf->cache.size == cf->cache.size) {
			*sp = g->store;
			return 0;
		}
	if ((*sp = store_open(cf->cache.path, cf->cache.size, &why, err,
	    sizeof(err))) == NULL) {
		fprintf(errfp, "%s: cache: %s\n", cf->file, err);
		return -1;
	}
	if (why != NULL)
		log_notice("cache %s made anew: %s", cf->cache.path, why);
	else
		log_info("cache %s opened", cf->cache.path);
	return 0;
}

/* Unmap store unless a generation still uses it. */
static void
cache_close(struct master *m, struct store *store)
{
	struct gen *g;

	for (g = m->gens; g != NULL; g = g->older)
		if (g->store == store)
			return;
	store_close(store);
}

/*
 * A new generation of cf on fds: its children get their slots in the
 * shared memory, and start.  NULL (with the reason on errfp) when there
 * are not enough free slots: too many generations still draining.
 */
static struct gen *
gen_new(struct master *m, struct config *cf, int *fds, FILE *errfp)
{
	struct store	*store;
	struct gen	*g;
	unsigned	 i, n, k;

	n = cf->workers + (needs_checker(cf) ? 1 : 0);
	for (i = 0, k = 0; k < SHM_MAX_PROCS; k++)
		if (m->shm->procs[k].role == SHM_ROLE_NONE)
			i++;
	if (i < n) {
		fprintf(errfp, "%s: %u processes of older generations are "
		    "still draining; try again once they have left\n",
		    cf->file, SHM_MAX_PROCS - i);
		return NULL;
	}
	if (cache_open(m, cf, &store, errfp) == -1)
		return NULL;
	if (health_assign(m->shm, cf, errfp) == -1) {
		cache_close(m, store);
		return NULL;
	}
	if ((g = calloc(1, sizeof(*g))) == NULL ||
	    (g->children = calloc(n, sizeof(*g->children))) == NULL) {
		fprintf(errfp, "%s: out of memory\n", cf->file);
		free(g);
		health_release(m->shm, cf);
		cache_close(m, store);
		return NULL;
	}
	g->store = store;
	g->id = m->gens == NULL ? 1 : m->gens->id + 1;
	g->cf = cf;
	g->fds = fds;
	g->nchildren = n;
	shm_begin(m->shm);
	for (i = 0, k = 0; i < n; i++) {
		struct child *c = &g->children[i];

		c->role = i < cf->workers ? &role_worker : &role_checker;
		c->gen = g;
		c->index = i < cf->workers ? i : 0;
		while (m->shm->procs[k].role != SHM_ROLE_NONE)
			k++;
		c->slot = &m->shm->procs[k];
		memset(c->slot, 0, sizeof(*c->slot));
		c->slot->role = c->role->role;
		c->slot->index = c->index;
		c->slot->generation = g->id;
	}
	shm_end(m->shm);
	g->older = m->gens;
	m->gens = g;
	for (i = 0; i < n; i++)
		start_child(m, &g->children[i]);
	return g;
}

/* A retired generation whose children have all left: close the sockets
   no other generation uses, free its slots and its config. */
static void
gen_free(struct master *m, struct gen *g)
{
	struct gen	**pp, *o;
	unsigned	  i;
	bool		  shared;

	for (pp = &m->gens; *pp != g; pp = &(*pp)->older)
		;
	*pp = g->older;
	for (i = 0; i < g->cf->nlisteners; i++) {
		if (g->fds[i] == -1)
			continue;
		shared = false;
		for (o = m->gens; o != NULL; o = o->older)
			shared |= gen_has_fd(o, g->fds[i]);
		if (!shared) {
			log_info("listener %s closed",
			    g->cf->listeners[i].address);
			close(g->fds[i]);
		}
	}
	shm_begin(m->shm);
	for (i = 0; i < g->nchildren; i++)
		memset(g->children[i].slot, 0, sizeof(*g->children[i].slot));
	shm_end(m->shm);
	health_release(m->shm, g->cf);
	cache_close(m, g->store);
	log_info("generation %u has left", g->id);
	config_free(g->cf);
	free(g->fds);
	free(g->children);
	free(g);
}

static unsigned
running(const struct gen *g)
{
	unsigned i, n = 0;

	for (i = 0; i < g->nchildren; i++)
		if (g->children[i].pid != 0)
			n++;
	return n;
}

static void
reap(struct master *m)
{
	struct gen	*g, *older;
	pid_t		 pid;
	int		 status;
	unsigned	 i;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		for (g = m->gens; g != NULL; g = g->older)
			for (i = 0; i < g->nchildren; i++)
				if (g->children[i].pid == pid)
					child_ended(m, &g->children[i],
					    status);
	for (g = m->gens; g != NULL; g = older) {
		older = g->older;
		if (g->retired && running(g) == 0)
			gen_free(m, g);
	}
}

static void
signal_children(struct master *m, int sig)
{
	struct gen	*g;
	unsigned	 i;

	for (g = m->gens; g != NULL; g = g->older)
		for (i = 0; i < g->nchildren; i++)
			if (g->children[i].pid != 0)
				kill(g->children[i].pid, sig);
}

static unsigned
running_all(const struct master *m)
{
	const struct gen	*g;
	unsigned		 n = 0;

	for (g = m->gens; g != NULL; g = g->older)
		n += running(g);
	return n;
}

/* Start the children whose time has come; return ms to the next one. */
static int
respawn_due(struct master *m)
{
	uint64_t	 now = now_ms();
	int		 wait = -1;
	struct gen	*g;
	unsigned	 i;

	if (m->stopping)
		return -1;
	for (g = m->gens; g != NULL; g = g->older) {
		if (g->retired)
			continue;
		for (i = 0; i < g->nchildren; i++) {
			struct child *c = &g->children[i];

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
	}
	return wait;
}

/* Whether every worker of g accepts connections. */
static bool
gen_serving(const struct gen *g)
{
	unsigned i;

	for (i = 0; i < g->nchildren; i++)
		if (g->children[i].role == &role_worker &&
		    shm_load(&g->children[i].slot->state) != SHM_PROC_SERVING)
			return false;
	return true;
}

/*
 * Once the newest generation serves, the older ones drain.  Returns the
 * ms to wait before looking again, or -1 when nothing is pending.
 */
static int
retire_older(struct master *m)
{
	struct gen	*g = m->gens, *o;
	unsigned	 i;

	if (g == NULL || m->serving == g->id || m->stopping)
		return -1;
	if (!gen_serving(g))
		return READY_POLL_MS;
	m->serving = g->id;
	shm_begin(m->shm);
	m->shm->generation = g->id;
	m->shm->shutdown_ms = g->cf->shutdown_timeout_ms;
	shm_end(m->shm);
	log_notice("generation %u serving", g->id);
	for (o = g->older; o != NULL; o = o->older) {
		if (o->retired)
			continue;
		o->retired = true;
		log_info("generation %u draining", o->id);
		for (i = 0; i < o->nchildren; i++)
			if (o->children[i].pid != 0)
				kill(o->children[i].pid, SIGQUIT);
			else
				shm_store(&o->children[i].slot->state,
				    SHM_PROC_DRAINING);
	}
	reap(m);	/* a retired generation with no child left goes */
	return -1;
}

/* Record the outcome of a reload for proxyctl. */
static void
reload_outcome(struct master *m, bool ok, unsigned gen, const char *msg)
{
	shm_begin(m->shm);
	m->shm->reload_ok = ok;
	m->shm->reload_gen = gen;
	snprintf(m->shm->reload_msg, sizeof(m->shm->reload_msg), "%s", msg);
	m->shm->reloads++;
	shm_end(m->shm);
}

/* The changes of process-wide files a new configuration makes. */
static int
apply_files(const struct config *cf, const struct config *old, FILE *errfp)
{
	if (strcmp(cf->error_log, old->error_log) != 0 &&
	    log_open(cf->error_log) == -1) {
		fprintf(errfp, "%s: cannot open error log %s: %s\n", cf->file,
		    cf->error_log, strerror(errno));
		return -1;
	}
	if (strcmp(cf->pid_file, old->pid_file) != 0) {
		if (daemon_pidfile_write(cf->pid_file) == -1) {
			fprintf(errfp, "%s: cannot write pid file %s: %s\n",
			    cf->file, cf->pid_file, strerror(errno));
			if (strcmp(cf->error_log, old->error_log) != 0)
				(void)log_open(old->error_log);
			return -1;
		}
		(void)unlink(old->pid_file);
	}
	return 0;
}

/*
 * SIGHUP: load the file again.  Refused: log why, keep serving.
 * Accepted: start its generation; retire_older() does the rest.
 */
static void
reload(struct master *m)
{
	struct gen	*cur = m->gens;
	struct config	*cf;
	int		*fds = NULL;
	char		*errs = NULL, *line, *next;
	size_t		 len = 0;
	FILE		*errfp;

	log_notice("SIGHUP: reloading %s", cur->cf->file);
	if ((errfp = open_memstream(&errs, &len)) == NULL) {
		log_warn("reload");
		reload_outcome(m, false, 0, "out of memory");
		return;
	}
	cf = config_load(cur->cf->file, errfp);
	if (cf != NULL && (fds = listen_open(cf, cur->cf, cur->fds,
	    errfp)) == NULL) {
		config_free(cf);
		cf = NULL;
	}
	if (cf != NULL && apply_files(cf, cur->cf, errfp) == -1) {
		config_free(cf);
		cf = NULL;
	}
	if (cf != NULL) {
		daemon_raise_nofile(cf);
		if (gen_new(m, cf, fds, errfp) == NULL) {
			/* Sockets bound for it alone close again. */
			for (unsigned i = 0; i < cf->nlisteners; i++)
				if (!gen_has_fd(cur, fds[i]))
					close(fds[i]);
			free(fds);
			config_free(cf);
			cf = NULL;
		}
	}
	fclose(errfp);
	if (cf != NULL) {
		log_notice("reload accepted: generation %u starting",
		    m->gens->id);
		reload_outcome(m, true, m->gens->id, "accepted");
		free(errs);
		return;
	}
	for (line = errs; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		log_warnx("reload refused: %s", line);
	}
	if (errs != NULL && (next = strchr(errs, '\n')) != NULL)
		*next = '\0';
	reload_outcome(m, false, 0, errs != NULL && *errs != '\0' ? errs :
	    "the configuration is not valid");
	log_warnx("reload refused: generation %u keeps serving", cur->id);
	free(errs);
}

/*
 * Stopping: close the master's copies of the listening sockets, so that
 * they close once the workers have let go of theirs, and new connections
 * are refused instead of queued for nobody.
 */
static void
close_listeners(struct master *m)
{
	struct gen	*g, *o;
	unsigned	 i;

	for (g = m->gens; g != NULL; g = g->older)
		for (i = 0; i < g->cf->nlisteners; i++) {
			int fd = g->fds[i];

			if (fd == -1)
				continue;
			for (o = m->gens; o != NULL; o = o->older)
				for (unsigned j = 0; j < o->cf->nlisteners; j++)
					if (o->fds[j] == fd)
						o->fds[j] = -1;
			close(fd);
		}
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
		shm_store(&m->shm->stopping, 1);
		signal_children(m, SIGTERM);
		close_listeners(m);
		break;
	case SIGQUIT:
		log_notice("SIGQUIT: stopping gracefully");
		m->stopping = SIGQUIT;
		shm_store(&m->shm->stopping, 1);
		signal_children(m, SIGQUIT);
		close_listeners(m);
		break;
	case SIGUSR1:
		if (log_reopen() == -1)
			log_warn("cannot reopen the error log");
		signal_children(m, SIGUSR1);
		break;
	case SIGHUP:
		if (!m->stopping)
			reload(m);
		break;
	}
}

/* proc_run(): see proc.h. */
int
proc_run(struct config *cf, int *fds, struct shm *shm)
{
	struct master		 m;
	struct signalfd_siginfo	 si;
	struct pollfd		 pfd;
	uint64_t		 kill_at = 0;
	int			 timeout, ready;
	char			*pid_file;

	memset(&m, 0, sizeof(m));
	m.shm = shm;
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
	snprintf(shm->conf_file, sizeof(shm->conf_file), "%s", cf->file);
	if (gen_new(&m, cf, fds, stderr) == NULL)
		fatalx("cannot start generation 1");
	for (;;) {
		timeout = respawn_due(&m);
		ready = retire_older(&m);
		if (ready != -1 && (timeout == -1 || ready < timeout))
			timeout = ready;
		ready = m.gens == NULL ? -1 :
		    tickets_rotate(m.gens->cf->ticket_key_lifetime_ms);
		if (ready != -1 && (timeout == -1 || ready < timeout))
			timeout = ready;
		if (m.stopping) {
			if (running_all(&m) == 0)
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
	close(m.sigfd);
	pid_file = strdup(m.gens->cf->pid_file);
	while (m.gens != NULL) {
		m.gens->retired = true;
		gen_free(&m, m.gens);
	}
	if (pid_file != NULL)
		(void)unlink(pid_file);
	free(pid_file);
	log_info("stopped");
	return 0;
}
