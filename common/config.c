/*
 * config.c: Portico's configuration file: the tables of its settings, the
 * checks between them, and config_load().  See config.h.
 *
 * Each group of the file ({ ... }) has a table below: name, kind,
 * default (written as it would be in the file), range, and where the
 * value goes in the struct of config.h.  conftab.c reads the file through
 * them, so that adding a setting is one line of a table; the same tables
 * fill in the defaults, free the tree, suggest "did you mean", and list
 * the names that the man page test looks for.
 *
 * What the tables cannot say is what only Portico knows.  The setters of
 * confval.c check the values a setting takes beyond its kind (a user that
 * exists, a host pattern) and what must not come twice (no two listeners
 * on one address, no host in two sites); the checks of the groups, here,
 * the rules between settings (a route proxies or answers, its upstream
 * is defined somewhere in the file).
 */
#include <stdlib.h>

#include "config.h"
#include "amount.h"
#include "conftab.h"
#include "confval.h"
#include "tls.h"

#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR	"/usr/local/var"
#endif

/* The longest wait: 24 days of milliseconds still fits an int, which is
   what poll and epoll take as a timeout. */
#define DUR_MAX		(24ULL * 86400 * 1000)

/* Short names, so that an entry of a table fits on a line. */
#define KB		CONFTAB_KB
#define MB		CONFTAB_MB
#define TB		CONFTAB_TB
#define S_REQUIRED	CONFTAB_REQUIRED
#define S_EMPTY_OK	CONFTAB_EMPTY_OK
#define S_ALLOC		CONFTAB_ALLOC

/*
 * The tables, in the order of the file and of man/portico.conf.5.  The
 * macros take the field of T, the struct of the table being written.
 */
#define F(f)		.off = offsetof(T, f), .width = sizeof(((T *)0)->f)
#define AMOUNT(k, n, f, d, lo, hi) \
	{ .name = n, .kind = k, .def = d, .min = lo, .max = hi, F(f) }
#define NUM(...)	AMOUNT(CONFTAB_NUM, __VA_ARGS__)
#define DUR(...)	AMOUNT(CONFTAB_DURATION, __VA_ARGS__)
#define SIZE(...)	AMOUNT(CONFTAB_SIZE, __VA_ARGS__)
#define BOOL(n, f, d) \
	{ .name = n, .kind = CONFTAB_BOOL, .def = d, F(f) }
#define STR(n, f, d, fl, fn_) \
	{ .name = n, .kind = CONFTAB_STR, .def = d, .flags = fl, .fn = fn_, \
	  F(f) }
#define STRV(n, f, c, fl, fn_) \
	{ .name = n, .kind = CONFTAB_STRV, .cnt = offsetof(T, c), \
	  .flags = fl, .fn = fn_, F(f) }
#define GROUP(n, f, fl, g) \
	{ .name = n, .kind = CONFTAB_GROUP, .flags = fl, .sub = &g, F(f) }
#define LIST(n, f, c, fl, g) \
	{ .name = n, .kind = CONFTAB_LIST, .cnt = offsetof(T, c), \
	  .flags = fl, .sub = &g, F(f) }
#define ENUM(n, f, d, w) \
	{ .name = n, .kind = CONFTAB_ENUM, .def = d, .words = w, F(f) }
#define CUSTOM(n, f, d, lo, hi, fn_) \
	{ .name = n, .kind = CONFTAB_CUSTOM, .def = d, .min = lo, .max = hi, \
	  .fn = fn_, F(f) }

/* A group's table: its name in messages, the offsets of its line and of
   the setting that names it (-1: none), its settings, its check. */
#define LINE		offsetof(T, line)
#define TABLE(w, lo, ko, t, c) \
	{ .what = w, .size = sizeof(T), .line_off = lo, .key_off = ko, \
	  .settings = t, .nsettings = PT_NELEM(t), .check = c }

/* The checks of the groups, below the tables; the setters are in
   confval.c. */
static conftab_check_fn end_top, end_upstream, end_health, end_site,
    end_route, end_return, end_tls, end_upstream_tls, end_cache,
    end_route_cache;

static const struct conftab_table proxy_headers_group, access_log_group,
    cache_group, admin_group, listener_group, tls_group, cert_group,
    upstream_group, upstream_tls_group, server_group, health_group,
    site_group, route_group, return_group, route_cache_group;

