/* SPDX-License-Identifier: MIT */
/* run.c - `socktrace [options] [--] PROGRAM [ARGS...]`: runs PROGRAM with
 * the shim preloaded; the process the caller started becomes PROGRAM.
 *
 * Owns: the command line, finding the shim (the build tree's when this
 * binary runs from the build tree, else the installed one), turning the
 * options into the shim's environment, and the choice of runner: exec in
 * place with a watcher that records how PROGRAM ended (watcher.c), or,
 * when no watcher can be made, as a pid namespace's init, or with
 * SOCKTRACE_RUNNER=parent, the parent that passes signals on (relay.c).
 * The shim records the events: this writes none but PROGRAM's end
 * (runout.c).
 */
#define _GNU_SOURCE
#include "cli.h"
#include "drain.h"
#include "ptrace.h"
#include "runner.h"
#include "tracelock.h"

#include "buf.h"
#include "names.h"
#include "outfile.h"

#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static void usage(FILE *f)
{
	fprintf(f,
		"usage: socktrace [-o FILE [-A]] [-f text|jsonl] [--stack[=N]] [--probe=exit|close|off]\n"
		"                 [--families=LIST] [--backend=auto|shim|ptrace] [--] PROGRAM [ARGS...]\n"
		"       socktrace show [-f text|timeline|summary|lifecycle|json|mermaid|connections|chrome]\n"
		"                      [--follow] [--window=MS] [...] [TRACE...]\n"
		"       socktrace check [--rule RULE]... [--expect PATTERN]... [--junit FILE]\n"
		"                       [--format=text|github] [--strict] [...] [TRACE...]\n"
		"       socktrace --help | --version\n"
		"\n"
		"Runs PROGRAM with every socket lifecycle call recorded: a human log on\n"
		"stderr, or a trace file with -o.  Options stop at PROGRAM's name.\n"
		"  -o, --output=FILE  write the events to FILE (emptied first, JSON Lines):\n"
		"                     a path, - (stdout), fd:N, a pipe or a FIFO; %%p in a\n"
		"                     path becomes each process's pid, one file each\n"
		"  -A, --append       with -o: add to FILE instead of emptying it (several\n"
		"                     runs, one trace)\n"
		"  -f, --format=FMT   text (one line per event; the default on stderr) or\n"
		"                     jsonl (the default in a file)\n"
		"  --stack[=N]        record N frames of the call stack with each event\n"
		"                     (16 without N, 0-64); `--stack N` works too\n"
		"  --probe=WHEN       when to ask the kernel's socket table about closed\n"
		"                     connections (TIME_WAIT, who holds a port): exit\n"
		"                     (the default), close (also after each close, and each\n"
		"                     unix accept's peer, to join unix connections), off\n"
		"  --families=LIST    record only these families, e.g. inet,inet6,unix\n"
		"                     (also netlink, packet, vsock; default all)\n"
		"  --backend=HOW      shim (LD_PRELOAD), ptrace (seccomp-filtered ptrace,\n"
		"                     for static and Go programs), or auto (the default:\n"
		"                     ptrace when PROGRAM is static or Go, else shim)\n"
		"`socktrace show --help` and `socktrace check --help` tell their options.\n"
		"See socktrace(1) and socktrace(7).  Report bugs to <%s>.\n", PACKAGE_BUGREPORT);
}

/* The shim next to this binary's build tree, or the installed one.  A
 * build tree is found from where this binary is (<top>/src/socktrace, with
 * <top>/config.status and <top>/shim/.libs/libsocktrace.so beside it), not
 * from a path compiled in: the binary names no build directory, so two
 * builds of one source in two places are the same bytes. */
