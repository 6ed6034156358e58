/*
 * config.c: unit tests of common/config.c, printing TAP.
 *
 * The units, a full config read into the struct, every default, every
 * class of error with its line and message, and a check that every
 * setting the loader knows is documented in man/portico.conf.5 (the tests
 * run from the top of the tree).
 */
#include <sys/stat.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"

#define MAN_PAGE	"man/portico.conf.5"

static int	tap_count, tap_failures;
static char	tmpdir[] = "/tmp/portico-config-test.XXXXXX";
static char	topdir[1024];	/* where we run: the top of the tree */

static int
tap_ok(int cond, const char *fmt, ...)
{
	va_list	ap;

	printf("%sok %d - ", cond ? "" : "not ", ++tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!cond)
		tap_failures++;
	return cond;
}

static void
tap_is_str(const char *got, const char *want, const char *name)
{
	int	same = got != NULL && want != NULL && strcmp(got, want) == 0;

	tap_ok(same, "%s", name);
	if (!same)
		printf("#   got '%s'\n#  want '%s'\n", got ? got : "(null)",
		    want ? want : "(null)");
}

static void
tap_is_num(unsigned long long got, unsigned long long want,
    const char *name)
{
	tap_ok(got == want, "%s", name);
	if (got != want)
		printf("#   got %llu\n#  want %llu\n", got, want);
}

static void
write_file(const char *name, const char *text)
{
	char	 path[256];
	FILE	*fp;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	if ((fp = fopen(path, "w")) == NULL) {
		printf("Bail out! cannot write %s: %s\n", path,
		    strerror(errno));
		exit(1);
	}
	fputs(text, fp);
	fclose(fp);
}

/*
 * load(): write text to TMPDIR/portico.conf and load it.  The errors
 * are returned in *errs (to free), with TMPDIR/ taken off each line.
 */
static struct config *
load(const char *text, char **errs)
{
	struct config	*cf;
	char		 path[256], *buf = NULL, *p, *q;
	size_t		 len = 0, skip;
	FILE		*fp;

	write_file("portico.conf", text);
	snprintf(path, sizeof(path), "%s/portico.conf", tmpdir);
	fp = open_memstream(&buf, &len);
	cf = config_load(path, fp);
	fclose(fp);
	skip = strlen(tmpdir) + 1;
	for (p = q = buf; *p != '\0'; ) {
		if (strncmp(p, tmpdir, skip - 1) == 0 && p[skip - 1] == '/')
			p += skip;
		while (*p != '\0' && (*q++ = *p++) != '\n')
			;
	}
	*q = '\0';
	*errs = buf;
	return cf;
}

#define LISTEN	"listeners = ( { address = \"127.0.0.1:8080\"; } );\n"
#define SITE	"sites = ( { hosts = [ \"*\" ]; routes = ( { path = \"/\";" \
		" return = { status = 200; }; } ); } );\n"

static void
test_durations(void)
{
	static const struct {
		const char	*text;
		long long	 ms;	/* -1: refused */
		const char	*err;
	} cases[] = {
		{ "0", 0, NULL }, { "10", 10000, NULL }, { "500ms", 500, NULL },
		{ "10s", 10000, NULL }, { "2m", 120000, NULL },
		{ "1h", 3600000, NULL }, { "1d", 86400000, NULL },
		{ "1m30s", 90000, NULL }, { "1h1ms", 3600001, NULL },
		{ "4294967295ms", 4294967295LL, NULL },
		{ "4294967", 4294967000LL, NULL },
		{ "4294968", -1, "too large" },
		{ "99999999999999999999999", -1, "too large" },
		{ "4294967296ms", -1, "too large" },
		{ "50d", -1, "too large" },
		{ "99999999999999999999999s", -1, "too large" },
		{ "", -1, "empty" },
		{ "-1s", -1, "negative" },
		{ "s", -1, "not a number" },
		{ " 1s", -1, "not a number" },
		{ "1x", -1, "unknown unit (use ms, s, m, h or d)" },
		{ "1S", -1, "unknown unit (use ms, s, m, h or d)" },
		{ "1.5s", -1, "unknown unit (use ms, s, m, h or d)" },
		{ "10s ", -1, "not a number" },
		{ "1m30", -1, "unknown unit (use ms, s, m, h or d)" },
		{ "1sec", -1, "unknown unit (use ms, s, m, h or d)" },
	};
	const char	*err;
	uint32_t	 ms;
	size_t		 i;
	int		 rc;

	for (i = 0; i < PT_NELEM(cases); i++) {
		err = NULL;
		ms = 12345;
		rc = config_parse_duration(cases[i].text, &ms, &err);
		if (cases[i].ms >= 0)
			tap_ok(rc == 0 && ms == cases[i].ms, "duration '%s' "
			    "is %lld ms", cases[i].text, cases[i].ms);
		else
			tap_ok(rc == -1 && err != NULL &&
			    strcmp(err, cases[i].err) == 0 && ms == 12345,
			    "duration '%s': %s", cases[i].text, cases[i].err);
	}
}

