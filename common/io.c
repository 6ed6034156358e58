/*
 * io.c: reads and writes of a connection, plain or TLS: the workers'
 * clients and upstreams, and the checker's checks.  See io.h.
 *
 * OpenSSL reads and writes the socket through a BIO of ours: the same
 * read(2) and send(2) as plain connections, and it notes whether a read
 * drained the socket, which OpenSSL's own socket BIO cannot tell.
 */
#include <sys/socket.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include <openssl/err.h>

#include "io.h"
#include "tls.h"

static BIO_METHOD *bio_method;

/* io_events(): see io.h. */
void
io_events(struct conn *k, uint32_t events)
{
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		k->readable = 1;
	if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		k->rdhup = 1;
	if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
		k->writable = 1;
}

/* ---------------------------------------------------- the BIO below -- */

static int
bio_read(BIO *b, char *buf, int len)
{
	struct conn	*k = BIO_get_data(b);
	ssize_t		 n;

	BIO_clear_retry_flags(b);
	do
		n = read(k->io.fd, buf, (size_t)len);
	while (n == -1 && errno == EINTR);
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			BIO_set_retry_read(b);
		return -1;
	}
	k->drained = n < len && !k->rdhup;
	return (int)n;
}

/*
 * A TLS 1.3 server writes its session ticket as soon as the handshake is
 * done, and the response follows when it is ready: the ticket is held
 * here (it is at most a few hundred bytes) and goes out in the same
 * write as what follows, so that the client gets both in one segment and
 * one read.  Nothing waits on it: a client does not need the ticket
 * before the response.
 */
static int
bio_write(BIO *b, const char *buf, int len)
{
	struct conn	*k = BIO_get_data(b);
	struct iovec	 iov[2];
	char		*p;
	ssize_t		 n;

	BIO_clear_retry_flags(b);
	if (SSL_get_state(k->ssl) == TLS_ST_SW_SESSION_TICKET &&
	    SSL_version(k->ssl) == TLS1_3_VERSION &&
	    k->nheld + (size_t)len <= IO_HELD_MAX) {
		if ((p = realloc(k->held, k->nheld + (size_t)len)) != NULL) {
			memcpy(p + k->nheld, buf, (size_t)len);
			k->held = p;
			k->nheld += (uint16_t)len;
			return len;
		}
	}
	iov[0].iov_base = k->held;
	iov[0].iov_len = k->nheld;
	iov[1].iov_base = (void *)buf;
	iov[1].iov_len = (size_t)len;
	do
		n = writev(k->io.fd, iov + (k->nheld == 0), k->nheld > 0 ? 2 : 1);
	while (n == -1 && errno == EINTR);
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			BIO_set_retry_write(b);
		return -1;
	}
	if (k->nheld > 0) {
		if ((size_t)n < k->nheld) {
			/* Only held bytes went: the rest of them first, and
			   buf again when the socket takes more. */
			memmove(k->held, k->held + n, k->nheld - (size_t)n);
			k->nheld -= (uint16_t)n;
			BIO_set_retry_write(b);
			return -1;
		}
		n -= k->nheld;
		free(k->held);
		k->held = NULL;
		k->nheld = 0;
		if (n == 0) {
			BIO_set_retry_write(b);
			return -1;
		}
	}
	return (int)n;
}

static long
bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)b;
	(void)num;
	(void)ptr;
	return cmd == BIO_CTRL_FLUSH;	/* nothing is held here */
}

static int
bio_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

/* io_tls(): see io.h. */
int
io_tls(struct conn *k, SSL *ssl)
{
	BIO *b;

	if (bio_method == NULL) {
		bio_method = BIO_meth_new(BIO_get_new_index() |
		    BIO_TYPE_SOURCE_SINK, "portico");
		if (bio_method == NULL ||
		    !BIO_meth_set_read(bio_method, bio_read) ||
		    !BIO_meth_set_write(bio_method, bio_write) ||
		    !BIO_meth_set_ctrl(bio_method, bio_ctrl) ||
		    !BIO_meth_set_create(bio_method, bio_create)) {
			SSL_free(ssl);
			return -1;
		}
	}
	if ((b = BIO_new(bio_method)) == NULL) {
		SSL_free(ssl);
		return -1;
	}
	BIO_set_data(b, k);
	SSL_set_bio(ssl, b, b);
	k->ssl = ssl;
	k->handshake = 1;
	return 0;
}

/* ------------------------------------------------------ reads, writes -- */

/* What an SSL call that failed with e means for the caller. */
static int
tls_failed(struct conn *k, int e)
{
	switch (e) {
	case SSL_ERROR_WANT_READ:
		k->readable = 0;
		return PT_AGAIN;
	case SSL_ERROR_WANT_WRITE:
		k->writable = 0;
		return PT_AGAIN;
	case SSL_ERROR_ZERO_RETURN:
		return 0;		/* close_notify */
	case SSL_ERROR_SYSCALL:
		if (ERR_peek_error() == 0 && errno == 0)
			return 0;	/* closed without close_notify */
		if (ERR_peek_error() == 0)
			return -1;	/* errno says */
		/* FALLTHROUGH */
	default:
		errno = EPROTO;
		return -1;
	}
}

