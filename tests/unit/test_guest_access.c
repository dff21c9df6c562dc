/* Unit tests for xenemu/guest_access.c: guest-virtual addresses translated
 * through page tables built here, in memfd guest RAM (no KVM), and the copies
 * that must fault with -EFAULT rather than touch anything outside the guest. */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "run_suite.h"
#include "xenkvm/guest_mem.h"
#include "xenkvm/hypercall.h"

#define RAM_SIZE (16ULL << 20)
#define PT_POOL 0x100000ULL  /* page tables are taken from here up */
#define OUTSIDE_RAM 0x80000000ULL /* below 4 GiB, above RAM: no memory at all */

#define CR0_PE (1ULL << 0)
#define CR0_ET (1ULL << 4)
#define CR0_WP (1ULL << 16)
#define CR0_PG (1ULL << 31)
#define CR4_PSE (1ULL << 4)
#define CR4_PAE (1ULL << 5)
#define CR4_LA57 (1ULL << 12)
#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)

#define PTE_P 1ULL
#define PTE_RW 2ULL
#define PTE_PS 0x80ULL
#define PTE_ADDR 0x000ffffffffff000ULL

/* Page-table levels, named by what a leaf entry at that level maps. */
#define L_4K 1
#define L_2M 2
#define L_1G 3

static struct guest_mem mem;
static uint64_t pt_next;

static void mem_setup(void)
{
	ck_assert_int_eq(gmem_init(&mem, RAM_SIZE, NULL, NULL), 0);
	pt_next = PT_POOL;
}

static void mem_teardown(void)
{
	gmem_destroy(&mem);
}

/* ---- guest memory and page-table builders ---- */

static uint8_t *gpa_ptr(uint64_t gpa, size_t len)
{
	uint8_t *p = gmem_ptr(&mem, gpa, len);

	ck_assert_ptr_nonnull(p);
	return p;
}

static uint64_t pt_page(void)
{
	uint64_t p = pt_next;

	pt_next += GUEST_PAGE_SIZE;
	return p; /* memfd RAM starts zeroed: every entry not present */
}

static uint64_t get_pte64(uint64_t gpa)
{
	uint64_t v;

	memcpy(&v, gpa_ptr(gpa, 8), 8);
	return v;
}

static void set_pte64(uint64_t gpa, uint64_t v)
{
	memcpy(gpa_ptr(gpa, 8), &v, 8);
}

static uint32_t get_pte32(uint64_t gpa)
{
	uint32_t v;

	memcpy(&v, gpa_ptr(gpa, 4), 4);
	return v;
}

static void set_pte32(uint64_t gpa, uint32_t v)
{
	memcpy(gpa_ptr(gpa, 4), &v, 4);
}

/* The slot for va in a table of 8-byte entries at `level` (4: PML4 ... 1: PT). */
static uint64_t slot64(uint64_t table, uint64_t va, int level)
{
	return table + ((va >> (12 + 9 * (level - 1))) & 511) * 8;
}

/* Map va -> pa with a leaf at `leaf` in a `levels`-deep tree of 8-byte
 * entries; missing tables are created present and writable. Returns the
 * leaf entry's address so tests can corrupt it. */
static uint64_t map64(uint64_t root, int levels, uint64_t va, uint64_t pa, int leaf,
		      uint64_t flags)
{
	uint64_t table = root;

	for (int level = levels; level > leaf; level--) {
		uint64_t slot = slot64(table, va, level), e = get_pte64(slot);
		if (!(e & PTE_P)) {
			e = pt_page() | PTE_P | PTE_RW;
			set_pte64(slot, e);
		}
		table = e & PTE_ADDR;
	}
	set_pte64(slot64(table, va, leaf), pa | flags | (leaf > L_4K ? PTE_PS : 0));
	return slot64(table, va, leaf);
}

