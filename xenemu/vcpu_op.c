/* vcpu_op: bringing vCPUs up and down (VCPUOP_initialise with a
 * vcpu_hvm_context), their timers, NMIs, vcpu_info and runstate areas. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <xen/xen.h>
#include <xen/vcpu.h>
#include <xen/hvm/hvm_vcpu.h>

#include "xenkvm/compat32.h"
#include "xenkvm/evtchn.h"
#include "xenkvm/hypercall.h"
#include "xenkvm/log.h"
#include "xenkvm/vm.h"

#define CR0_PE 1ULL
#define CR0_PG (1ULL << 31)
#define CR4_PAE (1ULL << 5)
#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)
#define VCPU_INFO_SIZE 64 /* both layouts */
#define MIN_PERIOD_NS 1000000ULL
#define STIME_DELTA_MAX (~0ULL >> 2) /* Xen's limit on a time delta */

/* A segment from the vcpu_hvm_context "ar" encoding (type, s, dpl, p, avl, l, db, g). */
static struct kvm_segment seg_from_ar(uint32_t base, uint32_t limit, uint16_t ar, uint16_t sel)
{
	return (struct kvm_segment){ .base = base, .limit = limit, .selector = sel,
				     .type = ar & 0xf, .s = (ar >> 4) & 1, .dpl = (ar >> 5) & 3,
				     .present = (ar >> 7) & 1, .avl = (ar >> 8) & 1,
				     .l = (ar >> 9) & 1, .db = (ar >> 10) & 1, .g = (ar >> 11) & 1,
				     .unusable = !((ar >> 7) & 1) };
}

/* Xen's arch_set_info_hvm_guest, reduced to what KVM needs. */
static int hvm_context_to_kvm(const struct vcpu_hvm_context *c, struct kvm_regs *r,
			      struct kvm_sregs *s)
{
	memset(r, 0, sizeof(*r));
	memset(s, 0, sizeof(*s));
	if (c->mode == VCPU_HVM_MODE_32B) {
		const struct vcpu_hvm_x86_32 *e = &c->cpu_regs.x86_32;
		*r = (struct kvm_regs){ .rax = e->eax, .rcx = e->ecx, .rdx = e->edx, .rbx = e->ebx,
					.rsp = e->esp, .rbp = e->ebp, .rsi = e->esi, .rdi = e->edi,
					.rip = e->eip, .rflags = e->eflags | 2 };
		s->cr0 = e->cr0, s->cr3 = e->cr3, s->cr4 = e->cr4, s->efer = e->efer;
		s->cs = seg_from_ar(e->cs_base, e->cs_limit, e->cs_ar, 0x10);
		s->ds = s->fs = s->gs = seg_from_ar(e->ds_base, e->ds_limit, e->ds_ar, 0x18);
		s->ss = seg_from_ar(e->ss_base, e->ss_limit, e->ss_ar, 0x18);
		s->es = seg_from_ar(e->es_base, e->es_limit, e->es_ar, 0x18);
		s->tr = seg_from_ar(e->tr_base, e->tr_limit, e->tr_ar ? e->tr_ar : 0x8b, 0x20);
		if (!(s->cr0 & CR0_PE) || !s->cs.present)
			return -XEN_EINVAL;
	} else if (c->mode == VCPU_HVM_MODE_64B) {
		const struct vcpu_hvm_x86_64 *e = &c->cpu_regs.x86_64;
		*r = (struct kvm_regs){ .rax = e->rax, .rcx = e->rcx, .rdx = e->rdx, .rbx = e->rbx,
					.rsp = e->rsp, .rbp = e->rbp, .rsi = e->rsi, .rdi = e->rdi,
					.rip = e->rip, .rflags = e->rflags | 2 };
		s->cr0 = e->cr0, s->cr3 = e->cr3, s->cr4 = e->cr4, s->efer = e->efer | EFER_LMA;
		if (!(e->cr0 & CR0_PG) || !(e->cr0 & CR0_PE) || !(e->cr4 & CR4_PAE) ||
		    !(e->efer & EFER_LME))
			return -XEN_EINVAL;
		/* Flat long mode, as Xen sets the cached segment state. */
		s->cs = seg_from_ar(0, 0xffffffff, 0xa9b, 0x10);
		s->ds = s->es = s->fs = s->gs = s->ss = seg_from_ar(0, 0xffffffff, 0xc93, 0x18);
		s->tr = seg_from_ar(0, 0x67, 0x8b, 0x20);
	} else {
		return -XEN_EINVAL;
	}
	s->ldt.unusable = 1;
	s->gdt.limit = s->idt.limit = 0xffff;
	s->apic_base = 0xfee00000 | (1 << 11); /* xAPIC enabled; not the BSP */
	return 0;
}

