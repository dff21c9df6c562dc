/* Unit tests for memory_op's reservation bookkeeping: frames given back and
 * taken again, the maximum, the counts Xen returns for bad input, both ABIs,
 * and the host side (the memfd's allocated blocks). No KVM: the VM and the
 * Xen state are built by hand, as in test_hypercall.c. _i selects the ABI in
 * loop tests: 0 is 32-bit (paging off), 1 is 64-bit (identity-mapped). */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <xen/xen.h>
#include <xen/memory.h>

#include "run_suite.h"
#include "xenkvm/compat32.h"
#include "xenkvm/hypercall.h"
#include "xenkvm/log.h"
#include "xenkvm/vm.h"
#include "xenkvm/xen.h"
#include "xenkvm/xenstore.h"

#include "guest_ram.h"

#define RAM_PAGES (RAM_SIZE / 4096)
#define ARG 0x10000ULL
#define LIST 0x20000ULL
#define BALLOON 0x800ULL /* gfn 8 MiB: 2 MiB aligned, unused here */



static void setup(void)
{
	memset(&vm, 0, sizeof(vm));
	memset(&x, 0, sizeof(x));
	ck_assert_int_eq(gmem_init(&vm.mem, RAM_SIZE, NULL, NULL), 0);
	x.vm = &vm;
	vm.xen = &x;
	x.shared_info_gfn = ~0ULL;
	pthread_mutex_init(&x.lock, NULL);
	identity_map();
}

static void teardown(void)
{
	gmem_destroy(&vm.mem);
}

static long memop(int abi64, uint64_t cmd, uint64_t arg)
{
	struct hcall hc = { .xen = &x, .mem = &vm.mem, .abi64 = abi64,
			    .nr = __HYPERVISOR_memory_op, .arg = { cmd, arg },
			    .pg = abi64 ? flat64 : flat32 };
	return hypercall_dispatch(&hc);
}

/* A reservation at ARG whose list (at LIST) holds gfns, in the ABI's layout. */
static void reservation(int abi64, const uint64_t *gfns, unsigned n, unsigned order,
			unsigned flags, domid_t domid)
{
	uint64_t list = gfns ? LIST : 0;

	for (unsigned i = 0; gfns && i < n; i++) {
		if (abi64) {
			put_u64(LIST + i * 8, gfns[i]);
		} else {
			uint32_t g = (uint32_t)gfns[i];
			put(LIST + i * 4, &g, 4);
		}
	}
	if (abi64) {
		struct xen_memory_reservation r = { .nr_extents = n, .extent_order = order,
						    .mem_flags = flags, .domid = domid };
		set_xen_guest_handle(r.extent_start, (xen_pfn_t *)(uintptr_t)list);
		put(ARG, &r, sizeof(r));
	} else {
		struct compat_memory_reservation r = { (uint32_t)list, n, order, flags, domid };
		put(ARG, &r, sizeof(r));
	}
}

static long current_pages(void)
{
	domid_t d = DOMID_SELF;
	put(ARG + 0x800, &d, sizeof(d));
	return memop(1, XENMEM_current_reservation, ARG + 0x800);
}

static long long memfd_kib(void)
{
	struct stat st;
	ck_assert_int_eq(fstat(vm.mem.memfd, &st), 0);
	return (long long)st.st_blocks / 2;
}

START_TEST(give_back_and_take_again)
{
	uint64_t gfns[4] = { BALLOON, BALLOON + 1, BALLOON + 7, BALLOON + 100 };
	uint8_t *p = gmem_ptr(&vm.mem, BALLOON << 12, 4096);
	long long before;

	for (unsigned i = 0; i < 4; i++)
		memset(gmem_ptr(&vm.mem, gfns[i] << 12, 4096), 0xab, 4096);
	reservation(_i, gfns, 4, 0, 0, DOMID_SELF);
	before = memfd_kib();
	ck_assert_int_eq(memop(_i, XENMEM_decrease_reservation, ARG), 4);
	ck_assert_int_eq(current_pages(), RAM_PAGES - 4);
	ck_assert_int_le(memfd_kib(), before - 16); /* the host has the pages back */
	ck_assert_ptr_null(gmem_ptr(&vm.mem, BALLOON << 12, 1));
	ck_assert(!gmem_is_ram(&vm.mem, (BALLOON + 7) << 12, 4096));
	ck_assert(gmem_is_ram(&vm.mem, (BALLOON + 2) << 12, 4096));
	/* Given back twice: nothing done. */
	ck_assert_int_eq(memop(_i, XENMEM_decrease_reservation, ARG), 0);
	ck_assert_int_eq(memop(_i, XENMEM_populate_physmap, ARG), 4);
	ck_assert_int_eq(current_pages(), RAM_PAGES);
	ck_assert_ptr_eq(gmem_ptr(&vm.mem, BALLOON << 12, 4096), p);
	for (unsigned i = 0; i < 4096; i++)
		ck_assert_int_eq(p[i], 0);
}
END_TEST

