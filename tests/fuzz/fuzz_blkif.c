/* libFuzzer harness: the PV block backend's request path (blkback_ring.c,
 * blkback_req.c, blk_io.c) as a hostile frontend drives it. The frontend's
 * ring, data and indirect pages and its grant table live in the fake VM's
 * RAM and are reached through the real grant-table code; the backend is a
 * struct blkback wired as connect() wires it (one queue, its ring pages
 * mapped through their grants), the disk a 1 MiB memfd on a real io_uring.
 * blk_queue_process is the entry point; blk_io_wait_all runs completions
 * (and the requests a full engine stalled) before the next step, so a run
 * is deterministic. Input:
 *
 *   u8 config: bit 0 x86_32 layout; bits 1-3 ring-page-order (mod 5);
 *      bit 4 persistent grants; bit 5 read-only disk; bit 6 no discard;
 *      bit 7 no indirect segments
 *   u32 rsp_prod the ring shows at connect (req_prod starts there too)
 *   steps, each a u8 kind, then:
 *     REQ:   u8 operation (mostly one of the six, else raw), u8 id,
 *            sector, then by operation: segments (u8 count, each a gref
 *            and u8 first|last<<4), discard (nr_sectors), indirect (u8 op,
 *            u16 segment count, u8 page count, grefs)  -- at req_prod, which moves on
 *     SEGS:  u8 data page, u16 index, u8 count, segments -- an indirect page
 *     POKE:  u8 page, u16 offset, u8 length, bytes     -- any frontend page
 *     IDX:   u8 field, u32 value                       -- the shared indices, lying
 *     GRANT: u16 ref, u8 kind, u8 frame                -- a grant entry
 *     KICK                                             -- the frontend notifies
 *     RECONNECT                                        -- after the backend gave up
 *   A gref is a u8: data pages (some read-only grants), the ring's own
 *   pages, or 0xff and a raw u32; a sector is a u8, or 0xff and a raw u64.
 *
 * Checked beyond the sanitizers: the backend never publishes more
 * responses than it took requests, has nothing in flight once the engine
 * is idle, and leaves no grant pinned after disconnecting. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xen/io/blkif.h>

#include "../../devices/blkback_internal.h"
#include "../../xenemu/gnttab_internal.h"
#include "fuzz_vm.h"
#include "xenkvm/compat32.h"
#include "xenkvm/evloop.h"
#include "xenkvm/log.h"

#define RAM_SIZE (2ULL << 20)
#define RING_GFN 0x100u /* up to 16 ring pages */
#define DATA_GFN 0x120u /* data and indirect pages */
#define DATA_PAGES 64u
#define GT_GFN 0x1f0u /* where the frontend maps grant frame 0 */
#define RING_REF 8u   /* ring page i is granted as RING_REF + i */
#define DATA_REF 32u  /* data page k as DATA_REF + k ... */
#define RO_REF (DATA_REF + DATA_PAGES) /* ... and the first 8 again, read-only */
#define NR_PAGES (BLK_MAX_RING_PAGES + DATA_PAGES + 1)
#define DISK_BYTES (1u << 20)
#define MAX_STEPS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct fuzz_vm fv;
static struct evloop *loop;
static struct blk_io *io; /* kept: an io_uring per input would be slow */
static int disk_fd = -1;
static struct blkback b;
static unsigned ring_pages;
static enum blk_abi abi;
static int trace;

static void fail(const char *why)
{
	fprintf(stderr, "fuzz_blkif: %s (req_cons %u rsp_prod_pvt %u in flight %u)\n", why,
		b.q[0].ring.req_cons, b.q[0].ring.rsp_prod_pvt, b.q[0].in_flight);
	abort();
}

static uint8_t *page(unsigned gfn)
{
	return fuzz_page(&fv, gfn);
}

/* The frontend's pages: the ring, the data pages, grant frame 0. */
static unsigned page_gfn(unsigned i)
{
	i %= NR_PAGES;
	if (i < BLK_MAX_RING_PAGES)
		return RING_GFN + i;
	i -= BLK_MAX_RING_PAGES;
	return i < DATA_PAGES ? DATA_GFN + i : GT_GFN;
}

static uint32_t *sring_word(unsigned off)
{
	return (uint32_t *)(page(RING_GFN) + off);
}

static void grant(grant_ref_t ref, uint16_t flags, domid_t domid, uint32_t frame)
{
	fuzz_grant(&fv, GT_GFN, ref, flags, domid, frame);
}

/* ---- input values ---- */

