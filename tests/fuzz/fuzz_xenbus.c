/* libFuzzer harness: the block backend's XenBus handshake (blkback.c's
 * state machine: connect, disconnect, reconnect, hot-unplug) as a hostile
 * frontend drives it through its XenStore nodes. Each input builds a fresh
 * VM with the toolstack's tree (fuzz_vm.c) and a backend on a memfd disk,
 * then runs a script of steps:
 *
 *   config: u8  bit 0: the disk is read-only
 *   steps (up to MAX_STEPS), each a u8 kind, then:
 *     NODE:  u8 node (a frontend node the backend reads), value   -- written
 *     RM:    u8 node                                               -- removed
 *     STATE: u8 XenbusState                                        -- the frontend's state
 *     BACK:  u8 node (online), value              -- the toolstack writes the backend's
 *     GRANT: as fuzz_step_grant                   -- the frontend's grant table
 *     PORT:  an unbound port for domain 0 (what the frontend names in event-channel)
 *     POKE:  as fuzz_step_poke                    -- bytes in a ring page
 *     LOOP:  the event loop runs what is ready (the backend reacts)
 *   A value is a u8 kind and its operand: a small number, a u32, a protocol
 *   name, -1, a number too large for 64 bits, or raw bytes.
 *
 * FUZZ_TRACE=1 lets the backend's log through (what an input did).
 * Beyond the sanitizers: the backend's state node always holds a XenBus
 * state, and once the backend is destroyed no grant stays pinned and no
 * event channel stays bound to it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xen/event_channel.h>
#include <xen/io/xenbus.h>

#include "../../devices/blkback_internal.h"
#include "../../xenemu/gnttab_internal.h"
#include "fuzz_vm.h"
#include "xenkvm/blkback.h"
#include "xenkvm/evloop.h"
#include "xenkvm/evtchn_state.h"
#include "xenkvm/hypercall.h"
#include "xenkvm/log.h"

#define RAM_SIZE (2ULL << 20)
#define RING_GFN 0x100u /* up to 8 ring pages */
#define RING_PAGES 8u
#define GT_GFN 0x1f0u    /* where the frontend maps grant frame 0 */
#define SCRATCH_GPA 0x1000u
#define DISK_BYTES (1u << 20)
#define DEVID 51712u /* xvda */
#define MAX_STEPS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

enum step { NODE, RM, STATE, BACK, GRANT, PORT, POKE, LOOP, NR_STEPS };

static struct fuzz_vm fv;
static struct evloop *loop;
static char disk_path[64];
static const char fe[] = "/local/domain/1/device/vbd/51712";
static const char be[] = "/local/domain/0/backend/vbd/1/51712";

/* What blkfront writes, one queue or several, one ring page or more. */
static const char *const fe_nodes[] = {
	"ring-ref", "ring-ref0", "ring-ref1", "ring-ref2", "ring-ref3", "ring-page-order",
	"event-channel", "protocol", "multi-queue-num-queues", "feature-persistent",
	"queue-0/ring-ref", "queue-0/event-channel", "queue-0/ring-page-order",
	"queue-0/ring-ref0", "queue-0/ring-ref1", "queue-1/ring-ref", "queue-1/event-channel",
	"queue-3/ring-ref", "queue-3/event-channel", "backend", "state",
};
/* What the toolstack changes under the backend: online 0 unplugs the disk.
 * (The guest cannot write there.) */
static const char *const be_nodes[] = { "online" };

static void fail(const char *why)
{
	fprintf(stderr, "fuzz_xenbus: %s\n", why);
	abort();
}

static unsigned page_gfn(unsigned i)
{
	i %= RING_PAGES + 1;
	return i < RING_PAGES ? RING_GFN + i : GT_GFN;
}

static void value(struct fuzz_input *in, char *buf, size_t len)
{
	static const char *const protocols[] = { "x86_64-abi", "x86_32-abi", "arm-abi", "" };
	size_t got;
	const uint8_t *raw;

	switch (fin_u8(in) % 6) {
	case 0: snprintf(buf, len, "%u", fin_u8(in)); break;
	case 1: snprintf(buf, len, "%u", fin_u32(in)); break;
	case 2: snprintf(buf, len, "%s", protocols[fin_u8(in) % 4]); break;
	case 3: snprintf(buf, len, "-1"); break;
	case 4: snprintf(buf, len, "184467440737095516160"); break;
	default:
		raw = fin_bytes(in, fin_u8(in) % len, &got);
		memcpy(buf, raw, got);
		buf[got] = '\0'; /* XenStore values are bytes; the backend reads C strings */
		break;
	}
}

static void write_node(const char *dir, const char *node, const char *v)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, node);
	xs_write(fv.xs, path, v);
}

#define NODES(t) (sizeof(t) / sizeof((t)[0]))

