/* Event channels: the port table and every EVTCHNOP, with Xen's validation
 * and error codes. How a pending event is recorded (2-level bitmaps or the
 * FIFO array) is the ABI's business (evtchn_abi); how it interrupts the
 * vCPU is upcall.c's. One lock covers the table and the ABI state. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <xen/xen.h>
#include <xen/event_channel.h>

#include "xenkvm/evtchn.h"
#include "xenkvm/evtchn_state.h"
#include "xenkvm/hypercall.h"
#include "xenkvm/log.h"
#include "xenkvm/vm.h"

/* Per-vCPU VIRQs are bound on each vCPU; the rest (global) on vCPU 0. */
static int virq_is_global(uint32_t virq)
{
	switch (virq) {
	case VIRQ_TIMER:
	case VIRQ_DEBUG:
	case VIRQ_XENOPROF:
	case VIRQ_XENPMU:
		return 0;
	default:
		return 1;
	}
}

static struct evtchn_port *port_get(struct evtchn_state *s, evtchn_port_t port)
{
	return port < s->nports ? &s->ports[port] : NULL;
}

/* A port the guest may name: inside the ABI's range and allocated. Port 0
 * is valid but permanently reserved, as in Xen. */
static struct evtchn_port *port_valid(struct xen *x, evtchn_port_t port)
{
	struct evtchn_state *s = x->evtchn;

	if (port >= s->abi->max_ports(x))
		return NULL;
	return port_get(s, port);
}

static int ports_grow(struct evtchn_state *s, unsigned want)
{
	unsigned n = s->nports ? s->nports : 64;
	struct evtchn_port *p;

	while (n < want)
		n *= 2;
	if (n == s->nports)
		return 0;
	p = realloc(s->ports, n * sizeof(*p));
	if (!p)
		return -XEN_ENOMEM;
	memset(p + s->nports, 0, (n - s->nports) * sizeof(*p));
	s->ports = p;
	s->nports = n;
	return 0;
}

/* Xen's get_free_port: the lowest free port above 0. */
static long port_alloc(struct xen *x, unsigned vcpu)
{
	struct evtchn_state *s = x->evtchn;
	unsigned max = s->abi->max_ports(x);

	for (evtchn_port_t p = 1; p < max; p++) {
		if (p >= s->nports && ports_grow(s, p + 1) < 0)
			return -XEN_ENOMEM;
		if (s->ports[p].state == ECS_FREE) {
			s->ports[p] = (struct evtchn_port){ .state = ECS_RESERVED, .vcpu = vcpu,
							    .priority = EVTCHN_FIFO_PRIORITY_DEFAULT };
			return p;
		}
	}
	return -XEN_ENOSPC;
}

static void port_free(struct xen *x, evtchn_port_t port)
{
	x->evtchn->abi->clear_pending(x, port);
	x->evtchn->ports[port] = (struct evtchn_port){ .state = ECS_FREE };
}

/* Raise a port of the guest; the ABI decides if and whom to interrupt. */
static void port_set_pending(struct xen *x, evtchn_port_t port)
{
	struct evtchn_port *p = port_get(x->evtchn, port);

	if (p && p->state != ECS_FREE)
		x->evtchn->abi->set_pending(x, p->vcpu, port);
	evtchn_wake_pollers(x);
}

static unsigned nvcpus(struct xen *x)
{
	return x->vm->nvcpus;
}

static long evtchn_alloc_unbound(struct hcall *hc, struct xen *x)
{
	struct evtchn_alloc_unbound a;
	long port;

	if (copy_from_guest(hc, &a, hc->arg[1], sizeof(a)))
		return -XEN_EFAULT;
	if (!domid_is_self(a.dom))
		return domid_other_error(a.dom);
	port = port_alloc(x, 0);
	if (port < 0)
		return port;
	x->evtchn->ports[port].state = ECS_UNBOUND;
	x->evtchn->ports[port].remote_dom = a.remote_dom == DOMID_SELF ? XENKVM_DOMID
									 : a.remote_dom;
	a.port = (evtchn_port_t)port;
	if (copy_to_guest(hc, hc->arg[1], &a, sizeof(a))) {
		port_free(x, a.port);
		return -XEN_EFAULT;
	}
	return 0;
}

