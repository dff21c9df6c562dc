/* blkif shared rings in both request layouts (x86_64, and x86_32 as GRUB and
 * 32-bit Linux send it), and the checks every request passes before any
 * I/O. The frontend is untrusted: indices are checked against the ring
 * size, and entries are copied out once before they are looked at. */
#include <stddef.h>
#include <string.h>

#include <xen/io/ring.h>

#include "blkback_internal.h"
#include "xenkvm/compat32.h"

_Static_assert(sizeof(struct blkif_request) == 112, "x86_64 blkif request");
_Static_assert(sizeof(struct compat_blkif_request) == 108, "x86_32 blkif request");
_Static_assert(sizeof(struct compat_blkif_response) == 12, "x86_32 blkif response");
_Static_assert(sizeof(struct blkif_response) == 16, "x86_64 blkif response");
_Static_assert(offsetof(struct blkif_sring, ring) == BLK_SRING_HEADER, "sring header");

/* Offsets of the shared indices in the ring's first page. */
#define SRING_REQ_PROD 0
#define SRING_REQ_EVENT 4
#define SRING_RSP_PROD 8
#define SRING_RSP_EVENT 12

unsigned blk_ring_entry_size(enum blk_abi abi)
{
	return abi == BLK_ABI_X86_32 ? sizeof(struct compat_blkif_request)
				     : sizeof(union blkif_sring_entry);
}

unsigned blk_ring_size_for(enum blk_abi abi, unsigned nr_pages)
{
	unsigned n = (nr_pages * BLK_PAGE - BLK_SRING_HEADER) / blk_ring_entry_size(abi);

	return __RD32(n);
}

void blk_ring_attach(struct blk_ring *r, enum blk_abi abi, unsigned nr_pages)
{
	r->abi = abi;
	r->nr_pages = nr_pages;
	r->entry_size = blk_ring_entry_size(abi);
	r->size = blk_ring_size_for(abi, nr_pages);
	/* As BACK_RING_ATTACH: carry on from the responses already published. */
	r->rsp_prod_pvt = __atomic_load_n((uint32_t *)(r->page[0] + SRING_RSP_PROD),
					  __ATOMIC_ACQUIRE);
	r->req_cons = r->rsp_prod_pvt;
}

static uint32_t *sring_idx(struct blk_ring *r, unsigned off)
{
	return (uint32_t *)(r->page[0] + off);
}

/* Copy len bytes at ring offset off, which may cross page boundaries. */
static void ring_copy(struct blk_ring *r, size_t off, void *buf, size_t len, int to_ring)
{
	uint8_t *b = buf;

	while (len) {
		size_t in = off % BLK_PAGE, n = BLK_PAGE - in;
		uint8_t *p = r->page[off / BLK_PAGE] + in;

		n = n < len ? n : len;
		if (to_ring)
			memcpy(p, b, n);
		else
			memcpy(b, p, n);
		off += n;
		b += n;
		len -= n;
	}
}

static size_t entry_offset(const struct blk_ring *r, RING_IDX i)
{
	return BLK_SRING_HEADER + (size_t)(i & (r->size - 1)) * r->entry_size;
}

/* The three request shapes of one ABI into struct blk_req. */
#define DECODE_REQUEST(REQ, DISCARD, INDIRECT, entry, req)                              \
	do {                                                                            \
		const REQ *rw = (const void *)(entry);                                  \
		const DISCARD *d = (const void *)(entry);                               \
		const INDIRECT *ind = (const void *)(entry);                            \
		(req)->id = rw->id;                                                     \
		if (rw->operation == BLKIF_OP_DISCARD) {                                \
			(req)->sector = d->sector_number;                               \
			(req)->nr_sectors = d->nr_sectors;                              \
		} else if (rw->operation == BLKIF_OP_INDIRECT) {                        \
			(req)->op = ind->indirect_op;                                   \
			(req)->nr_segs = ind->nr_segments;                              \
			(req)->sector = ind->sector_number;                             \
			memcpy((req)->indirect, ind->indirect_grefs, sizeof((req)->indirect)); \
		} else {                                                                \
			(req)->nr_segs = rw->nr_segments;                               \
			(req)->sector = rw->sector_number;                              \
			memcpy((req)->seg, rw->seg, sizeof((req)->seg));                \
		}                                                                       \
	} while (0)

void blk_req_decode(enum blk_abi abi, const uint8_t *entry, struct blk_req *req)
{
	memset(req, 0, sizeof(*req));
	req->operation = req->op = entry[0];
	if (abi == BLK_ABI_X86_32)
		DECODE_REQUEST(struct compat_blkif_request, struct compat_blkif_request_discard,
			       struct compat_blkif_request_indirect, entry, req);
	else
		DECODE_REQUEST(struct blkif_request, struct blkif_request_discard,
			       struct blkif_request_indirect, entry, req);
	if (req->operation == BLKIF_OP_INDIRECT)
		req->nr_indirect = (req->nr_segs + BLK_SEGS_PER_INDIRECT_PAGE - 1) /
				   BLK_SEGS_PER_INDIRECT_PAGE;
}

enum blk_ring_status blk_ring_next(struct blk_ring *r, struct blk_req *req)
{
	uint8_t entry[sizeof(union blkif_sring_entry)];
	RING_IDX rp = __atomic_load_n(sring_idx(r, SRING_REQ_PROD), __ATOMIC_ACQUIRE);

