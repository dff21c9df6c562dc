/* Unit tests for the XenStore engine, driven through its wire protocol as
 * clients would: in-memory connections (dom0 and the guest), the guest's
 * shared ring with hostile indices, and the host Unix socket. */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <xen/io/xenbus.h>
#include <xen/io/xs_wire.h>

#include "run_suite.h"
#include "xenkvm/evloop.h"
#include "xenkvm/xenstore.h"

#define GUEST 1
#define HDR sizeof(struct xsd_sockmsg)

/* ---- an in-memory client ---- */

struct msg {
	struct xsd_sockmsg hdr;
	char body[XENSTORE_PAYLOAD_MAX + 1]; /* NUL-terminated for convenience */
};

struct client {
	struct xs_conn *conn;
	uint8_t out[1 << 18];
	size_t out_len;
	uint32_t next_req;
};

static struct xenstore *xs;
static struct client dom0, guest;

static void client_flush(struct xs_conn *c, void *opaque)
{
	struct client *cl = opaque;
	const uint8_t *p;
	size_t n;

	while ((n = xs_conn_output_peek(c, &p)) > 0) {
		ck_assert_uint_le(cl->out_len + n, sizeof(cl->out));
		memcpy(cl->out + cl->out_len, p, n);
		cl->out_len += n;
		xs_conn_output_done(c, n);
	}
}

static void client_open(struct client *cl, unsigned domid)
{
	memset(cl, 0, sizeof(*cl));
	cl->conn = xs_conn_open(xs, domid, client_flush, cl);
	ck_assert_ptr_nonnull(cl->conn);
	cl->next_req = 100;
}

static int send_raw(struct client *cl, uint32_t type, uint32_t tx, const void *p, uint32_t len)
{
	struct xsd_sockmsg h = { .type = type, .req_id = cl->next_req++, .tx_id = tx, .len = len };
	uint8_t buf[HDR + XENSTORE_PAYLOAD_MAX + 64];

	memcpy(buf, &h, HDR);
	memcpy(buf + HDR, p, len);
	return xs_conn_input(cl->conn, buf, HDR + len);
}

/* Take the first queued message of the wanted kind (event or not). */
static int take(struct client *cl, int want_event, struct msg *m)
{
	size_t off = 0;

	while (off + HDR <= cl->out_len) {
		struct xsd_sockmsg h;
		memcpy(&h, cl->out + off, HDR);
		ck_assert_uint_le(off + HDR + h.len, cl->out_len);
		if ((h.type == XS_WATCH_EVENT) == want_event) {
			m->hdr = h;
			memcpy(m->body, cl->out + off + HDR, h.len);
			m->body[h.len] = 0;
			memmove(cl->out + off, cl->out + off + HDR + h.len,
				cl->out_len - off - HDR - h.len);
			cl->out_len -= HDR + h.len;
			return 1;
		}
		off += HDR + h.len;
	}
	return 0;
}

/* One request and its reply: returns the reply type; body in m. */
static uint32_t req(struct client *cl, uint32_t type, uint32_t tx, const void *p, uint32_t len,
		    struct msg *m)
{
	uint32_t id = cl->next_req;

	ck_assert_int_eq(send_raw(cl, type, tx, p, len), 0);
	ck_assert(take(cl, 0, m));
	ck_assert_uint_eq(m->hdr.req_id, id);
	ck_assert_uint_eq(m->hdr.tx_id, tx);
	return m->hdr.type;
}

/* A request whose payload is a C string including its NUL. */
static uint32_t req_s(struct client *cl, uint32_t type, uint32_t tx, const char *s, struct msg *m)
{
	return req(cl, type, tx, s, (uint32_t)strlen(s) + 1, m);
}

/* A request with two strings ("a\0b\0"), as WATCH and DIRECTORY_PART send. */
static uint32_t req_2(struct client *cl, uint32_t type, uint32_t tx, const char *a, const char *b,
		      struct msg *m)
{
	char buf[XENSTORE_PAYLOAD_MAX];
	size_t la = strlen(a) + 1, lb = strlen(b) + 1;

	memcpy(buf, a, la);
	memcpy(buf + la, b, lb);
	return req(cl, type, tx, buf, (uint32_t)(la + lb), m);
}

static void expect_error(uint32_t type, const struct msg *m, const char *name)
{
	ck_assert_uint_eq(type, XS_ERROR);
	ck_assert_str_eq(m->body, name);
	ck_assert_uint_eq(m->hdr.len, strlen(name) + 1);
}

static void expect_ok(uint32_t type, const struct msg *m)
{
	ck_assert_msg(type != XS_ERROR, "error %s", m->body);
	ck_assert_str_eq(m->body, "OK");
}

/* WRITE path value (value without NUL). */
static uint32_t do_write(struct client *cl, uint32_t tx, const char *path, const char *value,
			 struct msg *m)
{
	char buf[XENSTORE_PAYLOAD_MAX + 16];
	size_t lp = strlen(path) + 1, lv = strlen(value);

	ck_assert_uint_le(lp + lv, sizeof(buf));
	memcpy(buf, path, lp);
	memcpy(buf + lp, value, lv);
	return req(cl, XS_WRITE, tx, buf, (uint32_t)(lp + lv), m);
}

static void write_ok(struct client *cl, uint32_t tx, const char *path, const char *value)
{
	struct msg m;

	expect_ok(do_write(cl, tx, path, value, &m), &m);
}

static void read_is(struct client *cl, uint32_t tx, const char *path, const char *value)
{
	struct msg m;

	ck_assert_uint_eq(req_s(cl, XS_READ, tx, path, &m), XS_READ);
	ck_assert_uint_eq(m.hdr.len, strlen(value));
	ck_assert_str_eq(m.body, value);
}

static void read_err(struct client *cl, uint32_t tx, const char *path, const char *err)
{
	struct msg m;

	expect_error(req_s(cl, XS_READ, tx, path, &m), &m, err);
}

static uint32_t tx_start(struct client *cl)
{
	struct msg m;

	ck_assert_uint_eq(req_s(cl, XS_TRANSACTION_START, 0, "", &m), XS_TRANSACTION_START);
	return (uint32_t)strtoul(m.body, NULL, 10);
}

static void expect_event(struct client *cl, const char *path, const char *token)
{
	struct msg m;

	ck_assert_msg(take(cl, 1, &m), "no event for %s", path);
	ck_assert_uint_eq(m.hdr.req_id, 0);
	ck_assert_str_eq(m.body, path);
	ck_assert_str_eq(m.body + strlen(path) + 1, token);
}

static void expect_no_event(struct client *cl)
{
	struct msg m;

	ck_assert_msg(!take(cl, 1, &m), "unexpected event %s", m.body);
}

static void setup_with(const struct xs_quota *q)
{
	xs = xs_create(GUEST, q);
	ck_assert_ptr_nonnull(xs);
	ck_assert_int_eq(xs_write_with_perms(xs, "/local/domain/1", "", "n0 r1"), 0);
	ck_assert_int_eq(xs_write_with_perms(xs, "/local/domain/1/data", "", "n1"), 0);
	client_open(&dom0, 0);
	client_open(&guest, GUEST);
}

static void setup(void)
{
	setup_with(NULL);
}

static void teardown(void)
{
	xs_destroy(xs);
	xs = NULL;
}

/* ---- basic operations ---- */

