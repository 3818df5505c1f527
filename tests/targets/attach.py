"""A service for pyprof attach to find running (0560-attach.sh).

usage: attach.py DIR

Two threads, alpha and beta, spin in functions of their own from the
start.  The main thread writes DIR/pid, then looks every 20 ms: DIR/go
starts a third thread, gamma (one that exists only after an attach);
DIR/nap makes it sleep 3 s once, so that a request waits; DIR/squeeze
makes it compress with zlib at each look, for native frames of its own
(squeeze -> zlib_compress -> deflate); DIR/stop ends it all.  The output and the exit status (3) do not depend on timing, so
that a run pyprof attached to can be compared with one it did not.
"""
import os
import sys
import threading
import time
import zlib

d = sys.argv[1]
done = threading.Event()


def spin_alpha():
    x = 0
    while not done.is_set():
        for i in range(2000):
            x += i * i
    return x


def spin_beta():
    x = 1
    while not done.is_set():
        for i in range(2000):
            x = (x * 7 + i) % 1000003
    return x


def spin_gamma():
    x = 0
    while not done.is_set():
        for i in range(2000):
            x ^= i
    return x


data = None


def squeeze():
    global data
    if data is None:
        data = os.urandom(1 << 18)
    zlib.compress(data, 9)


threads = [threading.Thread(target=spin_alpha, name="alpha"),
           threading.Thread(target=spin_beta, name="beta")]
for t in threads:
    t.start()
print("started alpha and beta", flush=True)
with open(os.path.join(d, "pid.tmp"), "w") as f:
    f.write("%d\n" % os.getpid())
os.rename(os.path.join(d, "pid.tmp"), os.path.join(d, "pid"))
napped = False
while not os.path.exists(os.path.join(d, "stop")):
    if os.path.exists(os.path.join(d, "go")) and len(threads) == 2:
        threads.append(threading.Thread(target=spin_gamma, name="gamma"))
        threads[-1].start()
    if os.path.exists(os.path.join(d, "nap")) and not napped:
        napped = True
        time.sleep(3)
    if os.path.exists(os.path.join(d, "squeeze")):
        squeeze()
    time.sleep(0.02)
done.set()
for t in threads:
    t.join()
print("all threads done", flush=True)
sys.exit(3)