/* PAE: a 4-entry PDPT (present bit only), then page directory and table. */
static void map_pae(uint64_t pdpt, uint32_t va, uint64_t pa, int leaf, uint64_t flags)
{
	uint64_t slot = pdpt + (va >> 30) * 8, e = get_pte64(slot);

	if (!(e & PTE_P)) {
		e = pt_page() | PTE_P;
		set_pte64(slot, e);
	}
	map64(e & PTE_ADDR, 2, va, pa, leaf, flags);
}

/* Legacy 32-bit paging: 4-byte entries; `large` makes a 4 MiB PDE. */
static void map_legacy(uint64_t pd, uint32_t va, uint32_t pa, int large, uint32_t flags)
{
	uint64_t slot = pd + (va >> 22) * 4;
	uint32_t e;

	if (large) {
		set_pte32(slot, pa | flags | (uint32_t)PTE_PS);
		return;
	}
	e = get_pte32(slot);
	if (!(e & PTE_P)) {
		e = (uint32_t)pt_page() | (uint32_t)(PTE_P | PTE_RW);
		set_pte32(slot, e);
	}
	set_pte32((e & 0xfffff000u) + ((va >> 12) & 1023) * 4, pa | flags);
}

/* ---- paging modes ---- */

static const struct guest_paging paging_off = { .cr0 = CR0_PE | CR0_ET };

static struct guest_paging long_mode(uint64_t cr3)
{
	return (struct guest_paging){ .cr0 = CR0_PE | CR0_ET | CR0_WP | CR0_PG, .cr3 = cr3,
				      .cr4 = CR4_PAE, .efer = EFER_LME | EFER_LMA };
}

static struct guest_paging pae_mode(uint64_t cr3)
{
	return (struct guest_paging){ .cr0 = CR0_PE | CR0_ET | CR0_WP | CR0_PG, .cr3 = cr3,
				      .cr4 = CR4_PAE };
}

static struct guest_paging legacy_mode(uint64_t cr3, int pse)
{
	return (struct guest_paging){ .cr0 = CR0_PE | CR0_ET | CR0_WP | CR0_PG, .cr3 = cr3,
				      .cr4 = pse ? CR4_PSE : 0 };
}

static struct hcall hcall_in(struct guest_paging pg, int abi64)
{
	return (struct hcall){ .mem = &mem, .abi64 = abi64, .pg = pg };
}

static uint64_t translate_ok(const struct guest_paging *pg, uint64_t va, int write)
{
	uint64_t gpa = ~0ULL;

	ck_assert_int_eq(guest_translate(&mem, pg, va, write, &gpa), 0);
	return gpa;
}

static int translate_rc(const struct guest_paging *pg, uint64_t va, int write)
{
	uint64_t gpa;

	return guest_translate(&mem, pg, va, write, &gpa);
}

static void fill(uint64_t gpa, uint8_t byte, size_t len)
{
	memset(gpa_ptr(gpa, len), byte, len);
}

static void assert_filled(uint64_t gpa, uint8_t byte, size_t len)
{
	const uint8_t *p = gpa_ptr(gpa, len);

	for (size_t i = 0; i < len; i++)
		ck_assert_msg(p[i] == byte, "byte at gpa %#llx is %#x, expected %#x",
			      (unsigned long long)(gpa + i), p[i], byte);
}

/* ---- paging off ---- */

START_TEST(paging_off_is_identity)
{
	struct hcall hc = hcall_in(paging_off, 0);
	char out[6] = "", in[] = "xenkvm";

	ck_assert_uint_eq(translate_ok(&paging_off, 0x20123, 1), 0x20123);
	memcpy(gpa_ptr(0x20000, 6), in, 6);
	ck_assert_int_eq(copy_from_guest(&hc, out, 0x20000, 6), 0);
	ck_assert_mem_eq(out, in, 6);
	ck_assert_int_eq(copy_to_guest(&hc, 0x30ffe, "ab", 2), 0);
	ck_assert_mem_eq(gpa_ptr(0x30ffe, 2), "ab", 2);
}
END_TEST