static void
test_sizes(void)
{
	static const struct {
		const char		*text;
		unsigned long long	 bytes;
		const char		*err;	/* NULL: accepted */
	} cases[] = {
		{ "0", 0, NULL }, { "512", 512, NULL }, { "16K", 16384, NULL },
		{ "16k", 16384, NULL }, { "256M", 256ULL << 20, NULL },
		{ "1G", 1ULL << 30, NULL }, { "2T", 2ULL << 40, NULL },
		{ "18446744073709551615", 18446744073709551615ULL, NULL },
		{ "16777216T", 0, "too large" },
		{ "99999999999999999999999", 0, "too large" },
		{ "", 0, "empty" },
		{ "-1", 0, "negative" },
		{ "K", 0, "not a number" },
		{ "1.5M", 0, "unknown unit (use K, M, G or T)" },
		{ "16KB", 0, "unknown unit (use K, M, G or T)" },
		{ "16 K", 0, "unknown unit (use K, M, G or T)" },
		{ "3X", 0, "unknown unit (use K, M, G or T)" },
	};
	const char	*err;
	uint64_t	 bytes;
	size_t		 i;
	int		 rc;

	for (i = 0; i < PT_NELEM(cases); i++) {
		err = NULL;
		bytes = 7;
		rc = config_parse_size(cases[i].text, &bytes, &err);
		if (cases[i].err == NULL)
			tap_ok(rc == 0 && bytes == cases[i].bytes, "size '%s' "
			    "is %llu", cases[i].text, cases[i].bytes);
		else
			tap_ok(rc == -1 && err != NULL &&
			    strcmp(err, cases[i].err) == 0 && bytes == 7,
			    "size '%s': %s", cases[i].text, cases[i].err);
	}
}

static const char full_config[] =
    "# every setting, none at its default\n"
    "workers = 3;\n"
    "user = \"root\";\n"
    "group = \"root\";\n"
    "pid_file = \"/tmp/p.pid\";\n"
    "error_log = \"stderr\";\n"
    "shutdown_timeout = \"5s\";\n"
    "max_connections = 500;\n"
    "max_upstream_connections = 600;\n"
    "client_header_timeout = \"2s\";\n"
    "client_body_timeout = 3;\n"			/* line 11 */
    "keepalive_timeout = 0;\n"
    "send_timeout = \"1m30s\";\n"
    "tunnel_timeout = \"2h\";\n"
    "keepalive_requests = 0;\n"
    "max_request_line = \"4K\";\n"
    "max_header_size = 65536;\n"
    "max_headers = 50;\n"
    "max_body_size = \"0\";\n"
    "buffer_size = \"16K\";\n"
    "access_log = { path = \"/tmp/a.log\"; format = \"combined\";\n"
    "    buffer = \"8K\"; flush = \"250ms\"; };\n"
    "cache = { path = \"/tmp/c.db\"; size = \"1G\"; };\n"
    "proxy_headers = { x_forwarded_for = false; x_forwarded_proto = false;\n"
    "    x_forwarded_host = false; via = false; };\n"
    "listeners = (\n"
    "  { address = \"127.0.0.1:8080\"; backlog = 100; },\n"	/* 27 */
    "  { address = \"[::1]:8443\";\n"				/* 28 */
    "    tls = { certificates = (\n"				/* 29 */
    "      { certificate = \"a.pem\"; key = \"a.key\"; },\n"	/* 30 */
    "      { certificate = \"b.pem\"; key = \"b.key\"; } ); }; }\n"
    ");\n"
    "upstreams = (\n"
    "  { name = \"app\"; balance = \"least_conn\"; keepalive = 0;\n" /* 34 */
    "    keepalive_timeout = \"10s\"; connect_timeout = \"1s\";\n"
    "    read_timeout = \"20s\"; write_timeout = \"30s\";\n"
    "    servers = ( { address = \"10.0.0.1:80\"; weight = 5;\n" /* 37 */
    "                  max_conns = 10; },\n"
    "                { address = \"unix:/run/app.sock\"; backup = true; } );\n"
    "    health = { path = \"/healthz\"; interval = \"5s\";\n"
    "               timeout = \"500ms\"; rise = 1; fall = 7; }; },\n"
    "  { name = \"api\"; balance = \"hash\";\n"			/* 42 */
    "    servers = ( { address = \"10.0.0.2:81\"; } ); }\n"
    ");\n"
    "sites = (\n"
    "  { hosts = [ \"Example.COM\", \"*.example.com\" ];\n"	/* 46 */
    "    routes = ( { path = \"/static/\"; upstream = \"app\";"
    " cache = true; },\n"
    "               { path = \"/api/\"; upstream = \"api\"; },\n"
    "               { path = \"/\"; return = { status = 301;\n"	/* 49 */
    "                   location = \"https://example.com/\"; }; } ); },\n"
    "  { hosts = \"*\";\n"					/* 51 */
    "    routes = ( { path = \"/\"; return = { status = 404;\n"
    "        body = \"no such site\\n\"; content_type = \"text/html\"; };"
    " } ); }\n"
    ");\n";

