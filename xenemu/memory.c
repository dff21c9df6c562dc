/* memory_op: the memory map, the physmap (placing VMM frames, moving and
 * removing the guest's own frames) and the reservation queries; the
 * reservation changes themselves are in memory_reservation.c. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <stdint.h>
#include <xen/memory.h>

#include "memory_internal.h"
#include "xenkvm/compat32.h"
#include "xenkvm/xenstore.h"
#include "xenkvm/gnttab.h"
#include "xenkvm/guest_mem.h"
#include "xenkvm/hypercall.h"
#include "xenkvm/log.h"
#include "xenkvm/vm.h"
#include "xenkvm/xen.h"

/* Sub-ops <xen/memory.h> declares only for the toolstack (__XEN_TOOLS__). */
#define XENMEM_get_sharing_freed_pages 18
#define XENMEM_get_sharing_shared_pages 19
#define XENMEM_sharing_op 22
#define XENMEM_claim_pages 24

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

/* ---- the reservation's bookkeeping ---- */

uint64_t memory_tot_pages(const struct xen *x)
{
	return gmem_populated_frames(&x->vm->mem) + x->unmapped_pages;
}

uint64_t memory_max_pages(const struct xen *x)
{
	return x->max_pages ? x->max_pages : x->vm->mem.ram_size / GUEST_PAGE_SIZE;
}

/* A VMM frame now shows at gfn: under Xen the RAM page it replaced is freed. */
static void free_ram_under(struct xen *x, uint64_t gfn)
{
	if (gmem_frame_populated(&x->vm->mem, gfn) && gmem_frame_overlaid(&x->vm->mem, gfn))
		gmem_give_back_frames(&x->vm->mem, gfn, 1);
}

/* ---- add_to_physmap ---- */

/* Move shared_info to gfn; the frame it leaves is empty, as under Xen. */
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
			free_ram_under(x, gfn);
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

static long map_grant_frame(struct hcall *hc, uint64_t idx, uint64_t gfn)
{
	struct xen *x = hc->xen;
	long rc;

	if (!x->gnttab)
		return -XEN_ENOSYS;
	rc = gnttab_add_to_physmap(x->gnttab, idx, gfn);
	if (rc == 0) {
		pthread_mutex_lock(&x->lock);
		free_ram_under(x, gfn);
		pthread_mutex_unlock(&x->lock);
	}
	return rc;
}

/* Unhook what shows at gfn before a guest frame moves there: shared_info
 * is simply unmapped; RAM is freed (overwritten by the move). */
static long clear_destination(struct xen *x, uint64_t gfn)
{
	if (gfn == x->shared_info_gfn) {
		gmem_unmap_page(&x->vm->mem, gfn);
		x->shared_info_gfn = ~0ULL;
	}
	if (gmem_frame_overlaid(&x->vm->mem, gfn)) {
		log_once("XENMEM_add_to_physmap: moving a frame over a grant frame is not "
			 "supported: -EBUSY");
		return -XEN_EBUSY;
	}
	uint64_t i;
	if (!gmem_ram_frame(&x->vm->mem, gfn, &i)) {
		log_once("XENMEM_add_to_physmap: moving a frame outside RAM (gfn %#llx) is not "
			 "supported: -ENOMEM", (unsigned long long)gfn);
		return -XEN_ENOMEM;
	}
	return 0;
}

/* XENMAPSPACE_gmfn: the page at frame idx moves to frame gfn (its contents
 * with it); idx is empty afterwards. */
static long move_frame(struct hcall *hc, uint64_t idx, uint64_t gfn)
{
	struct xen *x = hc->xen;
	struct guest_mem *m = &x->vm->mem;
	static __thread uint8_t page[GUEST_PAGE_SIZE];
	long rc;

	pthread_mutex_lock(&x->lock);
	if (!gmem_frame_populated(m, idx) || gmem_frame_overlaid(m, idx)) {
		rc = -XEN_EINVAL;
	} else if (idx == gfn) {
		rc = 0;
	} else {
		rc = clear_destination(x, gfn);
		if (rc == 0) {
			memcpy(page, gmem_ptr(m, idx << GUEST_PAGE_SHIFT, GUEST_PAGE_SIZE),
			       GUEST_PAGE_SIZE);
			if (gmem_take_frames(m, gfn, 1) < 0 || gmem_give_back_frames(m, idx, 1) < 0)
				rc = -XEN_ENOMEM;
			else
				memcpy(gmem_ptr(m, gfn << GUEST_PAGE_SHIFT, GUEST_PAGE_SIZE), page,
				       GUEST_PAGE_SIZE);
		}
	}
	pthread_mutex_unlock(&x->lock);
	return rc;
}