START_TEST(write_read_round_trip)
{
	write_ok(&dom0, 0, "/a/b/c", "hello");
	read_is(&dom0, 0, "/a/b/c", "hello");
	read_is(&dom0, 0, "/a/b", ""); /* parents are created empty */
	write_ok(&dom0, 0, "/a/b/c", "");
	read_is(&dom0, 0, "/a/b/c", "");
}
END_TEST

START_TEST(read_missing_is_enoent)
{
	read_err(&dom0, 0, "/nope", "ENOENT");
}
END_TEST

START_TEST(values_are_bytes)
{
	struct msg m;
	static const char payload[] = "/bin\0a\0b\x01";

	expect_ok(req(&dom0, XS_WRITE, 0, payload, sizeof(payload) - 1, &m), &m);
	ck_assert_uint_eq(req_s(&dom0, XS_READ, 0, "/bin", &m), XS_READ);
	ck_assert_uint_eq(m.hdr.len, 4);
	ck_assert_int_eq(memcmp(m.body, "a\0b\x01", 4), 0);
}
END_TEST

START_TEST(mkdir_existing_is_ok_and_keeps_value)
{
	struct msg m;

	write_ok(&dom0, 0, "/d", "v");
	expect_ok(req_s(&dom0, XS_MKDIR, 0, "/d", &m), &m);
	read_is(&dom0, 0, "/d", "v");
	expect_ok(req_s(&dom0, XS_MKDIR, 0, "/e/f", &m), &m);
	read_is(&dom0, 0, "/e/f", "");
}
END_TEST

START_TEST(directory_lists_children_in_order)
{
	struct msg m;

	write_ok(&dom0, 0, "/dir/x", "1");
	write_ok(&dom0, 0, "/dir/y", "2");
	write_ok(&dom0, 0, "/dir/x/z", "3");
	ck_assert_uint_eq(req_s(&dom0, XS_DIRECTORY, 0, "/dir", &m), XS_DIRECTORY);
	ck_assert_uint_eq(m.hdr.len, 4);
	ck_assert_int_eq(memcmp(m.body, "x\0y\0", 4), 0);
	ck_assert_uint_eq(req_s(&dom0, XS_DIRECTORY, 0, "/dir/y", &m), XS_DIRECTORY);
	ck_assert_uint_eq(m.hdr.len, 0);
}
END_TEST

START_TEST(rm_removes_subtree)
{
	struct msg m;

	write_ok(&dom0, 0, "/r/a/b", "1");
	write_ok(&dom0, 0, "/r/c", "2");
	expect_ok(req_s(&dom0, XS_RM, 0, "/r/a", &m), &m);
	read_err(&dom0, 0, "/r/a/b", "ENOENT");
	read_err(&dom0, 0, "/r/a", "ENOENT");
	ck_assert_uint_eq(req_s(&dom0, XS_DIRECTORY, 0, "/r", &m), XS_DIRECTORY);
	ck_assert_int_eq(memcmp(m.body, "c\0", 2), 0);
	/* Already gone but the parent exists: fine. Parent gone too: ENOENT. */
	expect_ok(req_s(&dom0, XS_RM, 0, "/r/a", &m), &m);
	expect_error(req_s(&dom0, XS_RM, 0, "/r/a/b", &m), &m, "ENOENT");
	expect_error(req_s(&dom0, XS_RM, 0, "/", &m), &m, "EINVAL");
}
END_TEST

START_TEST(relative_paths_live_under_the_domain)
{
	struct msg m;

	write_ok(&guest, 0, "data/rel", "x");
	read_is(&dom0, 0, "/local/domain/1/data/rel", "x");
	read_is(&guest, 0, "data/rel", "x");
	write_ok(&dom0, 0, "/local/domain/0/mine", "y");
	read_is(&dom0, 0, "mine", "y");
	ck_assert_uint_eq(req_s(&guest, XS_GET_DOMAIN_PATH, 0, "7", &m), XS_GET_DOMAIN_PATH);
	ck_assert_str_eq(m.body, "/local/domain/7");
	ck_assert_uint_eq(m.hdr.len, strlen("/local/domain/7") + 1);
	expect_error(req_s(&guest, XS_GET_DOMAIN_PATH, 0, "x", &m), &m, "EINVAL");
}
END_TEST

START_TEST(bad_paths_are_einval)
{
	read_err(&dom0, 0, "/a//b", "EINVAL");
	read_err(&dom0, 0, "/a/", "EINVAL");
	read_err(&dom0, 0, "/a b", "EINVAL");
	read_err(&guest, 0, "", "EINVAL");
}
END_TEST

START_TEST(directory_part_pages_a_long_list)
{
	char path[64], got[16384];
	size_t got_len = 0;
	unsigned off = 0;
	struct msg m;

	for (int i = 0; i < 400; i++) {
		snprintf(path, sizeof(path), "/big/child-with-a-long-name-%03d", i);
		write_ok(&dom0, 0, path, "");
	}
	expect_error(req_s(&dom0, XS_DIRECTORY, 0, "/big", &m), &m, "E2BIG");
	for (;;) {
		char offs[16];
		size_t glen, len;
		snprintf(offs, sizeof(offs), "%u", off);
		ck_assert_uint_eq(req_2(&dom0, XS_DIRECTORY_PART, 0, "/big", offs, &m),
				  XS_DIRECTORY_PART);
		glen = strlen(m.body) + 1;
		len = m.hdr.len - glen;
		ck_assert_uint_gt(len, 0);
		/* The last part ends with an empty name: a second NUL. */
		if (len == 1 || m.body[m.hdr.len - 2] == 0) {
			memcpy(got + got_len, m.body + glen, len - 1);
			got_len += len - 1;
			break;
		}
		memcpy(got + got_len, m.body + glen, len);
		got_len += len;
		off += (unsigned)len;
	}
	ck_assert_uint_eq(got_len, 400 * 27);
	ck_assert_str_eq(got, "child-with-a-long-name-000");
	ck_assert_str_eq(got + 399 * 27, "child-with-a-long-name-399");
}
END_TEST

/* ---- permissions ---- */

START_TEST(guest_cannot_read_dom0_nodes)
{
	write_ok(&dom0, 0, "/local/domain/0/secret", "s");
	read_err(&guest, 0, "/local/domain/0/secret", "EACCES");
	/* Absent under an unreadable parent: EACCES, not ENOENT (no leak). */
	read_err(&guest, 0, "/local/domain/0/nothing", "EACCES");
	/* Absent under a readable parent: ENOENT. */
	read_err(&guest, 0, "nothing", "ENOENT");
}
END_TEST

START_TEST(guest_writes_only_where_allowed)
{
	struct msg m;

	expect_error(do_write(&guest, 0, "foo", "x", &m), &m, "EACCES");
	expect_error(do_write(&guest, 0, "/local/domain/1", "x", &m), &m, "EACCES");
	write_ok(&guest, 0, "data/mine/deep", "x");
	/* New nodes inherit the parent's perms with the guest as owner. */
	ck_assert_uint_eq(req_s(&guest, XS_GET_PERMS, 0, "data/mine/deep", &m), XS_GET_PERMS);
	ck_assert_uint_eq(m.hdr.len, 3);
	ck_assert_str_eq(m.body, "n1");
	/* dom0's new nodes keep the parent's owner. */
	write_ok(&dom0, 0, "/local/domain/1/byzero", "x");
	ck_assert_uint_eq(req_s(&dom0, XS_GET_PERMS, 0, "/local/domain/1/byzero", &m),
			  XS_GET_PERMS);
	ck_assert_int_eq(memcmp(m.body, "n0\0r1\0", 6), 0);
	ck_assert_uint_eq(m.hdr.len, 6);
	read_is(&guest, 0, "byzero", "x");
	expect_error(do_write(&guest, 0, "byzero", "y", &m), &m, "EACCES");
	expect_error(req_s(&guest, XS_RM, 0, "byzero", &m), &m, "EACCES");
}
END_TEST

