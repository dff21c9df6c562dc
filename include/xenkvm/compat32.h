/* 32-bit guest layouts of the Xen structures that <xen/foreign/x86_32.h>
 * does not provide. Not hand-trusted: tests/abi/compat32_check.c compiles
 * the real <xen/...> headers for i386 and asserts every size and offset. */
#ifndef XENKVM_COMPAT32_H
#define XENKVM_COMPAT32_H

#include <stdint.h>

struct compat_platform_parameters {
	uint32_t virt_start;
};

struct compat_memory_map {
	uint32_t nr_entries;
	uint32_t buffer;
};

struct compat_foreign_memory_map {
	uint16_t domid;
	uint16_t pad;
	struct compat_memory_map map;
};

struct compat_add_to_physmap {
	uint16_t domid;
	uint16_t size;
	uint32_t space;
	uint32_t idx;
	uint32_t gpfn;
};

struct compat_multicall_entry {
	uint32_t op;
	uint32_t result;
	uint32_t args[6];
};

#endif
