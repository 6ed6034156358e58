/*
 * tls.c: the OpenSSL contexts of listeners and upstreams, and the shared
 * session-ticket keys.  See tls.h.
 *
 * A listener's certificates are grouped by the names they carry: one
 * SSL_CTX per set of names, holding one certificate per key type (an RSA
 * and an ECDSA certificate for the same names go side by side, and
 * OpenSSL picks by what the client supports).  The first context is the
 * default; the SNI callback moves a connection to the context of the
 * name it asks for: an exact name first, then a wildcard "*.a.com",
 * which covers one label.
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "ocsp.h"
#include "tickets.h"
#include "tls.h"

/* One certificate of a listener, and what is stapled for it. */
struct tls_cert {
	const struct config_tls_cert *cf;
	X509		*leaf;
	X509		*issuer;	/* the first of its chain, or NULL */
	struct ocsp	 ocsp;		/* path NULL: no stapling */
};

/* A name a certificate answers for, and the context that has it. */
struct tls_name {
	char		*name;		/* lower case; "*.a.com" */
	SSL_CTX		*ctx;
};

struct tls_server {
	SSL_CTX		**ctxs;		/* ctxs[0]: the default */
	unsigned	 nctxs;
	struct tls_cert	*certs;
	unsigned	 ncerts;
	struct tls_name	*names;
	unsigned	 nnames;
};

struct tls_client {
	SSL_CTX		*ctx;
	int		(*on_session)(SSL *, SSL_SESSION *);
};

static int		 ex_client = -1;	/* SSL_CTX ex_data index */

/* ------------------------------------------------------------ errors -- */

/* tls_error(): see tls.h.  The last error is the most precise one. */
const char *
tls_error(void)
{
	static char	text[256];
	unsigned long	e, last = 0;
	const char	*r;

	while ((e = ERR_get_error()) != 0)
		last = e;
	if (last == 0)
		return errno != 0 ? strerror(errno) : "unknown error";
	if (ERR_GET_LIB(last) == ERR_LIB_SYS)
		return strerror(ERR_GET_REASON(last));
	r = ERR_reason_error_string(last);
	snprintf(text, sizeof(text), "%s", r != NULL ? r : "unknown error");
	return text;
}

/* tls_protocol(): see tls.h. */
int
tls_protocol(const char *name)
{
	if (strcmp(name, "TLSv1.2") == 0)
		return TLS1_2_VERSION;
	if (strcmp(name, "TLSv1.3") == 0)
		return TLS1_3_VERSION;
	return 0;
}

/* A key is never asked a passphrase for: there is no one to ask. */
static int
no_passphrase(char *buf, int size, int rw, void *u)
{
	(void)buf;
	(void)size;
	(void)rw;
	(void)u;
	return -1;
}

/*
 * Read a certificate file (the leaf, then its chain) and a key file, and
 * check that they are a pair.  Returns 0, or -1 with err set.
 */
static int
load_pair(const char *cert_file, const char *key_file, X509 **leaf,
    STACK_OF(X509) **chain, EVP_PKEY **key, char *err, size_t len)
{
	BIO	*b;
	X509	*x;

	*leaf = NULL;
	*chain = NULL;
	*key = NULL;
	ERR_clear_error();
	if ((b = BIO_new_file(cert_file, "r")) == NULL) {
		snprintf(err, len, "certificate '%s': cannot read: %s",
		    cert_file, tls_error());
		return -1;
	}
	if ((*leaf = PEM_read_bio_X509_AUX(b, NULL, no_passphrase,
	    NULL)) == NULL) {
		BIO_free(b);
		snprintf(err, len, "certificate '%s': no certificate: %s",
		    cert_file, tls_error());
		return -1;
	}
	*chain = sk_X509_new_null();
	while ((x = PEM_read_bio_X509(b, NULL, no_passphrase, NULL)) != NULL)
		if (*chain == NULL || !sk_X509_push(*chain, x))
			X509_free(x);
	BIO_free(b);
	if (ERR_GET_REASON(ERR_peek_last_error()) != PEM_R_NO_START_LINE) {
		snprintf(err, len, "certificate '%s': bad chain: %s",
		    cert_file, tls_error());
		return -1;
	}
	ERR_clear_error();
	if ((b = BIO_new_file(key_file, "r")) == NULL) {
		snprintf(err, len, "key '%s': cannot read: %s", key_file,
		    tls_error());
		return -1;
	}
	*key = PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL);
	BIO_free(b);
	if (*key == NULL) {
		snprintf(err, len, "key '%s': no private key (or one with a "
		    "passphrase): %s", key_file, tls_error());
		return -1;
	}
	if (!X509_check_private_key(*leaf, *key)) {
		snprintf(err, len, "key '%s' does not match certificate "
		    "'%s': %s", key_file, cert_file, tls_error());
		return -1;
	}
	return 0;
}

