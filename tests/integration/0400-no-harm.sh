#!/bin/sh
# A profiled program sees what it sees unprofiled: its signal dispositions
# (from Python and from C), its own SIGPROF and SIGTERM, the default action
# of a signal sent to it, the descriptor numbers it gets; and it survives
# what used to kill it: its profile truncated under it, RLIMIT_FSIZE with
# SIGXFSZ at the default, its descriptors nearly used up (also in wall
# mode with native stacks).  Also the places
# pyprof writes to: a planted link at PYPROF_LOG, a host name with '/' in
# %h, a device as PYPROF_OUTPUT.
. "$(dirname "$0")/setup.sh"

prog=$targets/noharm.py

# same PY CASE [ENV...]: runs the case unprofiled and profiled (files in
# $work/out), wants the same stdout, stderr and exit status; leaves the
# profiled run's status in $got.
same() {
	py=$1 case=$2
	shift 2
	rm -rf "$work/out" && mkdir -p "$work/out"
	set +e
	(cd "$work" && env "$@" "$py" "$prog" "$case") >"$work/ref.out" 2>"$work/ref.err"
	want=$?
	(cd "$work" && env "$@" PYPROF_OUTPUT="$work/out" LD_PRELOAD="$PYPROF_LIB" \
		"$py" "$prog" "$case") >"$work/got.out" 2>"$work/got.err"
	got=$?
	set -e
	tag="$(pyver "$py") $case"
	same_as_unprofiled "$tag"
}

