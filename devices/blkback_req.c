/* Executing blkif requests: map the granted segments, run the I/O on the
 * io_uring, answer on the ring. A response is written only after the I/O
 * (and, for flushes, the fdatasync) completed, and grants are released
 * only after the kernel is done with the pages. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>

#include "blkback_internal.h"
#include "xenkvm/evtchn.h"
#include "xenkvm/gnttab.h"
#include "xenkvm/log.h"
#include "xenkvm/xen.h"

/* What a flush-with-data does in turn: make earlier writes durable, write,
 * make this write durable; then answer. */
enum blk_phase { PHASE_PREFLUSH, PHASE_DATA, PHASE_POSTFLUSH, PHASE_DONE };

struct blk_map {
	grant_ref_t ref;
	uint8_t writable, persistent;
};

struct blk_inflight {
	struct blk_queue *q;
	uint64_t id;
	uint8_t operation, op;
	int16_t status;
	enum blk_phase phase;
	int buffered; /* retried on the buffered fd after O_DIRECT said EINVAL */
	uint64_t sector, nr_sectors, bytes;
	unsigned nr_segs, nr_mapped;
	struct blkif_request_segment *seg;
	struct blk_map *map;
	struct iovec *iov;
};

static struct gnttab *queue_gnttab(struct blk_queue *q)
{
	return q->b->ctx.xen->gnttab;
}

/* ---- persistent grants ---- */

#define PGRANT_SLOTS (2 * BLK_MAX_PERSISTENT)

static struct blk_pgrant *pgrant_slot(struct blk_queue *q, grant_ref_t ref)
{
	unsigned i = (ref * 2654435761u) % PGRANT_SLOTS;

	while (q->pgrants[i].page && q->pgrants[i].ref != ref)
		i = (i + 1) % PGRANT_SLOTS;
	return &q->pgrants[i];
}

/* A persistent mapping of ref, made on first use while there is room. */
static uint8_t *pgrant_get(struct blk_queue *q, grant_ref_t ref)
{
	struct blk_pgrant *s;
	void *p;

	if (!q->b->persistent)
		return NULL;
	if (!q->pgrants && !(q->pgrants = calloc(PGRANT_SLOTS, sizeof(*q->pgrants))))
		return NULL;
	s = pgrant_slot(q, ref);
	if (s->page)
		return s->page;
	if (q->nr_pgrants >= BLK_MAX_PERSISTENT ||
	    gnttab_map_for_backend(queue_gnttab(q), ref, 1, &p) != GNTST_okay)
		return NULL;
	s->ref = ref;
	s->page = p;
	q->nr_pgrants++;
	return p;
}

void blk_queue_drop_pgrants(struct blk_queue *q)
{
	for (unsigned i = 0; q->pgrants && i < PGRANT_SLOTS; i++)
		if (q->pgrants[i].page)
			gnttab_unmap_for_backend(queue_gnttab(q), q->pgrants[i].ref, 1);
	free(q->pgrants);
	q->pgrants = NULL;
	q->nr_pgrants = 0;
}

/* ---- answering ---- */

static void respond(struct blk_queue *q, uint64_t id, uint8_t operation, int16_t status)
{
	blk_ring_put_response(&q->ring, id, operation, status);
	if (blk_ring_push_responses(&q->ring))
		evtchn_backend_notify(q->b->ctx.xen, q->port);
}

static void unmap_segments(struct blk_inflight *r)
{
	for (unsigned i = 0; i < r->nr_mapped; i++)
		if (!r->map[i].persistent)
			gnttab_unmap_for_backend(queue_gnttab(r->q), r->map[i].ref,
						 r->map[i].writable);
	r->nr_mapped = 0;
}

static void finish(struct blk_inflight *r)
{
	struct blk_queue *q = r->q;
	struct blkback *b = q->b;

	unmap_segments(r);
	respond(q, r->id, r->operation, r->status);
	free(r->seg);
	free(r->map);
	free(r->iov);
	free(r);
	q->in_flight--;
	if (b->disconnecting) {
		if (blkback_in_flight(b) == 0)
			blkback_drained(b);
	} else if (q->stalled) {
		q->stalled = 0;
		blk_queue_process(q);
	}
}

/* ---- building a request ---- */

static struct blk_inflight *inflight_new(struct blk_queue *q, const struct blk_req *req)
{
	struct blk_inflight *r = calloc(1, sizeof(*r));
	unsigned n = req->nr_segs ? req->nr_segs : 1;

