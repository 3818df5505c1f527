"""The worker process of service.py (0570-container.sh): it works until
it is killed; SIGTERM's default action ends it."""
import sys


def crunch():
    x = 1
    for i in range(3000):
        x = (x * 31 + i) % 65521
    return x


print("up", flush=True)
sys.stdout.close()
while True:
    crunch()
