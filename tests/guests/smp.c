/*
 * SMP: APs started with VCPUOP_initialise (64-bit vcpu_hvm_context) and
 * VCPUOP_up, vcpu_info placement, IPIs between vCPUs, per-vCPU timers,
 * VCPUOP_down/up. Run with --vcpus 4 (or any N >= 2; `n=N` on the command
 * line makes the guest also check it got N, e.g. --vcpus 64 --cmdline n=64).
 * Expected codes follow xen/common/domain.c and xen/arch/x86/domain.c:
 *  - every VCPUOP on a vCPU id past the last is -ENOENT (domain_vcpu());
 *  - VCPUOP_is_up is 1 for a running vCPU, 0 for one never started or down;
 *  - VCPUOP_up of a vCPU never initialised is -EINVAL;
 *  - VCPUOP_initialise of an initialised vCPU is -EEXIST
 *    (arch_initialise_vcpu); of a vCPU >= 32 without a registered
 *    vcpu_info (still the dummy one) -EINVAL;
 *  - VCPUOP_get_physid is -EINVAL for a domU (not a pinned hwdom vCPU);
 *  - VCPUOP_set/stop_singleshot_timer on another vCPU is -EINVAL;
 *  - VCPUOP_register_vcpu_info (map_vcpu_info): offset past
 *    PAGE_SIZE - sizeof(vcpu_info) -EINVAL, a second registration -EINVAL,
 *    another vCPU that is up -EINVAL, a gfn that is not RAM -EINVAL, an
 *    unreadable struct -EFAULT; on success Xen marks every word pending
 *    (one spurious upcall) and events go to the new place only;
 *  - a vCPU that is down runs nothing; VCPUOP_up resumes it where it was
 *    and an event sent meanwhile is delivered.
 */
#include "events.h"

#define MS KIT_NS_PER_MS
#define VI_PAGES 8

struct ap_state {
    volatile uint64_t deadline, fired_at;
    volatile long virq_rc, sshot_rc;
    volatile unsigned long fired_cpu;
    evtchn_port_t timer_port;
};

static struct ap_state ap[KIT_MAX_CPUS];
static volatile unsigned long aps_in, timers_fired, hops, hop_target, wrong_cpu;
static evtchn_port_t ipi[KIT_MAX_CPUS];
static unsigned int nr;
static uint8_t vi_pages[VI_PAGES][4096] __attribute__((aligned(4096)));

/* vCPU i's vcpu_info: page i % 8, offset 64 * (i / 8 + 1). */
static unsigned long vi_addr(unsigned int i)
{
    return (unsigned long)vi_pages[i % VI_PAGES] + 64ul * (i / VI_PAGES + 1);
}

static long vcpu_op(int cmd, unsigned int id, void *arg)
{
    return HYPERVISOR_vcpu_op(cmd, id, arg);
}

static long singleshot(unsigned int id, uint64_t deadline)
{
    struct vcpu_set_singleshot_timer t = { .timeout_abs_ns = deadline };

    return vcpu_op(VCPUOP_set_singleshot_timer, id, &t);
}

static void on_timer(evtchn_port_t port)
{
    unsigned int me = kit_cpu_id();

    (void)port;
    ap[me].fired_at = kit_now();
    ap[me].fired_cpu = me;
    kit_atomic_inc(&timers_fired);
}

/* Runs on each AP once it is up (IF=0): report in, arm its own timer. */
static void ap_work(unsigned int id)
{
    evtchn_port_t port = 0;

    kit_atomic_inc(&aps_in);
    ap[id].virq_rc = kit_evtchn_bind_virq(VIRQ_TIMER, id, &port);
    ap[id].timer_port = port;
    if (!ap[id].virq_rc)
        kit_port_bind(port, id, on_timer);
    ap[id].deadline = kit_now() + 2 * MS;
    ap[id].sshot_rc = singleshot(id, ap[id].deadline);
}

