dist_man_MANS += man/libpyprof.7 man/pyprof-format.5
