/* XenStore engine internals shared by the xenstore_*.c files. */
#ifndef XENKVM_XENSTORE_IMPL_H
#define XENKVM_XENSTORE_IMPL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <xen/io/xs_wire.h>

#include "xenkvm/xenstore.h"

/* Permission bits as xenstored keeps them. */
#define XS_PERM_NONE 0u
#define XS_PERM_READ 1u
#define XS_PERM_WRITE 2u
#define XS_PERM_OWNER 8u

#define XS_IMPLICIT_FMT "/local/domain/%u"
#define XS_SPECIAL_INTRODUCE "@introduceDomain"
#define XS_SPECIAL_RELEASE "@releaseDomain"

struct xs_perm {
	uint32_t domid;
	uint32_t perm; /* XS_PERM_* */
};

struct xs_perms {
	unsigned n; /* >= 1: entry 0 is the owner and everyone else's default */
	struct xs_perm *p;
};

/* A node of the store, or (in a transaction) the transaction's version of
 * one. children is the list of child names, each NUL-terminated, in
 * creation order, as DIRECTORY returns it. */
struct xs_node {
	char *path;
	char *value;
	uint32_t vlen;
	char *children;
	uint32_t clen;
	struct xs_perms perms;
	uint64_t gen;            /* store-wide counter at the last change */
	struct xs_node *hnext;   /* hash chain */
	/* Transaction bookkeeping (unused in the store itself): */
	uint64_t base_gen;       /* the store's gen at first access; 0: absent */
	int modified;            /* this entry replaces the store's node */
	int deleted;             /* ...by nothing */
};

struct xs_table {
	struct xs_node **buckets;
	size_t nbuckets, count;
};

struct xs_watch {
	char *path;  /* canonical, or a special "@..." name */
	char *token;
	size_t strip; /* prefix to remove from event paths (relative watches) */
	struct xs_watch *next;
};

struct xs_local_watch {
	char *path;
	xs_watch_fn fn;
	void *opaque;
	struct xs_local_watch *next;
};

/* A change waiting for its watches: the changed path, whether only
 * watches on exactly it fire, and who could read it before/after. */
struct xs_change {
	char *path;
	int exact;
	struct xs_perms perms, old_perms; /* old_perms.n == 0: none */
	struct xs_change *next;
};

struct xs_txn {
	uint32_t id;
	struct xs_table nodes; /* every node read or written */
	struct xs_change *changes, **changes_tail;
	long owned_delta;      /* nodes the connection's domain gains at commit */
	struct xs_txn *next;
};

struct xs_msg {
	struct xs_msg *next;
	uint32_t len, off;
	int is_event;
	uint8_t data[];
};

struct xs_conn {
	struct xenstore *xs;
	unsigned domid;
	xs_flush_fn flush;
	void *opaque;
	int broken;
	/* Input: the header, then the payload (plus room for a NUL). */
	struct xsd_sockmsg hdr;
	uint8_t payload[XENSTORE_PAYLOAD_MAX + 1];
	uint32_t in_got; /* bytes of header + payload received */
	/* Output queue. */
	struct xs_msg *out_head, **out_tail;
	unsigned out_replies, out_events;
	struct xs_watch *watches;
	unsigned nwatches;
	struct xs_txn *txns;
	unsigned ntxns;
	uint32_t next_txid;
	struct xs_conn *next;
};

struct xs_pending_local {
	xs_watch_fn fn;
	void *opaque;
	char *path;
	struct xs_pending_local *next;
};

struct xs_domain_count {
	unsigned domid;
	long nodes;
	struct xs_domain_count *next;
};

struct xs_ring;
struct xs_socket;

struct xenstore {
	pthread_mutex_t lock;
	unsigned guest_domid;
	int guest_introduced;
	struct xs_quota quota;
	struct xs_table nodes;
	uint64_t gen;
	struct xs_domain_count *counts;
	struct xs_perms special_perms[2]; /* @introduceDomain, @releaseDomain */
	struct xs_conn *conns;
	struct xs_local_watch *local_watches;
	struct xs_pending_local *pending, **pending_tail;
	struct xs_ring *ring;
	struct xs_socket *sock;
};

/* Who is asking, and in which transaction (NULL: the store itself). */
struct xs_ctx {
	struct xenstore *xs;
	unsigned domid;
	struct xs_txn *tx;
};

/* ---- xenstore_tree.c: nodes, tables, perms, paths, accounting ---- */
void xs_table_init(struct xs_table *t);
void xs_table_free(struct xs_table *t);
struct xs_node *xs_table_find(const struct xs_table *t, const char *path);
/* Insert n, replacing (and freeing) a node of the same path. */
void xs_table_put(struct xs_table *t, struct xs_node *n);
void xs_table_del(struct xs_table *t, const char *path);

struct xs_node *xs_node_new(const char *path, const void *value, uint32_t vlen,
			    const struct xs_perms *perms);
struct xs_node *xs_node_copy(const struct xs_node *n);
void xs_node_free(struct xs_node *n);
int xs_node_set_value(struct xs_node *n, const void *value, uint32_t vlen);
int xs_node_add_child(struct xs_node *n, const char *name);
void xs_node_del_child(struct xs_node *n, const char *name);
/* Bytes xenstored would store for the node (what node_size limits). */
size_t xs_node_size(const struct xs_node *n);

