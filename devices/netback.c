/* The PV network backend: one vif on one host tap. Everything runs on the
 * event loop: the frontend's notifications arrive on vCPU threads and only
 * wake the loop through an eventfd; tap packets are read when the tap is
 * readable and the frontend has RX buffers (no busy polling). */
#include <errno.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "netback_internal.h"
#include "xenkvm/evloop.h"
#include "xenkvm/evtchn.h"
#include "xenkvm/gnttab.h"
#include "xenkvm/log.h"
#include "xenkvm/xen.h"
#include "xenkvm/xenstore.h"

/* A failed write means the counter is already non-zero: the handler runs anyway. */
static void kick(int efd)
{
	(void)eventfd_write(efd, 1);
}

/* On the guest's vCPU thread: only wake the loop. */
static void on_guest_notify(void *opaque)
{
	kick(*(int *)opaque);
}

static void drain(int efd)
{
	eventfd_t v;

	(void)eventfd_read(efd, &v);
}

static void notify_port(struct netback *nb, evtchn_port_t port)
{
	evtchn_backend_notify(nb->ctx.xen, port);
}

/* ---- fatal errors and the tap's place in the loop ---- */

static void tap_handler(int fd, uint32_t events, void *opaque);

static void watch_tap(struct netback *nb, int on)
{
	if (on == nb->tap_watched)
		return;
	if (on)
		evloop_add(nb->ctx.loop, nb->tap.fd, EPOLLIN, tap_handler, nb);
	else
		evloop_del(nb->ctx.loop, nb->tap.fd);
	nb->tap_watched = on;
}

/* Linux netback's fatal-error path: stop serving the frontend at once and
 * tell it (the device closes); nothing more is read from its rings. */
static void nb_fatal(struct netback *nb, const char *why)
{
	log_err("vif %u: frontend protocol error: %s: disconnecting it", nb->spec.devid, why);
	nb_disconnect(nb);
	nb_xenbus_fail(nb, why);
}

/* ---- guest -> host ---- */

static void conn_tx(struct nb_conn *c)
{
	int notify, rc = nb_tx_process(c->q, &notify);

	if (notify)
		notify_port(c->nb, c->tx_port);
	if (rc > 0)
		kick(c->efd); /* budget spent: come back after the others had a turn */
	else if (rc < 0)
		nb_fatal(c->nb, c->q->fatal);
}

/* ---- host -> guest ---- */

static uint32_t fnv1a(uint32_t h, const uint8_t *p, size_t n)
{
	while (n--)
		h = (h ^ *p++) * 16777619u;
	return h;
}

/* The RX queue of a packet: a hash of its addresses and ports keeps each
 * flow on one queue, in order. */
static unsigned pick_queue(const struct netback *nb, const uint8_t *pkt, size_t len)
{
	struct nb_l4 l4;
	uint32_t h = 2166136261u;

	if (nb->nqueues == 1 || nb_parse_l4(pkt, len, &l4) < 0)
		return 0;
	if (l4.ip_version == 4)
		h = fnv1a(h, pkt + l4.l3_off + 12, 8);
	else
		h = fnv1a(h, pkt + l4.l3_off + 8, 32);
	h = fnv1a(h, pkt + l4.l4_off, 4);
	return h % nb->nqueues;
}

/* Deliver the packet in rxbuf; 0 when it has to wait for RX requests. */
static int rx_one(struct netback *nb, unsigned qi, unsigned *dirty)
{
	struct virtio_net_hdr h;
	struct nb_conn *c = &nb->conns[qi];
	int rc;

	memcpy(&h, nb->rxbuf, sizeof(h));
	rc = nb_rx_deliver(c->q, &h, nb->rxbuf + sizeof(h), nb->rx_len - sizeof(h));
	if (rc < 0) {
		nb_fatal(nb, c->q->fatal);
		return -1;
	}
	if (rc == 0) {
		nb->rx_waiting = 1;
		nb->rx_wait_queue = qi;
		watch_tap(nb, 0);
		return 0;
	}
	*dirty |= 1u << qi;
	return 1;
}

static void rx_push(struct netback *nb, unsigned dirty)
{
	for (unsigned i = 0; i < nb->nqueues; i++)
		if ((dirty & (1u << i)) && nb_rx_push(nb->conns[i].q))
			notify_port(nb, nb->conns[i].rx_port);
}

