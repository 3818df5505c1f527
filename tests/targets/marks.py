"""Marks through libpyprof's control API (libpyprof(7)), called with ctypes
from the preloaded library: a window "outer" around the whole run, a
window "inner" nested in it around the main thread's work, a point mark
"checkpoint" made by a worker thread (named "marker"), and a window
"open" never closed.  Writes to argv[1], as JSON, the worker's native id
and the order things happened in."""
import ctypes
import json
import sys
import threading

lib = ctypes.CDLL(None)
for name in ("pyprof_start", "pyprof_stop", "pyprof_mark"):
    getattr(lib, name).argtypes = [ctypes.c_char_p]
    getattr(lib, name).restype = ctypes.c_int


def spin(n):
    x = 0
    for i in range(n):
        x += i
    return x


def worker(out):
    spin(100000)
    out["worker_tid"] = threading.get_native_id()
    out["checkpoint"] = lib.pyprof_mark(b"checkpoint")
    spin(100000)


def main():
    out = {}
    assert lib.pyprof_start(b"outer") == 0
    t = threading.Thread(target=worker, args=(out,), name="marker")
    t.start()
    assert lib.pyprof_start(b"inner") == 0
    spin(300000)
    assert lib.pyprof_stop(b"inner") == 0
    t.join()
    assert lib.pyprof_start(b"open") == 0
    spin(100000)
    assert lib.pyprof_stop(b"outer") == 0
    spin(100000)
    with open(sys.argv[1], "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