START_TEST(set_perms_rules)
{
	struct msg m;
	static const char give_away[] = "data/p\0n0";
	static const char share[] = "data/p\0n1\0r0\0b2";
	static const char bad[] = "data/p\0x1";
	static const char theirs[] = "/local/domain/1\0n1";

	write_ok(&guest, 0, "data/p", "v");
	expect_error(req(&guest, XS_SET_PERMS, 0, give_away, sizeof(give_away), &m), &m, "EPERM");
	expect_ok(req(&guest, XS_SET_PERMS, 0, share, sizeof(share), &m), &m);
	ck_assert_uint_eq(req_s(&dom0, XS_GET_PERMS, 0, "/local/domain/1/data/p", &m),
			  XS_GET_PERMS);
	ck_assert_uint_eq(m.hdr.len, sizeof(share) - 7);
	ck_assert_int_eq(memcmp(m.body, "n1\0r0\0b2\0", m.hdr.len), 0);
	expect_error(req(&guest, XS_SET_PERMS, 0, bad, sizeof(bad), &m), &m, "EINVAL");
	expect_error(req(&guest, XS_SET_PERMS, 0, theirs, sizeof(theirs), &m), &m, "EACCES");
	expect_error(req_s(&guest, XS_SET_PERMS, 0, "data/p", &m), &m, "EINVAL");
	/* dom0 may give anything to anyone. */
	expect_ok(req(&dom0, XS_SET_PERMS, 0, theirs, sizeof(theirs), &m), &m);
}
END_TEST

START_TEST(per_domain_perm_entries)
{
	struct msg m;
	static const char p[] = "/shared\0n0\0r1";

	write_ok(&dom0, 0, "/shared", "s");
	read_err(&guest, 0, "/shared", "EACCES");
	expect_ok(req(&dom0, XS_SET_PERMS, 0, p, sizeof(p), &m), &m);
	read_is(&guest, 0, "/shared", "s");
	expect_error(do_write(&guest, 0, "/shared", "t", &m), &m, "EACCES");
}
END_TEST

/* ---- transactions ---- */

START_TEST(transaction_view_is_private_until_commit)
{
	struct msg m;
	uint32_t t = tx_start(&guest);

	ck_assert_uint_ne(t, 0);
	write_ok(&guest, t, "data/t", "in-tx");
	read_is(&guest, t, "data/t", "in-tx");
	read_err(&guest, 0, "data/t", "ENOENT");
	expect_ok(req_s(&guest, XS_TRANSACTION_END, t, "T", &m), &m);
	read_is(&guest, 0, "data/t", "in-tx");
}
END_TEST

START_TEST(transaction_abort_discards)
{
	struct msg m;
	uint32_t t;

	write_ok(&guest, 0, "data/keep", "old");
	t = tx_start(&guest);
	write_ok(&guest, t, "data/keep", "new");
	expect_ok(req_s(&guest, XS_RM, t, "data/keep", &m), &m);
	expect_ok(req_s(&guest, XS_TRANSACTION_END, t, "F", &m), &m);
	read_is(&guest, 0, "data/keep", "old");
	/* The transaction is gone. */
	read_err(&guest, t, "data/keep", "ENOENT");
}
END_TEST

START_TEST(transaction_commits_despite_unrelated_changes)
{
	struct msg m;
	uint32_t t;

	write_ok(&guest, 0, "data/a", "1");
	write_ok(&guest, 0, "data/b", "1");
	t = tx_start(&guest);
	read_is(&guest, t, "data/a", "1");
	write_ok(&guest, t, "data/a", "2");
	write_ok(&dom0, 0, "/local/domain/1/data/b", "changed"); /* not touched by t */
	write_ok(&dom0, 0, "/elsewhere", "x");
	expect_ok(req_s(&guest, XS_TRANSACTION_END, t, "T", &m), &m);
	read_is(&guest, 0, "data/a", "2");
}
END_TEST

START_TEST(transaction_conflict_is_eagain)
{
	struct msg m;
	uint32_t t;

	write_ok(&guest, 0, "data/a", "1");
	t = tx_start(&guest);
	read_is(&guest, t, "data/a", "1");
	write_ok(&guest, t, "data/other", "x");
	write_ok(&dom0, 0, "/local/domain/1/data/a", "theirs");
	expect_error(req_s(&guest, XS_TRANSACTION_END, t, "T", &m), &m, "EAGAIN");
	read_is(&guest, 0, "data/a", "theirs");
	read_err(&guest, 0, "data/other", "ENOENT");
}
END_TEST

START_TEST(transaction_conflict_on_created_node)
{
	struct msg m;
	uint32_t t = tx_start(&guest);

	read_err(&guest, t, "data/new", "ENOENT");
	write_ok(&guest, 0, "data/new", "raced");
	write_ok(&guest, t, "data/new", "mine");
	expect_error(req_s(&guest, XS_TRANSACTION_END, t, "T", &m), &m, "EAGAIN");
	read_is(&guest, 0, "data/new", "raced");
}
END_TEST

START_TEST(transaction_conflict_on_removed_node)
{
	struct msg m;
	uint32_t t;

	write_ok(&guest, 0, "data/gone", "1");
	t = tx_start(&guest);
	write_ok(&guest, t, "data/gone", "2");
	expect_ok(req_s(&dom0, XS_RM, 0, "/local/domain/1/data/gone", &m), &m);
	expect_error(req_s(&guest, XS_TRANSACTION_END, t, "T", &m), &m, "EAGAIN");
}
END_TEST

START_TEST(transaction_bad_ids_and_args)
{
	struct msg m;
	uint32_t t;

	read_err(&guest, 12345, "data", "ENOENT");
	expect_error(req_s(&guest, XS_TRANSACTION_END, 0, "T", &m), &m, "ENOENT");
	expect_error(req_s(&guest, XS_TRANSACTION_END, 999, "T", &m), &m, "ENOENT");
	t = tx_start(&guest);
	expect_error(req_s(&guest, XS_TRANSACTION_END, t, "X", &m), &m, "EINVAL");
	expect_error(req_s(&guest, XS_TRANSACTION_START, t, "", &m), &m, "EBUSY");
	/* Another connection's id is not ours. */
	read_err(&dom0, t, "/", "ENOENT");
	expect_ok(req_s(&guest, XS_TRANSACTION_END, t, "F", &m), &m);
}
END_TEST

START_TEST(transaction_directory_sees_its_own_children)
{
	struct msg m;
	uint32_t t = tx_start(&guest);

	write_ok(&guest, t, "data/kid", "1");
	ck_assert_uint_eq(req_s(&guest, XS_DIRECTORY, t, "data", &m), XS_DIRECTORY);
	ck_assert_int_eq(memcmp(m.body, "kid\0", 4), 0);
	ck_assert_uint_eq(req_s(&guest, XS_DIRECTORY, 0, "data", &m), XS_DIRECTORY);
	ck_assert_uint_eq(m.hdr.len, 0);
	expect_ok(req_s(&guest, XS_TRANSACTION_END, t, "T", &m), &m);
}
END_TEST

