"""Wall mode's worst case for the sampler thread: one thread computing
while 50 threads wait, each waking every 2 ms to run a little Python and
wait again, so that at nearly every tick their stacks have moved and must
be read anew (a thread that has not run costs the sampler thread no
read)."""
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


def waiter(stop):
    while not stop.is_set():
        sum(range(50))
        time.sleep(0.002)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 6_000_000
    stop = threading.Event()
    ws = [threading.Thread(target=waiter, args=(stop,)) for _ in range(50)]
    for t in ws:
        t.start()
    t0 = time.perf_counter()
    worker(n)
    wall = time.perf_counter() - t0
    stop.set()
    for t in ws:
        t.join()
    print(json.dumps({"wall": wall, "cpu": time.process_time()}))


main()
