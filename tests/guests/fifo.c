/*
 * FIFO event channels (1 vCPU, callback vector), consumed the way Linux's
 * drivers/xen/events/events_fifo.c does: xchg the control block's READY
 * word, take the highest-priority (lowest-numbered) ready queue, follow
 * the queue from the HEAD the control block gives when the local head is
 * 0, clear LINKED (cmpxchg) to get the next port, handle the port if it is
 * PENDING and not MASKED (clearing PENDING first).
 * Expected codes follow xen/common/event_fifo.c and event_channel.c:
 *  - init_control: vCPU past the last -ENOENT; offset past
 *    PAGE_SIZE - sizeof(control block) (72) or not 8-byte aligned -EINVAL;
 *    a gfn that is not RAM -EINVAL (and the domain stays 2-level); a second
 *    init_control for the same vCPU -EINVAL (control block already mapped);
 *    link_bits comes back as EVTCHN_FIFO_LINK_BITS;
 *  - expand_array: -EOPNOTSUPP while 2-level; a gfn that is not RAM
 *    -EINVAL; -ENOSPC once 128 pages (2^17 event words) are mapped;
 *  - set_priority: -ENOSYS while 2-level (no set_priority port op);
 *    priority > 15 -EINVAL; an invalid port -EINVAL;
 *  - events: set PENDING; unless MASKED or already LINKED, link to the
 *    queue of the port's priority (the tail's LINK field, or HEAD when the
 *    queue is empty), set the queue's READY bit, raise the upcall;
 *    EVTCHNOP_unmask clears MASKED and relinks a pending event; close
 *    clears PENDING; reset(DOMID_SELF) goes back to 2-level.
 */
#include "events.h"

#define MS KIT_NS_PER_MS
#define WORDS_PER_PAGE 1024
#define MAX_ARRAY_PAGES (EVTCHN_FIFO_NR_CHANNELS / WORDS_PER_PAGE)

#define W_PENDING (1u << EVTCHN_FIFO_PENDING)
#define W_MASKED (1u << EVTCHN_FIFO_MASKED)
#define W_LINKED (1u << EVTCHN_FIFO_LINKED)

static uint8_t cb_page[4096] __attribute__((aligned(4096)));
/* One more page than Xen takes, for the -ENOSPC check. */
static uint8_t array_pages[MAX_ARRAY_PAGES + 1][4096] __attribute__((aligned(4096)));
static unsigned int array_n;

#define CB_OFFSET 64
static volatile struct evtchn_fifo_control_block *cb =
    (volatile struct evtchn_fifo_control_block *)(cb_page + CB_OFFSET);
static uint32_t local_head[EVTCHN_FIFO_MAX_QUEUES];
static evtchn_port_t order[16];
static volatile unsigned long order_n;

static volatile uint32_t *word(evtchn_port_t port)
{
    return (volatile uint32_t *)array_pages[port / WORDS_PER_PAGE] + port % WORDS_PER_PAGE;
}

static uint32_t xchg32(volatile uint32_t *p, uint32_t v)
{
    __asm__ volatile("xchgl %0, %1" : "+r"(v), "+m"(*p)::"memory");
    return v;
}

static uint32_t cmpxchg32(volatile uint32_t *p, uint32_t old, uint32_t new)
{
    __asm__ volatile("lock cmpxchgl %2, %1" : "+a"(old), "+m"(*p) : "r"(new) : "memory", "cc");
    return old;
}

static void set_bits(volatile uint32_t *p, uint32_t bits)
{
    __asm__ volatile("lock orl %1, %0" : "+m"(*p) : "r"(bits) : "memory", "cc");
}

static void clear_bits(volatile uint32_t *p, uint32_t bits)
{
    __asm__ volatile("lock andl %1, %0" : "+m"(*p) : "r"(~bits) : "memory", "cc");
}

