/* SPDX-License-Identifier: MIT */
/* neighbours.c - scenarios where the shim must leave the program and the
 * other processes of the machine as they would be bare, and record only
 * what the kernel holds (shim_neighbours.bats).
 *
 * One mode per scenario; each prints its facts on stdout as
 * "WORD key=value ..." lines, the same bare and traced where the test
 * compares the two.  Modes that keep a port for other processes print
 * their port, then wait for SIGTERM (or SIGUSR1 where said) and exit 0.
 * Loopback only.  Plain libc: this is the traced side.
 */
#define _GNU_SOURCE
#include "tprog.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
	"accept-badlen | close-range-unshare | optlen8 | verdict-euid | holders-nofd\n"
	"  | v6only-holders | hold-udp | udprx addr|port MIN | bindspin PORT\n"
	"  | bindloop PORT N (0: until SIGTERM) | twfill N | exit-tw PORT";

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

/* Loops that run until SIGTERM: the handler only sets a flag. */
static void catch_term(void)
{
	struct sigaction sa = { .sa_handler = on_term };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
}

/* Block sig now (before printing the line a test waits for), wait for it later. */
static void block(int sig)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_BLOCK, &set, NULL);
}

static void await(int sig)
{
	sigset_t set;
	int got;

	sigemptyset(&set);
	sigaddset(&set, sig);
	sigwait(&set, &got);
}

static int lo_socket(int family, int type, int port, int opt)
{
	struct sockaddr_storage a;
	socklen_t len = tp_inet_addr(family == AF_INET6 ? "::1" : "127.0.0.1", port, &a);
	int one = 1, s = socket(family, type, 0);

	if (s < 0)
		tp_die_errno("socket");
	if (opt && setsockopt(s, SOL_SOCKET, opt, &one, sizeof(one)))
		tp_die_errno("setsockopt");
	if (bind(s, (struct sockaddr *)&a, len))
		tp_die_errno("bind 127.0.0.1:%d", port);
	if (type == SOCK_STREAM && listen(s, 4096))
		tp_die_errno("listen");
	return s;
}

static int lo_connect(int port)
{
	struct sockaddr_storage a;
	socklen_t len = tp_inet_addr("127.0.0.1", port, &a);
	int c = socket(AF_INET, SOCK_STREAM, 0);

	if (c < 0 || connect(c, (struct sockaddr *)&a, len))
		tp_die_errno("connect 127.0.0.1:%d", port);
	return c;
}

/* bind(s, 127.0.0.1:port): 0 or the errno */
static int bind_lo(int s, int port)
{
	struct sockaddr_storage a;
	socklen_t len = tp_inet_addr("127.0.0.1", port, &a);

	return bind(s, (struct sockaddr *)&a, len) ? errno : 0;
}

/* accept with an address but no (or an unreadable) length: the kernel
 * answers EFAULT and drops the connection it took from the queue (the
 * client sees it closed, the queue is empty after). */
static int accept_badlen(void)
{
	static const struct { const char *label; socklen_t *len; } cases[] = {
		{ "len=NULL", NULL },
		{ "len=0x8", (socklen_t *)8 },
	};
	struct sockaddr_storage peer;
	int l = lo_socket(AF_INET, SOCK_STREAM, 0, 0), port = tp_port(l);
	char b;

	printf("listen fd=%d\n", l);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int c = lo_connect(port);

		errno = 0;
		int r = accept(l, (struct sockaddr *)&peer, cases[i].len);
		printf("accept %s ret=%d errno=%s\n", cases[i].label, r, tp_errname(r < 0 ? errno : 0));
		struct pollfd p = { .fd = c, .events = POLLIN };
		poll(&p, 1, 5000);
		ssize_t n = recv(c, &b, 1, MSG_DONTWAIT);
		printf("client read ret=%zd errno=%s\n", n, tp_errname(n < 0 ? errno : 0));
		fcntl(l, F_SETFL, O_NONBLOCK);
		r = accept(l, NULL, NULL);
		if (r >= 0)
			close(r);
		printf("accept again ret=%d errno=%s\n", r < 0 ? -1 : 0, tp_errname(r < 0 ? errno : 0));
		fcntl(l, F_SETFL, 0);
		close(c);
	}
	return 0;
}

