/* grant_table_op for a PVH/HVM domU, with Xen's answers: the sub-ops an HVM
 * guest may use (Xen's hvm_grant_table_op; the rest are -ENOSYS), each
 * element's GNTST_* status in its own struct, 0 from the call once the ops
 * ran, and the 32-bit ABI's compat translation where layouts differ
 * (setup_table, copy). The table itself is in gnttab_backend.c. */
#include <stddef.h>
#include <string.h>

#include "gnttab_internal.h"
#include "xenkvm/compat32.h"
#include "xenkvm/guest_mem.h"
#include "xenkvm/hypercall.h"
#include "xenkvm/log.h"
#include "xenkvm/xen.h"

/* Both ABIs share these layouts (tests/abi checks the 32-bit side). */
_Static_assert(sizeof(struct gnttab_map_grant_ref) == 32, "map_grant_ref");
_Static_assert(sizeof(struct gnttab_unmap_grant_ref) == 24, "unmap_grant_ref");
_Static_assert(sizeof(struct gnttab_query_size) == 16, "query_size");
_Static_assert(sizeof(struct gnttab_swap_grant_ref) == 12, "swap_grant_ref");

/* Frames beyond this are not addressable by any guest we create. */
#define GT_MAX_GFN (1ULL << (46 - GUEST_PAGE_SHIFT))
/* Xen's compat layer translates copies in batches that fit its 8 KiB
 * argument area: a fault reading one element stops the whole batch. */
#define GT_COMPAT_COPY_BATCH (8192 / sizeof(struct gnttab_copy))

/* The domains a guest can name: itself, domain 0 (xenkvm, which exists
 * but grants nothing), or one that does not exist. */
enum gt_dom { GT_DOM_SELF, GT_DOM_ZERO, GT_DOM_NONE };

/* Xen's rcu_lock_domain_by_any_id (DOMID_SELF allowed) or _by_id. */
static enum gt_dom gt_domain(domid_t dom, int self_alias_ok)
{
	if (dom == XENKVM_DOMID || (self_alias_ok && dom == DOMID_SELF))
		return GT_DOM_SELF;
	return dom == GNTTAB_BACKEND_DOMID ? GT_DOM_ZERO : GT_DOM_NONE;
}

/* XSM_TARGET: a domU may only query or set up its own table. */
static int16_t gt_target_status(domid_t dom)
{
	switch (gt_domain(dom, 1)) {
	case GT_DOM_SELF:
		return GNTST_okay;
	case GT_DOM_ZERO:
		return GNTST_permission_denied;
	default:
		return GNTST_bad_domain;
	}
}

/* ---- query_size, get_version, set_version ---- */

static long gnttab_query_size(struct hcall *hc, struct gnttab *gt, uint64_t uop, uint32_t count)
{
	struct gnttab_query_size op;

	if (count != 1)
		return -XEN_EINVAL;
	if (copy_from_guest(hc, &op, uop, sizeof(op)))
		return -XEN_EFAULT;
	op.status = gt_target_status(op.dom);
	if (op.status == GNTST_okay) {
		pthread_mutex_lock(&gt->lock);
		op.nr_frames = gt->nr_frames;
		op.max_nr_frames = gt->max_frames;
		pthread_mutex_unlock(&gt->lock);
	}
	return copy_to_guest(hc, uop, &op, sizeof(op)) ? -XEN_EFAULT : 0;
}

static long gnttab_get_version(struct hcall *hc, struct gnttab *gt, uint64_t uop)
{
	struct gnttab_get_version op;

	if (copy_from_guest(hc, &op, uop, sizeof(op)))
		return -XEN_EFAULT;
	switch (gt_domain(op.dom, 1)) {
	case GT_DOM_NONE:
		return -XEN_ESRCH;
	case GT_DOM_ZERO:
		return -XEN_EPERM;
	case GT_DOM_SELF:
		break;
	}
	op.version = gnttab_version(gt);
	return copy_to_guest(hc, uop + offsetof(struct gnttab_get_version, version), &op.version,
			     sizeof(op.version))
		       ? -XEN_EFAULT
		       : 0;
}

/* Xen keeps the toolstack's first entries across a switch, as v1 entries
 * with the status bits folded into the flags. */
