/*
 * conftab.h: reading a libconfig file through tables of settings.
 *
 * A program describes each group of its file ({ ... }) as a table: for
 * each setting its name, kind, default (written as it would be in the
 * file), range, and where the value goes in the group's struct.  One
 * walker reads the whole file through the tables, so that a new setting
 * is one line of a table and not a new branch of code.  The same tables
 * fill in the defaults, suggest "did you mean" for unknown names, free
 * what the walker allocated, and list the names (for a man page test).
 *
 * Errors never stop the walk: each is printed as "file:line: message" and
 * counted in the struct conftab, and the caller fails once at the end, so
 * that a user fixes a whole file in one go (STYLE.md).
 *
 * What the settings mean, and the rules between groups (references by
 * name, duplicates), belong to the program: its setters and checks get
 * the struct conftab, and may embed it in a state of their own.
 * Portico's tables are in config.c.
 */
#ifndef CONFTAB_H
#define CONFTAB_H

#include <libconfig.h>

#include "pt.h"

/* Sizes are in powers of 1024, as the unit letters K, M, G, T say. */
#define CONFTAB_KB	1024ULL
#define CONFTAB_MB	(1024ULL * CONFTAB_KB)
#define CONFTAB_GB	(1024ULL * CONFTAB_MB)
#define CONFTAB_TB	(1024ULL * CONFTAB_GB)

/* What a setting holds, and so which setter reads it. */
enum conftab_kind {
	CONFTAB_NUM,		/* a number, min..max */
	CONFTAB_DURATION,	/* "10s", or a number of seconds; in ms */
	CONFTAB_SIZE,		/* "16K", or a number of bytes */
	CONFTAB_BOOL,		/* true or false */
	CONFTAB_ENUM,		/* one of words[]: its index, in an enum */
	CONFTAB_STR,		/* a string; fn, if any, checks or converts */
	CONFTAB_STRV,		/* [ "a", ... ]: char ** at off, count at cnt */
	CONFTAB_GROUP,		/* { ... }: in place, or a pointer (ALLOC) */
	CONFTAB_LIST,		/* ( { ... }, ... ): array at off, n at cnt */
	CONFTAB_CUSTOM,		/* fn does it all */
};

/* Flags of a setting. */
#define CONFTAB_REQUIRED 0x01	/* missing is an error; so is an empty list */
#define CONFTAB_EMPTY_OK 0x02	/* a string may be "" */
#define CONFTAB_ALLOC	0x04	/* CONFTAB_GROUP: a pointer, NULL if absent */

/*
 * A value from the file, or a default from a table, as a setter sees it:
 * a default is given in the same shape, so that it is checked like
 * anything a user writes.
 */
struct conftab_val {
	int			 type;	/* CONFIG_TYPE_INT, _STRING, ... */
	long long		 i;	/* numbers and booleans */
	const char		*s;
	config_setting_t	*cs;	/* NULL for a default */
};

struct conftab;
struct conftab_setting;

/*
 * A setter of a table, and the check of a group (conftab_table.check).
 * A setter gets the struct of the whole group (obj), not only the field,
 * so that a check can look at the other settings of the group.  Both
 * report through conftab_errorf() and return nothing: the walk goes on
 * either way.  Function types, not pointers, so that a program can
 * declare its setters in one line: static conftab_set_fn set_a, set_b;
 */
typedef void conftab_set_fn(struct conftab *, const struct conftab_setting *,
    const struct conftab_val *, void *obj);
typedef void conftab_check_fn(struct conftab *, void *obj);

/*
 * One setting of a table.
 * fn: for CONFTAB_STR, called once the copy is stored, to check or convert
 * it; for CONFTAB_STRV, once the array is stored; for CONFTAB_ENUM, once
 * the word is known; for CONFTAB_CUSTOM, it
 * does it all (and def, min and max are its own to read).
 */
struct conftab_setting {
	const char	*name;
	enum conftab_kind kind;
	const char	*def;		/* as in the file; NULL: none */
	uint64_t	 min, max;	/* numbers, ms, bytes */
	size_t		 off;		/* of the field in the group's struct */
	size_t		 width;		/* sizeof the field, for numbers */
	size_t		 cnt;		/* STRV, LIST: offset of the count */
	int		 flags;		/* CONFTAB_REQUIRED, ... */
	conftab_set_fn	*fn;
	const struct conftab_table *sub;	/* GROUP, LIST */
	const char *const *words;	/* ENUM: by value, NULL at the end */
};

/*
 * The settings of one kind of group, and what the walker needs to know of
 * its struct.  check runs after the group is read, for the rules that tie
 * its settings together (a route has an upstream or a return).
 */
struct conftab_table {
	const char	*what;		/* "upstream" in messages; NULL: top */
	size_t		 size;		/* of its struct */
	ptrdiff_t	 line_off;	/* of its int line, or -1 */
	ptrdiff_t	 key_off;	/* of the char * naming it, or -1 */
	const struct conftab_setting *settings;
	size_t		 nsettings;
	conftab_check_fn *check;	/* after the group; NULL: none */
};

/*
 * The state of reading one file: where the value being read is, and how
 * many errors so far.  Setters may set file and line to report at another
 * place (a reference resolved at the end names where it was written); a
 * file name from libconfig lives until config_destroy().
 */
struct conftab {
	FILE		*errfp;
	const char	*main_file;	/* as given to conftab_read() */
	const char	*file;		/* of the value, as libconfig has it */
	int		 line;
	unsigned	 nerrors;
	char		*dir;		/* of the main file; NULL: "." */
};

/*
 * conftab_read(): set ct up for file, reporting to errfp, and parse file
 * into lc (from config_init()), @include found beside it.  file must live
 * as long as ct.  Returns 0, or -1 with the error reported and counted;
 * either way conftab_done() frees what ct holds.
 */
int	conftab_read(struct conftab *ct, config_t *lc, const char *file,
	    FILE *errfp);

/* conftab_done(): free what ct holds.  ct->file may point into lc: report
   nothing through ct once lc is destroyed. */
void	conftab_done(struct conftab *ct);

/* conftab_errorf(): report one error at ct->file:ct->line, and count it. */
void	conftab_errorf(struct conftab *ct, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/*
 * conftab_defaults(): the defaults of table g into obj, through the
 * setters.  conftab_walk(): read group gs into obj through g.  Both report
 * and count errors rather than stop.
 */
void	conftab_defaults(struct conftab *ct, const struct conftab_table *g,
	    void *obj);
void	conftab_walk(struct conftab *ct, const struct conftab_table *g,
	    const config_setting_t *gs, void *obj);

/* conftab_set_num(): the setter of CONFTAB_NUM, for a fn to call. */
void	conftab_set_num(struct conftab *ct, const struct conftab_setting *s,
	    const struct conftab_val *v, void *obj);

/* conftab_label(): "upstream 'app'", or "site": who a message is about. */
const char *conftab_label(const struct conftab_table *g, const void *obj,
	    char *buf, size_t size);

/* conftab_closest(): the name of names[n] to suggest for name, or NULL. */
const char *conftab_closest(const char *name, const char *const *names,
	    size_t n);

/* conftab_free(): free what the walker allocated in obj, not obj itself. */
void	conftab_free(const struct conftab_table *g, void *obj);

/*
 * conftab_names(): the names of g and of its groups, "group.name", into
 * names[max] with a NULL after the last; the strings are kept in pool.
 */
void	conftab_names(const struct conftab_table *g, const char **names,
	    size_t max, char *pool, size_t poolsize);

#endif /* CONFTAB_H */