/* Loopback to our own unbound port. Domain 0's ports are xenkvm's
 * backends', which the guest never binds to; other domains do not exist. */
static long evtchn_bind_interdomain(struct hcall *hc, struct xen *x)
{
	struct evtchn_bind_interdomain b;
	struct evtchn_port *r;
	long lport;

	if (copy_from_guest(hc, &b, hc->arg[1], sizeof(b)))
		return -XEN_EFAULT;
	if (!domid_is_self(b.remote_dom))
		return b.remote_dom == BACKEND_DOMID ? -XEN_EINVAL : -XEN_ESRCH;
	r = port_valid(x, b.remote_port);
	if (!r || r->state != ECS_UNBOUND || r->remote_dom != XENKVM_DOMID)
		return -XEN_EINVAL;
	lport = port_alloc(x, 0);
	if (lport < 0)
		return lport;
	r = port_get(x->evtchn, b.remote_port); /* the table may have moved */
	x->evtchn->ports[lport].state = ECS_INTERDOMAIN;
	x->evtchn->ports[lport].remote_dom = XENKVM_DOMID;
	x->evtchn->ports[lport].remote_port = b.remote_port;
	r->state = ECS_INTERDOMAIN;
	r->remote_port = (evtchn_port_t)lport;
	b.local_port = (evtchn_port_t)lport;
	if (copy_to_guest(hc, hc->arg[1], &b, sizeof(b))) {
		r->state = ECS_UNBOUND;
		port_free(x, b.local_port);
		return -XEN_EFAULT;
	}
	/* As Xen: notifications sent to the unbound port may have been lost. */
	port_set_pending(x, b.local_port);
	return 0;
}

static long evtchn_bind_virq(struct hcall *hc, struct xen *x)
{
	struct evtchn_bind_virq b;
	long port;

	if (copy_from_guest(hc, &b, hc->arg[1], sizeof(b)))
		return -XEN_EFAULT;
	if (b.virq >= NR_VIRQS)
		return -XEN_EINVAL;
	if (virq_is_global(b.virq) && b.vcpu != 0)
		return -XEN_EINVAL;
	if (b.vcpu >= nvcpus(x))
		return -XEN_ENOENT;
	if (x->evtchn->virq_port[b.vcpu][b.virq])
		return -XEN_EEXIST;
	port = port_alloc(x, b.vcpu);
	if (port < 0)
		return port;
	x->evtchn->ports[port].state = ECS_VIRQ;
	x->evtchn->ports[port].virq = b.virq;
	b.port = (evtchn_port_t)port;
	if (copy_to_guest(hc, hc->arg[1], &b, sizeof(b))) {
		port_free(x, b.port);
		return -XEN_EFAULT;
	}
	x->evtchn->virq_port[b.vcpu][b.virq] = b.port;
	return 0;
}

static long evtchn_bind_ipi(struct hcall *hc, struct xen *x)
{
	struct evtchn_bind_ipi b;
	long port;

	if (copy_from_guest(hc, &b, hc->arg[1], sizeof(b)))
		return -XEN_EFAULT;
	if (b.vcpu >= nvcpus(x))
		return -XEN_ENOENT;
	port = port_alloc(x, b.vcpu);
	if (port < 0)
		return port;
	x->evtchn->ports[port].state = ECS_IPI;
	b.port = (evtchn_port_t)port;
	if (copy_to_guest(hc, hc->arg[1], &b, sizeof(b))) {
		port_free(x, b.port);
		return -XEN_EFAULT;
	}
	return 0;
}

