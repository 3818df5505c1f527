#!/bin/sh
# check-layout.sh - diff preload/layout.c against each installed CPython.
#
# For every CPython 3.x found (pyenv versions, python3.N on PATH, the test
# chroot's 3.14 and 3.15 -- see tests/chroot) whose headers are installed, compile tests/layout/probe.c against those headers
# (offsetof, with -DPy_BUILD_CORE) and compare its "name=value" lines with
#   - the static table row for that minor (layout-dump MINOR); in the 3.13
#     row, fields read from _Py_DebugOffsets are skipped here, and
#   - the layout pyintro_init() builds inside that interpreter, before
#     Py_Initialize, from an LD_PRELOADed constructor; for 3.13+ this is the
#     comparison with the runtime _PyRuntime.debug_offsets, and the probe's
#     sizeof(_Py_DebugOffsets) must equal our mirror's for that minor.
# One line per interpreter: "ok ...", "SKIP: ..." or "FAIL: ...".
# Exit 0 if all checked ones match, 1 on any mismatch, 77 (automake's
# "skipped") if no interpreter could be checked at all.
#
# Environment: srcdir (default: this script's dir/../..), CC (default cc),
# PYENV_ROOT (default: `pyenv root`, else ~/.pyenv).

set -u
: "${srcdir:=$(dirname "$0")/../..}"
: "${CC:=cc}"
CFLAGS_W="-Wall -Wextra -Wno-unused-parameter -Werror"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-layout.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT INT TERM

pre="$srcdir/preload"
lay="$srcdir/tests/layout"
$CC $CFLAGS_W -I"$pre" "$lay/dump.c" "$pre/layout.c" -ldl \
	-o "$tmp/layout-dump" || { echo "FAIL: cannot build layout-dump"; exit 99; }
$CC $CFLAGS_W -shared -fPIC -DDUMP_PRELOAD -I"$pre" "$lay/dump.c" \
	"$pre/layout.c" -ldl -o "$tmp/layout-dump.so" ||
	{ echo "FAIL: cannot build layout-dump.so"; exit 99; }

. "$lay/find-pythons.sh"

# compare KIND PROBE DUMP: print mismatches, fail if any.  In the static
# table, -2 (LAYOUT_FROM_DEBUG) means "read at run time": not compared.
compare() {
	awk -F= -v kind="$1" '
		/^#/ { next }
		FNR == NR { p[$1] = $2; next }
		{ d[$1] = $2 }
		END {
			for (k in d) {
				if (k == "init") continue
				if (kind == "table" && d[k] == -2) continue
				pv = (k in p) ? p[k] : -1
				if (pv != d[k]) {
					printf "field %s: %s %s probe %s\n", k, kind, d[k], pv
					bad = 1
				}
			}
			for (k in p) if (!(k in d)) {
				printf "field %s: %s lacks it, probe %s\n", k, kind, p[k]
				bad = 1
			}
			exit bad
		}' "$2" "$3"
}

checked=0 failed=0 seen=""
for py in $(python_candidates); do
	real=$(readlink -f "$py")
	case " $seen " in *" $real "*) continue ;; esac
	seen="$seen $real"

	info=$("$py" -c 'import sys, sysconfig
print("%d.%d.%d" % sys.version_info[:3], sys.version_info[1],
      sysconfig.get_paths()["include"])' 2>/dev/null) ||
		{ echo "SKIP: $py: does not run"; continue; }
	set -- $info
	ver=$1 minor=$2 inc=$3
	if [ "$minor" -lt 8 ] || [ "$minor" -gt 15 ]; then
		echo "SKIP: $ver $py: the table covers 3.8-3.15"
		continue
	fi
	# A chroot's interpreter names its headers by their path inside;
	# the host compiler finds them under the chroot's folder, and the
	# multiarch pyconfig.h Debian's Python.h includes comes after the
	# host's own system headers (-idirafter).
	root=$(chroot_root "$py")
	sysinc=
	if [ -n "$root" ]; then
		inc=$root$inc
		sysinc="-idirafter $root/usr/include"
	fi
	if [ ! -f "$inc/Python.h" ] || [ ! -d "$inc/internal" ]; then
		echo "SKIP: $ver $py: no headers (with internal/) in $inc"
		continue
	fi

	d="$tmp/$ver-$(echo "$real" | tr / _)"
	mkdir -p "$d"
	if ! $CC -DPy_BUILD_CORE -I"$inc" -I"$inc/internal" $sysinc "$lay/probe.c" \
		-o "$d/probe" 2>"$d/probe.err"; then
		echo "FAIL: $ver $py: probe does not compile:"
		sed 's/^/    /' "$d/probe.err" | head -n 5
		failed=$((failed + 1))
		continue
	fi
	"$d/probe" >"$d/probe.out"
	"$tmp/layout-dump" "$minor" >"$d/table.out"
	LAYOUT_DUMP_OUT="$d/runtime.out" LD_PRELOAD="$tmp/layout-dump.so" \
		"$py" -S -c pass
	checked=$((checked + 1))

	if ! grep -qx 'init=0' "$d/runtime.out" 2>/dev/null; then
		echo "FAIL: $ver $py: pyintro_init: $(grep -h '^init=\|^# why=' \
			"$d/runtime.out" 2>/dev/null | tr '\n' ' ')"
		failed=$((failed + 1))
		continue
	fi
	bad=$(compare table "$d/probe.out" "$d/table.out";
	      compare runtime "$d/probe.out" "$d/runtime.out")
	if [ -n "$bad" ]; then
		echo "$bad" | sed "s|^|FAIL: $ver $py: |"
		failed=$((failed + 1))
		continue
	fi
	how=$(sed -n 's/.*is_static=1.*/static libpython/p' "$d/runtime.out")
	echo "ok $ver $py ($(grep -c = "$d/probe.out") fields${how:+, $how})"
done

if [ "$checked" -eq 0 ]; then
	echo "SKIP: no CPython 3.8-3.15 with headers found"
	exit 77
fi
[ "$failed" -eq 0 ]
