/*
 * VCPUOP_register_runstate_memory_area, VCPUOP_get_runstate_info and
 * VCPUOP_register_vcpu_time_memory_area (1 vCPU). Expected behaviour
 * follows xen/common/domain.c:do_vcpu_op() and xen/arch/x86/domain.c:
 * arch_do_vcpu_op():
 *  - a vCPU id past the last is -ENOENT, an unreadable struct -EFAULT;
 *  - register_runstate_memory_area stores the guest-virtual address
 *    (guest_handle_okay() is always true for HVM, so any address is
 *    accepted with 0) and copies the current runstate there at once; the
 *    area is rewritten on every state change (update_runstate_area); a
 *    NULL handle stops the updates;
 *  - runstate: state is RUNSTATE_running while the vCPU runs, times are
 *    ns of Xen system time; after SCHEDOP_block and a wake-up the blocked
 *    time has grown by about the time slept; without
 *    VMASST_TYPE_runstate_update_flag, XEN_RUNSTATE_UPDATE is never set;
 *  - register_vcpu_time_memory_area stores the address and calls
 *    force_update_vcpu_system_time(): a secondary copy of vcpu_info.time.
 */
#include "events.h"
#include <xen/sched.h>

#define MS KIT_NS_PER_MS
#define VCPUOP_register_vcpu_time_memory_area 13

static struct vcpu_runstate_info area __attribute__((aligned(64)));
static struct vcpu_time_info time_area __attribute__((aligned(64)));
static evtchn_port_t timer_port;

static long register_runstate(unsigned int vcpu, void *addr)
{
    struct vcpu_register_runstate_memory_area r;

    r.addr.p = (uint64_t)(unsigned long)addr;
    return HYPERVISOR_vcpu_op(VCPUOP_register_runstate_memory_area, vcpu, &r);
}

static void block_for(uint64_t ns)
{
    struct vcpu_set_singleshot_timer t = { .timeout_abs_ns = kit_now() + ns };
    unsigned long n = kit_port_count[timer_port];

    /* Interrupts off from the check to the block: an event taken in
     * between would leave nothing pending to end SCHEDOP_block (which ends
     * on a pending upcall whatever IF says), and the vCPU would sleep on. */
    kit_cli();
    if (HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 0, &t))
        kit_abort("set_singleshot_timer failed");
    if (kit_port_count[timer_port] == n)
        HYPERVISOR_sched_op(SCHEDOP_block, NULL);
    kit_sti();
    if (!kit_wait_ge(&kit_port_count[timer_port], n + 1, kit_now() + 100 * MS))
        kit_abort("the timer that should end SCHEDOP_block never came");
}

static void test_runstate(unsigned int nr_vcpus)
{
    volatile struct vcpu_runstate_info *a = &area;
    struct vcpu_runstate_info info, before;
    uint64_t now, blocked_grew;

    memset(&area, 0xff, sizeof(area));
    check_eq(register_runstate(0, &area), 0, "register_runstate_memory_area(vCPU 0) returns 0");
    now = kit_now();
    check_eq(a->state, RUNSTATE_running, "the area was written at once: RUNSTATE_running");
    check_true(!(a->state_entry_time & XEN_RUNSTATE_UPDATE), "XEN_RUNSTATE_UPDATE is clear");
    check_true(a->state_entry_time <= now, "state_entry_time is not in the future");
    check_true(a->time[RUNSTATE_running] <= now, "time[running] is at most the system time");
    printf("# runstate: entry %llu, running %llu, runnable %llu, blocked %llu, offline %llu\n",
           (unsigned long long)a->state_entry_time, (unsigned long long)a->time[0],
           (unsigned long long)a->time[1], (unsigned long long)a->time[2],
           (unsigned long long)a->time[3]);

    memcpy(&before, (const void *)a, sizeof(before));
    block_for(5 * MS);
    check_eq(a->state, RUNSTATE_running, "after block and wake-up the area says running");
    check_true(a->state_entry_time > before.state_entry_time, "state_entry_time moved forward");
    blocked_grew = a->time[RUNSTATE_blocked] - before.time[RUNSTATE_blocked];
    printf("# blocked time grew by %llu us\n", (unsigned long long)blocked_grew / 1000);
    check_true(blocked_grew >= 2 * MS && blocked_grew < 200 * MS,
               "time[blocked] grew by about the 5 ms slept");
    check_true(a->time[RUNSTATE_running] >= before.time[RUNSTATE_running],
               "time[running] did not go backwards");

    check_eq(HYPERVISOR_vcpu_op(VCPUOP_get_runstate_info, 0, &info), 0,
             "get_runstate_info(vCPU 0) returns 0");
    check_eq(info.state, RUNSTATE_running, "get_runstate_info: running");
    check_eq(info.time[RUNSTATE_blocked], a->time[RUNSTATE_blocked],
             "get_runstate_info agrees with the area on time[blocked]");
    check_true(info.state_entry_time == a->state_entry_time,
               "get_runstate_info agrees with the area on state_entry_time");

    /* NULL stops updates; Xen accepts any address for an HVM guest. */
    check_eq(register_runstate(0, NULL), 0, "register_runstate_memory_area(NULL) returns 0");
    memcpy(&before, (const void *)a, sizeof(before));
    block_for(3 * MS);
    check_true(!memcmp(&before, (const void *)a, sizeof(before)),
               "after registering NULL the old area is no longer written");
    check_eq(register_runstate(0, BAD_PTR), 0,
             "register_runstate_memory_area(%p) returns 0 (address not checked)", BAD_PTR);
    block_for(3 * MS);
    check_eq(register_runstate(0, &area), 0, "registering the good area again returns 0");
    check_eq(a->state, RUNSTATE_running, "... and it is written again");

    check_eq(register_runstate(nr_vcpus, &area), -XEN_ENOENT,
             "register_runstate_memory_area(vCPU %u) is -ENOENT", nr_vcpus);
    check_eq(HYPERVISOR_vcpu_op(VCPUOP_get_runstate_info, nr_vcpus, &info), -XEN_ENOENT,
             "get_runstate_info(vCPU %u) is -ENOENT", nr_vcpus);
    for (unsigned int p = 0; p < ARRAY_SIZE(kit_bad_ptrs); p++) {
        check_eq(HYPERVISOR_vcpu_op(VCPUOP_register_runstate_memory_area, 0,
                                    (void *)kit_bad_ptrs[p]),
                 -XEN_EFAULT, "register_runstate_memory_area with arg %#lx is -EFAULT",
                 kit_bad_ptrs[p]);
        check_eq(HYPERVISOR_vcpu_op(VCPUOP_get_runstate_info, 0, (void *)kit_bad_ptrs[p]),
                 -XEN_EFAULT, "get_runstate_info into %#lx is -EFAULT", kit_bad_ptrs[p]);
    }
}

