/* SPDX-License-Identifier: MIT */
/* passfd.c - a connection handed to another process with SCM_RIGHTS.
 *
 *   passfd recvmsg|recvmmsg
 *   passfd pair     the same hand-over of one end of a socketpair made
 *                   after the fork (as nginx's master passes its workers'
 *                   channels): the worker writes "hi" on it and closes it,
 *                   the parent reads "hi" and EOF from the other end
 *   passfd pair-late the same, but the parent closes its end only after
 *                   the worker has received it (the receive returns before
 *                   the sender's close, which the other mode leaves to
 *                   chance)
 *   passfd pair-fork the same as pair-late, with two more forks: the worker,
 *                   having received the end, forks a helper that inherits
 *                   it and exits holding it ("helper pid=H status=S"); the
 *                   parent, having closed its copy, forks a second worker
 *                   (as nginx's master does for its next one) that
 *                   inherits the other end and the channel and closes both
 *                   ("second pid=P status=S")
 * A worker is forked before the connection exists (it inherits only a
 * socketpair).  The parent makes a listener, a client and the accepted end
 * (tp_loopback_trio), sends the accepted end to the worker with sendmsg()
 * and closes its own descriptor at once.  The worker receives it (with
 * recvmsg or recvmmsg), reads its state after the sender's close, writes
 * "hi" and closes it first (the active close).  The client reads to EOF
 * and closes; the worker waits until the kernel shows the connection in
 * TIME_WAIT on its side (/proc/net/tcp), then exits.
 * Facts: those of tp_loopback_trio, "sent fd=N pid=P", "received fd=N
 * ino=I pid=W", "handed state=S" (the worker's view after the sender's
 * close), "closed fd=N pid=W" (the worker's close), "peer read=N
 * eof=1", "timewait seen=1 local=A remote=B" (the worker's view of its
 * end), "reaped pid=W status=S".
 */
#define _GNU_SOURCE
#include "tprog.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char usage[] = "recvmsg|recvmmsg|pair|pair-late|pair-fork";

static void send_fd(int via, int fd)
{
	char byte = 'F';
	struct iovec iov = { &byte, 1 };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			      .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

	memset(&u, 0, sizeof(u));
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	if (sendmsg(via, &msg, 0) != 1)
		tp_die_errno("sendmsg");
}

static int recv_fd(int via, bool mmsg)
{
	char byte;
	struct iovec iov = { &byte, 1 };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct mmsghdr mm;
	struct msghdr *msg = &mm.msg_hdr;
	struct cmsghdr *c;
	int fd = -1;

	memset(&mm, 0, sizeof(mm));
	memset(&u, 0, sizeof(u));
	msg->msg_iov = &iov;
	msg->msg_iovlen = 1;
	msg->msg_control = u.buf;
	msg->msg_controllen = sizeof(u.buf);
	if (mmsg ? recvmmsg(via, &mm, 1, 0, NULL) != 1 : recvmsg(via, msg, 0) != 1)
		tp_die_errno(mmsg ? "recvmmsg" : "recvmsg");
	c = CMSG_FIRSTHDR(msg);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		tp_die("no SCM_RIGHTS received");
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

static void wait_byte(int fd)
{
	char b;

	if (tp_read_full(fd, &b, 1) != 1)
		tp_die_errno("read the other process's signal");
}

/* Is local -> remote in TIME_WAIT (state 06) in /proc/net/tcp? */
static bool in_time_wait(int lport, int rport)
{
	char line[512];
	bool found = false;
	FILE *f = fopen("/proc/net/tcp", "r");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		unsigned lp, rp, st;
		if (sscanf(line, " %*d: %*8x:%x %*8x:%x %x", &lp, &rp, &st) == 3)
			found = (int)lp == lport && (int)rp == rport && st == 6;
	}
	fclose(f);
	return found;
}

static void worker(int via, bool mmsg)
{
	char local[TP_ADDR_MAX], remote[TP_ADDR_MAX];
	int fd = recv_fd(via, mmsg), lport, rport;
	struct timespec ms = { 0, 1000000 };

	printf("received fd=%d ino=%lu pid=%d\n", fd, tp_inode(fd), (int)getpid());
	wait_byte(via);		/* the sender has closed its descriptor */
	printf("handed state=%s\n", tp_tcp_state(fd));
	tp_local(fd, local);
	tp_remote(fd, remote);
	lport = tp_port(fd);
	rport = atoi(strrchr(remote, ':') + 1);
	tp_write_all(fd, "hi", 2);
	if (close(fd) != 0)
		tp_die_errno("close");
	printf("closed fd=%d pid=%d\n", fd, (int)getpid());
	tp_write_all(via, "w", 1);
	wait_byte(via);		/* the client has closed */
	for (int i = 0; i < 5000 && !in_time_wait(lport, rport); i++)
		nanosleep(&ms, NULL);
	printf("timewait seen=%d local=%s remote=%s\n", in_time_wait(lport, rport), local, remote);
	close(via);
	exit(0);
}

