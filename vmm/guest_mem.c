/* Guest physical memory backed by one memfd, so backends (and later
 * migration) can map the same pages; frames added later come from the same
 * memfd past the end of RAM. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "xenkvm/guest_mem.h"

/* The slot of a frame removed earlier, else a new one (GMEM_MAX_REGIONS: none). */
static int free_slot(const struct guest_mem *m)
{
	int i = 0;

	while (i < m->nregions && m->regions[i].size)
		i++;
	return i;
}

static int region_add(struct guest_mem *m, uint64_t gpa, uint64_t size, uint8_t *hva,
		      uint64_t memfd_off, int is_ram)
{
	int i = free_slot(m);

	if (i >= GMEM_MAX_REGIONS)
		return -ENOSPC;
	struct gmem_region r = { .gpa = gpa, .size = size, .hva = hva, .memfd_off = memfd_off,
				 .slot = (uint32_t)i, .is_ram = is_ram };
	if (m->map_region && m->map_region(m->opaque, &r) < 0)
		return -errno;
	/* Lock-free readers (region_find) take a slot whose size they see as
	 * complete: the size is published last. */
	r.size = 0;
	m->regions[i] = r;
	__atomic_store_n(&m->regions[i].size, size, __ATOMIC_RELEASE);
	if (i == m->nregions)
		__atomic_store_n(&m->nregions, i + 1, __ATOMIC_RELEASE);
	if ((gpa + size) / GUEST_PAGE_SIZE - 1 > m->max_gfn)
		m->max_gfn = (gpa + size) / GUEST_PAGE_SIZE - 1;
	return 0;
}

/* ---- per-RAM-frame bits ---- */

static int bit_test(const uint64_t *map, uint64_t i)
{
	return (__atomic_load_n(&map[i / 64], __ATOMIC_ACQUIRE) >> (i % 64)) & 1;
}

static void bit_set(uint64_t *map, uint64_t i, int on)
{
	if (on)
		__atomic_fetch_or(&map[i / 64], 1ULL << (i % 64), __ATOMIC_RELEASE);
	else
		__atomic_fetch_and(&map[i / 64], ~(1ULL << (i % 64)), __ATOMIC_RELEASE);
}

static int alloc_frame_bits(struct guest_mem *m)
{
	size_t words = (m->ram_size / GUEST_PAGE_SIZE + 63) / 64;

	/* calloc'd zero pages cost nothing until a frame changes state. */
	m->given_back = calloc(words, sizeof(uint64_t));
	m->overlaid = calloc(words, sizeof(uint64_t));
	return m->given_back && m->overlaid ? 0 : -ENOMEM;
}

static uint8_t *map_memfd(struct guest_mem *m, uint64_t off, uint64_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE,
		       m->memfd, (off_t)off);
	return p == MAP_FAILED ? NULL : p;
}

static int grow_memfd(struct guest_mem *m, uint64_t new_size)
{
	if (ftruncate(m->memfd, (off_t)new_size) < 0)
		return -errno;
	m->memfd_size = new_size;
	return 0;
}

int gmem_init(struct guest_mem *m, uint64_t ram_size,
	      int (*map_region)(void *, const struct gmem_region *), void *opaque)
{
	uint8_t *hva;
	int rc;

	memset(m, 0, sizeof(*m));
	m->memfd = -1;
	if (ram_size < GMEM_MIN_RAM || ram_size > GMEM_MAX_RAM || ram_size % GUEST_PAGE_SIZE)
		return -EINVAL;
	m->map_region = map_region;
	m->opaque = opaque;
	m->ram_size = ram_size;
	m->low_ram = ram_size < LOW_RAM_LIMIT ? ram_size : LOW_RAM_LIMIT;
	m->high_ram = ram_size - m->low_ram;
	rc = alloc_frame_bits(m);
	if (rc < 0)
		goto fail;
	m->memfd = memfd_create("xenkvm-ram", MFD_CLOEXEC);
	if (m->memfd < 0) {
		rc = -errno;
		goto fail;
	}
	rc = grow_memfd(m, ram_size);
	if (rc < 0)
		goto fail;
	/* One mapping for all RAM keeps low and high RAM contiguous on the host. */
	hva = map_memfd(m, 0, ram_size);
	if (!hva) {
		rc = -errno;
		goto fail;
	}
	rc = region_add(m, 0, m->low_ram, hva, 0, 1);
	if (rc == 0 && m->high_ram)
		rc = region_add(m, HIGH_RAM_BASE, m->high_ram, hva + m->low_ram, m->low_ram, 1);
	if (rc < 0) {
		munmap(hva, ram_size);
		goto fail;
	}
	return 0;
fail:
	if (m->memfd >= 0)
		close(m->memfd);
	m->memfd = -1;
	m->nregions = 0;
	free(m->given_back);
	free(m->overlaid);
	m->given_back = m->overlaid = NULL;
	return rc;
}