/* Close a port; its interdomain peer (if it is ours) goes back to unbound. */
static long port_close(struct xen *x, evtchn_port_t port)
{
	struct evtchn_port *p = port_valid(x, port);

	if (!p || p->state == ECS_FREE || p->state == ECS_RESERVED)
		return -XEN_EINVAL;
	if (p->state == ECS_VIRQ)
		x->evtchn->virq_port[p->vcpu][p->virq] = 0;
	if (p->state == ECS_INTERDOMAIN && !p->backend_fn) {
		struct evtchn_port *peer = port_get(x->evtchn, p->remote_port);
		if (peer && peer->state == ECS_INTERDOMAIN && peer->remote_port == port) {
			peer->state = ECS_UNBOUND;
			peer->remote_dom = XENKVM_DOMID;
		}
	}
	port_free(x, port);
	return 0;
}

static long evtchn_close(struct hcall *hc, struct xen *x)
{
	struct evtchn_close c;

	if (copy_from_guest(hc, &c, hc->arg[1], sizeof(c)))
		return -XEN_EFAULT;
	return port_close(x, c.port);
}

/* Deliver a send on port: to its peer, to a backend, or to itself (IPI).
 * Returns the backend to call once the lock is dropped, if any. */
static long port_send(struct xen *x, evtchn_port_t port, struct evtchn_port *backend)
{
	struct evtchn_port *p = port_valid(x, port);

	if (!p)
		return -XEN_EINVAL;
	switch (p->state) {
	case ECS_INTERDOMAIN:
		if (p->backend_fn)
			*backend = *p;
		else
			port_set_pending(x, p->remote_port);
		return 0;
	case ECS_IPI:
		port_set_pending(x, port);
		return 0;
	case ECS_UNBOUND:
		return 0; /* nobody listens yet: dropped, as Xen does */
	default:
		return -XEN_EINVAL;
	}
}

static long evtchn_send(struct hcall *hc, struct xen *x)
{
	struct evtchn_send s;
	struct evtchn_port backend = { 0 };
	long rc;

	if (copy_from_guest(hc, &s, hc->arg[1], sizeof(s)))
		return -XEN_EFAULT;
	pthread_mutex_lock(&x->evtchn->lock);
	rc = port_send(x, s.port, &backend);
	pthread_mutex_unlock(&x->evtchn->lock);
	/* Outside the lock: a backend may notify us back at once. */
	if (backend.backend_fn)
		backend.backend_fn(backend.backend_opaque);
	return rc;
}

static long evtchn_status_op(struct hcall *hc, struct xen *x)
{
	struct evtchn_status st;
	struct evtchn_port *p;

	if (copy_from_guest(hc, &st, hc->arg[1], sizeof(st)))
		return -XEN_EFAULT;
	if (!domid_is_self(st.dom))
		return domid_other_error(st.dom);
	p = port_valid(x, st.port);
	if (!p)
		return -XEN_EINVAL;
	memset(&st.u, 0, sizeof(st.u));
	st.vcpu = p->vcpu;
	switch (p->state) {
	case ECS_FREE:
	case ECS_RESERVED:
		st.status = EVTCHNSTAT_closed;
		break;
	case ECS_UNBOUND:
		st.status = EVTCHNSTAT_unbound;
		st.u.unbound.dom = p->remote_dom;
		break;
	case ECS_INTERDOMAIN:
		st.status = EVTCHNSTAT_interdomain;
		st.u.interdomain.dom = p->remote_dom;
		st.u.interdomain.port = p->remote_port;
		break;
	case ECS_VIRQ:
		st.status = EVTCHNSTAT_virq;
		st.u.virq = p->virq;
		break;
	case ECS_IPI:
		st.status = EVTCHNSTAT_ipi;
		break;
	}
	return copy_to_guest(hc, hc->arg[1], &st, sizeof(st));
}

