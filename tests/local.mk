# tests/: CUnit unit programs and integration scripts, all run by
# `make check`.  Integration scripts exit 77 to skip, saying why.
AM_TESTS_ENVIRONMENT = \
	top_srcdir='$(abs_top_srcdir)'; top_builddir='$(abs_top_builddir)'; \
	PYPROF_LIB='$(abs_top_builddir)/.libs/libpyprof.so'; \
	PYPROF_BIN='$(abs_top_builddir)/pyprof'; \
	export top_srcdir top_builddir PYPROF_LIB PYPROF_BIN;

# --- the CUnit programs: every unit test's rule is here -------------------
EXTRA_DIST += tests/unit/unit.h
# The collector's and the renderers' tests link the model's sources
# ($(collector_model), collector/local.mk) and the renderers'
# ($(render_format_sources), render/local.mk) directly.
if HAVE_CUNIT
# test_profile brings its own fake reader and line table, so the model is
# tested on exactly the records each test describes.
check_PROGRAMS += tests/unit/test_profile tests/unit/test_render \
	tests/unit/test_cli
tests_unit_test_profile_SOURCES = tests/unit/test_profile.c \
	$(collector_model)
tests_unit_test_profile_CPPFLAGS = $(AM_CPPFLAGS) $(LIBDW_CFLAGS) $(GLIB_CFLAGS) $(CUNIT_CFLAGS)
tests_unit_test_profile_LDADD = $(GLIB_LIBS) $(CUNIT_LIBS) \
	$(collector_model_libs)

tests_unit_test_render_SOURCES = tests/unit/test_render.c \
	$(collector_model) \
	format/linetable.c format/linetable.h \
	render/render.h render/render.c render/text.c render/collapsed.c \
	$(render_format_sources)
nodist_tests_unit_test_render_SOURCES = $(render_generated)
tests_unit_test_render_CPPFLAGS = $(AM_CPPFLAGS) $(LIBDW_CFLAGS) $(GLIB_CFLAGS) $(CUNIT_CFLAGS) \
	$(PROTOBUF_C_CFLAGS) $(ZLIB_CFLAGS)
tests_unit_test_render_LDADD = libpfread.la libpfformat.la -lpthread $(GLIB_LIBS) $(CUNIT_LIBS) \
	$(PROTOBUF_C_LIBS) $(ZLIB_LIBS) \
	$(collector_model_libs)

# html, speedscope, pprof, trace, svg and json of a synthetic profile:
# totals, structure, escaping (JSON parsed back with json-glib)
if HAVE_JSON_GLIB
check_PROGRAMS += tests/unit/test_formats
tests_unit_test_formats_SOURCES = tests/unit/test_formats.c \
	$(collector_model) \
	format/linetable.c format/linetable.h \
	render/render.h render/render.c render/text.c render/collapsed.c \
	$(render_format_sources)
nodist_tests_unit_test_formats_SOURCES = $(render_generated)
tests_unit_test_formats_CPPFLAGS = $(AM_CPPFLAGS) $(LIBDW_CFLAGS) $(GLIB_CFLAGS) $(CUNIT_CFLAGS) \
	$(PROTOBUF_C_CFLAGS) $(ZLIB_CFLAGS) $(JSON_GLIB_CFLAGS)
tests_unit_test_formats_LDADD = libpfread.la libpfformat.la -lpthread $(GLIB_LIBS) $(CUNIT_LIBS) \
	$(PROTOBUF_C_LIBS) $(ZLIB_LIBS) $(JSON_GLIB_LIBS) \
	$(collector_model_libs)
TESTS += tests/unit/test_formats
UNIT_TESTS += tests/unit/test_formats
endif

# two synthetic profiles compared by function and call path
check_PROGRAMS += tests/unit/test_diff
tests_unit_test_diff_SOURCES = tests/unit/test_diff.c \
	$(collector_model) \
	format/linetable.c format/linetable.h
tests_unit_test_diff_CPPFLAGS = $(AM_CPPFLAGS) $(LIBDW_CFLAGS) $(GLIB_CFLAGS) $(CUNIT_CFLAGS)
tests_unit_test_diff_LDADD = libpfread.la libpfformat.la -lpthread $(GLIB_LIBS) $(CUNIT_LIBS) \
	$(collector_model_libs)
TESTS += tests/unit/test_diff
UNIT_TESTS += tests/unit/test_diff

# runs the built pyprof ($PYPROF_BIN, from tests/local.mk)
tests_unit_test_cli_SOURCES = tests/unit/test_cli.c
tests_unit_test_cli_CPPFLAGS = $(AM_CPPFLAGS) $(GLIB_CFLAGS) $(CUNIT_CFLAGS)
tests_unit_test_cli_LDADD = $(GLIB_LIBS) $(CUNIT_LIBS)

