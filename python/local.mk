# python/: the IPython extension (%load_ext pyprof).  _paths.py tells it
# where make install put the library and the collector.
if HAVE_PYTHON
pyprofpydir = $(pythondir)/pyprof
pyprofpy_PYTHON = python/pyprof/__init__.py
nodist_pyprofpy_PYTHON = python/pyprof/_paths.py
endif
EXTRA_DIST += python/pyprof/__init__.py
CLEANFILES += python/pyprof/_paths.py

python/pyprof/_paths.py: Makefile
	$(AM_V_GEN)$(MKDIR_P) python/pyprof && \
	{ echo '# written by make install: where pyprof was installed'; \
	  echo 'PKGLIBDIR = "$(pkglibdir)"'; \
	  echo 'BINDIR = "$(bindir)"'; } >$@
