/*
 * __HYPERVISOR_hvm_op: HVMOP_get_param / HVMOP_set_param. Expected codes
 * follow xen/arch/x86/hvm/hvm.c: hvmop_get_param()/hvmop_set_param() copy
 * the struct in (-EFAULT), then reject index >= HVM_NR_PARAMS (-EINVAL);
 * do_hvm_op() answers an unknown op with -ENOSYS.
 */
#include "kit.h"
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

/* The guest keeps interrupts off, so a callback vector is never delivered. */
static void test_callback_irq(void)
{
    const uint64_t via = ((uint64_t)HVM_PARAM_CALLBACK_TYPE_VECTOR << 56) | 0xf3;
    uint64_t v;

    check_eq(set_param(HVM_PARAM_CALLBACK_IRQ, via), 0,
             "set_param(CALLBACK_IRQ, vector 0xf3) returns 0");
    check_eq(get_param(HVM_PARAM_CALLBACK_IRQ, &v), 0, "get_param(CALLBACK_IRQ) returns 0");
    check_eqx(v, via, "CALLBACK_IRQ round-trips");
    check_eq(set_param(HVM_PARAM_CALLBACK_IRQ, 0), 0, "set_param(CALLBACK_IRQ, 0) returns 0");
    check_eq(get_param(HVM_PARAM_CALLBACK_IRQ, &v), 0, "get_param(CALLBACK_IRQ) returns 0");
    check_eqx(v, 0, "CALLBACK_IRQ is disabled again");
}

void guest_main(void)
{
    printf("# hvm_op tests, %d-bit guest\n", KIT_BITS);
    test_get_params();
    test_errors();
    test_callback_irq();
}
