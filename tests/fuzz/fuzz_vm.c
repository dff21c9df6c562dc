/* The fake VM of the fuzz harnesses: what xen_init() sets up, minus KVM,
 * the event loop and the threads (see fuzz_vm.h). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <xen/hvm/params.h>
#include <xen/vcpu.h>

#include "fuzz_vm.h"
#include "../../xenemu/gnttab_internal.h"
#include "xenkvm/boot.h"
#include "xenkvm/evtchn.h"
#include "xenkvm/gnttab.h"
#include "xenkvm/log.h"

/* Grant table frames of the fuzzed VM: every input builds a fresh VM, and
 * the default 64 frames' bookkeeping (~0.8 MB zeroed per input) cost more
 * than the calls under test. Four frames keep refs past the end reachable. */
#define FUZZ_GNTTAB_FRAMES 4

struct vm *fuzz_blocking_vm;

int __wrap_pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m);
int __wrap_pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m,
				  const struct timespec *ts);

static void stop_blocking_vm(void)
{
	if (!fuzz_blocking_vm) {
		fprintf(stderr, "fuzz: a wait outside a hypercall would hang\n");
		abort();
	}
	__atomic_store_n(&fuzz_blocking_vm->stopping, 1, __ATOMIC_SEQ_CST);
}

int __wrap_pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
	(void)c, (void)m;
	stop_blocking_vm();
	return 0;
}

int __wrap_pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m,
				  const struct timespec *ts)
{
	(void)c, (void)m, (void)ts;
	stop_blocking_vm();
	return 0;
}

static void die(const char *what)
{
	fprintf(stderr, "fuzz: setting up the VM: %s failed\n", what);
	abort();
}

void fuzz_quiet(void)
{
	log_threshold = LOG_ERROR;
}

/* The console port's backend, as xen.c's console_notify. */
static void console_backend(void *opaque)
{
	struct xen *x = opaque;
	size_t out, in;

	console_ring_activate(x->console);
	out = console_ring_drain(x->console);
	in = console_ring_fill(x->console);
	if (out || in)
		evtchn_backend_notify(x, CONSOLE_EVTCHN_PORT);
}

static void console_notify_guest(void *opaque)
{
	evtchn_backend_notify(opaque, CONSOLE_EVTCHN_PORT);
}

/* The store port's backend: served at once (the VMM wakes its loop). */
static void store_backend(void *opaque)
{
	struct fuzz_vm *f = opaque;

	xs_ring_kick(f->xs);
}

static void store_notify_guest(void *opaque)
{
	evtchn_backend_notify(opaque, STORE_EVTCHN_PORT);
}

static void vcpus_init(struct fuzz_vm *f, unsigned nvcpus)
{
	f->vm.nvcpus = nvcpus;
	for (unsigned i = 0; i < VM_MAX_VCPUS; i++) {
		struct xen_vcpu *xv = &f->x.vcpus[i];

		xv->xen = &f->x;
		xv->id = i;
		xv->timer_fd = -1;
		pthread_mutex_init(&xv->lock, NULL);
		pthread_cond_init(&xv->wake, NULL);
		xv->down = i != 0;
		xv->initialised = xv->ever_started = i == 0;
		xv->runstate_state = i == 0 ? RUNSTATE_running : RUNSTATE_offline;
	}
	for (unsigned i = 0; i < nvcpus; i++) {
		f->vm.vcpus[i].vm = &f->vm;
		f->vm.vcpus[i].id = i;
		f->vm.vcpus[i].fd = -1;
		f->vm.vcpus[i].run = calloc(1, sizeof(struct kvm_run));
		if (!f->vm.vcpus[i].run)
			die("calloc");
	}
}

static uint8_t *special_page(struct fuzz_vm *f, uint64_t gfn)
{
	uint64_t off;
	uint8_t *hva;

	if (gmem_alloc_page(&f->vm.mem, &off, &hva) < 0 || gmem_map_page(&f->vm.mem, gfn, off) < 0)
		die("a special page");
	return hva;
}

static void store_init(struct fuzz_vm *f, unsigned nvcpus, uint64_t ram, int populate)
{
	struct xs_domain_info info = { .domid = XENKVM_DOMID, .name = "fuzz",
				       .uuid = "00000000-0000-0000-0000-000000000001",
				       .target_kib = ram >> 10, .max_kib = ram >> 10,
				       .vcpus = nvcpus, .store_gfn = XENSTORE_GFN,
				       .store_port = STORE_EVTCHN_PORT, .console_gfn = CONSOLE_GFN,
				       .console_port = CONSOLE_EVTCHN_PORT };

	f->xs = xs_create(XENKVM_DOMID, NULL);
	if (!f->xs || (populate && xs_populate_domain(f->xs, &info)) ||
	    xs_ring_attach(f->xs, f->x.store_ring, store_notify_guest, &f->x) ||
	    evtchn_backend_bind(&f->x, STORE_EVTCHN_PORT, store_backend, f) < 0)
		die("XenStore");
}