static int sv[2];

static void *unshare_worker(void *arg)
{
	(void)arg;
	/* a helper thread about to exec drops every descriptor, for itself only */
	int r = close_range(3, ~0U, CLOSE_RANGE_UNSHARE);
	printf("close_range ret=%d errno=%s\n", r, tp_errname(r ? errno : 0));
	return NULL;
}

static int close_range_unshare(void)
{
	pthread_t t;
	char buf[8];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		tp_die_errno("socketpair");
	pthread_create(&t, NULL, unshare_worker, NULL);
	pthread_join(t, NULL);
	ssize_t n = send(sv[0], "hello", 5, MSG_NOSIGNAL);
	printf("send ret=%zd errno=%s\n", n, tp_errname(n < 0 ? errno : 0));
	n = recv(sv[1], buf, sizeof(buf), 0);
	printf("recv ret=%zd errno=%s\n", n, tp_errname(n < 0 ? errno : 0));
	return close(sv[0]) || close(sv[1]);
}

/* SO_REUSEADDR and SO_REUSEPORT given as a long (optlen 8, which the kernel takes) */
static int optlen8(void)
{
	long one = 1;
	int ra = 0, rp = 0, s = socket(AF_INET, SOCK_STREAM, 0);
	socklen_t len = sizeof(ra);

	if (setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)))
		tp_die_errno("setsockopt");
	getsockopt(s, SOL_SOCKET, SO_REUSEADDR, &ra, &len);
	len = sizeof(rp);
	getsockopt(s, SOL_SOCKET, SO_REUSEPORT, &rp, &len);
	if (bind_lo(s, 0) || listen(s, 1))
		tp_die_errno("bind/listen");
	printf("kernel fd=%d SO_REUSEADDR=%s SO_REUSEPORT=%s\n", s, ra ? "true" : "false", rp ? "true" : "false");
	return close(s);
}

/* The socket is made as root, bound after seteuid(nobody), on a port a
 * root SO_REUSEPORT socket holds: EADDRINUSE.  Then the kernel is asked
 * with twins made as root with the first: which option would have let it
 * succeed. */
