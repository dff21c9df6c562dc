/*
 * Kit extension for guests that take interrupts: event channels, timers and
 * SMP. 64-bit guests only (a 32-bit iret is an emulation failure on the PVM
 * host), linked with idt64.S and events.c (GUEST_NAMES64 in guests.mk).
 *
 * What it gives a guest:
 *  - an IDT: exceptions print vector, error code, RIP and CR2 and fail the
 *    run; any vector can get a C handler (kit_set_vector);
 *  - per-vCPU state (struct kit_cpu, reached through the GS base) and an AP
 *    entry path for VCPUOP_initialise with a 64-bit vcpu_hvm_context;
 *  - shared_info mapped with XENMEM_add_to_physmap, vcpu_info per vCPU,
 *    Xen system time from vcpu_time_info;
 *  - the 2-level event demux the way Linux does it, with per-port counters
 *    and handlers, filtered by the vCPU a port is bound to (like Linux's
 *    cpu_evtchn_mask), behind a replaceable demux hook (the FIFO guest
 *    installs its own).
 *
 * Checks (check_eq & co.) are not SMP-safe: APs record, the BSP checks.
 */
#ifndef GUEST_KIT_EVENTS_H
#define GUEST_KIT_EVENTS_H

#ifndef __x86_64__
#error "events.h is for 64-bit guests only"
#endif

#include "kit.h"
#include <xen/event_channel.h>
#include <xen/vcpu.h>
#include <xen/hvm/hvm_op.h>
#include <xen/hvm/params.h>
#include <xen/hvm/hvm_vcpu.h>

#define KIT_MAX_CPUS 128
/* The 2-level ABI's port count for a 64-bit guest: 64 words of 64 bits. */
#define KIT_2L_PORTS 4096
/* Ports the kit keeps counters and handlers for (FIFO tests stay below). */
#define KIT_PORTS KIT_2L_PORTS

/* Vectors the kit wires to the event demux. The global callback vector
 * (HVM_PARAM_CALLBACK_IRQ) is not EOI'd; the per-vCPU upcall vector
 * (HVMOP_set_evtchn_upcall_vector) goes through the LAPIC and is. */
#define KIT_CALLBACK_VECTOR 0xf3
#define KIT_UPCALL_VECTOR 0xf4

#define KIT_NS_PER_MS 1000000ull

/* ---- hypercalls ------------------------------------------------------ */

static inline long HYPERVISOR_event_channel_op(int cmd, void *arg)
{
    return hypercall2(__HYPERVISOR_event_channel_op, cmd, arg);
}
static inline long HYPERVISOR_vcpu_op(int cmd, unsigned int vcpu, void *arg)
{
    return hypercall3(__HYPERVISOR_vcpu_op, cmd, vcpu, arg);
}
/* 64-bit guests pass the absolute timeout (ns of Xen system time) whole. */
static inline long HYPERVISOR_set_timer_op(uint64_t timeout)
{
    return hypercall1(__HYPERVISOR_set_timer_op, timeout);
}

/* ---- CPU helpers ----------------------------------------------------- */

