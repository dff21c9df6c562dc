/* The XenStore engine: its lifetime, clients' connections (message framing
 * in, queued messages out), and the in-process API for the toolstack. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xenkvm/log.h"
#include "xenstore_impl.h"

#define HDR_LEN ((uint32_t)sizeof(struct xsd_sockmsg))

void xs_quota_defaults(struct xs_quota *q)
{
	*q = (struct xs_quota){
		.nodes_per_domain = 1000,
		.node_size = 2048,
		.path_len = XENSTORE_REL_PATH_MAX,
		.watches = 128,
		.transactions = 10,
		.perms_per_node = 5,
		.outstanding = 20,
		.txn_nodes = 1024,
		.queued_events = 1024,
	};
}

/* ---- the engine ---- */

static int add_root(struct xenstore *xs)
{
	struct xs_perm none0 = { .domid = 0, .perm = XS_PERM_NONE };
	struct xs_perms perms = { .n = 1, .p = &none0 };
	struct xs_node *root = xs_node_new("/", "", 0, &perms);

	if (!root)
		return ENOMEM;
	root->gen = ++xs->gen;
	xs_table_put(&xs->nodes, root);
	xs_domain_account(xs, 0, 1);
	for (int i = 0; i < 2; i++)
		if (xs_perms_copy(&xs->special_perms[i], &perms))
			return ENOMEM;
	return 0;
}

struct xenstore *xs_create(unsigned guest_domid, const struct xs_quota *q)
{
	struct xenstore *xs = calloc(1, sizeof(*xs));
	struct xs_ctx ctx = { .xs = xs, .domid = 0 };

	if (!xs)
		return NULL;
	pthread_mutex_init(&xs->lock, NULL);
	xs->guest_domid = guest_domid;
	if (q)
		xs->quota = *q;
	else
		xs_quota_defaults(&xs->quota);
	xs_table_init(&xs->nodes);
	xs->pending_tail = &xs->pending;
	if (add_root(xs) || xs_op_mkdir(&ctx, "/local/domain")) {
		xs_destroy(xs);
		return NULL;
	}
	return xs;
}

void xs_destroy(struct xenstore *xs)
{
	if (!xs)
		return;
	pthread_mutex_lock(&xs->lock);
	xs_socket_free(xs);
	xs_ring_free(xs);
	while (xs->conns)
		xs_conn_close_locked(xs->conns);
	while (xs->local_watches) {
		struct xs_local_watch *lw = xs->local_watches;
		xs->local_watches = lw->next;
		free(lw->path);
		free(lw);
	}
	while (xs->pending) {
		struct xs_pending_local *p = xs->pending;
		xs->pending = p->next;
		free(p->path);
		free(p);
	}
	while (xs->counts) {
		struct xs_domain_count *d = xs->counts;
		xs->counts = d->next;
		free(d);
	}
	xs_perms_free(&xs->special_perms[0]);
	xs_perms_free(&xs->special_perms[1]);
	xs_table_free(&xs->nodes);
	pthread_mutex_unlock(&xs->lock);
	pthread_mutex_destroy(&xs->lock);
	free(xs);
}

/* ---- the toolstack's access (dom0, absolute paths) ---- */

static int dom0_path(struct xenstore *xs, const char *in, char *buf, size_t cap)
{
	int relative;

	if (in[0] != '/')
		return EINVAL;
	return xs_canonicalize(xs, 0, in, buf, cap, &relative);
}

int xs_write_bytes(struct xenstore *xs, const char *path, const void *value, size_t len)
{
	char buf[XENSTORE_ABS_PATH_MAX + 1];
	struct xs_ctx ctx = { .xs = xs, .domid = 0 };
	int err = dom0_path(xs, path, buf, sizeof(buf));

	if (err)
		return err;
	if (len > XENSTORE_PAYLOAD_MAX)
		return E2BIG;
	pthread_mutex_lock(&xs->lock);
	err = xs_op_write(&ctx, buf, value, (uint32_t)len);
	xs_flush_all(xs);
	xs_unlock_and_run_local(xs);
	return err;
}

int xs_write(struct xenstore *xs, const char *path, const char *value)
{
	return xs_write_bytes(xs, path, value, strlen(value));
}

typedef int (*path_op)(struct xs_ctx *c, const char *path);

static int run_path_op(struct xenstore *xs, const char *path, path_op op)
{
	char buf[XENSTORE_ABS_PATH_MAX + 1];
	struct xs_ctx ctx = { .xs = xs, .domid = 0 };
	int err = dom0_path(xs, path, buf, sizeof(buf));

	if (err)
		return err;
	pthread_mutex_lock(&xs->lock);
	err = op(&ctx, buf);
	xs_flush_all(xs);
	xs_unlock_and_run_local(xs);
	return err;
}