static void tap_handler(int fd, uint32_t events, void *opaque)
{
	struct netback *nb = opaque;
	unsigned dirty = 0;

	(void)events;
	for (unsigned n = 0; n < NB_RX_BUDGET && nb->connected; n++) {
		ssize_t len = read(fd, nb->rxbuf, NB_RXBUF_LEN);

		if (len < 0)
			break;
		if ((size_t)len < NB_VNET_HDR_LEN + NB_ETH_HLEN)
			continue;
		nb->rx_len = (size_t)len;
		if (rx_one(nb, pick_queue(nb, nb->rxbuf + NB_VNET_HDR_LEN,
					  nb->rx_len - NB_VNET_HDR_LEN), &dirty) <= 0)
			break;
	}
	if (nb->connected)
		rx_push(nb, dirty);
}

/* The frontend posted RX requests: the waiting packet may go now. */
static void conn_rx_retry(struct nb_conn *c)
{
	struct netback *nb = c->nb;
	unsigned dirty = 0;

	if (!nb->rx_waiting || nb->rx_wait_queue != c->index)
		return;
	nb->rx_waiting = 0;
	if (rx_one(nb, c->index, &dirty) > 0) {
		rx_push(nb, dirty);
		watch_tap(nb, 1);
	}
}

static void conn_handler(int fd, uint32_t events, void *opaque)
{
	struct nb_conn *c = opaque;

	(void)events;
	drain(fd);
	if (c->q)
		conn_tx(c);
	if (c->q)
		conn_rx_retry(c);
}

static void ctrl_handler(int fd, uint32_t events, void *opaque)
{
	struct nb_ctrl_conn *c = opaque;
	const char *why = NULL;
	int notify, rc;

	(void)events;
	drain(fd);
	if (!c->sring)
		return;
	rc = nb_ctrl_process(&c->ring, &notify, &why);
	if (rc < 0) {
		nb_fatal(c->nb, why);
		return;
	}
	if (notify)
		notify_port(c->nb, c->port);
	/* More waits: come back after the loop has served everyone else. */
	if (rc > 0)
		(void)eventfd_write(fd, 1);
}

static void state_handler(int fd, uint32_t events, void *opaque)
{
	(void)events;
	drain(fd);
	nb_frontend_changed(opaque);
}

/* Any thread (the one that changed the store): only wake the loop. */
static void on_frontend_state(const char *path, void *opaque)
{
	struct netback *nb = opaque;

	(void)path;
	kick(nb->state_efd);
}

/* ---- connecting ---- */

static int map_ring(struct netback *nb, grant_ref_t ref, void **ring, char *err, size_t errlen)
{
	int rc = gnttab_map_for_backend(nb->ctx.xen->gnttab, ref, 1, ring);

	if (rc != GNTST_okay)
		snprintf(err, errlen, "cannot map ring grant %u (GNTST %d)", ref, rc);
	return rc == GNTST_okay ? 0 : -1;
}

static int bind_port(struct netback *nb, evtchn_port_t port, int *efd, int *bound, char *err,
		     size_t errlen)
{
	int rc = evtchn_backend_bind(nb->ctx.xen, port, on_guest_notify, efd);

	if (rc < 0)
		snprintf(err, errlen, "cannot bind event channel %u (%d)", port, rc);
	*bound = rc == 0;
	return rc < 0 ? -1 : 0;
}

static int connect_queue(struct netback *nb, unsigned i, const struct nb_fe_config *cfg,
			 char *err, size_t errlen)
{
	struct nb_conn *c = &nb->conns[i];

	c->tx_ref = cfg->q[i].tx_ref;
	c->rx_ref = cfg->q[i].rx_ref;
	c->tx_port = cfg->q[i].tx_port;
	c->rx_port = cfg->q[i].rx_port;
	if (map_ring(nb, c->tx_ref, &c->tx_sring, err, errlen) < 0 ||
	    map_ring(nb, c->rx_ref, &c->rx_sring, err, errlen) < 0)
		return -1;
	c->q = calloc(1, sizeof(*c->q));
	if (!c->q) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	nb_queue_attach(c->q, nb->ctx.xen->gnttab, c->tx_sring, c->rx_sring, nb->tap.fd);
	c->q->rxf = cfg->rxf;
	if (bind_port(nb, c->tx_port, &c->efd, &c->tx_bound, err, errlen) < 0 ||
	    (c->rx_port != c->tx_port &&
	     bind_port(nb, c->rx_port, &c->efd, &c->rx_bound, err, errlen) < 0))
		return -1;
	return 0;
}