/*
 * The top level: the processes, then the limits and timeouts of the
 * client side.  Timeouts that 0 would make useless start at 1ms; 0 keeps
 * a meaning where it has one (no keep-alive, stop at once).
 */
#define T struct config
static const struct conftab_setting top_settings[] = {
	CUSTOM("workers", workers, "auto", 1, 256, confval_set_workers),
	STR("user", user, NULL, 0, confval_check_account),
	STR("group", group, NULL, 0, confval_check_account),
	STR("pid_file", pid_file, LOCALSTATEDIR "/run/portico.pid", 0, NULL),
	STR("error_log", error_log, LOCALSTATEDIR "/log/portico/error.log",
	    0, NULL),
	DUR("shutdown_timeout", shutdown_timeout_ms, "30s", 0, DUR_MAX),
	DUR("ticket_key_lifetime", ticket_key_lifetime_ms, "1h", 1000,
	    DUR_MAX),
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
	SIZE("buffer_size", buffer_size, "64K", 4 * KB, MB),
	GROUP("access_log", access_log, 0, access_log_group),
	GROUP("cache", cache, 0, cache_group),
	GROUP("proxy_headers", proxy_headers, 0, proxy_headers_group),
	GROUP("admin", admin, S_ALLOC, admin_group),
	LIST("listeners", listeners, nlisteners, S_REQUIRED, listener_group),
	LIST("upstreams", upstreams, nupstreams, 0, upstream_group),
	LIST("sites", sites, nsites, S_REQUIRED, site_group),
};
static const struct conftab_table top_group =
    TABLE(NULL, -1, -1, top_settings, end_top);
#undef T

/* access_log = { ... }: absent, no access log (path stays NULL). */
#define T struct config_access_log
static const struct conftab_setting access_log_settings[] = {
	STR("path", path, NULL, S_REQUIRED, NULL),
	STR("format", format, "combined", 0, confval_check_format),
	SIZE("buffer", buffer, "64K", 4 * KB, 64 * MB),
	DUR("flush", flush_ms, "1s", 1, DUR_MAX),
};
static const struct conftab_table access_log_group =
    TABLE("access_log", -1, -1, access_log_settings, NULL);
#undef T

/* cache = { ... }: absent, no cache (path stays NULL). */
#define T struct config_cache
static const struct conftab_setting cache_settings[] = {
	STR("path", path, NULL, S_REQUIRED, NULL),
	SIZE("size", size, "256M", MB, 16 * TB),
	DUR("lock_timeout", lock_timeout_ms, "5s", 0, DUR_MAX),
	SIZE("buffers", buffers, "64M", 0, TB),
	STRV("purge_allow", purge.allow, purge.nallow, 0, confval_set_allow),
};
static const struct conftab_table cache_group =
    TABLE("cache", -1, -1, cache_settings, end_cache);
#undef T

/* proxy_headers = { ... }: what the origin is told of the client. */
#define T struct config_proxy_headers
static const struct conftab_setting proxy_headers_settings[] = {
	BOOL("x_forwarded_for", x_forwarded_for, "true"),
	BOOL("x_forwarded_proto", x_forwarded_proto, "true"),
	BOOL("x_forwarded_host", x_forwarded_host, "true"),
	BOOL("via", via, "true"),
};
static const struct conftab_table proxy_headers_group =
    TABLE("proxy_headers", -1, -1, proxy_headers_settings, NULL);
#undef T

/* admin = { ... }: the status endpoint, off unless given. */
#define T struct config_admin
static const struct conftab_setting admin_settings[] = {
	STR("address", address, NULL, S_REQUIRED, confval_set_admin_address),
	STRV("allow", allow.allow, allow.nallow, 0, confval_set_allow),
};
static const struct conftab_table admin_group =
    TABLE("admin", LINE, -1, admin_settings, NULL);
#undef T

/* listeners = ( { ... } ): at least one; tls absent is plain HTTP. */
#define T struct config_listener
static const struct conftab_setting listener_settings[] = {
	STR("address", address, NULL, S_REQUIRED, confval_set_listener_address),
	NUM("backlog", backlog, "511", 1, 65535),
	GROUP("tls", tls, S_ALLOC, tls_group),
};
static const struct conftab_table listener_group =
    TABLE("listener", LINE, offsetof(T, address), listener_settings, NULL);
#undef T