START_TEST(order_9_extents)
{
	uint64_t gfn = BALLOON;

	reservation(_i, &gfn, 1, 9, 0, DOMID_SELF);
	ck_assert_int_eq(memop(_i, XENMEM_decrease_reservation, ARG), 1);
	ck_assert_int_eq(current_pages(), RAM_PAGES - 512);
	ck_assert_ptr_null(gmem_ptr(&vm.mem, (BALLOON + 511) << 12, 1));
	ck_assert_ptr_nonnull(gmem_ptr(&vm.mem, (BALLOON + 512) << 12, 1));
	reservation(_i, &gfn, 1, 10, 0, DOMID_SELF);
	ck_assert_int_eq(memop(_i, XENMEM_populate_physmap, ARG), 0);
	reservation(_i, &gfn, 1, 9, XENMEMF_populate_on_demand, DOMID_SELF);
	ck_assert_int_eq(memop(_i, XENMEM_populate_physmap, ARG), 0);
	reservation(_i, &gfn, 1, 9, 0, DOMID_SELF);
	ck_assert_int_eq(memop(_i, XENMEM_populate_physmap, ARG), 1);
	ck_assert_int_eq(current_pages(), RAM_PAGES);
}
END_TEST

/* Xen frees frame by frame: an extent with a bad frame stops the walk but
 * the frames before it are gone. */
START_TEST(partial_extent_stops_the_walk)
{
	uint64_t gfns[2] = { BALLOON + 4, BALLOON };

	reservation(_i, &gfns[1], 1, 0, 0, DOMID_SELF);
	ck_assert_int_eq(memop(_i, XENMEM_decrease_reservation, ARG), 1);
	/* Extent 0 (order 2 at BALLOON+4) works; extent 1 covers BALLOON, given back. */
	reservation(_i, gfns, 2, 2, 0, DOMID_SELF);
	ck_assert_int_eq(memop(_i, XENMEM_decrease_reservation, ARG), 1);
	ck_assert_int_eq(current_pages(), RAM_PAGES - 5);
	/* Order 2 at BALLOON-1: BALLOON-1 goes, BALLOON stops it. */
	gfns[0] = BALLOON - 1;
	reservation(_i, gfns, 1, 2, 0, DOMID_SELF);
	ck_assert_int_eq(memop(_i, XENMEM_decrease_reservation, ARG), 0);
	ck_assert_int_eq(current_pages(), RAM_PAGES - 6);
}
END_TEST

START_TEST(populate_stops_at_the_maximum)
{
	uint64_t gfns[3] = { BALLOON, BALLOON + 1, BALLOON + 2 };

	reservation(_i, gfns, 3, 0, 0, DOMID_SELF);
	ck_assert_int_eq(memop(_i, XENMEM_decrease_reservation, ARG), 3);
	x.max_pages = RAM_PAGES - 1;
	ck_assert_int_eq(memop(_i, XENMEM_populate_physmap, ARG), 2);
	ck_assert_int_eq(current_pages(), RAM_PAGES - 1);
	/* Populating a frame that holds memory costs a page too (Xen keeps the old one). */
	x.max_pages = RAM_PAGES + 1;
	reservation(_i, gfns, 2, 0, 0, DOMID_SELF);
	ck_assert_int_eq(memop(_i, XENMEM_populate_physmap, ARG), 2);
	ck_assert_int_eq(current_pages(), RAM_PAGES + 1);
	ck_assert_int_eq(memop(_i, XENMEM_increase_reservation, ARG), 0);
	x.max_pages = RAM_PAGES + 3;
	reservation(_i, NULL, 5, 0, 0, DOMID_SELF);
	ck_assert_int_eq(memop(_i, XENMEM_increase_reservation, ARG), 2);
	ck_assert_int_eq(current_pages(), RAM_PAGES + 3);
}
END_TEST

