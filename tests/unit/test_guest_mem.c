/* Unit tests for vmm/guest_mem.c's frames in holes against lock-free
 * readers: a vCPU or backend thread copying through a pointer gmem_ptr gave
 * it while another thread removes the frame (XENMEM_remove_from_physmap, a
 * grant frame moving) must read the frame or zeros, never fault. */
#include <check.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "run_suite.h"
#include "xenkvm/guest_mem.h"

#define RAM_SIZE (2ULL << 20)
#define HOLE_GFN 0x1000ULL /* 16 MiB: past RAM, a hole */
#define RAM_GFN 0x100ULL   /* a RAM frame a VMM page is shown over */
#define PATTERN 0xab
#define RACE_NS 300000000LL /* long enough to lose the race many times over */

static struct guest_mem mem;
static uint64_t frame_off;
static int stop, bad_byte;

static void setup(void)
{
	uint8_t *hva;

	ck_assert_int_eq(gmem_init(&mem, RAM_SIZE, NULL, NULL), 0);
	ck_assert_int_eq(gmem_alloc_page(&mem, &frame_off, &hva), 0);
	memset(hva, PATTERN, GUEST_PAGE_SIZE);
	memset(gmem_ptr(&mem, RAM_GFN << GUEST_PAGE_SHIFT, GUEST_PAGE_SIZE), PATTERN,
	       GUEST_PAGE_SIZE);
	stop = bad_byte = 0;
}

static void teardown(void)
{
	gmem_destroy(&mem);
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* What a hypercall copy or a backend does: look the frame up, then copy. */
static void *reader(void *arg)
{
	uint64_t gpa = *(uint64_t *)arg << GUEST_PAGE_SHIFT;
	uint8_t buf[GUEST_PAGE_SIZE];

	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		const volatile uint8_t *p = gmem_ptr(&mem, gpa, GUEST_PAGE_SIZE);

		if (!p)
			continue;
		for (size_t i = 0; i < sizeof(buf); i++)
			buf[i] = p[i];
		/* The frame, or the zero page that replaced it: nothing else. */
		for (size_t i = 0; i < sizeof(buf); i += 64)
			if (buf[i] != PATTERN && buf[i] != 0)
				__atomic_store_n(&bad_byte, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static unsigned race(uint64_t gfn)
{
	pthread_t t;
	long long end = now_ns() + RACE_NS;
	unsigned cycles = 0;

	ck_assert_int_eq(pthread_create(&t, NULL, reader, &gfn), 0);
	while (now_ns() < end) {
		ck_assert_int_eq(gmem_map_page(&mem, gfn, frame_off), 0);
		ck_assert_int_eq(gmem_unmap_page(&mem, gfn), 0);
		cycles++;
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	return cycles;
}

START_TEST(hole_frame_removed_under_a_reader)
{
	unsigned cycles = race(HOLE_GFN);

	ck_assert_uint_gt(cycles, 100);
	ck_assert_int_eq(bad_byte, 0);
	/* Removed for good: no lookup finds it, and its slot is reused. */
	ck_assert_ptr_null(gmem_ptr(&mem, HOLE_GFN << GUEST_PAGE_SHIFT, 1));
	ck_assert_int_le(mem.nregions, 2);
}
END_TEST

START_TEST(ram_overlay_removed_under_a_reader)
{
	ck_assert_uint_gt(race(RAM_GFN), 100);
	ck_assert_int_eq(bad_byte, 0);
	ck_assert_ptr_nonnull(gmem_ptr(&mem, RAM_GFN << GUEST_PAGE_SHIFT, 1));
}
END_TEST

/* A removed frame's address is kept for the next frame in its slot: the
 * host address space does not grow with map/unmap cycles. */
START_TEST(removed_frame_address_is_reused)
{
	uint8_t *first, *again;

	ck_assert_int_eq(gmem_map_page(&mem, HOLE_GFN, frame_off), 0);
	first = gmem_ptr(&mem, HOLE_GFN << GUEST_PAGE_SHIFT, 1);
	ck_assert_int_eq(gmem_unmap_page(&mem, HOLE_GFN), 0);
	ck_assert_uint_eq(first[0], 0); /* the zero page, not a fault */
	ck_assert_int_eq(gmem_map_page(&mem, HOLE_GFN + 1, frame_off), 0);
	again = gmem_ptr(&mem, (HOLE_GFN + 1) << GUEST_PAGE_SHIFT, 1);
	ck_assert_ptr_eq(first, again);
	ck_assert_uint_eq(again[0], PATTERN);
}
END_TEST

static Suite *guest_mem_suite(void)
{
	Suite *s = suite_create("guest_mem");
	TCase *t = tcase_create("frames");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_set_timeout(t, 30);
	tcase_add_test(t, hole_frame_removed_under_a_reader);
	tcase_add_test(t, ram_overlay_removed_under_a_reader);
	tcase_add_test(t, removed_frame_address_is_reused);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return run_suite(guest_mem_suite());
}