static void
test_full(void)
{
	struct config		*cf;
	struct config_upstream	*u;
	struct config_route	*r;
	char			*errs, buf[ADDR_TEXT_MAX];

	write_file("a.pem", "cert\n");
	write_file("a.key", "key\n");
	write_file("b.pem", "cert\n");
	write_file("b.key", "key\n");
	/* Certificate paths are relative to where we run: go there. */
	if (chdir(tmpdir) == -1)
		printf("# chdir: %s\n", strerror(errno));
	cf = load(full_config, &errs);
	if (chdir(topdir) == -1)
		printf("# chdir: %s\n", strerror(errno));
	tap_ok(cf != NULL, "the full config loads");
	tap_is_str(errs, "", "  without a word");
	free(errs);
	if (cf == NULL)
		return;
	tap_is_num(cf->workers, 3, "workers");
	tap_is_str(cf->user, "root", "user");
	tap_is_str(cf->group, "root", "group");
	tap_is_str(cf->pid_file, "/tmp/p.pid", "pid_file");
	tap_is_str(cf->error_log, "stderr", "error_log");
	tap_is_num(cf->shutdown_timeout_ms, 5000, "shutdown_timeout");
	tap_is_num(cf->max_connections, 500, "max_connections");
	tap_is_num(cf->max_upstream_connections, 600,
	    "max_upstream_connections");
	tap_is_num(cf->client_header_timeout_ms, 2000,
	    "client_header_timeout");
	tap_is_num(cf->client_body_timeout_ms, 3000,
	    "client_body_timeout: a bare number is seconds");
	tap_is_num(cf->keepalive_timeout_ms, 0, "keepalive_timeout 0");
	tap_is_num(cf->send_timeout_ms, 90000, "send_timeout 1m30s");
	tap_is_num(cf->tunnel_timeout_ms, 7200000, "tunnel_timeout");
	tap_is_num(cf->keepalive_requests, 0, "keepalive_requests 0");
	tap_is_num(cf->max_request_line, 4096, "max_request_line");
	tap_is_num(cf->max_header_size, 65536,
	    "max_header_size: a bare number is bytes");
	tap_is_num(cf->max_headers, 50, "max_headers");
	tap_is_num(cf->max_body_size, 0, "max_body_size 0");
	tap_is_num(cf->buffer_size, 16384, "buffer_size");
	tap_is_str(cf->access_log.path, "/tmp/a.log", "access_log.path");
	tap_is_str(cf->access_log.format, "combined", "access_log.format");
	tap_is_num(cf->access_log.buffer, 8192, "access_log.buffer");
	tap_is_num(cf->access_log.flush_ms, 250, "access_log.flush");
	tap_is_str(cf->cache.path, "/tmp/c.db", "cache.path");
	tap_is_num(cf->cache.size, 1ULL << 30, "cache.size");
	tap_ok(!cf->proxy_headers.x_forwarded_for &&
	    !cf->proxy_headers.x_forwarded_proto &&
	    !cf->proxy_headers.x_forwarded_host && !cf->proxy_headers.via,
	    "proxy_headers all off");

	tap_is_num(cf->nlisteners, 2, "two listeners");
	tap_is_str(cf->listeners[0].address, "127.0.0.1:8080",
	    "listener address as written");
	addr_format(&cf->listeners[1].addr, buf, sizeof(buf));
	tap_is_str(buf, "[::1]:8443", "listener address parsed");
	tap_is_num(cf->listeners[0].backlog, 100, "backlog");
	tap_is_num(cf->listeners[1].backlog, 511, "backlog default");
	tap_is_num(cf->listeners[0].line, 27, "listener line");
	tap_ok(cf->listeners[0].tls == NULL, "plain listener has no tls");
	tap_ok(cf->listeners[1].tls != NULL &&
	    cf->listeners[1].tls->ncerts == 2, "tls: two certificates");
	if (cf->listeners[1].tls != NULL && cf->listeners[1].tls->ncerts == 2) {
		tap_is_str(cf->listeners[1].tls->certs[1].certificate, "b.pem",
		    "certificate");
		tap_is_str(cf->listeners[1].tls->certs[1].key, "b.key", "key");
		tap_is_num(cf->listeners[1].tls->certs[0].line, 30,
		    "certificate line");
		tap_is_num(cf->listeners[1].tls->line, 29, "tls line");
	}

	tap_is_num(cf->nupstreams, 2, "two upstreams");
	u = &cf->upstreams[0];
	tap_is_str(u->name, "app", "upstream name");
	tap_ok(u->balance == BALANCE_LEAST_CONN, "balance least_conn");
	tap_ok(cf->upstreams[1].balance == BALANCE_HASH, "balance hash");
	tap_is_num(u->keepalive, 0, "keepalive 0");
	tap_is_num(u->keepalive_timeout_ms, 10000,
	    "upstream keepalive_timeout");
	tap_is_num(u->connect_timeout_ms, 1000, "connect_timeout");
	tap_is_num(u->read_timeout_ms, 20000, "read_timeout");
	tap_is_num(u->write_timeout_ms, 30000, "write_timeout");
	tap_is_num(u->index, 0, "index 0");
	tap_is_num(cf->upstreams[1].index, 1, "index 1");
	tap_is_num(u->line, 34, "upstream line");
	tap_is_num(u->nservers, 2, "two servers");
	tap_is_num(u->servers[0].weight, 5, "weight");
	tap_is_num(u->servers[0].max_conns, 10, "max_conns");
	tap_ok(!u->servers[0].backup && u->servers[1].backup, "backup");
	tap_is_num(u->servers[1].weight, 1, "weight default");
	tap_ok(u->servers[1].addr.sa.ss_family == AF_UNIX, "unix server");
	tap_is_num(u->servers[0].line, 37, "server line");
	tap_ok(u->health.enabled, "health enabled");
	tap_is_str(u->health.path, "/healthz", "health.path");
	tap_is_num(u->health.interval_ms, 5000, "health.interval");
	tap_is_num(u->health.timeout_ms, 500, "health.timeout");
	tap_is_num(u->health.rise, 1, "health.rise");
	tap_is_num(u->health.fall, 7, "health.fall");
	tap_ok(!cf->upstreams[1].health.enabled, "no health group: disabled");

	tap_is_num(cf->nsites, 2, "two sites");
	tap_is_num(cf->sites[0].nhosts, 2, "two hosts");
	tap_is_str(cf->sites[0].hosts[0], "example.com", "host lower-cased");
	tap_is_str(cf->sites[0].hosts[1], "*.example.com", "wildcard host");
	tap_is_num(cf->sites[0].line, 46, "site line");
	tap_is_num(cf->sites[1].nhosts, 1, "a single string is one host");
	tap_is_str(cf->sites[1].hosts[0], "*", "host *");
	tap_is_num(cf->sites[0].nroutes, 3, "three routes");
	r = &cf->sites[0].routes[0];
	tap_is_str(r->path, "/static/", "route path");
	tap_is_num(r->path_len, 8, "route path_len");
	tap_ok(r->upstream == &cf->upstreams[0], "route points at 'app'");
	tap_ok(cf->sites[0].routes[1].upstream == &cf->upstreams[1],
	    "route points at 'api'");
	tap_ok(r->cache && !cf->sites[0].routes[1].cache, "route cache");
	tap_ok(r->ret == NULL, "proxy route has no return");
	r = &cf->sites[0].routes[2];
	tap_ok(r->upstream == NULL && r->ret != NULL, "return route");
	tap_is_num(r->line, 49, "route line");
	if (r->ret != NULL) {
		tap_is_num(r->ret->status, 301, "return status");
		tap_is_str(r->ret->location, "https://example.com/",
		    "return location");
		tap_is_str(r->ret->body, "", "return body default");
		tap_is_num(r->ret->body_len, 0, "return body_len 0");
	}
	r = &cf->sites[1].routes[0];
	if (r->ret != NULL) {
		tap_is_str(r->ret->body, "no such site\n", "return body");
		tap_is_num(r->ret->body_len, 13, "return body_len");
		tap_is_str(r->ret->content_type, "text/html", "content_type");
		tap_ok(r->ret->location == NULL, "no location");
	}
	config_free(cf);
}