START_TEST(paging_off_beyond_4g_faults)
{
	struct hcall hc = hcall_in(paging_off, 0);
	char buf[32];

	ck_assert_int_eq(translate_rc(&paging_off, 0x100000000ULL, 0), -XEN_EFAULT);
	ck_assert_int_eq(translate_rc(&paging_off, 0x100020000ULL, 0), -XEN_EFAULT);
	ck_assert_int_eq(copy_from_guest(&hc, buf, 0x100020000ULL, 8), -XEN_EFAULT);
	/* A range starting below 4 GiB that runs past it. */
	ck_assert_int_eq(copy_from_guest(&hc, buf, 0xfffffff0ULL, 32), -XEN_EFAULT);
}
END_TEST

START_TEST(read_across_end_of_ram_faults)
{
	struct hcall hc = hcall_in(paging_off, 0);
	char buf[16];

	ck_assert_int_eq(copy_from_guest(&hc, buf, RAM_SIZE - 8, 8), 0);
	ck_assert_int_eq(copy_from_guest(&hc, buf, RAM_SIZE - 8, 16), -XEN_EFAULT);
	ck_assert_int_eq(copy_from_guest(&hc, buf, RAM_SIZE, 1), -XEN_EFAULT);
}
END_TEST

START_TEST(write_across_end_of_ram_writes_nothing)
{
	struct hcall hc = hcall_in(paging_off, 0);
	uint8_t src[16];

	memset(src, 0x55, sizeof(src));
	fill(RAM_SIZE - 8, 0xaa, 8);
	ck_assert_int_eq(copy_to_guest(&hc, RAM_SIZE - 8, src, 16), -XEN_EFAULT);
	assert_filled(RAM_SIZE - 8, 0xaa, 8);
	/* Also when the part inside RAM is a whole page before the fault. */
	fill(RAM_SIZE - 2 * GUEST_PAGE_SIZE, 0xaa, 2 * GUEST_PAGE_SIZE);
	ck_assert_int_eq(copy_to_guest(&hc, RAM_SIZE - 2 * GUEST_PAGE_SIZE, gpa_ptr(0, 3 * 4096),
				       3 * GUEST_PAGE_SIZE),
			 -XEN_EFAULT);
	assert_filled(RAM_SIZE - 2 * GUEST_PAGE_SIZE, 0xaa, 2 * GUEST_PAGE_SIZE);
}
END_TEST

START_TEST(zero_length_copy_touches_nothing)
{
	struct hcall hc = hcall_in(paging_off, 0);

	ck_assert_int_eq(copy_to_guest(&hc, OUTSIDE_RAM, "", 0), 0);
	ck_assert_int_eq(copy_from_guest(&hc, NULL, OUTSIDE_RAM, 0), 0);
}
END_TEST

/* ---- 4-level long mode ---- */

START_TEST(long_mode_4k_page)
{
	uint64_t cr3 = pt_page(), va = 0x7f0000001000ULL;
	struct guest_paging pg = long_mode(cr3);

	map64(cr3, 4, va, 0x30000, L_4K, PTE_P | PTE_RW);
	ck_assert_uint_eq(translate_ok(&pg, va + 0x123, 0), 0x30123);
	ck_assert_uint_eq(translate_ok(&pg, va + 0xfff, 1), 0x30fff);
	ck_assert_int_eq(translate_rc(&pg, va + 0x1000, 0), -XEN_EFAULT);
}
END_TEST

START_TEST(long_mode_2m_page)
{
	uint64_t cr3 = pt_page(), va = 0x40200000ULL;
	struct guest_paging pg = long_mode(cr3);

	map64(cr3, 4, va, 0x400000, L_2M, PTE_P | PTE_RW);
	ck_assert_uint_eq(translate_ok(&pg, va, 0), 0x400000);
	ck_assert_uint_eq(translate_ok(&pg, va + 0x1abcde, 1), 0x5abcde);
}
END_TEST

