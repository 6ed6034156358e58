/*
 * config.h: the configuration, loaded from a libconfig file into one
 * immutable tree of structs, and validated as a whole before anything
 * starts.
 *
 * config_load() reports every error in the file, each as
 * "file:line: message", then fails once.  The settings of each group are a
 * table of { name, type, default, min, max, offset } (config.c): the same
 * table validates, suggests "did you mean" for unknown names, and is
 * checked against man/portico.conf.5 by the tests.
 *
 * Durations are in milliseconds, sizes in bytes.  The tree is allocated
 * at load and freed as a whole with config_free() (a reload loads a new
 * one beside the old).
 */
#ifndef CONFIG_H
#define CONFIG_H

#include "pt.h"
#include "addr.h"

struct tls_server;
struct tls_client;

struct config_tls_cert {
	char		*certificate;	/* PEM file: certificate and chain */
	char		*key;		/* PEM file: private key */
	char		*ocsp;		/* DER OCSP response to staple, or
					   NULL */
	int		 line;
};

enum config_verify {
	VERIFY_OFF = 0,
	VERIFY_OPTIONAL,		/* asked for; a bad one is refused */
	VERIFY_REQUIRED,
};

/* protocols = [ ... ]: the range they span (TLS1_2_VERSION, ...). */
struct config_protocols {
	char		**names;	/* as written */
	unsigned	 nnames;
	int		 min, max;	/* 0: OpenSSL's default */
};

/* A listener's tls = { ... }.  rt: its SSL contexts, built by the
   check of the group (so that a bad file is a config error), freed with
   the tree. */
struct config_tls {
	struct config_tls_cert *certs;
	unsigned	 ncerts;
	struct config_protocols protocols;
	char		*ciphers;	/* TLS 1.2 list */
	char		*ciphersuites;	/* TLS 1.3 */
	char		*groups;
	enum config_verify client_verify;
	int		 verify_line;	/* where client_verify was set */
	char		*client_ca;
	bool		 session_tickets;
	struct tls_server *rt;
	int		 line;
};

/* An upstream's tls = { ... }: Portico as the TLS client. */
struct config_upstream_tls {
	bool		 verify;	/* the server's certificate, true */
	char		*ca;		/* NULL: the system's CAs */
	char		*name;		/* expected name; NULL: the host of
					   each server's address */
	bool		 sni;		/* send name as SNI, true */
	char		*certificate;	/* client certificate, or NULL */
	char		*key;
	struct config_protocols protocols;
	char		*ciphers;	/* TLS 1.2 list */
	char		*ciphersuites;	/* TLS 1.3 */
	char		*groups;
	struct tls_client *rt;
	int		 line;
};

struct config_listener {
	struct addr	 addr;
	char		*address;	/* as written */
	unsigned	 backlog;	/* listen(2) backlog, default 511 */
	struct config_tls *tls;		/* NULL: plain HTTP */
	bool		 admin;		/* the admin listener (added last) */
	int		 line;
};

/* An allow list of networks: as written, and parsed (loopback when the
   list is left out). */
struct config_allow {
	char		**allow;	/* as written */
	unsigned	 nallow;
	struct addr_net	*nets;		/* parsed allow, or loopback */
	unsigned	 nnets;
};

/* admin = { ... }: /status and /metrics, for the allowed addresses. */
struct config_admin {
	char		*address;
	struct addr	 addr;
	struct config_allow allow;
	int		 line;
};

enum config_balance {
	BALANCE_ROUND_ROBIN = 0,
	BALANCE_LEAST_CONN,
	BALANCE_RANDOM_TWO,
	BALANCE_HASH,
};

enum config_hash_key {
	HASH_KEY_NONE = 0,
	HASH_KEY_CLIENT,		/* "client": the client's address */
	HASH_KEY_URI,			/* "uri": the request target */
	HASH_KEY_HEADER,		/* "header:Name" */
	HASH_KEY_COOKIE,		/* "cookie:name" */
};

/* next_upstream: when a failed try goes to another server. */
#define NEXT_ERROR		0x01	/* connect or I/O error, early close */
#define NEXT_TIMEOUT		0x02
#define NEXT_502		0x04	/* the answer: retried, not relayed */
#define NEXT_503		0x08
#define NEXT_504		0x10
#define NEXT_NON_IDEMPOTENT	0x20	/* also POST, PATCH, ... */