static const char *const verify_modes[] = {
	[VERIFY_OFF] = "off",
	[VERIFY_OPTIONAL] = "optional",
	[VERIFY_REQUIRED] = "required",
	NULL
};

/* tls = { ... }: a pointer in the listener, NULL without it. */
#define T struct config_tls
static const struct conftab_setting tls_settings[] = {
	LIST("certificates", certs, ncerts, S_REQUIRED, cert_group),
	STRV("protocols", protocols.names, protocols.nnames, 0,
	    confval_set_protocols),
	STR("ciphers", ciphers, TLS_DEFAULT_CIPHERS, 0, NULL),
	STR("ciphersuites", ciphersuites, NULL, 0, NULL),
	STR("groups", groups, TLS_DEFAULT_GROUPS, 0, NULL),
	{ .name = "client_verify", .kind = CONFTAB_ENUM, .def = "off",
	  .words = verify_modes, .fn = confval_note_verify_line,
	  F(client_verify) },
	STR("client_ca", client_ca, NULL, 0, NULL),
	BOOL("session_tickets", session_tickets, "true"),
};
static const struct conftab_table tls_group =
    TABLE("tls", LINE, -1, tls_settings, end_tls);
#undef T

/* The files are checked readable here, and loaded by the check of the
   tls group, with OpenSSL. */
#define T struct config_tls_cert
static const struct conftab_setting cert_settings[] = {
	STR("certificate", certificate, NULL, S_REQUIRED,
	    confval_check_readable),
	STR("key", key, NULL, S_REQUIRED, confval_check_readable),
	STR("ocsp", ocsp, NULL, 0, confval_check_readable),
};
static const struct conftab_table cert_group =
    TABLE("certificate", LINE, -1, cert_settings, NULL);
#undef T

static const char *const balance_methods[] = {
	[BALANCE_ROUND_ROBIN] = "round_robin",
	[BALANCE_LEAST_CONN] = "least_conn",
	[BALANCE_RANDOM_TWO] = "random_two",
	[BALANCE_HASH] = "hash",
	NULL
};

/* upstreams = ( { ... } ): the groups of origin servers. */
#define T struct config_upstream
static const struct conftab_setting upstream_settings[] = {
	STR("name", name, NULL, S_REQUIRED, confval_check_upstream_name),
	ENUM("balance", balance, "round_robin", balance_methods),
	NUM("keepalive", keepalive, "32", 0, 4096),
	DUR("keepalive_timeout", keepalive_timeout_ms, "60s", 1, DUR_MAX),
	DUR("connect_timeout", connect_timeout_ms, "5s", 1, DUR_MAX),
	DUR("read_timeout", read_timeout_ms, "60s", 1, DUR_MAX),
	DUR("write_timeout", write_timeout_ms, "60s", 1, DUR_MAX),
	LIST("servers", servers, nservers, S_REQUIRED, server_group),
	STR("hash_key", hash_key, NULL, 0, confval_set_hash_key),
	STR("sticky_cookie", sticky_cookie, NULL, 0, confval_check_cookie_name),
	NUM("tries", tries, "3", 1, 16),
	STRV("next_upstream", next_upstream, nnext_upstream, 0,
	    confval_set_next_upstream),
	DUR("next_upstream_timeout", next_upstream_timeout_ms, "0", 0,
	    DUR_MAX),
	NUM("max_fails", max_fails, "3", 0, 100),
	DUR("fail_timeout", fail_timeout_ms, "10s", 100, DUR_MAX),
	BOOL("fail_on_5xx", fail_on_5xx, "false"),
	GROUP("health", health, 0, health_group),
	GROUP("tls", tls, S_ALLOC, upstream_tls_group),
};
static const struct conftab_table upstream_group =
    TABLE("upstream", LINE, offsetof(T, name), upstream_settings, end_upstream);
#undef T

/* An upstream's tls = { ... }: Portico is the client. */
#define T struct config_upstream_tls
static const struct conftab_setting upstream_tls_settings[] = {
	BOOL("verify", verify, "true"),
	STR("ca", ca, NULL, 0, NULL),
	STR("name", name, NULL, 0, NULL),
	BOOL("sni", sni, "true"),
	STR("certificate", certificate, NULL, 0, NULL),
	STR("key", key, NULL, 0, NULL),
	STRV("protocols", protocols.names, protocols.nnames, 0,
	    confval_set_protocols),
	STR("ciphers", ciphers, TLS_DEFAULT_CIPHERS, 0, NULL),
	STR("ciphersuites", ciphersuites, NULL, 0, NULL),
	STR("groups", groups, TLS_DEFAULT_GROUPS, 0, NULL),
};
static const struct conftab_table upstream_tls_group =
    TABLE("upstream tls", LINE, -1, upstream_tls_settings,
	end_upstream_tls);
