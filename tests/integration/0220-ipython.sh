#!/bin/sh
# A whole IPython session under the preload: each executed cell is a top
# frame of the main thread, labelled In [N]; IPython's machinery
# (run_cell, _pseudo_sync_runner, run_ast_nodes, ...) is hidden by the
# ipython preset, applied because the profile comes from IPython; time
# at the prompt is not counted (CPU mode); --show-all brings it all back.
. "$(dirname "$0")/setup.sh"

find_ipython
v=$(pyver "$ipy")
ipv=$("$ipy" -c 'import IPython; print(IPython.__version__)')

cat >"$work/cells" <<'PY'
def spin(n):
    x = 0
    for i in range(n):
        x += i
    return x

spin(2_000_000)
spin(4_000_000)
import time; time.sleep(0.5)
PY
IPYTHONDIR=$work/ipython
export IPYTHONDIR
PYPROF_INTERVAL=1ms profile "$work/out" "$ipy" -m IPython --simple-prompt -i --no-banner \
	--HistoryManager.enabled=False --colors=NoColor <"$work/cells" >"$work/ipython.log" 2>&1 ||
	fail "$v ipython exited with $?"

"$PYPROF_BIN" report --depth 1 --min-percent 0 --ascii "$work/out" >"$work/top"
"$PYPROF_BIN" report --format collapsed "$work/out" >"$work/c"
"$PYPROF_BIN" report --format collapsed --show-all "$work/out" >"$work/all"

for n in 2 3; do
	grep -q "^[0-9.]* *[0-9.]*%  In \[$n\]$" "$work/top" && ok "IPython $ipv ($v): cell $n is a top frame, In [$n]" ||
		fail "IPython $ipv: no top frame In [$n]"
done
grep -q '^MainThread;In \[3\];spin (<ipython-input-1-' "$work/c" &&
	ok "IPython $ipv: spin() under In [3], defined in cell 1" || fail "IPython $ipv: In [3];spin"
for f in run_cell _pseudo_sync_runner run_ast_nodes run_code mainloop interact start_ipython; do
	if grep -q "[;.]$f (" "$work/c"; then
		fail "IPython $ipv: $f visible by default"
	elif grep -q "[;.]$f (" "$work/all"; then
		ok "IPython $ipv: $f hidden, back with --show-all"
	else
		fail "IPython $ipv: $f not even in --show-all"
	fi
done
grep -q 'In \[' "$work/all" && fail "IPython $ipv: --show-all still relabels cells" ||
	ok "IPython $ipv: --show-all shows cells as recorded (<ipython-input-N-...>)"
# the prompt and time.sleep wait: the session's CPU is about the cells'
total=$(awk '/^MainThread/ {print $(NF-2); exit}' "$work/top")
cells=$(awk '/In \[[0-9]+\]$/ {s += $1} END {printf "%.3f", s}' "$work/top")
if awk -v t="$total" 'BEGIN {exit !(t < 5)}'; then
	ok "IPython $ipv: $total s CPU in all, $cells s in cells: the prompt and sleep are not counted"
else
	fail "IPython $ipv: $total s CPU for a short session"
fi
# a profile read with an explicit --preset ipython says the same
"$PYPROF_BIN" report --format collapsed --preset ipython "$work/out" | cmp -s - "$work/c" &&
	ok "IPython $ipv: detected from the profile (same as --preset ipython)" ||
	fail "IPython $ipv: detection differs from --preset ipython"
finish
