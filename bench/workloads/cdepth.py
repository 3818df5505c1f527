"""Native stacks about 30 frames deep: Python calls that go through C
(sum over map) six levels down, then a loop of small calls, so that each
sample has a deep native stack to unwind and merge."""
import json
import sys
import time


def leaf(x):
    return x * 3 % 7


def work():
    s = 0
    for i in range(2000):
        s += leaf(i)
    return s


def level(n):
    return sum(map(level, [n - 1])) if n else work()


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 12000
    t0 = time.perf_counter()
    for _ in range(rounds):
        level(6)
    print(json.dumps({"wall": time.perf_counter() - t0, "cpu": time.process_time()}))


main()
