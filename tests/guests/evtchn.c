/*
 * __HYPERVISOR_event_channel_op, 2-level ABI, delivered through the global
 * callback vector (HVM_PARAM_CALLBACK_IRQ type vector, never EOI'd).
 * Expected codes follow xen/common/event_channel.c:
 *  - bind_ipi/bind_virq/bind_vcpu: a vCPU id past the last is -ENOENT;
 *    bind_virq: virq >= NR_VIRQS or a global virq on vCPU != 0 is -EINVAL,
 *    a virq already bound on that vCPU is -EEXIST;
 *  - bind_interdomain: the remote port must be unbound and waiting for us
 *    (else -EINVAL), an unknown domain is -ESRCH; on success Xen sets the
 *    new local port pending ("we may have lost notifications");
 *  - alloc_unbound for another domain fails XSM_TARGET: -EPERM;
 *  - port_is_valid() fails for ports >= 4096 (64 x 64 bits): -EINVAL from
 *    send, close, status, unmask, bind_vcpu; port 0 is ECS_RESERVED, which
 *    close and send reject (-EINVAL) and status reports as closed;
 *  - close of a free port is -EINVAL; send on a free port is -EINVAL, on an
 *    unbound one it is dropped (0); closing one end of an interdomain pair
 *    leaves the other unbound, waiting for our domain;
 *  - bind_vcpu: only global virqs, unbound, interdomain (and pirq) ports
 *    can move; IPI and per-vCPU virq ports are -EINVAL;
 *  - reset(DOMID_SELF) closes every port;
 *  - a struct that cannot be read is -EFAULT, an unknown op -ENOSYS.
 * Delivery follows event_2l.c: pending bit, then (unless masked) the
 * word's pending_sel bit and evtchn_upcall_pending; unmask re-raises a
 * pending port.
 */
#include "events.h"

#define WAIT_NS (200 * KIT_NS_PER_MS)
#define SETTLE_NS (3 * KIT_NS_PER_MS)

static domid_t self_domid;

/* Wait for port's count to reach n, then a little longer so an extra,
 * wrong delivery would show up too; returns the final count. */
static unsigned long count_after(evtchn_port_t port, unsigned long n)
{
    kit_wait_ge(&kit_port_count[port], n, kit_now() + WAIT_NS);
    kit_spin_until(kit_now() + SETTLE_NS);
    return kit_port_count[port];
}

static void check_status(evtchn_port_t port, uint32_t want, const char *what)
{
    struct evtchn_status st;
    long rc = kit_evtchn_status(port, &st);

    check_eq(rc, 0, "status(%s port %u) returns 0", what, port);
    check_eq(st.status, want, "status(%s port %u) is %u", what, port, want);
}

static evtchn_port_t test_ipi(void)
{
    struct evtchn_status st;
    evtchn_port_t p = 0;

    check_eq(kit_evtchn_bind_ipi(0, &p), 0, "bind_ipi(vCPU 0) returns 0");
    check_true(p != 0 && p < KIT_2L_PORTS, "bind_ipi gave port %u (1..4095)", p);
    kit_port_bind(p, 0, NULL);
    check_eq(kit_evtchn_status(p, &st), 0, "status(IPI port) returns 0");
    check_eq(st.status, EVTCHNSTAT_ipi, "status(IPI port) is EVTCHNSTAT_ipi");
    check_eq(st.vcpu, 0, "status(IPI port) names vCPU 0");

    check_eq(kit_evtchn_send(p), 0, "send(IPI port) returns 0");
    check_eq(count_after(p, 1), 1, "the IPI handler ran exactly once");
    check_true(!kit_2l_pending(p), "the demux cleared the port's pending bit");
    check_true(kit_cpus[0].callback_irqs >= 1, "the event came through the callback vector");
    check_eq(kit_cpus[0].upcall_irqs, 0, "no per-vCPU upcall vector was used");
    /* The global callback vector is not EOI'd: a VMM that routes it through
     * the LAPIC ISR loses this second event. */
    check_eq(kit_evtchn_send(p), 0, "send(IPI port) again returns 0");
    check_eq(count_after(p, 2), 2, "the second IPI is delivered too, exactly once");
    check_eq(kit_shared_info->vcpu_info[0].evtchn_upcall_pending, 0,
             "evtchn_upcall_pending is 0 after the upcall");
    return p;
}

