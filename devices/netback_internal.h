/* The network backend's state, shared by its files: netback.c (rings,
 * channels and the tap on the event loop) and netback_xenbus.c (XenStore
 * nodes and the XenBus state machine). */
#ifndef XENKVM_NETBACK_INTERNAL_H
#define XENKVM_NETBACK_INTERNAL_H

#include <xen/event_channel.h>

#include "xenkvm/netback.h"
#include "xenkvm/netback_ring.h"
#include "xenkvm/tap.h"

/* multi-queue-max-queues: the frontend may use up to this many. */
#define NB_MAX_QUEUES 8
#define NB_PATH 128
/* A tap read: the virtio-net header, then up to 64 KiB of frame. */
#define NB_RXBUF_LEN (NB_VNET_HDR_LEN + 65536)

struct netback;

/* One queue's connection. efd carries the frontend's notifications from
 * vCPU threads to the loop; it lives as long as the netback, so a late
 * notification never writes to a closed (or reused) descriptor. */
struct nb_conn {
	struct netback *nb;
	unsigned index;
	int efd;
	struct nb_queue *q; /* NULL while disconnected */
	grant_ref_t tx_ref, rx_ref;
	void *tx_sring, *rx_sring;
	evtchn_port_t tx_port, rx_port; /* equal without split channels */
	int tx_bound, rx_bound;
};

struct nb_ctrl_conn {
	struct netback *nb;
	int efd;
	grant_ref_t ref;
	void *sring; /* NULL while disconnected */
	xen_netif_ctrl_back_ring_t ring;
	evtchn_port_t port;
	int bound;
};

/* What the frontend wrote before switching to Initialised/Connected. */
struct nb_fe_config {
	unsigned nqueues;
	struct {
		grant_ref_t tx_ref, rx_ref;
		evtchn_port_t tx_port, rx_port;
	} q[NB_MAX_QUEUES];
	int has_ctrl;
	grant_ref_t ctrl_ref;
	evtchn_port_t ctrl_port;
	struct nb_rx_features rxf;
};

struct netback {
	struct pv_backend_ctx ctx;
	struct net_spec spec;
	char be[NB_PATH], fe[NB_PATH];
	struct tap tap;
	int state_efd; /* the frontend's state node changed */
	int watching;
	int connected;
	unsigned nqueues;
	struct nb_conn conns[NB_MAX_QUEUES];
	struct nb_ctrl_conn ctrl;
	/* A tap packet waiting for RX requests on queue rx_wait_queue; the tap
	 * is not read meanwhile. */
	uint8_t *rxbuf;
	size_t rx_len;
	int rx_waiting;
	unsigned rx_wait_queue;
	int tap_watched;
};

/* netback_xenbus.c */
int nb_xenbus_publish(struct netback *nb);
void nb_xenbus_unpublish(struct netback *nb);
void nb_frontend_changed(struct netback *nb);
/* The frontend broke the protocol: record why, as xenbus_dev_fatal does,
 * and close the device. */
void nb_xenbus_fail(struct netback *nb, const char *why);

/* netback.c */
int nb_connect(struct netback *nb, const struct nb_fe_config *cfg, char *err, size_t errlen);
void nb_disconnect(struct netback *nb);

#endif