static int gt_save_reserved(struct gnttab *gt, grant_entry_v1_t *saved)
{
	for (grant_ref_t i = 0; i < GNTTAB_NR_RESERVED_ENTRIES; i++) {
		const grant_entry_v2_t *e2;
		uint16_t type;

		if (gt->version == 1) {
			saved[i] = *(grant_entry_v1_t *)gt_entry(gt, i);
			continue;
		}
		e2 = gt_entry(gt, i);
		type = e2->hdr.flags & GTF_type_mask;
		if ((type == GTF_permit_access && (e2->full_page.frame >> 32)) ||
		    type == GTF_transitive)
			return -XEN_ERANGE;
		saved[i] = (grant_entry_v1_t){ 0 };
		if (type == GTF_permit_access)
			saved[i] = (grant_entry_v1_t){ .flags = e2->hdr.flags | *gt_status_word(gt, i),
						       .domid = e2->hdr.domid,
						       .frame = (uint32_t)e2->full_page.frame };
	}
	return 0;
}

static void gt_restore_reserved(struct gnttab *gt, const grant_entry_v1_t *saved)
{
	const uint16_t busy = GTF_reading | GTF_writing;

	for (grant_ref_t i = 0; i < GNTTAB_NR_RESERVED_ENTRIES; i++) {
		grant_entry_v2_t *e2;

		if (gt->version == 1) {
			*(grant_entry_v1_t *)gt_entry(gt, i) = saved[i];
			continue;
		}
		e2 = gt_entry(gt, i);
		*gt_status_word(gt, i) = saved[i].flags & busy;
		e2->hdr.flags = saved[i].flags & (uint16_t)~busy;
		e2->hdr.domid = saved[i].domid;
		e2->full_page.frame = saved[i].frame;
	}
}

/* Going back to v1 takes the status frames out of the guest's p2m. */
static void gt_unpopulate_status(struct gnttab *gt)
{
	for (unsigned i = 0; i < gt->nr_status; i++) {
		if (gt->status[i].gfn != GT_NO_GFN)
			gmem_unmap_page(gt->mem, gt->status[i].gfn);
		gt->status[i].gfn = GT_NO_GFN;
	}
	gt->nr_status = 0;
}

static long gt_switch_version(struct gnttab *gt, unsigned want)
{
	grant_entry_v1_t saved[GNTTAB_NR_RESERVED_ENTRIES];
	long rc;

	/* Only the reserved entries may be in use (their backends keep them mapped). */
	for (grant_ref_t i = GNTTAB_NR_RESERVED_ENTRIES; i < gt_nr_entries(gt); i++)
		if (gt->active[i].pin)
			return -XEN_EBUSY;
	rc = gt_save_reserved(gt, saved);
	if (rc)
		return rc;
	if (want == 1) {
		gt_unpopulate_status(gt);
	} else {
		gt->version = 2;
		if (gt_grow(gt, gt->nr_frames) < 0) {
			gt->version = 1;
			return -XEN_ENOMEM;
		}
	}
	gt->version = want;
	for (unsigned i = 0; i < gt->nr_frames; i++)
		memset(gt->shared[i].hva, 0, GT_PAGE);
	gt_restore_reserved(gt, saved);
	return 0;
}

static long gnttab_set_version(struct hcall *hc, struct gnttab *gt, uint64_t uop)
{
	struct gnttab_set_version op;
	long rc = 0;

	if (copy_from_guest(hc, &op, uop, sizeof(op)))
		return -XEN_EFAULT;
	pthread_mutex_lock(&gt->lock);
	if (op.version != 1 && op.version != 2)
		rc = -XEN_EINVAL;
	else if (op.version != gt->version)
		rc = gt_switch_version(gt, op.version);
	/* Every outcome reports the version in force. */
	op.version = gt->version;
	pthread_mutex_unlock(&gt->lock);
	return copy_to_guest(hc, uop, &op, sizeof(op)) ? -XEN_EFAULT : rc;
}

/* ---- setup_table ---- */

struct gt_setup {
	domid_t dom;
	uint32_t nr_frames;
	int16_t status;
	uint64_t frame_list;
};