static void
free_pair(X509 *leaf, STACK_OF(X509) *chain, EVP_PKEY *key)
{
	X509_free(leaf);
	sk_X509_pop_free(chain, X509_free);
	EVP_PKEY_free(key);
}

/* Put a loaded pair into ctx, in the slot of its key type. */
static int
use_pair(SSL_CTX *ctx, X509 *leaf, STACK_OF(X509) *chain, EVP_PKEY *key,
    const char *cert_file, char *err, size_t len)
{
	if (!SSL_CTX_use_certificate(ctx, leaf) ||
	    (chain != NULL && !SSL_CTX_set1_chain(ctx, chain)) ||
	    !SSL_CTX_use_PrivateKey(ctx, key)) {
		snprintf(err, len, "certificate '%s': %s", cert_file,
		    tls_error());
		return -1;
	}
	return 0;
}

/* The TLS 1.3 suites and the key exchange groups, when given. */
static int
set_tls13(SSL_CTX *ctx, const char *suites, const char *groups, char *err,
    size_t len)
{
	if (suites != NULL && !SSL_CTX_set_ciphersuites(ctx, suites)) {
		snprintf(err, len, "ciphersuites '%s': %s", suites, tls_error());
		return -1;
	}
	if (groups != NULL && !SSL_CTX_set1_groups_list(ctx, groups)) {
		snprintf(err, len, "groups '%s': %s", groups, tls_error());
		return -1;
	}
	return 0;
}

