/* Unit tests for grant tables: grant_table_op driven through
 * hypercall_dispatch() with its arguments in memfd guest RAM (paging off
 * for the 32-bit ABI, an identity map for the 64-bit one), add_to_physmap
 * of grant frames, and the backend API, including from several threads.
 * Loop tests run with _i = 0 (32-bit ABI) and _i = 1 (64-bit ABI). */
#include <check.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <xen/xen.h>
#include <xen/grant_table.h>
#include <xen/memory.h>

#include "run_suite.h"
#include "xenkvm/compat32.h"
#include "xenkvm/gnttab.h"
#include "xenkvm/hypercall.h"
#include "xenkvm/log.h"
#include "xenkvm/vm.h"
#include "xenkvm/xen.h"

#include "guest_ram.h"

#define ARG 0x10000ULL      /* a call's argument struct(s) */
#define BUF 0x20000ULL      /* a frame list */
#define PAGE_A 0x40000ULL   /* pages granted and copied */
#define PAGE_B 0x41000ULL
#define MAPPED 0x50000ULL   /* where the guest maps its own grant */
#define BAD_GVA 0x80000000ULL
#define HOLE_GFN 0xd0000ULL /* in the MMIO hole: no RAM there */


/* ---- guest memory and calls ---- */


static void setup(void)
{
	memset(&vm, 0, sizeof(vm));
	memset(&x, 0, sizeof(x));
	ck_assert_int_eq(gmem_init(&vm.mem, RAM_SIZE, NULL, NULL), 0);
	x.vm = &vm;
	vm.xen = &x;
	pthread_mutex_init(&x.lock, NULL);
	/* Seed the reserved entries with RAM frames so backends can map them. */
	ck_assert_int_eq(gnttab_create(&x.gnttab, &vm.mem, GNTTAB_DEFAULT_MAX_FRAMES,
				       PAGE_A >> 12, PAGE_B >> 12),
			 0);
	identity_map();
}

static void teardown(void)
{
	gnttab_destroy(x.gnttab);
	gmem_destroy(&vm.mem);
}

static long gnttab_call(int abi64, uint64_t cmd, uint64_t uop, uint64_t count)
{
	struct hcall hc = { .xen = &x, .mem = &vm.mem, .abi64 = abi64,
			    .nr = __HYPERVISOR_grant_table_op, .arg = { cmd, uop, count },
			    .pg = abi64 ? flat64 : flat32 };
	return hypercall_dispatch(&hc);
}

static long add_grant_frame(int abi64, uint64_t idx, uint64_t gfn)
{
	struct hcall hc = { .xen = &x, .mem = &vm.mem, .abi64 = abi64,
			    .nr = __HYPERVISOR_memory_op, .arg = { XENMEM_add_to_physmap, ARG },
			    .pg = abi64 ? flat64 : flat32 };
	if (abi64) {
		struct xen_add_to_physmap a = { .domid = DOMID_SELF,
						.space = XENMAPSPACE_grant_table,
						.idx = idx, .gpfn = gfn };
		put(ARG, &a, sizeof(a));
	} else {
		struct compat_add_to_physmap a = { .domid = DOMID_SELF,
						   .space = XENMAPSPACE_grant_table,
						   .idx = (uint32_t)idx, .gpfn = (uint32_t)gfn };
		put(ARG, &a, sizeof(a));
	}
	return hypercall_dispatch(&hc);
}

static int16_t query_size(int abi64, domid_t dom, struct gnttab_query_size *out)
{
	struct gnttab_query_size q = { .dom = dom, .status = 99 };

	put(ARG, &q, sizeof(q));
	ck_assert_int_eq(gnttab_call(abi64, GNTTABOP_query_size, ARG, 1), 0);
	get(ARG, out, sizeof(*out));
	return out->status;
}

static long set_version(int abi64, uint32_t v, uint32_t *now)
{
	struct gnttab_set_version op = { .version = v };
	long rc;

	put(ARG, &op, sizeof(op));
	rc = gnttab_call(abi64, GNTTABOP_set_version, ARG, 1);
	get(ARG, &op, sizeof(op));
	*now = op.version;
	return rc;
}

/* Entry ref of the v1 table, through the frame mapped at gfn. */
static grant_entry_v1_t *v1_entry(uint64_t gfn, grant_ref_t ref)
{
	return (grant_entry_v1_t *)gptr(gfn << 12, 4096) + ref;
}

/* ---- query_size, versions ---- */

START_TEST(query_size_reports_frames_and_limit)
{
	struct gnttab_query_size q;

	ck_assert_int_eq(query_size(_i, DOMID_SELF, &q), GNTST_okay);
	ck_assert_uint_eq(q.nr_frames, 1);
	ck_assert_uint_eq(q.max_nr_frames, GNTTAB_DEFAULT_MAX_FRAMES);
	ck_assert_int_eq(query_size(_i, XENKVM_DOMID, &q), GNTST_okay);
	ck_assert_int_eq(query_size(_i, 0, &q), GNTST_permission_denied);
	ck_assert_int_eq(query_size(_i, 7, &q), GNTST_bad_domain);
	ck_assert_int_eq(query_size(_i, DOMID_IO, &q), GNTST_bad_domain);
}
END_TEST

START_TEST(query_size_bad_count_and_pointer)
{
	ck_assert_int_eq(gnttab_call(_i, GNTTABOP_query_size, ARG, 0), -XEN_EINVAL);
	ck_assert_int_eq(gnttab_call(_i, GNTTABOP_query_size, ARG, 2), -XEN_EINVAL);
	ck_assert_int_eq(gnttab_call(_i, GNTTABOP_query_size, ARG, 0x80000000u), -XEN_EINVAL);
	ck_assert_int_eq(gnttab_call(_i, GNTTABOP_query_size, ARG, 0xffffffffu), -XEN_EINVAL);
	ck_assert_int_eq(gnttab_call(_i, GNTTABOP_query_size, BAD_GVA, 1), -XEN_EFAULT);
}
END_TEST

