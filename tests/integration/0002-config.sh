#!/bin/sh
# A bad PYPROF_* value: one line on stderr naming it, no file, and the
# program runs exactly as it would without pyprof.
. "$(dirname "$0")/setup.sh"

py=$(echo "$pythons" | head -n 1)
prog='import sys; print("out"); sys.stderr.write("err\n"); sys.exit(5)'

for bad in PYPROF_INTERVAL=10 PYPROF_INTERVAL=fast PYPROF_MODE=gpu \
	PYPROF_MAX_SIZE=12X PYPROF_ENABLE=maybe PYPROF_SOURCE=hpet \
	'PYPROF_OUTPUT=x%q'; do
	rm -rf "$work/out" && mkdir -p "$work/out"
	set +e
	(cd "$work/out" && env "$bad" LD_PRELOAD=$PYPROF_LIB "$py" -c "$prog") \
		>"$work/stdout" 2>"$work/stderr"
	status=$?
	set -e
	var=${bad%%=*}
	lines=$(grep -c pyprof "$work/stderr" || true)
	if [ "$status" -ne 5 ]; then
		fail "$bad: exit status $status, want 5"
	elif [ "$(cat "$work/stdout")" != out ]; then
		fail "$bad: stdout changed: $(cat "$work/stdout")"
	elif [ "$lines" -ne 1 ] || ! grep -q "$var" "$work/stderr"; then
		fail "$bad: want one line naming $var, got: $(cat "$work/stderr")"
	elif ! grep -qx err "$work/stderr"; then
		fail "$bad: the program's own stderr is missing"
	elif [ -n "$(ls -A "$work/out")" ]; then
		fail "$bad: left files: $(ls "$work/out")"
	else
		ok "$bad: refused in one line, program untouched"
	fi
done

# PYPROF_ENABLE=0: silent and dormant.
rm -rf "$work/out" && mkdir -p "$work/out"
set +e
(cd "$work/out" && PYPROF_ENABLE=0 LD_PRELOAD=$PYPROF_LIB "$py" -c "$prog") >"$work/stdout" 2>"$work/stderr"
status=$?
set -e
if [ "$status" -eq 5 ] && [ "$(cat "$work/stderr")" = err ] && [ -z "$(ls -A "$work/out")" ]; then
	ok "PYPROF_ENABLE=0: dormant and silent"
else
	fail "PYPROF_ENABLE=0: status $status, stderr $(cat "$work/stderr"), files $(ls "$work/out")"
fi
finish
