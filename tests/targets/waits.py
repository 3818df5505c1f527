"""Threads that wait for different things, for wall mode's wait kinds
(tests/integration/0510-waits.sh): two threads that both want the GIL
(pure Python loops), one asleep, one blocked on a lock, one reading a
pipe nobody writes to yet."""
import os
import threading
import time

DUR = float(os.environ.get("WAITS_DUR", "1.0"))
stop = time.monotonic() + DUR


def spin():
    x = 0
    while time.monotonic() < stop:
        x += 1


def sleeper():
    while time.monotonic() < stop:
        time.sleep(0.05)


lock = threading.Lock()
lock.acquire()


def locked():
    lock.acquire()
    lock.release()


r, w = os.pipe()


def reader():
    os.read(r, 1)


threads = [threading.Thread(target=spin, name="spin-a"),
           threading.Thread(target=spin, name="spin-b"),
           threading.Thread(target=sleeper, name="sleeper"),
           threading.Thread(target=locked, name="locked"),
           threading.Thread(target=reader, name="reader")]
for t in threads:
    t.start()
time.sleep(DUR)
lock.release()
os.write(w, b"x")
for t in threads:
    t.join()
print("done")