static int gt_read_setup(struct hcall *hc, uint64_t uop, struct gt_setup *s)
{
	if (hc->abi64) {
		struct gnttab_setup_table op;
		if (copy_from_guest(hc, &op, uop, sizeof(op)))
			return -XEN_EFAULT;
		*s = (struct gt_setup){ op.dom, op.nr_frames, op.status,
					(uint64_t)(uintptr_t)op.frame_list.p };
	} else {
		struct compat_gnttab_setup_table op;
		if (copy_from_guest(hc, &op, uop, sizeof(op)))
			return -XEN_EFAULT;
		*s = (struct gt_setup){ op.dom, op.nr_frames, op.status, op.frame_list };
	}
	return 0;
}

/* A translated guest learns where each frame is in its own p2m; a frame it
 * has not placed with add_to_physmap has no GFN (Xen's INVALID_M2P_ENTRY). */
static int16_t gt_report_frames(struct hcall *hc, struct gnttab *gt, const struct gt_setup *s)
{
	int16_t status = GNTST_okay;

	for (uint32_t i = 0; i < s->nr_frames; i++) {
		uint64_t gfn = gt->shared[i].gfn;
		uint32_t gfn32 = (uint32_t)gfn;
		int bad = hc->abi64 ? copy_to_guest(hc, s->frame_list + i * 8ULL, &gfn, 8)
				    : copy_to_guest(hc, s->frame_list + i * 4ULL, &gfn32, 4);

		/* The compat layer drops its copy-out errors; native reports them. */
		if (bad && hc->abi64)
			status = GNTST_bad_virt_addr;
	}
	return status;
}

static int16_t gt_setup_status(struct hcall *hc, struct gnttab *gt, const struct gt_setup *s)
{
	int16_t status = gt_target_status(s->dom);

	if (status != GNTST_okay)
		return status;
	pthread_mutex_lock(&gt->lock);
	if (s->nr_frames > gt->max_frames ||
	    (s->nr_frames > gt->nr_frames && gt_grow(gt, s->nr_frames) < 0))
		status = GNTST_general_error;
	else
		status = gt_report_frames(hc, gt, s);
	pthread_mutex_unlock(&gt->lock);
	return status;
}

static long gnttab_setup_table(struct hcall *hc, struct gnttab *gt, uint64_t uop, uint32_t count)
{
	struct gt_setup s;

	/* The compat path loops over count, so 0 does nothing and succeeds. */
	if (!hc->abi64 && count == 0)
		return 0;
	if (count != 1)
		return -XEN_EINVAL;
	if (gt_read_setup(hc, uop, &s))
		return -XEN_EFAULT;
	s.status = gt_setup_status(hc, gt, &s);
	if (hc->abi64)
		return copy_to_guest(hc, uop + offsetof(struct gnttab_setup_table, status), &s.status,
				     sizeof(s.status))
			       ? -XEN_EFAULT
			       : 0;
	struct compat_gnttab_setup_table out = { s.dom, s.nr_frames, s.status,
						 (uint32_t)s.frame_list };
	return copy_to_guest(hc, uop, &out, sizeof(out)) ? -XEN_EFAULT : 0;
}

/* ---- copy ---- */

struct gt_copy_ptr {
	uint64_t ref_or_gfn;
	domid_t domid;
	uint16_t offset;
};

struct gt_copy {
	struct gt_copy_ptr src, dst;
	uint16_t len, flags;
};

/* A claimed side of a copy: the page and the part of it we may touch. */
struct gt_copy_buf {
	uint8_t *page;
	unsigned start, length;
	int pinned;
	grant_ref_t ref;
};

/* Only DOMID_SELF may name a frame; a gref needs a domain that exists. */
static int gt_copy_domain(const struct gt_copy_ptr *p, int is_gref)
{
	if (p->domid != DOMID_SELF && !is_gref)
		return GNTST_permission_denied;
	return gt_domain(p->domid, 1) == GT_DOM_NONE ? GNTST_bad_domain : GNTST_okay;
}

