/* What each vCPU is doing, printed when a guest overstays --timeout: the
 * call it is inside, whether an upcall waits and how it will be delivered,
 * its timers. Read without locks, racing the vCPUs: a VMM thread stuck on
 * a lock must not stop the report that would show it. */
#include <stdio.h>
#include <stdint.h>

#include <xen/xen.h>
#include <xen/vcpu.h>

#include "xenkvm/evtchn.h"
#include "xenkvm/evtchn_state.h"
#include "xenkvm/hypercall.h"
#include "xenkvm/vm.h"

static const char *const runstate_names[] = {
	[RUNSTATE_running] = "running", [RUNSTATE_runnable] = "runnable",
	[RUNSTATE_blocked] = "blocked", [RUNSTATE_offline] = "offline",
};

#define LOAD(v) __atomic_load_n(&(v), __ATOMIC_RELAXED)

/* "+12.5ms" from now, or "off". */
static const char *in_ms(char *buf, size_t len, uint64_t deadline, uint64_t now)
{
	if (!deadline)
		return "off";
	snprintf(buf, len, "%+.1fms", ((double)(int64_t)(deadline - now)) / 1e6);
	return buf;
}

/* The events waiting: the FIFO READY word, or the 2-level pending_sel. */
static void events_word(struct xen *x, unsigned vcpu, const uint8_t *vi, char *buf, size_t len)
{
	if (x->evtchn && LOAD(x->evtchn->fifo)) {
		int64_t ready = evtchn_fifo_ready(x, vcpu);
		if (ready < 0)
			snprintf(buf, len, "fifo no control block");
		else
			snprintf(buf, len, "fifo ready=%#llx", (unsigned long long)ready);
	} else if (vi) {
		/* evtchn_pending_sel follows the two flag bytes, word-aligned. */
		uint64_t sel = x->shinfo_32bit ? LOAD(*(const uint32_t *)(vi + 4))
					       : LOAD(*(const uint64_t *)(vi + 8));
		snprintf(buf, len, "2l pending_sel=%#llx", (unsigned long long)sel);
	} else {
		snprintf(buf, len, "no vcpu_info");
	}
}

void xen_dump_vcpus(struct xen *x)
{
	uint64_t now = xen_system_time_ns(x);

	for (unsigned i = 0; i < x->vm->nvcpus; i++) {
		struct xen_vcpu *xv = &x->vcpus[i];
		const uint8_t *vi = xen_vcpu_info(x, i);
		uint64_t call = LOAD(xv->in_call);
		int rs = LOAD(xv->runstate_state);
		char ev[48], one[24], per[24], in[48] = "not in a hypercall";

		if (call)
			snprintf(in, sizeof(in), "in %s(%llu)", hypercall_name(call - 1),
				 (unsigned long long)LOAD(xv->in_call_arg0));
		events_word(x, i, vi, ev, sizeof(ev));
		fprintf(stderr,
			"xenkvm: vCPU %u: %s%s%s, %s; upcall pending=%d mask=%d, %s; vector %u,"
			" callback inject %d, recheck %s; timer %s, periodic %s\n",
			i, rs >= 0 && rs <= RUNSTATE_offline ? runstate_names[rs] : "?",
			LOAD(xv->down) ? " (down)" : "", LOAD(xv->polling) ? " (polling)" : "", in, vi ? LOAD(vi[0]) : -1,
			vi ? LOAD(vi[1]) : -1, ev, LOAD(xv->upcall_vector), LOAD(xv->inject_vector),
			LOAD(xv->recheck_armed) ? "armed" : "idle",
			in_ms(one, sizeof(one), LOAD(xv->singleshot_deadline), now),
			in_ms(per, sizeof(per), LOAD(xv->period_ns) ? LOAD(xv->periodic_next) : 0, now));
	}
}
