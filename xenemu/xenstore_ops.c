/* The node operations with xenstored's access rules, on the view of a
 * client (and its transaction): shared by the wire protocol and the
 * in-process API. Paths are canonical here. Return 0 or a positive errno. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xenstore_impl.h"

static unsigned owner_of(const struct xs_node *n)
{
	return n->perms.p[0].domid;
}

/* The nearest existing ancestor of path, as c sees it (the root always is). */
static const struct xs_node *nearest_ancestor(struct xs_ctx *c, const char *path, int *err)
{
	char *p = strdup(path);
	const struct xs_node *n = NULL;

	if (!p) {
		*err = ENOMEM;
		return NULL;
	}
	while (!n && strcmp(p, "/")) {
		xs_parent_path(p, p);
		n = xs_view_get(c, p, err);
		if (*err)
			break;
	}
	free(p);
	return n;
}

/* xenstored's get_node: the node if c has perm on it. Otherwise NULL and
 * EACCES, or ENOENT when absent and the nearest existing ancestor grants
 * perm (so a client learns nothing about nodes it may not see). */
static const struct xs_node *get_node(struct xs_ctx *c, const char *path, unsigned perm,
				      int *err)
{
	const struct xs_node *n = xs_view_get(c, path, err);
	const struct xs_node *anc;

	if (*err)
		return NULL;
	if (n) {
		if ((xs_perm_for(c->domid, &n->perms) & perm) == perm)
			return n;
		*err = EACCES;
		return NULL;
	}
	anc = nearest_ancestor(c, path, err);
	if (!*err)
		*err = anc && (xs_perm_for(c->domid, &anc->perms) & perm) ? ENOENT : EACCES;
	return NULL;
}

int xs_op_read(struct xs_ctx *c, const char *path, const struct xs_node **out)
{
	int err;

	*out = get_node(c, path, XS_PERM_READ, &err);
	return *out ? 0 : err;
}

int xs_op_can_see(struct xs_ctx *c, const char *path)
{
	int err;

	return get_node(c, path, XS_PERM_READ, &err) || err == ENOENT;
}

/* How many nodes creating path adds, and the perms the new ones inherit. */
static int plan_create(struct xs_ctx *c, const char *path, unsigned *missing,
		       const struct xs_node **top)
{
	char *p = strdup(path);
	int err = 0;

	if (!p)
		return ENOMEM;
	*missing = 1;
	for (;;) {
		xs_parent_path(p, p);
		*top = xs_view_get(c, p, &err);
		if (*top || err || !strcmp(p, "/"))
			break;
		(*missing)++;
	}
	free(p);
	if (!err && !*top)
		err = ENOENT; /* no root: cannot happen, the store always has one */
	return err;
}

/* Create path and its missing parents (empty) as xenstored does: each new
 * node inherits its parent's perms, and an unprivileged creator owns it. */
static int create_path(struct xs_ctx *c, const char *path, const void *value, uint32_t vlen)
{
	char parent_path[XENSTORE_ABS_PATH_MAX + 1];
	const struct xs_node *parent;
	struct xs_node *n, *pcopy;
	int err = 0;

	xs_parent_path(path, parent_path);
	parent = xs_view_get(c, parent_path, &err);
	if (!parent && !err)
		err = create_path(c, parent_path, "", 0);
	if (!parent && !err)
		parent = xs_view_get(c, parent_path, &err);
	if (err || !parent)
		return err ? err : ENOENT;
	n = xs_node_new(path, value, vlen, &parent->perms);
	pcopy = xs_node_copy(parent);
	if (!n || !pcopy || xs_node_add_child(pcopy, xs_basename(path))) {
		xs_node_free(n);
		xs_node_free(pcopy);
		return ENOMEM;
	}
	if (c->domid != 0)
		n->perms.p[0].domid = c->domid;
	err = xs_view_put(c, pcopy);
	return err ? err : xs_view_put(c, n);
}

static int create_node(struct xs_ctx *c, const char *path, const void *value, uint32_t vlen)
{
	const struct xs_node *top;
	unsigned missing;
	int err = plan_create(c, path, &missing, &top);

	if (err)
		return err;
	if (c->domid != 0) {
		size_t leaf_size = 24 + (size_t)top->perms.n * 8 + vlen;
		if (leaf_size > c->xs->quota.node_size ||
		    xs_view_owned(c) + missing > (long)c->xs->quota.nodes_per_domain)
			return ENOSPC;
	}
	err = create_path(c, path, value, vlen);
	if (!err) {
		const struct xs_node *n = xs_view_get(c, path, &err);
		if (n)
			xs_view_changed(c, path, 0, &n->perms, NULL);
	}
	return err;
}

/* A replacement for an existing node, within the node-size quota. */
static int replace_node(struct xs_ctx *c, struct xs_node *copy)
{
	if (c->domid != 0 && xs_node_size(copy) > c->xs->quota.node_size) {
		xs_node_free(copy);
		return ENOSPC;
	}
	return xs_view_put(c, copy);
}

int xs_op_write(struct xs_ctx *c, const char *path, const void *value, uint32_t vlen)
{
	int err;
	const struct xs_node *n = get_node(c, path, XS_PERM_WRITE, &err);
	struct xs_node *copy;

	if (!n)
		return err == ENOENT ? create_node(c, path, value, vlen) : err;
	copy = xs_node_copy(n);
	if (!copy || xs_node_set_value(copy, value, vlen)) {
		xs_node_free(copy);
		return ENOMEM;
	}
	err = replace_node(c, copy);
	if (!err) {
		n = xs_view_get(c, path, &err);
		if (n)
			xs_view_changed(c, path, 0, &n->perms, NULL);
	}
	return err;
}

