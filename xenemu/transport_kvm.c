/* The kvm transport: KVM's Xen support traps VMCALL/VMMCALL and hands each
 * call to us as KVM_EXIT_XEN with its arguments already decoded.
 *
 * KVM answers a few hypercalls from CPL0 itself, with no way to opt out:
 * SCHEDOP_yield, and SCHEDOP_poll, which becomes a yield (without
 * KVM_XEN_HVM_CONFIG_EVTCHN_SEND) or takes its timeout as relative (with
 * it), where Xen's is absolute system time. A yield that never reaches us
 * also starves guests that spin on it waiting for a backend (GRUB's
 * console). So we fill the hypercall page ourselves, as the page transport
 * does, and route its sched_op stub through the hypercall port; every other
 * stub is a VMCALL. KVM would fill the page itself, but with
 * INTERCEPT_HCALL it ignores a VMM's page blob, so the hypercall MSR is
 * routed to us. Guests that issue VMCALL directly (current Linux) get
 * KVM's sched_op: a poll returns at once, which Linux treats as spurious. */
#include <cpuid.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <stdint.h>
#include <sys/ioctl.h>

#include <xen/version.h>

#include "xenkvm/hypercall.h"
#include "xenkvm/log.h"
#include "xenkvm/policy.h"
#include "xenkvm/transport.h"
#include "xenkvm/vm.h"

/* VMMCALL on AMD and Hygon, VMCALL on Intel: KVM would rewrite the other
 * one in guest memory at its first use. */
static uint8_t vmcall_modrm = 0xc1;

int xen_kvm_transport_available(int kvm_fd)
{
	int caps = ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XEN_HVM);
	return caps > 0 && (caps & KVM_XEN_HVM_CONFIG_INTERCEPT_HCALL);
}

static void pick_vmcall(void)
{
	unsigned eax, ebx, ecx, edx;

	if (__get_cpuid(0, &eax, &ebx, &ecx, &edx) &&
	    (ebx == 0x68747541 /* Auth */ || ebx == 0x6f677948 /* Hygo */))
		vmcall_modrm = 0xd9;
}

/* mov $nr,%eax; vmcall; ret, except where the port must serve (above). */
static size_t kvm_stub(unsigned nr, uint8_t *out)
{
	if (nr == __HYPERVISOR_sched_op || nr == __HYPERVISOR_iret)
		return hcall_port_stub(nr, out);
	out[0] = 0xb8;
	memcpy(out + 1, &nr, 4);
	out[5] = 0x0f, out[6] = 0x01, out[7] = vmcall_modrm;
	out[8] = 0xc3;
	return 9;
}

static int kvm_wrmsr(struct vcpu *v, uint32_t index, uint64_t value)
{
	return hypercall_msr_write(v, index, value, kvm_stub);
}

/* A continuation re-runs our stub from its mov. RIP is at the VMCALL (KVM
 * steps past it only when completing the exit, and not if RIP moved). A
 * VMCALL that is not in one of our stubs (Linux issues them inline) cannot
 * be re-issued: such calls run to their end. */
static int kvm_restartable(struct hcall *hc)
{
	const uint8_t vmcall[3] = { 0x0f, 0x01, vmcall_modrm };

	return hcall_find_stub(hc, vmcall, sizeof(vmcall));
}

static void kvm_xen_exit(struct vcpu *v)
{
	struct kvm_sync_regs *sr = &v->run->s.regs;
	struct kvm_xen_exit *e = &v->run->xen;
	struct hcall hc;

	if (e->type != KVM_EXIT_XEN_HCALL) {
		log_once("unknown KVM_EXIT_XEN type %u ignored", e->type);
		return;
	}
	/* The sync regs carry the paging state guest-virtual accesses need. */
	hcall_prepare(&hc, v, &v->run->s.regs.sregs);
	/* KVM decoded mode and privilege at the trap: trust those over sregs. */
	hc.abi64 = e->u.hcall.longmode;
	hc.cpl = (int)e->u.hcall.cpl;
	hc.nr = e->u.hcall.input;
	memcpy(hc.arg, e->u.hcall.params, sizeof(hc.arg));
	hc.rip = sr->regs.rip + (hc.abi64 ? 0 : sr->sregs.cs.base);
	hc.can_continue = 1;
	hc.restartable = kvm_restartable;
	e->u.hcall.result = (uint64_t)hypercall_dispatch(&hc);
	if (hc.continued) {
		hcall_apply_continuation(&hc, &sr->regs);
		v->run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
	}
}

/* XENVER_version is constant: KVM answers it without leaving the kernel,
 * unless the hypercall policy denies it (which the kernel would not see). */
static void accelerate_xen_version(struct xen *x, struct vm *vm, int caps)
{
	struct kvm_xen_hvm_attr attr = { .type = KVM_XEN_ATTR_TYPE_XEN_VERSION,
					 .u.xen_version = (XENKVM_XEN_MAJOR << 16) |
							  XENKVM_XEN_MINOR };

	if (!(caps & KVM_XEN_HVM_CONFIG_EVTCHN_SEND))
		return;
	if (!policy_allows(x->policy, __HYPERVISOR_xen_version, XENVER_version)) {
		log_debug("kvm transport: XENVER_version is left to the hypercall policy");
		return;
	}
	if (ioctl(vm->vm_fd, KVM_XEN_HVM_SET_ATTR, &attr) < 0)
		log_warn("kvm transport: KVM_XEN_ATTR_TYPE_XEN_VERSION: %s", strerror(errno));
	else
		log_debug("kvm transport: XENVER_version answered by KVM");
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
	if (hcall_port_init(x, err, errlen) < 0)
		return -1;
	pick_vmcall();
	accelerate_xen_version(x, vm, ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XEN_HVM));
	vm->hooks.wrmsr = kvm_wrmsr;
	vm->hooks.xen_exit = kvm_xen_exit;
	return 0;
}
