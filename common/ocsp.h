/*
 * ocsp.h: OCSP stapling of a certificate from a file that a job of the
 * operator's refreshes (as with "openssl ocsp -respout").
 *
 * The file is read when the config is loaded: it must be a successful
 * response about the certificate (when its issuer is known, from the
 * chain).  The workers look at the file at most once a second while
 * clients ask for stapling, and read it again when it changed; one that
 * is not valid is logged and the last good response stays.  A response
 * past its nextUpdate is not stapled (a client would refuse it), and
 * that is logged once.
 */
#ifndef OCSP_H
#define OCSP_H

#include <sys/stat.h>
#include <time.h>

#include <openssl/ssl.h>

#include "pt.h"

struct ocsp {
	const char	*path;		/* NULL: no stapling */
	X509		*leaf, *issuer;	/* borrowed; issuer may be NULL */
	unsigned char	*der;		/* the response, or NULL */
	long		 len;
	time_t		 next_update;	/* 0: the response has none */
	struct stat	 st;		/* of the file when it was read */
	time_t		 checked;	/* second of the last stat() */
	bool		 said_expired;
};

/* ocsp_load(): read and check o->path.  NULL, or why it was refused. */
const char *ocsp_load(struct ocsp *o);

/* ocsp_staple(): for OpenSSL's status callback: staple o's response
   (read again first if the file changed); SSL_TLSEXT_ERR_OK or _NOACK. */
int	ocsp_staple(SSL *ssl, struct ocsp *o);

/* ocsp_free(): what o holds. */
void	ocsp_free(struct ocsp *o);

#endif /* OCSP_H */
