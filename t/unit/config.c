/*
 * config.c: unit tests of common/config.c, printing TAP.
 *
 * The units, a full config read into the struct, every default, the
 * groups in any order, and a check that every setting the loader knows is
 * documented in man/portico.conf.5 (the tests run from the top of the
 * tree).  Every class of error is in config_errors.c.
 */
#include <sys/stat.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "tap.h"

#define MAN_PAGE	"man/portico.conf.5"

static char	tmpdir[] = "/tmp/portico-config-test.XXXXXX";
static char	topdir[1024];	/* where we run: the top of the tree */

#include "conffix.h"

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
			ok(rc == 0 && ms == cases[i].ms, "duration '%s' "
			    "is %lld ms", cases[i].text, cases[i].ms);
		else
			ok(rc == -1 && err != NULL &&
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
			ok(rc == 0 && bytes == cases[i].bytes, "size '%s' "
			    "is %llu", cases[i].text, cases[i].bytes);
		else
			ok(rc == -1 && err != NULL &&
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
    "  { name = \"api\"; balance = \"hash\"; hash_key = \"uri\";\n" /* 42 */
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
	char			 cmd[512];

	/* Real pairs: the check of the tls group loads them. */
	snprintf(cmd, sizeof(cmd), "cd %s && for n in a b; do openssl req "
	    "-x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
	    "-keyout $n.key -out $n.pem -days 2 -subj /CN=$n.test "
	    "2>/dev/null || exit 1; done", tmpdir);
	if (system(cmd) != 0)
		diag("openssl req failed");
	/* Certificate paths are relative to where we run: go there. */
	if (chdir(tmpdir) == -1)
		diag("chdir: %s", strerror(errno));
	cf = load(full_config, &errs);
	if (chdir(topdir) == -1)
		diag("chdir: %s", strerror(errno));
	ok(cf != NULL, "the full config loads");
	is_str(errs, "", "  without a word");
	free(errs);
	if (cf == NULL)
		return;
	is_int(cf->workers, 3, "workers");
	is_str(cf->user, "root", "user");
	is_str(cf->group, "root", "group");
	is_str(cf->pid_file, "/tmp/p.pid", "pid_file");
	is_str(cf->error_log, "stderr", "error_log");
	is_int(cf->shutdown_timeout_ms, 5000, "shutdown_timeout");
	is_int(cf->max_connections, 500, "max_connections");
	is_int(cf->max_upstream_connections, 600,
	    "max_upstream_connections");
	is_int(cf->client_header_timeout_ms, 2000,
	    "client_header_timeout");
	is_int(cf->client_body_timeout_ms, 3000,
	    "client_body_timeout: a bare number is seconds");
	is_int(cf->keepalive_timeout_ms, 0, "keepalive_timeout 0");
	is_int(cf->send_timeout_ms, 90000, "send_timeout 1m30s");
	is_int(cf->tunnel_timeout_ms, 7200000, "tunnel_timeout");
	is_int(cf->keepalive_requests, 0, "keepalive_requests 0");
	is_int(cf->max_request_line, 4096, "max_request_line");
	is_int(cf->max_header_size, 65536,
	    "max_header_size: a bare number is bytes");
	is_int(cf->max_headers, 50, "max_headers");
	is_int(cf->max_body_size, 0, "max_body_size 0");
	is_int(cf->buffer_size, 16384, "buffer_size");
	is_str(cf->access_log.path, "/tmp/a.log", "access_log.path");
	is_str(cf->access_log.format, "combined", "access_log.format");
	is_int(cf->access_log.buffer, 8192, "access_log.buffer");
	is_int(cf->access_log.flush_ms, 250, "access_log.flush");
	is_str(cf->cache.path, "/tmp/c.db", "cache.path");
	is_int(cf->cache.size, 1ULL << 30, "cache.size");
	ok(!cf->proxy_headers.x_forwarded_for &&
	    !cf->proxy_headers.x_forwarded_proto &&
	    !cf->proxy_headers.x_forwarded_host && !cf->proxy_headers.via,
	    "proxy_headers all off");

	is_int(cf->nlisteners, 2, "two listeners");
	is_str(cf->listeners[0].address, "127.0.0.1:8080",
	    "listener address as written");
	addr_format(&cf->listeners[1].addr, buf, sizeof(buf));
	is_str(buf, "[::1]:8443", "listener address parsed");
	is_int(cf->listeners[0].backlog, 100, "backlog");
	is_int(cf->listeners[1].backlog, 511, "backlog default");
	is_int(cf->listeners[0].line, 27, "listener line");
	ok(cf->listeners[0].tls == NULL, "plain listener has no tls");
	ok(cf->listeners[1].tls != NULL &&
	    cf->listeners[1].tls->ncerts == 2, "tls: two certificates");
	if (cf->listeners[1].tls != NULL && cf->listeners[1].tls->ncerts == 2) {
		is_str(cf->listeners[1].tls->certs[1].certificate, "b.pem",
		    "certificate");
		is_str(cf->listeners[1].tls->certs[1].key, "b.key", "key");
		is_int(cf->listeners[1].tls->certs[0].line, 30,
		    "certificate line");
		is_int(cf->listeners[1].tls->line, 29, "tls line");
	}

	is_int(cf->nupstreams, 2, "two upstreams");
	u = &cf->upstreams[0];
	is_str(u->name, "app", "upstream name");
	ok(u->balance == BALANCE_LEAST_CONN, "balance least_conn");
	ok(cf->upstreams[1].balance == BALANCE_HASH, "balance hash");
	ok(cf->upstreams[1].hash_kind == HASH_KEY_URI, "hash_key uri");
	is_int(u->keepalive, 0, "keepalive 0");
	is_int(u->keepalive_timeout_ms, 10000,
	    "upstream keepalive_timeout");
	is_int(u->connect_timeout_ms, 1000, "connect_timeout");
	is_int(u->read_timeout_ms, 20000, "read_timeout");
	is_int(u->write_timeout_ms, 30000, "write_timeout");
	is_int(u->index, 0, "index 0");
	is_int(cf->upstreams[1].index, 1, "index 1");
	is_int(u->line, 34, "upstream line");
	is_int(u->nservers, 2, "two servers");
	is_int(u->servers[0].weight, 5, "weight");
	is_int(u->servers[0].max_conns, 10, "max_conns");
	ok(!u->servers[0].backup && u->servers[1].backup, "backup");
	is_int(u->servers[1].weight, 1, "weight default");
	ok(u->servers[1].addr.sa.ss_family == AF_UNIX, "unix server");
	is_int(u->servers[0].line, 37, "server line");
	ok(u->health.enabled, "health enabled");
	is_str(u->health.path, "/healthz", "health.path");
	is_int(u->health.interval_ms, 5000, "health.interval");
	is_int(u->health.timeout_ms, 500, "health.timeout");
	is_int(u->health.rise, 1, "health.rise");
	is_int(u->health.fall, 7, "health.fall");
	ok(!cf->upstreams[1].health.enabled, "no health group: disabled");

	is_int(cf->nsites, 2, "two sites");
	is_int(cf->sites[0].nhosts, 2, "two hosts");
	is_str(cf->sites[0].hosts[0], "example.com", "host lower-cased");
	is_str(cf->sites[0].hosts[1], "*.example.com", "wildcard host");
	is_int(cf->sites[0].line, 46, "site line");
	is_int(cf->sites[1].nhosts, 1, "a single string is one host");
	is_str(cf->sites[1].hosts[0], "*", "host *");
	is_int(cf->sites[0].nroutes, 3, "three routes");
	r = &cf->sites[0].routes[0];
	is_str(r->path, "/static/", "route path");
	is_int(r->path_len, 8, "route path_len");
	ok(r->upstream == &cf->upstreams[0], "route points at 'app'");
	ok(cf->sites[0].routes[1].upstream == &cf->upstreams[1],
	    "route points at 'api'");
	ok(r->cache && !cf->sites[0].routes[1].cache, "route cache");
	ok(r->ret == NULL, "proxy route has no return");
	r = &cf->sites[0].routes[2];
	ok(r->upstream == NULL && r->ret != NULL, "return route");
	is_int(r->line, 49, "route line");
	if (r->ret != NULL) {
		is_int(r->ret->status, 301, "return status");
		is_str(r->ret->location, "https://example.com/",
		    "return location");
		is_str(r->ret->body, "", "return body default");
		is_int(r->ret->body_len, 0, "return body_len 0");
	}
	r = &cf->sites[1].routes[0];
	if (r->ret != NULL) {
		is_str(r->ret->body, "no such site\n", "return body");
		is_int(r->ret->body_len, 13, "return body_len");
		is_str(r->ret->content_type, "text/html", "content_type");
		ok(r->ret->location == NULL, "no location");
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
	ok(cf != NULL, "the smallest config loads");
	is_str(errs, "", "  without a word");
	free(errs);
	if (cf == NULL)
		return;
	is_int(cf->workers, cpus < 1 ? 1 : cpus > 256 ? 256 : cpus,
	    "workers auto: one per CPU");
	ok(cf->user == NULL && cf->group == NULL, "no user, no group");
	is_str(cf->pid_file, LOCALSTATEDIR "/run/portico.pid", "pid_file");
	is_str(cf->error_log, LOCALSTATEDIR "/log/portico/error.log",
	    "error_log");
	is_int(cf->shutdown_timeout_ms, 30000, "shutdown_timeout 30s");
	is_int(cf->max_connections, 10000, "max_connections 10000");
	is_int(cf->max_upstream_connections, 8192,
	    "max_upstream_connections 8192");
	is_int(cf->client_header_timeout_ms, 10000,
	    "client_header_timeout 10s");
	is_int(cf->client_body_timeout_ms, 30000,
	    "client_body_timeout 30s");
	is_int(cf->keepalive_timeout_ms, 75000, "keepalive_timeout 75s");
	is_int(cf->send_timeout_ms, 60000, "send_timeout 60s");
	is_int(cf->tunnel_timeout_ms, 3600000, "tunnel_timeout 1h");
	is_int(cf->keepalive_requests, 10000, "keepalive_requests 10000");
	is_int(cf->max_request_line, 8192, "max_request_line 8K");
	is_int(cf->max_header_size, 32768, "max_header_size 32K");
	is_int(cf->max_headers, 100, "max_headers 100");
	is_int(cf->max_body_size, 64ULL << 20, "max_body_size 64M");
	is_int(cf->buffer_size, 65536, "buffer_size 64K");
	ok(cf->proxy_headers.x_forwarded_for &&
	    cf->proxy_headers.x_forwarded_proto &&
	    cf->proxy_headers.x_forwarded_host && cf->proxy_headers.via,
	    "proxy_headers all on");
	ok(cf->access_log.path == NULL, "no access log");
	is_str(cf->access_log.format, "combined", "access_log.format");
	is_int(cf->access_log.buffer, 65536, "access_log.buffer 64K");
	is_int(cf->access_log.flush_ms, 1000, "access_log.flush 1s");
	ok(cf->cache.path == NULL, "no cache");
	is_int(cf->cache.size, 256ULL << 20, "cache.size 256M");
	is_int(cf->listeners[0].backlog, 511, "backlog 511");
	ok(cf->upstreams[0].balance == BALANCE_ROUND_ROBIN,
	    "balance round_robin");
	is_int(cf->upstreams[0].keepalive, 32, "keepalive 32");
	is_int(cf->upstreams[0].keepalive_timeout_ms, 60000,
	    "upstream keepalive_timeout 60s");
	is_int(cf->upstreams[0].connect_timeout_ms, 5000,
	    "connect_timeout 5s");
	is_int(cf->upstreams[0].read_timeout_ms, 60000, "read_timeout 60s");
	is_int(cf->upstreams[0].write_timeout_ms, 60000,
	    "write_timeout 60s");
	is_int(cf->upstreams[0].servers[0].weight, 1, "weight 1");
	ok(!cf->upstreams[0].servers[0].backup, "backup false");
	is_int(cf->upstreams[0].servers[0].max_conns, 0, "max_conns 0");
	ok(!cf->upstreams[0].health.enabled, "health off");
	is_str(cf->upstreams[0].health.path, "/", "health.path /");
	is_int(cf->upstreams[0].health.interval_ms, 2000,
	    "health.interval 2s");
	is_int(cf->upstreams[0].health.timeout_ms, 1000,
	    "health.timeout 1s");
	is_int(cf->upstreams[0].health.rise, 2, "health.rise 2");
	is_int(cf->upstreams[0].health.fall, 3, "health.fall 3");
	r = &cf->sites[0].routes[0];
	ok(!r->cache, "route cache false");
	ok(r->ret != NULL && strcmp(r->ret->content_type,
	    "text/plain") == 0, "return content_type text/plain");
	ok(r->ret != NULL && r->ret->location == NULL &&
	    strcmp(r->ret->body, "") == 0, "return body \"\", no location");
	config_free(cf);

	cf = load("workers = \"auto\";\n" LISTEN SITE, &errs);
	ok(cf != NULL && cf->workers >= 1, "workers = \"auto\" written");
	config_free(cf);
	free(errs);
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
	ok(cf != NULL, "upstreams and cache after the sites");
	is_str(errs, "", "  without a word");
	ok(cf != NULL && cf->sites[0].routes[0].upstream ==
	    &cf->upstreams[0], "  the route points at its upstream");
	config_free(cf);
	free(errs);
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
	ok(n > 60, "config_setting_names(): %zu names", n);
	ok(!dup, "  no name twice");
	for (i = 0; i < PT_NELEM(want); i++) {
		for (j = 0, found = false; j < n && !found; j++)
			found = strcmp(names[j], want[i]) == 0;
		ok(found, "  knows %s", want[i]);
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
		ok(0, "read %s: %s", MAN_PAGE, strerror(errno));
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
			diag("%s: no '.It Cm %s'", names[i], last);
			missing++;
		}
	}
	ok(i > 0 && missing == 0, "%s documents all %zu settings",
	    MAN_PAGE, i);
	free(text);
}

static void
cleanup(void)
{
	static const char	*files[] = {
		"portico.conf", "a.pem", "a.key", "b.pem", "b.key",
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
	test_order();
	test_names();
	test_man_page();
	cleanup();
	return done();
}
