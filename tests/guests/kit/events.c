/*
 * Kit runtime for 64-bit event guests: IDT and trap dispatch, per-vCPU
 * state, shared_info/vcpu_info/time, the 2-level event demux, AP start.
 */
#include "events.h"
#include <xen/memory.h>

#define MSR_EFER 0xc0000080u
#define MSR_GS_BASE 0xc0000101u
#define LAPIC_EOI_ADDR 0xfee000b0ul
#define LAPIC_SVR_ADDR 0xfee000f0ul
#define LAPIC_SVR_ENABLE 0x100u
#define AP_STACK_SIZE 8192

struct kit_cpu kit_cpus[KIT_MAX_CPUS];
volatile struct shared_info *kit_shared_info;
volatile unsigned long kit_port_count[KIT_PORTS];
volatile uint8_t kit_port_last_cpu[KIT_PORTS];
volatile unsigned long kit_port_overflow;
void (*kit_demux)(struct kit_cpu *c) = kit_demux_2l;

static kit_port_fn port_fn[KIT_PORTS];
static kit_vector_fn vector_fn[256];
static uint8_t shinfo_page[4096] __attribute__((aligned(4096)));

/* Defined in idt64.S: the stubs, the AP entry and the AP stacks. */
extern const uint8_t kit_vector_stubs[];
extern const uint8_t kit_ap_entry[];
extern uint8_t kit_ap_stacks[];

struct idt_gate {
    uint16_t off_lo, sel;
    uint8_t ist, type;
    uint16_t off_mid;
    uint32_t off_hi, zero;
} __attribute__((packed));
static struct idt_gate idt[256] __attribute__((aligned(16)));
static int idt_built;

/* What kit_trap_common pushed, lowest address first. */
struct kit_frame {
    uint64_t r11, r10, r9, r8, rdi, rsi, rdx, rcx, rax;
    uint64_t vector, error, rip, cs, rflags, rsp, ss;
};

static inline void wrmsr(uint32_t msr, uint64_t val)
{
    __asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)val), "d"((uint32_t)(val >> 32))
                     : "memory");
}

static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;

    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}

