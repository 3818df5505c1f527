#!/bin/sh
# Faults, tried for real on every interpreter: the program's output and exit
# status stay what they are without pyprof, and what pyprof wrote stays
# readable up to the fault.
#   - the output file system full mid-run (a small tmpfs, mounted in a
#     private mount namespace, with room for the first chunk only);
#   - the output directory is removed, or the file renamed, mid-run;
#   - perf events refused (a seccomp filter): the timer takes over;
#   - fork in a thread while others are sampled, posix_spawn, subprocess
#     (vfork), exec of a shell from a sampled thread;
#   - thread churn at 250 us in both modes for PYPROF_SOAK seconds (default
#     3 per interpreter and mode; 60 for the long soak).
. "$(dirname "$0")/setup.sh"

prog=$targets/noharm.py
soak=${PYPROF_SOAK:-3}
cc -Wall -o "$work/noperf" "$top_srcdir/tests/faults/noperf.c" 2>"$work/cc.err" ||
	skip "cannot build tests/faults/noperf.c: $(cat "$work/cc.err")"
mounts=1
unshare --mount sh -c "mount -t tmpfs -o size=1m none '$work'" 2>/dev/null || {
	mounts=0
	echo "SKIP: no private mount namespace here: the full-file-system case"
}

# reference PY CASE: the unprofiled run's output and status
reference() {
	set +e
	(cd "$work" && "$1" "$prog" "$2") >"$work/ref.out" 2>"$work/ref.err"
	want=$?
	set -e
}

# readable TAG FILES...: pyprof report reads every file
readable() {
	tag=$1
	shift
	[ "$#" -gt 0 ] && [ -e "$1" ] || { fail "$tag: no file"; return 1; }
	for f in "$@"; do
		if ! "$PYPROF_BIN" report "$f" >/dev/null 2>"$work/report.err"; then
			fail "$tag: pyprof report failed on $f: $(head -3 "$work/report.err")"
			return 1
		fi
	done
}

# in_background PY CASE OUTDIR [ENV...]: starts the profiled case, $pid
in_background() {
	py=$1 case=$2 out=$3
	shift 3
	(cd "$work" && env "$@" PYPROF_OUTPUT="$out" LD_PRELOAD="$PYPROF_LIB" \
		"$py" "$prog" "$case") >"$work/got.out" 2>"$work/got.err" &
	pid=$!
}

