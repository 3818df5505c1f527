"""Native frames under Python callers (tests/integration/0500-native.sh).

Each case runs for NATIVE_DUR seconds: C libraries under their Python
callers (zlib, hashlib), C -> Python -> C sandwiches (sorted with a key,
map with a Python function, a ctypes callback from qsort, a generator
resumed by sum), a C++ library
loaded while sampling that throws and catches (its count is printed, so a
broken exception path shows as different output), a C++ thread that runs
no Python, and a recursion through C deeper than the native stack kept.
"""
import ctypes
import hashlib
import os
import sys
import time
import zlib

DUR = float(os.environ.get("NATIVE_DUR", "0.4"))
data = os.urandom(1 << 18)


def until(fn):
    t = time.perf_counter()
    while time.perf_counter() - t < DUR:
        fn()


def compress_part():
    zlib.compress(data, 9)


def digest():
    hashlib.sha256(data * 8).digest()


def key(x):
    return -x


def sorter():
    sorted(range(20000), key=key)


def mapper():
    list(map(key, range(20000)))


def cmp(a, b):
    return (a[0] > b[0]) - (a[0] < b[0])


CMP = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_int),
                       ctypes.POINTER(ctypes.c_int))
libc = ctypes.CDLL(None)
cmp_c = CMP(cmp)


def use_qsort():
    arr = (ctypes.c_int * 3000)(*range(3000, 0, -1))
    libc.qsort(arr, len(arr), ctypes.sizeof(ctypes.c_int), cmp_c)


def gen():
    for i in range(20000):
        yield i * i


def consume():
    sum(gen())


def deep_spin():
    t = time.perf_counter()
    x = 0
    while time.perf_counter() - t < DUR:
        x += 1


def deep(n):
    return list(map(deep, [n - 1])) if n else deep_spin()


def main():
    until(compress_part)
    until(digest)
    until(sorter)
    until(mapper)
    until(use_qsort)
    until(consume)
    if len(sys.argv) > 1:
        lib = ctypes.CDLL(sys.argv[1])  # loaded while sampling
        lib.work_thread_start.restype = ctypes.c_void_p
        lib.work_thread_stop.argtypes = [ctypes.c_void_p]
        th = lib.work_thread_start()
        total = 0
        t = time.perf_counter()
        while time.perf_counter() - t < DUR:
            total += lib.work_spin(2000)
        lib.work_thread_stop(th)
        print("caught", total % 1000 == 0, total > 0)
    deep(300)
    print("done")


main()
