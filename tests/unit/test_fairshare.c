/* Unit tests for fair share (xenemu/fairshare.c): continuations split long
 * calls into re-issued ones whose combined effect is the unsplit call's,
 * with Xen's argument encoding; the per-vCPU rate limit sleeps, counts,
 * and lets a stop or pause through; per-vCPU accounting.
 * A "transport" here re-issues a continued call with its new arguments,
 * as transport_page.c makes the guest do. Loop tests run with _i = 0
 * (32-bit ABI) and _i = 1 (64-bit ABI). */
#include <check.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <xen/xen.h>
#include <xen/grant_table.h>
#include <xen/memory.h>
#include <xen/version.h>

#include "run_suite.h"
#include "xenkvm/compat32.h"
#include "xenkvm/console.h"
#include "xenkvm/gnttab.h"
#include "xenkvm/hypercall.h"
#include "xenkvm/transport.h"
#include "xenkvm/vm.h"
#include "xenkvm/xen.h"

#include "guest_ram.h"

#define ARG 0x10000ULL   /* argument structs */
#define LIST 0x20000ULL  /* extent lists, copy ops, multicall entries */
#define PAGE_A 0x40000ULL
#define PAGE_B 0x41000ULL
#define TEXT 0x60000ULL  /* console text */
#define BALLOON 0x800ULL /* gfn at 8 MiB: frames to give back */
#define XENMEM_SHIFT 6   /* Xen's MEMOP_EXTENT_SHIFT */

static struct console con;
static int out_pipe[2];

static void setup(void)
{
	memset(&vm, 0, sizeof(vm));
	memset(&x, 0, sizeof(x));
	ck_assert_int_eq(gmem_init(&vm.mem, RAM_SIZE, NULL, NULL), 0);
	x.vm = &vm;
	vm.xen = &x;
	x.shared_info_gfn = ~0ULL;
	pthread_mutex_init(&x.lock, NULL);
	ck_assert_int_eq(pipe2(out_pipe, O_NONBLOCK), 0);
	fcntl(out_pipe[0], F_SETPIPE_SZ, 1 << 20);
	console_init(&con, out_pipe[1]);
	x.console = &con;
	ck_assert_int_eq(gnttab_create(&x.gnttab, &vm.mem, GNTTAB_DEFAULT_MAX_FRAMES,
				       PAGE_A >> 12, PAGE_B >> 12),
			 0);
	identity_map();
}

static void teardown(void)
{
	hypercall_set_rate_limit(0, 0);
	gnttab_destroy(x.gnttab);
	console_destroy(&con);
	close(out_pipe[0]);
	close(out_pipe[1]);
	gmem_destroy(&vm.mem);
}

/* ---- a transport that re-issues continued calls ---- */

#define MAX_ISSUES 256

struct issued {
	unsigned n;                      /* calls issued, the first included */
	uint64_t arg[MAX_ISSUES][6];     /* each call's arguments */
};

static struct hcall make_call(int abi64, uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2)
{
	return (struct hcall){ .xen = &x, .mem = &vm.mem, .abi64 = abi64, .nr = nr,
			       .arg = { a0, a1, a2 }, .pg = abi64 ? flat64 : flat32 };
}

/* Issue hc with preemption after `budget` units, re-issuing each
 * continuation; returns the last call's result. */
static long issue_all(struct hcall hc, unsigned budget, struct issued *log)
{
	long rc;

	log->n = 0;
	for (;;) {
		struct hcall call = hc;

		ck_assert_uint_lt(log->n, MAX_ISSUES);
		memcpy(log->arg[log->n++], call.arg, sizeof(call.arg));
		call.can_continue = 1;
		call.budget = budget;
		rc = hypercall_dispatch(&call);
		if (!call.continued)
			return rc;
		ck_assert_int_eq(rc, (long)hc.nr); /* Xen returns the op */
		memcpy(hc.arg, call.cont_arg, sizeof(hc.arg));
	}
}

static long issue_once(struct hcall hc)
{
	long rc = hypercall_dispatch(&hc);

	ck_assert(!hc.continued);
	return rc;
}

/* ---- memory_op ---- */

