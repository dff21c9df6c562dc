/* The host-side floor for the PV disk bench: the same I/O the blkfront
 * guest does in bench mode (request size, count, sequential or the same
 * LCG-random offsets), straight on the image with O_DIRECT when the file
 * system allows it, one request at a time. Prints "ns=N bytes=B".
 * Usage: blkhost IMAGE seq-read|seq-write|rand-read|rand-write MIB PAGES */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	struct stat st;
	void *buf;
	int fd, writing, random;
	uint64_t pages, bytes_per, n, span, t0;
	uint32_t seed = 12345;

	if (argc != 5) {
		fprintf(stderr, "usage: blkhost IMAGE seq-read|seq-write|rand-read|rand-write MIB PAGES\n");
		return 2;
	}
	writing = strstr(argv[2], "write") != NULL;
	random = !strncmp(argv[2], "rand", 4);
	pages = strtoull(argv[4], NULL, 0);
	bytes_per = pages * 4096;
	n = (strtoull(argv[3], NULL, 0) << 20) / bytes_per;
	fd = open(argv[1], (writing ? O_RDWR : O_RDONLY) | O_DIRECT);
	if (fd < 0)
		fd = open(argv[1], writing ? O_RDWR : O_RDONLY);
	if (fd < 0 || fstat(fd, &st) < 0 || posix_memalign(&buf, 4096, bytes_per) || !pages) {
		perror(argv[1]);
		return 1;
	}
	memset(buf, 0x5a, bytes_per);
	span = (uint64_t)st.st_size / bytes_per;
	t0 = now_ns();
	for (uint64_t i = 0; i < n; i++) {
		uint64_t slot = i % span;
		ssize_t r;

		if (random) { /* the guest's generator, so both touch the same blocks */
			seed = seed * 1103515245u + 12345u;
			slot = (seed >> 4) % span;
		}
		r = writing ? pwrite(fd, buf, bytes_per, (off_t)(slot * bytes_per))
			    : pread(fd, buf, bytes_per, (off_t)(slot * bytes_per));
		if (r != (ssize_t)bytes_per) {
			perror("I/O");
			return 1;
		}
	}
	printf("ns=%llu bytes=%llu\n", (unsigned long long)(now_ns() - t0),
	       (unsigned long long)(n * bytes_per));
	close(fd);
	free(buf);
	return 0;
}