static int gt_copy_claim(struct gnttab *gt, const struct gt_copy_ptr *p, int is_gref,
			 int readonly, struct gt_copy_buf *b)
{
	*b = (struct gt_copy_buf){ .start = 0, .length = GT_PAGE };
	if (!is_gref) {
		b->page = gt_frame_ptr(gt, p->ref_or_gfn);
		return b->page ? GNTST_okay : GNTST_bad_page;
	}
	if (gt_domain(p->domid, 1) == GT_DOM_ZERO)
		return gt_dom0_ref_status((grant_ref_t)p->ref_or_gfn);
	b->ref = (grant_ref_t)p->ref_or_gfn;
	int rc = gt_acquire(gt, b->ref, XENKVM_DOMID, readonly, 0);
	if (rc != GNTST_okay)
		return rc;
	b->pinned = 1;
	b->page = gt_frame_ptr(gt, gt->active[b->ref].gfn);
	b->start = gt->active[b->ref].start;
	b->length = gt->active[b->ref].length;
	/* An entry pinned earlier keeps the frame it resolved to, which may
	 * have left the guest's memory since (a frame moved, RAM given back). */
	return b->page ? GNTST_okay : GNTST_bad_page;
}

static void gt_copy_release(struct gnttab *gt, struct gt_copy_buf *b, int readonly)
{
	if (b->pinned)
		gt_release(gt, b->ref, readonly);
	b->pinned = 0;
}

static int gt_copy_in_bounds(const struct gt_copy *op, const struct gt_copy_buf *src,
			     const struct gt_copy_buf *dst)
{
	return op->src.offset >= src->start &&
	       op->src.offset + op->len <= src->start + src->length &&
	       op->dst.offset >= dst->start && op->dst.offset + op->len <= dst->start + dst->length;
}

/* Xen's order: domains, then source, then destination, then the ranges. */
static int gt_copy_claimed(const struct gt_copy *op, struct gt_copy_buf *src,
			   struct gt_copy_buf *dst)
{
	if (op->src.offset + op->len > GT_PAGE || op->dst.offset + op->len > GT_PAGE)
		return GNTST_bad_copy_arg;
	if (!gt_copy_in_bounds(op, src, dst))
		return GNTST_general_error;
	memmove(dst->page + op->dst.offset, src->page + op->src.offset, op->len);
	return GNTST_okay;
}

static int16_t gt_copy_one(struct gnttab *gt, const struct gt_copy *op)
{
	int src_gref = !!(op->flags & GNTCOPY_source_gref);
	int dst_gref = !!(op->flags & GNTCOPY_dest_gref);
	struct gt_copy_buf src, dst;
	int rc = gt_copy_domain(&op->src, src_gref);

	if (rc == GNTST_okay)
		rc = gt_copy_domain(&op->dst, dst_gref);
	if (rc != GNTST_okay)
		return (int16_t)rc;
	pthread_mutex_lock(&gt->lock);
	rc = gt_copy_claim(gt, &op->src, src_gref, 1, &src);
	if (rc == GNTST_okay) {
		rc = gt_copy_claim(gt, &op->dst, dst_gref, 0, &dst);
		if (rc == GNTST_okay)
			rc = gt_copy_claimed(op, &src, &dst);
		gt_copy_release(gt, &dst, 0);
	}
	gt_copy_release(gt, &src, 1);
	pthread_mutex_unlock(&gt->lock);
	return (int16_t)rc;
}

static int gt_read_copy(struct hcall *hc, uint64_t gva, struct gt_copy *c)
{
	if (hc->abi64) {
		struct gnttab_copy op;
		if (copy_from_guest(hc, &op, gva, sizeof(op)))
			return -XEN_EFAULT;
		*c = (struct gt_copy){ { op.source.u.gmfn, op.source.domid, op.source.offset },
				       { op.dest.u.gmfn, op.dest.domid, op.dest.offset },
				       op.len, op.flags };
	} else {
		struct compat_gnttab_copy op;
		if (copy_from_guest(hc, &op, gva, sizeof(op)))
			return -XEN_EFAULT;
		*c = (struct gt_copy){ { op.source.u.gmfn, op.source.domid, op.source.offset },
				       { op.dest.u.gmfn, op.dest.domid, op.dest.offset },
				       op.len, op.flags };
	}
	/* A grant reference is 32 bits wide in the union. */
	if (c->flags & GNTCOPY_source_gref)
		c->src.ref_or_gfn &= 0xffffffffULL;
	if (c->flags & GNTCOPY_dest_gref)
		c->dst.ref_or_gfn &= 0xffffffffULL;
	return 0;
}

static size_t gt_copy_size(const struct hcall *hc)
{
	return hc->abi64 ? sizeof(struct gnttab_copy) : sizeof(struct compat_gnttab_copy);
}

