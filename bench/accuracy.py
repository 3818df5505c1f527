"""Accuracy against ground truth measured by the workloads themselves.

For each workload: the largest absolute error, in percentage points,
between pyprof's share and the truth (time.thread_time() around each
function, or each thread's own clock), at 5,000 samples or more; and the
sampling clock's error: the CPU time the samples stand for against the
truth.  The first two workloads in CPU mode, then in wall mode (running
time, the samples' time without their [idle] part, against the CPU truth);
the third in wall mode
(tests/targets/wall.py: functions that burn, sleep, wait on a lock and in
ctypes nanosleep, beside threads that only sleep, only burn, or both):
shares of wall time, running shares (not [idle]) against CPU/wall, and
each thread's wall time against its own clock.

usage: python3 bench/accuracy.py BUILD PYTHON [INTERVAL]"""
import json
import os
import re
import struct
import subprocess
import sys
import tempfile

build, python = os.path.abspath(sys.argv[1]), sys.argv[2]
interval = sys.argv[3] if len(sys.argv) > 3 else "250us"
lib, pyprof = os.path.join(build, ".libs", "libpyprof.so"), os.path.join(build, "pyprof")
here = os.path.dirname(os.path.abspath(__file__))
top = os.path.dirname(here)


def run(argv, mode="cpu"):
    out = tempfile.mkdtemp()
    truth = os.path.join(out, "truth.json")
    env = dict(os.environ, LD_PRELOAD=lib, PYPROF_OUTPUT=out + "/", PYPROF_INTERVAL=interval,
               PYPROF_MODE=mode)
    subprocess.run([python] + argv(truth), env=env, check=True)
    f = [os.path.join(out, x) for x in os.listdir(out) if x.endswith(".pyprof")][0]
    col = subprocess.run([pyprof, "report", "--format", "collapsed", "--weight=ns", "--show-all", f],
                         capture_output=True, text=True, check=True).stdout
    h = open(f, "rb").read(4096)
    samples = struct.unpack_from("<Q", h, 176)[0]
    lines = []
    for line in col.splitlines():
        stack, _, n = line.rpartition(" ")
        lines.append((stack.split(";"), int(n)))
    return json.load(open(truth)), lines, samples


def running(lines):
    """Wall mode: the running time only (no [idle] leaf), to set against
    the CPU truth of the CPU-mode workloads."""
    return [(s, w) for s, w in lines if not s[-1].startswith("[idle]")]


def functions(mode="cpu"):
    truth, lines, samples = run(lambda t: [os.path.join(top, "tests", "targets", "shares.py"), t, "12"],
                                mode)
    lines = running(lines)
    inside = [(s, w) for s, w in lines if any(x.startswith("main (") and "shares.py" in x for x in s)]
    total = sum(w for _, w in inside)
    worst, rows = 0, []
    for name, secs in truth["funcs"].items():
        got = 100 * sum(w for s, w in inside if any(x.startswith(name + " (") for x in s)) / total
        want = 100 * secs / truth["total"]
        worst = max(worst, abs(got - want))
        rows.append("%s %.1f%% (truth %.1f%%)" % (name, got, want))
    clock = 100 * (total / 1e9 - truth["total"]) / truth["total"]
    return "%s mode: 3 functions of one thread" % mode, samples, worst, clock, ", ".join(rows)


def threads(mode="cpu"):
    truth, lines, samples = run(lambda t: [os.path.join(here, "workloads", "accuracy_threads.py"), t, "6"],
                                mode)
    lines = running(lines)
    per = {}
    for name, v in truth.items():
        per[name] = sum(w for s, w in lines if s[0] == name or re.search(r"\b%d\b" % v["tid"], s[0]))
    total_truth = sum(v["cpu"] for v in truth.values())
    total = sum(per.values())
    worst, rows = 0, []
    for name, v in sorted(truth.items()):
        got, want = 100 * per[name] / total, 100 * v["cpu"] / total_truth
        worst = max(worst, abs(got - want))
        rows.append("%s %.1f%% (truth %.1f%%)" % (name, got, want))
    clock = 100 * (total / 1e9 - total_truth) / total_truth
    return "%s mode: 4 burning 1:2:3:4, 1 sleeping, 1 blocked in recv" % mode, samples, worst, \
        clock, ", ".join(rows)


def wall():
    truth, lines, samples = run(lambda t: [os.path.join(top, "tests", "targets", "wall.py"), t, "3"],
                                "wall")
    lines = [([re.sub(r" \(.*\)$", "", f) for f in s], w) for s, w in lines]
    worst, rows = 0, []

    def split(rs):
        total = sum(w for _, w in rs)
        return total, total - sum(w for s, w in rs if s[-1] == "[idle]")

    main_rows = [(s, w) for s, w in lines if s[0] == "MainThread" and "main" in s]
    main_total, _ = split(main_rows)
    for name, t in sorted(truth["funcs"].items()):
        total, running = split([(s, w) for s, w in main_rows if name in s])
        share, want = 100 * total / main_total, 100 * t["wall"] / truth["main"]
        run_share, run_want = 100 * running / total, 100 * t["cpu"] / t["wall"]
        worst = max(worst, abs(share - want), abs(run_share - run_want))
        rows.append("%s %.1f%% (truth %.1f%%), running %.1f%% (%.1f%%)" %
                    (name, share, want, run_share, run_want))
    clock = []
    for name, t in sorted(truth["threads"].items()):
        total, running = split([(s, w) for s, w in lines if s[0] == name])
        run_share, run_want = 100 * running / total, 100 * t["cpu"] / t["wall"]
        worst = max(worst, abs(run_share - run_want))
        clock.append(100 * (total / 1e9 - t["wall"]) / t["wall"])
        rows.append("%s running %.1f%% (%.1f%%), wall %.3f s (%.3f s)" %
                    (name, run_share, run_want, total / 1e9, t["wall"]))
    clock = max(clock, key=abs)
    return "wall mode: 4 functions (CPU, sleep, lock, ctypes nanosleep) and 3 threads", samples, \
        worst, clock, ", ".join(rows)


print("| workload | samples | largest error, points | CPU (wall in wall mode) of samples vs truth | shares |")
print("|---|---:|---:|---:|---|")
for f in (functions, threads, lambda: functions("wall"), lambda: threads("wall"), wall):
    name, samples, worst, clock, rows = f()
    print("| %s | %d | %.2f | %+.2f%% | %s |" % (name, samples, worst, clock, rows))
