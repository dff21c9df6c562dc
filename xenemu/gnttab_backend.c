/* The grant table itself: frames that grow on demand, Xen's pin protocol on
 * the entries the guest shares with us, and the API xenkvm's backends use
 * to reach granted pages. The hypercall family is in gnttab.c. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <xen/errno.h>
#include <xen/memory.h>

#include "gnttab_internal.h"
#include "xenkvm/guest_mem.h"

/* Xen retries a cmpxchg on a guest-shared word this often before it
 * decides the guest is racing it on purpose. */
#define GT_CMPXCHG_RETRIES 5

/* ---- the table ---- */

unsigned gt_nr_entries(const struct gnttab *gt)
{
	return gt->nr_frames * (unsigned)(gt->version == 1 ? GT_V1_PER_FRAME : GT_V2_PER_FRAME);
}

unsigned gt_status_frames_for(unsigned grant_frames)
{
	return (unsigned)((grant_frames * GT_V2_PER_FRAME + GT_STATUS_PER_FRAME - 1) /
			  GT_STATUS_PER_FRAME);
}

static int gt_alloc_frame(struct gnttab *gt, struct gt_frame *f)
{
	int rc = gmem_alloc_page(gt->mem, &f->memfd_off, &f->hva);

	f->gfn = GT_NO_GFN;
	return rc;
}

/* Status frames survive a switch back to v1 (the memfd cannot give pages
 * back) but come back zeroed, as Xen's freshly allocated ones do. */
static int gt_populate_status(struct gnttab *gt, unsigned grant_frames)
{
	unsigned want = gt_status_frames_for(grant_frames);

	for (unsigned i = gt->nr_status; i < want; i++) {
		if (i >= gt->status_allocated) {
			if (gt_alloc_frame(gt, &gt->status[i]) < 0)
				return -ENOMEM;
			gt->status_allocated = i + 1;
		} else {
			memset(gt->status[i].hva, 0, GT_PAGE);
		}
	}
	if (want > gt->nr_status)
		gt->nr_status = want;
	return 0;
}

/* Xen's gnttab_grow_table: new frames are zeroed; v2 grows its status too. */
int gt_grow(struct gnttab *gt, unsigned nr_frames)
{
	if (nr_frames > gt->max_frames)
		return -EINVAL;
	for (unsigned i = gt->nr_frames; i < nr_frames; i++) {
		if (gt_alloc_frame(gt, &gt->shared[i]) < 0)
			return -ENOMEM;
		gt->nr_frames = i + 1;
	}
	return gt->version == 2 ? gt_populate_status(gt, gt->nr_frames) : 0;
}

void *gt_entry(struct gnttab *gt, grant_ref_t ref)
{
	size_t size = gt->version == 1 ? sizeof(grant_entry_v1_t) : sizeof(grant_entry_v2_t);
	size_t per = GT_PAGE / size;

	return gt->shared[ref / per].hva + (ref % per) * size;
}

uint32_t *gt_header(struct gnttab *gt, grant_ref_t ref)
{
	return gt_entry(gt, ref);
}

uint16_t *gt_status_word(struct gnttab *gt, grant_ref_t ref)
{
	if (gt->version == 1)
		return gt_entry(gt, ref);
	return (uint16_t *)gt->status[ref / GT_STATUS_PER_FRAME].hva + ref % GT_STATUS_PER_FRAME;
}

/* The frame an entry grants: v1 .frame, v2 .full_page/.sub_page.frame
 * (the same offset in both). */
static uint64_t gt_entry_gfn(struct gnttab *gt, grant_ref_t ref)
{
	if (gt->version == 1)
		return __atomic_load_n(&((grant_entry_v1_t *)gt_entry(gt, ref))->frame,
				       __ATOMIC_ACQUIRE);
	return __atomic_load_n(&((grant_entry_v2_t *)gt_entry(gt, ref))->full_page.frame,
			       __ATOMIC_ACQUIRE);
}

