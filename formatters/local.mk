# SPDX-License-Identifier: MIT
# trace reading, the model, the formats of show, the rules and reports of
# check (the commands themselves are src/cmd_show.c and src/cmd_check.c)
noinst_LTLIBRARIES += formatters/libformatters.la
formatters_libformatters_la_SOURCES = \
	formatters/reader.h formatters/reader.c \
	formatters/origins.h formatters/origins.c \
	formatters/reader_json.h formatters/reader_json.c formatters/reader_nested.c \
	formatters/model.h formatters/model_build.h formatters/model.c formatters/model_facts.c formatters/model_map.c formatters/model_conns.c formatters/model_retire.c \
	formatters/symbolize.h formatters/symbolize.c \
	formatters/load.h formatters/load.c \
	formatters/stream.h formatters/stream.c \
	formatters/tracelock.h formatters/tracelock.c \
	formatters/untraced.h formatters/untraced.c \
	formatters/whole.h formatters/whole.c \
	formatters/show.h formatters/fmt_common.c formatters/fmt_text.c \
	formatters/fmt_lifecycle.c formatters/fmt_timeline.c formatters/fmt_summary.c \
	formatters/fmt_mermaid.c formatters/fmt_connections.c formatters/fmt_chrome.c \
	formatters/check.h formatters/check_rules.c formatters/check_tw.c formatters/report.c \
	formatters/expect.h formatters/expect.c
formatters_libformatters_la_CPPFLAGS = $(AM_CPPFLAGS) $(CODEC_CPPFLAGS) -I$(top_srcdir)/formatters
formatters_libformatters_la_CFLAGS = $(AM_CFLAGS) $(ASAN_CFLAGS) $(UBSAN_CFLAGS) $(JANSSON_CFLAGS) $(LIBDW_CFLAGS) $(LIBELF_CFLAGS) $(ZLIB_CFLAGS)

# Tests of `socktrace show`.  Golden traces tests/data/NAME.jsonl are
# recorded from real runs by tests/data/record.sh; their expected outputs
# tests/data/NAME.FORMAT.expected (show -f FORMAT) and NAME.check.expected
# (check --rule all: its stdout and stderr, then "exit N") are rewritten by
# `make regen-golden` when a format or a rule changes on purpose (review the
# diff).
SHOW_GOLDEN_FORMATS = text timeline summary lifecycle json mermaid connections chrome
EXTRA_DIST += tests/data
TESTS += \
	tests/show_golden.bats \
	tests/show_badinput.bats \
	tests/show_live.bats \
	tests/show_options.bats \
	tests/check_reports.bats \
	tests/check_groups.bats \
	tests/cli_options.bats \
	tests/show_connections.bats \
	tests/text_escape.bats \
	tests/format_escape.bats \
	tests/show_compressed.bats \
	tests/show_bounds.bats \
	tests/show_merge.bats \
	tests/show_stream.bats \
	tests/show_port_stream.bats \
	tests/show_retire.bats \
	tests/show_chrome.bats \
	tests/show_chrome_stream.bats \
	# end of TESTS

regen-golden: src/socktrace$(EXEEXT)
	$(AM_V_GEN)for t in $(srcdir)/tests/data/*.jsonl; do \
	  for f in $(SHOW_GOLDEN_FORMATS); do \
	    ./src/socktrace show --utc --color=never -f $$f "$$t" >"$${t%.jsonl}.$$f.expected" || exit 1; \
	  done; \
	  { ./src/socktrace check --rule all "$$t" 2>&1; echo "exit $$?"; } >"$${t%.jsonl}.check.expected"; \
	done
.PHONY: regen-golden
