/*
 * ocsp.c: OCSP stapling from a file.  See ocsp.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>

#include "log.h"
#include "ocsp.h"

#define OCSP_MAX	(64 * 1024)	/* bytes of a response */

static time_t
asn1_time(const ASN1_GENERALIZEDTIME *t)
{
	struct tm tm;

	if (t == NULL || !ASN1_TIME_to_tm(t, &tm))
		return 0;
	return timegm(&tm);
}

/*
 * Check a response for o's certificate: successful, and about it (when
 * its issuer is known; else the first answer it holds).  NULL and its
 * nextUpdate in *next, or why not.  A "revoked" answer is taken: it is
 * the truth, and a client had better learn it.
 */
static const char *
check(const unsigned char *der, long len, const struct ocsp *o, time_t *next)
{
	const unsigned char	*p = der;
	OCSP_RESPONSE		*r;
	OCSP_BASICRESP		*b = NULL;
	OCSP_CERTID		*id = NULL;
	OCSP_SINGLERESP		*single;
	ASN1_GENERALIZEDTIME	*nextupd = NULL;
	const char		*why = NULL;
	int			 st, reason;

	if ((r = d2i_OCSP_RESPONSE(NULL, &p, len)) == NULL)
		why = "not a DER OCSP response";
	else if (OCSP_response_status(r) != OCSP_RESPONSE_STATUS_SUCCESSFUL)
		why = "the response status is not successful";
	else if ((b = OCSP_response_get1_basic(r)) == NULL)
		why = "no basic response in it";
	else if (o->issuer != NULL) {
		id = OCSP_cert_to_id(NULL, o->leaf, o->issuer);
		if (id == NULL || !OCSP_resp_find_status(b, id, &st, &reason,
		    NULL, NULL, &nextupd))
			why = "it is not about this certificate";
	} else if ((single = OCSP_resp_get0(b, 0)) == NULL)
		why = "it answers about no certificate";
	else
		(void)OCSP_single_get0_status(single, &reason, NULL, NULL,
		    &nextupd);
	if (why == NULL)
		*next = asn1_time(nextupd);
	OCSP_CERTID_free(id);
	OCSP_BASICRESP_free(b);
	OCSP_RESPONSE_free(r);
	ERR_clear_error();
	return why;
}

/* ocsp_load(): see ocsp.h. */
const char *
ocsp_load(struct ocsp *o)
{
	static char	 why[300];
	unsigned char	*der;
	struct stat	 st;
	const char	*bad;
	time_t		 next = 0;
	ssize_t		 n;
	int		 fd;

	o->checked = time(NULL);
	if ((fd = open(o->path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1) {
		snprintf(why, sizeof(why), "cannot read: %s", strerror(errno));
		if (fd != -1)
			close(fd);
		return why;
	}
	if (st.st_size <= 0 || st.st_size > OCSP_MAX) {
		close(fd);
		snprintf(why, sizeof(why), "%lld bytes, not 1 to %d",
		    (long long)st.st_size, OCSP_MAX);
		return why;
	}
	if ((der = malloc((size_t)st.st_size)) == NULL) {
		close(fd);
		return "out of memory";
	}
	n = read(fd, der, (size_t)st.st_size);
	close(fd);
	if (n != st.st_size) {
		free(der);
		return "short read";
	}
	if ((bad = check(der, (long)n, o, &next)) != NULL) {
		free(der);
		return bad;
	}
	free(o->der);
	o->der = der;
	o->len = (long)n;
	o->next_update = next;
	o->st = st;
	o->said_expired = false;
	return NULL;
}

/* A changed file is read again; a bad one is logged (once per change)
   and the last good response stays. */
static void
refresh(struct ocsp *o)
{
	struct stat	 st;
	const char	*why;
	time_t		 now = time(NULL);

	if (now == o->checked)
		return;
	o->checked = now;
	if (stat(o->path, &st) == -1 ||
	    (st.st_mtim.tv_sec == o->st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == o->st.st_mtim.tv_nsec &&
	    st.st_size == o->st.st_size && st.st_ino == o->st.st_ino))
		return;
	if ((why = ocsp_load(o)) != NULL) {
		o->st = st;
		log_warnx("tls: ocsp '%s': %s; the last good response stays",
		    o->path, why);
	} else
		log_info("tls: ocsp '%s' read again", o->path);
}

/* ocsp_staple(): see ocsp.h. */
int
ocsp_staple(SSL *ssl, struct ocsp *o)
{
	unsigned char *copy;

	refresh(o);
	if (o->der == NULL)
		return SSL_TLSEXT_ERR_NOACK;
	if (o->next_update != 0 && o->next_update < o->checked) {
		if (!o->said_expired)
			log_warnx("tls: ocsp '%s' expired: not stapled until "
			    "the file is renewed", o->path);
		o->said_expired = true;
		return SSL_TLSEXT_ERR_NOACK;
	}
	if ((copy = OPENSSL_memdup(o->der, (size_t)o->len)) == NULL)
		return SSL_TLSEXT_ERR_NOACK;
	SSL_set_tlsext_status_ocsp_resp(ssl, copy, o->len);
	return SSL_TLSEXT_ERR_OK;
}

/* ocsp_free(): see ocsp.h. */
void
ocsp_free(struct ocsp *o)
{
	free(o->der);
	o->der = NULL;
}
