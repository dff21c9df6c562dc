/* tapio: the host side of the network tests and bench, on a raw packet
 * socket bound to an interface (the guest's tap, or a veth for the floor).
 *   tapio peer IFACE N     the netfront guest's partner: checks its two hello
 *                          frames, injects N frames and checks each echo,
 *                          then waits for the frame sent after reconnecting.
 *                          Prints PASS/FAIL lines; exit 1 on any failure.
 *   tapio bench IFACE N    against netfront bench=N: guest->host and
 *                          host->guest frame rates (BENCH line).
 *   tapio floor IFA IFB N  the same frames from IFA to IFB (a veth pair):
 *                          the host's own rate, the bench's floor.
 * Test frames have ethertype 0x88b5, a 7-byte tag and a sequence byte. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define ETHERTYPE_TEST 0x88b5
#define MAX_FRAME 9100
#define WAIT_MS 60000

static int failures;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void result(int ok, const char *name, const char *why)
{
	if (ok) {
		printf("PASS net: %s\n", name);
	} else {
		printf("FAIL net: %s: %s\n", name, why);
		failures++;
	}
	fflush(stdout);
}

/* The interface may be a tap xenkvm is about to create: wait for it. */
static int open_iface(const char *name, unsigned *mtu)
{
	struct sockaddr_ll sa = { .sll_family = AF_PACKET, .sll_protocol = htons(ETHERTYPE_TEST) };
	struct ifreq ifr = { .ifr_mtu = 0 };
	int s = socket(AF_PACKET, SOCK_RAW, htons(ETHERTYPE_TEST));

	for (int i = 0; i < 3000 && !(sa.sll_ifindex = (int)if_nametoindex(name)); i++)
		usleep(10000);
	if (s < 0 || sa.sll_ifindex == 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "tapio: %s: %s\n", name, strerror(errno));
		exit(2);
	}
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	*mtu = ioctl(s, SIOCGIFMTU, &ifr) == 0 ? (unsigned)ifr.ifr_mtu : 1500;
	return s;
}

/* The next incoming test frame within ms: its length, 0 on timeout. */
static long recv_frame(int s, uint8_t *buf, int ms)
{
	double end = now() + ms / 1000.0;

	for (;;) {
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		struct pollfd p = { .fd = s, .events = POLLIN };
		int left = (int)((end - now()) * 1000);
		ssize_t n;

		if (left <= 0 || poll(&p, 1, left) <= 0)
			return 0;
		n = recvfrom(s, buf, MAX_FRAME, 0, (struct sockaddr *)&from, &fl);
		/* Our own transmissions come back as outgoing: skip them. */
		if (n >= 22 && from.sll_pkttype != PACKET_OUTGOING)
			return n;
	}
}

static void make_frame(uint8_t *f, const uint8_t *dst, const char *tag, unsigned seq,
		       unsigned len, unsigned mult)
{
	static const uint8_t src[6] = { 0x02, 0, 0, 0, 0, 0x01 };

	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = ETHERTYPE_TEST >> 8, f[13] = ETHERTYPE_TEST & 0xff;
	memcpy(f + 14, tag, 7);
	f[21] = (uint8_t)seq;
	for (unsigned i = 22; i < len; i++)
		f[i] = (uint8_t)(i * mult + seq);
}

static int pattern_ok(const uint8_t *f, long len, unsigned seq, unsigned mult)
{
	for (long i = 22; i < len; i++)
		if (f[i] != (uint8_t)(i * mult + seq))
			return 0;
	return 1;
}

static int send_frame(int s, const uint8_t *f, size_t len)
{
	return send(s, f, len, 0) == (ssize_t)len ? 0 : -1;
}

/* Tell the guest we listen, until its first frame arrives (it may still
 * be connecting, and the tap drops frames while it has no carrier). */
static long start_guest(int s, uint8_t *f)
{
	uint8_t start[60];

	make_frame(start, (const uint8_t *)"\xff\xff\xff\xff\xff\xff", "XKSTART", 0, 60, 1);
	for (int i = 0; i < WAIT_MS / 100; i++) {
		long n;
		send_frame(s, start, sizeof(start));
		if ((n = recv_frame(s, f, 100)))
			return n;
	}
	return 0;
}

/* The guest's two hello frames; its MAC is their source. */
static int expect_hellos(int s, uint8_t *guest_mac)
{
	static const long want[2] = { 60, 6000 };
	uint8_t f[MAX_FRAME];
	char name[64];

	for (unsigned i = 0; i < 2; i++) {
		long n = i == 0 ? start_guest(s, f) : recv_frame(s, f, WAIT_MS);
		int ok = n == want[i] && !memcmp(f + 14, "XKHELLO", 7) && f[21] == i &&
			 pattern_ok(f, n, i, 1);
		snprintf(name, sizeof(name), "guest frame %u (%ld bytes) read from the tap", i, want[i]);
		result(ok, name, n ? "wrong length or content" : "nothing arrived");
		if (!ok)
			return -1;
		memcpy(guest_mac, f + 6, 6);
	}
	return 0;
}

