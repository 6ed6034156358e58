/*
 * config.c: the configuration file, read with libconfig and checked
 * against the tables below.  See config.h.
 *
 * Each group of the file ({ ... }) has a table of its settings: name,
 * kind, default (written as it would be in the file), range, and where the
 * value goes in the struct.  One walker reads every group through its
 * table, so that adding a setting is one line; the same tables fill in
 * the defaults, free the tree, suggest "did you mean", and list the names
 * that the man page test looks for.
 *
 * An error never stops the walk: each is printed as "file:line: message"
 * and counted, and config_load() fails once at the end, so that a user
 * fixes the whole file in one go.
 */
#include <sys/types.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libconfig.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"

#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR	"/usr/local/var"
#endif

#define DUR_MAX		(24ULL * 86400 * 1000)	/* 24 days: fits an int */
#define KB		1024ULL
#define MB		(1024ULL * KB)
#define GB		(1024ULL * MB)
#define TB		(1024ULL * GB)

enum kind {
	K_NUM,		/* a number, min..max */
	K_DURATION,	/* "10s", or a number of seconds; stored in ms */
	K_SIZE,		/* "16K", or a number of bytes */
	K_BOOL,		/* true or false */
	K_STR,		/* a string; fn, if any, then checks or converts it */
	K_STRV,		/* [ "a", ... ]: char ** at off, unsigned at cnt */
	K_GROUP,	/* { ... }: in place, or a pointer with S_ALLOC */
	K_LIST,		/* ( { ... }, ... ): array at off, unsigned at cnt */
	K_CUSTOM,	/* fn does it all */
};

#define S_REQUIRED	0x01
#define S_EMPTY_OK	0x02	/* a string may be "" */
#define S_ALLOC		0x04	/* K_GROUP: a pointer, NULL when absent */

/* A value from the file, or a default from a table, for the setters. */
struct val {
	int			 type;	/* CONFIG_TYPE_INT, _STRING, ... */
	long long		 i;	/* numbers and booleans */
	const char		*s;
	config_setting_t	*cs;	/* NULL for a default */
};

struct loader;
struct setting;
typedef void (*set_fn)(struct loader *, const struct setting *,
    const struct val *, void *);

/*
 * One setting of a table.  Its default goes through the same setter as a
 * value from the file, so that a default is checked like anything else.
 * fn: for K_STR, called once the copy is stored, to check or convert it;
 * for K_STRV, once the array is stored; for K_CUSTOM, it does it all.
 * Setters get the struct of the whole group (obj), not only the field, so
 * that a check can look at the other settings of the group.
 */
struct setting {
	const char	*name;
	enum kind	 kind;
	const char	*def;		/* as in the file; NULL: none */
	uint64_t	 min, max;	/* numbers, ms, bytes */
	size_t		 off;		/* of the field in the group's struct */
	size_t		 width;		/* sizeof the field, for numbers */
	size_t		 cnt;		/* K_STRV, K_LIST: offset of count */
	int		 flags;
	set_fn		 fn;
	const struct table *sub;	/* K_GROUP, K_LIST */
};

/*
 * The settings of one kind of group, and what the walker needs to know
 * of its struct.  check runs after the group is read, for the rules that
 * tie its settings together (a route has an upstream or a return).
 */
struct table {
	const char	*what;		/* "upstream" in messages; NULL: top */
	size_t		 size;		/* of its struct */
	ptrdiff_t	 line_off;	/* of its int line, or -1 */
	ptrdiff_t	 key_off;	/* of the char * naming it, or -1 */
	const struct setting *settings;
	size_t		 nsettings;
	void		(*check)(struct loader *, void *);	/* at the end */
};

/* A route's upstream, looked up once every upstream is known. */
struct pending {
	struct config_route	*route;
	char			*name;
	const char		*file;
	int			 line;
};

/* An @include'd file, as written and as found (beside the main file). */
struct included {
	const char	*name;		/* owned by libconfig */
	char		*path;
};

/* The state of one config_load(): the tree, the place, the count. */
struct loader {
	struct config	*cf;
	FILE		*errfp;
	const char	*file;		/* where the value being read is */
	int		 line;
	unsigned	 nerrors;
	struct pending	*pending;
	size_t		 npending, maxpending;
	const config_setting_t *root;	/* of the file */
	char		*dir;		/* of the main file; NULL: "." */
	struct included	 included[16];
	size_t		 nincluded;
};

static void	errorf(struct loader *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

/*
 * The tables, in the order of the file and of man/portico.conf.5.  The
 * macros take the field of T, the struct of the table being written.
 */
#define F(f)		.off = offsetof(T, f), .width = sizeof(((T *)0)->f)
#define NUM(n, f, d, lo, hi) \
	{ .name = n, .kind = K_NUM, .def = d, .min = lo, .max = hi, F(f) }
#define DUR(n, f, d, lo, hi) \
	{ .name = n, .kind = K_DURATION, .def = d, .min = lo, .max = hi, F(f) }
#define SIZE(n, f, d, lo, hi) \
	{ .name = n, .kind = K_SIZE, .def = d, .min = lo, .max = hi, F(f) }
#define BOOL(n, f, d) \
	{ .name = n, .kind = K_BOOL, .def = d, F(f) }
#define STR(n, f, d, fl, fn_) \
	{ .name = n, .kind = K_STR, .def = d, .flags = fl, .fn = fn_, F(f) }
#define STRV(n, f, c, fl, fn_) \
	{ .name = n, .kind = K_STRV, .cnt = offsetof(T, c), .flags = fl, \
	  .fn = fn_, F(f) }
#define GROUP(n, f, fl, g) \
	{ .name = n, .kind = K_GROUP, .flags = fl, .sub = &g, F(f) }
#define LIST(n, f, c, fl, g) \
	{ .name = n, .kind = K_LIST, .cnt = offsetof(T, c), .flags = fl, \
	  .sub = &g, F(f) }
#define CUSTOM(n, f, d, lo, hi, fn_) \
	{ .name = n, .kind = K_CUSTOM, .def = d, .min = lo, .max = hi, \
	  .fn = fn_, F(f) }
#define TABLE(t)	.settings = t, .nsettings = PT_NELEM(t)

/* The setters and checks of the tables, below them. */
#define SETTER(fn) static void fn(struct loader *, const struct setting *, \
	    const struct val *, void *)
SETTER(set_workers);
SETTER(check_user);
SETTER(check_group);
SETTER(check_format);
SETTER(check_readable);
SETTER(check_uri_path);
SETTER(check_header_value);
SETTER(set_listener_address);
SETTER(set_server_address);
SETTER(check_upstream_name);
SETTER(set_balance);
SETTER(check_hosts);
SETTER(check_route_path);
SETTER(set_route_upstream);
static void	end_top(struct loader *, void *);
static void	end_upstream(struct loader *, void *);
static void	end_health(struct loader *, void *);
static void	end_site(struct loader *, void *);
static void	end_route(struct loader *, void *);
static void	end_return(struct loader *, void *);

