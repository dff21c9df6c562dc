/* The XenStore wire protocol: argument parsing and one handler per
 * message type, with xenstored's checks and error names. A handler sends
 * its reply and returns 0, or returns the errno the client gets as XS_ERROR. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xenkvm/log.h"
#include "xenstore_impl.h"

struct req {
	struct xs_conn *c;
	const struct xsd_sockmsg *hdr;
	char *p;      /* payload, NUL-terminated one byte past len */
	uint32_t len;
	struct xs_ctx ctx;
};

const char *xs_errno_name(int err)
{
	for (size_t i = 0; i < sizeof(xsd_errors) / sizeof(xsd_errors[0]); i++)
		if (xsd_errors[i].errnum == err)
			return xsd_errors[i].errstring;
	return "EINVAL"; /* what xenstored sends for an errno it cannot name */
}

static int reply(struct req *r, const void *data, size_t len)
{
	if (len > XENSTORE_PAYLOAD_MAX)
		return E2BIG;
	xs_conn_send(r->c, r->hdr->type, r->hdr->req_id, r->hdr->tx_id, data, len);
	return 0;
}

static int reply_ok(struct req *r)
{
	return reply(r, "OK", 3);
}

/* Up to n NUL-terminated strings at the start of the payload; returns how
 * many were complete. */
static unsigned split_args(struct req *r, const char **vec, unsigned n)
{
	unsigned found = 0;

	for (uint32_t off = 0; found < n && off < r->len; found++) {
		const char *nul = memchr(r->p + off, 0, r->len - off);
		if (!nul)
			break;
		vec[found] = r->p + off;
		off = (uint32_t)(nul - r->p) + 1;
	}
	return found;
}

/* The payload is exactly one NUL-terminated string. */
static const char *onearg(struct req *r)
{
	if (!r->len || memchr(r->p, 0, r->len) != r->p + r->len - 1)
		return NULL;
	return r->p;
}

static unsigned count_nuls(const struct req *r)
{
	unsigned n = 0;

	for (uint32_t i = 0; i < r->len; i++)
		n += r->p[i] == 0;
	return n;
}

static int parse_uint(const char *s, unsigned max, unsigned *out)
{
	char *end;
	unsigned long v;

	if (!s || *s < '0' || *s > '9')
		return EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return EINVAL;
	*out = (unsigned)v;
	return 0;
}

static int canon(struct req *r, const char *in, char *buf)
{
	int relative;

	if (!in)
		return EINVAL;
	return xs_canonicalize(r->c->xs, r->c->domid, in, buf, XENSTORE_ABS_PATH_MAX + 1,
			       &relative);
}

/* ---- nodes ---- */

static int do_read(struct req *r)
{
	char path[XENSTORE_ABS_PATH_MAX + 1];
	const struct xs_node *n;
	int err = canon(r, onearg(r), path);

	if (!err)
		err = xs_op_read(&r->ctx, path, &n);
	return err ? err : reply(r, n->value, n->vlen);
}

static int do_directory(struct req *r)
{
	char path[XENSTORE_ABS_PATH_MAX + 1];
	const struct xs_node *n;
	int err = canon(r, onearg(r), path);

	if (!err)
		err = xs_op_read(&r->ctx, path, &n);
	return err ? err : reply(r, n->children, n->clen);
}

/* DIRECTORY_PART: "<generation>\0" then as many whole child names from
 * offset as fit; an extra NUL marks the end of the list. */
static int do_directory_part(struct req *r)
{
	char path[XENSTORE_ABS_PATH_MAX + 1], out[XENSTORE_PAYLOAD_MAX];
	const char *vec[2];
	const struct xs_node *n;
	unsigned off;
	size_t glen, len = 0;
	int err;

	if (count_nuls(r) != 2 || split_args(r, vec, 2) != 2)
		return EINVAL;
	err = canon(r, vec[0], path);
	if (!err)
		err = parse_uint(vec[1], UINT32_MAX, &off);
	if (!err)
		err = xs_op_read(&r->ctx, path, &n);
	if (err)
		return err;
	glen = (size_t)snprintf(out, sizeof(out), "%llu", (unsigned long long)n->gen) + 1;
	if (off >= n->clen) {
		out[glen] = 0;
		return reply(r, out, glen + 1);
	}
	while (off + len < n->clen) {
		size_t cl = strlen(n->children + off + len) + 1;
		if (glen + len + cl + 1 > sizeof(out))
			break;
		len += cl;
	}
	memcpy(out + glen, n->children + off, len);
	if (off + len == n->clen)
		out[glen + len++] = 0;
	return reply(r, out, glen + len);
}