static grant_ref_t gref(struct fuzz_input *in)
{
	uint8_t v = fin_u8(in);

	if (v == 0xff)
		return fin_u32(in);
	if (v >= 0xf0)
		return RING_REF + (v - 0xf0u);
	return DATA_REF + v % (DATA_PAGES + 8);
}

static uint64_t sector(struct fuzz_input *in)
{
	uint8_t v = fin_u8(in);

	return v == 0xff ? fin_u64(in) : v;
}

static struct blkif_request_segment segment(struct fuzz_input *in)
{
	struct blkif_request_segment s = { .gref = gref(in) };
	uint8_t sects = fin_u8(in);

	s.first_sect = sects & 15;
	s.last_sect = sects >> 4;
	return s;
}

/* ---- the frontend's steps ---- */

static const uint8_t operations[] = { BLKIF_OP_READ, BLKIF_OP_WRITE, BLKIF_OP_FLUSH_DISKCACHE,
				      BLKIF_OP_WRITE_BARRIER, BLKIF_OP_DISCARD, BLKIF_OP_INDIRECT };

static uint8_t operation(struct fuzz_input *in)
{
	uint8_t v = fin_u8(in);

	return v >= 0xf0 ? fin_u8(in) : operations[v % sizeof(operations)];
}

/* Fill both layouts from the same fields (REQ: struct blkif_request or its
 * compat twin; the discard and indirect shapes likewise). */
#define FILL_RW(r, op, id_, sect, segs, n)                                              \
	do {                                                                            \
		(r)->operation = (op);                                                  \
		(r)->nr_segments = (uint8_t)(n);                                        \
		(r)->id = (id_);                                                        \
		(r)->sector_number = (sect);                                            \
		for (unsigned i_ = 0; i_ < (n) && i_ < BLKIF_MAX_SEGMENTS_PER_REQUEST; i_++) { \
			(r)->seg[i_].gref = (segs)[i_].gref;                            \
			(r)->seg[i_].first_sect = (segs)[i_].first_sect;                \
			(r)->seg[i_].last_sect = (segs)[i_].last_sect;                  \
		}                                                                       \
	} while (0)

static void build_rw(struct fuzz_input *in, uint8_t op, uint8_t id, uint64_t sect, uint8_t *e)
{
	struct blkif_request_segment segs[BLKIF_MAX_SEGMENTS_PER_REQUEST];
	uint8_t n = fin_u8(in);

	for (unsigned i = 0; i < n && i < BLKIF_MAX_SEGMENTS_PER_REQUEST; i++)
		segs[i] = segment(in);
	if (abi == BLK_ABI_X86_32)
		FILL_RW((struct compat_blkif_request *)e, op, id, sect, segs, n);
	else
		FILL_RW((struct blkif_request *)e, op, id, sect, segs, n);
}

static void build_discard(struct fuzz_input *in, uint8_t id, uint64_t sect, uint8_t *e)
{
	uint64_t nr = sector(in);

	if (abi == BLK_ABI_X86_32)
		*(struct compat_blkif_request_discard *)e = (struct compat_blkif_request_discard){
			.operation = BLKIF_OP_DISCARD, .id = id, .sector_number = sect,
			.nr_sectors = nr };
	else
		*(struct blkif_request_discard *)e = (struct blkif_request_discard){
			.operation = BLKIF_OP_DISCARD, .id = id, .sector_number = sect,
			.nr_sectors = nr };
}

static void build_indirect(struct fuzz_input *in, uint8_t id, uint64_t sect, uint8_t *e)
{
	uint8_t op = operation(in);
	uint16_t nsegs = fin_u16(in);
	unsigned npages = fin_u8(in) % (BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST + 1);
	grant_ref_t refs[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST] = { 0 };

	for (unsigned i = 0; i < npages; i++)
		refs[i] = gref(in);
	if (abi == BLK_ABI_X86_32) {
		struct compat_blkif_request_indirect *r = (void *)e;

		*r = (struct compat_blkif_request_indirect){ .operation = BLKIF_OP_INDIRECT,
							     .indirect_op = op, .nr_segments = nsegs,
							     .id = id, .sector_number = sect };
		memcpy(r->indirect_grefs, refs, sizeof(refs));
	} else {
		struct blkif_request_indirect *r = (void *)e;

		*r = (struct blkif_request_indirect){ .operation = BLKIF_OP_INDIRECT,
						      .indirect_op = op, .nr_segments = nsegs,
						      .id = id, .sector_number = sect };
		memcpy(r->indirect_grefs, refs, sizeof(refs));
	}
}

