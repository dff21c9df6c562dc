/* The netif ring engine of the network backend (<xen/io/netif.h>): TX
 * requests copied out of the frontend's grants and written to the tap, tap
 * packets copied into the frontend's RX buffers. It knows no XenStore and
 * no event channels (the caller notifies), so unit tests drive it on rings
 * in plain memory with a socketpair standing in for the tap. */
#ifndef XENKVM_NETBACK_RING_H
#define XENKVM_NETBACK_RING_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <linux/virtio_net.h>
#include <xen/xen.h>
#include <xen/grant_table.h>

/* ring.h wants the SMP barriers of the including environment. */
#ifndef xen_mb
#define xen_mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define xen_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define xen_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)
#endif
#include <xen/io/netif.h>

#define NB_PAGE 4096u
/* Linux netback's limits: more slots than max_skb_slots (the protocol's
 * minimum, 18) is dropped with an error; from fatal_skb_slots (20) on the
 * frontend is considered broken. */
#define NB_MAX_TX_SLOTS XEN_NETIF_NR_SLOTS_MIN
#define NB_FATAL_TX_SLOTS 20
#define NB_MAX_PACKET XEN_NETIF_MAX_TX_SIZE
#define NB_ETH_HLEN 14
#define NB_VNET_HDR_LEN sizeof(struct virtio_net_hdr)
/* Requests handled per call before yielding the event loop. */
#define NB_TX_BUDGET 256
#define NB_RX_BUDGET 64

/* What the frontend said it accepts on its RX path. */
struct nb_rx_features {
	int sg;          /* packets may span slots */
	int gso_tcpv4;   /* GSO extra info for TCPv4 */
	int gso_tcpv6;
	int csum_blank;  /* partial checksums (not feature-no-csum-offload) */
	int ipv6_csum;   /* ... also for IPv6 */
};

struct nb_stats {
	uint64_t tx_packets, tx_bytes, tx_errors, tx_dropped;
	uint64_t rx_packets, rx_bytes, rx_errors, rx_dropped;
};

struct nb_queue {
	struct gnttab *gt;
	netif_tx_back_ring_t tx;
	netif_rx_back_ring_t rx;
	int tap_fd; /* packets out (TX) */
	struct nb_rx_features rxf;
	struct nb_stats stats;
	/* Set when the frontend broke the protocol: the queue does no more work. */
	const char *fatal;
	uint8_t txbuf[NB_MAX_PACKET];
};

/* Attach the engine to mapped shared rings (the frontend initialised them). */
void nb_queue_attach(struct nb_queue *q, struct gnttab *gt, void *tx_sring, void *rx_sring,
		     int tap_fd);

/* Consume TX requests (at most NB_TX_BUDGET), write the packets to the
 * tap, respond. *notify: the frontend wants an event. Returns 1 when
 * requests remain, 0 when the ring is drained (req_event armed), -1 on a
 * fatal protocol error (q->fatal says which). */
int nb_tx_process(struct nb_queue *q, int *notify);

/* Slots a packet takes in the RX ring, or 0 when this frontend cannot
 * take it (too big without feature-sg). */
unsigned nb_rx_slots_needed(const struct nb_queue *q, const struct virtio_net_hdr *h,
			    size_t len);
/* Copy one packet (vnet header h, len bytes) into the frontend's RX
 * buffers. Returns 1 when delivered or dropped for good, 0 when the ring
 * has too few requests (req_event armed: the frontend will notify), -1 on
 * a fatal protocol error. The packet may be changed (checksum filled in). */
int nb_rx_deliver(struct nb_queue *q, const struct virtio_net_hdr *h, uint8_t *pkt, size_t len);
/* Publish RX responses; returns whether the frontend wants an event. */
int nb_rx_push(struct nb_queue *q);

/* ---- the control ring (netback_ctrl.c) ---- */

/* Answer the frontend's control requests: no hashing is offered (hash
 * flags 0, algorithm NONE only); the rest is not supported. Returns 0 when
 * the ring is empty, 1 when it stopped after a ring's worth with more
 * waiting (call again after other work), or -1 with *fatal set when the
 * producer index is impossible. */
int nb_ctrl_process(xen_netif_ctrl_back_ring_t *r, int *notify, const char **fatal);

/* ---- packet headers (netback_pkt.c) ---- */

struct nb_l4 {
	unsigned ip_version;   /* 4 or 6 */
	unsigned l3_off;       /* where the IP header starts */
	unsigned l4_proto;     /* IPPROTO_TCP or IPPROTO_UDP */
	unsigned l4_off;       /* where the TCP/UDP header starts */
	unsigned l4_hdr_len;   /* its length */
};
/* Find the TCP or UDP header of an Ethernet frame (one VLAN tag, IPv4 or
 * IPv6 with the usual extension headers, no later fragments). 0 or -1. */
int nb_parse_l4(const uint8_t *pkt, size_t len, struct nb_l4 *out);
/* Complete a partial checksum (the pseudo-header sum already in place). */
void nb_csum_complete(uint8_t *pkt, size_t len, unsigned start, unsigned offset);

#endif
