"""Thread churn: argv[1] threads created and joined in waves of 50, each
doing a little work, while the main thread works too.  argv[1] = "Ns":
waves for N seconds instead."""
import sys
import threading
import time


def work(n):
    x = 0
    for i in range(n):
        x += i
    return x


def main():
    arg = sys.argv[1]
    deadline = None
    if arg.endswith("s"):
        deadline = time.monotonic() + float(arg[:-1])
        total = float("inf")
    else:
        total = int(arg)
    done = 0
    while done < total and (deadline is None or time.monotonic() < deadline):
        wave = [threading.Thread(target=work, args=(2000 + done % 7 * 1000,)) for _ in range(50)]
        for t in wave:
            t.start()
        work(5000)
        for t in wave:
            t.join()
        done += len(wave)
    print("churned", "for a while" if deadline else done)


main()
