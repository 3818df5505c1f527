"""The interactive case: the main thread waits for input (a REPL at its
prompt) while a worker computes; the input arrives when the worker is done."""
import sys
import threading


def work():
    x = 0
    for i in range(4_000_000):
        x += i
    print("worker done", flush=True)


t = threading.Thread(target=work, name="worker")
t.start()
line = sys.stdin.readline()
t.join()
print("got", line.strip())