static int find_shim(char *out, size_t cap)
{
	char self[PATH_MAX], probe[PATH_MAX + 64];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	const char *env = getenv("SOCKTRACE_SHIM");
	static const char tail[] = "/src/socktrace";

	if (env && *env) {
		snprintf(out, cap, "%s", env);
		return access(out, R_OK);
	}
	if (n > (ssize_t)sizeof(tail) - 1) {
		self[n] = '\0';
		if (!strcmp(self + n - (sizeof(tail) - 1), tail)) {
			self[n - (sizeof(tail) - 1)] = '\0';	/* <top> */
			snprintf(probe, sizeof(probe), "%s/config.status", self);
			if (access(probe, F_OK) == 0) {
				int len = snprintf(out, cap, "%s/shim/.libs/libsocktrace.so", self);
				if (len > 0 && (size_t)len < cap && access(out, R_OK) == 0)
					return 0;
			}
		}
	}
	snprintf(out, cap, "%s/libsocktrace.so", SHIMDIR);
	return access(out, R_OK);
}

/* The program of another run whose runner still writes the regular file
 * path (tracelock.h), else 0: nothing of path is touched. */
static pid_t running_writer(const char *path)
{
	struct stat st;
	pid_t pid = 0;
	int fd;

	/* never opened unless a regular file: opening a FIFO for reading
	 * would be a reader to whoever writes it */
	if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		pid = st_tracelock_writer(fd);
	close(fd);
	return pid;
}

/* The runner's FIFO nobody reads yet: waited for, as strace -o waits,
 * before the program runs (so nothing of it waits), with a word on
 * stderr after a second; every 20 ms it is opened again by the same
 * rules, until a reader comes or another reason refuses it.  A signal
 * that ends the runner (^C) ends the wait.  The descriptor, or -1 with
 * *why (NULL: see errno). */
static int wait_for_reader(const char *path, const struct st_outfile *how, const char **why)
{
	const struct timespec tick = { 0, 20 * 1000 * 1000 };
	char shown[PATH_MAX * 4];
	struct st_buf b;
	int fd, waited = 0;

	for (;;) {
		nanosleep(&tick, NULL);
		*why = NULL;
		fd = st_outfile_open(path, how, why);
		if (fd >= 0 || errno != ENXIO)
			return fd;
		if (++waited == 50) {
			st_buf_init(&b, shown, sizeof(shown));
			st_buf_esc(&b, path, 0);
			st_buf_finish(&b);
			fprintf(stderr, "socktrace: waiting for a reader of the FIFO %s before the program runs\n",
				shown);
		}
	}
}

/* Opens the trace file path by the shim's rules (codec/outfile.h),
 * before the program runs: created with the mode of SOCKTRACE_MODE
 * (0600), or emptied unless appending; never through a symbolic link,
 * never another user's file, FIFO or hard link in a sticky directory
 * (refused before anything of it is touched); a FIFO nobody reads is
 * refused at once, unless flags has ST_OUT_BLOCK (the runner's own
 * output): then waited for (wait_for_reader).  One with a reader is
 * written as a pipe is.  -1 after a message naming the path, escaped,
 * and why. */
static int open_path(const char *path, bool append, unsigned flags)
{
	struct stat st;
	struct st_outfile how = { ST_OUT_MODE_DEFAULT, flags | (append ? 0 : ST_OUT_TRUNC), NULL };
	const char *mode = getenv("SOCKTRACE_MODE"), *why = NULL;
	char shown[PATH_MAX * 4];
	struct st_buf b;
	pid_t other;
	int fd;

	if (mode)
		st_outfile_mode(mode, &how.mode);	/* a bad one: the shim says so, 0600 */
	if (!append && (other = running_writer(path)) > 0) {
		st_buf_init(&b, shown, sizeof(shown));
		st_buf_esc(&b, path, 0);
		st_buf_finish(&b);
		fprintf(stderr,
			"socktrace: %s is being written by another socktrace run (its program is pid %d): emptying it "
			"would lose that run's events; give another file, or -A to append to it\n",
			shown, (int)other);
		return -1;
	}
	fd = st_outfile_open(path, &how, &why);
	if (fd < 0 && (flags & ST_OUT_BLOCK) && errno == ENXIO && lstat(path, &st) == 0 && S_ISFIFO(st.st_mode))
		fd = wait_for_reader(path, &how, &why);
	if (fd < 0) {
		st_buf_init(&b, shown, sizeof(shown));
		st_buf_esc(&b, path, 0);
		st_buf_finish(&b);
		fprintf(stderr, "socktrace: cannot write the trace to %s: %s\n", shown, why);
	}
	return fd;
}