# readable WHAT: every file in $work/out is read by pyprof report
readable() {
	n=0
	for f in "$work"/out/*.pyprof; do
		[ -e "$f" ] || continue
		n=$((n + 1))
		if ! "$PYPROF_BIN" report "$f" >/dev/null 2>"$work/report.err"; then
			fail "$tag: pyprof report failed on $f: $(head -3 "$work/report.err")"
			return 1
		fi
	done
	[ "$n" -gt 0 ] || { fail "$tag: no profile written"; return 1; }
	ok "$tag: $1"
}

state_of() { "$PYPROF_BIN" info "$1" | sed -n 's/^state: *//p'; }

for py in $pythons; do
	v=$(pyver "$py")
	same "$py" signals && readable "dispositions as without pyprof, save and restore work"
	same "$py" own-sigprof && readable "its own SIGPROF handler gets its own timer's signals only"
	if same "$py" kill-prof; then
		f=$(ls "$work"/out/*.pyprof)
		case $(state_of "$f") in
		*"signal 27"*) ok "$v kill-prof: dies of SIGPROF (status $got), file complete" ;;
		*) fail "$v kill-prof: file state '$(state_of "$f")'" ;;
		esac
	fi
	if same "$py" kill-term; then
		f=$(ls "$work"/out/*.pyprof)
		case $(state_of "$f") in
		*"signal 15"*) ok "$v kill-term: dies of SIGTERM (status $got), file complete" ;;
		*) fail "$v kill-term: file state '$(state_of "$f")'" ;;
		esac
	fi
	same "$py" first-fd && ok "$v: the program's first open() gets 3"
	same "$py" fsize PYPROF_INTERVAL=250us &&
		readable "RLIMIT_FSIZE and SIGXFSZ at the default: the file stops growing, the program lives"
	same "$py" nofile PYPROF_INTERVAL=1ms &&
		readable "descriptors used up to the limit: the program's own open still succeeds"
	# wall mode with native stacks: libunwind loaded, the objects listed,
	# the sampler thread reading waiting threads' system calls
	same "$py" signals PYPROF_MODE=wall PYPROF_NATIVE=1 &&
		readable "wall mode, native: dispositions as without pyprof"
	same "$py" first-fd PYPROF_MODE=wall PYPROF_NATIVE=1 &&
		ok "$v wall mode, native: the program's first open() gets 3"
	same "$py" nofile PYPROF_MODE=wall PYPROF_NATIVE=1 PYPROF_INTERVAL=1ms &&
		readable "wall mode, native: descriptors used up to the limit, the program's own open still succeeds"

	# the control channel: a thread and two descriptors of pyprof's more
	same "$py" signals PYPROF_CONTROL=1 &&
		readable "control channel: dispositions as without pyprof"
	same "$py" first-fd PYPROF_CONTROL=1 &&
		ok "$v control channel: the program's first open() gets 3"
	same "$py" fork PYPROF_CONTROL=1 &&
		readable "control channel: a fork sees one thread (no warning on 3.12+), the child exits as it would"
	same "$py" kill-term PYPROF_CONTROL=1 && ok "$v control channel: dies of SIGTERM (status $got)"
	# rotation: the same thread, new files every 200 ms
	same "$py" signals PYPROF_ROTATE=200ms &&
		readable "rotation: dispositions as without pyprof"
	same "$py" fork PYPROF_ROTATE=200ms &&
		readable "rotation: a fork sees one thread (no warning on 3.12+), the child exits as it would"
	same "$py" nofile PYPROF_ROTATE=200ms PYPROF_INTERVAL=1ms &&
		readable "rotation: descriptors used up to the limit, the program's own open still succeeds"
	# Blocking calls made through ctypes (which do not retry) while
	# pyprof ctl asks and marks: none fails with EINTR.
	rm -rf "$work/out" && mkdir -p "$work/out"
	PYPROF_CONTROL=1 PYPROF_INTERVAL=250us PYPROF_OUTPUT="$work/out" \
		LD_PRELOAD="$PYPROF_LIB" "$py" "$targets/eintr.py" >"$work/eintr" 2>&1 &
	pid=$!
	asked=0
	while kill -0 "$pid" 2>/dev/null; do
		"$PYPROF_BIN" ctl "$pid" status >/dev/null 2>&1 &&
			"$PYPROF_BIN" ctl "$pid" mark m >/dev/null 2>&1 && asked=$((asked + 1))
	done
	wait "$pid" || true
	if [ "$(awk '{s += $2} END {print s}' "$work/eintr")" = 0 ] &&
	   [ "$(wc -l <"$work/eintr")" -eq 3 ] && [ "$asked" -gt 0 ]; then
		ok "$v control channel: $asked status and mark requests, no EINTR from ctypes nanosleep, select, read: $(tr '\n' ' ' <"$work/eintr")"
	else
		fail "$v control channel: $asked requests, $(tr '\n' ' ' <"$work/eintr")"
	fi

	# The file truncated under the running program (copy-truncate).
	rm -rf "$work/out" && mkdir -p "$work/out"
	set +e
	(cd "$work" && SPIN=1.2 PYPROF_INTERVAL=250us PYPROF_OUTPUT="$work/out" \
		LD_PRELOAD="$PYPROF_LIB" "$py" "$prog" spin) >"$work/got.out" 2>&1 &
	pid=$!
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		sleep 0.1
		ls "$work"/out/*.pyprof >/dev/null 2>&1 && break
	done
	sleep 0.4
	truncate -s 0 "$work"/out/*.pyprof 2>/dev/null
	wait $pid
	st=$?
	set -e
	if [ "$st" -eq 0 ] && [ "$(cat "$work/got.out")" = done ]; then
		ok "$v: profile truncated mid-run: the program finishes (exit 0)"
	else
		fail "$v: profile truncated mid-run: exit $st, output $(head -c 200 "$work/got.out")"
	fi
done

# The rest is about pyprof's own files, the same with every interpreter.
py=$(echo "$pythons" | head -n 1)
v=$(pyver "$py")

mkdir -p "$work/shared" "$work/out"
echo "someone else's" >"$work/victim"
ln -s "$work/victim" "$work/shared/pyprof.log"
PYPROF_LOG=$work/shared/pyprof.log PYPROF_OUTPUT=$work/out LD_PRELOAD=$PYPROF_LIB \
	"$py" -c 'print("ok")' >"$work/got.out" 2>"$work/got.err" || true
if [ "$(cat "$work/victim")" = "someone else's" ] &&
   grep -q "PYPROF_LOG=.*symbolic link" "$work/got.err"; then
	ok "$v: a link planted at PYPROF_LOG is not followed, and pyprof says so"
else
	fail "$v: PYPROF_LOG link: victim now '$(cat "$work/victim")', stderr '$(cat "$work/got.err")'"
fi

set +e
PYPROF_OUTPUT=/dev/null LD_PRELOAD=$PYPROF_LIB "$py" -c 'print("ok")' >"$work/got.out" 2>"$work/got.err"
st=$?
set -e
if [ "$st" -eq 0 ] && [ "$(cat "$work/got.out")" = ok ] &&
   ! ls /dev/null.* >/dev/null 2>&1 && grep -q "is a device" "$work/got.err"; then
	ok "$v: PYPROF_OUTPUT=/dev/null: one clear line, no stray files"
else
	fail "$v: PYPROF_OUTPUT=/dev/null: exit $st, stderr '$(cat "$work/got.err")', $(ls /dev/null.* 2>&1 | head -3)"
fi

# A host name is anybody's to set: in a UTS namespace of our own, one that
# climbs out of the template's directory.
rm -rf "$work/out" && mkdir -p "$work/out/sub"
if unshare --uts sh -c "printf '../../escaped' >/proc/sys/kernel/hostname" 2>/dev/null; then
	unshare --uts sh -c "printf '../../escaped' >/proc/sys/kernel/hostname &&
		PYPROF_OUTPUT='$work/out/sub/%h.pyprof' LD_PRELOAD='$PYPROF_LIB' '$py' -c pass"
	inside=$(find "$work/out/sub" -name '*.pyprof' | wc -l)
	outside=$(find "$work" -name '*escaped*.pyprof' ! -path "$work/out/sub/*" | wc -l)
	if [ "$inside" -eq 1 ] && [ "$outside" -eq 0 ]; then
		ok "$v: %h with '/' and '..' stays one name in the template's directory"
	else
		fail "$v: %h: $inside files inside, $outside outside: $(find "$work" -name '*.pyprof')"
	fi
else
	echo "SKIP: no UTS namespace here: the %h check"
fi
finish
