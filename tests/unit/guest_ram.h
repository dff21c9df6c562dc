/* What the hypercall-level unit tests share: a VM and its Xen state built
 * without KVM (each test fills in what its family needs), guest RAM helpers,
 * and the paging both ABIs' calls run with. */
#ifndef TESTS_GUEST_RAM_H
#define TESTS_GUEST_RAM_H

#include <stddef.h>
#include <stdint.h>

#include "xenkvm/hypercall.h"
#include "xenkvm/vm.h"
#include "xenkvm/xen.h"

#define RAM_SIZE (16ULL << 20)
#define PT_ROOT 0x100000ULL /* 64-bit calls run with an identity map from here */

extern struct vm vm;
extern struct xen x;

/* Paging off for the 32-bit ABI; long mode over identity_map() for 64-bit. */
extern const struct guest_paging flat32, flat64;

/* A host pointer to guest RAM (the test fails if it is not RAM). */
uint8_t *gptr(uint64_t gpa, size_t len);
void put(uint64_t gpa, const void *src, size_t len);
void get(uint64_t gpa, void *dst, size_t len);
void put_u64(uint64_t gpa, uint64_t v);
/* The low 4 GiB identity-mapped by 1 GiB pages, rooted at PT_ROOT. */
void identity_map(void);

struct console;
/* vm and x as a dispatcher test wants them, without KVM: one vCPU, RAM,
 * HVM params, an e820, shared_info (not yet in the physmap), the pvclock
 * scale, the console writing to console_fd, and identity_map(). */
void xen_fixture_setup(struct console *con, int console_fd);
void xen_fixture_teardown(struct console *con);

#endif
