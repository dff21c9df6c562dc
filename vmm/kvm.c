/* VM lifecycle: open KVM, create the VM with an in-kernel irqchip, and
 * register guest memory as memslots. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "xenkvm/log.h"
#include "xenkvm/vm.h"

static int map_region_kvm(void *opaque, const struct gmem_region *r)
{
	struct vm *vm = opaque;
	struct kvm_userspace_memory_region mr = {
		.slot = r->slot,
		.guest_phys_addr = r->gpa,
		.memory_size = r->size,
		.userspace_addr = (uint64_t)(uintptr_t)r->hva,
	};
	return ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &mr);
}

/* A fixing-up KVM turns a guest's VMCALL into a hang on this host; with the
 * quirk off the guest gets #UD, which is what real hardware without Xen does. */
static void disable_hypercall_patching(struct vm *vm)
{
	struct kvm_enable_cap cap = { .cap = KVM_CAP_DISABLE_QUIRKS2,
				      .args = { KVM_X86_QUIRK_FIX_HYPERCALL_INSN } };
	int quirks = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_DISABLE_QUIRKS2);

	if (quirks <= 0 || !(quirks & KVM_X86_QUIRK_FIX_HYPERCALL_INSN) ||
	    ioctl(vm->vm_fd, KVM_ENABLE_CAP, &cap) < 0)
		log_info("cannot disable KVM's hypercall patching quirk");
}

static int vm_open(struct vm *vm, char *err, size_t errlen)
{
	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0) {
		snprintf(err, errlen, "/dev/kvm: %s", strerror(errno));
		return -1;
	}
	if (ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		snprintf(err, errlen, "/dev/kvm: unsupported KVM API version");
		return -1;
	}
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		snprintf(err, errlen, "KVM_CREATE_VM: %s", strerror(errno));
		return -1;
	}
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, 0xfffbd000UL) < 0 ||
	    ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
		snprintf(err, errlen, "KVM irqchip setup: %s", strerror(errno));
		return -1;
	}
	disable_hypercall_patching(vm);
	return 0;
}

int vm_create(struct vm *vm, uint64_t ram_size, unsigned nvcpus, char *err, size_t errlen)
{
	int rc;

	memset(vm, 0, sizeof(*vm));
	vm->kvm_fd = vm->vm_fd = vm->stop_efd = -1;
	pthread_mutex_init(&vm->pause_lock, NULL);
	pthread_cond_init(&vm->pause_cond, NULL);
	vm->mem.memfd = -1;
	if (vm_open(vm, err, errlen) < 0)
		goto fail;
	vm->stop_efd = eventfd(0, EFD_CLOEXEC);
	if (vm->stop_efd < 0) {
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		goto fail;
	}
	rc = gmem_init(&vm->mem, ram_size, map_region_kvm, vm);
	if (rc < 0) {
		snprintf(err, errlen, "guest memory of %llu bytes: %s",
			 (unsigned long long)ram_size, strerror(-rc));
		goto fail;
	}
	for (unsigned i = 0; i < nvcpus; i++) {
		if (vcpu_create(vm, i) < 0) {
			snprintf(err, errlen, "vCPU %u: %s", i, strerror(errno));
			goto fail;
		}
		vm->nvcpus = i + 1;
	}
	return 0;
fail:
	vm_destroy(vm);
	return -1;
}

void vm_destroy(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nvcpus; i++)
		vcpu_destroy(&vm->vcpus[i]);
	vm->nvcpus = 0;
	if (vm->mem.memfd >= 0)
		gmem_destroy(&vm->mem);
	if (vm->stop_efd >= 0)
		close(vm->stop_efd);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	vm->stop_efd = vm->vm_fd = vm->kvm_fd = -1;
}

int vm_register_pio(struct vm *vm, uint16_t base, uint16_t len, pio_handler_fn fn, void *opaque)
{
	if (vm->npio >= VM_MAX_PIO)
		return -ENOSPC;
	vm->pio[vm->npio++] = (struct pio_range){ base, len, fn, opaque };
	return 0;
}

void vm_request_stop(struct vm *vm, int status)
{
	uint64_t one = 1;
	int expected = 0;

	if (!__atomic_compare_exchange_n(&vm->stopping, &expected, 1, 0, __ATOMIC_SEQ_CST,
					 __ATOMIC_SEQ_CST))
		return;
	vm->exit_status = status;
	for (unsigned i = 0; i < vm->nvcpus; i++)
		vcpu_kick(&vm->vcpus[i]);
	vm_unpause(vm); /* paused vCPUs must see the stop */
	if (vm->hooks.stop)
		vm->hooks.stop(vm);
	if (write(vm->stop_efd, &one, sizeof(one)) < 0)
		log_err("stop eventfd: %s", strerror(errno));
}

int vm_signal_msi(struct vm *vm, uint32_t apic_id, uint8_t vector)
{
	/* Fixed delivery, physical destination, edge: what a device's MSI is. */
	struct kvm_msi msi = { .address_lo = 0xfee00000u | ((apic_id & 0xff) << 12),
			       .address_hi = apic_id & 0xffffff00u, .data = vector };

	return ioctl(vm->vm_fd, KVM_SIGNAL_MSI, &msi) < 0 ? -1 : 0;
}

int vm_irqfd_level(struct vm *vm, uint32_t gsi, int trigger_fd, int resample_fd)
{
	struct kvm_irqfd irqfd = { .fd = (uint32_t)trigger_fd, .gsi = gsi,
				   .flags = KVM_IRQFD_FLAG_RESAMPLE,
				   .resamplefd = (uint32_t)resample_fd };

	return ioctl(vm->vm_fd, KVM_IRQFD, &irqfd);
}

void vm_irqfd_release(struct vm *vm, uint32_t gsi, int trigger_fd)
{
	struct kvm_irqfd irqfd = { .fd = (uint32_t)trigger_fd, .gsi = gsi,
				   .flags = KVM_IRQFD_FLAG_DEASSIGN };

	ioctl(vm->vm_fd, KVM_IRQFD, &irqfd);
}

void vm_pause(struct vm *vm)
{
	pthread_mutex_lock(&vm->pause_lock);
	vm->paused = 1;
	pthread_mutex_unlock(&vm->pause_lock);
	for (unsigned i = 0; i < vm->nvcpus; i++)
		vcpu_kick(&vm->vcpus[i]);
}

void vm_unpause(struct vm *vm)
{
	pthread_mutex_lock(&vm->pause_lock);
	vm->paused = 0;
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
}
