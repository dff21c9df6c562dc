/* multicall: a batch of hypercalls, each result written back into its entry. */
#include <string.h>

#include "xenkvm/compat32.h"
#include "xenkvm/hypercall.h"
#include "xenkvm/vm.h"
#include "xenkvm/xen.h"

static int read_entry(struct hcall *hc, uint64_t gva, uint64_t *op, uint64_t args[6])
{
	if (hc->abi64) {
		multicall_entry_t e;
		if (copy_from_guest(hc, &e, gva, sizeof(e)))
			return -XEN_EFAULT;
		*op = e.op;
		memcpy(args, e.args, sizeof(e.args));
	} else {
		struct compat_multicall_entry e;
		if (copy_from_guest(hc, &e, gva, sizeof(e)))
			return -XEN_EFAULT;
		*op = e.op;
		for (int i = 0; i < 6; i++)
			args[i] = e.args[i];
	}
	return 0;
}

/* Only the result field is written back, as Xen does. */
static int write_result(struct hcall *hc, uint64_t gva, long result)
{
	if (hc->abi64) {
		uint64_t r = (uint64_t)result;
		return copy_to_guest(hc, gva + offsetof(multicall_entry_t, result), &r, sizeof(r));
	}
	uint32_t r = (uint32_t)result;
	return copy_to_guest(hc, gva + offsetof(struct compat_multicall_entry, result), &r,
			     sizeof(r));
}

/* An entry that was itself preempted: its continuation's arguments go back
 * into the entry (op stays), as Xen's MCSF_call_preempted. */
static int write_args(struct hcall *hc, uint64_t gva, const uint64_t args[6])
{
	if (hc->abi64)
		return copy_to_guest(hc, gva + offsetof(multicall_entry_t, args), args,
				     6 * sizeof(args[0]));
	uint32_t a[6];
	for (int i = 0; i < 6; i++)
		a[i] = (uint32_t)args[i];
	return copy_to_guest(hc, gva + offsetof(struct compat_multicall_entry, args), a,
			     sizeof(a));
}

/* Re-issue the multicall from entry i, as Xen's continuation does. */
static long multicall_continue(struct hcall *hc, uint64_t i, size_t entry_size)
{
	uint64_t args[2] = { hc->arg[0] + i * entry_size, (hc->arg[1] & 0xffffffffULL) - i };

	return hcall_continue(hc, 2, args);
}

long multicall_op(struct hcall *hc)
{
	uint64_t list = hc->arg[0], nr = hc->arg[1] & 0xffffffffULL;
	size_t entry_size = hc->abi64 ? sizeof(multicall_entry_t)
				      : sizeof(struct compat_multicall_entry);

	/* A multicall inside a multicall is refused, like Xen's reentry check. */
	if (hc->in_multicall)
		return -XEN_EINVAL;
	for (uint64_t i = 0; i < nr; i++) {
		uint64_t gva = list + i * entry_size;
		struct hcall sub;
		long result;

		/* Preempted between entries, never before the first. */
		if (i && hcall_preempt_check(hc, 1))
			return multicall_continue(hc, i, entry_size);
		sub = *hc;
		if (read_entry(hc, gva, &sub.nr, sub.arg))
			return -XEN_EFAULT;
		sub.in_multicall = 1;
		/* An entry may preempt itself only if this call can be re-issued. */
		sub.can_continue = hcall_can_continue(hc);
		sub.restartable = NULL;
		result = hypercall_dispatch(&sub);
		hc->work = sub.work;
		if (sub.continued) {
			if (write_args(hc, gva, sub.cont_arg))
				return -XEN_EFAULT;
			return multicall_continue(hc, i, entry_size);
		}
		if (write_result(hc, gva, result))
			return -XEN_EFAULT;
		/* A call that stopped the domain ends the batch. */
		if (hc->xen && hc->xen->vm && __atomic_load_n(&hc->xen->vm->stopping, __ATOMIC_ACQUIRE))
			break;
	}
	return 0;
}
