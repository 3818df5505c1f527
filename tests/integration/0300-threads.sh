#!/bin/sh
# Per-thread views, the interactive case, and no EINTR in CPU mode.
#  - report --threads: one line per thread with its CPU and running share;
#    --thread selects threads; --merge-threads makes one tree.
#  - A main thread waiting for input while a worker computes gets ~0 of the
#    CPU samples; the worker gets ~all.
#  - Blocking libc calls made through ctypes (which do not retry) never fail
#    with EINTR: a thread that waits takes no CPU and so no signal.
. "$(dirname "$0")/setup.sh"

for py in $pythons; do
	v=$(pyver "$py")
	rm -rf "$work/out" && mkdir -p "$work/out"
	# the input arrives only once the worker has finished
	{ sleep 0.3; while ! grep -q "worker done" "$work/iout" 2>/dev/null; do sleep 0.05; done; echo hello; } |
		PYPROF_INTERVAL=1ms profile "$work/out" "$py" "$targets/interactive.py" >"$work/iout"
	"$PYPROF_BIN" report --threads "$work"/out/*.pyprof >"$work/table"
	main_cpu=$(awk '$1 == "MainThread" {print $4}' "$work/table")
	worker_cpu=$(awk '$1 == "worker" {print $4}' "$work/table")
	main_wait=$(awk '$1 == "MainThread" {print $7}' "$work/table" | tr -d %)
	if [ -n "$main_cpu" ] && [ -n "$worker_cpu" ] &&
		python3 -c "import sys; m, w, mw = float('$main_cpu'), float('$worker_cpu'), float('$main_wait'); sys.exit(not (w > 0.05 and m < 0.2 * w + 0.03 and mw > 50))"; then
		ok "$v interactive: worker $worker_cpu s CPU, MainThread $main_cpu s and waiting $main_wait%"
	else
		fail "$v interactive: $(cat "$work/table")"
	fi
	n=$("$PYPROF_BIN" report --thread worker --format collapsed "$work"/out/*.pyprof | sed 's/ [0-9]*$//' | cut -d';' -f1 | sort -u)
	if [ "$n" = worker ]; then
		ok "$v --thread worker: only the worker"
	else
		fail "$v --thread worker: roots $(echo "$n" | tr '\n' ' ')"
	fi
	if "$PYPROF_BIN" report --merge-threads "$work"/out/*.pyprof | grep -q '^\[all threads\]'; then
		ok "$v --merge-threads: one tree"
	else
		fail "$v --merge-threads"
	fi

	rm -rf "$work/out" && mkdir -p "$work/out"
	PYPROF_INTERVAL=250us profile "$work/out" "$py" "$targets/eintr.py" >"$work/eintr"
	if [ "$(awk '{s += $2} END {print s}' "$work/eintr")" = 0 ] && [ "$(wc -l <"$work/eintr")" -eq 3 ]; then
		ok "$v no EINTR from ctypes nanosleep, select, read at 250 us: $(tr '\n' ' ' <"$work/eintr")"
	else
		fail "$v EINTR seen: $(tr '\n' ' ' <"$work/eintr")"
	fi
done
finish
