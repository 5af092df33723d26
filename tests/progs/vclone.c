/* SPDX-License-Identifier: MIT */
/* vclone.c - vfork made by hand, as a runtime's spawn does it: glibc's
 * clone() with CLONE_VM | CLONE_VFORK | SIGCHLD and a stack of its own,
 * whose child execs a program.
 *
 *   vclone CMD...
 *                 for each CMD (its words separated by spaces; "-e " before
 *                 them: exec'd with an empty environment), in order:
 *                 clone(CLONE_VM | CLONE_VFORK | SIGCHLD) on a stack of its
 *                 own (the parent waits until the child execs or exits);
 *                 the child execve()s the command, or _exit(127)s when it
 *                 cannot; the parent reaps it
 * Facts: "cloned i=K pid=P", "reaped i=K pid=P status=S" (S: the exit
 * status, 127 when the exec failed).
 */
#define _GNU_SOURCE
#include "tprog.h"

#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static const char usage[] = "CMD...";

#define STACK_BYTES (256 * 1024)
#define MAX_WORDS 32

extern char **environ;

struct cmd {
	char *argv[MAX_WORDS + 1];
	char **envp;
};

/* the child: shares the parent's memory until execve; async-signal-safe
 * calls only */
static int child(void *arg)
{
	struct cmd *c = arg;

	execve(c->argv[0], c->argv, c->envp);
	_exit(127);
}

int main(int argc, char **argv)
{
	static char *no_env[] = { NULL };
	char *stack;

	tp_init(argc, argv);
	if (argc < 2)
		tp_usage(usage);
	stack = mmap(NULL, STACK_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (stack == MAP_FAILED)
		tp_die_errno("mmap");
	for (int i = 1; i < argc; i++) {
		struct cmd c = { { NULL }, environ };
		char *words = strdup(argv[i]), *save = NULL, *w;
		int n = 0, status;
		pid_t pid;

		if (!words)
			tp_die("out of memory");
		for (w = strtok_r(words, " ", &save); w && n < MAX_WORDS; w = strtok_r(NULL, " ", &save)) {
			if (n == 0 && c.envp == environ && !strcmp(w, "-e")) {
				c.envp = no_env;
				continue;
			}
			c.argv[n++] = w;
		}
		if (!n)
			tp_usage(usage);
		/* the stack grows down: its top */
		pid = clone(child, stack + STACK_BYTES, CLONE_VM | CLONE_VFORK | SIGCHLD, &c);
		if (pid < 0)
			tp_die_errno("clone");
		printf("cloned i=%d pid=%d\n", i, (int)pid);
		if (waitpid(pid, &status, 0) != pid)
			tp_die_errno("waitpid");
		printf("reaped i=%d pid=%d status=%d\n", i, (int)pid, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		free(words);
	}
	munmap(stack, STACK_BYTES);
	return 0;
}