static void reservation(int abi64, uint64_t first_gfn, unsigned n, uint64_t bad_at)
{
	for (unsigned i = 0; i < n; i++) {
		uint64_t gfn = i == bad_at ? 0xfffffULL : first_gfn + i; /* not RAM */
		if (abi64) {
			put_u64(LIST + i * 8, gfn);
		} else {
			uint32_t g = (uint32_t)gfn;
			put(LIST + i * 4, &g, 4);
		}
	}
	if (abi64) {
		struct xen_memory_reservation r = { .nr_extents = n, .domid = DOMID_SELF };
		set_xen_guest_handle(r.extent_start, (xen_pfn_t *)(uintptr_t)LIST);
		put(ARG, &r, sizeof(r));
	} else {
		struct compat_memory_reservation r = { (uint32_t)LIST, n, 0, 0, DOMID_SELF };
		put(ARG, &r, sizeof(r));
	}
}

static unsigned populated(uint64_t gfn, unsigned n)
{
	unsigned p = 0;

	for (unsigned i = 0; i < n; i++)
		p += (unsigned)gmem_frame_populated(&vm.mem, gfn + i);
	return p;
}

START_TEST(memory_batches_split_by_extent)
{
	struct hcall hc = make_call(_i, __HYPERVISOR_memory_op, XENMEM_decrease_reservation, ARG, 0);
	static struct issued log;

	reservation(_i, BALLOON, 200, ~0ULL);
	ck_assert_int_eq(issue_all(hc, 16, &log), 200);
	/* Re-issued after every 16 extents, the next one in cmd's high bits. */
	ck_assert_uint_eq(log.n, 13);
	for (unsigned k = 1; k < log.n; k++)
		ck_assert_uint_eq(log.arg[k][0],
				  XENMEM_decrease_reservation | ((uint64_t)(16 * k) << XENMEM_SHIFT));
	ck_assert_uint_eq(log.arg[12][1], ARG);
	ck_assert_uint_eq(populated(BALLOON, 200), 0);
	ck_assert_uint_eq(populated(BALLOON + 200, 8), 8);

	hc.arg[0] = XENMEM_populate_physmap;
	ck_assert_int_eq(issue_all(hc, 16, &log), 200);
	ck_assert_uint_eq(log.n, 13);
	ck_assert_uint_eq(populated(BALLOON, 200), 200);
}
END_TEST

/* A failing extent ends the split call where it ends the whole one. */
START_TEST(memory_split_equals_whole)
{
	struct hcall hc = make_call(_i, __HYPERVISOR_memory_op, XENMEM_decrease_reservation, ARG, 0);
	static struct issued log;

	reservation(_i, BALLOON, 100, 70);
	ck_assert_int_eq(issue_all(hc, 8, &log), 70);
	ck_assert_uint_eq(log.n, 9); /* 8, 16, ..., 64: then extent 70 fails */
	ck_assert_uint_eq(populated(BALLOON, 100), 30);
	reservation(_i, BALLOON + 100, 100, 70);
	ck_assert_int_eq(issue_once(hc), 70);
	ck_assert_uint_eq(populated(BALLOON + 100, 100), 30);
	for (unsigned i = 0; i < 100; i++)
		ck_assert_int_eq(gmem_frame_populated(&vm.mem, BALLOON + i),
				 gmem_frame_populated(&vm.mem, BALLOON + 100 + i));
}
END_TEST

/* exchange keeps its progress in nr_exchanged and re-issues the call as is. */
START_TEST(exchange_continues_through_nr_exchanged)
{
	struct compat_memory_exchange e = { 0 };
	struct hcall hc = make_call(0, __HYPERVISOR_memory_op, XENMEM_exchange, ARG, 0);
	static struct issued log;
	uint32_t in[40], out[40];

	for (unsigned i = 0; i < 40; i++) {
		in[i] = (uint32_t)(BALLOON + i);
		out[i] = (uint32_t)(BALLOON + 100 + i);
	}
	put(LIST, in, sizeof(in));
	put(LIST + 0x1000, out, sizeof(out));
	reservation(0, BALLOON + 100, 40, ~0ULL);
	ck_assert_int_eq(issue_once(make_call(0, __HYPERVISOR_memory_op,
					      XENMEM_decrease_reservation, ARG, 0)), 40);
	put(LIST, in, sizeof(in));
	e.in = (struct compat_memory_reservation){ (uint32_t)LIST, 40, 0, 0, DOMID_SELF };
	e.out = (struct compat_memory_reservation){ (uint32_t)LIST + 0x1000, 40, 0, 0, DOMID_SELF };
	put(ARG, &e, sizeof(e));
	ck_assert_int_eq(issue_all(hc, 10, &log), 0);
	ck_assert_uint_eq(log.n, 4);
	for (unsigned k = 0; k < log.n; k++)
		ck_assert_uint_eq(log.arg[k][0], XENMEM_exchange);
	get(ARG, &e, sizeof(e));
	ck_assert_uint_eq(e.nr_exchanged, 40);
	ck_assert_uint_eq(populated(BALLOON, 40), 0);
	ck_assert_uint_eq(populated(BALLOON + 100, 40), 40);
}
END_TEST

