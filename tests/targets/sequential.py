"""argv[1] threads one after another, each burning 10 ms of CPU: more
threads than a small file has chunks, few alive at a time."""
import sys
import threading
import time


def spin(seconds):
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


for i in range(int(sys.argv[1])):
    t = threading.Thread(target=spin, args=(0.01,), name="w%d" % i)
    t.start()
    t.join()
print("ok")
