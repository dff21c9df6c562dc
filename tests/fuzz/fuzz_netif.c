/* libFuzzer harness: the PV network backend's ring engine (netback_tx.c,
 * netback_rx.c, netback_ctrl.c, netback_pkt.c) as a hostile frontend
 * drives it, with packets from the host arriving meanwhile. The TX, RX and
 * control rings, the data pages and the grant table live in the fake VM's
 * RAM; the rings are mapped through their grants as nb_connect maps them,
 * data moves by grant copy, and TX packets go to one end of a datagram
 * socketpair standing in for the tap (the harness reads the other end).
 * Input:
 *
 *   u8 config: RX features (bit 0 sg, 1 gso_tcpv4, 2 gso_tcpv6, 3 csum_blank,
 *      4 ipv6_csum); bit 5 a control ring
 *   u32, u32: the TX and RX rsp_prod the rings show at connect
 *   steps, each a u8 kind, then:
 *     TX:     u8 flags, gref, u16 offset, u16 size, u8 id  -- a TX request at req_prod
 *     EXTRA:  u8 type, u8 flags, u16 gso size, u8 gso type -- an extra-info slot
 *     RX:     u8 id, gref                                  -- an RX buffer
 *     PKT:    u8 vnet flags, u8 gso type, u16 gso size, u16 csum start,
 *             u16 csum offset, u8 template, u16 length, u8 n, n bytes
 *                                                          -- the tap has a packet
 *     CTRL:   u8 type, u32 data                            -- a control request
 *     POKE:   u8 page, u16 offset, u8 length, bytes        -- any frontend page
 *     IDX:    u8 field, u32 value                          -- the shared indices, lying
 *     GRANT:  u16 ref, u8 kind, u8 frame                   -- a grant entry
 *     TXKICK, RXKICK, CTRLKICK                             -- the frontend notifies
 *     RECONNECT                                            -- after a fatal error
 *   A gref is a u8: data pages (some read-only grants), the rings' pages,
 *   or 0xff and a raw u32. Data pages 0 and 1 start out holding a TCP/IPv4
 *   and a UDP/IPv6 (VLAN, hop-by-hop) frame for TX requests to send.
 *
 * Checked beyond the sanitizers: every request taken gets exactly one
 * response, each packet on the tap is its first request's size behind a
 * virtio-net header and is counted, and no grant stays pinned. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../xenemu/gnttab_internal.h"
#include "fuzz_vm.h"
#include "xenkvm/netback_ring.h"

#define RAM_SIZE (2ULL << 20)
#define TX_GFN 0x100u
#define RX_GFN 0x101u
#define CTRL_GFN 0x102u
#define DATA_GFN 0x120u
#define DATA_PAGES 64u
#define GT_GFN 0x1f0u
#define TX_REF 8u
#define RX_REF 9u
#define CTRL_REF 10u
#define DATA_REF 32u
#define RO_REF (DATA_REF + DATA_PAGES)
#define NR_PAGES (3 + DATA_PAGES + 1)
#define MAX_STEPS 96

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct fuzz_vm fv;
static struct nb_queue *q;
static xen_netif_ctrl_back_ring_t ctrl;
static int connected, has_ctrl;
static struct nb_rx_features rxf;
static int tap[2] = { -1, -1 }; /* [0] the backend's, [1] the harness reads */
static uint8_t *tap_buf;
/* A host packet waiting for RX buffers, as netback.c's rxbuf. */
static uint8_t *pkt;
static size_t pkt_len;
static struct virtio_net_hdr pkt_hdr;
static int pkt_waiting;

static void fail(const char *why)
{
	fprintf(stderr, "fuzz_netif: %s\n", why);
	abort();
}

static uint8_t *page(unsigned gfn)
{
	return fuzz_page(&fv, gfn);
}

static unsigned page_gfn(unsigned i)
{
	i %= NR_PAGES;
	if (i < 3)
		return TX_GFN + i;
	i -= 3;
	return i < DATA_PAGES ? DATA_GFN + i : GT_GFN;
}

static netif_tx_sring_t *tx_sring(void)
{
	return (void *)page(TX_GFN);
}

static netif_rx_sring_t *rx_sring(void)
{
	return (void *)page(RX_GFN);
}

static xen_netif_ctrl_sring_t *ctrl_sring(void)
{
	return (void *)page(CTRL_GFN);
}

static void grant(grant_ref_t ref, uint16_t flags, domid_t domid, uint32_t frame)
{
	fuzz_grant(&fv, GT_GFN, ref, flags, domid, frame);
}

