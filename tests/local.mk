# SPDX-License-Identifier: MIT
# bats test suite; each .bats file is one capability.  TAP per test case.
TEST_EXTENSIONS = .bats
BATS_LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh
# A hang fails its test, not the whole run: each test case gets
# BATS_TEST_TIMEOUT seconds (bats kills it and its children, "not ok ...
# # timeout"), each file BATS_FILE_TIMEOUT (its unrun cases are an ERROR).
# --timing puts each case's duration on its result line.
BATS_FILE_TIMEOUT = 900
BATS_LOG_COMPILER = timeout --kill-after=30 $(BATS_FILE_TIMEOUT) $(BATS)
AM_BATS_LOG_FLAGS = --tap --timing
# a failing test case counts once (as FAIL), not again for the file's exit status;
# a file that stops early is still caught by its TAP plan
AM_BATS_LOG_DRIVER_FLAGS = --ignore-exit
AM_TESTS_ENVIRONMENT = export BATS_TEST_TIMEOUT="$${BATS_TEST_TIMEOUT:-300}" LC_ALL=C top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' \
	SHIM='$(abs_top_builddir)/shim/.libs/libsocktrace.so' \
	SOCKTRACE='$(abs_top_builddir)/src/socktrace' \
	TESTPROGS='$(abs_top_builddir)/tests' ;
# --enable-sanitizers: tests may skip what the sanitizers change (fd numbers,
# memory) when SOCKTRACE_SANITIZED=1; a sanitizer's finding fails the run.
# UBSan leaves deadly signals alone: the crash tests kill programs on purpose.
# ASan leaves RLIMIT_CORE alone (disable_coredump=0): the runner execs the
# program, which must get the caller's limits, core flag included.
if SANITIZERS
AM_TESTS_ENVIRONMENT += export SOCKTRACE_SANITIZED=1 \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=86:strict_string_checks=1:detect_stack_use_after_return=1:disable_coredump=0 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=87:handle_segv=0:handle_sigbus=0:handle_abort=0:handle_sigfpe=0:handle_sigill=0 ;
endif

# The test programs: small C programs the shim traces (tests/progs/*.c),
# each printing the facts (descriptors, ports, pids) its tests compare
# with the recorded trace.  Built by `make check`, with -g.
check_LTLIBRARIES += tests/progs/libtprog.la
tests_progs_libtprog_la_SOURCES = tests/progs/tprog.h tests/progs/tprog.c
tests_progs_libtprog_la_CFLAGS = $(AM_CFLAGS) -g

TPROG_CFLAGS = $(AM_CFLAGS) -g -pthread
TPROG_LDADD = tests/progs/libtprog.la -lpthread

check_PROGRAMS += \
	tests/tcp_server \
	tests/tcp_client \
	tests/tconnect \
	tests/udp \
	tests/unixsock \
	tests/dupfd \
	tests/threads \
	tests/errcheck \
	tests/sockexit \
	tests/sigprobe \
	# end of check_PROGRAMS
tests_tcp_server_SOURCES = tests/progs/tcp_server.c
tests_tcp_server_CFLAGS = $(TPROG_CFLAGS)
tests_tcp_server_LDADD = $(TPROG_LDADD)
tests_tcp_client_SOURCES = tests/progs/tcp_client.c
tests_tcp_client_CFLAGS = $(TPROG_CFLAGS)
tests_tcp_client_LDADD = $(TPROG_LDADD)
tests_tconnect_SOURCES = tests/progs/tconnect.c
tests_tconnect_CFLAGS = $(TPROG_CFLAGS)
tests_tconnect_LDADD = $(TPROG_LDADD)
tests_udp_SOURCES = tests/progs/udp.c
tests_udp_CFLAGS = $(TPROG_CFLAGS)
tests_udp_LDADD = $(TPROG_LDADD)
tests_unixsock_SOURCES = tests/progs/unixsock.c
tests_unixsock_CFLAGS = $(TPROG_CFLAGS)
tests_unixsock_LDADD = $(TPROG_LDADD)
tests_dupfd_SOURCES = tests/progs/dupfd.c
tests_dupfd_CFLAGS = $(TPROG_CFLAGS)
tests_dupfd_LDADD = $(TPROG_LDADD)
tests_threads_SOURCES = tests/progs/threads.c
tests_threads_CFLAGS = $(TPROG_CFLAGS)
tests_threads_LDADD = $(TPROG_LDADD)
tests_errcheck_SOURCES = tests/progs/errcheck.c
tests_errcheck_CFLAGS = $(TPROG_CFLAGS)
tests_errcheck_LDADD = $(TPROG_LDADD)
tests_sockexit_SOURCES = tests/progs/sockexit.c
tests_sockexit_CFLAGS = $(TPROG_CFLAGS)
tests_sockexit_LDADD = $(TPROG_LDADD)
tests_sigprobe_SOURCES = tests/progs/sigprobe.c
tests_sigprobe_CFLAGS = $(TPROG_CFLAGS)
tests_sigprobe_LDADD = $(TPROG_LDADD)

