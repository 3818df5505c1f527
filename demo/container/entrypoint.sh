#!/bin/sh
# The container's entrypoint: PID 1, until it execs the service.
#
# This shell, and the tools it runs, load libpyprof.so too (LD_PRELOAD is
# inherited) but are not Python: it stays dormant in them.
#
# PID 1 gets from the kernel only the signals it has a handler for: a shell
# left as PID 1 would ignore docker stop's SIGTERM and leave the service
# to the SIGKILL ten seconds later, its files unfinished.  exec makes the
# service PID 1 instead, with nothing between it and its signals.  A
# service that handles SIGTERM (as servers do) then stops cleanly and the
# file of each of its Python processes is complete.  One that leaves
# SIGTERM at the default ignores it as PID 1, profiled or not: run it with
# `docker run --init`, whose init hands the signal on, and the default
# action ends it with its file complete.
set -e
# ... the service's own preparation ...
exec "$@"
