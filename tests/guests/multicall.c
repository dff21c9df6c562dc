/*
 * __HYPERVISOR_multicall. Expected behaviour follows xen/common/multicall.c
 * (do_multicall) and the HVM dispatch (xen/arch/x86/hvm/hypercall.c):
 * each entry's result field receives its call's return value and the
 * multicall itself returns 0; an entry that cannot be read ends the batch
 * with -EFAULT; an op outside the HVM table gets -ENOSYS in its result and
 * the batch goes on; a nested multicall gets -EINVAL ("Multicall reentry is
 * disallowed").
 */
#include "kit.h"
#include <xen/version.h>

#define UNSET ((xen_ulong_t)0xdead)

static multicall_entry_t calls[4];

static void set_call(multicall_entry_t *c, unsigned long op, unsigned long a0, unsigned long a1,
                     unsigned long a2)
{
    memset(c, 0, sizeof(*c));
    c->op = op;
    c->result = UNSET;
    c->args[0] = a0;
    c->args[1] = a1;
    c->args[2] = a2;
}

static long result(int i)
{
    return (long)calls[i].result;
}

static void test_batch(void)
{
    static const char msg[] = "multicall guest: console_io inside a multicall\n";
    long version = HYPERVISOR_xen_version(XENVER_version, NULL);

    set_call(&calls[0], __HYPERVISOR_xen_version, XENVER_version, 0, 0);
    set_call(&calls[1], __HYPERVISOR_console_io, CONSOLEIO_write, sizeof(msg) - 1, UL(msg));
    set_call(&calls[2], __HYPERVISOR_xen_version, XENVER_pagesize, 0, 0);
    check_eq(HYPERVISOR_multicall(calls, 3), 0, "multicall of 3 entries returns 0");
    check_eqx(result(0), version, "entry 0 (XENVER_version) result is the version");
    check_eq(result(1), 0, "entry 1 (CONSOLEIO_write) result is 0");
    check_eq(result(2), 4096, "entry 2 (XENVER_pagesize) result is 4096");
    check_eqx(calls[0].op, __HYPERVISOR_xen_version, "entry 0's op is left unchanged");
    check_eqx(calls[1].args[2], UL(msg), "entry 1's args are left unchanged");
}

static void test_errors(void)
{
    set_call(&calls[0], 63, 0, 0, 0);
    set_call(&calls[1], __HYPERVISOR_xen_version, XENVER_pagesize, 0, 0);
    set_call(&calls[2], __HYPERVISOR_set_trap_table, 0, 0, 0);
    check_eq(HYPERVISOR_multicall(calls, 3), 0, "multicall with failing entries returns 0");
    check_eq(result(0), -XEN_ENOSYS, "entry with hypercall 63 gets -ENOSYS");
    check_eq(result(1), 4096, "the entry after a failing one still runs");
    check_eq(result(2), -XEN_ENOSYS, "PV-only set_trap_table in an HVM multicall gets -ENOSYS");

    set_call(&calls[0], __HYPERVISOR_multicall, UL(&calls[1]), 1, 0);
    set_call(&calls[1], __HYPERVISOR_xen_version, XENVER_pagesize, 0, 0);
    check_eq(HYPERVISOR_multicall(calls, 1), 0, "multicall holding a nested multicall returns 0");
    check_eq(result(0), -XEN_EINVAL, "the nested multicall entry gets -EINVAL");
    check_eqx(calls[1].result, UNSET, "the nested batch's entry did not run");

    set_call(&calls[0], __HYPERVISOR_xen_version, XENVER_pagesize, 0, 0);
    check_eq(HYPERVISOR_multicall(calls, 0), 0, "multicall of 0 entries returns 0");
    check_eqx(calls[0].result, UNSET, "an empty multicall runs nothing");

    for (unsigned int p = 0; p < ARRAY_SIZE(kit_bad_ptrs); p++)
        check_eq(HYPERVISOR_multicall((void *)kit_bad_ptrs[p], 2), -XEN_EFAULT,
                 "multicall with list %#lx is -EFAULT", kit_bad_ptrs[p]);
}

void guest_main(void)
{
    printf("# multicall tests, %d-bit guest\n", KIT_BITS);
    test_batch();
    test_errors();
}