static grant_ref_t gref(struct fuzz_input *in)
{
	uint8_t v = fin_u8(in);

	if (v == 0xff)
		return fin_u32(in);
	if (v >= 0xf0)
		return TX_REF + (v - 0xf0u) % 3;
	return DATA_REF + v % (DATA_PAGES + 8);
}

/* ---- frames the frontend and the host send ---- */

static const uint8_t eth_ipv4_tcp[] = {
	2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00,                  /* Ethernet */
	0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, /* IPv4 */
	0x30, 0x39, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x10, 0xff, 0xff, 0, 0, 0, 0, /* TCP */
};

static const uint8_t eth_vlan_ipv6_udp[] = {
	2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x81, 0x00, 0, 5, 0x86, 0xdd, /* Ethernet, VLAN */
	0x60, 0, 0, 0, 0, 16, 0, 64,                                     /* IPv6 */
	0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
	0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,
	17, 0, 0, 0, 0, 0, 0, 0,                                         /* hop-by-hop */
	0x30, 0x39, 0, 53, 0, 8, 0, 0,                                   /* UDP */
};

/* ---- the frontend's steps ---- */

static void step_tx(struct fuzz_input *in)
{
	netif_tx_sring_t *s = tx_sring();
	netif_tx_request_t r = { .flags = fin_u8(in) };

	r.gref = gref(in);
	r.offset = fin_u16(in);
	r.size = fin_u16(in);
	r.id = fin_u8(in);
	s->ring[s->req_prod & (__RING_SIZE(s, NB_PAGE) - 1)].req = r;
	s->req_prod++;
}

static void step_extra(struct fuzz_input *in)
{
	netif_tx_sring_t *s = tx_sring();
	struct netif_extra_info e = { .type = fin_u8(in) % 6, .flags = fin_u8(in) };

	e.u.gso.size = fin_u16(in);
	e.u.gso.type = fin_u8(in) % 4;
	memcpy(&s->ring[s->req_prod & (__RING_SIZE(s, NB_PAGE) - 1)].req, &e, sizeof(e));
	s->req_prod++;
}

static void step_rx(struct fuzz_input *in)
{
	netif_rx_sring_t *s = rx_sring();
	netif_rx_request_t r = { .id = fin_u8(in) };

	r.gref = gref(in);
	s->ring[s->req_prod & (__RING_SIZE(s, NB_PAGE) - 1)].req = r;
	s->req_prod++;
}

static void step_ctrl(struct fuzz_input *in)
{
	xen_netif_ctrl_sring_t *s = ctrl_sring();
	struct xen_netif_ctrl_request r = { .id = 1, .type = fin_u8(in) % 12 };

	r.data[0] = fin_u32(in);
	s->ring[s->req_prod & (__RING_SIZE(s, NB_PAGE) - 1)].req = r;
	s->req_prod++;
}

static void step_poke(struct fuzz_input *in)
{
	fuzz_step_poke(&fv, in, page_gfn);
}

static void step_index(struct fuzz_input *in)
{
	uint8_t field = fin_u8(in);
	uint32_t v = fin_u32(in);

	switch (field % 8) {
	case 0: tx_sring()->req_prod = v; break;
	case 1: tx_sring()->req_prod += v % 64; break;
	case 2: tx_sring()->rsp_prod = v; break;
	case 3: tx_sring()->rsp_event = v; break;
	case 4: rx_sring()->req_prod = v; break;
	case 5: rx_sring()->req_prod += v % 64; break;
	case 6: rx_sring()->rsp_prod = v; break;
	default: ctrl_sring()->req_prod = v; break;
	}
}

static void step_grant(struct fuzz_input *in)
{
	fuzz_step_grant(&fv, in, GT_GFN, page_gfn);
}

/* ---- the backend ---- */

static void disconnect(void)
{
	if (!connected)
		return;
	gnttab_unmap_for_backend(fv.x.gnttab, TX_REF, 1);
	gnttab_unmap_for_backend(fv.x.gnttab, RX_REF, 1);
	if (has_ctrl)
		gnttab_unmap_for_backend(fv.x.gnttab, CTRL_REF, 1);
	connected = 0;
	pkt_waiting = 0;
}

