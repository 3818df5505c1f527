"""The control channel's round trip (libpyprof(7), CONTROL CHANNEL).

Starts a Python process with PYPROF_START=0 and PYPROF_CONTROL=1 that
computes meanwhile, then times
  - `pyprof ctl PID status`, the whole command (exec, finding the socket
    in /proc, the request and its answer), ROUNDS times;
  - the request alone: one datagram to the process's socket and its
    answer, from here, ROUNDS x 20 times;
and prints the median and the 90th percentile of each, in milliseconds;
and before that, what the channel costs while nobody asks: the context
switches and CPU ticks of the pyprof-ctl thread over IDLE seconds (its
wake-ups, which a loaded machine's noise cannot hide the way it hides a
wall-time ratio).

usage: python3 bench/ctl.py LIBPYPROF.so PYPROF-BIN [PYTHON] [ROUNDS] [IDLE]"""
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

lib = os.path.abspath(sys.argv[1])
pyprof = os.path.abspath(sys.argv[2])
python = sys.argv[3] if len(sys.argv) > 3 else sys.executable
rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 50
idle = float(sys.argv[5]) if len(sys.argv) > 5 else 10

BUSY = "import time\nend = time.time() + 600\nn = 0\nwhile time.time() < end:\n    n += 1\n"


def ctl_thread(pid):
    """(context switches, utime + stime ticks) of pid's pyprof-ctl thread"""
    for tid in os.listdir("/proc/%d/task" % pid):
        d = "/proc/%d/task/%s/" % (pid, tid)
        with open(d + "comm") as f:
            if f.read().strip() != "pyprof-ctl":
                continue
        with open(d + "status") as f:
            sw = sum(int(l.split()[1]) for l in f
                     if l.split(":")[0].endswith("ctxt_switches"))
        with open(d + "stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return sw, int(fields[11]) + int(fields[12])
    raise SystemExit("no pyprof-ctl thread in %d" % pid)


def summary(name, xs):
    xs = sorted(xs)
    p90 = xs[int(len(xs) * 0.9) - 1]
    print("%-40s median %7.3f ms  p90 %7.3f ms  (%d)" %
          (name, statistics.median(xs) * 1e3, p90 * 1e3, len(xs)))


with tempfile.TemporaryDirectory() as d:
    env = dict(os.environ, LD_PRELOAD=lib, PYPROF_START="0",
               PYPROF_CONTROL="1", PYPROF_OUTPUT=d)
    target = subprocess.Popen([python, "-c", BUSY], env=env)
    try:
        time.sleep(0.5)
        sw0, cpu0 = ctl_thread(target.pid)
        time.sleep(idle)
        sw1, cpu1 = ctl_thread(target.pid)
        print("idle %.0f s: the pyprof-ctl thread switched %d times, used %d ticks of CPU"
              % (idle, sw1 - sw0, cpu1 - cpu0))
        whole = []
        for _ in range(rounds):
            t = time.perf_counter()
            subprocess.run([pyprof, "ctl", str(target.pid), "status"],
                           check=True, stdout=subprocess.DEVNULL)
            whole.append(time.perf_counter() - t)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.bind("")  # autobind: an address for the answer
        s.connect("\0pyprof-ctl-%d" % target.pid)
        alone = []
        for _ in range(rounds * 20):
            t = time.perf_counter()
            s.send(b"status")
            s.recv(8192)
            alone.append(time.perf_counter() - t)
        summary("pyprof ctl PID status (whole command)", whole)
        summary("one request and its answer", alone)
    finally:
        target.kill()
        target.wait()
