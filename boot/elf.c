/* PVH ELF loader: validates an ELF32/ELF64 x86 kernel completely before it
 * touches guest memory, then copies its PT_LOAD segments to their physical
 * addresses. The entry point comes from Xen's PHYS32_ENTRY note, not e_entry. */
#include <elf.h>
#include <inttypes.h>
#include <string.h>

#include <xen/elfnote.h>

#include "xenkvm/boot.h"

/* An ELF32 or ELF64 file, with the header fields the loader uses widened. */
struct elf_file {
	const uint8_t *img;
	size_t len;
	const char *name;
	int is64;
	uint64_t phoff, shoff;
	unsigned phnum, phentsize, shnum, shentsize;
};

static int in_file(const struct elf_file *f, uint64_t off, uint64_t size)
{
	return off <= f->len && size <= f->len - off;
}

static void header_from32(struct elf_file *f, const Elf32_Ehdr *h)
{
	f->phoff = h->e_phoff;
	f->shoff = h->e_shoff;
	f->phnum = h->e_phnum;
	f->phentsize = h->e_phentsize;
	f->shnum = h->e_shnum;
	f->shentsize = h->e_shentsize;
}

static void header_from64(struct elf_file *f, const Elf64_Ehdr *h)
{
	f->phoff = h->e_phoff;
	f->shoff = h->e_shoff;
	f->phnum = h->e_phnum;
	f->phentsize = h->e_phentsize;
	f->shnum = h->e_shnum;
	f->shentsize = h->e_shentsize;
}

/* e_type and e_machine sit at the same offsets in both classes. */
static int check_ident(const struct elf_file *f, char *err, size_t errlen)
{
	const uint8_t *id = f->img;
	uint16_t type, machine;

	if (f->len < EI_NIDENT || memcmp(id, ELFMAG, SELFMAG) != 0)
		return boot_err(err, errlen, "%s: not an ELF file", f->name);
	if (id[EI_CLASS] != ELFCLASS32 && id[EI_CLASS] != ELFCLASS64)
		return boot_err(err, errlen, "%s: unknown ELF class %u", f->name, id[EI_CLASS]);
	if (id[EI_DATA] != ELFDATA2LSB)
		return boot_err(err, errlen, "%s: not a little-endian ELF file", f->name);
	if (id[EI_VERSION] != EV_CURRENT)
		return boot_err(err, errlen, "%s: unknown ELF version %u", f->name, id[EI_VERSION]);
	if (f->len < (f->is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr)))
		return boot_err(err, errlen, "%s: truncated ELF header (%zu bytes)", f->name, f->len);
	memcpy(&type, id + offsetof(Elf32_Ehdr, e_type), sizeof(type));
	memcpy(&machine, id + offsetof(Elf32_Ehdr, e_machine), sizeof(machine));
	if (type != ET_EXEC)
		return boot_err(err, errlen, "%s: not an executable ELF file (e_type %u)", f->name,
				type);
	if (machine != (f->is64 ? EM_X86_64 : EM_386))
		return boot_err(err, errlen, "%s: ELF%d file for machine %u, not x86", f->name,
				f->is64 ? 64 : 32, machine);
	return 0;
}

static int elf_open(struct elf_file *f, const uint8_t *img, size_t len, const char *name,
		    char *err, size_t errlen)
{
	*f = (struct elf_file){ .img = img, .len = len, .name = name };
	f->is64 = len > EI_CLASS && img[EI_CLASS] == ELFCLASS64;
	if (check_ident(f, err, errlen) < 0)
		return -1;
	if (f->is64) {
		Elf64_Ehdr h;
		memcpy(&h, img, sizeof(h));
		header_from64(f, &h);
	} else {
		Elf32_Ehdr h;
		memcpy(&h, img, sizeof(h));
		header_from32(f, &h);
	}
	if (f->phnum == 0)
		return boot_err(err, errlen, "%s: no program headers", name);
	if (f->phentsize < (f->is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr)))
		return boot_err(err, errlen, "%s: bad e_phentsize %u", name, f->phentsize);
	/* phnum and phentsize are 16-bit, so the product cannot overflow. */
	if (!in_file(f, f->phoff, (uint64_t)f->phnum * f->phentsize))
		return boot_err(err, errlen,
				"%s: program headers outside the file (e_phoff 0x%" PRIx64
				", %u x %u bytes, file %zu bytes)",
				name, f->phoff, f->phnum, f->phentsize, len);
	return 0;
}

