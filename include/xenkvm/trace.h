/* Hypercall tracing (--trace FILE): every hypercall as a fixed-size record
 * in a file-backed ring, the newest overwriting the oldest; `xenkvm
 * trace-stats FILE` turns it into counts (calls, preempted, errors) and latency percentiles, the way
 * xentrace + xenalyze do for Xen. */
#ifndef XENKVM_TRACE_H
#define XENKVM_TRACE_H

#include <stdint.h>
#include <stdio.h>

#define TRACE_MAGIC "XKVMTRC2" /* 2: records carry flags */
#define TRACE_DEFAULT_RECORDS (1u << 20) /* 64 MiB of records */

struct trace_header {
	char magic[8];
	uint32_t record_size;
	uint32_t nrecords;  /* slots in the ring */
	uint64_t written;   /* records ever written; the next goes to written % nrecords */
};

struct trace_record {
	uint64_t t_ns;      /* CLOCK_MONOTONIC at entry */
	uint32_t duration_ns;
	uint16_t vcpu;
	uint16_t nr;        /* hypercall number */
	uint64_t args[6];   /* args[0] is the sub-op for most families */
	int64_t result;
	uint32_t flags;     /* TRACE_PREEMPTED */
	uint32_t pad;
};

/* The call was cut short with a continuation: the guest re-issues it. */
#define TRACE_PREEMPTED 1u

struct hcall;

/* Start tracing to path (created or truncated). 0, or -1 with a reason. */
int trace_open(const char *path, uint32_t nrecords, char *err, size_t errlen);
void trace_close(void);
/* Is tracing on (cheap: checked on every hypercall)? */
int trace_enabled(void);
void trace_hypercall(const struct hcall *hc, uint64_t t_start_ns, uint64_t t_end_ns, long result);
uint64_t trace_now_ns(void);

/* Print per-hypercall and per-sub-op counts, errors and latency
 * percentiles of a trace file. Returns 0, or -1 with a reason. */
int trace_stats(const char *path, FILE *out, char *err, size_t errlen);

#endif
