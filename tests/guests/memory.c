/*
 * __HYPERVISOR_memory_op: XENMEM_memory_map and XENMEM_add_to_physmap.
 * Expected codes:
 *  - XENMEM_memory_map (xen/arch/x86/mm.c:arch_memory_op): copy the struct
 *    in (-EFAULT), nr_entries = min(nr_entries, domain's count), copy the
 *    entries and the struct out (-EFAULT), return 0.
 *  - XENMEM_add_to_physmap (xen/common/memory.c:do_memory_op and
 *    xen/arch/x86/mm/p2m.c:xenmem_add_to_physmap_one): -EFAULT when the
 *    struct cannot be read, -ENOSYS for XENMAPSPACE_gmfn_foreign, -EINVAL
 *    for shared_info with idx != 0 and for an unknown space (no MFN).
 *  - an unknown sub-op ends in subarch_memory_op's -ENOSYS.
 */
#include "kit.h"
#include <xen/memory.h>

#define MAX_E820 64
static struct e820_entry map[MAX_E820];
static unsigned int map_n;
static uint8_t ram_page[4096] __attribute__((aligned(4096)));

static int ram_covers(uint64_t addr)
{
    for (unsigned int i = 0; i < map_n; i++)
        if (map[i].type == XEN_HVM_MEMMAP_TYPE_RAM && map[i].addr <= addr &&
            addr - map[i].addr < map[i].size)
            return 1;
    return 0;
}

static int sorted_and_disjoint(void)
{
    for (unsigned int i = 0; i < map_n; i++) {
        if (!map[i].size)
            return 0;
        if (i && map[i - 1].addr + map[i - 1].size > map[i].addr)
            return 0;
    }
    return 1;
}

static int matches_start_info(void)
{
    const struct hvm_memmap_table_entry *si =
        (const void *)(unsigned long)kit_start_info->memmap_paddr;

    if (kit_start_info->memmap_entries != map_n)
        return 0;
    for (unsigned int i = 0; i < map_n; i++)
        if (si[i].addr != map[i].addr || si[i].size != map[i].size || si[i].type != map[i].type)
            return 0;
    return 1;
}

static void test_memory_map(void)
{
    static struct e820_entry small[3];
    unsigned int n = MAX_E820;
    long rc = kit_memory_map(map, &n);

    check_eq(rc, 0, "XENMEM_memory_map returns 0");
    printf("# XENMEM_memory_map: %u entries\n", n);
    check_true(!rc && n >= 1 && n <= MAX_E820, "memory map has 1..%d entries", MAX_E820);
    map_n = !rc && n <= MAX_E820 ? n : 0;
    for (unsigned int i = 0; i < map_n; i++)
        printf("# e820[%u] %#llx-%#llx type %u\n", i, (unsigned long long)map[i].addr,
               (unsigned long long)(map[i].addr + map[i].size - 1), map[i].type);
    check_true(ram_covers(0), "RAM at address 0");
    check_true(ram_covers(0x100000), "RAM at 1 MiB");
    check_true(sorted_and_disjoint(), "entries are non-empty, sorted and disjoint");
    if (kit_start_info->version >= 1 && kit_start_info->memmap_entries)
        check_true(matches_start_info(), "XENMEM_memory_map matches the hvm_start_info memmap");

    /* Truncation: Xen copies min(nr_entries, count) and reports that. */
    memset(small, 0xa5, sizeof(small));
    n = 1;
    check_eq(kit_memory_map(small, &n), 0, "XENMEM_memory_map with room for 1 returns 0");
    check_eq(n, 1, "nr_entries reports the 1 entry copied");
    check_true(!memcmp(&small[0], &map[0], sizeof(small[0])), "the copied entry is entry 0");
    check_eqx(small[1].addr, 0xa5a5a5a5a5a5a5a5ull, "nothing is written past nr_entries");
    n = 0;
    check_eq(kit_memory_map(small, &n), 0, "XENMEM_memory_map with room for 0 returns 0");
    check_eq(n, 0, "nr_entries reports 0 entries copied");

    for (unsigned int p = 0; p < ARRAY_SIZE(kit_bad_ptrs); p++) {
        n = MAX_E820;
        check_eq(kit_memory_map((void *)kit_bad_ptrs[p], &n), -XEN_EFAULT,
                 "XENMEM_memory_map into buffer %#lx is -EFAULT", kit_bad_ptrs[p]);
        check_eq(HYPERVISOR_memory_op(XENMEM_memory_map, (void *)kit_bad_ptrs[p]), -XEN_EFAULT,
                 "XENMEM_memory_map with arg %#lx is -EFAULT", kit_bad_ptrs[p]);
    }
}

