/* Xen's per-vCPU timers: a singleshot deadline (set_timer_op,
 * VCPUOP_set_singleshot_timer) and a periodic tick, both in Xen system
 * time, both firing VIRQ_TIMER on their vCPU. Each vCPU has a timerfd on
 * the event loop armed for the earlier of the two. */
#include <errno.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <xen/xen.h>

#include "xenkvm/evloop.h"
#include "xenkvm/evtchn.h"
#include "xenkvm/hypercall.h"
#include "xenkvm/log.h"
#include "xenkvm/vm.h"


/* With --time-granularity, timers fire on the granule's grid (rounded up):
 * when a timer fires tells the guest no more than the times it is given. */
static uint64_t coarse_deadline(const struct xen *x, uint64_t t)
{
	uint64_t g = x->time_granularity_ns;

	return g > 1 && t % g ? t + (g - t % g) : t;
}

/* Arm the timerfd for the next expiry; called with xv->lock held. */
static void timer_program(struct xen *x, struct xen_vcpu *xv)
{
	uint64_t next = xv->singleshot_deadline;
	struct itimerspec its = { 0 };

	if (xv->period_ns && (!next || xv->periodic_next < next))
		next = xv->periodic_next;
	/* A deadline in the past fires at once; one the host clock reaches a
	 * little early is re-armed by timer_fire. */
	if (next)
		its.it_value = xen_time_to_monotonic(x, coarse_deadline(x, next));
	timerfd_settime(xv->timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void timer_fire(int fd, uint32_t events, void *opaque)
{
	struct xen_vcpu *xv = opaque;
	struct xen *x = xv->xen;
	uint64_t expirations, now;
	int fire = 0;

	(void)events;
	if (read(fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		return;
	now = xen_system_time_ns(x);
	pthread_mutex_lock(&xv->lock);
	if (xv->singleshot_deadline && xv->singleshot_deadline <= now) {
		xv->singleshot_deadline = 0;
		fire = 1;
	}
	if (xv->period_ns && xv->periodic_next <= now) {
		/* Ticks missed while we were late are not replayed, as in Xen. */
		while (xv->periodic_next <= now)
			xv->periodic_next += xv->period_ns;
		fire = 1;
	}
	timer_program(x, xv);
	pthread_mutex_unlock(&xv->lock);
	if (fire)
		evtchn_raise_virq(x, xv->id, VIRQ_TIMER);
}

void timer_set_singleshot(struct xen *x, unsigned vcpu, uint64_t deadline_ns)
{
	struct xen_vcpu *xv = &x->vcpus[vcpu];

	pthread_mutex_lock(&xv->lock);
	/* 0 is "no timer". */
	xv->singleshot_deadline = deadline_ns;
	timer_program(x, xv);
	pthread_mutex_unlock(&xv->lock);
}

void timer_set_periodic(struct xen *x, unsigned vcpu, uint64_t period_ns)
{
	struct xen_vcpu *xv = &x->vcpus[vcpu];

	pthread_mutex_lock(&xv->lock);
	xv->period_ns = period_ns;
	xv->periodic_next = period_ns ? xen_system_time_ns(x) + period_ns : 0;
	timer_program(x, xv);
	pthread_mutex_unlock(&xv->lock);
}

/* set_timer_op(timeout): 0 cancels. Xen's guard against wrapped Linux
 * jiffies: a deadline over 2^50 ns ahead fires in 100 ms instead. */
long set_timer_op(struct hcall *hc)
{
	uint64_t timeout = hc->abi64 ? hc->arg[0] : (hc->arg[0] | hc->arg[1] << 32);
	uint64_t now = xen_system_time_ns(hc->xen);

	if (timeout && (int64_t)(timeout - now) > 0 && ((timeout - now) >> 50))
		timeout = now + 100000000ULL;
	timer_set_singleshot(hc->xen, hc->vcpu_id, timeout);
	return 0;
}

int timers_init(struct xen *x)
{
	for (unsigned i = 0; i < x->vm->nvcpus; i++) {
		struct xen_vcpu *xv = &x->vcpus[i];
		xv->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
		if (xv->timer_fd < 0 || evloop_add(x->loop, xv->timer_fd, EPOLLIN, timer_fire, xv) < 0)
			return -1;
	}
	return 0;
}

void timers_destroy(struct xen *x)
{
	for (unsigned i = 0; i < VM_MAX_VCPUS; i++) {
		if (x->vcpus[i].timer_fd > 0) {
			if (x->loop)
				evloop_del(x->loop, x->vcpus[i].timer_fd);
			close(x->vcpus[i].timer_fd);
		}
		x->vcpus[i].timer_fd = -1;
	}
}
