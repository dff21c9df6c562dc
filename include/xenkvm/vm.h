/* The VM: KVM file descriptors, guest memory, vCPU threads and the exit
 * routing that the Xen personality and the devices plug into. */
#ifndef XENKVM_VM_H
#define XENKVM_VM_H

#include <pthread.h>
#include <sys/types.h>
#include <stdint.h>
#include <linux/kvm.h>

#include "xenkvm/guest_mem.h"

#define VM_MAX_VCPUS 128

/* Process exit statuses, documented in the README. */
enum vm_exit_status {
	EXIT_POWEROFF = 0,
	EXIT_CRASH = 1,
	EXIT_BAD_INPUT = 2,
	EXIT_REBOOT = 3,
	EXIT_WATCHDOG = 4,
	EXIT_SUSPEND = 5,
	EXIT_SOFT_RESET = 6,
	EXIT_TRIPLE_FAULT = 7,
	EXIT_EMULATION_FAILURE = 8,
	EXIT_TIMEOUT = 124,
	EXIT_VMM_ERROR = 125,
};

struct vm;
struct vcpu;

/* Port I/O handler: data is size bytes; for `in` the handler fills it. */
typedef void (*pio_handler_fn)(struct vcpu *v, uint16_t port, int is_write, void *data,
			       unsigned size, void *opaque);

struct vcpu {
	struct vm *vm;
	unsigned id;
	int fd;
	struct kvm_run *run;
	size_t run_size;
	pthread_t thread;
	int thread_started;
	pid_t tid; /* for timers that signal this thread */
};

struct pio_range {
	uint16_t base, len;
	pio_handler_fn fn;
	void *opaque;
};

#define VM_MAX_PIO 32

struct xen;
struct boot_info;

/* How the Xen personality hooks into exits the VMM core cannot route itself. */
struct vm_exit_hooks {
	/* WRMSR of an MSR routed to userspace: 0 done, -1 inject #GP. */
	int (*wrmsr)(struct vcpu *v, uint32_t index, uint64_t value);
	/* RDMSR of an MSR routed to userspace: 0 done, -1 inject #GP. */
	int (*rdmsr)(struct vcpu *v, uint32_t index, uint64_t *value);
	/* KVM_EXIT_XEN (the kvm hypercall transport). */
	void (*xen_exit)(struct vcpu *v);
	/* The VM is stopping: release vCPUs waiting outside KVM_RUN. */
	void (*stop)(struct vm *vm);
	/* On the vCPU's thread before each KVM_RUN: pending starts, injections. */
	void (*pre_run)(struct vcpu *v);
};

struct vm {
	int kvm_fd;
	int vm_fd;
	struct guest_mem mem;
	struct boot_info *boot; /* owned by the caller; the E820 map lives here */
	unsigned nvcpus;
	struct vcpu vcpus[VM_MAX_VCPUS];
	struct pio_range pio[VM_MAX_PIO];
	unsigned npio;
	struct xen *xen;
	struct vm_exit_hooks hooks;
	int stop_efd;             /* written once when the VM must stop */
	int exit_status;          /* first stop request wins */
	int stopping;
	int paused;               /* vCPUs wait before KVM_RUN (pause/unpause) */
	pthread_mutex_t pause_lock;
	pthread_cond_t pause_cond;
};

int vm_create(struct vm *vm, uint64_t ram_size, unsigned nvcpus, char *err, size_t errlen);
void vm_destroy(struct vm *vm);
int vm_register_pio(struct vm *vm, uint16_t base, uint16_t len, pio_handler_fn fn, void *opaque);
/* Hold every vCPU outside KVM_RUN, or let them run again. */
void vm_pause(struct vm *vm);
void vm_unpause(struct vm *vm);
/* Ask every vCPU to stop; the first caller's status becomes the exit status. */
void vm_request_stop(struct vm *vm, int status);
int vm_start_vcpus(struct vm *vm);
void vm_join_vcpus(struct vm *vm);

/* Make the vCPU's thread leave KVM_RUN (or not enter it) and run pre_run. */
void vcpu_kick(struct vcpu *v);
/* Interrupts: an MSI to a LAPIC; a level-triggered GSI through an irqfd
 * whose resample fd fires when the guest EOIs it. */
int vm_signal_msi(struct vm *vm, uint32_t apic_id, uint8_t vector);
int vm_irqfd_level(struct vm *vm, uint32_t gsi, int trigger_fd, int resample_fd);
void vm_irqfd_release(struct vm *vm, uint32_t gsi, int trigger_fd);

int vcpu_create(struct vm *vm, unsigned id);
void vcpu_destroy(struct vcpu *v);
int vcpu_set_pvh_entry(struct vcpu *v, uint32_t entry, uint32_t start_info);
/* Raise an NMI on the vCPU (from its own thread). */
int vcpu_inject_nmi(struct vcpu *v);
/* Load registers into a vCPU (from its own thread) and make it runnable. */
int vcpu_set_state(struct vcpu *v, const struct kvm_regs *r, const struct kvm_sregs *s);
void vcpu_dump(struct vcpu *v, const char *why);
int cpuid_setup(struct vcpu *v);

#endif