static void ring_handler(evtchn_port_t port)
{
    unsigned int me = kit_cpu_id();

    if (port != ipi[me])
        kit_atomic_inc(&wrong_cpu);
    kit_atomic_inc(&hops);
    if (hops < hop_target)
        kit_evtchn_send(ipi[(me + 1) % nr]);
}

static void test_probe(void)
{
    struct vcpu_get_physid phys;
    unsigned int down = 0;

    check_eq(vcpu_op(VCPUOP_is_up, 0, NULL), 1, "is_up(vCPU 0) is 1");
    for (unsigned int i = 1; i < nr; i++)
        down += vcpu_op(VCPUOP_is_up, i, NULL) == 0;
    check_eq(down, nr - 1, "is_up is 0 for every AP before it starts");
    check_eq(vcpu_op(VCPUOP_is_up, nr, NULL), -XEN_ENOENT, "is_up(vCPU %u) is -ENOENT", nr);
    check_eq(vcpu_op(VCPUOP_is_up, 0x7fffffff, NULL), -XEN_ENOENT, "is_up(0x7fffffff) is -ENOENT");
    check_eq(vcpu_op(VCPUOP_get_physid, 0, &phys), -XEN_EINVAL, "get_physid(vCPU 0) is -EINVAL");
    check_eq(vcpu_op(VCPUOP_up, 1, NULL), -XEN_EINVAL, "up(vCPU 1) before initialise is -EINVAL");
    check_eq(kit_vcpu_initialise(nr, NULL), -XEN_ENOENT, "initialise(vCPU %u) is -ENOENT", nr);
    check_eq(vcpu_op(VCPUOP_up, nr, NULL), -XEN_ENOENT, "up(vCPU %u) is -ENOENT", nr);
    check_eq(vcpu_op(VCPUOP_down, nr, NULL), -XEN_ENOENT, "down(vCPU %u) is -ENOENT", nr);
    for (unsigned int p = 0; p < ARRAY_SIZE(kit_bad_ptrs); p++)
        check_eq(vcpu_op(VCPUOP_initialise, 1, (void *)kit_bad_ptrs[p]), -XEN_EFAULT,
                 "initialise(vCPU 1) with context at %#lx is -EFAULT", kit_bad_ptrs[p]);
}

static long register_at(unsigned int id, uint64_t mfn, uint32_t offset)
{
    struct vcpu_register_vcpu_info info = { .mfn = mfn, .offset = offset };

    return vcpu_op(VCPUOP_register_vcpu_info, id, &info);
}

/* Registers vcpu_info for vCPUs 0..last-1 (APs still down). */
static void test_register_vcpu_info(unsigned int last)
{
    unsigned long pfn = (unsigned long)vi_pages[1] >> 12;
    unsigned int failed = 0;

    check_eq(register_at(1, pfn, 4096 - 63), -XEN_EINVAL,
             "register_vcpu_info at offset 4033 (crosses the page) is -EINVAL");
    check_eq(register_at(1, 0xfffff, 0), -XEN_EINVAL,
             "register_vcpu_info at gfn 0xfffff (not RAM) is -EINVAL");
    check_eq(register_at(nr, pfn, 0), -XEN_ENOENT, "register_vcpu_info(vCPU %u) is -ENOENT", nr);
    for (unsigned int p = 0; p < ARRAY_SIZE(kit_bad_ptrs); p++)
        check_eq(vcpu_op(VCPUOP_register_vcpu_info, 1, (void *)kit_bad_ptrs[p]), -XEN_EFAULT,
                 "register_vcpu_info with arg %#lx is -EFAULT", kit_bad_ptrs[p]);
    if (nr > XEN_LEGACY_MAX_VCPUS)
        check_eq(kit_vcpu_initialise(XEN_LEGACY_MAX_VCPUS, ap_work), -XEN_EINVAL,
                 "initialise(vCPU 32) without a registered vcpu_info is -EINVAL");

    for (unsigned int i = 0; i < last; i++)
        if (kit_register_vcpu_info(i, vi_addr(i)))
            failed++;
    check_eq(failed, 0, "register_vcpu_info for vCPUs 0..%u (8 pages, offsets 64..) returns 0",
             last - 1);
    check_eq(register_at(0, (unsigned long)vi_pages[7] >> 12, 0), -XEN_EINVAL,
             "register_vcpu_info(vCPU 0) a second time is -EINVAL");
}

