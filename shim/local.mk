# SPDX-License-Identifier: MIT
# libsocktrace.so: the preloaded shim.  Only the wrappers are exported.
# It sees its own headers and the codec's, nothing of the command's.
shim_LTLIBRARIES = shim/libsocktrace.la
shim_libsocktrace_la_SOURCES = \
	$(CODEC_SOURCES) \
	shim/shim.h \
	shim/clock.h \
	shim/log.h shim/log.c \
	shim/settings.h shim/settings.c \
	shim/lifecycle.h shim/lifecycle.c \
	shim/origin.h shim/origin.c \
	shim/emit.h shim/emit.c \
	shim/procfd.h shim/procfd.c \
	shim/real.h shim/real.c \
	shim/fdtable.h shim/fdtable.c \
	shim/sink.h shim/sink.c \
	shim/shmsink.h shim/shmsink.c \
	shim/sockinfo.h shim/sockinfo.c \
	shim/drift.h shim/drift.c \
	shim/wrap.h shim/wrap_socket.c \
	shim/wrap_fd.c \
	shim/wrap_stdio.c \
	shim/wrap_msg.c \
	shim/wrap_syscall.c \
	shim/wrap_process.c \
	shim/wrap_exec.c \
	shim/ownfd.h shim/ownfd.c \
	shim/sockdiag.h shim/sockdiag.c \
	shim/recent.h shim/recent.c \
	shim/kernelview.h shim/kernelview.c \
	shim/unwind.h shim/unwind.c
nodist_shim_libsocktrace_la_SOURCES = $(CODEC_GENERATED)
shim_libsocktrace_la_CPPFLAGS = $(AM_CPPFLAGS) $(CODEC_CPPFLAGS) -I$(top_srcdir)/shim
shim_libsocktrace_la_CFLAGS = $(AM_CFLAGS) $(UBSAN_CFLAGS) -fvisibility=hidden -fno-strict-aliasing \
	-ftls-model=initial-exec $(LIBUNWIND_CFLAGS)
shim_libsocktrace_la_LDFLAGS = -module -avoid-version -shared -no-undefined \
	-Wl,-z,nodelete
shim_libsocktrace_la_LIBADD = $(LIBUNWIND_LIBS) -ldl
