"""The cost of changing a signal's disposition under pyprof.

pyprof interposes sigaction(2) and friends so that the program keeps its own
view of the signals pyprof claims (SIGPROF, SIGTERM, SIGBUS); a call for any
other signal passes straight to libc.  This times, inside one interpreter,
signal.signal() for a claimed signal (SIGPROF) and for an unclaimed one
(SIGUSR1), and libc's sigaction() read through ctypes for both.  Run it
with and without the preload and compare (bench/README.md):

    python3 bench/sigaction.py
    LD_PRELOAD=build/.libs/libpyprof.so PYPROF_OUTPUT=/tmp python3 bench/sigaction.py
"""
import ctypes
import signal
import timeit

N = 200000


def handler(s, f):
    pass


def per_call(stmt, setup="pass"):
    best = min(timeit.repeat(stmt, setup, number=N, repeat=5, globals=globals()))
    return best / N * 1e9


libc = ctypes.CDLL(None)
buf = ctypes.create_string_buffer(256)
sa = libc.sigaction

for name in ("SIGPROF", "SIGUSR1"):
    sig = getattr(signal, name)
    ns_set = per_call("signal.signal(%d, handler)" % sig)
    ns_read = per_call("sa(%d, None, buf)" % sig)
    signal.signal(sig, signal.SIG_DFL)
    print("%-8s signal.signal %7.0f ns   sigaction(read) via ctypes %7.0f ns"
          % (name, ns_set, ns_read))