static void test_loopback(evtchn_port_t *pa, evtchn_port_t *pb)
{
    struct evtchn_status st;
    evtchn_port_t a = 0, b = 0;
    unsigned long ca, cb;

    check_eq(kit_evtchn_alloc_unbound(DOMID_SELF, &a), 0,
             "alloc_unbound(remote DOMID_SELF) returns 0");
    kit_port_bind(a, 0, NULL);
    check_eq(kit_evtchn_status(a, &st), 0, "status(unbound port) returns 0");
    check_eq(st.status, EVTCHNSTAT_unbound, "status(unbound port) is EVTCHNSTAT_unbound");
    self_domid = st.u.unbound.dom;
    printf("# our domain id: %u\n", self_domid);
    check_true(self_domid != DOMID_SELF, "Xen stores our real domid, not DOMID_SELF");
    check_eq(kit_evtchn_send(a), 0, "send on an unbound port is dropped: 0");

    /* Interrupts off until the kit knows the new port: Xen raises it at once. */
    kit_cli();
    check_eq(kit_evtchn_bind_interdomain(DOMID_SELF, a, &b), 0,
             "bind_interdomain(DOMID_SELF, port %u) returns 0", a);
    kit_port_bind(b, 0, NULL);
    kit_sti();
    check_true(b != a && b != 0, "the local end is a new port (%u)", b);
    check_eq(count_after(b, 1), 1, "bind_interdomain raised the new local port once");
    check_eq(kit_port_count[a], 0, "... and not the remote end");

    check_eq(kit_evtchn_status(a, &st), 0, "status(loopback end a) returns 0");
    check_eq(st.status, EVTCHNSTAT_interdomain, "end a is EVTCHNSTAT_interdomain");
    check_eq(st.u.interdomain.port, b, "end a's remote port is end b");
    check_eq(st.u.interdomain.dom, self_domid, "end a's remote domain is ours");
    check_eq(kit_evtchn_status(b, &st), 0, "status(loopback end b) returns 0");
    check_eq(st.status, EVTCHNSTAT_interdomain, "end b is EVTCHNSTAT_interdomain");
    check_eq(st.u.interdomain.port, a, "end b's remote port is end a");

    ca = kit_port_count[a];
    cb = kit_port_count[b];
    check_eq(kit_evtchn_send(a), 0, "send(a) returns 0");
    check_eq(count_after(b, cb + 1), cb + 1, "send(a) raised b once");
    check_eq(kit_port_count[a], ca, "send(a) did not raise a");
    check_eq(kit_evtchn_send(b), 0, "send(b) returns 0");
    check_eq(count_after(a, ca + 1), ca + 1, "send(b) raised a once");
    check_eq(kit_port_count[b], cb + 1, "send(b) did not raise b");
    *pa = a;
    *pb = b;
}

static void test_mask(evtchn_port_t a, evtchn_port_t b)
{
    unsigned long ca = kit_port_count[a], upcalls = kit_cpus[0].upcalls;

    kit_2l_mask(a);
    check_eq(kit_evtchn_send(b), 0, "send(b) with a masked returns 0");
    kit_spin_until(kit_now() + 10 * KIT_NS_PER_MS);
    check_eq(kit_port_count[a], ca, "a masked port is not delivered");
    check_eq(kit_cpus[0].upcalls, upcalls, "a masked port raises no upcall");
    check_true(kit_2l_pending(a), "the masked port stays pending in shared_info");
    check_true(kit_2l_masked(a), "... and masked");
    check_eq(kit_evtchn_unmask(a), 0, "EVTCHNOP_unmask returns 0");
    check_eq(count_after(a, ca + 1), ca + 1, "unmask delivered the pending event once");
    check_true(!kit_2l_masked(a), "unmask cleared the mask bit");
    check_true(!kit_2l_pending(a), "the delivered port is no longer pending");
    check_eq(kit_evtchn_unmask(a), 0, "unmask of an unmasked port returns 0");
    kit_spin_until(kit_now() + SETTLE_NS);
    check_eq(kit_port_count[a], ca + 1, "unmask of a non-pending port delivers nothing");
}

