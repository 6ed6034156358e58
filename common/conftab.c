/*
 * conftab.c: reading a libconfig file through tables of settings.  See
 * conftab.h.
 *
 * libconfig parses the syntax and keeps, for each setting, its type and
 * the file and line it came from; everything after that is here: one
 * setter a kind of value, the walker that matches the settings of a group
 * to its table, the defaults, the messages, and the freeing.  Nothing in
 * this file knows Portico's settings; config.c gives the tables.
 *
 * Each setter reports what is wrong with its value and returns; the
 * caller counts on the walk reaching the end of the file, so that every
 * error is reported in one run.  A setter therefore leaves its field as
 * it was (the default, or zero) when the value is refused.
 */
#include <sys/types.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>

#include "amount.h"
#include "conftab.h"

/* ---------------------------------------------------------- the file -- */

/*
 * conftab_read(): see conftab.h.  A syntax error stops libconfig at once,
 * so that it is the only message; the walk would have nothing to read.
 */
int
conftab_read(struct conftab *ct, config_t *lc, const char *file,
    FILE *errfp)
{
	char	*slash;
	FILE	*fp;

	memset(ct, 0, sizeof(*ct));
	ct->errfp = errfp;
	ct->main_file = ct->file = file;
	ct->line = 1;		/* until a setting gives its own */
	/* libconfig says "file I/O error" only; say which and why (a
	   directory opens, and fails at the first read). */
	if ((fp = fopen(file, "r")) == NULL ||
	    (getc(fp) == EOF && ferror(fp))) {
		fprintf(errfp, "%s: cannot read: %s\n", file, strerror(errno));
		if (fp != NULL)
			fclose(fp);
		ct->nerrors++;
		return -1;
	}
	fclose(fp);
	if ((ct->dir = strdup(file)) == NULL) {
		fprintf(errfp, "%s: out of memory\n", file);
		ct->nerrors++;
		return -1;
	}
	/* @include "x.conf" is found beside the main file, not in the
	   directory the program happens to run in.  That of "/a" is "/". */
	if ((slash = strrchr(ct->dir, '/')) != NULL) {
		slash[slash == ct->dir] = '\0';
		config_set_include_dir(lc, ct->dir);
	} else {
		free(ct->dir);
		ct->dir = NULL;
	}
	if (config_read_file(lc, file) != CONFIG_TRUE) {
		if (config_error_file(lc) != NULL)
			ct->file = config_error_file(lc);
		ct->line = config_error_line(lc);
		conftab_errorf(ct, "%s", config_error_text(lc));
		return -1;
	}
	return 0;
}

/* conftab_done(): see conftab.h. */
void
conftab_done(struct conftab *ct)
{
	free(ct->dir);
	ct->dir = NULL;
}

/* Make cs the place that errors name.  An @include'd file is its own. */
static void
place(struct conftab *ct, const config_setting_t *cs)
{
	const char	*file = config_setting_source_file(cs);

	ct->file = file != NULL ? file : ct->main_file;
	ct->line = config_setting_source_line(cs);
	if (ct->line < 1)
		ct->line = 1;
}

/* ---------------------------------------------------------- messages -- */

/* conftab_errorf(): see conftab.h.  Counted, never fatal. */
void
conftab_errorf(struct conftab *ct, const char *fmt, ...)
{
	va_list	ap;

	/* libconfig names an @include'd file as written, relative to the
	   main file's directory: prefix that, so that the name opens from
	   where the user is, not only from where the program started. */
	if (ct->file[0] != '/' && ct->dir != NULL &&
	    strcmp(ct->file, ct->main_file) != 0)
		fprintf(ct->errfp, "%s/", ct->dir);
	fprintf(ct->errfp, "%s:%d: ", ct->file, ct->line);
	va_start(ap, fmt);
	vfprintf(ct->errfp, fmt, ap);
	va_end(ap);
	fputc('\n', ct->errfp);
	ct->nerrors++;
}

/* conftab_label(): see conftab.h.  The key may not be set yet (NULL). */
const char *
conftab_label(const struct conftab_table *g, const void *obj, char *buf,
    size_t size)
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
missing(struct conftab *ct, const struct conftab_table *g,
    const struct conftab_setting *s, const void *obj)
{
	bool	list = s->kind == CONFTAB_LIST || s->kind == CONFTAB_STRV;
	char	buf[256];

	if (g->what == NULL)
		conftab_errorf(ct, list ? "no %s: at least one is required" :
		    "missing '%s'", s->name);
	else
		conftab_errorf(ct, list ? "%s: no %s" : "%s: missing '%s'",
		    conftab_label(g, obj, buf, sizeof(buf)), s->name);
}

