dist_man_MANS += man/pyprof.1 man/libpyprof.7 man/pyprof-format.5 man/pyprof.conf.5
