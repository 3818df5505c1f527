"""Ground truth for per-thread shares: four threads burning unequal amounts
of CPU (1:2:3:4), one thread that mostly sleeps, one blocked in a C call (a
socket read that is answered at the end).  Every thread measures its own
CPU with time.thread_time(); argv[1] gets {name: {"cpu": s, "tid": id}}."""
import json
import socket
import sys
import threading
import time

result = {}


def record(start):
    result[threading.current_thread().name] = {
        "cpu": time.thread_time() - start, "tid": threading.get_native_id()}


def burn(units):
    start = time.thread_time()
    x = 0
    for _ in range(units):
        for i in range(1000):
            x += i
    record(start)


def sleeper(stop):
    start = time.thread_time()
    while not stop.is_set():
        sum(range(2000))
        time.sleep(0.01)
    record(start)


def blocked(sock):
    start = time.thread_time()
    sock.recv(1)
    record(start)


def main():
    scale = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
    stop = threading.Event()
    a, b = socket.socketpair()
    ts = [threading.Thread(target=burn, args=(int(k * 1000 * scale),), name="burn%d" % k)
          for k in (1, 2, 3, 4)]
    ts.append(threading.Thread(target=sleeper, args=(stop,), name="sleeper"))
    ts.append(threading.Thread(target=blocked, args=(a,), name="blocked"))
    for t in ts:
        t.start()
    for t in ts[:4]:
        t.join()
    stop.set()
    b.send(b"x")
    for t in ts[4:]:
        t.join()
    with open(sys.argv[1], "w") as out:
        json.dump(result, out)


main()
