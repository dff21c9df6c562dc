/* Unit tests for the block backend's pure parts: --disk specifications and
 * vdev numbers, request decoding in both ring layouts, request checks, and
 * the shared ring against a hostile frontend (indices that run ahead or
 * backwards, a full ring, entries that straddle pages). */
#include <check.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <xen/io/blkif.h>

#include "run_suite.h"
#include "../../devices/blkback_internal.h"
#include "xenkvm/compat32.h"
#include "xenkvm/evloop.h"

static char image[64];

static void make_image(void)
{
	int fd;

	snprintf(image, sizeof(image), "/tmp/test_blkback.XXXXXX");
	fd = mkstemp(image);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, 1 << 20), 0);
	close(fd);
}

static void remove_image(void)
{
	unlink(image);
}

/* ---- specifications ---- */

static int parse(const char *fmt, unsigned index, struct blk_disk_spec *s, char *err)
{
	char arg[512];
	const char *at = strstr(fmt, "%s");

	/* The template's %s is the temporary image's path. */
	if (at)
		snprintf(arg, sizeof(arg), "%.*s%s%s", (int)(at - fmt), fmt, image, at + 2);
	else
		snprintf(arg, sizeof(arg), "%s", fmt);
	return blk_disk_spec_parse(arg, index, s, err, 256);
}

START_TEST(short_form)
{
	struct blk_disk_spec s;
	char err[256];

	ck_assert_int_eq(parse("%s", 0, &s, err), 0);
	ck_assert_str_eq(s.path, image);
	ck_assert_str_eq(s.vdev, "xvda");
	ck_assert_uint_eq(s.devid, 51712);
	ck_assert_int_eq(s.readonly, 0);
	ck_assert_int_eq(parse("%s,ro,vdev=xvdc", 0, &s, err), 0);
	ck_assert_int_eq(s.readonly, 1);
	ck_assert_str_eq(s.vdev, "xvdc");
	ck_assert_uint_eq(s.devid, 51712 + 32);
	ck_assert_int_eq(parse("%s", 1, &s, err), 0);
	ck_assert_str_eq(s.vdev, "xvdb");
	ck_assert_int_eq(parse("%s", 26, &s, err), 0);
	ck_assert_str_eq(s.vdev, "xvdaa");
}
END_TEST

START_TEST(xl_syntax)
{
	struct blk_disk_spec s;
	char err[256];

	ck_assert_int_eq(parse("format=raw, vdev=xvdb, access=ro, target=%s", 0, &s, err), 0);
	ck_assert_str_eq(s.path, image);
	ck_assert_str_eq(s.vdev, "xvdb");
	ck_assert_int_eq(s.readonly, 1);
	ck_assert_int_eq(parse("%s,raw,xvdd,w", 0, &s, err), 0);
	ck_assert_str_eq(s.vdev, "xvdd");
	ck_assert_int_eq(s.readonly, 0);
	ck_assert_int_eq(parse("%s,,hda,r", 0, &s, err), 0);
	ck_assert_uint_eq(s.devid, 768);
	ck_assert_int_eq(s.readonly, 1);
	ck_assert_int_eq(parse(" %s , raw , xvde ", 0, &s, err), 0);
	ck_assert_str_eq(s.vdev, "xvde");
	ck_assert_int_eq(parse("backendtype=qdisk, devtype=disk, target=%s", 0, &s, err), 0);
}
END_TEST

START_TEST(target_takes_the_rest)
{
	struct blk_disk_spec s;
	char err[256];

	ck_assert_int_eq(blk_disk_spec_parse("vdev=xvda, target=/nonexistent/a,b", 0, &s, err,
					     sizeof(err)),
			 -1);
	ck_assert_str_eq(s.path, "/nonexistent/a,b");
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/a,b: No such file"));
}
END_TEST

