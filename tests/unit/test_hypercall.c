/* Unit tests for the hypercall dispatcher and the families behind it, driven
 * as a guest would: arguments placed in memfd guest RAM, the call made through
 * hypercall_dispatch(), results read back from guest RAM. No KVM: the VM and
 * the Xen state are built here by hand (xen_init needs /dev/kvm). */
#include <check.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include <xen/xen.h>
#include <xen/features.h>
#include <xen/memory.h>
#include <xen/sched.h>
#include <xen/version.h>
#include <xen/hvm/hvm_op.h>
#include <xen/hvm/params.h>

#include "run_suite.h"
#include "xenkvm/compat32.h"
#include "xenkvm/console.h"
#include "xenkvm/hypercall.h"
#include "xenkvm/log.h"
#include "xenkvm/vm.h"
#include "xenkvm/xen.h"

#include "guest_ram.h"

#define ARG 0x10000ULL  /* a call's argument struct */
#define BUF 0x20000ULL  /* the buffer it points to */
#define LIST 0x30000ULL /* multicall entries */
#define BAD_GVA 0x80000000ULL /* below 4 GiB, outside RAM */

/* Paging off for the 32-bit ABI; for the 64-bit one, long mode with the low
 * 4 GiB identity-mapped by 1 GiB pages (see identity_map). */

static struct console con;
static int out_pipe[2];

/* ---- guest memory ---- */



/* ---- fixture: a VM and its Xen state, without KVM ---- */

static void setup(void)
{
	ck_assert_int_eq(pipe2(out_pipe, O_NONBLOCK), 0);
	xen_fixture_setup(&con, out_pipe[1]);
}

static void teardown(void)
{
	xen_fixture_teardown(&con);
	close(out_pipe[0]);
	close(out_pipe[1]);
}

/* ---- making calls ---- */

static struct hcall hcall_for(int abi64, uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2)
{
	return (struct hcall){ .xen = &x, .mem = &vm.mem, .abi64 = abi64, .nr = nr,
			       .arg = { a0, a1, a2 }, .pg = abi64 ? flat64 : flat32 };
}

static long call(int abi64, uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2)
{
	struct hcall hc = hcall_for(abi64, nr, a0, a1, a2);

	return hypercall_dispatch(&hc);
}

/* Everything the console got so far. */
static size_t console_output(char *buf, size_t max)
{
	ssize_t n = read(out_pipe[0], buf, max);

	return n < 0 ? 0 : (size_t)n;
}

/* ---- the dispatcher ---- */

START_TEST(user_mode_is_refused)
{
	static const uint64_t nrs[] = { __HYPERVISOR_xen_version, __HYPERVISOR_sched_op,
					__HYPERVISOR_event_channel_op, 63, 64, 1ULL << 40 };
	struct sched_shutdown s = { .reason = SHUTDOWN_poweroff };

	put(ARG, &s, sizeof(s));
	for (unsigned i = 0; i < sizeof(nrs) / sizeof(nrs[0]); i++) {
		struct hcall hc = hcall_for(_i, nrs[i], SCHEDOP_shutdown, ARG, 0);
		hc.cpl = 3;
		ck_assert_int_eq(hypercall_dispatch(&hc), -XEN_EPERM);
	}
	ck_assert_int_eq(vm.stopping, 0);
}
END_TEST

START_TEST(nonexistent_hypercalls_are_enosys)
{
	ck_assert_int_eq(call(1, 64, 0, 0, 0), -XEN_ENOSYS);
	ck_assert_int_eq(call(1, 0xffffffffULL, 0, 0, 0), -XEN_ENOSYS);
	ck_assert_int_eq(call(1, ~0ULL, 0, 0, 0), -XEN_ENOSYS);
	ck_assert_int_eq(call(0, 1000, 0, 0, 0), -XEN_ENOSYS);
}
END_TEST

START_TEST(unimplemented_hypercalls_are_enosys)
{
	static const uint64_t nrs[] = { __HYPERVISOR_set_trap_table, __HYPERVISOR_mmu_update,
					__HYPERVISOR_domctl, __HYPERVISOR_physdev_op, 63 };

	for (unsigned i = 0; i < sizeof(nrs) / sizeof(nrs[0]); i++)
		ck_assert_int_eq(call(_i, nrs[i], 0, 0, 0), -XEN_ENOSYS);
}
END_TEST

START_TEST(abi32_ignores_upper_halves)
{
	ck_assert_int_eq(call(0, 0x100000000ULL | __HYPERVISOR_xen_version, XENVER_version, 0, 0),
			 (XENKVM_XEN_MAJOR << 16) | XENKVM_XEN_MINOR);
	ck_assert_int_eq(call(0, __HYPERVISOR_xen_version, 0xdead000000000000ULL | XENVER_pagesize,
			      0xffffffff00000000ULL, 0),
			 4096);
}
END_TEST

START_TEST(abi64_keeps_upper_halves)
{
	ck_assert_int_eq(call(1, 0x100000000ULL | __HYPERVISOR_xen_version, XENVER_version, 0, 0),
			 -XEN_ENOSYS);
	ck_assert_int_eq(call(1, __HYPERVISOR_xen_version, XENVER_pagesize, 1ULL << 32, 0),
			 -XEN_EINVAL);
}
END_TEST

