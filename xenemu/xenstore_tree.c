/* XenStore nodes: the path-keyed table that holds them, their permissions,
 * path validation, and per-domain node counts (the node quota). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xenstore_impl.h"

#define TABLE_MIN_BUCKETS 64

/* ---- the table ---- */

static size_t hash_path(const char *s)
{
	size_t h = 5381;

	while (*s)
		h = h * 33 + (unsigned char)*s++;
	return h;
}

void xs_table_init(struct xs_table *t)
{
	t->nbuckets = 0;
	t->count = 0;
	t->buckets = NULL;
}

void xs_table_free(struct xs_table *t)
{
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct xs_node *n = t->buckets[i];
		while (n) {
			struct xs_node *next = n->hnext;
			xs_node_free(n);
			n = next;
		}
	}
	free(t->buckets);
	xs_table_init(t);
}

struct xs_node *xs_table_find(const struct xs_table *t, const char *path)
{
	if (!t->nbuckets)
		return NULL;
	for (struct xs_node *n = t->buckets[hash_path(path) % t->nbuckets]; n; n = n->hnext)
		if (!strcmp(n->path, path))
			return n;
	return NULL;
}

/* Keep chains short: double the buckets when the load passes one. */
static void table_grow(struct xs_table *t)
{
	size_t nb = t->nbuckets ? t->nbuckets * 2 : TABLE_MIN_BUCKETS;
	struct xs_node **b = calloc(nb, sizeof(*b));

	if (!b)
		return; /* longer chains, still correct */
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct xs_node *n = t->buckets[i];
		while (n) {
			struct xs_node *next = n->hnext;
			size_t h = hash_path(n->path) % nb;
			n->hnext = b[h];
			b[h] = n;
			n = next;
		}
	}
	free(t->buckets);
	t->buckets = b;
	t->nbuckets = nb;
}

void xs_table_put(struct xs_table *t, struct xs_node *n)
{
	struct xs_node **pp;

	if (t->count >= t->nbuckets)
		table_grow(t);
	for (pp = &t->buckets[hash_path(n->path) % t->nbuckets]; *pp; pp = &(*pp)->hnext) {
		if (!strcmp((*pp)->path, n->path)) {
			n->hnext = (*pp)->hnext;
			xs_node_free(*pp);
			*pp = n;
			return;
		}
	}
	n->hnext = NULL;
	*pp = n;
	t->count++;
}

void xs_table_del(struct xs_table *t, const char *path)
{
	if (!t->nbuckets)
		return;
	for (struct xs_node **pp = &t->buckets[hash_path(path) % t->nbuckets]; *pp;
	     pp = &(*pp)->hnext) {
		if (!strcmp((*pp)->path, path)) {
			struct xs_node *n = *pp;
			*pp = n->hnext;
			xs_node_free(n);
			t->count--;
			return;
		}
	}
}

/* ---- nodes ---- */

struct xs_node *xs_node_new(const char *path, const void *value, uint32_t vlen,
			    const struct xs_perms *perms)
{
	struct xs_node *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->path = strdup(path);
	if (!n->path || xs_node_set_value(n, value, vlen) || xs_perms_copy(&n->perms, perms)) {
		xs_node_free(n);
		return NULL;
	}
	return n;
}

struct xs_node *xs_node_copy(const struct xs_node *src)
{
	struct xs_node *n = xs_node_new(src->path, src->value, src->vlen, &src->perms);

	if (!n)
		return NULL;
	if (src->clen) {
		n->children = malloc(src->clen);
		if (!n->children) {
			xs_node_free(n);
			return NULL;
		}
		memcpy(n->children, src->children, src->clen);
		n->clen = src->clen;
	}
	n->gen = src->gen;
	n->base_gen = src->base_gen;
	return n;
}

void xs_node_free(struct xs_node *n)
{
	if (!n)
		return;
	free(n->path);
	free(n->value);
	free(n->children);
	xs_perms_free(&n->perms);
	free(n);
}

int xs_node_set_value(struct xs_node *n, const void *value, uint32_t vlen)
{
	char *v = malloc((size_t)vlen + 1);

	if (!v)
		return ENOMEM;
	if (vlen)
		memcpy(v, value, vlen);
	v[vlen] = 0; /* so values can be used as strings in-process */
	free(n->value);
	n->value = v;
	n->vlen = vlen;
	return 0;
}

static const char *find_child(const struct xs_node *n, const char *name)
{
	for (uint32_t off = 0; off < n->clen; off += (uint32_t)strlen(n->children + off) + 1)
		if (!strcmp(n->children + off, name))
			return n->children + off;
	return NULL;
}

int xs_node_add_child(struct xs_node *n, const char *name)
{
	size_t len = strlen(name) + 1;
	char *c;

	if (find_child(n, name))
		return 0;
	c = realloc(n->children, n->clen + len);
	if (!c)
		return ENOMEM;
	memcpy(c + n->clen, name, len);
	n->children = c;
	n->clen += (uint32_t)len;
	return 0;
}

void xs_node_del_child(struct xs_node *n, const char *name)
{
	const char *c = find_child(n, name);
	size_t off, len;

	if (!c)
		return;
	off = (size_t)(c - n->children);
	len = strlen(c) + 1;
	memmove(n->children + off, n->children + off + len, n->clen - off - len);
	n->clen -= (uint32_t)len;
}

/* xenstored's record: a header (generation, three counts), 8 bytes per
 * permission, the value and the children list. */
size_t xs_node_size(const struct xs_node *n)
{
	return 24 + (size_t)n->perms.n * 8 + n->vlen + n->clen;
}

/* ---- permissions ---- */

