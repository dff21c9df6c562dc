/*
 * __HYPERVISOR_grant_table_op and XENMAPSPACE_grant_table, as a PVH guest
 * (GRUB, Linux) uses them. Expected codes (xen/common/grant_table.c,
 * xen/common/compat/grant_table.c, xen/arch/x86/hvm/hypercall.c):
 *  - HVM guests may use query_size, setup_table, set_version, get_version,
 *    copy, map/unmap_grant_ref and swap_grant_ref; the other sub-ops
 *    (dump_table, transfer, get_status_frames, ...) are -ENOSYS.
 *  - A negative count is -EINVAL; query_size/setup_table need count 1.
 *  - Per-element errors are GNTST_* codes in each element; the call is 0.
 *  - The toolstack seeds entries 0 and 1 for the console and XenStore
 *    rings, granted to domain 0; they survive a version switch.
 *  - Status frames exist only under v2 (add_to_physmap: -EINVAL under v1).
 */
#include "kit.h"
#include <xen/grant_table.h>
#include <xen/memory.h>
#include <xen/hvm/hvm_op.h>
#include <xen/hvm/params.h>

/* xenkvm's guest is the first domU, as under xl. */
#define MY_DOMID 1

static struct e820_entry map[64];
static unsigned int map_n;
static uint8_t page_a[4096] __attribute__((aligned(4096)));
static uint8_t page_b[4096] __attribute__((aligned(4096)));
static uint64_t hole;

static long gnttab_op(unsigned int cmd, void *uop, unsigned int count)
{
    return hypercall3(__HYPERVISOR_grant_table_op, cmd, uop, count);
}

static long add_grant_frame(unsigned long idx, uint64_t gpa)
{
    static struct xen_add_to_physmap xatp;

    xatp.domid = DOMID_SELF;
    xatp.size = 0;
    xatp.space = XENMAPSPACE_grant_table;
    xatp.idx = idx;
    xatp.gpfn = (xen_pfn_t)(gpa >> 12);
    return HYPERVISOR_memory_op(XENMEM_add_to_physmap, &xatp);
}

static long set_version(uint32_t v, uint32_t *now)
{
    static struct gnttab_set_version op;
    long rc;

    op.version = v;
    rc = gnttab_op(GNTTABOP_set_version, &op, 1);
    *now = op.version;
    return rc;
}

static uint32_t get_version(void)
{
    static struct gnttab_get_version op;

    op.dom = DOMID_SELF;
    op.version = 99;
    check_eq(gnttab_op(GNTTABOP_get_version, &op, 1), 0, "get_version returns 0");
    return op.version;
}

static uint64_t console_pfn(void)
{
    static struct xen_hvm_param p;

    p.domid = DOMID_SELF;
    p.index = HVM_PARAM_CONSOLE_PFN;
    return HYPERVISOR_hvm_op(HVMOP_get_param, &p) ? 0 : p.value;
}

static void test_query_and_setup(void)
{
    static struct gnttab_query_size q;
    static struct gnttab_setup_table st;
    static xen_pfn_t frames[4];
    volatile grant_entry_v1_t *e = (volatile grant_entry_v1_t *)(unsigned long)hole;

    q.dom = DOMID_SELF;
    check_eq(gnttab_op(GNTTABOP_query_size, &q, 1), 0, "query_size returns 0");
    check_eq(q.status, GNTST_okay, "query_size status is okay");
    check_eq(q.nr_frames, 1, "a new table has 1 frame");
    check_eq(q.max_nr_frames, 64, "the frame limit is Xen's default, 64");
    check_eq(gnttab_op(GNTTABOP_query_size, &q, 2), -XEN_EINVAL, "query_size count 2 is -EINVAL");
    q.dom = 0;
    gnttab_op(GNTTABOP_query_size, &q, 1);
    check_eq(q.status, GNTST_permission_denied, "query_size of domain 0 is permission_denied");
    q.dom = 123;
    gnttab_op(GNTTABOP_query_size, &q, 1);
    check_eq(q.status, GNTST_bad_domain, "query_size of domain 123 is bad_domain");

    check_eq(add_grant_frame(0, hole), 0, "add_to_physmap(grant_table 0) into a hole returns 0");
    check_eq(e[GNTTAB_RESERVED_CONSOLE].flags, GTF_permit_access, "entry 0 permits access");
    check_eq(e[GNTTAB_RESERVED_CONSOLE].domid, 0, "entry 0 is granted to domain 0");
    check_eqx(e[GNTTAB_RESERVED_CONSOLE].frame, console_pfn(), "entry 0 grants the console ring");
    check_eq(e[GNTTAB_RESERVED_XENSTORE].flags, GTF_permit_access, "entry 1 permits access");

    st.dom = DOMID_SELF;
    st.nr_frames = 2;
    set_xen_guest_handle(st.frame_list, frames);
    check_eq(gnttab_op(GNTTABOP_setup_table, &st, 1), 0, "setup_table returns 0");
    check_eq(st.status, GNTST_okay, "setup_table(2) status is okay");
    check_eqx(frames[0], hole >> 12, "frame 0 is where add_to_physmap put it");
    check_eqx(frames[1], (xen_pfn_t)~0ul, "frame 1 has no GFN yet");
    st.nr_frames = 65;
    gnttab_op(GNTTABOP_setup_table, &st, 1);
    check_eq(st.status, GNTST_general_error, "setup_table(65) is general_error");
    check_eq(gnttab_op(GNTTABOP_setup_table, &st, 2), -XEN_EINVAL, "setup_table count 2 is -EINVAL");
    check_eq(add_grant_frame(64, hole + 0x1000), -XEN_EINVAL,
             "add_to_physmap(grant_table 64) is -EINVAL");
}

