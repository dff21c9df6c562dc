/* vCPU threads: the PVH entry state, and one readable loop that routes each
 * KVM exit to its handler. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "xenkvm/log.h"
#include "xenkvm/sandbox.h"
#include "xenkvm/vm.h"

/* Xen time is filled from the host TSC (xenemu/time.c), so the guest must
 * read the host TSC too. A hardware KVM offsets a new vCPU's TSC to start
 * near 0: take that offset away where KVM lets us (PVM never applies one). */
static void vcpu_use_host_tsc(struct vcpu *v)
{
	uint64_t offset = 0;
	struct kvm_device_attr attr = { .group = KVM_VCPU_TSC_CTRL, .attr = KVM_VCPU_TSC_OFFSET,
					.addr = (uint64_t)(uintptr_t)&offset };

	if (ioctl(v->fd, KVM_HAS_DEVICE_ATTR, &attr) == 0 &&
	    ioctl(v->fd, KVM_SET_DEVICE_ATTR, &attr) < 0)
		log_warn("vCPU %u: cannot zero the TSC offset: %s", v->id, strerror(errno));
}

int vcpu_create(struct vm *vm, unsigned id)
{
	struct vcpu *v = &vm->vcpus[id];
	int sz;

	v->vm = vm;
	v->id = id;
	v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (v->fd < 0)
		return -1;
	sz = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (sz < 0)
		return -1;
	v->run_size = (size_t)sz;
	v->run = mmap(NULL, v->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		v->run = NULL;
		return -1;
	}
	vcpu_use_host_tsc(v);
	return cpuid_setup(v);
}

void vcpu_destroy(struct vcpu *v)
{
	if (v->run)
		munmap(v->run, v->run_size);
	if (v->fd > 0)
		close(v->fd);
	v->run = NULL;
	v->fd = -1;
}

static struct kvm_segment flat_segment(uint16_t selector, uint8_t type)
{
	return (struct kvm_segment){ .base = 0, .limit = 0xffffffff, .selector = selector,
				     .type = type, .present = 1, .dpl = 0, .db = 1, .s = 1,
				     .g = 1 };
}

/* The PVH ABI: 32-bit protected mode, paging off, flat segments, a busy
 * 32-bit TSS, EBX = hvm_start_info, everything else zero. */
int vcpu_set_pvh_entry(struct vcpu *v, uint32_t entry, uint32_t start_info)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rip = entry, .rbx = start_info, .rflags = 0x2 };

	if (ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0)
		return -1;
	sregs.cs = flat_segment(0x10, 0xb);
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = flat_segment(0x18, 0x3);
	sregs.tr = (struct kvm_segment){ .limit = 0x67, .selector = 0x20, .type = 0xb,
					 .present = 1 };
	sregs.cr0 = 0x11; /* PE | ET */
	sregs.cr4 = 0;
	sregs.efer = 0;
	if (ioctl(v->fd, KVM_SET_SREGS, &sregs) < 0)
		return -1;
	return ioctl(v->fd, KVM_SET_REGS, &regs);
}

int vcpu_set_state(struct vcpu *v, const struct kvm_regs *r, const struct kvm_sregs *s)
{
	struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_RUNNABLE };

	if (ioctl(v->fd, KVM_SET_SREGS, s) < 0 || ioctl(v->fd, KVM_SET_REGS, r) < 0)
		return -1;
	return ioctl(v->fd, KVM_SET_MP_STATE, &mp);
}

int vcpu_inject_nmi(struct vcpu *v)
{
	return ioctl(v->fd, KVM_NMI, 0);
}

void vcpu_dump(struct vcpu *v, const char *why)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	fprintf(stderr, "xenkvm: vCPU %u: %s\n", v->id, why);
	if (ioctl(v->fd, KVM_GET_REGS, &r) < 0 || ioctl(v->fd, KVM_GET_SREGS, &s) < 0) {
		fprintf(stderr, "  (registers unavailable: %s)\n", strerror(errno));
		return;
	}
	fprintf(stderr,
		"  rip=%016llx rflags=%08llx rsp=%016llx rbp=%016llx\n"
		"  rax=%016llx rbx=%016llx rcx=%016llx rdx=%016llx\n"
		"  rsi=%016llx rdi=%016llx r8 =%016llx r9 =%016llx\n"
		"  r10=%016llx r11=%016llx r12=%016llx r13=%016llx\n"
		"  r14=%016llx r15=%016llx\n"
		"  cr0=%016llx cr2=%016llx cr3=%016llx cr4=%016llx efer=%016llx\n"
		"  cs=%04x base=%llx l=%u db=%u dpl=%u  ss=%04x dpl=%u\n",
		r.rip, r.rflags, r.rsp, r.rbp, r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.r8,
		r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15, s.cr0, s.cr2, s.cr3, s.cr4,
		s.efer, s.cs.selector, s.cs.base, s.cs.l, s.cs.db, s.cs.dpl, s.ss.selector,
		s.ss.dpl);
}

static void handle_pio(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	int is_write = run->io.direction == KVM_EXIT_IO_OUT;

	for (uint32_t n = 0; n < run->io.count; n++, data += run->io.size) {
		struct pio_range *r = NULL;
		for (unsigned i = 0; i < v->vm->npio; i++)
			if (run->io.port >= v->vm->pio[i].base &&
			    run->io.port - v->vm->pio[i].base < v->vm->pio[i].len)
				r = &v->vm->pio[i];
		if (r) {
			r->fn(v, run->io.port, is_write, data, run->io.size, r->opaque);
		} else if (!is_write) {
			/* Nothing decodes this port: the bus floats high. */
			memset(data, 0xff, run->io.size);
		}
	}
}

