"""Prints the header fields of .pyprof files that the tests check, one
line per file: path state end_reason end_signal pid ppid samples signals
dropped sequence.  Reads
the bytes directly (see pyprof-format(5)), independently of the collector."""
import struct
import sys

for path in sys.argv[1:]:
    with open(path, "rb") as f:
        h = f.read(4096)
    if len(h) < 4096 or h[:8] != b"\x7fPYPROF\n":
        print(path, "not-a-pyprof-file")
        continue
    state, reason, sig = struct.unpack_from("<III", h, 36)
    pid, ppid = struct.unpack_from("<ii", h, 64)
    signals, samples = struct.unpack_from("<QQ", h, 168)
    dropped = sum(struct.unpack_from("<16Q", h, 184))
    sequence, = struct.unpack_from("<I", h, 896)
    print(path, ["writing", "complete"][state] if state < 2 else state,
          ["none", "exit", "_exit", "signal", "exec", "stop", "rotate"][reason] if reason < 7 else reason,
          sig, pid, ppid, samples, signals, dropped, sequence)