static void step_req(struct fuzz_input *in)
{
	uint8_t e[sizeof(union blkif_sring_entry)] = { 0 };
	uint8_t op = operation(in), id = fin_u8(in);
	uint64_t sect = sector(in);
	unsigned size = blk_ring_size_for(abi, ring_pages);
	RING_IDX prod = *sring_word(0);

	if (op == BLKIF_OP_DISCARD)
		build_discard(in, id, sect, e);
	else if (op == BLKIF_OP_INDIRECT)
		build_indirect(in, id, sect, e);
	else
		build_rw(in, op, id, sect, e);
	/* The ring pages are contiguous in guest RAM, so in the host too. */
	memcpy(page(RING_GFN) + BLK_SRING_HEADER + (prod & (size - 1)) * blk_ring_entry_size(abi), e,
	       blk_ring_entry_size(abi));
	*sring_word(0) = prod + 1;
}

static void step_segs(struct fuzz_input *in)
{
	struct blkif_request_segment *segs = (void *)page(DATA_GFN + fin_u8(in) % DATA_PAGES);
	unsigned at = fin_u16(in) % BLK_SEGS_PER_INDIRECT_PAGE, n = fin_u8(in);

	for (unsigned i = 0; i < n && at + i < BLK_SEGS_PER_INDIRECT_PAGE && in->left; i++)
		segs[at + i] = segment(in);
}

static void step_poke(struct fuzz_input *in)
{
	fuzz_step_poke(&fv, in, page_gfn);
}

static void step_index(struct fuzz_input *in)
{
	uint8_t field = fin_u8(in);
	uint32_t v = fin_u32(in);

	switch (field % 6) {
	case 0: *sring_word(0) = v; break;                          /* req_prod */
	case 1: *sring_word(0) += v % 64; break;                    /* runs ahead */
	case 2: *sring_word(0) = *sring_word(8) + v % 1024; break;  /* near rsp_prod */
	case 3: *sring_word(4) = v; break;                          /* req_event */
	case 4: *sring_word(8) = v; break;                          /* rsp_prod: ours */
	default: *sring_word(12) = v; break;                        /* rsp_event */
	}
}

static void step_grant(struct fuzz_input *in)
{
	fuzz_step_grant(&fv, in, GT_GFN, page_gfn);
}

/* ---- the backend ---- */

/* (Whether the backend wrote req_prod cannot be told: a frontend may grant
 * its own ring page as a read buffer, and then the disk writes it.) */
/* FUZZ_TRACE=1: the responses, to see what a seed does. */
static void trace_responses(RING_IDX from, RING_IDX to)
{
	struct blk_ring *r = &b.q[0].ring;

	for (RING_IDX i = from; i != to; i++) {
		const uint8_t *e = page(RING_GFN) + BLK_SRING_HEADER + (i & (r->size - 1)) * r->entry_size;
		struct blkif_response rsp64;
		struct compat_blkif_response rsp32;

		memcpy(&rsp64, e, sizeof(rsp64));
		memcpy(&rsp32, e, sizeof(rsp32));
		if (abi == BLK_ABI_X86_32)
			fprintf(stderr, "rsp %u: id %llu op %u status %d\n", i,
				(unsigned long long)rsp32.id, rsp32.operation, rsp32.status);
		else
			fprintf(stderr, "rsp %u: id %llu op %u status %d\n", i,
				(unsigned long long)rsp64.id, rsp64.operation, rsp64.status);
	}
}

static void kick(void)
{
	struct blk_ring *r = &b.q[0].ring;
	RING_IDX from = r->rsp_prod_pvt;

	blk_queue_process(&b.q[0]);
	blk_io_wait_all(io);
	if (trace && b.connected)
		trace_responses(from, r->rsp_prod_pvt);
	if (r->req_cons - r->rsp_prod_pvt > r->size)
		fail("more responses than requests");
	if (blkback_in_flight(&b))
		fail("requests in flight on an idle engine");
}

/* As queue_connect: map the ring's grants, attach. */
static void connect_queue(void)
{
	struct blk_queue *q = &b.q[0];

	for (unsigned i = 0; i < ring_pages; i++) {
		void *p;

		q->ring_ref[i] = RING_REF + i;
		if (gnttab_map_for_backend(fv.x.gnttab, q->ring_ref[i], 1, &p) != GNTST_okay)
			return; /* the frontend revoked it: stay disconnected */
		q->ring.page[i] = p;
		q->nr_ring_mapped = i + 1;
	}
	blk_ring_attach(&q->ring, abi, ring_pages);
	b.connected = 1;
	b.disconnecting = 0;
}

/* As queue_disconnect, for a queue nothing is in flight on. */
static void disconnect_queue(void)
{
	struct blk_queue *q = &b.q[0];

	blk_queue_drop_pgrants(q);
	for (unsigned i = 0; i < q->nr_ring_mapped; i++)
		gnttab_unmap_for_backend(fv.x.gnttab, q->ring_ref[i], 1);
	q->nr_ring_mapped = 0;
	b.connected = 0;
}