static int connect_ctrl(struct netback *nb, const struct nb_fe_config *cfg, char *err,
			size_t errlen)
{
	struct nb_ctrl_conn *c = &nb->ctrl;

	if (!cfg->has_ctrl)
		return 0;
	c->ref = cfg->ctrl_ref;
	c->port = cfg->ctrl_port;
	if (map_ring(nb, c->ref, &c->sring, err, errlen) < 0)
		return -1;
	BACK_RING_ATTACH(&c->ring, (xen_netif_ctrl_sring_t *)c->sring,
			 __atomic_load_n(&((xen_netif_ctrl_sring_t *)c->sring)->rsp_prod,
					 __ATOMIC_ACQUIRE),
			 NB_PAGE);
	return bind_port(nb, c->port, &c->efd, &c->bound, err, errlen);
}

/* The tap hands the guest only the offloads its frontend can take. */
static unsigned tap_offloads(const struct nb_rx_features *f)
{
	unsigned flags = 0;

	if (f->csum_blank)
		flags |= TUN_F_CSUM;
	if (f->gso_tcpv4)
		flags |= TUN_F_TSO4;
	if (f->gso_tcpv6)
		flags |= TUN_F_TSO6;
	return flags;
}

int nb_connect(struct netback *nb, const struct nb_fe_config *cfg, char *err, size_t errlen)
{
	nb->nqueues = cfg->nqueues;
	for (unsigned i = 0; i < cfg->nqueues; i++)
		if (connect_queue(nb, i, cfg, err, errlen) < 0)
			goto fail;
	if (connect_ctrl(nb, cfg, err, errlen) < 0)
		goto fail;
	if (tap_set_offload(&nb->tap, tap_offloads(&cfg->rxf)) < 0) {
		snprintf(err, errlen, "tap %s: offloads: %s", nb->tap.name, strerror(errno));
		goto fail;
	}
	nb->connected = 1;
	tap_set_carrier(&nb->tap, 1);
	watch_tap(nb, 1);
	/* Requests queued before we bound the channels raised no event. */
	for (unsigned i = 0; i < nb->nqueues; i++)
		kick(nb->conns[i].efd);
	if (nb->ctrl.sring)
		kick(nb->ctrl.efd);
	return 0;
fail:
	nb_disconnect(nb);
	return -1;
}

static void unmap_ring(struct netback *nb, grant_ref_t ref, void **ring)
{
	if (*ring)
		gnttab_unmap_for_backend(nb->ctx.xen->gnttab, ref, 1);
	*ring = NULL;
}

static void unbind_port(struct netback *nb, evtchn_port_t port, int *bound)
{
	if (*bound)
		evtchn_backend_unbind(nb->ctx.xen, port);
	*bound = 0;
}

static void disconnect_queue(struct netback *nb, struct nb_conn *c)
{
	unbind_port(nb, c->tx_port, &c->tx_bound);
	unbind_port(nb, c->rx_port, &c->rx_bound);
	unmap_ring(nb, c->tx_ref, &c->tx_sring);
	unmap_ring(nb, c->rx_ref, &c->rx_sring);
	free(c->q);
	c->q = NULL;
}

void nb_disconnect(struct netback *nb)
{
	watch_tap(nb, 0);
	tap_set_carrier(&nb->tap, 0);
	nb->connected = 0;
	nb->rx_waiting = 0;
	for (unsigned i = 0; i < NB_MAX_QUEUES; i++)
		disconnect_queue(nb, &nb->conns[i]);
	unbind_port(nb, nb->ctrl.port, &nb->ctrl.bound);
	unmap_ring(nb, nb->ctrl.ref, &nb->ctrl.sring);
	nb->nqueues = 0;
}

/* ---- lifetime ---- */

static int add_eventfd(struct netback *nb, int *efd, evloop_fn fn, void *opaque)
{
	*efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (*efd < 0)
		return -1;
	return evloop_add(nb->ctx.loop, *efd, EPOLLIN, fn, opaque) < 0 ? -1 : 0;
}

