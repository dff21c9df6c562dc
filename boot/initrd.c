/* The initrd goes at the top of low RAM, where it is furthest from the
 * kernel's own early allocations and still below 4 GiB for 32-bit code. */
#include <string.h>

#include "xenkvm/boot.h"

#define PAGE_UP(x) (((x) + GUEST_PAGE_SIZE - 1) & ~(GUEST_PAGE_SIZE - 1))
#define PAGE_DOWN(x) ((x) & ~(GUEST_PAGE_SIZE - 1))

int initrd_place(struct guest_mem *m, const uint8_t *data, size_t len, const char *name,
		 uint64_t floor, uint64_t *gpa, char *err, size_t errlen)
{
	uint64_t top = PAGE_DOWN(m->low_ram);
	uint64_t bottom = floor < LEGACY_HOLE_END ? LEGACY_HOLE_END : PAGE_UP(floor);
	uint64_t avail = top > bottom ? top - bottom : 0;
	uint8_t *dst;

	if (len == 0)
		return boot_err(err, errlen, "%s: empty initrd", name);
	/* top and bottom are page aligned, so a page-aligned start fits iff this holds. */
	if (PAGE_UP((uint64_t)len) > avail)
		return boot_err(err, errlen,
				"%s: %zu bytes do not fit in guest RAM (%llu available)", name, len,
				(unsigned long long)avail);
	*gpa = PAGE_DOWN(top - len);
	dst = gmem_ptr(m, *gpa, len);
	if (!dst)
		return boot_err(err, errlen, "%s: guest RAM at 0x%llx is not mapped", name,
				(unsigned long long)*gpa);
	memcpy(dst, data, len);
	return 0;
}
