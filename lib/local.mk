# SPDX-License-Identifier: MIT
# The bats helper: $(pkgdatadir)/socktrace.bash, which a project's own bats
# tests load in one line (socktrace_run, assert_socktrace, assert_lifecycle;
# "BATS HELPERS" in socktrace(1)).  Made from lib/socktrace.bash.in with the
# install paths filled in, so it finds the installed socktrace when neither
# $SOCKTRACE nor PATH names one.  The tests load the build tree's copy
# ($SOCKTRACE_BATS).
pkgdata_DATA = lib/socktrace.bash
CLEANFILES += lib/socktrace.bash
EXTRA_DIST += lib/socktrace.bash.in
lib/socktrace.bash: lib/socktrace.bash.in Makefile
	$(AM_V_GEN)$(MKDIR_P) lib && rm -f $@ $@.tmp && \
	sed -e 's|@bindir[@]|$(bindir)|g' \
	    -e 's|@pkgdatadir[@]|$(pkgdatadir)|g' \
	    -e 's|@PACKAGE_VERSION[@]|$(PACKAGE_VERSION)|g' \
	    $(srcdir)/lib/socktrace.bash.in >$@.tmp && \
	chmod a-w $@.tmp && mv $@.tmp $@
# The same helper where bats_load_library looks for a library (BATS_LIB_PATH,
# /usr/lib/bats by default): PREFIX/lib/bats/socktrace/load.bash, so that
# `bats_load_library socktrace` loads it (with BATS_LIB_PATH=/usr/local/lib/bats
# for the default prefix).
batslibdir = $(prefix)/lib/bats/socktrace
batslib_DATA = lib/load.bash
CLEANFILES += lib/load.bash
lib/load.bash: lib/socktrace.bash
	$(AM_V_GEN)rm -f $@ && cp lib/socktrace.bash $@
AM_TESTS_ENVIRONMENT += export SOCKTRACE_BATS='$(abs_top_builddir)/lib/socktrace.bash' ;
