/* The 2-level event-channel ABI: pending and mask bitmaps in shared_info,
 * a selector word per vCPU, in the guest's word size. The order of the
 * steps is Xen's: it is what lets guests clear bits without locks. */
#include <stdint.h>

#include <xen/xen.h>
#include <xen/foreign/x86_32.h>

#include "xenkvm/bitops.h"
#include "xenkvm/evtchn_state.h"
#include "xenkvm/xen.h"

static int wide(struct xen *x)
{
	return !x->shinfo_32bit;
}

static void *pending_map(struct xen *x)
{
	return wide(x) ? (void *)((struct shared_info *)x->shared_info)->evtchn_pending
		       : (void *)((struct shared_info_x86_32 *)x->shared_info)->evtchn_pending;
}

static void *mask_map(struct xen *x)
{
	return wide(x) ? (void *)((struct shared_info *)x->shared_info)->evtchn_mask
		       : (void *)((struct shared_info_x86_32 *)x->shared_info)->evtchn_mask;
}

static unsigned bits_per_word(struct xen *x)
{
	return wide(x) ? 64 : 32;
}

/* 64-bit guests have 64 words of 64 bits, 32-bit guests 32 of 32. */
static unsigned max_ports_2l(struct xen *x)
{
	return bits_per_word(x) * bits_per_word(x);
}

/* evtchn_pending_sel follows evtchn_upcall_pending/mask, word-aligned. */
static void *pending_sel(struct xen *x, uint8_t *vi)
{
	return vi + (wide(x) ? 8 : 4);
}

static void mark_selector(struct xen *x, unsigned vcpu, evtchn_port_t port)
{
	uint8_t *vi = xen_vcpu_info(x, vcpu);

	if (vi && !bit_test_and_set(pending_sel(x, vi), port / bits_per_word(x), wide(x)))
		upcall_mark_pending(x, vcpu);
}

static void set_pending_2l(struct xen *x, unsigned vcpu, evtchn_port_t port)
{
	if (bit_test_and_set(pending_map(x), port, wide(x)))
		return;
	if (!bit_test(mask_map(x), port, wide(x)))
		mark_selector(x, vcpu, port);
}

static void clear_pending_2l(struct xen *x, evtchn_port_t port)
{
	bit_test_and_clear(pending_map(x), port, wide(x));
}

static void unmask_2l(struct xen *x, unsigned vcpu, evtchn_port_t port)
{
	if (bit_test_and_clear(mask_map(x), port, wide(x)) &&
	    bit_test(pending_map(x), port, wide(x)))
		mark_selector(x, vcpu, port);
}

static int is_pending_2l(struct xen *x, evtchn_port_t port)
{
	return bit_test(pending_map(x), port, wide(x));
}

static int is_masked_2l(struct xen *x, evtchn_port_t port)
{
	return bit_test(mask_map(x), port, wide(x));
}

const struct evtchn_abi evtchn_abi_2l = {
	.name = "2-level",
	.max_ports = max_ports_2l,
	.set_pending = set_pending_2l,
	.clear_pending = clear_pending_2l,
	.unmask = unmask_2l,
	.is_pending = is_pending_2l,
	.is_masked = is_masked_2l,
};