/* ---- watches ---- */

START_TEST(watch_fires_initially_and_on_changes)
{
	struct msg m;

	expect_ok(req_2(&dom0, XS_WATCH, 0, "/w", "tok", &m), &m);
	expect_event(&dom0, "/w", "tok");
	expect_no_event(&dom0);
	write_ok(&dom0, 0, "/w", "1");
	expect_event(&dom0, "/w", "tok");
	write_ok(&dom0, 0, "/w/child/deep", "1");
	expect_event(&dom0, "/w/child/deep", "tok");
	write_ok(&dom0, 0, "/wx", "1"); /* a sibling with a common prefix */
	expect_no_event(&dom0);
	expect_ok(req_s(&dom0, XS_RM, 0, "/w", &m), &m);
	expect_event(&dom0, "/w", "tok");
	expect_no_event(&dom0);
}
END_TEST

START_TEST(watch_on_child_fires_when_parent_removed)
{
	struct msg m;

	write_ok(&dom0, 0, "/p/c", "1");
	expect_ok(req_2(&dom0, XS_WATCH, 0, "/p/c", "child", &m), &m);
	expect_event(&dom0, "/p/c", "child");
	expect_ok(req_s(&dom0, XS_RM, 0, "/p", &m), &m);
	expect_event(&dom0, "/p/c", "child");
	expect_no_event(&dom0);
}
END_TEST

START_TEST(relative_watch_gets_relative_paths)
{
	struct msg m;

	expect_ok(req_2(&guest, XS_WATCH, 0, "data", "rel", &m), &m);
	expect_event(&guest, "data", "rel");
	write_ok(&dom0, 0, "/local/domain/1/data/x", "1");
	expect_event(&guest, "data/x", "rel");
}
END_TEST

START_TEST(watch_duplicates_and_unwatch)
{
	struct msg m;

	expect_ok(req_2(&dom0, XS_WATCH, 0, "/u", "a", &m), &m);
	expect_error(req_2(&dom0, XS_WATCH, 0, "/u", "a", &m), &m, "EEXIST");
	expect_ok(req_2(&dom0, XS_WATCH, 0, "/u", "b", &m), &m);
	expect_event(&dom0, "/u", "a");
	expect_event(&dom0, "/u", "b");
	expect_ok(req_2(&dom0, XS_UNWATCH, 0, "/u", "a", &m), &m);
	expect_error(req_2(&dom0, XS_UNWATCH, 0, "/u", "a", &m), &m, "ENOENT");
	write_ok(&dom0, 0, "/u", "1");
	expect_event(&dom0, "/u", "b");
	expect_no_event(&dom0);
	expect_error(req_s(&dom0, XS_WATCH, 0, "/u", &m), &m, "EINVAL");
}
END_TEST

START_TEST(reset_watches_forgets_everything)
{
	struct msg m;
	uint32_t t;

	expect_ok(req_2(&guest, XS_WATCH, 0, "data", "x", &m), &m);
	expect_event(&guest, "data", "x");
	t = tx_start(&guest);
	expect_ok(req_s(&guest, XS_RESET_WATCHES, 0, "", &m), &m);
	write_ok(&guest, 0, "data/q", "1");
	expect_no_event(&guest);
	read_err(&guest, t, "data", "ENOENT"); /* the transaction went too */
}
END_TEST

START_TEST(watch_events_respect_read_permission)
{
	struct msg m;

	expect_ok(req_2(&guest, XS_WATCH, 0, "/local/domain/0", "t", &m), &m);
	expect_no_event(&guest); /* cannot read it: no initial event */
	write_ok(&dom0, 0, "/local/domain/0/x", "1");
	expect_no_event(&guest);
	expect_ok(req_2(&guest, XS_WATCH, 0, "/", "root", &m), &m);
	expect_no_event(&guest);
	write_ok(&dom0, 0, "/local/domain/1/data/seen", "1");
	expect_event(&guest, "/local/domain/1/data/seen", "root");
}
END_TEST

START_TEST(transaction_events_fire_at_commit)
{
	struct msg m;
	uint32_t t;

	expect_ok(req_2(&dom0, XS_WATCH, 0, "/local/domain/1/data", "d", &m), &m);
	expect_event(&dom0, "/local/domain/1/data", "d");
	t = tx_start(&guest);
	write_ok(&guest, t, "data/a", "1");
	expect_no_event(&dom0);
	expect_ok(req_s(&guest, XS_TRANSACTION_END, t, "T", &m), &m);
	expect_event(&dom0, "/local/domain/1/data/a", "d");
	t = tx_start(&guest);
	write_ok(&guest, t, "data/b", "1");
	expect_ok(req_s(&guest, XS_TRANSACTION_END, t, "F", &m), &m);
	expect_no_event(&dom0);
}
END_TEST

START_TEST(special_watches)
{
	struct msg m;
	static uint8_t page[4096] __attribute__((aligned(4096)));

	expect_ok(req_2(&dom0, XS_WATCH, 0, "@introduceDomain", "i", &m), &m);
	expect_event(&dom0, "@introduceDomain", "i");
	expect_ok(req_2(&dom0, XS_WATCH, 0, "@releaseDomain", "r", &m), &m);
	expect_event(&dom0, "@releaseDomain", "r");
	expect_ok(req_2(&guest, XS_WATCH, 0, "@releaseDomain", "g", &m), &m);
	expect_event(&guest, "@releaseDomain", "g"); /* the initial one always comes */
	memset(page, 0, sizeof(page));
	ck_assert_int_eq(xs_ring_attach(xs, page, (xs_notify_fn)abort, NULL), 0);
	expect_event(&dom0, "@introduceDomain", "i");
	ck_assert_uint_eq(req_s(&dom0, XS_IS_DOMAIN_INTRODUCED, 0, "1", &m),
			  XS_IS_DOMAIN_INTRODUCED);
	ck_assert_str_eq(m.body, "T");
	ck_assert_uint_eq(req_s(&dom0, XS_IS_DOMAIN_INTRODUCED, 0, "5", &m),
			  XS_IS_DOMAIN_INTRODUCED);
	ck_assert_str_eq(m.body, "F");
	expect_ok(req_s(&dom0, XS_RELEASE, 0, "1", &m), &m);
	expect_event(&dom0, "@releaseDomain", "r");
	expect_no_event(&guest); /* @releaseDomain is dom0's (perms n0) */
	expect_error(req_s(&dom0, XS_RELEASE, 0, "1", &m), &m, "ENOENT");
	ck_assert_uint_eq(req_s(&dom0, XS_GET_PERMS, 0, "@releaseDomain", &m), XS_GET_PERMS);
	ck_assert_str_eq(m.body, "n0");
}
END_TEST

static int local_calls;
static char local_last[64];

static void local_cb(const char *path, void *opaque)
{
	local_calls++;
	snprintf(local_last, sizeof(local_last), "%s", path);
	/* Callbacks run unlocked: calling back in must work. */
	ck_assert_int_eq(xs_xenbus_state(xs, "/be"), *(int *)opaque);
}

