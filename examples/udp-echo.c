// SPDX-License-Identifier: GPL-2.0
/*
 * udp-echo: a plain-sockets UDP echo server. Nothing in it knows about
 * exasock; run it as "exasock ./udp-echo 1234" to accelerate it.
 *
 *   udp-echo [-a ADDR] [-c COUNT] [-v] PORT
 *
 * Echoes every datagram back to its sender until COUNT datagrams have
 * been echoed (default: for ever) or SIGINT/SIGTERM.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(const char *prog)
{
	fprintf(stderr, "usage: %s [-a ADDR] [-c COUNT] [-v] PORT\n", prog);
	exit(2);
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	struct sockaddr_in peer;
	struct sigaction sa;
	long count = -1, done = 0;
	socklen_t plen;
	char buf[65536];
	int fd, opt, verbose = 0;
	ssize_t n;

	while ((opt = getopt(argc, argv, "a:c:v")) != -1) {
		switch (opt) {
		case 'a':
			if (inet_pton(AF_INET, optarg, &addr.sin_addr) != 1)
				usage(argv[0]);
			break;
		case 'c':
			count = strtol(optarg, NULL, 0);
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			usage(argv[0]);
		}
	}
	if (optind != argc - 1)
		usage(argv[0]);
	addr.sin_port = htons(atoi(argv[optind]));

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: recvfrom returns */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("socket");
		return 1;
	}
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		perror("bind");
		return 1;
	}
	if (verbose)
		fprintf(stderr, "udp-echo: listening on %s:%u (fd %d)\n",
			inet_ntoa(addr.sin_addr), ntohs(addr.sin_port), fd);

	while (!stop && (count < 0 || done < count)) {
		plen = sizeof(peer);
		n = recvfrom(fd, buf, sizeof(buf), 0,
			     (struct sockaddr *)&peer, &plen);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("recvfrom");
			return 1;
		}
		if (sendto(fd, buf, n, 0, (struct sockaddr *)&peer,
			   plen) < 0)
			perror("sendto");
		done++;
		if (verbose)
			fprintf(stderr, "udp-echo: %zd bytes from %s:%u\n", n,
				inet_ntoa(peer.sin_addr), ntohs(peer.sin_port));
	}
	close(fd);
	return 0;
}
