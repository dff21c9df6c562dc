/* Getting an event's upcall into the guest. Three ways, as Xen:
 *  - a per-vCPU vector (HVMOP_set_evtchn_upcall_vector): an ordinary LAPIC
 *    interrupt the guest EOIs, sent as an MSI from any thread;
 *  - the global callback vector (HVM_PARAM_CALLBACK_IRQ type vector): Xen
 *    injects it bypassing the LAPIC and guests never EOI it, so an MSI
 *    would leave its ISR bit set forever. The vCPU's own thread injects it
 *    with KVM_SET_VCPU_EVENTS when interrupts are open, retrying on a
 *    short timer until they are;
 *  - a GSI (type GSI): a level line through an irqfd, re-asserted at EOI
 *    (resample) while vCPU 0 still has an upcall pending. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <xen/xen.h>
#include <xen/foreign/x86_32.h>
#include <xen/hvm/params.h>

#include "xenkvm/evloop.h"
#include "xenkvm/evtchn.h"
#include "xenkvm/hypercall.h"
#include "xenkvm/log.h"
#include "xenkvm/vm.h"

#define RFLAGS_IF (1ULL << 9)
#define INJECT_RETRY_NS 200000
#define UPCALL_RECHECK_NS 10000000
#define APIC_ISR 0x100
#define APIC_IRR 0x200
#define IOAPIC_PINS 24 /* KVM's in-kernel IO-APIC */

uint8_t *xen_vcpu_info(struct xen *x, unsigned vcpu)
{
	if (vcpu >= x->vm->nvcpus)
		return NULL;
	if (x->vcpus[vcpu].vcpu_info)
		return x->vcpus[vcpu].vcpu_info;
	if (vcpu >= XEN_LEGACY_MAX_VCPUS)
		return NULL;
	return x->shinfo_32bit
		       ? (uint8_t *)&((struct shared_info_x86_32 *)x->shared_info)->vcpu_info[vcpu]
		       : (uint8_t *)&((struct shared_info *)x->shared_info)->vcpu_info[vcpu];
}

static uint64_t callback_via(struct xen *x)
{
	return __atomic_load_n(&x->params[HVM_PARAM_CALLBACK_IRQ], __ATOMIC_ACQUIRE);
}

static void gsi_assert(struct xen *x)
{
	uint64_t one = 1;

	if (x->gsi_trigger_fd >= 0 && write(x->gsi_trigger_fd, &one, sizeof(one)) < 0)
		log_once("callback GSI: %s", strerror(errno));
}

static void recheck_arm(struct xen *x, unsigned vcpu);

static void upcall_deliver(struct xen *x, unsigned vcpu)
{
	struct xen_vcpu *xv = &x->vcpus[vcpu];
	uint64_t via = callback_via(x);

	xen_vcpu_wake(x, vcpu);
	if (xv->upcall_vector) {
		if (vm_signal_msi(x->vm, vcpu, xv->upcall_vector) < 0)
			log_once("upcall vector MSI: %s", strerror(errno));
		recheck_arm(x, vcpu);
		return;
	}
	switch (via >> 56) {
	case HVM_PARAM_CALLBACK_TYPE_VECTOR:
		if ((uint8_t)via) {
			__atomic_store_n(&xv->inject_vector, (uint8_t)via, __ATOMIC_RELEASE);
			vcpu_kick(&x->vm->vcpus[vcpu]);
		}
		break;
	case HVM_PARAM_CALLBACK_TYPE_GSI:
		/* The line follows vCPU 0's upcall_pending, as in Xen. */
		if (vcpu == 0 && (uint32_t)via)
			gsi_assert(x);
		break;
	default:
		log_once("callback via %#llx is not supported: events are not interrupted",
			 (unsigned long long)via);
	}
}

void upcall_redeliver(struct xen *x, unsigned vcpu)
{
	uint8_t *vi = xen_vcpu_info(x, vcpu);

	if (vi && __atomic_load_n(vi, __ATOMIC_ACQUIRE))
		upcall_deliver(x, vcpu);
}

void upcall_mark_pending(struct xen *x, unsigned vcpu)
{
	uint8_t *vi = xen_vcpu_info(x, vcpu);

	/* evtchn_upcall_pending is the first byte of vcpu_info in both layouts. */
	if (vi && !__atomic_exchange_n(vi, 1, __ATOMIC_SEQ_CST))
		upcall_deliver(x, vcpu);
}