static int do_write(struct req *r)
{
	char path[XENSTORE_ABS_PATH_MAX + 1];
	const char *nul = memchr(r->p, 0, r->len);
	uint32_t off;
	int err;

	if (!nul)
		return EINVAL;
	off = (uint32_t)(nul - r->p) + 1;
	err = canon(r, r->p, path);
	if (!err)
		err = xs_op_write(&r->ctx, path, r->p + off, r->len - off);
	return err ? err : reply_ok(r);
}

typedef int (*path_op)(struct xs_ctx *c, const char *path);

static int path_op_reply(struct req *r, path_op op)
{
	char path[XENSTORE_ABS_PATH_MAX + 1];
	int err = canon(r, onearg(r), path);

	if (!err)
		err = op(&r->ctx, path);
	return err ? err : reply_ok(r);
}

static int do_mkdir(struct req *r)
{
	return path_op_reply(r, xs_op_mkdir);
}

static int do_rm(struct req *r)
{
	return path_op_reply(r, xs_op_rm);
}

/* A path argument that may also name a special node. */
static int node_or_special(struct req *r, const char *in, char *buf)
{
	if (in && xs_is_special(in)) {
		if (!xs_special_perms(r->c->xs, in))
			return EINVAL;
		strcpy(buf, in);
		return 0;
	}
	return canon(r, in, buf);
}

static int do_get_perms(struct req *r)
{
	char path[XENSTORE_ABS_PATH_MAX + 1], out[XENSTORE_PAYLOAD_MAX];
	struct xs_perms perms;
	int err = node_or_special(r, onearg(r), path);

	if (!err)
		err = xs_op_get_perms(&r->ctx, path, &perms);
	if (err)
		return err;
	err = reply(r, out, xs_perms_format(&perms, out, sizeof(out)));
	xs_perms_free(&perms);
	return err;
}

static int do_set_perms(struct req *r)
{
	char path[XENSTORE_ABS_PATH_MAX + 1];
	unsigned n = count_nuls(r);
	struct xs_perms perms;
	int err;

	if (n < 2 || r->p[r->len - 1] != 0)
		return EINVAL;
	err = node_or_special(r, r->p, path);
	if (!err)
		err = xs_perms_parse(&perms, r->p + strlen(r->p) + 1, n - 1);
	if (err)
		return err;
	err = xs_op_set_perms(&r->ctx, path, &perms);
	xs_perms_free(&perms);
	return err ? err : reply_ok(r);
}

/* ---- watches ---- */

static int do_watch(struct req *r)
{
	const char *vec[2];
	struct xs_watch *w;
	int err;

	if (split_args(r, vec, 2) != 2)
		return EINVAL;
	err = xs_watch_add(r->c, vec[0], vec[1], &w);
	if (err)
		return err;
	reply_ok(r);
	xs_watch_fire_initial(r->c, w); /* after the reply, as xenstored */
	return 0;
}

static int do_unwatch(struct req *r)
{
	const char *vec[2];
	int err;

	if (split_args(r, vec, 2) != 2)
		return EINVAL;
	err = xs_watch_del(r->c, vec[0], vec[1]);
	return err ? err : reply_ok(r);
}

static int do_reset_watches(struct req *r)
{
	xs_watch_free_all(r->c);
	xs_txn_free_all(r->c);
	return reply_ok(r);
}

/* ---- transactions ---- */

