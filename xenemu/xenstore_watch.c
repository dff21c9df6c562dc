/* Watches: clients' (path, token) pairs, the events a change sends them,
 * the special @introduceDomain/@releaseDomain events, and in-process
 * watches for xenkvm's own backends. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xenkvm/log.h"
#include "xenstore_impl.h"

struct xs_change *xs_change_new(const char *path, int exact, const struct xs_perms *perms,
				const struct xs_perms *old_perms)
{
	struct xs_change *ch = calloc(1, sizeof(*ch));

	if (!ch)
		return NULL;
	ch->exact = exact;
	ch->path = strdup(path);
	if (!ch->path || xs_perms_copy(&ch->perms, perms) ||
	    (old_perms && xs_perms_copy(&ch->old_perms, old_perms))) {
		xs_change_free(ch);
		return NULL;
	}
	return ch;
}

void xs_change_free(struct xs_change *ch)
{
	free(ch->path);
	xs_perms_free(&ch->perms);
	xs_perms_free(&ch->old_perms);
	free(ch);
}

static void watch_free(struct xs_watch *w)
{
	free(w->path);
	free(w->token);
	free(w);
}

static struct xs_watch *find_watch(struct xs_conn *conn, const char *path, const char *token,
				   struct xs_watch ***link)
{
	for (struct xs_watch **pp = &conn->watches; *pp; pp = &(*pp)->next) {
		if (!strcmp((*pp)->path, path) && !strcmp((*pp)->token, token)) {
			if (link)
				*link = pp;
			return *pp;
		}
	}
	return NULL;
}

/* The watched path in stored form; *strip is the relative prefix length. */
static int watch_path(struct xs_conn *conn, const char *in, char *buf, size_t cap, size_t *strip)
{
	int relative;
	int err;

	*strip = 0;
	if (xs_is_special(in)) {
		if (strlen(in) > XENSTORE_REL_PATH_MAX || strlen(in) >= cap)
			return EINVAL;
		strcpy(buf, in);
		return 0;
	}
	err = xs_canonicalize(conn->xs, conn->domid, in, buf, cap, &relative);
	if (!err && relative)
		*strip = (size_t)snprintf(NULL, 0, XS_IMPLICIT_FMT "/", conn->domid);
	return err;
}

int xs_watch_add(struct xs_conn *conn, const char *path, const char *token,
		 struct xs_watch **out)
{
	char buf[XENSTORE_ABS_PATH_MAX + 1];
	struct xs_watch *w;
	size_t strip;
	int err = watch_path(conn, path, buf, sizeof(buf), &strip);

	if (err)
		return err;
	if (find_watch(conn, buf, token, NULL))
		return EEXIST;
	if (conn->domid != 0 && conn->nwatches >= conn->xs->quota.watches)
		return E2BIG;
	w = calloc(1, sizeof(*w));
	if (w) {
		w->path = strdup(buf);
		w->token = strdup(token);
	}
	if (!w || !w->path || !w->token) {
		if (w)
			watch_free(w);
		return ENOMEM;
	}
	w->strip = strip;
	w->next = conn->watches;
	conn->watches = w;
	conn->nwatches++;
	*out = w;
	return 0;
}

int xs_watch_del(struct xs_conn *conn, const char *path, const char *token)
{
	char buf[XENSTORE_ABS_PATH_MAX + 1];
	struct xs_watch **link, *w;
	size_t strip;
	int err = watch_path(conn, path, buf, sizeof(buf), &strip);

	if (err)
		return err;
	w = find_watch(conn, buf, token, &link);
	if (!w)
		return ENOENT;
	*link = w->next;
	watch_free(w);
	conn->nwatches--;
	return 0;
}

void xs_watch_free_all(struct xs_conn *conn)
{
	while (conn->watches) {
		struct xs_watch *w = conn->watches;
		conn->watches = w->next;
		watch_free(w);
	}
	conn->nwatches = 0;
}

/* WATCH_EVENT: "path\0token\0", relative watches seeing relative paths. */
static void send_event(struct xs_conn *conn, const struct xs_watch *w, const char *path)
{
	char buf[XENSTORE_PAYLOAD_MAX];
	const char *p = strlen(path) > w->strip ? path + w->strip : path;
	size_t plen = strlen(p) + 1, tlen = strlen(w->token) + 1;

	if (plen + tlen > sizeof(buf)) {
		log_warn("xenstore: watch event for %s too long for the wire: dropped", path);
		return;
	}
	memcpy(buf, p, plen);
	memcpy(buf + plen, w->token, tlen);
	xs_conn_send(conn, XS_WATCH_EVENT, 0, 0, buf, plen + tlen);
}

