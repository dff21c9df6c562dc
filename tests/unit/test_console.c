/* The console backend: the output ring drained to the host, input routed
 * to CONSOLEIO_read or the ring, and rings whose indices lie. */
#include <check.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xen/xen.h>
#include <xen/io/console.h>

#include "run_suite.h"
#include "xenkvm/console.h"

static struct console con;
static struct xencons_interface ring;
static int pipe_fd[2];
static int notified;

static void count_notify(void *opaque)
{
	(void)opaque;
	notified++;
}

static void setup(void)
{
	ck_assert_int_eq(pipe2(pipe_fd, O_NONBLOCK), 0);
	memset(&ring, 0, sizeof(ring));
	notified = 0;
	console_init(&con, pipe_fd[1]);
	console_attach_ring(&con, &ring, count_notify, NULL);
}

static void teardown(void)
{
	console_destroy(&con);
	close(pipe_fd[0]);
	close(pipe_fd[1]);
}

static size_t host_read(char *buf, size_t len)
{
	ssize_t n = read(pipe_fd[0], buf, len);
	return n > 0 ? (size_t)n : 0;
}

static void guest_puts(const char *s)
{
	for (; *s; s++)
		ring.out[MASK_XENCONS_IDX(ring.out_prod++, ring.out)] = *s;
}

START_TEST(drain_copies_and_consumes)
{
	char buf[64] = { 0 };

	guest_puts("hello");
	ck_assert_uint_eq(console_ring_drain(&con), 5);
	ck_assert_uint_eq(ring.out_cons, ring.out_prod);
	ck_assert_uint_eq(host_read(buf, sizeof(buf)), 5);
	ck_assert_str_eq(buf, "hello");
	ck_assert_uint_eq(console_ring_drain(&con), 0);
}
END_TEST

START_TEST(drain_wraps_around)
{
	char buf[64] = { 0 };

	ring.out_cons = ring.out_prod = sizeof(ring.out) - 2;
	guest_puts("wrap");
	ck_assert_uint_eq(console_ring_drain(&con), 4);
	ck_assert_uint_eq(host_read(buf, sizeof(buf)), 4);
	ck_assert_str_eq(buf, "wrap");
}
END_TEST

/* A producer further ahead than the ring is big: nothing past the ring is
 * read, and the ring is resynchronised. */
START_TEST(drain_refuses_lying_indices)
{
	char buf[64];

	ring.out_cons = 10;
	ring.out_prod = 10 + sizeof(ring.out) + 1;
	ck_assert_uint_eq(console_ring_drain(&con), 0);
	ck_assert_uint_eq(ring.out_cons, ring.out_prod);
	ck_assert_uint_eq(host_read(buf, sizeof(buf)), 0);
	/* Backwards indices are "ahead" by nearly 2^32: refused the same way. */
	ring.out_cons = 100;
	ring.out_prod = 50;
	ck_assert_uint_eq(console_ring_drain(&con), 0);
	ck_assert_uint_eq(ring.out_cons, 50);
}
END_TEST

START_TEST(input_goes_to_console_io_until_the_ring_is_used)
{
	char buf[16] = { 0 };

	ck_assert_uint_eq(console_input(&con, "ab", 2), 2);
	ck_assert_uint_eq(ring.in_prod, 0);
	ck_assert_int_eq(notified, 0);
	ck_assert_uint_eq(console_read(&con, buf, sizeof(buf)), 2);
	ck_assert_str_eq(buf, "ab");
}
END_TEST

START_TEST(input_fills_the_ring_once_active)
{
	console_ring_activate(&con);
	ck_assert_uint_eq(console_input(&con, "xyz", 3), 3);
	ck_assert_uint_eq(ring.in_prod, 3);
	ck_assert_int_eq(memcmp(ring.in, "xyz", 3), 0);
	ck_assert_int_eq(notified, 1);
}
END_TEST

/* What does not fit waits in the queue and moves when the guest makes room. */
START_TEST(input_waits_for_room)
{
	char big[sizeof(ring.in) + 10];

	memset(big, 'k', sizeof(big));
	console_ring_activate(&con);
	ck_assert_uint_eq(console_input(&con, big, sizeof(big)), sizeof(big));
	ck_assert_uint_eq(ring.in_prod - ring.in_cons, sizeof(ring.in));
	ck_assert_uint_eq(con.in_len, 10);
	ring.in_cons += 10;
	ck_assert_uint_eq(console_ring_fill(&con), 10);
	ck_assert_uint_eq(con.in_len, 0);
}
END_TEST

START_TEST(input_refuses_lying_indices)
{
	console_ring_activate(&con);
	ring.in_cons = 0;
	ring.in_prod = sizeof(ring.in) + 5;
	ck_assert_uint_eq(console_input(&con, "q", 1), 1);
	ck_assert_uint_eq(ring.in_prod, sizeof(ring.in) + 5);
	ck_assert_uint_eq(con.in_len, 1);
}
END_TEST

START_TEST(unread_keeps_order)
{
	char buf[16] = { 0 };

	console_input(&con, "hello world", 11);
	ck_assert_uint_eq(console_read(&con, buf, 5), 5);
	console_unread(&con, buf, 5);
	memset(buf, 0, sizeof(buf));
	ck_assert_uint_eq(console_read(&con, buf, sizeof(buf)), 11);
	ck_assert_str_eq(buf, "hello world");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("console");
	TCase *tc = tcase_create("ring");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, drain_copies_and_consumes);
	tcase_add_test(tc, drain_wraps_around);
	tcase_add_test(tc, drain_refuses_lying_indices);
	tcase_add_test(tc, input_goes_to_console_io_until_the_ring_is_used);
	tcase_add_test(tc, input_fills_the_ring_once_active);
	tcase_add_test(tc, input_waits_for_room);
	tcase_add_test(tc, input_refuses_lying_indices);
	tcase_add_test(tc, unread_keeps_order);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
