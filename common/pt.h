/*
 * pt.h: the few things every file of Portico shares.
 *
 * One status vocabulary for the whole tree:
 *   0         done
 *   -1        error: errno, or a message through a char **err, says why
 *   PT_AGAIN  would block: call again when the descriptor is ready
 *
 * The unsafe string functions are poisoned here, so that a file that uses
 * them does not build (STYLE.md): use snprintf() and explicit lengths.
 */
#ifndef PT_H
#define PT_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define PT_VERSION	"0.1.0"

#define PT_OK		0
#define PT_ERROR	(-1)
#define PT_AGAIN	(-2)

#define PT_LIKELY(x)	__builtin_expect(!!(x), 1)
#define PT_UNLIKELY(x)	__builtin_expect(!!(x), 0)
#define PT_NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static inline size_t
pt_min(size_t a, size_t b)
{
	return a < b ? a : b;
}

static inline size_t
pt_max(size_t a, size_t b)
{
	return a > b ? a : b;
}

/* Headers of the C library first, so that the poison below hits only us. */
#include <string.h>
#include <stdio.h>
#pragma GCC poison strcpy strcat sprintf vsprintf gets

#endif /* PT_H */