START_TEST(bad_input_returns_the_start_extent)
{
	uint64_t gfn = BALLOON;

	ck_assert_int_eq(memop(_i, XENMEM_decrease_reservation, 0xfffff000ULL), 0);
	reservation(_i, &gfn, 1, 0, 0, 0);
	ck_assert_int_eq(memop(_i, XENMEM_decrease_reservation, ARG), 0);
	reservation(_i, &gfn, 1, 0, 0, 9);
	ck_assert_int_eq(memop(_i, XENMEM_decrease_reservation, ARG), 0);
	reservation(_i, &gfn, 1, 10, 0, DOMID_SELF);
	ck_assert_int_eq(memop(_i, XENMEM_decrease_reservation, ARG), 0);
	reservation(_i, &gfn, 1, 0, 12, DOMID_SELF); /* address_bits 12 */
	ck_assert_int_eq(memop(_i, XENMEM_decrease_reservation, ARG), 0);
	reservation(_i, NULL, 4, 0, 0, DOMID_SELF);
	ck_assert_int_eq(memop(_i, XENMEM_decrease_reservation | (7 << 6), ARG), 7);
	/* A list beyond RAM: nothing read, nothing done. */
	reservation(_i, &gfn, 1, 0, 0, DOMID_SELF);
	if (_i) {
		put_u64(ARG, 0xf0000000ULL);
	} else {
		uint32_t bad = 0xf0000000U;
		put(ARG, &bad, 4);
	}
	ck_assert_int_eq(memop(_i, XENMEM_decrease_reservation, ARG), 0);
	ck_assert_int_eq(current_pages(), RAM_PAGES);
}
END_TEST

START_TEST(queries)
{
	domid_t d = 0;

	put(ARG, &d, sizeof(d));
	ck_assert_int_eq(memop(_i, XENMEM_current_reservation, ARG), -XEN_EPERM);
	d = 5;
	put(ARG, &d, sizeof(d));
	ck_assert_int_eq(memop(_i, XENMEM_maximum_reservation, ARG), -XEN_ESRCH);
	d = XENKVM_DOMID;
	put(ARG, &d, sizeof(d));
	ck_assert_int_eq(memop(_i, XENMEM_maximum_reservation, ARG), RAM_PAGES);
	ck_assert_int_ge(memop(_i, XENMEM_maximum_gpfn, ARG), 0xfefff);
	ck_assert_int_eq(memop(_i, XENMEM_maximum_gpfn | (1 << 6), ARG), -XEN_EINVAL);
	ck_assert_int_eq(memop(_i, XENMEM_current_reservation, 0xfffff000ULL), -XEN_EFAULT);
	ck_assert_int_gt(memop(_i, XENMEM_maximum_ram_page, 0), 0);
	ck_assert_int_eq(memop(_i, 18, 0), -XEN_ENOSYS);
}
END_TEST