START_TEST(long_mode_1g_page)
{
	uint64_t cr3 = pt_page(), va = 0xffff800000000000ULL;
	struct guest_paging pg = long_mode(cr3);
	struct hcall hc = hcall_in(pg, 1);
	uint32_t v = 0;

	map64(cr3, 4, va, 0, L_1G, PTE_P | PTE_RW);
	ck_assert_uint_eq(translate_ok(&pg, va + 0x123456, 1), 0x123456);
	ck_assert_uint_eq(translate_ok(&pg, va + 0x3fffffff, 0), 0x3fffffff);
	memcpy(gpa_ptr(0x654320, 4), &(uint32_t){ 0xfeedf00d }, 4);
	ck_assert_int_eq(copy_from_guest(&hc, &v, va + 0x654320, 4), 0);
	ck_assert_uint_eq(v, 0xfeedf00d);
}
END_TEST

START_TEST(long_mode_5_levels)
{
	uint64_t cr3 = pt_page(), va = 0xff10000000001000ULL; /* canonical in 57 bits only */
	struct guest_paging pg = long_mode(cr3);

	pg.cr4 |= CR4_LA57;
	map64(cr3, 5, va, 0x31000, L_4K, PTE_P | PTE_RW);
	ck_assert_uint_eq(translate_ok(&pg, va + 8, 0), 0x31008);
	pg.cr4 &= ~CR4_LA57;
	ck_assert_int_eq(translate_rc(&pg, va + 8, 0), -XEN_EFAULT);
}
END_TEST

/* Each level's entry in turn cleared: the walk stops there. */
START_TEST(long_mode_not_present_at_each_level)
{
	uint64_t cr3 = pt_page(), va = 0x7f0000001000ULL;
	struct guest_paging pg = long_mode(cr3);
	uint64_t table = cr3;

	map64(cr3, 4, va, 0x30000, L_4K, PTE_P | PTE_RW);
	for (int level = 4; level >= 1; level--) {
		uint64_t slot = slot64(table, va, level), e = get_pte64(slot);

		set_pte64(slot, e & ~PTE_P);
		ck_assert_msg(translate_rc(&pg, va, 0) == -XEN_EFAULT, "level %d", level);
		set_pte64(slot, e);
		ck_assert_uint_eq(translate_ok(&pg, va, 0), 0x30000);
		table = e & PTE_ADDR;
	}
}
END_TEST

START_TEST(long_mode_non_canonical_faults)
{
	uint64_t cr3 = pt_page();
	struct guest_paging pg = long_mode(cr3);
	struct hcall hc = hcall_in(pg, 1);
	char buf[8];

	/* PML4 slot 256 maps the bottom of the upper half; the same slot must
	 * not serve 0x0000800000000000, which is not canonical. */
	map64(cr3, 4, 0xffff800000000000ULL, 0, L_1G, PTE_P | PTE_RW);
	ck_assert_uint_eq(translate_ok(&pg, 0xffff800000000010ULL, 0), 0x10);
	ck_assert_int_eq(translate_rc(&pg, 0x0000800000000010ULL, 0), -XEN_EFAULT);
	ck_assert_int_eq(translate_rc(&pg, 0x7fff800000000010ULL, 0), -XEN_EFAULT);
	ck_assert_int_eq(copy_from_guest(&hc, buf, 0x0000800000000010ULL, 8), -XEN_EFAULT);
}
END_TEST

START_TEST(read_only_page_with_wp_refuses_writes)
{
	uint64_t cr3 = pt_page(), va = 0x600000000ULL;
	struct guest_paging pg = long_mode(cr3);
	struct hcall hc = hcall_in(pg, 1);
	char buf[4];

	map64(cr3, 4, va, 0x30000, L_4K, PTE_P);
	fill(0x30000, 0xaa, 4);
	ck_assert_int_eq(translate_rc(&pg, va, 1), -XEN_EFAULT);
	ck_assert_int_eq(copy_to_guest(&hc, va, "wxyz", 4), -XEN_EFAULT);
	assert_filled(0x30000, 0xaa, 4);
	ck_assert_int_eq(copy_from_guest(&hc, buf, va, 4), 0);
}
END_TEST

