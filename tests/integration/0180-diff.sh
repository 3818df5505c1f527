#!/bin/sh
# pyprof diff BASE NEW: a program run twice with its work moved from one
# function to another shows both changes, with their signs and sizes, each
# as a share of its own run; a function found on one side only is marked;
# bad usage is refused with the reason.
. "$(dirname "$0")/setup.sh"

py=$(echo "$pythons" | head -n 1)
cat >"$work/work.py" <<'PY'
import sys, time
def spin(s):
    t = time.thread_time() + s
    while time.thread_time() < t:
        pass
def parse(s):
    spin(s)
def render(s):
    spin(s)
def only_new():
    spin(0.1)
a, b = float(sys.argv[1]), float(sys.argv[2])
parse(a)
render(b)
if len(sys.argv) > 3:
    only_new()
PY
PYPROF_INTERVAL=1ms profile "$work/base" "$py" "$work/work.py" 0.3 0.1
PYPROF_INTERVAL=1ms profile "$work/new" "$py" "$work/work.py" 0.1 0.3 new
if "$PYPROF_BIN" diff "$work/base" "$work/new" >"$work/diff.txt" 2>"$work/err"; then
	ok "diff of two directories"
else
	fail "diff failed: $(cat "$work/err")"
fi
sed 's/^/    /' "$work/diff.txt" | head -12
# change of parse's and render's total share: about -55 and +35 points
# (0.3 of 0.4 s -> 0.1 of 0.5 s; 0.1 of 0.4 -> 0.3 of 0.5)
check_row() {
	line=$(grep "  $1  " "$work/diff.txt" | head -1)
	# fields: self base, new, change, total base, new, change
	set -- $line "$2" "$3"
	eval want_lo=\${$(($#-1))} want_hi=\${$#}
	change=${6%.*}
	change=${change#+}
	if [ -n "$line" ] && [ "$change" -ge "$want_lo" ] && [ "$change" -le "$want_hi" ]; then
		ok "$line"
	else
		fail "row for the function: '$line' (want a total change in [$want_lo, $want_hi])"
	fi
}
check_row parse -65 -45
check_row render 25 45
if grep -q "  only_new  .*(new)" "$work/diff.txt"; then
	ok "a function of NEW only is marked (new)"
else
	fail "no (new) row for only_new"
fi
# the rows come by the size of their larger change, largest first
first=$(sed -n 4p "$work/diff.txt")
case $first in
*"  parse  "*) ok "the first row is the largest change: $first" ;;
*) fail "first row: $first" ;;
esac
set +e
"$PYPROF_BIN" diff "$work/base" >"$work/out" 2>"$work/err"
rc=$?
set -e
if [ "$rc" -eq 2 ] && grep -q "expected BASE and NEW" "$work/err"; then
	ok "one argument: exit 2, $(head -1 "$work/err")"
else
	fail "one argument: exit $rc, $(cat "$work/err")"
fi
finish
