# collector/: reading files into the profile model, hide rules, trimming,
# the config file, native symbols (symbols.c, with libdw); linked into
# pyprof (cli/local.mk) and the unit tests.
# format/linetable.[ch] decode CPython line tables.
# The model: profile.c (strings, frames, stacks, threads), load.c (files
# into it: the one file that knows the format), origin.c (whose code a
# frame is), tree.c (call trees), family.c (threads that differ only by
# their numbers), shape.c (trees reshaped for people) and diff.c (two
# trees compared).
# Whatever links the model links libdw too (load.c names native frames),
# and libpfpack.la with zstd (load.c opens packed files).
collector_model = collector/profile.c collector/profile.h \
	collector/profile-private.h collector/load.c collector/tree.c \
	collector/origin.c collector/shape.c collector/shape.h \
	collector/diff.c collector/diff.h \
	collector/family.c \
	collector/symbols.c collector/symbols.h
collector_model_libs = libpfpack.la $(ZSTD_LIBS) $(LIBDW_LIBS) $(DEMANGLE_LIBS)
pyprof_SOURCES += $(collector_model) \
	format/linetable.c format/linetable.h \
	collector/hide.c collector/hide.h collector/trim.c collector/trim.h \
	collector/conf.c collector/conf.h \
	collector/packed.c collector/packed.h
pyprof_CPPFLAGS += $(LIBDW_CFLAGS)
pyprof_LDADD += $(collector_model_libs)