# The same server and client linked statically (-all-static: libtool
# passes -static; glibc's libc.a comes with libc6-dev): programs the shim
# cannot enter, traced by the runner's ptrace back end (ptrace_backend.bats)
# and compared with the shim's trace of the dynamic build.
check_PROGRAMS += tests/tcp_server_static tests/tcp_client_static
tests_tcp_server_static_SOURCES = tests/progs/tcp_server.c tests/progs/tprog.h tests/progs/tprog.c
tests_tcp_server_static_CFLAGS = $(TPROG_CFLAGS)
tests_tcp_server_static_LDFLAGS = -all-static
tests_tcp_server_static_LDADD = -lpthread
tests_tcp_client_static_SOURCES = tests/progs/tcp_client.c tests/progs/tprog.h tests/progs/tprog.c
tests_tcp_client_static_CFLAGS = $(TPROG_CFLAGS)
tests_tcp_client_static_LDFLAGS = -all-static
tests_tcp_client_static_LDADD = -lpthread

# Every event through the shared memory's compact record and back
check_PROGRAMS += tests/record_rt
tests_record_rt_SOURCES = tests/progs/record_rt.c
tests_record_rt_CPPFLAGS = $(AM_CPPFLAGS) $(CODEC_CPPFLAGS) -I$(top_srcdir)/formatters
tests_record_rt_CFLAGS = $(AM_CFLAGS) $(ASAN_CFLAGS) $(UBSAN_CFLAGS) $(JANSSON_CFLAGS)
tests_record_rt_LDADD = formatters/libformatters.la codec/libstcodec.la $(JANSSON_LIBS) $(LIBDW_LIBS) $(LIBELF_LIBS) $(LIBIBERTY_LIBS) $(ZLIB_LIBS)

# Call chains for the stack tests, as PIE and non-PIE executables and as a
# plugin loaded with dlopen (each frame in its own file, noinline).
check_PROGRAMS += tests/stack_pie tests/stack_nopie tests/leaky
tests_leaky_SOURCES = tests/progs/leaky.c
tests_leaky_CFLAGS = $(TPROG_CFLAGS)
tests_leaky_LDADD = $(TPROG_LDADD)
STACK_SOURCES = tests/progs/stack_main.c tests/progs/stack_mid.c tests/progs/stack_leaf.c
tests_stack_pie_SOURCES = $(STACK_SOURCES)
tests_stack_pie_CFLAGS = $(AM_CFLAGS) -g -O2 -fPIE
tests_stack_pie_LDFLAGS = -pie
tests_stack_pie_LDADD = -ldl
tests_stack_nopie_SOURCES = $(STACK_SOURCES)
tests_stack_nopie_CFLAGS = $(AM_CFLAGS) -g -O2 -fno-pie
tests_stack_nopie_LDFLAGS = -no-pie
tests_stack_nopie_LDADD = -ldl
# a C++ chain: demangled names (class member, namespace) and source lines
check_PROGRAMS += tests/stack_cxx
tests_stack_cxx_SOURCES = tests/progs/stack_cxx.cc
tests_stack_cxx_CXXFLAGS = -g -O2 -Wall -Wextra
check_LTLIBRARIES += tests/progs/stack_plugin.la
tests_progs_stack_plugin_la_SOURCES = tests/progs/stack_plugin.c
tests_progs_stack_plugin_la_CFLAGS = $(AM_CFLAGS) -g -O2
tests_progs_stack_plugin_la_LDFLAGS = -module -avoid-version -shared -rpath /nowhere

# Robustness (never break the traced program): spawning, AT_SECURE,
# signal handlers, daemons' descriptor sweeps, and socket calls at the
# edges of a process's life (libearly.so, loaded by lateexit or preloaded).
check_PROGRAMS += \
	tests/spawn \
	tests/secure \
	tests/sigstorm \
	tests/daemon \
	tests/lateexit \
	tests/neighbours \
	tests/torn \
	tests/sockloop \
	# end of check_PROGRAMS