/*
 * Levenshtein distance, for "did you mean".  One row on the stack: names
 * of 64 characters or more are never close, which no real setting is.
 */
static size_t
distance(const char *a, const char *b)
{
	size_t	 row[64], i, j, la = strlen(a), lb = strlen(b);
	size_t	 diag, up;	/* row[j - 1] and row[j] of the row above */

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

/*
 * conftab_closest(): see conftab.h.  Close means one edit in three
 * characters typed: "wieght" finds "weight", but "port" does not find
 * "path", which would send the user the wrong way.
 */
const char *
conftab_closest(const char *name, const char *const *names, size_t n)
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
unknown(struct conftab *ct, const struct conftab_table *g, const char *name)
{
	const char	*names[32], *best;	/* more than a table has */
	size_t		 i, n = pt_min(g->nsettings, PT_NELEM(names));

	for (i = 0; i < n; i++)
		names[i] = g->settings[i].name;
	if ((best = conftab_closest(name, names, n)) != NULL)
		conftab_errorf(ct, "unknown setting '%s' (did you mean '%s'?)",
		    name, best);
	else
		conftab_errorf(ct, "unknown setting '%s'", name);
}

/* ---------------------------------------------------- values by kind -- */

static void
store_uint(void *field, size_t width, uint64_t v)
{
	uint32_t	v32 = (uint32_t)v;

	/* Every number field is 32 or 64 bits wide (unsigned, uint32_t,
	   uint64_t, size_t, an enum); the ranges in the tables keep v in
	   it.  memcpy, as the field's own type is not known here. */
	if (width == sizeof(uint64_t))
		memcpy(field, &v, sizeof(v));
	else
		memcpy(field, &v32, sizeof(v32));
}

/*
 * conftab_set_num(): see conftab.h.  A number in min..max.  A string is
 * refused, not converted: "32" for 32 is a slip worth saying, and quoting
 * is not needed.
 */
void
conftab_set_num(struct conftab *ct, const struct conftab_setting *s,
    const struct conftab_val *v, void *obj)
{
	if (v->type != CONFIG_TYPE_INT && v->type != CONFIG_TYPE_INT64) {
		conftab_errorf(ct, "'%s' must be a number", s->name);
		return;
	}
	if (v->i < 0 || (uint64_t)v->i < s->min || (uint64_t)v->i > s->max) {
		conftab_errorf(ct, "'%s' must be between %llu and %llu",
		    s->name, (unsigned long long)s->min,
		    (unsigned long long)s->max);
		return;
	}
	store_uint((char *)obj + s->off, s->width, (uint64_t)v->i);
}

/* The range of s as the units print it: "between 1ms and 24d". */
static void
range_error(struct conftab *ct, const struct conftab_setting *s, int dur)
{
	char			 lo[32], hi[32];

	/* The base name is for what no unit divides: for a duration only
	   0 ("0s"), as ms divides the rest; for a size 256 ("256"). */
	conftab_errorf(ct, "'%s' must be between %s and %s", s->name,
	    amount_text(s->min, dur, dur ? "s" : "", lo, sizeof(lo)),
	    amount_text(s->max, dur, dur ? "ms" : "", hi, sizeof(hi)));
}

/* Durations and sizes: a string with a unit, or a plain number. */
static void
set_amount(struct conftab *ct, const struct conftab_setting *s,
    const struct conftab_val *v, void *obj)
{
	int		 dur = s->kind == CONFTAB_DURATION;
	const char	*text, *why, *what = dur ? "duration" : "size";
	char		 num[32];	/* "%lld" of any long long */
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
		conftab_errorf(ct, "'%s' must be a %s such as \"%s\"",
		    s->name, what, dur ? "10s" : "16K");
		return;
	}
	if (dur) {
		rc = amount_duration(text, &ms, &why);
		x = ms;
	} else
		rc = amount_size(text, &x, &why);
	if (rc == -1) {
		conftab_errorf(ct, "'%s': bad %s \"%s\": %s", s->name, what,
		    text, why);
		return;
	}
	if (x < s->min || x > s->max) {
		range_error(ct, s, dur);
		return;
	}
	store_uint((char *)obj + s->off, s->width, x);
}

