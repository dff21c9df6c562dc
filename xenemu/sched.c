/* sched_op: yielding, blocking and shutting the domain down. */
#include <sched.h>
#include <time.h>

#include <stdint.h>
#include <xen/sched.h>

#include "xenkvm/console.h"
#include "xenkvm/hypercall.h"
#include "xenkvm/log.h"
#include "xenkvm/vm.h"
#include "xenkvm/xen.h"

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
static void domain_shutdown(struct hcall *hc, unsigned reason)
{
	struct xen *x = hc->xen;
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
	domain_shutdown(hc, s.reason);
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

/* Block until an event is pending for this vCPU or the VM stops. */
static long sched_block(struct hcall *hc)
{
	struct xen_vcpu *xv = &hc->xen->vcpus[hc->vcpu_id];

	console_ring_drain(hc->xen->console);
	pthread_mutex_lock(&xv->lock);
	while (!xv->kicked && !__atomic_load_n(&hc->xen->vm->stopping, __ATOMIC_ACQUIRE))
		pthread_cond_wait(&xv->wake, &xv->lock);
	xv->kicked = 0;
	pthread_mutex_unlock(&xv->lock);
	return 0;
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
	case SCHEDOP_watchdog:
		return hcall_subop_enosys(hc, hc->arg[0]);
	default:
		return -XEN_ENOSYS;
	}
}