uint8_t *gt_frame_ptr(struct gnttab *gt, uint64_t gfn)
{
	if (gfn >> (64 - GUEST_PAGE_SHIFT))
		return NULL;
	return gmem_ptr(gt->mem, gfn << GUEST_PAGE_SHIFT, GT_PAGE);
}

int gt_dom0_ref_status(grant_ref_t ref)
{
	return ref < GNTTAB_INITIAL_FRAMES * GT_V1_PER_FRAME ? GNTST_general_error
							    : GNTST_bad_gntref;
}

/* ---- Xen's pin protocol ---- */

static uint16_t combo_flags(uint32_t raw)
{
	return (uint16_t)raw;
}

static domid_t combo_domid(uint32_t raw)
{
	return (domid_t)(raw >> 16);
}

static int gt_entry_usable(uint32_t raw, uint16_t mask, domid_t ldom, int v2)
{
	uint16_t type = combo_flags(raw) & mask;

	if (combo_domid(raw) != ldom)
		return 0;
	return type == GTF_permit_access || (v2 && type == GTF_transitive);
}

/* v1: flags and domid are checked and GTF_reading/writing set in one
 * cmpxchg on the 32-bit word, so the guest cannot revoke in between. */
static int gt_set_status_v1(struct gnttab *gt, grant_ref_t ref, struct gt_active *act,
			    int readonly, uint16_t mask, domid_t ldom)
{
	uint32_t *word = gt_header(gt, ref);
	uint32_t seen = __atomic_load_n(word, __ATOMIC_ACQUIRE);

	for (int tries = 0;; tries++) {
		uint32_t want = seen | GTF_reading | (readonly ? 0 : GTF_writing);

		if (!act->pin && !gt_entry_usable(seen, mask, ldom, 0))
			return GNTST_general_error;
		if (!readonly && (combo_flags(seen) & GTF_readonly))
			return GNTST_general_error;
		if (__atomic_compare_exchange_n(word, &seen, want, 0, __ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE))
			return GNTST_okay;
		if (tries + 1 == GT_CMPXCHG_RETRIES)
			return GNTST_general_error;
	}
}

/* v2: the status word is separate, so set it first, then re-check the
 * entry: a guest revoking concurrently sees our bits or we see its change. */
static int gt_set_status_v2(struct gnttab *gt, grant_ref_t ref, struct gt_active *act,
			    int readonly, uint16_t mask, domid_t ldom)
{
	uint32_t *word = gt_header(gt, ref);
	uint16_t *status = gt_status_word(gt, ref);
	uint32_t seen = __atomic_load_n(word, __ATOMIC_ACQUIRE);

	if (!act->pin && !gt_entry_usable(seen, mask, ldom, 1))
		return GNTST_general_error;
	if (!readonly && (combo_flags(seen) & GTF_readonly))
		return GNTST_general_error;
	__atomic_fetch_or(status, GTF_reading | (readonly ? 0 : GTF_writing), __ATOMIC_SEQ_CST);
	seen = __atomic_load_n(word, __ATOMIC_SEQ_CST);
	if (!act->pin && (!gt_entry_usable(seen, mask, ldom, 1) ||
			  (!readonly && (combo_flags(seen) & GTF_readonly)))) {
		__atomic_fetch_and(status, (uint16_t)~(GTF_reading | GTF_writing), __ATOMIC_SEQ_CST);
		return GNTST_general_error;
	}
	if (act->pin && (combo_flags(seen) & GTF_readonly)) {
		__atomic_fetch_and(status, (uint16_t)~GTF_writing, __ATOMIC_SEQ_CST);
		return GNTST_general_error;
	}
	return GNTST_okay;
}

static void gt_clear_flags(struct gnttab *gt, grant_ref_t ref, uint16_t mask)
{
	if (mask)
		__atomic_fetch_and(gt_status_word(gt, ref), (uint16_t)~mask, __ATOMIC_SEQ_CST);
}