/* A copy of the string, which the tree owns; then the table's check. */
static void
set_string(struct conftab *ct, const struct conftab_setting *s,
    const struct conftab_val *v, void *obj)
{
	char	**field = (char **)((char *)obj + s->off), *copy;

	if (v->type != CONFIG_TYPE_STRING) {
		conftab_errorf(ct, "'%s' must be a string", s->name);
		return;
	}
	if (*v->s == '\0' && !(s->flags & CONFTAB_EMPTY_OK)) {
		conftab_errorf(ct, "'%s' must not be empty", s->name);
		return;
	}
	if ((copy = strdup(v->s)) == NULL) {
		conftab_errorf(ct, "out of memory");
		return;
	}
	free(*field);		/* the default it replaces */
	*field = copy;
	if (s->fn != NULL)
		s->fn(ct, s, v, obj);
}

/*
 * [ "a", "b" ], ( "a", "b" ) or a single "a".  The array ends in a NULL
 * as well as having a count, so that conftab_free() needs neither the
 * count nor to trust it after an error half-way.
 */
static void
set_strings(struct conftab *ct, const struct conftab_setting *s,
    const struct conftab_val *v, void *obj)
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
		conftab_errorf(ct, "'%s' must be an array of strings: "
		    "[ \"a\", ... ]", s->name);
		return;
	}
	if ((*field = calloc((size_t)n + 1, sizeof(char *))) == NULL) {
		conftab_errorf(ct, "out of memory");
		return;
	}
	for (i = 0; i < n; i++) {
		str = v->type == CONFIG_TYPE_STRING ? v->s :
		    config_setting_get_string_elem(v->cs, (unsigned)i);
		if (((*field)[i] = strdup(str)) == NULL) {
			conftab_errorf(ct, "out of memory");
			return;
		}
		*count = (unsigned)i + 1;
	}
	if (n == 0 && (s->flags & CONFTAB_REQUIRED))
		return;		/* the walker says it is missing */
	if (s->fn != NULL)
		s->fn(ct, s, v, obj);
}

/*
 * A group in place in its parent's struct, its defaults already there; or,
 * with CONFTAB_ALLOC, a struct of its own whose pointer says that the
 * group was given (tls, return).
 */
static void
set_group(struct conftab *ct, const struct conftab_setting *s,
    const struct conftab_val *v, void *obj)
{
	void	*field = (char *)obj + s->off, *sub;
	bool	 on = v->type == CONFIG_TYPE_BOOL && v->i;

	/* An optional group may be written true (its defaults) or false
	   (left out). */
	if ((s->flags & CONFTAB_ALLOC) && v->type == CONFIG_TYPE_BOOL &&
	    !on)
		return;
	if (v->type != CONFIG_TYPE_GROUP && !((s->flags & CONFTAB_ALLOC) &&
	    on)) {
		conftab_errorf(ct, "'%s' must be a group: { ... }", s->name);
		return;
	}
	if (s->flags & CONFTAB_ALLOC) {
		if ((sub = calloc(1, s->sub->size)) == NULL) {
			conftab_errorf(ct, "out of memory");
			return;
		}
		*(void **)field = sub;
		conftab_defaults(ct, s->sub, sub);
		if (s->sub->line_off >= 0)
			*(int *)((char *)sub + s->sub->line_off) = ct->line;
	} else
		sub = field;
	if (v->type == CONFIG_TYPE_GROUP)
		conftab_walk(ct, s->sub, v->cs, sub);
	else if (s->sub->check != NULL)
		s->sub->check(ct, sub);
}

