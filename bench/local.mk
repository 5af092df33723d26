# SPDX-License-Identifier: MIT
# make bench: ratios against the bare program and against strace.
# The programs are built by `make bench` only (EXTRA_PROGRAMS), never by
# `make` or `make check`; bench/run drives them (bench/README.md).
BENCH_BINS = bench/churn bench/sockclose bench/passclose bench/acceptloop bench/manyfd bench/bindfail \
	bench/syscost
# (the one definition: fragments included later append with +=)
EXTRA_PROGRAMS = $(BENCH_BINS)
bench_churn_SOURCES = bench/churn.c bench/bench.h
bench_sockclose_SOURCES = bench/sockclose.c bench/bench.h
bench_passclose_SOURCES = bench/passclose.c bench/bench.h
bench_passclose_LDADD = -ldl
bench_acceptloop_SOURCES = bench/acceptloop.c bench/bench.h
bench_acceptloop_LDADD = -lpthread
bench_manyfd_SOURCES = bench/manyfd.c bench/bench.h
bench_bindfail_SOURCES = bench/bindfail.c bench/bench.h
bench_syscost_SOURCES = bench/syscost.c bench/bench.h
CLEANFILES += $(BENCH_BINS)
EXTRA_DIST += bench/run bench/readers bench/stream-compare bench/README.md bench/RESULTS.md

# BENCH_ARGS: e.g. make bench BENCH_ARGS=--quick
BENCH_ARGS =
bench: $(BENCH_BINS) shim/libsocktrace.la src/socktrace
	@test -n "$(PYTHON3)" || { echo 'make bench needs python3' >&2; exit 1; }
	$(PYTHON3) $(srcdir)/bench/run --shim $(abs_top_builddir)/shim/.libs/libsocktrace.so \
		--socktrace $(abs_top_builddir)/src/socktrace \
		--bindir $(abs_top_builddir)/bench $(BENCH_ARGS)
.PHONY: bench
