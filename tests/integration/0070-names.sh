#!/bin/sh
# Threads carry their Python names in reports: names given at creation,
# MainThread, and a name changed while the thread runs; in both modes
# (in wall mode, samples of waiting threads are written by another thread).
. "$(dirname "$0")/setup.sh"

for py in $pythons; do
for mode in cpu wall; do
	v="$(pyver "$py") $mode"
	rm -rf "$work/out" && mkdir -p "$work/out"
	PYPROF_MODE=$mode PYPROF_INTERVAL=1ms profile "$work/out" "$py" "$targets/names.py" "$work/ids.json"
	"$PYPROF_BIN" report --format collapsed "$work"/out/*.pyprof | sed 's/ [0-9]*$//' | cut -d';' -f1 | sort -u >"$work/roots"
	missing=
	for name in MainThread alpha beta renamed-worker; do
		grep -qx "$name" "$work/roots" || missing="$missing $name"
	done
	if grep -q before-rename "$work/roots"; then
		missing="$missing (old name before-rename still shown)"
	fi
	if [ -z "$missing" ]; then
		ok "$v: threads named $(tr '\n' ' ' <"$work/roots")"
	else
		fail "$v: missing$missing; roots: $(tr '\n' ' ' <"$work/roots")"
	fi
done
done
finish
