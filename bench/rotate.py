"""What a rotation costs (PYPROF_ROTATE, libpyprof(7) Rotation).

Runs a workload of bench/workloads with PYPROF_ROTATE=PERIOD and the log
on, ROUNDS times, and prints from the log's "rotated:" lines the median
and the 90th percentile of a boundary's time in the control thread (all
of it, creating the next file, waiting for the writers in flight), then
the workload's wall time with and without rotation (median of the rounds,
interleaved).

usage: python3 bench/rotate.py LIBPYPROF.so [PYTHON] [ROUNDS] [WORKLOAD] [PERIOD]"""
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

lib = os.path.abspath(sys.argv[1])
python = sys.argv[2] if len(sys.argv) > 2 else sys.executable
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 5
workload = sys.argv[4] if len(sys.argv) > 4 else "threads.py"
period = sys.argv[5] if len(sys.argv) > 5 else "200ms"
here = os.path.dirname(os.path.abspath(__file__))
LINE = re.compile(r"rotated: .*\((\d+) us: (\d+) creating, (\d+) waiting")


def run(rotate):
    with tempfile.TemporaryDirectory() as out:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYPROF_")}
        env.update(LD_PRELOAD=lib, PYPROF_OUTPUT=out + "/", PYPROF_INTERVAL="1ms",
                   PYPROF_LOG=os.path.join(out, "log"))
        if rotate:
            env["PYPROF_ROTATE"] = period
        r = subprocess.run([python, os.path.join(here, "workloads", workload)],
                           env=env, capture_output=True, text=True, check=True)
        with open(os.path.join(out, "log")) as f:
            times = [tuple(map(int, m.groups())) for m in map(LINE.search, f) if m]
        return json.loads(r.stdout)["wall"], times


def show(name, xs):
    xs = sorted(xs)
    print("%-28s median %6d us  p90 %6d us" % (name, statistics.median(xs),
                                              xs[int(len(xs) * 0.9) - 1]))


walls = {False: [], True: []}
times = []
for i in range(rounds):
    for rotate in ((False, True) if i % 2 else (True, False)):
        w, t = run(rotate)
        walls[rotate].append(w)
        times += t
print("%s, %s, PYPROF_ROTATE=%s at 1 ms, %d rounds: %d rotations" %
      (subprocess.check_output([python, "-V"], text=True).strip(), workload,
       period, rounds, len(times)))
show("a boundary, all of it", [t[0] for t in times])
show("creating the next file", [t[1] for t in times])
show("waiting for the writers", [t[2] for t in times])
base, rot = statistics.median(walls[False]), statistics.median(walls[True])
print("wall: %.3f s without, %.3f s with rotation: %.3f" % (base, rot, rot / base))
