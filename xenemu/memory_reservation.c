/* memory_op's reservation sub-ops: the guest gives RAM frames back
 * (decrease_reservation), takes them again (populate_physmap), grows its
 * reservation without frames (increase_reservation) and trades frames
 * (exchange), as xen/common/memory.c does for a translated (PVH) domU.
 *
 * Frames given back are punched out of the RAM memfd, so the host gets the
 * memory back. Xen's answers are counts, not errors: every failure stops
 * the walk and the call returns how many extents were done.
 *
 * Preemption, as Xen's: a long list stops after a budget of pages (or when
 * the VM stops or pauses) and the guest re-issues the call with the next
 * extent in cmd's high bits; exchange records its progress in
 * nr_exchanged and re-issues the call unchanged. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <xen/memory.h>

#include "memory_internal.h"
#include "xenkvm/compat32.h"
#include "xenkvm/guest_mem.h"
#include "xenkvm/log.h"
#include "xenkvm/vm.h"
#include "xenkvm/xen.h"

struct reservation {
	uint64_t list; /* guest array of frame numbers; 0: none */
	uint64_t nr;
	unsigned order;
	unsigned flags;
	domid_t domid;
};

static int read_reservation(struct hcall *hc, uint64_t gva, struct reservation *r)
{
	if (hc->abi64) {
		struct xen_memory_reservation n;
		if (copy_from_guest(hc, &n, gva, sizeof(n)))
			return -XEN_EFAULT;
		*r = (struct reservation){ (uint64_t)(uintptr_t)n.extent_start.p, n.nr_extents,
					   n.extent_order, n.mem_flags, n.domid };
	} else {
		struct compat_memory_reservation c;
		if (copy_from_guest(hc, &c, gva, sizeof(c)))
			return -XEN_EFAULT;
		*r = (struct reservation){ c.extent_start, c.nr_extents, c.extent_order,
					   c.mem_flags, c.domid };
	}
	return 0;
}

int memory_read_ulong(struct hcall *hc, uint64_t array, uint64_t i, uint64_t *v)
{
	if (hc->abi64)
		return copy_from_guest(hc, v, array + i * 8, 8);
	uint32_t v32;
	int rc = copy_from_guest(hc, &v32, array + i * 4, 4);
	*v = v32;
	return rc;
}

/* After an extent: preempt if the budget is spent and extents remain,
 * re-issuing the call from extent `next` (Xen's MEMOP_EXTENT_SHIFT). */
static int extent_preempt(struct hcall *hc, const struct reservation *r, uint64_t next,
			  unsigned units)
{
	uint64_t cmd = (hc->arg[0] & MEMOP_CMD_MASK) | (next << MEMOP_EXTENT_SHIFT);

	if (next >= r->nr || !hcall_preempt_check(hc, units))
		return 0;
	hcall_continue(hc, 1, &cmd);
	return 1;
}

/* How many of the n frames from gfn, in order, the guest can give back:
 * RAM frames holding memory, not shown over by a VMM frame. */
static uint64_t removable_prefix(const struct guest_mem *m, uint64_t gfn, uint64_t n)
{
	uint64_t k = 0;

	while (k < n && gfn + k >= gfn && gmem_frame_populated(m, gfn + k) &&
	       !gmem_frame_overlaid(m, gfn + k))
		k++;
	return k;
}

/* Can the n frames from gfn receive new memory? Only RAM frames not shown
 * over by a VMM frame: frames in holes would need memory the VMM does not
 * map (Xen could place it there). */
static int placeable(const struct guest_mem *m, uint64_t gfn, uint64_t n)
{
	uint64_t i;

	for (uint64_t k = 0; k < n; k++)
		if (gfn + k < gfn || !gmem_ram_frame(m, gfn + k, &i) ||
		    gmem_frame_overlaid(m, gfn + k))
			return 0;
	return 1;
}

static uint64_t count_populated(const struct guest_mem *m, uint64_t gfn, uint64_t n)
{
	uint64_t p = 0;

	for (uint64_t k = 0; k < n; k++)
		p += (uint64_t)gmem_frame_populated(m, gfn + k);
	return p;
}

