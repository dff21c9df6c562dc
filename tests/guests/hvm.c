/*
 * __HYPERVISOR_hvm_op: HVMOP_get_param / HVMOP_set_param. Expected codes
 * follow xen/arch/x86/hvm/hvm.c: hvmop_get_param()/hvmop_set_param() copy
 * the struct in (-EFAULT), then reject index >= HVM_NR_PARAMS (-EINVAL);
 * do_hvm_op() answers an unknown op with -ENOSYS.
 * HVMOP_get_time: Xen system time in ns, never going back; with
 * granularity=N on the command line (run with --time-granularity N), every
 * answer is a multiple of N and back-to-back calls mostly get the same one.
 * With policy=1 (run with --hypercall-policy
 * deny=hvm_op:get_time,deny=xen_version:extraversion), those two are -EPERM,
 * in a multicall too, and everything else works.
 */
#include "kit.h"
#include <xen/version.h>
#include <xen/hvm/hvm_op.h>
#include <xen/hvm/params.h>

static long get_param(uint32_t index, uint64_t *value)
{
    static struct xen_hvm_param p;
    long rc;

    p.domid = DOMID_SELF;
    p.index = index;
    p.value = 0xdeadbeefdeadbeefull;
    rc = HYPERVISOR_hvm_op(HVMOP_get_param, &p);
    *value = p.value;
    return rc;
}

static long set_param(uint32_t index, uint64_t value)
{
    static struct xen_hvm_param p;

    p.domid = DOMID_SELF;
    p.index = index;
    p.value = value;
    return HYPERVISOR_hvm_op(HVMOP_set_param, &p);
}

static void test_get_params(void)
{
    static const struct {
        uint32_t index;
        const char *name;
    } params[] = {
        { HVM_PARAM_STORE_PFN, "STORE_PFN" },
        { HVM_PARAM_STORE_EVTCHN, "STORE_EVTCHN" },
        { HVM_PARAM_CONSOLE_PFN, "CONSOLE_PFN" },
        { HVM_PARAM_CONSOLE_EVTCHN, "CONSOLE_EVTCHN" },
    };
    uint64_t v;

    for (unsigned int i = 0; i < ARRAY_SIZE(params); i++) {
        check_eq(get_param(params[i].index, &v), 0, "get_param(%s) returns 0", params[i].name);
        printf("# HVM_PARAM_%s = %#llx\n", params[i].name, (unsigned long long)v);
        check_true(v != 0xdeadbeefdeadbeefull, "get_param(%s) wrote a value", params[i].name);
    }
}

static void test_errors(void)
{
    uint64_t v;

    check_eq(get_param(HVM_NR_PARAMS, &v), -XEN_EINVAL,
             "get_param(HVM_NR_PARAMS = %u) is -EINVAL", HVM_NR_PARAMS);
    check_eq(get_param(0xffffffffu, &v), -XEN_EINVAL, "get_param(0xffffffff) is -EINVAL");
    check_eq(set_param(HVM_NR_PARAMS, 0), -XEN_EINVAL, "set_param(HVM_NR_PARAMS) is -EINVAL");
    for (unsigned int p = 0; p < ARRAY_SIZE(kit_bad_ptrs); p++) {
        check_eq(HYPERVISOR_hvm_op(HVMOP_get_param, (void *)kit_bad_ptrs[p]), -XEN_EFAULT,
                 "HVMOP_get_param with arg %#lx is -EFAULT", kit_bad_ptrs[p]);
        check_eq(HYPERVISOR_hvm_op(HVMOP_set_param, (void *)kit_bad_ptrs[p]), -XEN_EFAULT,
                 "HVMOP_set_param with arg %#lx is -EFAULT", kit_bad_ptrs[p]);
    }
    check_eq(HYPERVISOR_hvm_op(200, NULL), -XEN_ENOSYS, "HVMOP 200 is -ENOSYS");
    check_eq(HYPERVISOR_hvm_op(0x7fffffff, NULL), -XEN_ENOSYS, "HVMOP 0x7fffffff is -ENOSYS");
}

static uint64_t gsi(unsigned line)
{
    return ((uint64_t)HVM_PARAM_CALLBACK_TYPE_GSI << 56) | line;
}

