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
};

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

/* Hypercalls made so far (only those made at least once). */
struct hypercall_stat {
	unsigned nr;
	const char *name;
	unsigned long long calls, errors;
};
unsigned hypercall_stats(struct hypercall_stat *out, unsigned max);
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
