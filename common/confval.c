/*
 * confval.c: the setters of the tables of config.c: what a value means to
 * Portico beyond its kind (a user that exists, a readable file, an
 * address, a host pattern, a status range, a regular expression), and
 * what must not come twice in the file (a listener address, an upstream
 * name, a host).  See confval.h.
 *
 * Each reports through conftab_errorf() and lets the walk go on, so that
 * every error of the file is said in one go.
 */
#include <sys/types.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <strings.h>
#include <unistd.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "confval.h"
#include "tls.h"

/* "auto": one per online CPU, within the same 1..256 as a number. */
void
confval_set_workers(struct conftab *ct, const struct conftab_setting *s,
    const struct conftab_val *v, void *obj)
{
	struct config	*cf = obj;
	long		 n;

	if (v->type == CONFIG_TYPE_STRING && strcmp(v->s, "auto") == 0) {
		n = sysconf(_SC_NPROCESSORS_ONLN);
		cf->workers = (unsigned)(n < 1 ? 1 : n > 256 ? 256 : n);
	} else if (v->type == CONFIG_TYPE_INT || v->type == CONFIG_TYPE_INT64)
		conftab_set_num(ct, s, v, obj);
	else
		conftab_errorf(ct, "'workers' must be a number or \"auto\"");
}

/*
 * The user and group are looked up at load, not only when the workers
 * drop privileges, so that "portico -t" and a reload catch a typo before
 * it can take the service down.
 */
void
confval_check_account(struct conftab *ct, const struct conftab_setting *s,
    const struct conftab_val *v, void *obj)
{
	(void)obj;
	if (strcmp(s->name, "user") == 0 ? getpwnam(v->s) == NULL :
	    getgrnam(v->s) == NULL)
		conftab_errorf(ct, "unknown %s '%s'", s->name, v->s);
}

/* One format so far; the setting exists so that files need not change
   when there are more. */
void
confval_check_format(struct conftab *ct, const struct conftab_setting *s,
    const struct conftab_val *v, void *obj)
{
	(void)obj;
	if (strcmp(v->s, "combined") != 0)
		conftab_errorf(ct, "'%s' must be \"combined\" (the only format "
		    "so far)", s->name);
}

/*
 * Whether a file can be read, by whoever loads: a read of one byte, not
 * access(2), as a directory opens, and access() looks at the real user
 * where the open is done as the effective one.  0, or -1 with errno.
 */
int
confval_readable(const char *path)
{
	char	c;
	int	fd, rc = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	if (read(fd, &c, 1) == -1)
		rc = -1;
	close(fd);
	return rc;
}

/* TLS files: readable now; loaded by end_tls(). */
void
confval_check_readable(struct conftab *ct, const struct conftab_setting *s,
    const struct conftab_val *v, void *obj)
{
	(void)obj;
	if (confval_readable(v->s) == -1)
		conftab_errorf(ct, "cannot read %s '%s': %s", s->name, v->s,
		    strerror(errno));
}

/* No control characters or spaces: the text goes into a request line
   as it is (a health check's path), where a space would end the target. */
void
confval_check_uri_path(struct conftab *ct, const struct conftab_setting *s,
    const struct conftab_val *v, void *obj)
{
	const unsigned char	*p;

	(void)obj;
	if (v->s[0] != '/') {
		conftab_errorf(ct, "'%s' must start with '/'", s->name);
		return;
	}
	for (p = (const unsigned char *)v->s; *p != '\0'; p++) {
		if (*p <= ' ' || *p == 0x7f) {
			conftab_errorf(ct, "'%s' must not contain spaces or "
			    "control characters", s->name);
			return;
		}
	}
}

/* RFC 9110 5.5: a field value holds no CR, LF or other control.  A CR or
   LF from the config would let it write headers of its own. */
void
confval_check_header_value(struct conftab *ct, const struct conftab_setting *s,
    const struct conftab_val *v, void *obj)
{
	const unsigned char	*p;

	(void)obj;
	for (p = (const unsigned char *)v->s; *p != '\0'; p++) {
		if ((*p < ' ' && *p != '\t') || *p == 0x7f) {
			conftab_errorf(ct, "'%s' must not contain control "
			    "characters", s->name);
			return;
		}
	}
}