/* Clears LINKED and the link; returns the next port in the queue. */
static uint32_t clear_linked(volatile uint32_t *w)
{
    uint32_t old, seen = *w;

    do {
        old = seen;
        seen = cmpxchg32(w, old, old & ~(W_LINKED | EVTCHN_FIFO_LINK_MASK));
    } while (seen != old);
    return old & EVTCHN_FIFO_LINK_MASK;
}

static void consume_one(unsigned int q, uint32_t *ready)
{
    uint32_t head = local_head[q];
    evtchn_port_t port;
    volatile uint32_t *w;

    if (!head)
        head = cb->head[q];
    port = head;
    w = word(port);
    head = clear_linked(w);
    if (!head)
        *ready &= ~(1u << q);
    if ((*w & W_PENDING) && !(*w & W_MASKED)) {
        clear_bits(w, W_PENDING);
        kit_port_deliver(port);
    }
    local_head[q] = head;
}

static void fifo_demux(struct kit_cpu *c)
{
    volatile struct vcpu_info *vi = c->vcpu_info;

    do {
        uint32_t ready;

        vi->evtchn_upcall_pending = 0;
        ready = xchg32(&cb->ready, 0);
        while (ready) {
            consume_one(kit_ffs0(ready), &ready);
            ready |= xchg32(&cb->ready, 0);
        }
    } while (vi->evtchn_upcall_pending);
}

static void record_order(evtchn_port_t port)
{
    if (order_n < ARRAY_SIZE(order))
        order[order_n] = port;
    order_n++;
}

static long init_control(uint64_t gfn, uint32_t offset, uint32_t vcpu, uint8_t *link_bits)
{
    struct evtchn_init_control op = { .control_gfn = gfn, .offset = offset, .vcpu = vcpu };
    long rc = HYPERVISOR_event_channel_op(EVTCHNOP_init_control, &op);

    if (link_bits)
        *link_bits = op.link_bits;
    return rc;
}

static long expand_array(uint64_t gfn)
{
    struct evtchn_expand_array op = { .array_gfn = gfn };

    return HYPERVISOR_event_channel_op(EVTCHNOP_expand_array, &op);
}

static long set_priority(evtchn_port_t port, uint32_t prio)
{
    struct evtchn_set_priority op = { .port = port, .priority = prio };

    return HYPERVISOR_event_channel_op(EVTCHNOP_set_priority, &op);
}

static long expand_next(void)
{
    long rc = expand_array((unsigned long)array_pages[array_n] >> 12);

    if (!rc)
        array_n++;
    return rc;
}

static evtchn_port_t new_ipi(void)
{
    evtchn_port_t p = 0;

    if (kit_evtchn_bind_ipi(0, &p))
        kit_abort("bind_ipi failed");
    kit_port_bind(p, 0, record_order);
    return p;
}

static unsigned long count_after(evtchn_port_t port, unsigned long n)
{
    kit_wait_ge(&kit_port_count[port], n, kit_now() + 200 * MS);
    kit_spin_until(kit_now() + 3 * MS);
    return kit_port_count[port];
}