static inline void kit_sti(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void kit_cli(void) { __asm__ volatile("cli" ::: "memory"); }
/* sti;hlt: the STI shadow makes the pair atomic, so an interrupt that
 * arrives after a condition was checked with IF=0 still wakes the hlt. */
static inline void kit_safe_halt(void) { __asm__ volatile("sti; hlt" ::: "memory"); }
static inline void kit_pause(void) { __asm__ volatile("pause" ::: "memory"); }
static inline void kit_barrier(void) { __asm__ volatile("" ::: "memory"); }
static inline int kit_irqs_enabled(void)
{
    unsigned long f;

    __asm__ volatile("pushfq; popq %0" : "=r"(f)::"memory");
    return !!(f & 0x200);
}

static inline unsigned long kit_xchg(volatile unsigned long *p, unsigned long v)
{
    __asm__ volatile("xchgq %0, %1" : "+r"(v), "+m"(*p)::"memory");
    return v;
}
static inline int kit_test_and_clear_bit(unsigned int nr, volatile unsigned long *addr)
{
    unsigned char old;

    __asm__ volatile("lock btrq %2, %1; setc %0" : "=q"(old), "+m"(*addr) : "r"((unsigned long)nr)
                     : "memory", "cc");
    return old;
}
static inline int kit_test_and_set_bit(unsigned int nr, volatile unsigned long *addr)
{
    unsigned char old;

    __asm__ volatile("lock btsq %2, %1; setc %0" : "=q"(old), "+m"(*addr) : "r"((unsigned long)nr)
                     : "memory", "cc");
    return old;
}
static inline int kit_test_bit(unsigned int nr, const volatile unsigned long *addr)
{
    return (addr[nr / 64] >> (nr % 64)) & 1;
}
static inline void kit_atomic_inc(volatile unsigned long *p)
{
    __asm__ volatile("lock incq %0" : "+m"(*p)::"memory", "cc");
}
/* Lowest set bit of a non-zero word: plain bsf (tzcnt/`rep bsf` is not
 * emulated at CPL0 on the PVM host, so no __builtin_ctz). */
static inline unsigned int kit_ffs0(unsigned long w)
{
    unsigned long r;

    __asm__("bsfq %1, %0" : "=r"(r) : "rm"(w) : "cc");
    return (unsigned int)r;
}

/* xAPIC EOI at the architectural address (identity-mapped by the kit). */
void kit_lapic_eoi(void);

/* ---- interrupts ------------------------------------------------------- */

typedef void (*kit_vector_fn)(unsigned int vector);
/* Builds the IDT (once) and loads it on this CPU. */
void kit_idt_load(void);
/* A C handler for `vector` (>= 32), called with IF=0 on the interrupted
 * vCPU. NULL makes the vector unexpected again (it then fails the run). */
void kit_set_vector(unsigned int vector, kit_vector_fn fn);

/* ---- per-vCPU state --------------------------------------------------- */

struct kit_cpu {
    struct kit_cpu *self;                 /* %gs:0 */
    unsigned int id;                      /* Xen vCPU id */
    volatile struct vcpu_info *vcpu_info; /* legacy slot or registered */
    void (*ap_fn)(unsigned int id);       /* what an AP runs once up */
    volatile unsigned long online;        /* set by the AP when it runs C */
    volatile unsigned long upcalls;       /* callback/upcall interrupts */
    volatile unsigned long callback_irqs; /* ... through KIT_CALLBACK_VECTOR */
    volatile unsigned long upcall_irqs;   /* ... through KIT_UPCALL_VECTOR */
    volatile unsigned long empty_upcalls; /* upcalls that found no port */
    /* Ports this vCPU handles (Linux's cpu_evtchn_mask). */
    volatile unsigned long owned[KIT_2L_PORTS / 64];
    uint8_t *stack_top;
};
extern struct kit_cpu kit_cpus[KIT_MAX_CPUS];

static inline struct kit_cpu *kit_this_cpu(void)
{
    struct kit_cpu *c;

    __asm__ volatile("movq %%gs:0, %0" : "=r"(c));
    return c;
}
static inline unsigned int kit_cpu_id(void) { return kit_this_cpu()->id; }

/* ---- shared_info, vcpu_info, time -------------------------------------- */

extern volatile struct shared_info *kit_shared_info;

/*
 * Sets up the BSP (vCPU 0): GS base, IDT, shared_info mapped over a kit RAM
 * page (XENMEM_add_to_physmap; aborts if that fails), vcpu_info pointers
 * for the legacy slots, the kit's demux on both kit vectors. Interrupts
 * stay disabled; the guest chooses the delivery method and enables them.
 */
void kit_events_init(void);

/* HVM_PARAM_CALLBACK_IRQ = (HVM_PARAM_CALLBACK_TYPE_VECTOR << 56) | vector. */
long kit_set_callback_vector(uint8_t vector);
/* HVMOP_set_evtchn_upcall_vector for one vCPU. */
long kit_set_upcall_vector(uint32_t vcpu, uint8_t vector);

/* Xen system time in ns from this vCPU's vcpu_info.time (version protocol;
 * system_time + ((tsc - tsc_timestamp) << shift) * mul >> 32). */
uint64_t kit_now(void);
/* The same computation on an explicit time record (any vCPU's). */
uint64_t kit_time_from(const volatile struct vcpu_time_info *t);
/* Spin (interrupts as they are) until kit_now() >= deadline. */
void kit_spin_until(uint64_t deadline);
/*
 * Wait with interrupts enabled until *v >= target or kit_now() passes
 * deadline; returns 1 if the target was reached. Restores IF=0 if it was 0.
 */
int kit_wait_ge(const volatile unsigned long *v, unsigned long target, uint64_t deadline);

/* ---- event channels ----------------------------------------------------- */

typedef void (*kit_port_fn)(evtchn_port_t port);
/* Deliveries per port (incremented by the demux before the handler runs)
 * and the vCPU that took the latest one. */
extern volatile unsigned long kit_port_count[KIT_PORTS];
extern volatile uint8_t kit_port_last_cpu[KIT_PORTS];
/* Deliveries of ports >= KIT_PORTS. */
extern volatile unsigned long kit_port_overflow;

/* Make `cpu` the vCPU that handles `port` (and only it), with optional fn. */
void kit_port_bind(evtchn_port_t port, unsigned int cpu, kit_port_fn fn);
/* Forget the port: no vCPU handles it, its counter is kept. */
void kit_port_unbind(evtchn_port_t port);
/* Handle one pending port on this vCPU: count it, run its handler. */
void kit_port_deliver(evtchn_port_t port);
/* Which vCPU's owned[] has the port (-1 if none). */
int kit_port_owner(evtchn_port_t port);

/* The demux the upcall vectors call; defaults to kit_demux_2l. */
extern void (*kit_demux)(struct kit_cpu *c);
void kit_demux_2l(struct kit_cpu *c);

/* Thin EVTCHNOP wrappers: return the hypercall's result; *port gets the
 * new port on success. They do not touch the kit's port tables. */
long kit_evtchn_alloc_unbound(domid_t remote, evtchn_port_t *port);
long kit_evtchn_bind_interdomain(domid_t remote, evtchn_port_t remote_port,
                                 evtchn_port_t *port);
long kit_evtchn_bind_virq(uint32_t virq, uint32_t vcpu, evtchn_port_t *port);
long kit_evtchn_bind_ipi(uint32_t vcpu, evtchn_port_t *port);
long kit_evtchn_bind_vcpu(evtchn_port_t port, uint32_t vcpu);
long kit_evtchn_send(evtchn_port_t port);
long kit_evtchn_close(evtchn_port_t port);
long kit_evtchn_unmask(evtchn_port_t port);
long kit_evtchn_status(evtchn_port_t port, struct evtchn_status *st);

/* 2-level bits in shared_info. */
static inline int kit_2l_pending(evtchn_port_t p)
{
    return kit_test_bit(p, kit_shared_info->evtchn_pending);
}
static inline int kit_2l_masked(evtchn_port_t p)
{
    return kit_test_bit(p, kit_shared_info->evtchn_mask);
}
static inline void kit_2l_mask(evtchn_port_t p)
{
    kit_test_and_set_bit(p, &kit_shared_info->evtchn_mask[0]);
}
static inline void kit_2l_clear_pending(evtchn_port_t p)
{
    kit_test_and_clear_bit(p, &kit_shared_info->evtchn_pending[0]);
}

/* ---- vCPUs ---------------------------------------------------------------- */

/* vCPUs the domain has: VCPUOP_is_up probed until -ENOENT. */
unsigned int kit_nr_vcpus(void);
/* VCPUOP_initialise(id) with a 64-bit vcpu_hvm_context that enters the kit's
 * AP path on its own stack; the AP then runs fn(id) with interrupts off and,
 * when fn returns, idles in sti;hlt forever. Returns the hypercall result. */
long kit_vcpu_initialise(unsigned int id, void (*fn)(unsigned int id));
/* Fills ctx as kit_vcpu_initialise does (for tests of the call itself). */
void kit_vcpu_context(struct vcpu_hvm_context *ctx, unsigned int id);
/* VCPUOP_register_vcpu_info at a guest-physical address (mfn + offset) and
 * point the kit at it on success. */
long kit_register_vcpu_info(unsigned int id, unsigned long paddr);

#endif
