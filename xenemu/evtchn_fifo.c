/* The FIFO event-channel ABI: a 32-bit event word per port in guest pages
 * (PENDING, MASKED, LINKED, BUSY and a 17-bit link), and per vCPU a
 * control block with 16 priority queues. Xen links an event onto the tail
 * of its queue; the guest consumes from the head. The guest may change a
 * LINKED word under us, so the tail's link is set with compare-and-swap,
 * holding off the guest's unmask with BUSY, exactly as Xen does. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <xen/xen.h>
#include <xen/event_channel.h>

#include "xenkvm/bitops.h"
#include "xenkvm/evtchn_state.h"
#include "xenkvm/hypercall.h"
#include "xenkvm/log.h"

#define WORDS_PER_PAGE (GUEST_PAGE_SIZE / sizeof(event_word_t))
#define MAX_ARRAY_PAGES (EVTCHN_FIFO_NR_CHANNELS / WORDS_PER_PAGE)

struct fifo_vcpu {
	struct evtchn_fifo_control_block *cb; /* in guest memory; NULL: not set up */
	evtchn_port_t tail[EVTCHN_FIFO_MAX_QUEUES];
};

struct evtchn_fifo {
	event_word_t *pages[MAX_ARRAY_PAGES];
	unsigned nwords; /* ports with an event word so far */
	struct fifo_vcpu vcpu[VM_MAX_VCPUS];
};

static struct evtchn_fifo *fifo(struct xen *x)
{
	return x->evtchn->fifo;
}

static event_word_t *word_of(struct xen *x, evtchn_port_t port)
{
	struct evtchn_fifo *f = fifo(x);

	if (port >= f->nwords)
		return NULL;
	return f->pages[port / WORDS_PER_PAGE] + port % WORDS_PER_PAGE;
}

static int wbit_test_and_set(event_word_t *w, unsigned bit)
{
	return bit_test_and_set(w, bit, 0);
}

static int wbit_test(event_word_t *w, unsigned bit)
{
	return bit_test(w, bit, 0);
}

/* Set the LINK field of a word iff it is still LINKED: 1 done, 0 the guest
 * unlinked it meanwhile, -1 it changed under us (try again). */
