/* One hypercall in flight, as both transports hand it to the dispatcher,
 * and the guest-memory accessors every handler must use. */
#ifndef XENKVM_HYPERCALL_H
#define XENKVM_HYPERCALL_H

#include <stddef.h>
#include <stdint.h>

#include <xen/xen.h>
#include <xen/errno.h>

#include "xenkvm/xen.h"

struct xen;
struct vcpu;
struct guest_mem;

/* What address translation needs of the vCPU's state at the call. */
struct guest_paging {
	uint64_t cr0, cr3, cr4, efer;
};

struct hcall {
	struct xen *xen;
	struct vcpu *vcpu; /* NULL in unit tests and fuzzing */
	struct guest_mem *mem;
	unsigned vcpu_id;
	uint64_t nr;
	uint64_t arg[6];
	int abi64;        /* 64-bit ABI and structure layouts, else 32-bit */
	int cpl;
	int in_multicall; /* nested multicalls are refused */
	struct guest_paging pg;
	/* Preemption, Xen's continuations: a transport that can make the guest
	 * re-issue this call sets can_continue. A family that stops early
	 * returns hcall_continue(), whose arguments replace arg[] in the
	 * guest's registers for the re-issued call. */
	int can_continue;
	/* If set, asked once before the first preemption: can the guest really
	 * re-issue it (is it one of our stubs)? 0 turns can_continue off. */
	int (*restartable)(struct hcall *hc);
	uint64_t rip;       /* the transport's: where the call trapped */
	uint64_t restart_rip; /* the transport's: where the re-issue starts */
	unsigned work;      /* units done by this call so far */
	unsigned budget;    /* units before preempting; 0: HCALL_WORK_BUDGET */
	int continued;      /* hcall_continue() was called: re-issue with cont_arg */
	uint64_t cont_arg[6];
};

/* Work units (about one page's worth each: a page of an extent, a grant
 * copy or map, a multicall entry, a 128-byte console chunk) a call may do
 * before it is preempted: under a millisecond here (giving back 256 pages
 * takes ~0.7 ms), so no stop, pause or rate limit waits on one long call,
 * while each re-issue (an exit, ~11 us) stays a small share of the work. */
#define HCALL_WORK_BUDGET 256

typedef long (*hcall_fn)(struct hcall *hc);

/* The guest names itself as DOMID_SELF or by its id. */
static inline int domid_is_self(domid_t d)
{
	return d == DOMID_SELF || d == XENKVM_DOMID;
}

/* Naming another domain: domain 0 (xenkvm's backends) exists and refuses
 * a domU, as XSM's default policy does; there are no others. */
static inline long domid_other_error(domid_t d)
{
	return d == 0 ? -XEN_EPERM : -XEN_ESRCH;
}

/* Hypercall numbers the dispatcher knows (names, table, counters). */
#define NR_HYPERCALLS 64

/* Validate and route one hypercall; returns the value for the guest's RAX. */
long hypercall_dispatch(struct hcall *hc);
const char *hypercall_name(uint64_t nr);
/* The sub-op of a call with first argument arg0, as its family tells them
 * apart: 1 and *subop, or 0 for a family whose first argument is data (a
 * time, a list). Its Xen name, or NULL where the headers give none.
 * (xenemu/policy.c, which keeps the families' table.) */
int hypercall_subop(uint64_t nr, uint64_t arg0, uint32_t *subop);
const char *hypercall_subop_name(uint64_t nr, uint32_t subop);

/* Hypercalls made so far (only those made at least once). */
struct hypercall_stat {
	unsigned nr;
	const char *name;
	unsigned long long calls, errors;
};
unsigned hypercall_stats(struct hypercall_stat *out, unsigned max);

/* Per-vCPU accounting (xenemu/fairshare.c): hypercalls the vCPU issued,
 * time spent serving them, calls throttled by the rate limit (and the time
 * slept), calls preempted by a continuation. */
struct hypercall_vcpu_stat {
	unsigned vcpu;
	unsigned long long calls, ns, throttled, throttled_ns, preempted;
};
unsigned hypercall_vcpu_stats(struct hypercall_vcpu_stat *out, unsigned max);
/* The rate limit: calls per second per vCPU with a burst of `burst` calls
 * (a token bucket); rate 0 switches it off. */
void hypercall_set_rate_limit(uint64_t rate, uint64_t burst);
/* Before a top-level call: charge it to its vCPU, sleeping while the vCPU
 * is over its rate (until the VM stops or pauses). After it: count it. */
void hypercall_throttle(struct hcall *hc);
void hypercall_account(const struct hcall *hc, uint64_t ns);
/* Has this call done enough (after `units` more), or must it yield to a
 * stop or pause? Only for a call the transport can re-issue. */
int hcall_preempt_check(struct hcall *hc, unsigned units);
/* Can this call be preempted at all (asks restartable() once)? */
int hcall_can_continue(struct hcall *hc);
/* Preempt: the guest re-issues the call with these arguments (the rest
 * stay as they were). Returns the hypercall number, as Xen's
 * hypercall_create_continuation() does. */
long hcall_continue(struct hcall *hc, unsigned nargs, const uint64_t *args);
/* -ENOSYS for a sub-op that is not implemented, logged once per sub-op. */
long hcall_subop_enosys(const struct hcall *hc, uint64_t subop);

/* Guest pointers are guest-virtual: translate and bounds-check every byte.
 * Return 0 or -XEN_EFAULT. */
int guest_translate(struct guest_mem *m, const struct guest_paging *pg, uint64_t gva,
		    int write, uint64_t *gpa);
int copy_from_guest(struct hcall *hc, void *dst, uint64_t gva, size_t len);
int copy_to_guest(struct hcall *hc, uint64_t gva, const void *src, size_t len);

/* The families, one file each. */
long xen_version_op(struct hcall *hc);
long console_io_op(struct hcall *hc);
long sched_op(struct hcall *hc);
long hvm_op(struct hcall *hc);
long memory_op(struct hcall *hc);
long multicall_op(struct hcall *hc);
long vm_assist_op(struct hcall *hc);
long grant_table_op(struct hcall *hc);

#endif
