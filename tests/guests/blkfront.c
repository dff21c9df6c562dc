/*
 * A small blkfront: connects to xenkvm's block backend the way Linux's
 * xen-blkfront does (XenBus handshake, protocol = the guest's own ABI, so
 * the 32-bit build speaks x86_32-abi as GRUB does), then reads, writes,
 * flushes, discards, uses indirect requests, persistent grants, multi-page
 * rings and two queues, sends the requests a hostile frontend would, closes
 * and reconnects. The host checks the image afterwards.
 *
 * Command line: sectors=N (the image size the host made), ro=1 (the disk
 * is read-only), bench=MiB (measure throughput instead of testing),
 * durable=1 (a FUA write at sector 2000, then wait to be killed), unplug=1
 * (connect, then let the host unplug the disk).
 * Layout the host prepares and checks (512-byte sectors):
 *   sector 8:        "host wrote this" (the guest checks it)
 *   sectors 16..103: the guest writes pattern(sector) (checked by the host)
 *   sectors 64..319: written with an indirect request, pattern(sector)
 *   sectors 512..639: discarded by the guest (host: zeros)
 *   sector 1000:     written with a flush request (FUA), pattern(sector)
 */
#include "xenbus.h"
#include <xen/hvm/hvm_op.h>

#define xen_mb() xb_mb()
#define xen_rmb() xb_barrier()
#define xen_wmb() xb_barrier()
#include <xen/io/blkif.h>
#include <xen/io/protocols.h>

#define DEVID 51712 /* xvda */
#define NR_QUEUES 2
#define RING_ORDER 1
#define RING_PAGES (1 << RING_ORDER)
#define DATA_PAGES 64
#define SECT 512

static uint8_t ring_pages[NR_QUEUES][RING_PAGES][4096] __attribute__((aligned(4096)));
static uint8_t data[DATA_PAGES][4096] __attribute__((aligned(4096)));
static struct blkif_request_segment indirect_page[512] __attribute__((aligned(4096)));
static grant_ref_t data_ref[DATA_PAGES], data_ref_ro, indirect_ref;

struct queue {
    blkif_front_ring_t ring;
    evtchn_port_t port;
    grant_ref_t ring_ref[RING_PAGES];
};
static struct queue queues[NR_QUEUES];
static unsigned int nr_queues = 1, use_order = 0;
static char fe[64], be[128];
static unsigned long disk_sectors;
static int readonly;

/* The pattern the host checks: every 32-bit word is sector << 8 | index. */
static void fill_pattern(uint8_t *buf, unsigned long sector, unsigned int nsect)
{
    for (unsigned int s = 0; s < nsect; s++)
        for (unsigned int w = 0; w < SECT / 4; w++)
            ((uint32_t *)(buf + s * SECT))[w] = (uint32_t)((sector + s) << 8 | (w & 0xff));
}

static int check_pattern(const uint8_t *buf, unsigned long sector, unsigned int nsect)
{
    for (unsigned int s = 0; s < nsect; s++)
        for (unsigned int w = 0; w < SECT / 4; w += 37)
            if (((const uint32_t *)(buf + s * SECT))[w] != (uint32_t)((sector + s) << 8 | (w & 0xff)))
                return 0;
    return 1;
}

/* ---- the handshake ---- */

static void queue_setup(struct queue *q, unsigned int idx)
{
    blkif_sring_t *s = (blkif_sring_t *)ring_pages[idx];

    SHARED_RING_INIT(s);
    FRONT_RING_INIT(&q->ring, s, 4096 << use_order);
    for (unsigned int i = 0; i < (1u << use_order); i++)
        q->ring_ref[i] = xb_grant_page(ring_pages[idx][i], 0, 0);
    if (xb_evtchn_alloc_unbound(0, &q->port))
        kit_abort("alloc_unbound for the ring");
}

