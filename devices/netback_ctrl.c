/* The control ring (feature-ctrl-ring): how far it goes. xenkvm has one tap
 * queue and picks RX queues by its own flow hash, so it offers no
 * frontend-programmable hashing: it says so in the protocol's terms (no
 * hash types, only the NONE algorithm) instead of pretending. */
#include "xenkvm/netback_ring.h"

static void ctrl_answer(const struct xen_netif_ctrl_request *req,
			struct xen_netif_ctrl_response *rsp)
{
	rsp->id = req->id;
	rsp->type = req->type;
	rsp->data = 0;
	switch (req->type) {
	case XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS:
		rsp->status = XEN_NETIF_CTRL_STATUS_SUCCESS;
		break;
	case XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS:
		rsp->status = req->data[0] ? XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER
					   : XEN_NETIF_CTRL_STATUS_SUCCESS;
		break;
	case XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM:
		rsp->status = req->data[0] == XEN_NETIF_CTRL_HASH_ALGORITHM_NONE
				      ? XEN_NETIF_CTRL_STATUS_SUCCESS
				      : XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
		break;
	default:
		rsp->status = XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED;
		break;
	}
}

static int ctrl_producer(xen_netif_ctrl_back_ring_t *r, RING_IDX *prod, const char **fatal)
{
	*prod = __atomic_load_n(&r->sring->req_prod, __ATOMIC_ACQUIRE);
	if (*prod - r->req_cons > RING_SIZE(r)) {
		*fatal = "control ring producer index out of range";
		return -1;
	}
	return 0;
}

int nb_ctrl_process(xen_netif_ctrl_back_ring_t *r, int *notify, const char **fatal)
{
	/* A ring's worth per call: a frontend that keeps producing from
	 * another vCPU must not hold the event loop (and every backend on it). */
	unsigned budget = RING_SIZE(r);
	RING_IDX prod;
	int rc;

	*notify = 0;
	while ((rc = ctrl_producer(r, &prod, fatal)) == 0) {
		for (; r->req_cons != prod && budget; budget--) {
			struct xen_netif_ctrl_request req;
			RING_COPY_REQUEST(r, r->req_cons++, &req);
			ctrl_answer(&req, RING_GET_RESPONSE(r, r->rsp_prod_pvt++));
		}
		if (r->req_cons != prod) {
			rc = 1;
			break;
		}
		/* Ask for an event on the next request, then look once more. */
		r->sring->req_event = r->req_cons + 1;
		xen_mb();
		if (__atomic_load_n(&r->sring->req_prod, __ATOMIC_ACQUIRE) == r->req_cons)
			break;
	}
	RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(r, *notify);
	return rc;
}
