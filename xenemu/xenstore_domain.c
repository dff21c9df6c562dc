/* The tree a Xen toolstack (libxl) writes for a new PVH domain, and the
 * XenBus state helpers backends use. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <xen/io/xenbus.h>

#include "xenstore_impl.h"

/* libxl's console ring size limit, LIBXL_XENCONSOLE_LIMIT. */
#define CONSOLE_LIMIT "1048576"

struct populate {
	struct xenstore *xs;
	const struct xs_domain_info *info;
	char dom[32];     /* /local/domain/<id> */
	char vm[64];      /* /vm/<uuid> */
	char ro[32], rw[32]; /* libxl's roperm "n0 r<id>" and rwperm "n<id>" */
	int err;
};

/* Write base/rel = value (printf-style), keeping the first error. */
static void __attribute__((format(printf, 4, 5)))
put(struct populate *p, const char *base, const char *rel, const char *fmt, ...)
{
	char path[256], value[256];
	va_list ap;

	if (p->err)
		return;
	va_start(ap, fmt);
	vsnprintf(value, sizeof(value), fmt, ap);
	va_end(ap);
	snprintf(path, sizeof(path), "%s%s%s", base, rel[0] ? "/" : "", rel);
	p->err = xs_write(p->xs, path, value);
}

/* libxl__xs_mknod: an empty node with explicit permissions. */
static void mknod(struct populate *p, const char *base, const char *rel, const char *perms)
{
	char path[256];

	if (p->err)
		return;
	snprintf(path, sizeof(path), "%s%s%s", base, rel[0] ? "/" : "", rel);
	p->err = xs_write_with_perms(p->xs, path, "", perms);
}

/* libxl__domain_make. */
static void domain_make(struct populate *p)
{
	static const char *const rw_nodes[] = {
		"control/shutdown", "control/feature-poweroff", "control/feature-reboot",
		"control/feature-suspend", "control/sysrq", "data", "drivers", "feature",
		"attr", "error",
	};
	char libxl[32];

	snprintf(libxl, sizeof(libxl), "/libxl/%u", p->info->domid);
	mknod(p, p->dom, "", p->ro);
	mknod(p, p->vm, "", p->ro);
	mknod(p, libxl, "", "n0");
	put(p, libxl, "type", "pvh");
	put(p, p->dom, "vm", "%s", p->vm);
	put(p, p->dom, "name", "%s", p->info->name);
	put(p, p->dom, "control/platform-feature-multiprocessor-suspend", "1");
	put(p, p->dom, "control/platform-feature-xs_reset_watches", "1");
	mknod(p, p->dom, "device", p->ro);
	mknod(p, p->dom, "control", p->ro);
	for (size_t i = 0; i < sizeof(rw_nodes) / sizeof(rw_nodes[0]); i++)
		mknod(p, p->dom, rw_nodes[i], p->rw);
	put(p, p->vm, "uuid", "%s", p->info->uuid);
	put(p, p->vm, "name", "%s", p->info->name);
}

/* libxl__build_post. */
static void build_post(struct populate *p)
{
	const struct xs_domain_info *i = p->info;
	char rel[32];

	put(p, p->dom, "memory/static-max", "%llu", (unsigned long long)i->max_kib);
	put(p, p->dom, "memory/target", "%llu", (unsigned long long)i->target_kib);
	put(p, p->dom, "domid", "%u", i->domid);
	put(p, p->dom, "store/port", "%u", i->store_port);
	put(p, p->dom, "store/ring-ref", "%llu", (unsigned long long)i->store_gfn);
	for (unsigned v = 0; v < i->vcpus; v++) {
		snprintf(rel, sizeof(rel), "cpu/%u/availability", v);
		put(p, p->dom, rel, "online");
	}
}

/* The primary console (libxl__device_console_add, xenconsoled backend):
 * frontend at /local/domain/<id>/console, owned by the guest and readable
 * by the backend; backend owned by dom0 and readable by the guest. */
static void console(struct populate *p)
{
	const struct xs_domain_info *i = p->info;
	char front[64], back[96], fperm[32];

	snprintf(front, sizeof(front), "%s/console", p->dom);
	snprintf(back, sizeof(back), "/local/domain/0/backend/console/%u/0", i->domid);
	snprintf(fperm, sizeof(fperm), "n%u r0", i->domid);
	mknod(p, back, "", p->ro);
	put(p, back, "frontend", "%s", front);
	put(p, back, "frontend-id", "%u", i->domid);
	put(p, back, "online", "1");
	put(p, back, "state", "%d", XenbusStateInitialising);
	put(p, back, "protocol", "vt100");
	mknod(p, front, "", fperm);
	put(p, front, "backend", "%s", back);
	put(p, front, "backend-id", "0");
	put(p, front, "limit", CONSOLE_LIMIT);
	put(p, front, "type", "xenconsoled");
	put(p, front, "output", "pty");
	put(p, front, "port", "%u", i->console_port);
	put(p, front, "ring-ref", "%llu", (unsigned long long)i->console_gfn);
}

int xs_populate_domain(struct xenstore *xs, const struct xs_domain_info *info)
{
	struct populate p = { .xs = xs, .info = info };

	if (!info->name || !info->uuid || info->domid == 0 || info->domid > 0x7fef)
		return EINVAL;
	snprintf(p.dom, sizeof(p.dom), XS_IMPLICIT_FMT, info->domid);
	snprintf(p.vm, sizeof(p.vm), "/vm/%s", info->uuid);
	snprintf(p.ro, sizeof(p.ro), "n0 r%u", info->domid);
	snprintf(p.rw, sizeof(p.rw), "n%u", info->domid);
	put(&p, "/local/domain/0", "name", "Domain-0");
	put(&p, "/local/domain/0", "domid", "0");
	domain_make(&p);
	build_post(&p);
	console(&p);
	return p.err;
}

void xs_release_domain(struct xenstore *xs)
{
	pthread_mutex_lock(&xs->lock);
	if (xs->guest_introduced) {
		xs->guest_introduced = 0;
		xs_fire_special(xs, XS_SPECIAL_RELEASE);
		xs_flush_all(xs);
	}
	xs_unlock_and_run_local(xs);
}

int xs_xenbus_state(struct xenstore *xs, const char *dir)
{
	char path[XENSTORE_ABS_PATH_MAX + 1];
	long long v;

	if ((size_t)snprintf(path, sizeof(path), "%s/state", dir) >= sizeof(path))
		return XenbusStateUnknown;
	v = xs_read_int(xs, path, XenbusStateUnknown);
	return v >= XenbusStateUnknown && v <= XenbusStateReconfigured ? (int)v
								       : XenbusStateUnknown;
}

int xs_xenbus_switch_state(struct xenstore *xs, const char *dir, int state)
{
	char path[XENSTORE_ABS_PATH_MAX + 1], value[16];

	if ((size_t)snprintf(path, sizeof(path), "%s/state", dir) >= sizeof(path))
		return EINVAL;
	/* As xenbus_switch_state: no write (and no event) when unchanged. */
	if (xs_xenbus_state(xs, dir) == state)
		return 0;
	snprintf(value, sizeof(value), "%d", state);
	return xs_write(xs, path, value);
}