static const struct {
	const char *fmt;
	const char *says;
} bad_specs[] = {
	{ "%s,vdev=floppy", "vdev floppy" },
	{ "%s,vdev=xvd", "vdev xvd" },
	{ "%s,vdev=hde", "vdev hde" },
	{ "format=qcow2, target=%s", "format qcow2" },
	{ "access=rx, target=%s", "access rx" },
	{ "vdev=xvda", "no target" },
	{ "%s,colour=blue", "unknown key colour" },
	{ "%s,raw,xvda,rw,extra", "unexpected extra" },
	{ "devtype=cdrom, target=%s", "devtype cdrom" },
	{ "target=", "empty target" },
	{ "/nonexistent.img", "No such file" },
	{ "/tmp", "not a regular file" },
};

START_TEST(bad_spec)
{
	struct blk_disk_spec s;
	char err[256] = "";

	ck_assert_int_eq(parse(bad_specs[_i].fmt, 0, &s, err), -1);
	ck_assert_msg(strstr(err, bad_specs[_i].says), "'%s' gave '%s'", bad_specs[_i].fmt, err);
	ck_assert_msg(!strncmp(err, "--disk ", 7), "error names the option: %s", err);
}
END_TEST

START_TEST(vdev_numbers)
{
	ck_assert_int_eq(blk_vdev_to_devid("xvda"), 51712);
	ck_assert_int_eq(blk_vdev_to_devid("xvdb"), 51728);
	ck_assert_int_eq(blk_vdev_to_devid("xvda1"), 51713);
	ck_assert_int_eq(blk_vdev_to_devid("xvdp15"), (202 << 8) | (15 << 4) | 15);
	/* Beyond 16 disks or partitions: Xen's extended encoding. */
	ck_assert_int_eq(blk_vdev_to_devid("xvdq"), (1 << 28) | (16 << 8));
	ck_assert_int_eq(blk_vdev_to_devid("xvda16"), (1 << 28) | 16);
	ck_assert_int_eq(blk_vdev_to_devid("xvdaa"), (1 << 28) | (26 << 8));
	ck_assert_int_eq(blk_vdev_to_devid("hda"), 3 << 8);
	ck_assert_int_eq(blk_vdev_to_devid("hdb2"), (3 << 8) | 64 | 2);
	ck_assert_int_eq(blk_vdev_to_devid("hdc"), 22 << 8);
	ck_assert_int_eq(blk_vdev_to_devid("sdb"), (8 << 8) | 16);
	ck_assert_int_eq(blk_vdev_to_devid("51712"), 51712);
	ck_assert_int_eq(blk_vdev_to_devid("xvda256"), -1);
	ck_assert_int_eq(blk_vdev_to_devid("xvda01"), -1);
	ck_assert_int_eq(blk_vdev_to_devid("sdq"), -1);
	ck_assert_int_eq(blk_vdev_to_devid("xvdA"), -1);
	ck_assert_int_eq(blk_vdev_to_devid("0"), -1);
}
END_TEST

/* ---- decoding both layouts ---- */

START_TEST(decode_rw_both_layouts)
{
	struct blkif_request n = { .operation = BLKIF_OP_WRITE, .nr_segments = 2, .id = 0xabcdef0123ull,
				   .sector_number = 0x123456789ull };
	struct compat_blkif_request c = { .operation = BLKIF_OP_WRITE, .nr_segments = 2,
					  .id = 0xabcdef0123ull, .sector_number = 0x123456789ull };
	struct blk_req r;

	n.seg[1] = (struct blkif_request_segment){ .gref = 77, .first_sect = 1, .last_sect = 6 };
	c.seg[1] = (struct compat_blkif_request_segment){ .gref = 77, .first_sect = 1, .last_sect = 6 };
	for (int abi = 0; abi < 2; abi++) {
		blk_req_decode(abi ? BLK_ABI_X86_32 : BLK_ABI_X86_64,
			       abi ? (const uint8_t *)&c : (const uint8_t *)&n, &r);
		ck_assert_uint_eq(r.operation, BLKIF_OP_WRITE);
		ck_assert_uint_eq(r.nr_segs, 2);
		ck_assert_uint_eq(r.id, 0xabcdef0123ull);
		ck_assert_uint_eq(r.sector, 0x123456789ull);
		ck_assert_uint_eq(r.seg[1].gref, 77);
		ck_assert_uint_eq(r.seg[1].first_sect, 1);
		ck_assert_uint_eq(r.seg[1].last_sect, 6);
	}
	/* The same bytes mean something else in the other layout (a ring
	 * entry is always read whole: 112 bytes). */
	uint8_t entry[sizeof(struct blkif_request)] = { 0 };
	memcpy(entry, &c, sizeof(c));
	blk_req_decode(BLK_ABI_X86_64, entry, &r);
	ck_assert_uint_ne(r.id, 0xabcdef0123ull);
}
END_TEST