/* The protocol range, and the options both sides share. */
static int
set_common(SSL_CTX *ctx, const struct config_protocols *p,
    const char *ciphers, char *err, size_t len)
{
	SSL_CTX_set_min_proto_version(ctx, p->min != 0 ? p->min :
	    TLS1_2_VERSION);
	if (p->max != 0)
		SSL_CTX_set_max_proto_version(ctx, p->max);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_NO_COMPRESSION);
	/* Writes of any size and place (io.c offers the same bytes again
	   from wherever they are); buffers freed while a connection idles;
	   and as much read at once as the socket has. */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_read_ahead(ctx, 1);
	if (ciphers != NULL && !SSL_CTX_set_cipher_list(ctx, ciphers)) {
		snprintf(err, len, "ciphers '%s': %s", ciphers, tls_error());
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------- listener -- */

static int
add_name(struct tls_server *ts, const char *name, size_t len, SSL_CTX *ctx)
{
	struct tls_name	*n;
	size_t		 i;

	if (len == 0 || len > 253)
		return 0;
	n = realloc(ts->names, (ts->nnames + 1) * sizeof(*n));
	if (n == NULL)
		return -1;
	ts->names = n;
	n = &ts->names[ts->nnames];
	if ((n->name = malloc(len + 1)) == NULL)
		return -1;
	for (i = 0; i < len; i++)
		n->name[i] = (char)tolower((unsigned char)name[i]);
	n->name[len] = '\0';
	n->ctx = ctx;
	ts->nnames++;
	return 0;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The DNS names of a certificate (its common name when it has none), as
   one "a|b|c" string in a sorted order, to compare sets of names. */
static char *
cert_names(X509 *x)
{
	GENERAL_NAMES	*gens;
	X509_NAME	*subj;
	char		*out = NULL, **v = NULL, *p;
	size_t		 n = 0, i, size = 1;
	int		 k, idx;

	gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	for (k = 0; gens != NULL && k < sk_GENERAL_NAME_num(gens); k++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, k);

		if (g->type != GEN_DNS)
			continue;
		if ((v = reallocarray(v, n + 1, sizeof(*v))) == NULL)
			goto out;
		v[n] = strndup(
		    (const char *)ASN1_STRING_get0_data(g->d.dNSName),
		    (size_t)ASN1_STRING_length(g->d.dNSName));
		if (v[n] == NULL)
			goto out;
		size += strlen(v[n++]) + 1;
	}
	if (n == 0 && (subj = X509_get_subject_name(x)) != NULL &&
	    (idx = X509_NAME_get_index_by_NID(subj, NID_commonName, -1)) >= 0) {
		ASN1_STRING *cn = X509_NAME_ENTRY_get_data(
		    X509_NAME_get_entry(subj, idx));

		if ((v = malloc(sizeof(*v))) == NULL)
			goto out;
		v[0] = strndup((const char *)ASN1_STRING_get0_data(cn),
		    (size_t)ASN1_STRING_length(cn));
		if (v[0] == NULL)
			goto out;
		size += strlen(v[n++]) + 1;
	}
	qsort(v, n, sizeof(*v), cmp_names);
	if ((out = malloc(size)) == NULL)
		goto out;
	for (i = 0, p = out; i < n; i++) {
		if (i > 0)
			*p++ = '|';
		memcpy(p, v[i], strlen(v[i]));
		p += strlen(v[i]);
	}
	*p = '\0';
out:
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
	GENERAL_NAMES_free(gens);
	return out;
}

/* The context of the name a client asked for; NULL: the default. */
static SSL_CTX *
find_name(const struct tls_server *ts, const char *name)
{
	const char	*dot;
	unsigned	 i;

	for (i = 0; i < ts->nnames; i++)
		if (strcasecmp(ts->names[i].name, name) == 0)
			return ts->names[i].ctx;
	if ((dot = strchr(name, '.')) == NULL || dot == name)
		return NULL;
	for (i = 0; i < ts->nnames; i++)
		if (ts->names[i].name[0] == '*' &&
		    ts->names[i].name[1] == '.' &&
		    strcasecmp(ts->names[i].name + 1, dot) == 0)
			return ts->names[i].ctx;
	return NULL;
}

static int
sni_cb(SSL *ssl, int *alert, void *arg)
{
	struct tls_server	*ts = arg;
	const char		*name;
	SSL_CTX			*ctx;

	(void)alert;
	name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	if (name == NULL)
		return SSL_TLSEXT_ERR_OK;
	ctx = find_name(ts, name);
	if (ctx != NULL && ctx != SSL_get_SSL_CTX(ssl))
		SSL_set_SSL_CTX(ssl, ctx);
	return SSL_TLSEXT_ERR_OK;
}

/* ALPN: HTTP/1.1 is what is spoken (h2 will be added to this list). */
static int
alpn_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned inlen, void *arg)
{
	static const unsigned char ours[] = "\x08http/1.1";
	unsigned char *sel;

	(void)ssl;
	(void)arg;
	if (SSL_select_next_proto(&sel, outlen, ours, sizeof(ours) - 1, in,
	    inlen) != OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

/* The status request of a client: staple the certificate's response. */
static int
ocsp_cb(SSL *ssl, void *arg)
{
	struct tls_server	*ts = arg;
	X509			*x = SSL_get_certificate(ssl);
	unsigned		 i;

	for (i = 0; i < ts->ncerts; i++)
		if (ts->certs[i].leaf == x && ts->certs[i].ocsp.path != NULL)
			return ocsp_staple(ssl, &ts->certs[i].ocsp);
	return SSL_TLSEXT_ERR_NOACK;
}

/* A context of the listener, with everything but certificates. */
static SSL_CTX *
server_ctx(struct tls_server *ts, const struct config_tls *t, char *err,
    size_t len)
{
	SSL_CTX *ctx;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		snprintf(err, len, "tls: %s", tls_error());
		return NULL;
	}
	if (set_common(ctx, &t->protocols, t->ciphers, err, len) == -1)
		goto fail;
	SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
	if (set_tls13(ctx, t->ciphersuites, t->groups, err, len) == -1)
		goto fail;
	/* Sessions resume from tickets any worker can open; a per-process
	   cache would only resume on the worker that made the session. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	if (t->session_tickets) {
		SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, tickets_cb);
		SSL_CTX_set_num_tickets(ctx, 1);
	} else {
		SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
		SSL_CTX_set_num_tickets(ctx, 0);
	}
	SSL_CTX_set_alpn_select_cb(ctx, alpn_cb, NULL);
	SSL_CTX_set_tlsext_status_cb(ctx, ocsp_cb);
	SSL_CTX_set_tlsext_status_arg(ctx, ts);
	if (t->client_verify != VERIFY_OFF) {
		STACK_OF(X509_NAME) *names;

		if (!SSL_CTX_load_verify_locations(ctx, t->client_ca, NULL) ||
		    (names = SSL_load_client_CA_file(t->client_ca)) == NULL) {
			snprintf(err, len, "client_ca '%s': %s", t->client_ca,
			    tls_error());
			goto fail;
		}
		SSL_CTX_set_client_CA_list(ctx, names);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
		    (t->client_verify == VERIFY_REQUIRED ?
		    SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0), NULL);
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

/*
 * The session ID context of a listener: a session resumes only where it
 * was made with the same trust.  Tickets open on every listener (the keys
 * are shared), so without this a ticket from a listener that asks for no
 * client certificate would resume on one that requires one.  It is a
 * digest of what decides trust and identity: client_verify, the bytes of
 * client_ca, and the names of the certificates; a reload that changes
 * them makes older tickets useless.
 */
static int
session_context(struct tls_server *ts, const struct config_tls *t,
    char **sets, char *err, size_t len)
{
	unsigned char	 md[EVP_MAX_MD_SIZE], buf[4096];
	unsigned int	 mdlen;
	EVP_MD_CTX	*c;
	FILE		*fp;
	size_t		 n;
	unsigned	 i;
	int		 ok;

	if ((c = EVP_MD_CTX_new()) == NULL)
		goto fail;
	ok = EVP_DigestInit_ex(c, EVP_sha256(), NULL) &&
	    EVP_DigestUpdate(c, &t->client_verify, sizeof(t->client_verify));
	for (i = 0; ok && i < ts->nctxs; i++)
		ok = EVP_DigestUpdate(c, sets[i], strlen(sets[i]) + 1);
	if (ok && t->client_ca != NULL) {
		if ((fp = fopen(t->client_ca, "re")) == NULL) {
			EVP_MD_CTX_free(c);
			snprintf(err, len, "client_ca '%s': %s", t->client_ca,
			    strerror(errno));
			return -1;
		}
		while (ok && (n = fread(buf, 1, sizeof(buf), fp)) > 0)
			ok = EVP_DigestUpdate(c, buf, n);
		fclose(fp);
	}
	ok = ok && EVP_DigestFinal_ex(c, md, &mdlen);
	EVP_MD_CTX_free(c);
	if (!ok)
		goto fail;
	for (i = 0; i < ts->nctxs; i++)
		if (!SSL_CTX_set_session_id_context(ts->ctxs[i], md,
		    pt_min(mdlen, SSL_MAX_SID_CTX_LENGTH)))
			goto fail;
	return 0;
fail:
	snprintf(err, len, "tls: %s", tls_error());
	return -1;
}

/* tls_server_new(): see tls.h. */
struct tls_server *
tls_server_new(const struct config_tls *t, char *err, size_t len, int *line)
{
	struct tls_server	*ts;
	char			**sets = NULL;	/* names of each ctx */
	int			*types = NULL;	/* key types in each ctx */
	unsigned		 i, j;

	if ((ts = calloc(1, sizeof(*ts))) == NULL ||
	    (ts->certs = calloc(t->ncerts, sizeof(*ts->certs))) == NULL ||
	    (ts->ctxs = calloc(t->ncerts, sizeof(*ts->ctxs))) == NULL ||
	    (sets = calloc(t->ncerts, sizeof(*sets))) == NULL ||
	    (types = calloc(t->ncerts * 4, sizeof(*types))) == NULL) {
		snprintf(err, len, "out of memory");
		goto fail;
	}
	ts->ncerts = t->ncerts;
	for (i = 0; i < t->ncerts; i++) {
		const struct config_tls_cert	*cf = &t->certs[i];
		struct tls_cert			*c = &ts->certs[i];
		STACK_OF(X509)			*chain;
		EVP_PKEY			*key;
		char				*names;
		int				 type;

		*line = cf->line;
		c->cf = cf;
		if (load_pair(cf->certificate, cf->key, &c->leaf, &chain, &key,
		    err, len) == -1) {
			free_pair(NULL, chain, key);
			goto fail;
		}
		if (chain != NULL && sk_X509_num(chain) > 0)
			c->issuer = X509_dup(sk_X509_value(chain, 0));
		type = EVP_PKEY_get_base_id(key);
		if ((names = cert_names(c->leaf)) == NULL) {
			snprintf(err, len, "out of memory");
			free_pair(NULL, chain, key);
			goto fail;
		}
		/* Beside a certificate of other type for the same names,
		   or in a context of its own. */
		for (j = 0; j < ts->nctxs; j++)
			if (strcmp(sets[j], names) == 0 &&
			    types[j * 4] != type && types[j * 4 + 1] == 0)
				break;
		if (j == ts->nctxs) {
			if ((ts->ctxs[j] = server_ctx(ts, t, err, len)) ==
			    NULL) {
				free(names);
				free_pair(NULL, chain, key);
				goto fail;
			}
			sets[j] = names;
			types[j * 4] = type;
			ts->nctxs++;
		} else {
			types[j * 4 + 1] = type;
			free(names);
		}
		if (use_pair(ts->ctxs[j], c->leaf, chain, key, cf->certificate,
		    err, len) == -1) {
			free_pair(NULL, chain, key);
			goto fail;
		}
		free_pair(NULL, chain, key);
		if (cf->ocsp != NULL) {
			const char *why;

			c->ocsp.path = cf->ocsp;
			c->ocsp.leaf = c->leaf;
			c->ocsp.issuer = c->issuer;
			if ((why = ocsp_load(&c->ocsp)) != NULL) {
				snprintf(err, len, "ocsp '%s': %s", cf->ocsp,
				    why);
				goto fail;
			}
		}
	}
	/* The names of each context, in the order of the file. */
	for (j = 0; j < ts->nctxs; j++) {
		char *p = sets[j], *bar;

		for (;;) {
			bar = strchr(p, '|');
			if (add_name(ts, p, bar != NULL ? (size_t)(bar - p) :
			    strlen(p), ts->ctxs[j]) == -1) {
				snprintf(err, len, "out of memory");
				goto fail;
			}
			if (bar == NULL)
				break;
			p = bar + 1;
		}
	}
	if (session_context(ts, t, sets, err, len) == -1)
		goto fail;
	SSL_CTX_set_tlsext_servername_callback(ts->ctxs[0], sni_cb);
	SSL_CTX_set_tlsext_servername_arg(ts->ctxs[0], ts);
	for (j = 0; j < t->ncerts; j++)
		free(sets[j]);
	free(sets);
	free(types);
	return ts;
fail:
	for (j = 0; sets != NULL && j < t->ncerts; j++)
		free(sets[j]);
	free(sets);
	free(types);
	tls_server_free(ts);
	return NULL;
}

/* tls_server_free(): see tls.h. */
void
tls_server_free(struct tls_server *ts)
{
	unsigned i;

	if (ts == NULL)
		return;
	for (i = 0; i < ts->nctxs; i++)
		SSL_CTX_free(ts->ctxs[i]);
	for (i = 0; ts->certs != NULL && i < ts->ncerts; i++) {
		X509_free(ts->certs[i].leaf);
		X509_free(ts->certs[i].issuer);
		ocsp_free(&ts->certs[i].ocsp);
	}
	for (i = 0; i < ts->nnames; i++)
		free(ts->names[i].name);
	free(ts->names);
	free(ts->certs);
	free(ts->ctxs);
	free(ts);
}

/* tls_server_lifetime(): see tls.h.  A session lives as long as the key
   of its ticket may: two lifetimes. */
void
tls_server_lifetime(struct tls_server *ts, uint32_t ticket_key_ms)
{
	unsigned i;

	for (i = 0; i < ts->nctxs; i++)
		SSL_CTX_set_timeout(ts->ctxs[i], (long)(ticket_key_ms / 1000) *
		    2);
}

/* tls_server_ssl(): see tls.h. */
SSL *
tls_server_ssl(struct tls_server *ts)
{
	SSL *ssl;

	if ((ssl = SSL_new(ts->ctxs[0])) != NULL)
		SSL_set_accept_state(ssl);
	return ssl;
}

/* tls_peer(): see tls.h. */
const char *
tls_peer(SSL *ssl, char *subject, size_t len)
{
	X509	*x = SSL_get0_peer_certificate(ssl);
	BIO	*b;
	int	 n;
	size_t	 i;

	subject[0] = '\0';
	if (x == NULL || SSL_get_verify_result(ssl) != X509_V_OK)
		return "NONE";
	if ((b = BIO_new(BIO_s_mem())) != NULL) {
		X509_NAME_print_ex(b, X509_get_subject_name(x), 0,
		    XN_FLAG_RFC2253);
		n = BIO_read(b, subject, (int)len - 1);
		subject[n > 0 ? n : 0] = '\0';
		BIO_free(b);
	}
	/* It goes into a header: nothing that could end one. */
	for (i = 0; subject[i] != '\0'; i++)
		if ((unsigned char)subject[i] < 0x20 || subject[i] == 0x7f)
			subject[i] = '?';
	return "SUCCESS";
}

/* ---------------------------------------------------------- upstream -- */

static int
new_session_cb(SSL *ssl, SSL_SESSION *session)
{
	struct tls_client *tc = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl),
	    ex_client);

	if (tc == NULL || tc->on_session == NULL)
		return 0;
	return tc->on_session(ssl, session);
}