/* ---- xen_version ---- */

static long version(int abi64, uint64_t cmd, uint64_t arg)
{
	return call(abi64, __HYPERVISOR_xen_version, cmd, arg, 0);
}

START_TEST(version_value)
{
	ck_assert_int_eq(version(_i, XENVER_version, 0), 0x40011);
}
END_TEST

START_TEST(version_pagesize_wants_null)
{
	ck_assert_int_eq(version(_i, XENVER_pagesize, 0), 4096);
	ck_assert_int_eq(version(_i, XENVER_pagesize, BUF), -XEN_EINVAL);
}
END_TEST

START_TEST(version_extraversion_is_padded)
{
	xen_extraversion_t want = "-xenkvm", got;

	memset(gptr(BUF, sizeof(got)), 0xff, sizeof(got));
	ck_assert_int_eq(version(_i, XENVER_extraversion, BUF), 0);
	get(BUF, got, sizeof(got));
	ck_assert_mem_eq(got, want, sizeof(want));
}
END_TEST

START_TEST(version_get_features_submap0)
{
	xen_feature_info_t fi = { .submap_idx = 0, .submap = 0 };

	put(ARG, &fi, sizeof(fi));
	ck_assert_int_eq(version(_i, XENVER_get_features, ARG), 0);
	get(ARG, &fi, sizeof(fi));
	ck_assert_uint_eq(fi.submap_idx, 0);
	ck_assert(fi.submap & (1u << XENFEAT_auto_translated_physmap));
	ck_assert(fi.submap & (1u << XENFEAT_hvm_callback_vector));
	ck_assert(!(fi.submap & (1u << XENFEAT_dom0)));
}
END_TEST

START_TEST(version_get_features_submap1_is_einval)
{
	xen_feature_info_t fi = { .submap_idx = 1, .submap = 0x5a5a5a5a };

	put(ARG, &fi, sizeof(fi));
	ck_assert_int_eq(version(_i, XENVER_get_features, ARG), -XEN_EINVAL);
	get(ARG, &fi, sizeof(fi));
	ck_assert_uint_eq(fi.submap, 0x5a5a5a5a);
}
END_TEST

START_TEST(version_bad_pointer_is_efault)
{
	ck_assert_int_eq(version(_i, XENVER_get_features, BAD_GVA), -XEN_EFAULT);
	ck_assert_int_eq(version(_i, XENVER_extraversion, BAD_GVA), -XEN_EFAULT);
	ck_assert_int_eq(version(_i, XENVER_capabilities, RAM_SIZE - 100), -XEN_EFAULT);
}
END_TEST

/* ---- hvm_op params ---- */

/* HVMOP_get/set_param on a struct at ARG; *value is in/out. */
static long hvm_param(int abi64, uint64_t op, domid_t domid, uint32_t index, uint64_t *value)
{
	struct xen_hvm_param p = { .domid = domid, .index = index, .value = *value };
	long rc;

	put(ARG, &p, sizeof(p));
	rc = call(abi64, __HYPERVISOR_hvm_op, op, ARG, 0);
	get(ARG, &p, sizeof(p));
	*value = p.value;
	return rc;
}

START_TEST(hvm_param_index_out_of_range)
{
	uint64_t v = 1;

	ck_assert_int_eq(hvm_param(_i, HVMOP_get_param, DOMID_SELF, HVM_NR_PARAMS, &v), -XEN_EINVAL);
	ck_assert_int_eq(hvm_param(_i, HVMOP_set_param, DOMID_SELF, HVM_NR_PARAMS, &v), -XEN_EINVAL);
	ck_assert_int_eq(hvm_param(_i, HVMOP_set_param, DOMID_SELF, 0xffffffffu, &v), -XEN_EINVAL);
}
END_TEST

START_TEST(hvm_param_other_domain_is_esrch)
{
	uint64_t v = 0;

	x.params[HVM_PARAM_STORE_EVTCHN] = STORE_EVTCHN_PORT;
	/* Domain 0 exists and refuses; other domains do not exist. */
	ck_assert_int_eq(hvm_param(_i, HVMOP_get_param, 0, HVM_PARAM_STORE_EVTCHN, &v), -XEN_EPERM);
	ck_assert_int_eq(hvm_param(_i, HVMOP_set_param, 2, HVM_PARAM_STORE_EVTCHN, &v), -XEN_ESRCH);
	ck_assert_int_eq(hvm_param(_i, HVMOP_get_param, XENKVM_DOMID, HVM_PARAM_STORE_EVTCHN, &v), 0);
	ck_assert_uint_eq(v, STORE_EVTCHN_PORT);
}
END_TEST

START_TEST(hvm_store_pfn_is_read_only)
{
	uint64_t v = 0x1234;

	x.params[HVM_PARAM_STORE_PFN] = XENSTORE_GFN;
	ck_assert_int_eq(hvm_param(_i, HVMOP_set_param, DOMID_SELF, HVM_PARAM_STORE_PFN, &v),
			 -XEN_EPERM);
	ck_assert_int_eq(hvm_param(_i, HVMOP_get_param, DOMID_SELF, HVM_PARAM_STORE_PFN, &v), 0);
	ck_assert_uint_eq(v, XENSTORE_GFN);
}
END_TEST

