/*
 * Timers delivered as VIRQ_TIMER (1 vCPU, callback vector). Expected
 * behaviour follows xen/common/domain.c:do_vcpu_op() and
 * xen/common/sched/core.c (Xen 4.17 stable, whose public vcpu.h says the
 * VCPU_SSHOTTMR_future flag "can be ignored by the hypervisor"):
 *  - VCPUOP_set_singleshot_timer: a vCPU id past the last is -ENOENT (from
 *    do_vcpu_op), a struct that cannot be read -EFAULT; a timeout already
 *    passed stops the timer and sends the timer event at once, whatever
 *    the flags (Xen commit 19c6cbd90965 "xen/vcpu: ignore
 *    VCPU_SSHOTTMR_future" dropped the old -ETIME);
 *  - VCPUOP_stop_singleshot_timer cancels it;
 *  - set_timer_op(0) cancels; a timeout in the past fires at once; one
 *    2^50 ns or more ahead (or negative) is clamped to NOW() + 100 ms;
 *  - VCPUOP_set_periodic_timer: period < 1 ms or > STIME_DELTA_MAX
 *    (2^62 - 1) is -EINVAL; the first tick comes at once (periodic_last_event
 *    starts at 0), then one per period; VCPUOP_stop_periodic_timer stops it.
 * Timing: an event must never fire before its deadline (Xen system time
 * from vcpu_time_info); lateness is printed and bounded loosely (the CPL0
 * emulator adds up to ~1 ms).
 */
#include "events.h"

#define MS KIT_NS_PER_MS
#define LATE_NS (50 * MS)

static evtchn_port_t timer_port;
static volatile uint64_t fired_at;

static void on_timer(evtchn_port_t port)
{
    (void)port;
    fired_at = kit_now();
}

static long singleshot(uint64_t deadline, uint32_t flags)
{
    struct vcpu_set_singleshot_timer t = { .timeout_abs_ns = deadline, .flags = flags };

    return HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 0, &t);
}

static long periodic(unsigned int vcpu, uint64_t period)
{
    struct vcpu_set_periodic_timer t = { .period_ns = period };

    return HYPERVISOR_vcpu_op(VCPUOP_set_periodic_timer, vcpu, &t);
}

static unsigned long ticks(void)
{
    return kit_port_count[timer_port];
}

/* Waits for the next timer event; returns 1 if it came before the timeout. */
static int wait_tick(unsigned long before, uint64_t timeout)
{
    return kit_wait_ge(&kit_port_count[timer_port], before + 1, kit_now() + timeout);
}

static void expect_fire(const char *what, uint64_t deadline, unsigned long before)
{
    int came = wait_tick(before, 300 * MS);

    check_true(came, "%s: VIRQ_TIMER fired", what);
    if (!came)
        return;
    printf("# %s: fired %lld ns after the deadline\n", what, (long long)(fired_at - deadline));
    check_true(fired_at >= deadline, "%s: not before the deadline", what);
    check_true(fired_at < deadline + LATE_NS, "%s: less than 50 ms late", what);
    kit_spin_until(kit_now() + 3 * MS);
    check_eq(ticks(), before + 1, "%s: fired exactly once", what);
}

static void expect_silence(const char *what, unsigned long before, uint64_t for_ns)
{
    kit_sti();
    kit_spin_until(kit_now() + for_ns);
    check_eq(ticks(), before, "%s: no VIRQ_TIMER", what);
}

static void test_singleshot(unsigned int nr_vcpus)
{
    uint64_t d;
    unsigned long n;
    long rc1, rc2;

    n = ticks();
    d = kit_now() + 2 * MS;
    check_eq(singleshot(d, 0), 0, "set_singleshot_timer(now + 2 ms) returns 0");
    expect_fire("singleshot +2 ms", d, n);

    n = ticks();
    d = kit_now() - 1 * MS;
    check_eq(singleshot(d, 0), 0, "set_singleshot_timer(now - 1 ms) returns 0");
    expect_fire("singleshot in the past", d, n);

    n = ticks();
    d = kit_now() - 1 * MS;
    check_eq(singleshot(d, VCPU_SSHOTTMR_future), 0,
             "set_singleshot_timer(past, VCPU_SSHOTTMR_future) returns 0 (flag ignored)");
    expect_fire("singleshot in the past with VCPU_SSHOTTMR_future", d, n);

    n = ticks();
    rc1 = singleshot(kit_now() + 10 * MS, 0);
    rc2 = HYPERVISOR_vcpu_op(VCPUOP_stop_singleshot_timer, 0, NULL);
    check_eq(rc1, 0, "set_singleshot_timer(now + 10 ms) returns 0");
    check_eq(rc2, 0, "stop_singleshot_timer right after returns 0");
    expect_silence("stopped singleshot", n, 25 * MS);

    /* Back to back (printing a check takes ~1 ms of emulated time). */
    n = ticks();
    d = kit_now() + 10 * MS;
    rc1 = singleshot(d, 0);
    d += 5 * MS;
    rc2 = singleshot(d, 0);
    check_eq(rc1, 0, "set_singleshot_timer(now + 10 ms) returns 0");
    check_eq(rc2, 0, "set_singleshot_timer(now + 15 ms) right after returns 0");
    expect_fire("singleshot re-armed replaces the first deadline", d, n);

    check_eq(HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, nr_vcpus, &(struct
             vcpu_set_singleshot_timer){ .timeout_abs_ns = kit_now() }), -XEN_ENOENT,
             "set_singleshot_timer on vCPU %u (past the last) is -ENOENT", nr_vcpus);
    check_eq(HYPERVISOR_vcpu_op(VCPUOP_stop_singleshot_timer, nr_vcpus, NULL), -XEN_ENOENT,
             "stop_singleshot_timer on vCPU %u is -ENOENT", nr_vcpus);
    for (unsigned int p = 0; p < ARRAY_SIZE(kit_bad_ptrs); p++)
        check_eq(HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 0, (void *)kit_bad_ptrs[p]),
                 -XEN_EFAULT, "set_singleshot_timer with arg %#lx is -EFAULT", kit_bad_ptrs[p]);
}