/* New memory at [gfn, gfn+n): frames that held memory keep counting, as the
 * pages Xen leaves allocated when it maps new ones over them. */
static int place_new_memory(struct xen *x, uint64_t gfn, uint64_t n)
{
	uint64_t replaced = count_populated(&x->vm->mem, gfn, n);
	int rc = gmem_take_frames(&x->vm->mem, gfn, n);

	if (rc == 0)
		x->unmapped_pages += replaced;
	return rc;
}

/* Xen allocates for a translated guest but maps nothing (the list is not
 * written back): the pages only count against the maximum. */
static uint64_t increase_reservation(struct hcall *hc, const struct reservation *r,
				     uint64_t start)
{
	struct xen *x = hc->xen;
	uint64_t i;

	for (i = start; i < r->nr; i++) {
		pthread_mutex_lock(&x->lock);
		int fits = memory_tot_pages(x) + (1ULL << r->order) <= memory_max_pages(x);
		if (fits)
			x->unmapped_pages += 1ULL << r->order;
		pthread_mutex_unlock(&x->lock);
		if (!fits)
			break;
		if (extent_preempt(hc, r, i + 1, 1))
			return i + 1;
	}
	return i;
}

static uint64_t decrease_reservation(struct hcall *hc, const struct reservation *r,
				     uint64_t start)
{
	struct xen *x = hc->xen;
	uint64_t i, gfn, n = 1ULL << r->order;

	for (i = start; i < r->nr; i++) {
		if (memory_read_ulong(hc, r->list, i, &gfn))
			break;
		pthread_mutex_lock(&x->lock);
		/* Xen frees frame by frame: those before a bad one stay freed. */
		uint64_t k = removable_prefix(&x->vm->mem, gfn, n);
		int rc = k ? gmem_give_back_frames(&x->vm->mem, gfn, k) : 0;
		pthread_mutex_unlock(&x->lock);
		if (rc < 0)
			log_once("XENMEM_decrease_reservation: giving frames back: error %d", rc);
		if (k < n || rc < 0)
			break;
		if (extent_preempt(hc, r, i + 1, (unsigned)n))
			return i + 1;
	}
	return i;
}

static uint64_t populate_physmap(struct hcall *hc, const struct reservation *r, uint64_t start)
{
	struct xen *x = hc->xen;
	uint64_t i, gfn, n = 1ULL << r->order;

	for (i = start; i < r->nr; i++) {
		if (memory_read_ulong(hc, r->list, i, &gfn))
			break;
		if (!placeable(&x->vm->mem, gfn, n)) {
			log_once("XENMEM_populate_physmap at gfn %#llx: only RAM frames can be "
				 "populated here", (unsigned long long)gfn);
			break;
		}
		pthread_mutex_lock(&x->lock);
		int rc = -1;
		if (memory_tot_pages(x) + n <= memory_max_pages(x))
			rc = place_new_memory(x, gfn, n);
		pthread_mutex_unlock(&x->lock);
		if (rc < 0)
			break;
		if (extent_preempt(hc, r, i + 1, (unsigned)n))
			return i + 1;
	}
	return i;
}

static long reservation_op(struct hcall *hc, unsigned op, uint64_t start);

/* A preempted call answers the hypercall number (the guest re-issues it);
 * a finished one, the extents done. */
long memory_reservation_op(struct hcall *hc, unsigned op, uint64_t start)
{
	long done = reservation_op(hc, op, start);

	return hc->continued ? (long)hc->nr : done;
}