START_TEST(hvm_toolstack_param_is_hidden)
{
	uint64_t v = 0;

	ck_assert_int_eq(hvm_param(_i, HVMOP_get_param, DOMID_SELF, HVM_PARAM_IDENT_PT, &v),
			 -XEN_EPERM);
}
END_TEST

START_TEST(hvm_callback_irq_round_trip)
{
	uint64_t set = (2ULL << 56) | 0xf3, v = set; /* HVMIRQ_callback_vector 0xf3 */

	x.shinfo_32bit = _i; /* the opposite of what the call will latch */
	ck_assert_int_eq(hvm_param(_i, HVMOP_set_param, DOMID_SELF, HVM_PARAM_CALLBACK_IRQ, &v), 0);
	v = 0;
	ck_assert_int_eq(hvm_param(_i, HVMOP_get_param, DOMID_SELF, HVM_PARAM_CALLBACK_IRQ, &v), 0);
	ck_assert_uint_eq(v, set);
	ck_assert_int_eq(x.shinfo_32bit, !_i);
}
END_TEST

START_TEST(hvm_x87_fip_width_values)
{
	uint64_t v = 3;

	ck_assert_int_eq(hvm_param(_i, HVMOP_set_param, DOMID_SELF, HVM_PARAM_X87_FIP_WIDTH, &v),
			 -XEN_EINVAL);
	ck_assert_uint_eq(x.params[HVM_PARAM_X87_FIP_WIDTH], 0);
	v = 4;
	ck_assert_int_eq(hvm_param(_i, HVMOP_set_param, DOMID_SELF, HVM_PARAM_X87_FIP_WIDTH, &v), 0);
	v = 0;
	ck_assert_int_eq(hvm_param(_i, HVMOP_get_param, DOMID_SELF, HVM_PARAM_X87_FIP_WIDTH, &v), 0);
	ck_assert_uint_eq(v, 4);
}
END_TEST

START_TEST(hvm_param_bad_pointer_is_efault)
{
	ck_assert_int_eq(call(_i, __HYPERVISOR_hvm_op, HVMOP_get_param, BAD_GVA, 0), -XEN_EFAULT);
	ck_assert_int_eq(call(_i, __HYPERVISOR_hvm_op, HVMOP_set_param, BAD_GVA, 0), -XEN_EFAULT);
}
END_TEST

/* ---- memory_op: the memory map ---- */

/* The E820 entry as the guest's buffer holds it: 20 bytes, packed. */
struct __attribute__((packed)) e820_raw {
	uint64_t addr, size;
	uint32_t type;
};

static const struct e820_entry three[3] = {
	{ 0, 0x9f000, 1 }, { 0xf0000, 0x10000, 2 }, { 0x100000, RAM_SIZE - 0x100000, 1 }
};

/* XENMEM_memory_map asking for nr entries into BUF; returns the call's
 * result and the nr_entries written back. */
static long memory_map(int abi64, uint32_t nr, uint64_t buffer, uint32_t *nr_out)
{
	long rc;

	if (abi64) {
		struct xen_memory_map m = { .nr_entries = nr };
		set_xen_guest_handle(m.buffer, (void *)(uintptr_t)buffer);
		put(ARG, &m, sizeof(m));
	} else {
		struct compat_memory_map m = { .nr_entries = nr, .buffer = (uint32_t)buffer };
		put(ARG, &m, sizeof(m));
	}
	rc = call(abi64, __HYPERVISOR_memory_op, XENMEM_memory_map, ARG, 0);
	get(ARG, nr_out, sizeof(*nr_out)); /* the first field in both layouts */
	return rc;
}

static void assert_buffer_holds(const struct e820_entry *want, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct e820_raw r;
		get(BUF + i * sizeof(r), &r, sizeof(r));
		ck_assert_uint_eq(r.addr, want[i].addr);
		ck_assert_uint_eq(r.size, want[i].size);
		ck_assert_uint_eq(r.type, want[i].type);
	}
}

START_TEST(memory_map_is_truncated_to_the_buffer)
{
	uint32_t nr = 0;
	struct e820_raw sentinel;

	xen_set_memory_map(&x, three, 3);
	memset(gptr(BUF, 3 * sizeof(sentinel)), 0xee, 3 * sizeof(sentinel));
	ck_assert_int_eq(memory_map(_i, 2, BUF, &nr), 0);
	ck_assert_uint_eq(nr, 2);
	assert_buffer_holds(three, 2);
	get(BUF + 2 * sizeof(sentinel), &sentinel, sizeof(sentinel));
	ck_assert_uint_eq(sentinel.addr, 0xeeeeeeeeeeeeeeeeULL);
}
END_TEST

