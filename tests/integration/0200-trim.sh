#!/bin/sh
# The report starts where the program's own code starts.  Under
# `python -m`, runpy's frames above <module> and threading's bootstrap
# above the worker are hidden by default (0215), so a default report has
# no stem left to trim, and says nothing about trimming; --show-all brings
# the stems back.  What the trimmer removes, it removes from the top of a
# thread and names in one line: an event loop's runner in a thread of its
# own, built-in plumbing, and a launcher frame that a pyprof.conf
# `plumbing` rule adds (the program's <module>, which only calls main);
# --no-trim and --show-all keep them, for every format.
. "$(dirname "$0")/setup.sh"

XDG_CONFIG_HOME=$work/xdg
export XDG_CONFIG_HOME
unset PYPROF_CONFIG PYPROF_HIDE PYPROF_COLLAPSE PYPROF_SHOW PYPROF_PRESET PYPROF_SHOW_ALL PYPROF_TRIM || true
printf '[report]\nplumbing = file:*/stem.py name:<module>\n' >"$work/launcher.conf"

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
	# the other thread (its name depends on the interpreter's naming)
	wfirst=$(awk '/^[^ 0-9`|t]/ && !/^MainThread/ {m = 1; next} m && !/^trimmed/ {print; exit}' "$work/report")
	case $wfirst in
	*"worker  "*stem.py:*) ok "$v worker thread starts at the program: $wfirst" ;;
	*) fail "$v worker thread starts at: $wfirst" ;;
	esac
	if grep -q '^trimmed' "$work/report"; then
		fail "$v a hidden stem was trimmed: $(grep '^trimmed' "$work/report")"
	else
		ok "$v no trim line: the stems are hidden, none is left to trim"
	fi
	"$PYPROF_BIN" report --format collapsed --show-all "$work/out" >"$work/c"
	if grep -q '^MainThread;_run_module_as_main ([^)]*runpy[^)]*);_run_code' "$work/c" &&
		grep -v '^MainThread;' "$work/c" | grep -q '^[^;]*;[^;]*_bootstrap ('; then
		ok "$v --show-all keeps the stems (collapsed)"
	else
		fail "$v --show-all lost a stem"; head -n 3 "$work/c" | sed 's/^/    /'
	fi

	# the trimmer, on what a rule makes plumbing
	"$PYPROF_BIN" report --config "$work/launcher.conf" --ascii --min-percent 0 "$work/out" >"$work/report"
	if grep -q '^trimmed 1 frame: <module> (stem)$' "$work/report"; then
		ok "$v trim line names the launcher"
	else
		fail "$v no launcher trim line"; grep '^trimmed' "$work/report" | sed 's/^/    /'
	fi
	first=$(awk '/^MainThread/ {m = 1; next} m && !/^trimmed/ {print; exit}' "$work/report")
	case $first in
	*"main  "*stem.py:*) ok "$v main thread starts at main: $first" ;;
	*) fail "$v main thread starts at: $first"; sed 's/^/    /' "$work/report" ;;
	esac
	# nothing below the stem is lost: the thread totals are unchanged
	"$PYPROF_BIN" report --ascii --show-all "$work/out" | grep '^[A-Za-z]' | grep -v '^trimmed' >"$work/h.all"
	grep '^[A-Za-z]' "$work/report" | grep -v '^trimmed' >"$work/h.trim"
	cmp -s "$work/h.all" "$work/h.trim" && ok "$v thread totals unchanged by hiding and trimming" ||
		fail "$v thread totals differ: $(cat "$work/h.all") / $(cat "$work/h.trim")"
	for flag in --no-trim --show-all; do
		"$PYPROF_BIN" report --config "$work/launcher.conf" --format collapsed $flag "$work/out" >"$work/c"
		if grep -q '^MainThread;\(_run_module_as_main ([^)]*);_run_code ([^)]*);\)\{0,1\}<module> ([^)]*stem.py:[0-9]*);main ' "$work/c"; then
			ok "$v $flag keeps the launcher (collapsed)"
		else
			fail "$v $flag lost the launcher"; head -n 3 "$work/c" | sed 's/^/    /'
		fi
	done
	"$PYPROF_BIN" report --config "$work/launcher.conf" --format collapsed "$work/out" >"$work/c"
	grep -q '^MainThread;main ([^)]*stem.py:[0-9]*)' "$work/c" &&
		! grep -q '^MainThread;<module> ([^)]*stem.py' "$work/c" &&
		ok "$v collapsed output is trimmed too" || fail "$v collapsed output not trimmed"

	# asyncio's runner, at the top of a thread once its bootstrap is hidden
	rm -rf "$work/out"
	(cd "$targets" && PYPROF_INTERVAL=1ms profile "$work/out" "$py" loop_thread.py)
	"$PYPROF_BIN" report --ascii --min-percent 0 "$work/out" >"$work/report"
	if grep -Eq '^trimmed [0-9]+ frames: run \(asyncio\.runners\) \.\.\. (Handle\.)?_run \(asyncio\.events\)$' "$work/report"; then
		ok "$v trim line names the event loop's runner: $(grep '^trimmed' "$work/report")"
	else
		fail "$v no runner trim line"; sed 's/^/    /' "$work/report"
	fi
	lfirst=$(awk '/^loop / {m = 1; next} m && !/^trimmed/ {print; exit}' "$work/report")
	case $lfirst in
	*"main  "*loop_thread.py:*) ok "$v the loop's thread starts at the coroutine: $lfirst" ;;
	*) fail "$v the loop's thread starts at: $lfirst" ;;
	esac
	"$PYPROF_BIN" report --format collapsed --no-trim "$work/out" >"$work/c"
	grep -q '^loop;run ([^)]*asyncio/runners.py:[0-9]*);' "$work/c" &&
		ok "$v --no-trim keeps the runner (collapsed)" || fail "$v --no-trim lost the runner"
done
finish
