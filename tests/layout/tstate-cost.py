# tstate-cost.py - what pyintro_current_tstate() costs per call, here.
# usage: LD_PRELOAD=tstate-cost.so pythonX.Y tstate-cost.py tstate-cost.so
# (build: cc -O2 -shared -fPIC -Ipreload -I. -Iformat preload/layout.c
#  preload/pystack.c preload/remote.c preload/tstate.c preload/selfcheck.c
#  format/linetable.c tests/layout/tstate-cost.c
#  -ldl -lpthread -o tstate-cost.so).  Not run by make check: a number to
# quote, not a pass/fail.
import ctypes, sys, threading
so = sys.argv[1]
lib, nogil = ctypes.PyDLL(so), ctypes.CDLL(so)  # calls keep / release the GIL
for l in (lib, nogil):
    l.bench.restype = l.bench_foreign.restype = ctypes.c_double
f = ctypes.c_int()
ts = [threading.Thread(target=threading.Event().wait, args=(2,)) for _ in range(20)]
[t.start() for t in ts]
print("%d.%d" % sys.version_info[:2], "init", lib.init_rc(),
      "| GIL held: %.0f ns" % lib.bench(200000, ctypes.byref(f)), "found", f.value,
      "| GIL released: %.0f ns" % nogil.bench(200000, ctypes.byref(f)), "found", f.value,
      "| thread without a state: %.0f ns" % lib.bench_foreign(), "(20 other threads)")
