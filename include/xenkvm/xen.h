/* The Xen personality's per-VM state and its entry points for the VMM core. */
#ifndef XENKVM_XEN_H
#define XENKVM_XEN_H

#include <pthread.h>
#include <stdint.h>

#include "xenkvm/boot.h"

/* The Xen version we present: that of the ABI headers we build against. */
#define XENKVM_XEN_MAJOR 4
#define XENKVM_XEN_MINOR 17
#define XENKVM_XEN_EXTRAVERSION "-xenkvm"
/* The guest's domain id: the first domU id, as under xl. */
#define XENKVM_DOMID 1
/* The hypercall-page MSR, named by CPUID leaf base+2 EBX. */
#define XEN_HYPERCALL_MSR 0x40000000u
/* The port the page transport's stubs write the hypercall number to. */
#define XENKVM_HCALL_PORT 0x96

/* Special frames (in the reserved SPECIAL_PAGES range of guest_mem.h), where
 * Xen's toolstack puts them (special_pfn()), handed over by HVM params. */
#define XENSTORE_GFN 0xfeffbULL
#define CONSOLE_GFN 0xfeff8ULL
/* Event channel ports the toolstack reserves for the console and XenStore. */
#define CONSOLE_EVTCHN_PORT 1
#define STORE_EVTCHN_PORT 2

/* XENMEM_set_memory_map accepts at most this many entries, as Xen does. */
#define XEN_E820_MAX 128

enum hcall_transport { TRANSPORT_AUTO, TRANSPORT_PAGE, TRANSPORT_KVM };

struct vm;
struct vcpu;
struct console;
struct evtchn_state;
struct gnttab;
struct evloop;
struct xenstore;
struct hcall_policy;

struct xen_vcpu {
	struct xen *xen;
	unsigned id;
	pthread_mutex_t lock;
	pthread_cond_t wake; /* SCHEDOP_block/poll and a downed vCPU wait here */
	unsigned wake_gen;   /* counts wake-ups, so a waiter cannot miss one */
	/* vcpu_info registered with VCPUOP_register_vcpu_info (else the
	 * shared_info slot, for vCPUs below 32). */
	uint8_t *vcpu_info;
	/* HVMOP_set_evtchn_upcall_vector: delivered through the LAPIC. */
	uint8_t upcall_vector;
	/* The global callback vector, waiting for the vCPU thread to inject it. */
	int inject_vector;
	void *retry_timer; /* kicks the vCPU while an injection waits for IF */
	int retry_armed;
	/* After a per-vCPU vector was sent: the vCPU looks again (upcall.c). */
	void *recheck_timer;
	int recheck_armed;
	/* Timers, in Xen system time (ns); 0 means off. */
	int timer_fd;
	uint64_t singleshot_deadline;
	uint64_t period_ns, periodic_next;
	/* Secondary vcpu_time_info (VCPUOP_register_vcpu_time_memory_area) and
	 * the runstate area: guest-physical, resolved when registered. 0: none. */
	uint64_t time_area_gpa;
	uint64_t runstate_gpa;
	int runstate_state;
	uint64_t runstate_entry, runstate_time[4];
	/* SMP: started by VCPUOP_initialise + VCPUOP_up. */
	int initialised, down, start_pending, ever_started;
	void *start_context; /* struct vcpu_hvm_context */
	int polling;
	int nmi_pending; /* VCPUOP_send_nmi, raised by the vCPU's thread */
	/* The guest's call being served: its number + 1 (0 between calls), and
	 * its first argument (the sub-op of most families). */
	uint64_t in_call, in_call_arg0;
};

