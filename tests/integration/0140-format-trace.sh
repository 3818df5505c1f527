#!/bin/sh
# --format trace (Chrome trace event JSON): the trace event format's rules
# (required fields, B/E nesting per thread, timestamps monotonic per
# thread), checked by tests/integration/formats.py; Perfetto's trace
# processor is not packaged for Debian nor on npm, so no real consumer
# beyond the format check runs here.  Per-thread totals are the text
# report's; wall mode marks idle samples.
. "$(dirname "$0")/setup.sh"
. "$top_srcdir/tests/integration/consumers.sh"
make_profile

"$PYPROF_BIN" report -o "$work/p.trace.json" "$prof"
run_check "trace event format: fields, nesting, time order" \
	python3 "$formats_py" trace "$work/p.trace.json"
run_check "totals equal the text report's" sh -c \
	"python3 '$formats_py' text-vs-json '$work/report.txt' '$work/tree.json' &&
	 python3 '$formats_py' totals trace '$work/p.trace.json' '$work/tree.json'"
if grep -q '"name":"burn"' "$work/p.trace.json"; then
	ok "slices name the hot function"
else
	fail "no burn slice"
fi

rm -rf "$work/out"
PYPROF_MODE=wall PYPROF_INTERVAL=2ms profile "$work/out" "$py" "$targets/threads.py" "$work/truth.json" 0.3 2>"$work/wall.err"
if ! ls "$work"/out/*.pyprof >/dev/null 2>&1; then
	# the library of this build may not sample wall time yet
	echo "note: wall mode not checked: $(head -n 1 "$work/wall.err")"
	finish
	exit $?
fi
"$PYPROF_BIN" report --format trace "$work"/out/*.pyprof >"$work/wall.json"
run_check "wall mode: trace event format" python3 "$formats_py" trace "$work/wall.json"
if grep -q '"name":"\[idle\]","cat":"idle"' "$work/wall.json"; then
	ok "wall mode: idle samples show as [idle] slices"
else
	fail "wall mode: no [idle] slice"
fi
finish