static void read_phdr(const struct elf_file *f, unsigned i, Elf64_Phdr *ph)
{
	const uint8_t *p = f->img + f->phoff + (uint64_t)i * f->phentsize;
	Elf32_Phdr p32;

	if (f->is64) {
		memcpy(ph, p, sizeof(*ph));
		return;
	}
	memcpy(&p32, p, sizeof(p32));
	*ph = (Elf64_Phdr){ .p_type = p32.p_type, .p_flags = p32.p_flags,
			    .p_offset = p32.p_offset, .p_vaddr = p32.p_vaddr,
			    .p_paddr = p32.p_paddr, .p_filesz = p32.p_filesz,
			    .p_memsz = p32.p_memsz, .p_align = p32.p_align };
}

static void read_shdr(const struct elf_file *f, unsigned i, Elf64_Shdr *sh)
{
	const uint8_t *p = f->img + f->shoff + (uint64_t)i * f->shentsize;
	Elf32_Shdr s32;

	if (f->is64) {
		memcpy(sh, p, sizeof(*sh));
		return;
	}
	memcpy(&s32, p, sizeof(s32));
	*sh = (Elf64_Shdr){ .sh_type = s32.sh_type, .sh_offset = s32.sh_offset,
			    .sh_size = s32.sh_size };
}

/* The descriptor is a 32-bit or 64-bit physical address; PVH enters in
 * 32-bit mode, so only the low half matters. */
static int note_entry(const struct elf_file *f, const uint8_t *desc, uint32_t descsz,
		      uint32_t *entry, char *err, size_t errlen)
{
	if (descsz != 4 && descsz != 8)
		return boot_err(err, errlen,
				"%s: XEN_ELFNOTE_PHYS32_ENTRY note has a %u-byte descriptor "
				"(want 4 or 8)",
				f->name, descsz);
	memcpy(entry, desc, sizeof(*entry));
	return 1;
}

/* Scan the notes in file bytes [off, off+size) for Xen's PHYS32_ENTRY.
 * Returns 1 when found, 0 when absent, -1 when the notes are malformed. */
static int notes_find_entry(const struct elf_file *f, uint64_t off, uint64_t size,
			    uint32_t *entry, char *err, size_t errlen)
{
	static const char xen_name[4] = "Xen"; /* with its NUL */
	const uint8_t *p;
	Elf32_Nhdr nh; /* ELF64 notes use the same 32-bit header */

	if (!in_file(f, off, size))
		return boot_err(err, errlen,
				"%s: notes outside the file (offset 0x%" PRIx64 ", %" PRIu64
				" bytes)",
				f->name, off, size);
	p = f->img + off;
	while (size >= sizeof(nh)) {
		memcpy(&nh, p, sizeof(nh));
		uint64_t namesz = ((uint64_t)nh.n_namesz + 3) & ~3ULL;
		uint64_t descsz = ((uint64_t)nh.n_descsz + 3) & ~3ULL;
		uint64_t total = sizeof(nh) + namesz + descsz;
		if (total > size)
			return boot_err(err, errlen, "%s: truncated ELF note at offset 0x%" PRIx64,
					f->name, (uint64_t)(p - f->img));
		if (nh.n_type == XEN_ELFNOTE_PHYS32_ENTRY && nh.n_namesz == sizeof(xen_name) &&
		    memcmp(p + sizeof(nh), xen_name, sizeof(xen_name)) == 0)
			return note_entry(f, p + sizeof(nh) + namesz, nh.n_descsz, entry, err,
					  errlen);
		p += total;
		size -= total;
	}
	return 0;
}

