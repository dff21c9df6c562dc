/* The page transport: the guest's write to the hypercall MSR makes us fill
 * its page with stubs that `out` the hypercall number to a private port. The
 * port exit brings the registers along (KVM_CAP_SYNC_REGS), so a hypercall
 * costs one exit and no extra ioctl. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "xenkvm/hypercall.h"
#include "xenkvm/log.h"
#include "xenkvm/transport.h"
#include "xenkvm/vm.h"

/* mov $nr,%eax; out %eax,$port; ret. iret is not a hypercall for HVM: ud2. */
size_t hcall_port_stub(unsigned nr, uint8_t *out)
{
	if (nr == __HYPERVISOR_iret) {
		out[0] = 0x0f, out[1] = 0x0b;
		return 2;
	}
	out[0] = 0xb8;
	memcpy(out + 1, &nr, 4);
	out[5] = 0xe7, out[6] = XENKVM_HCALL_PORT;
	out[7] = 0xc3;
	return 8;
}

static int page_wrmsr(struct vcpu *v, uint32_t index, uint64_t value)
{
	return hypercall_msr_write(v, index, value, hcall_port_stub);
}

/* Reading the hypercall MSR faults on Xen too. */
static int page_rdmsr(struct vcpu *v, uint32_t index, uint64_t *value)
{
	(void)v, (void)index, (void)value;
	return -1;
}

/* A continuation re-runs the stub from its mov; at the exit RIP is at
 * the `out`, or past it where KVM completed the `out` first. */
static int page_restartable(struct hcall *hc)
{
	static const uint8_t out[2] = { 0xe7, XENKVM_HCALL_PORT };

	return hcall_find_stub(hc, out, sizeof(out));
}

static void page_hypercall(struct vcpu *v, uint16_t port, int is_write, void *data,
			   unsigned size, void *opaque)
{
	struct kvm_sync_regs *sr = &v->run->s.regs;
	struct kvm_regs *r = &sr->regs;
	struct hcall hc;
	long ret;

	(void)port, (void)opaque;
	if (!is_write || size != 4) {
		if (!is_write)
			memset(data, 0xff, size);
		return;
	}
	hcall_prepare(&hc, v, &sr->sregs);
	memcpy(&hc.nr, data, 4);
	if (hc.abi64) {
		uint64_t a[6] = { r->rdi, r->rsi, r->rdx, r->r10, r->r8, r->r9 };
		memcpy(hc.arg, a, sizeof(a));
	} else {
		uint64_t a[6] = { r->rbx, r->rcx, r->rdx, r->rsi, r->rdi, r->rbp };
		memcpy(hc.arg, a, sizeof(a));
	}
	/* Linear address: CS's base counts outside long mode. */
	hc.rip = r->rip + (hc.abi64 ? 0 : sr->sregs.cs.base);
	hc.can_continue = 1;
	hc.restartable = page_restartable;
	ret = hypercall_dispatch(&hc);
	r->rax = hc.abi64 ? (uint64_t)ret : (uint32_t)ret;
	if (hc.continued)
		hcall_apply_continuation(&hc, r);
	v->run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
}

/* Writes (and reads) of the hypercall MSR must reach us, whatever KVM thinks
 * of the index: a filter that denies just that MSR, with userspace exits. */
static int route_hypercall_msr(struct vm *vm)
{
	static uint8_t deny[1] = { 0 };
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_X86_USER_SPACE_MSR,
		.args = { KVM_MSR_EXIT_REASON_FILTER | KVM_MSR_EXIT_REASON_UNKNOWN },
	};
	struct kvm_msr_filter filter = {
		.flags = KVM_MSR_FILTER_DEFAULT_ALLOW,
		.ranges = { { .flags = KVM_MSR_FILTER_WRITE | KVM_MSR_FILTER_READ,
			      .nmsrs = 1, .base = XEN_HYPERCALL_MSR, .bitmap = deny } },
	};

	if (ioctl(vm->vm_fd, KVM_ENABLE_CAP, &cap) < 0)
		return -1;
	return ioctl(vm->vm_fd, KVM_X86_SET_MSR_FILTER, &filter);
}

int hcall_port_init(struct xen *x, char *err, size_t errlen)
{
	struct vm *vm = x->vm;

	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SYNC_REGS) <= 0) {
		snprintf(err, errlen, "hypercall port: KVM lacks KVM_CAP_SYNC_REGS");
		return -1;
	}
	if (route_hypercall_msr(vm) < 0) {
		snprintf(err, errlen, "hypercall port: routing the hypercall MSR: %s",
			 strerror(errno));
		return -1;
	}
	vm->hooks.rdmsr = page_rdmsr;
	return vm_register_pio(vm, XENKVM_HCALL_PORT, 1, page_hypercall, x);
}

int transport_page_init(struct xen *x, char *err, size_t errlen)
{
	if (hcall_port_init(x, err, errlen) < 0)
		return -1;
	x->vm->hooks.wrmsr = page_wrmsr;
	return 0;
}