int xs_mkdir(struct xenstore *xs, const char *path)
{
	return run_path_op(xs, path, xs_op_mkdir);
}

int xs_rm(struct xenstore *xs, const char *path)
{
	return run_path_op(xs, path, xs_op_rm);
}

/* "n0 r1" -> the wire's "n0\0r1\0" and the entry count. */
static int perms_from_words(const char *words, struct xs_perms *out)
{
	char buf[256];
	unsigned n = 0;
	size_t len = 0;

	for (const char *w = words; *w;) {
		size_t wl = strcspn(w, " ");
		if (wl && len + wl + 1 > sizeof(buf))
			return EINVAL;
		if (wl) {
			memcpy(buf + len, w, wl);
			buf[len + wl] = 0;
			len += wl + 1;
			n++;
		}
		w += wl + (w[wl] == ' ');
	}
	return n ? xs_perms_parse(out, buf, n) : EINVAL;
}

int xs_set_perms(struct xenstore *xs, const char *path, const char *perms)
{
	char buf[XENSTORE_ABS_PATH_MAX + 1];
	struct xs_ctx ctx = { .xs = xs, .domid = 0 };
	struct xs_perms p;
	int err = xs_is_special(path) ? 0 : dom0_path(xs, path, buf, sizeof(buf));

	if (!err)
		err = perms_from_words(perms, &p);
	if (err)
		return err;
	pthread_mutex_lock(&xs->lock);
	err = xs_op_set_perms(&ctx, xs_is_special(path) ? path : buf, &p);
	xs_flush_all(xs);
	xs_unlock_and_run_local(xs);
	xs_perms_free(&p);
	return err;
}

int xs_write_with_perms(struct xenstore *xs, const char *path, const char *value,
			const char *perms)
{
	int err = xs_write(xs, path, value);

	return err ? err : xs_set_perms(xs, path, perms);
}

char *xs_read(struct xenstore *xs, const char *path, size_t *len)
{
	char buf[XENSTORE_ABS_PATH_MAX + 1];
	struct xs_ctx ctx = { .xs = xs, .domid = 0 };
	const struct xs_node *n;
	char *copy = NULL;
	int err = dom0_path(xs, path, buf, sizeof(buf));

	if (!err) {
		pthread_mutex_lock(&xs->lock);
		err = xs_op_read(&ctx, buf, &n);
		if (!err) {
			copy = malloc((size_t)n->vlen + 1);
			if (copy) {
				memcpy(copy, n->value, (size_t)n->vlen + 1);
				if (len)
					*len = n->vlen;
			}
			err = copy ? 0 : ENOMEM;
		}
		pthread_mutex_unlock(&xs->lock);
	}
	errno = err;
	return copy;
}

long long xs_read_int(struct xenstore *xs, const char *path, long long def)
{
	char *v = xs_read(xs, path, NULL);
	char *end;
	long long r;

	if (!v)
		return def;
	errno = 0;
	r = strtoll(v, &end, 10);
	if (errno || end == v || *end)
		r = def;
	free(v);
	return r;
}

/* ---- connections ---- */

struct xs_conn *xs_conn_open_locked(struct xenstore *xs, unsigned domid, xs_flush_fn flush,
				    void *opaque)
{
	struct xs_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->xs = xs;
	c->domid = domid;
	c->flush = flush;
	c->opaque = opaque;
	c->out_tail = &c->out_head;
	c->next_txid = 1;
	c->next = xs->conns;
	xs->conns = c;
	return c;
}

struct xs_conn *xs_conn_open(struct xenstore *xs, unsigned domid, xs_flush_fn flush,
			     void *opaque)
{
	struct xs_conn *c;

	pthread_mutex_lock(&xs->lock);
	c = xs_conn_open_locked(xs, domid, flush, opaque);
	pthread_mutex_unlock(&xs->lock);
	return c;
}

static void drop_output(struct xs_conn *c)
{
	while (c->out_head) {
		struct xs_msg *m = c->out_head;
		c->out_head = m->next;
		free(m);
	}
	c->out_tail = &c->out_head;
	c->out_replies = c->out_events = 0;
}

void xs_conn_reset(struct xs_conn *c)
{
	c->in_got = 0;
	drop_output(c);
	xs_watch_free_all(c);
	xs_txn_free_all(c);
}

