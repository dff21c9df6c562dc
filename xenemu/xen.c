/* The Xen personality of one VM: its state, special pages and hooks. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include <stdint.h>
#include <xen/hvm/params.h>
#include <xen/io/console.h>

#include "xenkvm/console.h"
#include "xenkvm/log.h"
#include "xenkvm/transport.h"
#include "xenkvm/vm.h"
#include "xenkvm/xen.h"

/* A VMM page placed at a special frame and named by an HVM param. */
static int special_page(struct xen *x, uint64_t gfn, uint8_t **hva)
{
	uint64_t off;
	int rc = gmem_alloc_page(&x->vm->mem, &off, hva);

	return rc < 0 ? rc : gmem_map_page(&x->vm->mem, gfn, off);
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
	x->console->ring = x->console_ring;
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
	xv->kicked = 1;
	pthread_cond_signal(&xv->wake);
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

int xen_init(struct xen *x, struct vm *vm, enum hcall_transport t, struct console *con,
	     char *err, size_t errlen)
{
	struct timespec ts;
	uint8_t *page;
	int rc;

	memset(x, 0, sizeof(*x));
	x->vm = vm;
	x->console = con;
	x->shared_info_gfn = ~0ULL;
	x->shutdown_code = -1;
	pthread_mutex_init(&x->lock, NULL);
	for (unsigned i = 0; i < sizeof(x->vcpus) / sizeof(x->vcpus[0]); i++) {
		pthread_mutex_init(&x->vcpus[i].lock, NULL);
		pthread_cond_init(&x->vcpus[i].wake, NULL);
	}
	vm->xen = x;
	vm->hooks.stop = stop_hook;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	x->time_base_ns = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	x->params = calloc(HVM_NR_PARAMS, sizeof(*x->params));
	x->e820 = calloc(XEN_E820_MAX, sizeof(*x->e820));
	if (!x->params || !x->e820 || read_tsc_khz(x) < 0) {
		snprintf(err, errlen, "Xen state: %s", strerror(errno ? errno : ENOMEM));
		return -1;
	}
	rc = gmem_alloc_page(&vm->mem, &x->shared_info_off, &page);
	if (rc == 0) {
		x->shared_info = page;
		rc = setup_special_pages(x);
	}
	if (rc < 0) {
		snprintf(err, errlen, "Xen special pages: %s", strerror(-rc));
		return -1;
	}
	return transport_init(x, t, err, errlen);
}

void xen_destroy(struct xen *x)
{
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