static void test_time_area(void)
{
    volatile struct vcpu_time_info *t = &time_area;
    volatile struct vcpu_time_info *master = &kit_cpus[0].vcpu_info->time;
    struct vcpu_register_time_memory_area r;
    uint64_t before, secondary, after;
    int64_t diff;

    memset(&time_area, 0, sizeof(time_area));
    r.addr.p = (uint64_t)(unsigned long)&time_area;
    check_eq(HYPERVISOR_vcpu_op(VCPUOP_register_vcpu_time_memory_area, 0, &r), 0,
             "register_vcpu_time_memory_area returns 0");
    check_true(t->version != 0 && !(t->version & 1), "the secondary copy was written (even version)");
    check_eq(t->tsc_to_system_mul, master->tsc_to_system_mul, "same tsc_to_system_mul as vcpu_info");
    check_eq(t->tsc_shift, master->tsc_shift, "same tsc_shift as vcpu_info");
    /* Read between two reads of the master copy, so that the vCPU being
     * descheduled in between cannot make them look apart. */
    before = kit_now();
    secondary = kit_time_from(t);
    after = kit_now();
    diff = (int64_t)(secondary - before);
    printf("# secondary time copy read %lld ns after the master (%lld ns between master reads)\n",
           (long long)diff, (long long)(after - before));
    check_true(secondary + 1000 >= before && secondary <= after + 1000,
               "the secondary copy gives the same time (between two master reads, +-1 us)");
    for (unsigned int p = 0; p < ARRAY_SIZE(kit_bad_ptrs); p++)
        check_eq(HYPERVISOR_vcpu_op(VCPUOP_register_vcpu_time_memory_area, 0,
                                    (void *)kit_bad_ptrs[p]),
                 -XEN_EFAULT, "register_vcpu_time_memory_area with arg %#lx is -EFAULT",
                 kit_bad_ptrs[p]);
}

static long vm_assist(unsigned int cmd, unsigned int type)
{
    return hypercall2(__HYPERVISOR_vm_assist, cmd, type);
}

/* common/domain.c vm_assist(): an HVM guest may only switch the runstate
 * update flag (HVM_VM_ASSIST_MASK); unknown commands are -ENOSYS. With it
 * on, Xen sets XEN_RUNSTATE_UPDATE around each copy and clears it after. */
static void test_update_flag(void)
{
    volatile struct vcpu_runstate_info *a = &area;
    uint64_t before = a->state_entry_time;

    check_eq(vm_assist(VMASST_CMD_enable, 0), -XEN_EINVAL,
             "vm_assist(enable, 4gb_segments) is -EINVAL for an HVM guest");
    check_eq(vm_assist(VMASST_CMD_enable, 64), -XEN_EINVAL, "vm_assist type 64 is -EINVAL");
    check_eq(vm_assist(7, VMASST_TYPE_runstate_update_flag), -XEN_ENOSYS,
             "vm_assist command 7 is -ENOSYS");
    check_eq(vm_assist(VMASST_CMD_enable, VMASST_TYPE_runstate_update_flag), 0,
             "vm_assist(enable, runstate_update_flag) returns 0");
    block_for(3 * MS);
    check_true(a->state_entry_time > before, "the area was updated with the flag on");
    check_true(!(a->state_entry_time & XEN_RUNSTATE_UPDATE),
               "XEN_RUNSTATE_UPDATE is clear once the update is done");
    check_eq(vm_assist(VMASST_CMD_disable, VMASST_TYPE_runstate_update_flag), 0,
             "vm_assist(disable, runstate_update_flag) returns 0");
}

void guest_main(void)
{
    unsigned int nr_vcpus;

    printf("# runstate and time area tests\n");
    kit_events_init();
    nr_vcpus = kit_nr_vcpus();
    if (kit_set_callback_vector(KIT_CALLBACK_VECTOR))
        kit_abort("cannot set HVM_PARAM_CALLBACK_IRQ");
    if (kit_evtchn_bind_virq(VIRQ_TIMER, 0, &timer_port))
        kit_abort("bind_virq(VIRQ_TIMER) failed");
    kit_port_bind(timer_port, 0, NULL);
    kit_sti();
    test_runstate(nr_vcpus);
    test_update_flag();
    test_time_area();
    kit_cli();
}
