/* memory_op: the memory map and placing VMM-owned frames (shared_info) in
 * the guest's physical address space. The rest of the family comes later. */
#include <string.h>

#include <stdint.h>
#include <xen/memory.h>

#include "xenkvm/compat32.h"
#include "xenkvm/gnttab.h"
#include "xenkvm/guest_mem.h"
#include "xenkvm/hypercall.h"
#include "xenkvm/log.h"
#include "xenkvm/vm.h"
#include "xenkvm/xen.h"

/* Xen's internal split of memory_op's cmd: the low bits are the sub-op, the
 * rest a continuation's start extent. */
#define MEMOP_CMD_MASK 0x3f

/* The E820 entry format of the memory-map buffer (BIOS INT 15h E820). */
struct __attribute__((packed)) e820_raw {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
};

/* Frames beyond this are not addressable by any guest we create. */
#define MAX_GUEST_GFN (1ULL << (46 - GUEST_PAGE_SHIFT))

static int read_memory_map(struct hcall *hc, uint64_t gva, uint32_t *nr, uint64_t *buffer)
{
	if (hc->abi64) {
		struct xen_memory_map m;
		if (copy_from_guest(hc, &m, gva, sizeof(m)))
			return -XEN_EFAULT;
		*nr = m.nr_entries;
		*buffer = (uint64_t)(uintptr_t)m.buffer.p;
	} else {
		struct compat_memory_map m;
		if (copy_from_guest(hc, &m, gva, sizeof(m)))
			return -XEN_EFAULT;
		*nr = m.nr_entries;
		*buffer = m.buffer;
	}
	return 0;
}

/* Xen copies min(asked, have) entries and reports how many it copied. */
static long memory_map_get(struct hcall *hc)
{
	struct xen *x = hc->xen;
	struct e820_raw raw[XEN_E820_MAX];
	uint32_t nr;
	uint64_t buffer;
	long rc;

	if (read_memory_map(hc, hc->arg[1], &nr, &buffer))
		return -XEN_EFAULT;
	pthread_mutex_lock(&x->lock);
	if (x->e820_n == 0) {
		/* As Xen: a domain without a map predates the call. */
		pthread_mutex_unlock(&x->lock);
		return -XEN_ENOSYS;
	}
	if (nr > x->e820_n)
		nr = x->e820_n;
	for (uint32_t i = 0; i < nr; i++)
		raw[i] = (struct e820_raw){ x->e820[i].addr, x->e820[i].size, x->e820[i].type };
	pthread_mutex_unlock(&x->lock);
	if (copy_to_guest(hc, buffer, raw, nr * sizeof(raw[0])))
		return -XEN_EFAULT;
	/* nr_entries is the first field in both layouts. */
	rc = copy_to_guest(hc, hc->arg[1], &nr, sizeof(nr));
	return rc;
}

/* The guest may replace its own map (GRUB records the frames it added). */
static long memory_map_set(struct hcall *hc)
{
	struct xen *x = hc->xen;
	struct e820_raw raw[XEN_E820_MAX];
	uint16_t domid;
	uint32_t nr;
	uint64_t buffer;

	if (hc->abi64) {
		struct xen_foreign_memory_map f;
		if (copy_from_guest(hc, &f, hc->arg[1], sizeof(f)))
			return -XEN_EFAULT;
		domid = f.domid, nr = f.map.nr_entries, buffer = (uint64_t)(uintptr_t)f.map.buffer.p;
	} else {
		struct compat_foreign_memory_map f;
		if (copy_from_guest(hc, &f, hc->arg[1], sizeof(f)))
			return -XEN_EFAULT;
		domid = f.domid, nr = f.map.nr_entries, buffer = f.map.buffer;
	}
	if (nr > XEN_E820_MAX)
		return -XEN_EINVAL;
	if (!domid_is_self(domid))
		return domid_other_error(domid);
	if (copy_from_guest(hc, raw, buffer, nr * sizeof(raw[0])))
		return -XEN_EFAULT;
	pthread_mutex_lock(&x->lock);
	for (uint32_t i = 0; i < nr; i++)
		x->e820[i] = (struct e820_entry){ raw[i].addr, raw[i].size, raw[i].type };
	x->e820_n = nr;
	pthread_mutex_unlock(&x->lock);
	return 0;
}

static int read_add_to_physmap(struct hcall *hc, struct xen_add_to_physmap *a)
{
	struct compat_add_to_physmap c;

	if (hc->abi64)
		return copy_from_guest(hc, a, hc->arg[1], sizeof(*a));
	if (copy_from_guest(hc, &c, hc->arg[1], sizeof(c)))
		return -XEN_EFAULT;
	*a = (struct xen_add_to_physmap){ .domid = c.domid, .size = c.size, .space = c.space,
					  .idx = c.idx, .gpfn = c.gpfn };
	return 0;
}

/* Move shared_info to gfn; the frame it leaves gets its RAM back. */
static long map_shared_info(struct hcall *hc, uint64_t idx, uint64_t gfn)
{
	struct xen *x = hc->xen;
	long rc = 0;

	if (idx != 0)
		return -XEN_EINVAL;
	pthread_mutex_lock(&x->lock);
	if (gfn != x->shared_info_gfn) {
		if (gmem_map_page(&x->vm->mem, gfn, x->shared_info_off) < 0) {
			rc = -XEN_ENOMEM;
		} else {
			if (x->shared_info_gfn != ~0ULL)
				gmem_unmap_page(&x->vm->mem, x->shared_info_gfn);
			x->shared_info_gfn = gfn;
		}
	}
	/* Mapping shared_info is where PV drivers start: latch its layout. */
	if (rc == 0)
		x->shinfo_32bit = !hc->abi64;
	pthread_mutex_unlock(&x->lock);
	if (rc == 0)
		xen_time_update_shared_info(x);
	return rc;
}

static long add_to_physmap(struct hcall *hc)
{
	struct xen_add_to_physmap a;

	if (read_add_to_physmap(hc, &a))
		return -XEN_EFAULT;
	if (!domid_is_self(a.domid))
		return domid_other_error(a.domid);
	if (a.gpfn >= MAX_GUEST_GFN)
		return -XEN_EINVAL;
	switch (a.space) {
	case XENMAPSPACE_shared_info:
		return map_shared_info(hc, a.idx, a.gpfn);
	case XENMAPSPACE_grant_table:
		return hc->xen->gnttab ? gnttab_add_to_physmap(hc->xen->gnttab, a.idx, a.gpfn)
				       : -XEN_ENOSYS;
	case XENMAPSPACE_gmfn:
	case XENMAPSPACE_gmfn_range:
	case XENMAPSPACE_gmfn_foreign:
	case XENMAPSPACE_dev_mmio:
		log_once("XENMEM_add_to_physmap space %u is not implemented: -ENOSYS", a.space);
		return -XEN_ENOSYS;
	default:
		return -XEN_EINVAL;
	}
}

long memory_op(struct hcall *hc)
{
	uint64_t cmd = hc->arg[0] & MEMOP_CMD_MASK;

	switch (cmd) {
	case XENMEM_memory_map:
		return memory_map_get(hc);
	case XENMEM_set_memory_map:
		return memory_map_set(hc);
	case XENMEM_add_to_physmap:
		return add_to_physmap(hc);
	case XENMEM_machine_memory_map:
	case XENMEM_machphys_mapping:
		return -XEN_ENOSYS; /* PV-only: Xen refuses them to HVM guests too */
	default:
		return hcall_subop_enosys(hc, cmd);
	}
}
