/* libFuzzer harness: the PV console backend (devices/console.c) against a
 * ring page whose indices the guest may set to anything, interleaved with
 * host input, CONSOLEIO_read's take and give-back. Input: steps, each a
 * u8 kind, then:
 *   POKE:   u16 offset, u8 length, bytes   -- anywhere in the ring page
 *   IDX:    u8 field, u32 value            -- in_cons, in_prod, out_cons, out_prod
 *   OUT:    u8 length, bytes               -- the guest writes output properly
 *   DRAIN, FILL, ACTIVATE                  -- the backend's work
 *   INPUT:  u8 length, bytes               -- typed on the host
 *   READ:   u8 length; UNREAD: u8 length   -- console_io read, and its undo
 * Checked beyond the sanitizers: the backend never takes more than a ring
 * of output or gives more than a ring of input, and never moves the
 * indices the guest owns (out_prod, in_cons). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <xen/io/console.h>

#include "fuzz_vm.h"
#include "xenkvm/console.h"

#define MAX_STEPS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct xencons_interface *ring;
static struct console con;
static int null_fd = -1;
static unsigned notified;

static void fail(const char *why)
{
	fprintf(stderr, "fuzz_console: %s (in %u/%u out %u/%u, queued %zu)\n", why, ring->in_cons,
		ring->in_prod, ring->out_cons, ring->out_prod, con.in_len);
	abort();
}

static void notify_guest(void *opaque)
{
	(void)opaque;
	notified++;
}

static void step_poke(struct fuzz_input *in)
{
	uint16_t off = fin_u16(in) % sizeof(*ring);
	size_t got;
	const uint8_t *p = fin_bytes(in, fin_u8(in), &got);

	if (got > sizeof(*ring) - off)
		got = sizeof(*ring) - off;
	memcpy((uint8_t *)ring + off, p, got);
}

static void step_index(struct fuzz_input *in)
{
	uint8_t field = fin_u8(in);
	uint32_t v = fin_u32(in);

	switch (field % 4) {
	case 0: ring->in_cons = v; break;
	case 1: ring->in_prod = v; break;
	case 2: ring->out_cons = v; break;
	default: ring->out_prod = v; break;
	}
}

static void step_out(struct fuzz_input *in)
{
	size_t got;
	const uint8_t *p = fin_bytes(in, fin_u8(in), &got);

	for (size_t i = 0; i < got; i++)
		ring->out[MASK_XENCONS_IDX(ring->out_prod++, ring->out)] = (char)p[i];
}

static void drain(void)
{
	XENCONS_RING_IDX out_prod = ring->out_prod, in_cons = ring->in_cons;

	if (console_ring_drain(&con) > sizeof(ring->out))
		fail("drain took more than a ring");
	if (ring->out_prod != out_prod || ring->in_cons != in_cons)
		fail("drain moved an index the guest owns");
}

static void fill(void)
{
	XENCONS_RING_IDX out_prod = ring->out_prod, in_cons = ring->in_cons;
	XENCONS_RING_IDX in_prod = ring->in_prod;

	if (console_ring_fill(&con) > sizeof(ring->in))
		fail("fill gave more than a ring");
	if (ring->out_prod != out_prod || ring->in_cons != in_cons)
		fail("fill moved an index the guest owns");
	if (ring->in_prod != in_prod && ring->in_prod - in_cons > sizeof(ring->in))
		fail("fill overran the input ring");
}

static void step_input(struct fuzz_input *in)
{
	size_t got;
	const uint8_t *p = fin_bytes(in, fin_u8(in), &got);

	console_input(&con, p, got);
	if (con.in_len > CONSOLE_INPUT_SIZE)
		fail("input queue overflow");
}

static void step_read(struct fuzz_input *in, int unread)
{
	static uint8_t buf[256];
	size_t n = fin_u8(in), got = console_read(&con, buf, n);

	if (got > n)
		fail("read returned more than asked");
	if (unread)
		console_unread(&con, buf, got);
	if (con.in_len > CONSOLE_INPUT_SIZE)
		fail("unread overflowed the queue");
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	fuzz_quiet();
	ring = aligned_alloc(4096, 4096);
	null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	return ring && null_fd >= 0 ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };

	memset(ring, 0, 4096);
	console_init(&con, null_fd);
	console_attach_ring(&con, ring, notify_guest, NULL);
	for (int n = 0; n < MAX_STEPS && in.left; n++) {
		switch (fin_u8(&in) % 9) {
		case 0: step_poke(&in); break;
		case 1: step_index(&in); break;
		case 2: step_out(&in); break;
		case 3: drain(); break;
		case 4: fill(); break;
		case 5: console_ring_activate(&con); break;
		case 6: step_input(&in); break;
		case 7: step_read(&in, 0); break;
		default: step_read(&in, 1); break;
		}
	}
	drain();
	fill();
	console_destroy(&con);
	return 0;
}