static int16_t copy(uint64_t src, domid_t sdom, uint64_t dst, domid_t ddom, uint16_t soff,
                    uint16_t len, uint16_t flags)
{
    static struct gnttab_copy op;

    memset(&op, 0, sizeof(op));
    op.source.u.gmfn = (xen_pfn_t)src;
    op.source.domid = sdom;
    op.source.offset = soff;
    op.dest.u.gmfn = (xen_pfn_t)dst;
    op.dest.domid = ddom;
    op.len = len;
    op.flags = flags;
    op.status = 99;
    if (gnttab_op(GNTTABOP_copy, &op, 1) != 0)
        return 99;
    return op.status;
}

static void test_copy(void)
{
    volatile grant_entry_v1_t *e = (volatile grant_entry_v1_t *)(unsigned long)hole;
    unsigned long pa = (unsigned long)page_a >> 12, pb = (unsigned long)page_b >> 12;

    memcpy(page_a, "copied by Xen", 14);
    memset(page_b, 0, sizeof(page_b));
    check_eq(copy(pa, DOMID_SELF, pb, DOMID_SELF, 0, 14, 0), GNTST_okay, "copy frame to frame");
    check_true(!memcmp(page_b, "copied by Xen", 14), "the bytes arrived");

    e[10].domid = MY_DOMID;
    e[10].frame = (uint32_t)pa;
    __atomic_store_n(&e[10].flags, GTF_permit_access | GTF_readonly, __ATOMIC_RELEASE);
    memset(page_b, 0, sizeof(page_b));
    check_eq(copy(10, MY_DOMID, pb, DOMID_SELF, 7, 6, GNTCOPY_source_gref), GNTST_okay,
             "copy from a grant to ourselves");
    check_true(!memcmp(page_b, "by Xen", 6), "the granted bytes arrived");
    check_eq(e[10].flags, GTF_permit_access | GTF_readonly, "no GTF_reading left behind");
    check_eq(copy(pb, DOMID_SELF, 10, MY_DOMID, 0, 6, GNTCOPY_dest_gref), GNTST_general_error,
             "copy into a read-only grant is general_error");
    check_eq(copy(0, 0, pb, DOMID_SELF, 0, 6, GNTCOPY_source_gref), GNTST_general_error,
             "copy from domain 0's ref 0 (not granted to us) is general_error");
    check_eq(copy(5000, MY_DOMID, pb, DOMID_SELF, 0, 6, GNTCOPY_source_gref), GNTST_bad_gntref,
             "copy from ref 5000 is bad_gntref");
    check_eq(copy(1, 55, pb, DOMID_SELF, 0, 6, GNTCOPY_source_gref), GNTST_bad_domain,
             "copy from domain 55 is bad_domain");
    check_eq(copy(pa, MY_DOMID, pb, DOMID_SELF, 0, 6, 0), GNTST_permission_denied,
             "a frame named with a domid other than DOMID_SELF is permission_denied");
    check_eq(copy(pa, DOMID_SELF, pb, DOMID_SELF, 4000, 200, 0), GNTST_bad_copy_arg,
             "copy past the page is bad_copy_arg");
    check_eq(copy((hole >> 12) + 0x100, DOMID_SELF, pb, DOMID_SELF, 0, 6, 0), GNTST_bad_page,
             "copy from a frame in a hole is bad_page");
    for (unsigned int p = 0; p < ARRAY_SIZE(kit_bad_ptrs); p++)
        check_eq(gnttab_op(GNTTABOP_copy, (void *)kit_bad_ptrs[p], 1), -XEN_EFAULT,
                 "copy with ops at %#lx is -EFAULT", kit_bad_ptrs[p]);
    check_eq(gnttab_op(GNTTABOP_copy, page_a, 0x80000000u), -XEN_EINVAL,
             "copy count 0x80000000 is -EINVAL");
    check_eq(gnttab_op(GNTTABOP_copy, BAD_PTR, 0), 0, "copy count 0 returns 0");
}

