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

struct compat_gnttab_setup_table {
	uint16_t dom;
	uint32_t nr_frames;
	int16_t status;
	uint32_t frame_list; /* of 32-bit frame numbers */
};

/* xen_pfn_t is 32 bits wide in the 32-bit ABI. */
struct compat_gnttab_copy_ptr {
	union {
		uint32_t ref;
		uint32_t gmfn;
	} u;
	uint16_t domid;
	uint16_t offset;
};

struct compat_gnttab_copy {
	struct compat_gnttab_copy_ptr source, dest;
	uint16_t len;
	uint16_t flags;
	int16_t status;
};

/* i386 aligns uint64_t to 4 bytes: state_entry_time follows state directly. */
struct __attribute__((packed)) compat_vcpu_runstate_info {
	int32_t state;
	uint64_t state_entry_time;
	uint64_t time[4];
};

struct compat_sched_poll {
	uint32_t ports;
	uint32_t nr_ports;
	uint64_t timeout;
} __attribute__((packed));

#endif
