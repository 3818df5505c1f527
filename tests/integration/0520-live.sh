#!/bin/sh
# pyprof top --once and pyprof dump on a running process, by PID and by
# FILE, read from the file it is writing (no ptrace, no signal): the
# hottest function of the last seconds first; each thread's current
# stack, a waiting thread's ending in what it waits for; a PID that is not
# profiled, or not there, is refused with the reason.
. "$(dirname "$0")/setup.sh"

py=$(echo "$pythons" | head -n 1)
cat >"$work/live.py" <<'PY'
import sys, threading, time
def spin_here():
    t = time.time() + float(sys.argv[1])
    while time.time() < t:
        pass
def nap():
    time.sleep(float(sys.argv[1]))
threading.Thread(target=nap, name="napper").start()
spin_here()
PY
mkdir -p "$work/out"
PYPROF_MODE=wall PYPROF_OUTPUT="$work/out/" LD_PRELOAD="$PYPROF_LIB" \
	"$py" "$work/live.py" 4 &
pid=$!
sleep 1.5
"$PYPROF_BIN" top --once --seconds 1 "$pid" >"$work/top.txt" 2>"$work/err" || true
"$PYPROF_BIN" dump "$pid" >"$work/dump.txt" 2>>"$work/err" || true
f=$(ls "$work"/out/*.pyprof)
"$PYPROF_BIN" top --once "$f" >"$work/topf.txt" 2>>"$work/err" || true
wait "$pid" || true
sed 's/^/    /' "$work/top.txt"
sed 's/^/    /' "$work/dump.txt"
# wall mode: the napper's sleep is half the time, as [idle: sleep]
if sed -n '3,$p' "$work/top.txt" | grep -v '\[idle' | head -1 | grep -q ' spin_here '; then
	ok "top --once PID: spin_here is the hottest function of the last second"
else
	fail "top --once: $(cat "$work/top.txt" "$work/err" | head -5)"
fi
if grep -q "running, the last 1.0 s" "$work/top.txt"; then
	ok "top says the process is running and the span"
else
	fail "top header: $(head -1 "$work/top.txt")"
fi
if grep -q '^MainThread (tid' "$work/dump.txt" && grep -q '  spin_here  ' "$work/dump.txt" &&
	grep -q '^napper (tid' "$work/dump.txt" && grep -q '\[idle: sleep\]' "$work/dump.txt"; then
	ok "dump PID: both threads' stacks, the napper's ending in [idle: sleep]"
else
	fail "dump: $(cat "$work/dump.txt" "$work/err" | head -8)"
fi
if grep -q ' spin_here ' "$work/topf.txt"; then
	ok "top --once FILE"
else
	fail "top --once FILE: $(head -4 "$work/topf.txt")"
fi
sleep 30 &
other=$!
set +e
"$PYPROF_BIN" dump "$other" >/dev/null 2>"$work/err1"
rc1=$?
kill "$other" 2>/dev/null
wait "$other" 2>/dev/null
"$PYPROF_BIN" top --once 999999999 >/dev/null 2>"$work/err2"
rc2=$?
set -e
if [ "$rc1" -eq 1 ] && grep -q "has no .pyprof file mapped" "$work/err1"; then
	ok "a process not profiled: $(cat "$work/err1")"
else
	fail "not profiled: exit $rc1, $(cat "$work/err1")"
fi
if [ "$rc2" -eq 1 ] && grep -q "no such process" "$work/err2"; then
	ok "no such process: $(cat "$work/err2")"
else
	fail "no such process: exit $rc2, $(cat "$work/err2")"
fi
finish
