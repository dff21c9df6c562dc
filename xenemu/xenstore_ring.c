/* The guest's XenStore ring (struct xenstore_domain_interface, see Xen's
 * docs/misc/xenstore-ring.txt). The guest owns req_prod and rsp_cons and
 * may write anything anywhere in the page, so the indices we own are kept
 * in private copies, every index the guest gives is checked, and all
 * offsets are masked: a lying guest gets the error field set and its
 * connection stopped until it asks to reconnect, never a hang. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xenkvm/log.h"
#include "xenstore_impl.h"

struct xs_ring {
	struct xenstore_domain_interface *intf;
	struct xs_conn *conn;
	xs_notify_fn notify;
	void *opaque;
	XENSTORE_RING_IDX req_cons, rsp_prod; /* ours; the page's copies are outputs */
	int failed;                           /* error set: wait for a reconnect */
};

static uint32_t load_guest(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void store_ours(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static void ring_fail(struct xs_ring *r, uint32_t error, const char *why)
{
	log_warn("xenstore: domain %u ring: %s; connection stopped until it reconnects",
		 r->conn->domid, why);
	r->failed = 1;
	xs_conn_reset(r->conn);
	r->conn->broken = 1;
	store_ours(&r->intf->error, error);
	r->notify(r->opaque);
}

/* Reconnection: empty both queues, forget the connection's state. */
static void ring_reconnect(struct xs_ring *r)
{
	struct xenstore_domain_interface *intf = r->intf;

	xs_conn_reset(r->conn);
	r->conn->broken = 0;
	r->failed = 0;
	r->req_cons = r->rsp_prod = 0;
	store_ours(&intf->req_cons, 0);
	store_ours(&intf->req_prod, 0);
	store_ours(&intf->rsp_cons, 0);
	store_ours(&intf->rsp_prod, 0);
	store_ours(&intf->error, XENSTORE_ERROR_NONE);
	store_ours(&intf->connection, XENSTORE_CONNECTED);
}

/* Move request bytes from the ring into the connection, a message at a
 * time (processing each as it completes). Returns whether any was taken. */
static int ring_pull(struct xs_ring *r)
{
	uint8_t buf[XENSTORE_RING_SIZE];
	int moved = 0;

	while (!r->failed) {
		uint32_t avail = load_guest(&r->intf->req_prod) - r->req_cons;
		uint32_t off = MASK_XENSTORE_IDX(r->req_cons);
		size_t n = xs_conn_input_want_locked(r->conn);

		if (avail > XENSTORE_RING_SIZE) {
			ring_fail(r, XENSTORE_ERROR_RINGIDX, "request producer index out of range");
			break;
		}
		if (n > avail)
			n = avail;
		if (n > XENSTORE_RING_SIZE - off)
			n = XENSTORE_RING_SIZE - off;
		if (!n)
			break;
		memcpy(buf, r->intf->req + off, n);
		r->req_cons += (uint32_t)n;
		store_ours(&r->intf->req_cons, r->req_cons);
		moved = 1;
		if (xs_conn_input_locked(r->conn, buf, n) < 0)
			ring_fail(r, XENSTORE_ERROR_PROTO, "message longer than XENSTORE_PAYLOAD_MAX");
	}
	return moved;
}

/* The connection's flush: queued output into the response ring. */
static void ring_flush(struct xs_conn *c, void *opaque)
{
	struct xs_ring *r = opaque;
	int moved = 0;

	while (!r->failed) {
		const uint8_t *p;
		size_t len = xs_conn_output_peek(c, &p);
		uint32_t used = r->rsp_prod - load_guest(&r->intf->rsp_cons);
		uint32_t off = MASK_XENSTORE_IDX(r->rsp_prod);
		size_t n = XENSTORE_RING_SIZE - used;

		if (used > XENSTORE_RING_SIZE) {
			ring_fail(r, XENSTORE_ERROR_RINGIDX, "response consumer index out of range");
			break;
		}
		if (n > len)
			n = len;
		if (n > XENSTORE_RING_SIZE - off)
			n = XENSTORE_RING_SIZE - off;
		if (!n)
			break;
		memcpy(r->intf->rsp + off, p, n);
		r->rsp_prod += (uint32_t)n;
		store_ours(&r->intf->rsp_prod, r->rsp_prod);
		xs_conn_output_done(c, n);
		moved = 1;
	}
	if (moved)
		r->notify(r->opaque);
}

int xs_ring_attach(struct xenstore *xs, void *page, xs_notify_fn notify, void *opaque)
{
	struct xs_ring *r;

	pthread_mutex_lock(&xs->lock);
	if (xs->ring) {
		pthread_mutex_unlock(&xs->lock);
		return EBUSY;
	}
	r = calloc(1, sizeof(*r));
	if (r)
		r->conn = xs_conn_open_locked(xs, xs->guest_domid, ring_flush, r);
	if (!r || !r->conn) {
		free(r);
		pthread_mutex_unlock(&xs->lock);
		return ENOMEM;
	}
	r->intf = page;
	r->notify = notify;
	r->opaque = opaque;
	r->req_cons = load_guest(&r->intf->req_cons);
	r->rsp_prod = load_guest(&r->intf->rsp_prod);
	/* Advertised before any data moves, as the ring protocol requires. */
	store_ours(&r->intf->server_features,
		   XENSTORE_SERVER_FEATURE_RECONNECTION | XENSTORE_SERVER_FEATURE_ERROR);
	xs->ring = r;
	xs->guest_introduced = 1;
	xs_fire_special(xs, XS_SPECIAL_INTRODUCE);
	xs_flush_all(xs);
	xs_unlock_and_run_local(xs);
	return 0;
}

void xs_ring_kick(struct xenstore *xs)
{
	struct xs_ring *r;

	pthread_mutex_lock(&xs->lock);
	r = xs->ring;
	if (r && xs->guest_introduced) {
		int reconnected = load_guest(&r->intf->connection) == XENSTORE_RECONNECT;
		if (reconnected)
			ring_reconnect(r);
		int pulled, any = 0;
		/* Replies first: they make room for more requests under the
		 * outstanding-reply quota; stop when neither side moves. */
		do {
			ring_flush(r->conn, r);
			pulled = ring_pull(r);
			any |= pulled;
		} while (pulled && !r->failed);
		if (any || reconnected)
			r->notify(r->opaque);
		xs_flush_all(xs);
	}
	xs_unlock_and_run_local(xs);
}

void xs_ring_free(struct xenstore *xs)
{
	if (!xs->ring)
		return;
	xs_conn_close_locked(xs->ring->conn);
	free(xs->ring);
	xs->ring = NULL;
}
