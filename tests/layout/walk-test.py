# walk-test.py - does pystack_walk see what sys._getframe() sees?
#
# Run by walk-test.sh as: LD_PRELOAD=walk-test.so pythonX.Y walk-test.py SO
# Every check walks the current thread from a real SIGPROF handler (see
# walk-test.c) and compares, frame by frame, the code object's address,
# name, qualname, filename and first line, and lasti: exactly for the
# callers (f_lasti is in bytes on every version as Python reports it), and
# for the innermost frame by the line and opcode it points at.
# Prints "ok ..." and exits 0, prints "SKIP: ..." and exits 77, or prints
# "FAIL: ..." lines and exits 1.
import ctypes
import dis
import os
import sys
import threading
import time

SO = sys.argv[1]
VER = "%d.%d.%d" % sys.version_info[:3]
lib = ctypes.PyDLL(SO)     # calls keep the GIL
nogil = ctypes.CDLL(SO)    # calls release it
for f in (lib, nogil):
    f.walktest_run.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_int]
    f.walktest_str.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]

failures = []
checks = 0


def check(cond, what):
    global checks
    checks += 1
    if not cond:
        failures.append(what)
    return cond


def line_of(code, lasti):
    """The line lasti belongs to, from the line table as dis reads it."""
    line = None
    for off, ln in dis.findlinestarts(code):
        if off > lasti:
            break
        if ln is not None:
            line = ln
    return line


def opname_at(code, lasti):
    """The instruction lasti is in (3.11+: it may point into its caches)."""
    name = None
    for ins in dis.get_instructions(code):
        if ins.offset > lasti:
            break
        name = ins.opname
    return name


def walk(max_frames, dll):
    """Walks this thread from the handler.  Returns the header, the frame
    rows, and sys._getframe()'s view taken while every caller is still
    suspended at its call: (frame, f_lasti, f_lineno), innermost first."""
    buf = ctypes.create_string_buffer(1 << 20)
    here = sys._getframe()
    call_line = here.f_lineno + 1
    n = dll.walktest_run(buf, len(buf), max_frames)
    chain = []
    f = here
    while f is not None:
        chain.append((f, f.f_lasti, f.f_lineno))
        f = f.f_back
    chain[0] = (here, None, call_line)  # our own lasti has moved on
    text = buf.raw[:n].decode("utf-8")  # strict: proves pystr_utf8's output
    lines = text.split("\n")
    head = dict(kv.split("=") for kv in lines[0].split())
    rows = [l.split("\t") for l in lines[1:] if l]
    return {k: int(v) for k, v in head.items()}, rows, chain


def compare(label, max_frames=2048, dll=lib, gil=1):
    head, rows, chain = walk(max_frames, dll)
    want = chain[:max_frames]
    if not check(head["tstate"] == 1, "%s: no tstate" % label):
        return head
    check(head["gil"] == gil, "%s: gil %d, want %d" % (label, head["gil"], gil))
    if not check(head["n"] == len(want),
                 "%s: %d frames, sys._getframe has %d (%s)" % (
                     label, head["n"], len(want),
                     [r[3] for r in rows[:8]])):
        return head
    check(head["truncated"] == (len(chain) > max_frames),
          "%s: truncated=%d with %d frames, max %d"
          % (label, head["truncated"], len(chain), max_frames))
    for i, (row, (f, f_lasti, f_lineno)) in enumerate(zip(rows, want)):
        code = f.f_code
        where = "%s: frame %d (%s)" % (label, i, code.co_name)
        if not check(len(row) == 6, "%s: bad row %r" % (where, row)):
            continue
        lasti, first, addr, name, qual, fname = row
        lasti = int(lasti)
        check(int(addr) == id(code), where + ": code address")
        check(name == code.co_name, "%s: name %r" % (where, name))
        check(qual == getattr(code, "co_qualname", ""),
              "%s: qualname %r" % (where, qual))
        check(fname == code.co_filename, "%s: filename %r" % (where, fname))
        check(int(first) == code.co_firstlineno, "%s: firstlineno" % where)
        if f_lasti is not None:
            check(lasti == f_lasti,
                  "%s: lasti %d, f_lasti %d" % (where, lasti, f_lasti))
        check(line_of(code, lasti) == f_lineno,
              "%s: lasti %d is line %s, f_lineno %d"
              % (where, lasti, line_of(code, lasti), f_lineno))
        # every frame here is suspended in a call; iterating a map() whose
        # function is Python code calls from FOR_ITER
        op = opname_at(code, lasti) or ""
        check(op.startswith(("CALL", "PRECALL", "FOR_ITER")),
              "%s: lasti %d is %r, not a call" % (where, lasti, op))
    return head


# --- the stacks ------------------------------------------------------------

def capture(label, **kw):
    return compare(label, **kw)


def 𠀀𠀁(label):                   # 4-byte kind (CJK extension B)
    return capture(label)


def 日本語(label):                  # 2-byte kind
    return 𠀀𠀁(label)


class Ünïcödé:                      # 1-byte kind, non-ASCII
    def __init__(self, label):
        self.r = 日本語(label) if label else None

    def méthode(self, label):
        # warm the call site up so that 3.12+ specializes it and pushes
        # its __init__ cleanup shim frame; only the last one walks
        return [x for x in map(lambda l: Ünïcödé(l).r, [None] * 100 +
                                                        [label])][-1]


