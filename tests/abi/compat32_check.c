/* Compiled with -m32: the real Xen headers give the i386 layouts, which our
 * compat declarations must match exactly. */
#include <stddef.h>
#include <stdint.h>

#include <xen/xen.h>
#include <xen/memory.h>
#include <xen/version.h>

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
