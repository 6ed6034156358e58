/*
 * config_errors.c: unit tests of the errors common/config.c reports,
 * printing TAP.
 *
 * Every class of error with its line and message, every error of a file
 * in one go, errors in an @include'd file, and a file that cannot be read.
 */
#include <sys/stat.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "tap.h"

static char	tmpdir[] = "/tmp/portico-config-errors-test.XXXXXX";

#include "conffix.h"

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
		ok(cf == NULL, "%s: refused", error_cases[i].name);
		is_str(errs, want, "  with its line and message");
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
	ok(cf == NULL, "a file with seven errors is refused");
	is_int(count_lines(errs), 6, "  six messages, one a line");
	ok(strstr(errs, "portico.conf:1: 'workers'") != NULL &&
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
	ok(cf == NULL, "an error in an included file");
	is_str(errs, "inc/sites.conf:4: unknown setting 'bogus'\n",
	    "  names the included file and its line");
	free(errs);
	config_free(cf);
	write_file("inc/sites.conf", SITE);
	cf = load(LISTEN "@include \"inc/sites.conf\"\n", &errs);
	ok(cf != NULL && cf->nsites == 1, "a good included file");
	free(errs);
	config_free(cf);
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
	ok(cf == NULL, "a missing file is refused");
	is_str(buf, "/nonexistent/portico.conf: cannot read: "
	    "No such file or directory\n", "  saying why");
	free(buf);

	buf = NULL;
	fp = open_memstream(&buf, &len);
	cf = config_load(tmpdir, fp);
	fclose(fp);
	ok(cf == NULL && buf != NULL &&
	    strstr(buf, ": cannot read: Is a directory\n") != NULL,
	    "a directory is refused, saying why");
	free(buf);
}

static void
cleanup(void)
{
	static const char	*files[] = {
		"portico.conf", "inc/sites.conf", "inc",
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
	if (mkdtemp(tmpdir) == NULL) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	test_errors();
	test_many_errors();
	test_include();
	test_missing_file();
	cleanup();
	return done();
}