void xs_conn_close_locked(struct xs_conn *c)
{
	struct xenstore *xs = c->xs;

	for (struct xs_conn **pp = &xs->conns; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	xs_conn_reset(c);
	free(c);
}

void xs_conn_close(struct xs_conn *c)
{
	struct xenstore *xs = c->xs;

	pthread_mutex_lock(&xs->lock);
	xs_conn_close_locked(c);
	pthread_mutex_unlock(&xs->lock);
}

size_t xs_conn_input_want_locked(const struct xs_conn *c)
{
	if (c->broken || c->out_replies >= c->xs->quota.outstanding)
		return 0;
	if (c->in_got < HDR_LEN)
		return HDR_LEN - c->in_got;
	return HDR_LEN + c->hdr.len - c->in_got;
}

size_t xs_conn_input_want(struct xs_conn *c)
{
	size_t want;

	pthread_mutex_lock(&c->xs->lock);
	want = xs_conn_input_want_locked(c);
	pthread_mutex_unlock(&c->xs->lock);
	return want;
}

/* A whole message arrived: NUL-terminate the payload so handlers can use
 * string functions without reading past it, and process it. */
static void complete_message(struct xs_conn *c)
{
	struct xsd_sockmsg hdr = c->hdr;

	c->payload[hdr.len] = 0;
	c->in_got = 0;
	xs_process(c, &hdr, (char *)c->payload);
}

int xs_conn_input_locked(struct xs_conn *c, const void *buf, size_t n)
{
	const uint8_t *p = buf;

	while (n) {
		size_t want = xs_conn_input_want_locked(c);
		size_t take = n < want ? n : want;
		if (!take)
			break;
		if (c->in_got < HDR_LEN)
			memcpy((uint8_t *)&c->hdr + c->in_got, p, take);
		else
			memcpy(c->payload + (c->in_got - HDR_LEN), p, take);
		c->in_got += (uint32_t)take;
		p += take;
		n -= take;
		if (c->in_got == HDR_LEN && c->hdr.len > XENSTORE_PAYLOAD_MAX) {
			log_warn("xenstore: domain %u sent a %u-byte message (max %u): "
				 "connection dropped", c->domid, c->hdr.len, XENSTORE_PAYLOAD_MAX);
			c->broken = 1;
			drop_output(c);
			return -1;
		}
		if (c->in_got == HDR_LEN + c->hdr.len)
			complete_message(c);
	}
	return 0;
}

int xs_conn_input(struct xs_conn *c, const void *buf, size_t n)
{
	struct xenstore *xs = c->xs;
	int rc;

	pthread_mutex_lock(&xs->lock);
	rc = xs_conn_input_locked(c, buf, n);
	xs_flush_all(xs);
	xs_unlock_and_run_local(xs);
	return rc;
}

void xs_conn_send(struct xs_conn *c, uint32_t type, uint32_t req_id, uint32_t tx_id,
		  const void *data, size_t len)
{
	int is_event = type == XS_WATCH_EVENT;
	struct xsd_sockmsg hdr = { .type = type, .req_id = req_id, .tx_id = tx_id,
				   .len = (uint32_t)len };
	struct xs_msg *m;

	if (c->broken)
		return;
	if (is_event && c->out_events >= c->xs->quota.queued_events) {
		log_once("xenstore: domain %u is not reading its watch events: dropping them",
			 c->domid);
		return;
	}
	m = malloc(sizeof(*m) + HDR_LEN + len);
	if (!m) {
		log_err("xenstore: out of memory: a message to domain %u is lost", c->domid);
		return;
	}
	m->next = NULL;
	m->len = HDR_LEN + (uint32_t)len;
	m->off = 0;
	m->is_event = is_event;
	memcpy(m->data, &hdr, HDR_LEN);
	if (len)
		memcpy(m->data + HDR_LEN, data, len);
	*c->out_tail = m;
	c->out_tail = &m->next;
	if (is_event)
		c->out_events++;
	else
		c->out_replies++;
}

void xs_conn_send_error(struct xs_conn *c, const struct xsd_sockmsg *req, int err)
{
	const char *name = xs_errno_name(err);

	xs_conn_send(c, XS_ERROR, req->req_id, req->tx_id, name, strlen(name) + 1);
}

size_t xs_conn_output_peek(struct xs_conn *c, const uint8_t **p)
{
	struct xs_msg *m = c->out_head;

	if (!m)
		return 0;
	*p = m->data + m->off;
	return m->len - m->off;
}

void xs_conn_output_done(struct xs_conn *c, size_t n)
{
	struct xs_msg *m = c->out_head;

	if (!m)
		return;
	m->off += (uint32_t)(n < m->len - m->off ? n : m->len - m->off);
	if (m->off < m->len)
		return;
	c->out_head = m->next;
	if (!c->out_head)
		c->out_tail = &c->out_head;
	if (m->is_event)
		c->out_events--;
	else
		c->out_replies--;
	free(m);
}

void xs_flush_all(struct xenstore *xs)
{
	for (struct xs_conn *c = xs->conns; c; c = c->next)
		if (c->out_head && c->flush)
			c->flush(c, c->opaque);
}

void xs_conn_kick_output(struct xs_conn *c)
{
	struct xenstore *xs = c->xs;

	pthread_mutex_lock(&xs->lock);
	if (c->out_head && c->flush)
		c->flush(c, c->opaque);
	xs_unlock_and_run_local(xs);
}
