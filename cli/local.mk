# cli/: the pyprof command, one file per subcommand (cli.h), their options
# and the report pipeline.  collector/local.mk and render/local.mk add the
# model and the renderers to pyprof_SOURCES.
bin_PROGRAMS += pyprof
pyprof_SOURCES = cli/cli.h cli/main.c cli/options.c cli/options.h \
	cli/pipeline.c cli/pipeline.h cli/report.c cli/info.c cli/run.c \
	cli/diff.c cli/top.c cli/ctl.c cli/attach.c cli/pack.c \
	cli/when.c cli/when.h
# attach checks PYPROF_ROTATE and PYPROF_KEEP with the library's own
# parser (pure: strings in, numbers out), so that both accept the same
pyprof_SOURCES += preload/settings.c preload/settings.h
pyprof_CPPFLAGS = $(AM_CPPFLAGS) $(GLIB_CFLAGS)
pyprof_LDADD = libpfread.la libpfformat.la -lpthread $(GLIB_LIBS) -lm
