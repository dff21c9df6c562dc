/* Unit tests for boot/: ELF and bzImage loading, the memory map,
 * hvm_start_info and ACPI. Every fixture is built here, in memory: tiny ELF
 * images, compressed with the same libraries the loader uses, wrapped in a
 * fake bzImage setup header. */
#include <asm/bootparam.h>
#include <bzlib.h>
#include <check.h>
#include <elf.h>
#include <lz4.h>
#include <lzma.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include <xen/elfnote.h>
#include <xen/arch-x86/hvm/start_info.h>

#include "run_suite.h"
#include "xenkvm/boot.h"

#define RAM_SIZE (16ULL << 20)
#define ELF_MAX 65536
#define KERNEL_PADDR 0x100000ULL

static struct guest_mem mem;
static char err[256];

static void mem_setup(void)
{
	ck_assert_int_eq(gmem_init(&mem, RAM_SIZE, NULL, NULL), 0);
	err[0] = '\0';
}

static void mem_teardown(void)
{
	gmem_destroy(&mem);
}

#define ck_assert_fails_with(rc, text)                                                    \
	do {                                                                              \
		ck_assert_int_eq((rc), -1);                                               \
		ck_assert_msg(strstr(err, (text)) != NULL, "error \"%s\" lacks \"%s\"", err, \
			      (text));                                                    \
	} while (0)

/* ---- ELF fixtures ---- */

struct seg {
	uint32_t type;
	uint64_t paddr;
	const uint8_t *data;
	size_t filesz;
	uint64_t memsz;
};

struct elf_spec {
	int is64;
	uint16_t machine; /* 0: the class's x86 machine */
	unsigned nsegs;
	struct seg segs[4];
	const uint8_t *shnote; /* non-NULL: add section headers with this SHT_NOTE section */
	size_t shnote_len;
};

static uint8_t text[3000];
static uint8_t data_bytes[333];

static void fill_patterns(void)
{
	for (size_t i = 0; i < sizeof(text); i++)
		text[i] = (uint8_t)(i * 7 + 1);
	for (size_t i = 0; i < sizeof(data_bytes); i++)
		data_bytes[i] = (uint8_t)(0xC3 ^ i);
}

static size_t align4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

/* One ELF note; desc holds up to 8 little-endian bytes, the rest is zero. */
static size_t note_build(uint8_t *out, const char *name, uint32_t type, uint64_t desc,
			 uint32_t descsz)
{
	Elf32_Nhdr nh = { .n_namesz = (uint32_t)strlen(name) + 1, .n_descsz = descsz,
			  .n_type = type };
	size_t off = sizeof(nh);

	memset(out, 0, sizeof(nh) + align4(nh.n_namesz) + align4(descsz));
	memcpy(out, &nh, sizeof(nh));
	memcpy(out + off, name, nh.n_namesz);
	off += align4(nh.n_namesz);
	memcpy(out + off, &desc, descsz < 8 ? descsz : 8);
	return off + align4(descsz);
}

static void phdr_put(uint8_t *out, const struct elf_spec *s, unsigned i, uint64_t off)
{
	const struct seg *g = &s->segs[i];

	if (s->is64) {
		Elf64_Phdr p = { .p_type = g->type, .p_offset = off, .p_vaddr = g->paddr,
				 .p_paddr = g->paddr, .p_filesz = g->filesz,
				 .p_memsz = g->memsz, .p_align = 1 };
		memcpy(out + sizeof(Elf64_Ehdr) + i * sizeof(p), &p, sizeof(p));
	} else {
		Elf32_Phdr p = { .p_type = g->type, .p_offset = (uint32_t)off,
				 .p_vaddr = (uint32_t)g->paddr, .p_paddr = (uint32_t)g->paddr,
				 .p_filesz = (uint32_t)g->filesz, .p_memsz = (uint32_t)g->memsz,
				 .p_align = 1 };
		memcpy(out + sizeof(Elf32_Ehdr) + i * sizeof(p), &p, sizeof(p));
	}
}

/* Section headers: a null section, then the SHT_NOTE one. */
static size_t shdrs_put(uint8_t *out, const struct elf_spec *s, uint64_t note_off,
			uint64_t shoff)
{
	if (s->is64) {
		Elf64_Shdr sh[2] = { { 0 }, { .sh_type = SHT_NOTE, .sh_offset = note_off,
					      .sh_size = s->shnote_len, .sh_addralign = 4 } };
		memcpy(out + shoff, sh, sizeof(sh));
		return sizeof(sh);
	}
	Elf32_Shdr sh[2] = { { 0 }, { .sh_type = SHT_NOTE, .sh_offset = (uint32_t)note_off,
				      .sh_size = (uint32_t)s->shnote_len, .sh_addralign = 4 } };
	memcpy(out + shoff, sh, sizeof(sh));
	return sizeof(sh);
}

static void ehdr_put(uint8_t *out, const struct elf_spec *s, uint64_t shoff)
{
	uint16_t machine = s->machine ? s->machine : (s->is64 ? EM_X86_64 : EM_386);
	uint16_t shnum = s->shnote ? 2 : 0;

	if (s->is64) {
		Elf64_Ehdr h = { .e_type = ET_EXEC, .e_machine = machine, .e_version = EV_CURRENT,
				 .e_phoff = sizeof(h), .e_shoff = shnum ? shoff : 0,
				 .e_ehsize = sizeof(h), .e_phentsize = sizeof(Elf64_Phdr),
				 .e_phnum = (uint16_t)s->nsegs,
				 .e_shentsize = sizeof(Elf64_Shdr), .e_shnum = shnum };
		memcpy(h.e_ident, ELFMAG, SELFMAG);
		h.e_ident[EI_CLASS] = ELFCLASS64;
		h.e_ident[EI_DATA] = ELFDATA2LSB;
		h.e_ident[EI_VERSION] = EV_CURRENT;
		memcpy(out, &h, sizeof(h));
		return;
	}
	Elf32_Ehdr h = { .e_type = ET_EXEC, .e_machine = machine, .e_version = EV_CURRENT,
			 .e_phoff = sizeof(h), .e_shoff = (uint32_t)(shnum ? shoff : 0),
			 .e_ehsize = sizeof(h), .e_phentsize = sizeof(Elf32_Phdr),
			 .e_phnum = (uint16_t)s->nsegs, .e_shentsize = sizeof(Elf32_Shdr),
			 .e_shnum = shnum };
	memcpy(h.e_ident, ELFMAG, SELFMAG);
	h.e_ident[EI_CLASS] = ELFCLASS32;
	h.e_ident[EI_DATA] = ELFDATA2LSB;
	h.e_ident[EI_VERSION] = EV_CURRENT;
	memcpy(out, &h, sizeof(h));
}

