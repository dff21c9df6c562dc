/* hvm_start_info v1, the structure EBX points to at a PVH entry, with the
 * memory map, module list and command line it refers to. */
#include <stdint.h>
#include <string.h>

#include <xen/arch-x86/hvm/start_info.h>

#include "xenkvm/boot.h"

_Static_assert(BOOT_START_INFO_GPA + sizeof(struct hvm_start_info) <= BOOT_MODLIST_GPA,
	       "start_info overlaps the module list");
_Static_assert(BOOT_MODLIST_GPA + sizeof(struct hvm_modlist_entry) <= BOOT_MEMMAP_GPA,
	       "module list overlaps the memory map");
_Static_assert(BOOT_MEMMAP_GPA + BOOT_E820_MAX * sizeof(struct hvm_memmap_table_entry) <=
		       BOOT_CMDLINE_GPA,
	       "memory map overlaps the command line");
_Static_assert(BOOT_CMDLINE_GPA + BOOT_CMDLINE_MAX <= BOOT_AREA_END,
	       "command line overflows the boot area");

static void write_memmap(uint8_t *dst, const struct e820_entry *e, unsigned n)
{
	struct hvm_memmap_table_entry t;

	for (unsigned i = 0; i < n; i++) {
		t = (struct hvm_memmap_table_entry){ .addr = e[i].addr, .size = e[i].size,
						     .type = e[i].type };
		memcpy(dst + i * sizeof(t), &t, sizeof(t));
	}
}

/* Host address of gpa inside the boot area mapped at area. */
static uint8_t *at(uint8_t *area, uint64_t gpa)
{
	return area + (gpa - BOOT_START_INFO_GPA);
}

int start_info_build(struct guest_mem *m, const struct start_info_params *p, char *err,
		     size_t errlen)
{
	size_t cmdlen = p->cmdline ? strlen(p->cmdline) : 0;
	uint8_t *area = gmem_ptr(m, BOOT_START_INFO_GPA, BOOT_AREA_END - BOOT_START_INFO_GPA);
	struct hvm_start_info si = { .magic = XEN_HVM_START_MAGIC_VALUE, .version = 1 };
	struct hvm_modlist_entry mod = { .paddr = p->initrd_gpa, .size = p->initrd_len };

	if (cmdlen >= BOOT_CMDLINE_MAX)
		return boot_err(err, errlen, "command line: %zu bytes, the limit is %d", cmdlen,
				BOOT_CMDLINE_MAX - 1);
	if (p->e820_n > BOOT_E820_MAX)
		return boot_err(err, errlen, "memory map: %u entries, the limit is %d", p->e820_n,
				BOOT_E820_MAX);
	if (!area)
		return boot_err(err, errlen, "guest RAM does not cover the boot area");
	memset(area, 0, BOOT_AREA_END - BOOT_START_INFO_GPA);
	if (p->initrd_len) {
		si.nr_modules = 1;
		si.modlist_paddr = BOOT_MODLIST_GPA;
		memcpy(at(area, BOOT_MODLIST_GPA), &mod, sizeof(mod));
	}
	if (p->cmdline) {
		si.cmdline_paddr = BOOT_CMDLINE_GPA;
		memcpy(at(area, BOOT_CMDLINE_GPA), p->cmdline, cmdlen + 1);
	}
	si.rsdp_paddr = p->rsdp_gpa;
	si.memmap_paddr = BOOT_MEMMAP_GPA;
	si.memmap_entries = p->e820_n;
	write_memmap(at(area, BOOT_MEMMAP_GPA), p->e820, p->e820_n);
	memcpy(at(area, BOOT_START_INFO_GPA), &si, sizeof(si));
	return 0;
}