/* As connect_queue and connect_ctrl. */
static void ring_connect(void)
{
	void *tx, *rx, *c = NULL;

	if (gnttab_map_for_backend(fv.x.gnttab, TX_REF, 1, &tx) != GNTST_okay)
		return;
	if (gnttab_map_for_backend(fv.x.gnttab, RX_REF, 1, &rx) != GNTST_okay) {
		gnttab_unmap_for_backend(fv.x.gnttab, TX_REF, 1);
		return;
	}
	if (has_ctrl && gnttab_map_for_backend(fv.x.gnttab, CTRL_REF, 1, &c) != GNTST_okay) {
		gnttab_unmap_for_backend(fv.x.gnttab, TX_REF, 1);
		gnttab_unmap_for_backend(fv.x.gnttab, RX_REF, 1);
		return;
	}
	memset(q, 0, sizeof(*q));
	nb_queue_attach(q, fv.x.gnttab, tx, rx, tap[0]);
	q->rxf = rxf;
	if (c)
		BACK_RING_ATTACH(&ctrl, (xen_netif_ctrl_sring_t *)c,
				 __atomic_load_n(&((xen_netif_ctrl_sring_t *)c)->rsp_prod,
						 __ATOMIC_ACQUIRE),
				 NB_PAGE);
	connected = 1;
}

/* (A queue that hit a fatal error answers nothing more: it is dropped.) */
static void check_rings(void)
{
	if (q->fatal)
		return;
	if (q->tx.rsp_prod_pvt != q->tx.req_cons)
		fail("a TX request without exactly one response");
	if (q->rx.rsp_prod_pvt != q->rx.req_cons)
		fail("an RX request without exactly one response");
}

/* What reached the tap: one datagram per packet counted as sent. */
static void drain_tap(uint64_t sent_before)
{
	uint64_t got = 0;
	ssize_t n;

	while ((n = recv(tap[1], tap_buf, NB_VNET_HDR_LEN + NB_MAX_PACKET + 1, 0)) >= 0) {
		if ((size_t)n < NB_VNET_HDR_LEN + NB_ETH_HLEN ||
		    (size_t)n > NB_VNET_HDR_LEN + NB_MAX_PACKET)
			fail("a packet of an impossible size on the tap");
		got++;
	}
	if (got != q->stats.tx_packets - sent_before)
		fail("packets on the tap and packets counted differ");
}

static void tx_kick(void)
{
	uint64_t sent = q->stats.tx_packets;
	int notify, rc;

	/* As conn_tx: the loop comes back while the budget runs out. */
	do
		rc = nb_tx_process(q, &notify);
	while (rc > 0);
	check_rings();
	drain_tap(sent);
	if (rc < 0)
		disconnect();
}

/* As rx_one and conn_rx_retry: a packet waits for enough buffers. */
static void rx_try(void)
{
	int rc = nb_rx_deliver(q, &pkt_hdr, pkt, pkt_len);

	pkt_waiting = rc == 0;
	nb_rx_push(q);
	check_rings();
	if (rc < 0)
		disconnect();
}

static void step_pkt(struct fuzz_input *in)
{
	size_t n, got, at;
	const uint8_t *bytes;
	uint8_t tmpl;

	pkt_hdr = (struct virtio_net_hdr){ .flags = fin_u8(in), .gso_type = fin_u8(in) };
	pkt_hdr.gso_size = fin_u16(in);
	pkt_hdr.csum_start = fin_u16(in);
	pkt_hdr.csum_offset = fin_u16(in);
	tmpl = fin_u8(in);
	pkt_len = fin_u16(in);
	memset(pkt, 0, pkt_len);
	if (tmpl % 3 == 1)
		memcpy(pkt, eth_ipv4_tcp, pkt_len < sizeof(eth_ipv4_tcp) ? pkt_len : sizeof(eth_ipv4_tcp));
	else if (tmpl % 3 == 2)
		memcpy(pkt, eth_vlan_ipv6_udp,
		       pkt_len < sizeof(eth_vlan_ipv6_udp) ? pkt_len : sizeof(eth_vlan_ipv6_udp));
	n = fin_u8(in);
	bytes = fin_bytes(in, n, &got);
	/* The bytes go over the template from offset tmpl >> 2 on. */
	at = tmpl >> 2 < pkt_len ? tmpl >> 2 : pkt_len;
	memcpy(pkt + at, bytes, got < pkt_len - at ? got : pkt_len - at);
	if (connected && !pkt_waiting)
		rx_try();
}

