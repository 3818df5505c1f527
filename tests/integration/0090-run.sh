#!/bin/sh
# pyprof run: runs the command with the library, prints the report on
# stderr (or writes it where -o says), leaves no files behind unless asked,
# and exits as the command did, signals included.
. "$(dirname "$0")/setup.sh"

py=$(echo "$pythons" | head -n 1)
prog='import sys
def work():
    return sum(i * i for i in range(1500000))
work()
print("out")
sys.exit(int(sys.argv[1]))'
printf '%s\n' "$prog" >"$work/prog.py"

cd "$work"
set +e
"$PYPROF_BIN" run --interval 1ms -- "$py" prog.py 3 >"$work/stdout" 2>"$work/stderr"
status=$?
set -e
if [ "$status" -eq 3 ] && [ "$(cat "$work/stdout")" = out ] &&
	grep -q 'MainThread (pid' "$work/stderr" && grep -q 'work  .*prog.py' "$work/stderr"; then
	ok "run: exit status 3, program output on stdout, report with work() on stderr"
else
	fail "run: status $status, stdout $(cat "$work/stdout"), stderr $(head -5 "$work/stderr")"
fi
if [ -z "$(ls "$work"/*.pyprof 2>/dev/null)" ]; then
	ok "run: no .pyprof files left in the working directory"
else
	fail "run: left $(ls "$work"/*.pyprof)"
fi

"$PYPROF_BIN" run --interval 1ms -o "$work/report.folded" -- "$py" prog.py 0 >/dev/null 2>"$work/stderr"
if grep -q '^MainThread;.*work (.*prog.py:[0-9]*) [0-9]*$' "$work/report.folded"; then
	ok "run -o report.folded: collapsed stacks chosen by the extension"
else
	fail "run -o: $(head -3 "$work/report.folded") $(cat "$work/stderr")"
fi

mkdir -p "$work/keep"
"$PYPROF_BIN" run --output-dir "$work/keep" -- "$py" prog.py 0 >/dev/null 2>&1
if [ -n "$(ls "$work"/keep/*.pyprof 2>/dev/null)" ]; then
	ok "run --output-dir keeps the files"
else
	fail "run --output-dir: nothing in $work/keep"
fi

# run's own default interval is 1 ms; PYPROF_INTERVAL and --interval win
iv() { "$PYPROF_BIN" info "$1"/*.pyprof | sed -n 's/^interval: *\([0-9.]* ms\) asked.*/\1/p'; }
got1=$(iv "$work/keep")
rm -rf "$work/keep5" && mkdir -p "$work/keep5"
PYPROF_INTERVAL=5ms "$PYPROF_BIN" run --output-dir "$work/keep5" -- "$py" prog.py 0 >/dev/null 2>&1
got5=$(iv "$work/keep5")
if [ "$got1" = "1.000 ms" ] && [ "$got5" = "5.000 ms" ]; then
	ok "run: 1 ms unless PYPROF_INTERVAL says otherwise"
else
	fail "run: default interval '$got1', with PYPROF_INTERVAL=5ms '$got5'"
fi

# the flat view of a real file: the table's header and rows that add up
"$PYPROF_BIN" report --flat --min-percent 0 "$work"/keep/*.pyprof >"$work/flat" 2>&1 || true
if grep -q "^ self s  self%  total s  total%  function  hottest line$" "$work/flat" &&
   python3 - "$work/flat" <<'PY'
import re, sys
tables = []  # [header seconds, sum of the self column, rows] per thread
for line in open(sys.argv[1]):
    m = re.search(r": \d+ samples?, ([0-9.]+) s CPU", line)
    if m:
        tables.append([float(m.group(1)), 0.0, 0])
        continue
    m = re.match(r"\s+([0-9.]+)\s+[0-9.]+%\s", line)
    if m and tables:
        tables[-1][1] += float(m.group(1))
        tables[-1][2] += 1
# each row and the header are rounded to the millisecond
sys.exit(0 if tables and all(abs(h - s) <= 0.0005 * (n + 1) + 1e-9
                             for h, s, n in tables) else 1)
PY
then
	ok "report --flat: a pstats-like table whose self column adds up to the header"
else
	fail "report --flat: $(head -12 "$work/flat")"
fi

# killed by a signal: the same signal, so the shell sees 128+15
set +e
"$PYPROF_BIN" run -- "$py" -c 'import os, signal; os.kill(os.getpid(), signal.SIGTERM)' >/dev/null 2>&1
status=$?
set -e
if [ "$status" -eq 143 ]; then
	ok "run: a command killed by SIGTERM makes pyprof exit the same way (143)"
else
	fail "run: SIGTERM gave status $status"
fi

set +e
"$PYPROF_BIN" run --interval fast -- "$py" prog.py 0 >/dev/null 2>"$work/stderr"
status=$?
set -e
if [ "$status" -eq 2 ] && grep -q 'fast' "$work/stderr"; then
	ok "run --interval fast: usage error naming the value"
else
	fail "run --interval fast: status $status, $(cat "$work/stderr")"
fi
# The command's children that outlive it: a spawn pool's helper processes
# are waited for, so every file is complete; a process still running
# after --grace is named as running, not reported as a damaged file.
cat >"$work/pool.py" <<'PY'
import multiprocessing as mp
def f(x):
    return sum(i % (x + 1) for i in range(100000))
if __name__ == "__main__":
    mp.set_start_method("spawn")
    with mp.Pool(2) as p:
        print(sum(p.map(f, range(8))))
PY
"$PYPROF_BIN" run -- "$py" "$work/pool.py" >/dev/null 2>"$work/stderr" || true
if grep -q "cut short" "$work/stderr"; then
	fail "run: a spawn pool's helper reported as cut short: $(grep 'cut short' "$work/stderr")"
elif ! grep -q "f  " "$work/stderr" && ! grep -q " f " "$work/stderr"; then
	fail "run: the pool's workers are not in the report: $(head -20 "$work/stderr")"
else
	ok "run: a spawn pool's processes are all waited for: no file cut short"
fi

set +e
"$PYPROF_BIN" run --grace 0.3 -- "$py" -c '
import subprocess, sys
subprocess.Popen([sys.executable, "-c", "import time\nfor i in range(2000000): pass\ntime.sleep(1.5)"],
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)' >/dev/null 2>"$work/stderr"
status=$?
set -e
if [ "$status" -eq 0 ] && grep -q "1 process the command started still running after 0.3 s" "$work/stderr" &&
   grep -q "is still running: its profile so far" "$work/stderr" && ! grep -q "cut short" "$work/stderr"; then
	ok "run --grace 0.3: a child still running is named as running, not damaged"
else
	fail "run --grace: status $status, $(cat "$work/stderr" | head -5)"
fi
sleep 1.5 # let it finish before $work goes

finish