static long evtchn_bind_vcpu(struct hcall *hc, struct xen *x)
{
	struct evtchn_bind_vcpu b;
	struct evtchn_port *p;
	unsigned old;

	if (copy_from_guest(hc, &b, hc->arg[1], sizeof(b)))
		return -XEN_EFAULT;
	if (b.vcpu >= nvcpus(x))
		return -XEN_ENOENT;
	p = port_valid(x, b.port);
	if (!p)
		return -XEN_EINVAL;
	switch (p->state) {
	case ECS_VIRQ:
		if (!virq_is_global(p->virq))
			return -XEN_EINVAL;
		break;
	case ECS_UNBOUND:
	case ECS_INTERDOMAIN:
		break;
	default:
		return -XEN_EINVAL;
	}
	old = p->vcpu;
	p->vcpu = b.vcpu;
	if (x->evtchn->abi->bind_vcpu)
		x->evtchn->abi->bind_vcpu(x, b.port, old);
	return 0;
}

static long evtchn_unmask(struct hcall *hc, struct xen *x)
{
	struct evtchn_unmask u;
	struct evtchn_port *p;

	if (copy_from_guest(hc, &u, hc->arg[1], sizeof(u)))
		return -XEN_EFAULT;
	p = port_valid(x, u.port);
	if (!p)
		return -XEN_EINVAL;
	x->evtchn->abi->unmask(x, p->vcpu, u.port);
	return 0;
}

/* Close every port, as Xen's evtchn_reset; backends lose their channels. */
static long evtchn_reset(struct hcall *hc, struct xen *x)
{
	struct evtchn_reset r;

	if (copy_from_guest(hc, &r, hc->arg[1], sizeof(r)))
		return -XEN_EFAULT;
	if (!domid_is_self(r.dom))
		return domid_other_error(r.dom);
	for (evtchn_port_t p = 1; p < x->evtchn->nports; p++)
		if (x->evtchn->ports[p].state != ECS_FREE)
			port_free(x, p);
	x->evtchn->ports[0].state = ECS_RESERVED;
	memset(x->evtchn->virq_port, 0, sizeof(x->evtchn->virq_port));
	evtchn_fifo_reset(x);
	return 0;
}

long event_channel_op(struct hcall *hc)
{
	struct xen *x = hc->xen;
	long rc;

	if (hc->arg[0] == EVTCHNOP_send)
		return evtchn_send(hc, x);
	pthread_mutex_lock(&x->evtchn->lock);
	switch (hc->arg[0]) {
	case EVTCHNOP_alloc_unbound: rc = evtchn_alloc_unbound(hc, x); break;
	case EVTCHNOP_bind_interdomain: rc = evtchn_bind_interdomain(hc, x); break;
	case EVTCHNOP_bind_virq: rc = evtchn_bind_virq(hc, x); break;
	case EVTCHNOP_bind_ipi: rc = evtchn_bind_ipi(hc, x); break;
	case EVTCHNOP_close: rc = evtchn_close(hc, x); break;
	case EVTCHNOP_status: rc = evtchn_status_op(hc, x); break;
	case EVTCHNOP_bind_vcpu: rc = evtchn_bind_vcpu(hc, x); break;
	case EVTCHNOP_unmask: rc = evtchn_unmask(hc, x); break;
	case EVTCHNOP_reset: rc = evtchn_reset(hc, x); break;
	case EVTCHNOP_init_control: rc = evtchn_fifo_init_control(hc, x); break;
	case EVTCHNOP_expand_array: rc = evtchn_fifo_expand_array(hc, x); break;
	case EVTCHNOP_set_priority: rc = evtchn_fifo_set_priority(hc, x); break;
	case EVTCHNOP_bind_pirq: rc = hcall_subop_enosys(hc, hc->arg[0]); break;
	default: rc = -XEN_ENOSYS; break;
	}
	pthread_mutex_unlock(&x->evtchn->lock);
	return rc;
}

/* ---- For the rest of xenkvm ---- */

