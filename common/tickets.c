/*
 * tickets.c: the session-ticket keys that every worker shares.  See
 * tickets.h.
 */
#include <sys/mman.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/rand.h>

#include "log.h"
#include "tickets.h"

/* The ticket keys, in memory the master maps shared before it forks. */
struct tls_key {
	unsigned char	 name[16];
	unsigned char	 aes[32];
	unsigned char	 hmac[32];
	int64_t		 created;	/* ms, CLOCK_MONOTONIC */
};

struct tls_keys {
	uint32_t	 seq;		/* odd while the master writes */
	uint32_t	 cur;		/* keys[cur] seals, the other opens */
	struct tls_key	 keys[2];
};

static struct tls_keys *shared_keys;	/* inherited by the workers */

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
new_key(struct tls_key *k)
{
	if (RAND_bytes(k->name, sizeof(k->name)) != 1 ||
	    RAND_bytes(k->aes, sizeof(k->aes)) != 1 ||
	    RAND_bytes(k->hmac, sizeof(k->hmac)) != 1)
		return -1;
	k->created = mono_ms();
	return 0;
}

/* tickets_create(): see tickets.h. */
int
tickets_create(void)
{
	void *p;

	if (shared_keys != NULL)
		return 0;
	p = mmap(NULL, sizeof(*shared_keys), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	shared_keys = p;
	memset(shared_keys, 0, sizeof(*shared_keys));
	if (new_key(&shared_keys->keys[0]) == -1 ||
	    new_key(&shared_keys->keys[1]) == -1)
		return -1;
	return 0;
}

/* tickets_rotate(): see tickets.h.  The older key is replaced and becomes
   the one that seals; the one that sealed until now still opens. */
int
tickets_rotate(uint32_t lifetime_ms)
{
	struct tls_keys	*s = shared_keys;
	struct tls_key	 k;
	int64_t		 age;

	if (s == NULL)
		return -1;
	age = mono_ms() - s->keys[s->cur].created;
	if (age < (int64_t)lifetime_ms)
		return (int)((int64_t)lifetime_ms - age);
	if (new_key(&k) == -1) {
		log_warnx("tls: no random bytes for a new ticket key");
		return 1000;
	}
	__atomic_add_fetch(&s->seq, 1, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	s->keys[!s->cur] = k;
	s->cur = !s->cur;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	__atomic_add_fetch(&s->seq, 1, __ATOMIC_RELEASE);
	log_info("tls: new session ticket key");
	return (int)lifetime_ms;
}

/*
 * A consistent copy of both keys; *cur is the one that seals.  -1 when
 * the master keeps the count odd (killed while it wrote): no ticket then,
 * rather than a worker that spins.
 */
static int
read_keys(struct tls_key keys[2], unsigned *cur)
{
	struct tls_keys	*s = shared_keys;
	uint32_t	 seq;
	int		 tries;

	for (tries = 0; tries < 100000; tries++) {
		if ((seq = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE)) & 1)
			continue;
		memcpy(keys, s->keys, sizeof(s->keys));
		*cur = s->cur;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&s->seq, __ATOMIC_RELAXED) == seq)
			return 0;
	}
	return -1;
}

static int
ticket_mac(EVP_MAC_CTX *hctx, unsigned char *key)
{
	OSSL_PARAM params[3];

	params[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY,
	    key, 32);
	params[1] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)"SHA256", 0);
	params[2] = OSSL_PARAM_construct_end();
	return EVP_MAC_CTX_set_params(hctx, params);
}

/* tickets_cb(): see tickets.h. */
int
tickets_cb(SSL *ssl, unsigned char name[16], unsigned char *iv,
    EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx, int enc)
{
	struct tls_key	keys[2];
	unsigned	cur, i;
	int		rc = 0;

	if (shared_keys == NULL || read_keys(keys, &cur) == -1)
		return 0;
	if (enc) {
		if (RAND_bytes(iv, EVP_MAX_IV_LENGTH) == 1 &&
		    EVP_EncryptInit_ex(cctx, EVP_aes_256_cbc(), NULL,
		    keys[cur].aes, iv) && ticket_mac(hctx, keys[cur].hmac)) {
			memcpy(name, keys[cur].name, 16);
			rc = 1;
		} else
			rc = -1;
	} else {
		for (i = 0; i < 2; i++) {
			if (memcmp(name, keys[i].name, 16) != 0)
				continue;
			if (!EVP_DecryptInit_ex(cctx, EVP_aes_256_cbc(), NULL,
			    keys[i].aes, iv) || !ticket_mac(hctx,
			    keys[i].hmac))
				rc = -1;
			else	/* TLS 1.3: a ticket is for one use; a fresh
				   one keeps the client able to resume */
				rc = i == cur && SSL_version(ssl) !=
				    TLS1_3_VERSION ? 1 : 2;
			break;
		}
	}
	OPENSSL_cleanse(keys, sizeof(keys));
	return rc;
}
