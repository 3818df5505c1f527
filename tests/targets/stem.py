"""A program run with `python -m stem`: runpy's frames above <module>, a
worker thread under threading's bootstrap, and a helper layer (helper ->
inner) between main() and the work, for hiding and collapsing tests."""
import threading


def work(n):
    x = 0
    for i in range(n):
        x += i * i
    return x


def inner(n):
    return work(n)


def helper(n):
    return inner(n)


def worker():
    helper(1_500_000)


def main():
    t = threading.Thread(target=worker, name="worker")
    t.start()
    helper(3_000_000)
    t.join()


if __name__ == "__main__":
    main()