static void test_set_timer_op(void)
{
    uint64_t d, t0;
    unsigned long n;
    long rc1, rc2;

    n = ticks();
    d = kit_now() + 2 * MS;
    check_eq(HYPERVISOR_set_timer_op(d), 0, "set_timer_op(now + 2 ms) returns 0");
    expect_fire("set_timer_op +2 ms", d, n);

    n = ticks();
    d = kit_now() - 1 * MS;
    check_eq(HYPERVISOR_set_timer_op(d), 0, "set_timer_op(now - 1 ms) returns 0");
    expect_fire("set_timer_op in the past", d, n);

    n = ticks();
    rc1 = HYPERVISOR_set_timer_op(kit_now() + 10 * MS);
    rc2 = HYPERVISOR_set_timer_op(0);
    check_eq(rc1, 0, "set_timer_op(now + 10 ms) returns 0");
    check_eq(rc2, 0, "set_timer_op(0) right after returns 0");
    expect_silence("set_timer_op(0) cancelled", n, 25 * MS);

    /* Xen's "Linux workaround": 2^50 ns or more ahead means NOW() + 100 ms. */
    n = ticks();
    t0 = kit_now();
    check_eq(HYPERVISOR_set_timer_op(t0 + (1ull << 51)), 0, "set_timer_op(now + 2^51 ns) returns 0");
    expect_fire("set_timer_op 2^51 ns ahead fires after 100 ms", t0 + 100 * MS, n);
}

static void test_periodic(unsigned int nr_vcpus)
{
    uint64_t t0, t1;
    unsigned long n, got, most;

    check_eq(periodic(0, 999999), -XEN_EINVAL, "set_periodic_timer(999999 ns) is -EINVAL");
    check_eq(periodic(0, 0), -XEN_EINVAL, "set_periodic_timer(0) is -EINVAL");
    check_eq(periodic(0, 1ull << 62), -XEN_EINVAL,
             "set_periodic_timer(2^62 ns > STIME_DELTA_MAX) is -EINVAL");
    check_eq(periodic(nr_vcpus, MS), -XEN_ENOENT,
             "set_periodic_timer on vCPU %u (past the last) is -ENOENT", nr_vcpus);

    n = ticks();
    kit_sti();
    t0 = kit_now();
    check_eq(periodic(0, MS), 0, "set_periodic_timer(1 ms) returns 0");
    /* 20 ms, or up to 500 ms while fewer than 5 ticks came: a host too busy
     * to run the timer thread drops ticks (Xen does not replay them), which
     * a one-shot timer mistaken for a periodic one could never make up. */
    kit_spin_until(t0 + 20 * MS);
    while (ticks() - n < 5 && kit_now() < t0 + 500 * MS)
        kit_spin_until(kit_now() + MS);
    check_eq(HYPERVISOR_vcpu_op(VCPUOP_stop_periodic_timer, 0, NULL), 0,
             "stop_periodic_timer returns 0");
    t1 = kit_now();
    got = ticks() - n;
    /* At most one tick at once plus one per elapsed period. */
    most = (unsigned long)((t1 - t0) / MS) + 1;
    printf("# periodic 1 ms: %lu ticks in %llu us\n", got, (unsigned long long)(t1 - t0) / 1000);
    check_true(got >= 5, "periodic 1 ms: several ticks (got %lu)", got);
    check_true(got <= most, "periodic 1 ms: no more ticks than periods (%lu <= %lu)", got, most);
    kit_spin_until(kit_now() + 2 * MS); /* a tick in flight at the stop */
    expect_silence("stopped periodic timer", ticks(), 10 * MS);
}

void guest_main(void)
{
    unsigned int nr_vcpus;

    printf("# timer tests (VIRQ_TIMER via callback vector)\n");
    kit_events_init();
    nr_vcpus = kit_nr_vcpus();
    if (kit_set_callback_vector(KIT_CALLBACK_VECTOR))
        kit_abort("cannot set HVM_PARAM_CALLBACK_IRQ");
    check_eq(kit_evtchn_bind_virq(VIRQ_TIMER, 0, &timer_port), 0, "bind_virq(VIRQ_TIMER) returns 0");
    kit_port_bind(timer_port, 0, on_timer);
    kit_sti();
    test_singleshot(nr_vcpus);
    test_set_timer_op();
    test_periodic(nr_vcpus);
    kit_cli();
}