static void test_virq(evtchn_port_t ipi, evtchn_port_t b, unsigned int nr_vcpus)
{
    struct evtchn_status st;
    evtchn_port_t t = 0, t2 = 0, x = 0;

    check_eq(kit_evtchn_bind_virq(VIRQ_TIMER, 0, &t), 0, "bind_virq(VIRQ_TIMER, vCPU 0) returns 0");
    check_eq(kit_evtchn_bind_virq(VIRQ_TIMER, 0, &x), -XEN_EEXIST,
             "bind_virq(VIRQ_TIMER, vCPU 0) again is -EEXIST");
    check_eq(kit_evtchn_bind_virq(VIRQ_TIMER, nr_vcpus, &x), -XEN_ENOENT,
             "bind_virq(VIRQ_TIMER, vCPU %u = past the last) is -ENOENT", nr_vcpus);
    check_eq(kit_evtchn_bind_virq(VIRQ_TIMER, 0x7fffffff, &x), -XEN_ENOENT,
             "bind_virq(VIRQ_TIMER, vCPU 0x7fffffff) is -ENOENT");
    check_eq(kit_evtchn_bind_virq(NR_VIRQS, 0, &x), -XEN_EINVAL,
             "bind_virq(NR_VIRQS) is -EINVAL");
    check_eq(kit_evtchn_bind_virq(VIRQ_ARGO, 1, &x), -XEN_EINVAL,
             "bind_virq(global VIRQ_ARGO, vCPU 1) is -EINVAL");
    check_eq(kit_evtchn_status(t, &st), 0, "status(VIRQ port) returns 0");
    check_eq(st.status, EVTCHNSTAT_virq, "status(VIRQ port) is EVTCHNSTAT_virq");
    check_eq(st.u.virq, VIRQ_TIMER, "status(VIRQ port) names VIRQ_TIMER");
    check_eq(st.vcpu, 0, "status(VIRQ port) names vCPU 0");

    check_eq(kit_evtchn_bind_vcpu(t, 0), -XEN_EINVAL, "bind_vcpu(per-vCPU VIRQ port) is -EINVAL");
    check_eq(kit_evtchn_bind_vcpu(ipi, 0), -XEN_EINVAL, "bind_vcpu(IPI port) is -EINVAL");
    check_eq(kit_evtchn_bind_vcpu(b, 0), 0, "bind_vcpu(interdomain port, vCPU 0) returns 0");
    check_eq(kit_evtchn_bind_vcpu(b, nr_vcpus), -XEN_ENOENT,
             "bind_vcpu(interdomain port, vCPU past the last) is -ENOENT");
    check_eq(kit_evtchn_bind_vcpu(KIT_2L_PORTS, 0), -XEN_EINVAL, "bind_vcpu(port 4096) is -EINVAL");

    check_eq(kit_evtchn_close(t), 0, "close(VIRQ port) returns 0");
    check_eq(kit_evtchn_bind_virq(VIRQ_TIMER, 0, &t2), 0,
             "after close, bind_virq(VIRQ_TIMER, vCPU 0) succeeds again");
    check_eq(kit_evtchn_close(t2), 0, "close(the new VIRQ port) returns 0");
}

static void test_close(evtchn_port_t ipi, evtchn_port_t a, evtchn_port_t b)
{
    struct evtchn_status st;
    unsigned long ca = kit_port_count[a];

    check_eq(kit_evtchn_close(ipi), 0, "close(IPI port) returns 0");
    check_eq(kit_evtchn_close(ipi), -XEN_EINVAL, "close(IPI port) twice is -EINVAL");
    check_eq(kit_evtchn_send(ipi), -XEN_EINVAL, "send on a closed port is -EINVAL");
    check_status(ipi, EVTCHNSTAT_closed, "closed");
    check_eq(kit_evtchn_unmask(ipi), 0, "unmask of a closed (valid) port returns 0");

    check_eq(kit_evtchn_close(b), 0, "close(loopback end b) returns 0");
    check_eq(kit_evtchn_status(a, &st), 0, "status(end a after b closed) returns 0");
    check_eq(st.status, EVTCHNSTAT_unbound, "end a is unbound again");
    check_eq(st.u.unbound.dom, self_domid, "end a waits for our domain again");
    check_eq(kit_evtchn_send(a), 0, "send on the now unbound end returns 0");
    kit_spin_until(kit_now() + SETTLE_NS);
    check_eq(kit_port_count[a], ca, "... and raises nothing");
    check_eq(kit_evtchn_bind_interdomain(DOMID_SELF, ipi, &b), -XEN_EINVAL,
             "bind_interdomain to a closed port is -EINVAL");
    check_eq(kit_evtchn_bind_interdomain(DOMID_SELF, KIT_2L_PORTS, &b), -XEN_EINVAL,
             "bind_interdomain to port 4096 is -EINVAL");
    check_eq(kit_evtchn_bind_interdomain(0x7000, a, &b), -XEN_ESRCH,
             "bind_interdomain to unknown domain 0x7000 is -ESRCH");
    check_eq(kit_evtchn_close(a), 0, "close(end a) returns 0");
}

