/* Event channels as xenkvm's backends see them. A backend (console,
 * XenStore, block, net) is the "domain 0" end of an interdomain channel. */
#ifndef XENKVM_EVTCHN_H
#define XENKVM_EVTCHN_H

#include <stdint.h>

#include <xen/xen.h>
#include <xen/event_channel.h>

#include "xenkvm/xen.h"

struct hcall;

/* The domain id xenkvm's backends act as. */
#define BACKEND_DOMID 0

/* Called on the sending vCPU's thread when the guest notifies the port:
 * keep it short (e.g. write an eventfd the backend's evloop handler reads). */
typedef void (*evtchn_backend_fn)(void *opaque);

/* Connect a backend to the guest's port, which must be unbound and waiting
 * for domain 0 (EVTCHNOP_alloc_unbound with remote_dom 0, or a port the
 * toolstack reserved). Returns 0 or a -XEN_E* code. */
int evtchn_backend_bind(struct xen *x, evtchn_port_t port, evtchn_backend_fn fn, void *opaque);
/* Disconnect; the guest's end becomes unbound again, as when dom0 closes. */
void evtchn_backend_unbind(struct xen *x, evtchn_port_t port);
/* Raise the guest's end of a backend channel. Any thread. */
int evtchn_backend_notify(struct xen *x, evtchn_port_t port);

/* Xen's own events for the guest: raise the port bound to virq on vcpu. */
void evtchn_raise_virq(struct xen *x, unsigned vcpu, uint32_t virq);

/* ---- Inside xenemu ---- */

/* How an event reaches the guest: the 2-level bitmaps in shared_info, or
 * the FIFO event array. All called with the evtchn lock held. */
struct evtchn_abi {
	const char *name;
	unsigned (*max_ports)(struct xen *x);
	void (*set_pending)(struct xen *x, unsigned vcpu, evtchn_port_t port);
	void (*clear_pending)(struct xen *x, evtchn_port_t port);
	void (*unmask)(struct xen *x, unsigned vcpu, evtchn_port_t port);
	int (*is_pending)(struct xen *x, evtchn_port_t port);
	int (*is_masked)(struct xen *x, evtchn_port_t port);
	/* The port's notify vCPU or priority changed (FIFO requeues). */
	void (*bind_vcpu)(struct xen *x, evtchn_port_t port, unsigned old_vcpu);
};

extern const struct evtchn_abi evtchn_abi_2l;

struct evtchn_state;
int evtchn_init(struct xen *x);
void evtchn_destroy(struct xen *x);
/* Is any of these ports pending (SCHEDOP_poll)? -XEN_EINVAL for a bad port. */
int evtchn_any_pending(struct xen *x, const evtchn_port_t *ports, unsigned n);
long event_channel_op(struct hcall *hc);

/* The vcpu_info a vCPU uses now (registered, or its shared_info slot), or NULL. */
uint8_t *xen_vcpu_info(struct xen *x, unsigned vcpu);
/* Set evtchn_upcall_pending and, on its 0 -> 1 edge, interrupt the vCPU. */
void upcall_mark_pending(struct xen *x, unsigned vcpu);
/* Interrupt the vCPU again if it has an upcall pending (the way of
 * delivery changed: a callback or upcall vector was just set). */
void upcall_redeliver(struct xen *x, unsigned vcpu);
/* On the vCPU's thread before KVM_RUN: inject a waiting callback vector. */
void upcall_inject_pending(struct vcpu *v);
/* HVM_PARAM_CALLBACK_IRQ changed: set up what its type needs (a GSI line). */
int upcall_set_callback_via(struct xen *x, uint64_t via);
/* At setup: what a GSI callback will need. */
int upcall_init(struct xen *x);
void upcall_destroy(struct xen *x);

/* Timers (timer.c): per-vCPU singleshot and periodic, firing VIRQ_TIMER. */
int timers_init(struct xen *x);
void timers_destroy(struct xen *x);
void timer_set_singleshot(struct xen *x, unsigned vcpu, uint64_t deadline_ns);
void timer_set_periodic(struct xen *x, unsigned vcpu, uint64_t period_ns);
long set_timer_op(struct hcall *hc);
long vcpu_op(struct hcall *hc);
/* SMP start/stop and injections, run on each vCPU's thread before KVM_RUN. */
void xen_vcpu_pre_run(struct vcpu *v);
/* Runstate bookkeeping: the vCPU enters state (RUNSTATE_*). */
void runstate_set(struct xen *x, unsigned vcpu, int state);

#endif
