# tests/fuzz/: libFuzzer targets for the reader, the PYPROF_* settings,
# pyprof.conf and the hide rules.  Built with $(FUZZ_CC) (clang) by the
# rules below, each from the product sources it needs, so the ordinary
# build keeps its compiler and flags.  run-fuzz.sh runs them for
# PYPROF_FUZZ_SECONDS each (10 by default) in `make check`; `make fuzz`
# for longer runs (300 s each unless PYPROF_FUZZ_SECONDS says otherwise).
FUZZ_TARGETS = tests/fuzz/fuzz_read tests/fuzz/fuzz_settings \
	tests/fuzz/fuzz_config tests/fuzz/fuzz_hide
FUZZ_FLAGS = -g -O1 -fno-omit-frame-pointer -pthread \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	$(WARN_CFLAGS) -I$(top_builddir) -I$(top_srcdir) -I$(top_srcdir)/format
FUZZ_GLIB = $(GLIB_CFLAGS) $(LIBDW_CFLAGS)
FUZZ_GLIB_LIBS = $(GLIB_LIBS) $(LIBDW_LIBS) $(DEMANGLE_LIBS) $(ZSTD_LIBS)
FUZZ_COLLECTOR = $(srcdir)/collector/profile.c $(srcdir)/collector/load.c \
	$(srcdir)/collector/tree.c $(srcdir)/collector/symbols.c \
	$(srcdir)/collector/origin.c $(srcdir)/collector/shape.c \
	$(srcdir)/collector/family.c \
	$(srcdir)/format/linetable.c \
	$(srcdir)/format/read.c $(srcdir)/format/visit.c \
	$(srcdir)/format/pack.c
FUZZ_DEPS = $(srcdir)/format/format.h $(srcdir)/format/read.h $(srcdir)/format/read-int.h \
	$(srcdir)/format/pack.h \
	$(srcdir)/collector/profile.h $(srcdir)/collector/profile-private.h \
	$(srcdir)/format/linetable.h \
	$(srcdir)/collector/hide.h $(srcdir)/collector/trim.h \
	$(srcdir)/collector/conf.h $(srcdir)/preload/settings.h \
	$(srcdir)/collector/symbols.h \
	$(srcdir)/tests/fuzz/frames.h
fuzz_read_srcs = $(srcdir)/tests/fuzz/fuzz_read.c $(FUZZ_COLLECTOR)
fuzz_settings_srcs = $(srcdir)/tests/fuzz/fuzz_settings.c \
	$(srcdir)/preload/settings.c
fuzz_config_srcs = $(srcdir)/tests/fuzz/fuzz_config.c \
	$(srcdir)/collector/conf.c $(srcdir)/collector/hide.c $(FUZZ_COLLECTOR)
fuzz_hide_srcs = $(srcdir)/tests/fuzz/fuzz_hide.c $(srcdir)/collector/hide.c \
	$(srcdir)/collector/trim.c $(FUZZ_COLLECTOR)

if HAVE_FUZZ
check_SCRIPTS += $(FUZZ_TARGETS)
endif
CLEANFILES += $(FUZZ_TARGETS)
clean-local: clean-fuzz
clean-fuzz:
	rm -rf tests/fuzz/work
.PHONY: clean-fuzz fuzz

tests/fuzz/fuzz_read: $(fuzz_read_srcs) $(FUZZ_DEPS) config.h
	$(AM_V_CC)$(MKDIR_P) tests/fuzz && \
	$(FUZZ_CC) $(FUZZ_FLAGS) $(FUZZ_GLIB) -o $@ $(fuzz_read_srcs) $(FUZZ_GLIB_LIBS)
tests/fuzz/fuzz_settings: $(fuzz_settings_srcs) $(FUZZ_DEPS) config.h
	$(AM_V_CC)$(MKDIR_P) tests/fuzz && \
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $(fuzz_settings_srcs)
tests/fuzz/fuzz_config: $(fuzz_config_srcs) $(FUZZ_DEPS) config.h
	$(AM_V_CC)$(MKDIR_P) tests/fuzz && \
	$(FUZZ_CC) $(FUZZ_FLAGS) $(FUZZ_GLIB) -o $@ $(fuzz_config_srcs) $(FUZZ_GLIB_LIBS)
tests/fuzz/fuzz_hide: $(fuzz_hide_srcs) $(FUZZ_DEPS) config.h
	$(AM_V_CC)$(MKDIR_P) tests/fuzz && \
	$(FUZZ_CC) $(FUZZ_FLAGS) $(FUZZ_GLIB) -o $@ $(fuzz_hide_srcs) $(FUZZ_GLIB_LIBS)

TESTS += tests/fuzz/run-fuzz.sh
AM_TESTS_ENVIRONMENT += FUZZ_CC='$(FUZZ_CC)'; export FUZZ_CC;

# longer runs on demand: make fuzz [PYPROF_FUZZ_SECONDS=N] [FUZZ=read]
fuzz: $(FUZZ_TARGETS)
	top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' \
	FUZZ_CC='$(FUZZ_CC)' PYPROF_FUZZ_SECONDS=$${PYPROF_FUZZ_SECONDS:-300} \
		$(srcdir)/tests/fuzz/run-fuzz.sh $(FUZZ)

EXTRA_DIST += tests/fuzz/run-fuzz.sh tests/fuzz/frames.h \
	tests/fuzz/fuzz_read.c tests/fuzz/fuzz_settings.c \
	tests/fuzz/fuzz_config.c tests/fuzz/fuzz_hide.c \
	tests/fuzz/read.dict \
	tests/fuzz/corpus tests/fuzz/regress
