#!/bin/sh
# The report starts where the program's own code starts: under `python -m`
# runpy's frames are trimmed from the main thread and threading's
# bootstrap from the worker, each stem named in one line; --no-trim and
# --show-all bring them back, for every format.
. "$(dirname "$0")/setup.sh"

for py in $pythons; do
	v=$(pyver "$py")
	rm -rf "$work/out"
	(cd "$targets" && PYPROF_INTERVAL=1ms profile "$work/out" "$py" -m stem)
	"$PYPROF_BIN" report --ascii --min-percent 0 "$work/out" >"$work/report"
	# the main thread's first frame line, right after its header and trims
	first=$(awk '/^MainThread/ {m = 1; next} m && !/^trimmed/ {print; exit}' "$work/report")
	case $first in
	*"<module>  "*stem.py:*) ok "$v main thread starts at the program: $first" ;;
	*) fail "$v main thread starts at: $first"; sed 's/^/    /' "$work/report" ;;
	esac
	if grep -q '^trimmed 2 frames: _run_module_as_main (runpy) \.\.\. _run_code (runpy)$' "$work/report"; then
		ok "$v trim line names runpy's stem"
	else
		fail "$v no runpy trim line"; grep '^trimmed' "$work/report" | sed 's/^/    /'
	fi
	# the other thread (its name depends on the interpreter's naming)
	wfirst=$(awk '/^[^ 0-9`|t]/ && !/^MainThread/ {m = 1; next} m && !/^trimmed/ {print; exit}' "$work/report")
	case $wfirst in
	*"worker  "*stem.py:*) ok "$v worker thread starts at the program: $wfirst" ;;
	*) fail "$v worker thread starts at: $wfirst" ;;
	esac
	grep -q '^trimmed 3 frames: .*_bootstrap (threading) \.\.\. .*run (threading)$' "$work/report" &&
		ok "$v trim line names threading's bootstrap" ||
		fail "$v no threading trim line"
	# nothing below the stem is lost: the thread totals are unchanged
	"$PYPROF_BIN" report --ascii --show-all "$work/out" | grep '^[A-Za-z]' | grep -v '^trimmed' >"$work/h.all"
	grep '^[A-Za-z]' "$work/report" | grep -v '^trimmed' >"$work/h.trim"
	cmp -s "$work/h.all" "$work/h.trim" && ok "$v thread totals unchanged by trimming" ||
		fail "$v thread totals differ: $(cat "$work/h.all") / $(cat "$work/h.trim")"
	for flag in --no-trim --show-all; do
		"$PYPROF_BIN" report --format collapsed $flag "$work/out" >"$work/c"
		if grep -q '^MainThread;_run_module_as_main ([^)]*runpy[^)]*);_run_code' "$work/c" &&
			grep -v '^MainThread;' "$work/c" | grep -q '^[^;]*;[^;]*_bootstrap ('; then
			ok "$v $flag keeps the stems (collapsed)"
		else
			fail "$v $flag lost a stem"; head -n 3 "$work/c" | sed 's/^/    /'
		fi
	done
	"$PYPROF_BIN" report --format collapsed "$work/out" >"$work/c"
	grep -q '^MainThread;<module> ([^)]*stem.py:[0-9]*);main ' "$work/c" &&
		! grep -q '^MainThread;_run_module_as_main' "$work/c" &&
		ok "$v collapsed output is trimmed too" || fail "$v collapsed output not trimmed"
done
finish