START_TEST(sub_ops_hvm_guests_cannot_use_are_enosys)
{
	static const uint32_t cmds[] = { GNTTABOP_dump_table,       GNTTABOP_transfer,
					 GNTTABOP_unmap_and_replace, GNTTABOP_get_status_frames,
					 GNTTABOP_cache_flush,      13,
					 0x1000 | GNTTABOP_query_size, 0xffffffffu };

	for (unsigned i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		ck_assert_int_eq(gnttab_call(_i, cmds[i], ARG, 1), -XEN_ENOSYS);
}
END_TEST

START_TEST(cmd_and_count_are_32_bits)
{
	struct gnttab_query_size q = { .dom = DOMID_SELF };

	put(ARG, &q, sizeof(q));
	ck_assert_int_eq(gnttab_call(1, (1ULL << 32) | GNTTABOP_query_size, ARG, (1ULL << 32) | 1),
			 0);
	get(ARG, &q, sizeof(q));
	ck_assert_int_eq(q.status, GNTST_okay);
}
END_TEST

START_TEST(no_table_is_enosys)
{
	struct gnttab *gt = x.gnttab;

	x.gnttab = NULL;
	ck_assert_int_eq(gnttab_call(_i, GNTTABOP_query_size, ARG, 1), -XEN_ENOSYS);
	ck_assert_int_eq(add_grant_frame(_i, 0, HOLE_GFN), -XEN_ENOSYS);
	x.gnttab = gt;
}
END_TEST

START_TEST(set_and_get_version)
{
	struct gnttab_get_version gv = { .dom = DOMID_SELF };
	uint32_t now;

	ck_assert_int_eq(set_version(_i, 3, &now), -XEN_EINVAL);
	ck_assert_uint_eq(now, 1);
	ck_assert_int_eq(set_version(_i, 0, &now), -XEN_EINVAL);
	ck_assert_int_eq(set_version(_i, 1, &now), 0);
	ck_assert_int_eq(set_version(_i, 2, &now), 0);
	ck_assert_uint_eq(now, 2);
	put(ARG, &gv, sizeof(gv));
	ck_assert_int_eq(gnttab_call(_i, GNTTABOP_get_version, ARG, 1), 0);
	get(ARG, &gv, sizeof(gv));
	ck_assert_uint_eq(gv.version, 2);
	gv.dom = 0;
	put(ARG, &gv, sizeof(gv));
	ck_assert_int_eq(gnttab_call(_i, GNTTABOP_get_version, ARG, 1), -XEN_EPERM);
	gv.dom = 9;
	put(ARG, &gv, sizeof(gv));
	ck_assert_int_eq(gnttab_call(_i, GNTTABOP_get_version, ARG, 1), -XEN_ESRCH);
	ck_assert_int_eq(gnttab_call(_i, GNTTABOP_get_version, BAD_GVA, 1), -XEN_EFAULT);
	ck_assert_int_eq(gnttab_call(_i, GNTTABOP_set_version, BAD_GVA, 1), -XEN_EFAULT);
}
END_TEST

START_TEST(version_switch_keeps_reserved_entries)
{
	uint32_t now;
	grant_entry_v2_t *e2;

	ck_assert_int_eq(add_grant_frame(_i, 0, HOLE_GFN), 0);
	ck_assert_uint_eq(v1_entry(HOLE_GFN, GNTTAB_RESERVED_CONSOLE)->frame, PAGE_A >> 12);
	ck_assert_uint_eq(v1_entry(HOLE_GFN, GNTTAB_RESERVED_XENSTORE)->frame, PAGE_B >> 12);
	ck_assert_uint_eq(v1_entry(HOLE_GFN, 1)->flags, GTF_permit_access);
	*v1_entry(HOLE_GFN, 9) = (grant_entry_v1_t){ GTF_permit_access, 0, 0x42 };

	ck_assert_int_eq(set_version(_i, 2, &now), 0);
	e2 = (grant_entry_v2_t *)gptr(HOLE_GFN << 12, 4096);
	ck_assert_uint_eq(e2[1].hdr.flags, GTF_permit_access);
	ck_assert_uint_eq(e2[1].hdr.domid, 0);
	ck_assert_uint_eq(e2[1].full_page.frame, PAGE_B >> 12);
	ck_assert_uint_eq(e2[9].hdr.flags, 0); /* past the reserved ones: cleared */

	/* A reserved v2 entry a v1 entry cannot hold makes the switch -ERANGE. */
	e2[3].hdr.flags = GTF_permit_access;
	e2[3].full_page.frame = 1ULL << 32;
	ck_assert_int_eq(set_version(_i, 1, &now), -XEN_ERANGE);
	ck_assert_uint_eq(now, 2);
	e2[3].full_page.frame = 5;
	ck_assert_int_eq(set_version(_i, 1, &now), 0);
	ck_assert_uint_eq(v1_entry(HOLE_GFN, 3)->frame, 5);
	ck_assert_uint_eq(v1_entry(HOLE_GFN, 0)->frame, PAGE_A >> 12);
}
END_TEST

START_TEST(version_switch_with_a_pinned_entry_is_ebusy)
{
	void *p;
	uint32_t now;

	ck_assert_int_eq(add_grant_frame(_i, 0, HOLE_GFN), 0);
	*v1_entry(HOLE_GFN, 20) = (grant_entry_v1_t){ GTF_permit_access, 0, PAGE_A >> 12 };
	ck_assert_int_eq(gnttab_map_for_backend(x.gnttab, 20, 1, &p), GNTST_okay);
	ck_assert_int_eq(set_version(_i, 2, &now), -XEN_EBUSY);
	ck_assert_uint_eq(now, 1);
	/* The reserved entries may stay mapped. */
	ck_assert_int_eq(gnttab_unmap_for_backend(x.gnttab, 20, 1), GNTST_okay);
	ck_assert_int_eq(gnttab_map_for_backend(x.gnttab, GNTTAB_RESERVED_CONSOLE, 1, &p),
			 GNTST_okay);
	ck_assert_int_eq(set_version(_i, 2, &now), 0);
	ck_assert_int_eq(gnttab_unmap_for_backend(x.gnttab, GNTTAB_RESERVED_CONSOLE, 1),
			 GNTST_okay);
}
END_TEST

/* ---- setup_table and add_to_physmap ---- */

static long setup_table(int abi64, domid_t dom, uint32_t nr, uint64_t list, int16_t *status)
{
	long rc;

	if (abi64) {
		struct gnttab_setup_table op = { .dom = dom, .nr_frames = nr, .status = 99 };
		set_xen_guest_handle(op.frame_list, (xen_pfn_t *)(uintptr_t)list);
		put(ARG, &op, sizeof(op));
		rc = gnttab_call(1, GNTTABOP_setup_table, ARG, 1);
		get(ARG, &op, sizeof(op));
		*status = op.status;
	} else {
		struct compat_gnttab_setup_table op = { .dom = dom, .nr_frames = nr, .status = 99,
							.frame_list = (uint32_t)list };
		put(ARG, &op, sizeof(op));
		rc = gnttab_call(0, GNTTABOP_setup_table, ARG, 1);
		get(ARG, &op, sizeof(op));
		*status = op.status;
	}
	return rc;
}

static uint64_t frame_at(int abi64, unsigned i)
{
	uint64_t v = 0;

	get(BUF + i * (abi64 ? 8 : 4), &v, abi64 ? 8 : 4);
	return v;
}

START_TEST(setup_table_reports_gfns_and_grows)
{
	struct gnttab_query_size q;
	uint64_t none = _i ? ~0ULL : 0xffffffffULL;
	int16_t st;

	ck_assert_int_eq(setup_table(_i, DOMID_SELF, 1, BUF, &st), 0);
	ck_assert_int_eq(st, GNTST_okay);
	ck_assert_uint_eq(frame_at(_i, 0), none); /* not placed yet */
	ck_assert_int_eq(add_grant_frame(_i, 0, HOLE_GFN), 0);
	ck_assert_int_eq(setup_table(_i, DOMID_SELF, 4, BUF, &st), 0);
	ck_assert_int_eq(st, GNTST_okay);
	ck_assert_uint_eq(frame_at(_i, 0), HOLE_GFN);
	ck_assert_uint_eq(frame_at(_i, 3), none);
	ck_assert_int_eq(query_size(_i, DOMID_SELF, &q), GNTST_okay);
	ck_assert_uint_eq(q.nr_frames, 4);
	ck_assert_int_eq(setup_table(_i, DOMID_SELF, GNTTAB_DEFAULT_MAX_FRAMES + 1, BUF, &st), 0);
	ck_assert_int_eq(st, GNTST_general_error);
	ck_assert_int_eq(setup_table(_i, DOMID_SELF, 0xffffffffu, BUF, &st), 0);
	ck_assert_int_eq(st, GNTST_general_error);
	ck_assert_int_eq(setup_table(_i, 0, 1, BUF, &st), 0);
	ck_assert_int_eq(st, GNTST_permission_denied);
	ck_assert_int_eq(setup_table(_i, 3, 1, BUF, &st), 0);
	ck_assert_int_eq(st, GNTST_bad_domain);
}
END_TEST

START_TEST(setup_table_bad_list_and_count)
{
	int16_t st;

	/* Native reports the failed copy-out; the compat layer drops it. */
	ck_assert_int_eq(setup_table(_i, DOMID_SELF, 1, BAD_GVA, &st), 0);
	ck_assert_int_eq(st, _i ? GNTST_bad_virt_addr : GNTST_okay);
	ck_assert_int_eq(gnttab_call(_i, GNTTABOP_setup_table, ARG, 0), _i ? -XEN_EINVAL : 0);
	ck_assert_int_eq(gnttab_call(_i, GNTTABOP_setup_table, ARG, 2), -XEN_EINVAL);
	ck_assert_int_eq(gnttab_call(_i, GNTTABOP_setup_table, BAD_GVA, 1), -XEN_EFAULT);
}
END_TEST

START_TEST(grant_frames_map_into_holes_and_ram_and_move)
{
	ck_assert_ptr_null(gmem_ptr(&vm.mem, HOLE_GFN << 12, 4096));
	ck_assert_int_eq(add_grant_frame(_i, 0, HOLE_GFN), 0);
	ck_assert_uint_eq(v1_entry(HOLE_GFN, 0)->flags, GTF_permit_access);
	/* Moving the frame over RAM gives the hole back. */
	ck_assert_int_eq(add_grant_frame(_i, 0, MAPPED >> 12), 0);
	ck_assert_ptr_null(gmem_ptr(&vm.mem, HOLE_GFN << 12, 4096));
	ck_assert_uint_eq(v1_entry(MAPPED >> 12, 1)->frame, PAGE_B >> 12);
	/* Frames past the table grow it, up to the limit. */
	ck_assert_int_eq(add_grant_frame(_i, GNTTAB_DEFAULT_MAX_FRAMES - 1, HOLE_GFN + 1), 0);
	ck_assert_uint_eq(gnttab_nr_frames(x.gnttab), GNTTAB_DEFAULT_MAX_FRAMES);
	ck_assert_int_eq(add_grant_frame(_i, GNTTAB_DEFAULT_MAX_FRAMES, HOLE_GFN + 2), -XEN_EINVAL);
	ck_assert_int_eq(add_grant_frame(_i, 0xffffffffULL, HOLE_GFN + 2), -XEN_EINVAL);
}
END_TEST

START_TEST(status_frames_only_under_v2)
{
	uint32_t now;

	ck_assert_int_eq(add_grant_frame(_i, XENMAPIDX_grant_table_status, HOLE_GFN), -XEN_EINVAL);
	ck_assert_int_eq(set_version(_i, 2, &now), 0);
	ck_assert_int_eq(add_grant_frame(_i, XENMAPIDX_grant_table_status, HOLE_GFN), 0);
	ck_assert_ptr_nonnull(gmem_ptr(&vm.mem, HOLE_GFN << 12, 4096));
	/* Status frame 1 needs 8 more grant frames: the table grows to 16. */
	ck_assert_int_eq(add_grant_frame(_i, XENMAPIDX_grant_table_status | 1, HOLE_GFN + 1), 0);
	ck_assert_uint_eq(gnttab_nr_frames(x.gnttab), 16);
	ck_assert_int_eq(add_grant_frame(_i, XENMAPIDX_grant_table_status | 8, HOLE_GFN + 2),
			 -XEN_EINVAL);
	/* Back to v1 takes the status frames out of the guest. */
	ck_assert_int_eq(set_version(_i, 1, &now), 0);
	ck_assert_ptr_null(gmem_ptr(&vm.mem, HOLE_GFN << 12, 4096));
}
END_TEST

/* ---- copy ---- */

struct copy_args {
	uint64_t src, dst; /* ref or gfn */
	domid_t sdom, ddom;
	uint16_t soff, doff, len, flags;
};

static int16_t copy_one(int abi64, const struct copy_args *a)
{
	if (abi64) {
		struct gnttab_copy op = { .source = { .domid = a->sdom, .offset = a->soff },
					  .dest = { .domid = a->ddom, .offset = a->doff },
					  .len = a->len, .flags = a->flags, .status = 99 };
		op.source.u.gmfn = a->src;
		op.dest.u.gmfn = a->dst;
		put(ARG, &op, sizeof(op));
		ck_assert_int_eq(gnttab_call(1, GNTTABOP_copy, ARG, 1), 0);
		get(ARG, &op, sizeof(op));
		return op.status;
	}
	struct compat_gnttab_copy op = { .source = { .domid = a->sdom, .offset = a->soff },
					 .dest = { .domid = a->ddom, .offset = a->doff },
					 .len = a->len, .flags = a->flags, .status = 99 };
	op.source.u.gmfn = (uint32_t)a->src;
	op.dest.u.gmfn = (uint32_t)a->dst;
	put(ARG, &op, sizeof(op));
	ck_assert_int_eq(gnttab_call(0, GNTTABOP_copy, ARG, 1), 0);
	get(ARG, &op, sizeof(op));
	return op.status;
}

START_TEST(copy_between_own_frames)
{
	struct copy_args a = { PAGE_A >> 12, PAGE_B >> 12, DOMID_SELF, DOMID_SELF, 100, 200, 50, 0 };

	memset(gptr(PAGE_A, 4096), 0x5a, 4096);
	memset(gptr(PAGE_B, 4096), 0, 4096);
	ck_assert_int_eq(copy_one(_i, &a), GNTST_okay);
	ck_assert_uint_eq(gptr(PAGE_B, 4096)[200], 0x5a);
	ck_assert_uint_eq(gptr(PAGE_B, 4096)[249], 0x5a);
	ck_assert_uint_eq(gptr(PAGE_B, 4096)[250], 0);
	ck_assert_uint_eq(gptr(PAGE_B, 4096)[199], 0);
}
END_TEST

START_TEST(copy_through_a_self_grant)
{
	struct copy_args a = { 10, PAGE_B >> 12, XENKVM_DOMID, DOMID_SELF, 0, 0, 16,
			       GNTCOPY_source_gref };

	ck_assert_int_eq(add_grant_frame(_i, 0, HOLE_GFN), 0);
	memcpy(gptr(PAGE_A, 16), "granted bytes!!", 16);
	*v1_entry(HOLE_GFN, 10) =
		(grant_entry_v1_t){ GTF_permit_access | GTF_readonly, XENKVM_DOMID, PAGE_A >> 12 };
	ck_assert_int_eq(copy_one(_i, &a), GNTST_okay);
	ck_assert_mem_eq(gptr(PAGE_B, 16), "granted bytes!!", 16);
	ck_assert_uint_eq(v1_entry(HOLE_GFN, 10)->flags, GTF_permit_access | GTF_readonly);
	/* Writing through a read-only grant is refused and leaves no flags behind. */
	a = (struct copy_args){ PAGE_B >> 12, 10, DOMID_SELF, XENKVM_DOMID, 0, 0, 16,
				GNTCOPY_dest_gref };
	ck_assert_int_eq(copy_one(_i, &a), GNTST_general_error);
	ck_assert_uint_eq(v1_entry(HOLE_GFN, 10)->flags, GTF_permit_access | GTF_readonly);
}
END_TEST

START_TEST(copy_errors_have_xens_status)
{
	struct copy_args a;

	ck_assert_int_eq(add_grant_frame(_i, 0, HOLE_GFN), 0);
	*v1_entry(HOLE_GFN, 11) = (grant_entry_v1_t){ GTF_permit_access, 0, PAGE_A >> 12 };
	*v1_entry(HOLE_GFN, 12) = (grant_entry_v1_t){ GTF_permit_access, XENKVM_DOMID, 0xd0100 };
	/* A grant to another domain, one past the table, one of a frame not there. */
	a = (struct copy_args){ 11, PAGE_B >> 12, DOMID_SELF, DOMID_SELF, 0, 0, 8,
				GNTCOPY_source_gref };
	ck_assert_int_eq(copy_one(_i, &a), GNTST_general_error);
	a.src = 512;
	ck_assert_int_eq(copy_one(_i, &a), GNTST_bad_gntref);
	a.src = 12;
	ck_assert_int_eq(copy_one(_i, &a), GNTST_bad_page);
	ck_assert_uint_eq(v1_entry(HOLE_GFN, 12)->flags, GTF_permit_access);
	/* Frames: only DOMID_SELF may name one; one in a hole is a bad page. */
	a = (struct copy_args){ PAGE_A >> 12, PAGE_B >> 12, XENKVM_DOMID, DOMID_SELF, 0, 0, 8, 0 };
	ck_assert_int_eq(copy_one(_i, &a), GNTST_permission_denied);
	a.sdom = DOMID_SELF;
	a.src = HOLE_GFN + 5;
	ck_assert_int_eq(copy_one(_i, &a), GNTST_bad_page);
	/* Domain 0 exists and grants nothing; others do not exist. */
	a = (struct copy_args){ 3, PAGE_B >> 12, 0, DOMID_SELF, 0, 0, 8, GNTCOPY_source_gref };
	ck_assert_int_eq(copy_one(_i, &a), GNTST_general_error);
	a.src = 600;
	ck_assert_int_eq(copy_one(_i, &a), GNTST_bad_gntref);
	a.sdom = 42;
	ck_assert_int_eq(copy_one(_i, &a), GNTST_bad_domain);
	/* Past the end of a page, checked once both sides are claimed. */
	a = (struct copy_args){ PAGE_A >> 12, PAGE_B >> 12, DOMID_SELF, DOMID_SELF, 4000, 0, 200,
				0 };
	ck_assert_int_eq(copy_one(_i, &a), GNTST_bad_copy_arg);
	a.soff = 0, a.doff = 4095, a.len = 2;
	ck_assert_int_eq(copy_one(_i, &a), GNTST_bad_copy_arg);
}
END_TEST

START_TEST(copy_sub_page_grant_bounds)
{
	uint32_t now;
	grant_entry_v2_t *e2;
	struct copy_args a = { 20, PAGE_B >> 12, DOMID_SELF, DOMID_SELF, 100, 0, 50,
			       GNTCOPY_source_gref };

	ck_assert_int_eq(set_version(_i, 2, &now), 0);
	ck_assert_int_eq(add_grant_frame(_i, 0, HOLE_GFN), 0);
	e2 = (grant_entry_v2_t *)gptr(HOLE_GFN << 12, 4096);
	e2[20].sub_page.page_off = 100;
	e2[20].sub_page.length = 50;
	e2[20].sub_page.frame = PAGE_A >> 12;
	e2[20].hdr.domid = XENKVM_DOMID;
	e2[20].hdr.flags = GTF_permit_access | GTF_sub_page;
	ck_assert_int_eq(copy_one(_i, &a), GNTST_okay);
	a.len = 51;
	ck_assert_int_eq(copy_one(_i, &a), GNTST_general_error);
	a.len = 10, a.soff = 99;
	ck_assert_int_eq(copy_one(_i, &a), GNTST_general_error);
	/* Transitive grants can only lead to domain 0 here, which grants nothing. */
	e2[21].transitive.trans_domid = 0;
	e2[21].transitive.gref = 5;
	e2[21].hdr.domid = XENKVM_DOMID;
	e2[21].hdr.flags = GTF_transitive;
	a = (struct copy_args){ 21, PAGE_B >> 12, DOMID_SELF, DOMID_SELF, 0, 0, 8,
				GNTCOPY_source_gref };
	ck_assert_int_eq(copy_one(_i, &a), GNTST_general_error);
	e2[21].transitive.gref = 9999;
	ck_assert_int_eq(copy_one(_i, &a), GNTST_bad_gntref);
	e2[21].transitive.trans_domid = XENKVM_DOMID;
	ck_assert_int_eq(copy_one(_i, &a), GNTST_general_error);
}
END_TEST

START_TEST(copy_batch_statuses_and_faults)
{
	size_t size = _i ? sizeof(struct gnttab_copy) : sizeof(struct compat_gnttab_copy);
	uint8_t raw[3 * sizeof(struct gnttab_copy)];
	int16_t st;

	/* Three ops: good, bad page, good. Each gets its own status. */
	for (int k = 0; k < 3; k++) {
		struct copy_args a = { k == 1 ? HOLE_GFN : PAGE_A >> 12, PAGE_B >> 12, DOMID_SELF,
				       DOMID_SELF, 0, (uint16_t)(k * 8), 8, 0 };
		ck_assert_int_eq(copy_one(_i, &a), k == 1 ? GNTST_bad_page : GNTST_okay);
		get(ARG, raw + k * size, size);
	}
	put(ARG, raw, 3 * size);
	ck_assert_int_eq(gnttab_call(_i, GNTTABOP_copy, ARG, 3), 0);
	for (int k = 0; k < 3; k++) {
		get(ARG + k * size + size - 4, &st, 2); /* status: 4 bytes from the end */
		ck_assert_int_eq(st, k == 1 ? GNTST_bad_page : GNTST_okay);
	}
	ck_assert_int_eq(gnttab_call(_i, GNTTABOP_copy, ARG, 0), 0);
	ck_assert_int_eq(gnttab_call(_i, GNTTABOP_copy, BAD_GVA, 1), -XEN_EFAULT);
	ck_assert_int_eq(gnttab_call(_i, GNTTABOP_copy, ARG, 0x80000000u), -XEN_EINVAL);
	/* A list running off RAM: -EFAULT once an element cannot be read. */
	ck_assert_int_eq(gnttab_call(_i, GNTTABOP_copy, RAM_SIZE - size, 2), -XEN_EFAULT);
}
END_TEST

/* ---- map/unmap issued by the guest, swap ---- */

static int16_t guest_map(int abi64, uint32_t flags, grant_ref_t ref, domid_t dom, uint64_t addr,
			 grant_handle_t *handle)
{
	struct gnttab_map_grant_ref op = { .host_addr = addr, .flags = flags, .ref = ref,
					   .dom = dom, .status = 99 };

	put(ARG, &op, sizeof(op));
	ck_assert_int_eq(gnttab_call(abi64, GNTTABOP_map_grant_ref, ARG, 1), 0);
	get(ARG, &op, sizeof(op));
	*handle = op.handle;
	return op.status;
}

static int16_t guest_unmap(int abi64, uint64_t addr, grant_handle_t handle)
{
	struct gnttab_unmap_grant_ref op = { .host_addr = addr, .handle = handle, .status = 99 };

	put(ARG, &op, sizeof(op));
	ck_assert_int_eq(gnttab_call(abi64, GNTTABOP_unmap_grant_ref, ARG, 1), 0);
	get(ARG, &op, sizeof(op));
	return op.status;
}

START_TEST(guest_map_checks_in_xens_order)
{
	grant_handle_t h;

	ck_assert_int_eq(guest_map(_i, 0, 0, XENKVM_DOMID, MAPPED, &h), GNTST_bad_gntref);
	ck_assert_int_eq(guest_map(_i, GNTMAP_device_map, 0, XENKVM_DOMID, MAPPED, &h),
			 GNTST_general_error);
	ck_assert_int_eq(guest_map(_i, GNTMAP_host_map | GNTMAP_contains_pte, 0, XENKVM_DOMID,
				   MAPPED, &h),
			 GNTST_general_error);
	ck_assert_int_eq(guest_map(_i, GNTMAP_host_map, 0, DOMID_SELF, MAPPED, &h),
			 GNTST_bad_domain);
	ck_assert_int_eq(guest_map(_i, GNTMAP_host_map, 0, 77, MAPPED, &h), GNTST_bad_domain);
	ck_assert_int_eq(guest_map(_i, GNTMAP_host_map, 0, 0, MAPPED, &h), GNTST_general_error);
	ck_assert_int_eq(guest_map(_i, GNTMAP_host_map, 4096, 0, MAPPED, &h), GNTST_bad_gntref);
	ck_assert_int_eq(guest_map(_i, GNTMAP_host_map, 512, XENKVM_DOMID, MAPPED, &h),
			 GNTST_bad_gntref);
	/* Entry 0 is granted to domain 0, not to us. */
	ck_assert_int_eq(guest_map(_i, GNTMAP_host_map, 0, XENKVM_DOMID, MAPPED, &h),
			 GNTST_general_error);
	ck_assert_int_eq(guest_unmap(_i, MAPPED, 5), GNTST_bad_handle);
	ck_assert_int_eq(guest_unmap(_i, MAPPED, 0xffffffffu), GNTST_bad_handle);
	ck_assert_int_eq(gnttab_call(_i, GNTTABOP_map_grant_ref, BAD_GVA, 1), -XEN_EFAULT);
	ck_assert_int_eq(gnttab_call(_i, GNTTABOP_unmap_grant_ref, BAD_GVA, 1), -XEN_EFAULT);
}
END_TEST

START_TEST(guest_maps_its_own_grant)
{
	grant_handle_t h;

	ck_assert_int_eq(add_grant_frame(_i, 0, HOLE_GFN), 0);
	memcpy(gptr(PAGE_A, 8), "selfmap", 8);
	*v1_entry(HOLE_GFN, 30) = (grant_entry_v1_t){ GTF_permit_access, XENKVM_DOMID, PAGE_A >> 12 };
	ck_assert_int_eq(guest_map(_i, GNTMAP_host_map, 30, XENKVM_DOMID, MAPPED, &h), GNTST_okay);
	ck_assert_mem_eq(gptr(MAPPED, 8), "selfmap", 8);
	ck_assert_uint_eq(v1_entry(HOLE_GFN, 30)->flags,
			  GTF_permit_access | GTF_reading | GTF_writing);
	/* Unmapping at another address is refused; at the right one it undoes it. */
	ck_assert_int_eq(guest_unmap(_i, MAPPED + 0x1000, h), GNTST_general_error);
	ck_assert_int_eq(guest_unmap(_i, MAPPED, h), GNTST_okay);
	ck_assert_uint_eq(v1_entry(HOLE_GFN, 30)->flags, GTF_permit_access);
	ck_assert_uint_eq(gptr(MAPPED, 8)[0], 0);
	ck_assert_int_eq(guest_unmap(_i, MAPPED, h), GNTST_bad_handle);
}
END_TEST

static int16_t swap(int abi64, grant_ref_t a, grant_ref_t b)
{
	struct gnttab_swap_grant_ref op = { a, b, 99 };

	put(ARG, &op, sizeof(op));
	ck_assert_int_eq(gnttab_call(abi64, GNTTABOP_swap_grant_ref, ARG, 1), 0);
	get(ARG, &op, sizeof(op));
	return op.status;
}

START_TEST(swap_grant_ref_swaps_idle_entries)
{
	void *p;

	ck_assert_int_eq(add_grant_frame(_i, 0, HOLE_GFN), 0);
	*v1_entry(HOLE_GFN, 40) = (grant_entry_v1_t){ GTF_permit_access, 0, PAGE_A >> 12 };
	ck_assert_int_eq(swap(_i, 40, 41), GNTST_okay);
	ck_assert_uint_eq(v1_entry(HOLE_GFN, 40)->flags, 0);
	ck_assert_uint_eq(v1_entry(HOLE_GFN, 41)->frame, PAGE_A >> 12);
	ck_assert_int_eq(swap(_i, 41, 41), GNTST_okay);
	ck_assert_int_eq(swap(_i, 41, 512), GNTST_bad_gntref);
	ck_assert_int_eq(swap(_i, 0xffffffffu, 1), GNTST_bad_gntref);
	ck_assert_int_eq(gnttab_map_for_backend(x.gnttab, 41, 0, &p), GNTST_okay);
	ck_assert_int_eq(swap(_i, 41, 40), GNTST_eagain);
	ck_assert_int_eq(gnttab_unmap_for_backend(x.gnttab, 41, 0), GNTST_okay);
	ck_assert_int_eq(gnttab_call(_i, GNTTABOP_swap_grant_ref, BAD_GVA, 1), -XEN_EFAULT);
}
END_TEST

/* ---- the backend API ---- */

START_TEST(backend_map_refcounts_and_flags)
{
	void *p, *q;

	ck_assert_int_eq(add_grant_frame(1, 0, HOLE_GFN), 0);
	ck_assert_int_eq(gnttab_map_for_backend(x.gnttab, GNTTAB_RESERVED_CONSOLE, 1, &p),
			 GNTST_okay);
	ck_assert_ptr_eq(p, gptr(PAGE_A, 4096));
	ck_assert_uint_eq(v1_entry(HOLE_GFN, 0)->flags,
			  GTF_permit_access | GTF_reading | GTF_writing);
	ck_assert_int_eq(gnttab_map_for_backend(x.gnttab, GNTTAB_RESERVED_CONSOLE, 0, &q),
			 GNTST_okay);
	ck_assert_int_eq(gnttab_unmap_for_backend(x.gnttab, GNTTAB_RESERVED_CONSOLE, 1),
			 GNTST_okay);
	ck_assert_uint_eq(v1_entry(HOLE_GFN, 0)->flags, GTF_permit_access | GTF_reading);
	ck_assert_int_eq(gnttab_unmap_for_backend(x.gnttab, GNTTAB_RESERVED_CONSOLE, 0),
			 GNTST_okay);
	ck_assert_uint_eq(v1_entry(HOLE_GFN, 0)->flags, GTF_permit_access);
	ck_assert_int_eq(gnttab_unmap_for_backend(x.gnttab, GNTTAB_RESERVED_CONSOLE, 0),
			 GNTST_bad_handle);
}
END_TEST

START_TEST(backend_map_validates_the_entry)
{
	void *p;

	ck_assert_int_eq(add_grant_frame(1, 0, HOLE_GFN), 0);
	*v1_entry(HOLE_GFN, 50) =
		(grant_entry_v1_t){ GTF_permit_access | GTF_readonly, 0, PAGE_A >> 12 };
	*v1_entry(HOLE_GFN, 51) = (grant_entry_v1_t){ GTF_permit_access, 3, PAGE_A >> 12 };
	*v1_entry(HOLE_GFN, 52) = (grant_entry_v1_t){ GTF_accept_transfer, 0, PAGE_A >> 12 };
	*v1_entry(HOLE_GFN, 53) = (grant_entry_v1_t){ GTF_permit_access, 0, HOLE_GFN };
	ck_assert_int_eq(gnttab_map_for_backend(x.gnttab, 50, 1, &p), GNTST_general_error);
	ck_assert_ptr_null(p);
	ck_assert_uint_eq(v1_entry(HOLE_GFN, 50)->flags, GTF_permit_access | GTF_readonly);
	ck_assert_int_eq(gnttab_map_for_backend(x.gnttab, 50, 0, &p), GNTST_okay);
	ck_assert_int_eq(gnttab_unmap_for_backend(x.gnttab, 50, 0), GNTST_okay);
	ck_assert_int_eq(gnttab_map_for_backend(x.gnttab, 51, 0, &p), GNTST_general_error);
	ck_assert_int_eq(gnttab_map_for_backend(x.gnttab, 52, 0, &p), GNTST_general_error);
	ck_assert_int_eq(gnttab_map_for_backend(x.gnttab, 53, 0, &p), GNTST_bad_page);
	ck_assert_uint_eq(v1_entry(HOLE_GFN, 53)->flags, GTF_permit_access);
	ck_assert_int_eq(gnttab_map_for_backend(x.gnttab, 512, 0, &p), GNTST_bad_gntref);
	ck_assert_int_eq(gnttab_map_for_backend(x.gnttab, 0xffffffffu, 0, &p), GNTST_bad_gntref);
}
END_TEST

START_TEST(backend_v2_uses_status_frames)
{
	uint32_t now;
	void *p;
	uint16_t *status;
	grant_entry_v2_t *e2;

	ck_assert_int_eq(set_version(1, 2, &now), 0);
	ck_assert_int_eq(add_grant_frame(1, 0, HOLE_GFN), 0);
	ck_assert_int_eq(add_grant_frame(1, XENMAPIDX_grant_table_status, HOLE_GFN + 1), 0);
	e2 = (grant_entry_v2_t *)gptr(HOLE_GFN << 12, 4096);
	status = (uint16_t *)gptr((HOLE_GFN + 1) << 12, 4096);
	ck_assert_int_eq(gnttab_map_for_backend(x.gnttab, GNTTAB_RESERVED_XENSTORE, 1, &p),
			 GNTST_okay);
	ck_assert_ptr_eq(p, gptr(PAGE_B, 4096));
	ck_assert_uint_eq(status[1], GTF_reading | GTF_writing);
	ck_assert_uint_eq(e2[1].hdr.flags, GTF_permit_access);
	ck_assert_int_eq(gnttab_unmap_for_backend(x.gnttab, GNTTAB_RESERVED_XENSTORE, 1),
			 GNTST_okay);
	ck_assert_uint_eq(status[1], 0);
	/* A sub-page grant cannot be mapped, only copied within its range. */
	e2[60].sub_page.page_off = 8;
	e2[60].sub_page.length = 16;
	e2[60].sub_page.frame = PAGE_A >> 12;
	e2[60].hdr.domid = 0;
	e2[60].hdr.flags = GTF_permit_access | GTF_sub_page;
	ck_assert_int_eq(gnttab_map_for_backend(x.gnttab, 60, 0, &p), GNTST_general_error);
	ck_assert_uint_eq(status[60], 0);
	char data[] = "0123456789abcdef";

	ck_assert_int_eq(gnttab_copy_for_backend(x.gnttab, 60, 8, data, 16, 1), GNTST_okay);
	ck_assert_mem_eq(gptr(PAGE_A + 8, 16), "0123456789abcdef", 16);
	ck_assert_int_eq(gnttab_copy_for_backend(x.gnttab, 60, 7, data, 1, 1), GNTST_general_error);
	ck_assert_uint_eq(status[60], 0);
}
END_TEST

START_TEST(backend_copy_checks_the_range)
{
	char buf[16];

	memcpy(gptr(PAGE_B + 4090, 6), "ring!", 6);
	ck_assert_int_eq(gnttab_copy_for_backend(x.gnttab, 1, 4090, buf, 6, 0), GNTST_okay);
	ck_assert_str_eq(buf, "ring!");
	ck_assert_int_eq(gnttab_copy_for_backend(x.gnttab, 1, 4091, buf, 6, 0), GNTST_bad_copy_arg);
	ck_assert_int_eq(gnttab_copy_for_backend(x.gnttab, 1, 0xffffffffu, buf, 2, 0),
			 GNTST_bad_copy_arg);
	ck_assert_int_eq(gnttab_copy_for_backend(x.gnttab, 1, 0, buf, SIZE_MAX, 0),
			 GNTST_bad_copy_arg);
	ck_assert_int_eq(gnttab_copy_for_backend(x.gnttab, 9, 0, buf, 1, 0), GNTST_general_error);
}
END_TEST

static void *map_unmap_loop(void *arg)
{
	grant_ref_t ref = (grant_ref_t)(uintptr_t)arg;

	for (int i = 0; i < 20000; i++) {
		void *p;
		int w = i & 1;
		if (gnttab_map_for_backend(x.gnttab, ref, w, &p) != GNTST_okay ||
		    gnttab_unmap_for_backend(x.gnttab, ref, w) != GNTST_okay)
			return (void *)1;
	}
	return NULL;
}

START_TEST(backend_threads_share_entries)
{
	pthread_t t[4];
	void *ret;

	ck_assert_int_eq(add_grant_frame(1, 0, HOLE_GFN), 0);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, map_unmap_loop,
						(void *)(uintptr_t)(i & 1)),
				 0);
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], &ret);
		ck_assert_ptr_null(ret);
	}
	ck_assert_uint_eq(v1_entry(HOLE_GFN, 0)->flags, GTF_permit_access);
	ck_assert_uint_eq(v1_entry(HOLE_GFN, 1)->flags, GTF_permit_access);
}
END_TEST