# wait_file DIR: until a profile appears there (at most 2 s)
wait_file() {
	for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
		ls "$1"/*.pyprof >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

for py in $pythons; do
	v=$(pyver "$py")
	export SPIN=1.0

	if [ "$mounts" -eq 1 ]; then
		# pyprof leaves 64 MiB free for everyone else: the file system
		# is filled to leave that and 96 KiB, room for the header and
		# the main thread's first chunk; the other threads, started
		# later, meet a full disk.
		reference "$py" spin
		rm -rf "$work/mnt" && mkdir -p "$work/mnt"
		set +e
		PYPROF_CHROOT_BINDS="$work/mnt" unshare --mount sh -c '
			mount -t tmpfs -o size=96m none "$1" || exit 99
			avail=$(df -k --output=avail "$1" | tail -n 1)
			dd if=/dev/zero of="$1/fill" bs=1k count=$((avail - 65536 - 96)) 2>/dev/null
			cd "$2" && PYPROF_INTERVAL=250us PYPROF_OUTPUT="$1" LD_PRELOAD="$3" \
				"$4" "$5" spin >"$2/got.out" 2>"$2/got.err"
			s=$?
			for f in "$1"/*.pyprof; do cp "$f" "$2/full.pyprof"; done
			exit $s' sh "$work/mnt" "$work" "$PYPROF_LIB" "$py" "$prog"
		got=$?
		set -e
		if same_as_unprofiled "$v full file system" &&
			readable "$v full file system" "$work/full.pyprof"; then
			d=$("$PYPROF_BIN" info "$work/full.pyprof" | sed -n 's/^dropped: *//p')
			case $d in
			*full*) ok "$v: output file system full mid-run: program unaffected, file readable, dropped: $d" ;;
			*) fail "$v: full file system: the file never met it (dropped: $d)" ;;
			esac
		fi
		rm -f "$work/full.pyprof"
	fi

	reference "$py" spin
	rm -rf "$work/gone" && mkdir -p "$work/gone"
	set +e
	in_background "$py" spin "$work/gone" PYPROF_INTERVAL=250us
	wait_file "$work/gone"
	sleep 0.3
	rm -rf "$work/gone"
	wait $pid
	got=$?
	set -e
	same_as_unprofiled "$v directory removed" && ok "$v: output directory removed mid-run: program unaffected"

	reference "$py" spin
	rm -rf "$work/ren" && mkdir -p "$work/ren"
	set +e
	in_background "$py" spin "$work/ren" PYPROF_INTERVAL=250us
	wait_file "$work/ren"
	sleep 0.3
	for f in "$work"/ren/*.pyprof; do mv "$f" "$work/ren/renamed.data"; done
	wait $pid
	got=$?
	set -e
	if same_as_unprofiled "$v file renamed" && readable "$v file renamed" "$work/ren/renamed.data"; then
		if "$PYPROF_BIN" info "$work/ren/renamed.data" | grep -q "^state: *complete"; then
			ok "$v: file renamed mid-run: program unaffected, the renamed file complete"
		else
			fail "$v: file renamed mid-run: $("$PYPROF_BIN" info "$work/ren/renamed.data" | grep state)"
		fi
	fi

	reference "$py" spin
	rm -rf "$work/out" && mkdir -p "$work/out"
	set +e
	(cd "$work" && PYPROF_SOURCE=perf PYPROF_OUTPUT="$work/out" LD_PRELOAD="$PYPROF_LIB" \
		"$work/noperf" "$py" "$prog" spin) >"$work/got.out" 2>"$work/got.err"
	got=$?
	set -e
	if same_as_unprofiled "$v perf refused" && readable "$v perf refused" "$work"/out/*.pyprof; then
		src=$("$PYPROF_BIN" info "$work"/out/*.pyprof | sed -n 's/^source: *//p')
		n=$("$PYPROF_BIN" info "$work"/out/*.pyprof | sed -n 's/^samples: *\([0-9]*\) read.*/\1/p')
		if [ "$src" = "thread CPU timer" ] && [ "${n:-0}" -gt 20 ]; then
			ok "$v: perf_event_open refused by seccomp: the timer took over ($n samples)"
		else
			fail "$v: perf refused: source '$src', $n samples"
		fi
	fi

	for case in fork-in-thread spawn exec-from-thread; do
		reference "$py" "$case"
		rm -rf "$work/out" && mkdir -p "$work/out"
		set +e
		(cd "$work" && PYPROF_INTERVAL=250us PYPROF_OUTPUT="$work/out" LD_PRELOAD="$PYPROF_LIB" \
			"$py" "$prog" "$case") >"$work/got.out" 2>"$work/got.err"
		got=$?
		set -e
		same_as_unprofiled "$v $case" && readable "$v $case" "$work"/out/*.pyprof &&
			ok "$v $case: output and status as without pyprof ($(ls "$work/out" | wc -l) files, all readable)"
	done

	for mode in cpu wall; do
		rm -rf "$work/out" && mkdir -p "$work/out"
		set +e
		(cd "$work" && PYPROF_MODE=$mode PYPROF_INTERVAL=250us PYPROF_OUTPUT="$work/out" \
			LD_PRELOAD="$PYPROF_LIB" timeout $((soak + 60)) "$py" "$targets/churn.py" "${soak}s") \
			>"$work/got.out" 2>"$work/got.err"
		got=$?
		set -e
		if [ "$got" -ne 0 ]; then
			fail "$v soak $mode: exit $got: $(head -c 300 "$work/got.err")"
		elif readable "$v soak $mode" "$work"/out/*.pyprof; then
			drops=$("$PYPROF_BIN" info "$work"/out/*.pyprof | sed -n 's/^dropped: *//p')
			ok "$v soak $mode: ${soak}s of thread churn at 250 us, dropped: $drops"
		fi
	done
done
finish