static long reservation_op(struct hcall *hc, unsigned op, uint64_t start)
{
	struct reservation r;
	unsigned address_bits;

	if (read_reservation(hc, hc->arg[1], &r))
		return (long)start;
	/* Too long to encode a continuation, or nothing left to do. */
	if (r.nr > (UINT32_MAX >> MEMOP_EXTENT_SHIFT) || start >= r.nr)
		return (long)start;
	/* Domain 0 refuses (XSM), no other domain exists. */
	if (!domid_is_self(r.domid))
		return (long)start;
	/* An address width is a hint about machine frames, which a translated
	 * guest never sees; only a width within one page is refused. */
	address_bits = XENMEMF_get_address_bits(r.flags);
	if (address_bits && address_bits <= GUEST_PAGE_SHIFT)
		return (long)start;
	switch (op) {
	case XENMEM_increase_reservation:
		if (r.order > DOMU_MAX_ORDER)
			return (long)start;
		return (long)increase_reservation(hc, &r, start);
	case XENMEM_decrease_reservation:
		if (r.order > DOMU_MAX_ORDER)
			return (long)start;
		return (long)decrease_reservation(hc, &r, start);
	default:
		/* Xen refuses populate-on-demand on oneself at the first extent. */
		if (r.order > DOMU_MAX_ORDER || (r.flags & XENMEMF_populate_on_demand))
			return (long)start;
		return (long)populate_physmap(hc, &r, start);
	}
}

/* ---- XENMEM_exchange ---- */

struct exchange {
	struct reservation in, out;
	uint64_t nr_exchanged;
	unsigned nr_exchanged_off, nr_exchanged_size;
};

static int read_exchange(struct hcall *hc, struct exchange *e)
{
	uint64_t gva = hc->arg[1];

	if (hc->abi64) {
		struct xen_memory_exchange n;
		if (copy_from_guest(hc, &n, gva, sizeof(n)))
			return -XEN_EFAULT;
		e->in = (struct reservation){ (uint64_t)(uintptr_t)n.in.extent_start.p,
					      n.in.nr_extents, n.in.extent_order,
					      n.in.mem_flags, n.in.domid };
		e->out = (struct reservation){ (uint64_t)(uintptr_t)n.out.extent_start.p,
					       n.out.nr_extents, n.out.extent_order,
					       n.out.mem_flags, n.out.domid };
		e->nr_exchanged = n.nr_exchanged;
		e->nr_exchanged_off = offsetof(struct xen_memory_exchange, nr_exchanged);
		e->nr_exchanged_size = 8;
	} else {
		struct compat_memory_exchange c;
		if (copy_from_guest(hc, &c, gva, sizeof(c)))
			return -XEN_EFAULT;
		e->in = (struct reservation){ c.in.extent_start, c.in.nr_extents,
					      c.in.extent_order, c.in.mem_flags, c.in.domid };
		e->out = (struct reservation){ c.out.extent_start, c.out.nr_extents,
					       c.out.extent_order, c.out.mem_flags, c.out.domid };
		e->nr_exchanged = c.nr_exchanged;
		e->nr_exchanged_off = offsetof(struct compat_memory_exchange, nr_exchanged);
		e->nr_exchanged_size = 4;
	}
	return 0;
}

static long write_nr_exchanged(struct hcall *hc, const struct exchange *e, long rc)
{
	uint64_t v = e->nr_exchanged; /* little-endian: the low bytes first */

	if (copy_to_guest(hc, hc->arg[1] + e->nr_exchanged_off, &v, e->nr_exchanged_size))
		return -XEN_EFAULT;
	return rc;
}

static long exchange_checks(struct hcall *hc, const struct exchange *e)
{
	uint64_t word = hc->abi64 ? ~0ULL : 0xffffffffULL;
	const struct reservation *in = &e->in, *out = &e->out;

	if ((in->order > out->order ? in->order : out->order) > DOMU_MAX_ORDER)
		return -XEN_EPERM;
	if (e->nr_exchanged > in->nr || in->domid != out->domid ||
	    (word >> in->order) < in->nr || (word >> out->order) < out->nr ||
	    ((in->nr << in->order) & word) != ((out->nr << out->order) & word))
		return -XEN_EINVAL;
	if (!domid_is_self(in->domid))
		return domid_other_error(in->domid);
	return 0;
}

/* The chunk's frames, in order: the input frames must all hold memory and
 * be distinct, or Xen cannot take them (-EINVAL). */
