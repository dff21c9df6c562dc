/* What a PV backend inside xenkvm is given: the Xen personality (event
 * channels: evtchn.h; grant tables: xen->gnttab, gnttab.h), the guest's
 * XenStore (xenstore.h) and the event loop its I/O runs on (evloop.h). */
#ifndef XENKVM_PVDEV_H
#define XENKVM_PVDEV_H

struct xen;
struct xenstore;
struct evloop;

struct pv_backend_ctx {
	struct xen *xen;
	struct xenstore *xs;
	struct evloop *loop;
	unsigned frontend_domid; /* the guest (1); backends act as domain 0 */
};

#define PV_MAX_DISKS 16
#define PV_MAX_NICS 8

#endif
