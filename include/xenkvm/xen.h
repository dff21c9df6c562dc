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

struct xen_vcpu {
	pthread_mutex_t lock;
	pthread_cond_t wake; /* SCHEDOP_block waits here */
	int kicked;          /* a wake-up arrived while not blocked */
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
	uint64_t time_base_ns;    /* CLOCK_MONOTONIC at VM start: system time 0 */
	struct console *console;
	/* The memory map XENMEM_memory_map returns; the guest may replace it. */
	struct e820_entry *e820;
	unsigned e820_n;
	uint8_t *console_ring, *store_ring;
	struct xen_vcpu vcpus[128];
};

/* Set up the Xen personality on a created VM: transport, special pages, time. */
int xen_init(struct xen *x, struct vm *vm, enum hcall_transport t, struct console *con,
	     char *err, size_t errlen);
void xen_destroy(struct xen *x);
/* The memory map XENMEM_memory_map serves (the guest may replace it). */
void xen_set_memory_map(struct xen *x, const struct e820_entry *e, unsigned n);
/* Does this KVM offer KVM_XEN_HVM_CONFIG with INTERCEPT_HCALL? */
int xen_kvm_transport_available(int kvm_fd);

/* Xen system time (ns since VM start) and the pvclock fill of shared_info. */
uint64_t xen_system_time_ns(const struct xen *x);
void xen_time_update_shared_info(struct xen *x);

/* Wake a vCPU blocked in SCHEDOP_block (event delivery, stop). */
void xen_vcpu_wake(struct xen *x, unsigned vcpu_id);

#endif