static void ctrl_kick(void)
{
	const char *why = NULL;
	int notify, rc;

	if (!has_ctrl)
		return;
	while ((rc = nb_ctrl_process(&ctrl, &notify, &why)) > 0)
		;
	if (rc < 0) {
		if (!why)
			fail("a control ring error without a reason");
		disconnect();
		return;
	}
	if (ctrl.rsp_prod_pvt != ctrl.req_cons)
		fail("a control request without exactly one response");
}

static void setup_frontend(uint32_t tx_rsp, uint32_t rx_rsp)
{
	if (gnttab_add_to_physmap(fv.x.gnttab, 0, GT_GFN) != 0)
		fail("cannot map the grant table");
	grant(TX_REF, GTF_permit_access, GNTTAB_BACKEND_DOMID, TX_GFN);
	grant(RX_REF, GTF_permit_access, GNTTAB_BACKEND_DOMID, RX_GFN);
	grant(CTRL_REF, GTF_permit_access, GNTTAB_BACKEND_DOMID, CTRL_GFN);
	for (unsigned k = 0; k < DATA_PAGES; k++)
		grant(DATA_REF + k, GTF_permit_access, GNTTAB_BACKEND_DOMID, DATA_GFN + k);
	for (unsigned k = 0; k < 8; k++)
		grant(RO_REF + k, GTF_permit_access | GTF_readonly, GNTTAB_BACKEND_DOMID,
		      DATA_GFN + k);
	/* SHARED_RING_INIT, resumed where the indices say. */
	tx_sring()->req_prod = tx_sring()->rsp_prod = tx_rsp;
	tx_sring()->req_event = tx_sring()->rsp_event = tx_rsp + 1;
	rx_sring()->req_prod = rx_sring()->rsp_prod = rx_rsp;
	rx_sring()->req_event = rx_sring()->rsp_event = rx_rsp + 1;
	ctrl_sring()->req_event = ctrl_sring()->rsp_event = 1;
	memcpy(page(DATA_GFN), eth_ipv4_tcp, sizeof(eth_ipv4_tcp));
	memcpy(page(DATA_GFN + 1), eth_vlan_ipv6_udp, sizeof(eth_vlan_ipv6_udp));
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
	q = calloc(1, sizeof(*q));
	pkt = malloc(NB_MAX_PACKET + 1);
	tap_buf = malloc(NB_VNET_HDR_LEN + NB_MAX_PACKET + 1);
	if (!q || !pkt || !tap_buf ||
	    socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, tap) < 0)
		return -1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	uint8_t config = fin_u8(&in);
	uint32_t tx_rsp = fin_u32(&in), rx_rsp = fin_u32(&in);

	rxf = (struct nb_rx_features){ .sg = config & 1, .gso_tcpv4 = !!(config & 2),
				       .gso_tcpv6 = !!(config & 4), .csum_blank = !!(config & 8),
				       .ipv6_csum = !!(config & 16) };
	has_ctrl = !!(config & 32);
	pkt_waiting = 0;
	fuzz_vm_create(&fv, RAM_SIZE, 1, FUZZ_NO_STORE);
	setup_frontend(tx_rsp, rx_rsp);
	ring_connect();
	for (int n = 0; n < MAX_STEPS && in.left; n++) {
		switch (fin_u8(&in) % 12) {
		case 0: step_tx(&in); break;
		case 1: step_extra(&in); break;
		case 2: step_rx(&in); break;
		case 3: step_pkt(&in); break;
		case 4: step_ctrl(&in); break;
		case 5: step_poke(&in); break;
		case 6: step_index(&in); break;
		case 7: step_grant(&in); break;
		case 8: if (connected) tx_kick(); break;
		case 9: if (connected && pkt_waiting) rx_try(); break;
		case 10: if (connected) ctrl_kick(); break;
		default: if (!connected) ring_connect(); break;
		}
	}
	if (connected)
		tx_kick();
	if (getenv("FUZZ_TRACE")) /* what a seed did */
		fprintf(stderr, "tx %llu sent %llu errors %llu dropped, rx %llu delivered %llu errors "
			"%llu dropped, %s\n", (unsigned long long)q->stats.tx_packets,
			(unsigned long long)q->stats.tx_errors, (unsigned long long)q->stats.tx_dropped,
			(unsigned long long)q->stats.rx_packets, (unsigned long long)q->stats.rx_errors,
			(unsigned long long)q->stats.rx_dropped, q->fatal ? q->fatal : "no fatal error");
	disconnect();
	check_no_pins();
	fuzz_vm_destroy(&fv);
	return 0;
}
