/*
 * A small netfront (vif 0) against xenkvm's network backend, polling with
 * SCHEDOP_yield so the 32-bit build needs no interrupts. It connects the
 * way Linux netfront does (rings, event channel(s), request-rx-copy,
 * feature-sg; Connected), waits for the host's "XKSTART" frame, then:
 *   1. sends two "XKHELLO" frames (60 bytes; 6000 bytes over two slots);
 *   2. echoes n= frames the host injects into the tap ("XKHOST" -> "XKECHO"),
 *      checking their payload, over as many RX slots as they need;
 *   3. closes, checks the backend let go of the rings' grants, connects
 *      again and sends "XKAGAIN".
 * With bench=N it instead sends N small frames as fast as the ring allows,
 * then counts injected frames until an "XKSTOP" frame and reports the count
 * in an "XKCOUNT" frame. split=1 uses split event channels.
 */
#define xen_mb() xb_mb()
#define xen_rmb() xb_barrier()
#define xen_wmb() xb_barrier()
#include "xenbus.h"
#include <xen/io/netif.h>

#define FE "device/vif/0"
#define NR_RX 16
#define NR_TX 32
#define ETHERTYPE_TEST 0x88b5
#define MAX_FRAME 9100
#define WAIT XB_WAIT_DEFAULT