check_PROGRAMS += tests/unit/test_when
tests_unit_test_when_SOURCES = tests/unit/test_when.c cli/when.c cli/when.h
tests_unit_test_when_CPPFLAGS = $(AM_CPPFLAGS) $(GLIB_CFLAGS) $(CUNIT_CFLAGS)
tests_unit_test_when_LDADD = $(GLIB_LIBS) $(CUNIT_LIBS)

TESTS += tests/unit/test_profile tests/unit/test_render tests/unit/test_cli \
	tests/unit/test_when
UNIT_TESTS += tests/unit/test_profile tests/unit/test_render tests/unit/test_cli \
	tests/unit/test_when

# wall mode end to end: a file written with format/write.c, read by the
# built pyprof ($PYPROF_BIN)
check_PROGRAMS += tests/unit/test_wall
tests_unit_test_wall_SOURCES = tests/unit/test_wall.c tests/unit/fixture.h
tests_unit_test_wall_CPPFLAGS = $(AM_CPPFLAGS) $(GLIB_CFLAGS) $(CUNIT_CFLAGS)
tests_unit_test_wall_LDADD = libpfread.la libpfformat.la -lpthread $(GLIB_LIBS) $(CUNIT_LIBS)
TESTS += tests/unit/test_wall
UNIT_TESTS += tests/unit/test_wall

# the default text report, exactly, through the pyprof command
check_PROGRAMS += tests/unit/test_report
tests_unit_test_report_SOURCES = tests/unit/test_report.c tests/unit/fixture.h
tests_unit_test_report_CPPFLAGS = $(AM_CPPFLAGS) $(GLIB_CFLAGS) $(CUNIT_CFLAGS)
tests_unit_test_report_LDADD = libpfread.la libpfformat.la -lpthread $(GLIB_LIBS) $(CUNIT_LIBS)
TESTS += tests/unit/test_report
UNIT_TESTS += tests/unit/test_report

# hide rules, collapsing, stem trimming and pyprof.conf, on synthetic trees
check_PROGRAMS += tests/unit/test_hide
tests_unit_test_hide_SOURCES = tests/unit/test_hide.c \
	$(collector_model) \
	format/linetable.c format/linetable.h \
	collector/hide.c collector/hide.h collector/trim.c collector/trim.h \
	collector/conf.c collector/conf.h
tests_unit_test_hide_CPPFLAGS = $(AM_CPPFLAGS) $(LIBDW_CFLAGS) $(GLIB_CFLAGS) $(CUNIT_CFLAGS)
tests_unit_test_hide_LDADD = libpfread.la libpfformat.la -lpthread $(GLIB_LIBS) $(CUNIT_LIBS) \
	$(collector_model_libs)
TESTS += tests/unit/test_hide
UNIT_TESTS += tests/unit/test_hide

# one node per function and folding, on synthetic trees
check_PROGRAMS += tests/unit/test_shape
tests_unit_test_shape_SOURCES = tests/unit/test_shape.c \
	$(collector_model) \
	format/linetable.c format/linetable.h
tests_unit_test_shape_CPPFLAGS = $(AM_CPPFLAGS) $(LIBDW_CFLAGS) $(GLIB_CFLAGS) $(CUNIT_CFLAGS)
tests_unit_test_shape_LDADD = libpfread.la libpfformat.la -lpthread $(GLIB_LIBS) $(CUNIT_LIBS) \
	$(collector_model_libs)
TESTS += tests/unit/test_shape
UNIT_TESTS += tests/unit/test_shape

# families of threads: keys, labels, and trees grouped by family
check_PROGRAMS += tests/unit/test_family
tests_unit_test_family_SOURCES = tests/unit/test_family.c \
	$(collector_model) \
	format/linetable.c format/linetable.h
tests_unit_test_family_CPPFLAGS = $(AM_CPPFLAGS) $(LIBDW_CFLAGS) $(GLIB_CFLAGS) $(CUNIT_CFLAGS)
tests_unit_test_family_LDADD = libpfread.la libpfformat.la -lpthread $(GLIB_LIBS) $(CUNIT_LIBS) \
	$(collector_model_libs)
TESTS += tests/unit/test_family
UNIT_TESTS += tests/unit/test_family

# native symbols, looked up in the test program itself (so -g: it is its
# own DWARF) and in libc
check_PROGRAMS += tests/unit/test_symbols
tests_unit_test_symbols_SOURCES = tests/unit/test_symbols.c \
	collector/symbols.c collector/symbols.h