static const struct table proxy_headers_group, access_log_group, cache_group,
    listener_group, tls_group, cert_group, upstream_group, server_group,
    health_group, site_group, route_group, return_group;

/*
 * The top level: the processes, then the limits and timeouts of the
 * client side.  Timeouts that 0 would make useless start at 1ms; 0 keeps
 * a meaning where it has one (no keep-alive, stop at once).
 */
#define T struct config
static const struct setting top_settings[] = {
	CUSTOM("workers", workers, "auto", 1, 256, set_workers),
	STR("user", user, NULL, 0, check_user),
	STR("group", group, NULL, 0, check_group),
	STR("pid_file", pid_file, LOCALSTATEDIR "/run/portico.pid", 0, NULL),
	STR("error_log", error_log, LOCALSTATEDIR "/log/portico/error.log",
	    0, NULL),
	DUR("shutdown_timeout", shutdown_timeout_ms, "30s", 0, DUR_MAX),
	NUM("max_connections", max_connections, "10000", 1, 1000000),
	NUM("max_upstream_connections", max_upstream_connections, "8192",
	    1, 1000000),
	DUR("client_header_timeout", client_header_timeout_ms, "10s",
	    1, DUR_MAX),
	DUR("client_body_timeout", client_body_timeout_ms, "30s", 1, DUR_MAX),
	DUR("keepalive_timeout", keepalive_timeout_ms, "75s", 0, DUR_MAX),
	DUR("send_timeout", send_timeout_ms, "60s", 1, DUR_MAX),
	DUR("tunnel_timeout", tunnel_timeout_ms, "1h", 1, DUR_MAX),
	NUM("keepalive_requests", keepalive_requests, "10000", 0, UINT32_MAX),
	SIZE("max_request_line", max_request_line, "8K", 256, MB),
	SIZE("max_header_size", max_header_size, "32K", KB, MB),
	NUM("max_headers", max_headers, "100", 1, 1000),
	SIZE("max_body_size", max_body_size, "64M", 0, TB),
	SIZE("buffer_size", buffer_size, "32K", 4 * KB, MB),
	GROUP("access_log", access_log, 0, access_log_group),
	GROUP("cache", cache, 0, cache_group),
	GROUP("proxy_headers", proxy_headers, 0, proxy_headers_group),
	LIST("listeners", listeners, nlisteners, S_REQUIRED, listener_group),
	LIST("upstreams", upstreams, nupstreams, 0, upstream_group),
	LIST("sites", sites, nsites, S_REQUIRED, site_group),
};
static const struct table top_group = {
	NULL, sizeof(T), -1, -1, TABLE(top_settings), end_top
};
#undef T

/* access_log = { ... }: absent, no access log (path stays NULL). */
#define T struct config_access_log
static const struct setting access_log_settings[] = {
	STR("path", path, NULL, S_REQUIRED, NULL),
	STR("format", format, "combined", 0, check_format),
	SIZE("buffer", buffer, "64K", 4 * KB, 64 * MB),
	DUR("flush", flush_ms, "1s", 1, DUR_MAX),
};
static const struct table access_log_group = {
	"access_log", sizeof(T), -1, -1, TABLE(access_log_settings), NULL
};
#undef T

/* cache = { ... }: absent, no cache (path stays NULL). */
#define T struct config_cache
static const struct setting cache_settings[] = {
	STR("path", path, NULL, S_REQUIRED, NULL),
	SIZE("size", size, "256M", MB, 16 * TB),
};
static const struct table cache_group = {
	"cache", sizeof(T), -1, -1, TABLE(cache_settings), NULL
};
#undef T

/* proxy_headers = { ... }: what the origin is told of the client. */
#define T struct config_proxy_headers
static const struct setting proxy_headers_settings[] = {
	BOOL("x_forwarded_for", x_forwarded_for, "true"),
	BOOL("x_forwarded_proto", x_forwarded_proto, "true"),
	BOOL("x_forwarded_host", x_forwarded_host, "true"),
	BOOL("via", via, "true"),
};
static const struct table proxy_headers_group = {
	"proxy_headers", sizeof(T), -1, -1, TABLE(proxy_headers_settings), NULL
};
#undef T

/* listeners = ( { ... } ): at least one; tls absent is plain HTTP. */
#define T struct config_listener
static const struct setting listener_settings[] = {
	STR("address", address, NULL, S_REQUIRED, set_listener_address),
	NUM("backlog", backlog, "511", 1, 65535),
	GROUP("tls", tls, S_ALLOC, tls_group),
};
static const struct table listener_group = {
	"listener", sizeof(T), offsetof(T, line), offsetof(T, address),
	TABLE(listener_settings), NULL
};
#undef T

/* tls = { ... }: a pointer in the listener, NULL without it. */
#define T struct config_tls
static const struct setting tls_settings[] = {
	LIST("certificates", certs, ncerts, S_REQUIRED, cert_group),
};
static const struct table tls_group = {
	"tls", sizeof(T), offsetof(T, line), -1, TABLE(tls_settings), NULL
};
#undef T

/* The files are only checked readable here; TLS loads them later. */
#define T struct config_tls_cert
static const struct setting cert_settings[] = {
	STR("certificate", certificate, NULL, S_REQUIRED, check_readable),
	STR("key", key, NULL, S_REQUIRED, check_readable),
};
static const struct table cert_group = {
	"certificate", sizeof(T), offsetof(T, line), -1, TABLE(cert_settings),
	NULL
};
#undef T

/* upstreams = ( { ... } ): the groups of origin servers. */
#define T struct config_upstream
static const struct setting upstream_settings[] = {
	STR("name", name, NULL, S_REQUIRED, check_upstream_name),
	CUSTOM("balance", balance, "round_robin", 0, 0, set_balance),
	NUM("keepalive", keepalive, "32", 0, 4096),
	DUR("keepalive_timeout", keepalive_timeout_ms, "60s", 1, DUR_MAX),
	DUR("connect_timeout", connect_timeout_ms, "5s", 1, DUR_MAX),
	DUR("read_timeout", read_timeout_ms, "60s", 1, DUR_MAX),
	DUR("write_timeout", write_timeout_ms, "60s", 1, DUR_MAX),
	LIST("servers", servers, nservers, S_REQUIRED, server_group),
	GROUP("health", health, 0, health_group),
};
static const struct table upstream_group = {
	"upstream", sizeof(T), offsetof(T, line), offsetof(T, name),
	TABLE(upstream_settings), end_upstream
};
#undef T

/* servers = ( { ... } ): at least one per upstream. */
#define T struct config_server
static const struct setting server_settings[] = {
	STR("address", address, NULL, S_REQUIRED, set_server_address),
	NUM("weight", weight, "1", 1, 256),
	BOOL("backup", backup, "false"),
	NUM("max_conns", max_conns, "0", 0, 1000000),
};
static const struct table server_group = {
	"server", sizeof(T), offsetof(T, line), offsetof(T, address),
	TABLE(server_settings), NULL
};
#undef T