	/* RING_REQUEST_PROD_OVERFLOW, and an index that ran backwards. */
	if (rp - r->rsp_prod_pvt > r->size || rp - r->req_cons > r->size)
		return BLK_RING_BROKEN;
	if (rp == r->req_cons)
		return BLK_RING_EMPTY;
	if (r->req_cons - r->rsp_prod_pvt >= r->size)
		return BLK_RING_FULL;
	ring_copy(r, entry_offset(r, r->req_cons), entry, r->entry_size, 0);
	r->req_cons++;
	blk_req_decode(r->abi, entry, req);
	return BLK_RING_REQUEST;
}

void blk_ring_put_response(struct blk_ring *r, uint64_t id, uint8_t op, int16_t status)
{
	struct blkif_response rsp64 = { .id = id, .operation = op, .status = status };
	struct compat_blkif_response rsp32 = { .id = id, .operation = op, .status = status };
	int x32 = r->abi == BLK_ABI_X86_32;

	ring_copy(r, entry_offset(r, r->rsp_prod_pvt), x32 ? (void *)&rsp32 : (void *)&rsp64,
		  x32 ? sizeof(rsp32) : sizeof(rsp64), 1);
	r->rsp_prod_pvt++;
}

int blk_ring_push_responses(struct blk_ring *r)
{
	RING_IDX old = __atomic_load_n(sring_idx(r, SRING_RSP_PROD), __ATOMIC_RELAXED);
	RING_IDX now = r->rsp_prod_pvt, event;

	__atomic_store_n(sring_idx(r, SRING_RSP_PROD), now, __ATOMIC_RELEASE);
	/* RING_PUSH_RESPONSES_AND_CHECK_NOTIFY: rsp_event is read after the
	 * new rsp_prod is visible, or a frontend going to sleep is missed. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	event = __atomic_load_n(sring_idx(r, SRING_RSP_EVENT), __ATOMIC_RELAXED);
	return (RING_IDX)(now - event) < (RING_IDX)(now - old);
}

int blk_ring_final_check(struct blk_ring *r)
{
	if (__atomic_load_n(sring_idx(r, SRING_REQ_PROD), __ATOMIC_ACQUIRE) != r->req_cons)
		return 1;
	__atomic_store_n(sring_idx(r, SRING_REQ_EVENT), r->req_cons + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return __atomic_load_n(sring_idx(r, SRING_REQ_PROD), __ATOMIC_ACQUIRE) != r->req_cons;
}

/* ---- checks ---- */

int64_t blk_segs_check(const struct blkif_request_segment *seg, unsigned n, uint64_t sector,
		       uint64_t disk_sectors)
{
	uint64_t total = 0;

	for (unsigned i = 0; i < n; i++) {
		if (seg[i].first_sect > seg[i].last_sect ||
		    seg[i].last_sect >= BLK_SECTORS_PER_PAGE)
			return -1;
		total += (uint64_t)seg[i].last_sect - seg[i].first_sect + 1;
	}
	if (sector > disk_sectors || total > disk_sectors - sector)
		return -1;
	return (int64_t)total;
}

static int is_write(uint8_t op)
{
	return op == BLKIF_OP_WRITE || op == BLKIF_OP_WRITE_BARRIER ||
	       op == BLKIF_OP_FLUSH_DISKCACHE;
}

static int check_rw(const struct blk_req *req, const struct blk_limits *lim, unsigned max_segs,
		    unsigned min_segs)
{
	if (req->nr_segs < min_segs || req->nr_segs > max_segs)
		return BLKIF_RSP_ERROR;
	if (lim->readonly && is_write(req->op) && req->nr_segs)
		return BLKIF_RSP_ERROR;
	/* Indirect segments are checked once they are read from their pages. */
	if (req->operation == BLKIF_OP_INDIRECT)
		return 0;
	return blk_segs_check(req->seg, req->nr_segs, req->sector, lim->sectors) < 0
		       ? BLKIF_RSP_ERROR
		       : BLKIF_RSP_OKAY;
}

static int check_discard(const struct blk_req *req, const struct blk_limits *lim)
{
	if (!lim->discard)
		return BLKIF_RSP_EOPNOTSUPP;
	if (lim->readonly || req->sector > lim->sectors ||
	    req->nr_sectors > lim->sectors - req->sector)
		return BLKIF_RSP_ERROR;
	return BLKIF_RSP_OKAY;
}

int blk_req_check(const struct blk_req *req, const struct blk_limits *lim)
{
	switch (req->operation) {
	case BLKIF_OP_READ:
	case BLKIF_OP_WRITE:
		return check_rw(req, lim, BLKIF_MAX_SEGMENTS_PER_REQUEST, 1);
	case BLKIF_OP_WRITE_BARRIER:
	case BLKIF_OP_FLUSH_DISKCACHE:
		/* With segments: a write that is durable before it is acked. */
		return check_rw(req, lim, BLKIF_MAX_SEGMENTS_PER_REQUEST, 0);
	case BLKIF_OP_DISCARD:
		return check_discard(req, lim);
	case BLKIF_OP_INDIRECT:
		if (!lim->max_indirect_segs)
			return BLKIF_RSP_EOPNOTSUPP;
		if (req->op != BLKIF_OP_READ && req->op != BLKIF_OP_WRITE)
			return BLKIF_RSP_ERROR;
		return check_rw(req, lim, lim->max_indirect_segs, 1);
	default:
		return BLKIF_RSP_EOPNOTSUPP;
	}
}
