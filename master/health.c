/*
 * health.c: the slots of the health table in the shared memory that a
 * generation's servers use.  See health.h.
 */
#include "health.h"

static int
find_slot(const struct shm *shm, uint64_t key)
{
	int k;

	for (k = 0; k < SHM_MAX_SERVERS; k++)
		if (shm->servers[k].refs > 0 && shm->servers[k].key == key)
			return k;
	return -1;
}

/* health_assign(): see health.h. */
int
health_assign(struct shm *shm, struct config *cf, FILE *errfp)
{
	unsigned	 u, i, nfree = 0, need = 0;
	int		 k, next = 0;

	for (k = 0; k < SHM_MAX_SERVERS; k++)
		if (shm->servers[k].refs == 0)
			nfree++;
	for (u = 0; u < cf->nupstreams; u++)
		for (i = 0; i < cf->upstreams[u].nservers; i++)
			if (find_slot(shm, shm_server_key(cf->upstreams[u].name,
			    cf->upstreams[u].servers[i].address)) == -1)
				need++;
	if (need > nfree) {
		fprintf(errfp, "%s: the health table has %u free slots of %d "
		    "and this configuration needs %u more\n", cf->file, nfree,
		    SHM_MAX_SERVERS, need);
		return -1;
	}
	shm_begin(shm);
	for (u = 0; u < cf->nupstreams; u++) {
		struct config_upstream *up = &cf->upstreams[u];

		for (i = 0; i < up->nservers; i++) {
			struct config_server	*s = &up->servers[i];
			uint64_t		 key;
			struct shm_server	*hs;

			key = shm_server_key(up->name, s->address);
			if ((k = find_slot(shm, key)) == -1) {
				while (shm->servers[next].refs != 0)
					next++;
				k = next;
				hs = &shm->servers[k];
				memset(hs, 0, sizeof(*hs));
				hs->key = key;
				hs->since = shm_now();
				snprintf(hs->upstream, sizeof(hs->upstream), "%s",
				    up->name);
				snprintf(hs->address, sizeof(hs->address), "%s",
				    s->address);
				snprintf(hs->result, sizeof(hs->result), "%s",
				    up->health.enabled ? "not checked yet" :
				    "no health check");
			}
			s->slot = (unsigned)k;
			shm->servers[k].refs++;
		}
	}
	shm_end(shm);
	return 0;
}

/* health_release(): see health.h. */
void
health_release(struct shm *shm, const struct config *cf)
{
	unsigned u, i;

	shm_begin(shm);
	for (u = 0; u < cf->nupstreams; u++)
		for (i = 0; i < cf->upstreams[u].nservers; i++) {
			struct shm_server *hs =
			    &shm->servers[cf->upstreams[u].servers[i].slot];

			if (--hs->refs == 0)
				memset(hs, 0, sizeof(*hs));
		}
	shm_end(shm);
}
