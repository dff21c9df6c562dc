/* The PVH boot as Xen's toolstack performs it: kernel, initrd, ACPI, memory
 * map, then hvm_start_info pointing at all of them. */
#include <stdlib.h>
#include <string.h>

#include "xenkvm/boot.h"

/* A bzImage is unwrapped to its vmlinux ELF first; the ELF loader does the rest. */
static int kernel_load(struct guest_mem *m, const struct boot_config *c, const char *name,
		       struct elf_image *img, char *err, size_t errlen)
{
	uint8_t *elf;
	size_t elf_len;
	int rc;

	if (!bzimage_detect(c->kernel, c->kernel_len))
		return elf_pvh_load(m, c->kernel, c->kernel_len, name, img, err, errlen);
	if (bzimage_extract_payload(c->kernel, c->kernel_len, name, BOOT_MAX_KERNEL_SIZE, &elf,
				    &elf_len, err, errlen) < 0)
		return -1;
	rc = elf_pvh_load(m, elf, elf_len, name, img, err, errlen);
	free(elf);
	return rc;
}

int pvh_boot_load(struct guest_mem *m, const struct boot_config *c, struct boot_info *out,
		  char *err, size_t errlen)
{
	const char *kname = c->kernel_name ? c->kernel_name : "kernel";
	const char *iname = c->initrd_name ? c->initrd_name : "initrd";
	struct elf_image img;
	struct start_info_params sp;

	memset(out, 0, sizeof(*out));
	if (kernel_load(m, c, kname, &img, err, errlen) < 0)
		return -1;
	out->entry = img.entry;
	out->kernel_start = img.start;
	out->kernel_end = img.end;
	/* A kernel wholly in high RAM leaves all of low RAM above 1 MiB to the initrd. */
	if (c->initrd &&
	    initrd_place(m, c->initrd, c->initrd_len, iname, img.start >= m->low_ram ? 0 : img.end,
			 &out->initrd_gpa, err, errlen) < 0)
		return -1;
	out->initrd_len = c->initrd ? c->initrd_len : 0;
	if (acpi_build(m, c->vcpus, &out->rsdp_gpa, err, errlen) < 0)
		return -1;
	out->e820_n = e820_build(m, out->e820, BOOT_E820_MAX);
	sp = (struct start_info_params){ .cmdline = c->cmdline, .initrd_gpa = out->initrd_gpa,
					 .initrd_len = out->initrd_len, .rsdp_gpa = out->rsdp_gpa,
					 .e820 = out->e820, .e820_n = out->e820_n };
	if (start_info_build(m, &sp, err, errlen) < 0)
		return -1;
	out->start_info_gpa = BOOT_START_INFO_GPA;
	return 0;
}
