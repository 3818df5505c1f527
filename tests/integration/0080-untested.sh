#!/bin/sh
# A CPython newer than pyprof knows is profiled only after a self-check of
# what its _Py_DebugOffsets say passes on a live stack, and pyprof says so
# once on stderr; when the check fails, pyprof records nothing, says why
# once, and the program runs as it would without it.  There is no 3.16 to
# test with, so PYPROF_TEST_UNTESTED makes pyprof treat 3.13-3.15 as
# unknown ("skew": with its code-object offsets one word off, as a layout
# change would leave them).
. "$(dirname "$0")/setup.sh"

tested=0
for py in $pythons; do
	minor=$("$py" -c 'import sys; print(sys.version_info[1])')
	[ "$minor" -ge 13 ] || continue
	tested=$((tested + 1))
	v=$(pyver "$py")

	rm -rf "$work/out" && mkdir -p "$work/out"
	set +e
	PYPROF_TEST_UNTESTED=1 PYPROF_INTERVAL=1ms profile "$work/out" "$py" \
		"$targets/shares.py" "$work/truth.json" 1 >"$work/stdout" 2>"$work/stderr"
	rc=$?
	set -e
	n=$(grep -c "self-check" "$work/stderr" || true)
	if [ "$rc" -ne 0 ] || [ "$n" -ne 1 ] ||
	   ! grep -q "is untested .*passed pyprof's self-check.*profiling it" "$work/stderr"; then
		fail "$v as untested: exit $rc, stderr: $(cat "$work/stderr")"
	elif ! "$PYPROF_BIN" report --format collapsed "$work"/out/*.pyprof >"$work/collapsed" ||
	     ! grep -q "spin_a" "$work/collapsed"; then
		fail "$v as untested: no spin_a in the profile"
	else
		ok "$v as untested: self-check passed, said once, $(wc -l <"$work/collapsed") stacks"
	fi

	rm -rf "$work/out" && mkdir -p "$work/out"
	set +e
	PYPROF_TEST_UNTESTED=skew PYPROF_INTERVAL=1ms profile "$work/out" "$py" \
		"$targets/shares.py" "$work/truth.json" 1 >"$work/stdout" 2>"$work/stderr"
	rc=$?
	set -e
	n=$(grep -c "self-check" "$work/stderr" || true)
	samples=$("$PYPROF_BIN" info "$work"/out/*.pyprof 2>/dev/null | sed -n 's/^samples: *\([0-9]*\) read.*/\1/p')
	if [ "$rc" -ne 0 ] || [ "$n" -ne 1 ] ||
	   ! grep -q "failed pyprof's self-check (.*); not profiling" "$work/stderr"; then
		fail "$v skewed: exit $rc, stderr: $(cat "$work/stderr")"
	elif [ "${samples:-x}" != 0 ]; then
		fail "$v skewed: ${samples:-no} samples recorded, want 0"
	else
		ok "$v skewed: dormant, said once: $(sed -n 's/.*self-check (\(.*\)).*/\1/p' "$work/stderr")"
	fi
done
[ "$tested" -gt 0 ] || skip "no CPython 3.13 or later"
finish