START_TEST(decode_discard_and_indirect)
{
	struct compat_blkif_request_discard cd = { .operation = BLKIF_OP_DISCARD, .id = 5,
						   .sector_number = 100, .nr_sectors = 300 };
	struct blkif_request_discard nd = { .operation = BLKIF_OP_DISCARD, .id = 5,
					    .sector_number = 100, .nr_sectors = 300 };
	struct compat_blkif_request_indirect ci = { .operation = BLKIF_OP_INDIRECT,
						    .indirect_op = BLKIF_OP_READ, .nr_segments = 513,
						    .id = 6, .sector_number = 8,
						    .indirect_grefs = { 40, 41 } };
	struct blkif_request_indirect ni = { .operation = BLKIF_OP_INDIRECT,
					     .indirect_op = BLKIF_OP_READ, .nr_segments = 513,
					     .id = 6, .sector_number = 8, .indirect_grefs = { 40, 41 } };
	struct blk_req r;

	for (int abi = 0; abi < 2; abi++) {
		blk_req_decode(abi ? BLK_ABI_X86_32 : BLK_ABI_X86_64,
			       abi ? (const uint8_t *)&cd : (const uint8_t *)&nd, &r);
		ck_assert_uint_eq(r.id, 5);
		ck_assert_uint_eq(r.sector, 100);
		ck_assert_uint_eq(r.nr_sectors, 300);
		blk_req_decode(abi ? BLK_ABI_X86_32 : BLK_ABI_X86_64,
			       abi ? (const uint8_t *)&ci : (const uint8_t *)&ni, &r);
		ck_assert_uint_eq(r.op, BLKIF_OP_READ);
		ck_assert_uint_eq(r.nr_segs, 513);
		ck_assert_uint_eq(r.nr_indirect, 2);
		ck_assert_uint_eq(r.indirect[1], 41);
		ck_assert_uint_eq(r.sector, 8);
	}
}
END_TEST

/* ---- request checks ---- */

static const struct blk_limits rw_disk = { .sectors = 1000, .discard = 1, .max_indirect_segs = 256 };
static const struct blk_limits ro_disk = { .sectors = 1000, .readonly = 1, .max_indirect_segs = 256 };

static struct blk_req rw_req(uint8_t op, unsigned nseg, uint64_t sector)
{
	struct blk_req r = { .operation = op, .op = op, .nr_segs = (uint16_t)nseg, .sector = sector };

	for (unsigned i = 0; i < BLKIF_MAX_SEGMENTS_PER_REQUEST; i++)
		r.seg[i].last_sect = 7;
	return r;
}

