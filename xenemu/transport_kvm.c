/* The kvm transport: KVM's Xen support traps VMCALL/VMMCALL (and fills the
 * hypercall page itself when the guest writes the MSR); each call arrives as
 * KVM_EXIT_XEN with its arguments already decoded. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "xenkvm/hypercall.h"
#include "xenkvm/log.h"
#include "xenkvm/transport.h"
#include "xenkvm/vm.h"

int xen_kvm_transport_available(int kvm_fd)
{
	int caps = ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XEN_HVM);
	return caps > 0 && (caps & KVM_XEN_HVM_CONFIG_INTERCEPT_HCALL);
}

static void kvm_xen_exit(struct vcpu *v)
{
	struct kvm_xen_exit *e = &v->run->xen;
	struct hcall hc;

	if (e->type != KVM_EXIT_XEN_HCALL) {
		log_once("unknown KVM_EXIT_XEN type %u ignored", e->type);
		return;
	}
	hcall_prepare(&hc, v, &v->run->s.regs.sregs);
	/* KVM decoded mode and privilege at the trap: trust those over sregs. */
	hc.abi64 = e->u.hcall.longmode;
	hc.cpl = (int)e->u.hcall.cpl;
	hc.nr = e->u.hcall.input;
	memcpy(hc.arg, e->u.hcall.params, sizeof(hc.arg));
	e->u.hcall.result = (uint64_t)hypercall_dispatch(&hc);
}

int transport_kvm_init(struct xen *x, char *err, size_t errlen)
{
	struct vm *vm = x->vm;
	/* msr must be non-zero or KVM answers hypercalls itself (-ENOSYS). */
	struct kvm_xen_hvm_config cfg = { .flags = KVM_XEN_HVM_CONFIG_INTERCEPT_HCALL,
					  .msr = XEN_HYPERCALL_MSR };

	if (!xen_kvm_transport_available(vm->kvm_fd)) {
		snprintf(err, errlen,
			 "kvm transport: this KVM has no Xen support (KVM_CAP_XEN_HVM); "
			 "use --hypercall page");
		return -1;
	}
	if (ioctl(vm->vm_fd, KVM_XEN_HVM_CONFIG, &cfg) < 0) {
		snprintf(err, errlen, "kvm transport: KVM_XEN_HVM_CONFIG: %s", strerror(errno));
		return -1;
	}
	vm->hooks.xen_exit = kvm_xen_exit;
	return 0;
}