static void test_setup(unsigned int nr_vcpus)
{
    unsigned long cb_pfn = (unsigned long)cb_page >> 12;
    uint8_t link_bits = 0;
    evtchn_port_t p = 0;

    check_eq(expand_array((unsigned long)array_pages[0] >> 12), -XEN_EOPNOTSUPP,
             "expand_array while 2-level is -EOPNOTSUPP");
    check_eq(kit_evtchn_bind_ipi(0, &p), 0, "bind_ipi while 2-level returns 0");
    check_eq(set_priority(p, 3), -XEN_ENOSYS, "set_priority while 2-level is -ENOSYS");
    check_eq(kit_evtchn_close(p), 0, "close that port returns 0");
    check_eq(init_control(cb_pfn, 0, nr_vcpus, NULL), -XEN_ENOENT,
             "init_control(vCPU %u) is -ENOENT", nr_vcpus);
    check_eq(init_control(cb_pfn, 4096 - 64, 0, NULL), -XEN_EINVAL,
             "init_control at offset 4032 (block straddles the page) is -EINVAL");
    check_eq(init_control(cb_pfn, 4, 0, NULL), -XEN_EINVAL,
             "init_control at offset 4 (not 8-byte aligned) is -EINVAL");
    check_eq(init_control(0xfffff, 0, 0, NULL), -XEN_EINVAL,
             "init_control at gfn 0xfffff (not RAM) is -EINVAL");
    for (unsigned int i = 0; i < ARRAY_SIZE(kit_bad_ptrs); i++)
        check_eq(HYPERVISOR_event_channel_op(EVTCHNOP_init_control, (void *)kit_bad_ptrs[i]),
                 -XEN_EFAULT, "init_control with arg %#lx is -EFAULT", kit_bad_ptrs[i]);
    check_eq(expand_array((unsigned long)array_pages[0] >> 12), -XEN_EOPNOTSUPP,
             "after the failed init_controls the domain is still 2-level");

    check_eq(init_control(cb_pfn, CB_OFFSET, 0, &link_bits), 0,
             "init_control(vCPU 0, offset %u) returns 0", CB_OFFSET);
    check_eq(link_bits, EVTCHN_FIFO_LINK_BITS, "link_bits is %u", EVTCHN_FIFO_LINK_BITS);
    check_eq(init_control(cb_pfn, CB_OFFSET, 0, NULL), -XEN_EINVAL,
             "init_control(vCPU 0) a second time is -EINVAL");
    check_eq(expand_array(0xfffff), -XEN_EINVAL, "expand_array(gfn 0xfffff, not RAM) is -EINVAL");
    check_eq(expand_next(), 0, "expand_array(first page) returns 0");
    kit_demux = fifo_demux;
}

static void test_one_event(void)
{
    evtchn_port_t p = new_ipi();

    kit_cli();
    check_eq(kit_evtchn_send(p), 0, "send(IPI) returns 0");
    check_eqx(*word(p), W_PENDING | W_LINKED, "the event word is PENDING|LINKED");
    check_eqx(cb->ready, 1u << EVTCHN_FIFO_PRIORITY_DEFAULT, "READY has the default queue (7)");
    check_eq(cb->head[EVTCHN_FIFO_PRIORITY_DEFAULT], p, "HEAD[7] is the port");
    check_eq(kit_cpus[0].vcpu_info->evtchn_upcall_pending, 1, "evtchn_upcall_pending is set");
    kit_sti();
    check_eq(count_after(p, 1), 1, "the event was handled once");
    check_eqx(*word(p), 0, "the consumed event word is clear");
    check_eqx(cb->ready, 0, "READY is clear");
    check_eq(kit_evtchn_send(p), 0, "send(IPI) again returns 0");
    check_eq(count_after(p, 2), 2, "a second event on the port is handled too");
}

static void test_priorities(void)
{
    evtchn_port_t lo = new_ipi(), hi = new_ipi(), a = new_ipi(), b = new_ipi();

    check_eq(set_priority(hi, 2), 0, "set_priority(port, 2) returns 0");
    check_eq(set_priority(lo, 10), 0, "set_priority(port, 10) returns 0");
    check_eq(set_priority(lo, EVTCHN_FIFO_PRIORITY_MIN + 1), -XEN_EINVAL,
             "set_priority(port, 16) is -EINVAL");
    check_eq(set_priority(EVTCHN_FIFO_NR_CHANNELS, 3), -XEN_EINVAL,
             "set_priority(port 2^17) is -EINVAL");

    kit_cli();
    order_n = 0;
    check_eq(kit_evtchn_send(lo), 0, "send(priority 10 port) returns 0");
    check_eq(kit_evtchn_send(hi), 0, "send(priority 2 port) returns 0");
    check_eqx(cb->ready, (1u << 2) | (1u << 10), "READY has queues 2 and 10");
    check_eq(cb->head[10], lo, "HEAD[10] is the priority-10 port");
    check_eq(cb->head[2], hi, "HEAD[2] is the priority-2 port");
    kit_sti();
    kit_wait_ge(&order_n, 2, kit_now() + 200 * MS);
    check_eq(order_n, 2, "both events were handled");
    check_eq(order[0], hi, "the priority-2 event was handled first");
    check_eq(order[1], lo, "the priority-10 event second");

    kit_cli();
    order_n = 0;
    check_eq(kit_evtchn_send(a), 0, "send(a, priority 7) returns 0");
    check_eq(kit_evtchn_send(b), 0, "send(b, priority 7) returns 0");
    check_eq(cb->head[7], a, "HEAD[7] is a");
    check_eqx(*word(a), W_PENDING | W_LINKED | b, "a's word is PENDING|LINKED with LINK = b");
    check_eqx(*word(b), W_PENDING | W_LINKED, "b's word is PENDING|LINKED, end of queue");
    kit_sti();
    kit_wait_ge(&order_n, 2, kit_now() + 200 * MS);
    check_true(order_n == 2 && order[0] == a && order[1] == b,
               "one queue is handled first in, first out");
}