START_TEST(read_only_page_without_wp_allows_writes)
{
	uint64_t cr3 = pt_page(), va = 0x600000000ULL;
	struct guest_paging pg = long_mode(cr3);
	struct hcall hc;

	pg.cr0 &= ~CR0_WP;
	hc = hcall_in(pg, 1);
	map64(cr3, 4, va, 0x30000, L_4K, PTE_P);
	ck_assert_int_eq(copy_to_guest(&hc, va, "wxyz", 4), 0);
	ck_assert_mem_eq(gpa_ptr(0x30000, 4), "wxyz", 4);
}
END_TEST

/* Write permission is the AND of every level, not only the leaf. */
START_TEST(read_only_directory_entry_refuses_writes)
{
	uint64_t cr3 = pt_page(), va = 0x600000000ULL;
	struct guest_paging pg = long_mode(cr3);
	uint64_t pml4e = slot64(cr3, va, 4);

	map64(cr3, 4, va, 0x30000, L_4K, PTE_P | PTE_RW);
	set_pte64(pml4e, get_pte64(pml4e) & ~PTE_RW);
	ck_assert_int_eq(translate_rc(&pg, va, 1), -XEN_EFAULT);
	ck_assert_uint_eq(translate_ok(&pg, va, 0), 0x30000);
}
END_TEST

/* ---- 32-bit paging ---- */

START_TEST(pae_4k_and_2m_pages)
{
	uint64_t cr3 = pt_page();
	struct guest_paging pg = pae_mode(cr3);

	map_pae(cr3, 0xc0001000u, 0x32000, L_4K, PTE_P | PTE_RW);
	map_pae(cr3, 0x80200000u, 0x600000, L_2M, PTE_P | PTE_RW);
	ck_assert_uint_eq(translate_ok(&pg, 0xc0001abcULL, 1), 0x32abc);
	ck_assert_uint_eq(translate_ok(&pg, 0x80212345ULL, 1), 0x612345);
}
END_TEST

START_TEST(pae_missing_pdpte_and_above_4g_fault)
{
	uint64_t cr3 = pt_page();
	struct guest_paging pg = pae_mode(cr3);

	map_pae(cr3, 0xc0001000u, 0x32000, L_4K, PTE_P | PTE_RW);
	ck_assert_int_eq(translate_rc(&pg, 0x40001000ULL, 0), -XEN_EFAULT); /* PDPTE 1 */
	ck_assert_int_eq(translate_rc(&pg, 0x1c0001000ULL, 0), -XEN_EFAULT);
}
END_TEST

START_TEST(legacy_4k_page)
{
	uint64_t cr3 = pt_page();
	struct guest_paging pg = legacy_mode(cr3, 0);

	map_legacy(cr3, 0xc0001000u, 0x32000, 0, PTE_P | PTE_RW);
	ck_assert_uint_eq(translate_ok(&pg, 0xc0001abcULL, 1), 0x32abc);
	ck_assert_int_eq(translate_rc(&pg, 0xc0002000ULL, 0), -XEN_EFAULT);
}
END_TEST

START_TEST(legacy_4m_page_with_pse)
{
	uint64_t cr3 = pt_page();
	struct guest_paging pg = legacy_mode(cr3, 1);

	map_legacy(cr3, 0x80400000u, 0x400000, 1, PTE_P | PTE_RW);
	ck_assert_uint_eq(translate_ok(&pg, 0x80412345ULL, 1), 0x412345);
	ck_assert_uint_eq(translate_ok(&pg, 0x807fffffULL, 0), 0x7fffff);
}
END_TEST

/* Without CR4.PSE the PS bit is ignored: the PDE names a page table. */
START_TEST(legacy_ps_bit_ignored_without_pse)
{
	uint64_t cr3 = pt_page();
	struct guest_paging pg = legacy_mode(cr3, 0);

	map_legacy(cr3, 0x80400000u, 0x400000, 1, PTE_P | PTE_RW);
	ck_assert_int_eq(translate_rc(&pg, 0x80412345ULL, 0), -XEN_EFAULT);
	set_pte32(0x400000 + 0x12 * 4, 0x33000 | PTE_P | PTE_RW);
	ck_assert_uint_eq(translate_ok(&pg, 0x80412345ULL, 0), 0x33345);
}
END_TEST

