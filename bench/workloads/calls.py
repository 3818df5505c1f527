"""Call-heavy: deep recursion and many small calls, the worst case for a
sampler that walks stacks (deep stacks, frames changing all the time)."""
import json
import sys
import time


def leaf(x):
    return x + 1


def small(n):
    s = 0
    for i in range(n):
        s = leaf(s)
    return s


def deep(n):
    if n == 0:
        return small(200)
    return deep(n - 1) + 1


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 60000
    t0 = time.perf_counter()
    for _ in range(rounds):
        deep(150)
    # cpu: the whole process's CPU time, start-up included, as the
    # signal and sample counts are
    print(json.dumps({"wall": time.perf_counter() - t0, "cpu": time.process_time()}))


main()