	if (!r)
		return NULL;
	r->q = q;
	r->id = req->id;
	r->operation = req->operation;
	r->op = req->op;
	r->sector = req->sector;
	r->nr_sectors = req->nr_sectors;
	r->nr_segs = req->nr_segs;
	r->seg = calloc(n, sizeof(*r->seg));
	r->map = calloc(n, sizeof(*r->map));
	r->iov = calloc(n, sizeof(*r->iov));
	if (!r->seg || !r->map || !r->iov) {
		free(r->seg);
		free(r->map);
		free(r->iov);
		free(r);
		return NULL;
	}
	return r;
}

/* Copy the segment list out of the indirect pages (read-only grants). */
static int load_indirect(struct blk_inflight *r, const struct blk_req *req)
{
	struct gnttab *gt = queue_gnttab(r->q);
	unsigned done = 0;

	for (unsigned p = 0; p < req->nr_indirect; p++) {
		unsigned n = r->nr_segs - done;
		void *page;

		n = n < BLK_SEGS_PER_INDIRECT_PAGE ? n : (unsigned)BLK_SEGS_PER_INDIRECT_PAGE;
		if (gnttab_map_for_backend(gt, req->indirect[p], 0, &page) != GNTST_okay)
			return -1;
		memcpy(r->seg + done, page, n * sizeof(*r->seg));
		gnttab_unmap_for_backend(gt, req->indirect[p], 0);
		done += n;
	}
	return blk_segs_check(r->seg, r->nr_segs, r->sector, r->q->b->lim.sectors) < 0 ? -1 : 0;
}

/* Map every segment: writable when the disk is read into it. */
static int map_segments(struct blk_inflight *r)
{
	int writable = r->op == BLKIF_OP_READ;

	r->bytes = 0;
	for (unsigned i = 0; i < r->nr_segs; i++) {
		struct blk_map *m = &r->map[i];
		uint8_t *page = pgrant_get(r->q, r->seg[i].gref);
		void *p = page;

		m->ref = r->seg[i].gref;
		m->writable = (uint8_t)writable;
		m->persistent = page != NULL;
		if (!page && gnttab_map_for_backend(queue_gnttab(r->q), m->ref, writable, &p))
			return -1;
		r->nr_mapped = i + 1;
		r->iov[i].iov_base = (uint8_t *)p + r->seg[i].first_sect * BLK_SECTOR;
		r->iov[i].iov_len = (size_t)(r->seg[i].last_sect - r->seg[i].first_sect + 1) *
				    BLK_SECTOR;
		r->bytes += r->iov[i].iov_len;
	}
	return 0;
}

/* ---- issuing I/O ---- */

static int data_fd(const struct blk_inflight *r)
{
	return r->buffered ? r->q->b->fd_buffered : r->q->b->fd;
}

static int submit_phase(struct blk_inflight *r)
{
	struct blkback *b = r->q->b;
	uint64_t off = r->sector * BLK_SECTOR;

	switch (r->phase) {
	case PHASE_PREFLUSH:
		return blk_io_fsync(b->io, b->fd, 1, r);
	case PHASE_DATA:
		if (r->op == BLKIF_OP_DISCARD)
			return blk_io_punch_hole(b->io, b->fd, off, r->nr_sectors * BLK_SECTOR, r);
		if (r->op == BLKIF_OP_READ)
			return blk_io_readv(b->io, data_fd(r), r->iov, r->nr_segs, off, r);
		return blk_io_writev(b->io, data_fd(r), r->iov, r->nr_segs, off, r);
	case PHASE_POSTFLUSH:
		return blk_io_fsync(b->io, b->fd, 0, r);
	case PHASE_DONE:
		break;
	}
	return -EINVAL;
}

/* The first phase a request needs: flushes with data start with a
 * preflush, plain flushes are only that, the rest go straight to data. */
static enum blk_phase first_phase(const struct blk_inflight *r)
{
	int flush = r->operation == BLKIF_OP_FLUSH_DISKCACHE ||
		    r->operation == BLKIF_OP_WRITE_BARRIER;

	return flush ? PHASE_PREFLUSH : PHASE_DATA;
}

static enum blk_phase next_phase(const struct blk_inflight *r)
{
	int flush = r->operation == BLKIF_OP_FLUSH_DISKCACHE ||
		    r->operation == BLKIF_OP_WRITE_BARRIER;

