/* diskcheck: a hostk disk, written and read back.  It asks the disk its size
 * (BLKGETSIZE64), writes every block with a pattern of its number and a
 * seed, flushes (fsync waits for the device), reads each block back, both
 * with read() at the file position and with pread(), and compares.  Every
 * request sleeps until the disk's interrupt completes it.
 *   hostk run --device disk0=disk:FILE -- diskcheck [-r] [DEVICE [SEED]]
 * DEVICE is a /dev/hostk name or a path (default disk0).  -r only reads and
 * verifies (what an earlier run with the same SEED wrote). */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define BLOCK 4096

static void pattern(unsigned char *b, uint64_t block, uint64_t seed)
{
	uint64_t x = block * 0x9e3779b97f4a7c15ull ^ seed;

	for (size_t i = 0; i < BLOCK; i += 8) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		memcpy(b + i, &x, 8);
	}
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* All of len at off (pread) or at the position (off < 0), or -1. */
static ssize_t xfer(int fd, unsigned char *b, size_t len, off_t off, int wr)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = wr ? (off < 0 ? write(fd, b + done, len - done) : pwrite(fd, b + done, len - done, off + (off_t)done))
			       : (off < 0 ? read(fd, b + done, len - done) : pread(fd, b + done, len - done, off + (off_t)done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

int main(int argc, char **argv)
{
	static unsigned char want[BLOCK], got[BLOCK];
	const char *dev = "disk0";
	uint64_t size, seed = 1, blocks, bad = 0;
	int readonly = 0, fd;
	char path[256];
	double t0;

	if (argc > 1 && !strcmp(argv[1], "-r")) {
		readonly = 1;
		argv++, argc--;
	}
	if (argc > 1)
		dev = argv[1];
	if (argc > 2)
		seed = strtoull(argv[2], NULL, 0);
	snprintf(path, sizeof path, "%s%s", strchr(dev, '/') ? "" : "/dev/hostk/", dev);
	if ((fd = open(path, readonly ? O_RDONLY : O_RDWR)) < 0) {
		fprintf(stderr, "diskcheck: %s: %s%s\n", path, strerror(errno),
			errno == ENOENT ? " (run it under hostk with --device NAME=disk:FILE)" : "");
		return 1;
	}
	if (ioctl(fd, BLKGETSIZE64, &size) < 0) {
		perror("diskcheck: BLKGETSIZE64");
		return 1;
	}
	blocks = size / BLOCK;
	t0 = now_s();
	if (!readonly) {
		for (uint64_t b = 0; b < blocks; b++) {
			pattern(want, b, seed);
			if (xfer(fd, want, BLOCK, -1, 1) != BLOCK) {
				fprintf(stderr, "diskcheck: write of block %llu: %s\n", (unsigned long long)b, strerror(errno));
				return 1;
			}
		}
		if (fsync(fd) < 0) {
			perror("diskcheck: fsync");
			return 1;
		}
	}
	if (lseek(fd, 0, SEEK_SET) != 0) {
		perror("diskcheck: lseek");
		return 1;
	}
	for (uint64_t b = 0; b < blocks; b++) {
		int by_pread = b & 1;	/* every other block with pread, at its offset */

		pattern(want, b, seed);
		if (by_pread && lseek(fd, BLOCK, SEEK_CUR) < 0) {
			perror("diskcheck: lseek");
			return 1;
		}
		if (xfer(fd, got, BLOCK, by_pread ? (off_t)(b * BLOCK) : -1, 0) != BLOCK) {
			fprintf(stderr, "diskcheck: read of block %llu: %s\n", (unsigned long long)b,
				errno ? strerror(errno) : "short");
			return 1;
		}
		if (memcmp(want, got, BLOCK))
			bad++;
	}
	/* At the end of the disk: a read returns 0. */
	if (lseek(fd, 0, SEEK_END) != (off_t)size || read(fd, got, BLOCK) != 0) {
		fprintf(stderr, "diskcheck: a read at the end of the disk did not return 0\n");
		return 1;
	}
	printf("diskcheck: %llu bytes, %llu blocks %s, %llu bad, in %.2f s\n", (unsigned long long)size,
	       (unsigned long long)blocks, readonly ? "read" : "written and read back", (unsigned long long)bad,
	       now_s() - t0);
	return bad ? 1 : 0;
}
