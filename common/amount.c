/*
 * amount.c: durations and sizes as a user writes them in the config,
 * read and written.  See amount.h.
 */
#include <ctype.h>
#include <errno.h>

#include "amount.h"

/* "24d", "1h", "500ms", "16K": amounts as a user would write them.  The
   units go from the smallest up, which fmt_units() relies on. */
static const struct unit {
	const char	*name;
	uint64_t	 mult;
} duration_units[] = {
	{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
	{ "d", 86400000 },
}, size_units[] = {
	{ "K", 1ULL << 10 }, { "M", 1ULL << 20 }, { "G", 1ULL << 30 },
	{ "T", 1ULL << 40 },
};

/* v in the largest unit that divides it exactly; "one" names the base.
   A range in a message then reads as the table was written: "1M". */
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

/* amount_text(): see amount.h. */
const char *
amount_text(uint64_t v, bool duration, const char *one, char *buf,
    size_t size)
{
	return duration ? fmt_units(v, duration_units,
	    PT_NELEM(duration_units), one, buf, size) : fmt_units(v,
	    size_units, PT_NELEM(size_units), one, buf, size);
}

/* How both amounts may not start; said first, as the plainest message. */
static int
starts_ok(const char *s, const char **err)
{
	if (*s != '\0' && *s != '-' && isdigit((unsigned char)*s))
		return 0;
	*err = *s == '\0' ? "empty" : *s == '-' ? "negative" : "not a number";
	return -1;
}

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

/*
 * amount_duration(): see amount.h.  The result must fit 32 bits
 * of milliseconds (49 days): longer than any timeout needs, and the
 * tables narrow it further.
 */
int
amount_duration(const char *s, uint32_t *ms, const char **err)
{
	const struct unit	*u;
	const char		*p = s, *name;
	uint64_t		 total = 0, n;
	size_t			 len;
	bool			 bare;

	if (starts_ok(s, err) == -1)
		return -1;
	/* A bare number is seconds; else every number has its unit. */
	bare = strspn(s, "0123456789") == strlen(s);
	while (*p != '\0') {
		if (!isdigit((unsigned char)*p)) {	/* "1s-2s", "10s " */
			*err = "not a number";
			return -1;
		}
		if (parse_digits(&p, &n, err) == -1)
			return -1;
		for (name = p; isalpha((unsigned char)*p); p++)
			;
		len = (size_t)(p - name);
		if (bare) {
			name = "s";
			len = 1;
		}
		for (u = duration_units; u < duration_units +
		    PT_NELEM(duration_units); u++)
			if (strlen(u->name) == len &&
			    strncmp(name, u->name, len) == 0)
				break;
		if (u == duration_units + PT_NELEM(duration_units)) {
			*err = "unknown unit (use ms, s, m, h or d)";
			return -1;
		}
		/* Checked before adding, so that the sum cannot wrap. */
		if (n > UINT32_MAX / u->mult ||
		    (total += n * u->mult) > UINT32_MAX) {
			*err = "too large";
			return -1;
		}
	}
	*ms = (uint32_t)total;
	return 0;
}

/* amount_size(): see amount.h.  Units may be lower case, since
   "16k" cannot mean anything else. */
int
amount_size(const char *s, uint64_t *bytes, const char **err)
{
	const char	*p = s;
	uint64_t	 n = 0, mult = 1;
	size_t		 i;

	if (starts_ok(s, err) == -1 || parse_digits(&p, &n, err) == -1)
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
