// SPDX-License-Identifier: GPL-2.0
/*
 * libexasock is transparent where it does not accelerate: run under the
 * library (the test re-executes itself with LD_PRELOAD set), every socket
 * here is on loopback, which is never accelerated, so every call must
 * behave exactly as it does without the library. Runs on the host (no
 * module) and in the VM alike. Built with _FORTIFY_SOURCE, so the __*_chk
 * entry points are exercised too.
 *
 * Output is TAP 13; exit status 0 when every test passed, 1 otherwise.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <linux/exasock.h>

#include "unit_tap.h"

static int udp_bound(struct sockaddr_in *sin)
{
	socklen_t len = sizeof(*sin);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)sin, sizeof(*sin)) ||
	    getsockname(fd, (struct sockaddr *)sin, &len))
		return -1;
	return fd;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_loaded(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	int found = 0;

	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, "libexasock"))
			found = 1;
	if (f)
		fclose(f);
	CHECK(found, "libexasock is mapped");
}

static void test_udp_calls(void)
{
	struct sockaddr_in a, b, from;
	char buf[64], c1[3], c2[5];
	struct iovec iov[2] = { { c1, 3 }, { c2, 5 } };
	struct mmsghdr mm[4];
	struct iovec mv[4];
	char mb[4][16];
	struct timespec ts = { 0, 200000000 };
	struct msghdr msg;
	socklen_t flen;
	int ra, sb, i;
	ssize_t n;

	ra = udp_bound(&a);
	sb = udp_bound(&b);
	CHECK(ra >= 0 && sb >= 0, "sockets");
	for (i = 0; i < 6; i++)
		sendto(sb, "datagram", 8, 0, (struct sockaddr *)&a, sizeof(a));

	flen = sizeof(from);
	n = recvfrom(ra, buf, sizeof(buf), 0, (struct sockaddr *)&from,
		     &flen);
	CHECK(n == 8 && flen == sizeof(from) && from.sin_port == b.sin_port,
	      "recvfrom n=%zd", n);
	n = recv(ra, buf, 4, 0);
	CHECK(n == 4 && !memcmp(buf, "data", 4), "recv truncates n=%zd", n);
	n = recv(ra, buf, 2, MSG_TRUNC | MSG_PEEK);
	CHECK(n == 8, "MSG_TRUNC|MSG_PEEK n=%zd", n);
	n = read(ra, buf, sizeof(buf));
	CHECK(n == 8, "read n=%zd", n);
	n = readv(ra, iov, 2);
	CHECK(n == 8 && !memcmp(c1, "dat", 3) && !memcmp(c2, "agram", 5),
	      "readv n=%zd", n);
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = iov;
	msg.msg_iovlen = 1;
	n = recvmsg(ra, &msg, 0);
	CHECK(n == 3 && (msg.msg_flags & MSG_TRUNC), "recvmsg n=%zd", n);

	memset(mm, 0, sizeof(mm));
	for (i = 0; i < 4; i++) {
		mv[i].iov_base = mb[i];
		mv[i].iov_len = sizeof(mb[i]);
		mm[i].msg_hdr.msg_iov = &mv[i];
		mm[i].msg_hdr.msg_iovlen = 1;
	}
	n = recvmmsg(ra, mm, 4, MSG_WAITFORONE, &ts);
	CHECK(n == 1 && mm[0].msg_len == 8, "recvmmsg n=%zd", n);

	n = recv(ra, buf, sizeof(buf), MSG_DONTWAIT);
	CHECK(n == -1 && errno == EAGAIN, "empty MSG_DONTWAIT n=%zd", n);
	n = recv(12345, buf, sizeof(buf), 0);
	CHECK(n == -1 && errno == EBADF, "bad fd n=%zd", n);
	close(ra);
	close(sb);
}

/* lengths the compiler cannot check: the __*_chk entry points */
static void test_fortify(void)
{
	volatile size_t vlen = 16;
	volatile nfds_t vn = 1;
	struct sockaddr_in a, b, from;
	socklen_t flen = sizeof(from);
	struct pollfd pfd;
	char buf[16];
	int ra, sb, i;

	ra = udp_bound(&a);
	sb = udp_bound(&b);
	for (i = 0; i < 3; i++)
		sendto(sb, "chk", 3, 0, (struct sockaddr *)&a, sizeof(a));
	pfd.fd = ra;
	pfd.events = POLLIN;
	CHECK(poll(&pfd, vn, 1000) == 1, "__poll_chk");
	CHECK(recv(ra, buf, vlen, 0) == 3, "__recv_chk");
	CHECK(recvfrom(ra, buf, vlen, 0, (struct sockaddr *)&from, &flen) == 3,
	      "__recvfrom_chk");
	CHECK(read(ra, buf, vlen) == 3, "__read_chk");
	close(ra);
	close(sb);
}

