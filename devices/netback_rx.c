/* The RX ring: packets for the guest. The frontend posts empty granted
 * pages; a packet is copied into as many as it needs from offset 0, with
 * one response per consumed request in ring order (netfront finds its
 * buffers by ring position), the first carrying the checksum flags and,
 * for GSO, followed by an extra-info slot. A packet waits, rather than
 * being cut, until enough requests are posted. */
#include <netinet/in.h>

#include "xenkvm/gnttab.h"
#include "xenkvm/netback_ring.h"

static int rx_gso_type(const struct nb_queue *q, const struct virtio_net_hdr *h)
{
	switch (h->gso_type) {
	case VIRTIO_NET_HDR_GSO_NONE:
		return XEN_NETIF_GSO_TYPE_NONE;
	case VIRTIO_NET_HDR_GSO_TCPV4:
		return q->rxf.gso_tcpv4 ? XEN_NETIF_GSO_TYPE_TCPV4 : -1;
	case VIRTIO_NET_HDR_GSO_TCPV6:
		return q->rxf.gso_tcpv6 ? XEN_NETIF_GSO_TYPE_TCPV6 : -1;
	default:
		return -1; /* UDP, ECN: never enabled on the tap */
	}
}

unsigned nb_rx_slots_needed(const struct nb_queue *q, const struct virtio_net_hdr *h,
			    size_t len)
{
	unsigned data = (unsigned)((len + NB_PAGE - 1) / NB_PAGE);
	int gso = rx_gso_type(q, h);

	if (len < NB_ETH_HLEN || len > NB_MAX_PACKET || gso < 0 || (data > 1 && !q->rxf.sg))
		return 0;
	return data + (gso != XEN_NETIF_GSO_TYPE_NONE);
}

/* Requests posted and not yet used, or -1 when the index is impossible. */
static int rx_available(struct nb_queue *q, unsigned *avail)
{
	RING_IDX prod = __atomic_load_n(&q->rx.sring->req_prod, __ATOMIC_ACQUIRE);

	*avail = prod - q->rx.req_cons;
	if (*avail > RING_SIZE(&q->rx)) {
		q->fatal = "RX request producer index out of range";
		return -1;
	}
	return 0;
}

/* Enough requests for `slots`? If not, ask for an event when there are. */
static int rx_has_room(struct nb_queue *q, unsigned slots)
{
	unsigned avail;

	if (rx_available(q, &avail) < 0)
		return -1;
	if (avail >= slots)
		return 1;
	q->rx.sring->req_event = q->rx.req_cons + slots;
	xen_mb();
	if (rx_available(q, &avail) < 0)
		return -1;
	return avail >= slots;
}

/* The first response's checksum flags; completes the checksum in software
 * when the tap left it partial and the frontend cannot take that. */
static uint16_t rx_csum_flags(const struct nb_queue *q, const struct virtio_net_hdr *h,
			      uint8_t *pkt, size_t len)
{
	struct nb_l4 l4;
	int v6;

	if (h->flags & VIRTIO_NET_HDR_F_DATA_VALID)
		return NETRXF_data_validated;
	if (!(h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
		return 0;
	v6 = nb_parse_l4(pkt, len, &l4) == 0 && l4.ip_version == 6;
	if (q->rxf.csum_blank && (!v6 || q->rxf.ipv6_csum))
		return NETRXF_csum_blank | NETRXF_data_validated;
	nb_csum_complete(pkt, len, h->csum_start, h->csum_offset);
	return NETRXF_data_validated;
}

static void rx_put_gso(struct nb_queue *q, const struct virtio_net_hdr *h, int type)
{
	netif_rx_request_t unused;
	struct netif_extra_info *e;

	/* The extra-info slot consumes a request whose buffer stays empty. */
	RING_COPY_REQUEST(&q->rx, q->rx.req_cons++, &unused);
	e = (struct netif_extra_info *)RING_GET_RESPONSE(&q->rx, q->rx.rsp_prod_pvt++);
	memset(e, 0, sizeof(*e));
	e->type = XEN_NETIF_EXTRA_TYPE_GSO;
	e->u.gso.size = h->gso_size;
	e->u.gso.type = (uint8_t)type;
}

/* Copy into the next request's page; a bad grant is that slot's error. */
static void rx_put_data(struct nb_queue *q, const uint8_t *data, unsigned chunk, uint16_t flags)
{
	netif_rx_request_t req;
	netif_rx_response_t *r;
	int rc;

	RING_COPY_REQUEST(&q->rx, q->rx.req_cons++, &req);
	rc = gnttab_copy_for_backend(q->gt, req.gref, 0, (void *)data, chunk, 1);
	r = RING_GET_RESPONSE(&q->rx, q->rx.rsp_prod_pvt++);
	r->id = req.id;
	r->offset = 0;
	r->flags = flags;
	r->status = rc == GNTST_okay ? (int16_t)chunk : NETIF_RSP_ERROR;
	if (rc != GNTST_okay)
		q->stats.rx_errors++;
}

int nb_rx_deliver(struct nb_queue *q, const struct virtio_net_hdr *h, uint8_t *pkt, size_t len)
{
	unsigned slots = nb_rx_slots_needed(q, h, len);
	int gso = rx_gso_type(q, h), room;
	uint16_t flags;
	size_t off = 0;

	if (q->fatal)
		return -1;
	if (!slots) {
		q->stats.rx_dropped++;
		return 1;
	}
	room = rx_has_room(q, slots);
	if (room <= 0)
		return room;
	flags = rx_csum_flags(q, h, pkt, len);
	if (gso != XEN_NETIF_GSO_TYPE_NONE)
		flags |= NETRXF_extra_info;
	do {
		unsigned chunk = len - off > NB_PAGE ? NB_PAGE : (unsigned)(len - off);
		rx_put_data(q, pkt + off, chunk, flags | (off + chunk < len ? NETRXF_more_data : 0));
		if (off == 0 && gso != XEN_NETIF_GSO_TYPE_NONE)
			rx_put_gso(q, h, gso);
		off += chunk;
		flags = 0;
	} while (off < len);
	q->stats.rx_packets++;
	q->stats.rx_bytes += len;
	return 1;
}

int nb_rx_push(struct nb_queue *q)
{
	int notify;

	RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&q->rx, notify);
	return notify;
}
