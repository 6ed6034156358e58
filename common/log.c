/*
 * log.c: the error log.  See log.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static int		 log_fd = STDERR_FILENO;
static char		*log_path;	/* NULL: standard error */
static enum log_level	 log_max = LOG_INFO;

static const char *const level_names[] = {
	"error", "warn", "notice", "info", "debug"
};

/* log_open(): see log.h. */
int
log_open(const char *path)
{
	int	 fd;
	char	*copy;

	if (strcmp(path, "stderr") == 0) {
		if (log_fd != STDERR_FILENO)
			close(log_fd);
		log_fd = STDERR_FILENO;
		free(log_path);
		log_path = NULL;
		return 0;
	}
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd == -1)
		return -1;
	if ((copy = strdup(path)) == NULL) {
		close(fd);
		return -1;
	}
	if (log_fd != STDERR_FILENO)
		close(log_fd);
	log_fd = fd;
	free(log_path);
	log_path = copy;
	return 0;
}

/* log_reopen(): see log.h. */
int
log_reopen(void)
{
	char	*path;
	int	 rc;

	if (log_path == NULL)
		return 0;
	/* log_open() frees log_path when it succeeds: keep our own copy. */
	if ((path = strdup(log_path)) == NULL)
		return -1;
	rc = log_open(path);
	free(path);
	return rc;
}

/* log_set_level(): see log.h. */
void
log_set_level(enum log_level level)
{
	log_max = level;
}

/*
 * Format one line and write it at once.  Lines longer than the buffer are
 * cut: a log line is for a person, and one huge line is worse than a cut.
 */
static void
vlog(enum log_level level, int with_errno, const char *fmt, va_list ap)
{
	char		 line[2048];
	int		 saved = errno;
	size_t		 n;
	int		 r;
	time_t		 now;
	struct tm	 tm;

	if (level > log_max)
		return;
	now = time(NULL);
	gmtime_r(&now, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%SZ", &tm);
	r = snprintf(line + n, sizeof(line) - n, " [%s] %ld: ",
	    level_names[level], (long)getpid());
	if (r > 0)
		n = pt_min(n + (size_t)r, sizeof(line) - 1);
	r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	if (r > 0)
		n = pt_min(n + (size_t)r, sizeof(line) - 1);
	if (with_errno) {
		r = snprintf(line + n, sizeof(line) - n, ": %s",
		    strerror(saved));
		if (r > 0)
			n = pt_min(n + (size_t)r, sizeof(line) - 1);
	}
	line[n++] = '\n';
	/* Nothing sensible to do when the log itself cannot be written. */
	if (write(log_fd, line, n) == -1)
		(void)0;
	errno = saved;
}

#define LOG_FN(name, level, with_errno)			\
void								\
name(const char *fmt, ...)					\
{								\
	va_list ap;						\
	va_start(ap, fmt);					\
	vlog(level, with_errno, fmt, ap);			\
	va_end(ap);						\
}

LOG_FN(log_warn, LOG_WARN, 1)
LOG_FN(log_warnx, LOG_WARN, 0)
LOG_FN(log_notice, LOG_NOTICE, 0)
LOG_FN(log_info, LOG_INFO, 0)
LOG_FN(log_debug, LOG_DEBUG, 0)

/* fatal(): log with strerror(errno) and exit. */
void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_ERR, 1, fmt, ap);
	va_end(ap);
	exit(1);
}

/* fatalx(): log and exit. */
void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_ERR, 0, fmt, ap);
	va_end(ap);
	exit(1);
}