static void test_mask(void)
{
    evtchn_port_t p = new_ipi();
    unsigned long c = kit_port_count[p];

    set_bits(word(p), W_MASKED);
    check_eq(kit_evtchn_send(p), 0, "send(masked port) returns 0");
    kit_spin_until(kit_now() + 10 * MS);
    check_eq(kit_port_count[p], c, "a masked event is not delivered");
    check_eqx(*word(p), W_PENDING | W_MASKED, "its word is PENDING|MASKED, not LINKED");
    clear_bits(word(p), W_MASKED);
    kit_spin_until(kit_now() + 5 * MS);
    check_eq(kit_port_count[p], c, "clearing MASKED alone does not deliver it");
    check_eq(kit_evtchn_unmask(p), 0, "EVTCHNOP_unmask returns 0");
    check_eq(count_after(p, c + 1), c + 1, "EVTCHNOP_unmask relinked and delivered it once");

    set_bits(word(p), W_MASKED);
    check_eq(kit_evtchn_unmask(p), 0, "EVTCHNOP_unmask of a masked idle port returns 0");
    check_eqx(*word(p) & W_MASKED, 0, "EVTCHNOP_unmask clears MASKED itself");
    set_bits(word(p), W_MASKED);
    check_eq(kit_evtchn_send(p), 0, "send(masked port) returns 0");
    check_eq(kit_evtchn_close(p), 0, "close(pending masked port) returns 0");
    check_eqx(*word(p) & W_PENDING, 0, "close cleared PENDING");
}

static void test_limits_and_reset(void)
{
    struct evtchn_reset r = { .dom = DOMID_SELF };
    long rc = 0;

    while (array_n < MAX_ARRAY_PAGES && !(rc = expand_next()))
        ;
    check_eq(rc, 0, "expand_array up to %u pages returns 0", MAX_ARRAY_PAGES);
    check_eq(array_n, MAX_ARRAY_PAGES, "%u event array pages are mapped", array_n);
    check_eq(expand_next(), -XEN_ENOSPC, "expand_array past 2^17 event words is -ENOSPC");

    kit_cli();
    check_eq(HYPERVISOR_event_channel_op(EVTCHNOP_reset, &r), 0, "EVTCHNOP_reset(DOMID_SELF) returns 0");
    kit_demux = kit_demux_2l;
    check_eq(expand_array((unsigned long)array_pages[0] >> 12), -XEN_EOPNOTSUPP,
             "after reset the domain is 2-level again (expand_array -EOPNOTSUPP)");
    check_eq(set_priority(1, 3), -XEN_ENOSYS, "after reset set_priority is -ENOSYS");
}

void guest_main(void)
{
    unsigned int nr_vcpus;

    printf("# FIFO event channel tests\n");
    kit_events_init();
    nr_vcpus = kit_nr_vcpus();
    if (kit_set_callback_vector(KIT_CALLBACK_VECTOR))
        kit_abort("cannot set HVM_PARAM_CALLBACK_IRQ");
    kit_sti();
    test_setup(nr_vcpus);
    test_one_event();
    test_priorities();
    test_mask();
    test_limits_and_reset();
}
