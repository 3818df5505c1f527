#!/bin/sh
# run-in-chroot.sh - run a program inside the test chroot, as if it were
# installed on the host.
#
# usage: run-in-chroot.sh DIR PROGRAM [ARGS...]
#
# The tests pass host paths everywhere: the library (PYPROF_LIB), the
# targets in the source tree, the output folder under $TMPDIR, the
# current directory.  So the folders that hold them are bind-mounted into
# the chroot at the same paths, and the program starts in the same
# directory with the same environment (LD_PRELOAD included: a libpyprof.so
# built on the host loads in the chroot, whose glibc is newer).
#
# The mounts are made in a private mount namespace (unshare --mount), so
# they exist only for this process and its children and vanish when the
# last of them exits: nothing to clean up, nothing left mounted if a test
# is killed, and an `rm -rf` of the cached chroot can never reach through
# a forgotten bind mount into the host's /tmp or source tree.
#
# Every step execs the next (unshare without --fork, sh's exec, chroot),
# so PROGRAM keeps this script's pid: exit statuses and signals are the
# program's own, as the lifecycle tests need.  Each step also loads the
# preloaded library, which stays dormant in them (no _PyRuntime).
#
# Folders bound: $TMPDIR (or /tmp), $top_srcdir, $top_builddir, and those
# in $PYPROF_CHROOT_BINDS (space-separated); /proc and /dev are mounted too.

set -eu
dir=${1:?usage: run-in-chroot.sh DIR PROGRAM [ARGS...]}
shift
[ "$#" -gt 0 ] || { echo "usage: run-in-chroot.sh DIR PROGRAM [ARGS...]" >&2; exit 2; }

binds="${TMPDIR:-/tmp} ${top_srcdir:-} ${top_builddir:-} ${PYPROF_CHROOT_BINDS:-}"
RUN_CHROOT_DIR=$dir RUN_CHROOT_BINDS=$binds RUN_CHROOT_CWD=$(pwd) \
exec unshare --mount --propagation private /bin/sh -c '
	set -e
	d=$RUN_CHROOT_DIR
	for b in $RUN_CHROOT_BINDS; do
		b=$(cd "$b" && pwd -P) || continue
		[ -d "$d$b" ] || mkdir -p "$d$b"
		mount --bind "$b" "$d$b"
	done
	mount -t proc proc "$d/proc"
	mount --rbind /dev "$d/dev"
	unset RUN_CHROOT_DIR RUN_CHROOT_BINDS
	exec chroot "$d" /bin/sh -c "cd \"\$RUN_CHROOT_CWD\" && unset RUN_CHROOT_CWD && exec \"\$@\"" sh "$@"
' sh "$@"
