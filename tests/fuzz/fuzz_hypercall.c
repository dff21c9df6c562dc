/* libFuzzer harness: the hypercall dispatcher and every family behind it,
 * as a hostile guest drives them. Each input builds a fresh VM (fuzz_vm.c)
 * and is a vCPU context followed by a script of steps:
 *
 *   config:  u8  bit 0: 64-bit ABI; bits 1-3: paging (see set_paging);
 *                bit 4: 4 vCPUs (else 1); bit 5: CR0.WP; bit 6: a hypercall
 *                policy (family and sub-op rules, see POLICY) is installed
 *            u32 CR3 for the paging modes whose tables the fuzzer writes
 *   steps (up to MAX_STEPS), each a u8 kind, then:
 *     WRITE:  u8 target (RAM, console ring, store ring, shared_info),
 *             u32 offset, u8 length, bytes          -- guest or guest-shared memory
 *     PUT64:  u32 RAM offset, value                 -- a pointer or number in RAM
 *     CALL:   u8 hypercall number, 6 values          -- kind bit 7: CPL 3;
 *             kind bits 4-6: the calling vCPU; kind bit 3: a raw 64-bit number
 *     HOST:   u8 action, ...                         -- what backends and timers do meanwhile
 *
 * A value is a u8 tag and its operand: small numbers, raw 64-bit ones,
 * pointers into the data window (where the fuzzer builds the arguments),
 * pointers straddling a page end or past the end of RAM, and a table of
 * edge cases (2^31, 2^32, MMIO, special frames, non-canonical...). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xen/xen.h>
#include <xen/event_channel.h>
#include <xen/memory.h>

#include "fuzz_vm.h"
#include "xenkvm/evtchn.h"
#include "xenkvm/hypercall.h"
#include "xenkvm/policy.h"

/* The data window, where the fuzzer's pointers aim, ends where RAM ends:
 * a call walking an array of 2^32 elements faults within 64 KiB instead of
 * running for seconds, so the fuzzer keeps its speed and still tries them. */
#define RAM_SIZE (2ULL << 20)
#define DATA_SIZE 0x10000ULL
#define DATA_BASE (RAM_SIZE - DATA_SIZE)
#define PT_ROOT 0x100000ULL /* the harness's identity map (paging mode 1) */
#define MAX_STEPS 48

enum step { STEP_WRITE, STEP_PUT64, STEP_CALL, STEP_HOST };

/* Allow by default, deny families and single sub-ops of families the
 * harness reaches (memory_op's with its continuation bits in play). */
#define POLICY "deny=set_timer_op,deny=memory_op:decrease_reservation,deny=grant_table_op:copy," \
	       "deny=event_channel_op:send,deny=vcpu_op:up,deny=hvm_op:set_param"
static struct hcall_policy *policy;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct fuzz_vm fv;
static int trace; /* FUZZ_TRACE=1: print each call and its result */

static const uint64_t edge_values[] = {
	0, 1, 2, 3, 4, 7, 8, 15, 16, 31, 32, 63, 64, 127, 128, 255, 256, 1023, 1024, 4095, 4096,
	4097, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffffULL, 0x80000000ULL, 0xffffffffULL,
	0x100000000ULL, 0x100000001ULL, 0x7fffffffffffffffULL, 0x8000000000000000ULL, ~0ULL,
	~0ULL - 1, (uint64_t)-4096, 0xfffffff0ULL, 0x7ffffff0ULL,
	/* domain ids */
	DOMID_SELF, DOMID_IO, DOMID_XEN, DOMID_INVALID, 0x7fef,
	/* guest-physical landmarks */
	RAM_SIZE, RAM_SIZE - 1, RAM_SIZE - 8, RAM_SIZE - 4096, 0xa0000, 0xfffff, 0xe0000,
	0xc0000000ULL, 0xbffff000ULL, 0xfec00000ULL, 0xfee00000ULL, 0xfeff8000ULL, 0xfeffb000ULL,
	0xfeffbff8ULL, 0xff000000ULL, 0x100000000ULL - 8, 1ULL << 46, (1ULL << 47) - 8,
	1ULL << 47, 0xffff800000000000ULL, 0xfffffffffffff000ULL, 1ULL << 52,
	/* frames */
	DATA_BASE >> 12, (DATA_BASE >> 12) + 1, (DATA_BASE >> 12) + 15, RAM_SIZE >> 12,
	(RAM_SIZE >> 12) - 1, (RAM_SIZE >> 12) + 1, 0x100, 0x500, 0xfeff8, 0xfeffb, 0xfee00, 0xfec00,
	0xbffff, 0xc0000, 0x100000, (1ULL << 34) - 1, 1ULL << 34, 1ULL << 52,
	(uint64_t)XENMAPIDX_grant_table_status, (uint64_t)XENMAPIDX_grant_table_status | 1,
	/* event channel ports and vectors */
	4095, 4096, 1ULL << 17, (1ULL << 17) - 1, 0xf3, 0x10, 0x0f,
	(2ULL << 56) | 0xf3, (1ULL << 56) | 5, (1ULL << 56) | 24, 5,
};

