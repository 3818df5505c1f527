# chroot.sh - sourced by tests that also run the chroot's interpreters.
#
# chroot_pythons prints one command per CPython found in the Debian sid
# chroot (3.14 and 3.15; see make-chroot.sh), each a small script in
# $top_builddir/tests/cache/bin that runs the interpreter through
# run-in-chroot.sh, so a test calls it like any host python.  The first
# caller of a `make check` makes the chroot (about a minute, once: it is
# cached in the build tree); concurrent callers wait on a lock.  When it
# cannot be made, chroot_pythons prints nothing and says why once on
# stderr; a failed attempt is retried after 10 minutes, not by every test.
#
# Environment: PYPROF_CHROOT=DIR to use another chroot, =none to skip it.

chroot_pythons() {
	_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
	_cache=${top_builddir:-$_srcdir}/tests/cache
	_dir=${PYPROF_CHROOT:-$_cache/chroot-sid}
	[ "$_dir" = none ] && return 0
	case $_dir in /*) ;; *) _dir=$(pwd)/$_dir ;; esac
	mkdir -p "$_cache" 2>/dev/null || return 0
	command -v unshare >/dev/null 2>&1 || { echo "chroot: no unshare(1): skipping the 3.14/3.15 chroot" >&2; return 0; }
	if [ ! -f "$_dir/.pyprof-chroot-ok" ]; then
		if [ -f "$_cache/chroot.skip" ] &&
		   [ -n "$(find "$_cache/chroot.skip" -mmin -10 2>/dev/null)" ]; then
			sed 's/^/chroot: /' "$_cache/chroot.skip" >&2
			return 0
		fi
		# flock(1) serializes the tests that arrive together.
		(
			flock 9
			[ -f "$_dir/.pyprof-chroot-ok" ] && exit 0
			if sh "$_srcdir/tests/chroot/make-chroot.sh" "$_dir" >"$_cache/chroot.out" 2>&1; then
				_rc=0
			else
				_rc=$?
			fi
			if [ "$_rc" -eq 0 ]; then
				rm -f "$_cache/chroot.skip"
			else
				cp "$_cache/chroot.out" "$_cache/chroot.skip"
			fi
			cat "$_cache/chroot.out" >&2
		) 9>"$_cache/chroot.lock"
		[ -f "$_dir/.pyprof-chroot-ok" ] || return 0
	fi
	mkdir -p "$_cache/bin"
	for _p in "$_dir"/usr/bin/python3.[0-9] "$_dir"/usr/bin/python3.[0-9][0-9]; do
		[ -x "$_p" ] || continue
		_n=$(basename "$_p")
		_w=$_cache/bin/chroot-$_n
		if [ ! -x "$_w" ] || ! grep -qF "$_dir" "$_w"; then
			printf '#!/bin/sh\n# %s inside the test chroot (tests/chroot/chroot.sh)\nPYPROF_CHROOT_BINDS="%s %s ${PYPROF_CHROOT_BINDS:-}" exec sh "%s" "%s" "/usr/bin/%s" "$@"\n' \
				"$_n" "$_srcdir" "${top_builddir:-$_srcdir}" "$_srcdir/tests/chroot/run-in-chroot.sh" "$_dir" "$_n" >"$_w.tmp" &&
				chmod +x "$_w.tmp" && mv "$_w.tmp" "$_w"
		fi
		echo "$_w"
	done
}