/* Segment data goes at odd file offsets, so nothing is aligned. */
static size_t elf_build(const struct elf_spec *s, uint8_t *out)
{
	size_t off = (s->is64 ? sizeof(Elf64_Ehdr) + s->nsegs * sizeof(Elf64_Phdr)
			      : sizeof(Elf32_Ehdr) + s->nsegs * sizeof(Elf32_Phdr));
	uint64_t note_off, shoff = 0;

	memset(out, 0, ELF_MAX);
	for (unsigned i = 0; i < s->nsegs; i++) {
		off += 1;
		memcpy(out + off, s->segs[i].data, s->segs[i].filesz);
		phdr_put(out, s, i, off);
		off += s->segs[i].filesz;
	}
	if (s->shnote) {
		note_off = ++off;
		memcpy(out + off, s->shnote, s->shnote_len);
		off = (off + s->shnote_len + 7) & ~(size_t)7;
		shoff = off;
		off += shdrs_put(out, s, note_off, shoff);
	}
	ehdr_put(out, s, shoff);
	ck_assert_uint_le(off, ELF_MAX);
	return off;
}

static uint8_t note_buf[256];
static uint8_t elf_buf[ELF_MAX];

/* A PVH kernel: text at `paddr` with a bss tail, data after it, and the PHYS32_ENTRY
 * note in a GRUB-like note segment (address 0, memsz 0), after a GNU note. */
static struct elf_spec pvh_spec(int is64, uint64_t paddr, uint64_t entry, uint32_t descsz)
{
	size_t n = note_build(note_buf, "GNU", 3, 0x1234, 4);

	n += note_build(note_buf + n, "Xen", XEN_ELFNOTE_PHYS32_ENTRY, entry, descsz);
	return (struct elf_spec){
		.is64 = is64,
		.nsegs = 3,
		.segs = { { PT_LOAD, paddr, text, sizeof(text), sizeof(text) + 5000 },
			  { PT_NOTE, 0, note_buf, n, 0 },
			  { PT_LOAD, paddr + 0x3003, data_bytes, sizeof(data_bytes),
			    sizeof(data_bytes) } },
	};
}

static size_t pvh_elf(int is64, uint64_t paddr, uint64_t entry, uint32_t descsz)
{
	struct elf_spec s = pvh_spec(is64, paddr, entry, descsz);

	return elf_build(&s, elf_buf);
}

static int load(size_t len, struct elf_image *img)
{
	return elf_pvh_load(&mem, elf_buf, len, "vmlinux", img, err, sizeof(err));
}

static void check_loaded(uint64_t paddr)
{
	uint8_t *p = gmem_ptr(&mem, paddr, sizeof(text) + 5000);
	uint8_t *d = gmem_ptr(&mem, paddr + 0x3003, sizeof(data_bytes));

	ck_assert_mem_eq(p, text, sizeof(text));
	for (size_t i = sizeof(text); i < sizeof(text) + 5000; i++)
		ck_assert_uint_eq(p[i], 0);
	ck_assert_mem_eq(d, data_bytes, sizeof(data_bytes));
}

/* Dirty the bss area first so zeroing is observable. */
static void dirty_ram(void)
{
	memset(gmem_ptr(&mem, KERNEL_PADDR, 1 << 20), 0xAA, 1 << 20);
}

START_TEST(elf64_loads_by_paddr_with_8_byte_note)
{
	struct elf_image img;
	/* The high half of an 8-byte descriptor is ignored. */
	size_t len = pvh_elf(1, KERNEL_PADDR, 0xFFFFFFFF00100010ULL, 8);

	dirty_ram();
	ck_assert_int_eq(load(len, &img), 0);
	ck_assert_uint_eq(img.entry, 0x100010);
	ck_assert_uint_eq(img.start, KERNEL_PADDR);
	ck_assert_uint_eq(img.end, KERNEL_PADDR + 0x3003 + sizeof(data_bytes));
	check_loaded(KERNEL_PADDR);
}
END_TEST

START_TEST(elf32_loads_unaligned_segment_with_4_byte_note)
{
	struct elf_image img;
	size_t len = pvh_elf(0, KERNEL_PADDR + 0x123, KERNEL_PADDR + 0x200, 4);

	dirty_ram();
	ck_assert_int_eq(load(len, &img), 0);
	ck_assert_uint_eq(img.entry, KERNEL_PADDR + 0x200);
	ck_assert_uint_eq(img.start, KERNEL_PADDR + 0x123);
	check_loaded(KERNEL_PADDR + 0x123);
	/* Bytes just before the unaligned segment are not touched. */
	ck_assert_uint_eq(*(uint8_t *)gmem_ptr(&mem, KERNEL_PADDR + 0x122, 1), 0xAA);
}
END_TEST

