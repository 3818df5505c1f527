"""Many waiting threads: 40 threads named waiter-0 .. waiter-39, each
waking every 2 ms, for argv[1] seconds (default 1).  In wall mode each
wake moves a thread's CPU clock, so its stack must be read again: more
reads than one tick of the sampler thread allows, and each thread must
still take its turn."""
import sys
import threading
import time

seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
stop = threading.Event()


def waiter():
    while not stop.is_set():
        time.sleep(0.002)


threads = [threading.Thread(target=waiter, name="waiter-%d" % i) for i in range(40)]
for t in threads:
    t.start()
time.sleep(seconds)
stop.set()
for t in threads:
    t.join()