/* A timer that signals the vCPU's thread (created on first use). */
static int vcpu_thread_timer(struct vcpu *v, void **timer)
{
	struct sigevent sev = { .sigev_notify = SIGEV_THREAD_ID, .sigev_signo = SIGUSR1 };
	pid_t tid = __atomic_load_n(&v->tid, __ATOMIC_ACQUIRE);
	timer_t t;

	if (*timer)
		return 0;
	if (!tid)
		return -1;
	sev._sigev_un._tid = tid;
	if (timer_create(CLOCK_MONOTONIC, &sev, &t) < 0)
		return -1;
	*timer = t;
	return 0;
}

/* KVM's LAPIC drops a fixed interrupt while it is software-disabled, where
 * Xen's vlapic keeps it in IRR: Linux takes its first events before it
 * enables its LAPIC, and would then wait for them forever. So a little
 * after sending the per-vCPU vector, the vCPU's own thread looks again
 * (upcall_recheck). Called from any thread. */
static void recheck_arm(struct xen *x, unsigned vcpu)
{
	struct xen_vcpu *xv = &x->vcpus[vcpu];
	struct itimerspec its = { .it_value.tv_nsec = UPCALL_RECHECK_NS };

	if (__atomic_load_n(&xv->recheck_armed, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&xv->lock);
	if (!xv->recheck_armed && vcpu_thread_timer(&x->vm->vcpus[vcpu], &xv->recheck_timer) == 0 &&
	    timer_settime((timer_t)xv->recheck_timer, 0, &its, NULL) == 0)
		__atomic_store_n(&xv->recheck_armed, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&xv->lock);
}

static int lapic_holds(const struct kvm_lapic_state *la, uint8_t vector)
{
	unsigned reg = (vector / 32u) * 0x10, bit = 1u << (vector % 32u);
	uint32_t irr, isr;

	memcpy(&irr, la->regs + APIC_IRR + reg, 4);
	memcpy(&isr, la->regs + APIC_ISR + reg, 4);
	return ((irr | isr) & bit) != 0;
}

/* On the vCPU's thread: once the recheck timer has run out, an upcall
 * still pending whose vector is in neither IRR nor ISR was dropped: send
 * it again (a spurious upcall, were the guest just taking it, is harmless). */
static void upcall_recheck(struct vcpu *v)
{
	struct xen *x = v->vm->xen;
	struct xen_vcpu *xv = &x->vcpus[v->id];
	uint8_t *vi = xen_vcpu_info(x, v->id);
	uint8_t vector = xv->upcall_vector;
	struct itimerspec left;
	struct kvm_lapic_state lapic;

	if (!__atomic_load_n(&xv->recheck_armed, __ATOMIC_ACQUIRE) ||
	    timer_gettime((timer_t)xv->recheck_timer, &left) < 0 || left.it_value.tv_sec ||
	    left.it_value.tv_nsec)
		return;
	__atomic_store_n(&xv->recheck_armed, 0, __ATOMIC_RELEASE);
	if (!vector || !vi || !__atomic_load_n(vi, __ATOMIC_ACQUIRE) ||
	    ioctl(v->fd, KVM_GET_LAPIC, &lapic) < 0 || lapic_holds(&lapic, vector))
		return;
	log_debug("vCPU %u: upcall vector %u was dropped by its LAPIC: sent again", v->id, vector);
	if (vm_signal_msi(x->vm, v->id, vector) < 0)
		log_once("upcall vector MSI: %s", strerror(errno));
	recheck_arm(x, v->id);
}

/* A timer that signals this vCPU's thread every INJECT_RETRY_NS while an
 * injection waits: a guest that opens interrupts and halts makes no exit. */
static void retry_arm(struct vcpu *v, struct xen_vcpu *xv, int on)
{
	struct itimerspec its = { 0 };

	if (vcpu_thread_timer(v, &xv->retry_timer) < 0)
		return;
	if (on == xv->retry_armed)
		return;
	if (on)
		its.it_value.tv_nsec = its.it_interval.tv_nsec = INJECT_RETRY_NS;
	timer_settime((timer_t)xv->retry_timer, 0, &its, NULL);
	xv->retry_armed = on;
}

/* On the vCPU's thread, out of KVM_RUN: inject the callback vector if the
 * guest can take an interrupt now and still has its upcall pending. */
void upcall_inject_pending(struct vcpu *v)
{
	struct xen *x = v->vm->xen;
	struct xen_vcpu *xv = &x->vcpus[v->id];
	int vector = __atomic_load_n(&xv->inject_vector, __ATOMIC_ACQUIRE);
	uint8_t *vi = xen_vcpu_info(x, v->id);
	struct kvm_vcpu_events ev;
	struct kvm_regs regs;
	struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_RUNNABLE };

	upcall_recheck(v);
	if (!vector)
		return;
	if (!vi || !__atomic_load_n(vi, __ATOMIC_ACQUIRE))
		goto done; /* the guest took it (or cleared it) meanwhile */
	if (ioctl(v->fd, KVM_GET_REGS, &regs) < 0 || ioctl(v->fd, KVM_GET_VCPU_EVENTS, &ev) < 0)
		return;
	if (!(regs.rflags & RFLAGS_IF) || ev.interrupt.injected || ev.interrupt.shadow ||
	    ev.exception.injected || ev.nmi.injected) {
		retry_arm(v, xv, 1);
		return;
	}
	ev.interrupt.injected = 1;
	ev.interrupt.nr = (uint8_t)vector;
	ev.interrupt.soft = 0;
	if (ioctl(v->fd, KVM_SET_VCPU_EVENTS, &ev) < 0)
		return;
	/* A halted vCPU must resume to take it. */
	ioctl(v->fd, KVM_SET_MP_STATE, &mp);
done:
	__atomic_store_n(&xv->inject_vector, 0, __ATOMIC_RELEASE);
	if (xv->retry_timer)
		retry_arm(v, xv, 0);
}

