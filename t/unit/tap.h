/*
 * tap.h: a tiny Test Anything Protocol helper for the C unit tests.
 *
 *	plan(n);		optional: "1..n" first (else done() prints it)
 *	ok(cond, fmt, ...);	"ok N - ..." or "not ok N - ..."
 *	is_int(got, want, fmt, ...);
 *	is_str(got, want, fmt, ...);
 *	diag(fmt, ...);		"# ..." lines
 *	return done();		0 when every test passed and the plan held
 *
 * Everything is static inline, state included, so that any number of
 * tests may include it without clashing with each other or with common/.
 */
#ifndef TAP_H
#define TAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

struct tap_state {
	int	planned;	/* -1: no plan yet */
	int	run;
	int	failed;
};

static inline struct tap_state *
tap_state(void)
{
	static struct tap_state	s = { -1, 0, 0 };

	return &s;
}

static inline void
plan(int n)
{
	tap_state()->planned = n;
	printf("1..%d\n", n);
	fflush(stdout);
}

static inline void
tap_vok(bool cond, const char *fmt, va_list ap)
{
	struct tap_state	*s = tap_state();

	s->run++;
	if (!cond)
		s->failed++;
	printf("%sok %d - ", cond ? "" : "not ", s->run);
	vprintf(fmt, ap);
	putchar('\n');
	fflush(stdout);
}

static inline void diag(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static inline void
diag(const char *fmt, ...)
{
	va_list	ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static inline bool ok(bool cond, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ok(): one test; returns cond so a caller can add a diag(). */
static inline bool
ok(bool cond, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	tap_vok(cond, fmt, ap);
	va_end(ap);
	return cond;
}

static inline bool is_int(long long got, long long want, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));

/* is_int(): got == want, both printed when not. */
static inline bool
is_int(long long got, long long want, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	tap_vok(got == want, fmt, ap);
	va_end(ap);
	if (got != want)
		diag("     got: %lld\n#   wanted: %lld", got, want);
	return got == want;
}

static inline bool is_str(const char *got, const char *want,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* is_str(): the same strings (NULL equals only NULL). */
static inline bool
is_str(const char *got, const char *want, const char *fmt, ...)
{
	va_list	ap;
	bool	same;

	same = got == want || (got != NULL && want != NULL &&
	    strcmp(got, want) == 0);
	va_start(ap, fmt);
	tap_vok(same, fmt, ap);
	va_end(ap);
	if (!same)
		diag("     got: '%s'\n#   wanted: '%s'", got ? got : "(null)",
		    want ? want : "(null)");
	return same;
}

/* done(): the trailing plan if none was given; the exit status. */
static inline int
done(void)
{
	struct tap_state	*s = tap_state();

	if (s->planned < 0)
		printf("1..%d\n", s->run);
	else if (s->planned != s->run) {
		diag("planned %d tests but ran %d", s->planned, s->run);
		return 1;
	}
	if (s->failed > 0)
		diag("failed %d of %d tests", s->failed, s->run);
	return s->failed > 0 ? 1 : 0;
}

#endif /* TAP_H */