tests_sockloop_SOURCES = tests/progs/sockloop.c
tests_sockloop_CFLAGS = $(TPROG_CFLAGS)
tests_sockloop_LDADD = $(TPROG_LDADD)
tests_spawn_SOURCES = tests/progs/spawn.c
tests_spawn_CFLAGS = $(TPROG_CFLAGS)
tests_spawn_LDADD = $(TPROG_LDADD)
tests_secure_SOURCES = tests/progs/secure.c
tests_secure_CFLAGS = $(TPROG_CFLAGS)
tests_secure_LDADD = $(TPROG_LDADD) -ldl
tests_sigstorm_SOURCES = tests/progs/sigstorm.c
tests_sigstorm_CFLAGS = $(TPROG_CFLAGS)
tests_sigstorm_LDADD = $(TPROG_LDADD)
tests_daemon_SOURCES = tests/progs/daemon.c
tests_daemon_CFLAGS = $(TPROG_CFLAGS)
tests_daemon_LDADD = $(TPROG_LDADD)
check_LTLIBRARIES += tests/progs/libearly.la
tests_progs_libearly_la_SOURCES = tests/progs/early.c
tests_progs_libearly_la_CFLAGS = $(AM_CFLAGS) -g
tests_progs_libearly_la_LDFLAGS = -avoid-version -shared -rpath /nowhere
tests_neighbours_SOURCES = tests/progs/neighbours.c
tests_neighbours_CFLAGS = $(TPROG_CFLAGS)
tests_neighbours_LDADD = $(TPROG_LDADD)
tests_torn_SOURCES = tests/progs/torn.c
tests_torn_CFLAGS = $(TPROG_CFLAGS)
tests_torn_LDADD = $(TPROG_LDADD)
tests_lateexit_SOURCES = tests/progs/lateexit.c
tests_lateexit_CFLAGS = $(TPROG_CFLAGS)
tests_lateexit_LDADD = $(TPROG_LDADD) tests/progs/libearly.la
# a real executable (no libtool wrapper script, which the shim would trace),
# linked with libearly.so although it calls nothing in it
tests_lateexit_LDFLAGS = -no-install -Wl,--no-as-needed

# The record stays true (issue #12): programs whose sockets leave by the
# doors a wrapper of close() does not see, move between processes, or end
# with their process (truth_*.bats).
check_PROGRAMS += \
	tests/outofsight \
	tests/passfd \
	tests/connects \
	tests/procs \
	tests/dtorconn \
	tests/execs \
	tests/activate \
	tests/shutrace \
	tests/vclone \
	# end of check_PROGRAMS
tests_outofsight_SOURCES = tests/progs/outofsight.c
tests_outofsight_CFLAGS = $(TPROG_CFLAGS)
tests_outofsight_LDADD = $(TPROG_LDADD) -ldl
tests_passfd_SOURCES = tests/progs/passfd.c
tests_passfd_CFLAGS = $(TPROG_CFLAGS)
tests_passfd_LDADD = $(TPROG_LDADD)
tests_connects_SOURCES = tests/progs/connects.c
tests_connects_CFLAGS = $(TPROG_CFLAGS)
tests_connects_LDADD = $(TPROG_LDADD)
tests_procs_SOURCES = tests/progs/procs.c
tests_procs_CFLAGS = $(TPROG_CFLAGS)
tests_procs_LDADD = $(TPROG_LDADD)
tests_execs_SOURCES = tests/progs/execs.c
tests_execs_CFLAGS = $(TPROG_CFLAGS)
tests_execs_LDADD = $(TPROG_LDADD)
tests_activate_SOURCES = tests/progs/activate.c
tests_activate_CFLAGS = $(TPROG_CFLAGS)
tests_activate_LDADD = $(TPROG_LDADD)
tests_shutrace_SOURCES = tests/progs/shutrace.c
tests_shutrace_CFLAGS = $(TPROG_CFLAGS)
tests_shutrace_LDADD = $(TPROG_LDADD)
tests_vclone_SOURCES = tests/progs/vclone.c
tests_vclone_CFLAGS = $(TPROG_CFLAGS)
tests_vclone_LDADD = $(TPROG_LDADD)
check_LTLIBRARIES += tests/progs/libdtorconn.la
tests_progs_libdtorconn_la_SOURCES = tests/progs/dtorconn_lib.c
tests_progs_libdtorconn_la_CFLAGS = $(AM_CFLAGS) -g
tests_progs_libdtorconn_la_LIBADD = tests/progs/libtprog.la
tests_progs_libdtorconn_la_LDFLAGS = -avoid-version -shared -rpath /nowhere
tests_dtorconn_SOURCES = tests/progs/dtorconn.c
tests_dtorconn_CFLAGS = $(TPROG_CFLAGS)
tests_dtorconn_LDADD = tests/progs/libdtorconn.la $(TPROG_LDADD)
# a real executable (no libtool wrapper script, which the shim would trace)
tests_dtorconn_LDFLAGS = -no-install
check_LTLIBRARIES += tests/progs/closer_plugin.la
tests_progs_closer_plugin_la_SOURCES = tests/progs/closer_plugin.c
tests_progs_closer_plugin_la_CFLAGS = $(AM_CFLAGS) -g
tests_progs_closer_plugin_la_LDFLAGS = -module -avoid-version -shared -rpath /nowhere

