"""Threads with Python names: two named at creation, one that renames
itself while running, and the main thread.  Writes {name: native id} to
argv[1] for the names a report must show.  The threads live a while
before they work: pyprof learns names when the main thread next runs
Python after a thread starts, which a loaded machine can delay."""
import time
import json
import sys
import threading


def spin(n, go=None):
    if go is not None:
        go.wait()
    x = 0
    for i in range(n):
        x += i
    return x


def renamer(renamed, go_on):
    threading.current_thread().name = "renamed-worker"
    renamed.set()
    go_on.wait()
    spin(600000)


def main():
    go = threading.Event()
    named = [threading.Thread(target=spin, args=(600000, go), name=n) for n in ("alpha", "beta")]
    for t in named:
        t.start()
    for _ in range(20):  # the main thread runs Python meanwhile
        time.sleep(0.01)
    go.set()
    renamed, go_on = threading.Event(), threading.Event()
    r = threading.Thread(target=renamer, args=(renamed, go_on), name="before-rename")
    r.start()
    renamed.wait()
    # a thread start is when pyprof looks at the names again
    t = threading.Thread(target=spin, args=(1000,), name="short")
    t.start()
    t.join()
    go_on.set()
    spin(300000)
    for t in named + [r]:
        t.join()
    ids = {t.name: t.native_id for t in named + [r]}
    ids["MainThread"] = threading.main_thread().native_id
    with open(sys.argv[1], "w") as out:
        json.dump(ids, out)


main()
