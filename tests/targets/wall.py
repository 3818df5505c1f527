"""Ground truth for wall mode.  main() runs four functions one after the
other, each timed with time.perf_counter(): burn (CPU), nap (time.sleep),
locked (a Lock held by another thread, with a timeout) and cwait (libc
nanosleep through ctypes, which does not retry on EINTR: every EINTR is
counted).  Meanwhile three threads run: idler (only sleeps), spinner (only
burns) and half (5 ms of CPU, 5 ms of sleep, in turn).  Each thread reads
its own wall and CPU clocks.  argv[1] gets
{"funcs": {name: {"wall": s, "cpu": s}}, "main": wall s of main(),
 "eintr": n,
 "threads": {name: {"wall": s, "cpu": s, "tid": native id}}}.
argv[2] scales every duration."""
import ctypes
import ctypes.util
import json
import sys
import threading
import time

libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
scale = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
result = {"funcs": {}, "threads": {}, "eintr": 0}
stop = threading.Event()


class timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


def timed(fn):
    def run(*args):
        t, c = time.perf_counter(), time.thread_time()
        fn(*args)
        result["funcs"][fn.__name__] = {
            "wall": time.perf_counter() - t, "cpu": time.thread_time() - c}
    return run


def spin(cpu_seconds):
    end = time.thread_time() + cpu_seconds
    x = 0
    while time.thread_time() < end:
        for i in range(200):
            x += i


@timed
def burn():
    spin(0.3 * scale)


@timed
def nap():
    time.sleep(0.3 * scale)


@timed
def locked(lock):
    lock.acquire(timeout=0.3 * scale)


@timed
def cwait():
    end = time.perf_counter() + 0.3 * scale
    while time.perf_counter() < end:
        ts = timespec(0, 2_000_000)
        if libc.nanosleep(ctypes.byref(ts), None) != 0 and ctypes.get_errno() == 4:
            result["eintr"] += 1


def thread(fn):
    def run():
        w, c = time.perf_counter(), time.thread_time()
        fn()
        result["threads"][threading.current_thread().name] = {
            "wall": time.perf_counter() - w, "cpu": time.thread_time() - c,
            "tid": threading.get_native_id()}
    return run


@thread
def idler():
    while not stop.is_set():
        time.sleep(0.02)


@thread
def spinner():
    while not stop.is_set():
        spin(0.02)


@thread
def half():
    while not stop.is_set():
        spin(0.005)
        time.sleep(0.005)


def main():
    t = time.perf_counter()
    burn()
    nap()
    held = threading.Lock()
    held.acquire()
    locked(held)
    cwait()
    result["main"] = time.perf_counter() - t


ts = [threading.Thread(target=f, name=n)
      for f, n in ((idler, "idler"), (spinner, "spinner"), (half, "half"))]
for t in ts:
    t.start()
main()
stop.set()
for t in ts:
    t.join()
with open(sys.argv[1], "w") as out:
    json.dump(result, out)
