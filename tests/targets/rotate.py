"""Work across a rotated run's files, with its own account of it.

The main thread runs phase_a, then phase_b inside a window of the control
API labelled "b" (when libpyprof is loaded), while a worker thread spins
throughout; each spins SPIN CPU-seconds in all.  Prints JSON: the CPU
seconds each thread used (time.thread_time), and the wall-clock instant
between the two phases.
"""
import ctypes
import json
import os
import threading
import time

SPIN = float(os.environ.get("SPIN", "1.0"))


def spin(seconds):
    end = time.thread_time() + seconds
    n = 0
    while time.thread_time() < end:
        for i in range(1000):
            n += i
    return n


def phase_a():
    spin(SPIN / 2)


def phase_b():
    spin(SPIN / 2)


def worker(out):
    spin(SPIN)
    out["worker"] = time.thread_time()


if __name__ == "__main__":
    lib = ctypes.CDLL(None)
    control = hasattr(lib, "pyprof_start")
    out = {}
    t = threading.Thread(target=worker, args=(out,), name="worker")
    t.start()
    phase_a()
    out["switch"] = time.time()
    if control:
        lib.pyprof_start(b"b")
    phase_b()
    if control:
        lib.pyprof_stop(b"b")
    t.join()
    out["main"] = time.thread_time()
    print(json.dumps(out))
