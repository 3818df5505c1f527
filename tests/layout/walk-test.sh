#!/bin/sh
# walk-test.sh - run walk-test.py on every installed CPython 3.8-3.13.
#
# Builds walk-test.so from preload/layout.c, the stack reading of
# preload/ (pystack.c, remote.c, tstate.c, selfcheck.c) and walk-test.c, then, per interpreter, LD_PRELOADs it (so pyintro_init runs
# before Py_Initialize, as libpyprof's constructor will) and runs
# walk-test.py, which walks the stack from a SIGPROF handler and compares
# with sys._getframe().  No Python headers are needed.
# One line per interpreter ("ok", "SKIP:", "FAIL:"); exit 0 if all passed,
# 1 on any failure, 77 if no interpreter could be tested.
#
# Environment: srcdir (default: this script's dir/../..), CC (default cc).

set -u
: "${srcdir:=$(dirname "$0")/../..}"
: "${CC:=cc}"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/walk-test.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT INT TERM

pre="$srcdir/preload"
lay="$srcdir/tests/layout"
. "$lay/find-pythons.sh"

so="$tmp/walk-test.so"
$CC -Wall -Wextra -Wno-unused-parameter -Werror -O2 -g -shared -fPIC \
	-I"$pre" -I"$srcdir" -I"$srcdir/format" "$pre/layout.c" "$pre/pystack.c" \
	"$pre/remote.c" "$pre/tstate.c" "$pre/selfcheck.c" \
	"$srcdir/format/linetable.c" "$lay/walk-test.c" -ldl -lpthread -o "$so" ||
	{ echo "FAIL: cannot build walk-test.so"; exit 99; }

tested=0 failed=0 seen=""
for py in $(python_candidates); do
	real=$(readlink -f "$py")
	case " $seen " in *" $real "*) continue ;; esac
	seen="$seen $real"

	LD_PRELOAD="$so" PYTHONIOENCODING=utf-8 "$py" -X utf8 \
		"$lay/walk-test.py" "$so" 2>"$tmp/stderr"
	rc=$?
	case $rc in
	0) tested=$((tested + 1)) ;;
	77) ;;
	*)
		tested=$((tested + 1))
		failed=$((failed + 1))
		echo "FAIL: $py exited $rc"
		sed 's/^/    /' "$tmp/stderr" | tail -n 8
		;;
	esac
done

if [ "$tested" -eq 0 ]; then
	echo "SKIP: no CPython 3.8-3.13 found"
	exit 77
fi
[ "$failed" -eq 0 ]