/* tls_client_new(): see tls.h. */
struct tls_client *
tls_client_new(const struct config_upstream_tls *t, char *err, size_t len)
{
	struct tls_client	*tc;
	STACK_OF(X509)		*chain;
	EVP_PKEY		*key;
	X509			*leaf;

	if (ex_client == -1)
		ex_client = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL,
		    NULL);
	if ((tc = calloc(1, sizeof(*tc))) == NULL ||
	    (tc->ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		snprintf(err, len, "tls: %s", tls_error());
		goto fail;
	}
	SSL_CTX_set_ex_data(tc->ctx, ex_client, tc);
	if (set_common(tc->ctx, &t->protocols, t->ciphers, err, len) == -1 ||
	    set_tls13(tc->ctx, t->ciphersuites, t->groups, err, len) == -1)
		goto fail;
	if (t->verify) {
		SSL_CTX_set_verify(tc->ctx, SSL_VERIFY_PEER, NULL);
		if (t->ca != NULL ? !SSL_CTX_load_verify_locations(tc->ctx,
		    t->ca, NULL) : !SSL_CTX_set_default_verify_paths(tc->ctx)) {
			snprintf(err, len, "ca '%s': %s", t->ca != NULL ?
			    t->ca : "(the system's)", tls_error());
			goto fail;
		}
	}
	if (t->certificate != NULL) {
		if (load_pair(t->certificate, t->key, &leaf, &chain, &key, err,
		    len) == -1 || use_pair(tc->ctx, leaf, chain, key,
		    t->certificate, err, len) == -1) {
			free_pair(leaf, chain, key);
			goto fail;
		}
		free_pair(leaf, chain, key);
	}
	SSL_CTX_set_session_cache_mode(tc->ctx, SSL_SESS_CACHE_CLIENT |
	    SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(tc->ctx, new_session_cb);
	return tc;
fail:
	tls_client_free(tc);
	return NULL;
}

/* tls_client_free(): see tls.h. */
void
tls_client_free(struct tls_client *tc)
{
	if (tc == NULL)
		return;
	SSL_CTX_free(tc->ctx);
	free(tc);
}

/* tls_client_name(): see tls.h.  "[::1]:443" is "::1". */
const char *
tls_client_name(const struct config_upstream_tls *t, const char *address,
    char *buf, size_t len)
{
	const char *a = address, *end;

	if (t->name != NULL) {
		snprintf(buf, len, "%s", t->name);
		return buf;
	}
	if (a[0] == '[' && (end = strchr(a, ']')) != NULL)
		a++;
	else if ((end = strrchr(a, ':')) == NULL)
		end = a + strlen(a);
	snprintf(buf, len, "%.*s", (int)(end - a), a);
	return buf;
}

/* tls_client_on_session(): see tls.h. */
void
tls_client_on_session(struct tls_client *tc,
    int (*fn)(SSL *ssl, SSL_SESSION *session))
{
	tc->on_session = fn;
}

/* tls_client_ssl(): see tls.h. */
SSL *
tls_client_ssl(struct tls_client *tc, const char *host, bool sni,
    SSL_SESSION *session)
{
	X509_VERIFY_PARAM	*vp;
	unsigned char		 ip[16];
	bool			 is_ip;
	SSL			*ssl;

	if ((ssl = SSL_new(tc->ctx)) == NULL)
		return NULL;
	SSL_set_connect_state(ssl);
	is_ip = inet_pton(AF_INET, host, ip) == 1 ||
	    inet_pton(AF_INET6, host, ip) == 1;
	vp = SSL_get0_param(ssl);
	if (is_ip ? !X509_VERIFY_PARAM_set1_ip_asc(vp, host) :
	    !SSL_set1_host(ssl, host) ||
	    (sni && !SSL_set_tlsext_host_name(ssl, host))) {
		SSL_free(ssl);
		return NULL;
	}
	if (session != NULL)
		SSL_set_session(ssl, session);
	return ssl;
}
