/* vm_assist: the assists a guest may switch on. An HVM/PVH guest has one,
 * the runstate update flag (Linux asks for it for steal time). */
#include <stdint.h>

#include <xen/xen.h>

#include "xenkvm/hypercall.h"
#include "xenkvm/xen.h"

/* Xen's HVM_VM_ASSIST_MASK. */
#define HVM_VM_ASSIST_MASK (1u << VMASST_TYPE_runstate_update_flag)

long vm_assist_op(struct hcall *hc)
{
	uint64_t cmd = hc->arg[0], type = hc->arg[1];

	if (type >= 32 || !(HVM_VM_ASSIST_MASK & (1u << type)))
		return -XEN_EINVAL;
	switch (cmd) {
	case VMASST_CMD_enable:
		__atomic_fetch_or(&hc->xen->vm_assist, 1u << type, __ATOMIC_SEQ_CST);
		return 0;
	case VMASST_CMD_disable:
		__atomic_fetch_and(&hc->xen->vm_assist, ~(1u << type), __ATOMIC_SEQ_CST);
		return 0;
	default:
		return -XEN_ENOSYS;
	}
}