static int verdict_euid(void)
{
	int holder = lo_socket(AF_INET, SOCK_DGRAM, 0, SO_REUSEPORT), port = tp_port(holder), one = 1;
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	int twin_addr = socket(AF_INET, SOCK_DGRAM, 0);
	int twin_port = socket(AF_INET, SOCK_DGRAM, 0);

	if (seteuid(65534))
		tp_die_errno("seteuid(65534)");
	int e = bind_lo(s, port);
	printf("bind fd=%d port=%d errno=%s\n", s, port, tp_errname(e));
	setsockopt(twin_addr, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	int ra = bind_lo(twin_addr, port) == 0;
	setsockopt(twin_port, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	int rp = bind_lo(twin_port, port) == 0;
	printf("kernel SO_REUSEADDR=%s SO_REUSEPORT=%s\n", ra ? "true" : "false", rp ? "true" : "false");
	return 0;
}

/* A failed bind at the moment the program has no descriptor left (its
 * RLIMIT_NOFILE filled with /dev/null): nothing is free to ask the kernel. */
static int holders_nofd(void)
{
	struct rlimit rl = { 64, 64 };
	int l, s, fd, open_errno, e, opened = 0;

	if (setrlimit(RLIMIT_NOFILE, &rl))
		tp_die_errno("setrlimit");
	l = lo_socket(AF_INET, SOCK_STREAM, 0, 0);
	s = socket(AF_INET, SOCK_STREAM, 0);
	while (open("/dev/null", O_RDONLY) >= 0)
		opened++;
	open_errno = errno;
	e = bind_lo(s, tp_port(l));
	for (fd = 0; fd < 64; fd++)
		if (fd != 0 && fd != 1 && fd != 2 && fd != l && fd != s && fcntl(fd, F_GETFD) >= 0)
			close(fd);
	printf("open stopped errno=%s opened=%d\n", tp_errname(open_errno), opened);
	printf("bind fd=%d port=%d errno=%s holder_fd=%d holder_inode=%lu\n", s, tp_port(l),
	       tp_errname(e), l, tp_inode(l));
	return 0;
}

/* An IPV6_V6ONLY listener on [::]:P, an IPv4 listener on 127.0.0.1:P, and a
 * bind to 127.0.0.1:P that fails: only the IPv4 listener is in its way. */
static int v6only_holders(void)
{
	struct sockaddr_storage a;
	socklen_t len = tp_inet_addr("::", 0, &a);
	int one = 1, l6 = socket(AF_INET6, SOCK_STREAM, 0);

	block(SIGTERM);
	if (setsockopt(l6, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) ||
	    bind(l6, (struct sockaddr *)&a, len) || listen(l6, 1))
		tp_die_errno("[::] v6only listener");
	int port = tp_port(l6), l4 = lo_socket(AF_INET, SOCK_STREAM, port, 0);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	int e = bind_lo(s, port);
	printf("listen6 fd=%d port=%d inode=%lu\n", l6, port, tp_inode(l6));
	printf("listen4 fd=%d port=%d inode=%lu\n", l4, port, tp_inode(l4));
	printf("bind fd=%d errno=%s\n", s, tp_errname(e));
	await(SIGTERM);
	return 0;
}

/* A UDP socket of 127.0.0.1 with SO_REUSEADDR and SO_REUSEPORT: a port
 * others with the same owner may share. */
static int hold_udp(void)
{
	int one = 1, s = socket(AF_INET, SOCK_DGRAM, 0);

	block(SIGTERM);
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (bind_lo(s, 0))
		tp_die_errno("bind");
	printf("hold port=%d\n", tp_port(s));
	await(SIGTERM);
	return 0;
}

static int rx_port;
static long rx_min, rx_sent;

static void *udp_sender(void *arg)
{
	struct sockaddr_storage d;
	socklen_t len = tp_inet_addr("127.0.0.1", rx_port, &d);
	struct timespec pause = { 0, 20000 };
	int s[16];
	long i;

	(void)arg;
	for (i = 0; i < 16; i++)
		s[i] = socket(AF_INET, SOCK_DGRAM, 0);
	for (i = 0; i < rx_min || !stop; i++) {
		if (sendto(s[i % 16], &i, sizeof(i), 0, (struct sockaddr *)&d, len) != sizeof(i))
			tp_die_errno("sendto");
		if (i == 0)
			printf("sending\n");
		if (i % 4 == 0)
			nanosleep(&pause, NULL);
	}
	for (int k = 0; k < 16; k++)
		close(s[k]);
	rx_sent = i;
	return NULL;
}

/* A UDP receiver on 127.0.0.1 (SO_REUSEADDR or SO_REUSEPORT).  On SIGUSR1
 * a thread starts sending it datagrams from 16 sockets (and says
 * "sending"), at least MIN of them and until SIGTERM; it counts what
 * arrives until a second of silence after. */
static int udprx(const char *opt, long min)
{
	int big = 8 << 20, s;
	struct timeval tv = { 1, 0 };
	pthread_t t;
	long got = 0, v;
	ssize_t n;

	block(SIGUSR1);
	catch_term();
	s = lo_socket(AF_INET, SOCK_DGRAM, 0, strcmp(opt, "port") ? SO_REUSEADDR : SO_REUSEPORT);
	if (setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)))
		setsockopt(s, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	rx_port = tp_port(s);
	rx_min = min;
	printf("udprx port=%d\n", rx_port);
	await(SIGUSR1);
	pthread_create(&t, NULL, udp_sender, NULL);
	while ((n = recv(s, &v, sizeof(v), 0)) > 0 || (n < 0 && errno == EINTR))
		got += n > 0;
	pthread_join(t, NULL);
	printf("result sent=%ld received=%ld\n", rx_sent, got);
	return 0;
}

/* UDP binds to 127.0.0.1:PORT with SO_REUSEPORT, one after another, until
 * SIGTERM: beside a holder with the same owner each must succeed. */
static int bindspin(int port)
{
	long binds = 0, failed = 0;
	int first_errno = 0;

	catch_term();
	while (!stop) {
		int one = 1, s = socket(AF_INET, SOCK_DGRAM, 0), e;

		setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
		e = bind_lo(s, port);
		if (e && !failed++)
			first_errno = e;
		close(s);
		if (++binds == 1)
			printf("ready\n");
	}
	printf("bindspin binds=%ld failed=%ld errno=%s\n", binds, failed, tp_errname(first_errno));
	return 0;
}

/* UDP binds to 127.0.0.1:PORT without options, N of them (0: until
 * SIGTERM); each should fail with EADDRINUSE. */
static int bindloop(int port, long n)
{
	long binds = 0, inuse = 0;

	catch_term();
	while (n ? binds < n : !stop) {
		int s = socket(AF_INET, SOCK_DGRAM, 0);

		if (bind_lo(s, port) == EADDRINUSE)
			inuse++;
		close(s);
		if (++binds == 1)
			printf("ready\n");
	}
	printf("bindloop binds=%ld inuse=%ld\n", binds, inuse);
	return 0;
}

/* N loopback connections whose client closes first: N sockets in
 * TIME_WAIT from 127.0.0.1:ephemeral to 127.0.0.1:PORT; the listener of
 * PORT stays until SIGTERM. */
static int twfill(long n)
{
	int l = lo_socket(AF_INET, SOCK_STREAM, 0, 0), port = tp_port(l);
	long done = 0;

	block(SIGTERM);
	for (; done < n; done++) {
		int c = lo_connect(port), s = accept(l, NULL, NULL);

		if (s < 0)
			tp_die_errno("accept");
		close(c);	/* client first: its end lingers in TIME_WAIT */
		close(s);
	}
	printf("twfill port=%d inode=%lu conns=%ld\n", port, tp_inode(l), done);
	await(SIGTERM);
	return 0;
}

/* This process's own connection, closed first by its client (one TIME_WAIT
 * of its own), then a bind to 127.0.0.1:PORT that another process's
 * listener holds, then exit. */
static int exit_tw(int port)
{
	int l = lo_socket(AF_INET, SOCK_STREAM, 0, 0), c = lo_connect(tp_port(l)), a = accept(l, NULL, NULL);
	char lb[TP_ADDR_MAX], rb[TP_ADDR_MAX];

	printf("conn local=%s remote=%s\n", tp_local(c, lb), tp_remote(c, rb));
	close(c);
	if (tp_read_eof(a) != 0)
		tp_die("no EOF on the accepted end");
	close(a);
	close(l);
	int s = socket(AF_INET, SOCK_STREAM, 0), e = bind_lo(s, port);
	printf("bind fd=%d port=%d errno=%s\n", s, port, tp_errname(e));
	return 0;
}

int main(int argc, char **argv)
{
	tp_init(argc, argv);
	if (argc < 2)
		tp_usage(usage);
	const char *m = argv[1];

	if (!strcmp(m, "accept-badlen") && argc == 2)
		return accept_badlen();
	if (!strcmp(m, "close-range-unshare") && argc == 2)
		return close_range_unshare();
	if (!strcmp(m, "optlen8") && argc == 2)
		return optlen8();
	if (!strcmp(m, "verdict-euid") && argc == 2)
		return verdict_euid();
	if (!strcmp(m, "holders-nofd") && argc == 2)
		return holders_nofd();
	if (!strcmp(m, "v6only-holders") && argc == 2)
		return v6only_holders();
	if (!strcmp(m, "hold-udp") && argc == 2)
		return hold_udp();
	if (!strcmp(m, "udprx") && argc == 4)
		return udprx(argv[2], tp_num(argv[3]));
	if (!strcmp(m, "bindspin") && argc == 3)
		return bindspin((int)tp_num(argv[2]));
	if (!strcmp(m, "bindloop") && argc == 4)
		return bindloop((int)tp_num(argv[2]), tp_num(argv[3]));
	if (!strcmp(m, "twfill") && argc == 3)
		return twfill(tp_num(argv[2]));
	if (!strcmp(m, "exit-tw") && argc == 3)
		return exit_tw((int)tp_num(argv[2]));
	tp_usage(usage);
}
