/* sched_op: yielding, blocking and shutting the domain down. */
#include <sched.h>
#include <time.h>

#include <stdint.h>
#include <xen/sched.h>
#include <xen/vcpu.h>

#include "xenkvm/compat32.h"
#include "xenkvm/console.h"
#include "xenkvm/evtchn.h"
#include "xenkvm/hypercall.h"
#include "xenkvm/log.h"
#include "xenkvm/vm.h"
#include "xenkvm/xen.h"

/* Xen's limit on the ports one SCHEDOP_poll may name. */
#define SCHED_POLL_MAX 128

static const int shutdown_status[] = {
	[SHUTDOWN_poweroff] = EXIT_POWEROFF, [SHUTDOWN_reboot] = EXIT_REBOOT,
	[SHUTDOWN_suspend] = EXIT_SUSPEND,   [SHUTDOWN_crash] = EXIT_CRASH,
	[SHUTDOWN_watchdog] = EXIT_WATCHDOG, [SHUTDOWN_soft_reset] = EXIT_SOFT_RESET,
};

static const char *const shutdown_names[] = {
	[SHUTDOWN_poweroff] = "poweroff", [SHUTDOWN_reboot] = "reboot",
	[SHUTDOWN_suspend] = "suspend",   [SHUTDOWN_crash] = "crash",
	[SHUTDOWN_watchdog] = "watchdog", [SHUTDOWN_soft_reset] = "soft_reset",
};

/* Xen keeps the first reason given: a shutdown_code set earlier wins. */
void xen_domain_shutdown(struct xen *x, unsigned reason)
{
	int status;

	pthread_mutex_lock(&x->lock);
	if (x->shutdown_code < 0)
		x->shutdown_code = (int)reason;
	reason = (unsigned)x->shutdown_code;
	pthread_mutex_unlock(&x->lock);
	if (reason <= SHUTDOWN_MAX) {
		status = shutdown_status[reason];
		log_info("guest shut down: %s", shutdown_names[reason]);
	} else {
		status = EXIT_CRASH;
		log_warn("guest shut down with unknown reason %u: treated as a crash", reason);
	}
	vm_request_stop(x->vm, status);
}

static long sched_shutdown(struct hcall *hc, int code_only)
{
	struct sched_shutdown s;

	if (copy_from_guest(hc, &s, hc->arg[1], sizeof(s)))
		return -XEN_EFAULT;
	/* Xen keeps reasons in a byte. */
	s.reason = (uint8_t)s.reason;
	if (code_only) {
		/* The first code recorded stays. */
		pthread_mutex_lock(&hc->xen->lock);
		if (hc->xen->shutdown_code < 0)
			hc->xen->shutdown_code = (int)s.reason;
		pthread_mutex_unlock(&hc->xen->lock);
		return 0;
	}
	xen_domain_shutdown(hc->xen, s.reason);
	return 0;
}

/* Only a device model of the target may shut it down remotely. */
static long sched_remote_shutdown(struct hcall *hc)
{
	struct sched_remote_shutdown s;

	if (copy_from_guest(hc, &s, hc->arg[1], sizeof(s)))
		return -XEN_EFAULT;
	return s.domain_id == XENKVM_DOMID || s.domain_id == DOMID_SELF ? -XEN_EPERM
									 : -XEN_ESRCH;
}

static long sched_yield_op(struct hcall *hc)
{
	/* Guests that spin on the console ring yield while they wait for us. */
	console_ring_drain(hc->xen->console);
	sched_yield();
	return 0;
}

static int upcall_pending(struct hcall *hc)
{
	uint8_t *vi = xen_vcpu_info(hc->xen, hc->vcpu_id);
	return vi && __atomic_load_n(vi, __ATOMIC_ACQUIRE);
}

static int stopping(struct hcall *hc)
{
	return __atomic_load_n(&hc->xen->vm->stopping, __ATOMIC_ACQUIRE);
}