#define READ_CR(n)                                                                 \
    static inline unsigned long read_cr##n(void)                                   \
    {                                                                              \
        unsigned long v;                                                           \
        __asm__ volatile("movq %%cr" #n ", %0" : "=r"(v));                         \
        return v;                                                                  \
    }
READ_CR(0)
READ_CR(2)
READ_CR(3)
READ_CR(4)

void kit_lapic_eoi(void)
{
    *(volatile uint32_t *)LAPIC_EOI_ADDR = 0;
}

/* ---- interrupts ------------------------------------------------------- */

void kit_idt_load(void)
{
    struct __attribute__((packed)) {
        uint16_t limit;
        uint64_t base;
    } desc = { sizeof(idt) - 1, (uint64_t)idt };

    if (!idt_built) {
        for (unsigned int v = 0; v < 256; v++) {
            uint64_t a = (uint64_t)(kit_vector_stubs + 16 * v);

            idt[v].off_lo = (uint16_t)a;
            idt[v].sel = 0x08;
            idt[v].type = 0x8e; /* present, DPL0, 64-bit interrupt gate */
            idt[v].off_mid = (uint16_t)(a >> 16);
            idt[v].off_hi = (uint32_t)(a >> 32);
        }
        idt_built = 1;
    }
    __asm__ volatile("lidt %0" ::"m"(desc) : "memory");
}

void kit_set_vector(unsigned int vector, kit_vector_fn fn)
{
    if (vector >= 32 && vector < 256)
        vector_fn[vector] = fn;
}

void kit_trap(struct kit_frame *f);

void kit_trap(struct kit_frame *f)
{
    unsigned int v = (unsigned int)f->vector;
    char why[48];

    if (v >= 32 && vector_fn[v]) {
        vector_fn[v](v);
        return;
    }
    printf("kit: %s %u on vCPU %u: error %#lx rip %#lx rsp %#lx rflags %#lx cr2 %#lx\n",
           v < 32 ? "exception" : "unexpected vector", v, kit_cpu_id(),
           (unsigned long)f->error, (unsigned long)f->rip, (unsigned long)f->rsp,
           (unsigned long)f->rflags, read_cr2());
    snprintf(why, sizeof(why), "%s %u", v < 32 ? "exception" : "unexpected vector", v);
    kit_abort(why);
}

/* ---- per-vCPU setup --------------------------------------------------- */

static void cpu_setup(unsigned int id)
{
    struct kit_cpu *c = &kit_cpus[id];

    c->self = c;
    c->id = id;
    if (!c->vcpu_info && id < XEN_LEGACY_MAX_VCPUS && kit_shared_info)
        c->vcpu_info = &kit_shared_info->vcpu_info[id];
    wrmsr(MSR_GS_BASE, (uint64_t)c);
    kit_idt_load();
    /* A software-disabled LAPIC accepts no fixed interrupts (the per-vCPU
     * upcall vector is one): enable it, spurious vector 0xff. */
    *(volatile uint32_t *)LAPIC_SVR_ADDR = LAPIC_SVR_ENABLE | 0xff;
}

static void callback_vector(unsigned int vector)
{
    struct kit_cpu *c = kit_this_cpu();

    (void)vector;
    c->upcalls++;
    c->callback_irqs++;
    kit_demux(c);
}

/* Through the LAPIC: EOI first, like Linux, so an event raised while the
 * demux runs sets IRR again and is taken after iret. */
static void upcall_vector(unsigned int vector)
{
    struct kit_cpu *c = kit_this_cpu();

    (void)vector;
    kit_lapic_eoi();
    c->upcalls++;
    c->upcall_irqs++;
    kit_demux(c);
}

static long add_to_physmap_shinfo(unsigned long gpfn)
{
    static struct xen_add_to_physmap xatp;

    xatp.domid = DOMID_SELF;
    xatp.size = 0;
    xatp.space = XENMAPSPACE_shared_info;
    xatp.idx = 0;
    xatp.gpfn = gpfn;
    return HYPERVISOR_memory_op(XENMEM_add_to_physmap, &xatp);
}

void kit_events_init(void)
{
    long rc;

    kit_cli();
    rc = add_to_physmap_shinfo((unsigned long)shinfo_page >> 12);
    if (rc) {
        printf("kit: add_to_physmap(shared_info) returned %ld\n", rc);
        kit_abort("cannot map shared_info");
    }
    kit_shared_info = (volatile struct shared_info *)shinfo_page;
    cpu_setup(0);
    kit_set_vector(KIT_CALLBACK_VECTOR, callback_vector);
    kit_set_vector(KIT_UPCALL_VECTOR, upcall_vector);
}

long kit_set_callback_vector(uint8_t vector)
{
    static struct xen_hvm_param p;

    p.domid = DOMID_SELF;
    p.index = HVM_PARAM_CALLBACK_IRQ;
    p.value = ((uint64_t)HVM_PARAM_CALLBACK_TYPE_VECTOR << 56) | vector;
    return HYPERVISOR_hvm_op(HVMOP_set_param, &p);
}

long kit_set_upcall_vector(uint32_t vcpu, uint8_t vector)
{
    struct xen_hvm_evtchn_upcall_vector op = { .vcpu = vcpu, .vector = vector };

    return HYPERVISOR_hvm_op(HVMOP_set_evtchn_upcall_vector, &op);
}

/* ---- time ------------------------------------------------------------- */

uint64_t kit_time_from(const volatile struct vcpu_time_info *t)
{
    uint32_t version, mul;
    uint64_t stime, stamp, tsc, delta;
    int8_t shift;

    do {
        version = t->version;
        kit_barrier();
        stime = t->system_time;
        stamp = t->tsc_timestamp;
        mul = t->tsc_to_system_mul;
        shift = t->tsc_shift;
        tsc = rdtsc();
        kit_barrier();
    } while ((version & 1) || version != t->version);
    delta = tsc - stamp;
    if (shift < 0)
        delta >>= -shift;
    else
        delta <<= shift;
    return stime + (uint64_t)(((unsigned __int128)delta * mul) >> 32);
}

uint64_t kit_now(void)
{
    return kit_time_from(&kit_this_cpu()->vcpu_info->time);
}

void kit_spin_until(uint64_t deadline)
{
    while (kit_now() < deadline)
        kit_pause();
}

int kit_wait_ge(const volatile unsigned long *v, unsigned long target, uint64_t deadline)
{
    int was_enabled = kit_irqs_enabled(), reached;

    kit_sti();
    while (*v < target && kit_now() < deadline)
        kit_pause();
    reached = *v >= target;
    if (!was_enabled)
        kit_cli();
    return reached;
}

/* ---- event channels ------------------------------------------------------ */

int kit_port_owner(evtchn_port_t port)
{
    for (unsigned int i = 0; i < KIT_MAX_CPUS && port < KIT_2L_PORTS; i++)
        if (kit_test_bit(port, kit_cpus[i].owned))
            return (int)i;
    return -1;
}

void kit_port_unbind(evtchn_port_t port)
{
    int owner = kit_port_owner(port);

    if (owner >= 0)
        kit_test_and_clear_bit(port, kit_cpus[owner].owned);
}

void kit_port_bind(evtchn_port_t port, unsigned int cpu, kit_port_fn fn)
{
    if (port >= KIT_PORTS || cpu >= KIT_MAX_CPUS)
        kit_abort("kit_port_bind: port or vCPU out of the kit's range");
    kit_port_unbind(port);
    port_fn[port] = fn;
    kit_test_and_set_bit(port, kit_cpus[cpu].owned);
}

void kit_port_deliver(evtchn_port_t port)
{
    if (port >= KIT_PORTS) {
        kit_atomic_inc(&kit_port_overflow);
        return;
    }
    kit_port_last_cpu[port] = (uint8_t)kit_cpu_id();
    kit_atomic_inc(&kit_port_count[port]);
    if (port_fn[port])
        port_fn[port](port);
}

/*
 * Linux's 2-level upcall (drivers/xen/events/events_2l.c): clear
 * evtchn_upcall_pending before looking, take pending_sel with xchg, and for
 * each selected word handle the bits that are pending, unmasked and bound
 * to this vCPU, clearing each pending bit before handling its port. Loop
 * while Xen raised evtchn_upcall_pending again meanwhile.
 */
void kit_demux_2l(struct kit_cpu *c)
{
    volatile struct vcpu_info *vi = c->vcpu_info;
    volatile struct shared_info *s = kit_shared_info;
    int found = 0;

    do {
        unsigned long sel;

        vi->evtchn_upcall_pending = 0;
        sel = kit_xchg(&vi->evtchn_pending_sel, 0);
        while (sel) {
            unsigned int w = kit_ffs0(sel);
            unsigned long bits;

            sel &= sel - 1;
            while ((bits = s->evtchn_pending[w] & ~s->evtchn_mask[w] & c->owned[w])) {
                evtchn_port_t port = w * 64 + kit_ffs0(bits);

                if (kit_test_and_clear_bit(port, &s->evtchn_pending[0])) {
                    found = 1;
                    kit_port_deliver(port);
                }
            }
        }
    } while (vi->evtchn_upcall_pending);
    if (!found)
        c->empty_upcalls++;
}

long kit_evtchn_alloc_unbound(domid_t remote, evtchn_port_t *port)
{
    struct evtchn_alloc_unbound op = { .dom = DOMID_SELF, .remote_dom = remote };
    long rc = HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &op);

    *port = op.port;
    return rc;
}

