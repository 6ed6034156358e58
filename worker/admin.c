/*
 * admin.c: /status and /metrics.  See admin.h.
 *
 * The figures are read from the shared memory as they are, field by
 * field (relaxed loads): each one is exact, the set is not one instant,
 * which is what a scrape needs.  The text is written with a memstream
 * and belongs to the exchange until it is sent.
 */
#include <stdlib.h>

#include "admin.h"
#include "log.h"

static const char *const state_names[] = {
	"starting", "serving", "draining", "waiting"
};
static const char *const class_names[] = { "1xx", "2xx", "3xx", "4xx", "5xx" };

static const char *
proc_state(const struct shm_proc *p)
{
	uint32_t st = shm_load(&p->state);

	return st < PT_NELEM(state_names) ? state_names[st] : "?";
}

static long long
seconds(int64_t since, int64_t now)
{
	return since == 0 || now < since ? 0 : (long long)(now - since) / 1000;
}

/* A JSON string: quotes, backslashes and controls escaped. */
static void
json_str(FILE *f, const char *s)
{
	putc('"', f);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", (unsigned char)*s);
		else
			putc(*s, f);
	}
	putc('"', f);
}

static uint64_t
avg_ms(const struct shm_server *h)
{
	uint64_t n = shm_load(&h->responses);

	return n == 0 ? 0 : shm_load(&h->resp_ms) / n;
}

/* The cache counts of every worker, summed. */
static void
cache_totals(const struct shm *shm, struct shm_cache_counts *t)
{
	const struct shm_cache_counts	*c;
	unsigned			 i;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < SHM_MAX_PROCS; i++) {
		if (shm_load(&shm->procs[i].role) != SHM_ROLE_WORKER)
			continue;
		c = &shm->procs[i].cache;
		t->hits += shm_load(&c->hits);
		t->misses += shm_load(&c->misses);
		t->stale += shm_load(&c->stale);
		t->revalidated += shm_load(&c->revalidated);
		t->stored += shm_load(&c->stored);
		t->collapsed += shm_load(&c->collapsed);
		t->purged += shm_load(&c->purged);
	}
}

/* The cache's figures, as "name" and value, in the order shown. */
struct cache_figure {
	const char	*name, *help, *type;
	uint64_t	 value;
};

static unsigned
cache_figures(const struct shm *shm, struct cache_figure *fig)
{
	struct shm_cache_counts t;

	cache_totals(shm, &t);
	fig[0] = (struct cache_figure){ "objects", "Objects in the cache.",
	    "gauge", shm_load(&shm->cache_objects) };
	fig[1] = (struct cache_figure){ "bytes", "Bytes of the objects in the "
	    "cache.", "gauge", shm_load(&shm->cache_bytes) };
	fig[2] = (struct cache_figure){ "size_bytes", "Size of the cache file.",
	    "gauge", shm_load(&shm->cache_size) };
	fig[3] = (struct cache_figure){ "hits_total", "Requests answered from "
	    "the cache with a fresh response.", "counter", t.hits };
	fig[4] = (struct cache_figure){ "misses_total", "Requests of cached "
	    "routes that went to the origin.", "counter", t.misses };
	fig[5] = (struct cache_figure){ "stale_total", "Requests answered with "
	    "a stale response (max-stale, stale-if-error).", "counter",
	    t.stale };
	fig[6] = (struct cache_figure){ "revalidated_total", "Stale responses "
	    "the origin confirmed with 304.", "counter", t.revalidated };
	fig[7] = (struct cache_figure){ "stored_total", "Responses stored.",
	    "counter", t.stored };
	fig[8] = (struct cache_figure){ "collapsed_total", "Misses answered "
	    "by another request's response.", "counter", t.collapsed };
	fig[9] = (struct cache_figure){ "evictions_total", "Objects evicted "
	    "to make room.", "counter", shm_load(&shm->cache_evicted) };
	fig[10] = (struct cache_figure){ "purged_total", "Objects removed by "
	    "PURGE.", "counter", t.purged };
	return 11;
}

