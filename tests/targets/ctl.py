"""A service that does what it is told through files, for pyprof ctl.

Prints its pid, then for each phase name the test writes into DIR/go (one
line each), spins in a function of that name for SPIN seconds and writes
DIR/done.N (N counting from 1); "exit" ends it.  Run by
tests/integration/0540-ctl.sh with PYPROF_START=0 and PYPROF_CONTROL=1.
"""
import os
import sys
import time


def spin(seconds):
    # the clock is read once per 10,000 additions: time spent in user
    # mode, where the perf source counts (libpyprof(7), Sources)
    end = time.process_time() + seconds
    n = 0
    while time.process_time() < end:
        for i in range(10000):
            n += i
    return n


def before():
    spin(SPIN)


def phase_one():
    spin(SPIN)


def phase_two():
    spin(SPIN)


def after():
    spin(SPIN)


SPIN = float(os.environ.get("SPIN", "0.3"))
PHASES = {f.__name__: f for f in (before, phase_one, phase_two, after)}

if __name__ == "__main__":
    d = sys.argv[1]
    print(os.getpid(), flush=True)
    seen = 0
    while True:
        try:
            with open(os.path.join(d, "go")) as f:
                lines = f.read().split()
        except FileNotFoundError:
            lines = []
        if len(lines) > seen:
            name = lines[seen]
            seen += 1
            if name == "exit":
                break
            PHASES[name]()
            with open(os.path.join(d, "done.%d" % seen), "w"):
                pass
        else:
            time.sleep(0.01)
