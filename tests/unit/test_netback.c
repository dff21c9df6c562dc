/* Unit tests for the network backend: --net spec parsing, and the netif
 * ring engine driven as a frontend would, on rings in memfd guest RAM with
 * a real grant table and a datagram socketpair standing in for the tap.
 * Hostile rings (indices out of range, too many slots, pages crossed, bad
 * grants) must get the protocol's error response or a fatal stop, never a
 * crash or a copy outside the granted page. */
#include <check.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "run_suite.h"
#include "xenkvm/gnttab.h"
#include "xenkvm/guest_mem.h"
#include "xenkvm/netback.h"
#include "xenkvm/netback_ring.h"

#define RAM_SIZE (16ULL << 20)
#define GT_GFN 0x100ULL      /* the grant table's first frame, over RAM */
#define TX_RING 0x200000ULL
#define RX_RING 0x201000ULL
#define CTRL_RING 0x202000ULL
#define DATA 0x300000ULL     /* data pages: DATA + n * 4096, granted as ref 10 + n */
#define REF(n) (10u + (n))
#define NPAGES 40
#define BAD_REF 5000u        /* inside the table, never granted */

static struct guest_mem mem;
static struct gnttab *gt;
static struct nb_queue *q;
static netif_tx_front_ring_t txf;
static netif_rx_front_ring_t rxf;
static int sock[2]; /* [0] is the tap the engine writes; [1] is the host side */

static uint8_t *gptr(uint64_t gpa, size_t len)
{
	uint8_t *p = gmem_ptr(&mem, gpa, len);

	ck_assert_ptr_nonnull(p);
	return p;
}

static uint8_t *page(unsigned n)
{
	return gptr(DATA + n * 4096ULL, 4096);
}

static void grant_pages(void)
{
	grant_entry_v1_t *e = (grant_entry_v1_t *)gptr(GT_GFN << 12, 4096);

	for (unsigned n = 0; n < NPAGES; n++)
		e[REF(n)] = (grant_entry_v1_t){ GTF_permit_access, 0,
						(uint32_t)((DATA >> 12) + n) };
}

static void setup(void)
{
	ck_assert_int_eq(gmem_init(&mem, RAM_SIZE, NULL, NULL), 0);
	ck_assert_int_eq(gnttab_create(&gt, &mem, GNTTAB_DEFAULT_MAX_FRAMES, 0x10, 0x11), 0);
	ck_assert_int_eq(gnttab_add_to_physmap(gt, 0, GT_GFN), 0);
	grant_pages();
	netif_tx_sring_t *txs = (netif_tx_sring_t *)gptr(TX_RING, 4096);
	netif_rx_sring_t *rxs = (netif_rx_sring_t *)gptr(RX_RING, 4096);
	SHARED_RING_INIT(txs);
	SHARED_RING_INIT(rxs);
	FRONT_RING_INIT(&txf, txs, 4096);
	FRONT_RING_INIT(&rxf, rxs, 4096);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sock), 0);
	q = calloc(1, sizeof(*q));
	ck_assert_ptr_nonnull(q);
	nb_queue_attach(q, gt, txs, rxs, sock[0]);
	q->rxf = (struct nb_rx_features){ .sg = 1, .gso_tcpv4 = 1, .gso_tcpv6 = 1,
					  .csum_blank = 1, .ipv6_csum = 1 };
}

static void teardown(void)
{
	free(q);
	close(sock[0]);
	close(sock[1]);
	gnttab_destroy(gt);
	gmem_destroy(&mem);
}

/* ---- frames ---- */

/* A UDP/IPv4 frame of len bytes (>= 42) with a recognisable payload. */
static void make_udp4(uint8_t *f, size_t len)
{
	static const uint8_t hdr[42] = {
		0x00, 0x16, 0x3e, 0, 0, 1, 0x00, 0x16, 0x3e, 0, 0, 2, 0x08, 0x00,
		0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, IPPROTO_UDP, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
		0x12, 0x34, 0x56, 0x78, 0, 0, 0, 0,
	};

	memcpy(f, hdr, sizeof(hdr));
	f[16] = (uint8_t)((len - 14) >> 8), f[17] = (uint8_t)(len - 14);
	f[38] = (uint8_t)((len - 34) >> 8), f[39] = (uint8_t)(len - 34);
	for (size_t i = 42; i < len; i++)
		f[i] = (uint8_t)(i * 7);
}

/* A TCP/IPv4 frame (20-byte TCP header). */
static void make_tcp4(uint8_t *f, size_t len)
{
	make_udp4(f, len);
	f[23] = IPPROTO_TCP;
	memset(f + 34, 0, 20);
	f[46] = 5 << 4;
}

