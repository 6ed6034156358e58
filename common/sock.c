/*
 * sock.c: socket calls.  See sock.h.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sock.h"

/* sock_listen(): see sock.h. */
int
sock_listen(const struct addr *a, unsigned backlog)
{
	int	fd, on = 1;
	int	family = a->sa.ss_family;

	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1)
		goto fail;
	if (family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) == -1)
		goto fail;
	if (bind(fd, (const struct sockaddr *)&a->sa, a->len) == -1)
		goto fail;
	if (listen(fd, (int)backlog) == -1)
		goto fail;
	/* Wake a worker only when the request has arrived: it reads at
	   once instead of waiting one more turn of its loop. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &on, sizeof(on));
	/* Accepted connections inherit it: a TLS server writes a session
	   ticket and then the response, and Nagle would hold the response
	   until the client acknowledges the ticket (40 ms of delayed ACK). */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	return fd;
fail:
	{
		int saved = errno;

		close(fd);
		errno = saved;
	}
	return -1;
}

/* sock_connect(): see sock.h. */
int
sock_connect(const struct addr *a, bool *in_progress)
{
	int	fd, on = 1;
	int	family = a->sa.ss_family;

	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	/* Requests and their bodies are written whole; Nagle would only
	   hold back the tail of a body. */
	if (family != AF_UNIX)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on,
		    sizeof(on));
	*in_progress = false;
	if (connect(fd, (const struct sockaddr *)&a->sa, a->len) == -1) {
		if (errno != EINPROGRESS) {
			int saved = errno;

			close(fd);
			errno = saved;
			return -1;
		}
		*in_progress = true;
	}
	return fd;
}

/* sock_connect_result(): see sock.h. */
int
sock_connect_result(int fd)
{
	int		err = 0;
	socklen_t	len = sizeof(err);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		return errno;
	return err;
}
