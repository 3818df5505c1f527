"""Compares the shares in a collapsed report (--weight=ns) with the truth a
target measured itself.  Prints one line per item and exits 1 if any share
is off by more than the tolerance (percentage points).

  shares.py funcs TRUTH.json COLLAPSED TOL   functions of the main thread
  shares.py threads TRUTH.json COLLAPSED TOL worker threads"""
import json
import re
import sys

kind, truth_path, collapsed_path, tol = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
truth = json.load(open(truth_path))
lines = []
for line in open(collapsed_path):
    stack, _, count = line.rstrip("\n").rpartition(" ")
    lines.append((stack.split(";"), int(count)))


def label(frame):
    return re.sub(r" \(.*\)$", "", frame)


bad = 0
if kind == "funcs":
    # stacks inside the target's own main() (site.py has a main() too)
    inside = [(s, w) for s, w in lines
              if s[0] == "MainThread" and any(f.startswith("main (") and "shares.py:" in f for f in s)]
    total = sum(w for _, w in inside)
    for name, secs in sorted(truth["funcs"].items()):
        got = 100.0 * sum(w for s, w in inside if name in map(label, s)) / total if total else 0
        want = 100.0 * secs / truth["total"]
        off = abs(got - want)
        bad |= off > tol
        print("%s %-8s pyprof %5.1f%%  truth %5.1f%%  off %4.1f points" %
              ("ok  " if off <= tol else "FAIL", name, got, want, off))
    print("samples' CPU inside main(): %.3f s, truth %.3f s" % (total / 1e9, truth["total"]))
else:
    total_truth = sum(v["cpu"] for v in truth.values())
    per = {}
    for name, v in truth.items():
        tid = str(v["tid"])
        per[name] = sum(w for s, w in lines if re.search(r"\b%s\b" % tid, s[0]) or s[0] == name)
    total = sum(per.values())
    for name, v in sorted(truth.items()):
        got = 100.0 * per[name] / total if total else 0
        want = 100.0 * v["cpu"] / total_truth
        off = abs(got - want)
        bad |= off > tol
        print("%s %-4s pyprof %5.1f%% (%.3f s)  truth %5.1f%% (%.3f s)  off %4.1f points" %
              ("ok  " if off <= tol else "FAIL", name, got, per[name] / 1e9, want, v["cpu"], off))
sys.exit(1 if bad else 0)