/* What the engine wrote to the tap: 0 when nothing. */
static size_t host_read(struct virtio_net_hdr *h, uint8_t *buf, size_t len)
{
	uint8_t raw[NB_VNET_HDR_LEN + 70000];
	ssize_t n = read(sock[1], raw, sizeof(raw));

	if (n <= 0)
		return 0;
	ck_assert_int_ge(n, (ssize_t)NB_VNET_HDR_LEN);
	memcpy(h, raw, NB_VNET_HDR_LEN);
	ck_assert_uint_le((size_t)n - NB_VNET_HDR_LEN, len);
	memcpy(buf, raw + NB_VNET_HDR_LEN, (size_t)n - NB_VNET_HDR_LEN);
	return (size_t)n - NB_VNET_HDR_LEN;
}

/* ---- the frontend's side of the TX ring ---- */

static void tx_put(grant_ref_t ref, uint16_t off, uint16_t flags, uint16_t id, uint16_t size)
{
	netif_tx_request_t *r = RING_GET_REQUEST(&txf, txf.req_prod_pvt++);

	*r = (netif_tx_request_t){ .gref = ref, .offset = off, .flags = flags, .id = id,
				   .size = size };
}

static void tx_put_extra(const struct netif_extra_info *e)
{
	memcpy(RING_GET_REQUEST(&txf, txf.req_prod_pvt++), e, sizeof(*e));
}

static int tx_run(int *notify)
{
	RING_PUSH_REQUESTS(&txf);
	return nb_tx_process(q, notify);
}

static netif_tx_response_t tx_rsp(unsigned i)
{
	return *RING_GET_RESPONSE(&txf, txf.rsp_cons + i);
}

/* ---- TX ---- */

START_TEST(tx_single_slot_reaches_the_tap)
{
	uint8_t got[2000];
	struct virtio_net_hdr h;
	int notify;

	make_udp4(page(0) + 100, 600);
	tx_put(REF(0), 100, NETTXF_data_validated, 7, 600);
	ck_assert_int_eq(tx_run(&notify), 0);
	ck_assert_int_eq(notify, 1);
	ck_assert_uint_eq(txf.sring->rsp_prod, 1);
	ck_assert_uint_eq(tx_rsp(0).id, 7);
	ck_assert_int_eq(tx_rsp(0).status, NETIF_RSP_OKAY);
	ck_assert_uint_eq(host_read(&h, got, sizeof(got)), 600);
	ck_assert_mem_eq(got, page(0) + 100, 600);
	ck_assert_uint_eq(h.flags, VIRTIO_NET_HDR_F_DATA_VALID);
	ck_assert_uint_eq(h.gso_type, VIRTIO_NET_HDR_GSO_NONE);
	/* Drained: the engine asked for an event on the next request. */
	ck_assert_uint_eq(txf.sring->req_event, 2);
	ck_assert_uint_eq(q->stats.tx_packets, 1);
}
END_TEST

START_TEST(tx_multi_slot_packet_is_reassembled)
{
	uint8_t want[9000], got[9000];
	struct virtio_net_hdr h;
	int notify;

	make_udp4(want, sizeof(want));
	/* 1000 bytes in page 0 at 3000, 4096 in page 1, 3904 in page 2 at 192. */
	memcpy(page(0) + 3000, want, 1000);
	memcpy(page(1), want + 1000, 4096);
	memcpy(page(2) + 192, want + 5096, 3904);
	tx_put(REF(0), 3000, NETTXF_more_data, 1, 9000);
	tx_put(REF(1), 0, NETTXF_more_data, 2, 4096);
	tx_put(REF(2), 192, 0, 3, 3904);
	ck_assert_int_eq(tx_run(&notify), 0);
	ck_assert_uint_eq(host_read(&h, got, sizeof(got)), 9000);
	ck_assert_mem_eq(got, want, 9000);
	for (unsigned i = 0; i < 3; i++) {
		ck_assert_uint_eq(tx_rsp(i).id, i + 1);
		ck_assert_int_eq(tx_rsp(i).status, NETIF_RSP_OKAY);
	}
}
END_TEST