/* After a failed pin: drop what the pin count no longer justifies. */
static void gt_unset_status(struct gnttab *gt, grant_ref_t ref, int readonly)
{
	struct gt_active *act = &gt->active[ref];
	uint16_t clear = 0;

	if (!readonly && !(act->pin & GT_PIN_W_MASK))
		clear |= GTF_writing;
	if (!act->pin)
		clear |= GTF_reading;
	gt_clear_flags(gt, ref, clear);
}

/* Record what a first pin resolved to; v2 sub-page grants limit the range. */
static void gt_activate(struct gnttab *gt, grant_ref_t ref, domid_t ldom, uint64_t gfn)
{
	struct gt_active *act = &gt->active[ref];
	const grant_entry_v2_t *e2 = gt->version == 2 ? gt_entry(gt, ref) : NULL;
	uint16_t flags = combo_flags(*gt_header(gt, ref));

	act->domid = ldom;
	act->gfn = gfn;
	act->is_sub_page = e2 && (flags & GTF_sub_page);
	act->start = act->is_sub_page ? e2->sub_page.page_off : 0;
	act->length = act->is_sub_page ? e2->sub_page.length : GT_PAGE;
}

/* A transitive grant names a grant of another domain. The only other
 * domain here is domain 0, whose table grants nothing; naming ourselves
 * is refused by Xen as self-referential. */
static int gt_transitive_status(struct gnttab *gt, grant_ref_t ref)
{
	const grant_entry_v2_t *e2 = gt_entry(gt, ref);
	domid_t trans_domid = __atomic_load_n(&e2->transitive.trans_domid, __ATOMIC_ACQUIRE);

	if (trans_domid == GNTTAB_BACKEND_DOMID)
		return gt_dom0_ref_status(e2->transitive.gref);
	return GNTST_general_error;
}

static int gt_pin_first(struct gnttab *gt, grant_ref_t ref, domid_t ldom, int readonly,
			int mapping)
{
	uint16_t mask = GTF_type_mask | (mapping ? GTF_sub_page : 0);
	struct gt_active *act = &gt->active[ref];
	int rc = gt->version == 1 ? gt_set_status_v1(gt, ref, act, readonly, mask, ldom)
				  : gt_set_status_v2(gt, ref, act, readonly, mask, ldom);
	uint16_t type = combo_flags(*gt_header(gt, ref)) & GTF_type_mask;
	uint64_t gfn;

	if (rc != GNTST_okay)
		return rc;
	if (!mapping && gt->version == 2 && type == GTF_transitive) {
		rc = gt_transitive_status(gt, ref);
		gt_unset_status(gt, ref, readonly);
		return rc;
	}
	if (act->pin)
		return GNTST_okay;
	gfn = gt_entry_gfn(gt, ref);
	if (!gt_frame_ptr(gt, gfn)) {
		gt_unset_status(gt, ref, readonly);
		return GNTST_bad_page;
	}
	gt_activate(gt, ref, ldom, gfn);
	return GNTST_okay;
}

int gt_acquire(struct gnttab *gt, grant_ref_t ref, domid_t ldom, int readonly, int mapping)
{
	struct gt_active *act;
	int rc;

	if (ref >= gt_nr_entries(gt))
		return GNTST_bad_gntref;
	act = &gt->active[ref];
	if (act->pin && (act->domid != ldom || (act->pin & GT_PIN_OVERFLOW) ||
			 (mapping && act->is_sub_page)))
		return GNTST_general_error;
	if (!act->pin || (!readonly && !(act->pin & GT_PIN_W_MASK))) {
		rc = gt_pin_first(gt, ref, ldom, readonly, mapping);
		if (rc != GNTST_okay)
			return rc;
	}
	act->pin += readonly ? GT_PIN_R : GT_PIN_W;
	return GNTST_okay;
}

void gt_release(struct gnttab *gt, grant_ref_t ref, int readonly)
{
	gt->active[ref].pin -= readonly ? GT_PIN_R : GT_PIN_W;
	gt_unset_status(gt, ref, readonly);
}

/* ---- creation ---- */

/* What the toolstack's xc_dom_gnttab_seed writes: the console and XenStore
 * rings granted to the domain that serves them. */