void gmem_destroy(struct guest_mem *m)
{
	for (int i = 0; i < m->nregions; i++) {
		struct gmem_region *r = &m->regions[i];
		/* RAM regions share one mapping, which the first one owns; a
		 * removed frame's slot still holds its reserved page. */
		if (r->size && (!r->is_ram || r->gpa == 0))
			munmap(r->hva, r->is_ram ? m->ram_size : r->size);
		else if (!r->size && r->hva)
			munmap(r->hva, GUEST_PAGE_SIZE);
	}
	m->nregions = 0;
	if (m->memfd >= 0)
		close(m->memfd);
	m->memfd = -1;
	free(m->given_back);
	free(m->overlaid);
	m->given_back = m->overlaid = NULL;
}

static struct gmem_region *region_find(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	int n = __atomic_load_n(&m->nregions, __ATOMIC_ACQUIRE);

	if (len == 0 || gpa + len < gpa)
		return NULL;
	for (int i = 0; i < n; i++) {
		const struct gmem_region *r = &m->regions[i];
		uint64_t size = __atomic_load_n(&r->size, __ATOMIC_ACQUIRE);
		if (size && gpa >= r->gpa && gpa - r->gpa < size && len <= size - (gpa - r->gpa))
			return (struct gmem_region *)r;
	}
	return NULL;
}

/* Does [gpa, gpa+len) of a RAM region include a frame given back (and not
 * shown over by a VMM frame)? Such a frame has no memory under Xen. */
static int range_has_hole(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	if (!m->ram_frames_given_back)
		return 0;
	for (uint64_t gfn = gpa >> GUEST_PAGE_SHIFT; gfn <= (gpa + len - 1) >> GUEST_PAGE_SHIFT;
	     gfn++) {
		uint64_t i;
		if (gmem_ram_frame(m, gfn, &i) && bit_test(m->given_back, i) &&
		    !bit_test(m->overlaid, i))
			return 1;
	}
	return 0;
}

void *gmem_ptr(struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	struct gmem_region *r = region_find(m, gpa, len);

	if (!r || (r->is_ram && range_has_hole(m, gpa, len)))
		return NULL;
	return r->hva + (gpa - r->gpa);
}

int gmem_is_ram(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	struct gmem_region *r = region_find(m, gpa, len);
	return r && r->is_ram && !range_has_hole(m, gpa, len);
}

int gmem_alloc_page(struct guest_mem *m, uint64_t *memfd_off, uint8_t **hva)
{
	uint64_t off = m->memfd_size;
	int rc = grow_memfd(m, off + GUEST_PAGE_SIZE);

	if (rc < 0)
		return rc;
	*hva = map_memfd(m, off, GUEST_PAGE_SIZE);
	if (!*hva)
		return -errno;
	*memfd_off = off;
	return 0;
}

/* ---- frames in holes ----
 * A frame's host page is never munmapped while the VM runs: a vCPU thread
 * or a backend may be copying through a pointer gmem_ptr gave it just
 * before the frame went, without a lock (guest accesses take none). A
 * removed frame's page is swapped, in one mmap(MAP_FIXED), for an
 * anonymous zero page, so such a copy reads zeros (or writes into nothing)
 * instead of faulting. The address stays reserved in the region's slot and
 * the next frame to take the slot is mapped over it, so the reservations
 * are bounded by GMEM_MAX_REGIONS pages; gmem_destroy unmaps them. */

