/* The hypercall trace ring and trace-stats. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xen/memory.h>

#include "run_suite.h"
#include "../../xenemu/memory_internal.h"
#include "xenkvm/hypercall.h"
#include "xenkvm/trace.h"

static char path[] = "/tmp/xenkvm-trace-XXXXXX";

static void setup(void)
{
	char err[256];
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(trace_open(path, 8, err, sizeof(err)), 0);
}

static void teardown(void)
{
	trace_close();
	unlink(path);
	strcpy(path, "/tmp/xenkvm-trace-XXXXXX");
}

static void record(uint64_t nr, uint64_t subop, uint64_t dur, long result)
{
	struct hcall hc = { .nr = nr, .arg = { subop } };

	trace_hypercall(&hc, 1000, 1000 + dur, result);
}

static char *stats(void)
{
	static char out[4096];
	char err[256];
	FILE *f = fmemopen(out, sizeof(out), "w");

	ck_assert_int_eq(trace_stats(path, f, err, sizeof(err)), 0);
	fclose(f);
	return out;
}

struct row {
	unsigned long long calls, preempted, errors, p50;
};

/* The numbers on trace-stats' line for hypercall hc, sub-op sub; 0 if none. */
static int row(const char *s, const char *hc, const char *sub, struct row *r)
{
	char h[32], o[32];

	for (const char *l = s; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (sscanf(l, "%31s %31s %llu %llu %llu %llu", h, o, &r->calls, &r->preempted,
			   &r->errors, &r->p50) == 6 &&
		    !strcmp(h, hc) && !strcmp(o, sub))
			return 1;
	return 0;
}

static void record_preempted(uint64_t nr, uint64_t arg0)
{
	struct hcall hc = { .nr = nr, .arg = { arg0 }, .continued = 1 };

	trace_hypercall(&hc, 1000, 1010, (long)nr);
}

START_TEST(counts_errors_and_percentiles)
{
	char *s;
	struct row r;

	record(__HYPERVISOR_xen_version, 0, 100, 0x40011);
	record(__HYPERVISOR_xen_version, 0, 300, 0x40011);
	record(__HYPERVISOR_memory_op, 9, 50, -14);
	s = stats();
	ck_assert_ptr_nonnull(strstr(s, "3 hypercalls traced\n"));
	ck_assert(row(s, "xen_version", "version", &r));
	ck_assert_uint_eq(r.calls, 2);
	ck_assert_uint_eq(r.errors, 0);
	ck_assert_uint_eq(r.p50, 100);
	ck_assert(row(s, "memory_op", "memory_map", &r));
	ck_assert_uint_eq(r.calls, 1);
	ck_assert_uint_eq(r.errors, 1);
	ck_assert_uint_eq(r.p50, 50);
}
END_TEST

/* A sub-op is what the family switches on: memory_op's continuation bits
 * are not one, a number Xen gives no name stays a number, and the first
 * argument of multicall (its list) or set_timer_op (a time) is none. */
START_TEST(subops_as_the_family_sees_them)
{
	char *s;
	struct row r;

	record(__HYPERVISOR_memory_op, (5ULL << MEMOP_EXTENT_SHIFT) | XENMEM_decrease_reservation, 10, 0);
	record(__HYPERVISOR_memory_op, (7ULL << MEMOP_EXTENT_SHIFT) | XENMEM_decrease_reservation, 10, 0);
	record(__HYPERVISOR_hvm_op, 200, 10, -38);
	record(__HYPERVISOR_multicall, 0x7fff1000, 10, 0);
	record_preempted(__HYPERVISOR_multicall, 0x7fff2000);
	s = stats();
	ck_assert(row(s, "memory_op", "decrease_reservation", &r));
	ck_assert_uint_eq(r.calls, 2);
	ck_assert(row(s, "hvm_op", "200", &r));
	ck_assert_uint_eq(r.calls, 1);
	ck_assert_uint_eq(r.errors, 1);
	ck_assert(row(s, "multicall", "-", &r));
	ck_assert_uint_eq(r.calls, 2);
	ck_assert_uint_eq(r.preempted, 1);
}
END_TEST

START_TEST(the_ring_keeps_the_newest)
{
	struct row r;

	for (int i = 0; i < 11; i++)
		record(__HYPERVISOR_sched_op, 0, 10, 0);
	ck_assert_ptr_nonnull(strstr(stats(), "11 hypercalls traced (the oldest were overwritten)"));
	ck_assert(row(stats(), "sched_op", "yield", &r));
	ck_assert_uint_eq(r.calls, 8);
}
END_TEST

START_TEST(not_a_trace_file)
{
	char err[256];
	FILE *f = fopen(path, "w");

	fputs("this is not a trace file at all, just words", f);
	fclose(f);
	ck_assert_int_eq(trace_stats(path, stdout, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "not a xenkvm trace file"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("trace");
	TCase *tc = tcase_create("ring");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, counts_errors_and_percentiles);
	tcase_add_test(tc, subops_as_the_family_sees_them);
	tcase_add_test(tc, the_ring_keeps_the_newest);
	tcase_add_test(tc, not_a_trace_file);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
