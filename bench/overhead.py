"""Overhead of pyprof: wall time profiled / unprofiled, runs interleaved.

For each workload in bench/workloads, each round runs every configuration
once (the order rotates each round), and the table gives the median of the
rounds.  The "floor" configurations take the same signals from the same
source at the same rate with an empty handler (PYPROF_FLOOR=1): the cost of
the timer source alone.  pyprof's own work is the difference between a
configuration and its floor.

usage: python3 bench/overhead.py LIBPYPROF.so [PYTHON] [ROUNDS]
  BENCH_COST=1: only the per-sample cost configurations
  BENCH_WALL=1: wall mode against CPU mode (add waiters.py to the workloads)
  BENCH_NATIVE=1: native stacks (PYPROF_NATIVE=1) against Python frames only
  BENCH_CONTROL=1: the control channel (PYPROF_CONTROL=1), idle
  BENCH_WORKLOADS="calls.py cpu.py": a subset of the workloads"""
import json
import os
import statistics
import struct
import subprocess
import sys
import tempfile

lib = os.path.abspath(sys.argv[1])
python = sys.argv[2] if len(sys.argv) > 2 else sys.executable
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 5
here = os.path.dirname(os.path.abspath(__file__))

CONFIGS_ALL = [
    ("none", None),
    ("perf 10ms floor", {"PYPROF_SOURCE": "perf", "PYPROF_INTERVAL": "10ms", "PYPROF_FLOOR": "1"}),
    ("default (perf 10ms)", {}),
    ("timer 10ms floor", {"PYPROF_SOURCE": "timer", "PYPROF_INTERVAL": "10ms", "PYPROF_FLOOR": "1"}),
    ("timer 10ms", {"PYPROF_SOURCE": "timer", "PYPROF_INTERVAL": "10ms"}),
    ("perf 1ms floor", {"PYPROF_SOURCE": "perf", "PYPROF_INTERVAL": "1ms", "PYPROF_FLOOR": "1"}),
    ("perf 1ms", {"PYPROF_SOURCE": "perf", "PYPROF_INTERVAL": "1ms"}),
]
# The cost of pyprof's own work per sample, measured where it is large
# enough to see through this machine's noise: many samples per second,
# against the same source's floor.
CONFIGS_COST = [
    ("none", None),
    ("perf 250us floor", {"PYPROF_SOURCE": "perf", "PYPROF_INTERVAL": "250us", "PYPROF_FLOOR": "1"}),
    ("perf 250us", {"PYPROF_SOURCE": "perf", "PYPROF_INTERVAL": "250us"}),
    ("native 250us", {"PYPROF_SOURCE": "perf", "PYPROF_INTERVAL": "250us", "PYPROF_NATIVE": "1"}),
]
# Wall mode against CPU mode and no profiling, on workloads with waiting
# threads too (waiters.py).
CONFIGS_WALL = [
    ("none", None),
    ("default (cpu, perf 10ms)", {}),
    ("wall 10ms", {"PYPROF_MODE": "wall"}),
    ("wall 1ms", {"PYPROF_MODE": "wall", "PYPROF_INTERVAL": "1ms"}),
]
# Native stacks (PYPROF_NATIVE=1) against Python frames only, at 10 ms and
# 1 ms, with the floor of the same source.
CONFIGS_NATIVE = [
    ("none", None),
    ("perf 10ms floor", {"PYPROF_SOURCE": "perf", "PYPROF_INTERVAL": "10ms", "PYPROF_FLOOR": "1"}),
    ("default (perf 10ms)", {}),
    ("native 10ms", {"PYPROF_NATIVE": "1"}),
    ("perf 1ms floor", {"PYPROF_SOURCE": "perf", "PYPROF_INTERVAL": "1ms", "PYPROF_FLOOR": "1"}),
    ("perf 1ms", {"PYPROF_SOURCE": "perf", "PYPROF_INTERVAL": "1ms"}),
    ("native 1ms", {"PYPROF_NATIVE": "1", "PYPROF_INTERVAL": "1ms"}),
]
# The control channel, idle: its thread sleeps in poll(2) unless asked,
# with recording on (default) and off (PYPROF_START=0, the way it is
# meant to wait for `pyprof ctl PID start`).
CONFIGS_CONTROL = [
    ("none", None),
    ("default (perf 10ms)", {}),
    ("default, control", {"PYPROF_CONTROL": "1"}),
    ("not started", {"PYPROF_START": "0"}),
    ("not started, control", {"PYPROF_START": "0", "PYPROF_CONTROL": "1"}),
]
CONFIGS = CONFIGS_NATIVE if os.environ.get("BENCH_NATIVE") else \
    CONFIGS_CONTROL if os.environ.get("BENCH_CONTROL") else \
    CONFIGS_COST if os.environ.get("BENCH_COST") else \
    CONFIGS_WALL if os.environ.get("BENCH_WALL") else CONFIGS_ALL
WORKLOADS = os.environ.get("BENCH_WORKLOADS", "calls.py cpu.py threads.py").split()


def header(path):
    with open(path, "rb") as f:
        h = f.read(4096)
    signals, samples = struct.unpack_from("<QQ", h, 168)
    return signals, samples


def run(workload, env_extra):
    env = dict(os.environ)
    for k in list(env):
        if k.startswith("PYPROF_"):
            del env[k]
    with tempfile.TemporaryDirectory() as out:
        if env_extra is not None:
            env.update(env_extra)
            env["LD_PRELOAD"] = lib
            env["PYPROF_OUTPUT"] = out + "/"
        r = subprocess.run([python, os.path.join(here, "workloads", workload)],
                           env=env, capture_output=True, text=True, check=True)
        res = json.loads(r.stdout)
        files = [os.path.join(out, f) for f in os.listdir(out)]
        res["signals"], res["samples"] = header(files[0]) if files else (0, 0)
    return res


def main():
    print("python: %s" % subprocess.check_output([python, "-VV"], text=True).strip())
    print("rounds: %d (median shown)\n" % rounds)
    print("| workload | configuration | wall s | ratio | signals per CPU-s | samples per CPU-s |")
    print("|---|---|---:|---:|---:|---:|")
    for w in WORKLOADS:
        results = {name: [] for name, _ in CONFIGS}
        for r in range(rounds):
            order = CONFIGS[r % len(CONFIGS):] + CONFIGS[:r % len(CONFIGS)]
            for name, env in order:
                results[name].append(run(w, env))
        base = statistics.median(x["wall"] for x in results["none"])
        for name, _ in CONFIGS:
            xs = results[name]
            wall = statistics.median(x["wall"] for x in xs)
            sig = statistics.median(x["signals"] / x["cpu"] for x in xs)
            smp = statistics.median(x["samples"] / x["cpu"] for x in xs)
            print("| %s | %s | %.3f | %.3f | %.0f | %.0f |" % (w, name, wall, wall / base, sig, smp))
        if "perf 250us" in results and results["perf 250us"][0]["samples"]:
            full = statistics.median(x["wall"] for x in results["perf 250us"])
            floor = statistics.median(x["wall"] for x in results["perf 250us floor"])
            n = statistics.median(x["samples"] for x in results["perf 250us"])
            print("| %s | pyprof's own work per sample | %.1f us | | | |" % (w, (full - floor) / n * 1e6))
            print("| %s | the signal source per signal | %.1f us | | | |" % (
                w, (floor - base) / statistics.median(x["signals"] for x in results["perf 250us floor"]) * 1e6))
        sys.stdout.flush()


main()