START_TEST(remove_and_move_frames)
{
	struct xen_remove_from_physmap r = { .domid = DOMID_SELF, .gpfn = BALLOON };
	struct compat_remove_from_physmap rc32 = { .domid = DOMID_SELF, .gpfn = BALLOON };
	struct xen_add_to_physmap a = { .domid = DOMID_SELF, .space = XENMAPSPACE_gmfn,
					.idx = BALLOON + 1, .gpfn = BALLOON };
	struct compat_add_to_physmap a32 = { .domid = DOMID_SELF, .space = XENMAPSPACE_gmfn,
					     .idx = BALLOON + 1, .gpfn = BALLOON };

	if (_i)
		put(ARG, &r, sizeof(r));
	else
		put(ARG, &rc32, sizeof(rc32));
	ck_assert_int_eq(memop(_i, XENMEM_remove_from_physmap, ARG), 0);
	ck_assert_int_eq(memop(_i, XENMEM_remove_from_physmap, ARG), -XEN_ENOENT);
	ck_assert_int_eq(current_pages(), RAM_PAGES);
	memset(gmem_ptr(&vm.mem, (BALLOON + 1) << 12, 4096), 0x5c, 4096);
	if (_i)
		put(ARG, &a, sizeof(a));
	else
		put(ARG, &a32, sizeof(a32));
	ck_assert_int_eq(memop(_i, XENMEM_add_to_physmap, ARG), 0);
	ck_assert_int_eq(*(uint8_t *)gmem_ptr(&vm.mem, (BALLOON << 12) + 4095, 1), 0x5c);
	ck_assert_ptr_null(gmem_ptr(&vm.mem, (BALLOON + 1) << 12, 1));
	ck_assert_int_eq(memop(_i, XENMEM_add_to_physmap, ARG), -XEN_EINVAL);
	ck_assert_int_eq(memop(_i, XENMEM_add_to_physmap | (1ULL << 22), ARG), -XEN_EDOM);
	ck_assert_int_eq(current_pages(), RAM_PAGES);
}
END_TEST

START_TEST(exchange_compat)
{
	uint32_t in[2] = { BALLOON, BALLOON + 1 }, out = BALLOON + 64;
	struct compat_memory_exchange e = {
		.in = { (uint32_t)LIST, 2, 0, 0, DOMID_SELF },
		.out = { (uint32_t)LIST + 8, 1, 1, 0, DOMID_SELF },
	};

	put(LIST, in, sizeof(in));
	put(LIST + 8, &out, sizeof(out));
	put(ARG, &e, sizeof(e));
	ck_assert_int_eq(memop(0, XENMEM_exchange, ARG), 0);
	ck_assert_int_eq(*(uint32_t *)gmem_ptr(&vm.mem, ARG + offsetof(struct compat_memory_exchange,
									 nr_exchanged), 4), 2);
	ck_assert_ptr_null(gmem_ptr(&vm.mem, BALLOON << 12, 1));
	ck_assert_int_eq(current_pages(), RAM_PAGES); /* the old pages at out stay counted */
	e.out.nr_extents = 2;
	put(ARG, &e, sizeof(e));
	ck_assert_int_eq(memop(0, XENMEM_exchange, ARG), -XEN_EINVAL);
	e.out.nr_extents = 1;
	e.nr_exchanged = 0;
	put(ARG, &e, sizeof(e));
	/* The inputs are empty now: -EINVAL and nothing exchanged. */
	ck_assert_int_eq(memop(0, XENMEM_exchange, ARG), -XEN_EINVAL);
}
END_TEST

START_TEST(memory_target)
{
	struct xenstore *xs = xs_create(XENKVM_DOMID, NULL);

	ck_assert_int_eq(xen_set_memory_target(&x, 1024), ENOENT);
	x.xs = xs;
	ck_assert_int_eq(xen_set_memory_target(&x, RAM_SIZE / 1024 + 4), EINVAL);
	ck_assert_int_eq(xen_set_memory_target(&x, 8192), 0);
	ck_assert_int_eq(xs_read_int(xs, "/local/domain/1/memory/target", -1), 8192);
	xs_destroy(xs);
}
END_TEST

static Suite *memory_suite(void)
{
	Suite *s = suite_create("memory");
	TCase *t = tcase_create("reservation");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_loop_test(t, give_back_and_take_again, 0, 2);
	tcase_add_loop_test(t, order_9_extents, 0, 2);
	tcase_add_loop_test(t, partial_extent_stops_the_walk, 0, 2);
	tcase_add_loop_test(t, populate_stops_at_the_maximum, 0, 2);
	tcase_add_loop_test(t, bad_input_returns_the_start_extent, 0, 2);
	tcase_add_loop_test(t, queries, 0, 2);
	tcase_add_loop_test(t, remove_and_move_frames, 0, 2);
	tcase_add_test(t, exchange_compat);
	tcase_add_test(t, memory_target);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	log_threshold = LOG_ERROR;
	return run_suite(memory_suite());
}