/* Section headers are only a fallback for files whose note segment is missing. */
static int sections_find_entry(const struct elf_file *f, uint32_t *entry, char *err,
			       size_t errlen)
{
	Elf64_Shdr sh;
	int rc;

	if (f->shnum == 0)
		return 0;
	if (f->shentsize < (f->is64 ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr)) ||
	    !in_file(f, f->shoff, (uint64_t)f->shnum * f->shentsize))
		return boot_err(err, errlen, "%s: section headers outside the file", f->name);
	for (unsigned i = 0; i < f->shnum; i++) {
		read_shdr(f, i, &sh);
		if (sh.sh_type != SHT_NOTE)
			continue;
		rc = notes_find_entry(f, sh.sh_offset, sh.sh_size, entry, err, errlen);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Notes are read by file offset: GRUB's note segment has address and memsz 0. */
static int find_entry(const struct elf_file *f, uint32_t *entry, char *err, size_t errlen)
{
	Elf64_Phdr ph;
	int rc;

	for (unsigned i = 0; i < f->phnum; i++) {
		read_phdr(f, i, &ph);
		if (ph.p_type != PT_NOTE)
			continue;
		rc = notes_find_entry(f, ph.p_offset, ph.p_filesz, entry, err, errlen);
		if (rc != 0)
			return rc < 0 ? -1 : 0;
	}
	rc = sections_find_entry(f, entry, err, errlen);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return boot_err(err, errlen,
				"%s: not a PVH kernel (no XEN_ELFNOTE_PHYS32_ENTRY note)", f->name);
	return 0;
}

static int check_segment(struct guest_mem *m, const struct elf_file *f, unsigned i,
			 const Elf64_Phdr *ph, char *err, size_t errlen)
{
	if (ph->p_filesz > ph->p_memsz)
		return boot_err(err, errlen,
				"%s: segment %u: p_filesz 0x%" PRIx64 " exceeds p_memsz 0x%" PRIx64,
				f->name, i, ph->p_filesz, ph->p_memsz);
	if (!in_file(f, ph->p_offset, ph->p_filesz))
		return boot_err(err, errlen,
				"%s: segment %u: data (offset 0x%" PRIx64 ", 0x%" PRIx64
				" bytes) outside the file (%zu bytes)",
				f->name, i, ph->p_offset, ph->p_filesz, f->len);
	if (ph->p_memsz == 0)
		return 0;
	if (ph->p_paddr + ph->p_memsz < ph->p_paddr)
		return boot_err(err, errlen, "%s: segment %u: address range wraps around", f->name,
				i);
	if (ph->p_paddr < BOOT_AREA_END)
		return boot_err(err, errlen,
				"%s: segment %u at 0x%" PRIx64 " overlaps the boot area below 0x%llx",
				f->name, i, ph->p_paddr, BOOT_AREA_END);
	if (!e820_ram_contains(m, ph->p_paddr, ph->p_memsz))
		return boot_err(err, errlen,
				"%s: segment %u [0x%" PRIx64 ", 0x%" PRIx64
				") is not in guest RAM (%" PRIu64 " MiB)",
				f->name, i, ph->p_paddr, ph->p_paddr + ph->p_memsz,
				m->ram_size >> 20);
	return 0;
}

/* Check every PT_LOAD segment and record the physical range they span. */
static int check_segments(struct guest_mem *m, const struct elf_file *f, struct elf_image *out,
			  char *err, size_t errlen)
{
	Elf64_Phdr ph;

	out->start = UINT64_MAX;
	out->end = 0;
	for (unsigned i = 0; i < f->phnum; i++) {
		read_phdr(f, i, &ph);
		if (ph.p_type != PT_LOAD)
			continue;
		if (check_segment(m, f, i, &ph, err, errlen) < 0)
			return -1;
		if (ph.p_memsz == 0)
			continue;
		if (ph.p_paddr < out->start)
			out->start = ph.p_paddr;
		if (ph.p_paddr + ph.p_memsz > out->end)
			out->end = ph.p_paddr + ph.p_memsz;
	}
	if (out->end == 0)
		return boot_err(err, errlen, "%s: no loadable segments", f->name);
	return 0;
}

static int load_segments(struct guest_mem *m, const struct elf_file *f, char *err,
			 size_t errlen)
{
	Elf64_Phdr ph;
	uint8_t *dst;

	for (unsigned i = 0; i < f->phnum; i++) {
		read_phdr(f, i, &ph);
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		dst = gmem_ptr(m, ph.p_paddr, ph.p_memsz);
		if (!dst)
			return boot_err(err, errlen, "%s: segment %u at 0x%" PRIx64 " is not mapped",
					f->name, i, ph.p_paddr);
		memcpy(dst, f->img + ph.p_offset, ph.p_filesz);
		memset(dst + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
	}
	return 0;
}

int elf_pvh_load(struct guest_mem *m, const uint8_t *img, size_t len, const char *name,
		 struct elf_image *out, char *err, size_t errlen)
{
	struct elf_file f;

	if (elf_open(&f, img, len, name, err, errlen) < 0 ||
	    find_entry(&f, &out->entry, err, errlen) < 0 ||
	    check_segments(m, &f, out, err, errlen) < 0)
		return -1;
	if (out->entry < out->start || out->entry >= out->end)
		return boot_err(err, errlen,
				"%s: entry point 0x%x is outside the loaded image [0x%" PRIx64
				", 0x%" PRIx64 ")",
				name, out->entry, out->start, out->end);
	return load_segments(m, &f, err, errlen);
}
