/*
 * SCHEDOP_poll and SCHEDOP_block (1 vCPU, callback vector). Expected
 * behaviour follows xen/common/sched/core.c:
 *  - do_poll(): nr_ports > 128 is -EINVAL; returns 0 at once when a listed
 *    port is already pending (masked or not); a listed port >= 4096 (the
 *    2-level max_evtchns) is -EINVAL, an unreadable port list -EFAULT;
 *    otherwise the vCPU sleeps until a listed port becomes pending
 *    (evtchn_check_pollers, even while masked) or the absolute timeout
 *    (Xen system time, 0 = none) passes, and returns 0;
 *  - SCHEDOP_block sleeps until an event is sent to the vCPU.
 * The polled ports are masked so that no upcall (which would also kick the
 * vCPU awake) interferes.
 */
#include "events.h"
#include <xen/sched.h>

#define MS KIT_NS_PER_MS

static evtchn_port_t timer_port, ipi_port;

static long poll_ports(evtchn_port_t *ports, unsigned int n, uint64_t timeout)
{
    struct sched_poll p = { .nr_ports = n, .timeout = timeout };

    set_xen_guest_handle(p.ports, ports);
    return HYPERVISOR_sched_op(SCHEDOP_poll, &p);
}

static long singleshot(uint64_t deadline)
{
    struct vcpu_set_singleshot_timer t = { .timeout_abs_ns = deadline };

    return HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 0, &t);
}

static void test_poll_timeout(void)
{
    evtchn_port_t ports[1] = { ipi_port };
    uint64_t t0, t1, deadline;

    t0 = kit_now();
    deadline = t0 + 5 * MS;
    check_eq(poll_ports(ports, 1, deadline), 0, "poll(masked idle port, timeout +5 ms) returns 0");
    t1 = kit_now();
    printf("# poll with timeout returned %lld us after the deadline\n",
           (long long)(t1 - deadline) / 1000);
    check_true(t1 >= deadline, "poll did not return before its timeout");
    check_true(t1 < deadline + 50 * MS, "poll returned less than 50 ms after its timeout");

    t0 = kit_now();
    check_eq(poll_ports(ports, 1, t0 - MS), 0, "poll(timeout in the past) returns 0");
    check_true(kit_now() - t0 < 20 * MS, "poll with a past timeout returns at once");
}

static void test_poll_pending(void)
{
    evtchn_port_t ports[2] = { ipi_port, timer_port };
    uint64_t t0, t1, fire;
    long rc1, rc2;

    check_eq(kit_evtchn_send(ipi_port), 0, "send(masked IPI port) returns 0");
    check_true(kit_2l_pending(ipi_port), "the masked IPI port is pending");
    t0 = kit_now();
    check_eq(poll_ports(ports, 1, t0 + 1000 * MS), 0, "poll(pending port, timeout +1 s) returns 0");
    check_true(kit_now() - t0 < 20 * MS, "poll on a pending port returns at once");
    check_true(kit_2l_pending(ipi_port), "poll leaves the port pending");
    kit_2l_clear_pending(ipi_port);

    /* The masked timer port becomes pending while the vCPU polls it. */
    t0 = kit_now();
    fire = t0 + 10 * MS;
    rc1 = singleshot(fire);
    rc2 = poll_ports(&ports[1], 1, t0 + 1000 * MS);
    t1 = kit_now();
    check_eq(rc1, 0, "set_singleshot_timer(now + 10 ms) returns 0");
    check_eq(rc2, 0, "poll(timer port, timeout +1 s) returns 0");
    printf("# poll woken by the timer port %lld us after it fired\n", (long long)(t1 - fire) / 1000);
    check_true(t1 >= fire, "poll returned after the port's event, not before");
    check_true(t1 < t0 + 500 * MS, "poll returned when the port became pending, not at the timeout");
    check_true(kit_2l_pending(timer_port), "the polled timer port is pending");
    kit_2l_clear_pending(timer_port);

    /* Two ports: waking on the second one. */
    t0 = kit_now();
    fire = t0 + 10 * MS;
    rc1 = singleshot(fire);
    rc2 = poll_ports(ports, 2, 0);
    t1 = kit_now();
    check_eq(rc1, 0, "set_singleshot_timer(now + 10 ms) returns 0");
    check_eq(rc2, 0, "poll(IPI and timer ports, no timeout) returns 0");
    check_true(t1 >= fire, "poll on two ports slept until the timer port's event");
    check_true(kit_2l_pending(timer_port), "poll on two ports woke for the timer port");
    kit_2l_clear_pending(timer_port);
}