static int gt_write_copy_status(struct hcall *hc, uint64_t gva, int16_t status)
{
	size_t off = hc->abi64 ? offsetof(struct gnttab_copy, status)
			       : offsetof(struct compat_gnttab_copy, status);
	return copy_to_guest(hc, gva + off, &status, sizeof(status));
}

/* Preempt a batch after `done` of `count` elements of `size` bytes: the
 * guest re-issues it for the rest, uop advanced and count reduced, as
 * Xen's grant-table continuations do. `units` is the work just done. */
static int gt_preempt(struct hcall *hc, uint32_t done, uint32_t count, size_t size,
		      unsigned units)
{
	uint64_t args[3] = { hc->arg[0], hc->arg[1] + (uint64_t)done * size, count - done };

	if (done >= count || !hcall_preempt_check(hc, units))
		return 0;
	hcall_continue(hc, 3, args);
	return 1;
}

/* Native: each element is read, done and its status written in turn. */
static long gnttab_copy_native(struct hcall *hc, struct gnttab *gt, uint64_t uop, uint32_t count)
{
	for (uint32_t i = 0; i < count; i++) {
		uint64_t gva = uop + (uint64_t)i * gt_copy_size(hc);
		struct gt_copy c;

		if (gt_read_copy(hc, gva, &c))
			return -XEN_EFAULT;
		if (gt_write_copy_status(hc, gva, gt_copy_one(gt, &c)))
			return -XEN_EFAULT;
		if (gt_preempt(hc, i + 1, count, gt_copy_size(hc), 1))
			return (long)hc->nr;
	}
	return 0;
}

/* Compat: a batch is read whole before any of it runs. */
static long gnttab_copy_compat(struct hcall *hc, struct gnttab *gt, uint64_t uop, uint32_t count)
{
	static __thread struct gt_copy batch[GT_COMPAT_COPY_BATCH];
	long rc = 0;

	for (uint32_t i = 0; i < count && rc == 0;) {
		uint32_t n = 0, first = i;

		for (; n < GT_COMPAT_COPY_BATCH && i < count; n++, i++)
			if (gt_read_copy(hc, uop + (uint64_t)i * gt_copy_size(hc), &batch[n]))
				return -XEN_EFAULT;
		for (uint32_t k = 0; k < n; k++) {
			uint64_t gva = uop + (uint64_t)(first + k) * gt_copy_size(hc);
			if (gt_write_copy_status(hc, gva, gt_copy_one(gt, &batch[k])))
				rc = -XEN_EFAULT;
		}
		if (rc == 0 && gt_preempt(hc, i, count, gt_copy_size(hc), n))
			return (long)hc->nr;
	}
	return rc;
}

/* ---- map_grant_ref / unmap_grant_ref issued by the guest ---- */

/* Where guest_mem keeps a guest frame, so another gfn can show it. */
static int gt_frame_memfd_off(struct guest_mem *m, uint64_t gfn, uint64_t *off)
{
	uint64_t gpa = gfn << GUEST_PAGE_SHIFT;

	for (int i = 0; i < m->nregions; i++) {
		const struct gmem_region *r = &m->regions[i];
		if (r->size && gpa >= r->gpa && gpa - r->gpa < r->size) {
			*off = r->memfd_off + (gpa - r->gpa);
			return 0;
		}
	}
	return -1;
}

static int gt_free_handle(struct gnttab *gt)
{
	for (int h = 0; h < GT_MAPTRACK_MAX; h++)
		if (!gt->maptrack[h].flags)
			return h;
	return -1;
}

/* An HVM guest's host mapping puts the granted frame at gfn host_addr >> 12. */
static int16_t gt_map_self(struct gnttab *gt, struct gnttab_map_grant_ref *op, int h)
{
	int ro = !!(op->flags & GNTMAP_readonly);
	uint64_t host_gfn = op->host_addr >> GUEST_PAGE_SHIFT, off;
	int rc = gt_acquire(gt, op->ref, XENKVM_DOMID, ro, 1);

	if (rc != GNTST_okay)
		return (int16_t)rc;
	if (host_gfn >= GT_MAX_GFN || gt_frame_memfd_off(gt->mem, gt->active[op->ref].gfn, &off) ||
	    gmem_map_page(gt->mem, host_gfn, off) < 0) {
		gt_release(gt, op->ref, ro);
		return GNTST_general_error;
	}
	gt->maptrack[h] = (struct gt_maptrack){ .ref = op->ref, .flags = op->flags,
						.gfn = host_gfn };
	op->handle = (grant_handle_t)h;
	op->dev_bus_addr = gt->active[op->ref].gfn << GUEST_PAGE_SHIFT;
	return GNTST_okay;
}