/* The smallest config: everything else at its default. */
static void
test_defaults(void)
{
	struct config	*cf;
	struct config_route *r;
	char		*errs;
	long		 cpus = sysconf(_SC_NPROCESSORS_ONLN);

	cf = load(LISTEN
	    "upstreams = ( { name = \"u\";"
	    " servers = ( { address = \"1.2.3.4:80\"; } ); } );\n"
	    "sites = ( { hosts = [ \"*\" ]; routes = ( { path = \"/\";"
	    " return = { status = 200; }; }, { path = \"/u\"; upstream = \"u\";"
	    " } ); } );\n", &errs);
	tap_ok(cf != NULL, "the smallest config loads");
	tap_is_str(errs, "", "  without a word");
	free(errs);
	if (cf == NULL)
		return;
	tap_is_num(cf->workers, cpus < 1 ? 1 : cpus > 256 ? 256 : cpus,
	    "workers auto: one per CPU");
	tap_ok(cf->user == NULL && cf->group == NULL, "no user, no group");
	tap_is_str(cf->pid_file, LOCALSTATEDIR "/run/portico.pid", "pid_file");
	tap_is_str(cf->error_log, LOCALSTATEDIR "/log/portico/error.log",
	    "error_log");
	tap_is_num(cf->shutdown_timeout_ms, 30000, "shutdown_timeout 30s");
	tap_is_num(cf->max_connections, 10000, "max_connections 10000");
	tap_is_num(cf->max_upstream_connections, 8192,
	    "max_upstream_connections 8192");
	tap_is_num(cf->client_header_timeout_ms, 10000,
	    "client_header_timeout 10s");
	tap_is_num(cf->client_body_timeout_ms, 30000,
	    "client_body_timeout 30s");
	tap_is_num(cf->keepalive_timeout_ms, 75000, "keepalive_timeout 75s");
	tap_is_num(cf->send_timeout_ms, 60000, "send_timeout 60s");
	tap_is_num(cf->tunnel_timeout_ms, 3600000, "tunnel_timeout 1h");
	tap_is_num(cf->keepalive_requests, 10000, "keepalive_requests 10000");
	tap_is_num(cf->max_request_line, 8192, "max_request_line 8K");
	tap_is_num(cf->max_header_size, 32768, "max_header_size 32K");
	tap_is_num(cf->max_headers, 100, "max_headers 100");
	tap_is_num(cf->max_body_size, 64ULL << 20, "max_body_size 64M");
	tap_is_num(cf->buffer_size, 65536, "buffer_size 64K");
	tap_ok(cf->proxy_headers.x_forwarded_for &&
	    cf->proxy_headers.x_forwarded_proto &&
	    cf->proxy_headers.x_forwarded_host && cf->proxy_headers.via,
	    "proxy_headers all on");
	tap_ok(cf->access_log.path == NULL, "no access log");
	tap_is_str(cf->access_log.format, "combined", "access_log.format");
	tap_is_num(cf->access_log.buffer, 65536, "access_log.buffer 64K");
	tap_is_num(cf->access_log.flush_ms, 1000, "access_log.flush 1s");
	tap_ok(cf->cache.path == NULL, "no cache");
	tap_is_num(cf->cache.size, 256ULL << 20, "cache.size 256M");
	tap_is_num(cf->listeners[0].backlog, 511, "backlog 511");
	tap_ok(cf->upstreams[0].balance == BALANCE_ROUND_ROBIN,
	    "balance round_robin");
	tap_is_num(cf->upstreams[0].keepalive, 32, "keepalive 32");
	tap_is_num(cf->upstreams[0].keepalive_timeout_ms, 60000,
	    "upstream keepalive_timeout 60s");
	tap_is_num(cf->upstreams[0].connect_timeout_ms, 5000,
	    "connect_timeout 5s");
	tap_is_num(cf->upstreams[0].read_timeout_ms, 60000, "read_timeout 60s");
	tap_is_num(cf->upstreams[0].write_timeout_ms, 60000,
	    "write_timeout 60s");
	tap_is_num(cf->upstreams[0].servers[0].weight, 1, "weight 1");
	tap_ok(!cf->upstreams[0].servers[0].backup, "backup false");
	tap_is_num(cf->upstreams[0].servers[0].max_conns, 0, "max_conns 0");
	tap_ok(!cf->upstreams[0].health.enabled, "health off");
	tap_is_str(cf->upstreams[0].health.path, "/", "health.path /");
	tap_is_num(cf->upstreams[0].health.interval_ms, 2000,
	    "health.interval 2s");
	tap_is_num(cf->upstreams[0].health.timeout_ms, 1000,
	    "health.timeout 1s");
	tap_is_num(cf->upstreams[0].health.rise, 2, "health.rise 2");
	tap_is_num(cf->upstreams[0].health.fall, 3, "health.fall 3");
	r = &cf->sites[0].routes[0];
	tap_ok(!r->cache, "route cache false");
	tap_ok(r->ret != NULL && strcmp(r->ret->content_type,
	    "text/plain") == 0, "return content_type text/plain");
	tap_ok(r->ret != NULL && r->ret->location == NULL &&
	    strcmp(r->ret->body, "") == 0, "return body \"\", no location");
	config_free(cf);

	cf = load("workers = \"auto\";\n" LISTEN SITE, &errs);
	tap_ok(cf != NULL && cf->workers >= 1, "workers = \"auto\" written");
	config_free(cf);
	free(errs);
}

