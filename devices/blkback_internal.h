/* The block backend's pieces: the XenBus side (blkback.c), the shared rings
 * and request decoding for both ABIs (blkback_ring.c), request execution
 * (blkback_req.c) and io_uring (blk_io.c). Everything runs on the event
 * loop's thread; only the event-channel callback runs on a vCPU thread and
 * it only writes an eventfd. */
#ifndef XENKVM_BLKBACK_INTERNAL_H
#define XENKVM_BLKBACK_INTERNAL_H

#include <stdint.h>
#include <sys/uio.h>

#include <xen/xen.h>
#include <xen/grant_table.h>
#include <xen/io/blkif.h>

#include <xen/event_channel.h>

#include "xenkvm/blkback.h"

#define BLK_SECTOR 512u
#define BLK_PAGE 4096u
#define BLK_SECTORS_PER_PAGE (BLK_PAGE / BLK_SECTOR)
#define BLK_MAX_QUEUES 4
#define BLK_MAX_RING_ORDER 4 /* 16 pages a ring */
#define BLK_MAX_RING_PAGES (1u << BLK_MAX_RING_ORDER)
/* feature-max-indirect-segments: Linux blkback's MAX_INDIRECT_SEGMENTS. */
#define BLK_MAX_INDIRECT_SEGS 256u
#define BLK_SEGS_PER_INDIRECT_PAGE (BLK_PAGE / sizeof(struct blkif_request_segment))
/* Persistent grants a queue keeps mapped (Linux blkback's max_pgrants). */
#define BLK_MAX_PERSISTENT 1056u
/* Every field of the shared ring header lives in its first 64 bytes. */
#define BLK_SRING_HEADER 64u

long blk_vdev_to_devid(const char *vdev);

/* ---- shared ring ---- */

enum blk_abi { BLK_ABI_X86_64, BLK_ABI_X86_32 };

/* The frontend's ring: 1..16 granted pages, not contiguous in our address
 * space, so entries are copied in and out (which also means a request is
 * read exactly once, whatever the frontend does to it afterwards). */
struct blk_ring {
	uint8_t *page[BLK_MAX_RING_PAGES];
	unsigned nr_pages;
	unsigned size; /* entries, a power of two */
	unsigned entry_size;
	enum blk_abi abi;
	RING_IDX req_cons, rsp_prod_pvt;
};

