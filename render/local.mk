# render/: one file per output format, linked into pyprof
# (collector/local.mk defines pyprof_SOURCES).
pyprof_SOURCES += render/render.h render/render.c render/text.c \
	render/collapsed.c

# The structured formats (html, speedscope, pprof, trace, gecko, svg,
# json, pstats) and what they share; also linked into the renderer unit
# tests.
render_format_sources = render/emit.h render/emit.c render/json.c \
	render/speedscope.c render/trace.c render/gecko.c render/pprof.c \
	render/svg.c render/html.c render/pstats.c
render_generated = render/profile.pb-c.c render/profile.pb-c.h \
	render/html-template.c
pyprof_SOURCES += $(render_format_sources)
nodist_pyprof_SOURCES = $(render_generated)
pyprof_CPPFLAGS += $(PROTOBUF_C_CFLAGS) $(ZLIB_CFLAGS)
pyprof_LDADD += $(PROTOBUF_C_LIBS) $(ZLIB_LIBS)
BUILT_SOURCES += render/profile.pb-c.h
CLEANFILES += $(render_generated)
EXTRA_DIST += render/profile.proto render/html/report.html

# pprof's messages, generated from the checked-in schema
render/profile.pb-c.h: $(srcdir)/render/profile.proto
	$(AM_V_GEN)$(MKDIR_P) render && \
	$(PROTOC_C) --proto_path=$(srcdir)/render --c_out=render \
		$(srcdir)/render/profile.proto
render/profile.pb-c.c: render/profile.pb-c.h

# The HTML page as a C array (od and sed: nothing beyond POSIX tools)
render/html-template.c: $(srcdir)/render/html/report.html
	$(AM_V_GEN)$(MKDIR_P) render && { \
		echo '/* generated from render/html/report.html: do not edit */'; \
		echo 'const unsigned char render_html_template[] = {'; \
		od -An -v -tx1 $(srcdir)/render/html/report.html | \
			sed -e 's/\([0-9a-f][0-9a-f]\)/0x\1,/g'; \
		echo '0};'; } >$@.tmp && mv $@.tmp $@
