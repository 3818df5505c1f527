#!/bin/sh
# Wall mode says what a waiting thread waits for, from the system call it
# is blocked in (no signal reaches it): two threads taking turns with the
# GIL show [idle: GIL], a thread blocked on a lock [idle: lock], one asleep
# [idle: sleep] (with [idle: GIL] when it wakes while the GIL is taken),
# one reading an empty pipe [idle: I/O]; the program's output is the same
# as unprofiled.
. "$(dirname "$0")/setup.sh"

prog=$targets/waits.py

# share THREAD KIND: percent of THREAD's waiting time shown as KIND (or
# as any of KIND|KIND...)
share() {
	python3 - "$work/c.txt" "$1" "$2" <<'PY'
import sys
path, thread, kind = sys.argv[1:]
waits = {}
for line in open(path):
    stack, _, n = line.rstrip("\n").rpartition(" ")
    frames = stack.split(";")
    if frames[0] == thread and frames[-1].startswith("[idle"):
        waits[frames[-1]] = waits.get(frames[-1], 0) + int(n)
total = sum(waits.values())
print(int(100 * sum(waits.get(k, 0) for k in kind.split("|")) / total) if total else 0)
PY
}

# want THREAD KIND MIN: at least MIN percent of THREAD's waiting is KIND
want() {
	got=$(share "$1" "$2")
	if [ "$got" -ge "$3" ]; then
		ok "$v: $1 waits $got% as $2"
	else
		fail "$v: $1 waits $got% as $2 (want >= $3%): $(grep "^$1;" "$work/c.txt" | grep -o '\[idle[^]]*\] [0-9]*' | tr '\n' ' ')"
	fi
}

for py in $pythons; do
	v=$(pyver "$py")
	rm -rf "$work/out" && mkdir -p "$work/out"
	set +e
	(cd "$work" && WAITS_DUR=1 "$py" "$prog") >"$work/ref.out" 2>"$work/ref.err"
	want=$?
	(cd "$work" && WAITS_DUR=1 PYPROF_MODE=wall PYPROF_OUTPUT="$work/out" \
		LD_PRELOAD="$PYPROF_LIB" "$py" "$prog") >"$work/got.out" 2>"$work/got.err"
	got=$?
	set -e
	same_as_unprofiled "$v waits" || continue
	"$PYPROF_BIN" report -f collapsed --weight=ns "$work"/out/*.pyprof >"$work/c.txt"
	want locked "[idle: lock]" 80
	want reader "[idle: I/O]" 80
	want sleeper "[idle: sleep]" 50
	# on waking it may wait for the GIL the spinners hold, the longer
	# the busier the machine
	want MainThread "[idle: sleep]" 60
	want MainThread "[idle: sleep]|[idle: GIL]" 80
	# taking turns: the waiting seen between their own samples is
	# attributed by the sampler thread's looks, about one in two of
	# which finds the thread waiting (the rest stays [idle])
	want spin-a "[idle: GIL]" 20
	want spin-b "[idle: GIL]" 20
	for t in spin-a spin-b; do
		other=$(( $(share $t "[idle: lock]") + $(share $t "[idle: sleep]") + $(share $t "[idle: I/O]") ))
		if [ "$other" -le 5 ]; then
			ok "$v: $t waits for nothing but the GIL ($other% else)"
		else
			fail "$v: $t waits $other% for a lock, sleep or I/O"
		fi
	done
done
finish
