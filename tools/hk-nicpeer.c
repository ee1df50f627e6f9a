/* hk-nicpeer: the host's end of a hostk network card, for the demo and for
 * a person at a terminal.  It sends each MESSAGE as a datagram to the card
 * (127.0.0.1:PORT) and prints the reply that comes back, with the round
 * trip; a guest such as nicecho echoes them.
 *   hk-nicpeer PORT MESSAGE...
 * The first message is sent again (every 50 ms, for up to 10 s) until a
 * reply comes: the guest may not have opened the card yet, and a card
 * nobody reads drops its frames (a late reply to an earlier copy is let
 * go).  Last, an empty datagram: nicecho's "that is all".  Exit 0 if every
 * message came back. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define REPLY_MS 5000

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

int main(int argc, char **argv)
{
	struct sockaddr_in me = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) }, card = me;
	char reply[65536], *end;
	long port = argc > 2 ? strtol(argv[1], &end, 10) : -1;
	int s;

	if (argc < 3 || *end || port < 1 || port > 65535) {
		fprintf(stderr, "usage: hk-nicpeer PORT MESSAGE...\n");
		return 2;
	}
	card.sin_port = htons((unsigned short)port);
	if ((s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0 || bind(s, (struct sockaddr *)&me, sizeof me) < 0) {
		perror("hk-nicpeer: socket");
		return 1;
	}
	for (int i = 2; i < argc; i++) {
		size_t len = strlen(argv[i]);
		int tries = i == 2 ? 200 : 1, wait_ms = i == 2 ? 50 : REPLY_MS;
		double t0 = 0;
		ssize_t n = -1;

		while (tries-- > 0 && n < 0) {
			struct pollfd p = { .fd = s, .events = POLLIN };

			t0 = now_us();
			if (sendto(s, argv[i], len, 0, (struct sockaddr *)&card, sizeof card) != (ssize_t)len) {
				perror("hk-nicpeer: sendto");
				return 1;
			}
			while (n < 0 && poll(&p, 1, wait_ms) == 1)
				if ((n = recv(s, reply, sizeof reply - 1, 0)) >= 0 &&
				    ((size_t)n != len || memcmp(reply, argv[i], len)))
					n = -1;	/* a copy of an earlier message: not this one's */
		}
		if (n < 0) {
			fprintf(stderr, "hk-nicpeer: no reply to '%s' from 127.0.0.1:%ld\n", argv[i], port);
			return 1;
		}
		reply[n] = 0;
		printf("sent '%s', reply '%s' after %.0f us\n", argv[i], reply, now_us() - t0);
	}
	if (sendto(s, "", 0, 0, (struct sockaddr *)&card, sizeof card) < 0)
		perror("hk-nicpeer: sendto");
	return 0;
}
