# SPDX-License-Identifier: MIT
# man pages: troff by hand, version filled in by configure
man_MANS = man/socktrace.1 man/socktrace.7
EXTRA_DIST += man/socktrace.1.in man/socktrace.7.in