static void test_tcp(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int l, c, s;
	char buf[16];

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(!bind(l, (struct sockaddr *)&a, sizeof(a)) && !listen(l, 1) &&
	      !getsockname(l, (struct sockaddr *)&a, &len), "listen");
	c = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(!connect(c, (struct sockaddr *)&a, sizeof(a)), "connect");
	s = accept(l, NULL, NULL);
	CHECK(s >= 0, "accept");
	CHECK(send(c, "stream", 6, 0) == 6, "send");
	CHECK(recv(s, buf, sizeof(buf), MSG_WAITALL | MSG_DONTWAIT) == 6,
	      "recv");
	CHECK(write(s, "back", 4) == 4 && read(c, buf, 4) == 4 &&
	      !memcmp(buf, "back", 4), "write/read");
	close(c);
	CHECK(read(s, buf, sizeof(buf)) == 0, "EOF");
	close(s);
	close(l);
}

static void test_readiness(void)
{
	struct epoll_event ev = { .events = EPOLLIN }, out[4];
	struct timeval tv = { 0, 150000 };
	struct sockaddr_in a, b;
	struct pollfd pfd[2];
	int ra, sb, p[2], ep;
	double t0, dt;
	fd_set rs;
	char c;

	ra = udp_bound(&a);
	sb = udp_bound(&b);
	CHECK(!pipe(p), "pipe");
	pfd[0].fd = ra;
	pfd[0].events = POLLIN;
	pfd[1].fd = p[0];
	pfd[1].events = POLLIN;

	t0 = now();
	CHECK(poll(pfd, 2, 150) == 0, "poll times out");
	dt = now() - t0;
	CHECK(dt > 0.14 && dt < 1, "poll timeout %.3f", dt);

	FD_ZERO(&rs);
	FD_SET(ra, &rs);
	FD_SET(p[0], &rs);
	t0 = now();
	CHECK(select(p[0] > ra ? p[0] + 1 : ra + 1, &rs, NULL, NULL, &tv) == 0,
	      "select times out");
	dt = now() - t0;
	CHECK(dt > 0.14 && dt < 1 && tv.tv_sec == 0 && tv.tv_usec == 0,
	      "select timeout %.3f, left %ld.%06ld", dt, (long)tv.tv_sec,
	      (long)tv.tv_usec);

	sendto(sb, "x", 1, 0, (struct sockaddr *)&a, sizeof(a));
	CHECK(write(p[1], "y", 1) == 1, "write pipe");
	CHECK(poll(pfd, 2, 1000) == 2 && pfd[0].revents == POLLIN &&
	      pfd[1].revents == POLLIN, "poll both");
	FD_ZERO(&rs);
	FD_SET(ra, &rs);
	FD_SET(p[0], &rs);
	CHECK(select(FD_SETSIZE, &rs, NULL, NULL, NULL) == 2, "select both");

	ep = epoll_create1(EPOLL_CLOEXEC);
	ev.data.u64 = 0x1234;
	CHECK(!epoll_ctl(ep, EPOLL_CTL_ADD, ra, &ev), "epoll_ctl");
	ev.data.u64 = 0x5678;
	CHECK(!epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev), "epoll_ctl");
	CHECK(epoll_wait(ep, out, 4, 1000) == 2, "epoll both");
	CHECK(read(p[0], &c, 1) == 1 && recv(ra, &c, 1, 0) == 1, "drain");
	t0 = now();
	CHECK(epoll_wait(ep, out, 4, 100) == 0, "epoll times out");
	CHECK(now() - t0 > 0.09, "epoll waited");
	CHECK(!epoll_ctl(ep, EPOLL_CTL_DEL, ra, NULL), "epoll del");
	close(ep);
	close(p[0]);
	close(p[1]);
	close(ra);
	close(sb);
}