int evtchn_init(struct xen *x)
{
	struct evtchn_state *s = calloc(1, sizeof(*s));

	if (!s)
		return -1;
	pthread_mutex_init(&s->lock, NULL);
	s->abi = &evtchn_abi_2l;
	x->evtchn = s;
	if (ports_grow(s, 64) < 0)
		return -1;
	s->ports[0].state = ECS_RESERVED;
	/* The toolstack's ports for the console and XenStore, waiting for dom0. */
	s->ports[CONSOLE_EVTCHN_PORT] = (struct evtchn_port){ .state = ECS_UNBOUND,
							      .remote_dom = BACKEND_DOMID };
	s->ports[STORE_EVTCHN_PORT] = (struct evtchn_port){ .state = ECS_UNBOUND,
							    .remote_dom = BACKEND_DOMID };
	return 0;
}

void evtchn_destroy(struct xen *x)
{
	if (!x->evtchn)
		return;
	evtchn_fifo_destroy(x);
	free(x->evtchn->ports);
	pthread_mutex_destroy(&x->evtchn->lock);
	free(x->evtchn);
	x->evtchn = NULL;
}

int evtchn_backend_bind(struct xen *x, evtchn_port_t port, evtchn_backend_fn fn, void *opaque)
{
	struct evtchn_port *p;
	int rc = 0;

	pthread_mutex_lock(&x->evtchn->lock);
	p = port_valid(x, port);
	if (!p || p->state != ECS_UNBOUND || p->remote_dom != BACKEND_DOMID) {
		rc = -XEN_EINVAL;
	} else {
		p->state = ECS_INTERDOMAIN;
		p->remote_port = 0;
		p->backend_fn = fn;
		p->backend_opaque = opaque;
	}
	pthread_mutex_unlock(&x->evtchn->lock);
	return rc;
}

void evtchn_backend_unbind(struct xen *x, evtchn_port_t port)
{
	struct evtchn_port *p;

	pthread_mutex_lock(&x->evtchn->lock);
	p = port_valid(x, port);
	if (p && p->state == ECS_INTERDOMAIN && p->backend_fn) {
		p->state = ECS_UNBOUND;
		p->backend_fn = NULL;
		p->backend_opaque = NULL;
	}
	pthread_mutex_unlock(&x->evtchn->lock);
}

int evtchn_backend_notify(struct xen *x, evtchn_port_t port)
{
	struct evtchn_port *p;
	int rc = 0;

	pthread_mutex_lock(&x->evtchn->lock);
	p = port_valid(x, port);
	if (!p || p->state != ECS_INTERDOMAIN || !p->backend_fn)
		rc = -XEN_EINVAL;
	else
		port_set_pending(x, port);
	pthread_mutex_unlock(&x->evtchn->lock);
	return rc;
}

void evtchn_raise_virq(struct xen *x, unsigned vcpu, uint32_t virq)
{
	pthread_mutex_lock(&x->evtchn->lock);
	if (vcpu < VM_MAX_VCPUS && virq < NR_VIRQS && x->evtchn->virq_port[vcpu][virq])
		port_set_pending(x, x->evtchn->virq_port[vcpu][virq]);
	pthread_mutex_unlock(&x->evtchn->lock);
}

int evtchn_any_pending(struct xen *x, const evtchn_port_t *ports, unsigned n)
{
	int rc = 0;

	pthread_mutex_lock(&x->evtchn->lock);
	for (unsigned i = 0; i < n && rc == 0; i++) {
		if (!port_valid(x, ports[i]))
			rc = -XEN_EINVAL;
		else if (x->evtchn->abi->is_pending(x, ports[i]))
			rc = 1;
	}
	pthread_mutex_unlock(&x->evtchn->lock);
	return rc;
}

void evtchn_wake_pollers(struct xen *x)
{
	for (unsigned i = 0; i < x->vm->nvcpus; i++)
		if (__atomic_load_n(&x->vcpus[i].polling, __ATOMIC_SEQ_CST))
			xen_vcpu_wake(x, i);
}