START_TEST(elf_note_found_in_section_headers)
{
	struct elf_image img;
	size_t n = note_build(note_buf, "Xen", XEN_ELFNOTE_PHYS32_ENTRY, KERNEL_PADDR + 4, 4);
	struct elf_spec s = { .is64 = _i, .nsegs = 1,
			      .segs = { { PT_LOAD, KERNEL_PADDR, text, sizeof(text),
					  sizeof(text) } },
			      .shnote = note_buf, .shnote_len = n };

	ck_assert_int_eq(load(elf_build(&s, elf_buf), &img), 0);
	ck_assert_uint_eq(img.entry, KERNEL_PADDR + 4);
}
END_TEST

START_TEST(elf_without_note_is_not_pvh)
{
	struct elf_image img;
	size_t n = note_build(note_buf, "Xen", 1 /* XEN_ELFNOTE_INFO, not the entry */, 5, 4);
	struct elf_spec s = { .is64 = _i, .nsegs = 2,
			      .segs = { { PT_LOAD, KERNEL_PADDR, text, sizeof(text), sizeof(text) },
					{ PT_NOTE, 0, note_buf, n, 0 } } };

	ck_assert_fails_with(load(elf_build(&s, elf_buf), &img),
			     "vmlinux: not a PVH kernel (no XEN_ELFNOTE_PHYS32_ENTRY note)");
}
END_TEST

START_TEST(elf_bad_note_descriptor)
{
	struct elf_image img;

	ck_assert_fails_with(load(pvh_elf(1, KERNEL_PADDR, KERNEL_PADDR, 2), &img),
			     "2-byte descriptor");
}
END_TEST

START_TEST(elf_truncated)
{
	struct elf_image img;
	size_t len = pvh_elf(_i, KERNEL_PADDR, KERNEL_PADDR, 4);

	ck_assert_fails_with(load(10, &img), "vmlinux: not an ELF file");
	ck_assert_fails_with(load(40, &img), "vmlinux: truncated ELF header");
	/* Cut inside the last segment's data. */
	ck_assert_fails_with(load(len - 10, &img), "outside the file");
}
END_TEST

static void patch_phoff(uint64_t phoff)
{
	if (elf_buf[EI_CLASS] == ELFCLASS64)
		memcpy(elf_buf + offsetof(Elf64_Ehdr, e_phoff), &phoff, 8);
	else
		memcpy(elf_buf + offsetof(Elf32_Ehdr, e_phoff), &phoff, 4);
}

START_TEST(elf_bad_phoff)
{
	struct elf_image img;
	size_t len = pvh_elf(_i, KERNEL_PADDR, KERNEL_PADDR, 4);

	patch_phoff(len - 8);
	ck_assert_fails_with(load(len, &img), "program headers outside the file");
	patch_phoff(_i ? UINT64_MAX - 16 : UINT32_MAX - 16);
	ck_assert_fails_with(load(len, &img), "program headers outside the file");
}
END_TEST

/* Rewrite program header i of the ELF64 in elf_buf. */
static void patch_phdr64(unsigned i, uint64_t offset, uint64_t paddr, uint64_t memsz)
{
	Elf64_Phdr p;
	uint8_t *at = elf_buf + sizeof(Elf64_Ehdr) + i * sizeof(p);

	memcpy(&p, at, sizeof(p));
	p.p_offset = offset;
	p.p_paddr = paddr;
	p.p_memsz = memsz;
	memcpy(at, &p, sizeof(p));
}

START_TEST(elf_bad_segments)
{
	struct elf_image img;
	size_t len = pvh_elf(1, KERNEL_PADDR, KERNEL_PADDR, 8);

	patch_phdr64(0, UINT64_MAX - 2, KERNEL_PADDR, sizeof(text));
	ck_assert_fails_with(load(len, &img), "segment 0: data");
	patch_phdr64(0, 65, KERNEL_PADDR, 100);
	ck_assert_fails_with(load(len, &img), "p_filesz 0xbb8 exceeds p_memsz 0x64");
	patch_phdr64(0, 65, UINT64_MAX - 10, sizeof(text));
	ck_assert_fails_with(load(len, &img), "wraps around");
	/* The note segment (index 1) may point at its notes anywhere, but inside the file. */
	pvh_elf(1, KERNEL_PADDR, KERNEL_PADDR, 8);
	patch_phdr64(1, len - 4, 0, 0);
	ck_assert_fails_with(load(len, &img), "notes outside the file");
}
END_TEST

START_TEST(elf_segment_outside_ram)
{
	struct elf_image img;

	ck_assert_fails_with(load(pvh_elf(_i, RAM_SIZE - 0x1000, RAM_SIZE - 0x1000, 4), &img),
			     "vmlinux: segment 0 [0xfff000, 0x1000f40) is not in guest RAM");
	ck_assert_fails_with(load(pvh_elf(_i, LEGACY_HOLE_START, LEGACY_HOLE_START, 4), &img),
			     "is not in guest RAM");
	ck_assert_fails_with(load(pvh_elf(_i, 0x800, 0x800, 4), &img),
			     "vmlinux: segment 0 at 0x800 overlaps the boot area");
}
END_TEST

START_TEST(elf_wrong_machine_and_entry)
{
	struct elf_image img;
	struct elf_spec s = pvh_spec(1, KERNEL_PADDR, KERNEL_PADDR, 4);

	s.machine = EM_AARCH64;
	ck_assert_fails_with(load(elf_build(&s, elf_buf), &img), "not x86");
	ck_assert_fails_with(load(pvh_elf(1, KERNEL_PADDR, 0x50000, 4), &img),
			     "entry point 0x50000 is outside the loaded image");
}
END_TEST

/* ---- bzImage fixtures: compress the ELF in elf_buf with each library ---- */

static size_t gzip_compress(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
	z_stream s = { 0 };

	ck_assert_int_eq(deflateInit2(&s, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
			 Z_OK);
	s.next_in = (Bytef *)in;
	s.avail_in = (uInt)len;
	s.next_out = out;
	s.avail_out = (uInt)cap;
	ck_assert_int_eq(deflate(&s, Z_FINISH), Z_STREAM_END);
	deflateEnd(&s);
	return s.total_out;
}

static size_t xz_compress(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
	size_t pos = 0;

	ck_assert_int_eq(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC32, NULL, in, len, out, &pos,
						 cap),
			 LZMA_OK);
	return pos;
}

