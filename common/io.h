/*
 * io.h: reading and writing one connection, a client's or an upstream's,
 * in plain TCP or in TLS, with the same calls.
 *
 * The loop is edge-triggered: a connection keeps "readable" and
 * "writable" from its events and clears them when a read or write comes
 * back short.  In TLS a short read of the socket is known from the BIO
 * below OpenSSL, and a connection stays readable while OpenSSL holds
 * bytes it read ahead, so that no record waits for an edge that will not
 * come.
 */
#ifndef IO_H
#define IO_H

#include <sys/uio.h>
#include <openssl/ssl.h>

#include "ev.h"

struct conn {
	struct ev_io	 io;		/* first: the loop's events name it */
	SSL		*ssl;		/* NULL: plain TCP */
	uint8_t		 readable, writable;
	uint8_t		 rdhup;		/* the peer's FIN is known: a short
					   read does not mean drained */
	uint8_t		 drained;	/* TLS: the last socket read was
					   short */
	uint8_t		 handshake;	/* TLS: not finished yet */
	uint16_t	 nheld;		/* TLS: bytes in held */
	char		*held;		/* a session ticket not sent yet, or
					   NULL (io.c) */
};

#define IO_HELD_MAX	4096

/* io_events(): note what epoll said of k. */
void	io_events(struct conn *k, uint32_t events);

/*
 * io_read(): up to len bytes.  Returns how many, 0 at the end of the
 * stream, PT_AGAIN when there is nothing now, -1 on an error (errno set;
 * EPROTO for a TLS error, whose reason is tls_error()).
 */
ssize_t	io_read(struct conn *k, void *buf, size_t len);

/*
 * io_writev(): write from iov.  Returns the bytes taken (maybe fewer:
 * then k->writable is cleared and an event will come), PT_AGAIN when
 * none could be, -1 when the connection is broken.  In TLS, bytes not
 * taken must be offered again, in the same order, by the next call.
 */
ssize_t	io_writev(struct conn *k, const struct iovec *iov, int n);

/* io_tls(): make k a TLS connection with ssl (0), or -1 (ssl freed). */
int	io_tls(struct conn *k, SSL *ssl);

/*
 * io_handshake(): go on with the TLS handshake: 0 when it is done,
 * PT_AGAIN when it waits for the peer, -1 when it failed (*plain set
 * when the peer spoke plain HTTP; the reason is tls_error()).
 */
int	io_handshake(struct conn *k, bool *plain);

/* io_shutdown(): say close_notify, once, if k is TLS and established. */
void	io_shutdown(struct conn *k);

/* io_close(): close k (its SSL too; a TLS connection that finished its
   handshake says close_notify first, when notify). */
void	io_close(struct conn *k, bool notify);

#endif /* IO_H */
