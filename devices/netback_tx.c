/* The TX ring: packets the guest sends. A packet is a first request (whose
 * size is the whole packet's), optional extra-info slots (GSO), then data
 * slots chained with NETTXF_more_data. Each slot is copied out of its grant
 * (grant copy, never a mapping) into one buffer that goes to the tap behind
 * a virtio-net header. Validation follows Linux netback: requests a sane
 * frontend could send but we cannot take get NETIF_RSP_ERROR; indices or
 * slots no frontend may produce are fatal and the caller disconnects. */
#include <errno.h>
#include <netinet/in.h>
#include <sys/uio.h>
#include <unistd.h>

#include "xenkvm/gnttab.h"
#include "xenkvm/netback_ring.h"

struct tx_packet {
	netif_tx_request_t first;
	netif_tx_request_t frags[NB_FATAL_TX_SLOTS];
	unsigned nfrags;
	unsigned nextras; /* extra-info slots after first */
	struct netif_extra_info gso;
	int has_gso;
	unsigned first_len; /* bytes in the first slot */
};

void nb_queue_attach(struct nb_queue *q, struct gnttab *gt, void *tx_sring, void *rx_sring,
		     int tap_fd)
{
	netif_tx_sring_t *txs = tx_sring;
	netif_rx_sring_t *rxs = rx_sring;

	q->gt = gt;
	q->tap_fd = tap_fd;
	q->fatal = NULL;
	/* Resume where the frontend's responses left off, as Linux netback does. */
	BACK_RING_ATTACH(&q->tx, txs, __atomic_load_n(&txs->rsp_prod, __ATOMIC_ACQUIRE), NB_PAGE);
	BACK_RING_ATTACH(&q->rx, rxs, __atomic_load_n(&rxs->rsp_prod, __ATOMIC_ACQUIRE), NB_PAGE);
}

static int tx_fatal(struct nb_queue *q, const char *why)
{
	q->fatal = why;
	return -1;
}

static int tx_read_extra(struct nb_queue *q, RING_IDX idx, struct tx_packet *p,
			 struct netif_extra_info *e)
{
	netif_tx_request_t raw;

	RING_COPY_REQUEST(&q->tx, idx, &raw);
	memcpy(e, &raw, sizeof(*e));
	if (e->type == XEN_NETIF_EXTRA_TYPE_NONE || e->type >= XEN_NETIF_EXTRA_TYPE_MAX)
		return tx_fatal(q, "TX extra info of an invalid type");
	if (e->type != XEN_NETIF_EXTRA_TYPE_GSO)
		return 0; /* multicast control and hashes are not offered: ignored */
	if (e->u.gso.size == 0)
		return tx_fatal(q, "TX GSO size of zero");
	if (e->u.gso.type != XEN_NETIF_GSO_TYPE_TCPV4 && e->u.gso.type != XEN_NETIF_GSO_TYPE_TCPV6)
		return tx_fatal(q, "TX GSO of an unknown type");
	p->gso = *e;
	p->has_gso = 1;
	return 0;
}

/* The extra-info slots that follow the first request. */
static int tx_gather_extras(struct nb_queue *q, RING_IDX *idx, RING_IDX prod,
			    struct tx_packet *p)
{
	struct netif_extra_info e = { .flags = XEN_NETIF_EXTRA_FLAG_MORE };

	if (!(p->first.flags & NETTXF_extra_info))
		return 0;
	while (e.flags & XEN_NETIF_EXTRA_FLAG_MORE) {
		if (*idx == prod)
			return tx_fatal(q, "TX extra info past the producer index");
		if (p->nextras + 1 >= NB_FATAL_TX_SLOTS)
			return tx_fatal(q, "TX packet with too many extra info slots");
		if (tx_read_extra(q, (*idx)++, p, &e) < 0)
			return -1;
		p->nextras++;
	}
	return 0;
}

/* The data slots chained to the first with NETTXF_more_data. */
static int tx_gather_frags(struct nb_queue *q, RING_IDX *idx, RING_IDX prod, struct tx_packet *p)
{
	const netif_tx_request_t *prev = &p->first;

	while (prev->flags & NETTXF_more_data) {
		netif_tx_request_t *f;

		if (1 + p->nextras + p->nfrags >= NB_FATAL_TX_SLOTS)
			return tx_fatal(q, "TX packet with too many slots");
		if (*idx == prod)
			return tx_fatal(q, "TX packet continues past the producer index");
		f = &p->frags[p->nfrags++];
		RING_COPY_REQUEST(&q->tx, (*idx)++, f);
		if (f->offset + (unsigned)f->size > NB_PAGE)
			return tx_fatal(q, "TX slot crosses its page");
		prev = f;
	}
	return 0;
}

/* A packet's slots are consistent and small enough: NETIF_RSP_OKAY or the
 * error to answer with; q->fatal is set when the frontend is broken. */
static int tx_check(struct nb_queue *q, struct tx_packet *p)
{
	unsigned frag_bytes = 0;

	for (unsigned i = 0; i < p->nfrags; i++)
		frag_bytes += p->frags[i].size;
	if (1 + p->nfrags > NB_MAX_TX_SLOTS || p->first.size < NB_ETH_HLEN ||
	    frag_bytes > p->first.size)
		return NETIF_RSP_ERROR;
	p->first_len = p->first.size - frag_bytes;
	if (p->first.offset + p->first_len > NB_PAGE)
		return tx_fatal(q, "TX first slot crosses its page");
	return NETIF_RSP_OKAY;
}