/* XENMAPSPACE_gmfn_range moves size frames; re-issued from the frame in
 * cmd's high bits. */
START_TEST(physmap_range_continues_at_the_next_frame)
{
	struct hcall hc = make_call(_i, __HYPERVISOR_memory_op, XENMEM_add_to_physmap, ARG, 0);
	static struct issued log;

	for (unsigned k = 0; k < 20; k++)
		memset(gptr((BALLOON + 100 + k) << 12, 4096), 0x40 + k, 4096);
	if (_i) {
		struct xen_add_to_physmap a = { .domid = DOMID_SELF, .size = 20,
						.space = XENMAPSPACE_gmfn_range,
						.idx = BALLOON + 100, .gpfn = BALLOON };
		put(ARG, &a, sizeof(a));
	} else {
		struct compat_add_to_physmap a = { .domid = DOMID_SELF, .size = 20,
						   .space = XENMAPSPACE_gmfn_range,
						   .idx = BALLOON + 100, .gpfn = BALLOON };
		put(ARG, &a, sizeof(a));
	}
	ck_assert_int_eq(issue_all(hc, 8, &log), 0);
	ck_assert_uint_eq(log.n, 3);
	ck_assert_uint_eq(log.arg[1][0], XENMEM_add_to_physmap | (8 << XENMEM_SHIFT));
	ck_assert_uint_eq(log.arg[2][0], XENMEM_add_to_physmap | (16 << XENMEM_SHIFT));
	for (unsigned k = 0; k < 20; k++) {
		ck_assert_int_eq(*gptr(((BALLOON + k) << 12) + 4095, 1), 0x40 + k);
		ck_assert_ptr_null(gmem_ptr(&vm.mem, (BALLOON + 100 + k) << 12, 1));
	}
}
END_TEST

/* ---- grant copies ---- */

static size_t copy_size(int abi64)
{
	return abi64 ? sizeof(struct gnttab_copy) : sizeof(struct compat_gnttab_copy);
}

static void put_copy(int abi64, unsigned i)
{
	uint64_t gva = LIST + i * copy_size(abi64);

	if (abi64) {
		struct gnttab_copy c = { .len = 4, .status = 99 };
		c.source.u.gmfn = PAGE_A >> 12, c.source.domid = DOMID_SELF;
		c.source.offset = (uint16_t)(i * 4);
		c.dest.u.gmfn = PAGE_B >> 12, c.dest.domid = DOMID_SELF;
		c.dest.offset = (uint16_t)(i * 4);
		put(gva, &c, sizeof(c));
	} else {
		struct compat_gnttab_copy c = { .len = 4, .status = 99 };
		c.source.u.gmfn = PAGE_A >> 12, c.source.domid = DOMID_SELF;
		c.source.offset = (uint16_t)(i * 4);
		c.dest.u.gmfn = PAGE_B >> 12, c.dest.domid = DOMID_SELF;
		c.dest.offset = (uint16_t)(i * 4);
		put(gva, &c, sizeof(c));
	}
}

static int16_t copy_status(int abi64, unsigned i)
{
	int16_t s;
	size_t off = abi64 ? offsetof(struct gnttab_copy, status)
			   : offsetof(struct compat_gnttab_copy, status);

	get(LIST + i * copy_size(abi64) + off, &s, sizeof(s));
	return s;
}