START_TEST(memory_map_larger_buffer_gets_all)
{
	uint32_t nr = 0;

	xen_set_memory_map(&x, three, 3);
	ck_assert_int_eq(memory_map(_i, 10, BUF, &nr), 0);
	ck_assert_uint_eq(nr, 3);
	assert_buffer_holds(three, 3);
}
END_TEST

START_TEST(memory_map_without_a_map_is_enosys)
{
	uint32_t nr = 0;

	ck_assert_int_eq(memory_map(_i, 10, BUF, &nr), -XEN_ENOSYS);
}
END_TEST

START_TEST(memory_map_bad_pointers_are_efault)
{
	uint32_t nr = 0;

	xen_set_memory_map(&x, three, 3);
	ck_assert_int_eq(memory_map(_i, 3, BAD_GVA, &nr), -XEN_EFAULT);
	ck_assert_uint_eq(nr, 3);
	ck_assert_int_eq(call(_i, __HYPERVISOR_memory_op, XENMEM_memory_map, BAD_GVA, 0),
			 -XEN_EFAULT);
}
END_TEST

/* XENMEM_set_memory_map of n raw entries placed at BUF. */
static long set_memory_map(int abi64, domid_t domid, uint32_t n, const struct e820_entry *e)
{
	for (uint32_t i = 0; e && i < n; i++) {
		struct e820_raw r = { e[i].addr, e[i].size, e[i].type };
		put(BUF + i * sizeof(r), &r, sizeof(r));
	}
	if (abi64) {
		struct xen_foreign_memory_map f = { .domid = domid, .map.nr_entries = n };
		set_xen_guest_handle(f.map.buffer, (void *)(uintptr_t)BUF);
		put(ARG, &f, sizeof(f));
	} else {
		struct compat_foreign_memory_map f = { .domid = domid, .map = { n, (uint32_t)BUF } };
		put(ARG, &f, sizeof(f));
	}
	return call(abi64, __HYPERVISOR_memory_op, XENMEM_set_memory_map, ARG, 0);
}

START_TEST(set_memory_map_replaces_the_map)
{
	static const struct e820_entry two[2] = { { 0, 0x80000, 1 }, { 0x200000, 0x400000, 1 } };
	uint32_t nr = 0;

	xen_set_memory_map(&x, three, 3);
	ck_assert_int_eq(set_memory_map(_i, DOMID_SELF, 2, two), 0);
	memset(gptr(BUF, 0x1000), 0, 0x1000);
	ck_assert_int_eq(memory_map(_i, 10, BUF, &nr), 0);
	ck_assert_uint_eq(nr, 2);
	assert_buffer_holds(two, 2);
}
END_TEST

START_TEST(set_memory_map_too_many_entries_is_einval)
{
	uint32_t nr = 0;

	xen_set_memory_map(&x, three, 3);
	ck_assert_int_eq(set_memory_map(_i, DOMID_SELF, XEN_E820_MAX + 1, NULL), -XEN_EINVAL);
	ck_assert_int_eq(memory_map(_i, 10, BUF, &nr), 0);
	ck_assert_uint_eq(nr, 3);
}
END_TEST

START_TEST(set_memory_map_other_domain_is_esrch)
{
	ck_assert_int_eq(set_memory_map(_i, 0, 3, three), -XEN_EPERM);
	ck_assert_int_eq(set_memory_map(_i, 7, 3, three), -XEN_ESRCH);
	ck_assert_uint_eq(x.e820_n, 0);
}
END_TEST

/* ---- multicall ---- */

#define MC_UNTOUCHED 0x5a5a5a5aU

/* Entry i of a list at LIST, in the call's ABI, its result preset to MC_UNTOUCHED. */
static void put_entry(int abi64, unsigned i, uint64_t op, uint64_t a0, uint64_t a1)
{
	if (abi64) {
		multicall_entry_t e = { .op = op, .result = MC_UNTOUCHED, .args = { a0, a1 } };
		put(LIST + i * sizeof(e), &e, sizeof(e));
	} else {
		struct compat_multicall_entry e = { .op = (uint32_t)op, .result = MC_UNTOUCHED,
						    .args = { (uint32_t)a0, (uint32_t)a1 } };
		put(LIST + i * sizeof(e), &e, sizeof(e));
	}
}

/* The result field of entry i, sign-extended from the ABI's width. */
static long entry_result(int abi64, unsigned i)
{
	if (abi64) {
		multicall_entry_t e;
		get(LIST + i * sizeof(e), &e, sizeof(e));
		return (long)e.result;
	}
	struct compat_multicall_entry e;
	get(LIST + i * sizeof(e), &e, sizeof(e));
	return e.result == MC_UNTOUCHED ? MC_UNTOUCHED : (long)(int32_t)e.result;
}

static long multicall(int abi64, uint64_t list, uint64_t nr)
{
	return call(abi64, __HYPERVISOR_multicall, list, nr, 0);
}

/* The guest's clock (the pvclock in its vcpu_info) and Xen system time,
 * which its timer deadlines are in, must be one clock even on a host whose
 * tsc_khz is wrong: here it is off by 10x or more, and after 20 ms the two
 * still agree to the microsecond. */
