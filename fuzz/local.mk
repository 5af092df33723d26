# SPDX-License-Identifier: MIT
# make fuzz: libFuzzer targets over the trace reader, each format of
# `socktrace show`, and `socktrace check` (fuzz/*.c), built with clang,
# AddressSanitizer and UBSan, then run for FUZZ_TIME seconds each
# (FUZZ_PARALLEL at a time) by fuzz/run.  Never built by `make` or
# `make check`.  Seeds: fuzz/corpus/ (fuzz/mkcorpus.sh).
#   make fuzz FUZZ_TIME=300 FUZZ_PARALLEL=2
#   make fuzz-build            build only; run one: fuzz/fuzz_reader -help=1
FUZZ_TIME = 60
FUZZ_PARALLEL = 1
FUZZ_SHOW = fuzz/fuzz_show_text fuzz/fuzz_show_timeline fuzz/fuzz_show_summary \
	fuzz/fuzz_show_lifecycle fuzz/fuzz_show_json fuzz/fuzz_show_mermaid \
	fuzz/fuzz_show_connections fuzz/fuzz_show_chrome
FUZZ_PROGS = fuzz/fuzz_reader fuzz/fuzz_check $(FUZZ_SHOW)
# the code under test, as the CLI has it, less the ELF symbolizer (a stand-in:
# fuzz/symbolize_stub.c)
FUZZ_LIB_SRCS = formatters/reader.c formatters/reader_json.c formatters/reader_nested.c formatters/origins.c \
	formatters/load.c formatters/tracelock.c \
	formatters/model.c formatters/model_map.c formatters/model_facts.c formatters/model_conns.c \
	formatters/model_retire.c formatters/stream.c formatters/untraced.c formatters/whole.c \
	formatters/fmt_common.c formatters/fmt_text.c formatters/fmt_lifecycle.c \
	formatters/fmt_timeline.c formatters/fmt_summary.c formatters/fmt_mermaid.c \
	formatters/fmt_connections.c formatters/fmt_chrome.c \
	formatters/check_rules.c formatters/check_tw.c formatters/expect.c formatters/report.c \
	src/cmd_show.c src/cmd_check.c src/cli.c \
	codec/calls.c codec/buf.c codec/addr.c codec/outfile.c codec/names.c codec/encode_json.c codec/render_text.c
FUZZ_COMMON = fuzz/fuzz.h fuzz/fuzz.c fuzz/symbolize_stub.c
FUZZ_CFLAGS = -std=gnu11 -g -O1 -fno-omit-frame-pointer \
	-fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CPPFLAGS = $(DEFS) $(DEFAULT_INCLUDES) $(CODEC_CPPFLAGS) -I$(top_srcdir)/formatters -I$(top_srcdir)/src $(JANSSON_CFLAGS) $(LIBELF_CFLAGS) $(ZLIB_CFLAGS)
FUZZ_LIBS = $(JANSSON_LIBS) $(ZLIB_LIBS) -lm

EXTRA_DIST += $(FUZZ_COMMON) fuzz/fuzz_reader.c fuzz/fuzz_show.c fuzz/fuzz_check.c \
	fuzz/run fuzz/mkcorpus.sh fuzz/corpus
CLEANFILES += $(FUZZ_PROGS) fuzz/libfuzzed.a fuzz/*.o fuzz/*.log

if HAVE_LIBFUZZER
fuzz/libfuzzed.a: $(FUZZ_LIB_SRCS) codec/names-gen.c
	$(AM_V_GEN)$(MKDIR_P) fuzz && rm -f $@ && objs= && \
	for f in $(FUZZ_LIB_SRCS) codec/names-gen.c; do \
		test -f $$f && src=$$f || src=$(srcdir)/$$f; \
		o=fuzz/lib-`echo $$f | tr / -`; o=$${o%.c}.o; \
		$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(FUZZ_CPPFLAGS) -c $$src -o $$o || exit 1; \
		objs="$$objs $$o"; \
	done && $(AR) rcs $@ $$objs

fuzz/fuzz_reader: fuzz/fuzz_reader.c $(FUZZ_COMMON) fuzz/libfuzzed.a
	$(AM_V_CCLD)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(FUZZ_CPPFLAGS) \
		$(srcdir)/fuzz/fuzz_reader.c $(srcdir)/fuzz/fuzz.c fuzz/libfuzzed.a $(FUZZ_LIBS) -o $@

fuzz/fuzz_check: fuzz/fuzz_check.c $(FUZZ_COMMON) fuzz/libfuzzed.a
	$(AM_V_CCLD)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(FUZZ_CPPFLAGS) \
		$(srcdir)/fuzz/fuzz_check.c $(srcdir)/fuzz/fuzz.c $(srcdir)/fuzz/symbolize_stub.c \
		fuzz/libfuzzed.a $(FUZZ_LIBS) -o $@

# one program per format: fuzz/fuzz_show_FORMAT
$(FUZZ_SHOW): fuzz/fuzz_show.c $(FUZZ_COMMON) fuzz/libfuzzed.a
	$(AM_V_CCLD)fmt=`echo $@ | sed 's,.*fuzz_show_,,'` && \
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(FUZZ_CPPFLAGS) -DFUZZ_FORMAT="\"$$fmt\"" \
		$(srcdir)/fuzz/fuzz_show.c $(srcdir)/fuzz/fuzz.c $(srcdir)/fuzz/symbolize_stub.c \
		fuzz/libfuzzed.a $(FUZZ_LIBS) -o $@

fuzz-build: $(FUZZ_PROGS)

fuzz: fuzz-build
	FUZZ_TIME=$(FUZZ_TIME) FUZZ_PARALLEL=$(FUZZ_PARALLEL) \
		$(SHELL) $(srcdir)/fuzz/run $(abs_top_builddir)/fuzz $(FUZZ_PROGS:fuzz/%=%)
else
fuzz fuzz-build:
	@echo "make fuzz needs clang with libFuzzer, which configure did not find" \
		"(Debian: apt-get install clang libclang-rt-14-dev, then configure again)" >&2; exit 1
endif
.PHONY: fuzz fuzz-build
