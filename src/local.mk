# the socktrace command: runner, and dispatch to show/check (formatters/)
bin_PROGRAMS += src/socktrace
src_socktrace_SOURCES = src/socktrace.c src/run.c src/cli.h
src_socktrace_CFLAGS = $(AM_CFLAGS) $(ASAN_CFLAGS) $(UBSAN_CFLAGS) $(JANSSON_CFLAGS) $(LIBELF_CFLAGS)
src_socktrace_LDADD = formatters/libformatters.la shim/libstcommon.la $(JANSSON_LIBS) $(LIBELF_LIBS)