/* One frame of any space (xenmem_add_to_physmap_one). */
static long add_one(struct hcall *hc, unsigned space, domid_t foreign, uint64_t idx,
		    uint64_t gfn)
{
	(void)foreign;
	if (gfn >= MAX_GUEST_GFN)
		return -XEN_EINVAL;
	switch (space) {
	case XENMAPSPACE_shared_info:
		return map_shared_info(hc, idx, gfn);
	case XENMAPSPACE_grant_table:
		return map_grant_frame(hc, idx, gfn);
	case XENMAPSPACE_gmfn:
		return move_frame(hc, idx, gfn);
	case XENMAPSPACE_gmfn_foreign:
		/* p2m_add_foreign: only the hardware domain of a translated guest
		 * may map foreign frames. */
		return -XEN_EPERM;
	default:
		return -XEN_EINVAL;
	}
}

/* Xen's xatp_permission_check: dev_mmio is for the hardware domain. */
static long physmap_permission(domid_t domid, unsigned space)
{
	if (!domid_is_self(domid))
		return domid_other_error(domid);
	return space == XENMAPSPACE_dev_mmio ? -XEN_EACCES : 0;
}

/* After frame `done` of `size`: preempted, the call is re-issued from
 * frame `done` in cmd's high bits, as Xen's add_to_physmap(_batch) are. */
static int physmap_preempt(struct hcall *hc, uint64_t done, uint64_t size)
{
	uint64_t cmd = (hc->arg[0] & MEMOP_CMD_MASK) | (done << MEMOP_EXTENT_SHIFT);

	if (done >= size || !hcall_preempt_check(hc, 1))
		return 0;
	hcall_continue(hc, 1, &cmd);
	return 1;
}

static long add_to_physmap(struct hcall *hc, uint64_t start)
{
	struct xen_add_to_physmap a;
	long rc;

	if (start != (uint16_t)start)
		return -XEN_EDOM;
	if (read_add_to_physmap(hc, &a))
		return -XEN_EFAULT;
	/* Foreign frames only go through add_to_physmap_batch. */
	if (a.space == XENMAPSPACE_gmfn_foreign)
		return -XEN_ENOSYS;
	rc = physmap_permission(a.domid, a.space);
	if (rc)
		return rc;
	if (a.space != XENMAPSPACE_gmfn_range)
		return add_one(hc, a.space, DOMID_INVALID, a.idx, a.gpfn);
	/* A range restarts at the frame in cmd's high bits. */
	if (a.size < start)
		return -XEN_EILSEQ;
	for (uint64_t k = start; k < a.size; k++) {
		rc = add_one(hc, XENMAPSPACE_gmfn, DOMID_INVALID, a.idx + k, a.gpfn + k);
		if (rc < 0)
			return rc;
		if (physmap_preempt(hc, k + 1, a.size))
			return (long)hc->nr;
	}
	return 0;
}

struct physmap_batch {
	domid_t domid, foreign;
	unsigned space;
	uint16_t size;
	uint64_t idxs, gpfns, errs;
};

static int read_batch(struct hcall *hc, struct physmap_batch *b)
{
	if (hc->abi64) {
		struct xen_add_to_physmap_batch n;
		if (copy_from_guest(hc, &n, hc->arg[1], sizeof(n)))
			return -XEN_EFAULT;
		*b = (struct physmap_batch){ n.domid, n.u.foreign_domid, n.space, n.size,
					     (uint64_t)(uintptr_t)n.idxs.p,
					     (uint64_t)(uintptr_t)n.gpfns.p,
					     (uint64_t)(uintptr_t)n.errs.p };
	} else {
		struct compat_add_to_physmap_batch c;
		if (copy_from_guest(hc, &c, hc->arg[1], sizeof(c)))
			return -XEN_EFAULT;
		*b = (struct physmap_batch){ c.domid, c.foreign_domid, c.space, c.size,
					     c.idxs, c.gpfns, c.errs };
	}
	return 0;
}

/* Each entry's result goes to errs[]; the call fails only when the arrays
 * cannot be read or written. */