START_TEST(local_watch_and_xenbus_state)
{
	static int expect_state;

	local_calls = 0;
	expect_state = XenbusStateUnknown;
	ck_assert_int_eq(xs_watch_local(xs, "/be", local_cb, &expect_state), 0);
	ck_assert_int_eq(local_calls, 1);
	ck_assert_str_eq(local_last, "/be");
	expect_state = XenbusStateInitWait;
	ck_assert_int_eq(xs_xenbus_switch_state(xs, "/be", XenbusStateInitWait), 0);
	ck_assert_int_eq(local_calls, 2);
	ck_assert_str_eq(local_last, "/be/state");
	/* Unchanged state: no write, no event. */
	ck_assert_int_eq(xs_xenbus_switch_state(xs, "/be", XenbusStateInitWait), 0);
	ck_assert_int_eq(local_calls, 2);
	xs_unwatch_local(xs, "/be", local_cb, &expect_state);
	expect_state = XenbusStateConnected;
	ck_assert_int_eq(xs_xenbus_switch_state(xs, "/be", XenbusStateConnected), 0);
	ck_assert_int_eq(local_calls, 2);
	ck_assert_int_eq(xs_xenbus_state(xs, "/be"), XenbusStateConnected);
}
END_TEST

/* ---- quotas ---- */

static void setup_small_quota(void)
{
	struct xs_quota q;

	xs_quota_defaults(&q);
	q.nodes_per_domain = 5;
	q.node_size = 100;
	q.path_len = 40;
	q.watches = 2;
	q.transactions = 2;
	q.perms_per_node = 2;
	q.txn_nodes = 8;
	setup_with(&q);
}

START_TEST(quota_nodes_per_domain)
{
	struct msg m;

	/* The guest owns data already (1 node): four more fit. */
	write_ok(&guest, 0, "data/1", "");
	write_ok(&guest, 0, "data/2", "");
	write_ok(&guest, 0, "data/3/4", "");
	expect_error(do_write(&guest, 0, "data/5/6", "", &m), &m, "ENOSPC");
	read_err(&guest, 0, "data/5", "ENOENT"); /* nothing half-made */
	expect_ok(req_s(&guest, XS_RM, 0, "data/3", &m), &m);
	write_ok(&guest, 0, "data/5/6", "");
	/* dom0 is not limited. */
	for (int i = 0; i < 10; i++) {
		char p[32];
		snprintf(p, sizeof(p), "/local/domain/1/data/z%d", i);
		write_ok(&dom0, 0, p, "");
	}
}
END_TEST

START_TEST(quota_node_size)
{
	char big[200];
	struct msg m;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	expect_error(do_write(&guest, 0, "data/big", big, &m), &m, "ENOSPC");
	write_ok(&guest, 0, "data/small", "x");
	expect_error(do_write(&guest, 0, "data/small", big, &m), &m, "ENOSPC");
	read_is(&guest, 0, "data/small", "x");
	write_ok(&dom0, 0, "/local/domain/1/data/small", big);
}
END_TEST

START_TEST(quota_path_length)
{
	char p[128];

	memset(p, 'a', 45);
	p[45] = 0;
	read_err(&guest, 0, p, "EINVAL");
	p[40] = 0;
	read_err(&guest, 0, p, "ENOENT");
}
END_TEST

START_TEST(abs_path_limit)
{
	static char p[XENSTORE_ABS_PATH_MAX + 8];

	p[0] = '/';
	memset(p + 1, 'a', XENSTORE_ABS_PATH_MAX);
	p[XENSTORE_ABS_PATH_MAX + 1] = 0;
	read_err(&dom0, 0, p, "EINVAL");
	p[XENSTORE_ABS_PATH_MAX] = 0;
	read_err(&dom0, 0, p, "ENOENT");
}
END_TEST

START_TEST(quota_watches)
{
	struct msg m;

	expect_ok(req_2(&guest, XS_WATCH, 0, "data", "1", &m), &m);
	expect_ok(req_2(&guest, XS_WATCH, 0, "data", "2", &m), &m);
	expect_error(req_2(&guest, XS_WATCH, 0, "data", "3", &m), &m, "E2BIG");
	expect_ok(req_2(&guest, XS_UNWATCH, 0, "data", "1", &m), &m);
	expect_ok(req_2(&guest, XS_WATCH, 0, "data", "3", &m), &m);
}
END_TEST

START_TEST(quota_transactions)
{
	struct msg m;
	uint32_t t1 = tx_start(&guest), t2 = tx_start(&guest);

	ck_assert_uint_ne(t1, t2);
	expect_error(req_s(&guest, XS_TRANSACTION_START, 0, "", &m), &m, "ENOSPC");
	expect_ok(req_s(&guest, XS_TRANSACTION_END, t1, "F", &m), &m);
	tx_start(&guest);
}
END_TEST

START_TEST(quota_transaction_nodes)
{
	struct msg m;
	uint32_t t = tx_start(&guest);
	char p[32];
	int i;

	for (i = 0; i < 20; i++) {
		snprintf(p, sizeof(p), "data/n%d", i);
		if (req_s(&guest, XS_READ, t, p, &m) == XS_ERROR && !strcmp(m.body, "ENOSPC"))
			break;
	}
	ck_assert_int_lt(i, 20);
}
END_TEST

START_TEST(quota_perms_per_node)
{
	struct msg m;
	static const char three[] = "data/q\0n1\0r0\0r2";

	write_ok(&guest, 0, "data/q", "");
	expect_error(req(&guest, XS_SET_PERMS, 0, three, sizeof(three), &m), &m, "ENOSPC");
}
END_TEST

/* ---- malformed messages ---- */

START_TEST(oversized_message_breaks_the_connection)
{
	struct xsd_sockmsg h = { .type = XS_READ, .req_id = 1, .len = XENSTORE_PAYLOAD_MAX + 1 };

	ck_assert_int_eq(xs_conn_input(guest.conn, &h, sizeof(h)), -1);
	ck_assert_uint_eq(xs_conn_input_want(guest.conn), 0);
	ck_assert_uint_eq(guest.out_len, 0);
	read_is(&dom0, 0, "/local/domain/1/data", ""); /* others are unaffected */
}
END_TEST

START_TEST(missing_nul_and_unknown_types)
{
	struct msg m;

	expect_error(req(&guest, XS_READ, 0, "data", 4, &m), &m, "EINVAL");
	expect_error(req(&guest, XS_READ, 0, "", 0, &m), &m, "EINVAL");
	expect_error(req(&guest, XS_READ, 0, "data\0x", 7, &m), &m, "EINVAL");
	expect_error(req(&guest, XS_WRITE, 0, "data/x", 6, &m), &m, "EINVAL");
	expect_error(req(&guest, XS_WATCH, 0, "data\0tok", 8, &m), &m, "EINVAL");
	expect_error(req_s(&guest, 999, 0, "", &m), &m, "ENOSYS");
	expect_error(req_s(&guest, XS_WATCH_EVENT, 0, "", &m), &m, "ENOSYS");
	expect_error(req_s(&guest, XS_ERROR, 0, "", &m), &m, "ENOSYS");
	read_is(&guest, 0, "data", ""); /* still serving */
}
END_TEST

START_TEST(privileged_ops_refused_to_guest)
{
	static const uint32_t ops[] = { XS_INTRODUCE, XS_RELEASE, XS_IS_DOMAIN_INTRODUCED,
					XS_RESUME, XS_SET_TARGET, XS_CONTROL };
	struct msg m;

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		expect_error(req_s(&guest, ops[i], 0, "1", &m), &m, "EACCES");
}
END_TEST

