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

/* blkif (<xen/io/blkif.h>) as a 32-bit frontend (protocol x86_32-abi) lays
 * it out: i386 aligns uint64_t to 4 bytes, so the id follows the 4-byte
 * header directly and every later field moves up. Segments
 * (struct blkif_request_segment) are the same in both ABIs. */
typedef uint64_t __attribute__((aligned(4))) compat_uint64_t;

struct compat_blkif_request_segment {
	uint32_t gref;
	uint8_t first_sect, last_sect;
};

struct compat_blkif_request {
	uint8_t operation;
	uint8_t nr_segments;
	uint16_t handle;
	compat_uint64_t id;
	compat_uint64_t sector_number;
	struct compat_blkif_request_segment seg[11];
};

struct compat_blkif_request_discard {
	uint8_t operation;
	uint8_t flag;
	uint16_t handle;
	compat_uint64_t id;
	compat_uint64_t sector_number;
	compat_uint64_t nr_sectors;
};

struct compat_blkif_request_indirect {
	uint8_t operation;
	uint8_t indirect_op;
	uint16_t nr_segments;
	compat_uint64_t id;
	compat_uint64_t sector_number;
	uint16_t handle;
	uint32_t indirect_grefs[8];
	compat_uint64_t pad;
};

struct compat_blkif_response {
	compat_uint64_t id;
	uint8_t operation;
	int16_t status;
};

/* XENMEM reservations: handles, xen_ulong_t and xen_pfn_t are 32 bits. */
struct compat_memory_reservation {
	uint32_t extent_start; /* of 32-bit frame numbers */
	uint32_t nr_extents;
	uint32_t extent_order;
	uint32_t mem_flags;
	uint16_t domid;
};

struct compat_memory_exchange {
	struct compat_memory_reservation in, out;
	uint32_t nr_exchanged;
};

struct compat_remove_from_physmap {
	uint16_t domid;
	uint32_t gpfn;
};

struct compat_add_to_physmap_batch {
	uint16_t domid;
	uint16_t space;
	uint16_t size;
	uint16_t foreign_domid; /* union u */
	uint32_t idxs;          /* of 32-bit xen_ulong_t */
	uint32_t gpfns;         /* of 32-bit frame numbers */
	uint32_t errs;          /* of int */
};

#endif