static void test_bad_ports(void)
{
    static const evtchn_port_t bad[] = { KIT_2L_PORTS, KIT_2L_PORTS + 1, 0x10000, 0xffffffffu };
    struct evtchn_status st;
    struct evtchn_alloc_unbound au = { .dom = 0, .remote_dom = DOMID_SELF };

    for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++) {
        check_eq(kit_evtchn_send(bad[i]), -XEN_EINVAL, "send(port %#x) is -EINVAL", bad[i]);
        check_eq(kit_evtchn_close(bad[i]), -XEN_EINVAL, "close(port %#x) is -EINVAL", bad[i]);
        check_eq(kit_evtchn_status(bad[i], &st), -XEN_EINVAL, "status(port %#x) is -EINVAL",
                 bad[i]);
        check_eq(kit_evtchn_unmask(bad[i]), -XEN_EINVAL, "unmask(port %#x) is -EINVAL", bad[i]);
    }
    check_eq(kit_evtchn_send(0), -XEN_EINVAL, "send(port 0, reserved) is -EINVAL");
    check_eq(kit_evtchn_close(0), -XEN_EINVAL, "close(port 0, reserved) is -EINVAL");
    check_status(0, EVTCHNSTAT_closed, "reserved");
    check_eq(kit_evtchn_bind_ipi(KIT_MAX_CPUS + 1000, &(evtchn_port_t){ 0 }), -XEN_ENOENT,
             "bind_ipi(vCPU %u) is -ENOENT", KIT_MAX_CPUS + 1000);
    check_eq(HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &au), -XEN_EPERM,
             "alloc_unbound on behalf of domain 0 is -EPERM");
    for (unsigned int p = 0; p < ARRAY_SIZE(kit_bad_ptrs); p++) {
        check_eq(HYPERVISOR_event_channel_op(EVTCHNOP_send, (void *)kit_bad_ptrs[p]), -XEN_EFAULT,
                 "EVTCHNOP_send with arg %#lx is -EFAULT", kit_bad_ptrs[p]);
        check_eq(HYPERVISOR_event_channel_op(EVTCHNOP_bind_ipi, (void *)kit_bad_ptrs[p]),
                 -XEN_EFAULT, "EVTCHNOP_bind_ipi with arg %#lx is -EFAULT", kit_bad_ptrs[p]);
    }
    check_eq(HYPERVISOR_event_channel_op(99, NULL), -XEN_ENOSYS, "EVTCHNOP 99 is -ENOSYS");
}

static void test_reset(void)
{
    struct evtchn_reset r = { .dom = DOMID_SELF };
    evtchn_port_t p = 0, q = 0;
    unsigned long c;

    check_eq(kit_evtchn_bind_ipi(0, &p), 0, "bind_ipi before reset returns 0");
    check_eq(kit_evtchn_alloc_unbound(DOMID_SELF, &q), 0, "alloc_unbound before reset returns 0");
    check_eq(HYPERVISOR_event_channel_op(EVTCHNOP_reset, &r), 0, "EVTCHNOP_reset(DOMID_SELF) returns 0");
    check_status(p, EVTCHNSTAT_closed, "IPI after reset");
    check_status(q, EVTCHNSTAT_closed, "unbound after reset");
    /* Every port is free again, including the toolstack's 1 and 2. */
    check_eq(kit_evtchn_bind_ipi(0, &p), 0, "bind_ipi after reset returns 0");
    check_eq(p, 1, "after reset the lowest free port is 1 again");
    kit_port_bind(p, 0, NULL);
    c = kit_port_count[p];
    check_eq(kit_evtchn_send(p), 0, "send on the new IPI port returns 0");
    check_eq(count_after(p, c + 1), c + 1, "events still work after reset");
}

void guest_main(void)
{
    unsigned int nr_vcpus;
    evtchn_port_t ipi, a, b;

    printf("# event channel tests (2-level, callback vector %#x)\n", KIT_CALLBACK_VECTOR);
    kit_events_init();
    nr_vcpus = kit_nr_vcpus();
    printf("# %u vCPU(s)\n", nr_vcpus);
    check_eq(kit_set_callback_vector(KIT_CALLBACK_VECTOR), 0,
             "HVM_PARAM_CALLBACK_IRQ = vector %#x returns 0", KIT_CALLBACK_VECTOR);
    kit_sti();
    ipi = test_ipi();
    test_loopback(&a, &b);
    test_mask(a, b);
    test_virq(ipi, b, nr_vcpus);
    test_close(ipi, a, b);
    test_bad_ports();
    test_reset();
    kit_cli();
}