/* A request as both layouts decode to. */
struct blk_req {
	uint64_t id;
	uint8_t operation;    /* as sent, echoed in the response */
	uint8_t op;           /* what to do: indirect_op for BLKIF_OP_INDIRECT */
	uint16_t nr_segs;
	uint64_t sector;
	uint64_t nr_sectors;  /* DISCARD */
	unsigned nr_indirect; /* indirect pages */
	grant_ref_t indirect[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
	struct blkif_request_segment seg[BLKIF_MAX_SEGMENTS_PER_REQUEST];
};

enum blk_ring_status { BLK_RING_EMPTY, BLK_RING_REQUEST, BLK_RING_FULL, BLK_RING_BROKEN };

unsigned blk_ring_entry_size(enum blk_abi abi);
/* Ring entries that fit nr_pages pages (__CONST_RING_SIZE for the ABI). */
unsigned blk_ring_size_for(enum blk_abi abi, unsigned nr_pages);
void blk_ring_attach(struct blk_ring *r, enum blk_abi abi, unsigned nr_pages);
/* The next request, decoded into *req. BROKEN: the frontend's req_prod is
 * more than a ring ahead of our responses (or ran backwards). FULL: every
 * slot holds a request we have not answered yet. */
enum blk_ring_status blk_ring_next(struct blk_ring *r, struct blk_req *req);
/* Decode one raw ring entry of blk_ring_entry_size(abi) bytes (for tests). */
void blk_req_decode(enum blk_abi abi, const uint8_t *entry, struct blk_req *req);
void blk_ring_put_response(struct blk_ring *r, uint64_t id, uint8_t op, int16_t status);
/* Publish responses; 1 when the frontend asked to be notified. */
int blk_ring_push_responses(struct blk_ring *r);
/* Ask for a notification on the next request; 1 if one arrived meanwhile. */
int blk_ring_final_check(struct blk_ring *r);

/* ---- request validation ---- */

struct blk_limits {
	uint64_t sectors;
	int readonly;
	int discard;
	unsigned max_indirect_segs;
};

/* Is the decoded request well formed for this disk (operation, segment
 * count and ranges, sectors inside the disk)? 0, or a BLKIF_RSP_* code. */
int blk_req_check(const struct blk_req *req, const struct blk_limits *lim);
/* Checks the segment list of a read or write (direct or from the indirect
 * pages) and returns the number of sectors, or -1. */
int64_t blk_segs_check(const struct blkif_request_segment *seg, unsigned n, uint64_t sector,
		       uint64_t disk_sectors);

/* ---- I/O engine (io_uring) ---- */

struct blk_io;
typedef void (*blk_io_done_fn)(void *tag, int res);
struct evloop;
struct blk_io *blk_io_create(struct evloop *loop, unsigned depth, blk_io_done_fn done);
void blk_io_destroy(struct blk_io *io);
/* Queue an operation; 0, or -EBUSY when the submission queue is full.
 * done(tag, res) runs on the loop with the syscall-style result. */
int blk_io_readv(struct blk_io *io, int fd, const struct iovec *iov, unsigned n, uint64_t off,
		 void *tag);
int blk_io_writev(struct blk_io *io, int fd, const struct iovec *iov, unsigned n, uint64_t off,
		  void *tag);
/* drain: start only once everything queued before has completed. */
int blk_io_fsync(struct blk_io *io, int fd, int drain, void *tag);
int blk_io_punch_hole(struct blk_io *io, int fd, uint64_t off, uint64_t len, void *tag);
/* Hand what was queued to the kernel. */
void blk_io_submit(struct blk_io *io);
unsigned blk_io_free_slots(struct blk_io *io);
/* Wait for everything in flight, running the completions (teardown). */
void blk_io_wait_all(struct blk_io *io);

/* ---- the device ---- */

struct blk_pgrant {
	grant_ref_t ref;
	uint8_t *page;
};

struct blk_queue {
	struct blkback *b;
	unsigned idx;
	int kick_fd;      /* written when the frontend notifies */
	evtchn_port_t port;
	int bound;
	grant_ref_t ring_ref[BLK_MAX_RING_PAGES];
	unsigned nr_ring_mapped;
	struct blk_ring ring;
	unsigned in_flight; /* requests taken from the ring and not answered */
	int stalled;        /* the I/O engine was full: go on after a completion */
	/* Persistent grants, kept mapped (writable) until disconnect: an open
	 * addressing table keyed by ref. */
	struct blk_pgrant *pgrants;
	unsigned nr_pgrants;
};

struct blkback {
	struct pv_backend_ctx ctx;
	struct blk_disk_spec spec;
	int fd;          /* O_DIRECT when the file allows it */
	int fd_buffered; /* the fallback for I/O O_DIRECT refuses */
	uint64_t sectors;
	unsigned discard_granularity;
	char be[128], fe[128];
	int xs_fd;       /* a watched node changed: the loop runs the state machine */
	struct blk_io *io;
	struct blk_queue q[BLK_MAX_QUEUES];
	unsigned nr_queues;
	struct blk_limits lim;
	int connected, disconnecting, unplugged, persistent;
	int ring_error_logged;
};

/* Requests (blkback_req.c). */
void blk_queue_process(struct blk_queue *q);
/* The io_uring completion callback. */
void blk_req_io_done(void *tag, int res);
/* Drop the queue's persistent grants (nothing may be in flight). */
void blk_queue_drop_pgrants(struct blk_queue *q);
/* A queue's ring broke the protocol: stop and disconnect (blkback.c). */
void blkback_ring_broken(struct blkback *b, struct blk_queue *q);
/* The last request of a disconnecting device completed (blkback.c). */
void blkback_drained(struct blkback *b);
unsigned blkback_in_flight(const struct blkback *b);

#endif
