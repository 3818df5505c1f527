"""Bytes on disk per sample.

Runs a workload under libpyprof.so and parses the file (pyprof-format(5))
to count the bytes of each record kind, padding included.

usage: python3 bench/bytes.py LIBPYPROF.so PYTHON [INTERVAL]
  PYPROF_MODE=wall: in wall mode, with tests/targets/wall.py and
  bench/workloads/service.py too (threads that wait, whose samples repeat
  their stack)
  PYPROF_NATIVE=1: with native frames

Samples are counted as readers count them: a repeated sample (format 2.4)
is the samples it stands for; the last column is the file's growth per
second of the run."""
import os
import struct
import subprocess
import sys
import tempfile
import time

lib, python = os.path.abspath(sys.argv[1]), sys.argv[2]
interval = sys.argv[3] if len(sys.argv) > 3 else "1ms"
here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "tests", "integration"))
from records import samples_in  # noqa: E402  (the reader's count)
WORKLOADS = [
    ("depth ~20, calls changing at the leaf", [os.path.join(here, "workloads", "depth20.py")]),
    ("500-deep recursion", [os.path.join(here, "..", "tests", "targets", "deep.py"), "500"]),
    ("call-heavy (bench/workloads/calls.py)", [os.path.join(here, "workloads", "calls.py"), "20000"]),
    ("through C, ~40 native frames (bench/workloads/cdepth.py)", [os.path.join(here, "workloads", "cdepth.py"), "4000"]),
]
if os.environ.get("PYPROF_MODE") == "wall":
    WORKLOADS.append(("wall mode: tests/targets/wall.py (4 threads, 3 of them waiting)",
                      [os.path.join(here, "..", "tests", "targets", "wall.py"), os.devnull]))
    WORKLOADS.append(("wall mode: a threaded service, mostly waiting (bench/workloads/service.py)",
                      [os.path.join(here, "workloads", "service.py"), "10"]))
NAMES = {1: "thread", 2: "string", 3: "code", 4: "sample"}


def measure(path):
    data = open(path, "rb").read()
    samples = 0
    chunk_size, = struct.unpack_from("<I", data, 20)
    claimed, = struct.unpack_from("<I", data, 32)
    sizes = {k: 0 for k in NAMES}
    count = {k: 0 for k in NAMES}
    depth_sum = 0
    for c in range(claimed):
        base = 4096 + c * chunk_size
        if base + 16 > len(data) or struct.unpack_from("<I", data, base)[0] == 0:
            continue
        pos = 16
        while pos + 4 <= chunk_size:
            head, = struct.unpack_from("<I", data, base + pos)
            if head == 0:
                break
            kind, length = head & 0xff, head >> 8
            padded = (length + 3) & ~3
            sizes[kind] = sizes.get(kind, 0) + padded
            count[kind] = count.get(kind, 0) + 1
            if kind == 4:
                samples += samples_in(data[base + pos + 4:base + pos + length])[0]
            pos += padded
    used = sum(sizes.values()) + 16 * claimed
    return sizes, count, samples, used, len(data)


print("| workload | samples | sample records | bytes per sample (records) | all records per sample | file bytes per sample | file bytes per second |")
print("|---|---:|---:|---:|---:|---:|---:|")
for name, argv in WORKLOADS:
    with tempfile.TemporaryDirectory() as out:
        env = dict(os.environ, LD_PRELOAD=lib, PYPROF_OUTPUT=out + "/", PYPROF_INTERVAL=interval)
        t = time.monotonic()
        subprocess.run([python] + argv, env=env, check=True, stdout=subprocess.DEVNULL)
        t = time.monotonic() - t
        path = os.path.join(out, os.listdir(out)[0])
        sizes, count, n, used, total = measure(path)
        print("| %s | %d | %d | %.1f | %.1f | %.1f | %.0f |" % (
            name, n, count[4], sizes[4] / n, used / n, total / n, total / t))
