/* Compiled with -m32: the real Xen headers give the i386 layouts, which our
 * compat declarations must match exactly. */
#include <stddef.h>
#include <stdint.h>

#include <xen/xen.h>
#include <xen/memory.h>
#include <xen/version.h>
#include <xen/vcpu.h>
#include <xen/sched.h>
#include <xen/grant_table.h>
#include <xen/io/blkif.h>

#include "xenkvm/compat32.h"

#define SAME_SIZE(a, b) _Static_assert(sizeof(a) == sizeof(b), #a " size")
#define SAME_FIELD(a, b, f) \
	_Static_assert(offsetof(a, f) == offsetof(b, f) && \
		       sizeof(((a *)0)->f) == sizeof(((b *)0)->f), #a "." #f)

SAME_SIZE(struct compat_platform_parameters, struct xen_platform_parameters);
SAME_FIELD(struct compat_platform_parameters, struct xen_platform_parameters, virt_start);

SAME_SIZE(struct compat_memory_map, struct xen_memory_map);
SAME_FIELD(struct compat_memory_map, struct xen_memory_map, nr_entries);
_Static_assert(offsetof(struct compat_memory_map, buffer) ==
	       offsetof(struct xen_memory_map, buffer), "buffer");

SAME_SIZE(struct compat_foreign_memory_map, struct xen_foreign_memory_map);
SAME_FIELD(struct compat_foreign_memory_map, struct xen_foreign_memory_map, domid);
_Static_assert(offsetof(struct compat_foreign_memory_map, map) ==
	       offsetof(struct xen_foreign_memory_map, map), "map");

SAME_SIZE(struct compat_add_to_physmap, struct xen_add_to_physmap);
SAME_FIELD(struct compat_add_to_physmap, struct xen_add_to_physmap, domid);
SAME_FIELD(struct compat_add_to_physmap, struct xen_add_to_physmap, size);
SAME_FIELD(struct compat_add_to_physmap, struct xen_add_to_physmap, space);
SAME_FIELD(struct compat_add_to_physmap, struct xen_add_to_physmap, idx);
SAME_FIELD(struct compat_add_to_physmap, struct xen_add_to_physmap, gpfn);

SAME_SIZE(struct compat_multicall_entry, struct multicall_entry);
SAME_FIELD(struct compat_multicall_entry, struct multicall_entry, op);
SAME_FIELD(struct compat_multicall_entry, struct multicall_entry, result);
SAME_FIELD(struct compat_multicall_entry, struct multicall_entry, args);

SAME_SIZE(struct compat_gnttab_setup_table, struct gnttab_setup_table);
SAME_FIELD(struct compat_gnttab_setup_table, struct gnttab_setup_table, dom);
SAME_FIELD(struct compat_gnttab_setup_table, struct gnttab_setup_table, nr_frames);
SAME_FIELD(struct compat_gnttab_setup_table, struct gnttab_setup_table, status);
_Static_assert(offsetof(struct compat_gnttab_setup_table, frame_list) ==
	       offsetof(struct gnttab_setup_table, frame_list), "frame_list");
_Static_assert(sizeof(xen_pfn_t) == 4, "32-bit frame_list entries");

SAME_SIZE(struct compat_gnttab_copy_ptr, struct gnttab_copy_ptr);
SAME_FIELD(struct compat_gnttab_copy_ptr, struct gnttab_copy_ptr, u);
SAME_FIELD(struct compat_gnttab_copy_ptr, struct gnttab_copy_ptr, domid);
SAME_FIELD(struct compat_gnttab_copy_ptr, struct gnttab_copy_ptr, offset);
SAME_SIZE(struct compat_gnttab_copy, struct gnttab_copy);
SAME_FIELD(struct compat_gnttab_copy, struct gnttab_copy, source);
SAME_FIELD(struct compat_gnttab_copy, struct gnttab_copy, dest);
SAME_FIELD(struct compat_gnttab_copy, struct gnttab_copy, len);
SAME_FIELD(struct compat_gnttab_copy, struct gnttab_copy, flags);
SAME_FIELD(struct compat_gnttab_copy, struct gnttab_copy, status);

/* The other GNTTABOP structures have one layout in both ABIs. */
_Static_assert(sizeof(struct gnttab_map_grant_ref) == 32, "map_grant_ref");
_Static_assert(offsetof(struct gnttab_map_grant_ref, dev_bus_addr) == 24, "map dev_bus_addr");
_Static_assert(sizeof(struct gnttab_unmap_grant_ref) == 24, "unmap_grant_ref");
_Static_assert(offsetof(struct gnttab_unmap_grant_ref, status) == 20, "unmap status");
_Static_assert(sizeof(struct gnttab_query_size) == 16, "query_size");
_Static_assert(sizeof(struct gnttab_get_version) == 8, "get_version");
_Static_assert(sizeof(struct gnttab_set_version) == 4, "set_version");
_Static_assert(sizeof(struct gnttab_swap_grant_ref) == 12, "swap_grant_ref");

SAME_SIZE(struct compat_vcpu_runstate_info, struct vcpu_runstate_info);
SAME_FIELD(struct compat_vcpu_runstate_info, struct vcpu_runstate_info, state);
SAME_FIELD(struct compat_vcpu_runstate_info, struct vcpu_runstate_info, state_entry_time);
SAME_FIELD(struct compat_vcpu_runstate_info, struct vcpu_runstate_info, time);

SAME_SIZE(struct compat_sched_poll, struct sched_poll);
_Static_assert(offsetof(struct compat_sched_poll, ports) == offsetof(struct sched_poll, ports), "ports");
SAME_FIELD(struct compat_sched_poll, struct sched_poll, nr_ports);
SAME_FIELD(struct compat_sched_poll, struct sched_poll, timeout);

SAME_SIZE(struct compat_blkif_request_segment, struct blkif_request_segment);
SAME_FIELD(struct compat_blkif_request_segment, struct blkif_request_segment, gref);
SAME_FIELD(struct compat_blkif_request_segment, struct blkif_request_segment, first_sect);
SAME_FIELD(struct compat_blkif_request_segment, struct blkif_request_segment, last_sect);
SAME_SIZE(struct compat_blkif_request, struct blkif_request);
SAME_FIELD(struct compat_blkif_request, struct blkif_request, operation);
SAME_FIELD(struct compat_blkif_request, struct blkif_request, nr_segments);
SAME_FIELD(struct compat_blkif_request, struct blkif_request, handle);
SAME_FIELD(struct compat_blkif_request, struct blkif_request, id);
SAME_FIELD(struct compat_blkif_request, struct blkif_request, sector_number);
SAME_FIELD(struct compat_blkif_request, struct blkif_request, seg);
SAME_SIZE(struct compat_blkif_request_discard, struct blkif_request_discard);
SAME_FIELD(struct compat_blkif_request_discard, struct blkif_request_discard, flag);
SAME_FIELD(struct compat_blkif_request_discard, struct blkif_request_discard, id);
SAME_FIELD(struct compat_blkif_request_discard, struct blkif_request_discard, sector_number);
SAME_FIELD(struct compat_blkif_request_discard, struct blkif_request_discard, nr_sectors);
SAME_SIZE(struct compat_blkif_request_indirect, struct blkif_request_indirect);
SAME_FIELD(struct compat_blkif_request_indirect, struct blkif_request_indirect, indirect_op);
SAME_FIELD(struct compat_blkif_request_indirect, struct blkif_request_indirect, nr_segments);
SAME_FIELD(struct compat_blkif_request_indirect, struct blkif_request_indirect, id);
SAME_FIELD(struct compat_blkif_request_indirect, struct blkif_request_indirect, sector_number);
SAME_FIELD(struct compat_blkif_request_indirect, struct blkif_request_indirect, handle);
SAME_FIELD(struct compat_blkif_request_indirect, struct blkif_request_indirect, indirect_grefs);
SAME_SIZE(struct compat_blkif_response, struct blkif_response);
SAME_FIELD(struct compat_blkif_response, struct blkif_response, id);
SAME_FIELD(struct compat_blkif_response, struct blkif_response, operation);
SAME_FIELD(struct compat_blkif_response, struct blkif_response, status);
/* The shared ring's entry (request/response union) is the request's size. */
_Static_assert(sizeof(struct compat_blkif_request) == 108, "x86_32 blkif ring entry");

SAME_SIZE(struct compat_memory_reservation, struct xen_memory_reservation);
_Static_assert(offsetof(struct compat_memory_reservation, extent_start) ==
	       offsetof(struct xen_memory_reservation, extent_start), "extent_start");
SAME_FIELD(struct compat_memory_reservation, struct xen_memory_reservation, nr_extents);
SAME_FIELD(struct compat_memory_reservation, struct xen_memory_reservation, extent_order);
SAME_FIELD(struct compat_memory_reservation, struct xen_memory_reservation, mem_flags);
SAME_FIELD(struct compat_memory_reservation, struct xen_memory_reservation, domid);
SAME_SIZE(struct compat_memory_exchange, struct xen_memory_exchange);
SAME_FIELD(struct compat_memory_exchange, struct xen_memory_exchange, in);
SAME_FIELD(struct compat_memory_exchange, struct xen_memory_exchange, out);
SAME_FIELD(struct compat_memory_exchange, struct xen_memory_exchange, nr_exchanged);
SAME_SIZE(struct compat_remove_from_physmap, struct xen_remove_from_physmap);
SAME_FIELD(struct compat_remove_from_physmap, struct xen_remove_from_physmap, domid);
SAME_FIELD(struct compat_remove_from_physmap, struct xen_remove_from_physmap, gpfn);
SAME_SIZE(struct compat_add_to_physmap_batch, struct xen_add_to_physmap_batch);
SAME_FIELD(struct compat_add_to_physmap_batch, struct xen_add_to_physmap_batch, domid);
SAME_FIELD(struct compat_add_to_physmap_batch, struct xen_add_to_physmap_batch, space);
SAME_FIELD(struct compat_add_to_physmap_batch, struct xen_add_to_physmap_batch, size);
_Static_assert(offsetof(struct compat_add_to_physmap_batch, foreign_domid) ==
	       offsetof(struct xen_add_to_physmap_batch, u.foreign_domid), "u.foreign_domid");
_Static_assert(offsetof(struct compat_add_to_physmap_batch, idxs) ==
	       offsetof(struct xen_add_to_physmap_batch, idxs), "idxs");
_Static_assert(offsetof(struct compat_add_to_physmap_batch, gpfns) ==
	       offsetof(struct xen_add_to_physmap_batch, gpfns), "gpfns");
_Static_assert(offsetof(struct compat_add_to_physmap_batch, errs) ==
	       offsetof(struct xen_add_to_physmap_batch, errs), "errs");
_Static_assert(sizeof(xen_ulong_t) == 4, "32-bit idxs entries");