EXTRA_DIST += tests/helpers.bash tests/truth.bash tests/scripts/kernelview.py tests/scripts/parentview.py \
	tests/scripts/gh_annotations.py tests/scripts/junit_check.py \
	tests/scripts/pieces.py tests/scripts/elfbomb.py tests/scripts/chrome_check.py \
	tests/scripts/schema_check.py tests/scripts/holdpeak.py tests/scripts/pauses.py \
	tests/scripts/burst.py \
	tests/scripts/forkleak.py tests/scripts/twclose.py

TESTS += \
	tests/man.bats \
	tests/license.bats \
	tests/exports.bats \
	tests/shim_tcp.bats \
	tests/kernel_view.bats \
	tests/states_ss.bats \
	tests/stacks.bats \
	tests/check.bats \
	tests/check_open.bats \
	tests/check_stream.bats \
	tests/strict_stream.bats \
	tests/check_tw_stream.bats \
	tests/bats_helper.bats \
	tests/shim_connect.bats \
	tests/shim_reuseaddr.bats \
	tests/shim_ipv6.bats \
	tests/shim_unix.bats \
	tests/unix_join.bats \
	tests/shim_udp.bats \
	tests/shim_dup.bats \
	tests/shim_fork.bats \
	tests/start_identity.bats \
	tests/shim_threads.bats \
	tests/shim_http.bats \
	tests/shim_errno.bats \
	tests/shim_env.bats \
	tests/shim_output.bats \
	tests/output_safety.bats \
	tests/run_exit.bats \
	tests/run_signals.bats \
	tests/run_sink.bats \
	tests/robust_threads.bats \
	tests/robust_signals.bats \
	tests/robust_crash.bats \
	tests/robust_daemon.bats \
	tests/robust_output.bats \
	tests/torn_lines.bats \
	tests/robust_spawn.bats \
	tests/robust_edges.bats \
	tests/robust_servers.bats \
	tests/shim_neighbours.bats \
	tests/fuzz_regress.bats \
	tests/valgrind.bats \
	tests/truth_descriptors.bats \
	tests/truth_rights.bats \
	tests/truth_cancel.bats \
	tests/truth_connect.bats \
	tests/truth_processes.bats \
	tests/truth_exec.bats \
	tests/truth_render.bats \
	tests/truth_servers.bats \
	tests/ptrace_backend.bats \
	tests/fleet_collector.bats \
	tests/run_untraced.bats \
	# end of TESTS
# automake does not distribute test scripts by itself (make distcheck runs them)
EXTRA_DIST += $(TESTS)

# The second CI pass (.ci/sanitize: the command with AddressSanitizer and
# UBSan, the shim with UBSan) runs the suite but these files, which check
# no code path the others do not, or check timing and real daemons under a
# load the sanitizers multiply, and which the first pass runs anyway:
# documents and the build (man, license, exports, bats_helper, valgrind,
# which cannot run an ASan build), signal relaying and stress (run_signals,
# robust_threads, robust_crash, robust_daemon), real servers (robust_servers,
# truth_servers, and the log collector of fleet_collector).  Keeps the whole CI within its time on 2 cores.
SANITIZE_SKIP_TESTS = \
	tests/man.bats tests/license.bats tests/exports.bats tests/bats_helper.bats \
	tests/valgrind.bats \
	tests/run_signals.bats tests/robust_threads.bats tests/robust_crash.bats \
	tests/robust_daemon.bats \
	tests/robust_servers.bats tests/truth_servers.bats tests/fleet_collector.bats
# make check-sanitized: make check of the rest (a sanitizer build's tree)
check-sanitized:
	@tests=; for t in $(TESTS); do \
	  case " $(SANITIZE_SKIP_TESTS) " in *" $$t "*) ;; *) tests="$$tests $$t" ;; esac; \
	done; \
	$(MAKE) $(AM_MAKEFLAGS) check TESTS="$$tests"
.PHONY: check-sanitized

# The robustness files once more with every traced program started by the
# runner (socktrace -A -o FILE -- PROG: the processes hand their events over
# in shared memory, the runner's watcher writes the trace) instead of the
# shim preloaded by hand: tests/helpers.bash's ST_TRACE_MODE=runner.
# make check-runner: their results in test-suite-runner.log (each file's log,
# tests/NAME.log, is that of this run then).
RUNNER_MODE_TESTS = \
	tests/robust_threads.bats tests/robust_signals.bats tests/robust_crash.bats \
	tests/robust_daemon.bats tests/robust_output.bats tests/robust_spawn.bats \
	tests/robust_edges.bats tests/robust_servers.bats
check-runner:
	ST_TRACE_MODE=runner $(MAKE) $(AM_MAKEFLAGS) check TESTS="$(RUNNER_MODE_TESTS)" \
		TEST_SUITE_LOG=test-suite-runner.log
.PHONY: check-runner
CLEANFILES += test-suite-runner.log