/* The guest keeps interrupts off, so a callback vector is never delivered. */
static void test_callback_irq(void)
{
    const uint64_t via = ((uint64_t)HVM_PARAM_CALLBACK_TYPE_VECTOR << 56) | 0xf3;
    uint64_t v;

    check_eq(set_param(HVM_PARAM_CALLBACK_IRQ, via), 0,
             "set_param(CALLBACK_IRQ, vector 0xf3) returns 0");
    check_eq(get_param(HVM_PARAM_CALLBACK_IRQ, &v), 0, "get_param(CALLBACK_IRQ) returns 0");
    check_eqx(v, via, "CALLBACK_IRQ round-trips");
    /* A GSI line (Linux picks one when it has no vector callback): xenkvm
     * attaches it on this vCPU's thread, under its sandbox. */
    check_eq(set_param(HVM_PARAM_CALLBACK_IRQ, gsi(5)), 0, "set_param(CALLBACK_IRQ, GSI 5) returns 0");
    check_eq(set_param(HVM_PARAM_CALLBACK_IRQ, gsi(9)), 0, "set_param(CALLBACK_IRQ, GSI 9) moves it");
    check_eq(get_param(HVM_PARAM_CALLBACK_IRQ, &v), 0, "get_param(CALLBACK_IRQ) returns 0");
    check_eqx(v, gsi(9), "CALLBACK_IRQ GSI round-trips");
    check_eq(set_param(HVM_PARAM_CALLBACK_IRQ, 0), 0, "set_param(CALLBACK_IRQ, 0) returns 0");
    check_eq(get_param(HVM_PARAM_CALLBACK_IRQ, &v), 0, "get_param(CALLBACK_IRQ) returns 0");
    check_eqx(v, 0, "CALLBACK_IRQ is disabled again");
}

static long get_time(uint64_t *now)
{
    static struct xen_hvm_get_time t;
    long rc;

    t.now = 0xdeadbeefdeadbeefull;
    rc = HYPERVISOR_hvm_op(HVMOP_get_time, &t);
    *now = t.now;
    return rc;
}

#define TIME_CALLS 40

static void test_get_time(unsigned long granularity)
{
    uint64_t t[TIME_CALLS];
    unsigned int back = 0, same = 0, off_grain = 0;

    for (unsigned int i = 0; i < TIME_CALLS; i++)
        check_eq(get_time(&t[i]), 0, "HVMOP_get_time call %u returns 0", i);
    for (unsigned int i = 1; i < TIME_CALLS; i++) {
        back += t[i] < t[i - 1];
        same += t[i] == t[i - 1];
    }
    for (unsigned int i = 0; granularity && i < TIME_CALLS; i++) {
        uint32_t rem;
        kit_udiv64(t[i], (uint32_t)granularity, &rem);
        off_grain += rem != 0;
    }
    printf("# HVMOP_get_time: %llu .. %llu ns, %u repeats\n", (unsigned long long)t[0],
           (unsigned long long)t[TIME_CALLS - 1], same);
    check_eq(back, 0, "HVMOP_get_time never goes back");
    check_true(t[0] != 0xdeadbeefdeadbeefull, "HVMOP_get_time wrote the time");
    if (!granularity) {
        check_eq(same, 0, "exact time: each call sees a later ns");
        return;
    }
    check_eq(off_grain, 0, "every answer is a multiple of %lu ns", granularity);
    check_true(same >= TIME_CALLS / 2, "back-to-back calls mostly see the same answer (%u of %u)",
               same, TIME_CALLS - 1);
    check_eq(HYPERVISOR_hvm_op(HVMOP_get_time, BAD_PTR), -XEN_EFAULT,
             "HVMOP_get_time with a bad pointer is -EFAULT");
}

/* Run with deny=hvm_op:get_time,deny=xen_version:extraversion. */
static void test_policy(void)
{
    static multicall_entry_t mc[3];
    static xen_extraversion_t extra;
    static struct xen_hvm_param p = { .domid = DOMID_SELF, .index = HVM_PARAM_STORE_EVTCHN };
    uint64_t now;

    check_eq(get_time(&now), -XEN_EPERM, "HVMOP_get_time is denied: -EPERM");
    check_eqx(now, 0xdeadbeefdeadbeefull, "and wrote nothing");
    memset(extra, 0x5a, sizeof(extra));
    mc[0] = (multicall_entry_t){ .op = __HYPERVISOR_xen_version, .args = { XENVER_version } };
    mc[1] = (multicall_entry_t){ .op = __HYPERVISOR_xen_version,
                                 .args = { XENVER_extraversion, UL(extra) } };
    mc[2] = (multicall_entry_t){ .op = __HYPERVISOR_hvm_op,
                                 .args = { HVMOP_get_param, UL(&p) } };
    check_eq(HYPERVISOR_multicall(mc, 3), 0, "a multicall with a denied entry returns 0");
    check_eqx(mc[0].result, kit_xen.version, "entry 0 (xen_version) ran");
    check_eq((long)mc[1].result, -XEN_EPERM, "entry 1 (xen_version extraversion) is -EPERM");
    check_eq(extra[0], 0x5a, "and wrote nothing");
    check_eq((long)mc[2].result, 0, "entry 2 (hvm_op get_param) ran");
    check_eq(p.value, 2, "and read STORE_EVTCHN");
}

void guest_main(void)
{
    printf("# hvm_op tests, %d-bit guest\n", KIT_BITS);
    test_get_params();
    test_errors();
    test_callback_irq();
    if (kit_arg_ulong("policy", 0))
        test_policy();
    else
        test_get_time(kit_arg_ulong("granularity", 0));
}
