/*
 * The guest embedded in xenkvm and booted when no kernel is given: a short
 * tour of what a PVH guest sees (Xen version and capabilities, the memory
 * map, the time in shared_info), then a clean poweroff. Built 32-bit.
 */
#include "kit.h"
#include <xen/memory.h>
#include <xen/sched.h>
#include <xen/version.h>

static const char *e820_type(uint32_t type)
{
    switch (type) {
    case XEN_HVM_MEMMAP_TYPE_RAM:
        return "RAM";
    case XEN_HVM_MEMMAP_TYPE_RESERVED:
        return "reserved";
    case XEN_HVM_MEMMAP_TYPE_ACPI:
        return "ACPI";
    case XEN_HVM_MEMMAP_TYPE_NVS:
        return "ACPI NVS";
    default:
        return "other";
    }
}

static void show_version(void)
{
    static xen_extraversion_t extra;
    static xen_capabilities_info_t caps;
    long v = HYPERVISOR_xen_version(XENVER_version, NULL);

    if (HYPERVISOR_xen_version(XENVER_extraversion, extra))
        extra[0] = '\0';
    if (HYPERVISOR_xen_version(XENVER_capabilities, caps))
        caps[0] = '\0';
    printf("Hypervisor:   Xen %ld.%ld%s (CPUID leaves at %#x)\n", v >> 16, v & 0xffff, extra,
           kit_xen.base);
    printf("Capabilities: %s\n", caps);
}

/* Returns a hole for shared_info, or 0. */
static uint64_t show_memory_map(void)
{
    static struct e820_entry map[32];
    unsigned int n = ARRAY_SIZE(map);
    uint64_t ram = 0;
    long rc = kit_memory_map(map, &n);

    if (rc) {
        printf("XENMEM_memory_map failed: %ld\n", rc);
        return 0;
    }
    printf("Memory map:\n");
    for (unsigned int i = 0; i < n; i++) {
        printf("  %#011llx-%#011llx %s\n", (unsigned long long)map[i].addr,
               (unsigned long long)(map[i].addr + map[i].size - 1), e820_type(map[i].type));
        if (map[i].type == XEN_HVM_MEMMAP_TYPE_RAM)
            ram += map[i].size;
    }
    printf("  %llu MiB of RAM\n", (unsigned long long)(ram >> 20));
    return kit_e820_hole(map, n);
}

/* Nanoseconds since boot, the way a PV clock reader computes them. */
static uint64_t system_time_ns(const volatile struct vcpu_time_info *t)
{
    uint32_t version;
    uint64_t delta, ns;

    do {
        version = t->version;
        delta = rdtsc() - t->tsc_timestamp;
        if (t->tsc_shift >= 0)
            delta <<= t->tsc_shift;
        else
            delta >>= -t->tsc_shift;
        /* (delta * mul) >> 32 with 32-bit multiplies only */
        ns = (((delta & 0xffffffffu) * t->tsc_to_system_mul) >> 32) +
             (delta >> 32) * t->tsc_to_system_mul;
        ns += t->system_time;
    } while ((version & 1) || version != t->version);
    return ns;
}

static void show_date(uint64_t secs)
{
    uint32_t sod, days = (uint32_t)kit_udiv64(secs, 86400, &sod);
    /* days since 1970-01-01 to a civil date (H. Hinnant's algorithm) */
    int32_t z = (int32_t)days + 719468, era = z / 146097;
    uint32_t doe = (uint32_t)(z - era * 146097);
    uint32_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    uint32_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    uint32_t mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1;
    uint32_t m = mp < 10 ? mp + 3 : mp - 9;
    int32_t y = (int32_t)yoe + era * 400 + (m <= 2);

    printf("Wall clock:   %d-%02u-%02u %02u:%02u:%02u UTC\n", y, m, d, sod / 3600,
           sod / 60 % 60, sod % 60);
}

static void show_time(uint64_t hole)
{
    static struct xen_add_to_physmap xatp;
    const volatile struct shared_info *s = (const volatile void *)(unsigned long)hole;
    uint64_t ns;
    uint32_t frac;
    long rc;

    if (!hole) {
        printf("No hole in the memory map for shared_info.\n");
        return;
    }
    xatp.domid = DOMID_SELF;
    xatp.space = XENMAPSPACE_shared_info;
    xatp.idx = 0;
    xatp.gpfn = (xen_pfn_t)(hole >> 12);
    rc = HYPERVISOR_memory_op(XENMEM_add_to_physmap, &xatp);
    if (rc) {
        printf("XENMEM_add_to_physmap(shared_info) failed: %ld\n", rc);
        return;
    }
    if (!s->vcpu_info[0].time.tsc_to_system_mul) {
        printf("shared_info at %#llx has no time yet.\n", (unsigned long long)hole);
        return;
    }
    ns = system_time_ns(&s->vcpu_info[0].time);
    printf("Uptime:       %llu.%09u s (shared_info mapped at %#llx)\n",
           (unsigned long long)kit_udiv64(ns, 1000000000u, &frac), frac,
           (unsigned long long)hole);
    if (s->wc_sec)
        show_date(s->wc_sec + kit_udiv64(ns + s->wc_nsec, 1000000000u, NULL));
}

void guest_main(void)
{
    uint64_t hole;

    printf("\nHello from the xenkvm default guest: a tiny 32-bit PVH kernel.\n");
    show_version();
    hole = show_memory_map();
    show_time(hole);
    printf("Command line: \"%s\"\n", kit_cmdline());
    printf("Boot your own kernel with: xenkvm run --kernel <file>. Powering off.\n");
    kit_shutdown(SHUTDOWN_poweroff);
}