static long vcpu_initialise(struct hcall *hc, unsigned id)
{
	struct xen_vcpu *xv = &hc->xen->vcpus[id];
	struct vcpu_hvm_context *ctx = malloc(sizeof(*ctx));
	struct kvm_regs r;
	struct kvm_sregs s;
	long rc = 0;

	if (!ctx)
		return -XEN_ENOMEM;
	if (copy_from_guest(hc, ctx, hc->arg[2], sizeof(*ctx))) {
		free(ctx);
		return -XEN_EFAULT;
	}
	/* Validate now so a bad context fails the call, not the start. */
	rc = hvm_context_to_kvm(ctx, &r, &s);
	pthread_mutex_lock(&xv->lock);
	if (rc == 0 && xv->initialised)
		rc = -XEN_EEXIST;
	if (rc == 0 && !xen_vcpu_info(hc->xen, id))
		rc = -XEN_EINVAL; /* no vcpu_info: it must be registered first */
	if (rc == 0) {
		free(xv->start_context);
		xv->start_context = ctx;
		xv->initialised = 1;
		ctx = NULL;
	}
	pthread_mutex_unlock(&xv->lock);
	free(ctx);
	return rc;
}

static long vcpu_up(struct xen *x, unsigned id)
{
	struct xen_vcpu *xv = &x->vcpus[id];
	long rc = 0;

	pthread_mutex_lock(&xv->lock);
	if (!xv->initialised) {
		rc = -XEN_EINVAL;
	} else if (xv->down) {
		xv->down = 0;
		xv->start_pending = !xv->ever_started;
		pthread_cond_broadcast(&xv->wake);
	}
	pthread_mutex_unlock(&xv->lock);
	if (rc == 0)
		vcpu_kick(&x->vm->vcpus[id]);
	return rc;
}

static long vcpu_down(struct xen *x, unsigned id)
{
	struct xen_vcpu *xv = &x->vcpus[id];

	pthread_mutex_lock(&xv->lock);
	xv->down = 1;
	pthread_mutex_unlock(&xv->lock);
	runstate_set(x, id, RUNSTATE_offline);
	vcpu_kick(&x->vm->vcpus[id]);
	return 0;
}

/* A vcpu_info of the guest's choosing; everything is marked pending so the
 * guest rescans and nothing is lost in the move (Xen does the same). */