static uint64_t guest_pvclock_now(void)
{
	const struct vcpu_time_info *t = &((struct shared_info *)x.shared_info)->vcpu_info[0].time;
	uint64_t delta = __rdtsc() - t->tsc_timestamp;

	delta = t->tsc_shift < 0 ? delta >> -t->tsc_shift : delta << t->tsc_shift;
	return t->system_time + (uint64_t)(((unsigned __int128)delta * t->tsc_to_system_mul) >> 32);
}

START_TEST(pvclock_is_xen_system_time)
{
	struct timespec pause = { .tv_nsec = 20000000 };
	int64_t diff;

	x.tsc_khz = 100000;
	xen_time_init(&x);
	xen_time_update_shared_info(&x);
	nanosleep(&pause, NULL);
	diff = (int64_t)(guest_pvclock_now() - xen_system_time_ns(&x));
	ck_assert_msg(diff > -1000000 && diff < 1000, "pvclock - system time = %lld ns", (long long)diff);
}
END_TEST

/* A deadline 50 ms ahead in system time is about 50 ms ahead on the host's
 * CLOCK_MONOTONIC (the rates differ only as much as tsc_khz is off); one in
 * the past is now. */
START_TEST(deadline_to_host_clock)
{
	struct timespec now, at;
	int64_t ahead;

	clock_gettime(CLOCK_MONOTONIC, &now);
	at = xen_time_to_monotonic(&x, xen_system_time_ns(&x) + 50000000);
	ahead = (at.tv_sec - now.tv_sec) * 1000000000LL + (at.tv_nsec - now.tv_nsec);
	ck_assert_msg(ahead > 49000000 && ahead < 60000000, "ahead %lld ns", (long long)ahead);
	at = xen_time_to_monotonic(&x, 1);
	ahead = (at.tv_sec - now.tv_sec) * 1000000000LL + (at.tv_nsec - now.tv_nsec);
	ck_assert_msg(ahead >= 0 && ahead < 10000000, "past deadline %lld ns ahead", (long long)ahead);
}
END_TEST

/* common/domain.c: an HVM guest may switch only the runstate update flag. */
START_TEST(vm_assist_only_the_runstate_flag)
{
	ck_assert_int_eq(call(_i, __HYPERVISOR_vm_assist, VMASST_CMD_enable, 0, 0), -XEN_EINVAL);
	ck_assert_int_eq(call(_i, __HYPERVISOR_vm_assist, VMASST_CMD_enable, 32, 0), -XEN_EINVAL);
	ck_assert_int_eq(call(_i, __HYPERVISOR_vm_assist, 9, VMASST_TYPE_runstate_update_flag, 0),
			 -XEN_ENOSYS);
	ck_assert_int_eq(call(_i, __HYPERVISOR_vm_assist, VMASST_CMD_enable,
			      VMASST_TYPE_runstate_update_flag, 0),
			 0);
	ck_assert_uint_eq(x.vm_assist, 1u << VMASST_TYPE_runstate_update_flag);
	ck_assert_int_eq(call(_i, __HYPERVISOR_vm_assist, VMASST_CMD_disable,
			      VMASST_TYPE_runstate_update_flag, 0),
			 0);
	ck_assert_uint_eq(x.vm_assist, 0);
}
END_TEST

START_TEST(multicall_writes_each_result)
{
	uint64_t v = 0x1234;

	x.params[HVM_PARAM_CALLBACK_IRQ] = 0xf3;
	hvm_param(_i, HVMOP_get_param, DOMID_SELF, HVM_PARAM_CALLBACK_IRQ, &v); /* places ARG */
	put_entry(_i, 0, __HYPERVISOR_xen_version, XENVER_version, 0);
	put_entry(_i, 1, __HYPERVISOR_xen_version, XENVER_pagesize, BUF);
	put_entry(_i, 2, __HYPERVISOR_hvm_op, HVMOP_set_param, ARG);
	put_entry(_i, 3, __HYPERVISOR_physdev_op, 0, 0);
	ck_assert_int_eq(multicall(_i, LIST, 4), 0);
	ck_assert_int_eq(entry_result(_i, 0), 0x40011);
	ck_assert_int_eq(entry_result(_i, 1), -XEN_EINVAL);
	ck_assert_int_eq(entry_result(_i, 2), 0);
	ck_assert_int_eq(entry_result(_i, 3), -XEN_ENOSYS);
	ck_assert_uint_eq(x.params[HVM_PARAM_CALLBACK_IRQ], 0xf3);
}
END_TEST

/* The op and arguments are left as the guest wrote them. */
START_TEST(multicall_only_writes_the_result_field)
{
	size_t size = _i ? sizeof(multicall_entry_t) : sizeof(struct compat_multicall_entry);
	uint8_t before[sizeof(multicall_entry_t)], after[sizeof(multicall_entry_t)];
	size_t result_off = _i ? offsetof(multicall_entry_t, result)
			       : offsetof(struct compat_multicall_entry, result);
	size_t result_size = _i ? 8 : 4;

	put_entry(_i, 0, __HYPERVISOR_xen_version, XENVER_pagesize, BUF);
	get(LIST, before, size);
	ck_assert_int_eq(multicall(_i, LIST, 1), 0);
	ck_assert_int_eq(entry_result(_i, 0), -XEN_EINVAL);
	get(LIST, after, size);
	ck_assert_mem_eq(after, before, result_off);
	ck_assert_mem_eq(after + result_off + result_size, before + result_off + result_size,
			 size - result_off - result_size);
}
END_TEST