START_TEST(privileged_ops_for_dom0)
{
	static const char intro_other[] = "5\0" "1234\0" "3";
	static const char target[] = "0\0" "1";
	struct msg m;

	expect_error(req(&dom0, XS_INTRODUCE, 0, intro_other, sizeof(intro_other), &m), &m,
		     "EINVAL");
	expect_error(req_s(&dom0, XS_RESUME, 0, "5", &m), &m, "ENOENT");
	expect_error(req(&dom0, XS_SET_TARGET, 0, target, sizeof(target), &m), &m, "ENOENT");
	expect_ok(req_s(&dom0, XS_CONTROL, 0, "check", &m), &m);
	ck_assert_uint_eq(req_s(&dom0, XS_CONTROL, 0, "quota", &m), XS_CONTROL);
	ck_assert_ptr_nonnull(strstr(m.body, "Nodes per domain:       1000"));
	expect_error(req_s(&dom0, XS_CONTROL, 0, "frobnicate", &m), &m, "EINVAL");
}
END_TEST

START_TEST(outstanding_replies_stall_input)
{
	struct xs_conn *c = xs_conn_open(xs, GUEST, NULL, NULL); /* never drained */
	struct xsd_sockmsg h = { .type = XS_READ, .len = 5 };
	uint8_t buf[sizeof(h) + 5];
	const uint8_t *p;
	int sent = 0;

	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), "data", 5);
	while (xs_conn_input_want(c) && sent < 100) {
		ck_assert_int_eq(xs_conn_input(c, buf, sizeof(buf)), 0);
		sent++;
	}
	ck_assert_int_eq(sent, 20);
	ck_assert_uint_gt(xs_conn_output_peek(c, &p), 0);
	xs_conn_output_done(c, sizeof(h) + 0); /* the first reply's header and empty value */
	ck_assert_uint_eq(xs_conn_input_want(c), sizeof(h));
	xs_conn_close(c);
}
END_TEST

/* ---- the guest ring ---- */

struct ring_guest {
	struct xenstore_domain_interface *intf;
	int notified;
};

static uint8_t ring_page[4096] __attribute__((aligned(4096)));
static struct ring_guest rg;

static void ring_notify(void *opaque)
{
	((struct ring_guest *)opaque)->notified++;
}

static void ring_setup(void)
{
	setup();
	memset(ring_page, 0, sizeof(ring_page));
	rg.intf = (void *)ring_page;
	rg.notified = 0;
}

static void attach_at(uint32_t start)
{
	rg.intf->req_cons = rg.intf->req_prod = start;
	rg.intf->rsp_cons = rg.intf->rsp_prod = start;
	ck_assert_int_eq(xs_ring_attach(xs, ring_page, ring_notify, &rg), 0);
	ck_assert_uint_eq(rg.intf->server_features,
			  XENSTORE_SERVER_FEATURE_RECONNECTION | XENSTORE_SERVER_FEATURE_ERROR);
}

/* The guest side: put bytes in the request ring (no kick). */
static void guest_put(const void *data, size_t len)
{
	const uint8_t *p = data;

	ck_assert_uint_le(rg.intf->req_prod - rg.intf->req_cons + len, XENSTORE_RING_SIZE);
	for (size_t i = 0; i < len; i++)
		rg.intf->req[MASK_XENSTORE_IDX(rg.intf->req_prod + i)] = (char)p[i];
	rg.intf->req_prod += (uint32_t)len;
}

static void guest_put_msg(uint32_t type, uint32_t req_id, const void *payload, uint32_t len)
{
	struct xsd_sockmsg h = { .type = type, .req_id = req_id, .len = len };

	guest_put(&h, sizeof(h));
	guest_put(payload, len);
}

static size_t guest_get(void *data, size_t len)
{
	uint8_t *p = data;
	size_t n = 0;

	while (n < len && rg.intf->rsp_cons != rg.intf->rsp_prod) {
		p[n++] = (uint8_t)rg.intf->rsp[MASK_XENSTORE_IDX(rg.intf->rsp_cons)];
		rg.intf->rsp_cons++;
	}
	return n;
}

static void guest_get_msg(struct msg *m)
{
	ck_assert_uint_eq(guest_get(&m->hdr, sizeof(m->hdr)), sizeof(m->hdr));
	ck_assert_uint_le(m->hdr.len, XENSTORE_PAYLOAD_MAX);
	ck_assert_uint_eq(guest_get(m->body, m->hdr.len), m->hdr.len);
	m->body[m->hdr.len] = 0;
}

START_TEST(ring_round_trip_across_the_wrap)
{
	struct msg m;

	attach_at(0xfffffff0u); /* indices wrap 32 bits and the buffer at once */
	for (int i = 0; i < 40; i++) {
		char path[32];
		snprintf(path, sizeof(path), "data/k%02d", i);
		guest_put_msg(XS_READ, (uint32_t)i, path, (uint32_t)strlen(path) + 1);
		xs_ring_kick(xs);
		guest_get_msg(&m);
		ck_assert_uint_eq(m.hdr.req_id, (uint32_t)i);
		ck_assert_uint_eq(m.hdr.type, XS_ERROR);
		ck_assert_str_eq(m.body, "ENOENT");
	}
	ck_assert_int_ge(rg.notified, 40);
	ck_assert_uint_eq(rg.intf->error, XENSTORE_ERROR_NONE);
	ck_assert_uint_eq(rg.intf->req_cons, rg.intf->req_prod);
}
END_TEST

START_TEST(ring_message_split_across_kicks)
{
	static const char w[] = "data/split\0value";
	struct xsd_sockmsg h = { .type = XS_WRITE, .req_id = 7, .len = sizeof(w) - 1 };
	struct msg m;

	attach_at(0);
	guest_put(&h, 5);
	xs_ring_kick(xs);
	guest_put((uint8_t *)&h + 5, sizeof(h) - 5);
	guest_put(w, 3);
	xs_ring_kick(xs);
	ck_assert_uint_eq(rg.intf->rsp_prod, rg.intf->rsp_cons); /* nothing yet */
	guest_put(w + 3, sizeof(w) - 4);
	xs_ring_kick(xs);
	guest_get_msg(&m);
	ck_assert_uint_eq(m.hdr.type, XS_WRITE);
	ck_assert_uint_eq(m.hdr.req_id, 7);
	read_is(&dom0, 0, "/local/domain/1/data/split", "value");
}
END_TEST

START_TEST(ring_full_response_ring_waits_for_the_guest)
{
	enum { VLEN = 999, REPLY = HDR + VLEN };
	static uint8_t got[3 * REPLY];
	char big[VLEN + 1];
	size_t have = 0;

	memset(big, 'v', VLEN);
	big[VLEN] = 0;
	ck_assert_int_eq(xs_write(xs, "/local/domain/1/data/big", big), 0);
	attach_at(0);
	for (int i = 0; i < 3; i++)
		guest_put_msg(XS_READ, (uint32_t)i, "data/big", 9);
	xs_ring_kick(xs); /* three ~1 KiB replies cannot fit in the 1 KiB ring */
	ck_assert_uint_eq(rg.intf->rsp_prod - rg.intf->rsp_cons, XENSTORE_RING_SIZE);
	for (int spins = 0; have < sizeof(got) && spins < 100; spins++) {
		have += guest_get(got + have, 300 < sizeof(got) - have ? 300 : sizeof(got) - have);
		xs_ring_kick(xs);
	}
	ck_assert_uint_eq(have, sizeof(got));
	for (int i = 0; i < 3; i++) {
		struct xsd_sockmsg h;
		memcpy(&h, got + i * REPLY, HDR);
		ck_assert_uint_eq(h.type, XS_READ);
		ck_assert_uint_eq(h.req_id, (uint32_t)i);
		ck_assert_uint_eq(h.len, VLEN);
		ck_assert_int_eq(memcmp(got + i * REPLY + HDR, big, VLEN), 0);
	}
	ck_assert_uint_eq(rg.intf->error, XENSTORE_ERROR_NONE);
}
END_TEST