static void queue_publish(struct queue *q, unsigned int idx)
{
    char dir[96], node[128];

    if (nr_queues > 1)
        snprintf(dir, sizeof(dir), "%s/queue-%u", fe, idx);
    else
        snprintf(dir, sizeof(dir), "%s", fe);
    for (unsigned int i = 0; i < (1u << use_order); i++) {
        if (use_order)
            snprintf(node, sizeof(node), "%s/ring-ref%u", dir, i);
        else
            snprintf(node, sizeof(node), "%s/ring-ref", dir);
        xb_printf(node, "%u", q->ring_ref[i]);
    }
    snprintf(node, sizeof(node), "%s/event-channel", dir);
    xb_printf(node, "%u", q->port);
}

static void release_rings(void)
{
    for (unsigned int i = 0; i < nr_queues; i++) {
        for (unsigned int p = 0; p < (1u << use_order); p++)
            xb_grant_end(queues[i].ring_ref[p]);
        xb_evtchn_close(queues[i].port);
    }
}

/* Linux blkfront's talk_to_blkback + connect. Returns the backend state. */
static int connect(unsigned int want_queues, unsigned int order, int persistent)
{
    char node[128];

    nr_queues = want_queues;
    use_order = order;
    for (unsigned int i = 0; i < nr_queues; i++)
        queue_setup(&queues[i], i);
    for (unsigned int i = 0; i < nr_queues; i++)
        queue_publish(&queues[i], i);
    snprintf(node, sizeof(node), "%s/protocol", fe);
    xb_write(node, XEN_IO_PROTO_ABI_NATIVE);
    snprintf(node, sizeof(node), "%s/ring-page-order", fe);
    if (order)
        xb_printf(node, "%u", order);
    else
        xb_rm(node);
    snprintf(node, sizeof(node), "%s/multi-queue-num-queues", fe);
    if (nr_queues > 1)
        xb_printf(node, "%u", nr_queues);
    else
        xb_rm(node);
    snprintf(node, sizeof(node), "%s/feature-persistent", fe);
    xb_printf(node, "%d", persistent);
    xb_switch_state(fe, XenbusStateInitialised);
    if (xb_wait_state(be, XenbusStateConnected, XB_WAIT_DEFAULT) != XenbusStateConnected)
        return xb_state(be);
    xb_switch_state(fe, XenbusStateConnected);
    return XenbusStateConnected;
}

/* Close as blkfront does on removal; the backend ends at Closed. */
static int disconnect(void)
{
    xb_switch_state(fe, XenbusStateClosing);
    xb_wait_state_not(be, XenbusStateConnected, XB_WAIT_DEFAULT);
    xb_switch_state(fe, XenbusStateClosed);
    xb_wait_state(be, XenbusStateClosed, XB_WAIT_DEFAULT);
    release_rings();
    return xb_state(be);
}

static void reinitialise(void)
{
    xb_switch_state(fe, XenbusStateInitialising);
    xb_wait_state(be, XenbusStateInitWait, XB_WAIT_DEFAULT);
}

/* ---- requests ---- */

static blkif_request_t *next_request(struct queue *q)
{
    blkif_request_t *r = RING_GET_REQUEST(&q->ring, q->ring.req_prod_pvt);

    q->ring.req_prod_pvt++;
    memset(r, 0, sizeof(*r));
    return r;
}

static void push(struct queue *q)
{
    int notify;

    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&q->ring, notify);
    if (notify)
        xb_evtchn_send(q->port);
}

/* Wait for one response; its status, or 99 when none came. */
static int wait_response(struct queue *q, uint64_t *id)
{
    for (unsigned long i = 0; i < XB_WAIT_DEFAULT; i++) {
        if (RING_HAS_UNCONSUMED_RESPONSES(&q->ring)) {
            blkif_response_t *rsp = RING_GET_RESPONSE(&q->ring, q->ring.rsp_cons);
            int status = rsp->status;

            if (id)
                *id = rsp->id;
            q->ring.rsp_cons++;
            return status;
        }
        xb_yield();
    }
    return 99;
}