/*
 * One class of error a case: the config, and the one line it must print
 * ("LINE: message", after "portico.conf:").
 */
static const struct {
	const char	*name, *conf, *want;
} error_cases[] = {
	{ "unknown setting, did you mean",
	    "keepalive_tiemout = \"10s\";\n" LISTEN SITE,
	    "1: unknown setting 'keepalive_tiemout' "
	    "(did you mean 'keepalive_timeout'?)" },
	{ "unknown setting, nothing close",
	    "\nfrobnicate = 1;\n" LISTEN SITE,
	    "2: unknown setting 'frobnicate'" },
	{ "unknown setting in a nested group",
	    LISTEN "upstreams = ( { name = \"a\";\n"
	    "  servers = ( { address = \"1.2.3.4:80\"; wieght = 2; } ); } );\n"
	    SITE,
	    "3: unknown setting 'wieght' (did you mean 'weight'?)" },
	{ "workers wrong type",
	    "workers = \"many\";\n" LISTEN SITE,
	    "1: 'workers' must be a number or \"auto\"" },
	{ "workers out of range",
	    "workers = 0;\n" LISTEN SITE,
	    "1: 'workers' must be between 1 and 256" },
	{ "a number given as a string",
	    LISTEN "upstreams = ( { name = \"a\"; keepalive = \"32\";\n"
	    "  servers = ( { address = \"1.2.3.4:80\"; } ); } );\n" SITE,
	    "2: 'keepalive' must be a number" },
	{ "keepalive out of range",
	    LISTEN "upstreams = ( { name = \"a\";\n keepalive = 5000;\n"
	    "  servers = ( { address = \"1.2.3.4:80\"; } ); } );\n" SITE,
	    "3: 'keepalive' must be between 0 and 4096" },
	{ "max_headers out of range",
	    "max_headers = 1001;\n" LISTEN SITE,
	    "1: 'max_headers' must be between 1 and 1000" },
	{ "a boolean given as a number",
	    "proxy_headers = { via = 1; };\n" LISTEN SITE,
	    "1: 'via' must be true or false" },
	{ "a string given as a number",
	    "pid_file = 1;\n" LISTEN SITE,
	    "1: 'pid_file' must be a string" },
	{ "an empty string",
	    "error_log = \"\";\n" LISTEN SITE,
	    "1: 'error_log' must not be empty" },
	{ "bad duration unit",
	    "send_timeout = \"10x\";\n" LISTEN SITE,
	    "1: 'send_timeout': bad duration \"10x\": unknown unit "
	    "(use ms, s, m, h or d)" },
	{ "negative duration",
	    "send_timeout = -5;\n" LISTEN SITE,
	    "1: 'send_timeout': bad duration \"-5\": negative" },
	{ "duration out of range",
	    "client_header_timeout = \"0s\";\n" LISTEN SITE,
	    "1: 'client_header_timeout' must be between 1ms and 24d" },
	{ "duration of the wrong type",
	    "send_timeout = true;\n" LISTEN SITE,
	    "1: 'send_timeout' must be a duration such as \"10s\"" },
	{ "bad size",
	    "buffer_size = \"32KB\";\n" LISTEN SITE,
	    "1: 'buffer_size': bad size \"32KB\": unknown unit "
	    "(use K, M, G or T)" },
	{ "size below its minimum",
	    "max_request_line = 100;\n" LISTEN SITE,
	    "1: 'max_request_line' must be between 256 and 1M" },
	{ "size above its maximum",
	    "max_header_size = \"2M\";\n" LISTEN SITE,
	    "1: 'max_header_size' must be between 1K and 1M" },
	{ "bad listener address",
	    "listeners = ( { address = \"127.0.0.1\"; } );\n" SITE,
	    "1: bad address \"127.0.0.1\": missing port" },
	{ "listener on a unix socket",
	    "listeners = ( { address = \"unix:/tmp/p.sock\"; } );\n" SITE,
	    "1: bad address \"unix:/tmp/p.sock\": unix sockets are not "
	    "allowed here" },
	{ "duplicate listener",
	    "listeners = ( { address = \"127.0.0.1:80\"; },\n"
	    "  { address = \"127.0.0.1:80\"; } );\n" SITE,
	    "2: duplicate listener address \"127.0.0.1:80\" "
	    "(first at line 1)" },
	{ "listener without address",
	    "listeners = ( { backlog = 10; } );\n" SITE,
	    "1: listener: missing 'address'" },
	{ "listeners not a list",
	    "listeners = { address = \"127.0.0.1:80\"; };\n" SITE,
	    "1: 'listeners' must be a list of groups: ( { ... }, ... )" },
	{ "no listeners",
	    SITE,
	    "1: no listeners: at least one is required" },
	{ "an empty list of listeners",
	    "\nlisteners = ( );\n" SITE,
	    "2: no listeners: at least one is required" },
	{ "no sites",
	    LISTEN,
	    "1: no sites: at least one is required" },
	{ "unreadable certificate",
	    "listeners = ( { address = \"127.0.0.1:443\"; tls = {\n"
	    "  certificates = ( { certificate = \"/nonexistent/x.pem\";\n"
	    "  key = \"/nonexistent/x.key\"; } ); }; } );\n" SITE,
	    "2: cannot read certificate '/nonexistent/x.pem': "
	    "No such file or directory\n"
	    "portico.conf:3: cannot read key '/nonexistent/x.key': "
	    "No such file or directory" },
	{ "tls without certificates",
	    "listeners = ( { address = \"127.0.0.1:443\"; tls = { }; } );\n"
	    SITE,
	    "1: tls: no certificates" },
	{ "certificate without key",
	    "listeners = ( { address = \"127.0.0.1:443\"; tls = {\n"
	    "  certificates = ( { certificate = \"/dev/null\"; } ); }; } );\n"
	    SITE,
	    "2: certificate: missing 'key'" },
	{ "duplicate upstream name",
	    LISTEN "upstreams = (\n"
	    "  { name = \"a\";"
	    " servers = ( { address = \"1.2.3.4:80\"; } ); },\n"
	    "  { name = \"a\";"
	    " servers = ( { address = \"1.2.3.5:80\"; } ); } );\n"
	    SITE,
	    "4: duplicate upstream name 'a' (first at line 3)" },
	{ "upstream without name",
	    LISTEN "upstreams = ( {\n"
	    "  servers = ( { address = \"1.2.3.4:80\"; } ); } );\n" SITE,
	    "2: upstream: missing 'name'" },
	{ "upstream name with a space",
	    LISTEN "upstreams = ( { name = \"my app\";\n"
	    "  servers = ( { address = \"1.2.3.4:80\"; } ); } );\n" SITE,
	    "2: upstream name 'my app' may only contain letters, digits, "
	    "'-', '_' and '.'" },
	{ "upstream with no servers",
	    LISTEN "upstreams = ( { name = \"app\"; } );\n" SITE,
	    "2: upstream 'app': no servers" },
	{ "upstream with an empty list of servers",
	    LISTEN "upstreams = ( { name = \"app\";\n servers = ( ); } );\n"
	    SITE,
	    "3: upstream 'app': no servers" },
	{ "unknown balance",
	    LISTEN "upstreams = ( { name = \"a\"; balance = \"fastest\";\n"
	    "  servers = ( { address = \"1.2.3.4:80\"; } ); } );\n" SITE,
	    "2: 'balance' must be one of round_robin, least_conn, "
	    "random_two, hash" },
	{ "bad server address",
	    LISTEN "upstreams = ( { name = \"a\";\n"
	    "  servers = ( { address = \"app.local:80\"; } ); } );\n" SITE,
	    "3: bad address \"app.local:80\": not an IPv4 or IPv6 address "
	    "(host names are not resolved)" },
	{ "server weight out of range",
	    LISTEN "upstreams = ( { name = \"a\";\n"
	    "  servers = ( { address = \"1.2.3.4:80\"; weight = 300; } );"
	    " } );\n"
	    SITE,
	    "3: 'weight' must be between 1 and 256" },
	{ "health path",
	    LISTEN "upstreams = ( { name = \"a\";\n"
	    "  servers = ( { address = \"1.2.3.4:80\"; } );\n"
	    "  health = { path = \"healthz\"; }; } );\n" SITE,
	    "4: 'path' must start with '/'" },
	{ "health not a group",
	    LISTEN "upstreams = ( { name = \"a\";\n"
	    "  servers = ( { address = \"1.2.3.4:80\"; } );\n"
	    "  health = true; } );\n" SITE,
	    "4: 'health' must be a group: { ... }" },
	{ "route to an unknown upstream",
	    LISTEN "upstreams = ( { name = \"app\";\n"
	    "  servers = ( { address = \"1.2.3.4:80\"; } ); } );\n"
	    "sites = ( { hosts = [ \"*\" ];\n"
	    "  routes = ( { path = \"/x\"; upstream = \"ap\"; } ); } );\n",
	    "5: route '/x': no upstream named 'ap' (did you mean 'app'?)" },
	{ "route to an upstream, and none exists",
	    LISTEN "sites = ( { hosts = [ \"*\" ];\n"
	    "  routes = ( { path = \"/x\"; upstream = \"zz\"; } ); } );\n",
	    "3: route '/x': no upstream named 'zz'" },
	{ "route with upstream and return",
	    LISTEN "upstreams = ( { name = \"a\";\n"
	    "  servers = ( { address = \"1.2.3.4:80\"; } ); } );\n"
	    "sites = ( { hosts = [ \"*\" ]; routes = (\n"
	    "  { path = \"/\"; upstream = \"a\"; return = { status = 200; }; }"
	    " ); } );\n",
	    "5: route '/': has both 'upstream' and 'return'" },
	{ "route with neither upstream nor return",
	    LISTEN "sites = ( { hosts = [ \"*\" ]; routes = (\n"
	    "  { path = \"/\"; } ); } );\n",
	    "3: route '/': needs an 'upstream' or a 'return'" },
	{ "route path without a slash",
	    LISTEN "sites = ( { hosts = [ \"*\" ]; routes = (\n"
	    "  { path = \"x\"; return = { status = 200; }; } ); } );\n",
	    "3: route 'x': 'path' must start with '/'" },
	{ "route without path",
	    LISTEN "sites = ( { hosts = [ \"*\" ]; routes = (\n"
	    "  { return = { status = 200; }; } ); } );\n",
	    "3: route: missing 'path'" },
	{ "duplicate route path",
	    LISTEN "sites = ( { hosts = [ \"*\" ]; routes = (\n"
	    "  { path = \"/\"; return = { status = 200; }; },\n"
	    "  { path = \"/\"; return = { status = 404; }; } ); } );\n",
	    "4: route '/': duplicate path in this site (first at line 3)" },
	{ "cached route without a cache",
	    LISTEN "sites = ( { hosts = [ \"*\" ]; routes = (\n"
	    "  { path = \"/\"; cache = true; return = { status = 200; }; }"
	    " ); } );\n",
	    "3: route '/': 'cache' needs a top-level cache = { path = ...; }" },
	{ "return status out of range",
	    LISTEN "sites = ( { hosts = [ \"*\" ]; routes = (\n"
	    "  { path = \"/\"; return = { status = 600; }; } ); } );\n",
	    "3: 'status' must be between 100 and 599" },
	{ "return without status",
	    LISTEN "sites = ( { hosts = [ \"*\" ]; routes = (\n"
	    "  { path = \"/\"; return = { body = \"x\"; }; } ); } );\n",
	    "3: return: missing 'status'" },
	{ "location without a 3xx",
	    LISTEN "sites = ( { hosts = [ \"*\" ]; routes = (\n"
	    "  { path = \"/\"; return = { status = 200; location = \"/a\"; };"
	    " } ); } );\n",
	    "3: return: 'location' needs a 3xx status, not 200" },
	{ "a body on a 204",
	    LISTEN "sites = ( { hosts = [ \"*\" ]; routes = (\n"
	    "  { path = \"/\"; return = { status = 204; body = \"x\"; }; }"
	    " ); } );\n",
	    "3: return: status 204 cannot have a body" },
	{ "a header value with a newline",
	    LISTEN "sites = ( { hosts = [ \"*\" ]; routes = (\n"
	    "  { path = \"/\"; return = { status = 200;"
	    " content_type = \"text/html\\r\\nX: y\"; }; } ); } );\n",
	    "3: 'content_type' must not contain control characters" },
	{ "site without hosts",
	    LISTEN "sites = ( { routes = (\n"
	    "  { path = \"/\"; return = { status = 200; }; } ); } );\n",
	    "2: site: no hosts" },
	{ "site with an empty hosts array",
	    LISTEN "sites = ( {\n hosts = [ ]; routes = (\n"
	    "  { path = \"/\"; return = { status = 200; }; } ); } );\n",
	    "3: site: no hosts" },
	{ "site without routes",
	    LISTEN "sites = ( { hosts = [ \"*\" ]; } );\n",
	    "2: site: no routes" },
	{ "hosts of the wrong type",
	    LISTEN "sites = ( { hosts = [ 1, 2 ]; routes = (\n"
	    "  { path = \"/\"; return = { status = 200; }; } ); } );\n",
	    "2: 'hosts' must be an array of strings: [ \"a\", ... ]" },
	{ "invalid host pattern",
	    LISTEN "sites = ( { hosts = [ \"a*.example.com\" ]; routes = (\n"
	    "  { path = \"/\"; return = { status = 200; }; } ); } );\n",
	    "2: invalid host pattern \"a*.example.com\": use \"*\", "
	    "\"*.suffix\" or a plain name" },
	{ "host pattern with a port",
	    LISTEN "sites = ( { hosts = [ \"example.com:80\" ]; routes = (\n"
	    "  { path = \"/\"; return = { status = 200; }; } ); } );\n",
	    "2: invalid host pattern \"example.com:80\": use \"*\", "
	    "\"*.suffix\" or a plain name" },
	{ "host in two sites",
	    LISTEN "sites = (\n"
	    "  { hosts = [ \"a.com\" ]; routes = (\n"
	    "    { path = \"/\"; return = { status = 200; }; } ); },\n"
	    "  { hosts = [ \"A.com\" ]; routes = (\n"
	    "    { path = \"/\"; return = { status = 200; }; } ); } );\n",
	    "5: host \"a.com\" is already in the site at line 3" },
	{ "unknown user",
	    "user = \"no-such-user-here\";\n" LISTEN SITE,
	    "1: unknown user 'no-such-user-here'" },
	{ "unknown group",
	    "group = \"no-such-group-here\";\n" LISTEN SITE,
	    "1: unknown group 'no-such-group-here'" },
	{ "access_log without path",
	    "access_log = { format = \"combined\"; };\n" LISTEN SITE,
	    "1: access_log: missing 'path'" },
	{ "access_log format",
	    "access_log = { path = \"/tmp/a.log\"; format = \"json\"; };\n"
	    LISTEN SITE,
	    "1: 'format' must be \"combined\" (the only format so far)" },
	{ "cache without path",
	    "cache = { size = \"1G\"; };\n" LISTEN SITE,
	    "1: cache: missing 'path'" },
	{ "syntax error",
	    "workers = 2;\nlisteners = ( { address = \"x\" } ;\n",
	    "2: syntax error" },
	{ "duplicate setting",
	    "workers = 2;\n" LISTEN SITE "workers = 3;\n",
	    "4: duplicate setting name" },
};

