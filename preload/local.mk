# preload/: libpyprof.so, loaded into the target with LD_PRELOAD.  No GLib.
pkglib_LTLIBRARIES += libpyprof.la
libpyprof_la_SOURCES = preload/preload.c preload/sampler.c preload/sampler.h \
	preload/intern.c preload/intern.h preload/names.c preload/names.h preload/settings.c preload/settings.h \
	preload/layout.c preload/pystack.c preload/pyintro.h \
	preload/layout.h
libpyprof_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden
libpyprof_la_LDFLAGS = -module -avoid-version -shared \
	-Wl,--version-script=$(srcdir)/preload/libpyprof.map \
	-Wl,-z,nodelete
libpyprof_la_LIBADD = libpfformat.la $(DL_LIBS) -lpthread
EXTRA_DIST += preload/libpyprof.map
