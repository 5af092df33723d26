# bats test suite; each .bats file is one capability.  TAP per test case.
TEST_EXTENSIONS = .bats
BATS_LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh
BATS_LOG_COMPILER = $(BATS)
AM_BATS_LOG_FLAGS = --tap
AM_TESTS_ENVIRONMENT = export LC_ALL=C top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' \
	SHIM='$(abs_top_builddir)/shim/.libs/libsocktrace.so' \
	SOCKTRACE='$(abs_top_builddir)/src/socktrace' \
	TESTPROGS='$(abs_top_builddir)/tests' ;

TESTS +=
# end of TESTS