static void handle_mmio(struct vcpu *v)
{
	struct kvm_run *run = v->run;

	log_once("guest touched unbacked MMIO at %#llx (no device there)",
		 (unsigned long long)run->mmio.phys_addr);
	if (!run->mmio.is_write)
		memset(run->mmio.data, 0xff, sizeof(run->mmio.data));
}

static void handle_msr(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	struct vm_exit_hooks *h = &v->vm->hooks;
	int rc = -1;

	if (run->exit_reason == KVM_EXIT_X86_WRMSR && h->wrmsr)
		rc = h->wrmsr(v, run->msr.index, run->msr.data);
	else if (run->exit_reason == KVM_EXIT_X86_RDMSR && h->rdmsr)
		rc = h->rdmsr(v, run->msr.index, (uint64_t *)&run->msr.data);
	run->msr.error = rc < 0;
}

/* Returns 0 to keep running, or the exit status that stops the VM. */
static int handle_exit(struct vcpu *v)
{
	struct kvm_run *run = v->run;

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		handle_pio(v);
		return 0;
	case KVM_EXIT_MMIO:
		handle_mmio(v);
		return 0;
	case KVM_EXIT_X86_WRMSR:
	case KVM_EXIT_X86_RDMSR:
		handle_msr(v);
		return 0;
	case KVM_EXIT_XEN:
		if (v->vm->hooks.xen_exit)
			v->vm->hooks.xen_exit(v);
		return 0;
	case KVM_EXIT_HLT:
		/* With the in-kernel LAPIC KVM halts itself; a HLT exit means nothing can wake us. */
		vcpu_dump(v, "halted with no way to wake up");
		return EXIT_CRASH;
	case KVM_EXIT_SHUTDOWN:
		vcpu_dump(v, "triple fault");
		return EXIT_TRIPLE_FAULT;
	case KVM_EXIT_INTERNAL_ERROR:
		fprintf(stderr, "xenkvm: KVM internal error, suberror %u\n", run->internal.suberror);
		vcpu_dump(v, "emulation failure");
		return EXIT_EMULATION_FAILURE;
	case KVM_EXIT_FAIL_ENTRY:
		fprintf(stderr, "xenkvm: VM entry failed, reason %#llx\n",
			(unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		vcpu_dump(v, "entry failure");
		return EXIT_EMULATION_FAILURE;
	case KVM_EXIT_SYSTEM_EVENT:
		vcpu_dump(v, "system event");
		return EXIT_CRASH;
	default:
		fprintf(stderr, "xenkvm: unhandled KVM exit %u\n", run->exit_reason);
		vcpu_dump(v, "unhandled exit");
		return EXIT_VMM_ERROR;
	}
}

static void kick_handler(int sig)
{
	(void)sig;
}

void vcpu_kick(struct vcpu *v)
{
	/* immediate_exit covers the window before KVM_RUN, the signal the time inside. */
	__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&v->thread_started, __ATOMIC_ACQUIRE))
		pthread_kill(v->thread, SIGUSR1);
}

static void wait_while_paused(struct vm *vm)
{
	pthread_mutex_lock(&vm->pause_lock);
	while (vm->paused && !__atomic_load_n(&vm->stopping, __ATOMIC_ACQUIRE))
		pthread_cond_wait(&vm->pause_cond, &vm->pause_lock);
	pthread_mutex_unlock(&vm->pause_lock);
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	sigset_t unblock;
	char err[256], name[16];

	v->tid = gettid();
	snprintf(name, sizeof(name), "vcpu%u", v->id);
	pthread_setname_np(pthread_self(), name);
	if (sandbox_enter(SANDBOX_VCPU, err, sizeof(err)) < 0) {
		fprintf(stderr, "xenkvm: vCPU %u: %s\n", v->id, err);
		vm_request_stop(v->vm, EXIT_VMM_ERROR);
		return NULL;
	}
	sandbox_selftest(SANDBOX_VCPU);
	sigemptyset(&unblock);
	sigaddset(&unblock, SIGUSR1);
	pthread_sigmask(SIG_UNBLOCK, &unblock, NULL);
	for (;;) {
		int status;

		/* Clear the kick before looking at what it asked for (pre_run). */
		__atomic_store_n(&v->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&v->vm->stopping, __ATOMIC_ACQUIRE))
			break;
		wait_while_paused(v->vm);
		if (v->vm->hooks.pre_run)
			v->vm->hooks.pre_run(v);
		v->run->kvm_valid_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			fprintf(stderr, "xenkvm: KVM_RUN on vCPU %u: %s\n", v->id, strerror(errno));
			vm_request_stop(v->vm, EXIT_VMM_ERROR);
			break;
		}
		status = handle_exit(v);
		if (status)
			vm_request_stop(v->vm, status);
	}
	return NULL;
}

int vm_start_vcpus(struct vm *vm)
{
	struct sigaction sa = { .sa_handler = kick_handler };

	/* No SA_RESTART: the kick must make KVM_RUN return EINTR. */
	sigaction(SIGUSR1, &sa, NULL);
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		if (pthread_create(&v->thread, NULL, vcpu_thread, v) != 0) {
			vm_request_stop(vm, EXIT_VMM_ERROR);
			return -1;
		}
		__atomic_store_n(&v->thread_started, 1, __ATOMIC_RELEASE);
	}
	return 0;
}

void vm_join_vcpus(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		if (vm->vcpus[i].thread_started)
			pthread_join(vm->vcpus[i].thread, NULL);
		vm->vcpus[i].thread_started = 0;
	}
}
