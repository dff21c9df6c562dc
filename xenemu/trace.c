/* The trace ring: a file mapped shared, a header and fixed-size records.
 * vCPU threads claim slots with one atomic add, so tracing takes no lock. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "xenkvm/hypercall.h"
#include "xenkvm/trace.h"

static struct trace_header *ring;
static size_t ring_bytes;

static struct trace_record *records(struct trace_header *h)
{
	return (struct trace_record *)(h + 1);
}

uint64_t trace_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int trace_open(const char *path, uint32_t nrecords, char *err, size_t errlen)
{
	size_t bytes = sizeof(struct trace_header) + (size_t)nrecords * sizeof(struct trace_record);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	void *p;

	if (fd < 0 || ftruncate(fd, (off_t)bytes) < 0 ||
	    (p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED) {
		snprintf(err, errlen, "--trace %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	ring = p;
	ring_bytes = bytes;
	memcpy(ring->magic, TRACE_MAGIC, sizeof(ring->magic));
	ring->record_size = sizeof(struct trace_record);
	ring->nrecords = nrecords;
	return 0;
}

void trace_close(void)
{
	if (ring)
		munmap(ring, ring_bytes);
	ring = NULL;
}

int trace_enabled(void)
{
	return ring != NULL;
}

void trace_hypercall(const struct hcall *hc, uint64_t t0, uint64_t t1, long result)
{
	uint64_t slot = __atomic_fetch_add(&ring->written, 1, __ATOMIC_RELAXED) % ring->nrecords;
	struct trace_record *r = &records(ring)[slot];

	r->t_ns = t0;
	r->duration_ns = t1 - t0 > UINT32_MAX ? UINT32_MAX : (uint32_t)(t1 - t0);
	r->vcpu = (uint16_t)hc->vcpu_id;
	r->nr = (uint16_t)hc->nr;
	memcpy(r->args, hc->arg, sizeof(r->args));
	r->result = result;
	r->flags = hc->continued ? TRACE_PREEMPTED : 0;
}

/* ---- trace-stats ---- */

#define NO_SUBOP UINT64_MAX

struct group {
	uint16_t nr;
	uint64_t subop; /* NO_SUBOP for a family without */
	uint64_t count, errors, preempted;
	uint32_t *lat; /* durations, sorted when printed */
};

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

static struct group *group_find(struct group **gs, size_t *n, uint16_t nr, uint64_t subop,
				uint64_t max)
{
	struct group *g;

	for (size_t i = 0; i < *n; i++)
		if ((*gs)[i].nr == nr && (*gs)[i].subop == subop)
			return &(*gs)[i];
	g = realloc(*gs, (*n + 1) * sizeof(**gs));
	if (!g)
		return NULL;
	*gs = g;
	g = &g[(*n)++];
	*g = (struct group){ .nr = nr, .subop = subop, .lat = malloc(max * sizeof(uint32_t)) };
	return g->lat ? g : NULL;
}

/* "decrease_reservation", "200", or "-" for a family without sub-ops
 * (multicall's first argument is its list, set_timer_op's a time). */
static void subop_text(const struct group *g, char *buf, size_t len)
{
	const char *name =
		g->subop == NO_SUBOP ? "-" : hypercall_subop_name(g->nr, (uint32_t)g->subop);

	if (name)
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "%llu", (unsigned long long)g->subop);
}

static uint32_t percentile(const struct group *g, unsigned p)
{
	return g->lat[(g->count - 1) * p / 100];
}

static const struct trace_header *map_trace(const char *path, size_t *bytes, char *err,
					    size_t errlen)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	const struct trace_header *h = MAP_FAILED;

	if (fd >= 0 && fstat(fd, &st) == 0 && (size_t)st.st_size >= sizeof(*h))
		h = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (fd >= 0)
		close(fd);
	if (h == MAP_FAILED) {
		snprintf(err, errlen, "%s: %s", path, fd < 0 ? strerror(errno) : "not a trace file");
		return NULL;
	}
	*bytes = (size_t)st.st_size;
	if (memcmp(h->magic, TRACE_MAGIC, 8) || h->record_size != sizeof(struct trace_record) ||
	    sizeof(*h) + (size_t)h->nrecords * h->record_size > *bytes) {
		snprintf(err, errlen, "%s: not a xenkvm trace file (or a truncated one)", path);
		munmap((void *)h, *bytes);
		return NULL;
	}
	return h;
}

int trace_stats(const char *path, FILE *out, char *err, size_t errlen)
{
	size_t bytes, ngroups = 0;
	const struct trace_header *h = map_trace(path, &bytes, err, errlen);
	struct group *gs = NULL;
	uint64_t n;

	if (!h)
		return -1;
	n = h->written < h->nrecords ? h->written : h->nrecords;
	for (uint64_t i = 0; i < n; i++) {
		const struct trace_record *r = &records((struct trace_header *)h)[i];
		uint32_t subop = 0;
		int has = hypercall_subop(r->nr, r->args[0], &subop);
		struct group *g = group_find(&gs, &ngroups, r->nr, has ? subop : NO_SUBOP, n);
		if (!g) {
			snprintf(err, errlen, "out of memory");
			break;
		}
		g->lat[g->count++] = r->duration_ns;
		g->errors += r->result < 0;
		g->preempted += !!(r->flags & TRACE_PREEMPTED);
	}
	fprintf(out, "%llu hypercalls traced%s\n", (unsigned long long)h->written,
		h->written > n ? " (the oldest were overwritten)" : "");
	fprintf(out, "%-22s %-22s %10s %9s %8s %10s %10s %10s %10s\n", "hypercall", "sub-op",
		"calls", "preempted", "errors", "p50(ns)", "p90(ns)", "p99(ns)", "max(ns)");
	for (size_t i = 0; i < ngroups; i++) {
		struct group *g = &gs[i];
		char sub[24];
		qsort(g->lat, g->count, sizeof(uint32_t), cmp_u32);
		subop_text(g, sub, sizeof(sub));
		fprintf(out, "%-22s %-22s %10llu %9llu %8llu %10u %10u %10u %10u\n",
			hypercall_name(g->nr), sub, (unsigned long long)g->count,
			(unsigned long long)g->preempted,
			(unsigned long long)g->errors, percentile(g, 50), percentile(g, 90),
			percentile(g, 99), g->lat[g->count - 1]);
		free(g->lat);
	}
	free(gs);
	munmap((void *)h, bytes);
	return 0;
}
