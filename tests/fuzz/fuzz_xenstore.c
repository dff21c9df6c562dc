/* libFuzzer harness: the XenStore wire protocol (requests, transactions,
 * watches, permissions, quotas) through xs_conn_open/xs_conn_input, as
 * three clients send it: domain 0, the guest (domain 1) and a stranger
 * (domain 2), plus the toolstack's in-process API. Input:
 *
 *   config: u8  bit 0: the toolstack's tree; bit 1: tight quotas
 *   steps, each a u8 kind (bits 4-5 pick the client), then:
 *     MSG:   u8 type, u8 tx_id, u16 length, payload   -- one framed request
 *     RAW:   u8 length, bytes                         -- bytes as they come
 *     DRAIN: -- the client reads its replies (until then they pile up)
 *     API:   u8 op, NUL-separated path and value      -- xs_write, xs_rm, ...
 *     REOPEN: -- the client hangs up and connects again
 *
 * Beyond the sanitizers, every message the store sends is checked: a
 * known type, a payload within XENSTORE_PAYLOAD_MAX, the request's id. */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include <xen/io/xs_wire.h>

#include "fuzz_vm.h"
#include "xenkvm/xenstore.h"

#define NCLIENTS 3
#define MAX_STEPS 64
#define HDR sizeof(struct xsd_sockmsg)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

struct client {
	struct xs_conn *conn;
	unsigned domid;
	int reading; /* the client reads what is sent (DRAIN turns it on) */
	/* The message being received, to check framing. */
	uint8_t hdr[HDR];
	size_t got;
	uint32_t body_left;
};

static struct xenstore *xs;
static struct client clients[NCLIENTS];

static void bad_output(const char *why, const struct xsd_sockmsg *m)
{
	fprintf(stderr, "fuzz_xenstore: the store sent %s (type %u, len %u)\n", why, m->type,
		m->len);
	abort();
}

/* Walk the byte stream a client receives, message by message. */
static void check_output(struct client *cl, const uint8_t *p, size_t n)
{
	while (n) {
		if (cl->got < HDR) {
			size_t take = HDR - cl->got < n ? HDR - cl->got : n;
			memcpy(cl->hdr + cl->got, p, take);
			cl->got += take, p += take, n -= take;
			if (cl->got == HDR) {
				struct xsd_sockmsg m;
				memcpy(&m, cl->hdr, HDR);
				if (m.len > XENSTORE_PAYLOAD_MAX)
					bad_output("an oversized message", &m);
				if (m.type >= XS_TYPE_COUNT && m.type != XS_ERROR)
					bad_output("an unknown message type", &m);
				cl->body_left = m.len;
			}
		} else {
			size_t take = cl->body_left < n ? cl->body_left : n;
			cl->body_left -= (uint32_t)take, p += take, n -= take;
		}
		if (cl->got == HDR && cl->body_left == 0)
			cl->got = 0;
	}
}

static void client_flush(struct xs_conn *c, void *opaque)
{
	struct client *cl = opaque;
	const uint8_t *p;
	size_t n;

	if (!cl->reading)
		return;
	while ((n = xs_conn_output_peek(c, &p)) > 0) {
		/* A short read now and then, as a slow socket gives. */
		if (n > 7 && (p[0] & 1))
			n = 7;
		check_output(cl, p, n);
		xs_conn_output_done(c, n);
	}
}

static void client_open(struct client *cl, unsigned domid)
{
	memset(cl, 0, sizeof(*cl));
	cl->domid = domid;
	cl->reading = 1;
	cl->conn = xs_conn_open(xs, domid, client_flush, cl);
	if (!cl->conn)
		abort();
}