#undef T

/* servers = ( { ... } ): at least one per upstream. */
#define T struct config_server
static const struct conftab_setting server_settings[] = {
	STR("address", address, NULL, S_REQUIRED, confval_set_server_address),
	NUM("weight", weight, "1", 1, 256),
	BOOL("backup", backup, "false"),
	NUM("max_conns", max_conns, "0", 0, 1000000),
	DUR("slow_start", slow_start_ms, "0", 0, DUR_MAX),
};
static const struct conftab_table server_group =
    TABLE("server", LINE, offsetof(T, address), server_settings, NULL);
#undef T

/* health = { ... }: for the checker; defaults even when absent. */
#define T struct config_health
static const char *const check_types[] = {
	[CHECK_HTTP] = "http",
	[CHECK_TCP] = "tcp",
	NULL
};

static const struct conftab_setting health_settings[] = {
	ENUM("type", type, "http", check_types),
	STR("path", path, "/", 0, confval_check_uri_path),
	STR("host", host, NULL, 0, confval_check_header_value),
	STR("status", status, "200-399", 0, confval_set_check_status),
	STR("body", body, NULL, 0, confval_check_regex),
	DUR("jitter", jitter_ms, "0", 0, DUR_MAX),
	DUR("interval", interval_ms, "2s", 100, DUR_MAX),
	DUR("timeout", timeout_ms, "1s", 1, DUR_MAX),
	NUM("rise", rise, "2", 1, 100),
	NUM("fall", fall, "3", 1, 100),
};
static const struct conftab_table health_group =
    TABLE("health", -1, -1, health_settings, end_health);
#undef T

/* sites = ( { ... } ): virtual hosts, picked by the Host header. */
#define T struct config_site
static const struct conftab_setting site_settings[] = {
	STRV("hosts", hosts, nhosts, S_REQUIRED, confval_check_hosts),
	BOOL("redirect_https", redirect_https, "false"),
	NUM("https_port", https_port, "443", 1, 65535),
	STR("hsts", hsts, NULL, 0, confval_check_hsts),
	LIST("routes", routes, nroutes, S_REQUIRED, route_group),
};
static const struct conftab_table site_group =
    TABLE("site", LINE, -1, site_settings, end_site);
#undef T

/* routes = ( { ... } ): by path prefix, in order; upstream or return. */
#define T struct config_route
static const struct conftab_setting route_settings[] = {
	STR("path", path, NULL, S_REQUIRED, confval_check_route_path),
	CUSTOM("upstream", upstream, NULL, 0, 0, confval_set_route_upstream),
	GROUP("cache", cache, S_ALLOC, route_cache_group),
	GROUP("return", ret, S_ALLOC, return_group),
};
static const struct conftab_table route_group =
    TABLE("route", LINE, offsetof(T, path), route_settings, end_route);
#undef T

/* A route's cache = { ... }, or true for these defaults. */
static const char *const set_cookie_modes[] = {
	"pass", "strip", "keep", NULL
};
#define T struct config_route_cache
static const struct conftab_setting route_cache_settings[] = {
	STRV("key", key, nkey, 0, confval_set_cache_key),
	DUR("default_ttl", default_ttl_ms, "0", 0, DUR_MAX),
	SIZE("max_object", max_object, "8M", 0, TB),
	NUM("heuristic", heuristic, "10", 0, 100),
	ENUM("set_cookie", set_cookie, "pass", set_cookie_modes),
	CUSTOM("statuses", statuses, "200-599", 200, 599,
	    confval_set_statuses),
	DUR("stale_on_error", stale_on_error_ms, "10s", 0, DUR_MAX),
};
static const struct conftab_table route_cache_group =
    TABLE("cache", -1, -1, route_cache_settings, end_route_cache);
#undef T

