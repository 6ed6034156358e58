/*
 * listen.c: bind the listeners.  See listen.h.
 */
#include <stdlib.h>
#include <unistd.h>

#include "listen.h"
#include "log.h"
#include "sock.h"

/* listen_open(): see listen.h. */
int *
listen_open(const struct config *cf)
{
	int		*fds;
	unsigned	 i;

	if ((fds = calloc(cf->nlisteners, sizeof(*fds))) == NULL) {
		log_warn("listeners");
		return NULL;
	}
	for (i = 0; i < cf->nlisteners; i++) {
		const struct config_listener *l = &cf->listeners[i];

		fds[i] = sock_listen(&l->addr, l->backlog);
		if (fds[i] == -1) {
			log_warn("%s:%d: cannot listen on %s", cf->file,
			    l->line, l->address);
			listen_close(fds, i);
			return NULL;
		}
	}
	return fds;
}

/* listen_close(): see listen.h. */
void
listen_close(int *fds, unsigned n)
{
	unsigned i;

	if (fds == NULL)
		return;
	for (i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
}