/* addr_parse() names what is wrong; the message adds what was written. */
static void
parse_address(struct conftab *ct, const char *text, int allow_unix,
    struct addr *a)
{
	const char	*why;

	if (addr_parse(text, allow_unix, a, &why) == -1)
		conftab_errorf(ct, "bad address \"%s\": %s", text, why);
}

/* Listeners are IP only: the proxy serves the network, not local
   programs, and unix listeners would need their own permissions. */
void
confval_set_listener_address(struct conftab *ct,
    const struct conftab_setting *s, const struct conftab_val *v, void *obj)
{
	struct config_listener	*l = obj, *prev;

	(void)s;
	parse_address(ct, v->s, 0, &l->addr);
	if (l->addr.len == 0)
		return;
	/* Two listeners on one address could not both bind.  Only those
	   before this one are compared: the list is read in order, and
	   the message then names the first as the one that stands. */
	for (prev = loader(ct)->cf->listeners; prev < l; prev++) {
		if (prev->addr.len != 0 && addr_equal(&prev->addr, &l->addr)) {
			conftab_errorf(ct, "duplicate listener address \"%s\" "
			    "(first at line %d)", v->s, prev->line);
			return;
		}
	}
}

/* Servers may be unix sockets: an application on the same host. */
void
confval_set_server_address(struct conftab *ct, const struct conftab_setting *s,
    const struct conftab_val *v, void *obj)
{
	struct config_server	*srv = obj;

	(void)s;
	parse_address(ct, v->s, 1, &srv->addr);
}

/* Names go into logs and commands as "app/10.0.0.1:80": keep them plain. */
void
confval_check_upstream_name(struct conftab *ct, const struct conftab_setting *s,
    const struct conftab_val *v, void *obj)
{
	struct config_upstream	*u = obj, *prev;
	const char		*p;

	(void)s;
	for (p = v->s; *p != '\0'; p++) {
		if (!isalnum((unsigned char)*p) && strchr("-_.", *p) == NULL) {
			conftab_errorf(ct, "upstream name '%s' may only "
			    "contain letters, digits, '-', '_' and '.'", v->s);
			return;
		}
	}
	/* Routes name their upstream: two of one name would be a guess. */
	for (prev = loader(ct)->cf->upstreams; prev < u; prev++) {
		if (prev->name != NULL && strcmp(prev->name, u->name) == 0) {
			conftab_errorf(ct, "duplicate upstream name '%s' "
			    "(first at line %d)", u->name, prev->line);
			return;
		}
	}
}

/* RFC 9110 5.1: a field name is a token. */
static bool
is_token(const char *p)
{
	if (*p == '\0')
		return false;
	for (; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) &&
		    strchr("!#$%&'*+-.^_`|~", *p) == NULL)
			return false;
	return true;
}

/* "client", "uri", "header:Name" or "cookie:name". */
void
confval_set_hash_key(struct conftab *ct, const struct conftab_setting *s,
    const struct conftab_val *v, void *obj)
{
	struct config_upstream	*u = obj;
	const char		*colon = strchr(u->hash_key, ':');

	(void)s;
	(void)v;
	if (strcmp(u->hash_key, "client") == 0)
		u->hash_kind = HASH_KEY_CLIENT;
	else if (strcmp(u->hash_key, "uri") == 0)
		u->hash_kind = HASH_KEY_URI;
	else if (colon != NULL && is_token(colon + 1) &&
	    strncmp(u->hash_key, "header:", 7) == 0)
		u->hash_kind = HASH_KEY_HEADER;
	else if (colon != NULL && is_token(colon + 1) &&
	    strncmp(u->hash_key, "cookie:", 7) == 0)
		u->hash_kind = HASH_KEY_COOKIE;
	else {
		conftab_errorf(ct, "hash_key \"%s\": must be \"client\", "
		    "\"uri\", \"header:NAME\" or \"cookie:NAME\"", u->hash_key);
		return;
	}
	u->hash_name = colon != NULL ? colon + 1 : NULL;
}