static int create_eventfds(struct netback *nb)
{
	if (add_eventfd(nb, &nb->state_efd, state_handler, nb) < 0 ||
	    add_eventfd(nb, &nb->ctrl.efd, ctrl_handler, &nb->ctrl) < 0)
		return -1;
	for (unsigned i = 0; i < NB_MAX_QUEUES; i++)
		if (add_eventfd(nb, &nb->conns[i].efd, conn_handler, &nb->conns[i]) < 0)
			return -1;
	return 0;
}

static int node_exists(struct xenstore *xs, const char *path)
{
	size_t len;
	char *v = xs_read(xs, path, &len);

	free(v);
	return v != NULL;
}

static struct netback *netback_alloc(const struct pv_backend_ctx *ctx, const struct net_spec *spec)
{
	struct netback *nb = calloc(1, sizeof(*nb));

	if (!nb)
		return NULL;
	nb->ctx = *ctx;
	nb->spec = *spec;
	nb->tap.fd = nb->state_efd = nb->ctrl.efd = -1;
	nb->ctrl.nb = nb;
	for (unsigned i = 0; i < NB_MAX_QUEUES; i++)
		nb->conns[i] = (struct nb_conn){ .nb = nb, .index = i, .efd = -1 };
	nb->rxbuf = malloc(NB_RXBUF_LEN);
	if (!nb->rxbuf) {
		free(nb);
		return NULL;
	}
	return nb;
}

struct netback *netback_create(const struct pv_backend_ctx *ctx, const struct net_spec *spec,
			       char *err, size_t errlen)
{
	struct netback *nb = netback_alloc(ctx, spec);
	char path[NB_PATH * 2];

	if (!nb) {
		snprintf(err, errlen, "vif %u: out of memory", spec->devid);
		return NULL;
	}
	if (tap_open(&nb->tap, spec->tap, err, errlen) < 0)
		goto fail;
	if (create_eventfds(nb) < 0) {
		snprintf(err, errlen, "vif %u: eventfd: %s", spec->devid, strerror(errno));
		goto fail;
	}
	snprintf(path, sizeof(path), "/local/domain/0/backend/vif/%u/%u", ctx->frontend_domid,
		 spec->devid);
	if (node_exists(ctx->xs, path)) {
		snprintf(err, errlen, "vif devid %u is given twice", spec->devid);
		goto fail;
	}
	if (nb_xenbus_publish(nb) != 0) {
		snprintf(err, errlen, "vif %u: cannot publish it in XenStore", spec->devid);
		goto fail;
	}
	snprintf(path, sizeof(path), "%s/state", nb->fe);
	if (xs_watch_local(ctx->xs, path, on_frontend_state, nb) != 0) {
		snprintf(err, errlen, "vif %u: cannot watch %s", spec->devid, path);
		goto fail;
	}
	nb->watching = 1;
	log_info("vif %u: tap %s, mac %02x:%02x:%02x:%02x:%02x:%02x", spec->devid, nb->tap.name,
		 spec->mac[0], spec->mac[1], spec->mac[2], spec->mac[3], spec->mac[4], spec->mac[5]);
	return nb;
fail:
	netback_destroy(nb);
	return NULL;
}

static void close_eventfd(struct netback *nb, int *efd)
{
	if (*efd < 0)
		return;
	evloop_del(nb->ctx.loop, *efd);
	close(*efd);
	*efd = -1;
}

void netback_destroy(struct netback *nb)
{
	char path[NB_PATH * 2];

	if (!nb)
		return;
	if (nb->watching) {
		snprintf(path, sizeof(path), "%s/state", nb->fe);
		xs_unwatch_local(nb->ctx.xs, path, on_frontend_state, nb);
	}
	nb_disconnect(nb);
	if (nb->fe[0])
		nb_xenbus_unpublish(nb);
	close_eventfd(nb, &nb->state_efd);
	close_eventfd(nb, &nb->ctrl.efd);
	for (unsigned i = 0; i < NB_MAX_QUEUES; i++)
		close_eventfd(nb, &nb->conns[i].efd);
	tap_close(&nb->tap);
	free(nb->rxbuf);
	free(nb);
}