static long add_to_physmap_batch(struct hcall *hc, uint64_t start)
{
	struct physmap_batch b;
	long rc;

	if (start != (uint16_t)start)
		return -XEN_EDOM;
	if (read_batch(hc, &b))
		return -XEN_EFAULT;
	if (b.space == XENMAPSPACE_gmfn_range)
		return -XEN_EOPNOTSUPP;
	rc = physmap_permission(b.domid, b.space);
	if (rc)
		return rc;
	if (b.size < start)
		return -XEN_EILSEQ;
	for (uint64_t i = start; i < b.size; i++) {
		uint64_t idx, gpfn;
		int32_t err;
		if (memory_read_ulong(hc, b.idxs, i, &idx) || memory_read_ulong(hc, b.gpfns, i, &gpfn))
			return -XEN_EFAULT;
		err = (int32_t)add_one(hc, b.space, b.foreign, idx, gpfn);
		if (copy_to_guest(hc, b.errs + i * 4, &err, 4))
			return -XEN_EFAULT;
		if (physmap_preempt(hc, i + 1, b.size))
			return (long)hc->nr;
	}
	return 0;
}

/* The frame leaves the physmap; its page stays the domain's (Xen does not
 * free it), so the reservation does not change. */
static long remove_from_physmap(struct hcall *hc, uint64_t start)
{
	struct xen *x = hc->xen;
	domid_t domid;
	uint64_t gfn;
	long rc = 0;

	if (start)
		return -XEN_EINVAL;
	if (hc->abi64) {
		struct xen_remove_from_physmap r;
		if (copy_from_guest(hc, &r, hc->arg[1], sizeof(r)))
			return -XEN_EFAULT;
		domid = r.domid, gfn = r.gpfn;
	} else {
		struct compat_remove_from_physmap r;
		if (copy_from_guest(hc, &r, hc->arg[1], sizeof(r)))
			return -XEN_EFAULT;
		domid = r.domid, gfn = r.gpfn;
	}
	if (!domid_is_self(domid))
		return domid_other_error(domid);
	pthread_mutex_lock(&x->lock);
	if (gfn == x->shared_info_gfn) {
		gmem_unmap_page(&x->vm->mem, gfn);
		x->shared_info_gfn = ~0ULL;
	} else if (gmem_frame_overlaid(&x->vm->mem, gfn)) {
		log_once("XENMEM_remove_from_physmap of a grant frame is not supported: -EBUSY");
		rc = -XEN_EBUSY;
	} else if (gmem_frame_populated(&x->vm->mem, gfn) &&
		   gmem_give_back_frames(&x->vm->mem, gfn, 1) == 0) {
		x->unmapped_pages++;
	} else {
		rc = -XEN_ENOENT;
	}
	pthread_mutex_unlock(&x->lock);
	return rc;
}

/* ---- queries ---- */

/* XENMEM_maximum_ram_page: the host's highest RAM frame + 1, as Xen's
 * max_page (from /proc/iomem; without it, the RAM size in pages). Read at
 * setup (xen_init): a vCPU thread may not open files in the sandbox. */
uint64_t xen_host_max_page(void)
{
	static uint64_t cached;
	uint64_t top = 0, start, end;
	char line[256];
	FILE *f;

	if (__atomic_load_n(&cached, __ATOMIC_RELAXED))
		return cached;
	f = fopen("/proc/iomem", "re");
	while (f && fgets(line, sizeof(line), f))
		if (line[0] != ' ' && strstr(line, ": System RAM") &&
		    sscanf(line, "%" SCNx64 "-%" SCNx64, &start, &end) == 2 && end + 1 > top)
			top = end + 1;
	if (f)
		fclose(f);
	top /= GUEST_PAGE_SIZE;
	if (top == 0)
		top = (uint64_t)sysconf(_SC_PHYS_PAGES);
	__atomic_store_n(&cached, top, __ATOMIC_RELAXED);
	return top;
}

/* The highest frame ever mapped (Xen's max_mapped_pfn): the toolstack maps
 * the special pages at the top of its reserved range for every guest. */
static uint64_t maximum_gpfn(const struct xen *x)
{
	uint64_t special_top = SPECIAL_PAGES_END / GUEST_PAGE_SIZE - 1;
	return x->vm->mem.max_gfn > special_top ? x->vm->mem.max_gfn : special_top;
}

static long reservation_query(struct hcall *hc, unsigned op, uint64_t start)
{
	struct xen *x = hc->xen;
	domid_t domid;
	long rc;

	if (start)
		return -XEN_EINVAL;
	if (copy_from_guest(hc, &domid, hc->arg[1], sizeof(domid)))
		return -XEN_EFAULT;
	if (!domid_is_self(domid))
		return domid_other_error(domid);
	pthread_mutex_lock(&x->lock);
	rc = (long)(op == XENMEM_current_reservation ? memory_tot_pages(x)
		    : op == XENMEM_maximum_reservation ? memory_max_pages(x)
						       : maximum_gpfn(x));
	pthread_mutex_unlock(&x->lock);
	return rc;
}

