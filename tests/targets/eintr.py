"""Blocking libc calls made through ctypes, which do not retry on EINTR,
while another thread burns CPU (and so is being sampled).  Prints one line
per call kind: how many calls returned -1 with EINTR (must be 0)."""
import ctypes
import ctypes.util
import os
import threading

libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)


class timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


class timeval(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_usec", ctypes.c_long)]


stop = False


def burn():
    x = 0
    while not stop:
        x += 1


def main():
    global stop
    t = threading.Thread(target=burn)
    t.start()
    eintr = {"nanosleep": 0, "select": 0, "read": 0}
    for _ in range(40):
        ts = timespec(0, 5_000_000)
        if libc.nanosleep(ctypes.byref(ts), None) != 0 and ctypes.get_errno() == 4:
            eintr["nanosleep"] += 1
        tv = timeval(0, 5000)
        if libc.select(0, None, None, None, ctypes.byref(tv)) != 0 and ctypes.get_errno() == 4:
            eintr["select"] += 1
        r, w = os.pipe()
        threading.Timer(0.005, os.write, (w, b"x")).start()
        buf = ctypes.create_string_buffer(1)
        if libc.read(r, buf, 1) < 0 and ctypes.get_errno() == 4:
            eintr["read"] += 1
        os.close(r)
        os.close(w)
    stop = True
    t.join()
    for k, v in sorted(eintr.items()):
        print(k, v)


main()