/* A request on queue 0 with segments over data pages, one page each. */
static int rw(struct queue *q, uint8_t op, unsigned long sector, unsigned int nseg,
              unsigned int first, unsigned int last)
{
    blkif_request_t *r = next_request(q);

    r->operation = op;
    r->nr_segments = (uint8_t)nseg;
    r->handle = 0;
    r->id = 0x1234;
    r->sector_number = sector;
    for (unsigned int i = 0; i < nseg && i < BLKIF_MAX_SEGMENTS_PER_REQUEST; i++) {
        r->seg[i].gref = data_ref[i];
        r->seg[i].first_sect = (uint8_t)first;
        r->seg[i].last_sect = (uint8_t)last;
    }
    push(q);
    return wait_response(q, NULL);
}

static int rw_pages(uint8_t op, unsigned long sector, unsigned int npages)
{
    return rw(&queues[0], op, sector, npages, 0, 7);
}

static int indirect(uint8_t op, unsigned long sector, unsigned int nseg)
{
    struct queue *q = &queues[0];
    blkif_request_indirect_t *r = (blkif_request_indirect_t *)next_request(q);

    for (unsigned int i = 0; i < nseg; i++) {
        indirect_page[i].gref = data_ref[i % DATA_PAGES];
        indirect_page[i].first_sect = 0;
        indirect_page[i].last_sect = 7;
    }
    r->operation = BLKIF_OP_INDIRECT;
    r->indirect_op = op;
    r->nr_segments = (uint16_t)nseg;
    r->id = 7;
    r->sector_number = sector;
    r->indirect_grefs[0] = indirect_ref;
    push(q);
    return wait_response(q, NULL);
}

static int simple_op(uint8_t op)
{
    struct queue *q = &queues[0];
    blkif_request_t *r = next_request(q);

    r->operation = op;
    r->id = 9;
    push(q);
    return wait_response(q, NULL);
}

static int discard(unsigned long sector, unsigned long nr)
{
    struct queue *q = &queues[0];
    blkif_request_discard_t *r = (blkif_request_discard_t *)next_request(q);

    r->operation = BLKIF_OP_DISCARD;
    r->id = 11;
    r->sector_number = sector;
    r->nr_sectors = nr;
    push(q);
    return wait_response(q, NULL);
}

/* ---- tests ---- */

static void test_handshake(void)
{
    char buf[128], node[128];

    snprintf(fe, sizeof(fe), "device/vbd/%u", DEVID);
    snprintf(node, sizeof(node), "%s/backend", fe);
    check_true(xb_read(node, be, sizeof(be)) > 0, "frontend names its backend");
    snprintf(node, sizeof(node), "%s/virtual-device", fe);
    check_eq((long long)xb_read_ulong(node, 0), DEVID, "virtual-device is xvda's number");
    check_eq(xb_wait_state(be, XenbusStateInitWait, XB_WAIT_DEFAULT), XenbusStateInitWait,
             "backend waits in InitWait");
    snprintf(node, sizeof(node), "%s/sectors", be);
    disk_sectors = xb_read_ulong(node, 0);
    check_eq((long long)disk_sectors, (long long)kit_arg_ulong("sectors", 0), "sectors");
    snprintf(node, sizeof(node), "%s/sector-size", be);
    check_eq((long long)xb_read_ulong(node, 0), 512, "sector-size");
    snprintf(node, sizeof(node), "%s/info", be);
    check_eq((long long)(xb_read_ulong(node, 9) & VDISK_READONLY), readonly ? VDISK_READONLY : 0,
             "info says read-only or not");
    snprintf(node, sizeof(node), "%s/dev", be);
    check_true(xb_read(node, buf, sizeof(buf)) > 0 && !strcmp(buf, "xvda"), "dev is xvda");
    snprintf(node, sizeof(node), "%s/feature-max-indirect-segments", be);
    check_true(xb_read_ulong(node, 0) >= 32, "indirect segments offered");
    check_eq(connect(1, 0, 0), XenbusStateConnected, "connected with one one-page ring");
}