/* XENMEM_claim_pages is the toolstack's (XSM_PRIV); it takes a domain by
 * id only (DOMID_SELF is no domain there). */
static long claim_pages(struct hcall *hc, uint64_t start)
{
	struct reservation_head {
		uint64_t list;
		unsigned order, flags;
		domid_t domid;
	} r;

	if (start)
		return -XEN_EINVAL;
	if (hc->abi64) {
		struct xen_memory_reservation n;
		if (copy_from_guest(hc, &n, hc->arg[1], sizeof(n)))
			return -XEN_EFAULT;
		r = (struct reservation_head){ (uint64_t)(uintptr_t)n.extent_start.p,
					       n.extent_order, n.mem_flags, n.domid };
	} else {
		struct compat_memory_reservation c;
		if (copy_from_guest(hc, &c, hc->arg[1], sizeof(c)))
			return -XEN_EFAULT;
		r = (struct reservation_head){ c.extent_start, c.extent_order, c.mem_flags,
					       c.domid };
	}
	if (r.list || r.order || r.flags)
		return -XEN_EINVAL;
	return r.domid == XENKVM_DOMID || r.domid == 0 ? -XEN_EPERM : -XEN_EINVAL;
}

/* No virtual NUMA topology: Xen's answer for a domain without one. The
 * structure has one layout in both ABIs (its handles are 64-bit unions). */
static long get_vnumainfo(struct hcall *hc, uint64_t start)
{
	struct {
		domid_t domid;
		uint16_t nr_vnodes;
		uint32_t nr_vcpus, nr_vmemranges, pad;
	} t;

	if (start)
		return -XEN_EINVAL;
	if (copy_from_guest(hc, &t, hc->arg[1], sizeof(t)))
		return -XEN_EFAULT;
	if (t.pad)
		return -XEN_EINVAL;
	if (!domid_is_self(t.domid))
		return domid_other_error(t.domid);
	return -XEN_EOPNOTSUPP;
}

/* ---- mem-set ---- */

int xen_set_memory_target(struct xen *x, uint64_t kib)
{
	char path[64], value[32];
	uint64_t max_kib;

	pthread_mutex_lock(&x->lock);
	max_kib = memory_max_pages(x) * (GUEST_PAGE_SIZE / 1024);
	pthread_mutex_unlock(&x->lock);
	if (!x->xs)
		return ENOENT;
	if (kib == 0 || kib > max_kib)
		return EINVAL;
	snprintf(path, sizeof(path), "/local/domain/%u/memory/target", XENKVM_DOMID);
	snprintf(value, sizeof(value), "%" PRIu64, kib);
	return xs_write(x->xs, path, value);
}

long memory_op(struct hcall *hc)
{
	unsigned cmd = (unsigned)(hc->arg[0] & MEMOP_CMD_MASK);
	uint64_t start = hc->arg[0] >> MEMOP_EXTENT_SHIFT;

	switch (cmd) {
	case XENMEM_increase_reservation:
	case XENMEM_decrease_reservation:
	case XENMEM_populate_physmap:
		return memory_reservation_op(hc, cmd, start);
	case XENMEM_exchange:
		return memory_exchange_op(hc, start);
	case XENMEM_maximum_ram_page:
		return start ? -XEN_EINVAL : (long)xen_host_max_page();
	case XENMEM_current_reservation:
	case XENMEM_maximum_reservation:
	case XENMEM_maximum_gpfn:
		return reservation_query(hc, cmd, start);
	case XENMEM_add_to_physmap:
		return add_to_physmap(hc, start);
	case XENMEM_add_to_physmap_batch:
		return add_to_physmap_batch(hc, start);
	case XENMEM_remove_from_physmap:
		return remove_from_physmap(hc, start);
	case XENMEM_claim_pages:
		return claim_pages(hc, start);
	case XENMEM_get_vnumainfo:
		return get_vnumainfo(hc, start);
	case XENMEM_memory_map:
		return memory_map_get(hc);
	case XENMEM_set_memory_map:
		return memory_map_set(hc);
	case XENMEM_machine_memory_map:
	case XENMEM_machphys_mapping:
		return -XEN_ENOSYS; /* PV-only: Xen refuses them to HVM guests too */
	case XENMEM_get_sharing_freed_pages:
	case XENMEM_get_sharing_shared_pages:
	case XENMEM_sharing_op:
		/* Xen builds memory sharing only with CONFIG_MEM_SHARING (off by
		 * default, and in Debian's build): the sub-ops do not exist. */
		return -XEN_ENOSYS;
	default:
		return hcall_subop_enosys(hc, cmd);
	}
}
