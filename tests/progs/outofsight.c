/* SPDX-License-Identifier: MIT */
/* outofsight.c - a socket's descriptor closed where a wrapper of close()
 * does not see it, then the number reused by /dev/null.
 *
 *   outofsight MODE [ARG]
 * A listener, a client connected to it and the accepted end (the target);
 * MODE closes the target by one route:
 *   fdopen     fdopen(target, "w"), write "hi\n", fclose() (libc's own close)
 *   freopen    fdopen(target, "r+"), write "hi\n", freopen("/dev/null") over
 *              the stream (libc closes the target and reuses its number)
 *   fclose-reset   the client resets the connection (SO_LINGER 0), then
 *              fputs("hi") and fclose(): the flush fails (ECONNRESET or
 *              EPIPE), and fclose() closes the target all the same
 *   freopen-fail   the same, onto a path that cannot be opened: freopen()
 *              closes the target, then fails with ENOENT
 *   syscall    syscall(SYS_close, target) (as libuv, and so Node.js, does)
 *   __close    the exported alias __close()
 *   dlsym      close() found with dlsym(dlopen("libc.so.6")): code with its
 *              own handle on libc
 *   deepbind PLUGIN   a plugin dlopen()ed with RTLD_DEEPBIND closes it
 *              (its close() binds to libc's first)
 *   daemon FILE       the target dup2()ed onto 0 and 1 and closed, then
 *              daemon(1, 0): the parent leaves with _exit, the child points
 *              0-2 at /dev/null; the child's facts go to FILE
 * Then (all but freopen and daemon) /dev/null is opened, gets the target's
 * number, and is closed with close().  The client reads to EOF (the kernel
 * closed the target), then client and listener are closed.
 * Facts: those of tp_loopback_trio, "reused fd=N" (the number /dev/null
 * got), "peer read=N eof=1", "freopen errno=E open=0|1" (freopen-fail: the
 * target after the call), "fclose ret=R errno=E open=0|1" (fclose-reset),
 * "exit sockets=N pid=P" (from /proc/self/fd,
 * just before main returns); daemon: "daemon pid=P ppid=Q" and "done".
 */
#define _GNU_SOURCE
#include "tprog.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int __close(int fd);

static const char usage[] = "fdopen|fclose-reset|freopen|freopen-fail|syscall|__close|dlsym|deepbind PLUGIN|daemon FILE";

static int reuse_number(void)
{
	int f = open("/dev/null", O_RDONLY);

	if (f < 0)
		tp_die_errno("open /dev/null");
	printf("reused fd=%d\n", f);
	return f;
}

static void peer_reads_eof(int c)
{
	char buf[64];
	long n = tp_read_full(c, buf, sizeof(buf));

	if (n < 0)
		tp_die_errno("read");
	printf("peer read=%ld eof=%d\n", n, tp_read_eof(c) == 0);
}

