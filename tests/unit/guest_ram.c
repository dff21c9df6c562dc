/* See guest_ram.h. */
#include <check.h>
#include <string.h>

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
