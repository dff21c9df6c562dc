/*
 * __HYPERVISOR_xen_version: every XENVER_* sub-op of <xen/version.h>.
 * Expected codes follow xen/common/kernel.c:do_xen_version().
 */
#include "kit.h"
#include <xen/version.h>

#define SENTINEL 0x5a

/* A buffer with guard bytes after it: Xen copies exactly the ABI size. */
#define GUARDED(type) struct { type v; uint8_t guard[16]; }

static int guard_intact(const uint8_t *guard)
{
    for (int i = 0; i < 16; i++)
        if (guard[i] != SENTINEL)
            return 0;
    return 1;
}

static void check_string_op(int cmd, const char *name, void *buf, size_t size,
                            const uint8_t *guard)
{
    long rc;

    memset(buf, SENTINEL, size + 16);
    rc = HYPERVISOR_xen_version(cmd, buf);
    check_eq(rc, 0, "XENVER_%s returns 0", name);
    if (check_true(strnlen(buf, size) < size, "XENVER_%s is NUL-terminated within %u bytes",
                   name, (unsigned int)size))
        printf("# %s: \"%s\"\n", name, (char *)buf);
    check_true(guard_intact(guard), "XENVER_%s writes no more than %u bytes", name,
               (unsigned int)size);
}

static void test_strings(void)
{
    static GUARDED(xen_extraversion_t) extra;
    static GUARDED(xen_changeset_info_t) changeset;
    static GUARDED(xen_capabilities_info_t) caps;
    static GUARDED(xen_commandline_t) cmdline;
    const char *want = KIT_BITS == 64 ? "hvm-3.0-x86_64" : "hvm-3.0-x86_32";

    check_string_op(XENVER_extraversion, "extraversion", &extra, sizeof(extra.v), extra.guard);
    check_string_op(XENVER_changeset, "changeset", &changeset, sizeof(changeset.v),
                    changeset.guard);
    check_string_op(XENVER_capabilities, "capabilities", &caps, sizeof(caps.v), caps.guard);
    check_true(strstr(caps.v, want) != NULL, "capabilities list %s", want);
    check_string_op(XENVER_commandline, "commandline", &cmdline, sizeof(cmdline.v),
                    cmdline.guard);
    /* kernel.c: a denied domain reads xen_deny()'s string instead. */
    check_true(strcmp(cmdline.v, "<denied>") == 0, "XENVER_commandline reads <denied> for a domU");
}

static void test_compile_info(void)
{
    static GUARDED(xen_compile_info_t) ci;
    long rc;

    memset(&ci, SENTINEL, sizeof(ci));
    rc = HYPERVISOR_xen_version(XENVER_compile_info, &ci.v);
    check_eq(rc, 0, "XENVER_compile_info returns 0");
    if (check_true(strnlen(ci.v.compiler, sizeof(ci.v.compiler)) < sizeof(ci.v.compiler) &&
                   strnlen(ci.v.compile_by, sizeof(ci.v.compile_by)) < sizeof(ci.v.compile_by) &&
                   strnlen(ci.v.compile_domain, sizeof(ci.v.compile_domain)) <
                       sizeof(ci.v.compile_domain) &&
                   strnlen(ci.v.compile_date, sizeof(ci.v.compile_date)) <
                       sizeof(ci.v.compile_date),
               "XENVER_compile_info fields are NUL-terminated"))
        printf("# compiled by %s@%s with %s on %s\n", ci.v.compile_by, ci.v.compile_domain,
               ci.v.compiler, ci.v.compile_date);
    check_true(guard_intact(ci.guard), "XENVER_compile_info writes only its struct");
}

static void test_version(void)
{
    long v = HYPERVISOR_xen_version(XENVER_version, NULL);

    printf("# Xen %ld.%ld, CPUID base %#x (max leaf %#x), hypercall MSR %#x, %u page(s)\n",
           v >> 16, v & 0xffff, kit_xen.base, kit_xen.max_leaf, kit_xen.msr, kit_xen.nr_pages);
    check_eqx((unsigned long)v, kit_xen.version, "XENVER_version equals CPUID base+1 EAX");
    check_true((v >> 16) >= 3, "XENVER_version major is at least 3");
    /* XENVER_version ignores its argument. */
    check_eqx((unsigned long)HYPERVISOR_xen_version(XENVER_version, BAD_PTR), (unsigned long)v,
              "XENVER_version ignores a bad argument pointer");
}