/* PSE-36: PDE bits 13..20 are physical address bits 32..39. */
START_TEST(legacy_4m_page_above_4g)
{
	uint64_t cr3 = pt_page();
	struct guest_paging pg = legacy_mode(cr3, 1);

	map_legacy(cr3, 0x80400000u, 0x400000 | (3u << 13), 1, PTE_P | PTE_RW);
	ck_assert_uint_eq(translate_ok(&pg, 0x80412345ULL, 0), 0x300412345ULL);
}
END_TEST

/* ---- tables and frames outside RAM, scattered frames ---- */

START_TEST(table_outside_ram_faults)
{
	uint64_t cr3 = pt_page(), va = 0x7f0000001000ULL;
	struct guest_paging pg = long_mode(cr3);

	set_pte64(slot64(cr3, va, 4), OUTSIDE_RAM | PTE_P | PTE_RW);
	ck_assert_int_eq(translate_rc(&pg, va, 0), -XEN_EFAULT);
	pg.cr3 = OUTSIDE_RAM;
	ck_assert_int_eq(translate_rc(&pg, va, 0), -XEN_EFAULT);
	pg = legacy_mode(OUTSIDE_RAM, 0);
	ck_assert_int_eq(translate_rc(&pg, 0x1000, 0), -XEN_EFAULT);
}
END_TEST

START_TEST(frame_outside_ram_faults_on_copy)
{
	uint64_t cr3 = pt_page(), va = 0x7f0000001000ULL;
	struct guest_paging pg = long_mode(cr3);
	struct hcall hc = hcall_in(pg, 1);
	char buf[4];

	map64(cr3, 4, va, OUTSIDE_RAM, L_4K, PTE_P | PTE_RW);
	ck_assert_uint_eq(translate_ok(&pg, va, 0), OUTSIDE_RAM);
	ck_assert_int_eq(copy_from_guest(&hc, buf, va, 4), -XEN_EFAULT);
	ck_assert_int_eq(copy_to_guest(&hc, va, "abcd", 4), -XEN_EFAULT);
}
END_TEST

START_TEST(copy_spans_scattered_frames)
{
	uint64_t cr3 = pt_page(), va = 0x7f0000001000ULL;
	struct guest_paging pg = long_mode(cr3);
	struct hcall hc = hcall_in(pg, 1);
	char out[17] = "";

	/* Two consecutive virtual pages, the second frame below the first. */
	map64(cr3, 4, va, 0x50000, L_4K, PTE_P | PTE_RW);
	map64(cr3, 4, va + 0x1000, 0x34000, L_4K, PTE_P | PTE_RW);
	ck_assert_int_eq(copy_to_guest(&hc, va + 0xff8, "01234567abcdefgh", 16), 0);
	ck_assert_mem_eq(gpa_ptr(0x50ff8, 8), "01234567", 8);
	ck_assert_mem_eq(gpa_ptr(0x34000, 8), "abcdefgh", 8);
	ck_assert_int_eq(copy_from_guest(&hc, out, va + 0xff8, 16), 0);
	ck_assert_str_eq(out, "01234567abcdefgh");
}
END_TEST

START_TEST(write_with_read_only_second_page_writes_nothing)
{
	uint64_t cr3 = pt_page(), va = 0x7f0000001000ULL;
	struct guest_paging pg = long_mode(cr3);
	struct hcall hc = hcall_in(pg, 1);

	map64(cr3, 4, va, 0x50000, L_4K, PTE_P | PTE_RW);
	map64(cr3, 4, va + 0x1000, 0x34000, L_4K, PTE_P);
	fill(0x50ff8, 0xaa, 8);
	fill(0x34000, 0xaa, 8);
	ck_assert_int_eq(copy_to_guest(&hc, va + 0xff8, "01234567abcdefgh", 16), -XEN_EFAULT);
	assert_filled(0x50ff8, 0xaa, 8);
	assert_filled(0x34000, 0xaa, 8);
}
END_TEST

