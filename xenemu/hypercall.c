/* The hypercall dispatch table: one entry point per family. Whatever is not
 * in the table answers -ENOSYS and is logged once, by name. */
#include <stdatomic.h>

#include "xenkvm/evtchn.h"
#include "xenkvm/hypercall.h"
#include "xenkvm/vm.h"
#include "xenkvm/log.h"
#include "xenkvm/policy.h"
#include "xenkvm/trace.h"

static const char *const names[NR_HYPERCALLS] = {
	[__HYPERVISOR_set_trap_table] = "set_trap_table",
	[__HYPERVISOR_mmu_update] = "mmu_update",
	[__HYPERVISOR_set_gdt] = "set_gdt",
	[__HYPERVISOR_stack_switch] = "stack_switch",
	[__HYPERVISOR_set_callbacks] = "set_callbacks",
	[__HYPERVISOR_fpu_taskswitch] = "fpu_taskswitch",
	[__HYPERVISOR_sched_op_compat] = "sched_op_compat",
	[__HYPERVISOR_platform_op] = "platform_op",
	[__HYPERVISOR_set_debugreg] = "set_debugreg",
	[__HYPERVISOR_get_debugreg] = "get_debugreg",
	[__HYPERVISOR_update_descriptor] = "update_descriptor",
	[__HYPERVISOR_memory_op] = "memory_op",
	[__HYPERVISOR_multicall] = "multicall",
	[__HYPERVISOR_update_va_mapping] = "update_va_mapping",
	[__HYPERVISOR_set_timer_op] = "set_timer_op",
	[__HYPERVISOR_event_channel_op_compat] = "event_channel_op_compat",
	[__HYPERVISOR_xen_version] = "xen_version",
	[__HYPERVISOR_console_io] = "console_io",
	[__HYPERVISOR_physdev_op_compat] = "physdev_op_compat",
	[__HYPERVISOR_grant_table_op] = "grant_table_op",
	[__HYPERVISOR_vm_assist] = "vm_assist",
	[__HYPERVISOR_update_va_mapping_otherdomain] = "update_va_mapping_otherdomain",
	[__HYPERVISOR_iret] = "iret",
	[__HYPERVISOR_vcpu_op] = "vcpu_op",
	[__HYPERVISOR_set_segment_base] = "set_segment_base",
	[__HYPERVISOR_mmuext_op] = "mmuext_op",
	[__HYPERVISOR_xsm_op] = "xsm_op",
	[__HYPERVISOR_nmi_op] = "nmi_op",
	[__HYPERVISOR_sched_op] = "sched_op",
	[__HYPERVISOR_callback_op] = "callback_op",
	[__HYPERVISOR_xenoprof_op] = "xenoprof_op",
	[__HYPERVISOR_event_channel_op] = "event_channel_op",
	[__HYPERVISOR_physdev_op] = "physdev_op",
	[__HYPERVISOR_hvm_op] = "hvm_op",
	[__HYPERVISOR_sysctl] = "sysctl",
	[__HYPERVISOR_domctl] = "domctl",
	[__HYPERVISOR_kexec_op] = "kexec_op",
	[__HYPERVISOR_tmem_op] = "tmem_op",
	[__HYPERVISOR_argo_op] = "argo_op",
	[__HYPERVISOR_xenpmu_op] = "xenpmu_op",
	[__HYPERVISOR_dm_op] = "dm_op",
	[__HYPERVISOR_hypfs_op] = "hypfs_op",
};

static const hcall_fn table[NR_HYPERCALLS] = {
	[__HYPERVISOR_memory_op] = memory_op,
	[__HYPERVISOR_multicall] = multicall_op,
	[__HYPERVISOR_xen_version] = xen_version_op,
	[__HYPERVISOR_console_io] = console_io_op,
	[__HYPERVISOR_sched_op] = sched_op,
	[__HYPERVISOR_hvm_op] = hvm_op,
	[__HYPERVISOR_grant_table_op] = grant_table_op,
	[__HYPERVISOR_event_channel_op] = event_channel_op,
	[__HYPERVISOR_vcpu_op] = vcpu_op,
	[__HYPERVISOR_set_timer_op] = set_timer_op,
	[__HYPERVISOR_vm_assist] = vm_assist_op,
};

static atomic_uchar unimplemented_logged[NR_HYPERCALLS];
/* Live counters for `xenkvm stats`: calls and error returns per hypercall. */
static atomic_ullong calls[NR_HYPERCALLS], errors[NR_HYPERCALLS];