static uint64_t value(struct fuzz_input *in)
{
	uint8_t tag = fin_u8(in);

	switch (tag & 7) {
	case 0: return fin_u8(in);
	case 1: return fin_u16(in);
	case 2: return fin_u32(in);
	case 3: return fin_u64(in);
	case 4: return DATA_BASE + fin_u16(in) % DATA_SIZE;
	case 5: return edge_values[fin_u8(in) % (sizeof(edge_values) / sizeof(edge_values[0]))];
	case 6: { /* the last bytes of a data-window page: a structure straddles the next one */
		uint64_t page_end = DATA_BASE + (uint64_t)(fin_u8(in) % 16 + 1) * 4096;
		return page_end - fin_u8(in) % 64;
	}
	default: /* the end of RAM and beyond */
		return RAM_SIZE - 256 + fin_u16(in) % 512;
	}
}

/* The harness's long-mode identity map of the low 4 GiB: 1 GiB pages. */
static void identity_map(void)
{
	uint64_t *pml4 = (uint64_t *)(fv.ram + PT_ROOT);
	uint64_t *pdpt = (uint64_t *)(fv.ram + PT_ROOT + 4096);

	pml4[0] = (PT_ROOT + 4096) | 3;
	for (uint64_t i = 0; i < 4; i++)
		pdpt[i] = (i << 30) | 0x83;
}

/* Paging modes: 0 off; 1 long mode on the harness's identity map; 2 long
 * mode, 3 long mode with LA57, 4 PAE, 5 2-level with PSE: on the fuzzer's
 * tables (its CR3, in RAM it writes). */
static struct guest_paging set_paging(unsigned mode, int wp, uint32_t cr3)
{
	uint64_t cr0 = 0x11 | (wp ? 1ULL << 16 : 0), pg = cr0 | (1ULL << 31);

	cr3 %= RAM_SIZE;
	switch (mode) {
	case 1: identity_map();
		return (struct guest_paging){ .cr0 = pg, .cr3 = PT_ROOT, .cr4 = 0x20, .efer = 0x500 };
	case 2: return (struct guest_paging){ .cr0 = pg, .cr3 = cr3, .cr4 = 0x20, .efer = 0x500 };
	case 3: return (struct guest_paging){ .cr0 = pg, .cr3 = cr3, .cr4 = 0x1020, .efer = 0x500 };
	case 4: return (struct guest_paging){ .cr0 = pg, .cr3 = cr3, .cr4 = 0x20 };
	case 5: return (struct guest_paging){ .cr0 = pg, .cr3 = cr3, .cr4 = 0x10 };
	case 0: return (struct guest_paging){ .cr0 = cr0 };
	default: identity_map();
		return (struct guest_paging){ .cr0 = pg, .cr3 = PT_ROOT, .cr4 = 0x20, .efer = 0x500 };
	}
}

static void step_write(struct fuzz_input *in)
{
	uint8_t target = fin_u8(in) % 4;
	uint32_t off = fin_u32(in);
	size_t len = fin_u8(in), got;
	const uint8_t *src = fin_bytes(in, len, &got);
	uint8_t *base;
	uint64_t limit;

	switch (target) {
	case 0: base = fv.ram, limit = RAM_SIZE; break;
	case 1: base = fv.x.console_ring, limit = GUEST_PAGE_SIZE; break;
	case 2: base = fv.x.store_ring, limit = GUEST_PAGE_SIZE; break;
	default: base = fv.x.shared_info, limit = GUEST_PAGE_SIZE; break;
	}
	/* Small offsets land in the data window, where the arguments are. */
	off = target == 0 && !(off & 0x80000000u) ? (uint32_t)(DATA_BASE + off % DATA_SIZE)
						  : (uint32_t)(off % limit);
	if (got > limit - off)
		got = (size_t)(limit - off);
	memcpy(base + off, src, got);
}