static Suite *gnttab_suite(void)
{
	Suite *s = suite_create("gnttab");
	TCase *op = tcase_create("grant_table_op"), *frames = tcase_create("frames");
	TCase *copy = tcase_create("copy"), *map = tcase_create("map");
	TCase *be = tcase_create("backend");

	tcase_add_checked_fixture(op, setup, teardown);
	tcase_add_loop_test(op, query_size_reports_frames_and_limit, 0, 2);
	tcase_add_loop_test(op, query_size_bad_count_and_pointer, 0, 2);
	tcase_add_loop_test(op, sub_ops_hvm_guests_cannot_use_are_enosys, 0, 2);
	tcase_add_test(op, cmd_and_count_are_32_bits);
	tcase_add_loop_test(op, no_table_is_enosys, 0, 2);
	tcase_add_loop_test(op, set_and_get_version, 0, 2);
	tcase_add_loop_test(op, version_switch_keeps_reserved_entries, 0, 2);
	tcase_add_loop_test(op, version_switch_with_a_pinned_entry_is_ebusy, 0, 2);
	suite_add_tcase(s, op);

	tcase_add_checked_fixture(frames, setup, teardown);
	tcase_add_loop_test(frames, setup_table_reports_gfns_and_grows, 0, 2);
	tcase_add_loop_test(frames, setup_table_bad_list_and_count, 0, 2);
	tcase_add_loop_test(frames, grant_frames_map_into_holes_and_ram_and_move, 0, 2);
	tcase_add_loop_test(frames, status_frames_only_under_v2, 0, 2);
	suite_add_tcase(s, frames);

	tcase_add_checked_fixture(copy, setup, teardown);
	tcase_add_loop_test(copy, copy_between_own_frames, 0, 2);
	tcase_add_loop_test(copy, copy_through_a_self_grant, 0, 2);
	tcase_add_loop_test(copy, copy_errors_have_xens_status, 0, 2);
	tcase_add_loop_test(copy, copy_sub_page_grant_bounds, 0, 2);
	tcase_add_loop_test(copy, copy_batch_statuses_and_faults, 0, 2);
	suite_add_tcase(s, copy);

	tcase_add_checked_fixture(map, setup, teardown);
	tcase_add_loop_test(map, guest_map_checks_in_xens_order, 0, 2);
	tcase_add_loop_test(map, guest_maps_its_own_grant, 0, 2);
	tcase_add_loop_test(map, swap_grant_ref_swaps_idle_entries, 0, 2);
	suite_add_tcase(s, map);

	tcase_add_checked_fixture(be, setup, teardown);
	tcase_add_test(be, backend_map_refcounts_and_flags);
	tcase_add_test(be, backend_map_validates_the_entry);
	tcase_add_test(be, backend_v2_uses_status_frames);
	tcase_add_test(be, backend_copy_checks_the_range);
	tcase_add_test(be, backend_threads_share_entries);
	suite_add_tcase(s, be);
	return s;
}

int main(void)
{
	log_threshold = LOG_ERROR;
	return run_suite(gnttab_suite());
}