START_TEST(multicall_nested_is_einval)
{
	put_entry(_i, 0, __HYPERVISOR_xen_version, XENVER_version, 0);
	put_entry(_i, 1, __HYPERVISOR_multicall, LIST, 1);
	put_entry(_i, 2, __HYPERVISOR_xen_version, XENVER_pagesize, 0);
	ck_assert_int_eq(multicall(_i, LIST, 3), 0);
	ck_assert_int_eq(entry_result(_i, 0), 0x40011);
	ck_assert_int_eq(entry_result(_i, 1), -XEN_EINVAL);
	ck_assert_int_eq(entry_result(_i, 2), 4096);
}
END_TEST

START_TEST(multicall_bad_list_is_efault)
{
	ck_assert_int_eq(multicall(_i, BAD_GVA, 1), -XEN_EFAULT);
}
END_TEST

/* The entries before the one that faults are done and their results written. */
START_TEST(multicall_list_running_off_ram)
{
	size_t size = _i ? sizeof(multicall_entry_t) : sizeof(struct compat_multicall_entry);
	uint64_t list = RAM_SIZE - size;
	multicall_entry_t e = { .op = __HYPERVISOR_xen_version, .result = MC_UNTOUCHED,
				.args = { XENVER_version } };
	struct compat_multicall_entry c = { .op = __HYPERVISOR_xen_version,
					    .result = MC_UNTOUCHED, .args = { XENVER_version } };

	if (_i)
		put(list, &e, sizeof(e));
	else
		put(list, &c, sizeof(c));
	ck_assert_int_eq(multicall(_i, list, 2), -XEN_EFAULT);
	if (_i) {
		get(list, &e, sizeof(e));
		ck_assert_uint_eq(e.result, 0x40011);
	} else {
		get(list, &c, sizeof(c));
		ck_assert_uint_eq(c.result, 0x40011);
	}
}
END_TEST

START_TEST(multicall_compat_results_are_32_bits)
{
	struct compat_multicall_entry e[2];

	put_entry(0, 0, __HYPERVISOR_xen_version, XENVER_pagesize, BUF);
	put_entry(0, 1, __HYPERVISOR_xen_version, XENVER_version, 0);
	ck_assert_int_eq(multicall(0, LIST, 2), 0);
	get(LIST, e, sizeof(e));
	ck_assert_uint_eq(e[0].result, (uint32_t)-XEN_EINVAL);
	ck_assert_uint_eq(e[1].result, 0x40011);
	ck_assert_uint_eq(e[1].op, __HYPERVISOR_xen_version); /* 32 bytes apart, not 64 */
}
END_TEST

START_TEST(multicall_shutdown_ends_the_batch)
{
	struct sched_shutdown s = { .reason = SHUTDOWN_reboot };

	put(ARG, &s, sizeof(s));
	put_entry(_i, 0, __HYPERVISOR_sched_op, SCHEDOP_shutdown, ARG);
	put_entry(_i, 1, __HYPERVISOR_xen_version, XENVER_version, 0);
	ck_assert_int_eq(multicall(_i, LIST, 2), 0);
	ck_assert_int_eq(entry_result(_i, 0), 0);
	ck_assert_int_eq(entry_result(_i, 1), MC_UNTOUCHED);
	ck_assert_int_eq(vm.exit_status, EXIT_REBOOT);
}
END_TEST

/* ---- sched_op: shutdown ---- */

static long shutdown(int abi64, uint64_t cmd, uint32_t reason)
{
	struct sched_shutdown s = { .reason = reason };

	put(ARG, &s, sizeof(s));
	return call(abi64, __HYPERVISOR_sched_op, cmd, ARG, 0);
}

static void assert_stopped_with(int status)
{
	uint64_t n = 0;

	ck_assert_int_eq(vm.stopping, 1);
	ck_assert_int_eq(vm.exit_status, status);
	ck_assert_int_eq(read(vm.stop_efd, &n, sizeof(n)), sizeof(n));
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(vm.vcpus[0].run->immediate_exit, 1);
}

START_TEST(shutdown_code_then_shutdown)
{
	ck_assert_int_eq(shutdown(_i, SCHEDOP_shutdown_code, SHUTDOWN_reboot), 0);
	ck_assert_int_eq(vm.stopping, 0);
	ck_assert_int_eq(shutdown(_i, SCHEDOP_shutdown, SHUTDOWN_poweroff), 0);
	assert_stopped_with(EXIT_REBOOT);
}
END_TEST

START_TEST(shutdown_first_code_wins)
{
	ck_assert_int_eq(shutdown(_i, SCHEDOP_shutdown_code, SHUTDOWN_watchdog), 0);
	ck_assert_int_eq(shutdown(_i, SCHEDOP_shutdown_code, SHUTDOWN_reboot), 0);
	ck_assert_int_eq(shutdown(_i, SCHEDOP_shutdown, SHUTDOWN_poweroff), 0);
	assert_stopped_with(EXIT_WATCHDOG);
}
END_TEST