START_TEST(grant_copies_split_by_element)
{
	struct hcall hc = make_call(_i, __HYPERVISOR_grant_table_op, GNTTABOP_copy, LIST, 1000);
	static struct issued log;
	uint8_t a[4096], b[4096];

	for (unsigned i = 0; i < sizeof(a); i++)
		a[i] = (uint8_t)(i * 13 + 1);
	put(PAGE_A, a, sizeof(a));
	for (unsigned i = 0; i < 1000; i++)
		put_copy(_i, i);
	ck_assert_int_eq(issue_all(hc, 8, &log), 0);
	/* Native calls stop every 8 elements; compat ones after each batch it
	 * reads whole (as Xen's compat layer does). Either way: uop advanced
	 * and count reduced by what was done. */
	ck_assert_uint_gt(log.n, 4);
	for (unsigned k = 1; k < log.n; k++) {
		uint64_t done = 1000 - log.arg[k][2];
		ck_assert_uint_eq(log.arg[k][0], GNTTABOP_copy);
		ck_assert_uint_eq(log.arg[k][1], LIST + done * copy_size(_i));
		ck_assert_uint_gt(log.arg[k][2], 0);
		ck_assert_uint_lt(log.arg[k][2], log.arg[k - 1][2]);
		if (_i)
			ck_assert_uint_eq(done % 8, 0);
	}
	for (unsigned i = 0; i < 1000; i++)
		ck_assert_int_eq(copy_status(_i, i), GNTST_okay);
	get(PAGE_B, b, sizeof(b));
	ck_assert_mem_eq(a, b, 4000);
}
END_TEST

/* ---- multicall ---- */

static size_t entry_size(int abi64)
{
	return abi64 ? sizeof(multicall_entry_t) : sizeof(struct compat_multicall_entry);
}

static void put_entry(int abi64, unsigned i, uint64_t op, uint64_t a0, uint64_t a1)
{
	uint64_t gva = LIST + 0x8000 + i * entry_size(abi64);

	if (abi64) {
		multicall_entry_t e = { .op = op, .args = { a0, a1 }, .result = 12345 };
		put(gva, &e, sizeof(e));
	} else {
		struct compat_multicall_entry e = { .op = (uint32_t)op,
						    .args = { (uint32_t)a0, (uint32_t)a1 },
						    .result = 12345 };
		put(gva, &e, sizeof(e));
	}
}

static int64_t entry_result(int abi64, unsigned i)
{
	uint64_t gva = LIST + 0x8000 + i * entry_size(abi64);

	if (abi64) {
		multicall_entry_t e;
		get(gva, &e, sizeof(e));
		return (int64_t)e.result;
	}
	struct compat_multicall_entry e;
	get(gva, &e, sizeof(e));
	return (int32_t)e.result;
}

START_TEST(multicall_preempts_between_and_inside_entries)
{
	struct hcall hc = make_call(_i, __HYPERVISOR_multicall, LIST + 0x8000, 40, 0);
	static struct issued log;
	int saw_inside = 0;

	reservation(_i, BALLOON, 50, ~0ULL);
	for (unsigned i = 0; i < 40; i++)
		put_entry(_i, i, __HYPERVISOR_xen_version, XENVER_version, 0);
	put_entry(_i, 20, __HYPERVISOR_memory_op, XENMEM_decrease_reservation, ARG);
	ck_assert_int_eq(issue_all(hc, 16, &log), 0);
	for (unsigned k = 1; k < log.n; k++) {
		uint64_t from = (log.arg[k][0] - (LIST + 0x8000)) / entry_size(_i);
		ck_assert_uint_eq(log.arg[k][0], LIST + 0x8000 + from * entry_size(_i));
		ck_assert_uint_eq(log.arg[k][1], 40 - from);
		saw_inside += from == 20;
	}
	/* 50 extents in budgets of 16: the entry itself was preempted. */
	ck_assert_int_ge(saw_inside, 3);
	for (unsigned i = 0; i < 40; i++)
		ck_assert_int_eq(entry_result(_i, i),
				 i == 20 ? 50 : (XENKVM_XEN_MAJOR << 16) | XENKVM_XEN_MINOR);
	ck_assert_uint_eq(populated(BALLOON, 50), 0);
}
END_TEST

/* ---- console_io ---- */