static long vcpu_register_info(struct hcall *hc, unsigned id)
{
	struct xen *x = hc->xen;
	struct xen_vcpu *xv = &x->vcpus[id];
	struct vcpu_register_vcpu_info r;
	uint8_t *old, *page;

	if (copy_from_guest(hc, &r, hc->arg[2], sizeof(r)))
		return -XEN_EFAULT;
	if (r.offset > GUEST_PAGE_SIZE - VCPU_INFO_SIZE || r.mfn >> (64 - GUEST_PAGE_SHIFT))
		return -XEN_EINVAL;
	if (xv->vcpu_info)
		return -XEN_EINVAL;
	if (id != hc->vcpu_id && !xv->down)
		return -XEN_EINVAL;
	if (!gmem_is_ram(hc->mem, r.mfn << GUEST_PAGE_SHIFT, GUEST_PAGE_SIZE))
		return -XEN_EINVAL;
	page = gmem_ptr(hc->mem, r.mfn << GUEST_PAGE_SHIFT, GUEST_PAGE_SIZE);
	old = xen_vcpu_info(x, id);
	if (old)
		memcpy(page + r.offset, old, VCPU_INFO_SIZE);
	else
		memset(page + r.offset, 0, VCPU_INFO_SIZE);
	__atomic_store_n(&xv->vcpu_info, page + r.offset, __ATOMIC_RELEASE);
	memset(page + r.offset + (x->shinfo_32bit ? 4 : 8), 0xff, x->shinfo_32bit ? 4 : 8);
	upcall_mark_pending(x, id);
	xen_time_update_shared_info(x);
	return 0;
}

/* Resolve a guest-virtual area once, at registration, where Xen resolves
 * it at each update. Like Xen, an address that does not resolve is
 * accepted and simply never written; so is an area crossing a page. */
static void resolve_area(struct hcall *hc, uint64_t gva, size_t len, uint64_t *gpa)
{
	if (gva == 0 || (gva & (GUEST_PAGE_SIZE - 1)) + len > GUEST_PAGE_SIZE ||
	    guest_translate(hc->mem, &hc->pg, gva, 1, gpa) < 0 || !gmem_ptr(hc->mem, *gpa, len))
		*gpa = 0;
}

static long vcpu_register_runstate(struct hcall *hc, unsigned id)
{
	struct vcpu_register_runstate_memory_area a;
	uint64_t gpa;
	size_t len = hc->abi64 ? sizeof(struct vcpu_runstate_info)
			       : sizeof(struct compat_vcpu_runstate_info);

	if (copy_from_guest(hc, &a, hc->arg[2], sizeof(a)))
		return -XEN_EFAULT;
	resolve_area(hc, hc->abi64 ? a.addr.p : (uint32_t)a.addr.p, len, &gpa);
	hc->xen->vcpus[id].runstate_gpa = gpa;
	runstate_set(hc->xen, id, hc->xen->vcpus[id].runstate_state);
	return 0;
}

static long vcpu_register_time_area(struct hcall *hc, unsigned id)
{
	struct vcpu_register_time_memory_area a;
	uint64_t gpa;

	if (copy_from_guest(hc, &a, hc->arg[2], sizeof(a)))
		return -XEN_EFAULT;
	resolve_area(hc, hc->abi64 ? a.addr.p : (uint32_t)a.addr.p, sizeof(struct vcpu_time_info),
		     &gpa);
	hc->xen->vcpus[id].time_area_gpa = gpa;
	xen_time_update_shared_info(hc->xen);
	return 0;
}

/* What the guest sees, coarsened by --time-granularity: the time spent
 * runnable is how much a neighbour took the host CPU. */
static void runstate_fill(const struct xen *x, const struct xen_vcpu *xv,
			  struct vcpu_runstate_info *ri)
{
	ri->state = xv->runstate_state;
	ri->state_entry_time = xen_time_coarse(x, xv->runstate_entry);
	for (unsigned i = 0; i < 4; i++)
		ri->time[i] = xen_time_coarse(x, xv->runstate_time[i]);
}

static long vcpu_get_runstate(struct hcall *hc, unsigned id)
{
	struct xen_vcpu *xv = &hc->xen->vcpus[id];
	struct vcpu_runstate_info ri;
	struct compat_vcpu_runstate_info ci;

	pthread_mutex_lock(&xv->lock);
	runstate_fill(hc->xen, xv, &ri);
	pthread_mutex_unlock(&xv->lock);
	if (hc->abi64)
		return copy_to_guest(hc, hc->arg[2], &ri, sizeof(ri));
	ci.state = ri.state;
	ci.state_entry_time = ri.state_entry_time;
	memcpy(ci.time, ri.time, sizeof(ci.time));
	return copy_to_guest(hc, hc->arg[2], &ci, sizeof(ci));
}

