/* Guest-virtual accesses on behalf of a hypercall: walk the guest's own page
 * tables (no ioctl: the paging registers come with the exit) and copy page by
 * page through guest_mem, so nothing outside the guest's memory is touched. */
#include <string.h>

#include "xenkvm/guest_mem.h"
#include "xenkvm/hypercall.h"

#define CR0_PG (1ULL << 31)
#define CR0_WP (1ULL << 16)
#define CR4_PSE (1ULL << 4)
#define CR4_PAE (1ULL << 5)
#define CR4_LA57 (1ULL << 12)
#define EFER_LMA (1ULL << 10)

#define PTE_P 1ULL
#define PTE_RW 2ULL
#define PTE_PS 0x80ULL
#define PTE_ADDR 0x000ffffffffff000ULL

static int read_pte(struct guest_mem *m, uint64_t gpa, int wide, uint64_t *pte)
{
	void *p = gmem_ptr(m, gpa, wide ? 8 : 4);

	if (!p)
		return -1;
	if (wide)
		memcpy(pte, p, 8);
	else {
		uint32_t v;
		memcpy(&v, p, 4);
		*pte = v;
	}
	return 0;
}

static int is_canonical(uint64_t va, unsigned bits)
{
	int64_t s = (int64_t)(va << (64 - bits)) >> (64 - bits);
	return (uint64_t)s == va;
}

/* A walk of `levels` levels, 9 bits each (4 KiB tables of 8-byte entries),
 * or the legacy 2-level walk of 4-byte entries with 10 bits each. */
static int walk(struct guest_mem *m, uint64_t table, uint64_t gva, int levels, int wide,
		int large_ok, int write_check, uint64_t *gpa)
{
	unsigned bits = wide ? 9 : 10;
	unsigned shift = 12 + bits * (unsigned)(levels - 1);

	for (int level = levels; level >= 1; level--, shift -= bits) {
		uint64_t idx = (gva >> shift) & ((1ULL << bits) - 1);
		uint64_t pte;

		if (read_pte(m, table + idx * (wide ? 8 : 4), wide, &pte) < 0 || !(pte & PTE_P))
			return -1;
		if (write_check && !(pte & PTE_RW))
			return -1;
		/* Large pages: 1 GiB / 2 MiB with 8-byte entries, 4 MiB with 4-byte ones. */
		if (large_ok && level > 1 && level <= 3 && (pte & PTE_PS)) {
			uint64_t mask = (1ULL << shift) - 1;
			uint64_t base = wide ? (pte & PTE_ADDR & ~mask)
					     : ((pte & 0xffc00000ULL) | ((pte >> 13 & 0xff) << 32));
			*gpa = base | (gva & mask);
			return 0;
		}
		table = wide ? (pte & PTE_ADDR) : (pte & 0xfffff000ULL);
	}
	*gpa = table | (gva & 0xfff);
	return 0;
}

int guest_translate(struct guest_mem *m, const struct guest_paging *pg, uint64_t gva,
		    int write, uint64_t *gpa)
{
	int write_check = write && (pg->cr0 & CR0_WP);

	if (!(pg->cr0 & CR0_PG)) {
		if (gva >> 32)
			return -XEN_EFAULT;
		*gpa = gva;
		return 0;
	}
	if (pg->efer & EFER_LMA) {
		int levels = (pg->cr4 & CR4_LA57) ? 5 : 4;
		if (!is_canonical(gva, levels == 5 ? 57 : 48))
			return -XEN_EFAULT;
		return walk(m, pg->cr3 & PTE_ADDR, gva, levels, 1, 1, write_check, gpa) ? -XEN_EFAULT
										       : 0;
	}
	if (gva >> 32)
		return -XEN_EFAULT;
	if (pg->cr4 & CR4_PAE) {
		/* The 4-entry PDPT, then a 2-level walk of 8-byte entries. */
		uint64_t pdpte;
		if (read_pte(m, (pg->cr3 & 0xffffffe0ULL) + ((gva >> 30) & 3) * 8, 1, &pdpte) < 0 ||
		    !(pdpte & PTE_P))
			return -XEN_EFAULT;
		return walk(m, pdpte & PTE_ADDR, gva, 2, 1, 1, write_check, gpa) ? -XEN_EFAULT : 0;
	}
	return walk(m, pg->cr3 & 0xfffff000ULL, gva, 2, 0, !!(pg->cr4 & CR4_PSE), write_check, gpa)
		       ? -XEN_EFAULT
		       : 0;
}

/* Visit [gva, gva+len) one guest page at a time. */
static int guest_span(struct hcall *hc, uint64_t gva, size_t len, int write,
		      void (*fn)(void *host, size_t off, size_t n, void *ctx), void *ctx)
{
	size_t done = 0;

	if (!hc->abi64 && (gva > 0xffffffffULL || len > 0x100000000ULL - gva))
		return -XEN_EFAULT;
	if (gva + len < gva)
		return -XEN_EFAULT;
	while (done < len) {
		uint64_t va = gva + done, gpa;
		size_t n = GUEST_PAGE_SIZE - (va & (GUEST_PAGE_SIZE - 1));
		void *host;

		if (n > len - done)
			n = len - done;
		if (guest_translate(hc->mem, &hc->pg, va, write, &gpa) < 0)
			return -XEN_EFAULT;
		host = gmem_ptr(hc->mem, gpa, n);
		if (!host)
			return -XEN_EFAULT;
		fn(host, done, n, ctx);
		done += n;
	}
	return 0;
}

static void copy_in(void *host, size_t off, size_t n, void *ctx)
{
	memcpy((uint8_t *)ctx + off, host, n);
}

static void check_only(void *host, size_t off, size_t n, void *ctx)
{
	(void)host, (void)off, (void)n, (void)ctx;
}

static void copy_out(void *host, size_t off, size_t n, void *ctx)
{
	memcpy(host, (const uint8_t *)ctx + off, n);
}

int copy_from_guest(struct hcall *hc, void *dst, uint64_t gva, size_t len)
{
	return guest_span(hc, gva, len, 0, copy_in, dst);
}

int copy_to_guest(struct hcall *hc, uint64_t gva, const void *src, size_t len)
{
	/* Check the whole range first so a fault leaves the guest untouched. */
	int rc = guest_span(hc, gva, len, 1, check_only, NULL);
	return rc ? rc : guest_span(hc, gva, len, 1, copy_out, (void *)src);
}
