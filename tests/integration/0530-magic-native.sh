#!/bin/sh
# %pyprof --native in IPython: the extension loads the library with native
# stacks on (with dlopen, not preloaded), and the cell's report shows the C
# under its Python caller, the interpreter's and IPython's frames hidden;
# --native asked of a library already loaded without it is refused with
# a line that says so; without PYPROF_INTERVAL the magic samples every
# 1 ms.
. "$(dirname "$0")/setup.sh"

find_ipython
ipv=$("$ipy" -c 'import IPython; print(IPython.__version__)')

cat >"$work/session" <<'PY'
%load_ext pyprof
import os, zlib
data = os.urandom(1 << 20)
def squeeze():
    for i in range(6):
        zlib.compress(data, 9)
print("== native")
%pyprof --native --min-percent 0 squeeze()
print("== end")
PY
IPYTHONDIR=$work/ipython PYTHONPATH=$top_srcdir/python PYPROF_INTERVAL=1ms \
	"$ipy" -m IPython --simple-prompt --no-banner --HistoryManager.enabled=False \
	--colors=NoColor <"$work/session" >"$work/out" 2>&1 || fail "IPython $ipv exited with $?"
sed -n '/== native/,/== end/p' "$work/out" >"$work/native"
sed 's/^/    /' "$work/native" | head -14
first=$(grep -m1 -E '^(In \[[0-9]+\]: )?[0-9]+\.[0-9]+ +[0-9.]+%  ' "$work/native" | sed 's/^In \[[0-9]*\]: //')
case $first in
*"<module>  <pyprof-cell>:1") ok "IPython $ipv: the report's root is the statement: $first" ;;
*) fail "IPython $ipv: the report's root: $first" ;;
esac
if grep -q 'squeeze  <ipython-input' "$work/native" &&
	grep -q 'zlib_compress  \[' "$work/native" && grep -q 'deflate  \[libz' "$work/native"; then
	ok "IPython $ipv: %pyprof --native shows squeeze -> zlib_compress -> deflate"
else
	fail "IPython $ipv: no native frames under squeeze: $(head -12 "$work/native")"
fi
if grep -Eq '_PyEval_EvalFrame|interactiveshell|run_cell' "$work/native"; then
	fail "IPython $ipv: machinery shown: $(grep -Em2 '_PyEval_EvalFrame|interactiveshell|run_cell' "$work/native")"
else
	ok "IPython $ipv: no interpreter or IPython frames in the report"
fi

cat >"$work/session2" <<'PY'
%load_ext pyprof
def spin():
    x = 0
    for i in range(3000000):
        x += i
%pyprof spin()
%pyprof --native sum(range(100000))
PY
IPYTHONDIR=$work/ipython PYTHONPATH=$top_srcdir/python \
	"$ipy" -m IPython --simple-prompt --no-banner --HistoryManager.enabled=False \
	--colors=NoColor <"$work/session2" >"$work/out2" 2>&1 || true
# no PYPROF_INTERVAL: the extension's own default, 1 ms, gives a loop of
# a few tenths of a second ten times the samples the library's 10 ms would
n=$(sed -n 's/.*MainThread (pid [0-9]*, tid [0-9]*): \([0-9]*\) samples, \([0-9.]*\) s CPU.*/\1 \2/p' "$work/out2" | head -1)
set -- $n
if [ -n "${1:-}" ] && awk -v n="$1" -v s="$2" 'BEGIN { exit !(s > 0 && n / s >= 400) }'; then
	ok "IPython $ipv: the magic samples every 1 ms by default ($1 samples in $2 s CPU)"
else
	fail "IPython $ipv: ${1:-no} samples for ${2:-?} s of CPU: $(grep -m2 MainThread "$work/out2")"
fi
if grep -q 'pyprof: --native is fixed when the library loads' "$work/out2"; then
	ok "IPython $ipv: --native after a load without it says why it is ignored"
else
	fail "IPython $ipv: $(tail -5 "$work/out2")"
fi
finish