/* return = { ... }: an answer of our own, without an origin. */
#define T struct config_return
static const struct conftab_setting return_settings[] = {
	{ .name = "status", .kind = CONFTAB_NUM, .min = 100, .max = 599,
	  .flags = S_REQUIRED, F(status) },
	STR("body", body, "", S_EMPTY_OK, NULL),
	STR("content_type", content_type, "text/plain", 0,
	    confval_check_header_value),
	STR("location", location, NULL, 0, confval_check_header_value),
};
static const struct conftab_table return_group =
    TABLE("return", -1, -1, return_settings, end_return);
#undef T

/* ------------------------------------------------- checks of a group -- */

/* The index lets per-worker state live in arrays beside the config.
   The rest: what the settings mean together. */
static void
end_upstream(struct conftab *ct, void *obj)
{
	struct config_upstream	*u = obj;
	unsigned		 i, primaries = 0;

	u->index = (unsigned)(u - loader(ct)->cf->upstreams);
	if (!(u->next_mask & NEXT_GIVEN))
		u->next_mask = NEXT_ERROR | NEXT_TIMEOUT;
	u->next_mask &= ~NEXT_GIVEN;
	if (u->balance == BALANCE_HASH && u->hash_key == NULL)
		conftab_errorf(ct, "upstream '%s': balance \"hash\" needs a "
		    "hash_key", u->name != NULL ? u->name : "");
	if (u->balance != BALANCE_HASH && u->hash_key != NULL)
		conftab_errorf(ct, "upstream '%s': hash_key is only for "
		    "balance = \"hash\"", u->name != NULL ? u->name : "");
	for (i = 0; i < u->nservers; i++)
		if (!u->servers[i].backup)
			primaries++;
	if (u->nservers > 0 && primaries == 0)
		conftab_errorf(ct, "upstream '%s': every server is a backup; "
		    "backups only stand in for the others",
		    u->name != NULL ? u->name : "");
}

/* Its defaults are filled in either way; only a written group checks. */
static void
end_health(struct conftab *ct, void *obj)
{
	struct config_health	*h = obj;

	(void)ct;
	h->enabled = true;
}

/*
 * A listener's TLS: the contexts are built here, from the files, so
 * that a certificate that does not load is an error of the file, with
 * OpenSSL's reason, before anything starts.
 */
static void
end_tls(struct conftab *ct, void *obj)
{
	struct config_tls	*t = obj;
	char			 err[512];
	unsigned		 i;
	int			 line;

	if (t->client_verify != VERIFY_OFF && t->client_ca == NULL) {
		ct->line = t->verify_line;
		conftab_errorf(ct, "client_verify \"%s\" needs client_ca",
		    verify_modes[t->client_verify]);
		return;
	}
	for (i = 0; i < t->ncerts; i++)
		if (t->certs[i].certificate == NULL ||
		    t->certs[i].key == NULL ||
		    confval_readable(t->certs[i].certificate) == -1 ||
		    confval_readable(t->certs[i].key) == -1 ||
		    (t->certs[i].ocsp != NULL &&
		    confval_readable(t->certs[i].ocsp) == -1))
			return;		/* said already */
	line = t->line;
	if (t->ncerts > 0 &&
	    (t->rt = tls_server_new(t, err, sizeof(err), &line)) == NULL) {
		ct->line = line;
		conftab_errorf(ct, "%s", err);
	}
}

static void
end_upstream_tls(struct conftab *ct, void *obj)
{
	struct config_upstream_tls	*t = obj;
	char				 err[512];

	if ((t->certificate == NULL) != (t->key == NULL)) {
		conftab_errorf(ct, "certificate and key go together");
		return;
	}
	if ((t->rt = tls_client_new(t, err, sizeof(err))) == NULL)
		conftab_errorf(ct, "%s", err);
}

/* Routes match in order: a second route with the same path is dead. */
static void
end_site(struct conftab *ct, void *obj)
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
			/* At the dead route, not at the site's end. */
			ct->line = site->routes[i].line;
			conftab_errorf(ct, "route '%s': duplicate path in this "
			    "site (first at line %d)", site->routes[i].path,
			    site->routes[j].line);
			break;
		}
	}
}