/* Copy the runstate to the guest's area. With the runstate update flag
 * assist on, XEN_RUNSTATE_UPDATE is set in state_entry_time around the copy
 * (its top byte alone, as Xen writes it) so the guest can tell a torn read. */
static void runstate_publish(struct xen *x, uint8_t *p, struct vcpu_runstate_info *ri)
{
	struct compat_vcpu_runstate_info ci;
	int flag = __atomic_load_n(&x->vm_assist, __ATOMIC_ACQUIRE) &
		   (1u << VMASST_TYPE_runstate_update_flag);
	size_t top = (x->shinfo_32bit ? offsetof(struct compat_vcpu_runstate_info, state_entry_time)
				      : offsetof(struct vcpu_runstate_info, state_entry_time)) + 7;

	if (!p)
		return;
	if (flag) {
		ri->state_entry_time |= XEN_RUNSTATE_UPDATE;
		__atomic_store_n(p + top, (uint8_t)(ri->state_entry_time >> 56), __ATOMIC_RELEASE);
	}
	if (!x->shinfo_32bit) {
		memcpy(p, ri, sizeof(*ri));
	} else {
		ci = (struct compat_vcpu_runstate_info){ .state = ri->state,
							 .state_entry_time = ri->state_entry_time };
		memcpy(ci.time, ri->time, sizeof(ci.time));
		memcpy(p, &ci, sizeof(ci));
	}
	if (flag) {
		__atomic_thread_fence(__ATOMIC_RELEASE);
		ri->state_entry_time &= ~XEN_RUNSTATE_UPDATE;
		__atomic_store_n(p + top, (uint8_t)(ri->state_entry_time >> 56), __ATOMIC_RELEASE);
	}
}

void runstate_set(struct xen *x, unsigned id, int state)
{
	struct xen_vcpu *xv = &x->vcpus[id];
	uint64_t now = xen_system_time_ns(x);
	struct vcpu_runstate_info ri;

	pthread_mutex_lock(&xv->lock);
	if (xv->runstate_entry)
		xv->runstate_time[xv->runstate_state] += now - xv->runstate_entry;
	xv->runstate_state = state;
	xv->runstate_entry = now;
	runstate_fill(x, xv, &ri);
	if (xv->runstate_gpa)
		runstate_publish(x, gmem_ptr(&x->vm->mem, xv->runstate_gpa, sizeof(ri)), &ri);
	pthread_mutex_unlock(&xv->lock);
}

static long vcpu_timer_op(struct hcall *hc, unsigned id, uint64_t cmd)
{
	struct vcpu_set_periodic_timer per;
	struct vcpu_set_singleshot_timer one;

	switch (cmd) {
	case VCPUOP_set_periodic_timer:
		if (copy_from_guest(hc, &per, hc->arg[2], sizeof(per)))
			return -XEN_EFAULT;
		if (per.period_ns < MIN_PERIOD_NS || per.period_ns > STIME_DELTA_MAX)
			return -XEN_EINVAL;
		timer_set_periodic(hc->xen, id, per.period_ns);
		return 0;
	case VCPUOP_stop_periodic_timer:
		timer_set_periodic(hc->xen, id, 0);
		return 0;
	case VCPUOP_set_singleshot_timer:
		/* Only a vCPU's own singleshot timer may be set. */
		if (id != hc->vcpu_id)
			return -XEN_EINVAL;
		if (copy_from_guest(hc, &one, hc->arg[2],
				    offsetof(struct vcpu_set_singleshot_timer, flags) + 4))
			return -XEN_EFAULT;
		/* VCPU_SSHOTTMR_future is ignored, as current Xen does: a past
		 * deadline fires at once. A deadline of 0 would read as "off". */
		timer_set_singleshot(hc->xen, id, one.timeout_abs_ns ? one.timeout_abs_ns : 1);
		return 0;
	default: /* VCPUOP_stop_singleshot_timer */
		if (id != hc->vcpu_id)
			return -XEN_EINVAL;
		timer_set_singleshot(hc->xen, id, 0);
		return 0;
	}
}