static long add_to_physmap(unsigned int space, unsigned long idx, unsigned long gpfn)
{
    static struct xen_add_to_physmap xatp;

    xatp.domid = DOMID_SELF;
    xatp.size = 0;
    xatp.space = space;
    xatp.idx = idx;
    xatp.gpfn = gpfn;
    return HYPERVISOR_memory_op(XENMEM_add_to_physmap, &xatp);
}

static void check_time(const volatile struct shared_info *s, const char *where)
{
    const volatile struct vcpu_time_info *t = &s->vcpu_info[0].time;
    uint32_t version = t->version;

    /* An odd version means an update in progress: retry a few times. */
    for (int tries = 0; (version & 1) && tries < 10; tries++)
        version = t->version;
    printf("# %s: time version %u, mul %#x, shift %d, system_time %llu\n", where, version,
           t->tsc_to_system_mul, t->tsc_shift, (unsigned long long)t->system_time);
    check_true(!(version & 1), "shared_info at %s: vcpu_info[0].time.version is even", where);
    check_true(t->tsc_to_system_mul != 0,
               "shared_info at %s: vcpu_info[0].time.tsc_to_system_mul != 0", where);
}

static void test_add_to_physmap(void)
{
    uint64_t hole = kit_e820_hole(map, map_n);
    unsigned long ram_pfn = (unsigned long)ram_page >> 12;

    check_true(hole != 0, "the memory map has a hole between 1 MiB and 3 GiB");
    if (hole) {
        check_eq(add_to_physmap(XENMAPSPACE_shared_info, 0, hole >> 12), 0,
                 "add_to_physmap(shared_info) at hole gpfn %#llx returns 0",
                 (unsigned long long)(hole >> 12));
        check_time((const volatile struct shared_info *)(unsigned long)hole, "the hole");
    }

    memset(ram_page, 0, sizeof(ram_page));
    check_eq(add_to_physmap(XENMAPSPACE_shared_info, 0, ram_pfn), 0,
             "add_to_physmap(shared_info) over RAM gpfn %#lx returns 0", ram_pfn);
    check_time((const volatile struct shared_info *)ram_page, "a RAM page");

    check_eq(add_to_physmap(XENMAPSPACE_shared_info, 1, ram_pfn), -XEN_EINVAL,
             "add_to_physmap(shared_info, idx 1) is -EINVAL");
    check_eq(add_to_physmap(99, 0, ram_pfn), -XEN_EINVAL, "add_to_physmap(space 99) is -EINVAL");
    check_eq(add_to_physmap(XENMAPSPACE_gmfn_foreign, 0, ram_pfn), -XEN_ENOSYS,
             "add_to_physmap(gmfn_foreign) is -ENOSYS");
    for (unsigned int p = 0; p < ARRAY_SIZE(kit_bad_ptrs); p++)
        check_eq(HYPERVISOR_memory_op(XENMEM_add_to_physmap, (void *)kit_bad_ptrs[p]),
                 -XEN_EFAULT, "XENMEM_add_to_physmap with arg %#lx is -EFAULT",
                 kit_bad_ptrs[p]);
}

void guest_main(void)
{
    printf("# memory_op tests, %d-bit guest\n", KIT_BITS);
    test_memory_map();
    test_add_to_physmap();
    check_eq(HYPERVISOR_memory_op(63, NULL), -XEN_ENOSYS, "XENMEM sub-op 63 is -ENOSYS");
}