tests_unit_test_symbols_CPPFLAGS = $(AM_CPPFLAGS) $(GLIB_CFLAGS) $(LIBDW_CFLAGS) \
	$(CUNIT_CFLAGS)
tests_unit_test_symbols_CFLAGS = $(AM_CFLAGS) -g
tests_unit_test_symbols_LDADD = $(GLIB_LIBS) $(LIBDW_LIBS) $(DEMANGLE_LIBS) \
	$(CUNIT_LIBS)
TESTS += tests/unit/test_symbols
UNIT_TESTS += tests/unit/test_symbols
endif

if HAVE_CUNIT
check_PROGRAMS += tests/unit/test_settings
tests_unit_test_settings_SOURCES = tests/unit/test_settings.c preload/settings.c
tests_unit_test_settings_CFLAGS = $(AM_CFLAGS) $(CUNIT_CFLAGS)
tests_unit_test_settings_LDADD = $(CUNIT_LIBS)
TESTS += tests/unit/test_settings
UNIT_TESTS += tests/unit/test_settings
endif

if HAVE_CUNIT
# sigchain.c linked in: the test's own sigaction() and signal() go through
# the interposer, as a target's do.
check_PROGRAMS += tests/unit/test_sigchain
tests_unit_test_sigchain_SOURCES = tests/unit/test_sigchain.c \
	preload/sigchain.c preload/sigchain.h preload/handler.h
tests_unit_test_sigchain_CFLAGS = $(AM_CFLAGS) $(CUNIT_CFLAGS)
tests_unit_test_sigchain_LDADD = $(CUNIT_LIBS) $(DL_LIBS)
TESTS += tests/unit/test_sigchain
UNIT_TESTS += tests/unit/test_sigchain
endif

if HAVE_CUNIT
# native.c linked in, with an eval loop of the test's own, exported as
# CPython exports its own
check_PROGRAMS += tests/unit/test_native
tests_unit_test_native_SOURCES = tests/unit/test_native.c \
	preload/native.c preload/native.h
tests_unit_test_native_CFLAGS = $(AM_CFLAGS) $(CUNIT_CFLAGS)
tests_unit_test_native_LDFLAGS = -export-dynamic
tests_unit_test_native_LDADD = libpfread.la libpfformat.la -lpthread $(CUNIT_LIBS) $(DL_LIBS) -lpthread
TESTS += tests/unit/test_native
UNIT_TESTS += tests/unit/test_native
endif

if HAVE_CUNIT
check_PROGRAMS += tests/unit/test_read
tests_unit_test_read_SOURCES = tests/unit/test_read.c
tests_unit_test_read_CFLAGS = $(AM_CFLAGS) $(CUNIT_CFLAGS)
tests_unit_test_read_LDADD = libpfpack.la libpfread.la libpfformat.la -lpthread $(ZSTD_LIBS) $(CUNIT_LIBS)
TESTS += tests/unit/test_read
UNIT_TESTS += tests/unit/test_read
endif

if HAVE_CUNIT
check_PROGRAMS += tests/unit/test_write
tests_unit_test_write_SOURCES = tests/unit/test_write.c
tests_unit_test_write_CFLAGS = $(AM_CFLAGS) $(CUNIT_CFLAGS)
tests_unit_test_write_LDADD = libpfread.la libpfformat.la -lpthread $(CUNIT_LIBS)
TESTS += tests/unit/test_write
UNIT_TESTS += tests/unit/test_write
endif

# The CUnit programs alone.
check-unit:
	$(MAKE) $(AM_MAKEFLAGS) check TESTS="$(UNIT_TESTS)"
# What the sanitizer build (configure --enable-asan --enable-ubsan) runs:
# the CUnit programs, and the library under the sanitizers inside real
# interpreters (0055, which loads libasan first with LD_PRELOAD).  The
# other integration tests are the plain build's: their timings and
# tolerances are not meant for a library slowed down by ASan.
SAN_TESTS = $(UNIT_TESTS) tests/integration/0055-sanitizers.sh
check-san:
	$(MAKE) $(AM_MAKEFLAGS) check TESTS="$(SAN_TESTS)"
.PHONY: check-unit check-san
if SANITIZE
TESTS += tests/integration/0055-sanitizers.sh
endif
EXTRA_DIST += tests/integration/0055-sanitizers.sh

# the dependency rules between folders, on the #include lines
TESTS += tests/check-deps.sh
EXTRA_DIST += tests/check-deps.sh

TESTS += tests/linetable/check-linetable.sh tests/layout/check-layout.sh \
	tests/layout/walk-test.sh