/* A route proxies or answers, never both, never neither. */
static void
end_route(struct conftab *ct, void *obj)
{
	struct loader		*ld = loader(ct);
	struct config_route	*r = obj;
	bool			 up = false;	/* names an upstream */
	size_t			 i;
	char			 buf[256];	/* "route '/x'" */

	/* r->upstream is not set before end_top(); its name is pending. */
	for (i = 0; i < ld->npending && !up; i++)
		up = ld->pending[i].route == r;
	conftab_label(&route_group, r, buf, sizeof(buf));
	if (up && r->ret != NULL)
		conftab_errorf(ct, "%s: has both 'upstream' and 'return'", buf);
	else if (!up && r->ret == NULL)
		conftab_errorf(ct, "%s: needs an 'upstream' or a 'return'",
		    buf);
	/* A cached route with nowhere to keep the cache is a mistake.  The
	   file may give the cache after the sites: ask the file itself. */
	if (r->cache && config_setting_get_member(ld->root, "cache") == NULL)
		conftab_errorf(ct, "%s: 'cache' needs a top-level cache = { "
		    "path = ...; }", buf);
}

/* Without purge_allow, loopback may purge. */
static void
end_cache(struct conftab *ct, void *obj)
{
	struct config_cache *c = obj;

	if (confval_allow_loopback(&c->purge) == -1)
		conftab_errorf(ct, "out of memory");
}

/* Without a key, the whole URL. */
static void
end_route_cache(struct conftab *ct, void *obj)
{
	struct config_route_cache *rc = obj;

	(void)ct;
	if (rc->nkey == 0)
		rc->key_mask = CACHE_KEY_SCHEME | CACHE_KEY_HOST |
		    CACHE_KEY_PATH | CACHE_KEY_QUERY;
}

/* A local answer must be one that HTTP allows. */
static void
end_return(struct conftab *ct, void *obj)
{
	struct config_return	*ret = obj;

	if (ret->body != NULL)
		ret->body_len = strlen(ret->body);
	if (ret->status == 0)
		return;		/* missing, already said */
	if (ret->location != NULL && (ret->status < 300 || ret->status > 399))
		conftab_errorf(ct, "return: 'location' needs a 3xx status, "
		    "not %u", ret->status);
	/* RFC 9110 6.4.1: these never have content. */
	if (ret->body_len > 0 && (ret->status < 200 || ret->status == 204 ||
	    ret->status == 304))
		conftab_errorf(ct, "return: status %u cannot have a body",
		    ret->status);
}

/*
 * The admin listener joins the others, last, so that the master binds it
 * and a reload keeps it like any; without allow, loopback only.
 */
static void
add_admin_listener(struct conftab *ct, struct config *cf)
{
	struct config_admin	*a = cf->admin;
	struct config_listener	*l;
	unsigned		 i;

	if (a->addr.len == 0)
		return;		/* bad address, already said */
	for (i = 0; i < cf->nlisteners; i++)
		if (addr_equal(&cf->listeners[i].addr, &a->addr)) {
			ct->line = a->line;
			conftab_errorf(ct, "admin address \"%s\" is also a "
			    "listener (line %d)", a->address,
			    cf->listeners[i].line);
			return;
		}
	if (confval_allow_loopback(&a->allow) == -1) {
		conftab_errorf(ct, "out of memory");
		return;
	}
	l = realloc(cf->listeners, (cf->nlisteners + 1) * sizeof(*l));
	if (l == NULL) {
		conftab_errorf(ct, "out of memory");
		return;
	}
	cf->listeners = l;
	l = &cf->listeners[cf->nlisteners];
	memset(l, 0, sizeof(*l));
	if ((l->address = strdup(a->address)) == NULL) {
		conftab_errorf(ct, "out of memory");
		return;
	}
	l->addr = a->addr;
	l->backlog = 64;
	l->admin = true;
	l->line = a->line;
	cf->nlisteners++;
}

/* Every upstream is known now: point the routes at theirs. */
static void
end_top(struct conftab *ct, void *obj)
{
	struct loader		*ld = loader(ct);
	struct config		*cf = obj;
	struct pending		*p;
	const char		**names, *best;
	unsigned		 i;
	size_t			 k;

	for (i = 0; i < cf->nlisteners; i++)
		if (cf->listeners[i].tls != NULL &&
		    cf->listeners[i].tls->rt != NULL)
			tls_server_lifetime(cf->listeners[i].tls->rt,
			    cf->ticket_key_lifetime_ms);
	/* The arrays are final now: routes can point at their site. */
	for (i = 0; i < cf->nsites; i++)
		for (k = 0; k < cf->sites[i].nroutes; k++)
			cf->sites[i].routes[k].site = &cf->sites[i];
	/* The names for "did you mean"; without memory, no suggestion
	   rather than no message. */
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
		ct->file = p->file;	/* where the name was written, not */
		ct->line = p->line;	/* the end of the file */
		best = names == NULL ? NULL :
		    conftab_closest(p->name, names, cf->nupstreams);
		conftab_errorf(ct, "route '%s': no upstream named '%s'%s%s%s",
		    p->route->path != NULL ? p->route->path : "", p->name,
		    best != NULL ? " (did you mean '" : "",
		    best != NULL ? best : "", best != NULL ? "'?)" : "");
	}
	free(names);
	if (cf->admin != NULL)
		add_admin_listener(ct, cf);
}

