// SPDX-License-Identifier: GPL-2.0
/*
 * multicast-echo: joins a multicast group on one interface and sends every
 * datagram it receives back to its sender, by unicast. Plain sockets only;
 * run it as "exasock ./multicast-echo eth1 239.1.2.3 5000" to accelerate
 * it once eth1 is attached (the join on an attached interface is what
 * makes exasock accelerate a multicast socket).
 *
 *   multicast-echo [-c COUNT] [-v] INTERFACE GROUP PORT
 *
 * INTERFACE is an interface name or one of its IPv4 addresses. The socket
 * is bound to GROUP:PORT, so it receives only that group's datagrams.
 * Stops after COUNT datagrams (default: never) or at SIGINT/SIGTERM.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
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
	fprintf(stderr, "usage: %s [-c COUNT] [-v] INTERFACE GROUP PORT\n",
		prog);
	exit(2);
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	struct ip_mreqn mreq = { 0 };
	struct sockaddr_in peer;
	struct sigaction sa;
	long count = -1, done = 0;
	int fd, c, verbose = 0, one = 1;
	char buf[65536], from[INET_ADDRSTRLEN];
	socklen_t plen;
	ssize_t n;
	char *end;
	long port;

	while ((c = getopt(argc, argv, "c:v")) != -1) {
		switch (c) {
		case 'c':
			count = strtol(optarg, &end, 10);
			if (*end || count < 1)
				usage(argv[0]);
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			usage(argv[0]);
		}
	}
	if (argc - optind != 3)
		usage(argv[0]);

	/* the interface, by address or by name */
	if (inet_pton(AF_INET, argv[optind], &mreq.imr_address) != 1) {
		mreq.imr_ifindex = if_nametoindex(argv[optind]);
		if (!mreq.imr_ifindex) {
			fprintf(stderr, "%s: no interface %s\n", argv[0],
				argv[optind]);
			return 1;
		}
	}
	if (inet_pton(AF_INET, argv[optind + 1], &mreq.imr_multiaddr) != 1 ||
	    !IN_MULTICAST(ntohl(mreq.imr_multiaddr.s_addr))) {
		fprintf(stderr, "%s: %s is not an IPv4 multicast group\n",
			argv[0], argv[optind + 1]);
		return 1;
	}
	port = strtol(argv[optind + 2], &end, 10);
	if (*end || port < 1 || port > 65535)
		usage(argv[0]);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: recvfrom returns */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("socket");
		return 1;
	}
	/* several listeners of one group on one host */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0) {
		perror("SO_REUSEADDR");
		return 1;
	}
	addr.sin_addr = mreq.imr_multiaddr;
	addr.sin_port = htons(port);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		perror("bind");
		return 1;
	}
	if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq,
		       sizeof(mreq)) < 0) {
		perror("IP_ADD_MEMBERSHIP");
		return 1;
	}

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
		if (verbose) {
			inet_ntop(AF_INET, &peer.sin_addr, from, sizeof(from));
			printf("%zd bytes from %s:%u\n", n, from,
			       ntohs(peer.sin_port));
			fflush(stdout);
		}
		/* the reply leaves by the route to the sender */
		if (sendto(fd, buf, n, 0, (struct sockaddr *)&peer, plen) < 0) {
			perror("sendto");
			return 1;
		}
		done++;
	}
	close(fd);
	return 0;
}