struct xen {
	struct vm *vm;
	enum hcall_transport transport;
	pthread_mutex_t lock; /* params, shared_info placement, memory map */
	uint64_t *params;     /* HVM_NR_PARAMS values */
	/* shared_info: a VMM page, mapped into the guest by add_to_physmap. */
	uint8_t *shared_info;
	uint64_t shared_info_off; /* memfd offset */
	uint64_t shared_info_gfn; /* ~0 while unmapped */
	int shinfo_32bit;         /* latched from the guest's mode, as Xen does */
	int shutdown_code;        /* SCHEDOP_shutdown_code, or -1 */
	uint64_t tsc_khz;
	/* Xen system time: the host TSC since tsc_base, scaled as the guest's
	 * pvclock scales it (xenemu/time.c). */
	uint64_t tsc_base;
	uint32_t tsc_mul;
	int8_t tsc_shift;
	struct console *console;
	/* The reservation (xenemu/memory*.c, under lock): the domain owns the
	 * populated RAM frames plus unmapped_pages (pages Xen would keep
	 * allocated but no frame shows: increase_reservation's, frames
	 * replaced or removed from the physmap). max_pages is maxmem in pages;
	 * 0 means the initial RAM (memory=). */
	uint64_t max_pages;
	uint32_t vm_assist; /* VMASST_TYPE_* bits the guest switched on */
	uint64_t unmapped_pages;
	/* The memory map XENMEM_memory_map returns; the guest may replace it. */
	struct e820_entry *e820;
	unsigned e820_n;
	uint8_t *console_ring, *store_ring;
	struct xen_vcpu vcpus[128];
	struct evtchn_state *evtchn;
	struct gnttab *gnttab; /* NULL: grant_table_op is -ENOSYS */
	struct evloop *loop; /* timers and backend notifications run here */
	struct xenstore *xs;
	int store_kick_fd; /* the guest's XenStore notifications, for the loop */
	/* HVM_PARAM_CALLBACK_IRQ of type GSI: a level line through an irqfd. */
	int gsi_trigger_fd, gsi_resample_fd;
	uint32_t callback_gsi;
	/* --hypercall-policy: NULL allows everything (xenemu/policy.c). */
	struct hcall_policy *policy;
	/* --time-granularity: what the time that hypercalls return is rounded
	 * down to, in ns; 0 or 1: exact (xenemu/time.c). */
	uint64_t time_granularity_ns;
	pthread_mutex_t time_lock;  /* the HVMOP_get_time state below */
	uint64_t time_served_ns;    /* the last HVMOP_get_time answer */
	uint64_t time_next_read_ns; /* before this, that answer stands */
	uint64_t time_rng;          /* xorshift state for the read times */
};

/* Set up the Xen personality on a created VM: transport, special pages, time.
 * policy (NULL: allow all) is the VM's hypercall policy; the transport needs
 * it, as KVM can answer a call in the kernel where no policy is seen. */
int xen_init(struct xen *x, struct vm *vm, struct evloop *loop, enum hcall_transport t,
	     struct hcall_policy *policy, struct console *con, char *err, size_t errlen);
void xen_destroy(struct xen *x);
/* Serve the guest's XenStore ring (at XENSTORE_GFN, port STORE_EVTCHN_PORT) from xs. */
int xen_attach_store(struct xen *x, struct xenstore *xs);
/* The memory map XENMEM_memory_map serves (the guest may replace it). */
void xen_set_memory_map(struct xen *x, const struct e820_entry *e, unsigned n);
/* xl mem-set: move the balloon target (XenStore memory/target, KiB). 0 or
 * a positive errno; EINVAL beyond the maximum reservation. */
int xen_set_memory_target(struct xen *x, uint64_t kib);
/* The host's highest RAM frame + 1 (XENMEM_maximum_ram_page), cached. */
uint64_t xen_host_max_page(void);
/* Does this KVM offer KVM_XEN_HVM_CONFIG with INTERCEPT_HCALL? */
int xen_kvm_transport_available(int kvm_fd);

/* Xen system time (ns since VM start) and the pvclock fill of shared_info. */
uint64_t xen_system_time_ns(const struct xen *x);
void xen_time_init(struct xen *x);
/* When the host's CLOCK_MONOTONIC reaches a system time (now if past). */
struct timespec xen_time_to_monotonic(const struct xen *x, uint64_t system_ns);
void xen_time_update_shared_info(struct xen *x);
/* --time-granularity (set before the vCPUs run; 0 or 1: exact): the time
 * hypercalls return, rounded down to it (xen_time_coarse), and HVMOP_get_time,
 * which also reads the clock at most once per random 0.5 to 1.5 granules. */
void xen_time_set_granularity(struct xen *x, uint64_t ns);
uint64_t xen_time_coarse(const struct xen *x, uint64_t ns);
uint64_t xen_time_get_time(struct xen *x);

/* The domain shuts down for a SHUTDOWN_* reason (SCHEDOP_shutdown, ACPI S5). */
void xen_domain_shutdown(struct xen *x, unsigned reason);

/* Wake a vCPU blocked in SCHEDOP_block (event delivery, stop). */
void xen_vcpu_wake(struct xen *x, unsigned vcpu_id);
/* Print what each vCPU is doing (a guest that hangs: --timeout). Takes no
 * lock, so it also shows a VMM whose threads are stuck on one. */
void xen_dump_vcpus(struct xen *x);

#endif