def café_ünï(label):
    def gen():
        yield Ünïcödé.méthode(None, label)
    return next(gen())


def deep(k, label, max_frames):
    if k:
        return deep(k - 1, label, max_frames)
    return capture(label, max_frames=max_frames)


def depth():
    n, f = 0, sys._getframe(1)
    while f is not None:
        n, f = n + 1, f.f_back
    return n


def exact(k, label):
    if k:
        return exact(k - 1, label)
    d = depth()   # frames above this one
    compare(label + " max=depth", max_frames=d + 1)
    compare(label + " max=depth-1", max_frames=d)


def strings():
    samples = ["", "abc", "café", "ünï\xff", "日本語", "a日b本", "𠀀𠀁x",
               "e\u0301", "\ud800x", "mixed é 日 𠀀", "x" * 300]
    for s in samples:
        want = s.encode("utf-8", "replace" if "\ud800" in s else "strict")
        if "\ud800" in s:
            want = s.replace("\ud800", "\ufffd").encode("utf-8")
        for cap in range(len(want) + 2):
            buf = ctypes.create_string_buffer(cap + 1)
            n = lib.walktest_str(id(s), buf, cap)
            got = buf.raw[:max(n, 0)]
            # the longest prefix of whole characters that fits in cap
            pre = b""
            for ch in s.replace("\ud800", "\ufffd"):
                b = ch.encode("utf-8")
                if len(pre) + len(b) > cap:
                    break
                pre += b
            if not check(n == len(pre) and got == pre,
                         "pystr_utf8(%r, cap %d) = %d %r, want %r"
                         % (s, cap, n, got, pre)):
                break
    for obj in (5, b"bytes", 1.5, None, ["x"]):
        buf = ctypes.create_string_buffer(16)
        check(lib.walktest_str(id(obj), buf, 16) == -1,
              "pystr_utf8 accepted %r" % (obj,))


def churn(seconds):
    """Calls, returns, generators, comprehensions, exceptions and short
    threads under ITIMER_PROF: every sample on a Python thread must walk."""
    def rec(k):
        return rec(k - 1) + 1 if k else sum(i for i in range(50))

    def work():
        end = time.time() + seconds
        while time.time() < end:
            rec(30)
            [str(i) for i in range(20)]
            try:
                int("x")
            except ValueError:
                pass
            sorted(range(30), key=lambda v: -v)

    lib.walktest_sample_start(200)
    ts = [threading.Thread(target=work) for _ in range(3)]
    for t in ts:
        t.start()
    work()
    for t in ts:
        t.join()
    end = time.time() + seconds / 4
    while time.time() < end:  # threads coming and going
        t = threading.Thread(target=rec, args=(5,))
        t.start()
        t.join()
    counts = (ctypes.c_long * 6)()
    lib.walktest_sample_stop(counts)
    none, empty, walked, bad, trunc, badname = counts
    check(walked > 50, "churn: only %d samples walked (%r)" % (walked, list(counts)))
    # 3.11/3.12 publish a new eval loop's cframe before filling it in;
    # pystack_walk rejects a sample caught there (see first_frame()).
    allowed = (walked + bad) // 50 if sys.version_info[:2] in ((3, 11), (3, 12)) else 0
    check(bad <= allowed, "churn: %d of %d walks rejected (%d allowed)"
          % (bad, walked + bad, allowed))
    check(badname == 0, "churn: %d unreadable names" % badname)
    return walked, bad


def main():
    preloaded = SO in os.environ.get("LD_PRELOAD", "")
    found = ctypes.c_int(-1)
    rc = lib.walktest_ctor(ctypes.byref(found))
    why = ctypes.create_string_buffer(256)
    st, minor = ctypes.c_int(), ctypes.c_int()
    rc2 = lib.walktest_init(why, len(why), ctypes.byref(st), ctypes.byref(minor))
    if rc2 != 0:
        print("SKIP: %s %s: pyintro_init %d: %s"
              % (VER, sys.executable, rc2, why.value.decode() or
                 "not a CPython it can read (no _PyRuntime)"))
        sys.exit(77)
    if preloaded:
        check(rc == 0, "pyintro_init before Py_Initialize returned %d" % rc)
        check(found.value == 0, "a tstate before Py_Initialize")
    check(lib.walktest_foreign_thread() == 0, "tstate on a non-Python thread")
    check(lib.walktest_finalizing() == 0, "finalizing while running")

    café_ünï("names")
    compare("GIL released", dll=nogil, gil=0)

    out = []
    t = threading.Thread(target=lambda: out.append(café_ünï("thread")))
    t.start()
    t.join()
    check(len(out) == 1, "thread did not finish")

    sys.setrecursionlimit(10000)
    head = deep(3000, "deep", 2048)
    check(head.get("truncated") == 1 and head.get("n") == 2048,
          "deep: %r" % head)
    exact(50, "exact")
    strings()
    samples = churn(float(os.environ.get("WALKTEST_CHURN_SECONDS", "1")))

    if failures:
        for f in failures[:40]:
            print("FAIL: %s %s: %s" % (VER, sys.executable, f))
        sys.exit(1)
    print("ok %s %s (%d checks, %d timer samples walked, %d rejected, %s%s)" % (
        VER, sys.executable, checks, samples[0], samples[1],
        "static libpython" if st.value else "libpython.so",
        ", preloaded" if preloaded else ""))


main()