/* Block until the vCPU has an upcall pending (or the VM stops). */
static long sched_block(struct hcall *hc)
{
	struct xen_vcpu *xv = &hc->xen->vcpus[hc->vcpu_id];

	console_ring_drain(hc->xen->console);
	runstate_set(hc->xen, hc->vcpu_id, RUNSTATE_blocked);
	pthread_mutex_lock(&xv->lock);
	unsigned gen = xv->wake_gen;
	while (!upcall_pending(hc) && xv->wake_gen == gen && !stopping(hc))
		pthread_cond_wait(&xv->wake, &xv->lock);
	pthread_mutex_unlock(&xv->lock);
	runstate_set(hc->xen, hc->vcpu_id, RUNSTATE_running);
	return 0;
}

static int read_poll(struct hcall *hc, uint64_t *ports, uint32_t *nr, uint64_t *timeout)
{
	if (hc->abi64) {
		struct sched_poll p;
		if (copy_from_guest(hc, &p, hc->arg[1], sizeof(p)))
			return -XEN_EFAULT;
		*ports = (uint64_t)(uintptr_t)p.ports.p, *nr = p.nr_ports, *timeout = p.timeout;
	} else {
		struct compat_sched_poll p;
		if (copy_from_guest(hc, &p, hc->arg[1], sizeof(p)))
			return -XEN_EFAULT;
		*ports = p.ports, *nr = p.nr_ports, *timeout = p.timeout;
	}
	return 0;
}

/* Wait until one of the ports is pending or the absolute timeout passes. */
static long sched_poll(struct hcall *hc)
{
	struct xen_vcpu *xv = &hc->xen->vcpus[hc->vcpu_id];
	evtchn_port_t ports[SCHED_POLL_MAX];
	uint64_t list, timeout;
	uint32_t nr;
	int rc;

	if (read_poll(hc, &list, &nr, &timeout))
		return -XEN_EFAULT;
	if (nr > SCHED_POLL_MAX)
		return -XEN_EINVAL;
	if (copy_from_guest(hc, ports, list, nr * sizeof(ports[0])))
		return -XEN_EFAULT;
	runstate_set(hc->xen, hc->vcpu_id, RUNSTATE_blocked);
	__atomic_store_n(&xv->polling, 1, __ATOMIC_SEQ_CST);
	pthread_mutex_lock(&xv->lock);
	for (;;) {
		/* The ports are checked under the event lock, not ours: note the
		 * wake-up count first so a wake-up in between is not lost. */
		unsigned gen = xv->wake_gen;
		pthread_mutex_unlock(&xv->lock);
		rc = evtchn_any_pending(hc->xen, ports, nr);
		pthread_mutex_lock(&xv->lock);
		if (rc != 0 || stopping(hc) || (timeout && xen_system_time_ns(hc->xen) >= timeout))
			break;
		if (xv->wake_gen != gen)
			continue;
		if (timeout) {
			struct timespec ts = xen_time_to_monotonic(hc->xen, timeout);
			pthread_cond_timedwait(&xv->wake, &xv->lock, &ts);
		} else {
			pthread_cond_wait(&xv->wake, &xv->lock);
		}
	}
	pthread_mutex_unlock(&xv->lock);
	__atomic_store_n(&xv->polling, 0, __ATOMIC_SEQ_CST);
	runstate_set(hc->xen, hc->vcpu_id, RUNSTATE_running);
	return rc < 0 ? rc : 0;
}

long sched_op(struct hcall *hc)
{
	switch (hc->arg[0]) {
	case SCHEDOP_yield:
		return sched_yield_op(hc);
	case SCHEDOP_block:
		return sched_block(hc);
	case SCHEDOP_shutdown:
		return sched_shutdown(hc, 0);
	case SCHEDOP_shutdown_code:
		return sched_shutdown(hc, 1);
	case SCHEDOP_remote_shutdown:
		return sched_remote_shutdown(hc);
	case SCHEDOP_pin_override:
		return -XEN_EPERM; /* the hardware domain's alone */
	case SCHEDOP_poll:
		return sched_poll(hc);
	case SCHEDOP_watchdog:
		return hcall_subop_enosys(hc, hc->arg[0]);
	default:
		return -XEN_ENOSYS;
	}
}
