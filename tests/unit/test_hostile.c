/* Regression tests for what the fuzzers found (tests/fuzz): hypercall
 * sequences of a hostile guest that crashed xenkvm. Each test replays one
 * through hypercall_dispatch() on a VM built by hand (no KVM), checks the
 * Xen answer, and that the VM keeps serving. The same inputs are replayed
 * by the fuzz harness (tests/fuzz/regressions/). */
#include <check.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xen/xen.h>
#include <xen/grant_table.h>
#include <xen/memory.h>
#include <xen/vcpu.h>
#include <xen/version.h>
#include <xen/hvm/params.h>

#include "run_suite.h"
#include "xenkvm/console.h"
#include "xenkvm/gnttab.h"
#include "xenkvm/hypercall.h"
#include "xenkvm/log.h"
#include "xenkvm/vm.h"
#include "xenkvm/xen.h"

#include "guest_ram.h"

#define ARG 0x10000ULL
#define ARG2 0x11000ULL
#define GRANT_GFN 0x200ULL  /* grant frame 0, placed over RAM */
#define HOLE_GFN 0x2000ULL  /* 32 MiB: past RAM, a hole */
#define PAGE_A 0x300000ULL  /* a RAM page to copy into */


static struct console con;
static int null_fd;

static void setup(void)
{
	null_fd = open("/dev/null", O_WRONLY);
	xen_fixture_setup(&con, null_fd);
	ck_assert_int_eq(gnttab_create(&x.gnttab, &vm.mem, GNTTAB_DEFAULT_MAX_FRAMES, 0xfeff8,
				       0xfeffb),
			 0);
}

static void teardown(void)
{
	gnttab_destroy(x.gnttab);
	xen_fixture_teardown(&con);
	close(null_fd);
}

static long call(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2)
{
	struct hcall hc = { .xen = &x, .mem = &vm.mem, .abi64 = 1, .nr = nr,
			    .arg = { a0, a1, a2 }, .pg = flat64 };

	return hypercall_dispatch(&hc);
}

static long add_to_physmap(unsigned space, uint64_t idx, uint64_t gfn)
{
	struct xen_add_to_physmap a = { .domid = DOMID_SELF, .space = space, .idx = idx,
					.gpfn = gfn };

	put(ARG, &a, sizeof(a));
	return call(__HYPERVISOR_memory_op, XENMEM_add_to_physmap, ARG, 0);
}

/* Still serving: a call that needs nothing but the dispatcher. */
static void assert_serving(void)
{
	ck_assert_int_eq(call(__HYPERVISOR_xen_version, XENVER_version, 0, 0),
			 (XENKVM_XEN_MAJOR << 16) | XENKVM_XEN_MINOR);
}

/* Found by fuzz_hypercall: a secondary time area registered in shared_info's
 * frame (in a hole), then shared_info moved away: the next pvclock update
 * wrote through a NULL pointer. Xen writes it only while it resolves. */
START_TEST(time_area_in_a_frame_that_leaves)
{
	struct vcpu_register_time_memory_area area = { .addr.p = (HOLE_GFN << 12) + 0x800 };

	ck_assert_int_eq(add_to_physmap(XENMAPSPACE_shared_info, 0, HOLE_GFN), 0);
	put(ARG2, &area, sizeof(area));
	ck_assert_int_eq(call(__HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_time_memory_area, 0, ARG2),
			 0);
	ck_assert_int_eq(add_to_physmap(XENMAPSPACE_shared_info, 0, HOLE_GFN + 1), 0);
	xen_time_update_shared_info(&x);
	assert_serving();
}
END_TEST

/* Found by fuzz_hypercall: a grant of a frame in a hole (shared_info's),
 * pinned by the guest's own map_grant_ref, then the frame moved away; a
 * GNTTABOP_copy through the still-pinned entry copied from NULL. It gets
 * GNTST_bad_page, and the pin it took is dropped again. */
START_TEST(grant_copy_from_a_frame_that_left)
{
	grant_entry_v1_t e = { .flags = GTF_permit_access, .domid = XENKVM_DOMID,
			       .frame = (uint32_t)HOLE_GFN };
	struct gnttab_map_grant_ref map = { .host_addr = (HOLE_GFN + 8) << 12,
					    .flags = GNTMAP_host_map, .ref = 10,
					    .dom = XENKVM_DOMID };
	struct gnttab_copy copy = { .source = { .u.ref = 10, .domid = DOMID_SELF },
				    .dest = { .u.gmfn = PAGE_A >> 12, .domid = DOMID_SELF },
				    .len = 64, .flags = GNTCOPY_source_gref };
	struct gnttab_unmap_grant_ref unmap;

	ck_assert_int_eq(add_to_physmap(XENMAPSPACE_shared_info, 0, HOLE_GFN), 0);
	ck_assert_int_eq(add_to_physmap(XENMAPSPACE_grant_table, 0, GRANT_GFN), 0);
	put((GRANT_GFN << 12) + 10 * sizeof(e), &e, sizeof(e));
	put(ARG2, &map, sizeof(map));
	ck_assert_int_eq(call(__HYPERVISOR_grant_table_op, GNTTABOP_map_grant_ref, ARG2, 1), 0);
	memcpy(&map, gptr(ARG2, sizeof(map)), sizeof(map));
	ck_assert_int_eq(map.status, GNTST_okay);
	ck_assert_int_eq(add_to_physmap(XENMAPSPACE_shared_info, 0, HOLE_GFN + 1), 0);

	put(ARG2, &copy, sizeof(copy));
	ck_assert_int_eq(call(__HYPERVISOR_grant_table_op, GNTTABOP_copy, ARG2, 1), 0);
	memcpy(&copy, gptr(ARG2, sizeof(copy)), sizeof(copy));
	ck_assert_int_eq(copy.status, GNTST_bad_page);

	/* The guest's own mapping is still there to undo. */
	unmap = (struct gnttab_unmap_grant_ref){ .host_addr = map.host_addr,
						 .handle = map.handle };
	put(ARG2, &unmap, sizeof(unmap));
	ck_assert_int_eq(call(__HYPERVISOR_grant_table_op, GNTTABOP_unmap_grant_ref, ARG2, 1), 0);
	memcpy(&unmap, gptr(ARG2, sizeof(unmap)), sizeof(unmap));
	ck_assert_int_eq(unmap.status, GNTST_okay);
	assert_serving();
}
END_TEST

static Suite *hostile_suite(void)
{
	Suite *s = suite_create("hostile");
	TCase *tc = tcase_create("fuzz-found");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, time_area_in_a_frame_that_leaves);
	tcase_add_test(tc, grant_copy_from_a_frame_that_left);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	log_threshold = LOG_ERROR;
	return run_suite(hostile_suite());
}
