/* What the memory_op files share: the cmd encoding, the domU limits and the
 * reservation's bookkeeping (struct xen's max_pages/unmapped_pages, under
 * x->lock). */
#ifndef XENKVM_MEMORY_INTERNAL_H
#define XENKVM_MEMORY_INTERNAL_H

#include <stdint.h>

#include "xenkvm/hypercall.h"

/* Xen's split of memory_op's cmd: the low bits are the sub-op, the rest the
 * extent a continuation starts from. */
#define MEMOP_EXTENT_SHIFT 6
#define MEMOP_CMD_MASK ((1U << MEMOP_EXTENT_SHIFT) - 1)
/* Xen's domu_max_order (CONFIG_DOMU_MAX_ORDER on x86): 2 MiB extents. */
#define DOMU_MAX_ORDER 9

/* Pages the domain owns (Xen's tot_pages) and may own (max_pages). */
uint64_t memory_tot_pages(const struct xen *x);
uint64_t memory_max_pages(const struct xen *x);

/* Read entry i of a guest array of xen_pfn_t / xen_ulong_t (8 bytes in the
 * 64-bit ABI, 4 in the 32-bit one). 0 or -XEN_EFAULT. */
int memory_read_ulong(struct hcall *hc, uint64_t array, uint64_t i, uint64_t *v);

/* XENMEM_increase_reservation, decrease_reservation, populate_physmap:
 * the number of extents done (from start_extent), as Xen returns. */
long memory_reservation_op(struct hcall *hc, unsigned op, uint64_t start_extent);
/* XENMEM_exchange: 0 or a Xen error; nr_exchanged says how far it got. */
long memory_exchange_op(struct hcall *hc, uint64_t start_extent);

#endif
