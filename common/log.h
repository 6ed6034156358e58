/*
 * log.h: the error log, shared by the master and the workers.
 *
 * One event is one line:
 *   2026-11-22T10:00:00Z [warn] 1234: client 1.2.3.4:5678: upstream ... 
 * log_warn() appends strerror(errno), log_warnx() does not; fatal() and
 * fatalx() log and exit(1) (master and start-up only: a worker that meets
 * an error on one connection closes that connection, never the process).
 *
 * Lines are written with one write(2) to a file opened O_APPEND, so the
 * lines of several processes never interleave.
 */
#ifndef LOG_H
#define LOG_H

#include <stdarg.h>

#include "pt.h"

enum log_level { LOG_ERR, LOG_WARN, LOG_NOTICE, LOG_INFO, LOG_DEBUG };

/*
 * log_open(): send the log to path ("stderr" for standard error).
 * Returns 0, or -1 with errno set; the previous destination stays.
 */
int	log_open(const char *path);

/* log_reopen(): reopen the same path (after logrotate moved it). */
int	log_reopen(void);

/* log_set_level(): lines above level are dropped (default LOG_INFO). */
void	log_set_level(enum log_level level);

void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif /* LOG_H */
