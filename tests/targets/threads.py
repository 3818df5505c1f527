"""Three worker threads with unequal, known CPU shares, and a main thread
that only waits.  Each worker's CPU is read from its own clock
(time.thread_time) and written as JSON to argv[1]:
{name: {"cpu": seconds, "tid": native thread id}}."""
import json
import sys
import threading
import time

result = {}


def burn(units):
    start = time.thread_time()
    x = 0
    for _ in range(units):
        for i in range(2000):
            x += i
    result[threading.current_thread().name] = {
        "cpu": time.thread_time() - start, "tid": threading.get_native_id()}


def main():
    scale = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
    units = {"w1": int(1000 * scale), "w2": int(2000 * scale), "w3": int(4000 * scale)}
    threads = [threading.Thread(target=burn, args=(u,), name=n) for n, u in units.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with open(sys.argv[1], "w") as out:
        json.dump(result, out)


if __name__ == "__main__":
    main()