static int try_set_link(event_word_t *word, event_word_t *w, uint32_t link)
{
	event_word_t old = *w, new;

	if (!(old & (1u << EVTCHN_FIFO_LINKED)))
		return 0;
	new = (old & ~((1u << EVTCHN_FIFO_BUSY) | EVTCHN_FIFO_LINK_MASK)) | link;
	if (__atomic_compare_exchange_n(word, w, new, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		return 1;
	return -1;
}

/* The guest may only set/clear MASKED, clear PENDING and clear LINKED on a
 * linked word; BUSY blocks its unmask, so a few tries always suffice. */
static int set_link(event_word_t *word, uint32_t link)
{
	event_word_t w = __atomic_load_n(word, __ATOMIC_SEQ_CST);
	int rc = try_set_link(word, &w, link);

	if (rc >= 0)
		return rc;
	__atomic_fetch_or(word, 1u << EVTCHN_FIFO_BUSY, __ATOMIC_SEQ_CST);
	w = __atomic_load_n(word, __ATOMIC_SEQ_CST);
	for (int i = 0; i < 4; i++) {
		rc = try_set_link(word, &w, link);
		if (rc >= 0) {
			if (rc == 0)
				__atomic_fetch_and(word, ~(1u << EVTCHN_FIFO_BUSY), __ATOMIC_SEQ_CST);
			return rc;
		}
	}
	log_once("FIFO event %u could not be linked: the guest keeps changing the tail", link);
	__atomic_fetch_and(word, ~(1u << EVTCHN_FIFO_BUSY), __ATOMIC_SEQ_CST);
	return 1;
}

/* Append port to its queue; the first event of an empty queue sets the
 * queue's READY bit and interrupts the vCPU. */
static void link_event(struct xen *x, unsigned vcpu, evtchn_port_t port, event_word_t *word)
{
	struct evtchn_port *p = &x->evtchn->ports[port];
	struct fifo_vcpu *fv = &fifo(x)->vcpu[vcpu];
	evtchn_port_t *old_tail = &fifo(x)->vcpu[p->last_vcpu].tail[p->last_priority];
	evtchn_port_t *tail = &fv->tail[p->priority];
	int linked = 0;

	if (!fv->cb) {
		log_once("vCPU %u has no FIFO control block: event %u dropped", vcpu, port);
		return;
	}
	/* If it was the tail of its old queue, that queue is empty now. */
	if (*old_tail == port)
		*old_tail = 0;
	p->last_vcpu = (uint16_t)vcpu;
	p->last_priority = p->priority;
	if (wbit_test_and_set(word, EVTCHN_FIFO_LINKED))
		return;
	if (*tail) {
		event_word_t *tw = word_of(x, *tail);
		linked = tw && set_link(tw, port);
	}
	if (!linked)
		__atomic_store_n(&fv->cb->head[p->priority], port, __ATOMIC_SEQ_CST);
	*tail = port;
	if (!linked && !bit_test_and_set(&fv->cb->ready, p->priority, 0))
		upcall_mark_pending(x, vcpu);
}

int64_t evtchn_fifo_ready(struct xen *x, unsigned vcpu)
{
	struct evtchn_fifo_control_block *cb = fifo(x)->vcpu[vcpu].cb;

	if (!cb)
		return -1;
	return __atomic_load_n(&cb->ready, __ATOMIC_RELAXED);
}

static void set_pending_fifo(struct xen *x, unsigned vcpu, evtchn_port_t port)
{
	event_word_t *word = word_of(x, port);

	if (!word) {
		/* No event word yet: remember it for expand_array. */
		x->evtchn->ports[port].fifo_pending = 1;
		return;
	}
	wbit_test_and_set(word, EVTCHN_FIFO_PENDING);
	if (!wbit_test(word, EVTCHN_FIFO_MASKED) && !wbit_test(word, EVTCHN_FIFO_LINKED))
		link_event(x, vcpu, port, word);
}

/* Only PENDING is cleared: the guest unlinks what it consumes. */
static void clear_pending_fifo(struct xen *x, evtchn_port_t port)
{
	event_word_t *word = word_of(x, port);

	x->evtchn->ports[port].fifo_pending = 0;
	if (word)
		__atomic_fetch_and(word, ~(1u << EVTCHN_FIFO_PENDING), __ATOMIC_SEQ_CST);
}

static void unmask_fifo(struct xen *x, unsigned vcpu, evtchn_port_t port)
{
	event_word_t *word = word_of(x, port);

	if (!word)
		return;
	__atomic_fetch_and(word, ~(1u << EVTCHN_FIFO_MASKED), __ATOMIC_SEQ_CST);
	if (wbit_test(word, EVTCHN_FIFO_PENDING))
		set_pending_fifo(x, vcpu, port);
}

static int is_pending_fifo(struct xen *x, evtchn_port_t port)
{
	event_word_t *word = word_of(x, port);
	return word ? wbit_test(word, EVTCHN_FIFO_PENDING) : x->evtchn->ports[port].fifo_pending;
}

static int is_masked_fifo(struct xen *x, evtchn_port_t port)
{
	event_word_t *word = word_of(x, port);
	return !word || wbit_test(word, EVTCHN_FIFO_MASKED);
}

static unsigned max_ports_fifo(struct xen *x)
{
	(void)x;
	return EVTCHN_FIFO_NR_CHANNELS;
}

static const struct evtchn_abi evtchn_abi_fifo = {
	.name = "FIFO",
	.max_ports = max_ports_fifo,
	.set_pending = set_pending_fifo,
	.clear_pending = clear_pending_fifo,
	.unmask = unmask_fifo,
	.is_pending = is_pending_fifo,
	.is_masked = is_masked_fifo,
};

/* A guest frame to hold FIFO state: RAM only, as Xen's map_guest_page. */
static void *guest_page(struct hcall *hc, uint64_t gfn, uint32_t offset, size_t len)
{
	uint64_t gpa = gfn << GUEST_PAGE_SHIFT;

	if (gfn >> (64 - GUEST_PAGE_SHIFT) || !gmem_is_ram(hc->mem, gpa, GUEST_PAGE_SIZE))
		return NULL;
	return gmem_ptr(hc->mem, gpa + offset, len);
}

/* Switching from 2-level: ports pending there stay pending here. */
static void switch_to_fifo(struct xen *x)
{
	struct evtchn_state *s = x->evtchn;

	for (evtchn_port_t p = 1; p < s->nports; p++) {
		if (s->ports[p].state == ECS_FREE)
			continue;
		s->ports[p].fifo_pending = (uint8_t)s->abi->is_pending(x, p);
		s->ports[p].priority = EVTCHN_FIFO_PRIORITY_DEFAULT;
		s->ports[p].last_vcpu = s->ports[p].vcpu;
		s->ports[p].last_priority = EVTCHN_FIFO_PRIORITY_DEFAULT;
	}
	s->abi = &evtchn_abi_fifo;
	log_info("guest switched to the FIFO event-channel ABI");
}

long evtchn_fifo_init_control(struct hcall *hc, struct xen *x)
{
	struct evtchn_init_control ic;
	struct evtchn_fifo_control_block *cb;

	if (copy_from_guest(hc, &ic, hc->arg[1], sizeof(ic)))
		return -XEN_EFAULT;
	ic.link_bits = EVTCHN_FIFO_LINK_BITS;
	if (ic.vcpu >= x->vm->nvcpus)
		return -XEN_ENOENT;
	if (ic.offset > GUEST_PAGE_SIZE - sizeof(*cb) || (ic.offset & 7))
		return -XEN_EINVAL;
	if (fifo(x) && fifo(x)->vcpu[ic.vcpu].cb)
		return -XEN_EINVAL;
	cb = guest_page(hc, ic.control_gfn, ic.offset, sizeof(*cb));
	if (!cb)
		return -XEN_EINVAL;
	if (!fifo(x)) {
		x->evtchn->fifo = calloc(1, sizeof(struct evtchn_fifo));
		if (!fifo(x))
			return -XEN_ENOMEM;
		switch_to_fifo(x);
	}
	memset(cb, 0, sizeof(*cb));
	fifo(x)->vcpu[ic.vcpu].cb = cb;
	return copy_to_guest(hc, hc->arg[1], &ic, sizeof(ic));
}

long evtchn_fifo_expand_array(struct hcall *hc, struct xen *x)
{
	struct evtchn_expand_array ea;
	struct evtchn_fifo *f = fifo(x);
	event_word_t *page;
	unsigned first;

	if (copy_from_guest(hc, &ea, hc->arg[1], sizeof(ea)))
		return -XEN_EFAULT;
	if (!f)
		return -XEN_EOPNOTSUPP;
	if (f->nwords / WORDS_PER_PAGE >= MAX_ARRAY_PAGES)
		return -XEN_ENOSPC;
	page = guest_page(hc, ea.array_gfn, 0, GUEST_PAGE_SIZE);
	if (!page)
		return -XEN_EINVAL;
	first = f->nwords;
	f->pages[f->nwords / WORDS_PER_PAGE] = page;
	f->nwords += WORDS_PER_PAGE;
	/* Raise what came while these ports had no word. */
	for (evtchn_port_t p = first; p < f->nwords && p < x->evtchn->nports; p++) {
		struct evtchn_port *ep = &x->evtchn->ports[p];
		if (ep->fifo_pending) {
			ep->fifo_pending = 0;
			set_pending_fifo(x, ep->vcpu, p);
		}
	}
	return 0;
}

long evtchn_fifo_set_priority(struct hcall *hc, struct xen *x)
{
	struct evtchn_set_priority sp;

	if (copy_from_guest(hc, &sp, hc->arg[1], sizeof(sp)))
		return -XEN_EFAULT;
	if (sp.port >= x->evtchn->nports)
		return -XEN_EINVAL;
	if (!fifo(x))
		return -XEN_ENOSYS;
	if (sp.priority > EVTCHN_FIFO_PRIORITY_MIN)
		return -XEN_EINVAL;
	/* Takes effect the next time the event is linked, as in Xen. */
	x->evtchn->ports[sp.port].priority = (uint8_t)sp.priority;
	return 0;
}

/* EVTCHNOP_reset returns the guest to the 2-level ABI. */
void evtchn_fifo_reset(struct xen *x)
{
	evtchn_fifo_destroy(x);
}

void evtchn_fifo_destroy(struct xen *x)
{
	free(x->evtchn->fifo);
	x->evtchn->fifo = NULL;
	x->evtchn->abi = &evtchn_abi_2l;
}
