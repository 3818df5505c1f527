# render/: one file per output format, linked into pyprof
# (collector/local.mk defines pyprof_SOURCES).
pyprof_SOURCES += render/render.h render/render.c render/text.c \
	render/collapsed.c
