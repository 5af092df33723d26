# SPDX-License-Identifier: MIT
# The event codec: what the shim and the command share and nothing else.
# The event's shape, the call list, the constant tables, the JSON Lines
# encoder and the text renderer.  It includes nothing from shim/, src/ or
# formatters/ (its include path is its own), and both sides build on it:
# the shim compiles CODEC_SOURCES with its own flags (hidden, no ASan), the
# command links codec/libstcodec.la.
CODEC_CPPFLAGS = -I$(top_srcdir)/codec -I$(top_builddir)/codec
CODEC_SOURCES = \
	codec/calls.def codec/calls.h codec/calls.c \
	codec/fields.def \
	codec/event.h \
	codec/buf.h codec/buf.c \
	codec/addr.h codec/addr.c \
	codec/outfile.h codec/outfile.c \
	codec/names.h codec/names.c \
	codec/tcpstate.h codec/tcpstate.c \
	codec/bindrules.h codec/bindrules.c \
	codec/encode_json.c \
	codec/record.h codec/record.c \
	codec/ring.h codec/ring.c \
	codec/unixdiag.h codec/unixdiag.c \
	codec/render_text.c
CODEC_GENERATED = codec/names-gen.c

noinst_LTLIBRARIES += codec/libstcodec.la
codec_libstcodec_la_SOURCES = $(CODEC_SOURCES)
nodist_codec_libstcodec_la_SOURCES = $(CODEC_GENERATED)
codec_libstcodec_la_CPPFLAGS = $(AM_CPPFLAGS) $(CODEC_CPPFLAGS)
# in the command only: AddressSanitizer with --enable-sanitizers, never in the shim
codec_libstcodec_la_CFLAGS = $(AM_CFLAGS) $(ASAN_CFLAGS) $(UBSAN_CFLAGS)

BUILT_SOURCES += codec/names-gen.c
CLEANFILES += codec/names-gen.c
CODEC_TABLES = codec/tables/families.tbl codec/tables/socktypes.tbl \
	codec/tables/protocols.tbl codec/tables/tcpstates.tbl \
	codec/tables/errnos.tbl codec/tables/sockopts.tbl \
	codec/tables/signals.tbl
EXTRA_DIST += codec/gen-names.sh $(CODEC_TABLES)
codec/names-gen.c: codec/gen-names.sh $(CODEC_TABLES)
	$(AM_V_GEN)$(MKDIR_P) codec && $(SHELL) $(srcdir)/codec/gen-names.sh $(srcdir)/codec/tables >$@.tmp && mv $@.tmp $@