START_TEST(checks)
{
	struct blk_req r = rw_req(BLKIF_OP_READ, 11, 0);

	ck_assert_int_eq(blk_req_check(&r, &rw_disk), BLKIF_RSP_OKAY);
	r = rw_req(BLKIF_OP_READ, 12, 0);
	ck_assert_int_eq(blk_req_check(&r, &rw_disk), BLKIF_RSP_ERROR);
	r = rw_req(BLKIF_OP_READ, 0, 0);
	ck_assert_int_eq(blk_req_check(&r, &rw_disk), BLKIF_RSP_ERROR);
	r = rw_req(BLKIF_OP_READ, 1, 992); /* the last 8 sectors */
	ck_assert_int_eq(blk_req_check(&r, &rw_disk), BLKIF_RSP_OKAY);
	r = rw_req(BLKIF_OP_READ, 1, 993);
	ck_assert_int_eq(blk_req_check(&r, &rw_disk), BLKIF_RSP_ERROR);
	r = rw_req(BLKIF_OP_READ, 1, UINT64_MAX - 2); /* sector + length wraps */
	ck_assert_int_eq(blk_req_check(&r, &rw_disk), BLKIF_RSP_ERROR);
	r = rw_req(BLKIF_OP_WRITE, 1, 0);
	r.seg[0].first_sect = 4;
	r.seg[0].last_sect = 3;
	ck_assert_int_eq(blk_req_check(&r, &rw_disk), BLKIF_RSP_ERROR);
	r.seg[0].last_sect = 8;
	ck_assert_int_eq(blk_req_check(&r, &rw_disk), BLKIF_RSP_ERROR);
	r = rw_req(BLKIF_OP_WRITE, 1, 0);
	ck_assert_int_eq(blk_req_check(&r, &ro_disk), BLKIF_RSP_ERROR);
	r = rw_req(BLKIF_OP_FLUSH_DISKCACHE, 0, 0);
	ck_assert_int_eq(blk_req_check(&r, &rw_disk), BLKIF_RSP_OKAY);
	ck_assert_int_eq(blk_req_check(&r, &ro_disk), BLKIF_RSP_OKAY);
	r = rw_req(BLKIF_OP_FLUSH_DISKCACHE, 1, 0);
	ck_assert_int_eq(blk_req_check(&r, &ro_disk), BLKIF_RSP_ERROR);
	r = rw_req(99, 1, 0);
	ck_assert_int_eq(blk_req_check(&r, &rw_disk), BLKIF_RSP_EOPNOTSUPP);
	r = (struct blk_req){ .operation = BLKIF_OP_DISCARD, .sector = 900, .nr_sectors = 100 };
	ck_assert_int_eq(blk_req_check(&r, &rw_disk), BLKIF_RSP_OKAY);
	r.nr_sectors = 101;
	ck_assert_int_eq(blk_req_check(&r, &rw_disk), BLKIF_RSP_ERROR);
	ck_assert_int_eq(blk_req_check(&r, &ro_disk), BLKIF_RSP_EOPNOTSUPP);
	r = (struct blk_req){ .operation = BLKIF_OP_INDIRECT, .op = BLKIF_OP_READ, .nr_segs = 256 };
	ck_assert_int_eq(blk_req_check(&r, &rw_disk), BLKIF_RSP_OKAY);
	r.nr_segs = 257;
	ck_assert_int_eq(blk_req_check(&r, &rw_disk), BLKIF_RSP_ERROR);
	r.nr_segs = 8;
	r.op = BLKIF_OP_DISCARD;
	ck_assert_int_eq(blk_req_check(&r, &rw_disk), BLKIF_RSP_ERROR);
	r.op = BLKIF_OP_WRITE;
	ck_assert_int_eq(blk_req_check(&r, &ro_disk), BLKIF_RSP_ERROR);
}
END_TEST

/* ---- the shared ring ---- */

static uint8_t ring_mem[2][4096] __attribute__((aligned(4096)));

static uint32_t *idx(unsigned off)
{
	return (uint32_t *)(ring_mem[0] + off);
}

static void ring_setup(struct blk_ring *r, enum blk_abi abi, unsigned pages)
{
	memset(ring_mem, 0, sizeof(ring_mem));
	memset(r, 0, sizeof(*r));
	r->page[0] = ring_mem[0];
	r->page[1] = ring_mem[1];
	blk_ring_attach(r, abi, pages);
}

