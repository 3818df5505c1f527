"""Checks a wall-mode collapsed report (--weight=ns) against the truth
tests/targets/wall.py measured.  Prints one line per check and exits 1 if
any is off by more than its tolerance (percentage points):

  wall.py TRUTH.json COLLAPSED TOL_SHARE TOL_RUNNING

  - each function's share of main()'s wall time;
  - each function's and each thread's running share (its samples not
    under an [idle] leaf) against its own CPU / wall;
  - each thread's wall time against its own clock (relative, TOL_SHARE %);
  - no EINTR seen by the target."""
import json
import re
import sys

truth_path, collapsed_path = sys.argv[1], sys.argv[2]
tol_share, tol_run = float(sys.argv[3]), float(sys.argv[4])
truth = json.load(open(truth_path))
lines = []
for line in open(collapsed_path):
    stack, _, count = line.rstrip("\n").rpartition(" ")
    lines.append(([re.sub(r" \(.*\)$", "", f) for f in stack.split(";")], int(count)))

bad = 0


def check(ok, text):
    global bad
    bad |= not ok
    print(("ok   " if ok else "FAIL ") + text)


def split(rows):
    total = sum(w for _, w in rows)
    idle = sum(w for s, w in rows if s[-1].startswith("[idle"))
    return total, idle


main_rows = [(s, w) for s, w in lines if s[0] == "MainThread" and "main" in s[1:]]
main_total, _ = split(main_rows)
for name, t in sorted(truth["funcs"].items()):
    rows = [(s, w) for s, w in main_rows if name in s]
    total, idle = split(rows)
    got = 100.0 * total / main_total if main_total else 0
    want = 100.0 * t["wall"] / truth["main"]
    check(abs(got - want) <= tol_share,
          "%-8s share of main() %5.1f%%, truth %5.1f%%" % (name, got, want))
    run = 100.0 * (total - idle) / total if total else 0
    want = 100.0 * t["cpu"] / t["wall"]
    check(abs(run - want) <= tol_run,
          "%-8s running %5.1f%%, truth (CPU/wall) %5.1f%%" % (name, run, want))

for name, t in sorted(truth["threads"].items()):
    rows = [(s, w) for s, w in lines
            if s[0] == name or re.search(r"\b%d\b" % t["tid"], s[0])]
    total, idle = split(rows)
    rel = 100.0 * (total / 1e9 - t["wall"]) / t["wall"]
    # the thread's own clock starts after it is sampled, and stops before
    check(abs(rel) <= tol_share,
          "%-8s wall %.3f s, truth %.3f s (%+.1f%%)" % (name, total / 1e9, t["wall"], rel))
    run = 100.0 * (total - idle) / total if total else 0
    want = 100.0 * t["cpu"] / t["wall"]
    check(abs(run - want) <= tol_run,
          "%-8s running %5.1f%%, truth (CPU/wall) %5.1f%%" % (name, run, want))
check(truth["eintr"] == 0, "EINTR from ctypes nanosleep: %d" % truth["eintr"])
sys.exit(1 if bad else 0)
