# preload/: libpyprof.so, loaded into the target with LD_PRELOAD.  No GLib.
pkglib_LTLIBRARIES += libpyprof.la
libpyprof_la_SOURCES = preload/preload.c preload/sampler.c preload/sampler.h \
	preload/attach.c preload/attach.h \
	preload/native.c preload/native.h \
	preload/sampler-int.h preload/handler.h preload/handler.c \
	preload/timers.c preload/wall.c \
	preload/intern.c preload/intern.h preload/names.c preload/names.h preload/settings.c preload/settings.h \
	preload/layout.c preload/pyintro.h preload/pystack-int.h preload/pystack.c \
	preload/remote.c preload/tstate.c preload/selfcheck.c \
	preload/layout.h preload/sigchain.c preload/sigchain.h \
	preload/helper.c preload/helper.h preload/control.c preload/control.h
libpyprof_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden
libpyprof_la_LDFLAGS = -module -avoid-version -shared \
	-Wl,--version-script=$(srcdir)/preload/libpyprof.map \
	-Wl,-z,nodelete
libpyprof_la_LIBADD = libpfformat.la $(DL_LIBS) -lpthread
EXTRA_DIST += preload/libpyprof.map