/* Xen's map_grant_ref checks, in its order, for a paging_mode_external guest. */
static int16_t gt_map_one(struct gnttab *gt, struct gnttab_map_grant_ref *op)
{
	enum gt_dom dom = gt_domain(op->dom, 0);
	int16_t rc;
	int h;

	if (!(op->flags & (GNTMAP_device_map | GNTMAP_host_map)))
		return GNTST_bad_gntref;
	if (op->flags & (GNTMAP_device_map | GNTMAP_application_map | GNTMAP_contains_pte))
		return GNTST_general_error;
	if (dom == GT_DOM_NONE)
		return GNTST_bad_domain;
	pthread_mutex_lock(&gt->lock);
	h = gt_free_handle(gt);
	if (h < 0)
		rc = GNTST_no_device_space;
	else if (dom == GT_DOM_ZERO)
		rc = (int16_t)gt_dom0_ref_status(op->ref);
	else
		rc = gt_map_self(gt, op, h);
	pthread_mutex_unlock(&gt->lock);
	return rc;
}

static long gnttab_map_grant_ref(struct hcall *hc, struct gnttab *gt, uint64_t uop,
				 uint32_t count)
{
	for (uint32_t i = 0; i < count; i++) {
		uint64_t gva = uop + (uint64_t)i * sizeof(struct gnttab_map_grant_ref);
		struct gnttab_map_grant_ref op;

		if (copy_from_guest(hc, &op, gva, sizeof(op)))
			return -XEN_EFAULT;
		op.status = gt_map_one(gt, &op);
		if (copy_to_guest(hc, gva, &op, sizeof(op)))
			return -XEN_EFAULT;
		if (gt_preempt(hc, i + 1, count, sizeof(op), 1))
			return (long)hc->nr;
	}
	return 0;
}

/* Xen's unmap_common + unmap_common_complete for a host mapping. */
static int16_t gt_unmap_one(struct gnttab *gt, const struct gnttab_unmap_grant_ref *op)
{
	struct gt_maptrack *m;
	int ro;

	if (op->handle >= GT_MAPTRACK_MAX || !gt->maptrack[op->handle].flags)
		return GNTST_bad_handle;
	m = &gt->maptrack[op->handle];
	ro = !!(m->flags & GNTMAP_readonly);
	if (op->dev_bus_addr && op->dev_bus_addr != gt->active[m->ref].gfn << GUEST_PAGE_SHIFT)
		return GNTST_general_error;
	if (!op->host_addr || !(m->flags & GNTMAP_host_map))
		return GNTST_okay;
	/* The p2m entry at host_addr must be this very grant mapping. */
	if (op->host_addr >> GUEST_PAGE_SHIFT != m->gfn)
		return GNTST_general_error;
	gmem_unmap_page(gt->mem, m->gfn);
	gt_release(gt, m->ref, ro);
	*m = (struct gt_maptrack){ 0 };
	return GNTST_okay;
}

static long gnttab_unmap_grant_ref(struct hcall *hc, struct gnttab *gt, uint64_t uop,
				   uint32_t count)
{
	for (uint32_t i = 0; i < count; i++) {
		uint64_t gva = uop + (uint64_t)i * sizeof(struct gnttab_unmap_grant_ref);
		struct gnttab_unmap_grant_ref op;

		if (copy_from_guest(hc, &op, gva, sizeof(op)))
			return -XEN_EFAULT;
		pthread_mutex_lock(&gt->lock);
		op.status = gt_unmap_one(gt, &op);
		pthread_mutex_unlock(&gt->lock);
		if (copy_to_guest(hc, gva + offsetof(struct gnttab_unmap_grant_ref, status),
				  &op.status, sizeof(op.status)))
			return -XEN_EFAULT;
		if (gt_preempt(hc, i + 1, count, sizeof(op), 1))
			return (long)hc->nr;
	}
	return 0;
}

/* ---- swap_grant_ref ---- */

