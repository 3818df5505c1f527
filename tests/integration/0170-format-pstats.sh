#!/bin/sh
# --format pstats: Python's own pstats.Stats loads the file (the consumer
# snakeviz and gprof2dot use); its functions' total own time equals the
# JSON tree's, each function's cumulative time counts recursion once, and
# callers are right: on a program with a known call graph (a recursive
# fib under a caller, a leaf called from two places) and on the threads
# profile every format test uses; -o FILE.pstats picks the format.
. "$(dirname "$0")/setup.sh"
. "$top_srcdir/tests/integration/consumers.sh"
make_profile

"$PYPROF_BIN" report -o "$work/p.pstats" "$prof"
run_check "pstats.Stats reads it; own times add up to the tree's total" \
	"$py" - "$work/p.pstats" "$work/tree.json" <<'PY'
import json, pstats, sys
s = pstats.Stats(sys.argv[1])
t = json.load(open(sys.argv[2]))
tt = sum(v[2] for v in s.stats.values())
total = t["total_ns"] / 1e9
assert abs(tt - total) < 1e-6 + total * 1e-9, (tt, total)
burn = [k for k in s.stats if k[2] == "burn"]
assert burn, list(s.stats)[:5]
cc, nc, btt, bct, callers = s.stats[burn[0]]
assert bct >= btt > 0 and nc > 0, s.stats[burn[0]]
print("tottime %.3f s over %d functions = tree total %.3f s; burn %.3f s own" % (tt, len(s.stats), total, btt))
PY

cat >"$work/graph.py" <<'PY'
import time
def spin(n):
    t = time.thread_time() + n
    while time.thread_time() < t:
        pass
def fib(n):
    if n <= 1:
        spin(0.0004)
        return 1
    return fib(n - 1) + fib(n - 2)
def a():
    spin(0.15)
def b():
    spin(0.15)
def main():
    fib(12)
    a()
    b()
main()
PY
rm -rf "$work/g" && mkdir -p "$work/g"
PYPROF_INTERVAL=1ms profile "$work/g" "$py" "$work/graph.py"
"$PYPROF_BIN" report -f pstats -o "$work/g.pstats" "$work"/g/*.pyprof
run_check "recursion counted once, callers per caller" \
	"$py" - "$work/g.pstats" <<'PY'
import pstats, sys
s = pstats.Stats(sys.argv[1])
by = {k[2]: (k, v) for k, v in s.stats.items() if k[0].endswith("graph.py")}
_, fib = by["fib"]
_, main = by["main"]
_, spin = by["spin"]
# fib's cumulative time, counted once however deep, is at most main's
assert fib[3] <= main[3] + 1e-9, (fib[3], main[3])
assert fib[3] > 0.05, fib
# spin is called from fib, a and b; the caller entries add up to it
names = {k[2]: v for k, v in spin[4].items() if k[0].endswith("graph.py")}
assert set(names) == {"fib", "a", "b"}, names
assert abs(sum(v[3] for v in names.values()) - spin[3]) < 1e-6, (names, spin)
assert abs(names["a"][3] - 0.15) < 0.05 and abs(names["b"][3] - 0.15) < 0.05, names
print("fib %.3f s cumulative of main's %.3f s; spin from fib %.3f, a %.3f, b %.3f s" %
      (fib[3], main[3], names["fib"][3], names["a"][3], names["b"][3]))
s.sort_stats("cumulative").print_callers("spin")
PY
finish