/* io_read(): see io.h. */
ssize_t
io_read(struct conn *k, void *buf, size_t len)
{
	ssize_t	n;
	size_t	got;

	if (k->ssl != NULL) {
		ERR_clear_error();
		errno = 0;
		if (SSL_read_ex(k->ssl, buf, len, &got)) {
			if (k->drained && !SSL_has_pending(k->ssl))
				k->readable = 0;
			return (ssize_t)got;
		}
		return tls_failed(k, SSL_get_error(k->ssl, 0));
	}
	do
		n = read(k->io.fd, buf, len);
	while (n == -1 && errno == EINTR);
	if (n > 0) {
		/* A short read drained the socket (edge-triggered): the
		   next edge says when there is more. */
		if ((size_t)n < len && !k->rdhup)
			k->readable = 0;
		return n;
	}
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		k->readable = 0;
		return PT_AGAIN;
	}
	return n;
}

/* The len bytes at off of iov: in place when one iovec holds them all,
   else copied to tmp. */
static const void *
span(const struct iovec *iov, int n, size_t off, size_t len, char *tmp)
{
	size_t	got = 0, take;
	int	i;

	for (i = 0; i < n && off >= iov[i].iov_len; i++)
		off -= iov[i].iov_len;
	if (i < n && iov[i].iov_len - off >= len)
		return (const char *)iov[i].iov_base + off;
	for (; i < n && got < len; i++, off = 0) {
		take = pt_min(iov[i].iov_len - off, len - got);
		memcpy(tmp + got, (const char *)iov[i].iov_base + off, take);
		got += take;
	}
	return tmp;
}

/*
 * In TLS, a record at most at a time (16 KiB): the bytes of one record
 * come from wherever they are, and a record OpenSSL could not send yet
 * is offered again whole by the next call (the caller offers at least
 * as many bytes as before, so the next chunk covers it).
 */
static ssize_t
tls_writev(struct conn *k, const struct iovec *iov, int n, size_t want)
{
	char		 tmp[16384];
	const void	*p;
	size_t		 done = 0, chunk, w;
	int		 rc;

	while (done < want) {
		chunk = pt_min(want - done, sizeof(tmp));
		p = span(iov, n, done, chunk, tmp);
		ERR_clear_error();
		errno = 0;
		if (!SSL_write_ex(k->ssl, p, chunk, &w)) {
			rc = tls_failed(k, SSL_get_error(k->ssl, 0));
			if (rc != PT_AGAIN) {
				ERR_clear_error();
				return done > 0 ? (ssize_t)done : -1;
			}
			break;
		}
		done += w;
	}
	return done > 0 ? (ssize_t)done : PT_AGAIN;
}

/* io_writev(): see io.h. */
ssize_t
io_writev(struct conn *k, const struct iovec *iov, int n)
{
	ssize_t	 done;
	size_t	 want = 0;
	int	 i;

	if (!k->writable)
		return PT_AGAIN;
	for (i = 0; i < n; i++)
		want += iov[i].iov_len;
	if (k->ssl != NULL)
		return tls_writev(k, iov, n, want);
	do
		done = writev(k->io.fd, iov, n);
	while (done == -1 && errno == EINTR);
	if (done == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			k->writable = 0;
			return PT_AGAIN;
		}
		return -1;
	}
	if ((size_t)done < want)
		k->writable = 0;
	return done;
}

/* io_handshake(): see io.h. */
int
io_handshake(struct conn *k, bool *plain)
{
	int r, e;

	*plain = false;
	ERR_clear_error();
	errno = 0;
	if ((r = SSL_do_handshake(k->ssl)) == 1) {
		k->handshake = 0;
		return 0;
	}
	e = SSL_get_error(k->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return tls_failed(k, e);
	*plain = ERR_GET_LIB(ERR_peek_error()) == ERR_LIB_SSL &&
	    ERR_GET_REASON(ERR_peek_error()) == SSL_R_HTTP_REQUEST;
	if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 && errno == 0)
		errno = ECONNRESET;	/* the peer closed */
	return -1;
}

/* io_shutdown(): see io.h. */
void
io_shutdown(struct conn *k)
{
	if (k->ssl != NULL && !k->handshake &&
	    !(SSL_get_shutdown(k->ssl) & SSL_SENT_SHUTDOWN)) {
		(void)SSL_shutdown(k->ssl);
		ERR_clear_error();
	}
}

/* io_close(): see io.h. */
void
io_close(struct conn *k, bool notify)
{
	if (k->ssl != NULL) {
		if (notify && !k->rdhup)
			io_shutdown(k);
		/* Without this, OpenSSL takes a connection closed without
		   close_notify for a broken session and forgets it: an
		   origin could not be resumed after a close of its own. */
		if (!k->handshake)
			SSL_set_shutdown(k->ssl, SSL_get_shutdown(k->ssl) |
			    SSL_SENT_SHUTDOWN);
		ERR_clear_error();
		SSL_free(k->ssl);
		k->ssl = NULL;
		free(k->held);
		k->held = NULL;
		k->nheld = 0;
	}
	if (k->io.fd != -1)
		close(k->io.fd);
	k->io.fd = -1;
}