static int16_t gt_swap_one(struct gnttab *gt, grant_ref_t a, grant_ref_t b)
{
	size_t size = gt->version == 1 ? sizeof(grant_entry_v1_t) : sizeof(grant_entry_v2_t);
	uint8_t tmp[sizeof(grant_entry_v2_t)];

	if (a >= gt_nr_entries(gt) || b >= gt_nr_entries(gt))
		return GNTST_bad_gntref;
	if (a == b)
		return GNTST_okay;
	if (gt->active[a].pin || gt->active[b].pin)
		return GNTST_eagain;
	memcpy(tmp, gt_entry(gt, a), size);
	memcpy(gt_entry(gt, a), gt_entry(gt, b), size);
	memcpy(gt_entry(gt, b), tmp, size);
	if (gt->version == 2) {
		uint16_t s = *gt_status_word(gt, a);
		*gt_status_word(gt, a) = *gt_status_word(gt, b);
		*gt_status_word(gt, b) = s;
	}
	return GNTST_okay;
}

static long gnttab_swap_grant_ref(struct hcall *hc, struct gnttab *gt, uint64_t uop,
				  uint32_t count)
{
	for (uint32_t i = 0; i < count; i++) {
		uint64_t gva = uop + (uint64_t)i * sizeof(struct gnttab_swap_grant_ref);
		struct gnttab_swap_grant_ref op;

		if (copy_from_guest(hc, &op, gva, sizeof(op)))
			return -XEN_EFAULT;
		pthread_mutex_lock(&gt->lock);
		op.status = gt_swap_one(gt, op.ref_a, op.ref_b);
		pthread_mutex_unlock(&gt->lock);
		if (copy_to_guest(hc, gva + offsetof(struct gnttab_swap_grant_ref, status),
				  &op.status, sizeof(op.status)))
			return -XEN_EFAULT;
		if (gt_preempt(hc, i + 1, count, sizeof(op), 1))
			return (long)hc->nr;
	}
	return 0;
}

/* ---- the entry point ---- */

/* Xen's hvm_grant_table_op: the sub-ops an HVM guest may use, matched on the
 * whole cmd (continuation bits included); the rest are -ENOSYS. */
static int gt_hvm_allowed(uint32_t cmd)
{
	switch (cmd) {
	case GNTTABOP_query_size:
	case GNTTABOP_setup_table:
	case GNTTABOP_set_version:
	case GNTTABOP_get_version:
	case GNTTABOP_copy:
	case GNTTABOP_map_grant_ref:
	case GNTTABOP_unmap_grant_ref:
	case GNTTABOP_swap_grant_ref:
		return 1;
	default:
		return 0;
	}
}

long grant_table_op(struct hcall *hc)
{
	struct gnttab *gt = hc->xen->gnttab;
	/* cmd and count are unsigned int in Xen's handler, in both ABIs. */
	uint32_t cmd = (uint32_t)hc->arg[0], count = (uint32_t)hc->arg[2];
	uint64_t uop = hc->arg[1];

	if (!gt) {
		log_once("grant_table_op: this VM has no grant table: -ENOSYS");
		return -XEN_ENOSYS;
	}
	if (!gt_hvm_allowed(cmd)) {
		log_debug("grant_table_op cmd %u is not available to HVM guests: -ENOSYS", cmd);
		return -XEN_ENOSYS;
	}
	if ((int32_t)count < 0)
		return -XEN_EINVAL;
	switch (cmd) {
	case GNTTABOP_query_size:
		return gnttab_query_size(hc, gt, uop, count);
	case GNTTABOP_setup_table:
		return gnttab_setup_table(hc, gt, uop, count);
	case GNTTABOP_set_version:
		return gnttab_set_version(hc, gt, uop);
	case GNTTABOP_get_version:
		return gnttab_get_version(hc, gt, uop);
	case GNTTABOP_copy:
		return hc->abi64 ? gnttab_copy_native(hc, gt, uop, count)
				 : gnttab_copy_compat(hc, gt, uop, count);
	case GNTTABOP_map_grant_ref:
		return gnttab_map_grant_ref(hc, gt, uop, count);
	case GNTTABOP_unmap_grant_ref:
		return gnttab_unmap_grant_ref(hc, gt, uop, count);
	default:
		return gnttab_swap_grant_ref(hc, gt, uop, count);
	}
}
