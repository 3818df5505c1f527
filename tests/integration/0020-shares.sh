#!/bin/sh
# Trust the numbers: a function's share of its thread's CPU, and a
# thread's share of the process's CPU, match what the program measured on
# its own clocks (time.thread_time), on every interpreter.
#
# Tolerance: 4 percentage points.  The functions are sampled at 250 us:
# at 1 ms, 3.15 (which runs the loops fastest) gave ~700 samples, a
# standard deviation of ~1.9 points for a 50% share, and a loaded machine
# (make distcheck) once saw 4.6; at 250 us it is under 1 point.
. "$(dirname "$0")/setup.sh"
TOL=4

for py in $pythons; do
	v=$(pyver "$py")
	rm -rf "$work/out" && mkdir -p "$work/out"
	# scale 6: ~0.7 s of CPU even on 3.14/3.15, which run this loop twice
	# as fast as 3.8; at scale 3 they gave ~360 samples, and the split
	# between spin_a and spin_c drifted by up to 8 points from run to run
	PYPROF_INTERVAL=250us profile "$work/out" "$py" "$targets/shares.py" "$work/truth.json" 6
	"$PYPROF_BIN" report --format collapsed --weight=ns "$work"/out/*.pyprof >"$work/collapsed"
	if python3 "$top_srcdir/tests/integration/shares.py" funcs "$work/truth.json" "$work/collapsed" $TOL >"$work/result"; then
		ok "$v function shares within $TOL points: $(grep -c '^ok' "$work/result") functions"
	else
		fail "$v function shares:"
	fi
	sed 's/^/    /' "$work/result"

	rm -rf "$work/out" && mkdir -p "$work/out"
	PYPROF_INTERVAL=1ms profile "$work/out" "$py" "$targets/threads.py" "$work/truth.json" 1
	# one tree per thread: w1, w2 and w3 are otherwise one family
	"$PYPROF_BIN" report --group=thread --format collapsed --weight=ns "$work"/out/*.pyprof >"$work/collapsed"
	if python3 "$top_srcdir/tests/integration/shares.py" threads "$work/truth.json" "$work/collapsed" $TOL >"$work/result"; then
		ok "$v thread shares within $TOL points"
	else
		fail "$v thread shares:"
	fi
	sed 's/^/    /' "$work/result"
done
finish
