/* Fair share between a guest's vCPUs and the host: per-vCPU hypercall
 * accounting, a per-vCPU rate limit, and preemption of long calls.
 *
 * The rate limit is Xen's scheduler seen from a guest: a vCPU over its
 * share is descheduled, not refused. A vCPU over its rate sleeps before its
 * call is served, on its own thread, so the event loop (the backends) and
 * the other vCPUs keep running and every result stays what it would be.
 * The sleep ends early when the VM stops or pauses: vcpu_kick()'s signal
 * interrupts it, and it sleeps in slices so a kick that comes just before
 * it starts is noticed too.
 *
 * Preemption is Xen's continuation: a call that has done its budget of
 * work (or sees a stop or pause coming) returns hcall_continue() with
 * arguments that say where to go on, and the transport makes the guest
 * issue the call again with them. */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "xenkvm/hypercall.h"
#include "xenkvm/vm.h"

#define NSEC 1000000000ULL
/* The longest a throttled vCPU sleeps before looking at the VM's state again. */
#define THROTTLE_SLICE_NS 20000000ULL

struct vcpu_acct {
	atomic_ullong calls, ns, throttled, throttled_ns, preempted;
	uint64_t tat; /* the bucket, as GCRA's theoretical arrival time (ns) */
};

static struct vcpu_acct acct[VM_MAX_VCPUS];
static uint64_t rate_interval_ns, rate_tolerance_ns; /* 0: no limit */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC + (uint64_t)ts.tv_nsec;
}

void hypercall_set_rate_limit(uint64_t rate, uint64_t burst)
{
	rate_interval_ns = rate ? (NSEC + rate - 1) / rate : 0;
	rate_tolerance_ns = rate && burst > 1 ? (burst - 1) * rate_interval_ns : 0;
	for (unsigned i = 0; i < VM_MAX_VCPUS; i++)
		acct[i].tat = 0;
}

unsigned hypercall_vcpu_stats(struct hypercall_vcpu_stat *out, unsigned max)
{
	unsigned n = 0;

	for (unsigned i = 0; i < VM_MAX_VCPUS && n < max; i++) {
		struct vcpu_acct *a = &acct[i];
		unsigned long long c = atomic_load(&a->calls);
		if (c)
			out[n++] = (struct hypercall_vcpu_stat){
				.vcpu = i, .calls = c, .ns = atomic_load(&a->ns),
				.throttled = atomic_load(&a->throttled),
				.throttled_ns = atomic_load(&a->throttled_ns),
				.preempted = atomic_load(&a->preempted) };
	}
	return n;
}

static struct vm *hcall_vm(const struct hcall *hc)
{
	return hc->xen ? hc->xen->vm : NULL;
}

/* Stop or pause pending: the vCPU must get back to its loop. */
static int vm_wants_vcpu(const struct hcall *hc)
{
	struct vm *vm = hcall_vm(hc);

	return vm && (__atomic_load_n(&vm->stopping, __ATOMIC_ACQUIRE) ||
		      __atomic_load_n(&vm->paused, __ATOMIC_ACQUIRE));
}

/* Sleep until `until` (CLOCK_MONOTONIC ns) unless the VM wants the vCPU. */
static void throttle_sleep(const struct hcall *hc, uint64_t until)
{
	for (uint64_t t = now_ns(); t < until && !vm_wants_vcpu(hc); t = now_ns()) {
		uint64_t d = until - t < THROTTLE_SLICE_NS ? until - t : THROTTLE_SLICE_NS;
		struct timespec ts = { .tv_sec = (time_t)(d / NSEC), .tv_nsec = (long)(d % NSEC) };
		/* EINTR is a kick: the loop condition says whether it matters. */
		nanosleep(&ts, NULL);
	}
}

void hypercall_throttle(struct hcall *hc)
{
	struct vcpu_acct *a;
	uint64_t t, start;

	if (!rate_interval_ns || hc->vcpu_id >= VM_MAX_VCPUS)
		return;
	a = &acct[hc->vcpu_id];
	t = now_ns();
	if (a->tat < t)
		a->tat = t;
	/* Over the burst: wait until this call's turn comes. */
	if (a->tat - t > rate_tolerance_ns) {
		start = t;
		throttle_sleep(hc, a->tat - rate_tolerance_ns);
		atomic_fetch_add_explicit(&a->throttled, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&a->throttled_ns, now_ns() - start, memory_order_relaxed);
	}
	a->tat += rate_interval_ns;
}

void hypercall_account(const struct hcall *hc, uint64_t ns)
{
	struct vcpu_acct *a;

	if (hc->vcpu_id >= VM_MAX_VCPUS)
		return;
	a = &acct[hc->vcpu_id];
	atomic_fetch_add_explicit(&a->calls, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&a->ns, ns, memory_order_relaxed);
	if (hc->continued)
		atomic_fetch_add_explicit(&a->preempted, 1, memory_order_relaxed);
}

int hcall_can_continue(struct hcall *hc)
{
	if (hc->can_continue && hc->restartable) {
		hc->can_continue = hc->restartable(hc);
		hc->restartable = NULL;
	}
	return hc->can_continue;
}

int hcall_preempt_check(struct hcall *hc, unsigned units)
{
	unsigned budget = hc->budget ? hc->budget : HCALL_WORK_BUDGET;

	if (!hc->can_continue)
		return 0;
	hc->work = hc->work + units < hc->work ? ~0U : hc->work + units;
	if (hc->work < budget && !vm_wants_vcpu(hc))
		return 0;
	return hcall_can_continue(hc);
}

long hcall_continue(struct hcall *hc, unsigned nargs, const uint64_t *args)
{
	memcpy(hc->cont_arg, hc->arg, sizeof(hc->cont_arg));
	for (unsigned i = 0; i < nargs && i < 6; i++)
		hc->cont_arg[i] = args[i];
	hc->continued = 1;
	return (long)hc->nr;
}