void fuzz_vm_create(struct fuzz_vm *f, uint64_t ram, unsigned nvcpus, int store)
{
	struct xen *x = &f->x;
	struct e820_entry e820[BOOT_E820_MAX];

	memset(f, 0, sizeof(*f));
	f->null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (f->null_fd < 0 || gmem_init(&f->vm.mem, ram, NULL, NULL) < 0)
		die("guest memory");
	f->ram = f->vm.mem.regions[0].hva;
	f->vm.kvm_fd = f->vm.vm_fd = -1;
	f->vm.stop_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (f->vm.stop_efd < 0)
		die("eventfd");
	console_init(&f->con, f->null_fd);
	x->vm = &f->vm;
	f->vm.xen = x;
	x->console = &f->con;
	x->shared_info_gfn = ~0ULL;
	x->shutdown_code = -1;
	x->gsi_trigger_fd = x->gsi_resample_fd = x->store_kick_fd = -1;
	x->tsc_khz = 2000000;
	xen_time_init(x);
	pthread_mutex_init(&x->lock, NULL);
	vcpus_init(f, nvcpus);
	x->params = calloc(HVM_NR_PARAMS, sizeof(*x->params));
	x->e820 = calloc(XEN_E820_MAX, sizeof(*x->e820));
	if (!x->params || !x->e820 ||
	    gmem_alloc_page(&f->vm.mem, &x->shared_info_off, &x->shared_info) < 0)
		die("Xen state");
	x->console_ring = special_page(f, CONSOLE_GFN);
	x->store_ring = special_page(f, XENSTORE_GFN);
	x->params[HVM_PARAM_CONSOLE_PFN] = CONSOLE_GFN;
	x->params[HVM_PARAM_CONSOLE_EVTCHN] = CONSOLE_EVTCHN_PORT;
	x->params[HVM_PARAM_STORE_PFN] = XENSTORE_GFN;
	x->params[HVM_PARAM_STORE_EVTCHN] = STORE_EVTCHN_PORT;
	console_attach_ring(&f->con, x->console_ring, console_notify_guest, x);
	xen_set_memory_map(x, e820, e820_build(&f->vm.mem, e820, BOOT_E820_MAX));
	if (gnttab_create(&x->gnttab, &f->vm.mem, FUZZ_GNTTAB_FRAMES, CONSOLE_GFN,
			  XENSTORE_GFN) < 0 ||
	    evtchn_init(x) < 0 || evtchn_backend_bind(x, CONSOLE_EVTCHN_PORT, console_backend, x) < 0)
		die("grant table or event channels");
	if (store)
		store_init(f, nvcpus, ram, store == FUZZ_STORE_POPULATED);
}

void fuzz_vm_destroy(struct fuzz_vm *f)
{
	struct xen *x = &f->x;

	xs_destroy(f->xs);
	xen_destroy(x);
	for (unsigned i = 0; i < f->vm.nvcpus; i++)
		free(f->vm.vcpus[i].run);
	for (unsigned i = 0; i < VM_MAX_VCPUS; i++) {
		pthread_mutex_destroy(&x->vcpus[i].lock);
		pthread_cond_destroy(&x->vcpus[i].wake);
	}
	pthread_mutex_destroy(&x->lock);
	console_destroy(&f->con);
	gmem_destroy(&f->vm.mem);
	close(f->vm.stop_efd);
	close(f->null_fd);
}

/* ---- a PV frontend's side ---- */

uint8_t *fuzz_page(struct fuzz_vm *f, unsigned gfn)
{
	uint8_t *p = gmem_ptr(&f->vm.mem, (uint64_t)gfn << 12, 4096);

	if (!p) {
		fprintf(stderr, "fuzz: a frontend page is not RAM\n");
		abort();
	}
	return p;
}

void fuzz_grant(struct fuzz_vm *f, unsigned gt_gfn, grant_ref_t ref, uint16_t flags,
		domid_t domid, uint32_t frame)
{
	grant_entry_v1_t *e = (grant_entry_v1_t *)fuzz_page(f, gt_gfn) + ref % GT_V1_PER_FRAME;

	e->domid = domid;
	e->frame = frame;
	e->flags = flags;
}

void fuzz_step_grant(struct fuzz_vm *f, struct fuzz_input *in, unsigned gt_gfn,
		     unsigned (*page_gfn)(unsigned))
{
	static const uint16_t flags[] = { GTF_permit_access, GTF_permit_access | GTF_readonly, 0,
					  GTF_accept_transfer, GTF_transitive,
					  GTF_permit_access | GTF_sub_page };
	grant_ref_t ref = fin_u16(in) % GT_V1_PER_FRAME;
	uint8_t kind = fin_u8(in), frame = fin_u8(in);

	fuzz_grant(f, gt_gfn, ref, flags[kind % 6], kind & 0x80 ? 1 : GNTTAB_BACKEND_DOMID,
		   frame == 0xff ? fin_u32(in) : page_gfn(frame));
}

void fuzz_step_poke(struct fuzz_vm *f, struct fuzz_input *in, unsigned (*page_gfn)(unsigned))
{
	uint8_t *p = fuzz_page(f, page_gfn(fin_u8(in)));
	uint16_t off = fin_u16(in) % 4096;
	size_t got;
	const uint8_t *bytes = fin_bytes(in, fin_u8(in), &got);

	if (got > 4096u - off)
		got = 4096u - off;
	memcpy(p + off, bytes, got);
}

/* ---- input ---- */

uint8_t fin_u8(struct fuzz_input *in)
{
	uint8_t v = 0;

	if (in->left) {
		v = *in->p++;
		in->left--;
	}
	return v;
}

/* Little-endian; each byte taken in turn (C leaves operand order open). */
uint16_t fin_u16(struct fuzz_input *in)
{
	uint16_t lo = fin_u8(in);

	return (uint16_t)(lo | fin_u8(in) << 8);
}

uint32_t fin_u32(struct fuzz_input *in)
{
	uint32_t lo = fin_u16(in);

	return lo | (uint32_t)fin_u16(in) << 16;
}

uint64_t fin_u64(struct fuzz_input *in)
{
	uint64_t lo = fin_u32(in);

	return lo | (uint64_t)fin_u32(in) << 32;
}

const uint8_t *fin_bytes(struct fuzz_input *in, size_t n, size_t *got)
{
	const uint8_t *p = in->p;

	if (n > in->left)
		n = in->left;
	in->p += n;
	in->left -= n;
	*got = n;
	return p;
}
