/* Guest physical memory: memfd-backed RAM split around the 32-bit MMIO hole,
 * plus single frames the VMM backs or replaces later (shared_info, grant
 * frames) in holes or over RAM. */
#ifndef XENKVM_GUEST_MEM_H
#define XENKVM_GUEST_MEM_H

#include <stddef.h>
#include <stdint.h>

#define GUEST_PAGE_SIZE 4096ULL
#define GUEST_PAGE_SHIFT 12

/* RAM lives below LOW_RAM_LIMIT and, for what does not fit, from 4 GiB up. */
#define LOW_RAM_LIMIT 0xC0000000ULL
#define HIGH_RAM_BASE 0x100000000ULL
/* Legacy VGA/BIOS area, reported reserved in the E820 map (ACPI tables live here). */
#define LEGACY_HOLE_START 0xA0000ULL
#define LEGACY_HOLE_END 0x100000ULL

/* Frames the VMM backs for the guest (console and XenStore rings), reported
 * reserved in the E820 map: where Xen's toolstack puts them. */
#define SPECIAL_PAGES_START 0xfeff8000ULL
#define SPECIAL_PAGES_END 0xff000000ULL

#define GMEM_MAX_REGIONS 256
#define GMEM_MIN_RAM (2ULL << 20)
#define GMEM_MAX_RAM (1ULL << 40)

struct gmem_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *hva;
	uint64_t memfd_off; /* where the region's bytes live in the memfd */
	uint32_t slot;      /* KVM memslot id */
	int is_ram;         /* part of the guest's RAM (vs a frame backed later) */
};

struct guest_mem {
	int memfd;
	uint64_t ram_size; /* total RAM bytes */
	uint64_t low_ram;  /* RAM at [0, low_ram) */
	uint64_t high_ram; /* RAM at [HIGH_RAM_BASE, HIGH_RAM_BASE + high_ram) */
	uint64_t memfd_size;
	struct gmem_region regions[GMEM_MAX_REGIONS];
	int nregions;
	/* Per RAM frame (index: low RAM, then high RAM), updated atomically:
	 * given back to the host (its memfd page is a hole), and shown over by
	 * a VMM frame (gmem_map_page). */
	uint64_t *given_back, *overlaid;
	uint64_t ram_frames_given_back;
	uint64_t max_gfn; /* the highest frame ever shown to the guest */
	/* Called when a region is added so the owner can register it with KVM. */
	int (*map_region)(void *opaque, const struct gmem_region *r);
	void *opaque;
};

/* Create RAM of ram_size bytes (page multiple, GMEM_MIN_RAM..GMEM_MAX_RAM).
 * map_region may be NULL (unit tests); otherwise it is called per region. */
int gmem_init(struct guest_mem *m, uint64_t ram_size,
	      int (*map_region)(void *, const struct gmem_region *), void *opaque);
void gmem_destroy(struct guest_mem *m);

/* Host pointer for [gpa, gpa+len) when the range lies inside one region, else NULL. */
void *gmem_ptr(struct guest_mem *m, uint64_t gpa, uint64_t len);

/* Is [gpa, gpa+len) guest RAM (not a hole)? */
int gmem_is_ram(const struct guest_mem *m, uint64_t gpa, uint64_t len);

/* Allocate one zeroed page of VMM-owned memory in the memfd; returns its
 * memfd offset and host pointer (to be shared with the guest later). */
int gmem_alloc_page(struct guest_mem *m, uint64_t *memfd_off, uint8_t **hva);

/* Make guest frame gfn show the memfd page at memfd_off: over RAM the RAM
 * page is replaced in place; in a hole a one-page region is added. */
int gmem_map_page(struct guest_mem *m, uint64_t gfn, uint64_t memfd_off);

/* Undo gmem_map_page: a RAM frame gets its RAM page back, a hole is a hole again. */
int gmem_unmap_page(struct guest_mem *m, uint64_t gfn);

/* ---- Ballooning: RAM frames the guest gives back and takes again ----
 * A given-back frame's memfd page is punched out (the host gets the memory
 * back); gmem_ptr and gmem_is_ram refuse it, so hypercalls cannot touch it,
 * until gmem_take_frames makes it RAM again. Not locked: the caller
 * serialises changes (reads may race and see either state). */

/* Is gfn a RAM frame (whatever its state)? Sets *idx to its bitmap index. */
int gmem_ram_frame(const struct guest_mem *m, uint64_t gfn, uint64_t *idx);
/* The RAM frame gfn holds guest memory now (not given back). */
int gmem_frame_populated(const struct guest_mem *m, uint64_t gfn);
/* A VMM frame (shared_info, grant frame...) shows at RAM frame gfn. */
int gmem_frame_overlaid(const struct guest_mem *m, uint64_t gfn);
/* Give n RAM frames from gfn back to the host (punch their memfd pages). */
int gmem_give_back_frames(struct guest_mem *m, uint64_t gfn, uint64_t n);
/* Make n RAM frames from gfn guest memory again, zero-filled. */
int gmem_take_frames(struct guest_mem *m, uint64_t gfn, uint64_t n);
/* RAM frames that hold guest memory. */
uint64_t gmem_populated_frames(const struct guest_mem *m);

#endif
