/* Transport selection and what both transports share. */
#include <stdio.h>
#include <string.h>

#include "xenkvm/hypercall.h"
#include "xenkvm/log.h"
#include "xenkvm/transport.h"
#include "xenkvm/vm.h"

#define EFER_LMA (1ULL << 10)

const char *transport_name(enum hcall_transport t)
{
	return t == TRANSPORT_KVM ? "kvm" : t == TRANSPORT_PAGE ? "page" : "auto";
}

int transport_init(struct xen *x, enum hcall_transport t, char *err, size_t errlen)
{
	if (t == TRANSPORT_AUTO)
		t = xen_kvm_transport_available(x->vm->kvm_fd) ? TRANSPORT_KVM : TRANSPORT_PAGE;
	x->transport = t;
	log_info("hypercall transport: %s", transport_name(t));
	return t == TRANSPORT_KVM ? transport_kvm_init(x, err, errlen)
				  : transport_page_init(x, err, errlen);
}

void hcall_prepare(struct hcall *hc, struct vcpu *v, const struct kvm_sregs *s)
{
	memset(hc, 0, sizeof(*hc));
	hc->xen = v->vm->xen;
	hc->vcpu = v;
	hc->vcpu_id = v->id;
	hc->mem = &v->vm->mem;
	hc->abi64 = (s->efer & EFER_LMA) && s->cs.l;
	/* Xen takes the privilege level from SS's DPL. */
	hc->cpl = (s->cr0 & 1) ? s->ss.dpl : 0;
	hc->pg = (struct guest_paging){ .cr0 = s->cr0, .cr3 = s->cr3, .cr4 = s->cr4,
					.efer = s->efer };
}

#define MOV_EAX_LEN 5 /* b8 imm32 */
#define MAX_INSN_LEN 3

int hcall_find_stub(struct hcall *hc, const uint8_t *insn, size_t len)
{
	uint8_t want[MOV_EAX_LEN + MAX_INSN_LEN], code[MOV_EAX_LEN + 2 * MAX_INSN_LEN];
	uint32_t nr = (uint32_t)hc->nr;
	size_t n = MOV_EAX_LEN + len;

	if (len > MAX_INSN_LEN)
		return 0;
	want[0] = 0xb8;
	memcpy(want + 1, &nr, 4);
	memcpy(want + MOV_EAX_LEN, insn, len);
	/* code[] is [rip - n, rip + len): the stub starts at rip - 5 (RIP at
	 * insn) or at rip - n (RIP past it). */
	if (copy_from_guest(hc, code, hc->rip - n, n + len))
		return 0;
	if (!memcmp(code + len, want, n))
		hc->restart_rip = hc->rip - MOV_EAX_LEN;
	else if (!memcmp(code, want, n))
		hc->restart_rip = hc->rip - n;
	else
		return 0;
	return 1;
}

void hcall_apply_continuation(const struct hcall *hc, struct kvm_regs *r)
{
	const uint64_t *a = hc->cont_arg;

	if (hc->abi64) {
		r->rdi = a[0], r->rsi = a[1], r->rdx = a[2], r->r10 = a[3], r->r8 = a[4], r->r9 = a[5];
	} else {
		r->rbx = a[0], r->rcx = a[1], r->rdx = a[2], r->rsi = a[3], r->rdi = a[4], r->rbp = a[5];
	}
	r->rax = hc->nr;
	/* Both are linear addresses: RIP moves back by their distance. */
	r->rip -= hc->rip - hc->restart_rip;
}

int hypercall_page_write(struct xen *x, uint64_t gpa, hcall_stub_fn stub)
{
	uint8_t *page = gmem_ptr(&x->vm->mem, gpa, GUEST_PAGE_SIZE);

	if (!page)
		return -1;
	/* int3 everywhere no stub is, as Xen fills it. */
	memset(page, 0xcc, GUEST_PAGE_SIZE);
	for (unsigned nr = 0; nr < GUEST_PAGE_SIZE / 32; nr++) {
		stub(nr, page + nr * 32);
	}
	return 0;
}

int hypercall_msr_write(struct vcpu *v, uint32_t index, uint64_t value, hcall_stub_fn stub)
{
	if (index != XEN_HYPERCALL_MSR)
		return -1;
	/* The low bits pick a page of a multi-page area: we have one. */
	if (value & (GUEST_PAGE_SIZE - 1)) {
		log_once("guest asked for hypercall page %llu; there is one: #GP",
			 (unsigned long long)(value & (GUEST_PAGE_SIZE - 1)));
		return -1;
	}
	if (hypercall_page_write(v->vm->xen, value, stub) < 0) {
		log_once("hypercall page at %#llx is not guest memory: #GP",
			 (unsigned long long)value);
		return -1;
	}
	log_debug("vCPU %u: hypercall page at %#llx", v->id, (unsigned long long)value);
	return 0;
}