/* health = { ... }: for the checker; defaults even when absent. */
#define T struct config_health
static const struct setting health_settings[] = {
	STR("path", path, "/", 0, check_uri_path),
	DUR("interval", interval_ms, "2s", 100, DUR_MAX),
	DUR("timeout", timeout_ms, "1s", 1, DUR_MAX),
	NUM("rise", rise, "2", 1, 100),
	NUM("fall", fall, "3", 1, 100),
};
static const struct table health_group = {
	"health", sizeof(T), -1, -1, TABLE(health_settings), end_health
};
#undef T

/* sites = ( { ... } ): virtual hosts, picked by the Host header. */
#define T struct config_site
static const struct setting site_settings[] = {
	STRV("hosts", hosts, nhosts, S_REQUIRED, check_hosts),
	LIST("routes", routes, nroutes, S_REQUIRED, route_group),
};
static const struct table site_group = {
	"site", sizeof(T), offsetof(T, line), -1, TABLE(site_settings),
	end_site
};
#undef T

/* routes = ( { ... } ): by path prefix, in order; upstream or return. */
#define T struct config_route
static const struct setting route_settings[] = {
	STR("path", path, NULL, S_REQUIRED, check_route_path),
	CUSTOM("upstream", upstream, NULL, 0, 0, set_route_upstream),
	BOOL("cache", cache, "false"),
	GROUP("return", ret, S_ALLOC, return_group),
};
static const struct table route_group = {
	"route", sizeof(T), offsetof(T, line), offsetof(T, path),
	TABLE(route_settings), end_route
};
#undef T

/* return = { ... }: an answer of our own, without an origin. */
#define T struct config_return
static const struct setting return_settings[] = {
	{ .name = "status", .kind = K_NUM, .min = 100, .max = 599,
	  .flags = S_REQUIRED, F(status) },
	STR("body", body, "", S_EMPTY_OK, NULL),
	STR("content_type", content_type, "text/plain", 0, check_header_value),
	STR("location", location, NULL, 0, check_header_value),
};
static const struct table return_group = {
	"return", sizeof(T), -1, -1, TABLE(return_settings), end_return
};
#undef T

/* ---------------------------------------------------------- messages -- */

/* One error, at the place of the value being read; counted, not fatal. */
static void
errorf(struct loader *ld, const char *fmt, ...)
{
	va_list	ap;

	fprintf(ld->errfp, "%s:%d: ", ld->file, ld->line);
	va_start(ap, fmt);
	vfprintf(ld->errfp, fmt, ap);
	va_end(ap);
	fputc('\n', ld->errfp);
	ld->nerrors++;
}

/*
 * The name of a file for messages.  libconfig gives an @include'd file as
 * written, relative to the main file's directory: prefix that directory,
 * so that the name opens from where the user is.
 */
static const char *
file_name(struct loader *ld, const char *file)
{
	struct included	*inc;
	size_t		 i, len;

	if (file == NULL)
		return ld->cf->file;
	if (file[0] == '/' || ld->dir == NULL ||
	    strcmp(file, ld->cf->file) == 0)
		return file;
	for (i = 0; i < ld->nincluded; i++)
		if (strcmp(ld->included[i].name, file) == 0)
			return ld->included[i].path;
	if (ld->nincluded == PT_NELEM(ld->included))
		return file;
	inc = &ld->included[ld->nincluded];
	len = strlen(ld->dir) + 1 + strlen(file) + 1;
	if ((inc->path = malloc(len)) == NULL)
		return file;
	snprintf(inc->path, len, "%s/%s", ld->dir, file);
	inc->name = file;
	ld->nincluded++;
	return inc->path;
}

/* Make cs the place that errorf() names.  An @include'd file is its own. */
static void
place(struct loader *ld, const config_setting_t *cs)
{
	ld->file = file_name(ld, config_setting_source_file(cs));
	ld->line = config_setting_source_line(cs);
	if (ld->line < 1)
		ld->line = 1;
}

/* "upstream 'app'", "route '/x'", or "site": who an error is about. */
static const char *
label(const struct table *g, const void *obj, char *buf, size_t size)
{
	const char	*key = NULL;

	if (g->key_off >= 0)
		key = *(char *const *)((const char *)obj + g->key_off);
	if (key != NULL)
		snprintf(buf, size, "%s '%s'", g->what, key);
	else
		snprintf(buf, size, "%s", g->what);
	return buf;
}

/* A required setting not given, or a required list given empty. */
static void
missing(struct loader *ld, const struct table *g, const struct setting *s,
    const void *obj)
{
	char	buf[256];

	if (s->kind == K_LIST || s->kind == K_STRV) {
		if (g->what == NULL)
			errorf(ld, "no %s: at least one is required", s->name);
		else
			errorf(ld, "%s: no %s", label(g, obj, buf,
			    sizeof(buf)), s->name);
	} else if (g->what == NULL)
		errorf(ld, "missing '%s'", s->name);
	else
		errorf(ld, "%s: missing '%s'", label(g, obj, buf, sizeof(buf)),
		    s->name);
}

/* Levenshtein distance, for "did you mean"; long names are never close. */
static size_t
distance(const char *a, const char *b)
{
	size_t	 row[64], i, j, la = strlen(a), lb = strlen(b), diag, up;

	if (lb >= PT_NELEM(row) || la >= PT_NELEM(row))
		return SIZE_MAX;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		diag = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			up = row[j];
			row[j] = pt_min(pt_min(row[j] + 1, row[j - 1] + 1),
			    diag + (a[i - 1] != b[j - 1]));
			diag = up;
		}
	}
	return row[lb];
}

/* Suggest the closest name, when it is close for the length typed. */
static const char *
closest(const char *name, const char *const *names, size_t n)
{
	const char	*best = NULL;
	size_t		 i, d, bestd = SIZE_MAX;

	for (i = 0; i < n; i++) {
		if ((d = distance(name, names[i])) < bestd) {
			bestd = d;
			best = names[i];
		}
	}
	return bestd <= (strlen(name) + 2) / 3 ? best : NULL;
}

/* Only the names of this group are candidates: a suggestion the user
   cannot write here would be no help. */
static void
unknown(struct loader *ld, const struct table *g, const char *name)
{
	const char	*names[32], *best;
	size_t		 i, n = pt_min(g->nsettings, PT_NELEM(names));

	for (i = 0; i < n; i++)
		names[i] = g->settings[i].name;
	if ((best = closest(name, names, n)) != NULL)
		errorf(ld, "unknown setting '%s' (did you mean '%s'?)", name,
		    best);
	else
		errorf(ld, "unknown setting '%s'", name);
}