static uint8_t tx_ring_page[4096] __attribute__((aligned(4096)));
static uint8_t rx_ring_page[4096] __attribute__((aligned(4096)));
static uint8_t rx_pages[NR_RX][4096] __attribute__((aligned(4096)));
static uint8_t tx_pages[NR_TX][4096] __attribute__((aligned(4096)));
static grant_ref_t rx_refs[NR_RX], tx_refs[NR_TX], tx_ring_ref, rx_ring_ref;
static netif_tx_front_ring_t tx;
static netif_rx_front_ring_t rx;
static evtchn_port_t port_tx, port_rx;
static char be[128];
static uint8_t mac[6];
static uint8_t frame[MAX_FRAME], out[MAX_FRAME];
static unsigned tx_used; /* tx pages queued since the last flush */

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                          : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static int read_mac(void)
{
    char s[32];

    if (xb_read(FE "/mac", s, sizeof(s)) != 17)
        return -1;
    for (int i = 0; i < 6; i++) {
        int hi = hexval(s[i * 3]), lo = hexval(s[i * 3 + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        mac[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

static void notify(evtchn_port_t port)
{
    xb_evtchn_send(port);
}

/* ---- RX ---- */

/* The request at ring position p always uses buffer p % NR_RX, so a slot's
 * buffer is known from its position even for an extra-info response. */
static void rx_post(RING_IDX p)
{
    netif_rx_request_t *r = RING_GET_REQUEST(&rx, p);

    r->id = (uint16_t)(p % NR_RX);
    r->gref = rx_refs[p % NR_RX];
}

static void rx_post_all(void)
{
    for (unsigned i = 0; i < NR_RX; i++)
        rx_post(rx.req_prod_pvt++);
    RING_PUSH_REQUESTS(&rx);
}

/* Hand the slots consumed so far back to the backend. */
static void rx_repost(RING_IDX upto)
{
    int need;

    while (rx.req_prod_pvt < upto + NR_RX)
        rx_post(rx.req_prod_pvt++);
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&rx, need);
    if (need)
        notify(port_rx);
}

/* One frame into frame[]: its length, 0 when none arrived, -1 on an error
 * response or a malformed chain. */
static long rx_frame(void)
{
    RING_IDX prod = rx.sring->rsp_prod;
    long len = 0;
    int more = 1, bad = 0;

    xen_rmb();
    if (rx.rsp_cons == prod)
        return 0;
    while (more) {
        netif_rx_response_t *r;

        if (rx.rsp_cons == prod)
            return -1; /* the backend publishes whole packets */
        r = RING_GET_RESPONSE(&rx, rx.rsp_cons);
        if (r->status < 0 || r->id != rx.rsp_cons % NR_RX ||
            len + r->status + r->offset > MAX_FRAME || r->offset + r->status > 4096)
            bad = 1;
        else
            memcpy(frame + len, rx_pages[r->id] + r->offset, (size_t)r->status);
        len += r->status < 0 ? 0 : r->status;
        more = r->flags & NETRXF_more_data;
        rx.rsp_cons += (r->flags & NETRXF_extra_info) ? 2 : 1;
    }
    rx_repost(rx.rsp_cons);
    return bad ? -1 : len;
}

static int is_test_frame(long len, const char *tag)
{
    return len >= 22 && frame[12] == ETHERTYPE_TEST >> 8 &&
           frame[13] == (ETHERTYPE_TEST & 0xff) && (!tag || !memcmp(frame + 14, tag, 7));
}

/* Wait for a test frame: with tag, that one; else any but the host's
 * start signal (it repeats it until our hellos arrive). Other frames, e.g.
 * from the host's own stack, are skipped. */
static long rx_wait_test_frame(const char *tag)
{
    for (unsigned long y = 0; y < WAIT; y++) {
        long len = rx_frame();
        if (len < 0)
            return -1;
        if (is_test_frame(len, tag) && (tag || memcmp(frame + 14, "XKSTART", 7)))
            return len;
        if (len == 0)
            xb_yield();
    }
    return 0;
}

/* ---- TX ---- */

/* A request for tx page i; the first slot's size is the frame's. */
static void tx_post(unsigned i, unsigned size, uint16_t flags)
{
    netif_tx_request_t *r = RING_GET_REQUEST(&tx, tx.req_prod_pvt++);

    r->gref = tx_refs[i];
    r->offset = 0;
    r->flags = flags;
    r->id = (uint16_t)i;
    r->size = (uint16_t)size;
}

/* Queue a frame in as many slots as it needs; -1 when the batch is full. */
static int tx_queue(const uint8_t *f, unsigned len)
{
    unsigned slots = (len + 4095) / 4096, off = 0;

    if (tx_used + slots > NR_TX)
        return -1;
    for (unsigned s = 0; s < slots; s++) {
        unsigned chunk = len - off > 4096 ? 4096 : len - off;

        memcpy(tx_pages[tx_used], f + off, chunk);
        tx_post(tx_used++, s == 0 ? len : chunk, s + 1 < slots ? NETTXF_more_data : 0);
        off += chunk;
    }
    return 0;
}

/* Push the batch and wait for every response: the pages are free again.
 * Returns the number of slots that did not get NETIF_RSP_OKAY. */
static unsigned tx_flush(void)
{
    unsigned errors = 0;
    unsigned long y = 0;
    int need;

    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&tx, need);
    if (need)
        notify(port_tx);
    while (tx.rsp_cons != tx.req_prod_pvt && y++ < WAIT) {
        RING_IDX prod = tx.sring->rsp_prod;
        xen_rmb();
        if (tx.rsp_cons == prod)
            xb_yield();
        for (; tx.rsp_cons != prod; tx.rsp_cons++)
            errors += RING_GET_RESPONSE(&tx, tx.rsp_cons)->status != NETIF_RSP_OKAY;
    }
    errors += tx.req_prod_pvt - tx.rsp_cons;
    tx_used = 0;
    return errors;
}

static unsigned tx_frame(const uint8_t *f, unsigned len)
{
    tx_queue(f, len);
    return tx_flush();
}

/* A test frame: tag (7 bytes) and sequence number, then a pattern. */
static unsigned make_frame(uint8_t *f, const uint8_t *dst, const char *tag, unsigned seq,
                           unsigned len)
{
    memcpy(f, dst, 6);
    memcpy(f + 6, mac, 6);
    f[12] = ETHERTYPE_TEST >> 8, f[13] = ETHERTYPE_TEST & 0xff;
    memcpy(f + 14, tag, 7);
    f[21] = (uint8_t)seq;
    for (unsigned i = 22; i < len; i++)
        f[i] = (uint8_t)(i + seq);
    return len;
}

static const uint8_t broadcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* ---- XenBus ---- */

static void grant_all(void)
{
    tx_ring_ref = xb_grant_page(tx_ring_page, 0, 0);
    rx_ring_ref = xb_grant_page(rx_ring_page, 0, 0);
    for (unsigned i = 0; i < NR_RX; i++)
        rx_refs[i] = xb_grant_page(rx_pages[i], 0, 0);
    for (unsigned i = 0; i < NR_TX; i++)
        tx_refs[i] = xb_grant_page(tx_pages[i], 0, 1);
    if (!tx_ring_ref || !rx_ring_ref || !rx_refs[NR_RX - 1] || !tx_refs[NR_TX - 1])
        kit_abort("out of grant entries");
}

static void write_frontend(int split)
{
    xb_printf(FE "/tx-ring-ref", "%u", tx_ring_ref);
    xb_printf(FE "/rx-ring-ref", "%u", rx_ring_ref);
    if (split) {
        xb_printf(FE "/event-channel-tx", "%u", port_tx);
        xb_printf(FE "/event-channel-rx", "%u", port_rx);
    } else {
        xb_printf(FE "/event-channel", "%u", port_tx);
    }
    xb_write(FE "/request-rx-copy", "1");
    xb_write(FE "/feature-rx-notify", "1");
    xb_write(FE "/feature-sg", "1");
}

static int connect(int split)
{
    netif_tx_sring_t *ts = (netif_tx_sring_t *)tx_ring_page;
    netif_rx_sring_t *rs = (netif_rx_sring_t *)rx_ring_page;

    SHARED_RING_INIT(ts);
    SHARED_RING_INIT(rs);
    FRONT_RING_INIT(&tx, ts, 4096);
    FRONT_RING_INIT(&rx, rs, 4096);
    grant_all();
    if (xb_evtchn_alloc_unbound(0, &port_tx))
        kit_abort("alloc_unbound failed");
    port_rx = port_tx;
    if (split && xb_evtchn_alloc_unbound(0, &port_rx))
        kit_abort("alloc_unbound failed");
    write_frontend(split);
    rx_post_all();
    xb_switch_state(FE, XenbusStateConnected);
    return xb_wait_state(be, XenbusStateConnected, WAIT);
}

/* Close as netfront does, then take every grant back: each must be free
 * (-EBUSY would mean the backend still maps a ring). */
static void disconnect(void)
{
    long busy = 0;

    xb_switch_state(FE, XenbusStateClosing);
    check_eq(xb_wait_state(be, XenbusStateClosing, WAIT), XenbusStateClosing,
             "backend follows to Closing");
    xb_switch_state(FE, XenbusStateClosed);
    check_eq(xb_wait_state(be, XenbusStateClosed, WAIT), XenbusStateClosed,
             "backend follows to Closed");
    busy |= xb_grant_end(tx_ring_ref) | xb_grant_end(rx_ring_ref);
    for (unsigned i = 0; i < NR_RX; i++)
        busy |= xb_grant_end(rx_refs[i]);
    for (unsigned i = 0; i < NR_TX; i++)
        busy |= xb_grant_end(tx_refs[i]);
    check_eq(busy, 0, "the backend released every grant");
    xb_evtchn_close(port_tx);
    if (port_rx != port_tx)
        xb_evtchn_close(port_rx);
}

/* ---- the tests ---- */

static void send_hellos(void)
{
    check_eq(tx_frame(out, make_frame(out, broadcast, "XKHELLO", 0, 60)), 0,
             "hello 0 (60 bytes) sent");
    check_eq(tx_frame(out, make_frame(out, broadcast, "XKHELLO", 1, 6000)), 0,
             "hello 1 (6000 bytes, 2 slots) sent");
}

static int host_frame_ok(long len, unsigned seq)
{
    if (len < 22 || memcmp(frame, mac, 6) || memcmp(frame + 14, "XKHOST", 6) || frame[21] != (uint8_t)seq)
        return 0;
    for (long i = 22; i < len; i++)
        if (frame[i] != (uint8_t)(i * 3 + seq))
            return 0;
    return 1;
}

static void echo_frames(unsigned n)
{
    unsigned good = 0, sent = 0;

    for (unsigned seq = 0; seq < n; seq++) {
        long len = rx_wait_test_frame(NULL);
        if (len <= 0 || !host_frame_ok(len, seq)) {
            printf("frame %u: length %ld, not the expected one\n", seq, len);
            continue;
        }
        good++;
        /* Back to the sender, tagged, payload unchanged. */
        memcpy(out, frame + 6, 6);
        memcpy(out + 6, mac, 6);
        memcpy(out + 12, frame + 12, (size_t)len - 12);
        memcpy(out + 14, "XKECHO", 6);
        sent += tx_frame(out, (unsigned)len) == 0;
    }
    check_eq(good, n, "host frames received intact");
    check_eq(sent, n, "echoes sent");
}

/* Every tx page holds the same small frame, written once: the loop only
 * posts requests, so it measures the ring and the backend, not memcpy. */
static void bench_tx(unsigned n)
{
    unsigned errors = 0, len = make_frame(out, broadcast, "XKBENCH", 0, 60);

    for (unsigned i = 0; i < NR_TX; i++)
        memcpy(tx_pages[i], out, len);
    for (unsigned i = 0; i < n; i++) {
        if (tx_used == NR_TX)
            errors += tx_flush();
        tx_post(tx_used++, len, 0);
    }
    errors += tx_flush();
    check_eq(errors, 0, "bench frames sent");
}

static void bench_rx(void)
{
    unsigned count = 0;

    for (;;) {
        long len = rx_wait_test_frame(NULL);
        if (len <= 0)
            break;
        if (!memcmp(frame + 14, "XKSTOP", 6))
            break;
        count++;
    }
    make_frame(out, broadcast, "XKCOUNT", 0, 60);
    memcpy(out + 22, &count, sizeof(count));
    check_eq(tx_frame(out, 60), 0, "count frame sent");
    printf("bench: received %u frames\n", count);
}

void guest_main(void)
{
    unsigned n = (unsigned)kit_arg_ulong("n", 4), bench = (unsigned)kit_arg_ulong("bench", 0);
    int split = (int)kit_arg_ulong("split", 0);

    if (xb_gnttab_init(2) || xb_init())
        kit_abort("xb_init failed");
    check_true(xb_read(FE "/backend", be, sizeof(be)) > 0, "frontend names its backend");
    check_eq(read_mac(), 0, "frontend has a mac");
    check_eq(xb_wait_state(be, XenbusStateInitWait, WAIT), XenbusStateInitWait,
             "backend in InitWait");
    check_eq(xb_read_ulong("/local/domain/0/backend/vif/1/0/feature-rx-copy", 0), 1,
             "backend offers rx-copy");
    check_eq(connect(split), XenbusStateConnected, "backend Connected");
    check_true(rx_wait_test_frame("XKSTART") > 0, "the host is listening");
    send_hellos();
    if (bench) {
        bench_tx(bench);
        bench_rx();
        return;
    }
    echo_frames(n);
    disconnect();
    xb_switch_state(FE, XenbusStateInitialising);
    check_eq(xb_wait_state(be, XenbusStateInitWait, WAIT), XenbusStateInitWait,
             "backend back in InitWait");
    check_eq(connect(split), XenbusStateConnected, "reconnected");
    check_eq(tx_frame(out, make_frame(out, broadcast, "XKAGAIN", 0, 60)), 0,
             "frame sent after reconnecting");
    disconnect();
}
