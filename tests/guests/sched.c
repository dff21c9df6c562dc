/*
 * __HYPERVISOR_sched_op. Expected codes follow
 * xen/common/sched/core.c:do_sched_op(): yield returns 0, a struct that
 * cannot be copied in is -EFAULT, an unknown op is -ENOSYS.
 *
 * The run ends through SCHEDOP_shutdown_code: the guest records the real
 * outcome (poweroff on PASS, crash on FAIL) with shutdown_code, then calls
 * SCHEDOP_shutdown(SHUTDOWN_reboot). Xen's domain_shutdown() replaces the
 * reason with a recorded shutdown_code, so a VMM that implements it exits
 * with poweroff (PASS) or crash (FAIL); one that ignores it reports reboot.
 */
#include "kit.h"
#include <xen/sched.h>

void guest_main(void)
{
    struct sched_shutdown s;
    unsigned int final;
    long rc;

    printf("# sched_op tests, %d-bit guest\n", KIT_BITS);
    check_eq(HYPERVISOR_sched_op(SCHEDOP_yield, NULL), 0, "SCHEDOP_yield returns 0");
    check_eq(HYPERVISOR_sched_op(SCHEDOP_yield, BAD_PTR), 0,
             "SCHEDOP_yield ignores its argument");
    check_eq(HYPERVISOR_sched_op(100, NULL), -XEN_ENOSYS, "SCHEDOP 100 is -ENOSYS");
    check_eq(HYPERVISOR_sched_op(-1, NULL), -XEN_ENOSYS, "SCHEDOP -1 is -ENOSYS");
    for (unsigned int p = 0; p < ARRAY_SIZE(kit_bad_ptrs); p++) {
        check_eq(HYPERVISOR_sched_op(SCHEDOP_shutdown, (void *)kit_bad_ptrs[p]), -XEN_EFAULT,
                 "SCHEDOP_shutdown with arg %#lx is -EFAULT", kit_bad_ptrs[p]);
        check_eq(HYPERVISOR_sched_op(SCHEDOP_shutdown_code, (void *)kit_bad_ptrs[p]),
                 -XEN_EFAULT, "SCHEDOP_shutdown_code with arg %#lx is -EFAULT",
                 kit_bad_ptrs[p]);
    }

    final = kit_checks_failed() ? SHUTDOWN_crash : SHUTDOWN_poweroff;
    s.reason = final;
    rc = HYPERVISOR_sched_op(SCHEDOP_shutdown_code, &s);
    check_eq(rc, 0, "SCHEDOP_shutdown_code(%u) returns 0", final);
    if (kit_checks_failed()) {
        printf("RESULT: FAIL %s %u/%u failed\n", kit_guest_name, kit_checks_failed(),
               kit_checks_run());
        kit_shutdown(SHUTDOWN_crash);
    }
    printf("RESULT: PASS %s %u checks\n", kit_guest_name, kit_checks_run());
    printf("# SCHEDOP_shutdown(reboot): the recorded code (poweroff) must win\n");
    kit_shutdown(SHUTDOWN_reboot);
}
