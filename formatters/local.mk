# trace reading and the show / check subcommands
noinst_LTLIBRARIES += formatters/libformatters.la
formatters_libformatters_la_SOURCES = formatters/formatters.h \
	formatters/reader.h formatters/reader.c \
	formatters/model.h formatters/model.c \
	formatters/show.h formatters/show.c \
	formatters/fmt_lifecycle.c \
	formatters/fmt_timeline.c \
	formatters/fmt_summary.c \
	formatters/fmt_mermaid.c \
	formatters/symbolize.h formatters/symbolize.c \
	formatters/check.c
formatters_libformatters_la_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(LIBELF_CFLAGS)
