#!/bin/sh
# The collector is valgrind-clean (no invalid access, no leak) on a real
# multi-threaded profile, for report in every format and for info.
. "$(dirname "$0")/setup.sh"
command -v valgrind >/dev/null || skip "valgrind is not installed"

py=$(echo "$pythons" | head -n 1)
PYPROF_INTERVAL=1ms profile "$work/out" "$py" "$targets/threads.py" "$work/truth.json" 0.3
f=$(ls "$work"/out/*.pyprof)
head -c $(( $(stat -c %s "$f") - 3000 )) "$f" >"$work/cut.pyprof"

for args in "report $f" "report --format collapsed $f" "info $f" "report $work/cut.pyprof" \
	"report --format html $f" "report --format speedscope $f" \
	"report --format pprof -o $work/p.pb.gz $f" "report --format trace $f" \
	"report --format svg $f" "report --format json $f" \
	"report --by process --format html $work/out"; do
	if G_SLICE=always-malloc G_DEBUG=gc-friendly valgrind -q --error-exitcode=99 \
		--leak-check=full --errors-for-leak-kinds=definite,indirect \
		"$PYPROF_BIN" $args >/dev/null 2>"$work/vg"; then
		ok "valgrind clean: pyprof $(echo "$args" | sed "s#$work/##g")"
	else
		fail "valgrind: pyprof $args: $(head -n 20 "$work/vg")"
	fi
done
finish
