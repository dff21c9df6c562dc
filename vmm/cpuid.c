/* CPUID: the host's supported leaves, with KVM's hypervisor leaves replaced
 * by Xen's so guests find "XenVMMXenVMM" at 0x40000000. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include <stdint.h>
#include <xen/xen.h>
#include <xen/arch-x86/cpuid.h>

#include "xenkvm/vm.h"
#include "xenkvm/xen.h"

#define CPUID_MAX_ENTRIES 256

static int is_hypervisor_leaf(uint32_t fn)
{
	return fn >= 0x40000000u && fn <= 0x4000ffffu;
}

static void add_leaf(struct kvm_cpuid2 *c, uint32_t fn, uint32_t eax, uint32_t ebx, uint32_t ecx,
		     uint32_t edx)
{
	c->entries[c->nent++] = (struct kvm_cpuid_entry2){
		.function = fn, .eax = eax, .ebx = ebx, .ecx = ecx, .edx = edx
	};
}

/* Xen's leaves: signature, version, hypercall page MSR, time, HVM features. */
static void add_xen_leaves(struct kvm_cpuid2 *c, unsigned vcpu_id)
{
	uint32_t base = XEN_CPUID_FIRST_LEAF;

	add_leaf(c, base, base + 4, XEN_CPUID_SIGNATURE_EBX, XEN_CPUID_SIGNATURE_ECX,
		 XEN_CPUID_SIGNATURE_EDX);
	add_leaf(c, base + 1, (XENKVM_XEN_MAJOR << 16) | XENKVM_XEN_MINOR, 0, 0, 0);
	/* One hypercall page; keep the MSR equal to the base leaf (see xen-pitfalls). */
	add_leaf(c, base + 2, 1, XEN_HYPERCALL_MSR, 0, 0);
	add_leaf(c, base + 3, 0, 0, 0, 0);
	/* UPCALL_VECTOR: HVMOP_set_evtchn_upcall_vector works, so Linux uses the
	 * per-vCPU vector it EOIs rather than the global callback vector. */
	add_leaf(c, base + 4,
		 XEN_HVM_CPUID_VCPU_ID_PRESENT | XEN_HVM_CPUID_DOMID_PRESENT |
			 XEN_HVM_CPUID_UPCALL_VECTOR,
		 vcpu_id, XENKVM_DOMID, 0);
}

/* KVM leaves APIC ids in CPUID to userspace: make them match the vCPU id. */
static void fix_apic_ids(struct kvm_cpuid2 *c, unsigned vcpu_id)
{
	for (uint32_t i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];
		if (e->function == 1)
			e->ebx = (e->ebx & 0x00ffffffu) | (vcpu_id << 24);
		else if (e->function == 0xb || e->function == 0x1f)
			e->edx = vcpu_id;
	}
}

int cpuid_setup(struct vcpu *v)
{
	size_t sz = sizeof(struct kvm_cpuid2) + CPUID_MAX_ENTRIES * sizeof(struct kvm_cpuid_entry2);
	struct kvm_cpuid2 *host = calloc(1, sz), *guest = calloc(1, sz);
	int rc = -1;

	if (!host || !guest)
		goto out;
	host->nent = CPUID_MAX_ENTRIES - 8;
	if (ioctl(v->vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, host) < 0)
		goto out;
	for (uint32_t i = 0; i < host->nent; i++)
		if (!is_hypervisor_leaf(host->entries[i].function))
			guest->entries[guest->nent++] = host->entries[i];
	add_xen_leaves(guest, v->id);
	fix_apic_ids(guest, v->id);
	rc = ioctl(v->fd, KVM_SET_CPUID2, guest);
out:
	free(host);
	free(guest);
	return rc;
}