static void gt_seed(struct gnttab *gt, uint64_t console_gfn, uint64_t xenstore_gfn)
{
	grant_entry_v1_t *e = (grant_entry_v1_t *)gt->shared[0].hva;

	e[GNTTAB_RESERVED_CONSOLE] = (grant_entry_v1_t){ .flags = GTF_permit_access,
							 .domid = GNTTAB_BACKEND_DOMID,
							 .frame = (uint32_t)console_gfn };
	e[GNTTAB_RESERVED_XENSTORE] = (grant_entry_v1_t){ .flags = GTF_permit_access,
							  .domid = GNTTAB_BACKEND_DOMID,
							  .frame = (uint32_t)xenstore_gfn };
}

int gnttab_create(struct gnttab **out, struct guest_mem *mem, unsigned max_frames,
		  uint64_t console_gfn, uint64_t xenstore_gfn)
{
	struct gnttab *gt;

	*out = NULL;
	if (max_frames < GNTTAB_INITIAL_FRAMES || max_frames > GNTTAB_DEFAULT_MAX_FRAMES * 16)
		return -EINVAL;
	gt = calloc(1, sizeof(*gt));
	if (!gt)
		return -ENOMEM;
	pthread_mutex_init(&gt->lock, NULL);
	gt->mem = mem;
	gt->version = 1;
	gt->max_frames = max_frames;
	gt->max_status = gt_status_frames_for(max_frames);
	gt->shared = calloc(max_frames, sizeof(*gt->shared));
	gt->status = calloc(gt->max_status, sizeof(*gt->status));
	gt->active = calloc((size_t)max_frames * GT_V1_PER_FRAME, sizeof(*gt->active));
	if (!gt->shared || !gt->status || !gt->active || gt_grow(gt, GNTTAB_INITIAL_FRAMES) < 0) {
		gnttab_destroy(gt);
		return -ENOMEM;
	}
	gt_seed(gt, console_gfn, xenstore_gfn);
	*out = gt;
	return 0;
}

void gnttab_destroy(struct gnttab *gt)
{
	if (!gt)
		return;
	for (unsigned i = 0; gt->shared && i < gt->nr_frames; i++)
		munmap(gt->shared[i].hva, GT_PAGE);
	for (unsigned i = 0; gt->status && i < gt->status_allocated; i++)
		munmap(gt->status[i].hva, GT_PAGE);
	free(gt->shared);
	free(gt->status);
	free(gt->active);
	pthread_mutex_destroy(&gt->lock);
	free(gt);
}

unsigned gnttab_version(struct gnttab *gt)
{
	pthread_mutex_lock(&gt->lock);
	unsigned v = gt->version;
	pthread_mutex_unlock(&gt->lock);
	return v;
}

unsigned gnttab_nr_frames(struct gnttab *gt)
{
	pthread_mutex_lock(&gt->lock);
	unsigned n = gt->nr_frames;
	pthread_mutex_unlock(&gt->lock);
	return n;
}

/* ---- XENMAPSPACE_grant_table ---- */

/* Xen's gnttab_get_{shared,status}_frame_mfn: an index past the table
 * grows it when the limit allows; anything else is -EINVAL. */
static struct gt_frame *gt_frame_for_index(struct gnttab *gt, uint64_t idx)
{
	if (gt->version == 2 && (idx & XENMAPIDX_grant_table_status)) {
		uint64_t sidx = idx & ~(uint64_t)XENMAPIDX_grant_table_status;

		/* Grow to the grant frames whose status needs sidx + 1 frames. */
		if (sidx >= gt->nr_status && sidx < gt->max_status &&
		    (sidx + 1) * (GT_STATUS_PER_FRAME / GT_V2_PER_FRAME) <= gt->max_frames)
			gt_grow(gt, (unsigned)((sidx + 1) * (GT_STATUS_PER_FRAME / GT_V2_PER_FRAME)));
		return sidx < gt->nr_status ? &gt->status[sidx] : NULL;
	}
	if (idx >= gt->nr_frames && idx < gt->max_frames)
		gt_grow(gt, (unsigned)idx + 1);
	return idx < gt->nr_frames ? &gt->shared[idx] : NULL;
}