/* The guest EOI'd the GSI: assert it again while vCPU 0 has an upcall pending. */
static void gsi_resample(int fd, uint32_t events, void *opaque)
{
	struct xen *x = opaque;
	uint64_t v;
	uint8_t *vi = xen_vcpu_info(x, 0);

	(void)events;
	if (read(fd, &v, sizeof(v)) < 0)
		return;
	if (vi && __atomic_load_n(vi, __ATOMIC_ACQUIRE))
		gsi_assert(x);
}

/* The line's two eventfds are made at setup, before the sandbox, and
 * registered with the event loop once: a guest choosing a GSI later only
 * attaches them to it (KVM_IRQFD), on its vCPU's thread. */
int upcall_init(struct xen *x)
{
	x->gsi_trigger_fd = eventfd(0, EFD_CLOEXEC);
	x->gsi_resample_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (x->gsi_trigger_fd < 0 || x->gsi_resample_fd < 0)
		return -1;
	return x->loop ? evloop_add(x->loop, x->gsi_resample_fd, EPOLLIN, gsi_resample, x) : 0;
}

static void gsi_detach(struct xen *x)
{
	if (x->callback_gsi)
		vm_irqfd_release(x->vm, x->callback_gsi, x->gsi_trigger_fd);
	x->callback_gsi = 0;
}

/* Xen treats GSI 0 and GSIs past the IO-APIC's pins as "no callback". */
int upcall_set_callback_via(struct xen *x, uint64_t via)
{
	uint32_t gsi = (uint32_t)via;

	if (via >> 56 == HVM_PARAM_CALLBACK_TYPE_GSI && gsi == x->callback_gsi && gsi)
		return 0;
	gsi_detach(x);
	if (via >> 56 != HVM_PARAM_CALLBACK_TYPE_GSI || gsi == 0 || gsi >= IOAPIC_PINS)
		return 0;
	if (x->gsi_trigger_fd < 0 ||
	    vm_irqfd_level(x->vm, gsi, x->gsi_trigger_fd, x->gsi_resample_fd) < 0) {
		log_warn("callback GSI %u: %s", gsi, strerror(errno));
		return -XEN_ENOMEM;
	}
	x->callback_gsi = gsi;
	return 0;
}

void upcall_destroy(struct xen *x)
{
	for (unsigned i = 0; i < VM_MAX_VCPUS; i++) {
		if (x->vcpus[i].retry_timer)
			timer_delete((timer_t)x->vcpus[i].retry_timer);
		if (x->vcpus[i].recheck_timer)
			timer_delete((timer_t)x->vcpus[i].recheck_timer);
	}
	gsi_detach(x);
	if (x->gsi_resample_fd >= 0 && x->loop)
		evloop_del(x->loop, x->gsi_resample_fd);
	if (x->gsi_resample_fd >= 0)
		close(x->gsi_resample_fd);
	if (x->gsi_trigger_fd >= 0)
		close(x->gsi_trigger_fd);
	x->gsi_trigger_fd = x->gsi_resample_fd = -1;
}
