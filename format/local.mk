# format/: the on-disk format.  Built once as a PIC convenience library:
# the preload links the writer, the collector and tests the reader.
noinst_LTLIBRARIES += libpfformat.la
libpfformat_la_SOURCES = format/format.h format/write.h format/write.c \
	format/encode.h format/encode.c \
	format/linetable.h format/linetable.c
# The reader, apart: it starts threads of its own (visit.c), which have
# no business in the library a target loads.
noinst_LTLIBRARIES += libpfread.la
libpfread_la_SOURCES = format/read.h format/read-int.h format/read.c \
	format/visit.c
# Packed files: zstd, so not in libpfformat.la, which the preload links.
noinst_LTLIBRARIES += libpfpack.la
libpfpack_la_SOURCES = format/pack.h format/pack.c
libpfpack_la_CPPFLAGS = $(AM_CPPFLAGS) $(ZSTD_CFLAGS)