	if (r->phase == PHASE_PREFLUSH)
		return r->nr_segs ? PHASE_DATA : PHASE_DONE;
	if (r->phase == PHASE_DATA)
		return flush ? PHASE_POSTFLUSH : PHASE_DONE;
	return PHASE_DONE;
}

static int phase_ok(struct blk_inflight *r, int res)
{
	if (r->phase == PHASE_DATA && r->op != BLKIF_OP_DISCARD)
		return res >= 0 && (uint64_t)res == r->bytes;
	return res == 0;
}

static int16_t phase_error_status(const struct blk_inflight *r, int res)
{
	if (r->op == BLKIF_OP_DISCARD && r->phase == PHASE_DATA && res == -EOPNOTSUPP)
		return BLKIF_RSP_EOPNOTSUPP;
	return BLKIF_RSP_ERROR;
}

void blk_req_io_done(void *tag, int res)
{
	struct blk_inflight *r = tag;
	struct blkback *b = r->q->b;

	/* O_DIRECT refuses buffers or offsets below the device's block size. */
	if (res == -EINVAL && r->phase == PHASE_DATA && !r->buffered && b->fd != b->fd_buffered) {
		r->buffered = 1;
		if (submit_phase(r) == 0) {
			blk_io_submit(b->io);
			return;
		}
	}
	if (!phase_ok(r, res)) {
		log_once("blkback %s: I/O error %d (%s) at sector %llu", b->spec.vdev, res,
			      strerror(res < 0 ? -res : EIO), (unsigned long long)r->sector);
		r->status = phase_error_status(r, res);
		finish(r);
		return;
	}
	r->phase = next_phase(r);
	r->buffered = 0;
	if (r->phase == PHASE_DONE || submit_phase(r) < 0) {
		r->status = r->phase == PHASE_DONE ? BLKIF_RSP_OKAY : BLKIF_RSP_ERROR;
		finish(r);
		return;
	}
	blk_io_submit(b->io);
}

/* Take one request off the ring: answer it at once when it is bad, else
 * start its I/O. */
static void start_request(struct blk_queue *q, const struct blk_req *req)
{
	struct blk_inflight *r;
	int16_t status = (int16_t)blk_req_check(req, &q->b->lim);

	/* Bad requests are answered at once, and so is a discard of nothing. */
	if (status != BLKIF_RSP_OKAY ||
	    (req->operation == BLKIF_OP_DISCARD && !req->nr_sectors)) {
		respond(q, req->id, req->operation, status);
		return;
	}
	r = inflight_new(q, req);
	if (!r) {
		respond(q, req->id, req->operation, BLKIF_RSP_ERROR);
		return;
	}
	q->in_flight++;
	if (req->operation == BLKIF_OP_INDIRECT) {
		if (load_indirect(r, req) < 0)
			goto fail;
	} else {
		memcpy(r->seg, req->seg, req->nr_segs * sizeof(*r->seg));
	}
	if (map_segments(r) < 0)
		goto fail;
	r->phase = first_phase(r);
	if (submit_phase(r) == 0)
		return;
fail:
	r->status = BLKIF_RSP_ERROR;
	finish(r);
}

/* Room for the largest request (a flush with data uses one SQE at a time). */
#define BLK_SQES_PER_REQUEST 1

void blk_queue_process(struct blk_queue *q)
{
	struct blkback *b = q->b;
	struct blk_req req;
	/* A ring's worth per turn of the event loop: bad requests are answered
	 * at once and use no I/O slot, so a frontend producing them from
	 * another vCPU would otherwise hold the loop as long as it liked. */
	unsigned budget = q->ring.size;

	while (b->connected && !b->disconnecting) {
		enum blk_ring_status st;

		if (blk_io_free_slots(b->io) < BLK_SQES_PER_REQUEST) {
			q->stalled = 1;
			break;
		}
		if (!budget--) {
			(void)eventfd_write(q->kick_fd, 1); /* come back after the others */
			break;
		}
		st = blk_ring_next(&q->ring, &req);
		if (st == BLK_RING_REQUEST) {
			start_request(q, &req);
			continue;
		}
		if (st == BLK_RING_BROKEN)
			blkback_ring_broken(b, q);
		if (st != BLK_RING_EMPTY || !blk_ring_final_check(&q->ring))
			break;
	}
	blk_io_submit(b->io);
}