/* A cookie name is a token (RFC 6265 4.1.1). */
void
confval_check_cookie_name(struct conftab *ct, const struct conftab_setting *s,
    const struct conftab_val *v, void *obj)
{
	(void)obj;
	if (!is_token(v->s))
		conftab_errorf(ct, "'%s' \"%s\": a cookie name is letters, "
		    "digits and !#$%%&'*+-.^_`|~", s->name, v->s);
}

void
confval_set_next_upstream(struct conftab *ct, const struct conftab_setting *s,
    const struct conftab_val *v, void *obj)
{
	static const struct {
		const char	*word;
		uint32_t	 bit;
	} words[] = {
		{ "error", NEXT_ERROR }, { "timeout", NEXT_TIMEOUT },
		{ "502", NEXT_502 }, { "503", NEXT_503 }, { "504", NEXT_504 },
		{ "non_idempotent", NEXT_NON_IDEMPOTENT },
	};
	struct config_upstream	*u = obj;
	unsigned		 i;
	size_t			 k;

	(void)v;
	u->next_mask = NEXT_GIVEN;
	for (i = 0; i < u->nnext_upstream; i++) {
		for (k = 0; k < PT_NELEM(words); k++)
			if (strcmp(u->next_upstream[i], words[k].word) == 0)
				break;
		if (k == PT_NELEM(words)) {
			conftab_errorf(ct, "'%s': unknown \"%s\" (error, "
			    "timeout, 502, 503, 504, non_idempotent)", s->name,
			    u->next_upstream[i]);
			continue;
		}
		u->next_mask |= words[k].bit;
	}
}

/* "200", or a range "200-399", within 100..599. */
void
confval_set_check_status(struct conftab *ct, const struct conftab_setting *s,
    const struct conftab_val *v, void *obj)
{
	struct config_health	*h = obj;
	unsigned long		 lo, hi;
	char			*end;

	lo = strtoul(v->s, &end, 10);
	hi = lo;
	if (*end == '-')
		hi = strtoul(end + 1, &end, 10);
	if (!isdigit((unsigned char)v->s[0]) || *end != '\0' || lo < 100 ||
	    hi > 599 || lo > hi) {
		conftab_errorf(ct, "'%s' \"%s\": must be a status or a range "
		    "of them, such as \"200-399\"", s->name, v->s);
		return;
	}
	h->status_min = (unsigned)lo;
	h->status_max = (unsigned)hi;
}

/* Compiled now only to say where a pattern is wrong; the checker
   compiles its own. */
void
confval_check_regex(struct conftab *ct, const struct conftab_setting *s,
    const struct conftab_val *v, void *obj)
{
	pcre2_code	*re;
	PCRE2_UCHAR	 msg[128];
	PCRE2_SIZE	 off;
	int		 err;

	(void)obj;
	re = pcre2_compile((PCRE2_SPTR)v->s, PCRE2_ZERO_TERMINATED, 0, &err,
	    &off, NULL);
	if (re != NULL) {
		pcre2_code_free(re);
		return;
	}
	pcre2_get_error_message(err, msg, sizeof(msg));
	conftab_errorf(ct, "'%s': bad regular expression at offset %zu: %s",
	    s->name, (size_t)off, (const char *)msg);
}

void
confval_set_admin_address(struct conftab *ct, const struct conftab_setting *s,
    const struct conftab_val *v, void *obj)
{
	struct config_admin *a = obj;

	(void)s;
	parse_address(ct, v->s, 0, &a->addr);
}

void
confval_set_allow(struct conftab *ct, const struct conftab_setting *s,
    const struct conftab_val *v, void *obj)
{
	struct config_allow	*a = (void *)((char *)obj + s->off);
	const char		*why;
	unsigned		 i;

	(void)v;
	free(a->nets);
	if ((a->nets = calloc(a->nallow + 1, sizeof(*a->nets))) == NULL) {
		conftab_errorf(ct, "out of memory");
		return;
	}
	a->nnets = a->nallow;
	for (i = 0; i < a->nallow; i++)
		if (addr_net_parse(a->allow[i], &a->nets[i], &why) == -1)
			conftab_errorf(ct, "'%s': bad network \"%s\": %s",
			    s->name, a->allow[i], why);
}

