"""CPU-bound: arithmetic in one function, shallow stack."""
import json
import sys
import time


def work(n):
    x = 0
    for i in range(n):
        x = (x + i * i) % 1000003
    return x


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 24_000_000
    t0 = time.perf_counter()
    work(n)
    # cpu: the whole process's CPU time, start-up included, as the
    # signal and sample counts are
    print(json.dumps({"wall": time.perf_counter() - t0, "cpu": time.process_time()}))


main()