/* A list of groups: one array, each element read through the table. */
static void
set_list(struct conftab *ct, const struct conftab_setting *s,
    const struct conftab_val *v, void *obj)
{
	const struct conftab_table	*g = s->sub;
	config_setting_t		*elem;
	char				*arr, *e;
	unsigned			 i, n;

	if (v->type != CONFIG_TYPE_LIST) {
		conftab_errorf(ct, "'%s' must be a list of groups: "
		    "( { ... }, ... )", s->name);
		return;
	}
	if ((n = (unsigned)config_setting_length(v->cs)) == 0)
		return;		/* the walker says it is missing */
	if ((arr = calloc(n, g->size)) == NULL) {
		conftab_errorf(ct, "out of memory");
		return;
	}
	/* In place before the walk: a setter may look at the elements
	   before its own (duplicate names and addresses). */
	*(void **)((char *)obj + s->off) = arr;
	*(unsigned *)((char *)obj + s->cnt) = n;
	for (i = 0; i < n; i++) {
		e = arr + (size_t)i * g->size;
		elem = config_setting_get_elem(v->cs, i);
		place(ct, elem);
		conftab_defaults(ct, g, e);
		if (g->line_off >= 0)
			*(int *)(e + g->line_off) = ct->line;
		if (config_setting_type(elem) != CONFIG_TYPE_GROUP) {
			conftab_errorf(ct, "'%s' must be a list of groups: "
			    "( { ... }, ... )", s->name);
			continue;
		}
		conftab_walk(ct, g, elem, e);
	}
}

/* true or false; libconfig tells them from 1 and 0, and so do we. */
static void
set_bool(struct conftab *ct, const struct conftab_setting *s,
    const struct conftab_val *v, void *obj)
{
	if (v->type != CONFIG_TYPE_BOOL)
		conftab_errorf(ct, "'%s' must be true or false", s->name);
	else
		*(bool *)((char *)obj + s->off) = v->i != 0;
}

/*
 * One word of s->words, stored as its index, so that the words listed in
 * the order of the program's enum give its value (nginx's enum slot, with
 * the index as the value).  The message lists them all: who mistyped one
 * wants the others.
 */
static void
set_enum(struct conftab *ct, const struct conftab_setting *s,
    const struct conftab_val *v, void *obj)
{
	char	words[256] = "";
	size_t	i, len = 0;

	for (i = 0; s->words[i] != NULL; i++) {
		if (v->type == CONFIG_TYPE_STRING &&
		    strcmp(v->s, s->words[i]) == 0) {
			store_uint((char *)obj + s->off, s->width, i);
			if (s->fn != NULL)
				s->fn(ct, s, v, obj);
			return;
		}
		if (len < sizeof(words))	/* else the list is cut short */
			len += (size_t)snprintf(words + len,
			    sizeof(words) - len, "%s%s", i > 0 ? ", " : "",
			    s->words[i]);
	}
	conftab_errorf(ct, "'%s' must be one of %s", s->name, words);
}

/* The setter of each kind: a new kind is a setter and a line here.  A
   CONFTAB_CUSTOM setting brings its own (fn). */
static conftab_set_fn *const setters[] = {
	[CONFTAB_NUM] = conftab_set_num, [CONFTAB_DURATION] = set_amount,
	[CONFTAB_SIZE] = set_amount, [CONFTAB_BOOL] = set_bool,
	[CONFTAB_ENUM] = set_enum,
	[CONFTAB_STR] = set_string, [CONFTAB_STRV] = set_strings,
	[CONFTAB_GROUP] = set_group, [CONFTAB_LIST] = set_list,
};

static void
set_value(struct conftab *ct, const struct conftab_setting *s,
    const struct conftab_val *v, void *obj)
{
	if (s->kind == CONFTAB_CUSTOM)
		s->fn(ct, s, v, obj);
	else
		setters[s->kind](ct, s, v, obj);
}

/* -------------------------------------------------------- the walker -- */

/*
 * conftab_defaults(): see conftab.h.  Defaults go through the setters, as
 * if written in the file, so that a bad default in a table shows in the
 * first test that loads a file rather than as a wrong value at run time.
 * A group in place gets its defaults even when the file leaves it out.
 */
void
conftab_defaults(struct conftab *ct, const struct conftab_table *g, void *obj)
{
	const struct conftab_setting	*s;
	struct conftab_val		 v;
	size_t				 i;

	for (i = 0; i < g->nsettings; i++) {
		s = &g->settings[i];
		if (s->kind == CONFTAB_GROUP && !(s->flags & CONFTAB_ALLOC)) {
			conftab_defaults(ct, s->sub, (char *)obj + s->off);
			continue;
		}
		if (s->def == NULL)
			continue;
		memset(&v, 0, sizeof(v));
		if (s->kind == CONFTAB_NUM) {
			v.type = CONFIG_TYPE_INT;	/* as libconfig would */
			v.i = strtoll(s->def, NULL, 10);
		} else if (s->kind == CONFTAB_BOOL) {
			v.type = CONFIG_TYPE_BOOL;
			v.i = strcmp(s->def, "true") == 0;
		} else {
			v.type = CONFIG_TYPE_STRING;
			v.s = s->def;
		}
		set_value(ct, s, &v, obj);
	}
}

