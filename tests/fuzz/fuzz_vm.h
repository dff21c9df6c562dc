/* A VM and its Xen personality built by hand, without /dev/kvm, for the
 * fuzz harnesses: memfd guest RAM, the special pages, event channels, grant
 * table, console and XenStore (its ring served synchronously). Nothing here
 * reaches KVM: vm_fd is -1, so interrupt ioctls fail harmlessly, and no
 * vCPU thread exists, so kicks only set immediate_exit. */
#ifndef XENKVM_FUZZ_VM_H
#define XENKVM_FUZZ_VM_H

#include <stddef.h>
#include <stdint.h>

#include <xen/grant_table.h>

#include "xenkvm/console.h"
#include "xenkvm/vm.h"
#include "xenkvm/xen.h"
#include "xenkvm/xenstore.h"

struct fuzz_vm {
	struct vm vm;
	struct xen x;
	struct console con;
	struct xenstore *xs; /* NULL: no XenStore */
	int null_fd;
	/* Low RAM as the guest sees it (frames shown over included): what
	 * its own stores would change. */
	uint8_t *ram;
};

/* What XenStore the VM gets: none, an empty store on the ring, or the
 * tree the toolstack writes (slower to build). */
enum { FUZZ_NO_STORE, FUZZ_STORE_EMPTY, FUZZ_STORE_POPULATED };

/* Build the VM (ram bytes, nvcpus 1..VM_MAX_VCPUS) with a store as above.
 * Aborts on a host failure: fuzzing cannot go on. */
void fuzz_vm_create(struct fuzz_vm *f, uint64_t ram, unsigned nvcpus, int store);
void fuzz_vm_destroy(struct fuzz_vm *f);

/* The harness's stand-in for pthread_cond_wait & co. (linked with --wrap):
 * a vCPU about to block sees the VM stopping instead, so SCHEDOP_block and
 * SCHEDOP_poll return at once and deterministically. */
extern struct vm *fuzz_blocking_vm;

/* Input parsing helpers: take bytes from the front of the input. */
struct fuzz_input {
	const uint8_t *p;
	size_t left;
};

uint8_t fin_u8(struct fuzz_input *in);
uint16_t fin_u16(struct fuzz_input *in);
uint32_t fin_u32(struct fuzz_input *in);
uint64_t fin_u64(struct fuzz_input *in);
/* Up to n bytes; *got says how many there were. */
const uint8_t *fin_bytes(struct fuzz_input *in, size_t n, size_t *got);

/* ---- a PV frontend's side, for the ring harnesses ---- */

/* The guest page at gfn; aborts when it is not RAM (a harness bug). */
uint8_t *fuzz_page(struct fuzz_vm *f, unsigned gfn);
/* Write v1 grant entry ref in grant frame 0, which the frontend mapped at gt_gfn. */
void fuzz_grant(struct fuzz_vm *f, unsigned gt_gfn, grant_ref_t ref, uint16_t flags,
		domid_t domid, uint32_t frame);
/* A grant the input asks for: u16 ref, u8 kind (flags; bit 7: granted to a
 * stranger), u8 frame (page_gfn(frame), or 0xff then u32 any frame). */
void fuzz_step_grant(struct fuzz_vm *f, struct fuzz_input *in, unsigned gt_gfn,
		     unsigned (*page_gfn)(unsigned));
/* Bytes the input writes into one of the frontend's pages: u8 page
 * (page_gfn(page)), u16 offset, u8 length, the bytes. */
void fuzz_step_poke(struct fuzz_vm *f, struct fuzz_input *in, unsigned (*page_gfn)(unsigned));

/* Quiet logging: the VMM's warnings would flood the fuzzer's output. */
void fuzz_quiet(void);

#endif