struct config_server {
	struct addr	 addr;
	char		*address;	/* as written */
	unsigned	 weight;	/* 1..256, default 1 */
	bool		 backup;
	unsigned	 max_conns;	/* 0: no limit */
	uint32_t	 slow_start_ms;	/* weight ramp after recovery; 0 */
	unsigned	 slot;		/* in the health table; set by the
					   master before it forks */
	int		 line;
};

enum config_check {
	CHECK_HTTP = 0,
	CHECK_TCP,
};

struct config_health {
	bool		 enabled;	/* a health group was given */
	enum config_check type;		/* default "http" */
	char		*path;		/* default "/" */
	char		*host;		/* Host header; NULL: the address */
	char		*status;	/* as written, "200-399" */
	unsigned	 status_min, status_max;
	char		*body;		/* PCRE2 pattern the body must match */
	uint32_t	 jitter_ms;	/* random extra wait, default 0 */
	uint32_t	 interval_ms;	/* default 2s */
	uint32_t	 timeout_ms;	/* default 1s */
	unsigned	 rise;		/* default 2 */
	unsigned	 fall;		/* default 3 */
};

struct config_upstream {
	char		*name;
	enum config_balance balance;
	unsigned	 keepalive;	/* idle pooled conns per worker, per
					   server; default 32, 0 = no pool */
	uint32_t	 keepalive_timeout_ms;	/* idle pooled conn, default 60s */
	uint32_t	 connect_timeout_ms;	/* default 5s */
	uint32_t	 read_timeout_ms;	/* between two reads, default 60s */
	uint32_t	 write_timeout_ms;	/* between two writes, default 60s */
	struct config_server *servers;
	unsigned	 nservers;
	char		*hash_key;	/* as written; NULL unless hash */
	enum config_hash_key hash_kind;
	const char	*hash_name;	/* header or cookie name, in hash_key */
	char		*sticky_cookie;	/* NULL: no stickiness */
	unsigned	 tries;		/* servers tried per request, 3 */
	char		**next_upstream;	/* as written */
	unsigned	 nnext_upstream;
	uint32_t	 next_mask;		/* NEXT_* */
	uint32_t	 next_upstream_timeout_ms;	/* 0: tries only */
	unsigned	 max_fails;	/* passive: failures to down, 3 */
	uint32_t	 fail_timeout_ms;	/* down without checks, 10s */
	bool		 fail_on_5xx;	/* a 5xx answer counts as failure */
	struct config_health health;
	struct config_upstream_tls *tls;	/* NULL: plain HTTP */
	unsigned	 index;		/* position in config->upstreams */
	int		 line;
};

struct config_return {
	unsigned	 status;	/* 100..599 */
	char		*body;		/* may be "" */
	size_t		 body_len;
	char		*content_type;	/* default "text/plain" */
	char		*location;	/* Location header, or NULL */
};

/* What the cache key of a route is made of (config_route_cache.key). */
#define CACHE_KEY_SCHEME	0x01
#define CACHE_KEY_HOST		0x02
#define CACHE_KEY_PATH		0x04
#define CACHE_KEY_QUERY		0x08

/* What a stored response with Set-Cookie becomes. */
enum cache_set_cookie {
	SET_COOKIE_PASS = 0,	/* not stored */
	SET_COOKIE_STRIP,	/* stored without it */
	SET_COOKIE_KEEP,	/* stored with it: every client gets it */
};

/* A route's cache = true, or cache = { ... }. */
struct config_route_cache {
	char		**key;		/* as written */
	unsigned	 nkey;
	unsigned	 key_mask;	/* CACHE_KEY_* */
	char		*key_header;	/* a request header in the key */
	char		*key_cookie;	/* a cookie in the key */
	uint32_t	 default_ttl_ms;	/* no freshness given: 0, none */
	uint64_t	 max_object;	/* body bytes, default 8M */
	unsigned	 heuristic;	/* % of Last-Modified age, 10 */
	unsigned	 set_cookie;	/* enum cache_set_cookie */
	uint32_t	 stale_on_error_ms;	/* origin unreachable: stale
					   this long still served, 10s */
	uint64_t	 statuses[10];	/* bit per status 0..639 */
};

struct config_route {
	char		*path;		/* prefix, starts with '/' */
	size_t		 path_len;
	struct config_upstream *upstream;	/* exactly one of upstream */
	struct config_return *ret;		/* and ret is set */
	struct config_route_cache *cache;	/* NULL: not cached */
	const struct config_site *site;	/* the site it is in */
	int		 line;
};