/* The .lzma "alone" format with unknown size and an end marker, as `lzma -9` writes. */
static size_t lzma_compress(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
	lzma_stream s = LZMA_STREAM_INIT;
	lzma_options_lzma opt;

	ck_assert_int_eq(lzma_lzma_preset(&opt, 6), 0);
	ck_assert_int_eq(lzma_alone_encoder(&s, &opt), LZMA_OK);
	s.next_in = in;
	s.avail_in = len;
	s.next_out = out;
	s.avail_out = cap;
	ck_assert_int_eq(lzma_code(&s, LZMA_FINISH), LZMA_STREAM_END);
	lzma_end(&s);
	return s.total_out;
}

/* Without the content size in the frame header, as `zstd` writes from a pipe. */
static size_t zstd_compress(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
	ZSTD_CCtx *c = ZSTD_createCCtx();
	ZSTD_inBuffer ib = { in, len, 0 };
	ZSTD_outBuffer ob = { out, cap, 0 };

	ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, 0);
	ck_assert_uint_eq(ZSTD_compressStream2(c, &ob, &ib, ZSTD_e_end), 0);
	ZSTD_freeCCtx(c);
	ck_assert_uint_eq(ZSTD_getFrameContentSize(out, ob.pos), ZSTD_CONTENTSIZE_UNKNOWN);
	return ob.pos;
}