static void step_node(struct fuzz_input *in, const char *dir, const char *const *nodes,
		      size_t n)
{
	const char *node = nodes[fin_u8(in) % n];
	char v[80];

	value(in, v, sizeof(v));
	write_node(dir, node, v);
}

/* EVTCHNOP_alloc_unbound for domain 0, as the frontend makes it. */
static void alloc_port(void)
{
	struct evtchn_alloc_unbound a = { .dom = DOMID_SELF, .remote_dom = 0 };
	struct hcall hc = { .xen = &fv.x, .mem = &fv.vm.mem, .abi64 = 1, .pg = { .cr0 = 0x11 },
			    .nr = __HYPERVISOR_event_channel_op,
			    .arg = { EVTCHNOP_alloc_unbound, SCRATCH_GPA } };

	memcpy(fv.ram + SCRATCH_GPA, &a, sizeof(a));
	hypercall_dispatch(&hc);
}

static void check_backend_state(void)
{
	char path[256];
	long long st;

	snprintf(path, sizeof(path), "%s/state", be);
	st = xs_read_int(fv.xs, path, -1);
	/* Unplugged, the node is gone; otherwise it holds a state. */
	if (st != -1 && (st < XenbusStateInitialising || st > XenbusStateReconfigured))
		fail("the backend's state node holds no XenBus state");
}

/* Ports whose other end is a backend in xenkvm (the console and the store
 * have one each from the start). */
static unsigned backend_ports(void)
{
	unsigned n = 0;

	for (unsigned p = 0; p < fv.x.evtchn->nports; p++)
		n += fv.x.evtchn->ports[p].backend_fn != NULL;
	return n;
}

static void check_released(unsigned ports_before)
{
	struct gnttab *gt = fv.x.gnttab;

	for (unsigned ref = 0; ref < gt_nr_entries(gt); ref++)
		if (gt->active[ref].pin)
			fail("a grant is still pinned after the backend went");
	if (backend_ports() != ports_before)
		fail("an event channel is still bound to the backend after it went");
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int fd;

	(void)argc, (void)argv;
	fuzz_quiet();
	/* FUZZ_TRACE=1: the backend says what it did (connected, refused, ...). */
	if (getenv("FUZZ_TRACE"))
		log_threshold = LOG_DEBUG;
	loop = evloop_create();
	fd = memfd_create("fuzz-xenbus-disk", MFD_CLOEXEC);
	if (!loop || fd < 0 || ftruncate(fd, DISK_BYTES) < 0)
		return -1;
	snprintf(disk_path, sizeof(disk_path), "/proc/self/fd/%d", fd);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	uint8_t config = fin_u8(&in);
	struct blk_disk_spec spec = { .devid = DEVID, .readonly = config & 1 };
	struct pv_backend_ctx ctx;
	struct blkback *b;
	char v[80], err[256];
	unsigned ports;

	fuzz_vm_create(&fv, RAM_SIZE, 1, FUZZ_STORE_POPULATED);
	if (gnttab_add_to_physmap(fv.x.gnttab, 0, GT_GFN) != 0)
		fail("cannot map the grant table");
	ctx = (struct pv_backend_ctx){ .xen = &fv.x, .xs = fv.xs, .loop = loop,
				       .frontend_domid = 1 };
	snprintf(spec.path, sizeof(spec.path), "%s", disk_path);
	snprintf(spec.vdev, sizeof(spec.vdev), "xvda");
	ports = backend_ports();
	b = blkback_create(&ctx, &spec, err, sizeof(err));
	if (!b) {
		fprintf(stderr, "fuzz_xenbus: %s\n", err);
		abort();
	}
	for (int n = 0; n < MAX_STEPS && in.left; n++) {
		switch (fin_u8(&in) % NR_STEPS) {
		case NODE: step_node(&in, fe, fe_nodes, NODES(fe_nodes)); break;
		case RM:
			snprintf(v, sizeof(v), "%s/%s", fe, fe_nodes[fin_u8(&in) % NODES(fe_nodes)]);
			xs_rm(fv.xs, v);
			break;
		case STATE:
			snprintf(v, sizeof(v), "%u", fin_u8(&in) % 9);
			write_node(fe, "state", v);
			break;
		case BACK: step_node(&in, be, be_nodes, NODES(be_nodes)); break;
		case GRANT: fuzz_step_grant(&fv, &in, GT_GFN, page_gfn); break;
		case PORT: alloc_port(); break;
		case POKE: fuzz_step_poke(&fv, &in, page_gfn); break;
		default:
			evloop_poll(loop);
			check_backend_state();
			break;
		}
	}
	evloop_poll(loop);
	check_backend_state();
	blkback_destroy(b);
	evloop_poll(loop); /* what the backend left on the loop must be gone */
	check_released(ports);
	fuzz_vm_destroy(&fv);
	return 0;
}