static void test_options(void)
{
	int fd, t, val = 1, nb;
	socklen_t len = sizeof(val);

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK(!getsockopt(fd, SOL_EXASOCK, SO_EXA_NO_ACCEL, &val, &len) &&
	      val == !!getenv("EXASOCK_NO_AUTO"), "NO_ACCEL default %d", val);
	val = 1;
	len = sizeof(val);
	CHECK(!getsockopt(fd, SOL_EXASOCK, SO_EXA_ACCELERATED, &val, &len) &&
	      val == 0, "not accelerated");
	val = 1;
	CHECK(!setsockopt(fd, SOL_EXASOCK, SO_EXA_NO_ACCEL, &val, sizeof(val)),
	      "opt out");
	val = 0;
	len = sizeof(val);
	CHECK(!getsockopt(fd, SOL_EXASOCK, SO_EXA_NO_ACCEL, &val, &len) &&
	      val == 1, "reads 1");
	val = 0;
	CHECK(setsockopt(fd, SOL_EXASOCK, SO_EXA_NO_ACCEL, &val,
			 sizeof(val)) == -1 && errno == EPERM, "for good");
	CHECK(setsockopt(fd, SOL_EXASOCK, SO_EXA_NO_ACCEL, &val, 2) == -1 &&
	      errno == EINVAL, "short optlen");
	len = sizeof(val);
	errno = 0;
	t = syscall(SYS_getsockopt, fd, SOL_EXASOCK, 99, &val, &len) ?
	    errno : 0;
	CHECK(getsockopt(fd, SOL_EXASOCK, 99, &val, &len) == -1 &&
	      errno == t, "unknown option: as the kernel says (%d)", t);
	CHECK(getsockopt(0 + 100000, SOL_EXASOCK, SO_EXA_NO_ACCEL, &val,
			 &len) == -1 && errno == EBADF, "bad fd");

	t = socket(AF_INET, SOCK_STREAM, 0);
	val = 1;
	CHECK(!setsockopt(t, SOL_EXASOCK, SO_EXA_NO_ACCEL, &val, sizeof(val)),
	      "TCP opt out");
	close(t);
	t = open("/dev/null", O_RDONLY);
	CHECK(setsockopt(t, SOL_EXASOCK, SO_EXA_NO_ACCEL, &val,
			 sizeof(val)) == -1 && errno == ENOTSOCK,
	      "not a socket");
	close(t);

	/* fcntl and ioctl pass through, O_NONBLOCK included */
	CHECK(!(fcntl(fd, F_GETFL) & O_NONBLOCK), "blocking");
	nb = 1;
	CHECK(!ioctl(fd, FIONBIO, &nb) && (fcntl(fd, F_GETFL) & O_NONBLOCK),
	      "FIONBIO");
	CHECK(!fcntl(fd, F_SETFL, 0) && !(fcntl(fd, F_GETFL) & O_NONBLOCK),
	      "F_SETFL");
	t = fcntl(fd, F_DUPFD_CLOEXEC, 50);
	CHECK(t >= 50 && (fcntl(t, F_GETFD) & FD_CLOEXEC), "F_DUPFD_CLOEXEC");
	close(t);
	close(fd);
}

