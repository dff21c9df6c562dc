/* The PV block backend's XenBus side: the nodes libxl and Linux's blkback
 * write, the state machine (InitWait -> Connected -> Closing -> Closed, and
 * back to InitWait when the frontend reconnects), connecting rings and
 * event channels, and hot-unplug (online = 0). Watches only poke an
 * eventfd: the state machine always runs on the event loop, never inside
 * a XenStore callback. */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xen/io/protocols.h>
#include <xen/io/xenbus.h>

#include "blkback_internal.h"
#include "xenkvm/evloop.h"
#include "xenkvm/evtchn.h"
#include "xenkvm/gnttab.h"
#include "xenkvm/log.h"
#include "xenkvm/xen.h"
#include "xenkvm/xenstore.h"

/* io_uring depth a disk gets: room for every queue's full ring. */
#define BLK_IO_DEPTH 256

static void poke(int fd)
{
	uint64_t one = 1;

	if (write(fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("blkback: eventfd: %s", strerror(errno));
}

static void drain_eventfd(int fd)
{
	uint64_t n;

	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_warn("blkback: eventfd: %s", strerror(errno));
}

/* ---- XenStore helpers ---- */

static int __attribute__((format(printf, 4, 5)))
put(struct blkback *b, const char *dir, const char *node, const char *fmt, ...)
{
	char path[256], value[4200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(value, sizeof(value), fmt, ap);
	va_end(ap);
	snprintf(path, sizeof(path), "%s/%s", dir, node);
	return xs_write(b->ctx.xs, path, value);
}

static long long get_int(struct blkback *b, const char *dir, const char *node, long long def)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, node);
	return xs_read_int(b->ctx.xs, path, def);
}

static int be_state(struct blkback *b)
{
	return xs_xenbus_state(b->ctx.xs, b->be);
}

static void switch_state(struct blkback *b, int state)
{
	xs_xenbus_switch_state(b->ctx.xs, b->be, state);
}

/* ---- the image ---- */

static int open_image(struct blkback *b, char *err, size_t errlen)
{
	int mode = b->spec.readonly ? O_RDONLY : O_RDWR;
	struct stat st;

	b->fd_buffered = open(b->spec.path, mode | O_CLOEXEC);
	if (b->fd_buffered < 0 || fstat(b->fd_buffered, &st) < 0) {
		snprintf(err, errlen, "--disk %s: %s", b->spec.path, strerror(errno));
		return -1;
	}
	/* O_DIRECT keeps guest data out of the host page cache; tmpfs and
	 * some others refuse it, then the buffered fd does everything. */
	b->fd = open(b->spec.path, mode | O_CLOEXEC | O_DIRECT);
	if (b->fd < 0)
		b->fd = b->fd_buffered;
	if (S_ISBLK(st.st_mode)) {
		uint64_t bytes = 0;

		if (ioctl(b->fd_buffered, BLKGETSIZE64, &bytes) < 0) {
			snprintf(err, errlen, "--disk %s: %s", b->spec.path, strerror(errno));
			return -1;
		}
		b->sectors = bytes / BLK_SECTOR;
	} else {
		b->sectors = (uint64_t)st.st_size / BLK_SECTOR;
	}
	b->discard_granularity = st.st_blksize > 0 ? (unsigned)st.st_blksize : BLK_PAGE;
	b->lim.sectors = b->sectors;
	b->lim.readonly = b->spec.readonly;
	b->lim.discard = !b->spec.readonly;
	b->lim.max_indirect_segs = BLK_MAX_INDIRECT_SEGS;
	return 0;
}

/* ---- publishing the device (libxl__device_disk_add + blkback's probe) ---- */

static int write_backend_nodes(struct blkback *b)
{
	unsigned dom = b->ctx.frontend_domid;
	char perms[32];
	int err;

	snprintf(perms, sizeof(perms), "n0 r%u", dom);
	err = xs_write_with_perms(b->ctx.xs, b->be, "", perms);
	err = err ? err : put(b, b->be, "frontend", "%s", b->fe);
	err = err ? err : put(b, b->be, "frontend-id", "%u", dom);
	err = err ? err : put(b, b->be, "params", "%s", b->spec.path);
	err = err ? err : put(b, b->be, "mode", "%s", b->spec.readonly ? "r" : "w");
	err = err ? err : put(b, b->be, "type", "qdisk");
	err = err ? err : put(b, b->be, "dev", "%s", b->spec.vdev);
	err = err ? err : put(b, b->be, "device-type", "disk");
	err = err ? err : put(b, b->be, "removable", "0");
	err = err ? err : put(b, b->be, "bootable", "1");
	err = err ? err : put(b, b->be, "online", "1");
	err = err ? err : put(b, b->be, "state", "%d", XenbusStateInitialising);
	return err;
}

static int write_frontend_nodes(struct blkback *b)
{
	char perms[32];
	int err;

	snprintf(perms, sizeof(perms), "n%u r0", b->ctx.frontend_domid);
	err = xs_write_with_perms(b->ctx.xs, b->fe, "", perms);
	err = err ? err : put(b, b->fe, "backend", "%s", b->be);
	err = err ? err : put(b, b->fe, "backend-id", "0");
	err = err ? err : put(b, b->fe, "virtual-device", "%u", b->spec.devid);
	err = err ? err : put(b, b->fe, "device-type", "disk");
	err = err ? err : put(b, b->fe, "state", "%d", XenbusStateInitialising);
	return err;
}

/* What the frontend reads before it connects (and GRUB right after). */
static int write_features(struct blkback *b)
{
	int err = put(b, b->be, "sectors", "%llu", (unsigned long long)b->sectors);

	err = err ? err : put(b, b->be, "sector-size", "%u", BLK_SECTOR);
	err = err ? err : put(b, b->be, "physical-sector-size", "%u", BLK_SECTOR);
	err = err ? err : put(b, b->be, "info", "%u", b->spec.readonly ? VDISK_READONLY : 0);
	err = err ? err : put(b, b->be, "feature-flush-cache", "1");
	err = err ? err : put(b, b->be, "feature-barrier", "1");
	err = err ? err : put(b, b->be, "feature-discard", "%d", b->lim.discard);
	if (b->lim.discard) {
		err = err ? err : put(b, b->be, "discard-granularity", "%u", b->discard_granularity);
		err = err ? err : put(b, b->be, "discard-alignment", "0");
		err = err ? err : put(b, b->be, "discard-secure", "0");
	}
	err = err ? err : put(b, b->be, "feature-max-indirect-segments", "%u", BLK_MAX_INDIRECT_SEGS);
	err = err ? err : put(b, b->be, "feature-persistent", "1");
	err = err ? err : put(b, b->be, "multi-queue-max-queues", "%u", BLK_MAX_QUEUES);
	err = err ? err : put(b, b->be, "max-ring-page-order", "%u", BLK_MAX_RING_ORDER);
	return err;
}

/* ---- connecting ---- */

static void on_frontend_notify(void *opaque)
{
	struct blk_queue *q = opaque;

	poke(q->kick_fd); /* on the vCPU's thread: the loop does the work */
}

static void queue_disconnect(struct blk_queue *q)
{
	struct blkback *b = q->b;

	if (q->bound)
		evtchn_backend_unbind(b->ctx.xen, q->port);
	q->bound = 0;
	blk_queue_drop_pgrants(q);
	for (unsigned i = 0; i < q->nr_ring_mapped; i++)
		gnttab_unmap_for_backend(b->ctx.xen->gnttab, q->ring_ref[i], 1);
	q->nr_ring_mapped = 0;
	q->stalled = 0;
}

/* The ring pages: "ring-ref" for one page, or ring-page-order and
 * ring-ref0..N-1. */
static int queue_read_refs(struct blk_queue *q, const char *dir, unsigned *nr_pages, char *why,
			   size_t len)
{
	struct blkback *b = q->b;
	long long order = get_int(b, dir, "ring-page-order", get_int(b, b->fe, "ring-page-order", -1));
	char node[32];

	if (order > BLK_MAX_RING_ORDER || order < -1) {
		snprintf(why, len, "ring-page-order %lld is above %u", order, BLK_MAX_RING_ORDER);
		return -1;
	}
	*nr_pages = order < 0 ? 1 : 1u << order;
	for (unsigned i = 0; i < *nr_pages; i++) {
		long long ref;

		snprintf(node, sizeof(node), order < 0 ? "ring-ref" : "ring-ref%u", i);
		ref = get_int(b, dir, node, -1);
		if (ref < 0 || ref > UINT32_MAX) {
			snprintf(why, len, "%s/%s is missing or bad", dir, node);
			return -1;
		}
		q->ring_ref[i] = (grant_ref_t)ref;
	}
	return 0;
}

static int queue_connect(struct blk_queue *q, const char *dir, enum blk_abi abi, char *why,
			 size_t len)
{
	struct blkback *b = q->b;
	unsigned nr_pages;
	long long port = get_int(b, dir, "event-channel", -1);

	if (queue_read_refs(q, dir, &nr_pages, why, len) < 0)
		return -1;
	for (unsigned i = 0; i < nr_pages; i++) {
		void *p;

		if (gnttab_map_for_backend(b->ctx.xen->gnttab, q->ring_ref[i], 1, &p)) {
			snprintf(why, len, "cannot map ring-ref %u", q->ring_ref[i]);
			return -1;
		}
		q->ring.page[i] = p;
		q->nr_ring_mapped = i + 1;
	}
	blk_ring_attach(&q->ring, abi, nr_pages);
	if (port < 0 || port > UINT32_MAX ||
	    evtchn_backend_bind(b->ctx.xen, (evtchn_port_t)port, on_frontend_notify, q)) {
		snprintf(why, len, "cannot bind event channel %lld", port);
		return -1;
	}
	q->port = (evtchn_port_t)port;
	q->bound = 1;
	return 0;
}

static int read_protocol(struct blkback *b, enum blk_abi *abi, char *why, size_t len)
{
	char path[256], *proto;

	snprintf(path, sizeof(path), "%s/protocol", b->fe);
	proto = xs_read(b->ctx.xs, path, NULL);
	*abi = BLK_ABI_X86_64; /* absent: the backend's native layout */
	if (proto && !strcmp(proto, XEN_IO_PROTO_ABI_X86_32))
		*abi = BLK_ABI_X86_32;
	else if (proto && strcmp(proto, XEN_IO_PROTO_ABI_X86_64)) {
		snprintf(why, len, "unknown protocol %.64s", proto);
		free(proto);
		return -1;
	}
	free(proto);
	return 0;
}

static int connect_queues(struct blkback *b, char *why, size_t len)
{
	long long nq = get_int(b, b->fe, "multi-queue-num-queues", 1);
	enum blk_abi abi;
	char dir[192];

	if (read_protocol(b, &abi, why, len) < 0)
		return -1;
	if (nq < 1 || nq > BLK_MAX_QUEUES) {
		snprintf(why, len, "multi-queue-num-queues %lld is not 1..%u", nq, BLK_MAX_QUEUES);
		return -1;
	}
	b->nr_queues = (unsigned)nq;
	b->persistent = get_int(b, b->fe, "feature-persistent", 0) == 1;
	for (unsigned i = 0; i < b->nr_queues; i++) {
		snprintf(dir, sizeof(dir), "%s/queue-%u", b->fe, i);
		if (queue_connect(&b->q[i], nq > 1 ? dir : b->fe, abi, why, len) < 0)
			return -1;
	}
	return 0;
}

static void connect(struct blkback *b)
{
	char why[256] = "";

	if (connect_queues(b, why, sizeof(why)) < 0 || write_features(b)) {
		log_warn("blkback %s: cannot connect: %s", b->spec.vdev, why[0] ? why : "XenStore");
		put(b, b->be, "error", "%s", why);
		for (unsigned i = 0; i < BLK_MAX_QUEUES; i++)
			queue_disconnect(&b->q[i]);
		switch_state(b, XenbusStateClosing);
		return;
	}
	b->connected = 1;
	b->ring_error_logged = 0;
	switch_state(b, XenbusStateConnected);
	log_info("blkback %s: connected (%u queue%s, %u-page ring, %s, %s)", b->spec.vdev,
		 b->nr_queues, b->nr_queues > 1 ? "s" : "", b->q[0].ring.nr_pages,
		 b->q[0].ring.abi == BLK_ABI_X86_32 ? "x86_32-abi" : "x86_64-abi",
		 b->persistent ? "persistent grants" : "grants mapped per request");
	for (unsigned i = 0; i < b->nr_queues; i++)
		blk_queue_process(&b->q[i]);
}

/* ---- disconnecting ---- */

unsigned blkback_in_flight(const struct blkback *b)
{
	unsigned n = 0;

	for (unsigned i = 0; i < BLK_MAX_QUEUES; i++)
		n += b->q[i].in_flight;
	return n;
}

/* Stop taking requests; rings and grants go once nothing is in flight, so
 * no I/O ever lands in a page the frontend got back. 1 when done. */
static int disconnect(struct blkback *b)
{
	if (!b->connected)
		return 1;
	b->disconnecting = 1;
	if (blkback_in_flight(b))
		return 0;
	for (unsigned i = 0; i < BLK_MAX_QUEUES; i++)
		queue_disconnect(&b->q[i]);
	b->connected = b->disconnecting = 0;
	log_info("blkback %s: disconnected", b->spec.vdev);
	return 1;
}

void blkback_drained(struct blkback *b)
{
	poke(b->xs_fd); /* the state machine finishes the disconnect */
}

void blkback_ring_broken(struct blkback *b, struct blk_queue *q)
{
	if (!b->ring_error_logged++)
		log_warn("blkback %s: queue %u: the frontend's ring indices are bogus "
			 "(req_prod %u, req_cons %u, rsp_prod %u): disconnecting",
			 b->spec.vdev, q->idx, __atomic_load_n((uint32_t *)q->ring.page[0], __ATOMIC_RELAXED),
			 q->ring.req_cons, q->ring.rsp_prod_pvt);
	disconnect(b);
	switch_state(b, XenbusStateClosing);
}

/* ---- hot-unplug ---- */

static void on_watch(const char *path, void *opaque);

static void unplug(struct blkback *b)
{
	xs_unwatch_local(b->ctx.xs, b->fe, on_watch, b);
	xs_unwatch_local(b->ctx.xs, b->be, on_watch, b);
	xs_rm(b->ctx.xs, b->fe);
	xs_rm(b->ctx.xs, b->be);
	b->unplugged = 1;
	log_info("blkback %s: unplugged", b->spec.vdev);
}

/* ---- the state machine ---- */

static void frontend_closing(struct blkback *b, int fe, int online)
{
	if (!disconnect(b))
		return; /* again once the last request completed */
	if (fe == XenbusStateClosing) {
		switch_state(b, XenbusStateClosing);
		return;
	}
	switch_state(b, XenbusStateClosed);
	if (!online)
		unplug(b);
}

static void xenbus_changed(struct blkback *b)
{
	int fe, be, online;

	if (b->unplugged)
		return;
	fe = xs_xenbus_state(b->ctx.xs, b->fe);
	be = be_state(b);
	online = get_int(b, b->be, "online", 1) != 0;
	if (!online && b->connected && be != XenbusStateClosing && be != XenbusStateClosed)
		switch_state(b, XenbusStateClosing); /* ask the frontend to let go */
	switch (fe) {
	case XenbusStateInitialising:
	case XenbusStateInitWait:
		if (!online && !b->connected)
			unplug(b);
		else if (be == XenbusStateClosed || be == XenbusStateInitialising)
			switch_state(b, XenbusStateInitWait); /* ready for a (re)connect */
		break;
	case XenbusStateInitialised:
	case XenbusStateConnected:
		if (online && !b->connected && be == XenbusStateInitWait)
			connect(b);
		break;
	default: /* Closing, Closed, or gone */
		frontend_closing(b, fe, online);
		break;
	}
}

static void on_xenstore_change(int fd, uint32_t events, void *opaque)
{
	(void)events;
	drain_eventfd(fd);
	xenbus_changed(opaque);
}

static void on_watch(const char *path, void *opaque)
{
	struct blkback *b = opaque;

	(void)path;
	poke(b->xs_fd);
}

static void on_kick(int fd, uint32_t events, void *opaque)
{
	struct blk_queue *q = opaque;

	(void)events;
	drain_eventfd(fd);
	if (q->bound)
		blk_queue_process(q);
}

/* ---- create and destroy ---- */

static int setup_loop(struct blkback *b)
{
	struct evloop *l = b->ctx.loop;

	b->xs_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (b->xs_fd < 0 || evloop_add(l, b->xs_fd, EPOLLIN, on_xenstore_change, b) < 0)
		return -1;
	for (unsigned i = 0; i < BLK_MAX_QUEUES; i++) {
		struct blk_queue *q = &b->q[i];

		q->b = b;
		q->idx = i;
		q->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (q->kick_fd < 0 || evloop_add(l, q->kick_fd, EPOLLIN, on_kick, q) < 0)
			return -1;
	}
	b->io = blk_io_create(l, BLK_IO_DEPTH, blk_req_io_done);
	return b->io ? 0 : -1;
}

static int publish(struct blkback *b, char *err, size_t errlen)
{
	char path[256];
	char *existing;

	snprintf(path, sizeof(path), "%s/state", b->fe);
	existing = xs_read(b->ctx.xs, path, NULL);
	free(existing);
	if (existing) {
		snprintf(err, errlen, "--disk %s: vdev %s is already in use", b->spec.path,
			 b->spec.vdev);
		return -1;
	}
	if (write_backend_nodes(b) || write_frontend_nodes(b) || write_features(b)) {
		snprintf(err, errlen, "--disk %s: cannot write XenStore nodes", b->spec.path);
		return -1;
	}
	switch_state(b, XenbusStateInitWait);
	if (xs_watch_local(b->ctx.xs, b->fe, on_watch, b) ||
	    xs_watch_local(b->ctx.xs, b->be, on_watch, b)) {
		snprintf(err, errlen, "--disk %s: cannot watch XenStore", b->spec.path);
		return -1;
	}
	return 0;
}

struct blkback *blkback_create(const struct pv_backend_ctx *ctx, const struct blk_disk_spec *spec,
			       char *err, size_t errlen)
{
	struct blkback *b = calloc(1, sizeof(*b));

	if (!b) {
		snprintf(err, errlen, "--disk %s: out of memory", spec->path);
		return NULL;
	}
	b->ctx = *ctx;
	b->spec = *spec;
	b->fd = b->fd_buffered = b->xs_fd = -1;
	for (unsigned i = 0; i < BLK_MAX_QUEUES; i++)
		b->q[i].kick_fd = -1;
	snprintf(b->be, sizeof(b->be), "/local/domain/0/backend/vbd/%u/%u", ctx->frontend_domid,
		 spec->devid);
	snprintf(b->fe, sizeof(b->fe), "/local/domain/%u/device/vbd/%u", ctx->frontend_domid,
		 spec->devid);
	if (open_image(b, err, errlen) < 0)
		goto fail;
	if (setup_loop(b) < 0) {
		snprintf(err, errlen, "--disk %s: cannot set up I/O: %s", spec->path, strerror(errno));
		goto fail;
	}
	if (publish(b, err, errlen) < 0)
		goto fail;
	return b;
fail:
	blkback_destroy(b);
	return NULL;
}

static void close_fd(struct evloop *l, int fd)
{
	if (fd < 0)
		return;
	if (l)
		evloop_del(l, fd);
	close(fd);
}

void blkback_destroy(struct blkback *b)
{
	if (!b)
		return;
	xs_unwatch_local(b->ctx.xs, b->fe, on_watch, b);
	xs_unwatch_local(b->ctx.xs, b->be, on_watch, b);
	b->disconnecting = 1;
	if (b->io)
		blk_io_wait_all(b->io);
	blk_io_destroy(b->io);
	for (unsigned i = 0; i < BLK_MAX_QUEUES; i++) {
		queue_disconnect(&b->q[i]);
		close_fd(b->ctx.loop, b->q[i].kick_fd);
	}
	close_fd(b->ctx.loop, b->xs_fd);
	if (b->fd >= 0 && b->fd != b->fd_buffered)
		close(b->fd);
	if (b->fd_buffered >= 0)
		close(b->fd_buffered);
	free(b);
}
