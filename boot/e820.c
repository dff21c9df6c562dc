/* The guest's memory map, built from guest_mem alone so hvm_start_info and
 * XENMEM_memory_map always agree. */
#include <stdint.h>

#include <xen/arch-x86/hvm/start_info.h>

#include "xenkvm/boot.h"

static unsigned e820_add(struct e820_entry *e, unsigned n, unsigned max, uint64_t addr,
			 uint64_t size, uint32_t type)
{
	if (n >= max || size == 0)
		return n;
	e[n] = (struct e820_entry){ .addr = addr, .size = size, .type = type };
	return n + 1;
}

unsigned e820_build(const struct guest_mem *m, struct e820_entry *e, unsigned max)
{
	unsigned n = 0;

	/* guest_mem guarantees low_ram >= GMEM_MIN_RAM (2 MiB), beyond the legacy hole. */
	n = e820_add(e, n, max, 0, LEGACY_HOLE_START, XEN_HVM_MEMMAP_TYPE_RAM);
	n = e820_add(e, n, max, LEGACY_HOLE_START, LEGACY_HOLE_END - LEGACY_HOLE_START,
		     XEN_HVM_MEMMAP_TYPE_RESERVED);
	n = e820_add(e, n, max, LEGACY_HOLE_END, m->low_ram - LEGACY_HOLE_END,
		     XEN_HVM_MEMMAP_TYPE_RAM);
	/* The console and XenStore rings live here, as under Xen's toolstack. */
	n = e820_add(e, n, max, SPECIAL_PAGES_START, SPECIAL_PAGES_END - SPECIAL_PAGES_START,
		     XEN_HVM_MEMMAP_TYPE_RESERVED);
	n = e820_add(e, n, max, HIGH_RAM_BASE, m->high_ram, XEN_HVM_MEMMAP_TYPE_RAM);
	return n;
}

int e820_ram_contains(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	struct e820_entry e[BOOT_E820_MAX];
	unsigned n = e820_build(m, e, BOOT_E820_MAX);

	if (len == 0 || gpa + len < gpa)
		return 0;
	for (unsigned i = 0; i < n; i++)
		if (e[i].type == XEN_HVM_MEMMAP_TYPE_RAM && gpa >= e[i].addr &&
		    gpa - e[i].addr < e[i].size && len <= e[i].size - (gpa - e[i].addr))
			return 1;
	return 0;
}
