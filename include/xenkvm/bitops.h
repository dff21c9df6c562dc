/* Atomic bit operations on memory the guest shares with us, in the guest's
 * word size (Xen's bitmaps are arrays of xen_ulong_t: 4 or 8 bytes). */
#ifndef XENKVM_BITOPS_H
#define XENKVM_BITOPS_H

#include <stdint.h>

static inline int bit_test_and_set(void *map, unsigned bit, int wide)
{
	if (wide) {
		uint64_t m = 1ULL << (bit % 64);
		return !!(__atomic_fetch_or((uint64_t *)map + bit / 64, m, __ATOMIC_SEQ_CST) & m);
	}
	uint32_t m = 1u << (bit % 32);
	return !!(__atomic_fetch_or((uint32_t *)map + bit / 32, m, __ATOMIC_SEQ_CST) & m);
}

static inline int bit_test_and_clear(void *map, unsigned bit, int wide)
{
	if (wide) {
		uint64_t m = 1ULL << (bit % 64);
		return !!(__atomic_fetch_and((uint64_t *)map + bit / 64, ~m, __ATOMIC_SEQ_CST) & m);
	}
	uint32_t m = 1u << (bit % 32);
	return !!(__atomic_fetch_and((uint32_t *)map + bit / 32, ~m, __ATOMIC_SEQ_CST) & m);
}

static inline int bit_test(const void *map, unsigned bit, int wide)
{
	if (wide)
		return !!(__atomic_load_n((const uint64_t *)map + bit / 64, __ATOMIC_SEQ_CST) &
			  (1ULL << (bit % 64)));
	return !!(__atomic_load_n((const uint32_t *)map + bit / 32, __ATOMIC_SEQ_CST) &
		  (1u << (bit % 32)));
}

#endif
