/* XenStore inside xenkvm: the store, its clients (the guest's shared ring,
 * host Unix-socket clients, in-process backends) and the tree a toolstack
 * writes for the guest. Wire protocol: <xen/io/xs_wire.h>; semantics follow
 * C xenstored (errors, permissions, quotas, transactions, watches).
 *
 * Threading: every function here may be called from any thread; the engine
 * serialises them with one lock. Callbacks given to the engine (ring notify,
 * connection flush) run with that lock held and must not call back in;
 * in-process watch callbacks (xs_watch_local) run after it is released. */
#ifndef XENKVM_XENSTORE_H
#define XENKVM_XENSTORE_H

#include <stddef.h>
#include <stdint.h>

struct xenstore;
struct xs_conn;
struct evloop;

/* Limits for unprivileged clients (domid != 0), as xenstored's -E -S -W -t
 * -A -Q options; dom0 is not limited except by the wire protocol. */
struct xs_quota {
	unsigned nodes_per_domain; /* nodes a domain may own (ENOSPC) */
	unsigned node_size;        /* bytes of a node record: value, children, perms (ENOSPC) */
	unsigned path_len;         /* path length below /local/domain/<id>/ (EINVAL) */
	unsigned watches;          /* watches per connection (E2BIG) */
	unsigned transactions;     /* open transactions per connection (ENOSPC) */
	unsigned perms_per_node;   /* entries in a SET_PERMS (ENOSPC) */
	unsigned outstanding;      /* replies not yet taken before input stalls */
	unsigned txn_nodes;        /* nodes one transaction may touch (ENOSPC) */
	unsigned queued_events;    /* watch events queued per connection; more are dropped */
};

/* xenstored's defaults: 1000 nodes, 2048-byte nodes, 2048-byte relative
 * paths, 128 watches, 10 transactions, 5 perms, 20 outstanding, 1024 nodes
 * per transaction; 1024 queued events. */
void xs_quota_defaults(struct xs_quota *q);

/* A store with the root node, /local/domain, and the special watch nodes.
 * guest_domid is the domain the ring belongs to; q NULL means defaults. */
struct xenstore *xs_create(unsigned guest_domid, const struct xs_quota *q);
/* Closes every connection (and the socket, unlinking its path). */
void xs_destroy(struct xenstore *xs);

/* ---- The toolstack's and backends' own access, as dom0 ----
 * Absolute paths. Return 0 or a positive errno (ENOENT, EINVAL, ...). */
int xs_write(struct xenstore *xs, const char *path, const char *value);
int xs_write_bytes(struct xenstore *xs, const char *path, const void *value, size_t len);
int xs_mkdir(struct xenstore *xs, const char *path);
int xs_rm(struct xenstore *xs, const char *path);
/* perms as on the wire: owner first, e.g. "n0 r1" (space-separated). */
int xs_set_perms(struct xenstore *xs, const char *path, const char *perms);
/* A malloc'd copy of the value, NUL-terminated (len excludes the NUL),
 * or NULL with errno set. */
char *xs_read(struct xenstore *xs, const char *path, size_t *len);
/* The value parsed as a decimal integer; def when absent or not a number. */
long long xs_read_int(struct xenstore *xs, const char *path, long long def);
/* Write, creating the node, with the given perms (xs_set_perms syntax). */
int xs_write_with_perms(struct xenstore *xs, const char *path, const char *value,
			const char *perms);

/* In-process watches (backends): fn(path, opaque) runs once when set and
 * after every change of path or below, on the thread that made the change,
 * without the engine lock held. Same matching as guest watches. */
typedef void (*xs_watch_fn)(const char *path, void *opaque);
int xs_watch_local(struct xenstore *xs, const char *path, xs_watch_fn fn, void *opaque);
void xs_unwatch_local(struct xenstore *xs, const char *path, xs_watch_fn fn, void *opaque);

/* ---- XenBus state machine helpers for backends ---- */
/* <dir>/state as an XenbusState; XenbusStateUnknown (0) when absent. */
int xs_xenbus_state(struct xenstore *xs, const char *dir);
int xs_xenbus_switch_state(struct xenstore *xs, const char *dir, int state);

/* ---- The guest's domain ---- */
struct xs_domain_info {
	unsigned domid;
	const char *name;
	const char *uuid;      /* xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx */
	uint64_t target_kib;   /* memory/target */
	uint64_t max_kib;      /* memory/static-max */
	unsigned vcpus;        /* cpu/<n>/availability = online */
	uint64_t store_gfn;
	unsigned store_port;
	uint64_t console_gfn;
	unsigned console_port;
};
/* Write the tree libxl writes for a new PVH domain (paths and permissions
 * of libxl__domain_make / libxl__build_post / the primary console), plus
 * /local/domain/0's minimal entries. Returns 0 or a positive errno. */
int xs_populate_domain(struct xenstore *xs, const struct xs_domain_info *info);
/* @releaseDomain for watchers, and the domain is no longer introduced
 * (call when the guest is gone). */
void xs_release_domain(struct xenstore *xs);

/* ---- The guest's shared ring (struct xenstore_domain_interface) ---- */
typedef void (*xs_notify_fn)(void *opaque);
/* Serve the ring on page (one 4 KiB page the guest shares) for the guest
 * domid; notify(opaque) raises the guest's event channel. Advertises
 * reconnection and the error field, introduces the domain (@introduceDomain).
 * Returns 0 or a positive errno. */
int xs_ring_attach(struct xenstore *xs, void *page, xs_notify_fn notify, void *opaque);
/* The guest signalled its event channel: consume requests, produce
 * replies and events, notify. Call on the thread that runs the loop. */
void xs_ring_kick(struct xenstore *xs);

/* ---- The host socket (privileged clients: xenstore-ls & co) ---- */
/* Listen on the Unix stream socket at path (created mode 0600; an existing
 * socket file is replaced) and serve clients on loop. Returns 0 or -errno. */
int xs_socket_listen(struct xenstore *xs, struct evloop *loop, const char *path);
/* The per-VM default: $XDG_RUNTIME_DIR/xenkvm/<pid>/xenstored, or
 * /run/xenkvm/<pid>/xenstored; the directories are created (0700).
 * Returns 0 or -errno. */
int xs_socket_default_path(char *buf, size_t len);

/* ---- Raw connections (other transports, tests) ----
 * The caller moves bytes: xs_conn_input gives request bytes (at most what
 * xs_conn_input_want says), flush(conn, opaque) is called when output is
 * queued and takes it with xs_conn_output_peek/xs_conn_output_done. */
typedef void (*xs_flush_fn)(struct xs_conn *c, void *opaque);
struct xs_conn *xs_conn_open(struct xenstore *xs, unsigned domid, xs_flush_fn flush,
			     void *opaque);
void xs_conn_close(struct xs_conn *c);
/* Bytes the current message still needs; 0 while replies are outstanding
 * over quota or the connection is broken. */
size_t xs_conn_input_want(struct xs_conn *c);
/* Feed n <= want bytes; a complete message is processed at once. Returns
 * 0, or -1 when the peer broke the protocol (the connection is unusable). */
int xs_conn_input(struct xs_conn *c, const void *buf, size_t n);
/* Contiguous queued output: a pointer and its length (0: nothing). Only
 * inside flush, or with no other thread using the store. */
size_t xs_conn_output_peek(struct xs_conn *c, const uint8_t **p);
void xs_conn_output_done(struct xs_conn *c, size_t n);
/* Ask for flush to be called again (the peer made room). */
void xs_conn_kick_output(struct xs_conn *c);

#endif