/* n bytes of an option's value as a message shows them: escaped
 * (buf.h), at most 200 of them; valid until the next call. */
static const char *shown_n(const char *value, size_t n)
{
	static char out[200 * 6 + 1];
	struct st_buf b;

	st_buf_init(&b, out, sizeof(out));
	st_buf_escn(&b, value, n < 200 ? n : 200, 0);
	st_buf_finish(&b);
	return out;
}

static const char *shown(const char *value)
{
	return shown_n(value, strnlen(value, 200));
}

/* Without the runner writing: creates (or empties) the file the
 * processes will append to, as open_path does. */
static int prepare_output(const char *path, bool append)
{
	int fd;

	if (strstr(path, "%p"))
		return 0;	/* one file per process, made by the shim */
	fd = open_path(path, append, 0);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

/* The ring count and size of the run's shared memory: 512 processes at
 * once, 128 KiB each (about 800 events) */
#define SHM_RINGS 512
#define SHM_RING_BYTES (128 * 1024)

/* Is the parent that passes signals on asked for, or needed? */
static bool relay_mode(void)
{
	const char *how = getenv("SOCKTRACE_RUNNER");

	if (how && *how && strcmp(how, "exec") && strcmp(how, "parent"))
		fprintf(stderr, "socktrace: SOCKTRACE_RUNNER takes exec or parent, not '%s': exec\n", how);
	/* a namespace's init takes every process of it along when it ends,
	 * a watcher too: the program's parent stays */
	return (how && !strcmp(how, "parent")) || getpid() == 1;
}

/* The descriptor the runner writes the trace to (close-on-exec, above 2):
 * stderr when output is NULL, stdout for "-" and /dev/stdout, descriptor
 * N for fd:N, /dev/fd/N and /proc/self/fd/N, else the path by the shim's
 * rules (open_path): created with SOCKTRACE_MODE or emptied (appended to
 * with append), a FIFO once it has a reader.
 * *file: a regular file the processes can append to themselves when the
 * runner is gone.  -1 after a message when it cannot be written. */
static int open_dest(const char *output, bool append, bool *file)
{
	struct stat st;
	int fd, src = -1;

	*file = false;
	if (!output)
		src = 2;
	else if ((src = st_outfile_fd(output)) == -2) {
		fprintf(stderr, "socktrace: -o fd:N takes a descriptor number, not '%s'\n", shown(output + 3));
		return -1;
	}
	if (src >= 0) {
		int acc = fcntl(src, F_GETFL);
		if (acc < 0 || (acc & O_ACCMODE) == O_RDONLY) {
			fprintf(stderr, "socktrace: cannot write the trace to descriptor %d: %s\n", src,
				acc < 0 ? strerror(errno) : "open for reading only");
			return -1;
		}
		fd = fcntl(src, F_DUPFD_CLOEXEC, 3);
		if (fd < 0)
			fprintf(stderr, "socktrace: cannot write the trace to descriptor %d: %s\n", src,
				strerror(errno));
		return fd;
	}
	fd = open_path(output, append, ST_OUT_BLOCK);
	if (fd < 0)
		return -1;
	if (fd <= 2) {
		int up = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		close(fd);
		if (up < 0) {
			fprintf(stderr, "socktrace: cannot write the trace: %s\n", strerror(errno));
			return -1;
		}
		fd = up;
	}
	*file = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
	/* a full pipe makes the runner wait, not fail */
	fcntl(fd, F_SETFL, O_APPEND);
	return fd;
}

/* Runs argv in this process, once a watcher will record its end (and,
 * with d, write the run's events); falls back to the parent that passes
 * signals on.  Returns only when PROGRAM could not be run, or from the
 * fallback. */
static int run(char *const *argv, const char *output, const char *format, struct st_drain *d)
{
	struct st_runout o;
	struct st_watch w = { -1, 0 };
	int err;

	fflush(NULL);
	if (st_runout_open(&o, output, format, getpid()) < 0 && !d) {
		/* nowhere to write the end: nothing to watch */
	} else if (st_watch_start(&o, d, &w) < 0) {
		if (d) {
			fprintf(stderr, "socktrace: cannot start the process that writes the trace: %s\n",
				strerror(errno));
			return 2;
		}
		return st_relay(argv, output, format);
	}
	if (d) {
		char shm[64];
		snprintf(shm, sizeof(shm), "/proc/%d/fd/%d", (int)w.pid, st_drain_fd(d));
		setenv("SOCKTRACE_SHM", shm, 1);
	}
	execvp(argv[0], argv);
	err = errno;
	st_watch_exec_failed(&w, err);
	fprintf(stderr, "socktrace: cannot run %s: %s\n", argv[0], strerror(err));
	return err == ENOENT ? 127 : 126;
}

/* One id for every process of this run (socktrace(7), IDENTITY): 16
 * random bytes in hex, in SOCKTRACE_RUN for the shim to read; a run id the
 * environment had is another run's, and replaced. */
static void set_run_id(void)
{
	unsigned char rnd[16];
	char id[2 * sizeof(rnd) + 1];

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		unsetenv("SOCKTRACE_RUN");	/* the run stays unknown */
		return;
	}
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(id + 2 * i, 3, "%02x", rnd[i]);
	setenv("SOCKTRACE_RUN", id, 1);
}