static int
count_lines(const char *s)
{
	int	n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

static void
test_errors(void)
{
	struct config	*cf;
	char		*errs, want[512];
	size_t		 i;

	for (i = 0; i < PT_NELEM(error_cases); i++) {
		cf = load(error_cases[i].conf, &errs);
		snprintf(want, sizeof(want), "portico.conf:%s\n",
		    error_cases[i].want);
		tap_ok(cf == NULL, "%s: refused", error_cases[i].name);
		tap_is_str(errs, want, "  with its line and message");
		config_free(cf);
		free(errs);
	}
}

/* Every error is reported, in one go. */
static void
test_many_errors(void)
{
	struct config	*cf;
	char		*errs;

	cf = load("workers = 0;\n"
	    "max_headers = 0;\n"
	    "listeners = ( { address = \"1.2.3.4\"; },\n"
	    "  { address = \"unix:/x\"; } );\n"
	    "sites = ( { hosts = [ \"*\" ]; routes = (\n"
	    "  { path = \"/\"; upstream = \"nope\"; } ); } );\n"
	    "bogus = 1;\n", &errs);
	tap_ok(cf == NULL, "a file with seven errors is refused");
	tap_is_num(count_lines(errs), 6, "  six messages, one a line");
	tap_ok(strstr(errs, "portico.conf:1: 'workers'") != NULL &&
	    strstr(errs, "portico.conf:2: 'max_headers'") != NULL &&
	    strstr(errs, "portico.conf:3: bad address") != NULL &&
	    strstr(errs, "portico.conf:4: bad address") != NULL &&
	    strstr(errs, "portico.conf:6: route '/': no upstream") != NULL &&
	    strstr(errs, "portico.conf:7: unknown setting 'bogus'") != NULL,
	    "  each with its line");
	config_free(cf);
	free(errs);
}

/* An error in an @include'd file names that file; includes are found
   beside the file that includes them. */
static void
test_include(void)
{
	struct config	*cf;
	char		*errs, path[256];

	snprintf(path, sizeof(path), "%s/inc", tmpdir);
	mkdir(path, 0700);
	write_file("inc/sites.conf", "# sites\n\n" SITE "bogus = 1;\n");
	cf = load(LISTEN "@include \"inc/sites.conf\"\n", &errs);
	tap_ok(cf == NULL, "an error in an included file");
	tap_is_str(errs, "inc/sites.conf:4: unknown setting 'bogus'\n",
	    "  names the included file and its line");
	free(errs);
	config_free(cf);
	write_file("inc/sites.conf", SITE);
	cf = load(LISTEN "@include \"inc/sites.conf\"\n", &errs);
	tap_ok(cf != NULL && cf->nsites == 1, "a good included file");
	free(errs);
	config_free(cf);
}

/* The groups may come in any order: routes name upstreams and use the
   cache written after them. */
static void
test_order(void)
{
	struct config	*cf;
	char		*errs;

	cf = load("sites = ( { hosts = [ \"*\" ]; routes = (\n"
	    "  { path = \"/\"; upstream = \"late\"; cache = true; } ); } );\n"
	    "upstreams = ( { name = \"late\";\n"
	    "  servers = ( { address = \"1.2.3.4:80\"; } ); } );\n"
	    "cache = { path = \"/tmp/c.db\"; };\n" LISTEN, &errs);
	tap_ok(cf != NULL, "upstreams and cache after the sites");
	tap_is_str(errs, "", "  without a word");
	tap_ok(cf != NULL && cf->sites[0].routes[0].upstream ==
	    &cf->upstreams[0], "  the route points at its upstream");
	config_free(cf);
	free(errs);
}

static void
test_missing_file(void)
{
	struct config	*cf;
	char		*buf = NULL;
	size_t		 len = 0;
	FILE		*fp;

	fp = open_memstream(&buf, &len);
	cf = config_load("/nonexistent/portico.conf", fp);
	fclose(fp);
	tap_ok(cf == NULL, "a missing file is refused");
	tap_is_str(buf, "/nonexistent/portico.conf: cannot read: "
	    "No such file or directory\n", "  saying why");
	free(buf);

	buf = NULL;
	fp = open_memstream(&buf, &len);
	cf = config_load(tmpdir, fp);
	fclose(fp);
	tap_ok(cf == NULL && buf != NULL &&
	    strstr(buf, ": cannot read: Is a directory\n") != NULL,
	    "a directory is refused, saying why");
	free(buf);
}

static void
test_names(void)
{
	const char *const	*names = config_setting_names();
	static const char	*want[] = {
		"workers", "max_body_size", "access_log", "access_log.path",
		"cache.size", "proxy_headers.via", "listeners.address",
		"listeners.tls.certificates.key", "upstreams.servers.weight",
		"upstreams.health.fall", "sites.hosts", "sites.routes.path",
		"sites.routes.return.location",
	};
	size_t			 i, j, n;
	bool			 found, dup = false;

	for (n = 0; names[n] != NULL; n++)
		for (j = 0; j < n; j++)
			dup |= strcmp(names[j], names[n]) == 0;
	tap_ok(n > 60, "config_setting_names(): %zu names", n);
	tap_ok(!dup, "  no name twice");
	for (i = 0; i < PT_NELEM(want); i++) {
		for (j = 0, found = false; j < n && !found; j++)
			found = strcmp(names[j], want[i]) == 0;
		tap_ok(found, "  knows %s", want[i]);
	}
}

/* Every setting is documented as ".It Cm name" in the man page. */
static void
test_man_page(void)
{
	const char *const	*names = config_setting_names();
	const char		*last;
	char			*text = NULL, item[128], *p;
	size_t			 len = 0, i, missing = 0;
	FILE			*fp, *mem;
	int			 c;

	if ((fp = fopen(MAN_PAGE, "r")) == NULL) {
		tap_ok(0, "read %s: %s", MAN_PAGE, strerror(errno));
		return;
	}
	mem = open_memstream(&text, &len);
	while ((c = getc(fp)) != EOF)
		putc(c, mem);
	fclose(fp);
	fclose(mem);
	for (i = 0; names[i] != NULL; i++) {
		last = strrchr(names[i], '.');
		last = last != NULL ? last + 1 : names[i];
		snprintf(item, sizeof(item), "\n.It Cm %s", last);
		for (p = text; (p = strstr(p, item)) != NULL; p++)
			if (p[strlen(item)] == ' ' || p[strlen(item)] == '\n')
				break;
		if (p == NULL) {
			printf("# %s: no '.It Cm %s'\n", names[i], last);
			missing++;
		}
	}
	tap_ok(i > 0 && missing == 0, "%s documents all %zu settings",
	    MAN_PAGE, i);
	free(text);
}

static void
cleanup(void)
{
	static const char	*files[] = {
		"portico.conf", "a.pem", "a.key", "b.pem", "b.key",
		"inc/sites.conf", "inc",
	};
	char			 path[256];
	size_t			 i;

	for (i = 0; i < PT_NELEM(files); i++) {
		snprintf(path, sizeof(path), "%s/%s", tmpdir, files[i]);
		(void)remove(path);
	}
	(void)rmdir(tmpdir);
}

int
main(void)
{
	if (mkdtemp(tmpdir) == NULL || getcwd(topdir, sizeof(topdir)) == NULL) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	test_durations();
	test_sizes();
	test_full();
	test_defaults();
	test_errors();
	test_many_errors();
	test_include();
	test_order();
	test_missing_file();
	test_names();
	test_man_page();
	cleanup();
	printf("1..%d\n", tap_count);
	return tap_failures != 0;
}