static int tx_copy(struct nb_queue *q, const struct tx_packet *p)
{
	size_t off = p->first_len;

	if (gnttab_copy_for_backend(q->gt, p->first.gref, p->first.offset, q->txbuf, p->first_len,
				    0) != GNTST_okay)
		return NETIF_RSP_ERROR;
	for (unsigned i = 0; i < p->nfrags; i++) {
		const netif_tx_request_t *f = &p->frags[i];
		if (gnttab_copy_for_backend(q->gt, f->gref, f->offset, q->txbuf + off, f->size, 0) !=
		    GNTST_okay)
			return NETIF_RSP_ERROR;
		off += f->size;
	}
	return NETIF_RSP_OKAY;
}

/* The virtio-net header that tells the tap about checksum and GSO offload. */
static int tx_vnet_header(const struct nb_queue *q, const struct tx_packet *p,
			  struct virtio_net_hdr *h)
{
	struct nb_l4 l4;

	memset(h, 0, sizeof(*h));
	if (!(p->first.flags & NETTXF_csum_blank) && !p->has_gso) {
		if (p->first.flags & NETTXF_data_validated)
			h->flags = VIRTIO_NET_HDR_F_DATA_VALID;
		return 0;
	}
	if (nb_parse_l4(q->txbuf, p->first.size, &l4) < 0)
		return -1;
	h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h->csum_start = (uint16_t)l4.l4_off;
	h->csum_offset = l4.l4_proto == IPPROTO_TCP ? 16 : 6;
	if (!p->has_gso)
		return 0;
	if (l4.l4_proto != IPPROTO_TCP ||
	    l4.ip_version != (p->gso.u.gso.type == XEN_NETIF_GSO_TYPE_TCPV4 ? 4u : 6u))
		return -1;
	h->gso_type = l4.ip_version == 4 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6;
	h->gso_size = p->gso.u.gso.size;
	h->hdr_len = (uint16_t)(l4.l4_off + l4.l4_hdr_len);
	return 0;
}

/* Hand the copied packet to the tap. A full or downed tap drops it, as a
 * NIC without link would: the guest still gets NETIF_RSP_OKAY. */
static int tx_send(struct nb_queue *q, const struct tx_packet *p)
{
	struct virtio_net_hdr h;
	struct iovec iov[2] = { { &h, sizeof(h) }, { q->txbuf, p->first.size } };

	if (tx_vnet_header(q, p, &h) < 0) {
		q->stats.tx_dropped++;
		return NETIF_RSP_DROPPED;
	}
	if (writev(q->tap_fd, iov, 2) < 0) {
		q->stats.tx_dropped++;
		return NETIF_RSP_OKAY;
	}
	q->stats.tx_packets++;
	q->stats.tx_bytes += p->first.size;
	return NETIF_RSP_OKAY;
}

/* One response per request; extra-info slots get NETIF_RSP_NULL. */
static void tx_respond(struct nb_queue *q, const netif_tx_request_t *req, unsigned nextras,
		       int16_t status)
{
	RING_IDX i = q->tx.rsp_prod_pvt;
	netif_tx_response_t *r = RING_GET_RESPONSE(&q->tx, i);

	r->id = req->id;
	r->status = status;
	while (nextras--) {
		r = RING_GET_RESPONSE(&q->tx, ++i);
		r->id = 0;
		r->status = NETIF_RSP_NULL;
	}
	q->tx.rsp_prod_pvt = i + 1;
}

static int tx_one(struct nb_queue *q, RING_IDX prod)
{
	struct tx_packet p = { .nfrags = 0 };
	RING_IDX idx = q->tx.req_cons;
	int status;

	RING_COPY_REQUEST(&q->tx, idx++, &p.first);
	if (tx_gather_extras(q, &idx, prod, &p) < 0 || tx_gather_frags(q, &idx, prod, &p) < 0)
		return -1;
	q->tx.req_cons = idx;
	status = tx_check(q, &p);
	if (q->fatal)
		return -1;
	if (status == NETIF_RSP_OKAY)
		status = tx_copy(q, &p);
	if (status == NETIF_RSP_OKAY)
		status = tx_send(q, &p);
	else
		q->stats.tx_errors++;
	tx_respond(q, &p.first, p.nextras, (int16_t)status);
	for (unsigned i = 0; i < p.nfrags; i++)
		tx_respond(q, &p.frags[i], 0, (int16_t)status);
	return 0;
}

/* The producer index, or -1 when it is not within a ring of the consumer. */
static int tx_producer(struct nb_queue *q, RING_IDX *prod)
{
	*prod = __atomic_load_n(&q->tx.sring->req_prod, __ATOMIC_ACQUIRE);
	if (*prod - q->tx.req_cons > RING_SIZE(&q->tx))
		return tx_fatal(q, "TX request producer index out of range");
	return 0;
}

int nb_tx_process(struct nb_queue *q, int *notify)
{
	unsigned done = 0;
	RING_IDX prod;
	int rc = 0;

	*notify = 0;
	if (q->fatal)
		return -1;
	while (rc == 0) {
		if (tx_producer(q, &prod) < 0) {
			rc = -1;
		} else if (prod != q->tx.req_cons) {
			if (done++ == NB_TX_BUDGET)
				rc = 1;
			else if (tx_one(q, prod) < 0)
				rc = -1;
		} else {
			/* Ask for an event on the next request, then look once more. */
			q->tx.sring->req_event = q->tx.req_cons + 1;
			xen_mb();
			if (__atomic_load_n(&q->tx.sring->req_prod, __ATOMIC_ACQUIRE) == q->tx.req_cons)
				break;
		}
	}
	RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&q->tx, *notify);
	return rc;
}