int st_cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, 'f' },
		{ "stack", optional_argument, NULL, 's' },
		{ "probe", required_argument, NULL, 'p' },
		{ "families", required_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "append", no_argument, NULL, 'A' },
		{ "backend", required_argument, NULL, 'B' },
		{ NULL, 0, NULL, 0 },
	};
	const char *output = NULL, *format = NULL, *stack = NULL, *probe = NULL, *families = NULL;
	const char *backend = "auto";
	bool use_ptrace;
	char shim[PATH_MAX], abs_out[PATH_MAX];
	bool append = false, relay;
	struct st_drain *d = NULL;
	int c;

	opterr = 0;	/* the messages below say socktrace, not argv[0] */
	while ((c = getopt_long(argc, argv, "+:o:f:hA", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			if (output) {
				fprintf(stderr, "socktrace: -o given twice: the run writes one trace (%%p in the "
						"path makes one file per process)\n");
				return 2;
			}
			if (!*optarg) {
				fprintf(stderr, "socktrace: -o takes a file name, and this one is empty\n");
				return 2;
			}
			output = optarg;
			break;
		case 'f':
			if (strcmp(optarg, "text") && strcmp(optarg, "jsonl")) {
				fprintf(stderr, "socktrace: -f takes text or jsonl, not '%s' (for other formats: "
						"record with -o, then socktrace show -f FORMAT)\n", shown(optarg));
				return 2;
			}
			format = optarg;
			break;
		case 's':
			/* `--stack 8`: a number after it is its value (a program
			 * whose name is digits only needs --stack=N before it) */
			if (!optarg && optind < argc && argv[optind][0] &&
			    strspn(argv[optind], "0123456789") == strlen(argv[optind]))
				optarg = argv[optind++];
			stack = optarg ? optarg : "16";
			if (strspn(stack, "0123456789") != strlen(stack) || !*stack || strtol(stack, NULL, 10) > 64) {
				fprintf(stderr, "socktrace: --stack takes a number of frames from 0 to 64, not '%s'\n",
					shown(stack));
				return 2;
			}
			break;
		case 'p':
			if (strcmp(optarg, "exit") && strcmp(optarg, "close") && strcmp(optarg, "off")) {
				fprintf(stderr, "socktrace: --probe takes exit, close or off, not '%s'\n", shown(optarg));
				return 2;
			}
			probe = optarg;
			break;
		case 'F': {
			unsigned long long mask;
			const char *bad;
			unsigned long badlen;
			int ok = st_families_parse(optarg, &mask, &bad, &badlen);
			if (ok == 0) {
				fprintf(stderr, "socktrace: --families: unknown family '%s' (it takes %s, "
						"comma-separated)\n", shown_n(bad, badlen), ST_FAMILY_WORDS);
				return 2;
			}
			if (ok < 0) {
				fprintf(stderr, "socktrace: --families names no family (it takes %s, "
						"comma-separated)\n", ST_FAMILY_WORDS);
				return 2;
			}
			families = optarg;
			break;
		}
		case 'A':
			append = true;
			break;
		case 'B':
			if (strcmp(optarg, "auto") && strcmp(optarg, "shim") && strcmp(optarg, "ptrace")) {
				fprintf(stderr, "socktrace: --backend takes auto, shim or ptrace, not '%s'\n", shown(optarg));
				return 2;
			}
			backend = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("socktrace %s\n", PACKAGE_VERSION);
			return 0;
		case ':':
			fprintf(stderr, "socktrace: option '%s' needs a value\nTry 'socktrace --help'.\n",
				argv[optind - 1]);
			return 2;
		default:
			if (optopt && optopt < 256)
				fprintf(stderr, "socktrace: unknown option '-%c'\n", optopt);
			else
				fprintf(stderr, "socktrace: unknown or incomplete option '%s'\n", argv[optind - 1]);
			fputs("Try 'socktrace --help'.\n", stderr);
			return 2;
		}
	}
	if (append && !output) {
		fprintf(stderr, "socktrace: -A appends to the trace file of -o, and no -o was given\n");
		return 2;
	}
	if (optind >= argc) {
		fprintf(stderr, "socktrace: no program to run\n");
		fputs("Try 'socktrace --help'.\n", stderr);
		return 2;
	}
	use_ptrace = !strcmp(backend, "ptrace") || (!strcmp(backend, "auto") && st_ptrace_needed(argv[optind]));
	if (!use_ptrace && find_shim(shim, sizeof(shim)) != 0) {
		fprintf(stderr, "socktrace: cannot find the shim at %s: %s\n", shim, strerror(errno));
		return 127;
	}

	if (output && strcmp(output, "-") && strncmp(output, "fd:", 3)) {
		if (output[0] != '/') {
			char cwd[PATH_MAX];
			if (!getcwd(cwd, sizeof(cwd))) {
				fprintf(stderr, "socktrace: cannot tell the current directory: %s\n", strerror(errno));
				return 2;
			}
			if ((size_t)snprintf(abs_out, sizeof(abs_out), "%s/%s", cwd, output) >= sizeof(abs_out)) {
				fprintf(stderr, "socktrace: output path too long\n");
				return 2;
			}
			output = abs_out;
		}
	}
	relay = relay_mode();
	unsetenv("SOCKTRACE_SHM");
	set_run_id();
	if (use_ptrace) {
		/* the runner traces the program and writes every event itself */
		bool file, json = format ? !strcmp(format, "jsonl") : output != NULL;
		int fd, status;
		if (output && strstr(output, "%p")) {
			fprintf(stderr, "socktrace: -o with %%p (a file per process) needs the shim; the "
					"ptrace back end writes one trace\n");
			return 2;
		}
		if (stack && strcmp(stack, "0"))
			fprintf(stderr, "socktrace: --stack: the ptrace back end records no call stacks\n");
		if (families && strcasecmp(families, "all"))
			fprintf(stderr, "socktrace: --families: the ptrace back end records every family\n");
		if (probe && strcmp(probe, "exit"))
			fprintf(stderr, "socktrace: --probe: the ptrace back end lists what lingers at each exit only, "
					"as --probe=exit%s\n", strcmp(probe, "close") ? "" :
					" (with close it asks each unix accept's peer_inode, as the shim)");
		fd = open_dest(output, append, &file);
		if (fd < 0)
			return 2;
		d = st_drain_new(1, 4096, fd, !json, false, false);
		if (!d) {
			fprintf(stderr, "socktrace: cannot set up the trace's writer: %s\n", strerror(errno));
			return 2;
		}
		status = st_ptrace_run(argv + optind, d);
		st_drain_free(d);
		close(fd);
		return status;
	}
	bool self_write = relay || (output && strstr(output, "%p"));
	bool file = false, json = format ? !strcmp(format, "jsonl") : output != NULL;
	if (!self_write) {
		/* the runner writes the trace: the processes hand it their events */
		int fd = open_dest(output, append, &file);
		if (fd < 0)
			return 2;
		d = st_drain_new(SHM_RINGS, SHM_RING_BYTES, fd, !json, false, false);
		if (!d && errno == EFBIG && (file || !output)) {
			/* a file size limit (ulimit -f) below the shared memory's
			 * size, hard too: the processes write as without the runner */
			fprintf(stderr,
				"socktrace: the file size limit (ulimit -f) leaves no room for the run's shared memory "
				"(%d MiB): the processes write the trace themselves, within that limit\n",
				(int)(((size_t)SHM_RINGS * SHM_RING_BYTES) >> 20));
			close(fd);
			append = true;	/* emptied already */
			self_write = true;
		} else if (!d) {
			fprintf(stderr, "socktrace: cannot make the run's shared memory: %s\n", strerror(errno));
			return 2;
		}
	}
	if (!self_write) {
		/* where a process writes when the runner is gone */
		if (file)
			setenv("SOCKTRACE_OUTPUT", output, 1);
		else if (!output)
			setenv("SOCKTRACE_OUTPUT", "stderr", 1);
		else
			unsetenv("SOCKTRACE_OUTPUT");
		setenv("SOCKTRACE_FORMAT", json ? "jsonl" : "text", 1);
	} else {
		if (output) {
			if (!strcmp(output, "-") || !strncmp(output, "fd:", 3) || !strcmp(output, "/dev/stdout")) {
				fprintf(stderr, "socktrace: -o %s needs the runner to write the trace, which "
						"SOCKTRACE_RUNNER=parent (or running as pid 1) does not do\n", output);
				return 2;
			}
			if (prepare_output(output, append) != 0)
				return 2;
			setenv("SOCKTRACE_OUTPUT", output, 1);
		} else {
			setenv("SOCKTRACE_OUTPUT", "stderr", 1);
		}
		if (format)
			setenv("SOCKTRACE_FORMAT", format, 1);
		else
			unsetenv("SOCKTRACE_FORMAT");
	}
	if (stack)
		setenv("SOCKTRACE_STACK", stack, 1);
	if (probe)
		setenv("SOCKTRACE_PROBE", probe, 1);
	if (families)
		setenv("SOCKTRACE_FAMILIES", families, 1);
	{
		const char *old = getenv("LD_PRELOAD");
		char *pre;
		if (old && *old) {
			if (asprintf(&pre, "%s %s", shim, old) < 0)
				return 2;
		} else {
			pre = strdup(shim);
		}
		if (!pre)
			return 2;
		setenv("LD_PRELOAD", pre, 1);
		free(pre);
	}

	if (relay)
		return st_relay(argv + optind, output, format);
	return run(argv + optind, output, format, d);
}