/* The BSP's events now arrive in its registered vcpu_info only. */
static void test_self_ipi(void)
{
    volatile struct vcpu_info *legacy = &kit_shared_info->vcpu_info[0];
    evtchn_port_t s = 0;

    kit_sti();
    kit_spin_until(kit_now() + 2 * MS); /* the spurious upcall after registering */
    legacy->evtchn_upcall_pending = 0;
    legacy->evtchn_pending_sel = 0;
    check_eq(kit_evtchn_bind_ipi(0, &s), 0, "bind_ipi(vCPU 0) returns 0");
    kit_port_bind(s, 0, NULL);
    check_eq(kit_evtchn_send(s), 0, "send(self IPI) returns 0");
    check_true(kit_wait_ge(&kit_port_count[s], 1, kit_now() + 200 * MS),
               "the self IPI arrived through the registered vcpu_info");
    check_eq(legacy->evtchn_upcall_pending, 0, "the legacy vcpu_info slot was not used");
    check_eq(legacy->evtchn_pending_sel, 0, "the legacy slot's pending_sel stays 0");
    check_eq(kit_evtchn_close(s), 0, "close(self IPI) returns 0");
}

static void start_aps(void)
{
    unsigned int init_failed = 0, up_failed = 0, up = 0;

    for (unsigned int i = 1; i < nr; i++) {
        if (kit_vcpu_initialise(i, ap_work))
            init_failed++;
        else if (vcpu_op(VCPUOP_up, i, NULL))
            up_failed++;
    }
    check_eq(init_failed, 0, "initialise(64-bit vcpu_hvm_context) returns 0 for every AP");
    check_eq(up_failed, 0, "up returns 0 for every AP");
    check_true(kit_wait_ge(&aps_in, nr - 1, kit_now() + 5000 * MS),
               "every AP reported in (%lu of %u)", aps_in, nr - 1);
    for (unsigned int i = 1; i < nr; i++)
        up += vcpu_op(VCPUOP_is_up, i, NULL) == 1;
    check_eq(up, nr - 1, "is_up is 1 for every AP");
    check_eq(kit_vcpu_initialise(1, ap_work), -XEN_EEXIST, "initialise(vCPU 1) again is -EEXIST");
    check_eq(singleshot(1, kit_now() + MS), -XEN_EINVAL,
             "set_singleshot_timer on another vCPU is -EINVAL");
    check_eq(vcpu_op(VCPUOP_stop_singleshot_timer, 1, NULL), -XEN_EINVAL,
             "stop_singleshot_timer on another vCPU is -EINVAL");
}

static void test_ap_timers(void)
{
    unsigned int bad_rc = 0, wrong = 0, early = 0;

    check_true(kit_wait_ge(&timers_fired, nr - 1, kit_now() + 2000 * MS),
               "every AP took its VIRQ_TIMER (%lu of %u)", timers_fired, nr - 1);
    for (unsigned int i = 1; i < nr; i++) {
        bad_rc += ap[i].virq_rc != 0 || ap[i].sshot_rc != 0;
        wrong += ap[i].fired_at && ap[i].fired_cpu != i;
        early += ap[i].fired_at && ap[i].fired_at < ap[i].deadline;
    }
    check_eq(bad_rc, 0, "bind_virq and set_singleshot_timer on each AP returned 0");
    check_eq(wrong, 0, "each timer fired on its own vCPU");
    check_eq(early, 0, "no timer fired before its deadline");
}