int main(int argc, char **argv)
{
	int l, c, s, f = -1;
	const char *mode;
	FILE *fp;

	tp_init(argc, argv);
	if (argc < 2)
		tp_usage(usage);
	mode = argv[1];
	tp_loopback_trio(&l, &c, &s);
	if (!strcmp(mode, "fdopen")) {
		if (!(fp = fdopen(s, "w")))
			tp_die_errno("fdopen");
		fputs("hi\n", fp);
		if (fclose(fp) != 0)
			tp_die_errno("fclose");
		f = reuse_number();
	} else if (!strcmp(mode, "freopen")) {
		if (!(fp = fdopen(s, "r+")))
			tp_die_errno("fdopen");
		fputs("hi\n", fp);
		fflush(fp);
		if (!(fp = freopen("/dev/null", "r", fp)))
			tp_die_errno("freopen");
		printf("reused fd=%d\n", fileno(fp));
		peer_reads_eof(c);
		fclose(fp);	/* closes /dev/null */
	} else if (!strcmp(mode, "fclose-reset")) {
		struct linger lg = { 1, 0 };
		int r, e;
		if (setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) < 0 || close(c) != 0)
			tp_die_errno("reset");
		signal(SIGPIPE, SIG_IGN);
		/* the RST has reached the target when a read says so */
		{
			char b;
			if (read(s, &b, 1) != -1)
				tp_die("no reset seen");
		}
		if (!(fp = fdopen(s, "w")))
			tp_die_errno("fdopen");
		fputs("hi", fp);
		errno = 0;
		r = fclose(fp);
		e = errno;
		printf("fclose ret=%d errno=%s open=%d\n", r, tp_errname(e), fcntl(s, F_GETFD) != -1);
		close(l);
		printf("exit sockets=%d pid=%d\n", tp_count_sockets(), (int)getpid());
		return 0;
	} else if (!strcmp(mode, "freopen-fail")) {
		int e;
		if (!(fp = fdopen(s, "r+")))
			tp_die_errno("fdopen");
		errno = 0;
		if (freopen("/nonexistent/socktrace-no-such-file", "r", fp))
			tp_die("freopen of a missing file succeeded");
		e = errno;
		printf("freopen errno=%s open=%d\n", tp_errname(e), fcntl(s, F_GETFD) != -1);
		peer_reads_eof(c);
	} else if (!strcmp(mode, "syscall")) {
		if (syscall(SYS_close, s) != 0)
			tp_die_errno("syscall(SYS_close)");
		f = reuse_number();
	} else if (!strcmp(mode, "__close")) {
		if (__close(s) != 0)
			tp_die_errno("__close");
		f = reuse_number();
	} else if (!strcmp(mode, "dlsym")) {
		void *h = dlopen("libc.so.6", RTLD_NOW);
		int (*own_close)(int) = h ? (int (*)(int))dlsym(h, "close") : NULL;
		if (!own_close)
			tp_die("dlsym close: %s", dlerror());
		if (own_close(s) != 0)
			tp_die_errno("close through dlsym");
		f = reuse_number();
	} else if (!strcmp(mode, "deepbind") && argc > 2) {
		void *h = dlopen(argv[2], RTLD_NOW | RTLD_DEEPBIND);
		int (*plugin_close)(int) = h ? (int (*)(int))dlsym(h, "plugin_close") : NULL;
		if (!plugin_close)
			tp_die("plugin %s: %s", argv[2], dlerror());
		if (plugin_close(s) != 0)
			tp_die_errno("the plugin's close");
		f = reuse_number();
	} else if (!strcmp(mode, "daemon") && argc > 2) {
		FILE *out;
		fflush(stdout);
		if (dup2(s, 0) != 0 || dup2(s, 1) != 1 || close(s) != 0)
			tp_die_errno("dup2 onto 0 and 1");
		if (daemon(1, 0) != 0)
			tp_die_errno("daemon");
		/* the child: 0-2 are /dev/null now, the socket is gone from them */
		if (!(out = fopen(argv[2], "a")))
			tp_die_errno("fopen %s", argv[2]);
		setvbuf(out, NULL, _IOLBF, 0);
		fprintf(out, "daemon pid=%d ppid=%d\n", (int)getpid(), (int)getppid());
		if (close(0) != 0 || close(1) != 0)	/* /dev/null */
			tp_die_errno("close 0 and 1");
		fprintf(out, "peer eof=%d\n", tp_read_eof(c) == 0);
		close(c);
		close(l);
		fprintf(out, "exit sockets=%d pid=%d\n", tp_count_sockets(), (int)getpid());
		fprintf(out, "done\n");
		fclose(out);
		return 0;
	} else {
		tp_usage(usage);
	}
	if (f >= 0) {
		peer_reads_eof(c);
		if (close(f) != 0)
			tp_die_errno("close /dev/null");
	}
	close(c);
	close(l);
	printf("exit sockets=%d pid=%d\n", tp_count_sockets(), (int)getpid());
	return 0;
}