/* _i is the reason; run once per reason, each in a fresh VM. */
START_TEST(shutdown_reason_maps_to_exit_status)
{
	static const int status[] = { EXIT_POWEROFF, EXIT_REBOOT, EXIT_SUSPEND,
				      EXIT_CRASH,    EXIT_WATCHDOG, EXIT_SOFT_RESET };

	ck_assert_int_eq(shutdown(1, SCHEDOP_shutdown, (uint32_t)_i), 0);
	assert_stopped_with(status[_i]);
}
END_TEST

START_TEST(shutdown_unknown_reason_is_a_crash)
{
	ck_assert_int_eq(shutdown(1, SCHEDOP_shutdown, SHUTDOWN_MAX + 1), 0);
	assert_stopped_with(EXIT_CRASH);
}
END_TEST

START_TEST(shutdown_reason_is_a_byte)
{
	ck_assert_int_eq(shutdown(1, SCHEDOP_shutdown, 0x100 | SHUTDOWN_reboot), 0);
	assert_stopped_with(EXIT_REBOOT);
}
END_TEST

START_TEST(shutdown_bad_pointer_is_efault)
{
	ck_assert_int_eq(call(_i, __HYPERVISOR_sched_op, SCHEDOP_shutdown, BAD_GVA, 0), -XEN_EFAULT);
	ck_assert_int_eq(call(_i, __HYPERVISOR_sched_op, SCHEDOP_shutdown_code, BAD_GVA, 0),
			 -XEN_EFAULT);
	ck_assert_int_eq(vm.stopping, 0);
	ck_assert_int_eq(x.shutdown_code, -1);
}
END_TEST

/* ---- console_io ---- */

static long console_io(int abi64, uint64_t cmd, uint64_t count, uint64_t buffer)
{
	return call(abi64, __HYPERVISOR_console_io, cmd, count, buffer);
}

START_TEST(console_write_reaches_the_console)
{
	char out[64];

	put(BUF, "hello, xen\n", 11);
	ck_assert_int_eq(console_io(_i, CONSOLEIO_write, 11, BUF), 0);
	ck_assert_uint_eq(console_output(out, sizeof(out)), 11);
	ck_assert_mem_eq(out, "hello, xen\n", 11);
}
END_TEST

/* Chunks before the fault are printed, as Xen does. */
START_TEST(console_write_fault_keeps_earlier_chunks)
{
	char out[512];

	memset(gptr(RAM_SIZE - 150, 150), 'x', 150);
	ck_assert_int_eq(console_io(_i, CONSOLEIO_write, 200, RAM_SIZE - 150), -XEN_EFAULT);
	ck_assert_uint_eq(console_output(out, sizeof(out)), 128);
}
END_TEST

START_TEST(console_read_takes_queued_input)
{
	char got[8];

	ck_assert_uint_eq(console_input(&con, "abc", 3), 3);
	ck_assert_int_eq(console_io(_i, CONSOLEIO_read, 2, BUF), 2);
	get(BUF, got, 2);
	ck_assert_mem_eq(got, "ab", 2);
	ck_assert_int_eq(console_io(_i, CONSOLEIO_read, 10, BUF), 1);
	get(BUF, got, 1);
	ck_assert_mem_eq(got, "c", 1);
	ck_assert_int_eq(console_io(_i, CONSOLEIO_read, 10, BUF), 0);
}
END_TEST

START_TEST(console_read_count_with_bit31_is_e2big)
{
	ck_assert_uint_eq(console_input(&con, "abc", 3), 3);
	ck_assert_int_eq(console_io(_i, CONSOLEIO_read, 0x80000000ULL, BUF), -XEN_E2BIG);
	ck_assert_int_eq(console_io(_i, CONSOLEIO_read, 0xffffffffULL, BUF), -XEN_E2BIG);
	ck_assert_int_eq(console_io(_i, CONSOLEIO_read, 10, BUF), 3);
}
END_TEST

/* A read into a bad buffer loses nothing and keeps the input in order. */
START_TEST(console_read_bad_buffer_keeps_input)
{
	char got[16] = "";

	ck_assert_uint_eq(console_input(&con, "hello world", 11), 11);
	ck_assert_int_eq(console_io(_i, CONSOLEIO_read, 5, BAD_GVA), -XEN_EFAULT);
	ck_assert_int_eq(console_io(_i, CONSOLEIO_read, 16, BUF), 11);
	get(BUF, got, 11);
	ck_assert_str_eq(got, "hello world");
}
END_TEST