/*
 * conftab_walk(): see conftab.h.  Each setting written, then the required
 * ones that were not, then the group's own check.  Nothing stops at an
 * error: the rest of the group is still read and checked.
 */
void
conftab_walk(struct conftab *ct, const struct conftab_table *g,
    const config_setting_t *gs, void *obj)
{
	const struct conftab_setting	*s;
	config_setting_t		*cs;
	struct conftab_val		 v;
	unsigned			 i, n;
	size_t				 j;

	n = (unsigned)config_setting_length(gs);
	for (i = 0; i < n; i++) {
		cs = config_setting_get_elem(gs, i);
		place(ct, cs);
		/* By name, in order: a table is a few dozen settings at most,
		   and the file is read once. */
		for (j = 0, s = NULL; j < g->nsettings && s == NULL; j++)
			if (strcmp(g->settings[j].name,
			    config_setting_name(cs)) == 0)
				s = &g->settings[j];
		if (s == NULL) {
			unknown(ct, g, config_setting_name(cs));
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
		set_value(ct, s, &v, obj);
	}
	for (j = 0; j < g->nsettings; j++) {
		s = &g->settings[j];
		if (!(s->flags & CONFTAB_REQUIRED))
			continue;
		cs = config_setting_get_member(gs, s->name);
		/* An empty list counts as missing; a list of the wrong
		   type has had its message already. */
		if (cs == NULL || ((config_setting_type(cs) ==
		    CONFIG_TYPE_LIST || config_setting_type(cs) ==
		    CONFIG_TYPE_ARRAY) && config_setting_length(cs) == 0)) {
			place(ct, cs != NULL ? cs : gs);
			missing(ct, g, s, obj);
		}
	}
	if (g->check != NULL) {
		place(ct, gs);
		g->check(ct, obj);
	}
}

/* ---------------------------------------------------- free and names -- */

/*
 * conftab_free(): see conftab.h.  Only strings, string arrays and groups
 * are allocated by the walker; a field still zero (a setting refused, or
 * a load that stopped early) frees as nothing.  A CONFTAB_CUSTOM field is
 * its setter's business, and is left alone.
 */
void
conftab_free(const struct conftab_table *g, void *obj)
{
	const struct conftab_setting	*s;
	char				*field, **v, *arr;
	unsigned			 i, n;
	size_t				 j;

	for (j = 0; j < g->nsettings; j++) {
		s = &g->settings[j];
		field = (char *)obj + s->off;
		switch (s->kind) {
		case CONFTAB_STR:
			free(*(char **)field);
			break;
		case CONFTAB_STRV:
			v = *(char ***)field;
			for (i = 0; v != NULL && v[i] != NULL; i++)
				free(v[i]);
			free(v);
			break;
		case CONFTAB_GROUP:
			if (!(s->flags & CONFTAB_ALLOC))
				conftab_free(s->sub, field);
			else if (*(void **)field != NULL) {
				conftab_free(s->sub, *(void **)field);
				free(*(void **)field);
			}
			break;
		case CONFTAB_LIST:
			arr = *(char **)field;
			n = *(unsigned *)((char *)obj + s->cnt);
			for (i = 0; arr != NULL && i < n; i++)
				conftab_free(s->sub, arr + (size_t)i *
				    s->sub->size);
			free(arr);
			break;
		default:
			break;
		}
	}
}

/* The names of g and of its groups, prefixed by the parent's name.  What
   does not fit in names or pool is left out rather than cut short. */
static void
add_names(const struct conftab_table *g, const char *prefix,
    const char **names, size_t max, size_t *n, char *pool, size_t poolsize,
    size_t *used)
{
	const struct conftab_setting	*s;
	size_t				 i;
	int				 len;

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

/* conftab_names(): see conftab.h.  A group's own name is listed too
   ("access_log" before "access_log.path"): it is a setting of its parent. */
void
conftab_names(const struct conftab_table *g, const char **names,
    size_t max, char *pool, size_t poolsize)
{
	size_t	n = 0, used = 0;

	if (max == 0)
		return;
	add_names(g, "", names, max - 1, &n, pool, poolsize, &used);
	names[n] = NULL;
}
