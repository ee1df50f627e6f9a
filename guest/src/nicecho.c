/* nicecho: the other end of the NIC story.  It reads frames from a hostk
 * network card and writes each one back (the card sends it to its peer),
 * sleeping in read() between frames: its CPU is someone else's until the
 * card's interrupt brings the next frame.
 *   hostk run --device nic0=nic:127.0.0.1:PORT -- nicecho [-s] [DEVICE [COUNT]]
 * DEVICE is a /dev/hostk name or a path (default nic0); COUNT frames, then
 * it exits (default 0: until the card's peer sends an empty frame).  With
 * -s each echo starts with 8 bytes more: the CLOCK_MONOTONIC nanoseconds at
 * which its read() returned (what `hostk bench nic` times). */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_FRAME 65536

int main(int argc, char **argv)
{
	static unsigned char buf[8 + MAX_FRAME];
	const char *dev = "nic0";
	char path[256];
	long count = 0, done = 0;
	int stamp = 0, fd;

	if (argc > 1 && !strcmp(argv[1], "-s")) {
		stamp = 1;
		argv++, argc--;
	}
	if (argc > 1)
		dev = argv[1];
	if (argc > 2) {
		char *end;

		count = strtol(argv[2], &end, 10);
		if (*end || count < 0) {
			fprintf(stderr, "nicecho: COUNT must be a number >= 0, not '%s'\n", argv[2]);
			return 2;
		}
	}
	if (argc > 3) {
		fprintf(stderr, "usage: nicecho [-s] [DEVICE [COUNT]]\n");
		return 2;
	}
	snprintf(path, sizeof path, "%s%s", strchr(dev, '/') ? "" : "/dev/hostk/", dev);
	if ((fd = open(path, O_RDWR)) < 0) {
		fprintf(stderr, "nicecho: %s: %s%s\n", path, strerror(errno),
			errno == ENOENT ? " (run it under hostk with --device NAME=nic:ADDR:PORT)" : "");
		return 1;
	}
	while (!count || done < count) {
		ssize_t n = read(fd, buf + 8, MAX_FRAME);
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("nicecho: read");
			return 1;
		}
		if (n == 0 && !count)
			break;	/* the peer's "that is all" */
		if (stamp) {
			uint64_t t = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;

			memcpy(buf, &t, 8);
		}
		if (write(fd, stamp ? buf : buf + 8, (size_t)n + (stamp ? 8 : 0)) < 0) {
			perror("nicecho: write");
			return 1;
		}
		done++;
	}
	fprintf(stderr, "nicecho: %ld frame(s) echoed\n", done);
	return 0;
}