static Suite *hypercall_suite(void)
{
	Suite *s = suite_create("hypercall");
	TCase *disp = tcase_create("dispatch"), *ver = tcase_create("xen_version");
	TCase *hvm = tcase_create("hvm_op"), *mem = tcase_create("memory_op");
	TCase *mc = tcase_create("multicall"), *sched = tcase_create("sched_op");
	TCase *cons = tcase_create("console_io");

	/* Loop tests take _i as the ABI: 0 for 32-bit, 1 for 64-bit. */
	tcase_add_checked_fixture(disp, setup, teardown);
	tcase_add_loop_test(disp, user_mode_is_refused, 0, 2);
	tcase_add_test(disp, nonexistent_hypercalls_are_enosys);
	tcase_add_loop_test(disp, vm_assist_only_the_runstate_flag, 0, 2);
	tcase_add_loop_test(disp, unimplemented_hypercalls_are_enosys, 0, 2);
	tcase_add_test(disp, abi32_ignores_upper_halves);
	tcase_add_test(disp, abi64_keeps_upper_halves);
	tcase_add_test(disp, pvclock_is_xen_system_time);
	tcase_add_test(disp, deadline_to_host_clock);
	suite_add_tcase(s, disp);

	tcase_add_checked_fixture(ver, setup, teardown);
	tcase_add_loop_test(ver, version_value, 0, 2);
	tcase_add_loop_test(ver, version_pagesize_wants_null, 0, 2);
	tcase_add_loop_test(ver, version_extraversion_is_padded, 0, 2);
	tcase_add_loop_test(ver, version_get_features_submap0, 0, 2);
	tcase_add_loop_test(ver, version_get_features_submap1_is_einval, 0, 2);
	tcase_add_loop_test(ver, version_bad_pointer_is_efault, 0, 2);
	suite_add_tcase(s, ver);

	tcase_add_checked_fixture(hvm, setup, teardown);
	tcase_add_loop_test(hvm, hvm_param_index_out_of_range, 0, 2);
	tcase_add_loop_test(hvm, hvm_param_other_domain_is_esrch, 0, 2);
	tcase_add_loop_test(hvm, hvm_store_pfn_is_read_only, 0, 2);
	tcase_add_loop_test(hvm, hvm_toolstack_param_is_hidden, 0, 2);
	tcase_add_loop_test(hvm, hvm_callback_irq_round_trip, 0, 2);
	tcase_add_loop_test(hvm, hvm_x87_fip_width_values, 0, 2);
	tcase_add_loop_test(hvm, hvm_param_bad_pointer_is_efault, 0, 2);
	suite_add_tcase(s, hvm);

	tcase_add_checked_fixture(mem, setup, teardown);
	tcase_add_loop_test(mem, memory_map_is_truncated_to_the_buffer, 0, 2);
	tcase_add_loop_test(mem, memory_map_larger_buffer_gets_all, 0, 2);
	tcase_add_loop_test(mem, memory_map_without_a_map_is_enosys, 0, 2);
	tcase_add_loop_test(mem, memory_map_bad_pointers_are_efault, 0, 2);
	tcase_add_loop_test(mem, set_memory_map_replaces_the_map, 0, 2);
	tcase_add_loop_test(mem, set_memory_map_too_many_entries_is_einval, 0, 2);
	tcase_add_loop_test(mem, set_memory_map_other_domain_is_esrch, 0, 2);
	suite_add_tcase(s, mem);

	tcase_add_checked_fixture(mc, setup, teardown);
	tcase_add_loop_test(mc, multicall_writes_each_result, 0, 2);
	tcase_add_loop_test(mc, multicall_only_writes_the_result_field, 0, 2);
	tcase_add_loop_test(mc, multicall_nested_is_einval, 0, 2);
	tcase_add_loop_test(mc, multicall_bad_list_is_efault, 0, 2);
	tcase_add_loop_test(mc, multicall_list_running_off_ram, 0, 2);
	tcase_add_test(mc, multicall_compat_results_are_32_bits);
	tcase_add_loop_test(mc, multicall_shutdown_ends_the_batch, 0, 2);
	suite_add_tcase(s, mc);

	tcase_add_checked_fixture(sched, setup, teardown);
	tcase_add_loop_test(sched, shutdown_code_then_shutdown, 0, 2);
	tcase_add_loop_test(sched, shutdown_first_code_wins, 0, 2);
	tcase_add_loop_test(sched, shutdown_reason_maps_to_exit_status, 0, SHUTDOWN_MAX + 1);
	tcase_add_test(sched, shutdown_unknown_reason_is_a_crash);
	tcase_add_test(sched, shutdown_reason_is_a_byte);
	tcase_add_loop_test(sched, shutdown_bad_pointer_is_efault, 0, 2);
	suite_add_tcase(s, sched);

	tcase_add_checked_fixture(cons, setup, teardown);
	tcase_add_loop_test(cons, console_write_reaches_the_console, 0, 2);
	tcase_add_loop_test(cons, console_write_fault_keeps_earlier_chunks, 0, 2);
	tcase_add_loop_test(cons, console_read_takes_queued_input, 0, 2);
	tcase_add_loop_test(cons, console_read_count_with_bit31_is_e2big, 0, 2);
	tcase_add_loop_test(cons, console_read_bad_buffer_keeps_input, 0, 2);
	suite_add_tcase(s, cons);
	return s;
}

int main(void)
{
	log_threshold = LOG_ERROR; /* the bad calls made here are logged as warnings */
	return run_suite(hypercall_suite());
}