/* RAM above 4 GiB: beyond a 32-bit guest's reach without paging, reachable
 * by a 64-bit guest through its page tables. */
START_TEST(high_ram_only_through_paging)
{
	uint64_t cr3, va = 0x7f0000000000ULL, high = HIGH_RAM_BASE + 0x1000;
	struct guest_paging pg;
	struct hcall hc32, hc64;
	uint32_t v = 0;

	gmem_destroy(&mem);
	ck_assert_int_eq(gmem_init(&mem, LOW_RAM_LIMIT + (2ULL << 20), NULL, NULL), 0);
	cr3 = pt_page();
	pg = long_mode(cr3);
	hc32 = hcall_in(paging_off, 0);
	hc64 = hcall_in(pg, 1);
	memcpy(gpa_ptr(high, 4), &(uint32_t){ 0x600dcafe }, 4);
	map64(cr3, 4, va, HIGH_RAM_BASE, L_2M, PTE_P | PTE_RW);
	ck_assert_int_eq(copy_from_guest(&hc32, &v, high, 4), -XEN_EFAULT);
	ck_assert_int_eq(copy_from_guest(&hc64, &v, va + 0x1000, 4), 0);
	ck_assert_uint_eq(v, 0x600dcafe);
}
END_TEST

static Suite *guest_access_suite(void)
{
	Suite *s = suite_create("guest_access");
	TCase *off = tcase_create("paging_off"), *lm = tcase_create("long_mode");
	TCase *p32 = tcase_create("paging_32bit"), *odd = tcase_create("odd_mappings");

	tcase_add_checked_fixture(off, mem_setup, mem_teardown);
	tcase_add_test(off, paging_off_is_identity);
	tcase_add_test(off, paging_off_beyond_4g_faults);
	tcase_add_test(off, read_across_end_of_ram_faults);
	tcase_add_test(off, write_across_end_of_ram_writes_nothing);
	tcase_add_test(off, zero_length_copy_touches_nothing);
	suite_add_tcase(s, off);

	tcase_add_checked_fixture(lm, mem_setup, mem_teardown);
	tcase_add_test(lm, long_mode_4k_page);
	tcase_add_test(lm, long_mode_2m_page);
	tcase_add_test(lm, long_mode_1g_page);
	tcase_add_test(lm, long_mode_5_levels);
	tcase_add_test(lm, long_mode_not_present_at_each_level);
	tcase_add_test(lm, long_mode_non_canonical_faults);
	tcase_add_test(lm, read_only_page_with_wp_refuses_writes);
	tcase_add_test(lm, read_only_page_without_wp_allows_writes);
	tcase_add_test(lm, read_only_directory_entry_refuses_writes);
	suite_add_tcase(s, lm);

	tcase_add_checked_fixture(p32, mem_setup, mem_teardown);
	tcase_add_test(p32, pae_4k_and_2m_pages);
	tcase_add_test(p32, pae_missing_pdpte_and_above_4g_fault);
	tcase_add_test(p32, legacy_4k_page);
	tcase_add_test(p32, legacy_4m_page_with_pse);
	tcase_add_test(p32, legacy_ps_bit_ignored_without_pse);
	tcase_add_test(p32, legacy_4m_page_above_4g);
	suite_add_tcase(s, p32);

	tcase_add_checked_fixture(odd, mem_setup, mem_teardown);
	tcase_add_test(odd, table_outside_ram_faults);
	tcase_add_test(odd, frame_outside_ram_faults_on_copy);
	tcase_add_test(odd, copy_spans_scattered_frames);
	tcase_add_test(odd, write_with_read_only_second_page_writes_nothing);
	tcase_add_test(odd, high_ram_only_through_paging);
	suite_add_tcase(s, odd);
	return s;
}

int main(void)
{
	return run_suite(guest_access_suite());
}