/* The NMI is raised by the target's own thread (KVM_NMI is a vCPU ioctl). */
static long vcpu_send_nmi(struct hcall *hc, unsigned id)
{
	if (hc->arg[2])
		return -XEN_EINVAL;
	__atomic_store_n(&hc->xen->vcpus[id].nmi_pending, 1, __ATOMIC_RELEASE);
	vcpu_kick(&hc->xen->vm->vcpus[id]);
	return 0;
}

long vcpu_op(struct hcall *hc)
{
	uint64_t cmd = hc->arg[0];
	uint64_t id = hc->arg[1];

	if (id >= hc->xen->vm->nvcpus)
		return -XEN_ENOENT;
	switch (cmd) {
	case VCPUOP_initialise:
		return vcpu_initialise(hc, (unsigned)id);
	case VCPUOP_up:
		return vcpu_up(hc->xen, (unsigned)id);
	case VCPUOP_down:
		return vcpu_down(hc->xen, (unsigned)id);
	case VCPUOP_is_up:
		return !__atomic_load_n(&hc->xen->vcpus[id].down, __ATOMIC_ACQUIRE);
	case VCPUOP_get_runstate_info:
		return vcpu_get_runstate(hc, (unsigned)id);
	case VCPUOP_register_runstate_memory_area:
		return vcpu_register_runstate(hc, (unsigned)id);
	case VCPUOP_set_periodic_timer:
	case VCPUOP_stop_periodic_timer:
	case VCPUOP_set_singleshot_timer:
	case VCPUOP_stop_singleshot_timer:
		return vcpu_timer_op(hc, (unsigned)id, cmd);
	case VCPUOP_register_vcpu_info:
		return vcpu_register_info(hc, (unsigned)id);
	case VCPUOP_register_vcpu_time_memory_area:
		return vcpu_register_time_area(hc, (unsigned)id);
	case VCPUOP_send_nmi:
		return vcpu_send_nmi(hc, (unsigned)id);
	case VCPUOP_get_physid:
		return -XEN_EINVAL; /* only the hardware domain's pinned vCPUs have one */
	default:
		return -XEN_ENOSYS;
	}
}

/* ---- On each vCPU's thread, before KVM_RUN ---- */

static void vcpu_start(struct vcpu *v, struct xen_vcpu *xv)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (hvm_context_to_kvm(xv->start_context, &r, &s) < 0 || vcpu_set_state(v, &r, &s) < 0)
		log_err("vCPU %u: could not apply its start context", v->id);
	xv->ever_started = 1;
	xv->start_pending = 0;
}

void xen_vcpu_pre_run(struct vcpu *v)
{
	struct xen *x = v->vm->xen;
	struct xen_vcpu *xv = &x->vcpus[v->id];

	pthread_mutex_lock(&xv->lock);
	/* A vCPU taken down waits here; one never started waits in KVM_RUN
	 * instead, where INIT/SIPI through the LAPIC can still start it. */
	while (xv->down && xv->ever_started && !__atomic_load_n(&v->vm->stopping, __ATOMIC_ACQUIRE))
		pthread_cond_wait(&xv->wake, &xv->lock);
	if (xv->start_pending && !xv->down)
		vcpu_start(v, xv);
	pthread_mutex_unlock(&xv->lock);
	if (xv->runstate_state != RUNSTATE_running && !xv->down)
		runstate_set(x, v->id, RUNSTATE_running);
	if (__atomic_exchange_n(&xv->nmi_pending, 0, __ATOMIC_ACQ_REL))
		vcpu_inject_nmi(v);
	upcall_inject_pending(v);
}
