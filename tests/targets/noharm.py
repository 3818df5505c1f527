"""What a program sees of its own signals, descriptors and limits.

Each case prints what it observed; tests/integration/0400-no-harm.sh runs
it with and without the preload and wants the same output and the same
exit status.  Cases that burn CPU do so long enough for pyprof's timers to
fire hundreds of times.
"""
import ctypes
import os
import resource
import signal
import sys
import threading
import time


def spin(seconds):
    end = time.process_time() + seconds
    n = 0
    while time.process_time() < end:
        n += 1
    return n


def c_handler(sig):
    """The handler value sigaction(2) reports, as C sees it."""
    libc = ctypes.CDLL(None, use_errno=True)
    buf = ctypes.create_string_buffer(256)  # larger than struct sigaction
    if libc.sigaction(sig, None, buf) != 0:
        return "error %d" % ctypes.get_errno()
    h = ctypes.c_void_p.from_buffer(buf).value or 0
    return {0: "SIG_DFL", 1: "SIG_IGN"}.get(h, "a handler")


def case_signals():
    for name in ("SIGTERM", "SIGPROF", "SIGBUS", "SIGINT", "SIGXFSZ"):
        sig = getattr(signal, name)
        old = signal.getsignal(sig)
        print(name, "getsignal:", old, "C:", c_handler(sig))
        # the save-and-restore idiom of servers and test runners
        signal.signal(sig, lambda s, f: None)
        print(name, "set: C:", c_handler(sig))
        signal.signal(sig, old)
        print(name, "restored:", signal.getsignal(sig), "C:", c_handler(sig))
    # C's signal(3) returns the previous handler
    libc = ctypes.CDLL(None)
    libc.signal.restype = ctypes.c_void_p
    libc.signal.argtypes = (ctypes.c_int, ctypes.c_void_p)
    prev = libc.signal(signal.SIGPROF, 1)  # SIG_IGN
    back = libc.signal(signal.SIGPROF, prev)
    print("signal(3): previous", prev or 0, "then", back)


def case_own_sigprof():
    got = []
    signal.signal(signal.SIGPROF, lambda s, f: got.append(s))
    spin(0.4)
    print("own SIGPROF handler, no timer:", len(got), "calls")
    signal.setitimer(signal.ITIMER_PROF, 0.005, 0.005)
    spin(0.3)
    signal.setitimer(signal.ITIMER_PROF, 0, 0)
    print("with its own timer: called", "yes" if len(got) > 5 else "no")
    signal.signal(signal.SIGPROF, signal.SIG_DFL)
    spin(0.2)
    print("back to SIG_DFL: alive")


def case_kill(signame):
    sig = getattr(signal, signame)
    spin(0.1)
    print("sending", signame, flush=True)
    os.kill(os.getpid(), sig)
    time.sleep(0.5)
    print("survived", signame)


def case_first_fd():
    fd = os.open(os.devnull, os.O_RDONLY)
    print("first open:", fd)
    os.close(fd)
    r, w = os.pipe()
    print("pipe:", r, w)


def case_spin_threads(seconds):
    ts = [threading.Thread(target=spin, args=(seconds,)) for _ in range(3)]
    for t in ts:
        t.start()
    spin(seconds)
    for t in ts:
        t.join()
    print("done")


def case_fsize():
    # what a program that manages its own file sizes does
    signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (300 * 1024, hard))
    case_spin_threads(0.8)


def case_nofile():
    # uses every descriptor its limit allows, then opens one more after
    # closing one: that open must succeed
    # (a first thread before that: glibc loads libgcc_s when a thread
    # exits, which needs a descriptor of its own)
    t = threading.Thread(target=spin, args=(0.05,))
    t.start()
    t.join()
    # join() returns before the thread has left pthread_exit (where the
    # load happens): wait for the thread itself to be gone
    while os.path.exists("/proc/self/task/%d" % t.native_id):
        time.sleep(0.01)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, hard))
    fds = []
    try:
        while True:
            fds.append(os.open(os.devnull, os.O_RDONLY))
    except OSError as e:
        print("limit reached:", e.strerror, "after", len(fds) > 40)
    os.close(fds.pop())
    fds.append(os.open(os.devnull, os.O_RDONLY))
    print("reopened one")
    spin(0.2)
    t = threading.Thread(target=spin, args=(0.2,))
    t.start()
    t.join()
    print("thread ran")
    for fd in fds:
        os.close(fd)


def spinners(seconds, n=2):
    ts = [threading.Thread(target=spin, args=(seconds,), daemon=True)
          for _ in range(n)]
    for t in ts:
        t.start()
    return ts


def case_fork_in_thread():
    import warnings
    warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: fork with threads
    ts = spinners(0.4)
    status = []

    def forker():
        spin(0.05)
        pid = os.fork()
        if pid == 0:
            spin(0.1)
            os._exit(5)
        status.append(os.waitpid(pid, 0)[1])
    t = threading.Thread(target=forker)
    t.start()
    t.join()
    for x in ts:
        x.join()
    print("child of a thread exited", os.waitstatus_to_exitcode(status[0])
          if hasattr(os, "waitstatus_to_exitcode") else status[0] >> 8)


def case_spawn():
    import subprocess
    ts = spinners(0.3)
    pid = os.posix_spawn("/bin/sh", ["/bin/sh", "-c", "exit 6"], os.environ)
    print("posix_spawn:", os.waitpid(pid, 0)[1] >> 8)
    # subprocess forks with vfork where it can (3.10+)
    r = subprocess.run(["/bin/sh", "-c", "echo from sh; exit 7"],
                       stdout=subprocess.PIPE)
    print("subprocess:", r.returncode, r.stdout.decode().strip())
    r = subprocess.run([sys.executable, "-c", "print(6 * 7)"],
                       stdout=subprocess.PIPE)
    print("python child:", r.returncode, r.stdout.decode().strip())
    for t in ts:
        t.join()


def case_fork():
    # CPython 3.12 and later warn (DeprecationWarning, shown in __main__)
    # when a process that forks has more than one thread
    pid = os.fork()
    if pid == 0:
        os._exit(3)
    print("child exited", os.waitpid(pid, 0)[1] >> 8)


def case_exec_from_thread():
    spinners(1.0)

    def execer():
        spin(0.1)
        sys.stdout.flush()
        os.execv("/bin/sh", ["/bin/sh", "-c", "echo sh after exec; exit 9"])
    t = threading.Thread(target=execer)
    t.start()
    t.join()


CASES = {
    "fork": case_fork,
    "fork-in-thread": case_fork_in_thread,
    "spawn": case_spawn,
    "exec-from-thread": case_exec_from_thread,
    "signals": case_signals,
    "own-sigprof": case_own_sigprof,
    "kill-prof": lambda: case_kill("SIGPROF"),
    "kill-term": lambda: case_kill("SIGTERM"),
    "first-fd": case_first_fd,
    "spin": lambda: case_spin_threads(float(os.environ.get("SPIN", "1.0"))),
    "fsize": case_fsize,
    "nofile": case_nofile,
}

if __name__ == "__main__":
    CASES[sys.argv[1]]()