long kit_evtchn_bind_interdomain(domid_t remote, evtchn_port_t remote_port, evtchn_port_t *port)
{
    struct evtchn_bind_interdomain op = { .remote_dom = remote, .remote_port = remote_port };
    long rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_interdomain, &op);

    *port = op.local_port;
    return rc;
}

long kit_evtchn_bind_virq(uint32_t virq, uint32_t vcpu, evtchn_port_t *port)
{
    struct evtchn_bind_virq op = { .virq = virq, .vcpu = vcpu };
    long rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_virq, &op);

    *port = op.port;
    return rc;
}

long kit_evtchn_bind_ipi(uint32_t vcpu, evtchn_port_t *port)
{
    struct evtchn_bind_ipi op = { .vcpu = vcpu };
    long rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_ipi, &op);

    *port = op.port;
    return rc;
}

long kit_evtchn_bind_vcpu(evtchn_port_t port, uint32_t vcpu)
{
    struct evtchn_bind_vcpu op = { .port = port, .vcpu = vcpu };

    return HYPERVISOR_event_channel_op(EVTCHNOP_bind_vcpu, &op);
}

long kit_evtchn_send(evtchn_port_t port)
{
    struct evtchn_send op = { .port = port };

    return HYPERVISOR_event_channel_op(EVTCHNOP_send, &op);
}

