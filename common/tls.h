/*
 * tls.h: TLS with OpenSSL: the contexts of a listener (certificates
 * chosen by SNI, protocols, client certificates, OCSP stapling, session
 * tickets) and of an upstream (Portico as the client: verification,
 * SNI, a client certificate, session reuse).
 *
 * Contexts are built when the config is loaded (tls_server_new(),
 * tls_client_new()), by the master, which can read the key files; the
 * workers inherit them when they fork.  A reload loads new ones.
 *
 * Session tickets are sealed with keys that every worker shares
 * (tickets.h).
 */
#ifndef TLS_H
#define TLS_H

#include <openssl/ssl.h>

#include "config.h"

/* Defaults: forward secrecy and AEAD only, for TLS 1.2. */
#define TLS_DEFAULT_CIPHERS	"ECDHE+AESGCM:ECDHE+CHACHA20"
#define TLS_DEFAULT_GROUPS	"X25519:P-256:P-384"

/* tls_protocol(): TLS1_2_VERSION for "TLSv1.2", ...; 0 if unknown. */
int	tls_protocol(const char *name);

/*
 * tls_server_new(): the contexts of a listener's tls group.  NULL when a
 * file or setting is refused: err says why (with OpenSSL's reason), and
 * *line is the config line it concerns.
 */
struct tls_server *tls_server_new(const struct config_tls *t, char *err,
	    size_t errlen, int *line);
void	tls_server_free(struct tls_server *ts);

/* tls_server_lifetime(): sessions resumable while their ticket's key is
   kept, by ticket_key_lifetime. */
void	tls_server_lifetime(struct tls_server *ts, uint32_t ticket_key_ms);

/* tls_server_ssl(): a new server connection's SSL, or NULL. */
SSL	*tls_server_ssl(struct tls_server *ts);

/* tls_client_new(), tls_client_free(): an upstream's context. */
struct tls_client *tls_client_new(const struct config_upstream_tls *t,
	    char *err, size_t errlen);
void	tls_client_free(struct tls_client *tc);

/*
 * tls_client_ssl(): a new connection to a server whose certificate must
 * name host (a DNS name or an IP address; a DNS name is sent as SNI when
 * sni is set), or NULL.  session, if not NULL, is offered for resumption.
 */
SSL	*tls_client_ssl(struct tls_client *tc, const char *host, bool sni,
	    SSL_SESSION *session);

/*
 * tls_client_name(): the name a server at address (as written) must
 * have in its certificate: t->name, or the host of the address; in buf.
 */
const char *tls_client_name(const struct config_upstream_tls *t,
	    const char *address, char *buf, size_t len);

/*
 * tls_client_on_session(): fn is called with each new session the
 * servers of tc give (to keep for the next connection); it returns 1
 * when it keeps the session, 0 otherwise.
 */
void	tls_client_on_session(struct tls_client *tc,
	    int (*fn)(SSL *ssl, SSL_SESSION *session));

/*
 * tls_peer(): for the headers to the origin: "SUCCESS" and the client
 * certificate's subject (RFC 2253) in subject, or "NONE" without one.
 */
const char *tls_peer(SSL *ssl, char *subject, size_t len);

/* tls_error(): OpenSSL's reason for the last failure, and the queue
   emptied (so that it says nothing about the next connection). */
const char *tls_error(void);

#endif /* TLS_H */