static int do_transaction_start(struct req *r)
{
	char out[16];
	uint32_t id;
	int err;

	if (r->ctx.tx)
		return EBUSY;
	err = xs_txn_start(r->c, &id);
	if (err)
		return err;
	return reply(r, out, (size_t)snprintf(out, sizeof(out), "%u", id) + 1);
}

static int do_transaction_end(struct req *r)
{
	const char *arg = onearg(r);
	int err;

	if (!arg || (strcmp(arg, "T") && strcmp(arg, "F")))
		return EINVAL;
	if (!r->ctx.tx)
		return ENOENT;
	err = xs_txn_end(r->c, r->ctx.tx, arg[0] == 'T');
	return err ? err : reply_ok(r);
}

/* ---- domains ---- */

static int do_get_domain_path(struct req *r)
{
	char out[32];
	unsigned domid;
	int err = parse_uint(onearg(r), 0xffff, &domid);

	if (err)
		return err;
	return reply(r, out, (size_t)snprintf(out, sizeof(out), XS_IMPLICIT_FMT, domid) + 1);
}

/* The domains this store knows: dom0 (us) and the guest while introduced. */
static int domain_known(const struct xenstore *xs, unsigned domid)
{
	return domid == 0 || (domid == xs->guest_domid && xs->guest_introduced);
}

static int do_is_domain_introduced(struct req *r)
{
	unsigned domid;
	int err = parse_uint(onearg(r), 0xffff, &domid);

	if (err)
		return err;
	return reply(r, domain_known(r->c->xs, domid) ? "T" : "F", 2);
}

/* INTRODUCE <domid> <gfn> <port>: the one guest is introduced when its
 * ring is attached; re-introducing it is accepted, as xenstored does.
 * There is no other domain whose ring this VMM could map. */
static int do_introduce(struct req *r)
{
	const char *vec[3];
	unsigned domid, port;
	unsigned long long gfn;
	char *end;

	if (split_args(r, vec, 3) != 3 || parse_uint(vec[0], 0xffff, &domid) ||
	    parse_uint(vec[2], UINT32_MAX, &port))
		return EINVAL;
	errno = 0;
	gfn = strtoull(vec[1], &end, 10);
	if (errno || *end || end == vec[1])
		return EINVAL;
	if (domid != r->c->xs->guest_domid || !r->c->xs->guest_introduced) {
		log_warn("xenstore: INTRODUCE of domain %u (gfn %llu, port %u) refused: "
			 "this VMM runs only domain %u", domid, gfn, port, r->c->xs->guest_domid);
		return EINVAL;
	}
	return reply_ok(r);
}

static int do_release(struct req *r)
{
	unsigned domid;
	int err = parse_uint(onearg(r), 0xffff, &domid);

	if (err)
		return err;
	if (domid == 0 || !domain_known(r->c->xs, domid))
		return domid == 0 ? EINVAL : ENOENT;
	r->c->xs->guest_introduced = 0;
	xs_fire_special(r->c->xs, XS_SPECIAL_RELEASE);
	return reply_ok(r);
}

static int do_resume(struct req *r)
{
	unsigned domid;
	int err = parse_uint(onearg(r), 0xffff, &domid);

	if (err)
		return err;
	return domain_known(r->c->xs, domid) ? reply_ok(r) : ENOENT;
}

/* SET_TARGET <domid> <target>: a device-model domain gaining rights over
 * its target. There are no such domains here, so only known pairs pass. */
static int do_set_target(struct req *r)
{
	const char *vec[2];
	unsigned domid, target;

	if (split_args(r, vec, 2) != 2 || parse_uint(vec[0], 0xffff, &domid) ||
	    parse_uint(vec[1], 0xffff, &target))
		return EINVAL;
	if (!domain_known(r->c->xs, domid) || !domain_known(r->c->xs, target))
		return ENOENT;
	return reply_ok(r);
}

