"""A small program to profile: three functions with different costs, and a
worker thread doing its own share.  Run it with `pyprof run -- python3
demo/demo.py`; the report shows where its CPU time went."""
import threading


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def parse(lines):
    return [tuple(int(x) for x in line.split(",")) for line in lines]


def crunch():
    total = 0
    for i in range(6_000_000):
        total += i * i % 7
    return total


def worker():
    for _ in range(4):
        fib(27)


def main():
    t = threading.Thread(target=worker, name="worker")
    t.start()
    fib(29)
    parse([",".join(str(i) for i in range(50))] * 20000)
    crunch()
    t.join()
    print("demo done")


if __name__ == "__main__":
    main()