/* The worker's side of "pair": write on the end it gets, close it.
 * forked: first fork a helper that inherits that end and exits holding it
 * (its exit closes its copy). */
static void pair_worker(int via, bool late, bool forked)
{
	int fd = recv_fd(via, false), status;
	pid_t h;

	printf("received fd=%d ino=%lu pid=%d\n", fd, tp_inode(fd), (int)getpid());
	fflush(stdout);
	if (forked) {
		h = fork();
		if (h < 0)
			tp_die_errno("fork");
		if (h == 0)
			_exit(0);	/* holds fd and via: its end closes them */
		if (waitpid(h, &status, 0) != h)
			tp_die_errno("waitpid");
		printf("helper pid=%d status=%d\n", (int)h, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		fflush(stdout);
	}
	if (late)
		tp_write_all(via, "r", 1);	/* received: the sender may close */
	wait_byte(via);		/* the sender has closed its descriptor */
	tp_write_all(fd, "hi", 2);
	if (close(fd) != 0)
		tp_die_errno("close");
	printf("closed fd=%d pid=%d\n", fd, (int)getpid());
	close(via);
	exit(0);
}

static int pair(int sp[2], bool late, bool forked)
{
	int q[2], status;
	char buf[16];
	long n;
	pid_t w, w2 = -1;

	fflush(stdout);
	w = fork();
	if (w < 0)
		tp_die_errno("fork");
	if (w == 0) {
		close(sp[0]);
		pair_worker(sp[1], late, forked);
	}
	close(sp[1]);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, q) < 0)
		tp_die_errno("socketpair");
	printf("pair fds=%d,%d ino=%lu\n", q[0], q[1], tp_inode(q[0]));
	send_fd(sp[0], q[0]);
	if (late)
		wait_byte(sp[0]);
	if (close(q[0]) != 0)
		tp_die_errno("close");
	printf("sent fd=%d pid=%d\n", q[0], (int)getpid());
	fflush(stdout);
	if (forked) {
		w2 = fork();	/* the next worker: inherits q[1] and sp[0] */
		if (w2 < 0)
			tp_die_errno("fork");
		if (w2 == 0) {
			close(q[1]);
			close(sp[0]);
			_exit(0);
		}
	}
	tp_write_all(sp[0], "c", 1);
	n = tp_read_full(q[1], buf, sizeof(buf));
	printf("peer read=%ld eof=1\n", n);
	close(q[1]);
	if (waitpid(w, &status, 0) != w)
		tp_die_errno("waitpid");
	printf("reaped pid=%d status=%d\n", (int)w, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	if (w2 > 0) {
		if (waitpid(w2, &status, 0) != w2)
			tp_die_errno("waitpid");
		printf("second pid=%d status=%d\n", (int)w2, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	}
	close(sp[0]);
	return 0;
}

int main(int argc, char **argv)
{
	int sp[2], l, c, s, status;
	char buf[16];
	long n;
	bool mmsg;
	pid_t w;

	tp_init(argc, argv);
	if (argc != 2 || (strcmp(argv[1], "recvmsg") && strcmp(argv[1], "recvmmsg") && strcmp(argv[1], "pair") &&
			  strcmp(argv[1], "pair-late") && strcmp(argv[1], "pair-fork")))
		tp_usage(usage);
	mmsg = !strcmp(argv[1], "recvmmsg");
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) < 0)
		tp_die_errno("socketpair");
	if (!strncmp(argv[1], "pair", 4))
		return pair(sp, !strcmp(argv[1], "pair-late") || !strcmp(argv[1], "pair-fork"),
			    !strcmp(argv[1], "pair-fork"));
	fflush(stdout);
	w = fork();
	if (w < 0)
		tp_die_errno("fork");
	if (w == 0) {
		close(sp[0]);
		worker(sp[1], mmsg);
	}
	close(sp[1]);
	tp_loopback_trio(&l, &c, &s);
	send_fd(sp[0], s);
	if (close(s) != 0)	/* at once: the worker holds it now */
		tp_die_errno("close");
	printf("sent fd=%d pid=%d\n", s, (int)getpid());
	tp_write_all(sp[0], "c", 1);
	wait_byte(sp[0]);	/* the worker has closed it */
	n = tp_read_full(c, buf, sizeof(buf));
	printf("peer read=%ld eof=%d\n", n, tp_read_eof(c) == 0);
	close(c);
	tp_write_all(sp[0], "x", 1);
	if (waitpid(w, &status, 0) != w)
		tp_die_errno("waitpid");
	printf("reaped pid=%d status=%d\n", (int)w, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	close(l);
	close(sp[0]);
	return 0;
}
