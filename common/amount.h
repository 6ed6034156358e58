/*
 * amount.h: durations and sizes as a user writes them in the config:
 * "500ms", "10s", "1m30s", "2h", "1d" (a bare number is seconds); "512",
 * "16K", "256M", "1G", "1T" (powers of 1024).
 */
#ifndef AMOUNT_H
#define AMOUNT_H

#include "pt.h"

/* amount_duration(), amount_size(): s read into *ms or *bytes; 0, or
   -1 with *err set to why not. */
int	amount_duration(const char *s, uint32_t *ms, const char **err);
int	amount_size(const char *s, uint64_t *bytes, const char **err);

/*
 * amount_text(): v (ms, or bytes) in the largest unit that divides it
 * exactly, as "1M" or "24d", else with the unit one; in buf.
 */
const char *amount_text(uint64_t v, bool duration, const char *one,
	    char *buf, size_t size);

#endif /* AMOUNT_H */
