# SPDX-License-Identifier: MIT
# the socktrace command: dispatch, the runner, show and check (their
# command lines; reading, formats, rules and reports are in formatters/)
bin_PROGRAMS += src/socktrace
src_socktrace_SOURCES = src/socktrace.c src/run.c src/cli.h src/cli.c \
	src/runner.h src/runout.c src/watcher.c src/relay.c src/drain.h src/drain.c \
	src/ptrace.h src/ptrace.c src/ptrace_elf.c \
	src/cmd_show.c src/cmd_check.c
src_socktrace_CPPFLAGS = $(AM_CPPFLAGS) $(CODEC_CPPFLAGS) -I$(top_srcdir)/formatters -I$(top_srcdir)/src \
	-DSHIMDIR='"$(shimdir)"'
src_socktrace_CFLAGS = $(AM_CFLAGS) $(ASAN_CFLAGS) $(UBSAN_CFLAGS) $(JANSSON_CFLAGS) $(LIBELF_CFLAGS)
src_socktrace_LDADD = formatters/libformatters.la codec/libstcodec.la $(JANSSON_LIBS) $(LIBDW_LIBS) $(LIBELF_LIBS) $(LIBIBERTY_LIBS) $(ZLIB_LIBS)
