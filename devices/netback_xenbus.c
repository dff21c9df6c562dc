/* The vif's XenStore side: the nodes libxl writes for a vif and those
 * Linux netback writes at probe, then the XenBus state machine driven by
 * the frontend's state (InitWait -> Connected -> Closing -> Closed, and
 * InitWait again when the frontend starts over). */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xen/io/xenbus.h>

#include "netback_internal.h"
#include "xenkvm/log.h"
#include "xenkvm/xenstore.h"

static int nb_put(struct netback *nb, const char *dir, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int nb_put(struct netback *nb, const char *dir, const char *key, const char *fmt, ...)
{
	char path[NB_PATH * 2], value[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(value, sizeof(value), fmt, ap);
	va_end(ap);
	snprintf(path, sizeof(path), "%s/%s", dir, key);
	return xs_write(nb->ctx.xs, path, value);
}

static long long fe_int(struct netback *nb, const char *dir, const char *key, long long def)
{
	char path[NB_PATH * 2];

	snprintf(path, sizeof(path), "%s/%s", dir, key);
	return xs_read_int(nb->ctx.xs, path, def);
}

static void mac_string(const uint8_t *m, char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

/* libxl__device_nic_add: both directories with their owners, the common
 * nodes; state Initialising until the driver below has probed. */
static int publish_toolstack_nodes(struct netback *nb)
{
	char be_perms[16], fe_perms[16], mac[24];
	unsigned fe_dom = nb->ctx.frontend_domid, devid = nb->spec.devid;
	int err = 0;

	snprintf(be_perms, sizeof(be_perms), "n0 r%u", fe_dom);
	snprintf(fe_perms, sizeof(fe_perms), "n%u r0", fe_dom);
	mac_string(nb->spec.mac, mac, sizeof(mac));
	err = err ?: xs_write_with_perms(nb->ctx.xs, nb->be, "", be_perms);
	err = err ?: nb_put(nb, nb->be, "frontend", "%s", nb->fe);
	err = err ?: nb_put(nb, nb->be, "frontend-id", "%u", fe_dom);
	err = err ?: nb_put(nb, nb->be, "online", "1");
	err = err ?: nb_put(nb, nb->be, "state", "%d", XenbusStateInitialising);
	err = err ?: nb_put(nb, nb->be, "mac", "%s", mac);
	err = err ?: nb_put(nb, nb->be, "handle", "%u", devid);
	err = err ?: nb_put(nb, nb->be, "type", "vif");
	err = err ?: xs_write_with_perms(nb->ctx.xs, nb->fe, "", fe_perms);
	err = err ?: nb_put(nb, nb->fe, "backend", "%s", nb->be);
	err = err ?: nb_put(nb, nb->fe, "backend-id", "0");
	err = err ?: nb_put(nb, nb->fe, "handle", "%u", devid);
	err = err ?: nb_put(nb, nb->fe, "mac", "%s", mac);
	/* Last: the frontend's driver starts when its state appears. */
	err = err ?: nb_put(nb, nb->fe, "state", "%d", XenbusStateInitialising);
	return err;
}

/* netback_probe: what this backend can do. */
static int publish_features(struct netback *nb)
{
	static const char *const on[] = {
		"feature-sg", "feature-gso-tcpv4", "feature-gso-tcpv6",
		"feature-ipv6-csum-offload", "feature-rx-copy", "feature-split-event-channels",
		"feature-ctrl-ring",
	};
	int err = 0;

	for (size_t i = 0; i < sizeof(on) / sizeof(on[0]); i++)
		err = err ?: nb_put(nb, nb->be, on[i], "1");
	err = err ?: nb_put(nb, nb->be, "feature-rx-flip", "0");
	err = err ?: nb_put(nb, nb->be, "multi-queue-max-queues", "%u", NB_MAX_QUEUES);
	return err;
}

int nb_xenbus_publish(struct netback *nb)
{
	int err;

	snprintf(nb->be, sizeof(nb->be), "/local/domain/0/backend/vif/%u/%u", nb->ctx.frontend_domid,
		 nb->spec.devid);
	snprintf(nb->fe, sizeof(nb->fe), "/local/domain/%u/device/vif/%u", nb->ctx.frontend_domid,
		 nb->spec.devid);
	err = publish_toolstack_nodes(nb);
	err = err ?: publish_features(nb);
	err = err ?: xs_xenbus_switch_state(nb->ctx.xs, nb->be, XenbusStateInitWait);
	return err;
}

void nb_xenbus_unpublish(struct netback *nb)
{
	xs_rm(nb->ctx.xs, nb->fe);
	xs_rm(nb->ctx.xs, nb->be);
}

/* The RX features the frontend announced (netback's read_xenbus_vif_flags). */
static void read_rx_features(struct netback *nb, struct nb_rx_features *f)
{
	f->sg = fe_int(nb, nb->fe, "feature-sg", 0) == 1;
	f->gso_tcpv4 = f->sg && fe_int(nb, nb->fe, "feature-gso-tcpv4", 0) == 1;
	f->gso_tcpv6 = f->sg && fe_int(nb, nb->fe, "feature-gso-tcpv6", 0) == 1;
	f->csum_blank = fe_int(nb, nb->fe, "feature-no-csum-offload", 0) != 1;
	f->ipv6_csum = f->csum_blank && fe_int(nb, nb->fe, "feature-ipv6-csum-offload", 0) == 1;
	/* GSO packets carry partial checksums: no GSO without checksum offload. */
	if (!f->csum_blank)
		f->gso_tcpv4 = f->gso_tcpv6 = 0;
	if (!f->ipv6_csum)
		f->gso_tcpv6 = 0;
}

static int read_ref(struct netback *nb, const char *dir, const char *key, uint32_t *out,
		    char *err, size_t errlen)
{
	long long v = fe_int(nb, dir, key, -1);

	if (v < 0 || v > UINT32_MAX) {
		snprintf(err, errlen, "%s/%s: missing or not a number", dir, key);
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

/* Rings and channels of queue i: in the frontend's directory for a single
 * queue, else in queue-<i>/; event-channel-tx/-rx when split. */
static int read_queue(struct netback *nb, unsigned i, struct nb_fe_config *c, char *err,
		      size_t errlen)
{
	char dir[NB_PATH + 24];

	if (c->nqueues == 1)
		snprintf(dir, sizeof(dir), "%s", nb->fe);
	else
		snprintf(dir, sizeof(dir), "%s/queue-%u", nb->fe, i);
	if (read_ref(nb, dir, "tx-ring-ref", &c->q[i].tx_ref, err, errlen) < 0 ||
	    read_ref(nb, dir, "rx-ring-ref", &c->q[i].rx_ref, err, errlen) < 0)
		return -1;
	if (fe_int(nb, dir, "event-channel-tx", -1) >= 0)
		return read_ref(nb, dir, "event-channel-tx", &c->q[i].tx_port, err, errlen) ||
		       read_ref(nb, dir, "event-channel-rx", &c->q[i].rx_port, err, errlen) ? -1 : 0;
	if (read_ref(nb, dir, "event-channel", &c->q[i].tx_port, err, errlen) < 0)
		return -1;
	c->q[i].rx_port = c->q[i].tx_port;
	return 0;
}

static int read_frontend(struct netback *nb, struct nb_fe_config *c, char *err, size_t errlen)
{
	long long nq = fe_int(nb, nb->fe, "multi-queue-num-queues", 1);

	memset(c, 0, sizeof(*c));
	if (fe_int(nb, nb->fe, "request-rx-copy", 0) != 1) {
		snprintf(err, errlen, "the frontend does not use rx-copy (page flipping is not "
			 "supported)");
		return -1;
	}
	if (nq < 1 || nq > NB_MAX_QUEUES) {
		snprintf(err, errlen, "multi-queue-num-queues %lld is not in 1..%u", nq, NB_MAX_QUEUES);
		return -1;
	}
	c->nqueues = (unsigned)nq;
	for (unsigned i = 0; i < c->nqueues; i++)
		if (read_queue(nb, i, c, err, errlen) < 0)
			return -1;
	if (fe_int(nb, nb->fe, "ctrl-ring-ref", -1) >= 0) {
		c->has_ctrl = 1;
		if (read_ref(nb, nb->fe, "ctrl-ring-ref", &c->ctrl_ref, err, errlen) < 0 ||
		    read_ref(nb, nb->fe, "event-channel-ctrl", &c->ctrl_port, err, errlen) < 0)
			return -1;
	}
	read_rx_features(nb, &c->rxf);
	return 0;
}

/* xenbus_dev_fatal: the reason goes to /local/domain/0/error/<backend>/error. */
void nb_xenbus_fail(struct netback *nb, const char *why)
{
	char path[NB_PATH * 2];

	snprintf(path, sizeof(path), "/local/domain/0/error%s/error",
		 nb->be + strlen("/local/domain/0"));
	xs_write(nb->ctx.xs, path, why);
	xs_xenbus_switch_state(nb->ctx.xs, nb->be, XenbusStateClosing);
}

static void try_connect(struct netback *nb)
{
	struct nb_fe_config *c = calloc(1, sizeof(*c));
	char err[256] = "out of memory";

	if (c && read_frontend(nb, c, err, sizeof(err)) == 0 &&
	    nb_connect(nb, c, err, sizeof(err)) == 0) {
		xs_xenbus_switch_state(nb->ctx.xs, nb->be, XenbusStateConnected);
		log_info("vif %u (tap %s): connected, %u queue(s)", nb->spec.devid, nb->tap.name,
			 c->nqueues);
	} else {
		log_err("vif %u: cannot connect: %s", nb->spec.devid, err);
		nb_xenbus_fail(nb, err);
	}
	free(c);
}

void nb_frontend_changed(struct netback *nb)
{
	int fe = xs_xenbus_state(nb->ctx.xs, nb->fe);
	int be = xs_xenbus_state(nb->ctx.xs, nb->be);

	switch (fe) {
	case XenbusStateInitialising:
	case XenbusStateInitWait:
		/* A frontend starting (over): offer the device again. */
		if (be != XenbusStateInitWait) {
			nb_disconnect(nb);
			xs_xenbus_switch_state(nb->ctx.xs, nb->be, XenbusStateInitWait);
		}
		break;
	case XenbusStateInitialised:
	case XenbusStateConnected:
		if (be == XenbusStateInitWait)
			try_connect(nb);
		break;
	case XenbusStateClosing:
		nb_disconnect(nb);
		xs_xenbus_switch_state(nb->ctx.xs, nb->be, XenbusStateClosing);
		break;
	case XenbusStateClosed:
	case XenbusStateUnknown:
		nb_disconnect(nb);
		xs_xenbus_switch_state(nb->ctx.xs, nb->be, XenbusStateClosed);
		break;
	default:
		break;
	}
}