static void test_warm(void)
{
	struct sockaddr_in a, b;
	struct iovec iov = { "warm", 4 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct mmsghdr mm = { .msg_hdr = msg };
	int ra, sb;
	char buf[8];

	ra = udp_bound(&a);
	sb = udp_bound(&b);
	msg.msg_name = &a;
	msg.msg_namelen = sizeof(a);
	mm.msg_hdr = msg;
	CHECK(sendto(sb, "warm", 4, MSG_EXA_WARM, (struct sockaddr *)&a,
		     sizeof(a)) == 4, "sendto");
	CHECK(sendmsg(sb, &msg, MSG_EXA_WARM) == 4, "sendmsg");
	CHECK(sendmmsg(sb, &mm, 1, MSG_EXA_WARM) == 1 && mm.msg_len == 4,
	      "sendmmsg");
	CHECK(!connect(sb, (struct sockaddr *)&a, sizeof(a)), "connect");
	CHECK(send(sb, "warm", 4, MSG_EXA_WARM) == 4, "send");
	usleep(50000);
	CHECK(recv(ra, buf, sizeof(buf), MSG_DONTWAIT) == -1 &&
	      errno == EAGAIN, "nothing was sent");
	close(ra);
	close(sb);
}

static void test_fork_dup(void)
{
	struct sockaddr_in a, b;
	int ra, sb, d, st;
	char buf[8];
	pid_t pid;

	ra = udp_bound(&a);
	sb = udp_bound(&b);
	sendto(sb, "one", 3, 0, (struct sockaddr *)&a, sizeof(a));
	sendto(sb, "two", 3, 0, (struct sockaddr *)&a, sizeof(a));
	pid = fork();
	if (!pid)
		_exit(recv(ra, buf, sizeof(buf), 0) == 3 ? 0 : 1);
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
	      !WEXITSTATUS(st), "child received");
	d = dup(ra);
	close(ra);
	CHECK(recv(d, buf, sizeof(buf), 0) == 3 && !memcmp(buf, "two", 3),
	      "dup received the second");
	CHECK(dup2(sb, d) == d, "dup2 over it");
	close(d);
	close(sb);
}

static volatile int got_sig, got_code;

static void on_usr1(int sig)
{
	got_sig = sig;
}

static void on_usr2(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	got_sig = sig;
	got_code = si->si_code;
}

/* The library wraps signal handlers; the program must not notice. */
static void test_signals(void)
{
	struct sigaction sa, old;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_RESTART;
	CHECK(!sigaction(SIGUSR1, &sa, NULL), "sigaction");
	CHECK(!sigaction(SIGUSR1, NULL, &old) && old.sa_handler == on_usr1 &&
	      old.sa_flags == SA_RESTART, "reads back %p %#x",
	      (void *)old.sa_handler, old.sa_flags);
	raise(SIGUSR1);
	CHECK(got_sig == SIGUSR1, "handler ran");

	sa.sa_sigaction = on_usr2;
	sa.sa_flags = SA_SIGINFO;
	CHECK(!sigaction(SIGUSR2, &sa, NULL), "sigaction SA_SIGINFO");
	raise(SIGUSR2);
	CHECK(got_sig == SIGUSR2 && got_code == SI_TKILL, "siginfo passed");
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
	CHECK(!siginterrupt(SIGUSR2, 0) && !sigaction(SIGUSR2, NULL, &old) &&
	      old.sa_flags == (SA_SIGINFO | SA_RESTART) &&
	      old.sa_sigaction == on_usr2, "siginterrupt %#x", old.sa_flags);
#pragma GCC diagnostic pop

	CHECK(signal(SIGUSR1, SIG_IGN) == on_usr1, "signal returns it");
	CHECK(signal(SIGUSR1, on_usr1) == SIG_IGN, "SIG_IGN");
	CHECK(signal(SIGUSR1, SIG_DFL) == on_usr1, "and back");
	CHECK(signal(SIGKILL, on_usr1) == SIG_ERR && errno == EINVAL,
	      "SIGKILL");
	signal(SIGUSR2, SIG_DFL);
}