/* Inject n frames of growing sizes (up to the MTU); each must come back. */
static void echo_round(int s, unsigned n, unsigned mtu, const uint8_t *guest_mac)
{
	const unsigned sizes[] = { 60, 1514, 4200, 9014 };
	uint8_t f[MAX_FRAME], g[MAX_FRAME];
	unsigned good = 0;

	for (unsigned seq = 0; seq < n; seq++) {
		unsigned len = sizes[seq % 4] > mtu + 14 ? mtu + 14 : sizes[seq % 4];
		long got;

		make_frame(f, guest_mac, "XKHOST ", seq, len, 3);
		if (send_frame(s, f, len) < 0)
			break;
		got = recv_frame(s, g, WAIT_MS);
		if (got == len && !memcmp(g, f + 6, 6) && !memcmp(g + 14, "XKECHO", 6) &&
		    g[21] == (uint8_t)seq && pattern_ok(g, got, seq, 3))
			good++;
		else
			fprintf(stderr, "tapio: frame %u (%u bytes): echo of %ld bytes\n", seq, len, got);
	}
	result(good == n, "frames injected into the tap come back from the guest intact",
	       "missing or wrong echoes");
}

static int peer(const char *iface, unsigned n)
{
	uint8_t guest_mac[6], f[MAX_FRAME];
	unsigned mtu;
	int s = open_iface(iface, &mtu);
	long got;

	if (expect_hellos(s, guest_mac) == 0) {
		echo_round(s, n, mtu, guest_mac);
		got = recv_frame(s, f, WAIT_MS);
		result(got == 60 && !memcmp(f + 14, "XKAGAIN", 7), "a frame after the guest reconnected",
		       "nothing arrived");
	}
	close(s);
	return failures ? 1 : 0;
}

/* Guest -> host: n frames timed from the first to the last. */
static double bench_from_guest(int s, unsigned n)
{
	uint8_t f[MAX_FRAME];
	unsigned got = 0;
	double t0 = 0, t1 = 0;

	while (got < n && recv_frame(s, f, got ? 5000 : WAIT_MS)) {
		if (memcmp(f + 14, "XKBENCH", 7))
			continue;
		t1 = now();
		if (got++ == 0)
			t0 = t1;
	}
	fprintf(stderr, "tapio: %u of %u frames from the guest\n", got, n);
	return got > 1 ? (got - 1) / (t1 - t0) : 0;
}

/* Host -> guest: n frames as fast as the tap takes them; the guest reports
 * how many it got once it sees a stop frame. */
static double bench_to_guest(int s, unsigned n, const uint8_t *guest_mac, unsigned *count)
{
	uint8_t f[MAX_FRAME], g[MAX_FRAME];
	double t0 = now();

	make_frame(f, guest_mac, "XKHOST ", 0, 60, 3);
	for (unsigned i = 0; i < n; i++)
		send_frame(s, f, 60);
	make_frame(f, guest_mac, "XKSTOP ", 0, 60, 3);
	for (int tries = 0; tries < 600; tries++) {
		send_frame(s, f, 60);
		if (recv_frame(s, g, 100) && !memcmp(g + 14, "XKCOUNT", 7)) {
			memcpy(count, g + 22, sizeof(*count));
			return *count / (now() - t0);
		}
	}
	*count = 0;
	return 0;
}

static int bench(const char *iface, unsigned n)
{
	uint8_t guest_mac[6], f[MAX_FRAME];
	unsigned mtu, count = 0;
	int s = open_iface(iface, &mtu);
	double tx, rx;

	if (start_guest(s, f) && recv_frame(s, f, WAIT_MS)) /* the hellos */
		memcpy(guest_mac, f + 6, 6);
	tx = bench_from_guest(s, n);
	rx = bench_to_guest(s, n, guest_mac, &count);
	printf("BENCH guest_to_host_pps=%.0f host_to_guest_pps=%.0f host_to_guest_delivered=%u/%u\n",
	       tx, rx, count, n);
	close(s);
	return tx > 0 && rx > 0 ? 0 : 1;
}

/* The floor: the same frames between two host interfaces, one in flight
 * at a time at most a window ahead, as the guest's ring allows. */
static int floor_rate(const char *a, const char *b, unsigned n)
{
	uint8_t f[MAX_FRAME], g[MAX_FRAME];
	static const uint8_t dst[6] = { 0x02, 0, 0, 0, 0, 0x02 };
	unsigned mtu, got = 0;
	int sa = open_iface(a, &mtu), sb = open_iface(b, &mtu);
	double t0 = now();

	make_frame(f, dst, "XKBENCH", 0, 60, 1);
	for (unsigned sent = 0; got < n;) {
		if (sent < n && sent - got < 32 && send_frame(sa, f, 60) == 0)
			sent++;
		else if (recv_frame(sb, g, 2000))
			got++;
		else
			break;
	}
	printf("BENCH floor_pps=%.0f delivered=%u/%u\n", got / (now() - t0), got, n);
	return got == n ? 0 : 1;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 4 && !strcmp(argv[1], "peer"))
		return peer(argv[2], (unsigned)atoi(argv[3]));
	if (argc == 4 && !strcmp(argv[1], "bench"))
		return bench(argv[2], (unsigned)atoi(argv[3]));
	if (argc == 5 && !strcmp(argv[1], "floor"))
		return floor_rate(argv[2], argv[3], (unsigned)atoi(argv[4]));
	fprintf(stderr, "usage: tapio peer IFACE N | bench IFACE N | floor IFA IFB N\n");
	return 2;
}