START_TEST(tx_gso_extra_sets_the_vnet_header)
{
	struct netif_extra_info gso = { .type = XEN_NETIF_EXTRA_TYPE_GSO };
	uint8_t got[5000];
	struct virtio_net_hdr h;
	int notify;

	gso.u.gso.size = 1448;
	gso.u.gso.type = XEN_NETIF_GSO_TYPE_TCPV4;
	make_tcp4(page(0), 4000);
	tx_put(REF(0), 0, NETTXF_csum_blank | NETTXF_extra_info, 9, 4000);
	tx_put_extra(&gso);
	ck_assert_int_eq(tx_run(&notify), 0);
	ck_assert_uint_eq(host_read(&h, got, sizeof(got)), 4000);
	ck_assert_uint_eq(h.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	ck_assert_uint_eq(h.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
	ck_assert_uint_eq(h.gso_size, 1448);
	ck_assert_uint_eq(h.csum_start, 34);
	ck_assert_uint_eq(h.csum_offset, 16);
	ck_assert_uint_eq(h.hdr_len, 54);
	/* The extra-info slot gets a NULL response after the packet's. */
	ck_assert_uint_eq(txf.sring->rsp_prod, 2);
	ck_assert_uint_eq(tx_rsp(0).id, 9);
	ck_assert_int_eq(tx_rsp(0).status, NETIF_RSP_OKAY);
	ck_assert_int_eq(tx_rsp(1).status, NETIF_RSP_NULL);
}
END_TEST

START_TEST(tx_csum_blank_udp_gets_its_offsets)
{
	uint8_t got[200];
	struct virtio_net_hdr h;
	int notify;

	make_udp4(page(3), 100);
	tx_put(REF(3), 0, NETTXF_csum_blank | NETTXF_data_validated, 1, 100);
	ck_assert_int_eq(tx_run(&notify), 0);
	ck_assert_uint_eq(host_read(&h, got, sizeof(got)), 100);
	ck_assert_uint_eq(h.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	ck_assert_uint_eq(h.csum_start, 34);
	ck_assert_uint_eq(h.csum_offset, 6);
}
END_TEST

/* Requests a sane frontend may send but that cannot go: NETIF_RSP_ERROR for
 * every slot, nothing on the tap, the ring keeps working. */
START_TEST(tx_recoverable_errors_answer_every_slot)
{
	uint8_t got[100];
	struct virtio_net_hdr h;
	int notify;

	tx_put(BAD_REF, 0, 0, 1, 100);                   /* never granted */
	tx_put(REF(0), 0, 0, 2, 10);                     /* shorter than an Ethernet header */
	tx_put(REF(0), 0, NETTXF_more_data, 3, 100);     /* fragments bigger than the packet */
	tx_put(REF(1), 0, 0, 4, 200);
	ck_assert_int_eq(tx_run(&notify), 0);
	ck_assert_uint_eq(txf.sring->rsp_prod, 4);
	for (unsigned i = 0; i < 4; i++) {
		ck_assert_uint_eq(tx_rsp(i).id, i + 1);
		ck_assert_int_eq(tx_rsp(i).status, NETIF_RSP_ERROR);
	}
	ck_assert_uint_eq(host_read(&h, got, sizeof(got)), 0);
	ck_assert_ptr_null(q->fatal);
	/* The next good packet goes through. */
	make_udp4(page(0), 60);
	tx_put(REF(0), 0, 0, 5, 60);
	ck_assert_int_eq(tx_run(&notify), 0);
	ck_assert_int_eq(tx_rsp(4).status, NETIF_RSP_OKAY);
	ck_assert_uint_eq(host_read(&h, got, sizeof(got)), 60);
}
END_TEST

START_TEST(tx_more_slots_than_max_is_dropped_with_errors)
{
	unsigned n = NB_MAX_TX_SLOTS + 1; /* 19: over the limit, under the fatal one */
	uint8_t got[100];
	struct virtio_net_hdr h;
	int notify;

	tx_put(REF(0), 0, NETTXF_more_data, 0, (uint16_t)(n * 100));
	for (unsigned i = 1; i < n; i++)
		tx_put(REF(i), 0, i + 1 < n ? NETTXF_more_data : 0, (uint16_t)i, 100);
	ck_assert_int_eq(tx_run(&notify), 0);
	ck_assert_uint_eq(txf.sring->rsp_prod, n);
	for (unsigned i = 0; i < n; i++)
		ck_assert_int_eq(tx_rsp(i).status, NETIF_RSP_ERROR);
	ck_assert_uint_eq(host_read(&h, got, sizeof(got)), 0);
}
END_TEST

START_TEST(tx_fatal_slot_count)
{
	int notify;

	tx_put(REF(0), 0, NETTXF_more_data, 0, 2000);
	for (unsigned i = 1; i < NB_FATAL_TX_SLOTS + 2; i++)
		tx_put(REF(i), 0, NETTXF_more_data, (uint16_t)i, 100);
	ck_assert_int_eq(tx_run(&notify), -1);
	ck_assert_str_eq(q->fatal, "TX packet with too many slots");
	/* A broken queue stays stopped. */
	ck_assert_int_eq(nb_tx_process(q, &notify), -1);
}
END_TEST

START_TEST(tx_slot_crossing_its_page_is_fatal)
{
	int notify;

	tx_put(REF(0), 4000, 0, 1, 200);
	ck_assert_int_eq(tx_run(&notify), -1);
	ck_assert_str_eq(q->fatal, "TX first slot crosses its page");
}
END_TEST

START_TEST(tx_fragment_crossing_its_page_is_fatal)
{
	int notify;

	tx_put(REF(0), 0, NETTXF_more_data, 1, 300);
	tx_put(REF(1), 4095, 0, 2, 200);
	ck_assert_int_eq(tx_run(&notify), -1);
	ck_assert_str_eq(q->fatal, "TX slot crosses its page");
}
END_TEST

START_TEST(tx_hostile_producer_indices_are_fatal)
{
	int notify;

	/* _i = 0: ahead by more than the ring; 1: behind the consumer. */
	txf.sring->req_prod = _i == 0 ? RING_SIZE(&txf) + 1 : (RING_IDX)-1;
	ck_assert_int_eq(nb_tx_process(q, &notify), -1);
	ck_assert_str_eq(q->fatal, "TX request producer index out of range");
	ck_assert_uint_eq(q->tx.req_cons, 0);
}
END_TEST

START_TEST(tx_packet_past_the_producer_is_fatal)
{
	int notify;

	tx_put(REF(0), 0, NETTXF_more_data, 1, 300);
	ck_assert_int_eq(tx_run(&notify), -1);
	ck_assert_str_eq(q->fatal, "TX packet continues past the producer index");
}
END_TEST

START_TEST(tx_bad_extra_info_is_fatal)
{
	struct netif_extra_info e = { .type = _i == 0 ? XEN_NETIF_EXTRA_TYPE_MAX
						      : XEN_NETIF_EXTRA_TYPE_GSO };
	int notify;

	/* _i = 1: a GSO extra with size 0. */
	tx_put(REF(0), 0, NETTXF_extra_info, 1, 300);
	tx_put_extra(&e);
	ck_assert_int_eq(tx_run(&notify), -1);
	ck_assert_ptr_nonnull(q->fatal);
}
END_TEST

START_TEST(tx_budget_leaves_work_for_later)
{
	uint8_t got[100];
	struct virtio_net_hdr h;
	int notify, rc = 1;
	unsigned sent = 0, seen = 0;

	make_udp4(page(0), 60);
	/* More packets than the budget, pushed in ring-sized batches. */
	while (sent < NB_TX_BUDGET + 10) {
		while (sent < NB_TX_BUDGET + 10 && RING_FREE_REQUESTS(&txf) > 0) {
			tx_put(REF(0), 0, 0, (uint16_t)sent++, 60);
		}
		RING_PUSH_REQUESTS(&txf);
		rc = nb_tx_process(q, &notify);
		txf.rsp_cons = txf.sring->rsp_prod;
		while (host_read(&h, got, sizeof(got)))
			seen++;
	}
	while (rc == 1) {
		rc = nb_tx_process(q, &notify);
		while (host_read(&h, got, sizeof(got)))
			seen++;
	}
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(seen, NB_TX_BUDGET + 10);
}
END_TEST

/* ---- RX ---- */

static void rx_post(unsigned first_page, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		netif_rx_request_t *r = RING_GET_REQUEST(&rxf, rxf.req_prod_pvt);
		r->id = (uint16_t)(rxf.req_prod_pvt & 0xff);
		r->gref = REF(first_page + i);
		rxf.req_prod_pvt++;
	}
	RING_PUSH_REQUESTS(&rxf);
}

static netif_rx_response_t rx_rsp(unsigned i)
{
	return *RING_GET_RESPONSE(&rxf, i);
}

START_TEST(rx_single_slot_packet)
{
	struct virtio_net_hdr h = { .flags = 0 };
	uint8_t f[100];

	make_udp4(f, sizeof(f));
	rx_post(0, 4);
	ck_assert_uint_eq(nb_rx_slots_needed(q, &h, sizeof(f)), 1);
	ck_assert_int_eq(nb_rx_deliver(q, &h, f, sizeof(f)), 1);
	ck_assert_int_eq(nb_rx_push(q), 1);
	ck_assert_uint_eq(rxf.sring->rsp_prod, 1);
	ck_assert_uint_eq(rx_rsp(0).id, 0);
	ck_assert_int_eq(rx_rsp(0).status, 100);
	ck_assert_uint_eq(rx_rsp(0).offset, 0);
	ck_assert_uint_eq(rx_rsp(0).flags, 0);
	ck_assert_mem_eq(page(0), f, sizeof(f));
}
END_TEST

START_TEST(rx_multi_slot_packet_with_sg)
{
	struct virtio_net_hdr h = { .flags = VIRTIO_NET_HDR_F_DATA_VALID };
	static uint8_t f[9000];

	make_udp4(f, sizeof(f));
	rx_post(0, 3);
	ck_assert_uint_eq(nb_rx_slots_needed(q, &h, sizeof(f)), 3);
	ck_assert_int_eq(nb_rx_deliver(q, &h, f, sizeof(f)), 1);
	nb_rx_push(q);
	ck_assert_int_eq(rx_rsp(0).status, 4096);
	ck_assert_uint_eq(rx_rsp(0).flags, NETRXF_data_validated | NETRXF_more_data);
	ck_assert_int_eq(rx_rsp(1).status, 4096);
	ck_assert_uint_eq(rx_rsp(1).flags, NETRXF_more_data);
	ck_assert_int_eq(rx_rsp(2).status, 9000 - 8192);
	ck_assert_uint_eq(rx_rsp(2).flags, 0);
	ck_assert_mem_eq(page(0), f, 4096);
	ck_assert_mem_eq(page(1), f + 4096, 4096);
	ck_assert_mem_eq(page(2), f + 8192, 9000 - 8192);
}
END_TEST

START_TEST(rx_without_sg_big_packets_are_dropped)
{
	struct virtio_net_hdr h = { .flags = 0 };
	static uint8_t f[5000];

	q->rxf.sg = 0;
	make_udp4(f, sizeof(f));
	rx_post(0, 4);
	ck_assert_uint_eq(nb_rx_slots_needed(q, &h, sizeof(f)), 0);
	ck_assert_int_eq(nb_rx_deliver(q, &h, f, sizeof(f)), 1);
	ck_assert_uint_eq(q->stats.rx_dropped, 1);
	ck_assert_uint_eq(q->rx.rsp_prod_pvt, 0);
}
END_TEST

START_TEST(rx_gso_packet_gets_an_extra_slot)
{
	struct virtio_net_hdr h = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
				    .gso_type = VIRTIO_NET_HDR_GSO_TCPV4, .gso_size = 1448,
				    .csum_start = 34, .csum_offset = 16 };
	static uint8_t f[10000];
	const struct netif_extra_info *e;

	make_tcp4(f, sizeof(f));
	rx_post(0, 8);
	ck_assert_uint_eq(nb_rx_slots_needed(q, &h, sizeof(f)), 4);
	ck_assert_int_eq(nb_rx_deliver(q, &h, f, sizeof(f)), 1);
	nb_rx_push(q);
	ck_assert_uint_eq(rxf.sring->rsp_prod, 4);
	ck_assert_uint_eq(rx_rsp(0).flags, NETRXF_csum_blank | NETRXF_data_validated |
					       NETRXF_extra_info | NETRXF_more_data);
	e = (const struct netif_extra_info *)RING_GET_RESPONSE(&rxf, 1);
	ck_assert_uint_eq(e->type, XEN_NETIF_EXTRA_TYPE_GSO);
	ck_assert_uint_eq(e->flags, 0);
	ck_assert_uint_eq(e->u.gso.size, 1448);
	ck_assert_uint_eq(e->u.gso.type, XEN_NETIF_GSO_TYPE_TCPV4);
	/* Data goes on in the requests after the extra slot's (page 1 stays empty). */
	ck_assert_uint_eq(rx_rsp(2).id, 2);
	ck_assert_int_eq(rx_rsp(2).status, 4096);
	ck_assert_int_eq(rx_rsp(3).status, 10000 - 8192);
	ck_assert_mem_eq(page(2), f + 4096, 4096);
	ck_assert_mem_eq(page(3), f + 8192, 10000 - 8192);
	/* A frontend without GSO for IPv4 cannot take it. */
	q->rxf.gso_tcpv4 = 0;
	ck_assert_uint_eq(nb_rx_slots_needed(q, &h, sizeof(f)), 0);
}
END_TEST

START_TEST(rx_waits_for_enough_requests)
{
	struct virtio_net_hdr h = { .flags = 0 };
	static uint8_t f[9000];

	make_udp4(f, sizeof(f));
	rx_post(0, 2);
	ck_assert_int_eq(nb_rx_deliver(q, &h, f, sizeof(f)), 0);
	/* Nothing consumed; the frontend is asked to notify at the third request. */
	ck_assert_uint_eq(q->rx.req_cons, 0);
	ck_assert_uint_eq(rxf.sring->req_event, 3);
	rx_post(2, 1);
	ck_assert_int_eq(nb_rx_deliver(q, &h, f, sizeof(f)), 1);
	ck_assert_uint_eq(q->rx.req_cons, 3);
}
END_TEST

/* The frontend cannot take partial checksums: the backend completes it. */
START_TEST(rx_partial_checksum_is_completed_for_frontends_without_offload)
{
	struct virtio_net_hdr h = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 34,
				    .csum_offset = 6 };
	uint8_t f[300];
	uint32_t sum = 0;

	q->rxf.csum_blank = 0;
	make_udp4(f, sizeof(f));
	/* The pseudo-header sum in place, as the host stack leaves it. */
	sum = 0x0a00 + 0x0001 + 0x0a00 + 0x0002 + IPPROTO_UDP + (sizeof(f) - 34);
	f[40] = (uint8_t)(sum >> 8), f[41] = (uint8_t)sum;
	rx_post(0, 1);
	ck_assert_int_eq(nb_rx_deliver(q, &h, f, sizeof(f)), 1);
	ck_assert_uint_eq(rx_rsp(0).flags, NETRXF_data_validated);
	/* A correct checksum sums, with the pseudo-header, to 0xffff. */
	sum = 0x0a00 + 0x0001 + 0x0a00 + 0x0002 + IPPROTO_UDP + (sizeof(f) - 34);
	for (size_t i = 34; i < sizeof(f); i += 2)
		sum += (uint32_t)page(0)[i] << 8 | page(0)[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	ck_assert_uint_eq(sum, 0xffff);
}
END_TEST

START_TEST(rx_bad_grant_is_that_slots_error)
{
	struct virtio_net_hdr h = { .flags = 0 };
	uint8_t f[100];

	make_udp4(f, sizeof(f));
	RING_GET_REQUEST(&rxf, 0)->id = 42;
	RING_GET_REQUEST(&rxf, 0)->gref = BAD_REF;
	rxf.req_prod_pvt = 1;
	RING_PUSH_REQUESTS(&rxf);
	ck_assert_int_eq(nb_rx_deliver(q, &h, f, sizeof(f)), 1);
	ck_assert_uint_eq(rx_rsp(0).id, 42);
	ck_assert_int_eq(rx_rsp(0).status, NETIF_RSP_ERROR);
	ck_assert_uint_eq(q->stats.rx_errors, 1);
}
END_TEST

START_TEST(rx_hostile_producer_index_is_fatal)
{
	struct virtio_net_hdr h = { .flags = 0 };
	uint8_t f[100];

	make_udp4(f, sizeof(f));
	rxf.sring->req_prod = _i == 0 ? RING_SIZE(&rxf) + 1 : (RING_IDX)-5;
	ck_assert_int_eq(nb_rx_deliver(q, &h, f, sizeof(f)), -1);
	ck_assert_str_eq(q->fatal, "RX request producer index out of range");
	ck_assert_uint_eq(q->rx.rsp_prod_pvt, 0);
}
END_TEST

START_TEST(rx_runt_and_oversized_packets_are_dropped)
{
	struct virtio_net_hdr h = { .flags = 0 };
	static uint8_t f[70000];

	rx_post(0, 20);
	ck_assert_uint_eq(nb_rx_slots_needed(q, &h, 10), 0);
	ck_assert_uint_eq(nb_rx_slots_needed(q, &h, 65536), 0);
	ck_assert_int_eq(nb_rx_deliver(q, &h, f, 65536), 1);
	ck_assert_uint_eq(q->rx.req_cons, 0);
	ck_assert_uint_eq(q->stats.rx_dropped, 1);
}
END_TEST

/* ---- control ring ---- */

START_TEST(ctrl_ring_offers_no_hashing)
{
	xen_netif_ctrl_sring_t *s = (xen_netif_ctrl_sring_t *)gptr(CTRL_RING, 4096);
	xen_netif_ctrl_front_ring_t f;
	xen_netif_ctrl_back_ring_t b;
	const char *why = NULL;
	int notify;
	static const struct {
		uint16_t type;
		uint32_t data, status;
	} cases[] = {
		{ XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS, 0, XEN_NETIF_CTRL_STATUS_SUCCESS },
		{ XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS, XEN_NETIF_CTRL_HASH_TYPE_IPV4,
		  XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER },
		{ XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM, XEN_NETIF_CTRL_HASH_ALGORITHM_NONE,
		  XEN_NETIF_CTRL_STATUS_SUCCESS },
		{ XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM, XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ,
		  XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER },
		{ XEN_NETIF_CTRL_TYPE_SET_HASH_KEY, 0, XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED },
		{ XEN_NETIF_CTRL_TYPE_INVALID, 0, XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED },
	};
	const unsigned n = sizeof(cases) / sizeof(cases[0]);

	SHARED_RING_INIT(s);
	FRONT_RING_INIT(&f, s, 4096);
	BACK_RING_INIT(&b, s, 4096);
	for (unsigned i = 0; i < n; i++) {
		struct xen_netif_ctrl_request *r = RING_GET_REQUEST(&f, f.req_prod_pvt++);
		*r = (struct xen_netif_ctrl_request){ .id = (uint16_t)(100 + i),
						      .type = cases[i].type,
						      .data = { cases[i].data } };
	}
	RING_PUSH_REQUESTS(&f);
	ck_assert_int_eq(nb_ctrl_process(&b, &notify, &why), 0);
	ck_assert_int_eq(notify, 1);
	for (unsigned i = 0; i < n; i++) {
		ck_assert_uint_eq(RING_GET_RESPONSE(&f, i)->id, 100 + i);
		ck_assert_uint_eq(RING_GET_RESPONSE(&f, i)->status, cases[i].status);
	}
	s->req_prod += 1000;
	ck_assert_int_eq(nb_ctrl_process(&b, &notify, &why), -1);
	ck_assert_ptr_nonnull(why);
}
END_TEST

/* A frontend producing from another vCPU as fast as it is answered: each
 * call returns after a ring's worth (1: more waits), where it once looped
 * for as long as the guest kept producing, holding the event loop. */
struct ctrl_producer {
	xen_netif_ctrl_sring_t *s;
	xen_netif_ctrl_back_ring_t *b;
	int stop;
};

static void *ctrl_produce(void *arg)
{
	struct ctrl_producer *p = arg;

	while (!__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE)) {
		RING_IDX cons = __atomic_load_n(&p->b->req_cons, __ATOMIC_ACQUIRE);
		RING_IDX prod = __atomic_load_n(&p->s->req_prod, __ATOMIC_RELAXED);
		if (prod - cons < RING_SIZE(p->b))
			__atomic_store_n(&p->s->req_prod, prod + 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

START_TEST(ctrl_ring_yields_to_a_producer_that_never_stops)
{
	xen_netif_ctrl_sring_t *s = (xen_netif_ctrl_sring_t *)gptr(CTRL_RING, 4096);
	xen_netif_ctrl_back_ring_t b;
	struct ctrl_producer p = { s, &b, 0 };
	const char *why = NULL;
	pthread_t t;
	int notify, more = 0;

	SHARED_RING_INIT(s);
	BACK_RING_INIT(&b, s, 4096);
	ck_assert_int_eq(pthread_create(&t, NULL, ctrl_produce, &p), 0);
	/* Only a call that overlaps the producer's run can see more than a
	 * ring's worth: on a busy host that may take a while. */
	for (time_t end = time(NULL) + 3; !more && time(NULL) < end;) {
		RING_IDX before = b.req_cons;
		int rc = nb_ctrl_process(&b, &notify, &why);
		ck_assert_int_ge(rc, 0);
		ck_assert_uint_le(b.req_cons - before, RING_SIZE(&b));
		more = rc == 1;
	}
	__atomic_store_n(&p.stop, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	ck_assert_int_eq(more, 1);
	ck_assert_uint_eq(b.rsp_prod_pvt, b.req_cons);
}
END_TEST

/* ---- packet headers ---- */

START_TEST(parse_l4_finds_tcp_and_udp)
{
	uint8_t f[200];
	struct nb_l4 l4;

	make_udp4(f, sizeof(f));
	ck_assert_int_eq(nb_parse_l4(f, sizeof(f), &l4), 0);
	ck_assert_uint_eq(l4.ip_version, 4);
	ck_assert_uint_eq(l4.l4_proto, IPPROTO_UDP);
	ck_assert_uint_eq(l4.l4_off, 34);
	/* Truncated, a later fragment, a bad header length: no L4 header. */
	ck_assert_int_eq(nb_parse_l4(f, 40, &l4), -1);
	f[20] = 0x00, f[21] = 0x10;
	ck_assert_int_eq(nb_parse_l4(f, sizeof(f), &l4), -1);
	f[20] = 0x40, f[21] = 0, f[14] = 0x44;
	ck_assert_int_eq(nb_parse_l4(f, sizeof(f), &l4), -1);
	make_tcp4(f, sizeof(f));
	f[46] = 0xf0; /* a 60-byte TCP header: fits */
	ck_assert_int_eq(nb_parse_l4(f, sizeof(f), &l4), 0);
	ck_assert_uint_eq(l4.l4_hdr_len, 60);
	ck_assert_int_eq(nb_parse_l4(f, 80, &l4), -1);
}
END_TEST

START_TEST(parse_l4_ipv6_with_extension_headers_and_vlan)
{
	uint8_t f[200] = { 0 };
	struct nb_l4 l4;

	f[12] = 0x81, f[13] = 0x00, f[16] = 0x86, f[17] = 0xdd; /* VLAN, then IPv6 */
	f[18] = 0x60;
	f[18 + 6] = 0;                 /* hop-by-hop */
	f[58] = IPPROTO_TCP, f[59] = 0; /* 8 bytes, then TCP */
	f[66 + 12] = 5 << 4;
	ck_assert_int_eq(nb_parse_l4(f, sizeof(f), &l4), 0);
	ck_assert_uint_eq(l4.ip_version, 6);
	ck_assert_uint_eq(l4.l4_proto, IPPROTO_TCP);
	ck_assert_uint_eq(l4.l4_off, 66);
	f[59] = 200; /* an extension header longer than the frame */
	ck_assert_int_eq(nb_parse_l4(f, sizeof(f), &l4), -1);
}
END_TEST

/* ---- --net specs ---- */

static int parse(const char *arg, struct net_spec *s, char *err)
{
	return net_spec_parse(arg, 3, s, err, 256);
}

START_TEST(spec_tap_and_mac)
{
	struct net_spec s;
	char err[256];

	ck_assert_int_eq(parse("tap=xk0,mac=00:16:3e:0a:0B:0c", &s, err), 0);
	ck_assert_str_eq(s.tap, "xk0");
	ck_assert_int_eq(s.mac_given, 1);
	ck_assert_mem_eq(s.mac, "\x00\x16\x3e\x0a\x0b\x0c", 6);
	ck_assert_uint_eq(s.devid, 3);
	/* xl's spelling, with spaces. */
	ck_assert_int_eq(parse(" mac=02:00:00:00:00:01, vifname=guest.0 , devid=7,type=vif", &s,
			       err), 0);
	ck_assert_str_eq(s.tap, "guest.0");
	ck_assert_uint_eq(s.devid, 7);
	ck_assert_int_eq(parse("backend=Domain-0", &s, err), 0);
}
END_TEST

START_TEST(spec_defaults_follow_xl)
{
	struct net_spec a, b;
	char err[256];

	ck_assert_int_eq(parse("", &a, err), 0);
	ck_assert_str_eq(a.tap, "vif1.3");
	ck_assert_int_eq(a.mac_given, 0);
	ck_assert_mem_eq(a.mac, "\x00\x16\x3e", 3);
	ck_assert_uint_eq(a.mac[3] & 0x80, 0);
	ck_assert_int_eq(parse("tap=x", &b, err), 0);
	ck_assert_mem_eq(b.mac, "\x00\x16\x3e", 3);
}
END_TEST

START_TEST(spec_errors_say_why)
{
	static const struct {
		const char *arg, *why;
	} bad[] = {
		{ "tap=", "not an interface name" },
		{ "tap=a/b", "not an interface name" },
		{ "tap=0123456789abcdef", "not an interface name" },
		{ "mac=00:16:3e:00:00", "not of the form" },
		{ "mac=00:16:3e:00:00:zz", "not of the form" },
		{ "mac=00:16:3e:00:00:001", "not of the form" },
		{ "mac=01:00:5e:00:00:01", "multicast" },
		{ "bridge=xenbr0", "does not add the tap to a bridge" },
		{ "script=vif-bridge", "runs no hotplug scripts" },
		{ "ip=10.0.0.2", "hotplug scripts" },
		{ "model=e1000", "only PV" },
		{ "type=ioemu", "only type=vif" },
		{ "backend=2", "xenkvm itself" },
		{ "devid=65536", "devid" },
		{ "devid=-1", "devid" },
		{ "colour=blue", "unknown key 'colour'" },
		{ "tap", "not key=value" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct net_spec s;
		char err[256] = "";

		ck_assert_msg(parse(bad[i].arg, &s, err) == -1, "accepted %s", bad[i].arg);
		ck_assert_msg(strstr(err, bad[i].why) && strstr(err, bad[i].arg), "%s -> %s",
			      bad[i].arg, err);
	}
}
END_TEST

static Suite *netback_suite(void)
{
	Suite *s = suite_create("netback");
	TCase *tx = tcase_create("tx"), *rx = tcase_create("rx"), *misc = tcase_create("misc");

	tcase_add_checked_fixture(tx, setup, teardown);
	tcase_add_test(tx, tx_single_slot_reaches_the_tap);
	tcase_add_test(tx, tx_multi_slot_packet_is_reassembled);
	tcase_add_test(tx, tx_gso_extra_sets_the_vnet_header);
	tcase_add_test(tx, tx_csum_blank_udp_gets_its_offsets);
	tcase_add_test(tx, tx_recoverable_errors_answer_every_slot);
	tcase_add_test(tx, tx_more_slots_than_max_is_dropped_with_errors);
	tcase_add_test(tx, tx_fatal_slot_count);
	tcase_add_test(tx, tx_slot_crossing_its_page_is_fatal);
	tcase_add_test(tx, tx_fragment_crossing_its_page_is_fatal);
	tcase_add_loop_test(tx, tx_hostile_producer_indices_are_fatal, 0, 2);
	tcase_add_test(tx, tx_packet_past_the_producer_is_fatal);
	tcase_add_loop_test(tx, tx_bad_extra_info_is_fatal, 0, 2);
	tcase_add_test(tx, tx_budget_leaves_work_for_later);
	suite_add_tcase(s, tx);

	tcase_add_checked_fixture(rx, setup, teardown);
	tcase_add_test(rx, rx_single_slot_packet);
	tcase_add_test(rx, rx_multi_slot_packet_with_sg);
	tcase_add_test(rx, rx_without_sg_big_packets_are_dropped);
	tcase_add_test(rx, rx_gso_packet_gets_an_extra_slot);
	tcase_add_test(rx, rx_waits_for_enough_requests);
	tcase_add_test(rx, rx_partial_checksum_is_completed_for_frontends_without_offload);
	tcase_add_test(rx, rx_bad_grant_is_that_slots_error);
	tcase_add_loop_test(rx, rx_hostile_producer_index_is_fatal, 0, 2);
	tcase_add_test(rx, rx_runt_and_oversized_packets_are_dropped);
	suite_add_tcase(s, rx);

	tcase_add_checked_fixture(misc, setup, teardown);
	tcase_add_test(misc, ctrl_ring_offers_no_hashing);
	tcase_add_test(misc, ctrl_ring_yields_to_a_producer_that_never_stops);
	tcase_add_test(misc, parse_l4_finds_tcp_and_udp);
	tcase_add_test(misc, parse_l4_ipv6_with_extension_headers_and_vlan);
	tcase_add_test(misc, spec_tap_and_mac);
	tcase_add_test(misc, spec_defaults_follow_xl);
	tcase_add_test(misc, spec_errors_say_why);
	suite_add_tcase(s, misc);
	return s;
}

int main(void)
{
	return run_suite(netback_suite());
}
