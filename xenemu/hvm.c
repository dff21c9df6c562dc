/* hvm_op: HVM parameters (with Xen's rules on what a guest may read and
 * write of its own), and the time. */
#include <stdint.h>

#include <xen/hvm/hvm_op.h>
#include <xen/hvm/params.h>

#include "xenkvm/evtchn.h"
#include "xenkvm/hypercall.h"
#include "xenkvm/vm.h"
#include "xenkvm/xen.h"

/* Xen's hvm_allow_get_param: what a guest may read of its own params. */
static int guest_may_get(uint32_t index)
{
	switch (index) {
	case HVM_PARAM_CALLBACK_IRQ:
	case HVM_PARAM_VM86_TSS:
	case HVM_PARAM_VM86_TSS_SIZED:
	case HVM_PARAM_ACPI_IOPORTS_LOCATION:
	case HVM_PARAM_VM_GENERATION_ID_ADDR:
	case HVM_PARAM_STORE_PFN:
	case HVM_PARAM_STORE_EVTCHN:
	case HVM_PARAM_CONSOLE_PFN:
	case HVM_PARAM_CONSOLE_EVTCHN:
	case HVM_PARAM_ALTP2M:
	case HVM_PARAM_X87_FIP_WIDTH:
		return 1;
	default:
		return 0;
	}
}

/* Xen's hvm_allow_set_param: what a guest may write of its own params. */
static int guest_may_set(uint32_t index)
{
	switch (index) {
	case HVM_PARAM_CALLBACK_IRQ:
	case HVM_PARAM_VM86_TSS:
	case HVM_PARAM_VM86_TSS_SIZED:
	case HVM_PARAM_ACPI_IOPORTS_LOCATION:
	case HVM_PARAM_VM_GENERATION_ID_ADDR:
	case HVM_PARAM_STORE_EVTCHN:
	case HVM_PARAM_CONSOLE_EVTCHN:
	case HVM_PARAM_X87_FIP_WIDTH:
		return 1;
	default:
		return 0;
	}
}

static long hvm_set_param(struct hcall *hc, const struct xen_hvm_param *p)
{
	struct xen *x = hc->xen;

	if (!guest_may_set(p->index))
		return -XEN_EPERM;
	if (p->index == HVM_PARAM_X87_FIP_WIDTH && p->value != 0 && p->value != 4 &&
	    p->value != 8)
		return -XEN_EINVAL;
	if (p->index == HVM_PARAM_CALLBACK_IRQ) {
		long rc = upcall_set_callback_via(x, p->value);
		if (rc < 0)
			return rc;
	}
	pthread_mutex_lock(&x->lock);
	__atomic_store_n(&x->params[p->index], p->value, __ATOMIC_RELEASE);
	/* One of the first things PV drivers do: latch the shared_info layout. */
	if (p->index == HVM_PARAM_CALLBACK_IRQ)
		x->shinfo_32bit = !hc->abi64;
	pthread_mutex_unlock(&x->lock);
	/* Events that came before the callback was set are delivered now. */
	if (p->index == HVM_PARAM_CALLBACK_IRQ)
		for (unsigned i = 0; i < x->vm->nvcpus; i++)
			upcall_redeliver(x, i);
	return 0;
}

/* A per-vCPU vector, delivered through the LAPIC and EOI'd by the guest. */
static long hvm_set_upcall_vector(struct hcall *hc)
{
	struct xen_hvm_evtchn_upcall_vector u;

	if (copy_from_guest(hc, &u, hc->arg[1], sizeof(u)))
		return -XEN_EFAULT;
	if (u.vector < 0x10)
		return -XEN_EINVAL;
	if (u.vcpu >= hc->xen->vm->nvcpus)
		return -XEN_ENOENT;
	__atomic_store_n(&hc->xen->vcpus[u.vcpu].upcall_vector, u.vector, __ATOMIC_RELEASE);
	upcall_redeliver(hc->xen, u.vcpu);
	return 0;
}

static long hvm_param_op(struct hcall *hc, int set)
{
	struct xen_hvm_param p;
	long rc;

	if (copy_from_guest(hc, &p, hc->arg[1], sizeof(p)))
		return -XEN_EFAULT;
	if (p.index >= HVM_NR_PARAMS)
		return -XEN_EINVAL;
	if (!domid_is_self(p.domid))
		return domid_other_error(p.domid);
	if (set)
		return hvm_set_param(hc, &p);
	if (!guest_may_get(p.index))
		return -XEN_EPERM;
	pthread_mutex_lock(&hc->xen->lock);
	p.value = hc->xen->params[p.index];
	pthread_mutex_unlock(&hc->xen->lock);
	rc = copy_to_guest(hc, hc->arg[1], &p, sizeof(p));
	return rc;
}

static long hvm_get_time(struct hcall *hc)
{
	struct xen_hvm_get_time t = { .now = xen_time_get_time(hc->xen) };

	return copy_to_guest(hc, hc->arg[1], &t, sizeof(t));
}

long hvm_op(struct hcall *hc)
{
	switch (hc->arg[0]) {
	case HVMOP_set_param:
		return hvm_param_op(hc, 1);
	case HVMOP_get_param:
		return hvm_param_op(hc, 0);
	case HVMOP_get_time:
		return hvm_get_time(hc);
	case HVMOP_set_evtchn_upcall_vector:
		return hvm_set_upcall_vector(hc);
	case HVMOP_pagetable_dying:
	case HVMOP_flush_tlbs:
		return hcall_subop_enosys(hc, hc->arg[0]);
	default:
		return -XEN_ENOSYS;
	}
}