static void test_read_write(void)
{
    fill_pattern(data[0], 16, 8 * 11);
    check_eq(rw_pages(BLKIF_OP_WRITE, 16, 11), BLKIF_RSP_OKAY, "write 11 pages at sector 16");
    memset(data, 0, 11 * 4096);
    check_eq(rw_pages(BLKIF_OP_READ, 16, 11), BLKIF_RSP_OKAY, "read them back");
    check_true(check_pattern(data[0], 16, 88), "same data");
    /* Sub-page segments: sectors 2..5 of each page take disk sectors in turn. */
    memset(data, 0, 11 * 4096);
    check_eq(rw(&queues[0], BLKIF_OP_READ, 8, 1, 0, 0), BLKIF_RSP_OKAY, "read sector 8");
    check_true(!memcmp(data[0], "host wrote this", 15), "it holds what the host wrote");
    check_eq(rw(&queues[0], BLKIF_OP_READ, 16, 11, 2, 5), BLKIF_RSP_OKAY,
             "read 11 segments of sectors 2..5");
    check_true(check_pattern(data[0] + 2 * SECT, 16, 4) && check_pattern(data[10] + 2 * SECT, 56, 4),
               "each segment got its sectors");
}

static void test_flush_discard_indirect(void)
{
    check_eq(simple_op(BLKIF_OP_FLUSH_DISKCACHE), BLKIF_RSP_OKAY, "flush");
    fill_pattern(data[0], 1000, 1);
    check_eq(rw(&queues[0], BLKIF_OP_FLUSH_DISKCACHE, 1000, 1, 0, 0), BLKIF_RSP_OKAY,
             "flush with data (FUA write) at sector 1000");
    fill_pattern(data[0], 512, 8 * 16);
    check_eq(rw_pages(BLKIF_OP_WRITE, 512, 11), BLKIF_RSP_OKAY, "write sectors 512..599");
    check_eq(discard(512, 128), BLKIF_RSP_OKAY, "discard sectors 512..639");
    check_eq(rw_pages(BLKIF_OP_READ, 512, 1), BLKIF_RSP_OKAY, "read a discarded sector");
    check_true(data[0][0] == 0 && data[0][4095] == 0, "discarded sectors read as zeros");
    check_eq(discard(disk_sectors - 1, 2), BLKIF_RSP_ERROR, "discard past the end: error");
    fill_pattern(data[0], 64, 8 * 32);
    check_eq(indirect(BLKIF_OP_WRITE, 64, 32), BLKIF_RSP_OKAY, "indirect write of 32 pages");
    memset(data, 0, 32 * 4096);
    check_eq(indirect(BLKIF_OP_READ, 64, 32), BLKIF_RSP_OKAY, "indirect read of 32 pages");
    check_true(check_pattern(data[0], 64, 8 * 32), "indirect data matches");
}

static void test_bad_requests(void)
{
    grant_ref_t saved = data_ref[0];

    check_eq(rw_pages(BLKIF_OP_READ, disk_sectors - 4, 1), BLKIF_RSP_ERROR,
             "read past the end: error");
    check_eq(rw_pages(BLKIF_OP_READ, ~0ul, 1), BLKIF_RSP_ERROR, "read at sector ~0: error");
    check_eq(rw(&queues[0], BLKIF_OP_READ, 0, 1, 5, 2), BLKIF_RSP_ERROR,
             "first_sect > last_sect: error");
    check_eq(rw(&queues[0], BLKIF_OP_READ, 0, 1, 0, 8), BLKIF_RSP_ERROR,
             "segment past its page: error");
    check_eq(rw(&queues[0], BLKIF_OP_READ, 0, 0, 0, 7), BLKIF_RSP_ERROR, "no segments: error");
    check_eq(rw(&queues[0], BLKIF_OP_READ, 0, 12, 0, 7), BLKIF_RSP_ERROR, "12 segments: error");
    check_eq(simple_op(77), BLKIF_RSP_EOPNOTSUPP, "unknown operation: EOPNOTSUPP");
    check_eq(indirect(BLKIF_OP_READ, 0, 4000), BLKIF_RSP_ERROR, "4000 indirect segments: error");
    data_ref[0] = 4000;
    check_eq(rw_pages(BLKIF_OP_READ, 0, 1), BLKIF_RSP_ERROR, "a ref never granted: error");
    data_ref[0] = data_ref_ro;
    check_eq(rw_pages(BLKIF_OP_READ, 0, 1), BLKIF_RSP_ERROR,
             "reading into a read-only grant: error");
    data_ref[0] = saved;
}