START_TEST(ring_sizes)
{
	ck_assert_uint_eq(blk_ring_size_for(BLK_ABI_X86_64, 1), 32);
	ck_assert_uint_eq(blk_ring_size_for(BLK_ABI_X86_32, 1), 32);
	ck_assert_uint_eq(blk_ring_size_for(BLK_ABI_X86_64, 2), 64);
	ck_assert_uint_eq(blk_ring_size_for(BLK_ABI_X86_32, 2), 64);
	ck_assert_uint_eq(blk_ring_size_for(BLK_ABI_X86_64, 16), 512);
	ck_assert_uint_eq(blk_ring_entry_size(BLK_ABI_X86_32), 108);
	ck_assert_uint_eq(blk_ring_entry_size(BLK_ABI_X86_64), 112);
}
END_TEST

START_TEST(hostile_indices)
{
	struct blk_ring r;
	struct blk_req q;

	ring_setup(&r, BLK_ABI_X86_64, 1);
	ck_assert_int_eq(blk_ring_next(&r, &q), BLK_RING_EMPTY);
	*idx(0) = 33; /* more requests than the ring holds */
	ck_assert_int_eq(blk_ring_next(&r, &q), BLK_RING_BROKEN);
	*idx(0) = 32;
	for (int i = 0; i < 32; i++)
		ck_assert_int_eq(blk_ring_next(&r, &q), BLK_RING_REQUEST);
	ck_assert_int_eq(blk_ring_next(&r, &q), BLK_RING_EMPTY);
	*idx(0) = 33; /* one more while none was answered: no slot for it */
	ck_assert_int_eq(blk_ring_next(&r, &q), BLK_RING_BROKEN);
	blk_ring_put_response(&r, 1, BLKIF_OP_READ, 0);
	ck_assert_int_eq(blk_ring_next(&r, &q), BLK_RING_REQUEST);
	*idx(0) = 20; /* ran backwards */
	ck_assert_int_eq(blk_ring_next(&r, &q), BLK_RING_BROKEN);
	*idx(0) = 0xfffffff0u; /* far away in either direction */
	ck_assert_int_eq(blk_ring_next(&r, &q), BLK_RING_BROKEN);
}
END_TEST

START_TEST(indices_wrap)
{
	struct blk_ring r;
	struct blk_req q;

	ring_setup(&r, BLK_ABI_X86_64, 1);
	*idx(8) = 0xfffffffeu; /* the frontend's indices are about to wrap */
	blk_ring_attach(&r, BLK_ABI_X86_64, 1);
	*idx(0) = 2;
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(blk_ring_next(&r, &q), BLK_RING_REQUEST);
	ck_assert_int_eq(blk_ring_next(&r, &q), BLK_RING_EMPTY);
}
END_TEST

/* x86_32 entries (108 bytes) straddle the page boundary of a 2-page ring:
 * a request written across it decodes whole, a response lands across it. */
START_TEST(straddling_entries)
{
	struct compat_blkif_request c = { .operation = BLKIF_OP_READ, .nr_segments = 11, .id = 42,
					  .sector_number = 4242 };
	struct compat_blkif_response rsp;
	struct blk_ring r;
	struct blk_req q;
	uint8_t flat[8192];
	unsigned slot = (4096 - 64) / 108; /* the entry that crosses */
	size_t off = 64 + slot * 108;

	c.seg[10].gref = 1010;
	ring_setup(&r, BLK_ABI_X86_32, 2);
	ck_assert_uint_lt(off, 4096);
	ck_assert_uint_gt(off + 108, 4096);
	memset(flat, 0, sizeof(flat));
	memcpy(flat + off, &c, sizeof(c));
	memcpy(ring_mem[0] + off, flat + off, 4096 - off);
	memcpy(ring_mem[1], flat + 4096, off + 108 - 4096);
	*idx(0) = *idx(8) = slot;
	blk_ring_attach(&r, BLK_ABI_X86_32, 2);
	*idx(0) = slot + 1;
	ck_assert_int_eq(blk_ring_next(&r, &q), BLK_RING_REQUEST);
	ck_assert_uint_eq(q.id, 42);
	ck_assert_uint_eq(q.sector, 4242);
	ck_assert_uint_eq(q.seg[10].gref, 1010);
	/* The response in the same slot; 12 bytes, cut by the page boundary
	 * only if it starts late enough, so check it whole via a flat copy. */
	blk_ring_put_response(&r, 0x1122334455ull, BLKIF_OP_READ, BLKIF_RSP_ERROR);
	memcpy(flat + off, ring_mem[0] + off, 4096 - off);
	memcpy(flat + 4096, ring_mem[1], off + 108 - 4096);
	memcpy(&rsp, flat + off, sizeof(rsp));
	ck_assert_uint_eq(rsp.id, 0x1122334455ull);
	ck_assert_int_eq(rsp.status, BLKIF_RSP_ERROR);
	ck_assert_uint_eq(rsp.operation, BLKIF_OP_READ);
}
END_TEST

