# trace reading and the show / check subcommands
noinst_LTLIBRARIES += formatters/libformatters.la
formatters_libformatters_la_SOURCES = formatters/formatters.h formatters/show.c
formatters_libformatters_la_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(LIBELF_CFLAGS)
