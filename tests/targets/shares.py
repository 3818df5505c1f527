"""CPU split in known proportions between three functions of the main
thread.  The truth is measured independently with time.thread_time() around
every call and written as JSON to argv[1]: {"total": s, "funcs": {name: s}}."""
import json
import sys
import time


def spin_a(n):
    x = 0
    for i in range(n):
        x += i
    return x


def spin_b(n):
    x = 0
    for i in range(n):
        x ^= i * 3
    return x


def spin_c(n):
    s = ""
    for i in range(n):
        s = str(i)
    return s


def main():
    scale = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
    plan = [(spin_a, 60000), (spin_b, 30000), (spin_c, 10000)]
    truth = {f.__name__: 0.0 for f, _ in plan}
    start = time.thread_time()
    for _ in range(int(40 * scale)):
        for f, n in plan:
            t0 = time.thread_time()
            f(n)
            truth[f.__name__] += time.thread_time() - t0
    total = time.thread_time() - start
    with open(sys.argv[1], "w") as out:
        json.dump({"total": total, "funcs": truth}, out)


if __name__ == "__main__":
    main()
