/* The Xen personality of one VM: its state, special pages and hooks. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <stdint.h>
#include <xen/hvm/params.h>
#include <xen/vcpu.h>
#include <xen/io/console.h>

#include "xenkvm/console.h"
#include "xenkvm/evloop.h"
#include "xenkvm/evtchn.h"
#include "xenkvm/gnttab.h"
#include "xenkvm/log.h"
#include "xenkvm/transport.h"
#include "xenkvm/vm.h"
#include "xenkvm/xen.h"
#include "xenkvm/xenstore.h"

/* Input arrived for the ring (on the event loop's thread). */
static void console_notify_guest(void *opaque)
{
	evtchn_backend_notify(opaque, CONSOLE_EVTCHN_PORT);
}

/* A VMM page placed at a special frame and named by an HVM param. */
static int special_page(struct xen *x, uint64_t gfn, uint8_t **hva)
{
	uint64_t off;
	int rc = gmem_alloc_page(&x->vm->mem, &off, hva);

	return rc < 0 ? rc : gmem_map_page(&x->vm->mem, gfn, off);
}

static void unmap_special_page(uint8_t **hva)
{
	if (*hva)
		munmap(*hva, GUEST_PAGE_SIZE);
	*hva = NULL;
}

static int setup_special_pages(struct xen *x)
{
	int rc = special_page(x, CONSOLE_GFN, &x->console_ring);

	if (rc == 0)
		rc = special_page(x, XENSTORE_GFN, &x->store_ring);
	if (rc < 0)
		return rc;
	x->params[HVM_PARAM_CONSOLE_PFN] = CONSOLE_GFN;
	x->params[HVM_PARAM_CONSOLE_EVTCHN] = CONSOLE_EVTCHN_PORT;
	x->params[HVM_PARAM_STORE_PFN] = XENSTORE_GFN;
	x->params[HVM_PARAM_STORE_EVTCHN] = STORE_EVTCHN_PORT;
	console_attach_ring(x->console, x->console_ring, console_notify_guest, x);
	return 0;
}

static void stop_hook(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nvcpus; i++)
		xen_vcpu_wake(vm->xen, i);
}

void xen_vcpu_wake(struct xen *x, unsigned vcpu_id)
{
	struct xen_vcpu *xv = &x->vcpus[vcpu_id];

	pthread_mutex_lock(&xv->lock);
	xv->wake_gen++;
	pthread_cond_broadcast(&xv->wake);
	pthread_mutex_unlock(&xv->lock);
}

static int read_tsc_khz(struct xen *x)
{
	int khz = ioctl(x->vm->vcpus[0].fd, KVM_GET_TSC_KHZ, 0);

	if (khz <= 0)
		return -1;
	x->tsc_khz = (uint64_t)khz;
	return 0;
}

/* Every vCPU but the boot one starts down, waiting for VCPUOP_up. Their
 * condition variables time out on CLOCK_MONOTONIC, Xen's time base. */
static void vcpus_init(struct xen *x)
{
	pthread_condattr_t attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	for (unsigned i = 0; i < VM_MAX_VCPUS; i++) {
		struct xen_vcpu *xv = &x->vcpus[i];
		xv->xen = x;
		xv->id = i;
		xv->timer_fd = -1;
		pthread_mutex_init(&xv->lock, NULL);
		pthread_cond_init(&xv->wake, &attr);
		xv->down = i != 0;
		xv->initialised = xv->ever_started = i == 0;
		xv->runstate_state = i == 0 ? RUNSTATE_running : RUNSTATE_offline;
	}
	pthread_condattr_destroy(&attr);
}

/* The guest notified its console port: print what it wrote and take any
 * input that waited for room; tell the guest, as xenconsoled does. */
static void console_notify(void *opaque)
{
	struct xen *x = opaque;

	size_t out, in;

	console_ring_activate(x->console);
	out = console_ring_drain(x->console);
	in = console_ring_fill(x->console);
	if (out || in)
		evtchn_backend_notify(x, CONSOLE_EVTCHN_PORT);
}

static int events_init(struct xen *x)
{
	if (evtchn_init(x) < 0 || timers_init(x) < 0 || upcall_init(x) < 0)
		return -1;
	return evtchn_backend_bind(x, CONSOLE_EVTCHN_PORT, console_notify, x) < 0 ? -1 : 0;
}

int xen_init(struct xen *x, struct vm *vm, struct evloop *loop, enum hcall_transport t,
	     struct hcall_policy *policy, struct console *con, char *err, size_t errlen)
{
	uint8_t *page;
	int rc;