static int control_quota(struct req *r)
{
	const struct xs_quota *q = &r->c->xs->quota;
	char out[512];
	int n = snprintf(out, sizeof(out),
			 "Nodes per domain:       %u\nNode size:              %u\n"
			 "Path length:            %u\nWatches:                %u\n"
			 "Transactions:           %u\nPermissions per node:   %u\n"
			 "Outstanding requests:   %u\nNodes per transaction:  %u\n"
			 "Queued watch events:    %u\n",
			 q->nodes_per_domain, q->node_size, q->path_len, q->watches,
			 q->transactions, q->perms_per_node, q->outstanding, q->txn_nodes,
			 q->queued_events);

	return reply(r, out, (size_t)n + 1);
}

/* CONTROL: the xenstore-control commands that make sense in one VMM. */
static int do_control(struct req *r)
{
	const char *vec[2];
	unsigned n = split_args(r, vec, 2);

	if (n < 1)
		return EINVAL;
	if (!strcmp(vec[0], "check"))
		return reply_ok(r);
	if (!strcmp(vec[0], "print") && n == 2) {
		log_info("xenstore: %s", vec[1]);
		return reply_ok(r);
	}
	if (!strcmp(vec[0], "quota"))
		return control_quota(r);
	if (!strcmp(vec[0], "help")) {
		static const char help[] = "check\nprint <string>\nquota\nhelp\n";
		return reply(r, help, sizeof(help));
	}
	return EINVAL;
}

/* ---- dispatch ---- */

#define F_PRIV 1u  /* dom0 only: EACCES for others */
#define F_NOTID 2u /* the transaction id is ignored */

static const struct {
	int (*fn)(struct req *r);
	unsigned flags;
} handlers[XS_TYPE_COUNT] = {
	[XS_CONTROL] = { do_control, F_PRIV | F_NOTID },
	[XS_DIRECTORY] = { do_directory, 0 },
	[XS_READ] = { do_read, 0 },
	[XS_GET_PERMS] = { do_get_perms, 0 },
	[XS_WATCH] = { do_watch, F_NOTID },
	[XS_UNWATCH] = { do_unwatch, F_NOTID },
	[XS_TRANSACTION_START] = { do_transaction_start, 0 },
	[XS_TRANSACTION_END] = { do_transaction_end, 0 },
	[XS_INTRODUCE] = { do_introduce, F_PRIV | F_NOTID },
	[XS_RELEASE] = { do_release, F_PRIV | F_NOTID },
	[XS_GET_DOMAIN_PATH] = { do_get_domain_path, F_NOTID },
	[XS_WRITE] = { do_write, 0 },
	[XS_MKDIR] = { do_mkdir, 0 },
	[XS_RM] = { do_rm, 0 },
	[XS_SET_PERMS] = { do_set_perms, 0 },
	[XS_IS_DOMAIN_INTRODUCED] = { do_is_domain_introduced, F_PRIV | F_NOTID },
	[XS_RESUME] = { do_resume, F_PRIV | F_NOTID },
	[XS_SET_TARGET] = { do_set_target, F_PRIV | F_NOTID },
	[XS_RESET_WATCHES] = { do_reset_watches, F_NOTID },
	[XS_DIRECTORY_PART] = { do_directory_part, 0 },
};

void xs_process(struct xs_conn *c, const struct xsd_sockmsg *hdr, char *payload)
{
	struct req r = { .c = c, .hdr = hdr, .p = payload, .len = hdr->len,
			 .ctx = { .xs = c->xs, .domid = c->domid } };
	int err;

	if (hdr->type >= XS_TYPE_COUNT || !handlers[hdr->type].fn) {
		log_once("xenstore: domain %u sent unknown message type %u", c->domid, hdr->type);
		xs_conn_send_error(c, hdr, ENOSYS);
		return;
	}
	if ((handlers[hdr->type].flags & F_PRIV) && c->domid != 0) {
		xs_conn_send_error(c, hdr, EACCES);
		return;
	}
	if (!(handlers[hdr->type].flags & F_NOTID) && hdr->tx_id) {
		r.ctx.tx = xs_txn_find(c, hdr->tx_id);
		if (!r.ctx.tx) {
			xs_conn_send_error(c, hdr, ENOENT);
			return;
		}
	}
	err = handlers[hdr->type].fn(&r);
	if (err)
		xs_conn_send_error(c, hdr, err);
}
