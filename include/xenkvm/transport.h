/* The hypercall transport seam: how a guest's hypercall reaches
 * hypercall_dispatch(). `page` fills the hypercall page with port-I/O stubs;
 * `kvm` lets KVM's Xen support trap VMCALL/VMMCALL as KVM_EXIT_XEN. */
#ifndef XENKVM_TRANSPORT_H
#define XENKVM_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "xenkvm/xen.h"

struct hcall;
struct vcpu;
struct kvm_sregs;
struct kvm_regs;

/* Resolve TRANSPORT_AUTO and install the chosen transport's hooks. */
int transport_init(struct xen *x, enum hcall_transport t, char *err, size_t errlen);
int transport_page_init(struct xen *x, char *err, size_t errlen);
int transport_kvm_init(struct xen *x, char *err, size_t errlen);
const char *transport_name(enum hcall_transport t);

/* Fill the parts of a hypercall both transports share, from the exit's sregs. */
void hcall_prepare(struct hcall *hc, struct vcpu *v, const struct kvm_sregs *s);

/* Continuations: the guest re-issues a preempted call from its stub's
 * `mov $nr,%eax`, which precedes the trapping instruction insn. hc->rip
 * (linear) is at insn or just past it. Sets hc->restart_rip and returns 1
 * if the stub is there, else 0 (the call must then run to its end). */
int hcall_find_stub(struct hcall *hc, const uint8_t *insn, size_t len);
/* Put hc->cont_arg in the ABI's argument registers and move RIP back to
 * the stub: KVM, seeing RIP moved, does not complete the old exit
 * (complete_fast_pio_out, kvm_xen_hypercall_complete_userspace). */
void hcall_apply_continuation(const struct hcall *hc, struct kvm_regs *r);

/* Writes the code for hypercall nr (at most 32 bytes); returns its length. */
typedef size_t (*hcall_stub_fn)(unsigned nr, uint8_t *out);

/* Write the Xen hypercall page into guest frame gpa, one stub per 32 bytes. */
int hypercall_page_write(struct xen *x, uint64_t gpa, hcall_stub_fn stub);
/* The guest wrote the hypercall MSR: fill the page it names with stub's
 * code. 0 done, -1 inject #GP (another MSR, a page index, not RAM). */
int hypercall_msr_write(struct vcpu *v, uint32_t index, uint64_t value, hcall_stub_fn stub);

/* The port route (the page transport's whole mechanism, and the kvm
 * transport's for sched_op): stubs that `out` the hypercall number to
 * XENKVM_HCALL_PORT, and the hypercall MSR routed to userspace. */
size_t hcall_port_stub(unsigned nr, uint8_t *out);
int hcall_port_init(struct xen *x, char *err, size_t errlen);

#endif