static size_t zstd_sized_compress(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
	size_t n = ZSTD_compress(out, cap, in, len, 19);

	ck_assert(!ZSTD_isError(n));
	ck_assert_uint_eq(ZSTD_getFrameContentSize(out, n), len);
	return n;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

/* lz4 legacy frame, split into blocks of at most `block` input bytes to
 * exercise multi-block streams. */
static size_t lz4_compress_blocks(const uint8_t *in, size_t len, uint8_t *out, size_t cap,
				  size_t block)
{
	size_t pos = 4;

	put_le32(out, 0x184C2102);
	for (size_t done = 0; done < len; done += block) {
		int n = (int)(len - done < block ? len - done : block);
		int c = LZ4_compress_default((const char *)in + done, (char *)out + pos + 4, n,
					     (int)(cap - pos - 4));
		ck_assert_int_gt(c, 0);
		put_le32(out + pos, (uint32_t)c);
		pos += 4 + (size_t)c;
	}
	return pos;
}

static size_t lz4_compress(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
	return lz4_compress_blocks(in, len, out, cap, 4000);
}

static size_t bzip2_compress(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
	unsigned n = (unsigned)cap;

	ck_assert_int_eq(BZ2_bzBuffToBuffCompress((char *)out, &n, (char *)in, (unsigned)len, 9,
						  0, 0),
			 BZ_OK);
	return n;
}

typedef size_t (*compress_fn)(const uint8_t *, size_t, uint8_t *, size_t);
static const compress_fn compressors[] = { gzip_compress, xz_compress, lzma_compress,
					   zstd_compress, lz4_compress, bzip2_compress,
					   zstd_sized_compress };
#define NCOMPRESSORS (int)(sizeof(compressors) / sizeof(compressors[0]))

#define BZ_SETUP_SECTS 3
#define BZ_PAYLOAD_OFFSET 0x123

/* A fake bzImage: setup sectors with a 2.15 header, then the payload with
 * Linux's trailing le32 decompressed size (counted in payload_length).
 * Returns a malloc'd image. */
static uint8_t *bzimage_wrap(const uint8_t *payload, size_t plen, uint32_t orig_len,
			     uint16_t version, size_t *len)
{
	size_t off = (BZ_SETUP_SECTS + 1) * 512 + BZ_PAYLOAD_OFFSET;
	uint8_t *img = calloc(1, off + plen + 4);
	struct setup_header h = { .setup_sects = BZ_SETUP_SECTS, .boot_flag = 0xAA55,
				  .header = 0x53726448, .version = version,
				  .payload_offset = BZ_PAYLOAD_OFFSET,
				  .payload_length = (uint32_t)plen + 4 };

	ck_assert_ptr_nonnull(img);
	memcpy(img + offsetof(struct boot_params, hdr), &h, sizeof(h));
	memcpy(img + off, payload, plen);
	put_le32(img + off + plen, orig_len);
	*len = off + plen + 4;
	return img;
}

static uint8_t *compressed_bzimage(int fmt, const uint8_t *in, size_t in_len, size_t *len)
{
	size_t cap = in_len * 2 + 65536;
	uint8_t *z = malloc(cap), *img;
	size_t zlen;

	ck_assert_ptr_nonnull(z);
	zlen = compressors[fmt](in, in_len, z, cap);
	img = bzimage_wrap(z, zlen, (uint32_t)in_len, 0x020f, len);
	free(z);
	return img;
}

START_TEST(bzimage_each_compression_round_trips)
{
	size_t elf_len = pvh_elf(1, KERNEL_PADDR, KERNEL_PADDR + 0x40, 8), len, out_len;
	uint8_t *img = compressed_bzimage(_i, elf_buf, elf_len, &len), *out = NULL;

	ck_assert(bzimage_detect(img, len));
	ck_assert_int_eq(bzimage_extract_payload(img, len, "vmlinuz", BOOT_MAX_KERNEL_SIZE, &out,
						 &out_len, err, sizeof(err)),
			 0);
	ck_assert_uint_eq(out_len, elf_len);
	ck_assert_mem_eq(out, elf_buf, elf_len);
	free(out);
	free(img);
}
END_TEST

START_TEST(bzimage_boots_through_pvh_boot_load)
{
	size_t elf_len = pvh_elf(1, KERNEL_PADDR, KERNEL_PADDR + 0x40, 8), len;
	uint8_t *img = compressed_bzimage(_i, elf_buf, elf_len, &len);
	struct boot_config c = { .kernel = img, .kernel_len = len, .kernel_name = "vmlinuz",
				 .vcpus = 1 };
	struct boot_info bi;

	dirty_ram();
	ck_assert_int_eq(pvh_boot_load(&mem, &c, &bi, err, sizeof(err)), 0);
	ck_assert_uint_eq(bi.entry, KERNEL_PADDR + 0x40);
	check_loaded(KERNEL_PADDR);
	free(img);
}
END_TEST

START_TEST(bzimage_without_pvh_note)
{
	struct elf_spec s = { .is64 = 1, .nsegs = 1,
			      .segs = { { PT_LOAD, KERNEL_PADDR, text, sizeof(text),
					  sizeof(text) } } };
	size_t elf_len = elf_build(&s, elf_buf), len;
	uint8_t *img = compressed_bzimage(3, elf_buf, elf_len, &len);
	struct boot_config c = { .kernel = img, .kernel_len = len,
				 .kernel_name = "/boot/vmlinuz-x", .vcpus = 1 };
	struct boot_info bi;

	ck_assert_fails_with(pvh_boot_load(&mem, &c, &bi, err, sizeof(err)),
			     "/boot/vmlinuz-x: not a PVH kernel (no XEN_ELFNOTE_PHYS32_ENTRY note)");
	free(img);
}
END_TEST

static int extract(const uint8_t *img, size_t len, size_t max)
{
	uint8_t *out = NULL;
	size_t out_len;
	int rc = bzimage_extract_payload(img, len, "vmlinuz", max, &out, &out_len, err,
					 sizeof(err));

	free(out);
	return rc;
}

START_TEST(bzimage_bad_headers)
{
	static const uint8_t junk[16] = { 0, 1, 2, 3, 4, 5, 6, 7 };
	size_t len;
	uint8_t *img = bzimage_wrap(junk, sizeof(junk), 16, 0x020f, &len);

	ck_assert_fails_with(extract(img, len, 1 << 20),
			     "vmlinuz: bzImage payload: unknown compression format");
	free(img);
	img = bzimage_wrap(junk, sizeof(junk), 16, 0x0206, &len);
	ck_assert_fails_with(extract(img, len, 1 << 20),
			     "vmlinuz: Linux boot protocol 2.06 is too old");
	ck_assert_fails_with(extract(img, 0x200, 1 << 20), "vmlinuz: not a bzImage");
	ck_assert(!bzimage_detect(img, 0x200));
	free(img);
	img = bzimage_wrap(junk, sizeof(junk), 16, 0x020f, &len);
	ck_assert_fails_with(extract(img, len - 8, 1 << 20), "is outside the file");
	free(img);
}
END_TEST

START_TEST(bzimage_truncated_payload)
{
	size_t elf_len = pvh_elf(1, KERNEL_PADDR, KERNEL_PADDR, 8), len;
	uint8_t *img = compressed_bzimage(_i, elf_buf, elf_len, &len);
	struct setup_header h;

	/* Drop the second half of the compressed stream (and the size word). */
	memcpy(&h, img + offsetof(struct boot_params, hdr), sizeof(h));
	h.payload_length /= 2;
	memcpy(img + offsetof(struct boot_params, hdr), &h, sizeof(h));
	ck_assert_fails_with(extract(img, len, 1 << 20), "vmlinuz: bzImage payload:");
	free(img);
}
END_TEST

/* Zeros compress to almost nothing: 2 MiB of them must not pass a 1 MiB cap. */
START_TEST(bzimage_bomb_over_cap)
{
	size_t zlen = 2 << 20, len;
	uint8_t *zeros = calloc(1, zlen);
	uint8_t *img = compressed_bzimage(_i, zeros, zlen, &len);

	ck_assert_int_eq(extract(img, len, zlen), 0);
	ck_assert_fails_with(extract(img, len, 1 << 20), "exceeds the 1 MiB limit");
	free(img);
	free(zeros);
}
END_TEST

/* The production cap, end to end: a zstd stream of BOOT_MAX_KERNEL_SIZE + 1 MiB zeros. */
START_TEST(bzimage_bomb_over_default_cap)
{
	static uint8_t zeros[1 << 20];
	ZSTD_CCtx *c = ZSTD_createCCtx();
	size_t cap = 1 << 20, zlen = 0, len;
	uint8_t *z = malloc(cap), *img;
	struct boot_config cfg = { .kernel_name = "bomb", .vcpus = 1 };
	struct boot_info bi;

	for (unsigned i = 0; i <= BOOT_MAX_KERNEL_SIZE >> 20; i++) {
		ZSTD_inBuffer ib = { zeros, sizeof(zeros), 0 };
		ZSTD_outBuffer ob = { z, cap, zlen };
		ZSTD_EndDirective end = i == BOOT_MAX_KERNEL_SIZE >> 20 ? ZSTD_e_end
									: ZSTD_e_continue;
		size_t left;
		do
			left = ZSTD_compressStream2(c, &ob, &ib, end);
		while (!ZSTD_isError(left) &&
		       (ib.pos < ib.size || (end == ZSTD_e_end && left != 0)));
		ck_assert(!ZSTD_isError(left));
		zlen = ob.pos;
	}
	ZSTD_freeCCtx(c);
	img = bzimage_wrap(z, zlen, 0, 0x020f, &len);
	cfg.kernel = img;
	cfg.kernel_len = len;
	ck_assert_fails_with(pvh_boot_load(&mem, &cfg, &bi, err, sizeof(err)),
			     "bomb: bzImage payload: decompressed size exceeds the 512 MiB limit");
	free(img);
	free(z);
}
END_TEST

START_TEST(lz4_trailing_garbage_is_an_error)
{
	size_t elf_len = pvh_elf(1, KERNEL_PADDR, KERNEL_PADDR, 8), zlen;
	uint8_t z[ELF_MAX], *out = NULL;
	size_t out_len;

	zlen = lz4_compress(elf_buf, elf_len, z, sizeof(z));
	ck_assert_int_eq(decompress_any(z, zlen, 1 << 20, &out, &out_len, err, sizeof(err)), 0);
	ck_assert_uint_eq(out_len, elf_len);
	free(out);
	memset(z + zlen, 0xFF, 8);
	ck_assert_fails_with(decompress_any(z, zlen + 8, 1 << 20, &out, &out_len, err,
					    sizeof(err)),
			     "corrupt lz4 block length");
}
END_TEST

/* ---- memory map ---- */

START_TEST(e820_small_ram)
{
	struct e820_entry e[BOOT_E820_MAX];
	unsigned n = e820_build(&mem, e, BOOT_E820_MAX);

	ck_assert_uint_eq(n, 4);
	ck_assert_uint_eq(e[0].addr, 0);
	ck_assert_uint_eq(e[0].size, 0xA0000);
	ck_assert_uint_eq(e[0].type, XEN_HVM_MEMMAP_TYPE_RAM);
	ck_assert_uint_eq(e[1].addr, 0xA0000);
	ck_assert_uint_eq(e[1].size, 0x60000);
	ck_assert_uint_eq(e[1].type, XEN_HVM_MEMMAP_TYPE_RESERVED);
	ck_assert_uint_eq(e[2].addr, 0x100000);
	ck_assert_uint_eq(e[2].size, RAM_SIZE - 0x100000);
	ck_assert_uint_eq(e[2].type, XEN_HVM_MEMMAP_TYPE_RAM);
	ck_assert_uint_eq(e[3].addr, SPECIAL_PAGES_START);
	ck_assert_uint_eq(e[3].size, SPECIAL_PAGES_END - SPECIAL_PAGES_START);
	ck_assert_uint_eq(e[3].type, XEN_HVM_MEMMAP_TYPE_RESERVED);
	ck_assert_uint_eq(e820_build(&mem, e, 2), 2);
	ck_assert(e820_ram_contains(&mem, 0x100000, RAM_SIZE - 0x100000));
	ck_assert(!e820_ram_contains(&mem, 0x9F000, 0x2000));
	ck_assert(!e820_ram_contains(&mem, RAM_SIZE - 1, 2));
	ck_assert(!e820_ram_contains(&mem, UINT64_MAX, 2));
}
END_TEST

/* Only the table is looked at: the memfd behind 4 GiB stays sparse. */
START_TEST(e820_above_3g)
{
	struct guest_mem big;
	struct e820_entry e[BOOT_E820_MAX];
	unsigned n;

	ck_assert_int_eq(gmem_init(&big, 4ULL << 30, NULL, NULL), 0);
	n = e820_build(&big, e, BOOT_E820_MAX);
	ck_assert_uint_eq(n, 5);
	ck_assert_uint_eq(e[2].addr, 0x100000);
	ck_assert_uint_eq(e[2].size, LOW_RAM_LIMIT - 0x100000);
	ck_assert_uint_eq(e[3].addr, SPECIAL_PAGES_START);
	ck_assert_uint_eq(e[4].addr, 4ULL << 30);
	ck_assert_uint_eq(e[4].size, (4ULL << 30) - LOW_RAM_LIMIT);
	ck_assert_uint_eq(e[4].type, XEN_HVM_MEMMAP_TYPE_RAM);
	ck_assert(!e820_ram_contains(&big, LOW_RAM_LIMIT - 4096, 8192));
	ck_assert(e820_ram_contains(&big, HIGH_RAM_BASE, (4ULL << 30) - LOW_RAM_LIMIT));
	gmem_destroy(&big);
}
END_TEST

/* ---- hvm_start_info, command line, initrd ---- */

static uint8_t initrd[50000];

static int boot(const char *cmdline, const uint8_t *rd, size_t rd_len, struct boot_info *bi)
{
	size_t len = pvh_elf(0, KERNEL_PADDR, KERNEL_PADDR, 4);
	struct boot_config c = { .kernel = elf_buf, .kernel_len = len, .kernel_name = "grub.elf",
				 .initrd = rd, .initrd_len = rd_len,
				 .initrd_name = "initrd.img", .cmdline = cmdline, .vcpus = 2 };

	return pvh_boot_load(&mem, &c, bi, err, sizeof(err));
}

START_TEST(start_info_fields)
{
	struct boot_info bi;
	struct hvm_start_info si;
	struct hvm_modlist_entry mod;
	struct hvm_memmap_table_entry mm;

	for (size_t i = 0; i < sizeof(initrd); i++)
		initrd[i] = (uint8_t)(i * 13);
	ck_assert_int_eq(boot("console=hvc0 root=/dev/xvda", initrd, sizeof(initrd), &bi), 0);
	ck_assert_uint_eq(bi.start_info_gpa, BOOT_START_INFO_GPA);
	memcpy(&si, gmem_ptr(&mem, bi.start_info_gpa, sizeof(si)), sizeof(si));
	ck_assert_uint_eq(si.magic, XEN_HVM_START_MAGIC_VALUE);
	ck_assert_uint_eq(si.version, 1);
	ck_assert_uint_eq(si.flags, 0);
	ck_assert_uint_eq(si.reserved, 0);
	ck_assert_str_eq(gmem_ptr(&mem, si.cmdline_paddr, 28), "console=hvc0 root=/dev/xvda");
	ck_assert_uint_eq(si.rsdp_paddr, bi.rsdp_gpa);
	ck_assert_mem_eq(gmem_ptr(&mem, si.rsdp_paddr, 8), "RSD PTR ", 8);

	ck_assert_uint_eq(si.nr_modules, 1);
	memcpy(&mod, gmem_ptr(&mem, si.modlist_paddr, sizeof(mod)), sizeof(mod));
	ck_assert_uint_eq(mod.size, sizeof(initrd));
	ck_assert_uint_eq(mod.paddr % 4096, 0);
	ck_assert_uint_eq(mod.paddr, bi.initrd_gpa);
	/* At the top of low RAM: within a page of its end, above the kernel. */
	ck_assert_uint_le(mod.paddr + mod.size, RAM_SIZE);
	ck_assert_uint_gt(mod.paddr + mod.size + 4096, RAM_SIZE);
	ck_assert_uint_ge(mod.paddr, bi.kernel_end);
	ck_assert_mem_eq(gmem_ptr(&mem, mod.paddr, mod.size), initrd, sizeof(initrd));

	ck_assert_uint_eq(si.memmap_entries, bi.e820_n);
	ck_assert_uint_eq(bi.e820_n, 4);
	for (unsigned i = 0; i < bi.e820_n; i++) {
		memcpy(&mm, gmem_ptr(&mem, si.memmap_paddr + i * sizeof(mm), sizeof(mm)),
		       sizeof(mm));
		ck_assert_uint_eq(mm.addr, bi.e820[i].addr);
		ck_assert_uint_eq(mm.size, bi.e820[i].size);
		ck_assert_uint_eq(mm.type, bi.e820[i].type);
		ck_assert_uint_eq(mm.reserved, 0);
	}
	/* The boot structures stay clear of the kernel image. */
	ck_assert_uint_le(BOOT_AREA_END, bi.kernel_start);
}
END_TEST

START_TEST(start_info_without_cmdline_or_initrd)
{
	struct boot_info bi;
	struct hvm_start_info si;

	ck_assert_int_eq(boot(NULL, NULL, 0, &bi), 0);
	memcpy(&si, gmem_ptr(&mem, bi.start_info_gpa, sizeof(si)), sizeof(si));
	ck_assert_uint_eq(si.nr_modules, 0);
	ck_assert_uint_eq(si.modlist_paddr, 0);
	ck_assert_uint_eq(si.cmdline_paddr, 0);
	ck_assert_uint_eq(bi.initrd_len, 0);
}
END_TEST

START_TEST(cmdline_length_limit)
{
	static char cmd[BOOT_CMDLINE_MAX + 1];
	struct boot_info bi;
	struct hvm_start_info si;

	memset(cmd, 'x', BOOT_CMDLINE_MAX - 1);
	ck_assert_int_eq(boot(cmd, NULL, 0, &bi), 0);
	memcpy(&si, gmem_ptr(&mem, bi.start_info_gpa, sizeof(si)), sizeof(si));
	ck_assert_uint_eq(strlen(gmem_ptr(&mem, si.cmdline_paddr, BOOT_CMDLINE_MAX)),
			  BOOT_CMDLINE_MAX - 1);
	cmd[BOOT_CMDLINE_MAX - 1] = 'x';
	ck_assert_fails_with(boot(cmd, NULL, 0, &bi), "command line: 4096 bytes, the limit is 4095");
}
END_TEST

START_TEST(initrd_does_not_fit)
{
	struct boot_info bi;
	size_t big = RAM_SIZE; /* more than all of RAM */
	uint8_t *rd = calloc(1, big);
	char want[128];
	/* The kernel ends at 0x100000 + 0x3003 + 333; the initrd may start on the next page. */
	uint64_t avail = RAM_SIZE - 0x104000;

	ck_assert_int_eq(boot(NULL, rd, avail, &bi), 0);
	snprintf(want, sizeof(want), "initrd.img: %zu bytes do not fit in guest RAM (%llu available)",
		 (size_t)avail + 1, (unsigned long long)avail);
	ck_assert_fails_with(boot(NULL, rd, avail + 1, &bi), want);
	ck_assert_fails_with(boot(NULL, rd, big, &bi), "do not fit in guest RAM");
	free(rd);
}
END_TEST

/* ---- ACPI ---- */

static uint8_t sum_bytes(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	while (len--)
		s = (uint8_t)(s + *p++);
	return s;
}

/* A table at gpa: check signature and checksum, return its host pointer. */
static const uint8_t *acpi_table(uint64_t gpa, const char *sig)
{
	const uint8_t *t = gmem_ptr(&mem, gpa, 36);
	uint32_t len;

	ck_assert_ptr_nonnull(t);
	ck_assert_mem_eq(t, sig, 4);
	memcpy(&len, t + 4, 4);
	ck_assert_uint_ge(len, 36);
	ck_assert_ptr_nonnull(gmem_ptr(&mem, gpa, len));
	ck_assert_uint_eq(sum_bytes(t, len), 0);
	return t;
}

/* Count MADT entries of each type: [0] LAPIC, [1] IO-APIC, [9] x2APIC. */
static void madt_count(const uint8_t *madt, unsigned count[16])
{
	uint32_t len, addr, off = 44;

	memcpy(&len, madt + 4, 4);
	memcpy(&addr, madt + 36, 4);
	ck_assert_uint_eq(addr, 0xFEE00000);
	memset(count, 0, 16 * sizeof(count[0]));
	while (off < len) {
		uint8_t type = madt[off], elen = madt[off + 1];
		ck_assert_uint_ge(elen, 2);
		ck_assert_uint_lt(type, 16);
		count[type]++;
		if (type == 1) {
			memcpy(&addr, madt + off + 4, 4);
			ck_assert_uint_eq(addr, 0xFEC00000);
		} else {
			ck_assert_uint_eq(madt[off + (type == 0 ? 4 : 8)] & 1, 1); /* enabled */
		}
		off += elen;
	}
	ck_assert_uint_eq(off, len);
}

/* Walk RSDP -> XSDT -> FADT/DSDT and MADT the way a guest does. */
static const uint8_t *acpi_walk(uint64_t rsdp_gpa)
{
	const uint8_t *rsdp = gmem_ptr(&mem, rsdp_gpa, 36), *xsdt, *fadt, *madt = NULL;
	uint64_t xsdt_gpa, entry, x_dsdt;
	uint32_t xlen, flags, dsdt;

	ck_assert_mem_eq(rsdp, "RSD PTR ", 8);
	ck_assert_uint_eq(rsdp[15], 2);
	ck_assert_uint_eq(sum_bytes(rsdp, 20), 0);
	ck_assert_uint_eq(sum_bytes(rsdp, 36), 0);
	memcpy(&xsdt_gpa, rsdp + 24, 8);
	xsdt = acpi_table(xsdt_gpa, "XSDT");
	memcpy(&xlen, xsdt + 4, 4);
	ck_assert_uint_eq(xlen, 36 + 16);
	memcpy(&entry, xsdt + 36, 8);
	fadt = acpi_table(entry, "FACP");
	ck_assert_uint_ge(fadt[8], 5);
	memcpy(&flags, fadt + 112, 4);
	ck_assert_uint_eq(flags & (1U << 20), 1U << 20); /* HW_REDUCED_ACPI */
	memcpy(&dsdt, fadt + 40, 4);
	memcpy(&x_dsdt, fadt + 140, 8);
	ck_assert_uint_eq(dsdt, x_dsdt);
	acpi_table(x_dsdt, "DSDT");
	memcpy(&entry, xsdt + 44, 8);
	madt = acpi_table(entry, "APIC");
	/* Everything sits in the reserved legacy hole, not in RAM. */
	ck_assert_uint_ge(rsdp_gpa, LEGACY_HOLE_START);
	ck_assert_uint_lt(entry, LEGACY_HOLE_END);
	return madt;
}

START_TEST(acpi_tables_valid)
{
	uint64_t rsdp;
	unsigned count[16];

	ck_assert_int_eq(acpi_build(&mem, 4, &rsdp, err, sizeof(err)), 0);
	madt_count(acpi_walk(rsdp), count);
	ck_assert_uint_eq(count[0], 4);
	ck_assert_uint_eq(count[1], 1);
	ck_assert_uint_eq(count[9], 0);
}
END_TEST

START_TEST(acpi_x2apic_for_large_ids)
{
	uint64_t rsdp;
	unsigned count[16];

	ck_assert_int_eq(acpi_build(&mem, 300, &rsdp, err, sizeof(err)), 0);
	madt_count(acpi_walk(rsdp), count);
	ck_assert_uint_eq(count[0], 255);
	ck_assert_uint_eq(count[9], 45);
	ck_assert_int_eq(acpi_build(&mem, BOOT_MAX_VCPUS, &rsdp, err, sizeof(err)), 0);
	madt_count(acpi_walk(rsdp), count);
	ck_assert_uint_eq(count[0] + count[9], BOOT_MAX_VCPUS);
	ck_assert_fails_with(acpi_build(&mem, 0, &rsdp, err, sizeof(err)), "0 vCPUs");
	ck_assert_fails_with(acpi_build(&mem, BOOT_MAX_VCPUS + 1, &rsdp, err, sizeof(err)),
			     "vCPUs, must be 1 to");
}
END_TEST

static Suite *boot_suite(void)
{
	Suite *s = suite_create("boot");
	TCase *elf = tcase_create("elf"), *bz = tcase_create("bzimage");
	TCase *layout = tcase_create("layout"), *acpi = tcase_create("acpi");

	tcase_add_checked_fixture(elf, mem_setup, mem_teardown);
	tcase_add_test(elf, elf64_loads_by_paddr_with_8_byte_note);
	tcase_add_test(elf, elf32_loads_unaligned_segment_with_4_byte_note);
	tcase_add_loop_test(elf, elf_note_found_in_section_headers, 0, 2);
	tcase_add_loop_test(elf, elf_without_note_is_not_pvh, 0, 2);
	tcase_add_test(elf, elf_bad_note_descriptor);
	tcase_add_loop_test(elf, elf_truncated, 0, 2);
	tcase_add_loop_test(elf, elf_bad_phoff, 0, 2);
	tcase_add_test(elf, elf_bad_segments);
	tcase_add_loop_test(elf, elf_segment_outside_ram, 0, 2);
	tcase_add_test(elf, elf_wrong_machine_and_entry);
	suite_add_tcase(s, elf);

	tcase_add_checked_fixture(bz, mem_setup, mem_teardown);
	tcase_set_timeout(bz, 60);
	tcase_add_loop_test(bz, bzimage_each_compression_round_trips, 0, NCOMPRESSORS);
	tcase_add_loop_test(bz, bzimage_boots_through_pvh_boot_load, 0, NCOMPRESSORS);
	tcase_add_loop_test(bz, bzimage_truncated_payload, 0, NCOMPRESSORS);
	tcase_add_loop_test(bz, bzimage_bomb_over_cap, 0, NCOMPRESSORS);
	tcase_add_test(bz, bzimage_without_pvh_note);
	tcase_add_test(bz, bzimage_bad_headers);
	tcase_add_test(bz, bzimage_bomb_over_default_cap);
	tcase_add_test(bz, lz4_trailing_garbage_is_an_error);
	suite_add_tcase(s, bz);

	tcase_add_checked_fixture(layout, mem_setup, mem_teardown);
	tcase_add_test(layout, e820_small_ram);
	tcase_add_test(layout, e820_above_3g);
	tcase_add_test(layout, start_info_fields);
	tcase_add_test(layout, start_info_without_cmdline_or_initrd);
	tcase_add_test(layout, cmdline_length_limit);
	tcase_add_test(layout, initrd_does_not_fit);
	suite_add_tcase(s, layout);

	tcase_add_checked_fixture(acpi, mem_setup, mem_teardown);
	tcase_add_test(acpi, acpi_tables_valid);
	tcase_add_test(acpi, acpi_x2apic_for_large_ids);
	suite_add_tcase(s, acpi);
	return s;
}

int main(void)
{
	fill_patterns();
	return run_suite(boot_suite());
}