static void retire_page(uint8_t *hva)
{
	/* Should this fail (no memory for the mapping), the old page simply
	 * stays: a late copy then sees the frame's last contents. */
	(void)mmap(hva, GUEST_PAGE_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
}

/* The memfd page at off, at the address the free slot reserved if any
 * (*reserved says so: that address is retired again, never unmapped). */
static uint8_t *map_frame(struct guest_mem *m, uint64_t off, int *reserved)
{
	int i = free_slot(m);
	void *p;

	*reserved = i < m->nregions && m->regions[i].hva;
	if (!*reserved)
		return map_memfd(m, off, GUEST_PAGE_SIZE);
	p = mmap(m->regions[i].hva, GUEST_PAGE_SIZE, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED, m->memfd, (off_t)off);
	return p == MAP_FAILED ? NULL : p;
}

int gmem_map_page(struct guest_mem *m, uint64_t gfn, uint64_t memfd_off)
{
	uint64_t gpa = gfn << GUEST_PAGE_SHIFT;
	struct gmem_region *r;
	uint8_t *hva;
	int reserved;

	if (gfn >> (64 - GUEST_PAGE_SHIFT))
		return -EINVAL;
	r = region_find(m, gpa, GUEST_PAGE_SIZE);
	if (r) {
		/* Replace the frame under KVM's feet: its MMU notifier drops the old page. */
		void *p = mmap(r->hva + (gpa - r->gpa), GUEST_PAGE_SIZE, PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_FIXED, m->memfd, (off_t)memfd_off);
		uint64_t i = 0;
		if (p == MAP_FAILED)
			return -errno;
		if (gmem_ram_frame(m, gfn, &i))
			bit_set(m->overlaid, i, 1);
		return 0;
	}
	hva = map_frame(m, memfd_off, &reserved);
	if (!hva)
		return -errno;
	int rc = region_add(m, gpa, GUEST_PAGE_SIZE, hva, memfd_off, 0);
	if (rc < 0 && reserved)
		retire_page(hva);
	else if (rc < 0)
		munmap(hva, GUEST_PAGE_SIZE);
	return rc;
}

int gmem_unmap_page(struct guest_mem *m, uint64_t gfn)
{
	uint64_t gpa = gfn << GUEST_PAGE_SHIFT;
	struct gmem_region *r = region_find(m, gpa, GUEST_PAGE_SIZE);
	struct gmem_region gone;

	if (!r)
		return -ENOENT;
	if (r->is_ram) {
		/* Give the frame its own RAM page back. */
		uint64_t off = r->memfd_off + (gpa - r->gpa), i = 0;
		void *p = mmap(r->hva + (gpa - r->gpa), GUEST_PAGE_SIZE, PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_FIXED, m->memfd, (off_t)off);
		if (p == MAP_FAILED)
			return -errno;
		if (gmem_ram_frame(m, gfn, &i))
			bit_set(m->overlaid, i, 0);
		return 0;
	}
	/* A frame in a hole: KVM deletes a memslot registered with size 0. */
	gone = *r;
	gone.size = 0;
	if (m->map_region && m->map_region(m->opaque, &gone) < 0)
		return -errno;
	__atomic_store_n(&r->size, 0, __ATOMIC_RELEASE);
	retire_page(r->hva);
	return 0;
}

/* ---- ballooning ---- */

int gmem_ram_frame(const struct guest_mem *m, uint64_t gfn, uint64_t *idx)
{
	uint64_t low = m->low_ram / GUEST_PAGE_SIZE, high_base = HIGH_RAM_BASE / GUEST_PAGE_SIZE;

	if (gfn < low) {
		*idx = gfn;
		return 1;
	}
	if (gfn >= high_base && gfn - high_base < m->high_ram / GUEST_PAGE_SIZE) {
		*idx = low + (gfn - high_base);
		return 1;
	}
	return 0;
}

int gmem_frame_populated(const struct guest_mem *m, uint64_t gfn)
{
	uint64_t i;
	return gmem_ram_frame(m, gfn, &i) && !bit_test(m->given_back, i);
}

int gmem_frame_overlaid(const struct guest_mem *m, uint64_t gfn)
{
	uint64_t i;
	return gmem_ram_frame(m, gfn, &i) && bit_test(m->overlaid, i);
}

/* Punch the memfd pages of RAM frames [gfn, gfn+n): RAM is laid out in the
 * memfd by frame index, so one fallocate covers each run of indices. */
static int punch_frames(struct guest_mem *m, uint64_t gfn, uint64_t n)
{
	uint64_t run_start = 0, run_len = 0;

	for (uint64_t k = 0; k <= n; k++) {
		uint64_t i = 0;
		int ram = k < n && gmem_ram_frame(m, gfn + k, &i);
		if (k < n && !ram)
			return -EINVAL;
		if (ram && run_len && i == run_start + run_len) {
			run_len++;
			continue;
		}
		if (run_len && fallocate(m->memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					 (off_t)(run_start * GUEST_PAGE_SIZE),
					 (off_t)(run_len * GUEST_PAGE_SIZE)) < 0)
			return -errno;
		run_start = i, run_len = ram;
	}
	return 0;
}

static int frames_are_ram(const struct guest_mem *m, uint64_t gfn, uint64_t n)
{
	uint64_t i;

	if (gfn + n < gfn)
		return 0;
	for (uint64_t k = 0; k < n; k++)
		if (!gmem_ram_frame(m, gfn + k, &i))
			return 0;
	return 1;
}

int gmem_give_back_frames(struct guest_mem *m, uint64_t gfn, uint64_t n)
{
	int rc;

	if (!frames_are_ram(m, gfn, n))
		return -EINVAL;
	/* Mark first, so the hypercall accessors stop using the frames before
	 * their pages go. */
	for (uint64_t k = 0; k < n; k++) {
		uint64_t i = 0;
		gmem_ram_frame(m, gfn + k, &i);
		if (!bit_test(m->given_back, i)) {
			bit_set(m->given_back, i, 1);
			m->ram_frames_given_back++;
		}
	}
	rc = punch_frames(m, gfn, n);
	return rc;
}

int gmem_take_frames(struct guest_mem *m, uint64_t gfn, uint64_t n)
{
	int rc;

	if (!frames_are_ram(m, gfn, n))
		return -EINVAL;
	/* A frame that still holds memory gets a fresh zeroed page, as an
	 * allocation would give. */
	rc = punch_frames(m, gfn, n);
	if (rc < 0)
		return rc;
	for (uint64_t k = 0; k < n; k++) {
		uint64_t i = 0;
		gmem_ram_frame(m, gfn + k, &i);
		if (bit_test(m->given_back, i)) {
			bit_set(m->given_back, i, 0);
			m->ram_frames_given_back--;
		}
	}
	return 0;
}

uint64_t gmem_populated_frames(const struct guest_mem *m)
{
	return m->ram_size / GUEST_PAGE_SIZE - m->ram_frames_given_back;
}
