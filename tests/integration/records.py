"""Prints, for each thread of a .pyprof file, what its sample records cost:
serial, sample records, samples they stand for, and the same for the
records flagged IDLE.  Reads the bytes directly (pyprof-format(5)),
independently of the collector: a repeated sample (flag 0x100) stands for
1 + repeats samples, a gap for none.  bench/bytes.py counts samples with
samples_in() too."""
import struct
import sys


def varint(b, pos):
    v = shift = 0
    while True:
        x = b[pos]
        pos += 1
        v |= (x & 0x7f) << shift
        shift += 7
        if not x & 0x80:
            return v, pos


def samples_in(body):
    """The samples a sample record's body stands for, and its flags."""
    fields, pos = [], 0
    for _ in range(5):
        v, pos = varint(body, pos)
        fields.append(v)
    flags, count = fields[2], fields[4]
    if flags & 0x8:
        return 0, flags
    if not flags & 0x100:
        return 1, flags
    for _ in range(2 * count):
        _, pos = varint(body, pos)
    repeats, pos = varint(body, pos)
    return 1 + repeats, flags


def main(path):
    data = open(path, "rb").read()
    chunk_size, = struct.unpack_from("<I", data, 20)
    claimed, = struct.unpack_from("<I", data, 32)
    threads = {}
    for c in range(claimed):
        base = 4096 + c * chunk_size
        if base + 16 > len(data) or struct.unpack_from("<I", data, base)[0] == 0:
            continue
        thread, = struct.unpack_from("<I", data, base + 4)
        pos = 16
        while pos + 4 <= chunk_size and base + pos + 4 <= len(data):
            head, = struct.unpack_from("<I", data, base + pos)
            if head == 0:
                break
            kind, length = head & 0xff, head >> 8
            body = data[base + pos + 4:base + pos + length]
            if kind == 7:
                thread, = struct.unpack_from("<I", body, 0)
            elif kind == 4:
                n, flags = samples_in(body)
                t = threads.setdefault(thread, [0, 0, 0, 0])
                t[0] += 1
                t[1] += n
                if flags & 0x4:
                    t[2] += 1
                    t[3] += n
            pos += (length + 3) & ~3
    for serial in sorted(threads):
        print(serial, *threads[serial])


if __name__ == "__main__":
    main(sys.argv[1])
