/*
 * confval.h: the setters of the tables of config.c that know what a value
 * means to Portico beyond its kind: a user that exists, an address, a
 * host pattern, a status range.  For config.c only.
 *
 * Each is a conftab_set_fn (conftab.h), described above it in confval.c.
 * A few look back at what the file gave before them (a listener address,
 * an upstream name or a host given twice), or keep a name to resolve
 * once the whole file is read (a route's upstream): they reach the state
 * of config_load(), struct loader, through the struct conftab it begins
 * with.
 */
#ifndef CONFVAL_H
#define CONFVAL_H

#include "config.h"
#include "conftab.h"

/*
 * A route's upstream, looked up once every upstream is known: the file
 * may define the upstreams after the sites that use them.
 */
struct pending {
	struct config_route	*route;
	char			*name;
	const char		*file;	/* where the name was written */
	int			 line;
};

/*
 * The state of one config_load().  The setters of the tables get the
 * struct conftab; ct first, so that loader() finds the rest from it.
 */
struct loader {
	struct conftab		 ct;
	struct config		*cf;	/* as filled so far: checks look back */
	struct pending		*pending;	/* for end_top() */
	size_t			 npending, maxpending;
	const config_setting_t	*root;	/* of the file, to look ahead */
};

static inline struct loader *
loader(struct conftab *ct)
{
	return (struct loader *)ct;	/* ct is its first member */
}

/* In next_mask while the file is read: set by
   confval_set_next_upstream(), taken off by end_upstream() (config.c). */
#define NEXT_GIVEN	0x80000000u	/* next_upstream was written */

/* confval_readable(): can whoever loads read path?  0, or -1 with errno.
   end_tls() asks again, so as not to report a file twice. */
int	confval_readable(const char *path);

/* The setters, by the tables that name them: the top level, access_log
   and admin; */
conftab_set_fn confval_set_workers, confval_check_account,
    confval_check_format, confval_set_admin_address, confval_set_allow;
conftab_set_fn confval_set_cache_key, confval_set_statuses;

/* confval_allow_loopback(): an allow list left out is loopback's; -1:
   out of memory. */
int	confval_allow_loopback(struct config_allow *a);
/* listeners, their tls and its certificates (protocols: an upstream's tls
   too); */
conftab_set_fn confval_set_listener_address, confval_set_protocols,
    confval_note_verify_line, confval_check_readable;
/* upstreams and their servers; */
conftab_set_fn confval_check_upstream_name, confval_set_hash_key,
    confval_check_cookie_name, confval_set_next_upstream,
    confval_set_server_address;
/* health (a header value: in a return too); */
conftab_set_fn confval_check_uri_path, confval_check_header_value,
    confval_set_check_status, confval_check_regex;
/* sites and their routes. */
conftab_set_fn confval_check_hosts, confval_check_hsts,
    confval_check_route_path, confval_set_route_upstream;

#endif /* CONFVAL_H */