static void test_platform_and_pagesize(void)
{
    static xen_platform_parameters_t pp;
    static uint8_t dummy[16];

    check_eq(HYPERVISOR_xen_version(XENVER_platform_parameters, &pp), 0,
             "XENVER_platform_parameters returns 0");
    printf("# virt_start %#lx\n", (unsigned long)pp.virt_start);
    check_eq(HYPERVISOR_xen_version(XENVER_pagesize, NULL), 4096,
             "XENVER_pagesize(NULL) is 4096");
    check_eq(HYPERVISOR_xen_version(XENVER_pagesize, dummy), -XEN_EINVAL,
             "XENVER_pagesize with a non-NULL argument is -EINVAL");
}

static void test_features(void)
{
    static xen_feature_info_t fi;
    long rc;

    fi.submap_idx = 0;
    fi.submap = 0;
    rc = HYPERVISOR_xen_version(XENVER_get_features, &fi);
    check_eq(rc, 0, "XENVER_get_features submap 0 returns 0");
    printf("# features[0] = %#x\n", fi.submap);
    check_true(fi.submap & (1u << XENFEAT_auto_translated_physmap),
               "XENFEAT_auto_translated_physmap is set for an HVM guest");
    check_true(fi.submap & (1u << XENFEAT_hvm_callback_vector),
               "XENFEAT_hvm_callback_vector is set for an HVM guest");
    check_true(!(fi.submap & (1u << XENFEAT_mmu_pt_update_preserve_ad)),
               "PV-only XENFEAT_mmu_pt_update_preserve_ad is clear");
    check_eq(fi.submap_idx, 0, "XENVER_get_features keeps submap_idx");

    fi.submap_idx = XENFEAT_NR_SUBMAPS;
    check_eq(HYPERVISOR_xen_version(XENVER_get_features, &fi), -XEN_EINVAL,
             "XENVER_get_features submap %u (out of range) is -EINVAL", XENFEAT_NR_SUBMAPS);
    fi.submap_idx = 0xffffffffu;
    check_eq(HYPERVISOR_xen_version(XENVER_get_features, &fi), -XEN_EINVAL,
             "XENVER_get_features submap 0xffffffff is -EINVAL");
}

static void test_guest_handle(void)
{
    static GUARDED(xen_domain_handle_t) h;

    memset(&h, SENTINEL, sizeof(h));
    check_eq(HYPERVISOR_xen_version(XENVER_guest_handle, h.v), 0,
             "XENVER_guest_handle returns 0");
    check_true(guard_intact(h.guard), "XENVER_guest_handle writes exactly 16 bytes");
}

/* kernel.c: an unprivileged domain (XSM's default policy denies it) gets
 * -EPERM before the argument is even looked at. */
static void test_build_id(void)
{
    static xen_build_id_t id;

    check_eq(HYPERVISOR_xen_version(XENVER_build_id, NULL), -XEN_EPERM,
             "XENVER_build_id(NULL) is -EPERM for a domU");
    id.len = 64;
    check_eq(HYPERVISOR_xen_version(XENVER_build_id, &id), -XEN_EPERM,
             "XENVER_build_id is -EPERM for a domU");
    for (unsigned int p = 0; p < ARRAY_SIZE(kit_bad_ptrs); p++)
        check_eq(HYPERVISOR_xen_version(XENVER_build_id, (void *)kit_bad_ptrs[p]), -XEN_EPERM,
                 "XENVER_build_id with buffer %#lx is still -EPERM", kit_bad_ptrs[p]);
}

static void test_bad_pointers(void)
{
    static const struct {
        int cmd;
        const char *name;
    } ops[] = {
        { XENVER_extraversion, "extraversion" },
        { XENVER_compile_info, "compile_info" },
        { XENVER_capabilities, "capabilities" },
        { XENVER_changeset, "changeset" },
        { XENVER_platform_parameters, "platform_parameters" },
        { XENVER_get_features, "get_features" },
        { XENVER_guest_handle, "guest_handle" },
        { XENVER_commandline, "commandline" },
    };

    for (unsigned int p = 0; p < ARRAY_SIZE(kit_bad_ptrs); p++)
        for (unsigned int i = 0; i < ARRAY_SIZE(ops); i++)
            check_eq(HYPERVISOR_xen_version(ops[i].cmd, (void *)kit_bad_ptrs[p]), -XEN_EFAULT,
                     "XENVER_%s with buffer %#lx is -EFAULT", ops[i].name, kit_bad_ptrs[p]);
}

void guest_main(void)
{
    printf("# xen_version tests, %d-bit guest\n", KIT_BITS);
    test_version();
    test_strings();
    test_compile_info();
    test_platform_and_pagesize();
    test_features();
    test_guest_handle();
    test_build_id();
    check_eq(HYPERVISOR_xen_version(64, NULL), -XEN_ENOSYS, "unknown XENVER sub-op 64 is -ENOSYS");
    check_eq(HYPERVISOR_xen_version(-1, NULL), -XEN_ENOSYS, "XENVER sub-op -1 is -ENOSYS");
    test_bad_pointers();
}
