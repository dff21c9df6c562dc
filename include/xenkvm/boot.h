/* PVH boot: turn a kernel file (PVH ELF or Linux bzImage), an optional initrd
 * and a command line into a guest memory image, the way Xen's toolstack does
 * for type="pvh" guests. Pure functions over a struct guest_mem: no KVM. */
#ifndef XENKVM_BOOT_H
#define XENKVM_BOOT_H

#include <stddef.h>
#include <stdint.h>

#include "xenkvm/guest_mem.h"

/*
 * Guest-physical layout written by pvh_boot_load():
 *
 *   0x0000 - 0x0fff   untouched (real-mode IVT; kernels expect it left alone)
 *   0x1000            struct hvm_start_info                      (EBX at entry)
 *   0x1040            struct hvm_modlist_entry[1]                (initrd, if any)
 *   0x1080            struct hvm_memmap_table_entry[BOOT_E820_MAX]
 *   0x2000 - 0x2fff   command line, NUL-terminated
 *   kernel            PT_LOAD segments at their p_paddr, at or above BOOT_AREA_END
 *   initrd            page-aligned, at the top of low RAM, above the kernel
 *   0xe0000           ACPI: RSDP, XSDT, FADT, DSDT, then MADT at 0xe1000
 *                     (in the legacy hole the E820 map reports reserved)
 */
#define BOOT_START_INFO_GPA 0x1000ULL
#define BOOT_MODLIST_GPA 0x1040ULL
#define BOOT_MEMMAP_GPA 0x1080ULL
#define BOOT_CMDLINE_GPA 0x2000ULL
#define BOOT_AREA_END 0x3000ULL
#define BOOT_CMDLINE_MAX 4096 /* bytes including the NUL */

#define BOOT_ACPI_BASE 0xE0000ULL
#define BOOT_ACPI_END LEGACY_HOLE_END
/* The hardware-reduced FADT's sleep control (and, +1, status) register:
 * writing SLP_TYP 5 with SLP_EN there is ACPI's S5, power off. */
#define BOOT_ACPI_SLEEP_PORT 0x600
#define BOOT_ACPI_SLP_TYP_S5 5
#define BOOT_IOAPIC_ADDR 0xFEC00000U
#define BOOT_LAPIC_ADDR 0xFEE00000U
/* MADT entries must fit in [0xe1000, 1 MiB): 16 bytes per x2APIC entry. */
#define BOOT_MAX_VCPUS 4096

/* A decompressed bzImage payload larger than this is refused (decompression bomb). */
#define BOOT_MAX_KERNEL_SIZE (512ULL << 20)

#define BOOT_E820_MAX 16

/* One memory map entry; type is XEN_HVM_MEMMAP_TYPE_* (same values as E820). */
struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
};

struct boot_config {
	const uint8_t *kernel;
	size_t kernel_len;
	const char *kernel_name; /* used in error messages; NULL means "kernel" */
	const uint8_t *initrd;   /* NULL: no initrd */
	size_t initrd_len;
	const char *initrd_name; /* NULL means "initrd" */
	const char *cmdline;     /* NULL: none (cmdline_paddr 0) */
	unsigned vcpus;          /* 1..BOOT_MAX_VCPUS, for the MADT; APIC id = vCPU index */
};

struct boot_info {
	uint32_t entry;          /* PVH 32-bit entry point (guest physical): initial EIP */
	uint64_t start_info_gpa; /* initial EBX */
	uint64_t kernel_start, kernel_end; /* [start, end) occupied by the PT_LOAD segments */
	uint64_t initrd_gpa, initrd_len;   /* initrd_len 0: no initrd */
	uint64_t rsdp_gpa;
	struct e820_entry e820[BOOT_E820_MAX]; /* also served to XENMEM_memory_map */
	unsigned e820_n;
};

/* Load c into m and describe the result in out. Returns 0, or -1 with a
 * one-line reason naming the offending file in err. */
int pvh_boot_load(struct guest_mem *m, const struct boot_config *c, struct boot_info *out,
		  char *err, size_t errlen);

/* ---- The steps pvh_boot_load() is made of, exported for unit tests and the
 * hypercall code. All return 0, or -1 with a reason in err. ---- */

/* The guest's memory map: low RAM, the legacy hole (reserved), RAM from
 * 1 MiB, RAM from 4 GiB. Returns the number of entries written (<= max). */
unsigned e820_build(const struct guest_mem *m, struct e820_entry *e, unsigned max);

/* Does [gpa, gpa+len) lie inside one RAM entry of m's memory map? */
int e820_ram_contains(const struct guest_mem *m, uint64_t gpa, uint64_t len);

struct elf_image {
	uint32_t entry;                    /* from the XEN_ELFNOTE_PHYS32_ENTRY note */
	uint64_t start, end;               /* physical range of the PT_LOAD segments */
};

/* Load an ELF32 (EM_386) or ELF64 (EM_X86_64) PVH kernel by physical address. */
int elf_pvh_load(struct guest_mem *m, const uint8_t *img, size_t len, const char *name,
		 struct elf_image *out, char *err, size_t errlen);

/* Does img carry a Linux boot protocol header ("HdrS")? */
int bzimage_detect(const uint8_t *img, size_t len);

/* Decompress a bzImage's payload (the vmlinux ELF) into a malloc'd buffer
 * (*out, *out_len, caller frees). Output above max_out bytes is an error. */
int bzimage_extract_payload(const uint8_t *img, size_t len, const char *name, size_t max_out,
			    uint8_t **out, size_t *out_len, char *err, size_t errlen);

/* Decompress in (gzip, xz, lzma, zstd, lz4 legacy or bzip2, chosen by magic)
 * into a malloc'd buffer of at most max_out bytes. why gets a reason without
 * a file name. Data after the end of the compressed stream is ignored. */
int decompress_any(const uint8_t *in, size_t len, size_t max_out, uint8_t **out,
		   size_t *out_len, char *why, size_t whylen);

/* Copy the initrd page-aligned to the top of low RAM, at or above floor. */
int initrd_place(struct guest_mem *m, const uint8_t *data, size_t len, const char *name,
		 uint64_t floor, uint64_t *gpa, char *err, size_t errlen);

/* Build RSDP/XSDT/FADT/DSDT/MADT in the legacy hole; *rsdp_gpa gets the RSDP. */
int acpi_build(struct guest_mem *m, unsigned vcpus, uint64_t *rsdp_gpa, char *err,
	       size_t errlen);

struct start_info_params {
	const char *cmdline;             /* NULL: none (cmdline_paddr 0) */
	uint64_t initrd_gpa, initrd_len; /* initrd_len 0: no module */
	uint64_t rsdp_gpa;
	const struct e820_entry *e820;
	unsigned e820_n;                 /* <= BOOT_E820_MAX */
};

/* Write hvm_start_info v1, its memmap, modlist and command line at the
 * BOOT_*_GPA addresses above. */
int start_info_build(struct guest_mem *m, const struct start_info_params *p, char *err,
		     size_t errlen);

/* snprintf into err (err may be NULL); always returns -1 for `return boot_err(...)`. */
int boot_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