static long collect_inputs(struct hcall *hc, const struct exchange *e, uint64_t chunk,
			   unsigned chunk_order, uint64_t *frames, uint64_t *nframes)
{
	const struct guest_mem *m = &hc->xen->vm->mem;
	uint64_t per = 1ULL << e->in.order, gmfn;

	*nframes = 0;
	for (uint64_t j = 0; j < (1ULL << chunk_order); j++) {
		if (memory_read_ulong(hc, e->in.list, (chunk << chunk_order) + j, &gmfn))
			return -XEN_EFAULT;
		for (uint64_t k = 0; k < per; k++) {
			uint64_t f = gmfn + k;
			if (removable_prefix(m, f, 1) != 1)
				return -XEN_EINVAL;
			for (uint64_t s = 0; s < *nframes; s++)
				if (frames[s] == f)
					return -XEN_EINVAL;
			frames[(*nframes)++] = f;
		}
	}
	return 0;
}

/* One chunk: as much memory in as out. Inputs go back, outputs get fresh
 * memory; an output whose frame number cannot be read keeps its memory
 * allocated but unmapped, as Xen leaves it. */
static long exchange_chunk(struct hcall *hc, const struct exchange *e, uint64_t chunk,
			   unsigned in_chunk_order, unsigned out_chunk_order, uint64_t *frames)
{
	struct xen *x = hc->xen;
	uint64_t nframes, nout = 1ULL << out_chunk_order, per_out = 1ULL << e->out.order;
	uint64_t outs[1U << DOMU_MAX_ORDER];
	int faulted[1U << DOMU_MAX_ORDER];
	long rc;

	pthread_mutex_lock(&x->lock);
	rc = collect_inputs(hc, e, chunk, in_chunk_order, frames, &nframes);
	for (uint64_t j = 0; rc == 0 && j < nout; j++) {
		faulted[j] = memory_read_ulong(hc, e->out.list, (chunk << out_chunk_order) + j,
					       &outs[j]) != 0;
		if (!faulted[j] && !placeable(&x->vm->mem, outs[j], per_out))
			rc = -XEN_ENOMEM;
	}
	for (uint64_t s = 0; rc == 0 && s < nframes; s++)
		rc = gmem_give_back_frames(&x->vm->mem, frames[s], 1) < 0 ? -XEN_ENOMEM : 0;
	for (uint64_t j = 0; rc >= 0 && j < nout; j++) {
		if (faulted[j]) {
			x->unmapped_pages += per_out;
			rc = -XEN_EFAULT;
		} else if (place_new_memory(x, outs[j], per_out) < 0) {
			rc = -XEN_ENOMEM;
		}
	}
	pthread_mutex_unlock(&x->lock);
	return rc;
}

long memory_exchange_op(struct hcall *hc, uint64_t start_extent)
{
	struct exchange e;
	unsigned in_chunk_order, out_chunk_order;
	uint64_t *frames, i;
	long rc;

	if (start_extent)
		return -XEN_EINVAL;
	if (read_exchange(hc, &e))
		return -XEN_EFAULT;
	rc = exchange_checks(hc, &e);
	if (rc)
		return write_nr_exchanged(hc, &e, rc);
	in_chunk_order = e.in.order <= e.out.order ? e.out.order - e.in.order : 0;
	out_chunk_order = e.in.order <= e.out.order ? 0 : e.in.order - e.out.order;
	frames = malloc(sizeof(*frames) << DOMU_MAX_ORDER);
	if (!frames)
		return write_nr_exchanged(hc, &e, -XEN_ENOMEM);
	for (i = e.nr_exchanged >> in_chunk_order; i < e.in.nr >> in_chunk_order; i++) {
		rc = exchange_chunk(hc, &e, i, in_chunk_order, out_chunk_order, frames);
		if (rc)
			break;
		/* Preempted: nr_exchanged says where the re-issued call goes on. */
		if (i + 1 < e.in.nr >> in_chunk_order &&
		    hcall_preempt_check(hc, 1U << (in_chunk_order + e.in.order))) {
			free(frames);
			e.nr_exchanged = (i + 1) << in_chunk_order;
			rc = write_nr_exchanged(hc, &e, 0);
			return rc ? rc : hcall_continue(hc, 0, NULL);
		}
	}
	free(frames);
	e.nr_exchanged = rc ? i << in_chunk_order : e.in.nr;
	return write_nr_exchanged(hc, &e, rc);
}