START_TEST(console_write_continues_at_the_next_byte)
{
	static char text[3000], got[4000];
	struct hcall hc = make_call(_i, __HYPERVISOR_console_io, CONSOLEIO_write, sizeof(text), TEXT);
	static struct issued log;
	ssize_t n;

	for (unsigned i = 0; i < sizeof(text); i++)
		text[i] = (char)('a' + i % 26);
	put(TEXT, text, sizeof(text));
	ck_assert_int_eq(issue_all(hc, 4, &log), 0);
	ck_assert_uint_eq(log.n, 6); /* 4 chunks of 128 bytes a call */
	for (unsigned k = 1; k < log.n; k++) {
		ck_assert_uint_eq(log.arg[k][0], CONSOLEIO_write);
		ck_assert_uint_eq(log.arg[k][1], sizeof(text) - 512 * k);
		ck_assert_uint_eq(log.arg[k][2], TEXT + 512 * k);
	}
	n = read(out_pipe[0], got, sizeof(got));
	ck_assert_int_eq(n, sizeof(text));
	ck_assert_mem_eq(got, text, sizeof(text));
}
END_TEST

/* ---- when not to preempt, and when to ---- */

static int restartable_calls;

static int not_restartable(struct hcall *hc)
{
	(void)hc;
	restartable_calls++;
	return 0;
}

START_TEST(no_preemption_without_the_transport)
{
	struct hcall hc = make_call(1, __HYPERVISOR_memory_op, XENMEM_decrease_reservation, ARG, 0);

	reservation(1, BALLOON, 50, ~0ULL);
	hc.budget = 1; /* can_continue is off: the budget means nothing */
	ck_assert_int_eq(issue_once(hc), 50);
	reservation(1, BALLOON + 50, 50, ~0ULL);
	hc.can_continue = 1;
	hc.restartable = not_restartable; /* not our stub: run to the end */
	ck_assert_int_eq(issue_once(hc), 50);
	ck_assert_int_eq(restartable_calls, 1);
	ck_assert_uint_eq(populated(BALLOON, 100), 0);
}
END_TEST

START_TEST(stop_and_pause_preempt_at_once)
{
	struct hcall hc = make_call(1, __HYPERVISOR_memory_op, XENMEM_decrease_reservation, ARG, 0);
	struct hcall call = hc;

	reservation(1, BALLOON, 50, ~0ULL);
	vm.stopping = 1;
	call.can_continue = 1;
	ck_assert_int_eq(hypercall_dispatch(&call), __HYPERVISOR_memory_op);
	ck_assert(call.continued);
	ck_assert_uint_eq(call.cont_arg[0], XENMEM_decrease_reservation | (1 << XENMEM_SHIFT));
	vm.stopping = 0;
	vm.paused = 1;
	call = hc;
	call.can_continue = 1;
	call.arg[0] = XENMEM_decrease_reservation | (1 << XENMEM_SHIFT);
	ck_assert_int_eq(hypercall_dispatch(&call), __HYPERVISOR_memory_op);
	ck_assert_uint_eq(call.cont_arg[0], XENMEM_decrease_reservation | (2 << XENMEM_SHIFT));
	ck_assert_uint_eq(populated(BALLOON, 50), 48);
}
END_TEST

/* ---- the transports' side: finding the stub, re-issuing the call ---- */

#define STUBS 0x30000ULL /* a hypercall page */

START_TEST(stub_found_at_or_past_the_trapping_instruction)
{
	static const uint8_t out[2] = { 0xe7, XENKVM_HCALL_PORT };
	static const uint8_t vmcall[3] = { 0x0f, 0x01, 0xc1 };
	uint64_t stub = STUBS + __HYPERVISOR_memory_op * 32, kstub = STUBS + 40 * 32;
	uint8_t code[32], kcode[9] = { 0xb8, __HYPERVISOR_memory_op, 0, 0, 0, 0x0f, 0x01, 0xc1, 0xc3 };
	struct hcall hc = make_call(_i, __HYPERVISOR_memory_op, 0, 0, 0);

	put(stub, code, hcall_port_stub(__HYPERVISOR_memory_op, code));
	put(kstub, kcode, sizeof(kcode));
	/* The page transport: RIP at the out, or past it (this host's KVM). */
	hc.rip = stub + 5;
	ck_assert_int_eq(hcall_find_stub(&hc, out, sizeof(out)), 1);
	ck_assert_uint_eq(hc.restart_rip, stub);
	hc.rip = stub + 7;
	hc.restart_rip = 0;
	ck_assert_int_eq(hcall_find_stub(&hc, out, sizeof(out)), 1);
	ck_assert_uint_eq(hc.restart_rip, stub);
	/* The kvm transport: RIP at the VMCALL of the same stub layout. */
	hc.rip = kstub + 5;
	ck_assert_int_eq(hcall_find_stub(&hc, vmcall, sizeof(vmcall)), 1);
	ck_assert_uint_eq(hc.restart_rip, kstub);
	/* Not our stub: another number, another place, another instruction,
	 * or not readable at all. */
	hc.rip = stub + 6;
	ck_assert_int_eq(hcall_find_stub(&hc, out, sizeof(out)), 0);
	hc.rip = kstub + 5;
	ck_assert_int_eq(hcall_find_stub(&hc, out, sizeof(out)), 0);
	hc.nr = __HYPERVISOR_multicall;
	hc.rip = stub + 7;
	ck_assert_int_eq(hcall_find_stub(&hc, out, sizeof(out)), 0);
	hc.nr = __HYPERVISOR_memory_op;
	hc.rip = 0xfffffff0ULL;
	ck_assert_int_eq(hcall_find_stub(&hc, out, sizeof(out)), 0);
}
END_TEST

