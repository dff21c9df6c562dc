/* Grant tables: the guest's table (v1 or v2, grown on demand up to a frame
 * limit, mapped into the guest by XENMAPSPACE_grant_table), the
 * grant_table_op hypercall family, and the API xenkvm's own PV backends
 * (domain 0) use to reach the pages a guest grants them. */
#ifndef XENKVM_GNTTAB_H
#define XENKVM_GNTTAB_H

#include <stddef.h>
#include <stdint.h>

#include <xen/xen.h>
#include <xen/grant_table.h>

/* Xen's gnttab_max_frames default, which libxl's max_grant_frames follows. */
#define GNTTAB_DEFAULT_MAX_FRAMES 64
/* Xen's INITIAL_NR_GRANT_FRAMES on x86: a new table has this many frames. */
#define GNTTAB_INITIAL_FRAMES 1
/* The domain xenkvm's backends act as: the toolstack domain. */
#define GNTTAB_BACKEND_DOMID 0

struct gnttab;
struct guest_mem;

/* A v1 table of GNTTAB_INITIAL_FRAMES frames that may grow to max_frames
 * (1..GNTTAB_DEFAULT_MAX_FRAMES*16), with entries 0 and 1 seeded for the
 * console and XenStore rings as the toolstack does. Returns 0 or -errno. */
int gnttab_create(struct gnttab **out, struct guest_mem *mem, unsigned max_frames,
		  uint64_t console_gfn, uint64_t xenstore_gfn);
void gnttab_destroy(struct gnttab *gt);

/* XENMAPSPACE_grant_table: put shared frame idx (or, under v2, status frame
 * idx & ~XENMAPIDX_grant_table_status) at gfn, growing the table as needed
 * and leaving the frame's previous gfn. Returns 0 or a -XEN_E* code. */
long gnttab_add_to_physmap(struct gnttab *gt, uint64_t idx, uint64_t gfn);

/* What the guest sees, for tests and diagnostics. */
unsigned gnttab_version(struct gnttab *gt);
unsigned gnttab_nr_frames(struct gnttab *gt);

/*
 * Backend access to a grant made to GNTTAB_BACKEND_DOMID. Each returns a
 * GNTST_* code (GNTST_okay is 0). Safe from any thread.
 *
 * map: checks the entry (GTF_permit_access, domid, GTF_readonly against
 * writable, not a sub-page grant), sets GTF_reading (and GTF_writing)
 * with Xen's atomic protocol for v1 and v2, takes a reference and returns
 * a host pointer to the granted page, valid until the matching unmap.
 * Only guest RAM can be mapped (GNTST_bad_page otherwise).
 * unmap: drops that reference; the last one clears the flags.
 */
int gnttab_map_for_backend(struct gnttab *gt, grant_ref_t ref, int writable, void **host_ptr);
int gnttab_unmap_for_backend(struct gnttab *gt, grant_ref_t ref, int writable);
/* Copy len bytes at offset within the granted page (or sub-page) to the
 * guest (to_guest) or from it; GNTST_bad_copy_arg past the page. */
int gnttab_copy_for_backend(struct gnttab *gt, grant_ref_t ref, unsigned offset, void *buf,
			    size_t len, int to_guest);

#endif