/* A frame of ours already at gfn is displaced, as Xen removes whatever
 * page the p2m had there. */
static void gt_forget_gfn(struct gnttab *gt, uint64_t gfn)
{
	for (unsigned i = 0; i < gt->nr_frames; i++)
		if (gt->shared[i].gfn == gfn)
			gt->shared[i].gfn = GT_NO_GFN;
	for (unsigned i = 0; i < gt->nr_status; i++)
		if (gt->status[i].gfn == gfn)
			gt->status[i].gfn = GT_NO_GFN;
}

long gnttab_add_to_physmap(struct gnttab *gt, uint64_t idx, uint64_t gfn)
{
	struct gt_frame *f;
	long rc = 0;

	pthread_mutex_lock(&gt->lock);
	f = gt_frame_for_index(gt, idx);
	if (!f) {
		rc = -XEN_EINVAL;
	} else if (f->gfn != gfn) {
		uint64_t old = f->gfn;

		if (gmem_map_page(gt->mem, gfn, f->memfd_off) < 0) {
			rc = -XEN_ENOMEM;
		} else {
			gt_forget_gfn(gt, gfn);
			if (old != GT_NO_GFN)
				gmem_unmap_page(gt->mem, old);
			f->gfn = gfn;
		}
	}
	pthread_mutex_unlock(&gt->lock);
	return rc;
}

/* ---- the backend API ---- */

int gnttab_map_for_backend(struct gnttab *gt, grant_ref_t ref, int writable, void **host_ptr)
{
	int rc;

	*host_ptr = NULL;
	pthread_mutex_lock(&gt->lock);
	rc = gt_acquire(gt, ref, GNTTAB_BACKEND_DOMID, !writable, 1);
	if (rc == GNTST_okay) {
		uint64_t gpa = gt->active[ref].gfn << GUEST_PAGE_SHIFT;

		/* Backends keep the pointer: only RAM stays where it is. */
		if (!gmem_is_ram(gt->mem, gpa, GT_PAGE)) {
			gt_release(gt, ref, !writable);
			rc = GNTST_bad_page;
		} else {
			*host_ptr = gmem_ptr(gt->mem, gpa, GT_PAGE);
		}
	}
	pthread_mutex_unlock(&gt->lock);
	return rc;
}

int gnttab_unmap_for_backend(struct gnttab *gt, grant_ref_t ref, int writable)
{
	uint32_t need = writable ? GT_PIN_W_MASK : (GT_PIN_W_MASK << 8);
	int rc = GNTST_okay;

	pthread_mutex_lock(&gt->lock);
	if (ref >= gt_nr_entries(gt) || !(gt->active[ref].pin & need) ||
	    gt->active[ref].domid != GNTTAB_BACKEND_DOMID)
		rc = GNTST_bad_handle;
	else
		gt_release(gt, ref, !writable);
	pthread_mutex_unlock(&gt->lock);
	return rc;
}

int gnttab_copy_for_backend(struct gnttab *gt, grant_ref_t ref, unsigned offset, void *buf,
			    size_t len, int to_guest)
{
	int rc;

	if (offset > GT_PAGE || len > GT_PAGE - offset)
		return GNTST_bad_copy_arg;
	pthread_mutex_lock(&gt->lock);
	rc = gt_acquire(gt, ref, GNTTAB_BACKEND_DOMID, !to_guest, 0);
	if (rc == GNTST_okay) {
		struct gt_active *act = &gt->active[ref];
		uint8_t *page = gt_frame_ptr(gt, act->gfn);

		if (!page)
			rc = GNTST_bad_page; /* pinned earlier; the frame left since */
		else if (offset < act->start || offset + len > (size_t)act->start + act->length)
			rc = GNTST_general_error;
		else if (to_guest)
			memcpy(page + offset, buf, len);
		else
			memcpy(buf, page + offset, len);
		gt_release(gt, ref, !to_guest);
	}
	pthread_mutex_unlock(&gt->lock);
	return rc;
}
