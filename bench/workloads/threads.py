"""Multi-threaded: four threads sharing the GIL, each calling small
functions, so samples land in every thread."""
import json
import sys
import threading
import time


def f(x):
    return x * 2 + 1


def worker(n):
    s = 0
    for i in range(n):
        s += f(i) % 7
    return s


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 4_500_000
    t0 = time.perf_counter()
    ts = [threading.Thread(target=worker, args=(n,)) for _ in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    # cpu: the whole process's CPU time, start-up included, as the
    # signal and sample counts are
    print(json.dumps({"wall": time.perf_counter() - t0, "cpu": time.process_time()}))


main()