START_TEST(continuation_goes_into_the_abi_registers)
{
	struct hcall hc = make_call(_i, __HYPERVISOR_grant_table_op, GNTTABOP_copy, 0x1000, 9);
	struct kvm_regs r = { .rip = 0x30207, .rax = 0, .rdi = 1, .rsi = 2, .rdx = 3, .r10 = 4,
			      .r8 = 5, .r9 = 6, .rbx = 7, .rcx = 8, .rbp = 9 };
	uint64_t args[3] = { GNTTABOP_copy, 0x1028, 8 };

	hc.rip = 0x1030207; /* CS base 0x1000000 (32-bit segments) */
	hc.restart_rip = 0x1030200;
	ck_assert_int_eq(hcall_continue(&hc, 3, args), __HYPERVISOR_grant_table_op);
	hcall_apply_continuation(&hc, &r);
	ck_assert_uint_eq(r.rip, 0x30200);
	ck_assert_uint_eq(r.rax, __HYPERVISOR_grant_table_op);
	if (_i) {
		ck_assert_uint_eq(r.rdi, GNTTABOP_copy);
		ck_assert_uint_eq(r.rsi, 0x1028);
		ck_assert_uint_eq(r.rdx, 8);
		ck_assert_uint_eq(r.r10, 0); /* the call's own, unchanged */
		ck_assert_uint_eq(r.rbx, 7);
	} else {
		ck_assert_uint_eq(r.rbx, GNTTABOP_copy);
		ck_assert_uint_eq(r.rcx, 0x1028);
		ck_assert_uint_eq(r.rdx, 8);
		ck_assert_uint_eq(r.rsi, 0);
		ck_assert_uint_eq(r.rdi, 0);
	}
}
END_TEST

/* ---- the rate limit and the accounting ---- */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const struct hypercall_vcpu_stat *vcpu_stat(unsigned id)
{
	static struct hypercall_vcpu_stat st[VM_MAX_VCPUS];
	unsigned n = hypercall_vcpu_stats(st, VM_MAX_VCPUS);

	for (unsigned i = 0; i < n; i++)
		if (st[i].vcpu == id)
			return &st[i];
	return NULL;
}

static long version_call(unsigned vcpu_id)
{
	struct hcall hc = make_call(1, __HYPERVISOR_xen_version, XENVER_version, 0, 0);

	hc.vcpu_id = vcpu_id;
	return hypercall_dispatch(&hc);
}

START_TEST(rate_limit_throttles_and_counts)
{
	const struct hypercall_vcpu_stat *s;
	unsigned long long calls0 = 0, throttled0 = 0;
	double t0;

	if ((s = vcpu_stat(3)))
		calls0 = s->calls, throttled0 = s->throttled;
	hypercall_set_rate_limit(200, 5);
	t0 = now_s();
	for (int i = 0; i < 25; i++)
		ck_assert_int_eq(version_call(3), (XENKVM_XEN_MAJOR << 16) | XENKVM_XEN_MINOR);
	/* A burst of 5 at once, then one every 5 ms: the last not before
	 * 100 ms. Each of the 20 others waits, unless the sleep before it
	 * overran by a whole interval (a loaded host): almost all the time
	 * was spent asleep. */
	ck_assert_double_ge(now_s() - t0, 0.099);
	s = vcpu_stat(3);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(s->calls - calls0, 25);
	ck_assert_uint_ge(s->throttled - throttled0, 1);
	ck_assert_uint_le(s->throttled - throttled0, 20);
	ck_assert_uint_gt(s->throttled_ns, 80000000);
	ck_assert_uint_gt(s->ns, 0);
	/* Another vCPU has its own bucket. */
	t0 = now_s();
	for (int i = 0; i < 5; i++)
		version_call(4);
	ck_assert_double_lt(now_s() - t0, 0.02); /* shared: >= 25 ms */
	ck_assert_uint_eq(vcpu_stat(4)->throttled, 0);
	/* Off again: no waiting at all. */
	hypercall_set_rate_limit(0, 0);
	t0 = now_s();
	for (int i = 0; i < 100; i++)
		version_call(3);
	ck_assert_double_lt(now_s() - t0, 0.25); /* limited: >= 500 ms */
}
END_TEST

