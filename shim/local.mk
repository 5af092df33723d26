# libsocktrace.so: the preloaded shim.  Only the wrappers are exported.
shim_LTLIBRARIES = shim/libsocktrace.la
shim_libsocktrace_la_SOURCES = \
	shim/wrapfuncs.def \
	shim/event.h \
	shim/buf.h shim/buf.c \
	shim/names.h shim/names.c \
	shim/encode_json.c \
	shim/render_text.c \
	shim/shim.h shim/shim.c \
	shim/real.h shim/real.c \
	shim/fdtable.h shim/fdtable.c \
	shim/config.c \
	shim/sink.c \
	shim/sockinfo.h shim/sockinfo.c \
	shim/wrap.h shim/wrap_socket.c \
	shim/wrap_fd.c \
	shim/wrap_process.c \
	shim/ownfd.c \
	shim/sockdiag.h shim/sockdiag.c \
	shim/recent.h shim/recent.c \
	shim/kernelview.h shim/kernelview.c \
	shim/unwind.h shim/unwind.c
nodist_shim_libsocktrace_la_SOURCES = shim/names-gen.c
shim_libsocktrace_la_CFLAGS = $(AM_CFLAGS) $(UBSAN_CFLAGS) -fvisibility=hidden -fno-strict-aliasing \
	-ftls-model=initial-exec $(LIBUNWIND_CFLAGS)
shim_libsocktrace_la_LDFLAGS = -module -avoid-version -shared -no-undefined \
	-Wl,-z,nodelete
shim_libsocktrace_la_LIBADD = $(LIBUNWIND_LIBS) -ldl

BUILT_SOURCES += shim/names-gen.c
CLEANFILES += shim/names-gen.c
SHIM_TABLES = shim/tables/families.tbl shim/tables/socktypes.tbl \
	shim/tables/protocols.tbl shim/tables/tcpstates.tbl \
	shim/tables/errnos.tbl shim/tables/sockopts.tbl
EXTRA_DIST += shim/gen-names.sh $(SHIM_TABLES)
shim/names-gen.c: shim/gen-names.sh $(SHIM_TABLES)
	$(AM_V_GEN)$(MKDIR_P) shim && $(SHELL) $(srcdir)/shim/gen-names.sh $(srcdir)/shim/tables >$@.tmp && mv $@.tmp $@

# The code shared with the CLI: encoding, rendering and names.
noinst_LTLIBRARIES += shim/libstcommon.la
shim_libstcommon_la_SOURCES = shim/buf.c shim/names.c shim/encode_json.c shim/render_text.c
nodist_shim_libstcommon_la_SOURCES = shim/names-gen.c
# in the CLI only: AddressSanitizer with --enable-sanitizers, never in the shim
shim_libstcommon_la_CFLAGS = $(AM_CFLAGS) $(ASAN_CFLAGS) $(UBSAN_CFLAGS)