START_TEST(ring_lying_producer_sets_error)
{
	struct msg m;

	attach_at(0);
	rg.intf->req_prod = 5000;
	xs_ring_kick(xs);
	ck_assert_uint_eq(rg.intf->error, XENSTORE_ERROR_RINGIDX);
	ck_assert_uint_eq(rg.intf->req_cons, 0);
	/* Stopped: more kicks do nothing; dom0 keeps working. */
	xs_ring_kick(xs);
	ck_assert_uint_eq(rg.intf->rsp_prod, 0);
	read_is(&dom0, 0, "/local/domain/1/data", "");
	/* Reconnection brings it back. */
	rg.intf->connection = XENSTORE_RECONNECT;
	xs_ring_kick(xs);
	ck_assert_uint_eq(rg.intf->connection, XENSTORE_CONNECTED);
	ck_assert_uint_eq(rg.intf->error, XENSTORE_ERROR_NONE);
	ck_assert_uint_eq(rg.intf->req_prod, 0);
	guest_put_msg(XS_READ, 9, "data", 5);
	xs_ring_kick(xs);
	guest_get_msg(&m);
	ck_assert_uint_eq(m.hdr.type, XS_READ);
	ck_assert_uint_eq(m.hdr.req_id, 9);
}
END_TEST

START_TEST(ring_lying_consumer_sets_error)
{
	attach_at(0);
	rg.intf->rsp_cons = 0x80000000u;
	guest_put_msg(XS_READ, 1, "data", 5);
	xs_ring_kick(xs);
	ck_assert_uint_eq(rg.intf->error, XENSTORE_ERROR_RINGIDX);
	ck_assert_uint_eq(rg.intf->rsp_prod, 0);
}
END_TEST

START_TEST(ring_oversized_message_sets_error)
{
	struct xsd_sockmsg h = { .type = XS_READ, .len = 100000 };

	attach_at(0);
	guest_put(&h, sizeof(h));
	xs_ring_kick(xs);
	ck_assert_uint_eq(rg.intf->error, XENSTORE_ERROR_PROTO);
}
END_TEST

START_TEST(ring_reconnect_drops_watches)
{
	struct msg m;
	static const char w[] = "data\0tok";

	attach_at(0);
	guest_put_msg(XS_WATCH, 1, w, sizeof(w));
	xs_ring_kick(xs);
	guest_get_msg(&m);
	ck_assert_str_eq(m.body, "OK");
	guest_get_msg(&m);
	ck_assert_uint_eq(m.hdr.type, XS_WATCH_EVENT);
	rg.intf->connection = XENSTORE_RECONNECT;
	xs_ring_kick(xs);
	ck_assert_int_eq(xs_write(xs, "/local/domain/1/data/x", "1"), 0);
	ck_assert_uint_eq(rg.intf->rsp_prod, 0);
}
END_TEST

START_TEST(ring_watch_event_from_another_client)
{
	struct msg m;
	static const char w[] = "data\0tok";

	attach_at(0);
	guest_put_msg(XS_WATCH, 1, w, sizeof(w));
	xs_ring_kick(xs);
	guest_get_msg(&m);
	guest_get_msg(&m);
	rg.notified = 0;
	write_ok(&dom0, 0, "/local/domain/1/data/y", "1");
	ck_assert_int_ge(rg.notified, 1);
	guest_get_msg(&m);
	ck_assert_uint_eq(m.hdr.type, XS_WATCH_EVENT);
	ck_assert_str_eq(m.body, "data/y");
}
END_TEST

/* ---- the toolstack tree ---- */

START_TEST(populate_domain_layout)
{
	struct xs_domain_info info = {
		.domid = 1, .name = "guest", .uuid = "00000000-0000-0000-0000-000000000001",
		.target_kib = 262144, .max_kib = 262144, .vcpus = 2,
		.store_gfn = 0xfeffb, .store_port = 2, .console_gfn = 0xfeff8, .console_port = 1,
	};
	struct msg m;

	ck_assert_int_eq(xs_populate_domain(xs, &info), 0);
	read_is(&guest, 0, "name", "guest");
	read_is(&guest, 0, "domid", "1");
	read_is(&guest, 0, "vm", "/vm/00000000-0000-0000-0000-000000000001");
	read_is(&guest, 0, "memory/target", "262144");
	read_is(&guest, 0, "cpu/1/availability", "online");
	read_is(&guest, 0, "store/ring-ref", "1044475");
	read_is(&guest, 0, "console/ring-ref", "1044472");
	read_is(&guest, 0, "console/port", "1");
	read_is(&guest, 0, "console/type", "xenconsoled");
	read_is(&dom0, 0, "/local/domain/0/name", "Domain-0");
	read_is(&dom0, 0, "/vm/00000000-0000-0000-0000-000000000001/name", "guest");
	/* The guest may write control/shutdown (it acknowledges with "") and
	 * feature-*, but not control itself. */
	write_ok(&guest, 0, "control/shutdown", "");
	write_ok(&guest, 0, "control/feature-poweroff", "1");
	expect_error(do_write(&guest, 0, "device/vbd", "", &m), &m, "EACCES");
	expect_error(do_write(&guest, 0, "control/new", "", &m), &m, "EACCES");
	ck_assert_uint_eq(req_s(&dom0, XS_GET_PERMS, 0, "/local/domain/1/console", &m),
			  XS_GET_PERMS);
	ck_assert_int_eq(memcmp(m.body, "n1\0r0\0", 6), 0);
}
END_TEST

/* ---- the host socket ---- */

static void *loop_thread(void *l)
{
	evloop_run(l);
	return NULL;
}

static int sock_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void sock_send(int fd, uint32_t type, uint32_t id, const void *p, uint32_t len)
{
	struct xsd_sockmsg h = { .type = type, .req_id = id, .len = len };

	ck_assert_int_eq(write(fd, &h, sizeof(h)), (ssize_t)sizeof(h));
	if (len)
		ck_assert_int_eq(write(fd, p, len), (ssize_t)len);
}

static void sock_recv(int fd, struct msg *m)
{
	size_t got = 0;

	while (got < HDR) {
		ssize_t n = read(fd, (uint8_t *)&m->hdr + got, HDR - got);
		ck_assert_int_gt(n, 0);
		got += (size_t)n;
	}
	ck_assert_uint_le(m->hdr.len, XENSTORE_PAYLOAD_MAX);
	for (got = 0; got < m->hdr.len;) {
		ssize_t n = read(fd, m->body + got, m->hdr.len - got);
		ck_assert_int_gt(n, 0);
		got += (size_t)n;
	}
	m->body[m->hdr.len] = 0;
}

