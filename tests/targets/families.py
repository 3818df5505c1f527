"""A thread per request: argv[1] (default 200) short threads with
Python's default names ("Thread-N (handle)" from 3.10, "Thread-N"
before), four at a time, each burning ~8 ms of its own CPU clock so that
it gets samples in CPU mode too.  Prints how many it started.

Each thread waits until the main thread has run some Python after
starting it: pyprof learns thread names in the main thread between two
bytecodes (names.c), and a thread that ends while the main thread is
blocked in join() keeps its native id for a name."""
import sys
import threading
import time


def handle(go):
    go.wait()
    start = time.thread_time()
    x = 0
    while time.thread_time() - start < 0.008:
        for i in range(1000):
            x += i


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    started = 0
    while started < n:
        go = threading.Event()
        batch = [threading.Thread(target=handle, args=(go,))
                 for _ in range(min(4, n - started))]
        for t in batch:
            t.start()
        started += len(batch)
        until = time.perf_counter() + 0.002
        while time.perf_counter() < until:
            pass
        go.set()
        for t in batch:
            t.join()
    print(started)


main()
