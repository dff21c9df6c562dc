/* See guest_ram.h. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xen/hvm/params.h>

#include "xenkvm/console.h"

#include "guest_ram.h"

struct vm vm;
struct xen x;

const struct guest_paging flat32 = { .cr0 = 0x11 };
const struct guest_paging flat64 = { .cr0 = 0x80010011, .cr3 = PT_ROOT, .cr4 = 0x20,
				     .efer = 0x500 };

uint8_t *gptr(uint64_t gpa, size_t len)
{
	uint8_t *p = gmem_ptr(&vm.mem, gpa, len);

	ck_assert_ptr_nonnull(p);
	return p;
}

void put(uint64_t gpa, const void *src, size_t len)
{
	memcpy(gptr(gpa, len), src, len);
}

void get(uint64_t gpa, void *dst, size_t len)
{
	memcpy(dst, gptr(gpa, len), len);
}

void put_u64(uint64_t gpa, uint64_t v)
{
	put(gpa, &v, sizeof(v));
}

void identity_map(void)
{
	put_u64(PT_ROOT, (PT_ROOT + 0x1000) | 3);
	for (uint64_t i = 0; i < 4; i++)
		put_u64(PT_ROOT + 0x1000 + i * 8, (i << 30) | 0x83); /* P RW PS */
}

void xen_fixture_setup(struct console *con, int console_fd)
{
	memset(&vm, 0, sizeof(vm));
	memset(&x, 0, sizeof(x));
	ck_assert_int_eq(gmem_init(&vm.mem, RAM_SIZE, NULL, NULL), 0);
	vm.nvcpus = 1;
	vm.vm_fd = vm.kvm_fd = -1;
	vm.vcpus[0].vm = &vm;
	vm.vcpus[0].run = calloc(1, sizeof(struct kvm_run)); /* vm_request_stop sets immediate_exit */
	vm.stop_efd = eventfd(0, EFD_NONBLOCK);
	ck_assert_int_ge(vm.stop_efd, 0);
	console_init(con, console_fd);
	x.vm = &vm;
	vm.xen = &x;
	x.console = con;
	x.params = calloc(HVM_NR_PARAMS, sizeof(*x.params));
	x.e820 = calloc(XEN_E820_MAX, sizeof(*x.e820));
	x.shared_info_gfn = ~0ULL;
	x.shutdown_code = -1;
	x.gsi_trigger_fd = x.gsi_resample_fd = -1;
	x.tsc_khz = 2000000;
	xen_time_init(&x);
	pthread_mutex_init(&x.lock, NULL);
	for (unsigned i = 0; i < VM_MAX_VCPUS; i++) {
		pthread_mutex_init(&x.vcpus[i].lock, NULL);
		pthread_cond_init(&x.vcpus[i].wake, NULL);
	}
	ck_assert_int_eq(gmem_alloc_page(&vm.mem, &x.shared_info_off, &x.shared_info), 0);
	identity_map();
}

void xen_fixture_teardown(struct console *con)
{
	console_destroy(con);
	close(vm.stop_efd);
	free(vm.vcpus[0].run);
	free(x.params);
	free(x.e820);
	munmap(x.shared_info, GUEST_PAGE_SIZE);
	gmem_destroy(&vm.mem);
}