/* "24d", "1h", "500ms": a duration as a user would write it. */
static const struct unit {
	const char	*name;
	uint64_t	 mult;
} duration_units[] = {
	{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
	{ "d", 86400000 },
}, size_units[] = {
	{ "K", KB }, { "M", MB }, { "G", GB }, { "T", TB },
};

/* v in the largest unit that divides it exactly; "one" names the base. */
static const char *
fmt_units(uint64_t v, const struct unit *u, size_t n, const char *one,
    char *buf, size_t size)
{
	while (n-- > 0) {
		if (v != 0 && v % u[n].mult == 0) {
			snprintf(buf, size, "%llu%s",
			    (unsigned long long)(v / u[n].mult), u[n].name);
			return buf;
		}
	}
	snprintf(buf, size, "%llu%s", (unsigned long long)v, one);
	return buf;
}

/* ---------------------------------------------------- values by kind -- */

static void
store_uint(void *field, size_t width, uint64_t v)
{
	uint32_t	v32 = (uint32_t)v;

	/* Every number field is 32 or 64 bits wide (unsigned, uint32_t,
	   uint64_t, size_t); the ranges in the tables keep v in it. */
	if (width == sizeof(uint64_t))
		memcpy(field, &v, sizeof(v));
	else
		memcpy(field, &v32, sizeof(v32));
}

/* A number in min..max.  A string is refused, not converted: "32" for
   32 is a slip worth saying, and quoting is not needed. */
static void
set_num(struct loader *ld, const struct setting *s, const struct val *v,
    void *field)
{
	if (v->type != CONFIG_TYPE_INT && v->type != CONFIG_TYPE_INT64) {
		errorf(ld, "'%s' must be a number", s->name);
		return;
	}
	if (v->i < 0 || (uint64_t)v->i < s->min || (uint64_t)v->i > s->max) {
		errorf(ld, "'%s' must be between %llu and %llu", s->name,
		    (unsigned long long)s->min, (unsigned long long)s->max);
		return;
	}
	store_uint(field, s->width, (uint64_t)v->i);
}

/* Durations and sizes: a string with a unit, or a plain number. */
static void
set_amount(struct loader *ld, const struct setting *s, const struct val *v,
    void *field)
{
	int		 dur = s->kind == K_DURATION;
	const char	*text, *why, *what = dur ? "duration" : "size";
	char		 num[32], lo[32], hi[32];
	uint64_t	 x;
	uint32_t	 ms;
	int		 rc;

	/* A number goes through the parser as text: one set of rules for
	   both spellings, negatives included. */
	if (v->type == CONFIG_TYPE_INT || v->type == CONFIG_TYPE_INT64) {
		snprintf(num, sizeof(num), "%lld", v->i);
		text = num;
	} else if (v->type == CONFIG_TYPE_STRING)
		text = v->s;
	else {
		errorf(ld, "'%s' must be a %s such as \"%s\"", s->name, what,
		    dur ? "10s" : "16K");
		return;
	}
	if (dur) {
		rc = config_parse_duration(text, &ms, &why);
		x = ms;
	} else
		rc = config_parse_size(text, &x, &why);
	if (rc == -1) {
		errorf(ld, "'%s': bad %s \"%s\": %s", s->name, what, text, why);
		return;
	}
	if (x < s->min || x > s->max) {
		if (dur)
			errorf(ld, "'%s' must be between %s and %s", s->name,
			    fmt_units(s->min, duration_units,
			    PT_NELEM(duration_units), "s", lo, sizeof(lo)),
			    fmt_units(s->max, duration_units,
			    PT_NELEM(duration_units), "ms", hi, sizeof(hi)));
		else
			errorf(ld, "'%s' must be between %s and %s", s->name,
			    fmt_units(s->min, size_units, PT_NELEM(size_units),
			    "", lo, sizeof(lo)), fmt_units(s->max, size_units,
			    PT_NELEM(size_units), "", hi, sizeof(hi)));
		return;
	}
	store_uint(field, s->width, x);
}

/* A copy of the string, which the tree owns; then the table's check. */
static void
set_string(struct loader *ld, const struct setting *s, const struct val *v,
    void *obj)
{
	char	**field = (char **)((char *)obj + s->off), *copy;

	if (v->type != CONFIG_TYPE_STRING) {
		errorf(ld, "'%s' must be a string", s->name);
		return;
	}
	if (*v->s == '\0' && !(s->flags & S_EMPTY_OK)) {
		errorf(ld, "'%s' must not be empty", s->name);
		return;
	}
	if ((copy = strdup(v->s)) == NULL) {
		errorf(ld, "out of memory");
		return;
	}
	free(*field);		/* the default it replaces */
	*field = copy;
	if (s->fn != NULL)
		s->fn(ld, s, v, obj);
}

/* [ "a", "b" ], ( "a", "b" ) or a single "a". */
static void
set_strings(struct loader *ld, const struct setting *s, const struct val *v,
    void *obj)
{
	char		***field = (char ***)((char *)obj + s->off);
	unsigned	*count = (unsigned *)((char *)obj + s->cnt);
	const char	*str;
	int		 i, n = 1;

	if (v->type == CONFIG_TYPE_ARRAY || v->type == CONFIG_TYPE_LIST)
		n = config_setting_length(v->cs);
	else if (v->type != CONFIG_TYPE_STRING)
		n = -1;
	for (i = 0; i < n && v->type != CONFIG_TYPE_STRING; i++)
		if (config_setting_type(config_setting_get_elem(v->cs,
		    (unsigned)i)) != CONFIG_TYPE_STRING)
			n = -1;
	if (n == -1) {
		errorf(ld, "'%s' must be an array of strings: [ \"a\", ... ]",
		    s->name);
		return;
	}
	if ((*field = calloc((size_t)n + 1, sizeof(char *))) == NULL) {
		errorf(ld, "out of memory");
		return;
	}
	for (i = 0; i < n; i++) {
		str = v->type == CONFIG_TYPE_STRING ? v->s :
		    config_setting_get_string_elem(v->cs, (unsigned)i);
		if (((*field)[i] = strdup(str)) == NULL) {
			errorf(ld, "out of memory");
			return;
		}
		*count = (unsigned)i + 1;
	}
	if (n == 0 && (s->flags & S_REQUIRED))
		return;		/* the walker says it is missing */
	if (s->fn != NULL)
		s->fn(ld, s, v, obj);
}

static void	apply_defaults(struct loader *, const struct table *, void *);
static void	walk(struct loader *, const struct table *,
		    const config_setting_t *, void *);

/*
 * A group in place in its parent's struct, its defaults already there; or,
 * with S_ALLOC, a struct of its own whose pointer says that the group was
 * given (tls, return).
 */
static void
set_group(struct loader *ld, const struct setting *s, const struct val *v,
    void *obj)
{
	void	*field = (char *)obj + s->off, *sub;

	if (v->type != CONFIG_TYPE_GROUP) {
		errorf(ld, "'%s' must be a group: { ... }", s->name);
		return;
	}
	if (s->flags & S_ALLOC) {
		if ((sub = calloc(1, s->sub->size)) == NULL) {
			errorf(ld, "out of memory");
			return;
		}
		*(void **)field = sub;
		apply_defaults(ld, s->sub, sub);
		if (s->sub->line_off >= 0)
			*(int *)((char *)sub + s->sub->line_off) = ld->line;
	} else
		sub = field;
	walk(ld, s->sub, v->cs, sub);
}

/* A list of groups: one array, each element read through the table. */
static void
set_list(struct loader *ld, const struct setting *s, const struct val *v,
    void *obj)
{
	const struct table	*g = s->sub;
	config_setting_t	*elem;
	void			**field = (void **)((char *)obj + s->off);
	char			*arr, *e;
	unsigned		 i, n;

	if (v->type != CONFIG_TYPE_LIST) {
		errorf(ld, "'%s' must be a list of groups: ( { ... }, ... )",
		    s->name);
		return;
	}
	if ((n = (unsigned)config_setting_length(v->cs)) == 0)
		return;		/* the walker says it is missing */
	if ((arr = calloc(n, g->size)) == NULL) {
		errorf(ld, "out of memory");
		return;
	}
	/* In place before the walk: a setter may look at the elements
	   before its own (duplicate names and addresses). */
	*field = arr;
	*(unsigned *)((char *)obj + s->cnt) = n;
	for (i = 0; i < n; i++) {
		e = arr + (size_t)i * g->size;
		elem = config_setting_get_elem(v->cs, i);
		place(ld, elem);
		apply_defaults(ld, g, e);
		if (g->line_off >= 0)
			*(int *)(e + g->line_off) = ld->line;
		if (config_setting_type(elem) != CONFIG_TYPE_GROUP) {
			errorf(ld, "'%s' must be a list of groups: "
			    "( { ... }, ... )", s->name);
			continue;
		}
		walk(ld, g, elem, e);
	}
}

static void
set_value(struct loader *ld, const struct setting *s, const struct val *v,
    void *obj)
{
	void	*field = (char *)obj + s->off;

	switch (s->kind) {
	case K_NUM:
		set_num(ld, s, v, field);
		break;
	case K_DURATION:
	case K_SIZE:
		set_amount(ld, s, v, field);
		break;
	case K_BOOL:
		if (v->type != CONFIG_TYPE_BOOL)
			errorf(ld, "'%s' must be true or false", s->name);
		else
			*(bool *)field = v->i != 0;
		break;
	case K_STR:
		set_string(ld, s, v, obj);
		break;
	case K_STRV:
		set_strings(ld, s, v, obj);
		break;
	case K_GROUP:
		set_group(ld, s, v, obj);
		break;
	case K_LIST:
		set_list(ld, s, v, obj);
		break;
	case K_CUSTOM:
		s->fn(ld, s, v, obj);
		break;
	}
}

/* Defaults go through the setters, as if written in the file. */
static void
apply_defaults(struct loader *ld, const struct table *g, void *obj)
{
	const struct setting	*s;
	struct val		 v;
	size_t			 i;

	for (i = 0; i < g->nsettings; i++) {
		s = &g->settings[i];
		if (s->kind == K_GROUP && !(s->flags & S_ALLOC)) {
			apply_defaults(ld, s->sub, (char *)obj + s->off);
			continue;
		}
		if (s->def == NULL)
			continue;
		memset(&v, 0, sizeof(v));
		if (s->kind == K_NUM) {
			v.type = CONFIG_TYPE_INT;
			v.i = strtoll(s->def, NULL, 10);
		} else if (s->kind == K_BOOL) {
			v.type = CONFIG_TYPE_BOOL;
			v.i = strcmp(s->def, "true") == 0;
		} else {
			v.type = CONFIG_TYPE_STRING;
			v.s = s->def;
		}
		set_value(ld, s, &v, obj);
	}
}

/*
 * Read group gs into obj through table g: each setting written, then the
 * required ones that were not, then the group's own check.  Nothing stops
 * at an error: the rest of the group is still read and checked.
 */
static void
walk(struct loader *ld, const struct table *g, const config_setting_t *gs,
    void *obj)
{
	const struct setting	*s;
	config_setting_t	*cs;
	struct val		 v;
	unsigned		 i, n = (unsigned)config_setting_length(gs);
	size_t			 j;

	for (i = 0; i < n; i++) {
		cs = config_setting_get_elem(gs, i);
		place(ld, cs);
		for (j = 0, s = NULL; j < g->nsettings && s == NULL; j++)
			if (strcmp(g->settings[j].name,
			    config_setting_name(cs)) == 0)
				s = &g->settings[j];
		if (s == NULL) {
			unknown(ld, g, config_setting_name(cs));
			continue;
		}
		memset(&v, 0, sizeof(v));
		v.cs = cs;
		v.type = config_setting_type(cs);
		if (v.type == CONFIG_TYPE_INT || v.type == CONFIG_TYPE_INT64)
			v.i = config_setting_get_int64(cs);
		else if (v.type == CONFIG_TYPE_BOOL)
			v.i = config_setting_get_bool(cs);
		else if (v.type == CONFIG_TYPE_STRING)
			v.s = config_setting_get_string(cs);
		set_value(ld, s, &v, obj);
	}
	for (j = 0; j < g->nsettings; j++) {
		s = &g->settings[j];
		if (!(s->flags & S_REQUIRED))
			continue;
		cs = config_setting_get_member(gs, s->name);
		/* An empty list counts as missing; a list of the wrong
		   type has had its message already. */
		if (cs == NULL || ((config_setting_type(cs) ==
		    CONFIG_TYPE_LIST || config_setting_type(cs) ==
		    CONFIG_TYPE_ARRAY) && config_setting_length(cs) == 0)) {
			place(ld, cs != NULL ? cs : gs);
			missing(ld, g, s, obj);
		}
	}
	if (g->check != NULL) {
		place(ld, gs);
		g->check(ld, obj);
	}
}

/* --------------------------------------------- settings of their own -- */

/* "auto": one per online CPU, within the same 1..256 as a number. */
static void
set_workers(struct loader *ld, const struct setting *s, const struct val *v,
    void *obj)
{
	struct config	*cf = obj;
	long		 n;

	if (v->type == CONFIG_TYPE_STRING && strcmp(v->s, "auto") == 0) {
		n = sysconf(_SC_NPROCESSORS_ONLN);
		cf->workers = (unsigned)(n < 1 ? 1 : n > 256 ? 256 : n);
	} else if (v->type == CONFIG_TYPE_INT || v->type == CONFIG_TYPE_INT64)
		set_num(ld, s, v, &cf->workers);
	else
		errorf(ld, "'workers' must be a number or \"auto\"");
}

/*
 * The user and group are looked up at load, not only when the workers
 * drop privileges, so that "portico -t" and a reload catch a typo before
 * it can take the service down.
 */
static void
check_user(struct loader *ld, const struct setting *s, const struct val *v,
    void *obj)
{
	(void)s;
	(void)obj;
	if (getpwnam(v->s) == NULL)
		errorf(ld, "unknown user '%s'", v->s);
}

static void
check_group(struct loader *ld, const struct setting *s, const struct val *v,
    void *obj)
{
	(void)s;
	(void)obj;
	if (getgrnam(v->s) == NULL)
		errorf(ld, "unknown group '%s'", v->s);
}

/* One format so far; the setting exists so that files need not change
   when there are more. */
static void
check_format(struct loader *ld, const struct setting *s, const struct val *v,
    void *obj)
{
	(void)obj;
	if (strcmp(v->s, "combined") != 0)
		errorf(ld, "'%s' must be \"combined\" (the only format so far)",
		    s->name);
}

/* TLS files: readable now, by whoever loads; validated by TLS later. */
static void
check_readable(struct loader *ld, const struct setting *s,
    const struct val *v, void *obj)
{
	char	c;
	int	fd;

	(void)obj;
	if ((fd = open(v->s, O_RDONLY | O_CLOEXEC)) == -1 ||
	    read(fd, &c, 1) == -1)
		errorf(ld, "cannot read %s '%s': %s", s->name, v->s,
		    strerror(errno));
	if (fd != -1)
		close(fd);
}

/* No control characters or spaces: the text goes into a request line. */
static void
check_uri_path(struct loader *ld, const struct setting *s,
    const struct val *v, void *obj)
{
	const unsigned char	*p;

	(void)obj;
	if (v->s[0] != '/') {
		errorf(ld, "'%s' must start with '/'", s->name);
		return;
	}
	for (p = (const unsigned char *)v->s; *p != '\0'; p++) {
		if (*p <= ' ' || *p == 0x7f) {
			errorf(ld, "'%s' must not contain spaces or control "
			    "characters", s->name);
			return;
		}
	}
}

/* RFC 9110 5.5: a field value holds no CR, LF or other control. */
static void
check_header_value(struct loader *ld, const struct setting *s,
    const struct val *v, void *obj)
{
	const unsigned char	*p;

	(void)obj;
	for (p = (const unsigned char *)v->s; *p != '\0'; p++) {
		if ((*p < ' ' && *p != '\t') || *p == 0x7f) {
			errorf(ld, "'%s' must not contain control characters",
			    s->name);
			return;
		}
	}
}

/* addr_parse() names what is wrong; the message adds what was written. */
static void
parse_address(struct loader *ld, const char *text, int allow_unix,
    struct addr *a)
{
	const char	*why;

	if (addr_parse(text, allow_unix, a, &why) == -1)
		errorf(ld, "bad address \"%s\": %s", text, why);
}

/* Listeners are IP only: the proxy serves the network, not local
   programs, and unix listeners would need their own permissions. */
static void
set_listener_address(struct loader *ld, const struct setting *s,
    const struct val *v, void *obj)
{
	struct config_listener	*l = obj, *prev;

	(void)s;
	parse_address(ld, v->s, 0, &l->addr);
	if (l->addr.len == 0)
		return;
	/* Two listeners on one address could not both bind. */
	for (prev = ld->cf->listeners; prev < l; prev++) {
		if (prev->addr.len != 0 && addr_equal(&prev->addr, &l->addr)) {
			errorf(ld, "duplicate listener address \"%s\" (first "
			    "at line %d)", v->s, prev->line);
			return;
		}
	}
}

/* Servers may be unix sockets: an application on the same host. */
static void
set_server_address(struct loader *ld, const struct setting *s,
    const struct val *v, void *obj)
{
	struct config_server	*srv = obj;

	(void)s;
	parse_address(ld, v->s, 1, &srv->addr);
}

/* Names go into logs and commands as "app/10.0.0.1:80": keep them plain. */
static void
check_upstream_name(struct loader *ld, const struct setting *s,
    const struct val *v, void *obj)
{
	struct config_upstream	*u = obj, *prev;
	const char		*p;

	(void)s;
	for (p = v->s; *p != '\0'; p++) {
		if (!isalnum((unsigned char)*p) && strchr("-_.", *p) == NULL) {
			errorf(ld, "upstream name '%s' may only contain "
			    "letters, digits, '-', '_' and '.'", v->s);
			return;
		}
	}
	for (prev = ld->cf->upstreams; prev < u; prev++) {
		if (prev->name != NULL && strcmp(prev->name, u->name) == 0) {
			errorf(ld, "duplicate upstream name '%s' (first at "
			    "line %d)", u->name, prev->line);
			return;
		}
	}
}

/* Every method is accepted now; the balancer uses them as it gains them. */
static void
set_balance(struct loader *ld, const struct setting *s, const struct val *v,
    void *obj)
{
	static const struct {
		const char		*name;
		enum config_balance	 balance;
	} methods[] = {
		{ "round_robin", BALANCE_ROUND_ROBIN },
		{ "least_conn", BALANCE_LEAST_CONN },
		{ "random_two", BALANCE_RANDOM_TWO },
		{ "hash", BALANCE_HASH },
	};
	struct config_upstream	*u = obj;
	size_t			 i;

	for (i = 0; v->type == CONFIG_TYPE_STRING && i < PT_NELEM(methods);
	    i++) {
		if (strcmp(v->s, methods[i].name) == 0) {
			u->balance = methods[i].balance;
			return;
		}
	}
	errorf(ld, "'%s' must be one of round_robin, least_conn, random_two, "
	    "hash", s->name);
}

/*
 * "*", "*.suffix" or a name; a name is a DNS name, an IPv4 or [IPv6].
 * Lower-cased in place: the router compares without case, and one
 * spelling makes the duplicate check below simple.  No port: the router
 * matches the Host header without it.
 */
static bool
host_pattern_ok(char *h)
{
	char	*p = h, *end;

	if (strcmp(h, "*") == 0)
		return true;
	if (p[0] == '*') {
		if (p[1] != '.')
			return false;
		p += 2;
	}
	if (*p == '[' && p == h) {
		if ((end = strchr(p, ']')) == NULL || end[1] != '\0')
			return false;
		for (p++; p < end; p++) {
			*p = (char)tolower((unsigned char)*p);
			if (!isxdigit((unsigned char)*p) && *p != ':' &&
			    *p != '.')
				return false;
		}
		return end > h + 1;
	}
	if (*p == '\0' || *p == '.' || *p == '-')
		return false;
	for (; *p != '\0'; p++) {
		*p = (char)tolower((unsigned char)*p);
		if (!isalnum((unsigned char)*p) && strchr("-_.", *p) == NULL)
			return false;
		if (*p == '.' && (p[1] == '.' || p[1] == '\0'))
			return false;
	}
	return true;
}

/* Each pattern valid, and in one site only. */
static void
check_hosts(struct loader *ld, const struct setting *s, const struct val *v,
    void *obj)
{
	struct config_site	*site = obj, *prev;
	unsigned		 i, j, n;

	(void)s;
	(void)v;
	for (i = 0; i < site->nhosts; i++) {
		if (!host_pattern_ok(site->hosts[i])) {
			errorf(ld, "invalid host pattern \"%s\": use \"*\", "
			    "\"*.suffix\" or a plain name", site->hosts[i]);
			continue;
		}
		/* A host in two sites would make the second one dead. */
		for (prev = ld->cf->sites; prev <= site; prev++) {
			n = prev == site ? i : prev->nhosts;
			for (j = 0; j < n; j++)
				if (strcmp(prev->hosts[j], site->hosts[i]) == 0)
					break;
			if (j == n)
				continue;
			if (prev == site)
				errorf(ld, "host \"%s\" is listed twice",
				    site->hosts[i]);
			else
				errorf(ld, "host \"%s\" is already in the site "
				    "at line %d", site->hosts[i], prev->line);
			break;
		}
	}
}

/* Routes match by prefix of the request path, which starts with '/'. */
static void
check_route_path(struct loader *ld, const struct setting *s,
    const struct val *v, void *obj)
{
	struct config_route	*r = obj;

	r->path_len = strlen(r->path);
	if (r->path[0] != '/')
		errorf(ld, "route '%s': 'path' must start with '/'", r->path);
	else
		check_uri_path(ld, s, v, obj);
}

/*
 * The name is kept, not looked up: the upstreams may come after the sites
 * in the file.  end_top() resolves it once everything is read.
 */
static void
set_route_upstream(struct loader *ld, const struct setting *s,
    const struct val *v, void *obj)
{
	struct pending	*p;
	size_t		 max;

	if (v->type != CONFIG_TYPE_STRING || *v->s == '\0') {
		errorf(ld, "'%s' must be the name of an upstream", s->name);
		return;
	}
	if (ld->npending == ld->maxpending) {
		max = ld->maxpending == 0 ? 16 : ld->maxpending * 2;
		if ((p = reallocarray(ld->pending, max, sizeof(*p))) == NULL) {
			errorf(ld, "out of memory");
			return;
		}
		ld->pending = p;
		ld->maxpending = max;
	}
	p = &ld->pending[ld->npending];
	if ((p->name = strdup(v->s)) == NULL) {
		errorf(ld, "out of memory");
		return;
	}
	p->route = obj;
	p->file = ld->file;
	p->line = ld->line;
	ld->npending++;
}

/* ------------------------------------------------- checks of a group -- */

/* The index lets per-worker state live in arrays beside the config. */
static void
end_upstream(struct loader *ld, void *obj)
{
	struct config_upstream	*u = obj;

	u->index = (unsigned)(u - ld->cf->upstreams);
}

/* Its defaults are filled in either way; only a written group checks. */
static void
end_health(struct loader *ld, void *obj)
{
	struct config_health	*h = obj;

	(void)ld;
	h->enabled = true;
}

/* Routes match in order: a second route with the same path is dead. */
static void
end_site(struct loader *ld, void *obj)
{
	struct config_site	*site = obj;
	unsigned		 i, j;

	for (i = 0; i < site->nroutes; i++) {
		for (j = 0; j < i; j++) {
			if (site->routes[i].path == NULL ||
			    site->routes[j].path == NULL ||
			    strcmp(site->routes[i].path,
			    site->routes[j].path) != 0)
				continue;
			ld->line = site->routes[i].line;
			errorf(ld, "route '%s': duplicate path in this site "
			    "(first at line %d)", site->routes[i].path,
			    site->routes[j].line);
			break;
		}
	}
}

/* A route proxies or answers, never both, never neither. */
static void
end_route(struct loader *ld, void *obj)
{
	struct config_route	*r = obj;
	bool			 up = false;
	size_t			 i;
	char			 buf[256];

	for (i = 0; i < ld->npending && !up; i++)
		up = ld->pending[i].route == r;
	if (up && r->ret != NULL)
		errorf(ld, "%s: has both 'upstream' and 'return'",
		    label(&route_group, r, buf, sizeof(buf)));
	else if (!up && r->ret == NULL)
		errorf(ld, "%s: needs an 'upstream' or a 'return'",
		    label(&route_group, r, buf, sizeof(buf)));
	/* A cached route with nowhere to keep the cache is a mistake.  The
	   file may give the cache after the sites: ask the file itself. */
	if (r->cache && config_setting_get_member(ld->root, "cache") == NULL)
		errorf(ld, "%s: 'cache' needs a top-level cache = { path = "
		    "...; }", label(&route_group, r, buf, sizeof(buf)));
}

/* A local answer must be one that HTTP allows. */
static void
end_return(struct loader *ld, void *obj)
{
	struct config_return	*ret = obj;

	if (ret->body != NULL)
		ret->body_len = strlen(ret->body);
	if (ret->status == 0)
		return;		/* missing, already said */
	if (ret->location != NULL && (ret->status < 300 || ret->status > 399))
		errorf(ld, "return: 'location' needs a 3xx status, not %u",
		    ret->status);
	/* RFC 9110 6.4.1: these never have content. */
	if (ret->body_len > 0 && (ret->status < 200 || ret->status == 204 ||
	    ret->status == 304))
		errorf(ld, "return: status %u cannot have a body",
		    ret->status);
}

/* Every upstream is known now: point the routes at theirs. */
static void
end_top(struct loader *ld, void *obj)
{
	struct config		*cf = obj;
	struct pending		*p;
	const char		**names, *best;
	unsigned		 i;
	size_t			 k;

	names = calloc(cf->nupstreams + 1, sizeof(*names));
	for (i = 0; names != NULL && i < cf->nupstreams; i++)
		names[i] = cf->upstreams[i].name != NULL ?
		    cf->upstreams[i].name : "";
	for (k = 0; k < ld->npending; k++) {
		p = &ld->pending[k];
		for (i = 0; i < cf->nupstreams; i++) {
			if (cf->upstreams[i].name != NULL &&
			    strcmp(cf->upstreams[i].name, p->name) == 0) {
				p->route->upstream = &cf->upstreams[i];
				break;
			}
		}
		if (p->route->upstream != NULL)
			continue;
		ld->file = p->file;
		ld->line = p->line;
		best = names == NULL ? NULL :
		    closest(p->name, names, cf->nupstreams);
		errorf(ld, "route '%s': no upstream named '%s'%s%s%s",
		    p->route->path != NULL ? p->route->path : "", p->name,
		    best != NULL ? " (did you mean '" : "",
		    best != NULL ? best : "", best != NULL ? "'?)" : "");
	}
	free(names);
}

/* ----------------------------------------------- durations and sizes -- */

/* Decimal digits at *p, overflow checked; *p moves past them. */
static int
parse_digits(const char **p, uint64_t *n, const char **err)
{
	unsigned	d;

	for (*n = 0; isdigit((unsigned char)**p); (*p)++) {
		d = (unsigned)(**p - '0');
		if (*n > (UINT64_MAX - d) / 10) {
			*err = "too large";
			return -1;
		}
		*n = *n * 10 + d;
	}
	return 0;
}

/* config_parse_duration(): see config.h.  "1m30s" is allowed too. */
int
config_parse_duration(const char *s, uint32_t *ms, const char **err)
{
	const struct unit	*u;
	const char		*p = s, *name;
	uint64_t		 total = 0, n;
	size_t			 len;

	if (*s == '\0') {
		*err = "empty";
		return -1;
	}
	if (*s == '-') {
		*err = "negative";
		return -1;
	}
	/* A bare number is seconds; else every number has its unit. */
	if (strspn(s, "0123456789") == strlen(s)) {
		if (parse_digits(&p, &n, err) == -1)
			return -1;
		if (n > UINT32_MAX / 1000) {
			*err = "too large";
			return -1;
		}
		*ms = (uint32_t)(n * 1000);
		return 0;
	}
	while (*p != '\0') {
		if (!isdigit((unsigned char)*p)) {
			*err = "not a number";
			return -1;
		}
		if (parse_digits(&p, &n, err) == -1)
			return -1;
		for (name = p; isalpha((unsigned char)*p); p++)
			;
		len = (size_t)(p - name);
		for (u = duration_units; u < duration_units +
		    PT_NELEM(duration_units); u++)
			if (strlen(u->name) == len &&
			    strncmp(name, u->name, len) == 0)
				break;
		if (u == duration_units + PT_NELEM(duration_units)) {
			*err = "unknown unit (use ms, s, m, h or d)";
			return -1;
		}
		if (n > UINT32_MAX / u->mult ||
		    (total += n * u->mult) > UINT32_MAX) {
			*err = "too large";
			return -1;
		}
	}
	*ms = (uint32_t)total;
	return 0;
}

/* config_parse_size(): see config.h.  Units may be lower case. */
int
config_parse_size(const char *s, uint64_t *bytes, const char **err)
{
	const char	*p = s;
	uint64_t	 n = 0, mult = 1;
	size_t		 i;

	if (*s == '\0') {
		*err = "empty";
		return -1;
	}
	if (*s == '-') {
		*err = "negative";
		return -1;
	}
	if (!isdigit((unsigned char)*p)) {
		*err = "not a number";
		return -1;
	}
	if (parse_digits(&p, &n, err) == -1)
		return -1;
	if (*p != '\0') {
		for (i = 0; i < PT_NELEM(size_units); i++)
			if (toupper((unsigned char)*p) == size_units[i].name[0])
				break;
		if (i == PT_NELEM(size_units) || p[1] != '\0') {
			*err = "unknown unit (use K, M, G or T)";
			return -1;
		}
		mult = size_units[i].mult;
	}
	if (n > UINT64_MAX / mult) {
		*err = "too large";
		return -1;
	}
	*bytes = n * mult;
	return 0;
}

/* ------------------------------------------------- load, free, names -- */

/* config_load(): see config.h. */
struct config *
config_load(const char *path, FILE *errfp)
{
	config_t	 lc;
	struct loader	 ld;
	struct config	*cf;
	char		*slash;
	FILE		*fp;
	size_t		 i;

	/* libconfig says "file I/O error" only; say which and why (a
	   directory opens, and fails at the first read). */
	if ((fp = fopen(path, "r")) == NULL ||
	    (getc(fp) == EOF && ferror(fp))) {
		fprintf(errfp, "%s: cannot read: %s\n", path, strerror(errno));
		if (fp != NULL)
			fclose(fp);
		return NULL;
	}
	fclose(fp);
	memset(&ld, 0, sizeof(ld));
	if ((cf = calloc(1, sizeof(*cf))) == NULL ||
	    (cf->file = strdup(path)) == NULL ||
	    (ld.dir = strdup(path)) == NULL) {
		fprintf(errfp, "%s: out of memory\n", path);
		config_free(cf);
		return NULL;
	}
	ld.cf = cf;
	ld.errfp = errfp;
	ld.file = cf->file;
	ld.line = 1;
	config_init(&lc);
	/* @include "x.conf" is found beside the main file. */
	if ((slash = strrchr(ld.dir, '/')) != NULL) {
		slash[slash == ld.dir] = '\0';
		config_set_include_dir(&lc, ld.dir);
	} else {
		free(ld.dir);
		ld.dir = NULL;
	}
	if (config_read_file(&lc, path) != CONFIG_TRUE) {
		ld.file = file_name(&ld, config_error_file(&lc));
		ld.line = config_error_line(&lc);
		errorf(&ld, "%s", config_error_text(&lc));
	} else {
		ld.root = config_root_setting(&lc);
		apply_defaults(&ld, &top_group, cf);
		walk(&ld, &top_group, ld.root, cf);
	}

	for (i = 0; i < ld.npending; i++)
		free(ld.pending[i].name);
	free(ld.pending);
	for (i = 0; i < ld.nincluded; i++)
		free(ld.included[i].path);
	free(ld.dir);
	config_destroy(&lc);
	if (ld.nerrors > 0) {
		config_free(cf);
		return NULL;
	}
	return cf;
}

/* Free what the table says the walker allocated, not the struct itself. */
static void
free_group(const struct table *g, void *obj)
{
	const struct setting	*s;
	char			*field, **v, *arr;
	unsigned		 i, n;
	size_t			 j;

	for (j = 0; j < g->nsettings; j++) {
		s = &g->settings[j];
		field = (char *)obj + s->off;
		switch (s->kind) {
		case K_STR:
			free(*(char **)field);
			break;
		case K_STRV:
			v = *(char ***)field;
			for (i = 0; v != NULL && v[i] != NULL; i++)
				free(v[i]);
			free(v);
			break;
		case K_GROUP:
			if (!(s->flags & S_ALLOC))
				free_group(s->sub, field);
			else if (*(void **)field != NULL) {
				free_group(s->sub, *(void **)field);
				free(*(void **)field);
			}
			break;
		case K_LIST:
			arr = *(char **)field;
			n = *(unsigned *)((char *)obj + s->cnt);
			for (i = 0; arr != NULL && i < n; i++)
				free_group(s->sub, arr + (size_t)i *
				    s->sub->size);
			free(arr);
			break;
		default:
			break;
		}
	}
}

/* config_free(): see config.h.  The tables say what was allocated. */
void
config_free(struct config *cf)
{
	if (cf == NULL)
		return;
	free_group(&top_group, cf);
	free(cf->file);
	free(cf);
}

/* The names of g and of its groups, prefixed by the parent's name. */
static void
add_names(const struct table *g, const char *prefix, const char **names,
    size_t max, size_t *n, char *pool, size_t poolsize, size_t *used)
{
	const struct setting	*s;
	size_t			 i;
	int			 len;

	for (i = 0; i < g->nsettings && *n < max; i++) {
		s = &g->settings[i];
		len = snprintf(pool + *used, poolsize - *used, "%s%s%s",
		    prefix, *prefix != '\0' ? "." : "", s->name);
		if (len < 0 || (size_t)len >= poolsize - *used)
			return;
		names[(*n)++] = pool + *used;
		*used += (size_t)len + 1;
		if (s->sub != NULL)
			add_names(s->sub, names[*n - 1], names, max, n, pool,
			    poolsize, used);
	}
}

/* config_setting_names(): see config.h.  Built from the tables once. */
const char *const *
config_setting_names(void)
{
	static const char	*names[256];
	static char		 pool[8192];
	size_t			 n = 0, used = 0;

	if (names[0] == NULL)
		add_names(&top_group, "", names, PT_NELEM(names) - 1, &n,
		    pool, sizeof(pool), &used);
	return names;
}
