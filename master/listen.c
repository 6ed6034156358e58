/*
 * listen.c: bind the listeners.  See listen.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "listen.h"
#include "sock.h"

/* The socket of old's listener on address a, or -1. */
static int
old_socket(const struct config *old, const int *old_fds,
    const struct addr *a)
{
	unsigned i;

	if (old == NULL)
		return -1;
	for (i = 0; i < old->nlisteners; i++)
		if (addr_equal(&old->listeners[i].addr, a))
			return old_fds[i];
	return -1;
}

/* listen_open(): see listen.h. */
int *
listen_open(const struct config *cf, const struct config *old,
    const int *old_fds, FILE *errfp)
{
	int		*fds;
	unsigned	 i, j;

	if ((fds = calloc(cf->nlisteners, sizeof(*fds))) == NULL) {
		fprintf(errfp, "listeners: %s\n", strerror(errno));
		return NULL;
	}
	for (i = 0; i < cf->nlisteners; i++) {
		const struct config_listener *l = &cf->listeners[i];

		if ((fds[i] = old_socket(old, old_fds, &l->addr)) != -1) {
			/* listen(2) again sets a changed backlog. */
			(void)listen(fds[i], (int)l->backlog);
			continue;
		}
		if ((fds[i] = sock_listen(&l->addr, l->backlog)) != -1)
			continue;
		fprintf(errfp, "%s:%d: cannot listen on %s: %s\n", cf->file,
		    l->line, l->address, strerror(errno));
		for (j = 0; j < i; j++)
			if (old_socket(old, old_fds,
			    &cf->listeners[j].addr) == -1)
				close(fds[j]);
		free(fds);
		return NULL;
	}
	return fds;
}
