/* The event-channel table, shared by evtchn.c and the two ABIs. */
#ifndef XENKVM_EVTCHN_STATE_H
#define XENKVM_EVTCHN_STATE_H

#include <pthread.h>
#include <stdint.h>

#include <xen/xen.h>
#include <xen/event_channel.h>

#include "xenkvm/evtchn.h"
#include "xenkvm/vm.h"

enum evtchn_port_state {
	ECS_FREE,
	ECS_RESERVED, /* allocated, being set up */
	ECS_UNBOUND,
	ECS_INTERDOMAIN,
	ECS_VIRQ,
	ECS_IPI,
};

struct evtchn_port {
	uint8_t state;
	uint8_t priority; /* FIFO */
	uint16_t vcpu;    /* the vCPU notified */
	domid_t remote_dom;
	evtchn_port_t remote_port; /* loopback peer */
	uint32_t virq;
	evtchn_backend_fn backend_fn; /* set: the other end is a xenkvm backend */
	void *backend_opaque;
	/* FIFO: the queue (vCPU, priority) the event was last linked on, and
	 * an event raised while its event-array page was not there yet. */
	uint16_t last_vcpu;
	uint8_t last_priority;
	uint8_t fifo_pending;
};

struct evtchn_fifo;

struct evtchn_state {
	pthread_mutex_t lock;
	const struct evtchn_abi *abi;
	struct evtchn_port *ports;
	unsigned nports;
	evtchn_port_t virq_port[VM_MAX_VCPUS][NR_VIRQS];
	struct evtchn_fifo *fifo; /* NULL while the guest uses the 2-level ABI */
};

/* SCHEDOP_poll waiters re-check their ports on every event. */
void evtchn_wake_pollers(struct xen *x);

long evtchn_fifo_init_control(struct hcall *hc, struct xen *x);
long evtchn_fifo_expand_array(struct hcall *hc, struct xen *x);
long evtchn_fifo_set_priority(struct hcall *hc, struct xen *x);
void evtchn_fifo_reset(struct xen *x);
void evtchn_fifo_destroy(struct xen *x);
/* The vCPU's READY word, or -1 without a control block (xen_dump_vcpus). */
int64_t evtchn_fifo_ready(struct xen *x, unsigned vcpu);

#endif