static void
status_json(FILE *f, const struct shm *shm)
{
	int64_t		now = shm_now();
	uint64_t	total[5] = { 0 }, requests = 0;
	const char	*sep = "";
	struct cache_figure fig[16];
	unsigned	i, c, n;

	fprintf(f, "{\"master\":{\"pid\":%d,\"uptime_s\":%lld,"
	    "\"generation\":%u},\n\"processes\":[", shm->master_pid,
	    seconds(shm->started, now), shm_load(&shm->generation));
	for (i = 0; i < SHM_MAX_PROCS; i++) {
		const struct shm_proc *p = &shm->procs[i];
		uint32_t role = shm_load(&p->role);

		if (role == SHM_ROLE_NONE)
			continue;
		fprintf(f, "%s\n {\"role\":\"%s\",\"index\":%u,\"pid\":%d,"
		    "\"generation\":%u,\"state\":\"%s\",\"uptime_s\":%lld,"
		    "\"restarts\":%u", sep, role == SHM_ROLE_WORKER ? "worker" :
		    "checker", shm_load(&p->index), shm_load(&p->pid),
		    shm_load(&p->generation), proc_state(p),
		    seconds(shm_load(&p->started), now),
		    shm_load(&p->restarts));
		if (role == SHM_ROLE_WORKER) {
			fprintf(f, ",\"connections\":%llu,\"accepted\":%llu,"
			    "\"requests\":%llu,\"status\":{",
			    (unsigned long long)shm_load(&p->connections),
			    (unsigned long long)shm_load(&p->accepted),
			    (unsigned long long)shm_load(&p->requests));
			requests += shm_load(&p->requests);
			for (c = 0; c < 5; c++) {
				total[c] += shm_load(&p->status[c]);
				fprintf(f, "%s\"%s\":%llu", c ? "," : "",
				    class_names[c], (unsigned long long)
				    shm_load(&p->status[c]));
			}
			putc('}', f);
		}
		putc('}', f);
		sep = ",";
	}
	fputs("],\n\"servers\":[", f);
	sep = "";
	for (i = 0; i < SHM_MAX_SERVERS; i++) {
		const struct shm_server *h = &shm->servers[i];

		if (shm_load(&h->refs) == 0)
			continue;
		fprintf(f, "%s\n {\"upstream\":", sep);
		json_str(f, h->upstream);
		fputs(",\"address\":", f);
		json_str(f, h->address);
		fprintf(f, ",\"state\":\"%s\",\"since\":%lld,\"for_s\":%lld,"
		    "\"checks\":%llu,\"last_check\":",
		    shm_load(&h->state) == SHM_HEALTH_DOWN ? "down" : "up",
		    (long long)shm_load(&h->since) / 1000,
		    seconds(shm_load(&h->since), now),
		    (unsigned long long)shm_load(&h->checks));
		json_str(f, h->result);
		fprintf(f, ",\"active\":%u,\"requests\":%llu,\"failures\":%llu,"
		    "\"avg_response_ms\":%llu}", shm_load(&h->active),
		    (unsigned long long)shm_load(&h->requests),
		    (unsigned long long)shm_load(&h->failures),
		    (unsigned long long)avg_ms(h));
		sep = ",";
	}
	fprintf(f, "],\n\"totals\":{\"requests\":%llu,\"status\":{",
	    (unsigned long long)requests);
	for (c = 0; c < 5; c++)
		fprintf(f, "%s\"%s\":%llu", c ? "," : "", class_names[c],
		    (unsigned long long)total[c]);
	fputs("}},\n\"cache\":{", f);
	n = cache_figures(shm, fig);
	for (c = 0; c < n; c++)
		fprintf(f, "%s\"%s\":%llu", c ? "," : "", fig[c].name,
		    (unsigned long long)fig[c].value);
	fputs("}}\n", f);
}