/* confval_allow_loopback(): an allow list left out is loopback's. */
int
confval_allow_loopback(struct config_allow *a)
{
	const char *why;

	if (a->nallow > 0)
		return 0;
	free(a->nets);
	if ((a->nets = calloc(2, sizeof(*a->nets))) == NULL ||
	    addr_net_parse("127.0.0.0/8", &a->nets[0], &why) == -1 ||
	    addr_net_parse("::1", &a->nets[1], &why) == -1)
		return -1;
	a->nnets = 2;
	return 0;
}

/*
 * A route's cache key: "scheme", "host", "path", "query", and at most one
 * "header:Name" and one "cookie:name".
 */
void
confval_set_cache_key(struct conftab *ct, const struct conftab_setting *s,
    const struct conftab_val *v, void *obj)
{
	static const char *const parts[] = { "scheme", "host", "path",
	    "query" };
	struct config_route_cache	*rc = obj;
	const char			*k;
	unsigned			 i, j;

	(void)v;
	rc->key_mask = 0;
	for (i = 0; i < rc->nkey; i++) {
		k = rc->key[i];
		for (j = 0; j < PT_NELEM(parts); j++)
			if (strcmp(k, parts[j]) == 0)
				break;
		if (j < PT_NELEM(parts))
			rc->key_mask |= 1u << j;
		else if (strncmp(k, "header:", 7) == 0 && is_token(k + 7) &&
		    rc->key_header == NULL)
			rc->key_header = strdup(k + 7);
		else if (strncmp(k, "cookie:", 7) == 0 && is_token(k + 7) &&
		    rc->key_cookie == NULL)
			rc->key_cookie = strdup(k + 7);
		else
			conftab_errorf(ct, "'%s': \"%s\" is not scheme, host, "
			    "path, query, header:Name or cookie:name (one "
			    "header and one cookie at most)", s->name, k);
	}
	if (rc->key_mask & CACHE_KEY_QUERY && !(rc->key_mask & CACHE_KEY_PATH))
		conftab_errorf(ct, "'%s': query without path", s->name);
}

/* The statuses a route may store: [ 200, 301, ... ] (a default is a
   range in a string, "200-599"). */
void
confval_set_statuses(struct conftab *ct, const struct conftab_setting *s,
    const struct conftab_val *v, void *obj)
{
	struct config_route_cache	*rc = obj;
	char				*end;
	long				 n;
	int				 i, count;

	memset(rc->statuses, 0, sizeof(rc->statuses));
	if (v->cs == NULL) {
		n = strtol(v->s, &end, 10);
		for (i = (int)n; i <= strtol(end + 1, NULL, 10); i++)
			rc->statuses[i / 64] |= 1ULL << (i % 64);
		return;
	}
	if (v->type != CONFIG_TYPE_ARRAY && v->type != CONFIG_TYPE_LIST) {
		conftab_errorf(ct, "'%s' must be a list of statuses: "
		    "[ 200, 301 ]", s->name);
		return;
	}
	count = config_setting_length(v->cs);
	for (i = 0; i < count; i++) {
		config_setting_t *e = config_setting_get_elem(v->cs,
		    (unsigned)i);

		if (config_setting_type(e) != CONFIG_TYPE_INT ||
		    (n = config_setting_get_int(e)) < (long)s->min ||
		    n > (long)s->max) {
			conftab_errorf(ct, "'%s': a status is a number from "
			    "%llu to %llu", s->name,
			    (unsigned long long)s->min,
			    (unsigned long long)s->max);
			return;
		}
		rc->statuses[n / 64] |= 1ULL << (n % 64);
	}
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
		return end > h + 1;	/* "[]" is no address */
	}
	/* Labels neither start with '.' or '-' nor leave one empty. */
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
void
confval_check_hosts(struct conftab *ct, const struct conftab_setting *s,
    const struct conftab_val *v, void *obj)
{
	struct config_site	*site = obj, *prev;
	unsigned		 i, j, n;

	(void)s;
	(void)v;
	for (i = 0; i < site->nhosts; i++) {
		if (!host_pattern_ok(site->hosts[i])) {
			conftab_errorf(ct, "invalid host pattern \"%s\": use "
			    "\"*\", \"*.suffix\" or a plain name",
			    site->hosts[i]);
			continue;
		}
		/* A host in two sites would make the second one dead.  The
		   sites before this one, and this one's hosts before i. */
		for (prev = loader(ct)->cf->sites; prev <= site; prev++) {
			n = prev == site ? i : prev->nhosts;
			for (j = 0; j < n; j++)
				if (strcmp(prev->hosts[j], site->hosts[i]) == 0)
					break;
			if (j == n)
				continue;
			if (prev == site)
				conftab_errorf(ct, "host \"%s\" is listed "
				    "twice", site->hosts[i]);
			else
				conftab_errorf(ct, "host \"%s\" is already in "
				    "the site at line %d", site->hosts[i],
				    prev->line);
			break;
		}
	}
}