static void step_msg(struct fuzz_input *in, struct client *cl)
{
	struct xsd_sockmsg h = { .type = fin_u8(in), .req_id = 0x1234, .tx_id = fin_u8(in) };
	size_t len = fin_u16(in) % (XENSTORE_PAYLOAD_MAX + 64), got;
	const uint8_t *body = fin_bytes(in, len, &got);
	uint8_t *msg = malloc(HDR + got);

	/* A length over the maximum is sent as such: the store must refuse it. */
	h.len = (uint32_t)(len > XENSTORE_PAYLOAD_MAX ? len : got);
	memcpy(msg, &h, HDR);
	memcpy(msg + HDR, body, got);
	for (size_t off = 0; off < HDR + got;) {
		size_t want = xs_conn_input_want(cl->conn), n = HDR + got - off;
		if (!want)
			break; /* stalled (quota) or broken: the rest is not taken */
		if (n > want)
			n = want;
		if (xs_conn_input(cl->conn, msg + off, n) < 0)
			break;
		off += n;
	}
	free(msg);
}

static void step_raw(struct fuzz_input *in, struct client *cl)
{
	size_t got, want = xs_conn_input_want(cl->conn);
	const uint8_t *p = fin_bytes(in, fin_u8(in), &got);

	if (got > want)
		got = want;
	if (got)
		xs_conn_input(cl->conn, p, got);
}

static void local_watch(const char *path, void *opaque)
{
	/* What a backend does: read what changed. */
	free(xs_read(opaque, path, NULL));
}

/* The toolstack's calls, with two NUL-separated strings from the input. */
static void step_api(struct fuzz_input *in)
{
	uint8_t op = fin_u8(in);
	size_t got;
	const uint8_t *p = fin_bytes(in, fin_u8(in), &got);
	char *buf = calloc(1, got + 2);
	const char *path = buf, *value;

	memcpy(buf, p, got);
	value = buf + strlen(buf) + 1 <= buf + got ? buf + strlen(buf) + 1 : "";
	switch (op % 8) {
	case 0: xs_write(xs, path, value); break;
	case 1: xs_mkdir(xs, path); break;
	case 2: xs_rm(xs, path); break;
	case 3: xs_set_perms(xs, path, value); break;
	case 4: free(xs_read(xs, path, NULL)); break;
	case 5: xs_read_int(xs, path, -1); break;
	case 6: xs_xenbus_switch_state(xs, path, op >> 3); break;
	default:
		if (xs_watch_local(xs, path, local_watch, xs) == 0)
			xs_unwatch_local(xs, path, local_watch, xs);
		break;
	}
	free(buf);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	fuzz_quiet();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	uint8_t config = fin_u8(&in);
	struct xs_quota q;
	static const unsigned domids[NCLIENTS] = { 0, 1, 2 };

	xs_quota_defaults(&q);
	if (config & 2)
		q = (struct xs_quota){ .nodes_per_domain = 8, .node_size = 64, .path_len = 32,
				       .watches = 2, .transactions = 2, .perms_per_node = 2,
				       .outstanding = 2, .txn_nodes = 4, .queued_events = 2 };
	xs = xs_create(1, &q);
	if (!xs)
		abort();
	if (config & 1) {
		struct xs_domain_info info = { .domid = 1, .name = "fuzz",
					       .uuid = "00000000-0000-0000-0000-000000000001",
					       .target_kib = 1024, .max_kib = 1024, .vcpus = 2,
					       .store_gfn = 0xfeffb, .store_port = 2,
					       .console_gfn = 0xfeff8, .console_port = 1 };
		xs_populate_domain(xs, &info);
	}
	for (int i = 0; i < NCLIENTS; i++)
		client_open(&clients[i], domids[i]);
	for (int n = 0; n < MAX_STEPS && in.left; n++) {
		uint8_t kind = fin_u8(&in);
		struct client *cl = &clients[(kind >> 4) % NCLIENTS];

		switch (kind % 5) {
		case 0: step_msg(&in, cl); break;
		case 1: step_raw(&in, cl); break;
		case 2:
			cl->reading = !cl->reading;
			xs_conn_kick_output(cl->conn);
			break;
		case 3: step_api(&in); break;
		default:
			xs_conn_close(cl->conn);
			client_open(cl, cl->domid);
			break;
		}
	}
	xs_destroy(xs); /* closes the clients' connections */
	xs = NULL;
	return 0;
}