static void
metric_head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
metrics_text(FILE *f, const struct shm *shm)
{
	struct cache_figure fig[16];
	unsigned i, c, n;

	metric_head(f, "portico_generation", "gauge",
	    "The configuration generation that serves new connections.");
	fprintf(f, "portico_generation %u\n", shm_load(&shm->generation));
	metric_head(f, "portico_start_time_seconds", "gauge",
	    "When the master started, in seconds since the epoch.");
	fprintf(f, "portico_start_time_seconds %lld\n",
	    (long long)shm->started / 1000);
	metric_head(f, "portico_responses_total", "counter",
	    "Responses sent, by worker and status class.");
	for (i = 0; i < SHM_MAX_PROCS; i++) {
		const struct shm_proc *p = &shm->procs[i];

		if (shm_load(&p->role) != SHM_ROLE_WORKER)
			continue;
		for (c = 0; c < 5; c++)
			fprintf(f, "portico_responses_total{worker=\"%u\","
			    "generation=\"%u\",class=\"%s\"} %llu\n",
			    shm_load(&p->index), shm_load(&p->generation),
			    class_names[c], (unsigned long long)
			    shm_load(&p->status[c]));
	}
	metric_head(f, "portico_connections", "gauge",
	    "Client connections open, by worker.");
	for (i = 0; i < SHM_MAX_PROCS; i++) {
		const struct shm_proc *p = &shm->procs[i];

		if (shm_load(&p->role) == SHM_ROLE_WORKER)
			fprintf(f, "portico_connections{worker=\"%u\","
			    "generation=\"%u\"} %llu\n", shm_load(&p->index),
			    shm_load(&p->generation), (unsigned long long)
			    shm_load(&p->connections));
	}
	metric_head(f, "portico_accepted_total", "counter",
	    "Client connections accepted, by worker.");
	metric_head(f, "portico_restarts_total", "counter",
	    "Times a process died and was started again.");
	for (i = 0; i < SHM_MAX_PROCS; i++) {
		const struct shm_proc *p = &shm->procs[i];
		uint32_t role = shm_load(&p->role);

		if (role == SHM_ROLE_NONE)
			continue;
		if (role == SHM_ROLE_WORKER)
			fprintf(f, "portico_accepted_total{worker=\"%u\","
			    "generation=\"%u\"} %llu\n", shm_load(&p->index),
			    shm_load(&p->generation), (unsigned long long)
			    shm_load(&p->accepted));
		fprintf(f, "portico_restarts_total{role=\"%s\",index=\"%u\","
		    "generation=\"%u\"} %u\n", role == SHM_ROLE_WORKER ?
		    "worker" : "checker", shm_load(&p->index),
		    shm_load(&p->generation), shm_load(&p->restarts));
	}
	metric_head(f, "portico_server_up", "gauge",
	    "1 when the server takes requests, 0 when it is down.");
	metric_head(f, "portico_server_active", "gauge",
	    "Requests in flight on the server, all workers.");
	metric_head(f, "portico_server_requests_total", "counter",
	    "Tries sent to the server.");
	metric_head(f, "portico_server_failures_total", "counter",
	    "Tries that failed (error, timeout, or 5xx with fail_on_5xx).");
	metric_head(f, "portico_server_checks_total", "counter",
	    "Active health checks run.");
	metric_head(f, "portico_server_response_seconds_sum", "counter",
	    "Time to the response head, summed over responses.");
	metric_head(f, "portico_server_response_seconds_count", "counter",
	    "Responses whose time is in the sum.");
	for (i = 0; i < SHM_MAX_SERVERS; i++) {
		const struct shm_server	*h = &shm->servers[i];
		char			 lab[160];

		if (shm_load(&h->refs) == 0)
			continue;
		/* Names and addresses hold no quote or backslash. */
		snprintf(lab, sizeof(lab), "{upstream=\"%s\",server=\"%s\"}",
		    h->upstream, h->address);
		fprintf(f, "portico_server_up%s %d\n", lab,
		    shm_load(&h->state) != SHM_HEALTH_DOWN);
		fprintf(f, "portico_server_active%s %u\n", lab,
		    shm_load(&h->active));
		fprintf(f, "portico_server_requests_total%s %llu\n", lab,
		    (unsigned long long)shm_load(&h->requests));
		fprintf(f, "portico_server_failures_total%s %llu\n", lab,
		    (unsigned long long)shm_load(&h->failures));
		fprintf(f, "portico_server_checks_total%s %llu\n", lab,
		    (unsigned long long)shm_load(&h->checks));
		fprintf(f, "portico_server_response_seconds_sum%s %.3f\n", lab,
		    (double)shm_load(&h->resp_ms) / 1000);
		fprintf(f, "portico_server_response_seconds_count%s %llu\n",
		    lab, (unsigned long long)shm_load(&h->responses));
	}
	if (shm_load(&shm->cache_size) == 0)
		return;
	n = cache_figures(shm, fig);
	for (i = 0; i < n; i++) {
		char name[64];

		snprintf(name, sizeof(name), "portico_cache_%s", fig[i].name);
		metric_head(f, name, fig[i].type, fig[i].help);
		fprintf(f, "%s %llu\n", name,
		    (unsigned long long)fig[i].value);
	}
}

/* admin_serve(): see admin.h. */
void
admin_serve(struct exchange *x, const char *path, size_t path_len)
{
	const struct config_admin	*a = x->w->cf->admin;
	const char			*q = memchr(path, '?', path_len);
	const char			*type;
	char				*text = NULL;
	size_t				 len = 0;
	FILE				*f;

	if (!config_allowed(&a->allow, &x->c->peer.sa)) {
		client_error(x, 403, "admin: address not in admin.allow");
		return;
	}
	if (q != NULL)
		path_len = (size_t)(q - path);
	if (x->req.method != HTTP1_M_GET && x->req.method != HTTP1_M_HEAD) {
		client_error(x, 405, "admin: only GET and HEAD");
		return;
	}
	if ((f = open_memstream(&text, &len)) == NULL) {
		client_error(x, 500, "admin: out of memory");
		return;
	}
	if (path_len == 7 && memcmp(path, "/status", 7) == 0) {
		status_json(f, x->w->shm);
		type = "application/json";
	} else if (path_len == 8 && memcmp(path, "/metrics", 8) == 0) {
		metrics_text(f, x->w->shm);
		type = "text/plain; version=0.0.4";
	} else {
		fclose(f);
		free(text);
		client_error(x, 404, "admin: only /status and /metrics");
		return;
	}
	if (fclose(f) != 0) {
		free(text);
		client_error(x, 500, "admin: out of memory");
		return;
	}
	x->owned_body = text;
	client_respond(x, 200, type, text, len, NULL);
}