static void test_poll_errors(void)
{
    static evtchn_port_t many[129];
    evtchn_port_t bad[2] = { KIT_2L_PORTS, ipi_port };

    for (unsigned int i = 0; i < ARRAY_SIZE(many); i++)
        many[i] = ipi_port;
    check_eq(poll_ports(many, 129, kit_now() + MS), -XEN_EINVAL, "poll with 129 ports is -EINVAL");
    check_eq(poll_ports(bad, 2, kit_now() + MS), -XEN_EINVAL,
             "poll listing port 4096 is -EINVAL");
    for (unsigned int p = 0; p < ARRAY_SIZE(kit_bad_ptrs); p++) {
        check_eq(poll_ports((evtchn_port_t *)kit_bad_ptrs[p], 1, kit_now() + MS), -XEN_EFAULT,
                 "poll with port list at %#lx is -EFAULT", kit_bad_ptrs[p]);
        check_eq(HYPERVISOR_sched_op(SCHEDOP_poll, (void *)kit_bad_ptrs[p]), -XEN_EFAULT,
                 "SCHEDOP_poll with arg %#lx is -EFAULT", kit_bad_ptrs[p]);
    }
}

static void test_block(void)
{
    unsigned long n;
    uint64_t t0, fire;
    long rc1, rc2;

    kit_test_and_clear_bit(timer_port, &kit_shared_info->evtchn_mask[0]);
    kit_2l_clear_pending(timer_port);
    n = kit_port_count[timer_port];
    /* Arm and block with interrupts off: an event taken before
     * SCHEDOP_block would leave nothing pending to end it (the block ends
     * on a pending upcall whatever IF says; it is taken at the sti). */
    kit_cli();
    t0 = kit_now();
    fire = t0 + 10 * MS;
    rc1 = singleshot(fire);
    rc2 = HYPERVISOR_sched_op(SCHEDOP_block, NULL);
    kit_sti();
    check_eq(rc1, 0, "set_singleshot_timer(now + 10 ms) returns 0");
    check_eq(rc2, 0, "SCHEDOP_block returns 0");
    check_true(kit_wait_ge(&kit_port_count[timer_port], n + 1, kit_now() + 50 * MS),
               "the timer event that ended SCHEDOP_block was delivered");
    printf("# SCHEDOP_block returned %lld us after the timer\n",
           (long long)(kit_now() - fire) / 1000);
    check_true(kit_now() >= fire, "SCHEDOP_block slept until the event");
}

void guest_main(void)
{
    printf("# SCHEDOP_poll / SCHEDOP_block tests\n");
    kit_events_init();
    if (kit_set_callback_vector(KIT_CALLBACK_VECTOR))
        kit_abort("cannot set HVM_PARAM_CALLBACK_IRQ");
    check_eq(kit_evtchn_bind_virq(VIRQ_TIMER, 0, &timer_port), 0, "bind_virq(VIRQ_TIMER) returns 0");
    check_eq(kit_evtchn_bind_ipi(0, &ipi_port), 0, "bind_ipi(vCPU 0) returns 0");
    kit_port_bind(timer_port, 0, NULL);
    kit_port_bind(ipi_port, 0, NULL);
    kit_2l_mask(timer_port);
    kit_2l_mask(ipi_port);
    kit_sti();
    test_poll_timeout();
    test_poll_pending();
    test_poll_errors();
    test_block();
    kit_cli();
}
