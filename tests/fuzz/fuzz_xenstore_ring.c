/* libFuzzer harness: the guest's XenStore ring (xs_ring_attach +
 * xs_ring_kick) on a page the fuzzer writes as a hostile guest would:
 * requests, indices that lie, the connection and error fields, at any
 * time, between kicks. The toolstack changes the tree meanwhile, so watch
 * events compete with replies for the response ring. Input:
 *
 *   u32, u32: the req_cons and rsp_prod the page holds at attach (a guest
 *   that reconnects, or lies from the start), then steps, each a u8 kind:
 *     REQ:   u8 type, u8 tx_id, u16 length, payload -- a request appended at req_prod
 *     POKE:  u16 offset, u8 length, bytes           -- anywhere in the page
 *     IDX:   u8 field, u32 value                    -- req_prod, rsp_cons, connection...
 *     KICK:  -- the guest notifies
 *     CONSUME: -- the guest takes every response (rsp_cons = rsp_prod)
 *     WRITE: u8 length, path                        -- the toolstack writes a node
 *
 * Checked beyond the sanitizers: the response producer never runs more
 * than a ring ahead of the consumer the guest last showed, and the server
 * never writes the indices the guest owns except on a reconnect. */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include <xen/io/xs_wire.h>

#include "fuzz_vm.h"
#include "xenkvm/xenstore.h"

#define MAX_STEPS 64
#define HDR sizeof(struct xsd_sockmsg)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct xenstore *xs;
static struct xenstore_domain_interface *page;
static unsigned notified;

static void notify(void *opaque)
{
	(void)opaque;
	notified++;
}

static void fail(const char *why)
{
	fprintf(stderr, "fuzz_xenstore_ring: %s (req %u/%u rsp %u/%u)\n", why, page->req_cons,
		page->req_prod, page->rsp_cons, page->rsp_prod);
	abort();
}

static void ring_put(const uint8_t *p, size_t n)
{
	XENSTORE_RING_IDX prod = page->req_prod;

	for (size_t i = 0; i < n; i++)
		page->req[MASK_XENSTORE_IDX(prod++)] = (char)p[i];
	page->req_prod = prod;
}

static void step_req(struct fuzz_input *in)
{
	struct xsd_sockmsg h = { .type = fin_u8(in), .req_id = 7, .tx_id = fin_u8(in) };
	size_t len = fin_u16(in) % (XENSTORE_RING_SIZE - HDR + 1), got;
	const uint8_t *body = fin_bytes(in, len, &got);

	h.len = (uint32_t)got;
	ring_put((const uint8_t *)&h, HDR);
	ring_put(body, got);
}

static void step_poke(struct fuzz_input *in)
{
	uint16_t off = fin_u16(in) % sizeof(*page);
	size_t got;
	const uint8_t *p = fin_bytes(in, fin_u8(in), &got);

	if (got > sizeof(*page) - off)
		got = sizeof(*page) - off;
	memcpy((uint8_t *)page + off, p, got);
}

static void step_index(struct fuzz_input *in)
{
	uint8_t field = fin_u8(in);
	uint32_t v = fin_u32(in);

	switch (field % 6) {
	case 0: page->req_prod = v; break;
	case 1: page->rsp_cons = v; break;
	case 2: page->req_prod += v % 64; break;
	case 3: page->connection = v % 2; break; /* XENSTORE_CONNECTED or RECONNECT */
	case 4: page->rsp_cons = page->rsp_prod - v % 2048; break;
	default: page->req_cons = v; break; /* the server's: the guest lies about it */
	}
}

static void kick(void)
{
	XENSTORE_RING_IDX rsp_cons = page->rsp_cons, req_prod = page->req_prod;
	XENSTORE_RING_IDX rsp_prod = page->rsp_prod;
	uint32_t reconnect = page->connection == XENSTORE_RECONNECT;

	xs_ring_kick(xs);
	if (reconnect)
		return;
	if (page->rsp_cons != rsp_cons || page->req_prod != req_prod)
		fail("the server wrote an index the guest owns");
	if (page->rsp_prod != rsp_prod && page->rsp_prod - rsp_cons > XENSTORE_RING_SIZE)
		fail("responses overran the ring");
}

static void step_write(struct fuzz_input *in)
{
	char path[64] = "/local/domain/1/";
	size_t got, at = strlen(path);
	const uint8_t *p = fin_bytes(in, fin_u8(in) % (sizeof(path) - at), &got);

	memcpy(path + at, p, got);
	path[at + got] = 0;
	xs_write(xs, path, "x");
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	fuzz_quiet();
	page = aligned_alloc(4096, 4096);
	return page ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };

	memset(page, 0, 4096);
	page->req_cons = page->req_prod = fin_u32(&in);
	page->rsp_cons = page->rsp_prod = fin_u32(&in);
	xs = xs_create(1, NULL);
	if (!xs || xs_write_with_perms(xs, "/local/domain/1", "", "n1") ||
	    xs_ring_attach(xs, page, notify, NULL))
		abort();
	for (int n = 0; n < MAX_STEPS && in.left; n++) {
		switch (fin_u8(&in) % 6) {
		case 0: step_req(&in); break;
		case 1: step_poke(&in); break;
		case 2: step_index(&in); break;
		case 3: kick(); break;
		case 4: page->rsp_cons = page->rsp_prod; break;
		default: step_write(&in); break;
		}
	}
	kick();
	xs_destroy(xs);
	xs = NULL;
	return 0;
}
