"""argv[1] threads one after another, each running about 10 ms of Python
(a plain loop, user mode: no clock reads in the kernel): more threads than
a small file has chunks, few alive at a time."""
import sys
import threading


def work():
    x = 0
    for i in range(150000):
        x += i
    return x


for i in range(int(sys.argv[1])):
    t = threading.Thread(target=work, name="w%d" % i)
    t.start()
    t.join()
print("ok")