/* The "module not loaded" warning: once per process, none with NO_WARN. */
static int count_warnings(const char *self, int no_warn)
{
	char line[256];
	int p[2], n = 0;
	FILE *f;
	pid_t pid;

	if (pipe(p))
		return -1;
	pid = fork();
	if (!pid) {
		dup2(p[1], 2);
		close(p[0]);
		if (no_warn)
			setenv("EXASOCK_NO_WARN", "1", 1);
		else
			unsetenv("EXASOCK_NO_WARN");
		unsetenv("EXASOCK_LAUNCHER_WARNED");
		unsetenv("EXASOCK_NO_AUTO");
		execl(self, self, "--bind-twice", NULL);
		_exit(127);
	}
	close(p[1]);
	f = fdopen(p[0], "r");
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "exasock") && strstr(line, "warning"))
			n++;
	fclose(f);
	waitpid(pid, NULL, 0);
	return n;
}

static void test_warning(const char *self)
{
	int fd = socket(AF_EXASOCK, SOCK_DGRAM, 0);

	if (fd >= 0) {
		close(fd);
		printf("# module loaded: no warning expected\n");
		CHECK(count_warnings(self, 0) == 0, "no warning");
		return;
	}
	CHECK(count_warnings(self, 0) == 1, "one warning");
	CHECK(count_warnings(self, 1) == 0, "EXASOCK_NO_WARN");
}

static int bind_twice(void)
{
	struct sockaddr_in a;

	close(udp_bound(&a));
	close(udp_bound(&a));
	return 0;
}

static const struct unit_test tests[] = {
	{ "the library is preloaded", test_loaded },
	{ "UDP receive calls on a native socket", test_udp_calls },
	{ "fortified entry points", test_fortify },
	{ "TCP stays native", test_tcp },
	{ "poll, select, epoll: readiness and timeouts", test_readiness },
	{ "SOL_EXASOCK options on native sockets, fcntl, ioctl",
	  test_options },
	{ "MSG_EXA_WARM on native sockets sends nothing", test_warm },
	{ "fork, dup, dup2", test_fork_dup },
	{ "signal handlers, wrapped unseen", test_signals },
};

#define EXA_N	(sizeof(tests) / sizeof(tests[0]))

int main(int argc, char **argv)
{
	char lib[PATH_MAX], self[PATH_MAX];
	unsigned int i, nfail = 0;
	const char *pre;
	ssize_t n;

	if (argc > 1 && !strcmp(argv[1], "--bind-twice"))
		return bind_twice();

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		return 1;
	self[n] = '\0';
	pre = getenv("LD_PRELOAD");
	if (!pre || !strstr(pre, "libexasock")) {
		/* selftests/unit/preload_test -> lib/libexasock.so */
		snprintf(lib, sizeof(lib), "%s", self);
		*strrchr(lib, '/') = '\0';
		strncat(lib, "/../../lib/libexasock.so",
			sizeof(lib) - strlen(lib) - 1);
		if (access(lib, R_OK)) {
			printf("TAP version 13\n1..0 # SKIP %s not built\n",
			       lib);
			return 4;
		}
		setenv("LD_PRELOAD", realpath(lib, self) ? self : lib, 1);
		/* test_warning() counts the warnings itself */
		setenv("EXASOCK_NO_WARN", "1", 1);
		execv("/proc/self/exe", argv);
		return 1;
	}

	setvbuf(stdout, NULL, _IOLBF, 0);
	alarm(60);
	printf("TAP version 13\n1..%zu\n", EXA_N + 1);
	for (i = 0; i < EXA_N; i++) {
		failed = 0;
		tests[i].fn();
		nfail += failed;
		printf("%sok %u - %s\n", failed ? "not " : "", i + 1,
		       tests[i].name);
	}
	failed = 0;
	test_warning(self);
	nfail += failed;
	printf("%sok %u - module-absent warning, once\n", failed ? "not " : "",
	       i + 1);
	return nfail ? 1 : 0;
}