static void test_readonly(void)
{
    check_eq(rw_pages(BLKIF_OP_READ, 8, 1), BLKIF_RSP_OKAY, "read-only disk: read works");
    check_true(!memcmp(data[0], "host wrote this", 15), "and returns the data");
    check_eq(rw_pages(BLKIF_OP_WRITE, 16, 1), BLKIF_RSP_ERROR, "read-only disk: write fails");
    check_eq(indirect(BLKIF_OP_WRITE, 16, 2), BLKIF_RSP_ERROR, "read-only disk: indirect write fails");
    check_eq(discard(16, 8), BLKIF_RSP_EOPNOTSUPP, "read-only disk: no discard");
}

/* Reconnect with two queues of two-page rings and persistent grants. */
static void test_reconnect(void)
{
    uint64_t id1 = 0;

    check_eq(disconnect(), XenbusStateClosed, "backend closes with the frontend");
    reinitialise();
    check_eq(xb_state(be), XenbusStateInitWait, "backend is ready again");
    check_eq(connect(NR_QUEUES, RING_ORDER, 1), XenbusStateConnected,
             "reconnected: 2 queues, 2-page rings, persistent grants");
    /* Fill most of queue 1's ring, then wait for every answer. */
    for (unsigned int i = 0; i < 40; i++) {
        blkif_request_t *r = next_request(&queues[1]);

        r->operation = BLKIF_OP_READ;
        r->nr_segments = 1;
        r->id = 100 + i;
        r->sector_number = 16;
        r->seg[0].gref = data_ref[i % DATA_PAGES];
        r->seg[0].last_sect = 7;
    }
    push(&queues[1]);
    for (unsigned int i = 0; i < 40; i++)
        if (wait_response(&queues[1], &id1) != BLKIF_RSP_OKAY)
            break;
    check_eq((long long)id1, 139, "queue 1: 40 reads in flight, all answered");
    check_true(check_pattern(data[39], 16, 8), "and the data arrived");
    fill_pattern(data[0], 24, 8);
    check_eq(rw_pages(BLKIF_OP_WRITE, 24, 1), BLKIF_RSP_OKAY, "queue 0 writes (persistent)");
    memset(data[0], 0, 4096);
    check_eq(rw_pages(BLKIF_OP_READ, 24, 1), BLKIF_RSP_OKAY, "and reads");
    check_true(check_pattern(data[0], 24, 8), "data through persistent grants");
}

/* A ring whose producer runs far ahead: the backend must let go cleanly. */
static void test_hostile_ring(void)
{
    queues[0].ring.sring->req_prod += 1000;
    xb_evtchn_send(queues[0].port);
    check_eq(xb_wait_state(be, XenbusStateClosing, XB_WAIT_DEFAULT), XenbusStateClosing,
             "bogus req_prod: the backend disconnects (Closing)");
    check_eq(disconnect(), XenbusStateClosed, "and closes");
    reinitialise();
    check_eq(connect(1, 0, 0), XenbusStateConnected, "a fresh connection works");
    check_eq(rw_pages(BLKIF_OP_READ, 8, 1), BLKIF_RSP_OKAY, "and reads");
}

/* ---- bench: throughput measured here, next to the host's own figure ---- */

static uint64_t now_ns(void)
{
    struct xen_hvm_get_time t = { 0 };

    HYPERVISOR_hvm_op(HVMOP_get_time, &t);
    return t.now;
}

