"""An event loop run in a thread of its own (Thread(target=asyncio.run)):
below the thread's bootstrap, which reports hide, the loop's runner is a
stem of plumbing above the coroutine, which the stem trimmer removes."""
import asyncio
import threading


def work(n):
    x = 0
    for i in range(n):
        x += i * i
    return x


async def main():
    work(3_000_000)


if __name__ == "__main__":
    t = threading.Thread(target=asyncio.run, args=(main(),), name="loop")
    t.start()
    t.join()
