"""The program's own code, the standard library's and threads, for the
reports people read (html, svg): `checksum` is the program's hot loop, in
a thread of its own; `roundtrip` sends a document through json's
pure-Python encoder (indent= turns the C one off) and its decoder, in the
main thread; `idler` sleeps, which wall mode shows as waiting.  argv[1]:
seconds of CPU each busy thread spends (default 0.5)."""
import json
import sys
import threading
import time


def checksum(seconds):
    end = time.thread_time() + seconds
    total = 0
    while time.thread_time() < end:
        for i in range(5000):
            total = (total * 31 + i) % 1000003
    return total


def roundtrip(seconds):
    doc = {"items": [{"id": i, "name": "item %d" % i, "tags": ["a", "b", "c"],
                      "price": i * 1.5} for i in range(300)]}
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        json.loads(json.dumps(doc, indent=1))


def idler(seconds):
    time.sleep(seconds)


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 0.5
    threads = [threading.Thread(target=checksum, args=(seconds,), name="checker"),
               threading.Thread(target=idler, args=(seconds,), name="idler")]
    for t in threads:
        t.start()
    roundtrip(seconds)
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()