/* ------------------------------------------------- load, free, names -- */

/* config_parse_duration(): see config.h.  The rules are conftab's, so
   that a value in the file and one from elsewhere read alike. */
int
config_parse_duration(const char *s, uint32_t *ms, const char **err)
{
	return amount_duration(s, ms, err);
}

/* config_parse_size(): see config.h. */
int
config_parse_size(const char *s, uint64_t *bytes, const char **err)
{
	return amount_size(s, bytes, err);
}

/* config_load(): see config.h. */
struct config *
config_load(const char *path, FILE *errfp)
{
	config_t	 lc;
	struct loader	 ld;
	struct config	*cf;
	size_t		 i;

	memset(&ld, 0, sizeof(ld));	/* the frees below take it as is */
	if ((cf = calloc(1, sizeof(*cf))) == NULL ||
	    (cf->file = strdup(path)) == NULL) {
		fprintf(errfp, "%s: out of memory\n", path);
		config_free(cf);
		return NULL;
	}
	ld.cf = cf;
	config_init(&lc);
	/* Defaults first, so that every setting has its value whether or
	   not the file names it, and the checks can read any of them. */
	if (conftab_read(&ld.ct, &lc, cf->file, errfp) == 0) {
		ld.root = config_root_setting(&lc);
		conftab_defaults(&ld.ct, &top_group, cf);
		conftab_walk(&ld.ct, &top_group, ld.root, cf);
	}

	/* The names were only for end_top(): the routes point at their
	   upstreams now, or the load fails. */
	for (i = 0; i < ld.npending; i++)
		free(ld.pending[i].name);
	free(ld.pending);
	conftab_done(&ld.ct);
	config_destroy(&lc);
	/* All or nothing: a half-checked tree is never handed out. */
	if (ld.ct.nerrors > 0) {
		config_free(cf);
		return NULL;
	}
	return cf;
}

/* config_free(): see config.h.  The tables say what was allocated. */
void
config_free(struct config *cf)
{
	unsigned i;

	if (cf == NULL)
		return;
	if (cf->admin != NULL)
		free(cf->admin->allow.nets);
	free(cf->cache.purge.nets);
	for (i = 0; i < cf->nlisteners; i++)
		if (cf->listeners[i].tls != NULL)
			tls_server_free(cf->listeners[i].tls->rt);
	for (i = 0; i < cf->nupstreams; i++)
		if (cf->upstreams[i].tls != NULL)
			tls_client_free(cf->upstreams[i].tls->rt);
	conftab_free(&top_group, cf);
	free(cf->file);
	free(cf);
}

/* config_allowed(): see config.h. */
bool
config_allowed(const struct config_allow *a, const struct sockaddr *sa)
{
	unsigned i;

	for (i = 0; i < a->nnets; i++)
		if (addr_net_match(&a->nets[i], sa))
			return true;
	return false;
}

/* config_setting_names(): see config.h.  Built from the tables once; the
   arrays are static, as the names live as long as the program. */
const char *const *
config_setting_names(void)
{
	static const char	*names[256];
	static char		 pool[8192];

	if (names[0] == NULL)
		conftab_names(&top_group, names, PT_NELEM(names), pool,
		    sizeof(pool));
	return names;
}

/* config_pid_file(): see config.h. */
char *
config_pid_file(const char *path)
{
	config_t	 lc;
	const char	*v = LOCALSTATEDIR "/run/portico.pid";
	char		*pid;

	config_init(&lc);
	if (config_read_file(&lc, path) == CONFIG_TRUE)
		(void)config_lookup_string(&lc, "pid_file", &v);
	pid = strdup(v);
	config_destroy(&lc);
	return pid;
}