START_TEST(notify_follows_rsp_event)
{
	struct blk_ring r;
	struct blk_req q;

	ring_setup(&r, BLK_ABI_X86_64, 1);
	*idx(0) = 2;
	*idx(12) = 1; /* rsp_event: notify when response 1 is published */
	ck_assert_int_eq(blk_ring_next(&r, &q), BLK_RING_REQUEST);
	ck_assert_int_eq(blk_ring_next(&r, &q), BLK_RING_REQUEST);
	blk_ring_put_response(&r, 1, 0, 0);
	ck_assert_int_eq(blk_ring_push_responses(&r), 1);
	ck_assert_uint_eq(*idx(8), 1);
	blk_ring_put_response(&r, 2, 0, 0);
	ck_assert_int_eq(blk_ring_push_responses(&r), 0); /* the frontend did not ask again */
	ck_assert_int_eq(blk_ring_final_check(&r), 0);
	ck_assert_uint_eq(*idx(4), 3); /* req_event: tell us about the next request */
	*idx(0) = 3;
	ck_assert_int_eq(blk_ring_final_check(&r), 1);
}
END_TEST

/* ---- the I/O engine ---- */

static int wake_fd = -1;
static int io_done_calls, io_done_res;

static void on_alarm(int sig)
{
	(void)sig;
	if (write(wake_fd, "x", 1) < 0) {
		/* the read then never completes and the test times out */
	}
}

static void count_done(void *tag, int res)
{
	(void)tag;
	io_done_calls++;
	io_done_res = res;
}

/* A signal during teardown's wait must not end it with I/O in flight: the
 * read of an empty pipe completes only once the handler wrote to it, after
 * the signal interrupted io_uring_enter. */
START_TEST(wait_all_survives_signals)
{
	struct sigaction sa = { .sa_handler = on_alarm }; /* no SA_RESTART */
	struct itimerval t = { .it_value = { .tv_usec = 50000 } };
	struct evloop *loop = evloop_create();
	struct blk_io *io;
	char byte = 0;
	struct iovec iov = { &byte, 1 };
	int p[2];

	ck_assert_ptr_nonnull(loop);
	io = blk_io_create(loop, 4, count_done);
	ck_assert_ptr_nonnull(io);
	ck_assert_int_eq(pipe(p), 0);
	wake_fd = p[1];
	ck_assert_int_eq(sigaction(SIGALRM, &sa, NULL), 0);
	ck_assert_int_eq(blk_io_readv(io, p[0], &iov, 1, (uint64_t)-1, NULL), 0);
	ck_assert_int_eq(setitimer(ITIMER_REAL, &t, NULL), 0);
	blk_io_wait_all(io);
	ck_assert_int_eq(io_done_calls, 1);
	ck_assert_int_eq(io_done_res, 1);
	ck_assert_int_eq(byte, 'x');
	ck_assert_uint_eq(blk_io_free_slots(io), 4);
	blk_io_destroy(io);
	evloop_destroy(loop);
	close(p[0]);
	close(p[1]);
}
END_TEST

