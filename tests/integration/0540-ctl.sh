#!/bin/sh
# pyprof ctl on a running process started with PYPROF_START=0 and
# PYPROF_CONTROL=1: nothing recorded before `start`, the window between
# `start` and `stop` holds what ran then and nothing else, `mark` is in
# the file, `status` tells; and ctl's errors: no such process, not
# profiled, profiled without the channel, another user's process, bad
# usage.
. "$(dirname "$0")/setup.sh"

prog=$targets/ctl.py

# go PHASE N: tells the target to run PHASE and waits for it (done.N)
go() {
	echo "$1" >>"$work/run/go"
	for _ in $(seq 200); do
		[ -e "$work/run/done.$2" ] && return 0
		sleep 0.05
	done
	fail "$tag: phase $1 did not finish"
	return 1
}

# launch ENV...: the target in the background; sets $pid (its own, as it
# says: a chroot's interpreter runs under a wrapper)
launch() {
	rm -rf "$work/run" "$work/out" && mkdir -p "$work/run" "$work/out"
	: >"$work/run/pid"
	env "$@" PYPROF_OUTPUT="$work/out" LD_PRELOAD="$PYPROF_LIB" \
		"$py" "$prog" "$work/run" >"$work/run/pid" 2>"$work/run/err" &
	bg=$!
	pid=
	for _ in $(seq 200); do
		pid=$(cat "$work/run/pid" 2>/dev/null || true)
		[ -n "$pid" ] && break
		sleep 0.05
	done
}

ctl() { "$PYPROF_BIN" ctl "$pid" "$@" 2>"$work/ctl.err"; }

# field KEY: its value in the status in $work/status
field() { sed -n "s/^$1: //p" "$work/status"; }

for py in $pythons; do
	tag=$(pyver "$py")
	launch PYPROF_START=0 PYPROF_CONTROL=1 PYPROF_INTERVAL=1ms SPIN=0.15
	if [ -z "$pid" ]; then
		fail "$tag: the target did not start: $(cat "$work/run/err")"
		continue
	fi
	if ctl status >"$work/status" && [ "$(field recording)" = off ] &&
	   field file | grep -q '^none'; then
		ok "$tag: status before start: not recording, no file"
	else
		fail "$tag: status before start: $(cat "$work/status" "$work/ctl.err")"
	fi
	go before 1
	if ctl start && ctl status >"$work/status" &&
	   [ "$(field recording)" = on ] && [ -f "$(field file)" ]; then
		ok "$tag: start: recording into $(basename "$(field file)")"
	else
		fail "$tag: start: $(cat "$work/status" "$work/ctl.err")"
	fi
	go phase_one 2
	ctl mark middle || fail "$tag: mark: $(cat "$work/ctl.err")"
	go phase_two 3
	ctl stop || fail "$tag: stop: $(cat "$work/ctl.err")"
	ctl status >"$work/status"
	recorded=$(field samples)
	if [ "$(field recording)" = off ] && [ "${recorded:-0}" -gt 0 ]; then
		ok "$tag: stop: not recording, $recorded samples"
	else
		fail "$tag: status after stop: $(cat "$work/status" "$work/ctl.err")"
	fi
	if ctl stop; then
		fail "$tag: a second stop succeeded"
	elif grep -q "no window is open" "$work/ctl.err"; then
		ok "$tag: a second stop: $(cat "$work/ctl.err")"
	else
		fail "$tag: a second stop: $(cat "$work/ctl.err")"
	fi
	go after 4
	echo exit >>"$work/run/go"
	wait "$bg" || fail "$tag: the target exited $?: $(cat "$work/run/err")"

	f=$(ls "$work"/out/*.pyprof 2>/dev/null)
	if [ "$(echo "$f" | wc -w)" -ne 1 ]; then
		fail "$tag: want one file, got: $(ls "$work/out")"
		continue
	fi
	"$PYPROF_BIN" info "$f" >"$work/info"
	header=$(sed -n 's/.*(header: \([0-9]*\) committed.*/\1/p' "$work/info")
	if [ "$header" = "$recorded" ]; then
		ok "$tag: the file holds the $recorded samples status counted, none after stop"
	else
		fail "$tag: status said $recorded samples, the file $header"
	fi
	if grep -q "^marks: *3: start ctl +[0-9.]* s, mark middle +[0-9.]* s, stop ctl +[0-9.]* s$" "$work/info"; then
		ok "$tag: info: $(grep '^marks' "$work/info")"
	else
		fail "$tag: marks: $(grep '^marks' "$work/info")"
	fi
	"$PYPROF_BIN" report --show-all --window ctl "$f" >"$work/report" 2>&1
	if grep -q phase_one "$work/report" && grep -q phase_two "$work/report" &&
	   ! grep -q "before\|after" "$work/report"; then
		ok "$tag: report --window ctl: phase_one and phase_two, not before or after"
	else
		fail "$tag: report --window ctl: $(head -20 "$work/report")"
	fi
done

# The errors are the collector's alone: once.
py=$(echo "$pythons" | head -n 1)
tag=$(pyver "$py")

# expect_error WHAT PATTERN: the last ctl failed, saying PATTERN
expect_error() {
	if [ "$rc" -ne 0 ] && grep -q "$2" "$work/ctl.err"; then
		ok "$1: exit $rc, $(cat "$work/ctl.err")"
	else
		fail "$1: exit $rc, '$(cat "$work/ctl.err")' (want $2)"
	fi
}

sleep 30 &
pid=$!
rc=0; ctl status || rc=$?
expect_error "not profiled" "not profiled.*PYPROF_CONTROL=1"
kill "$pid"
wait "$pid" 2>/dev/null || true
# the pid of a process that has ended and been reaped
rc=0; ctl status || rc=$?
expect_error "no such process" "no such process"

launch PYPROF_START=0
rc=0; ctl start || rc=$?
expect_error "profiled, no channel" "no control channel.*PYPROF_CONTROL=1"
echo exit >>"$work/run/go"
wait "$bg" || true

launch PYPROF_START=0 PYPROF_CONTROL=1
rc=0; ctl mark || rc=$?
expect_error "mark without a label" "mark takes one LABEL"
[ "$rc" -eq 2 ] || fail "mark without a label: exit $rc, want 2 (usage)"
rc=0; ctl mark early || rc=$?
expect_error "mark before start" "not recording"
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null 2>&1; then
	rc=0
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$PYPROF_BIN" ctl "$pid" start 2>"$work/ctl.err" || rc=$?
	expect_error "another user's process" "permission denied"
	ctl status >"$work/status"
	[ "$(field recording)" = off ] || fail "another user's start was obeyed"
else
	echo "SKIP: not root, or no setpriv: the permission check"
fi
echo exit >>"$work/run/go"
wait "$bg" || true
finish