int xs_op_mkdir(struct xs_ctx *c, const char *path)
{
	int err;

	if (get_node(c, path, XS_PERM_WRITE, &err))
		return 0; /* exists: nothing to do, no event */
	return err == ENOENT ? create_node(c, path, "", 0) : err;
}

/* Delete path and everything below, each descendant reporting an event on
 * exactly itself (xenstored's rm semantics). */
static int delete_subtree(struct xs_ctx *c, const char *path, int top)
{
	int err = 0;
	const struct xs_node *n = xs_view_get(c, path, &err);
	char *children;
	uint32_t clen;
	struct xs_perms perms;

	if (!n)
		return err;
	clen = n->clen;
	children = malloc(clen ? clen : 1);
	if (!children || xs_perms_copy(&perms, &n->perms)) {
		free(children);
		return ENOMEM;
	}
	if (clen)
		memcpy(children, n->children, clen);
	for (uint32_t off = 0; off < clen && !err; off += (uint32_t)strlen(children + off) + 1) {
		size_t len = strlen(path) + strlen(children + off) + 2;
		char *child = malloc(len);
		if (!child) {
			err = ENOMEM;
			break;
		}
		snprintf(child, len, "%s%s%s", path, strcmp(path, "/") ? "/" : "", children + off);
		err = delete_subtree(c, child, 0);
		free(child);
	}
	if (!err)
		err = xs_view_del(c, path);
	if (!err)
		xs_view_changed(c, path, !top, &perms, NULL);
	free(children);
	xs_perms_free(&perms);
	return err;
}

static int unlink_from_parent(struct xs_ctx *c, const char *path)
{
	char parent_path[XENSTORE_ABS_PATH_MAX + 1];
	const struct xs_node *parent;
	struct xs_node *copy;
	int err = 0;

	xs_parent_path(path, parent_path);
	parent = xs_view_get(c, parent_path, &err);
	if (!parent)
		return err;
	copy = xs_node_copy(parent);
	if (!copy)
		return ENOMEM;
	xs_node_del_child(copy, xs_basename(path));
	return xs_view_put(c, copy);
}

int xs_op_rm(struct xs_ctx *c, const char *path)
{
	char parent_path[XENSTORE_ABS_PATH_MAX + 1];
	int err;

	if (!get_node(c, path, XS_PERM_WRITE, &err)) {
		if (err != ENOENT)
			return err;
		/* Removing what is not there is fine if its parent is. */
		xs_parent_path(path, parent_path);
		return xs_view_get(c, parent_path, &err) ? 0 : (err ? err : ENOENT);
	}
	if (!strcmp(path, "/"))
		return EINVAL;
	err = unlink_from_parent(c, path);
	return err ? err : delete_subtree(c, path, 1);
}

struct xs_perms *xs_special_perms(struct xenstore *xs, const char *name)
{
	if (!strcmp(name, XS_SPECIAL_INTRODUCE))
		return &xs->special_perms[0];
	if (!strcmp(name, XS_SPECIAL_RELEASE))
		return &xs->special_perms[1];
	return NULL;
}

static int set_special_perms(struct xs_ctx *c, const char *path, const struct xs_perms *perms)
{
	struct xs_perms *sp = xs_special_perms(c->xs, path);
	struct xs_perms copy;

	if (!sp)
		return EINVAL;
	if (!(xs_perm_for(c->domid, sp) & XS_PERM_OWNER))
		return EACCES;
	if (xs_perms_copy(&copy, perms))
		return ENOMEM;
	xs_perms_free(sp);
	*sp = copy;
	return 0;
}

int xs_op_set_perms(struct xs_ctx *c, const char *path, const struct xs_perms *perms)
{
	int err;
	const struct xs_node *n;
	struct xs_node *copy;
	struct xs_perms old;

	if (c->domid != 0 && perms->n > c->xs->quota.perms_per_node)
		return ENOSPC;
	if (xs_is_special(path))
		return set_special_perms(c, path, perms);
	n = get_node(c, path, XS_PERM_WRITE | XS_PERM_OWNER, &err);
	if (!n)
		return err;
	/* Unprivileged domains may not give their nodes away. */
	if (c->domid != 0 && perms->p[0].domid != owner_of(n))
		return EPERM;
	copy = xs_node_copy(n);
	if (!copy || xs_perms_copy(&old, &n->perms)) {
		xs_node_free(copy);
		return ENOMEM;
	}
	xs_perms_free(&copy->perms);
	err = xs_perms_copy(&copy->perms, perms);
	if (err)
		xs_node_free(copy);
	else
		err = replace_node(c, copy);
	if (!err)
		xs_view_changed(c, path, 0, perms, &old);
	xs_perms_free(&old);
	return err;
}

int xs_op_get_perms(struct xs_ctx *c, const char *path, struct xs_perms *out)
{
	const struct xs_node *n;
	int err;

	if (xs_is_special(path)) {
		const struct xs_perms *sp = xs_special_perms(c->xs, path);
		if (!sp)
			return EINVAL;
		return xs_perm_for(c->domid, sp) & XS_PERM_READ ? xs_perms_copy(out, sp) : EACCES;
	}
	n = get_node(c, path, XS_PERM_READ, &err);
	return n ? xs_perms_copy(out, &n->perms) : err;
}