/* A frontend producing bad requests from another vCPU as fast as they are
 * answered (they need no I/O): each turn takes at most a ring's worth and
 * kicks the queue to come back, where it once ran for as long as the guest
 * kept producing, holding the event loop and every backend on it. */
struct producer {
	struct blk_ring *r;
	int stop;
};

static void *produce_bad_requests(void *arg)
{
	struct producer *p = arg;

	while (!__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE)) {
		RING_IDX rsp = __atomic_load_n(&p->r->rsp_prod_pvt, __ATOMIC_ACQUIRE);
		RING_IDX prod = __atomic_load_n(idx(0), __ATOMIC_RELAXED);
		if (prod - rsp < p->r->size)
			__atomic_store_n(idx(0), prod + 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

START_TEST(queue_yields_to_a_producer_that_never_stops)
{
	struct evloop *loop = evloop_create();
	static struct blkback b;
	struct blk_queue *q = &b.q[0];
	struct producer p = { &q->ring, 0 };
	pthread_t t;
	uint64_t kicks = 0;
	int more = 0;

	ck_assert_ptr_nonnull(loop);
	memset(&b, 0, sizeof(b));
	b.io = blk_io_create(loop, 4, blk_req_io_done);
	ck_assert_ptr_nonnull(b.io);
	b.connected = 1;
	q->b = &b;
	q->kick_fd = eventfd(0, EFD_NONBLOCK);
	ring_setup(&q->ring, BLK_ABI_X86_64, 1);
	/* Every entry is an operation that does not exist; no response event. */
	memset(ring_mem[0] + BLK_SRING_HEADER, 0xff, sizeof(ring_mem[0]) - BLK_SRING_HEADER);
	*idx(12) = 0x80000000u;
	ck_assert_int_eq(pthread_create(&t, NULL, produce_bad_requests, &p), 0);
	for (time_t end = time(NULL) + 3; !more && time(NULL) < end;) {
		RING_IDX before = q->ring.req_cons;
		blk_queue_process(q);
		ck_assert_uint_le(q->ring.req_cons - before, q->ring.size);
		more = eventfd_read(q->kick_fd, &kicks) == 0;
	}
	__atomic_store_n(&p.stop, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	ck_assert_int_eq(more, 1);
	ck_assert_uint_eq(q->ring.rsp_prod_pvt, q->ring.req_cons);
	ck_assert_uint_eq(q->in_flight, 0);
	close(q->kick_fd);
	blk_io_destroy(b.io);
	evloop_destroy(loop);
}
END_TEST

static Suite *blkback_suite(void)
{
	Suite *s = suite_create("blkback");
	TCase *spec = tcase_create("spec"), *req = tcase_create("requests"),
	      *ring = tcase_create("ring"), *io = tcase_create("io");

	tcase_add_checked_fixture(spec, make_image, remove_image);
	tcase_add_test(spec, short_form);
	tcase_add_test(spec, xl_syntax);
	tcase_add_test(spec, target_takes_the_rest);
	tcase_add_loop_test(spec, bad_spec, 0, sizeof(bad_specs) / sizeof(bad_specs[0]));
	tcase_add_test(spec, vdev_numbers);
	tcase_add_test(req, decode_rw_both_layouts);
	tcase_add_test(req, decode_discard_and_indirect);
	tcase_add_test(req, checks);
	tcase_add_test(ring, ring_sizes);
	tcase_add_test(ring, hostile_indices);
	tcase_add_test(ring, indices_wrap);
	tcase_add_test(ring, straddling_entries);
	tcase_add_test(ring, notify_follows_rsp_event);
	suite_add_tcase(s, spec);
	suite_add_tcase(s, req);
	tcase_add_test(io, wait_all_survives_signals);
	tcase_add_test(io, queue_yields_to_a_producer_that_never_stops);
	suite_add_tcase(s, ring);
	suite_add_tcase(s, io);
	return s;
}

int main(void)
{
	return run_suite(blkback_suite());
}