static void test_ring(void)
{
    unsigned int failed = 0, counts = 0, places = 0;

    for (unsigned int i = 0; i < nr; i++) {
        if (kit_evtchn_bind_ipi(i, &ipi[i]))
            failed++;
        else
            kit_port_bind(ipi[i], i, ring_handler);
    }
    check_eq(failed, 0, "bind_ipi for every vCPU returns 0");
    hop_target = 2 * nr;
    kit_sti();
    check_eq(kit_evtchn_send(ipi[1]), 0, "send(IPI of vCPU 1) returns 0");
    check_true(kit_wait_ge(&hops, 2 * nr, kit_now() + 5000 * MS),
               "the IPI went twice round the ring of vCPUs (%lu of %u hops)", hops, 2 * nr);
    kit_spin_until(kit_now() + 3 * MS);
    for (unsigned int i = 0; i < nr; i++) {
        counts += kit_port_count[ipi[i]] == 2;
        places += kit_port_last_cpu[ipi[i]] == i;
    }
    check_eq(counts, nr, "each vCPU's IPI port was delivered exactly twice");
    check_eq(places, nr, "each IPI ran on the vCPU it was bound to");
    check_eq(wrong_cpu, 0, "no handler saw another vCPU's port");
}

/* Down and up again the last AP; it has no vcpu_info of its own yet when
 * it uses a legacy slot, so it also gets one while down. */
static void test_down_up(void)
{
    unsigned int last = nr - 1;
    evtchn_port_t p = ipi[last];
    unsigned long c;
    int legacy = last < XEN_LEGACY_MAX_VCPUS;

    if (legacy)
        check_eq(register_at(last, (unsigned long)vi_pages[last % VI_PAGES] >> 12,
                             64 * (last / VI_PAGES + 1)),
                 -XEN_EINVAL, "register_vcpu_info of a running AP is -EINVAL");
    check_eq(vcpu_op(VCPUOP_down, last, NULL), 0, "down(vCPU %u) returns 0", last);
    check_eq(vcpu_op(VCPUOP_is_up, last, NULL), 0, "is_up(vCPU %u) is 0 after down", last);
    kit_spin_until(kit_now() + 5 * MS);
    c = kit_port_count[p];
    check_eq(kit_evtchn_send(p), 0, "send to the down vCPU returns 0");
    kit_spin_until(kit_now() + 10 * MS);
    check_eq(kit_port_count[p], c, "a down vCPU takes no event");
    if (legacy)
        check_eq(kit_register_vcpu_info(last, vi_addr(last)), 0,
                 "register_vcpu_info of the down AP returns 0");
    check_eq(vcpu_op(VCPUOP_up, last, NULL), 0, "up(vCPU %u) again returns 0", last);
    check_eq(vcpu_op(VCPUOP_is_up, last, NULL), 1, "is_up(vCPU %u) is 1 again", last);
    check_true(kit_wait_ge(&kit_port_count[p], c + 1, kit_now() + 500 * MS),
               "the event sent while it was down is delivered after up");
    check_eq(kit_port_last_cpu[p], last, "... on that vCPU");
}

void guest_main(void)
{
    unsigned long want = kit_arg_ulong("n", 0);

    kit_events_init();
    nr = kit_nr_vcpus();
    printf("# SMP tests: %u vCPUs\n", nr);
    if (want)
        check_eq(nr, want, "the domain has the n=%lu vCPUs asked for", want);
    if (nr < 2 || nr > KIT_MAX_CPUS)
        kit_abort("needs 2..128 vCPUs (--vcpus 4)");
    if (kit_set_callback_vector(KIT_CALLBACK_VECTOR))
        kit_abort("cannot set HVM_PARAM_CALLBACK_IRQ");
    test_probe();
    /* The last AP keeps its legacy slot for now when it has one. */
    test_register_vcpu_info(nr - 1 < XEN_LEGACY_MAX_VCPUS ? nr - 1 : nr);
    test_self_ipi();
    start_aps();
    test_ap_timers();
    test_ring();
    test_down_up();
    kit_cli();
}