static void step_put64(struct fuzz_input *in)
{
	uint32_t off = fin_u32(in);
	uint64_t v = value(in);

	off = !(off & 0x80000000u) ? (uint32_t)(DATA_BASE + off % (DATA_SIZE - 7))
				   : (uint32_t)(off % (RAM_SIZE - 7));
	memcpy(fv.ram + off, &v, 8);
}

/* Long batches are preempted after a budget of work, as with a guest on
 * a transport (a multicall of 2^32 entries at address 0 would otherwise
 * walk all of RAM for tens of ms); a continued call is re-issued a few
 * times with its continuation's arguments, as the guest would, so those
 * are fuzzed too. */
#define REISSUES 3

static void step_call(struct fuzz_input *in, uint8_t kind, const struct guest_paging *pg,
		      int abi64)
{
	struct hcall hc = { .xen = &fv.x, .mem = &fv.vm.mem, .abi64 = abi64, .pg = *pg };
	uint64_t efd;
	long rc;

	hc.vcpu_id = ((kind >> 4) & 7) % fv.vm.nvcpus;
	hc.cpl = kind & 0x80 ? 3 : 0;
	hc.nr = kind & 8 ? value(in) : fin_u8(in) % 48;
	for (int i = 0; i < 6; i++)
		hc.arg[i] = value(in);
	hc.can_continue = 1;
	fuzz_blocking_vm = &fv.vm;
	rc = hypercall_dispatch(&hc);
	for (int k = 0; k < REISSUES && hc.continued; k++) {
		memcpy(hc.arg, hc.cont_arg, sizeof(hc.arg));
		hc.continued = 0;
		hc.work = 0;
		rc = hypercall_dispatch(&hc);
	}
	fuzz_blocking_vm = NULL;
	if (trace)
		fprintf(stderr, "hypercall %llu (%#llx, %#llx, %#llx, %#llx) = %ld\n",
			(unsigned long long)hc.nr, (unsigned long long)hc.arg[0],
			(unsigned long long)hc.arg[1], (unsigned long long)hc.arg[2],
			(unsigned long long)hc.arg[3], rc);
	/* A stop (shutdown, or a wait the harness cut short) is forgotten so
	 * the script goes on: later calls explore the state it left. */
	fv.vm.stopping = 0;
	if (read(fv.vm.stop_efd, &efd, sizeof(efd)) < 0)
		efd = 0;
}

/* The host side meanwhile: timers, backends, typed console input. */
static void step_host(struct fuzz_input *in)
{
	uint8_t action = fin_u8(in);
	uint8_t arg = fin_u8(in);

	switch (action % 6) {
	case 0: evtchn_raise_virq(&fv.x, arg % 8, fin_u8(in) % NR_VIRQS); break;
	case 1: evtchn_backend_notify(&fv.x, CONSOLE_EVTCHN_PORT); break;
	case 2: evtchn_backend_notify(&fv.x, STORE_EVTCHN_PORT); break;
	case 3: {
		size_t got;
		const uint8_t *p = fin_bytes(in, arg, &got);
		console_input(&fv.con, p, got);
		break;
	}
	case 4: xs_ring_kick(fv.xs); break;
	default: xen_time_update_shared_info(&fv.x); break;
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	char err[256];

	fuzz_quiet();
	trace = getenv("FUZZ_TRACE") != NULL;
	policy = policy_create();
	if (!policy || policy_add(policy, POLICY, err, sizeof(err)) < 0 ||
	    policy_validate(policy, err, sizeof(err)) < 0) {
		fprintf(stderr, "fuzz_hypercall: the policy: %s\n", policy ? err : "no memory");
		return -1;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	uint8_t config = fin_u8(&in);
	uint32_t cr3 = fin_u32(&in);
	struct guest_paging pg;
	int abi64 = config & 1;

	fuzz_vm_create(&fv, RAM_SIZE, config & 0x10 ? 4 : 1, FUZZ_STORE_EMPTY);
	pg = set_paging((config >> 1) & 7, config & 0x20, cr3);
	fv.x.policy = config & 0x40 ? policy : NULL;
	for (int n = 0; n < MAX_STEPS && in.left; n++) {
		uint8_t kind = fin_u8(&in);

		switch (kind & 3) {
		case STEP_WRITE: step_write(&in); break;
		case STEP_PUT64: step_put64(&in); break;
		case STEP_CALL: step_call(&in, kind, &pg, abi64); break;
		default: step_host(&in); break;
		}
	}
	fuzz_vm_destroy(&fv);
	return 0;
}