int xs_perms_copy(struct xs_perms *dst, const struct xs_perms *src);
void xs_perms_free(struct xs_perms *p);
/* Parse n NUL-terminated "<r|w|b|n><domid>" strings; EINVAL if malformed. */
int xs_perms_parse(struct xs_perms *out, const char *strs, unsigned n);
/* Wire form: each entry NUL-terminated. Returns the length written (<= cap). */
size_t xs_perms_format(const struct xs_perms *p, char *buf, size_t cap);
/* XS_PERM_* bits domid has under perms (owner and dom0: all). */
unsigned xs_perm_for(unsigned domid, const struct xs_perms *p);

/* Absolute form of a client's path (relative ones live under the domain's
 * home), in buf; EINVAL when invalid (characters, "//", trailing '/',
 * length). *relative tells the caller whether a prefix was added. */
int xs_canonicalize(const struct xenstore *xs, unsigned domid, const char *in, char *buf,
		    size_t cap, int *relative);
int xs_is_special(const char *path);
/* Is path p at or below dir? */
int xs_path_is_under(const char *p, const char *dir);
/* The parent's path of an absolute path other than "/", in buf. */
void xs_parent_path(const char *path, char *buf);
const char *xs_basename(const char *path);

long xs_domain_nodes(const struct xenstore *xs, unsigned domid);
void xs_domain_account(struct xenstore *xs, unsigned domid, long delta);

/* ---- xenstore_txn.c: the view a request sees, transactions ---- */
/* The node at path as ctx sees it (NULL: absent); recorded as accessed. */
const struct xs_node *xs_view_get(struct xs_ctx *c, const char *path, int *err);
/* Replace or create the node (takes ownership), or delete path. */
int xs_view_put(struct xs_ctx *c, struct xs_node *n);
int xs_view_del(struct xs_ctx *c, const char *path);
/* A change to report to watchers now, or at commit. */
void xs_view_changed(struct xs_ctx *c, const char *path, int exact, const struct xs_perms *perms,
		     const struct xs_perms *old_perms);
/* Nodes domid owns as ctx sees them (store count plus the transaction's). */
long xs_view_owned(const struct xs_ctx *c);

struct xs_txn *xs_txn_find(struct xs_conn *conn, uint32_t id);
int xs_txn_start(struct xs_conn *conn, uint32_t *id);
/* Commit (EAGAIN on a conflict) or abort; the transaction is gone after. */
int xs_txn_end(struct xs_conn *conn, struct xs_txn *tx, int commit);
void xs_txn_free_all(struct xs_conn *conn);

/* ---- xenstore_watch.c ---- */
/* Register a client's watch (path as sent); *out is it, for the initial fire. */
int xs_watch_add(struct xs_conn *conn, const char *path, const char *token,
		 struct xs_watch **out);
/* The event WATCH sends up front, after its reply. */
void xs_watch_fire_initial(struct xs_conn *conn, const struct xs_watch *w);
int xs_watch_del(struct xs_conn *conn, const char *path, const char *token);
void xs_watch_free_all(struct xs_conn *conn);
void xs_fire_change(struct xenstore *xs, const struct xs_change *ch);
void xs_fire_special(struct xenstore *xs, const char *name);
/* Run in-process watch callbacks queued while the lock was held. */
void xs_unlock_and_run_local(struct xenstore *xs);
void xs_change_free(struct xs_change *ch);
struct xs_change *xs_change_new(const char *path, int exact, const struct xs_perms *perms,
				const struct xs_perms *old_perms);

/* ---- xenstore_ops.c: the operations, shared by the wire and the API ---- */
int xs_op_read(struct xs_ctx *c, const char *path, const struct xs_node **out);
int xs_op_write(struct xs_ctx *c, const char *path, const void *value, uint32_t vlen);
int xs_op_mkdir(struct xs_ctx *c, const char *path);
int xs_op_rm(struct xs_ctx *c, const char *path);
int xs_op_set_perms(struct xs_ctx *c, const char *path, const struct xs_perms *perms);
int xs_op_get_perms(struct xs_ctx *c, const char *path, struct xs_perms *out);
/* May ctx learn whether path exists (read access, or absent under a
 * readable parent)? What decides whether a watch event is sent. */
int xs_op_can_see(struct xs_ctx *c, const char *path);
/* Permissions of a special node ("@introduceDomain"...), or NULL. */
struct xs_perms *xs_special_perms(struct xenstore *xs, const char *name);

/* ---- xenstore_conn.c ---- */
/* Queue a message; events beyond the quota are dropped. */
void xs_conn_send(struct xs_conn *c, uint32_t type, uint32_t req_id, uint32_t tx_id,
		  const void *data, size_t len);
void xs_conn_send_error(struct xs_conn *c, const struct xsd_sockmsg *req, int err);
/* Hand every connection's queued output to its transport. */
void xs_flush_all(struct xenstore *xs);
/* Forget partial input, queued output, watches and transactions. */
void xs_conn_reset(struct xs_conn *c);
struct xs_conn *xs_conn_open_locked(struct xenstore *xs, unsigned domid, xs_flush_fn flush,
				    void *opaque);
void xs_conn_close_locked(struct xs_conn *c);
int xs_conn_input_locked(struct xs_conn *c, const void *buf, size_t n);
size_t xs_conn_input_want_locked(const struct xs_conn *c);

/* ---- xenstore_proto.c ---- */
/* Handle one complete request (header + NUL-padded payload). */
void xs_process(struct xs_conn *c, const struct xsd_sockmsg *hdr, char *payload);
const char *xs_errno_name(int err);

/* ---- xenstore_ring.c / xenstore_socket.c ---- */
void xs_ring_free(struct xenstore *xs);
void xs_socket_free(struct xenstore *xs);

#endif