struct config_site {
	char		**hosts;	/* lower case: "a.com", "*.a.com", "*" */
	unsigned	 nhosts;
	bool		 redirect_https;	/* plain HTTP gets a redirect */
	unsigned	 https_port;	/* in its Location; 443 is left out */
	char		*hsts;		/* Strict-Transport-Security value
					   over TLS, or NULL */
	struct config_route *routes;
	unsigned	 nroutes;
	int		 line;
};

struct config_access_log {
	char		*path;		/* NULL: no access log */
	char		*format;	/* "combined" (the only one so far) */
	size_t		 buffer;	/* bytes buffered before a write, 64K */
	uint32_t	 flush_ms;	/* longest a line waits, default 1s */
};

struct config_cache {
	char		*path;		/* NULL: no cache */
	uint64_t	 size;
	uint32_t	 lock_timeout_ms;	/* collapsed misses wait, 5s */
	uint64_t	 buffers;	/* per worker: chunked bodies held, 64M */
	struct config_allow purge;	/* who may send PURGE: loopback */
};

/* The headers the proxy adds to forwarded requests (all on by default). */
struct config_proxy_headers {
	bool		 x_forwarded_for;
	bool		 x_forwarded_proto;
	bool		 x_forwarded_host;
	bool		 via;
};

struct config {
	char		*file;		/* the path it was loaded from */

	/* processes */
	unsigned	 workers;	/* "auto" resolved to the CPU count */
	char		*user;		/* NULL: stay who we are */
	char		*group;		/* NULL: the user's group */
	char		*pid_file;
	char		*error_log;	/* path, or "stderr" */
	uint32_t	 shutdown_timeout_ms;	/* graceful stop, default 30s */
	uint32_t	 ticket_key_lifetime_ms;	/* TLS ticket key, 1h */

	/* client side: limits and timeouts */
	unsigned	 max_connections;	/* clients per worker, 10000 */
	unsigned	 max_upstream_connections; /* per worker, 8192 */
	uint32_t	 client_header_timeout_ms;	/* default 10s */
	uint32_t	 client_body_timeout_ms;	/* between reads, 30s */
	uint32_t	 keepalive_timeout_ms;		/* idle client, 75s */
	uint32_t	 send_timeout_ms;	/* between writes to client, 60s */
	uint32_t	 tunnel_timeout_ms;	/* idle upgraded conn, 1h */
	unsigned	 keepalive_requests;	/* per client conn, 10000 */
	uint32_t	 max_request_line;	/* bytes, default 8K */
	uint32_t	 max_header_size;	/* whole head, default 32K */
	unsigned	 max_headers;		/* header lines, default 100 */
	uint64_t	 max_body_size;		/* request body, default 64M;
						   0 = no limit */
	uint32_t	 buffer_size;		/* I/O buffer, default 64K */

	struct config_proxy_headers proxy_headers;
	struct config_access_log access_log;
	struct config_cache cache;

	struct config_admin *admin;	/* NULL: no admin listener */
	struct config_listener *listeners;	/* the admin one last */
	unsigned	 nlisteners;
	struct config_upstream *upstreams;
	unsigned	 nupstreams;
	struct config_site *sites;
	unsigned	 nsites;
};

/*
 * config_load(): read and validate path.  Returns the tree, or NULL after
 * writing every error, one per line, "file:line: message", to errfp.
 */
struct config *config_load(const char *path, FILE *errfp);

/* config_free(): free a tree from config_load(); NULL is allowed. */
void	config_free(struct config *cf);

/*
 * config_parse_duration(), config_parse_size(): "500ms", "10s", "2m", "1h",
 * "1d" (a bare number is seconds); "512", "16K", "256M", "1G" (powers of
 * 1024).  Return 0, or -1 with *err set.
 */
int	config_parse_duration(const char *s, uint32_t *ms, const char **err);
int	config_parse_size(const char *s, uint64_t *bytes, const char **err);

/*
 * config_pid_file(): the pid_file that path names, read without checking
 * anything else in it (so a broken file still says where the running
 * instance is), or the default; NULL when out of memory.  Free it.
 */
char	*config_pid_file(const char *path);

/* config_allowed(): whether the address sa is in the list a. */
bool	config_allowed(const struct config_allow *a, const struct sockaddr *sa);

/*
 * config_setting_names(): every setting name the loader knows, as
 * "group.name" or "name", NULL-terminated (for the man page test).
 */
const char *const *config_setting_names(void);

#endif /* CONFIG_H */
