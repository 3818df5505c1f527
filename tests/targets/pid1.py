"""A service that leaves SIGTERM at the default (0570-container.sh): as a
container's PID 1 the kernel does not deliver it, so it works on until
DIR/stop exists, then exits 0."""
import os
import sys


def spin():
    x = 0
    for i in range(3000):
        x ^= i * 3
    return x


print("pid1: up", flush=True)
while not os.path.exists(os.path.join(sys.argv[1], "stop")):
    for _ in range(50):
        spin()
print("pid1: stopped", flush=True)