/* The frontend reconnects once the backend gave up on its ring (or is
 * still finishing the disconnect the ring's breakage started). */
static void reconnect(void)
{
	if (b.connected && !b.disconnecting)
		return;
	disconnect_queue(); /* what a disconnect with requests in flight left */
	connect_queue();
}

static void setup_backend(uint8_t config)
{
	memset(&b, 0, sizeof(b));
	b.ctx = (struct pv_backend_ctx){ .xen = &fv.x, .xs = fv.xs, .loop = loop,
					 .frontend_domid = 1 };
	snprintf(b.spec.vdev, sizeof(b.spec.vdev), "xvda");
	snprintf(b.be, sizeof(b.be), "/local/domain/0/backend/vbd/1/51712");
	snprintf(b.fe, sizeof(b.fe), "/local/domain/1/device/vbd/51712");
	b.fd = b.fd_buffered = disk_fd;
	b.xs_fd = -1;
	b.io = io;
	b.sectors = DISK_BYTES / BLK_SECTOR;
	b.lim = (struct blk_limits){ .sectors = b.sectors, .readonly = !!(config & 0x20),
				     .discard = !(config & 0x60),
				     .max_indirect_segs = config & 0x80 ? 0 : BLK_MAX_INDIRECT_SEGS };
	b.spec.readonly = b.lim.readonly;
	b.persistent = !!(config & 0x10);
	b.nr_queues = 1;
	for (unsigned i = 0; i < BLK_MAX_QUEUES; i++) {
		b.q[i].b = &b;
		b.q[i].idx = i;
		b.q[i].kick_fd = -1;
	}
}

/* The frontend's grants: its ring, its data pages, a few read-only. */
static void setup_frontend(uint32_t rsp_prod)
{
	if (gnttab_add_to_physmap(fv.x.gnttab, 0, GT_GFN) != 0)
		fail("cannot map the grant table");
	for (unsigned i = 0; i < BLK_MAX_RING_PAGES; i++)
		grant(RING_REF + i, GTF_permit_access, GNTTAB_BACKEND_DOMID, RING_GFN + i);
	for (unsigned k = 0; k < DATA_PAGES; k++)
		grant(DATA_REF + k, GTF_permit_access, GNTTAB_BACKEND_DOMID, DATA_GFN + k);
	for (unsigned k = 0; k < 8; k++)
		grant(RO_REF + k, GTF_permit_access | GTF_readonly, GNTTAB_BACKEND_DOMID,
		      DATA_GFN + k);
	*sring_word(0) = *sring_word(8) = rsp_prod;
	*sring_word(4) = *sring_word(12) = rsp_prod + 1;
}

static void check_no_pins(void)
{
	struct gnttab *gt = fv.x.gnttab;

	for (unsigned ref = 0; ref < gt_nr_entries(gt); ref++)
		if (gt->active[ref].pin)
			fail("a grant is still pinned after disconnect");
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	fuzz_quiet();
	trace = getenv("FUZZ_TRACE") != NULL;
	loop = evloop_create();
	disk_fd = memfd_create("fuzz-blkif-disk", MFD_CLOEXEC);
	if (!loop || disk_fd < 0 || ftruncate(disk_fd, DISK_BYTES) < 0)
		return -1;
	/* A shallow engine (the VMM's is 256 deep), so requests stall on it
	 * and resume from completions. */
	io = blk_io_create(loop, 16, blk_req_io_done);
	return io ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	uint8_t config = fin_u8(&in);
	uint32_t rsp_prod = fin_u32(&in);

	abi = config & 1 ? BLK_ABI_X86_32 : BLK_ABI_X86_64;
	ring_pages = 1u << ((config >> 1) & 7) % (BLK_MAX_RING_ORDER + 1);
	fuzz_vm_create(&fv, RAM_SIZE, 1, FUZZ_STORE_EMPTY);
	setup_backend(config);
	setup_frontend(rsp_prod);
	connect_queue();
	for (int n = 0; n < MAX_STEPS && in.left; n++) {
		switch (fin_u8(&in) % 7) {
		case 0: step_req(&in); break;
		case 1: step_segs(&in); break;
		case 2: step_poke(&in); break;
		case 3: step_index(&in); break;
		case 4: step_grant(&in); break;
		case 5: kick(); break;
		default: reconnect(); break;
		}
	}
	kick();
	disconnect_queue();
	check_no_pins();
	fuzz_vm_destroy(&fv);
	return 0;
}
