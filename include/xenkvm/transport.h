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

/* Resolve TRANSPORT_AUTO and install the chosen transport's hooks. */
int transport_init(struct xen *x, enum hcall_transport t, char *err, size_t errlen);
int transport_page_init(struct xen *x, char *err, size_t errlen);
int transport_kvm_init(struct xen *x, char *err, size_t errlen);
const char *transport_name(enum hcall_transport t);

/* Fill the parts of a hypercall both transports share, from the exit's sregs. */
void hcall_prepare(struct hcall *hc, struct vcpu *v, const struct kvm_sregs *s);

/* Write the Xen hypercall page into guest frame gpa: stub() writes the
 * code for hypercall nr (at most 32 bytes) and returns its length. */
int hypercall_page_write(struct xen *x, uint64_t gpa, size_t (*stub)(unsigned nr, uint8_t *out));

#endif
