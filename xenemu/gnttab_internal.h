/* Grant-table state shared by the hypercall family (gnttab.c) and the table
 * core with the backend API (gnttab_backend.c). Not for other users. */
#ifndef XENKVM_GNTTAB_INTERNAL_H
#define XENKVM_GNTTAB_INTERNAL_H

#include <pthread.h>
#include <stdint.h>

#include "xenkvm/gnttab.h"

#define GT_PAGE 4096u
#define GT_V1_PER_FRAME (GT_PAGE / sizeof(grant_entry_v1_t))
#define GT_V2_PER_FRAME (GT_PAGE / sizeof(grant_entry_v2_t))
#define GT_STATUS_PER_FRAME (GT_PAGE / sizeof(grant_status_t))
#define GT_NO_GFN (~0ULL)
/* Handles for the guest's own grant mappings (Xen's maptrack). */
#define GT_MAPTRACK_MAX 1024

/* Pin counts as Xen keeps them: host-writable, host-read-only. */
#define GT_PIN_W 0x1u
#define GT_PIN_R 0x100u
#define GT_PIN_W_MASK 0xffu
#define GT_PIN_OVERFLOW 0x80808080u

struct gt_frame {
	uint8_t *hva;       /* the VMM's mapping of the frame */
	uint64_t memfd_off; /* where guest_mem can map it */
	uint64_t gfn;       /* where the guest sees it, or GT_NO_GFN */
};

/* Xen's active entry: who holds an entry pinned and what it resolved to. */
struct gt_active {
	uint32_t pin;
	domid_t domid;
	uint16_t start, length; /* the granted part of the page */
	uint8_t is_sub_page;
	uint64_t gfn;
};

/* A grant the guest mapped into its own physical address space. */
struct gt_maptrack {
	uint32_t ref;
	uint32_t flags; /* GNTMAP_*; 0 when the handle is free */
	uint64_t gfn;   /* where it is mapped */
};

struct gnttab {
	pthread_mutex_t lock; /* everything below; entry flags are atomics */
	struct guest_mem *mem;
	unsigned version;
	unsigned max_frames, nr_frames;
	unsigned max_status, nr_status, status_allocated;
	struct gt_frame *shared; /* max_frames */
	struct gt_frame *status; /* max_status: kept across version switches */
	struct gt_active *active; /* max_frames * GT_V1_PER_FRAME */
	struct gt_maptrack maptrack[GT_MAPTRACK_MAX];
};

/* All of these expect gt->lock held. */
unsigned gt_nr_entries(const struct gnttab *gt);
unsigned gt_status_frames_for(unsigned grant_frames);
int gt_grow(struct gnttab *gt, unsigned nr_frames);
/* The 32-bit flags+domid word of an entry, and the word carrying its
 * GTF_reading/GTF_writing (the flags under v1, the status entry under v2). */
uint32_t *gt_header(struct gnttab *gt, grant_ref_t ref);
uint16_t *gt_status_word(struct gnttab *gt, grant_ref_t ref);
void *gt_entry(struct gnttab *gt, grant_ref_t ref);
/* Pin ref for ldom (Xen's acquire_grant_for_copy / the pin of
 * map_grant_ref when mapping); returns a GNTST_* code. */
int gt_acquire(struct gnttab *gt, grant_ref_t ref, domid_t ldom, int readonly, int mapping);
void gt_release(struct gnttab *gt, grant_ref_t ref, int readonly);
/* Host pointer to a guest frame, or NULL when nothing is there. */
uint8_t *gt_frame_ptr(struct gnttab *gt, uint64_t gfn);
/* GNTST_okay when domain 0's (empty) table would answer ref as a
 * non-granted entry: refs past its one frame are GNTST_bad_gntref. */
int gt_dom0_ref_status(grant_ref_t ref);

#endif
