# collector/: reading files into the profile model, hide rules, trimming,
# the config file; linked into pyprof (cli/local.mk) and the unit tests.
# format/linetable.[ch] decode CPython line tables.
# The model: profile.c (strings, frames, stacks, threads), load.c (files
# into it: the one file that knows the format) and tree.c (call trees).
collector_model = collector/profile.c collector/profile.h \
	collector/profile-private.h collector/load.c collector/tree.c
pyprof_SOURCES += $(collector_model) \
	format/linetable.c format/linetable.h \
	collector/hide.c collector/hide.h collector/trim.c collector/trim.h \
	collector/conf.c collector/conf.h

if HAVE_CUNIT
# test_profile brings its own fake reader and line table, so the model is
# tested on exactly the records each test describes.
check_PROGRAMS += tests/unit/test_profile tests/unit/test_render \
	tests/unit/test_cli
tests_unit_test_profile_SOURCES = tests/unit/test_profile.c \
	$(collector_model)
tests_unit_test_profile_CPPFLAGS = $(AM_CPPFLAGS) $(GLIB_CFLAGS) $(CUNIT_CFLAGS)
tests_unit_test_profile_LDADD = $(GLIB_LIBS) $(CUNIT_LIBS)

tests_unit_test_render_SOURCES = tests/unit/test_render.c \
	$(collector_model) \
	format/linetable.c format/linetable.h \
	render/render.h render/render.c render/text.c render/collapsed.c \
	$(render_format_sources)
nodist_tests_unit_test_render_SOURCES = $(render_generated)
tests_unit_test_render_CPPFLAGS = $(AM_CPPFLAGS) $(GLIB_CFLAGS) $(CUNIT_CFLAGS) \
	$(PROTOBUF_C_CFLAGS) $(ZLIB_CFLAGS)
tests_unit_test_render_LDADD = libpfformat.la $(GLIB_LIBS) $(CUNIT_LIBS) \
	$(PROTOBUF_C_LIBS) $(ZLIB_LIBS)

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
tests_unit_test_formats_CPPFLAGS = $(AM_CPPFLAGS) $(GLIB_CFLAGS) $(CUNIT_CFLAGS) \
	$(PROTOBUF_C_CFLAGS) $(ZLIB_CFLAGS) $(JSON_GLIB_CFLAGS)
tests_unit_test_formats_LDADD = libpfformat.la $(GLIB_LIBS) $(CUNIT_LIBS) \
	$(PROTOBUF_C_LIBS) $(ZLIB_LIBS) $(JSON_GLIB_LIBS)
TESTS += tests/unit/test_formats
UNIT_TESTS += tests/unit/test_formats
endif

# runs the built pyprof ($PYPROF_BIN, from tests/local.mk)
tests_unit_test_cli_SOURCES = tests/unit/test_cli.c
tests_unit_test_cli_CPPFLAGS = $(AM_CPPFLAGS) $(GLIB_CFLAGS) $(CUNIT_CFLAGS)
tests_unit_test_cli_LDADD = $(GLIB_LIBS) $(CUNIT_LIBS)

TESTS += tests/unit/test_profile tests/unit/test_render tests/unit/test_cli
UNIT_TESTS += tests/unit/test_profile tests/unit/test_render tests/unit/test_cli

# wall mode end to end: a file written with format/write.c, read by the
# built pyprof ($PYPROF_BIN)
check_PROGRAMS += tests/unit/test_wall
tests_unit_test_wall_SOURCES = tests/unit/test_wall.c
tests_unit_test_wall_CPPFLAGS = $(AM_CPPFLAGS) $(GLIB_CFLAGS) $(CUNIT_CFLAGS)
tests_unit_test_wall_LDADD = libpfformat.la $(GLIB_LIBS) $(CUNIT_LIBS)
TESTS += tests/unit/test_wall
UNIT_TESTS += tests/unit/test_wall

# hide rules, collapsing, stem trimming and pyprof.conf, on synthetic trees
check_PROGRAMS += tests/unit/test_hide
tests_unit_test_hide_SOURCES = tests/unit/test_hide.c \
	$(collector_model) \
	format/linetable.c format/linetable.h \
	collector/hide.c collector/hide.h collector/trim.c collector/trim.h \
	collector/conf.c collector/conf.h
tests_unit_test_hide_CPPFLAGS = $(AM_CPPFLAGS) $(GLIB_CFLAGS) $(CUNIT_CFLAGS)
tests_unit_test_hide_LDADD = libpfformat.la $(GLIB_LIBS) $(CUNIT_LIBS)
TESTS += tests/unit/test_hide
UNIT_TESTS += tests/unit/test_hide
endif