void xs_watch_fire_initial(struct xs_conn *conn, const struct xs_watch *w)
{
	struct xs_ctx ctx = { .xs = conn->xs, .domid = conn->domid };

	if (xs_is_special(w->path) || xs_op_can_see(&ctx, w->path))
		send_event(conn, w, w->path);
}

static void queue_local(struct xenstore *xs, const struct xs_local_watch *lw, const char *path)
{
	struct xs_pending_local *p = calloc(1, sizeof(*p));

	if (p)
		p->path = strdup(path);
	if (!p || !p->path) {
		free(p);
		log_err("xenstore: out of memory: local watch on %s not run", lw->path);
		return;
	}
	p->fn = lw->fn;
	p->opaque = lw->opaque;
	*xs->pending_tail = p;
	xs->pending_tail = &p->next;
}

static int change_matches(const struct xs_change *ch, const char *watched)
{
	return ch->exact ? !strcmp(ch->path, watched) : xs_path_is_under(ch->path, watched);
}

/* A watcher hears about a node only if it could read it, before or after. */
static int can_read(unsigned domid, const struct xs_change *ch)
{
	return (xs_perm_for(domid, &ch->perms) & XS_PERM_READ) ||
	       (ch->old_perms.n && (xs_perm_for(domid, &ch->old_perms) & XS_PERM_READ));
}

void xs_fire_change(struct xenstore *xs, const struct xs_change *ch)
{
	for (struct xs_conn *c = xs->conns; c; c = c->next) {
		if (c->broken || !can_read(c->domid, ch))
			continue;
		for (const struct xs_watch *w = c->watches; w; w = w->next)
			if (!xs_is_special(w->path) && change_matches(ch, w->path))
				send_event(c, w, ch->path);
	}
	for (const struct xs_local_watch *lw = xs->local_watches; lw; lw = lw->next)
		if (change_matches(ch, lw->path))
			queue_local(xs, lw, ch->path);
}

void xs_fire_special(struct xenstore *xs, const char *name)
{
	const struct xs_perms *sp = xs_special_perms(xs, name);

	for (struct xs_conn *c = xs->conns; c; c = c->next) {
		if (c->broken || !(xs_perm_for(c->domid, sp) & XS_PERM_READ))
			continue;
		for (const struct xs_watch *w = c->watches; w; w = w->next)
			if (!strcmp(w->path, name))
				send_event(c, w, name);
	}
	for (const struct xs_local_watch *lw = xs->local_watches; lw; lw = lw->next)
		if (!strcmp(lw->path, name))
			queue_local(xs, lw, name);
}

/* ---- in-process watches ---- */

int xs_watch_local(struct xenstore *xs, const char *path, xs_watch_fn fn, void *opaque)
{
	struct xs_local_watch *lw = calloc(1, sizeof(*lw));

	if (lw)
		lw->path = strdup(path);
	if (!lw || !lw->path) {
		free(lw);
		return ENOMEM;
	}
	lw->fn = fn;
	lw->opaque = opaque;
	pthread_mutex_lock(&xs->lock);
	lw->next = xs->local_watches;
	xs->local_watches = lw;
	queue_local(xs, lw, path); /* the initial fire, as for clients */
	xs_unlock_and_run_local(xs);
	return 0;
}

static void drop_pending_for(struct xenstore *xs, xs_watch_fn fn, void *opaque)
{
	struct xs_pending_local **pp = &xs->pending;

	while (*pp) {
		struct xs_pending_local *p = *pp;
		if (p->fn == fn && p->opaque == opaque) {
			*pp = p->next;
			free(p->path);
			free(p);
		} else {
			pp = &p->next;
		}
	}
	xs->pending_tail = pp;
}

void xs_unwatch_local(struct xenstore *xs, const char *path, xs_watch_fn fn, void *opaque)
{
	pthread_mutex_lock(&xs->lock);
	for (struct xs_local_watch **pp = &xs->local_watches; *pp; pp = &(*pp)->next) {
		struct xs_local_watch *lw = *pp;
		if (lw->fn == fn && lw->opaque == opaque && !strcmp(lw->path, path)) {
			*pp = lw->next;
			free(lw->path);
			free(lw);
			break;
		}
	}
	drop_pending_for(xs, fn, opaque);
	pthread_mutex_unlock(&xs->lock);
}

/* Callbacks may call back into the store, so they run unlocked, one at a
 * time, each taken off the queue first. */
void xs_unlock_and_run_local(struct xenstore *xs)
{
	for (;;) {
		struct xs_pending_local *p = xs->pending;
		if (!p)
			break;
		xs->pending = p->next;
		if (!xs->pending)
			xs->pending_tail = &xs->pending;
		pthread_mutex_unlock(&xs->lock);
		p->fn(p->path, p->opaque);
		free(p->path);
		free(p);
		pthread_mutex_lock(&xs->lock);
	}
	pthread_mutex_unlock(&xs->lock);
}