EXTRA_DIST += tests/layout/check-layout.sh tests/layout/walk-test.sh \
	tests/layout/probe.c tests/layout/dump.c tests/layout/find-pythons.sh \
	tests/layout/walk-test.c tests/layout/walk-test.py \
	tests/layout/tstate-cost.c tests/layout/tstate-cost.py \
	tests/chroot/make-chroot.sh tests/chroot/run-in-chroot.sh tests/chroot/chroot.sh
EXTRA_DIST += tests/linetable/check-linetable.sh tests/linetable/gen.py \
	tests/linetable/check.c

# Integration: real interpreters, the built library and collector.
INTEGRATION_TESTS = \
	tests/integration/0001-dormant.sh \
	tests/integration/0002-config.sh \
	tests/integration/0010-lifecycle.sh \
	tests/integration/0020-shares.sh \
	tests/integration/0030-deep.sh \
	tests/integration/0040-damaged.sh \
	tests/integration/0050-valgrind.sh \
	tests/integration/0060-churn.sh \
	tests/integration/0070-names.sh \
	tests/integration/0080-untested.sh \
	tests/integration/0090-run.sh \
	tests/integration/0300-threads.sh \
	tests/integration/0305-thread-families.sh \
	tests/integration/0310-wall.sh \
	tests/integration/0400-no-harm.sh \
	tests/integration/0410-faults.sh \
	tests/integration/0420-many-threads.sh \
	tests/integration/0500-native.sh \
	tests/integration/0510-waits.sh \
	tests/integration/0520-live.sh \
	tests/integration/0530-magic-native.sh \
	tests/integration/0540-ctl.sh \
	tests/integration/0550-rotate.sh \
	tests/integration/0560-attach.sh \
	tests/integration/0570-container.sh \
	tests/integration/0580-pack.sh \
	tests/integration/0200-trim.sh \
	tests/integration/0210-hide.sh \
	tests/integration/0215-machinery.sh \
	tests/integration/0220-ipython.sh \
	tests/integration/0230-ipython-magic.sh \
	tests/integration/0110-format-html.sh \
	tests/integration/0115-html-views.sh \
	tests/integration/0120-format-speedscope.sh \
	tests/integration/0130-format-pprof.sh \
	tests/integration/0140-format-trace.sh \
	tests/integration/0150-format-svg.sh \
	tests/integration/0160-format-json.sh \
	tests/integration/0170-format-pstats.sh \
	tests/integration/0180-diff.sh \
	tests/integration/0190-format-gecko.sh
TESTS += $(INTEGRATION_TESTS)
# the format tests' consumers: helpers, and npm packages installed into
# the build tree (tests/consumers/node_modules) on first use
EXTRA_DIST += tests/integration/consumers.sh tests/integration/formats.py \
	tests/consumers/package.json tests/consumers/validate-schema.js \
	tests/consumers/gecko-profile.schema.json
clean-local: clean-consumers
clean-consumers:
	rm -rf tests/consumers/node_modules tests/consumers/package-lock.json \
		tests/consumers/package.json tests/consumers/npm.log \
		tests/consumers/.lock tests/screenshots
.PHONY: clean-consumers
EXTRA_DIST += $(INTEGRATION_TESTS) tests/integration/setup.sh \
	tests/integration/pfheader.py tests/integration/shares.py tests/integration/wall.py \
	tests/integration/records.py \
	tests/targets/wall.py tests/targets/shares.py tests/targets/threads.py \
	tests/targets/lifecycle.py tests/targets/deep.py tests/targets/churn.py \
	tests/targets/names.py tests/targets/eintr.py tests/targets/many.py \
	tests/targets/interactive.py tests/targets/stem.py tests/targets/loop_thread.py \
	tests/targets/machinery.py tests/targets/machinery_burn.py \
	tests/targets/machinery_pkg/__init__.py tests/targets/machinery_pkg/__main__.py \
	tests/targets/noharm.py tests/targets/sequential.py tests/faults/noperf.c \
	tests/targets/native.py tests/targets/native_work.cc tests/targets/waits.py \
	tests/targets/marks.py tests/targets/origins.py \
	tests/targets/families.py tests/targets/ctl.py tests/targets/rotate.py \
	tests/targets/attach.py tests/targets/service.py \
	tests/targets/service_worker.py tests/targets/pid1.py \
	demo/container/Dockerfile demo/container/entrypoint.sh

# The 3.14/3.15 chroot is a cache of the build tree: kept by `make clean`
# (it takes a minute to make), removed by `make distclean`.
distclean-local: distclean-chroot
distclean-chroot:
	rm -rf tests/cache
.PHONY: distclean-chroot
