# collector/: the pyprof command.  render/local.mk adds the renderers to
# pyprof_SOURCES.  collector/linetable.[ch] decode CPython line tables.
bin_PROGRAMS += pyprof
pyprof_SOURCES = collector/main.c collector/profile.c collector/profile.h \
	collector/linetable.c collector/linetable.h
pyprof_CPPFLAGS = $(AM_CPPFLAGS) $(GLIB_CFLAGS) \
	-DPYPROF_VERSION='"$(PACKAGE_VERSION)"'
pyprof_LDADD = libpfformat.la $(GLIB_LIBS)

if HAVE_CUNIT
# test_profile brings its own fake reader and line table, so the model is
# tested on exactly the records each test describes.
check_PROGRAMS += tests/unit/test_profile tests/unit/test_render \
	tests/unit/test_cli
tests_unit_test_profile_SOURCES = tests/unit/test_profile.c \
	collector/profile.c collector/profile.h
tests_unit_test_profile_CPPFLAGS = $(AM_CPPFLAGS) $(GLIB_CFLAGS) $(CUNIT_CFLAGS)
tests_unit_test_profile_LDADD = $(GLIB_LIBS) $(CUNIT_LIBS)

tests_unit_test_render_SOURCES = tests/unit/test_render.c \
	collector/profile.c collector/profile.h \
	collector/linetable.c collector/linetable.h \
	render/render.h render/render.c render/text.c render/collapsed.c
tests_unit_test_render_CPPFLAGS = $(AM_CPPFLAGS) $(GLIB_CFLAGS) $(CUNIT_CFLAGS)
tests_unit_test_render_LDADD = libpfformat.la $(GLIB_LIBS) $(CUNIT_LIBS)

# runs the built pyprof ($PYPROF_BIN, from tests/local.mk)
tests_unit_test_cli_SOURCES = tests/unit/test_cli.c
tests_unit_test_cli_CPPFLAGS = $(AM_CPPFLAGS) $(GLIB_CFLAGS) $(CUNIT_CFLAGS)
tests_unit_test_cli_LDADD = $(GLIB_LIBS) $(CUNIT_LIBS)

TESTS += tests/unit/test_profile tests/unit/test_render tests/unit/test_cli
UNIT_TESTS += tests/unit/test_profile tests/unit/test_render tests/unit/test_cli
endif
