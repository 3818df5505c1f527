#!/bin/sh
# Wall mode (PYPROF_MODE=wall), on every interpreter:
#  - shares of wall time and running/waiting splits against the target's
#    own clocks (tests/targets/wall.py; checked by wall.py): functions
#    that burn, sleep, wait on a lock and call nanosleep through ctypes,
#    and threads that only sleep, only burn, or do both in turn;
#  - the waiting shows as an [idle] leaf under the Python frame that made
#    the blocking call, saying what it waited for ([idle: sleep]), and
#    --no-idle drops it;
#  - no EINTR from ctypes nanosleep, select or read (eintr.py);
#  - the interactive case: a main thread waiting for input shows as
#    waiting, the worker as running;
#  - os.fork() on 3.12+ warns about threads only when the program has
#    some: the sampler thread is not there when it counts;
#  - a thread that waits without running costs the file a record a
#    second, its samples repeated in one record (format 2.4).
#
# Tolerances: 5 points for shares of wall time; 10 points for running
# shares, which also carry the lag of the sampler thread's rule (a thread
# is looked at after a whole interval without a sample of its own).
. "$(dirname "$0")/setup.sh"

for py in $pythons; do
	v=$(pyver "$py")
	rm -rf "$work/out" && mkdir -p "$work/out"
	PYPROF_MODE=wall PYPROF_INTERVAL=1ms profile "$work/out" "$py" "$targets/wall.py" "$work/truth.json" 1
	"$PYPROF_BIN" report --format collapsed --weight=ns "$work"/out/*.pyprof >"$work/collapsed"
	if python3 "$top_srcdir/tests/integration/wall.py" "$work/truth.json" "$work/collapsed" 5 10 >"$work/result"; then
		ok "$v wall shares, running shares and thread wall times within tolerance"
	else
		fail "$v wall mode against the truth:"
	fi
	sed 's/^/    /' "$work/result"
	# what each waited for, from the system call it was blocked in
	if grep -q ';nap ([^;]*;\[idle: sleep\] ' "$work/collapsed" &&
		grep -q ';cwait ([^;]*;\[idle: sleep\] ' "$work/collapsed"; then
		ok "$v [idle: sleep] under nap and cwait (time.sleep, nanosleep by ctypes), the frames that blocked"
	else
		fail "$v no [idle] leaf under nap or cwait: $(grep -E ';(nap|cwait) ' "$work/collapsed" | head -3)"
	fi
	"$PYPROF_BIN" report --format collapsed --no-idle "$work"/out/*.pyprof >"$work/noidle"
	if [ -s "$work/noidle" ] && ! grep -q '\[idle[]:]' "$work/noidle"; then
		ok "$v --no-idle: no [idle] leaf"
	else
		fail "$v --no-idle: $(grep -c '\[idle[]:]' "$work/noidle") [idle] stacks"
	fi

	rm -rf "$work/out" && mkdir -p "$work/out"
	PYPROF_MODE=wall PYPROF_INTERVAL=250us profile "$work/out" "$py" "$targets/eintr.py" >"$work/eintr"
	if [ "$(awk '{s += $2} END {print s}' "$work/eintr")" = 0 ] && [ "$(wc -l <"$work/eintr")" -eq 3 ]; then
		ok "$v wall mode: no EINTR from ctypes nanosleep, select, read at 250 us: $(tr '\n' ' ' <"$work/eintr")"
	else
		fail "$v wall mode: EINTR seen: $(tr '\n' ' ' <"$work/eintr")"
	fi

	rm -rf "$work/out" && mkdir -p "$work/out"
	{ sleep 0.3; while ! grep -q "worker done" "$work/iout" 2>/dev/null; do sleep 0.05; done; sleep 0.2; echo hello; } |
		PYPROF_MODE=wall PYPROF_INTERVAL=1ms profile "$work/out" "$py" "$targets/interactive.py" >"$work/iout"
	"$PYPROF_BIN" report --threads "$work"/out/*.pyprof >"$work/table"
	# the worker's running share is its CPU over its wall time, which on
	# a loaded machine may be well below 100%: compare CPU instead
	main_wait=$(awk '$1 == "MainThread" {print $7}' "$work/table" | tr -d %)
	main_cpu=$(awk '$1 == "MainThread" {print $4}' "$work/table")
	worker_cpu=$(awk '$1 == "worker" {print $4}' "$work/table")
	if [ -n "$main_wait" ] && [ -n "$worker_cpu" ] &&
		python3 -c "import sys; sys.exit(not (float('$main_wait') > 80 and float('$worker_cpu') > 0.05 and float('$main_cpu') < 0.2 * float('$worker_cpu') + 0.03))"; then
		ok "$v wall interactive: MainThread waiting $main_wait%, worker $worker_cpu s CPU, MainThread $main_cpu s"
	else
		fail "$v wall interactive: $(cat "$work/table")"
	fi

	# 40 threads that wake every 2 ms need more stack reads than a tick
	# allows: each must still take its turn, not the newest ones always
	# (the oldest once got 3 samples in 4 s, the newest 2,000).
	rm -rf "$work/out" && mkdir -p "$work/out"
	PYPROF_MODE=wall PYPROF_INTERVAL=1ms profile "$work/out" "$py" "$targets/many.py" 1
	"$PYPROF_BIN" report --threads "$work"/out/*.pyprof >"$work/many"
	# the threads' table, up to the families' (waiter-N, the forty)
	counts=$(awk '/^$/ {exit} $1 ~ /^waiter-/ {print $3}' "$work/many" | sort -n | tr '\n' ' ')
	set -- $counts
	if [ $# -eq 40 ] && [ "$1" -ge $((${20} * 4 / 10)) ]; then
		ok "$v wall mode, 40 waiting threads: every one sampled in turn (least $1, median ${20}, most ${40} samples)"
	else
		fail "$v wall mode, 40 waiting threads, unevenly sampled: $counts"
	fi

	# a thread that waits without running costs a record a second, not
	# one a tick (format 2.4's repeated samples), and keeps all its time
	rm -rf "$work/out" && mkdir -p "$work/out"
	PYPROF_MODE=wall PYPROF_INTERVAL=1ms profile "$work/out" "$py" -c '
import threading, time
t = threading.Thread(target=time.sleep, args=(2,), name="sleeper")
t.start()
t.join()'
	python3 "$top_srcdir/tests/integration/records.py" "$work"/out/*.pyprof >"$work/records"
	"$PYPROF_BIN" report --threads "$work"/out/*.pyprof >"$work/table"
	sleeper_wall=$(awk '$1 == "sleeper" {print $5}' "$work/table")
	if awk '$1 <= 2 && ($4 > 8 || $5 < 300) {bad = 1} END {exit bad || NR < 2}' "$work/records" &&
		python3 -c "import sys; sys.exit(not float('$sleeper_wall') >= 1.95)"; then
		ok "$v wall mode: waiting 2 s, MainThread and sleeper each take a few idle records: $(awk '$1 <= 2 {printf "%s records for %s samples; ", $4, $5}' "$work/records")sleeper $sleeper_wall s wall"
	else
		fail "$v wall mode, threads that wait: serial records samples idle-records idle-samples: $(tr '\n' ';' <"$work/records") sleeper $sleeper_wall s"
	fi

	rm -rf "$work/out" && mkdir -p "$work/out"
	PYPROF_MODE=wall profile "$work/out" "$py" -W always -c '
import os, time
for _ in range(3):
    time.sleep(0.03)
    pid = os.fork()
    if pid == 0:
        time.sleep(0.02)
        os._exit(7)
    assert os.waitpid(pid, 0)[1] == 7 << 8
print("forked")' >"$work/fout" 2>"$work/ferr"
	if [ "$(cat "$work/fout")" = forked ] && ! grep -q "multi-threaded" "$work/ferr" &&
		[ "$(ls "$work"/out/*.pyprof | wc -l)" -eq 4 ]; then
		ok "$v wall mode: os.fork() sees one thread; 4 files"
	else
		fail "$v wall mode fork: $(cat "$work/fout" "$work/ferr") $(ls "$work/out")"
	fi
done
finish