unsigned hypercall_stats(struct hypercall_stat *out, unsigned max)
{
	unsigned n = 0;

	for (unsigned nr = 0; nr < NR_HYPERCALLS && n < max; nr++) {
		unsigned long long c = atomic_load(&calls[nr]);
		if (c)
			out[n++] = (struct hypercall_stat){ .nr = nr, .name = hypercall_name(nr),
							    .calls = c,
							    .errors = atomic_load(&errors[nr]) };
	}
	return n;
}

static long count(uint64_t nr, long rc)
{
	if (nr < NR_HYPERCALLS) {
		atomic_fetch_add_explicit(&calls[nr], 1, memory_order_relaxed);
		if (rc < 0)
			atomic_fetch_add_explicit(&errors[nr], 1, memory_order_relaxed);
	}
	return rc;
}
static atomic_uchar subop_logged[NR_HYPERCALLS][64];

long hcall_subop_enosys(const struct hcall *hc, uint64_t subop)
{
	uint64_t nr = hc->nr < NR_HYPERCALLS ? hc->nr : 0;

	if (subop >= 64 || !atomic_exchange(&subop_logged[nr][subop], 1))
		log_warn("%s sub-op %llu is not implemented: -ENOSYS", hypercall_name(hc->nr),
			 (unsigned long long)subop);
	return -XEN_ENOSYS;
}

const char *hypercall_name(uint64_t nr)
{
	return nr < NR_HYPERCALLS && names[nr] ? names[nr] : "unknown";
}

static long dispatch(struct hcall *hc);

/* Tracing wraps the whole call, multicall entries included. */
static long traced_dispatch(struct hcall *hc)
{
	uint64_t t0;
	long rc;

	if (!trace_enabled())
		return dispatch(hc);
	t0 = trace_now_ns();
	rc = dispatch(hc);
	trace_hypercall(hc, t0, trace_now_ns(), rc);
	return rc;
}

/* A guest's call (not a multicall entry) is charged to its vCPU: the rate
 * limit first, then the time it took (xenemu/fairshare.c). */
long hypercall_dispatch(struct hcall *hc)
{
	uint64_t t0;
	long rc;

	if (hc->in_multicall)
		return traced_dispatch(hc);
	hypercall_throttle(hc);
	if (hc->xen && hc->vcpu_id < VM_MAX_VCPUS) {
		__atomic_store_n(&hc->xen->vcpus[hc->vcpu_id].in_call_arg0, hc->arg[0],
				 __ATOMIC_RELAXED);
		__atomic_store_n(&hc->xen->vcpus[hc->vcpu_id].in_call, hc->nr + 1, __ATOMIC_RELAXED);
	}
	t0 = trace_now_ns();
	rc = traced_dispatch(hc);
	hypercall_account(hc, trace_now_ns() - t0);
	if (hc->xen && hc->vcpu_id < VM_MAX_VCPUS)
		__atomic_store_n(&hc->xen->vcpus[hc->vcpu_id].in_call, 0, __ATOMIC_RELAXED);
	return rc;
}

static long dispatch(struct hcall *hc)
{
	/* As Xen: calls from guest user mode are refused before anything else
	 * (dm_op is the one exception, and it is not implemented). */
	if (hc->cpl != 0)
		return count(hc->nr, -XEN_EPERM);
	if (!hc->abi64) {
		for (int i = 0; i < 6; i++)
			hc->arg[i] &= 0xffffffffULL;
		hc->nr &= 0xffffffffULL;
	}
	/* The VM's hypercall policy, on the arguments as the family will see them. */
	if (hc->xen && policy_check(hc->xen->policy, hc) < 0)
		return count(hc->nr, -XEN_EPERM);
	if (hc->nr < NR_HYPERCALLS && table[hc->nr])
		return count(hc->nr, table[hc->nr](hc));
	if (hc->nr >= NR_HYPERCALLS) {
		log_once("guest made hypercall %llu, which does not exist: -ENOSYS",
			 (unsigned long long)hc->nr);
	} else if (!atomic_exchange(&unimplemented_logged[hc->nr], 1)) {
		log_warn("hypercall %s (%llu) is not implemented: -ENOSYS",
			 hypercall_name(hc->nr), (unsigned long long)hc->nr);
	}
	return count(hc->nr, -XEN_ENOSYS);
}