long kit_evtchn_close(evtchn_port_t port)
{
    struct evtchn_close op = { .port = port };

    return HYPERVISOR_event_channel_op(EVTCHNOP_close, &op);
}

long kit_evtchn_unmask(evtchn_port_t port)
{
    struct evtchn_unmask op = { .port = port };

    return HYPERVISOR_event_channel_op(EVTCHNOP_unmask, &op);
}

long kit_evtchn_status(evtchn_port_t port, struct evtchn_status *st)
{
    memset(st, 0, sizeof(*st));
    st->dom = DOMID_SELF;
    st->port = port;
    return HYPERVISOR_event_channel_op(EVTCHNOP_status, st);
}

/* ---- vCPUs ------------------------------------------------------------- */

unsigned int kit_nr_vcpus(void)
{
    unsigned int n = 0;

    while (n < KIT_MAX_CPUS + 1 && HYPERVISOR_vcpu_op(VCPUOP_is_up, n, NULL) >= 0)
        n++;
    /* vCPU 0 exists even when VCPUOP_is_up does not work. */
    return n ? n : 1;
}

void kit_vcpu_context(struct vcpu_hvm_context *ctx, unsigned int id)
{
    struct vcpu_hvm_x86_64 *r = &ctx->cpu_regs.x86_64;

    memset(ctx, 0, sizeof(*ctx));
    ctx->mode = VCPU_HVM_MODE_64B;
    r->rip = (uint64_t)kit_ap_entry;
    r->rsp = (uint64_t)(kit_ap_stacks + (uint64_t)(id + 1) * AP_STACK_SIZE);
    r->rdi = id;
    r->rflags = 0x2;
    r->cr0 = read_cr0();
    r->cr3 = read_cr3();
    r->cr4 = read_cr4();
    r->efer = rdmsr(MSR_EFER);
}

long kit_vcpu_initialise(unsigned int id, void (*fn)(unsigned int id))
{
    static struct vcpu_hvm_context ctx;

    if (id < KIT_MAX_CPUS) {
        kit_cpus[id].ap_fn = fn;
        kit_cpus[id].stack_top = kit_ap_stacks + (uint64_t)(id + 1) * AP_STACK_SIZE;
    }
    kit_vcpu_context(&ctx, id < KIT_MAX_CPUS ? id : 0);
    return HYPERVISOR_vcpu_op(VCPUOP_initialise, id, &ctx);
}

void kit_ap_main(unsigned int id);

void kit_ap_main(unsigned int id)
{
    struct kit_cpu *c = &kit_cpus[id];

    cpu_setup(id);
    c->online = 1;
    if (c->ap_fn)
        c->ap_fn(id);
    for (;;)
        kit_safe_halt();
}

long kit_register_vcpu_info(unsigned int id, unsigned long paddr)
{
    struct vcpu_register_vcpu_info info = { .mfn = paddr >> 12, .offset = paddr & 0xfff };
    long rc = HYPERVISOR_vcpu_op(VCPUOP_register_vcpu_info, id, &info);

    if (!rc && id < KIT_MAX_CPUS)
        kit_cpus[id].vcpu_info = (volatile struct vcpu_info *)paddr;
    return rc;
}
