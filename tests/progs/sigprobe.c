/* SPDX-License-Identifier: MIT */
/* sigprobe.c - reports every signal it receives, for the tests of what
 * reaches a program through the runner (adapted from the issue's
 * repro13/sigprobe.c).
 *   sigprobe [-C] [MS]
 * Lives MS milliseconds (5000), then exits 0.  With -C it closes its stdout
 * right after the start fact (a pipe's reader sees EOF then).
 * Facts (stdout, one line each):
 *   "start pid=P ppid=Q pgid=G sid=S fds=0,1,2 blocked=HEX ignored=HEX"
 *     (the descriptors below 512 and the signal mask and ignored signals it
 *     was started with, from /proc/self/status, before it changes any);
 *   "got sig=SIGINT code=SI_USER from=PID" per delivery.
 * A signal whose default action ends a process (INT, QUIT, TERM, HUP,
 * USR1, USR2) is reported, then, 300 ms later (a second delivery would be
 * reported meanwhile), the default action is restored and the signal
 * raised again: it dies of it, as a program without handlers would.
 * WINCH and CONT: reported, then exit 0 after 300 ms.  TSTP: reported,
 * then it stops, as by default.
 */
#define _GNU_SOURCE
#include "tprog.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char usage[] = "[-C] [MS]";
static volatile sig_atomic_t last;

/* decimal of v into p; returns the end */
static char *num(char *p, long v)
{
	char d[24];
	int k = 0;

	if (v < 0) {
		*p++ = '-';
		v = -v;
	}
	do {
		d[k++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (k)
		*p++ = d[--k];
	return p;
}

static char *str(char *p, const char *s)
{
	size_t n = strlen(s);

	memcpy(p, s, n);
	return p + n;
}

static const char *code_name(int c)
{
	switch (c) {
	case SI_USER: return "SI_USER";
	case SI_KERNEL: return "SI_KERNEL";
	case SI_QUEUE: return "SI_QUEUE";
	case SI_TKILL: return "SI_TKILL";
	default: return "other";
	}
}

/* async-signal-safe: one write(2) per report */
static void on_signal(int sig, siginfo_t *si, void *uc)
{
	char line[128], *p = line;

	(void)uc;
	p = str(p, "got sig=SIG");
	p = str(p, sigabbrev_np(sig));
	p = str(p, " code=");
	p = str(p, code_name(si->si_code));
	p = str(p, " from=");
	p = num(p, si->si_pid);
	*p++ = '\n';
	if (write(1, line, (size_t)(p - line)) < 0) {
		/* stdout closed (-C): nothing to say */
	}
	if (sig == SIGTSTP) {
		sigset_t t;
		sigemptyset(&t);
		sigaddset(&t, SIGTSTP);
		signal(SIGTSTP, SIG_DFL);
		sigprocmask(SIG_UNBLOCK, &t, NULL);
		raise(SIGTSTP);	/* stops here, as the default action would */
		sigprocmask(SIG_BLOCK, &t, NULL);
		struct sigaction sa = { .sa_sigaction = on_signal, .sa_flags = SA_SIGINFO | SA_RESTART };
		sigaction(SIGTSTP, &sa, NULL);
		return;
	}
	last = sig;
}

/* "SigBlk:" or "SigIgn:" of /proc/self/status */
static void status_mask(const char *key, char *out, size_t cap)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");

	snprintf(out, cap, "?");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)))
			sscanf(line + strlen(key), "%63s", out);
	if (f)
		fclose(f);
}

static void list_fds(char *out, size_t cap)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int fds[512], n = 0;
	size_t k = 0;

	out[0] = '\0';
	while (d && (e = readdir(d))) {
		int fd = atoi(e->d_name);
		if (e->d_name[0] != '.' && fd != dirfd(d) && fd < 512)
			fds[n++] = fd;
	}
	if (d)
		closedir(d);
	for (int i = 0; i < n; i++)	/* sorted, ascending */
		for (int j = i + 1; j < n; j++)
			if (fds[j] < fds[i]) {
				int t = fds[i];
				fds[i] = fds[j];
				fds[j] = t;
			}
	for (int i = 0; i < n && k < cap; i++)
		k += (size_t)snprintf(out + k, cap - k, "%s%d", i ? "," : "", fds[i]);
	if (!n)
		snprintf(out, cap, "none");
}

int main(int argc, char **argv)
{
	static const int sigs[] = { SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT, SIGTSTP };
	struct sigaction sa = { .sa_sigaction = on_signal, .sa_flags = SA_SIGINFO | SA_RESTART };
	char fds[1024], blocked[64], ignored[64];
	bool close_stdout = false;
	long ms = 5000;

	tp_init(argc, argv);
	if (argc > 1 && !strcmp(argv[1], "-C")) {
		close_stdout = true;
		argv++;
		argc--;
	}
	if (argc > 2)
		tp_usage(usage);
	if (argc == 2)
		ms = tp_num(argv[1]);
	/* what it was started with, before it changes anything */
	list_fds(fds, sizeof(fds));
	status_mask("SigBlk:", blocked, sizeof(blocked));
	status_mask("SigIgn:", ignored, sizeof(ignored));
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	/* a socket, so that a trace has one */
	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (s >= 0)
		close(s);
	printf("start pid=%d ppid=%d pgid=%d sid=%d fds=%s blocked=%s ignored=%s\n", (int)getpid(), (int)getppid(),
	       (int)getpgrp(), (int)getsid(0), fds, blocked, ignored);
	if (close_stdout)
		close(1);
	for (long t = 0; t < ms / 10; t++) {
		struct timespec tick = { 0, 10 * 1000000L };
		nanosleep(&tick, NULL);
		if (last) {
			int sig = last;
			struct timespec grace = { 0, 300 * 1000000L };
			sigset_t u;

			while (nanosleep(&grace, &grace) < 0 && errno == EINTR)
				;	/* a second delivery is reported meanwhile */
			if (sig == SIGWINCH || sig == SIGCONT)
				return 0;
			signal(sig, SIG_DFL);
			sigemptyset(&u);
			sigaddset(&u, sig);
			sigprocmask(SIG_UNBLOCK, &u, NULL);
			raise(sig);
		}
	}
	return 0;
}