static void test_map_and_swap(void)
{
    static struct gnttab_map_grant_ref m;
    static struct gnttab_unmap_grant_ref u;
    static struct gnttab_swap_grant_ref s;

    m.host_addr = (unsigned long)page_b;
    m.flags = GNTMAP_host_map;
    m.ref = 0;
    m.dom = 77;
    check_eq(gnttab_op(GNTTABOP_map_grant_ref, &m, 1), 0, "map_grant_ref returns 0");
    check_eq(m.status, GNTST_bad_domain, "mapping a grant of domain 77 is bad_domain");
    m.dom = 0;
    gnttab_op(GNTTABOP_map_grant_ref, &m, 1);
    check_eq(m.status, GNTST_general_error, "mapping domain 0's ref 0 is general_error");
    m.flags = 0;
    gnttab_op(GNTTABOP_map_grant_ref, &m, 1);
    check_eq(m.status, GNTST_bad_gntref, "mapping with no GNTMAP flags is bad_gntref");
    u.handle = 12;
    u.host_addr = (unsigned long)page_b;
    check_eq(gnttab_op(GNTTABOP_unmap_grant_ref, &u, 1), 0, "unmap_grant_ref returns 0");
    check_eq(u.status, GNTST_bad_handle, "unmapping handle 12 is bad_handle");

    s.ref_a = 10;
    s.ref_b = 11;
    check_eq(gnttab_op(GNTTABOP_swap_grant_ref, &s, 1), 0, "swap_grant_ref returns 0");
    check_eq(s.status, GNTST_okay, "swap of two idle entries is okay");
    s.ref_b = 4096;
    gnttab_op(GNTTABOP_swap_grant_ref, &s, 1);
    check_eq(s.status, GNTST_bad_gntref, "swap with ref 4096 is bad_gntref");
}

static void test_v2(void)
{
    static struct gnttab_get_status_frames gs;
    volatile grant_entry_v2_t *e2 = (volatile grant_entry_v2_t *)(unsigned long)hole;
    volatile grant_status_t *status = (volatile grant_status_t *)(unsigned long)(hole + 0x2000);
    uint32_t now;

    check_eq(add_grant_frame(XENMAPIDX_grant_table_status, hole + 0x2000), -XEN_EINVAL,
             "a status frame under v1 is -EINVAL");
    check_eq(set_version(3, &now), -XEN_EINVAL, "set_version(3) is -EINVAL");
    check_eq(now, 1, "set_version(3) reports version 1 in force");
    check_eq(set_version(2, &now), 0, "set_version(2) returns 0");
    check_eq(get_version(), 2, "get_version reports 2");
    check_eq(e2[GNTTAB_RESERVED_CONSOLE].hdr.flags, GTF_permit_access, "entry 0 kept in v2");
    check_eqx(e2[GNTTAB_RESERVED_CONSOLE].full_page.frame, console_pfn(),
              "entry 0 still grants the console ring");
    check_eq(e2[10].hdr.flags, 0, "entries past the reserved ones are cleared");
    gs.dom = DOMID_SELF;
    gs.nr_frames = 1;
    check_eq(gnttab_op(GNTTABOP_get_status_frames, &gs, 1), -XEN_ENOSYS,
             "get_status_frames is -ENOSYS for an HVM guest");
    check_eq(add_grant_frame(XENMAPIDX_grant_table_status, hole + 0x2000), 0,
             "add_to_physmap(status frame 0) returns 0");
    check_eq(status[0], 0, "status entry 0 is idle");
    check_eq(add_grant_frame(XENMAPIDX_grant_table_status | 8, hole + 0x3000), -XEN_EINVAL,
             "status frame 8 (past 64 grant frames) is -EINVAL");

    e2[12].full_page.frame = (unsigned long)page_a >> 12;
    e2[12].hdr.domid = MY_DOMID;
    __atomic_store_n(&e2[12].hdr.flags, GTF_permit_access, __ATOMIC_RELEASE);
    memset(page_b, 0, 16);
    check_eq(copy(12, DOMID_SELF, (unsigned long)page_b >> 12, DOMID_SELF, 0, 6,
                  GNTCOPY_source_gref),
             GNTST_okay, "v2: copy from a grant to ourselves");
    check_true(!memcmp(page_b, "copied", 6), "v2: the granted bytes arrived");
    check_eq(status[12], 0, "v2: no status bits left behind");
    check_eq(set_version(1, &now), 0, "set_version(1) returns 0");
    check_eq(get_version(), 1, "get_version reports 1");
}

void guest_main(void)
{
    unsigned int n = ARRAY_SIZE(map);

    printf("# grant_table_op tests, %d-bit guest\n", KIT_BITS);
    if (kit_memory_map(map, &n))
        kit_abort("XENMEM_memory_map failed");
    map_n = n;
    hole = kit_e820_hole(map, map_n);
    if (!hole)
        kit_abort("no hole in the memory map for the grant frames");
    printf("# grant frames go at %#llx\n", (unsigned long long)hole);
    test_query_and_setup();
    test_copy();
    test_map_and_swap();
    test_v2();
    check_eq(gnttab_op(GNTTABOP_dump_table, page_a, 1), -XEN_ENOSYS, "dump_table is -ENOSYS");
    check_eq(gnttab_op(GNTTABOP_transfer, page_a, 1), -XEN_ENOSYS, "transfer is -ENOSYS");
    check_eq(gnttab_op(GNTTABOP_cache_flush, page_a, 1), -XEN_ENOSYS, "cache_flush is -ENOSYS");
    check_eq(gnttab_op(GNTTABOP_query_size, page_a, 0xffffffffu), -XEN_EINVAL,
             "count 0xffffffff is -EINVAL");
}