START_TEST(socket_round_trip)
{
	char path[108];
	struct evloop *l = evloop_create();
	pthread_t t;
	struct msg m;
	int fd, fd2;

	snprintf(path, sizeof(path), "/tmp/xenkvm-xs-test-%d", (int)getpid());
	ck_assert_ptr_nonnull(l);
	ck_assert_int_eq(xs_socket_listen(xs, l, path), 0);
	ck_assert_int_eq(xs_write(xs, "/sock/val", "42"), 0);
	ck_assert_int_eq(pthread_create(&t, NULL, loop_thread, l), 0);
	fd = sock_connect(path);
	sock_send(fd, XS_READ, 5, "/sock/val", 10);
	sock_recv(fd, &m);
	ck_assert_uint_eq(m.hdr.type, XS_READ);
	ck_assert_uint_eq(m.hdr.req_id, 5);
	ck_assert_str_eq(m.body, "42");
	/* Privileged: dom0 operations work, and watches arrive. */
	sock_send(fd, XS_IS_DOMAIN_INTRODUCED, 6, "0", 2);
	sock_recv(fd, &m);
	ck_assert_str_eq(m.body, "T");
	sock_send(fd, XS_WATCH, 7, "/sock\0tk", 9);
	sock_recv(fd, &m);
	ck_assert_str_eq(m.body, "OK");
	sock_recv(fd, &m);
	ck_assert_uint_eq(m.hdr.type, XS_WATCH_EVENT);
	ck_assert_str_eq(m.body, "/sock");
	ck_assert_int_eq(xs_write(xs, "/sock/val", "43"), 0);
	sock_recv(fd, &m);
	ck_assert_uint_eq(m.hdr.type, XS_WATCH_EVENT);
	ck_assert_str_eq(m.body, "/sock/val");
	/* A client that breaks the protocol is dropped; others carry on. */
	fd2 = sock_connect(path);
	sock_send(fd2, XS_READ, 1, NULL, 0);
	{
		struct xsd_sockmsg h = { .type = XS_READ, .len = 1u << 20 };
		char c;
		ck_assert_int_eq(write(fd2, &h, sizeof(h)), (ssize_t)sizeof(h));
		sock_recv(fd2, &m); /* the reply to the empty READ: EINVAL */
		ck_assert_str_eq(m.body, "EINVAL");
		ck_assert_int_eq(read(fd2, &c, 1), 0); /* then EOF */
	}
	sock_send(fd, XS_READ, 8, "/sock/val", 10);
	sock_recv(fd, &m);
	ck_assert_str_eq(m.body, "43");
	close(fd2);
	close(fd);
	evloop_stop(l);
	pthread_join(t, NULL);
	xs_destroy(xs);
	xs = NULL;
	ck_assert_int_ne(access(path, F_OK), 0); /* the socket file is gone */
	evloop_destroy(l);
}
END_TEST

static Suite *xenstore_suite(void)
{
	Suite *s = suite_create("xenstore");
	TCase *ops = tcase_create("ops"), *perms = tcase_create("perms");
	TCase *txn = tcase_create("transactions"), *watch = tcase_create("watches");
	TCase *quota = tcase_create("quotas"), *bad = tcase_create("malformed");
	TCase *ring = tcase_create("ring"), *sock = tcase_create("socket");

	tcase_add_checked_fixture(ops, setup, teardown);
	tcase_add_test(ops, write_read_round_trip);
	tcase_add_test(ops, read_missing_is_enoent);
	tcase_add_test(ops, values_are_bytes);
	tcase_add_test(ops, mkdir_existing_is_ok_and_keeps_value);
	tcase_add_test(ops, directory_lists_children_in_order);
	tcase_add_test(ops, rm_removes_subtree);
	tcase_add_test(ops, relative_paths_live_under_the_domain);
	tcase_add_test(ops, bad_paths_are_einval);
	tcase_add_test(ops, directory_part_pages_a_long_list);
	tcase_add_test(ops, abs_path_limit);
	tcase_add_test(ops, populate_domain_layout);
	tcase_add_test(ops, local_watch_and_xenbus_state);
	suite_add_tcase(s, ops);

	tcase_add_checked_fixture(perms, setup, teardown);
	tcase_add_test(perms, guest_cannot_read_dom0_nodes);
	tcase_add_test(perms, guest_writes_only_where_allowed);
	tcase_add_test(perms, set_perms_rules);
	tcase_add_test(perms, per_domain_perm_entries);
	suite_add_tcase(s, perms);

	tcase_add_checked_fixture(txn, setup, teardown);
	tcase_add_test(txn, transaction_view_is_private_until_commit);
	tcase_add_test(txn, transaction_abort_discards);
	tcase_add_test(txn, transaction_commits_despite_unrelated_changes);
	tcase_add_test(txn, transaction_conflict_is_eagain);
	tcase_add_test(txn, transaction_conflict_on_created_node);
	tcase_add_test(txn, transaction_conflict_on_removed_node);
	tcase_add_test(txn, transaction_bad_ids_and_args);
	tcase_add_test(txn, transaction_directory_sees_its_own_children);
	suite_add_tcase(s, txn);

	tcase_add_checked_fixture(watch, setup, teardown);
	tcase_add_test(watch, watch_fires_initially_and_on_changes);
	tcase_add_test(watch, watch_on_child_fires_when_parent_removed);
	tcase_add_test(watch, relative_watch_gets_relative_paths);
	tcase_add_test(watch, watch_duplicates_and_unwatch);
	tcase_add_test(watch, reset_watches_forgets_everything);
	tcase_add_test(watch, watch_events_respect_read_permission);
	tcase_add_test(watch, transaction_events_fire_at_commit);
	tcase_add_test(watch, special_watches);
	suite_add_tcase(s, watch);

	tcase_add_checked_fixture(quota, setup_small_quota, teardown);
	tcase_add_test(quota, quota_nodes_per_domain);
	tcase_add_test(quota, quota_node_size);
	tcase_add_test(quota, quota_path_length);
	tcase_add_test(quota, quota_watches);
	tcase_add_test(quota, quota_transactions);
	tcase_add_test(quota, quota_transaction_nodes);
	tcase_add_test(quota, quota_perms_per_node);
	suite_add_tcase(s, quota);

	tcase_add_checked_fixture(bad, setup, teardown);
	tcase_add_test(bad, oversized_message_breaks_the_connection);
	tcase_add_test(bad, missing_nul_and_unknown_types);
	tcase_add_test(bad, privileged_ops_refused_to_guest);
	tcase_add_test(bad, privileged_ops_for_dom0);
	tcase_add_test(bad, outstanding_replies_stall_input);
	suite_add_tcase(s, bad);

	tcase_add_checked_fixture(ring, ring_setup, teardown);
	tcase_add_test(ring, ring_round_trip_across_the_wrap);
	tcase_add_test(ring, ring_message_split_across_kicks);
	tcase_add_test(ring, ring_full_response_ring_waits_for_the_guest);
	tcase_add_test(ring, ring_lying_producer_sets_error);
	tcase_add_test(ring, ring_lying_consumer_sets_error);
	tcase_add_test(ring, ring_oversized_message_sets_error);
	tcase_add_test(ring, ring_reconnect_drops_watches);
	tcase_add_test(ring, ring_watch_event_from_another_client);
	suite_add_tcase(s, ring);

	tcase_add_checked_fixture(sock, setup, teardown);
	tcase_add_test(sock, socket_round_trip);
	suite_add_tcase(s, sock);
	return s;
}

int main(void)
{
	return run_suite(xenstore_suite());
}