/* Keep `depth` requests of `nseg` pages in flight over `total` bytes. */
static void bench_run(const char *name, uint8_t op, unsigned long total_mib, unsigned int nseg,
                      int random)
{
    struct queue *q = &queues[0];
    unsigned long bytes_per = nseg * 4096ul, n = (total_mib << 20) / bytes_per, done = 0, sent = 0;
    unsigned int depth = RING_SIZE(&q->ring) / 2, inflight = 0;
    uint32_t seed = 12345, rem;
    unsigned long span = disk_sectors / (nseg * 8);
    uint64_t t0 = now_ns(), ns;

    while (done < n) {
        while (sent < n && inflight < depth) {
            blkif_request_t *r = next_request(q);
            unsigned long slot = sent % span;

            if (random) {
                seed = seed * 1103515245u + 12345u;
                kit_udiv64(seed >> 4, (uint32_t)span, &rem);
                slot = rem;
            }
            r->operation = op;
            r->nr_segments = (uint8_t)nseg;
            r->id = sent;
            r->sector_number = slot * nseg * 8;
            for (unsigned int i = 0; i < nseg; i++) {
                r->seg[i].gref = data_ref[i];
                r->seg[i].last_sect = 7;
            }
            sent++;
            inflight++;
        }
        push(q);
        if (wait_response(q, NULL) != BLKIF_RSP_OKAY)
            kit_abort("bench I/O failed");
        inflight--;
        done++;
    }
    ns = now_ns() - t0;
    printf("BENCH blk %s bytes=%lu ns=%lu\n", name, (unsigned long)(n * bytes_per),
           (unsigned long)ns);
}

static void bench(unsigned long mib)
{
    bench_run("seq-write", BLKIF_OP_WRITE, mib, 11, 0);
    bench_run("seq-read", BLKIF_OP_READ, mib, 11, 0);
    bench_run("rand-write", BLKIF_OP_WRITE, mib / 8 ? mib / 8 : 1, 1, 1);
    bench_run("rand-read", BLKIF_OP_READ, mib / 8 ? mib / 8 : 1, 1, 1);
}

/* Acknowledge a FUA write, say so, then wait to be killed (kill -9 test). */
static void durable_then_hang(void)
{
    fill_pattern(data[0], 2000, 8);
    if (rw_pages(BLKIF_OP_FLUSH_DISKCACHE, 2000, 1) != BLKIF_RSP_OKAY)
        kit_abort("FUA write failed");
    printf("DURABLE sector 2000\n");
    for (;;)
        xb_yield();
}

/* Hot-unplug as xl block-detach does it: the toolstack sets the backend's
 * online = 0 and state = Closing; the frontend closes and the device goes. */
static void test_unplug(void)
{
    char buf[16], node[128];

    printf("CONNECTED, waiting for the unplug\n");
    check_eq(xb_wait_state(be, XenbusStateClosing, XB_WAIT_DEFAULT), XenbusStateClosing,
             "the backend asks us to close");
    xb_switch_state(fe, XenbusStateClosing);
    xb_switch_state(fe, XenbusStateClosed);
    snprintf(node, sizeof(node), "%s/backend", fe);
    for (unsigned long i = 0; i < XB_WAIT_DEFAULT && xb_read(node, buf, sizeof(buf)) >= 0; i++)
        xb_yield();
    check_eq(xb_read(node, buf, sizeof(buf)), -XEN_ENOENT, "the device is gone from XenStore");
    check_eq(xb_state(be), XenbusStateUnknown, "and so is its backend");
    release_rings();
}

void guest_main(void)
{
    unsigned long bench_mib = kit_arg_ulong("bench", 0);

    readonly = (int)kit_arg_ulong("ro", 0);
    if (xb_gnttab_init(2) || xb_init())
        kit_abort("no XenStore or grant table");
    for (unsigned int i = 0; i < DATA_PAGES; i++)
        data_ref[i] = xb_grant_page(data[i], 0, 0);
    data_ref_ro = xb_grant_page(data[1], 0, 1);
    indirect_ref = xb_grant_page(indirect_page, 0, 1);
    test_handshake();
    if (kit_arg_ulong("durable", 0))
        durable_then_hang();
    if (bench_mib) {
        bench(bench_mib);
        return;
    }
    if (kit_arg_ulong("unplug", 0)) {
        test_unplug();
        return;
    }
    if (readonly) {
        test_readonly();
        return;
    }
    test_read_write();
    test_flush_discard_indirect();
    test_bad_requests();
    test_reconnect();
    test_hostile_ring();
}
