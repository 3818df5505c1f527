#!/bin/sh
# PYPROF_ROTATE=200ms over a ~2 s run: several complete files numbered
# 0001, 0002, ... in order, each finished only once nothing more is
# written to it; no sample lost or counted twice (every file's samples
# are its header's, its signals its samples and drops, and each thread's
# CPU time over all the files is what the thread measured itself, never
# more); `report DIR` merges them into one process with one tree per
# thread, a window of the control API spans files, --since/--until pick
# by time; PYPROF_KEEP=3 keeps the last three.
. "$(dirname "$0")/setup.sh"

prog=$targets/rotate.py

# json KEY: a number from the target's output
json() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$work/out.json" "$1"; }

for py in $pythons; do
	tag=$(pyver "$py")
	rm -rf "$work/out" && mkdir -p "$work/out"
	if ! PYPROF_ROTATE=200ms PYPROF_INTERVAL=1ms SPIN=1.0 \
		profile "$work/out" "$py" "$prog" >"$work/out.json" 2>"$work/err"; then
		fail "$tag: the target failed: $(head -5 "$work/err")"
		continue
	fi
	python3 "$top_srcdir/tests/integration/pfheader.py" "$work"/out/*.pyprof >"$work/hdr"
	n=$(wc -l <"$work/hdr")
	# path state reason signal pid ppid samples signals dropped sequence
	if [ "$n" -ge 4 ] &&
	   awk -v n="$n" '{ split($1, a, "-"); num = a[length(a)] + 0
			    if ($10 != NR || num != NR) exit 1
			    if ($2 != "complete") exit 1
			    if (NR < n && $3 != "rotate") exit 1
			    if (NR == n && $3 != "exit") exit 1 }' "$work/hdr"; then
		ok "$tag: $n files, numbered in order, all complete, rotated but the last"
	else
		fail "$tag: files: $(cat "$work/hdr")"
	fi
	# every signal ends as one sample or one drop, in the same file
	if awk '$8 != $7 + $9 { exit 1 }' "$work/hdr"; then
		ok "$tag: each file's signals are its samples and drops ($(awk '{s += $7} END {print s}' "$work/hdr") samples)"
	else
		fail "$tag: signals against samples and drops: $(cat "$work/hdr")"
	fi
	bad=
	for f in "$work"/out/*.pyprof; do
		"$PYPROF_BIN" info "$f" >"$work/info" 2>&1
		read_n=$(sed -n 's/^samples: *\([0-9]*\) read.*/\1/p' "$work/info")
		committed=$(sed -n 's/.*(header: \([0-9]*\) committed.*/\1/p' "$work/info")
		[ -n "$read_n" ] && [ "$read_n" = "$committed" ] || bad="$bad $(basename "$f"): $read_n read, $committed committed;"
	done
	if [ -z "$bad" ]; then
		ok "$tag: every file holds the samples its header counts"
	else
		fail "$tag:$bad"
	fi
	"$PYPROF_BIN" report --threads "$work/out" >"$work/threads" 2>"$work/report.err"
	for th in MainThread worker; do
		want=$(json "$( [ $th = MainThread ] && echo main || echo worker)")
		got=$(awk -v t="$th" '$1 == t {print $4}' "$work/threads")
		lines=$(awk -v t="$th" '$1 == t' "$work/threads" | wc -l)
		# never more than the thread's own clock (a sample written
		# twice would be); less by what came after its last sample
		# and before its first (a few ms at 1 ms)
		if [ "$lines" -eq 1 ] &&
		   python3 -c "import sys; w, g = float(sys.argv[1]), float(sys.argv[2]); sys.exit(not (w - 0.03 <= g <= w + 0.002))" "$want" "$got"; then
			ok "$tag: report DIR: $th once, $got s CPU over the files, $want s by its own clock"
		else
			fail "$tag: $th: $lines rows, $got s CPU over the files, $want s by its own clock: $(cat "$work/threads" "$work/report.err")"
		fi
	done
	if [ "$("$PYPROF_BIN" report --color=never "$work/out" | grep -c '^MainThread')" -eq 1 ]; then
		ok "$tag: report DIR: one MainThread tree"
	else
		fail "$tag: report DIR: $("$PYPROF_BIN" report --color=never "$work/out" | grep '^[A-Za-z]')"
	fi
	switch=$(json switch)
	a_until=$("$PYPROF_BIN" report --show-all --thread MainThread --until "@$switch" "$work/out" 2>&1)
	b_since=$("$PYPROF_BIN" report --show-all --thread MainThread --since "@$switch" "$work/out" 2>&1)
	if echo "$a_until" | grep -q phase_a && ! echo "$a_until" | grep -q phase_b &&
	   echo "$b_since" | grep -q phase_b && ! echo "$b_since" | grep -q phase_a; then
		ok "$tag: --until and --since the switch: phase_a before, phase_b after"
	else
		fail "$tag: --until: $(echo "$a_until" | head -5) --since: $(echo "$b_since" | head -5)"
	fi
	b_window=$("$PYPROF_BIN" report --show-all --thread MainThread --window b "$work/out" 2>&1)
	if echo "$b_window" | grep -q phase_b && ! echo "$b_window" | grep -q phase_a; then
		ok "$tag: --window b, opened and closed in different files: phase_b only"
	else
		fail "$tag: --window b: $(echo "$b_window" | head -5)"
	fi

	rm -rf "$work/out" && mkdir -p "$work/out"
	PYPROF_ROTATE=200ms PYPROF_KEEP=3 PYPROF_INTERVAL=1ms SPIN=1.0 \
		profile "$work/out" "$py" "$prog" >"$work/out.json" 2>"$work/err" || true
	python3 "$top_srcdir/tests/integration/pfheader.py" "$work"/out/*.pyprof >"$work/hdr"
	if [ "$(wc -l <"$work/hdr")" -eq 3 ] &&
	   awk 'NR == 1 { first = $10 } $10 != first + NR - 1 || $2 != "complete" { exit 1 }
		END { if ($3 != "exit" || first < 3) exit 1 }' "$work/hdr"; then
		ok "$tag: PYPROF_KEEP=3: the last three files, $(awk '{printf "%s ", $10}' "$work/hdr")"
	else
		fail "$tag: PYPROF_KEEP=3: $(cat "$work/hdr")"
	fi
done
finish
