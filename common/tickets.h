/*
 * tickets.h: the keys that seal TLS session tickets, shared by every
 * worker, so that a client resumes its session on whichever worker it
 * reaches (TLS 1.2 tickets and TLS 1.3 resumption alike).
 *
 * The master creates them (tickets_create()) in an anonymous shared
 * mapping before it forks, and replaces the older one every
 * ticket_key_lifetime (tickets_rotate()): a key seals tickets for one
 * lifetime and opens them for one more.  The mapping is never in a file,
 * so no other process can read the keys (the shared memory that proxyctl
 * maps is readable by all).  A reload keeps them; a restart makes new
 * ones.  The master writes under a sequence count; a worker that finds it
 * odd for too long (a master killed in the middle) issues no ticket.
 */
#ifndef TICKETS_H
#define TICKETS_H

#include <openssl/ssl.h>

#include "pt.h"

/* tickets_create(): the keys (the master, before it forks); -1 if they
   cannot be mapped or made. */
int	tickets_create(void);

/* tickets_rotate(): a new key when the current one is lifetime_ms old;
   returns the ms until the next rotation is due, -1 without keys. */
int	tickets_rotate(uint32_t lifetime_ms);

/*
 * tickets_cb(): for SSL_CTX_set_tlsext_ticket_key_evp_cb(): seal with the
 * current key; open with either, asking for a fresh ticket when it was
 * the older key, and always in TLS 1.3 (a client that resumed without a
 * new ticket could not resume its next connection).
 */
int	tickets_cb(SSL *ssl, unsigned char name[16], unsigned char *iv,
	    EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx, int enc);

#endif /* TICKETS_H */