static int *flag_to_set;

static void *set_flag_later(void *arg)
{
	(void)arg;
	usleep(50000);
	__atomic_store_n(flag_to_set, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* One call a second: the second call would sleep a second, but a stop (or
 * a pause) 50 ms in ends the sleep. */
static void throttled_sleep_ends_on(int *flag)
{
	pthread_t t;
	double t0;

	hypercall_set_rate_limit(1, 1);
	version_call(5);
	flag_to_set = flag;
	ck_assert_int_eq(pthread_create(&t, NULL, set_flag_later, NULL), 0);
	t0 = now_s();
	version_call(5);
	ck_assert_double_ge(now_s() - t0, 0.04);
	ck_assert_double_lt(now_s() - t0, 0.3);
	pthread_join(t, NULL);
}

START_TEST(throttle_ends_on_stop)
{
	throttled_sleep_ends_on(&vm.stopping);
}
END_TEST

START_TEST(throttle_ends_on_pause)
{
	throttled_sleep_ends_on(&vm.paused);
}
END_TEST

/* Multicall entries are part of their call: only the call is charged. */
START_TEST(multicall_entries_are_not_charged)
{
	struct hcall hc = make_call(1, __HYPERVISOR_multicall, LIST + 0x8000, 40, 0);
	double t0;

	for (unsigned i = 0; i < 40; i++)
		put_entry(1, i, __HYPERVISOR_xen_version, XENVER_version, 0);
	hc.vcpu_id = 6;
	hypercall_set_rate_limit(1000, 2);
	t0 = now_s();
	ck_assert_int_eq(hypercall_dispatch(&hc), 0);
	ck_assert_double_lt(now_s() - t0, 0.03); /* 40 calls: >= 38 ms */
	ck_assert_uint_eq(vcpu_stat(6)->calls, 1);
	ck_assert_uint_eq(vcpu_stat(6)->throttled, 0);
}
END_TEST

static Suite *fairshare_suite(void)
{
	Suite *s = suite_create("fairshare");
	TCase *t = tcase_create("continuations");
	TCase *r = tcase_create("rate");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_loop_test(t, memory_batches_split_by_extent, 0, 2);
	tcase_add_loop_test(t, memory_split_equals_whole, 0, 2);
	tcase_add_test(t, exchange_continues_through_nr_exchanged);
	tcase_add_loop_test(t, physmap_range_continues_at_the_next_frame, 0, 2);
	tcase_add_loop_test(t, grant_copies_split_by_element, 0, 2);
	tcase_add_loop_test(t, multicall_preempts_between_and_inside_entries, 0, 2);
	tcase_add_loop_test(t, console_write_continues_at_the_next_byte, 0, 2);
	tcase_add_test(t, no_preemption_without_the_transport);
	tcase_add_test(t, stop_and_pause_preempt_at_once);
	tcase_add_loop_test(t, stub_found_at_or_past_the_trapping_instruction, 0, 2);
	tcase_add_loop_test(t, continuation_goes_into_the_abi_registers, 0, 2);
	suite_add_tcase(s, t);
	tcase_add_checked_fixture(r, setup, teardown);
	tcase_add_test(r, rate_limit_throttles_and_counts);
	tcase_add_test(r, throttle_ends_on_stop);
	tcase_add_test(r, throttle_ends_on_pause);
	tcase_add_test(r, multicall_entries_are_not_charged);
	suite_add_tcase(s, r);
	return s;
}

int main(void)
{
	return run_suite(fairshare_suite());
}
