# setup.sh - sourced by every integration test.
#
# Gives: $top_srcdir, $PYPROF_LIB, $PYPROF_BIN, a private $work directory
# removed at exit, and helpers.  A test exits 77 (automake's "skip") and
# says why when what it needs is absent.
set -eu
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${PYPROF_LIB:=$top_builddir/.libs/libpyprof.so}"
: "${PYPROF_BIN:=$top_builddir/pyprof}"
targets=$top_srcdir/tests/targets
work=$(mktemp -d "${TMPDIR:-/tmp}/pyprof-test.XXXXXX")
trap 'rm -rf "$work"' EXIT

fails=0
checks=0
ok() { checks=$((checks + 1)); echo "ok: $*"; }
fail() { checks=$((checks + 1)); fails=$((fails + 1)); echo "FAIL: $*"; }
skip() { echo "SKIP: $*"; exit 77; }
# Ends a test: non-zero if any check failed.
finish() {
	echo "$((checks - fails)) passed, $fails failed"
	[ "$fails" -eq 0 ]
}

[ -f "$PYPROF_LIB" ] || skip "no library at $PYPROF_LIB"
[ -x "$PYPROF_BIN" ] || skip "no collector at $PYPROF_BIN"

# Every CPython 3.8+ on this machine, one path per line: pyenv's builds,
# then whatever python3.N is on PATH or in /usr/bin (Debian's static
# 3.11), each real interpreter once, then the test chroot's 3.14 and 3.15.
find_pythons() {
	{
		root=$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")
		for d in "$root"/versions/3.*; do
			[ -d "$d" ] || continue
			for p in "$d"/bin/python3.[0-9]*; do
				case $p in *-config) continue ;; esac
				[ -x "$p" ] && echo "$p"
			done
		done
		for n in 8 9 10 11 12 13 14 15; do
			for p in $(command -v "python3.$n" 2>/dev/null) /usr/bin/python3.$n; do
				[ -x "$p" ] && echo "$p"
			done
		done
	} | while read -r p; do
		# ask the interpreter where it really is: a pyenv shim on PATH is
		# a script that runs one of the builds already listed
		v=$("$p" -c 'import os, sys; print("%d %d %s" % (sys.version_info[0], sys.version_info[1], os.path.realpath(sys.executable)))' 2>/dev/null) || continue
		set -- $v
		[ "$1" -eq 3 ] && [ "$2" -ge 8 ] || continue
		echo "$3 $p"
	done | awk '!seen[$1]++ {print $2}'
	# Debian's 3.14 and 3.15, run in a chroot made (once) by the first test
	# that gets here; tests/chroot/chroot.sh says why when it cannot be.
	. "$top_srcdir/tests/chroot/chroot.sh"
	chroot_pythons
}

pythons=$(find_pythons)
[ -n "$pythons" ] || skip "no CPython 3.8 or later found"

# same_as_unprofiled TAG: the profiled run (status $got, $work/got.out and
# got.err) against the unprofiled one ($want, ref.out, ref.err): a FAIL
# naming the difference, and status 1, if they differ.
same_as_unprofiled() {
	if [ "$got" -ne "$want" ]; then
		fail "$1: exit status $got, without pyprof $want: $(head -c 300 "$work/got.err")"
		return 1
	fi
	if ! cmp -s "$work/ref.out" "$work/got.out" || ! cmp -s "$work/ref.err" "$work/got.err"; then
		fail "$1: output differs: $(diff "$work/ref.out" "$work/got.out" | head -6; diff "$work/ref.err" "$work/got.err" | head -4)"
		return 1
	fi
	return 0
}

pyver() { "$1" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])'; }

# profile OUTDIR PYTHON ARGS...: runs PYTHON with the preload, files into
# OUTDIR; extra PYPROF_* come from the environment.
profile() {
	out=$1
	shift
	mkdir -p "$out"
	PYPROF_OUTPUT=$out LD_PRELOAD=$PYPROF_LIB "$@"
}

# find_ipython: sets $ipy to the first interpreter that has IPython, or
# skips the test saying none has
find_ipython() {
	ipy=
	for py in $pythons; do
		if "$py" -c 'import IPython' 2>/dev/null; then
			ipy=$py
			return 0
		fi
	done
	skip "no interpreter here has IPython"
}