	memset(x, 0, sizeof(*x));
	x->vm = vm;
	x->loop = loop;
	x->console = con;
	x->policy = policy;
	x->shared_info_gfn = ~0ULL;
	x->shutdown_code = -1;
	x->gsi_trigger_fd = x->gsi_resample_fd = x->store_kick_fd = -1;
	pthread_mutex_init(&x->lock, NULL);
	vcpus_init(x);
	vm->xen = x;
	vm->hooks.stop = stop_hook;
	vm->hooks.pre_run = xen_vcpu_pre_run;
	xen_host_max_page(); /* reads /proc/iomem now, before the sandbox */
	x->params = calloc(HVM_NR_PARAMS, sizeof(*x->params));
	x->e820 = calloc(XEN_E820_MAX, sizeof(*x->e820));
	if (!x->params || !x->e820 || read_tsc_khz(x) < 0) {
		snprintf(err, errlen, "Xen state: %s", strerror(errno ? errno : ENOMEM));
		return -1;
	}
	xen_time_init(x);
	rc = gmem_alloc_page(&vm->mem, &x->shared_info_off, &page);
	if (rc == 0) {
		x->shared_info = page;
		rc = setup_special_pages(x);
	}
	if (rc == 0)
		rc = gnttab_create(&x->gnttab, &vm->mem, GNTTAB_DEFAULT_MAX_FRAMES, CONSOLE_GFN,
				   XENSTORE_GFN);
	if (rc < 0) {
		snprintf(err, errlen, "Xen special pages: %s", strerror(-rc));
		return -1;
	}
	if (events_init(x) < 0) {
		snprintf(err, errlen, "event channels and timers: %s", strerror(errno));
		return -1;
	}
	return transport_init(x, t, err, errlen);
}

void xen_destroy(struct xen *x)
{
	timers_destroy(x);
	upcall_destroy(x);
	if (x->store_kick_fd > 0) {
		evloop_del(x->loop, x->store_kick_fd);
		close(x->store_kick_fd);
		x->store_kick_fd = -1;
	}
	evtchn_destroy(x);
	for (unsigned i = 0; i < VM_MAX_VCPUS; i++) {
		free(x->vcpus[i].start_context);
		x->vcpus[i].start_context = NULL;
	}
	gnttab_destroy(x->gnttab);
	x->gnttab = NULL;
	/* The VMM's own views of its special pages. One left mapped keeps the
	 * VM's whole memfd, all its RAM, alive after the VM: restart after
	 * restart, each old guest's memory stayed allocated. */
	if (x->console)
		console_attach_ring(x->console, NULL, NULL, NULL);
	unmap_special_page(&x->console_ring);
	unmap_special_page(&x->store_ring);
	unmap_special_page(&x->shared_info);
	free(x->params);
	free(x->e820);
	x->params = NULL;
	x->e820 = NULL;
}

void xen_set_memory_map(struct xen *x, const struct e820_entry *e, unsigned n)
{
	pthread_mutex_lock(&x->lock);
	if (n > XEN_E820_MAX)
		n = XEN_E820_MAX;
	memcpy(x->e820, e, n * sizeof(*e));
	x->e820_n = n;
	pthread_mutex_unlock(&x->lock);
}

/* The guest notified the XenStore port (on its vCPU thread): wake the
 * event loop, which serves the ring. */
static void store_guest_notify(void *opaque)
{
	struct xen *x = opaque;
	uint64_t one = 1;

	if (write(x->store_kick_fd, &one, sizeof(one)) < 0)
		log_once("XenStore kick: %s", strerror(errno));
}

static void store_serve(int fd, uint32_t events, void *opaque)
{
	struct xen *x = opaque;
	uint64_t n;

	(void)events;
	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return;
	xs_ring_kick(x->xs);
}

/* Replies and watch events are ready for the guest. */
static void store_notify_guest(void *opaque)
{
	evtchn_backend_notify(opaque, STORE_EVTCHN_PORT);
}

int xen_attach_store(struct xen *x, struct xenstore *xs)
{
	x->xs = xs;
	x->store_kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (x->store_kick_fd < 0 ||
	    evloop_add(x->loop, x->store_kick_fd, EPOLLIN, store_serve, x) < 0 ||
	    xs_ring_attach(xs, x->store_ring, store_notify_guest, x) != 0 ||
	    evtchn_backend_bind(x, STORE_EVTCHN_PORT, store_guest_notify, x) < 0)
		return -1;
	return 0;
}