int xs_perms_copy(struct xs_perms *dst, const struct xs_perms *src)
{
	dst->p = malloc(src->n * sizeof(*dst->p));
	if (!dst->p) {
		dst->n = 0;
		return ENOMEM;
	}
	memcpy(dst->p, src->p, src->n * sizeof(*dst->p));
	dst->n = src->n;
	return 0;
}

void xs_perms_free(struct xs_perms *p)
{
	free(p->p);
	p->p = NULL;
	p->n = 0;
}

static int perm_letter_bits(char c, uint32_t *bits)
{
	switch (c) {
	case 'n': *bits = XS_PERM_NONE; return 0;
	case 'r': *bits = XS_PERM_READ; return 0;
	case 'w': *bits = XS_PERM_WRITE; return 0;
	case 'b': *bits = XS_PERM_READ | XS_PERM_WRITE; return 0;
	default: return EINVAL;
	}
}

static int parse_domid(const char *s, uint32_t *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > 0xffff)
		return EINVAL;
	*out = (uint32_t)v;
	return 0;
}

int xs_perms_parse(struct xs_perms *out, const char *strs, unsigned n)
{
	out->n = 0;
	out->p = calloc(n ? n : 1, sizeof(*out->p));
	if (!out->p)
		return ENOMEM;
	for (unsigned i = 0; i < n; i++, strs += strlen(strs) + 1) {
		if (perm_letter_bits(strs[0], &out->p[i].perm) ||
		    parse_domid(strs + 1, &out->p[i].domid)) {
			xs_perms_free(out);
			return EINVAL;
		}
	}
	out->n = n;
	return 0;
}

size_t xs_perms_format(const struct xs_perms *p, char *buf, size_t cap)
{
	static const char letters[] = "nrwb";
	size_t len = 0;

	for (unsigned i = 0; i < p->n; i++) {
		int w = snprintf(buf + len, cap - len, "%c%u",
				 letters[p->p[i].perm & (XS_PERM_READ | XS_PERM_WRITE)],
				 p->p[i].domid);
		if (w < 0 || (size_t)w + 1 > cap - len)
			break;
		len += (size_t)w + 1; /* keep the NUL snprintf wrote */
	}
	return len;
}

/* xenstored's perm_for_conn: dom0 and the owner may do anything; others
 * get their own entry, else the owner entry's bits, which are the default. */
unsigned xs_perm_for(unsigned domid, const struct xs_perms *p)
{
	const unsigned all = XS_PERM_READ | XS_PERM_WRITE | XS_PERM_OWNER;

	if (domid == 0 || p->p[0].domid == domid)
		return all;
	for (unsigned i = 1; i < p->n; i++)
		if (p->p[i].domid == domid)
			return p->p[i].perm;
	return p->p[0].perm;
}

/* ---- paths ---- */

int xs_is_special(const char *path)
{
	return path[0] == '@';
}

static int valid_chars(const char *p)
{
	for (; *p; p++) {
		if (!(('a' <= *p && *p <= 'z') || ('A' <= *p && *p <= 'Z') ||
		      ('0' <= *p && *p <= '9') || strchr("-/_@", *p)))
			return 0;
	}
	return 1;
}

/* The part of a path a domain's quota counts: below /local/domain/<id>/. */
static size_t quota_path_len(const char *path)
{
	unsigned id;
	int off = 0;

	if (sscanf(path, "/local/domain/%5u/%n", &id, &off) == 1 && off > 0)
		return strlen(path) - (size_t)off;
	return strlen(path);
}

int xs_canonicalize(const struct xenstore *xs, unsigned domid, const char *in, char *buf,
		    size_t cap, int *relative)
{
	int n;

	*relative = in[0] != '/';
	n = *relative ? snprintf(buf, cap, XS_IMPLICIT_FMT "/%s", domid, in)
		      : snprintf(buf, cap, "%s", in);
	if (n < 0 || (size_t)n >= cap || (size_t)n > XENSTORE_ABS_PATH_MAX)
		return EINVAL;
	if (strstr(buf, "//") || (n > 1 && buf[n - 1] == '/') || !valid_chars(buf))
		return EINVAL;
	if (domid != 0 && quota_path_len(buf) > xs->quota.path_len)
		return EINVAL;
	return 0;
}

int xs_path_is_under(const char *p, const char *dir)
{
	size_t n = strlen(dir);

	if (!strcmp(dir, "/"))
		return p[0] == '/';
	return !strncmp(p, dir, n) && (p[n] == 0 || p[n] == '/');
}

void xs_parent_path(const char *path, char *buf)
{
	const char *slash = strrchr(path, '/');
	size_t n = slash && slash != path ? (size_t)(slash - path) : 1;

	memcpy(buf, path, n);
	buf[n] = 0;
}

const char *xs_basename(const char *path)
{
	return strrchr(path, '/') + 1;
}

/* ---- per-domain node counts ---- */

static struct xs_domain_count *find_count(const struct xenstore *xs, unsigned domid)
{
	for (struct xs_domain_count *d = xs->counts; d; d = d->next)
		if (d->domid == domid)
			return d;
	return NULL;
}

long xs_domain_nodes(const struct xenstore *xs, unsigned domid)
{
	const struct xs_domain_count *d = find_count(xs, domid);

	return d ? d->nodes : 0;
}

void xs_domain_account(struct xenstore *xs, unsigned domid, long delta)
{
	struct xs_domain_count *d = find_count(xs, domid);

	if (!d) {
		d = calloc(1, sizeof(*d));
		if (!d)
			return; /* only a quota count, and only under ENOMEM */
		d->domid = domid;
		d->next = xs->counts;
		xs->counts = d;
	}
	d->nodes += delta;
}
