/* The view a request has of the store, and transactions.
 *
 * Outside a transaction the view is the store. Inside one, every node the
 * transaction reads or writes gets an entry recording the store's
 * generation of that node at first access; writes and deletions live in the
 * entry until commit. A commit fails with EAGAIN only when one of those
 * nodes changed in the store since (a real conflict), as xenstored does. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xenkvm/log.h"
#include "xenstore_impl.h"

static uint64_t store_gen(const struct xenstore *xs, const char *path)
{
	const struct xs_node *n = xs_table_find(&xs->nodes, path);

	return n ? n->gen : 0;
}

/* The transaction's entry for path, created (as "read, unchanged") if new. */
static struct xs_node *txn_entry(struct xs_ctx *c, const char *path, int *err)
{
	struct xs_txn *tx = c->tx;
	struct xs_node *e = xs_table_find(&tx->nodes, path);

	if (e)
		return e;
	if (c->domid != 0 && tx->nodes.count >= c->xs->quota.txn_nodes) {
		*err = ENOSPC;
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (e)
		e->path = strdup(path);
	if (!e || !e->path) {
		free(e);
		*err = ENOMEM;
		return NULL;
	}
	e->base_gen = store_gen(c->xs, path);
	xs_table_put(&tx->nodes, e);
	return e;
}

/* What the transaction sees through an entry. */
static const struct xs_node *entry_view(const struct xs_ctx *c, const struct xs_node *e)
{
	if (!e->modified)
		return xs_table_find(&c->xs->nodes, e->path);
	return e->deleted ? NULL : e;
}

const struct xs_node *xs_view_get(struct xs_ctx *c, const char *path, int *err)
{
	const struct xs_node *e;

	*err = 0;
	if (!c->tx)
		return xs_table_find(&c->xs->nodes, path);
	e = txn_entry(c, path, err);
	return e ? entry_view(c, e) : NULL;
}

static unsigned owner_of(const struct xs_node *n)
{
	return n->perms.p[0].domid;
}

/* How a replacement changes the count of nodes the transaction's domain owns. */
static long owned_change(const struct xs_ctx *c, const struct xs_node *old,
			 const struct xs_node *new)
{
	return (new && owner_of(new) == c->domid) - (old && owner_of(old) == c->domid);
}

static void store_put(struct xenstore *xs, struct xs_node *n)
{
	const struct xs_node *old = xs_table_find(&xs->nodes, n->path);

	if (old)
		xs_domain_account(xs, owner_of(old), -1);
	xs_domain_account(xs, owner_of(n), 1);
	n->gen = ++xs->gen;
	n->modified = n->deleted = 0;
	xs_table_put(&xs->nodes, n);
}

static void store_del(struct xenstore *xs, const char *path)
{
	const struct xs_node *old = xs_table_find(&xs->nodes, path);

	if (!old)
		return;
	xs_domain_account(xs, owner_of(old), -1);
	xs_table_del(&xs->nodes, path);
}

int xs_view_put(struct xs_ctx *c, struct xs_node *n)
{
	struct xs_node *e;
	int err = 0;

	if (!c->tx) {
		store_put(c->xs, n);
		return 0;
	}
	e = txn_entry(c, n->path, &err);
	if (!e) {
		xs_node_free(n);
		return err;
	}
	c->tx->owned_delta += owned_change(c, entry_view(c, e), n);
	n->base_gen = e->base_gen;
	n->modified = 1;
	n->deleted = 0;
	xs_table_put(&c->tx->nodes, n); /* frees e */
	return 0;
}

int xs_view_del(struct xs_ctx *c, const char *path)
{
	struct xs_node *e;
	int err = 0;

	if (!c->tx) {
		store_del(c->xs, path);
		return 0;
	}
	e = txn_entry(c, path, &err);
	if (!e)
		return err;
	c->tx->owned_delta += owned_change(c, entry_view(c, e), NULL);
	e->modified = e->deleted = 1;
	return 0;
}

void xs_view_changed(struct xs_ctx *c, const char *path, int exact, const struct xs_perms *perms,
		     const struct xs_perms *old_perms)
{
	struct xs_change *ch = xs_change_new(path, exact, perms, old_perms);

	if (!ch) {
		log_warn("xenstore: out of memory: a watch event for %s is lost", path);
		return;
	}
	if (!c->tx) {
		xs_fire_change(c->xs, ch);
		xs_change_free(ch);
		return;
	}
	*c->tx->changes_tail = ch;
	c->tx->changes_tail = &ch->next;
}

long xs_view_owned(const struct xs_ctx *c)
{
	return xs_domain_nodes(c->xs, c->domid) + (c->tx ? c->tx->owned_delta : 0);
}

/* ---- transactions ---- */

struct xs_txn *xs_txn_find(struct xs_conn *conn, uint32_t id)
{
	for (struct xs_txn *t = conn->txns; t; t = t->next)
		if (t->id == id)
			return t;
	return NULL;
}

int xs_txn_start(struct xs_conn *conn, uint32_t *id)
{
	struct xs_txn *tx;

	if (conn->domid != 0 && conn->ntxns >= conn->xs->quota.transactions)
		return ENOSPC;
	tx = calloc(1, sizeof(*tx));
	if (!tx)
		return ENOMEM;
	/* 0 means "no transaction" on the wire; never reuse a live id. */
	do
		tx->id = conn->next_txid++;
	while (tx->id == 0 || xs_txn_find(conn, tx->id));
	xs_table_init(&tx->nodes);
	tx->changes_tail = &tx->changes;
	tx->next = conn->txns;
	conn->txns = tx;
	conn->ntxns++;
	*id = tx->id;
	return 0;
}

static int txn_conflicts(const struct xenstore *xs, const struct xs_txn *tx)
{
	for (size_t i = 0; i < tx->nodes.nbuckets; i++)
		for (const struct xs_node *e = tx->nodes.buckets[i]; e; e = e->hnext)
			if (store_gen(xs, e->path) != e->base_gen)
				return 1;
	return 0;
}

static void txn_apply(struct xenstore *xs, struct xs_txn *tx)
{
	for (size_t i = 0; i < tx->nodes.nbuckets; i++) {
		for (const struct xs_node *e = tx->nodes.buckets[i]; e; e = e->hnext) {
			struct xs_node *copy;
			if (!e->modified)
				continue;
			if (e->deleted) {
				store_del(xs, e->path);
				continue;
			}
			copy = xs_node_copy(e);
			if (copy)
				store_put(xs, copy);
			else
				log_err("xenstore: out of memory committing %s", e->path);
		}
	}
}

static void txn_free(struct xs_txn *tx)
{
	while (tx->changes) {
		struct xs_change *next = tx->changes->next;
		xs_change_free(tx->changes);
		tx->changes = next;
	}
	xs_table_free(&tx->nodes);
	free(tx);
}

static void txn_unlink(struct xs_conn *conn, struct xs_txn *tx)
{
	for (struct xs_txn **pp = &conn->txns; *pp; pp = &(*pp)->next) {
		if (*pp == tx) {
			*pp = tx->next;
			conn->ntxns--;
			return;
		}
	}
}

int xs_txn_end(struct xs_conn *conn, struct xs_txn *tx, int commit)
{
	int rc = 0;

	txn_unlink(conn, tx);
	if (commit && txn_conflicts(conn->xs, tx)) {
		rc = EAGAIN;
	} else if (commit) {
		txn_apply(conn->xs, tx);
		for (const struct xs_change *ch = tx->changes; ch; ch = ch->next)
			xs_fire_change(conn->xs, ch);
	}
	txn_free(tx);
	return rc;
}

void xs_txn_free_all(struct xs_conn *conn)
{
	while (conn->txns) {
		struct xs_txn *tx = conn->txns;
		conn->txns = tx->next;
		txn_free(tx);
	}
	conn->ntxns = 0;
}