/* Routes match by prefix of the request path, which starts with '/'.
   The length is kept, since the router compares it on every request. */
void
confval_check_route_path(struct conftab *ct, const struct conftab_setting *s,
    const struct conftab_val *v, void *obj)
{
	struct config_route	*r = obj;

	r->path_len = strlen(r->path);
	if (r->path[0] != '/')
		conftab_errorf(ct, "route '%s': 'path' must start with '/'",
		    r->path);
	else
		confval_check_uri_path(ct, s, v, obj);
}

/*
 * The name is kept, not looked up: the upstreams may come after the sites
 * in the file.  end_top() resolves it once everything is read, and
 * reports at the place kept here, where the name was written.
 */
void
confval_set_route_upstream(struct conftab *ct, const struct conftab_setting *s,
    const struct conftab_val *v, void *obj)
{
	struct loader	*ld = loader(ct);
	struct pending	*p;
	size_t		 max;

	if (v->type != CONFIG_TYPE_STRING || *v->s == '\0') {
		conftab_errorf(ct, "'%s' must be the name of an upstream",
		    s->name);
		return;
	}
	if (ld->npending == ld->maxpending) {
		max = ld->maxpending == 0 ? 16 : ld->maxpending * 2; /* few */
		if ((p = reallocarray(ld->pending, max, sizeof(*p))) == NULL) {
			conftab_errorf(ct, "out of memory");
			return;
		}
		ld->pending = p;
		ld->maxpending = max;
	}
	p = &ld->pending[ld->npending];
	if ((p->name = strdup(v->s)) == NULL) {
		conftab_errorf(ct, "out of memory");
		return;
	}
	p->route = obj;
	p->file = ct->file;	/* libconfig's, until config_destroy() */
	p->line = ct->line;
	ld->npending++;
}

/*
 * protocols = [ "TLSv1.2", "TLSv1.3" ]: the range they span.  Older
 * versions are not offered: OpenSSL 3 refuses them at its default
 * security level anyway.
 */
void
confval_set_protocols(struct conftab *ct, const struct conftab_setting *s,
    const struct conftab_val *v, void *obj)
{
	struct config_protocols	*p = (void *)((char *)obj + s->off);
	unsigned		 i;
	int			 ver;

	(void)v;
	for (i = 0; i < p->nnames; i++) {
		if ((ver = tls_protocol(p->names[i])) == 0) {
			conftab_errorf(ct, "'%s': unknown protocol '%s' "
			    "(TLSv1.2 or TLSv1.3)", s->name, p->names[i]);
			continue;
		}
		if (p->min == 0 || ver < p->min)
			p->min = ver;
		if (ver > p->max)
			p->max = ver;
	}
}

/* The line of client_verify, for end_tls() to name. */
void
confval_note_verify_line(struct conftab *ct, const struct conftab_setting *s,
    const struct conftab_val *v, void *obj)
{
	(void)s;
	(void)v;
	((struct config_tls *)obj)->verify_line = ct->line;
}

/* hsts = "max-age=N[; includeSubDomains][; preload]": sent as it is,
   so it must be a header value and begin with max-age. */
void
confval_check_hsts(struct conftab *ct, const struct conftab_setting *s,
    const struct conftab_val *v, void *obj)
{
	const char *p = v->s;

	confval_check_header_value(ct, s, v, obj);
	if (strncasecmp(p, "max-age=", 8) != 0 || !isdigit((unsigned char)p[8]))
		conftab_errorf(ct, "'%s' must begin with max-age=SECONDS, as "
		    "in \"max-age=31536000; includeSubDomains\"", s->name);
}
