/*
 * Kit extension for PV frontends: a XenStore client over the guest's ring,
 * v1 grant entries in a grant table the guest maps itself, and the event
 * channel calls a frontend needs. 32- and 64-bit, no interrupts: every
 * wait is a SCHEDOP_yield loop (as GRUB does), so 32-bit guests can use it.
 *
 * Typical frontend set-up:
 *   xb_init();                          // store ring + grant table
 *   xb_read("device/vbd/51712/backend", be, sizeof(be));
 *   ref = xb_grant_page(ring, 0, 0);    // share a page with domain 0
 *   xb_evtchn_alloc_unbound(0, &port);
 *   xb_printf("device/vbd/51712/ring-ref", "%u", ref);
 *   xb_switch_state("device/vbd/51712", XenbusStateInitialised);
 *   xb_wait_state(be, XenbusStateConnected, XB_WAIT_DEFAULT);
 *
 * Errors are negative Xen errno values (-XEN_ENOENT, ...).
 */
#ifndef GUEST_KIT_XENBUS_H
#define GUEST_KIT_XENBUS_H

#include "kit.h"
#include <xen/grant_table.h>
#include <xen/event_channel.h>
#include <xen/io/xenbus.h>

/* Yields a wait may take before giving up (~10-30 s on the PVM host). */
#define XB_WAIT_DEFAULT 1000000ul

/* ---- scheduling and event channels ------------------------------------ */

/* SCHEDOP_yield: lets the VMM's backends run while we poll. */
void xb_yield(void);
long xb_evtchn_alloc_unbound(domid_t remote, evtchn_port_t *port);
long xb_evtchn_send(evtchn_port_t port);
long xb_evtchn_close(evtchn_port_t port);
/* Full memory barrier (a locked add: mfence is SSE2, not emulated at CPL0). */
static inline void xb_mb(void)
{
#ifdef __x86_64__
    __asm__ volatile("lock; addl $0, (%%rsp)" ::: "memory", "cc");
#else
    __asm__ volatile("lock; addl $0, (%%esp)" ::: "memory", "cc");
#endif
}
static inline void xb_barrier(void) { __asm__ volatile("" ::: "memory"); }

/* ---- grant table (v1) ----------------------------------------------------- */

/* Map nr_frames grant frames (1..16) into the first hole of the memory map
 * with XENMEM_add_to_physmap(XENMAPSPACE_grant_table). 0 or -errno. */
long xb_gnttab_init(unsigned int nr_frames);
/* The mapped v1 entries (NULL before xb_gnttab_init) and how many. */
extern volatile grant_entry_v1_t *xb_grant_entries;
unsigned int xb_grant_nr_entries(void);
/* Grant page (4 KiB aligned) to domain dom: a free ref above the reserved
 * entries, or 0 when the table is full. */
grant_ref_t xb_grant_page(const void *page, domid_t dom, int readonly);
/* Take the grant back (clears its flags) and free the ref. -XEN_EBUSY while
 * the backend still has it mapped (GTF_reading/GTF_writing set). */
long xb_grant_end(grant_ref_t ref);

/* ---- XenStore ------------------------------------------------------------- */

/* HVM_PARAM_STORE_PFN/EVTCHN, and the grant table with one frame when
 * xb_gnttab_init was not called yet. 0 or -errno. */
long xb_init(void);
/* Paths are absolute or relative to /local/domain/<self>. */
/* The value into buf (NUL-terminated, cut to len-1): its length, or -errno. */
long xb_read(const char *path, char *buf, size_t len);
long xb_write(const char *path, const char *value);
long xb_printf(const char *path, const char *fmt, ...) KIT_PRINTF(2, 3);
long xb_rm(const char *path);
/* Children names, each NUL-terminated, back to back: bytes used, or -errno. */
long xb_directory(const char *path, char *buf, size_t len);
/* The value as an unsigned decimal number, or def if absent or malformed. */
unsigned long xb_read_ulong(const char *path, unsigned long def);

/* XenBus states: <dir>/state (XenbusStateUnknown when absent). */
int xb_state(const char *dir);
long xb_switch_state(const char *dir, int state);
/* Poll <dir>/state until it is `state` (or, for xb_wait_state_not, until
 * it is something else); at most max_yields yields between reads. The state
 * seen last, so the caller checks it. */
int xb_wait_state(const char *dir, int state, unsigned long max_yields);
int xb_wait_state_not(const char *dir, int state, unsigned long max_yields);

#endif
