#!/bin/sh
# Every way a Python process can end leaves a complete file (SIGKILL: a
# readable one), the exit status and the output are what they are without
# pyprof, and fork and exec give each image its own file.
. "$(dirname "$0")/setup.sh"

# run PY ENDING: compares with an unprofiled run; leaves the files in
# $work/out and the header lines in $work/hdr
run() {
	py=$1 ending=$2
	rm -rf "$work/out" "$work/ref" && mkdir -p "$work/out" "$work/ref"
	set +e
	(cd "$work/ref" && "$py" "$targets/lifecycle.py" "$ending") >"$work/ref.out" 2>"$work/ref.err"
	want=$?
	(cd "$work/out" && PYPROF_INTERVAL=1ms LD_PRELOAD=$PYPROF_LIB "$py" "$targets/lifecycle.py" "$ending") >"$work/got.out" 2>"$work/got.err"
	got=$?
	set -e
	python3 "$top_srcdir/tests/integration/pfheader.py" "$work"/out/*.pyprof >"$work/hdr" 2>/dev/null || true
	tag="$(pyver "$py") $ending"
	if [ "$got" -ne "$want" ]; then
		fail "$tag: exit status $got, without pyprof $want"
		return 1
	fi
	# Python's own traceback names the pid nowhere; the outputs must match
	# byte for byte (the child status line includes no pid either).
	if ! cmp -s "$work/ref.out" "$work/got.out" || ! cmp -s "$work/ref.err" "$work/got.err"; then
		fail "$tag: output differs: $(diff "$work/ref.out" "$work/got.out"; diff "$work/ref.err" "$work/got.err")"
		return 1
	fi
	return 0
}

# expect N "state reason signal"...: the files' header lines, sorted
expect() {
	n=$1
	shift
	have=$(wc -l <"$work/hdr")
	if [ "$have" -ne "$n" ]; then
		fail "$tag: $have files, want $n: $(ls "$work/out")"
		return
	fi
	for want in "$@"; do
		if ! grep -q " $want " "$work/hdr"; then
			fail "$tag: no file with '$want': $(cat "$work/hdr")"
			return
		fi
	done
	for f in "$work"/out/*.pyprof; do
		if ! "$PYPROF_BIN" report "$f" >"$work/report" 2>"$work/report.err"; then
			fail "$tag: pyprof report failed on $f: $(cat "$work/report.err")"
			return
		fi
	done
	ok "$tag: $(cut -d' ' -f2-4 "$work/hdr" | tr '\n' ',')"
}

for py in $pythons; do
	run "$py" exit && expect 1 "complete exit 0"
	run "$py" sys.exit && expect 1 "complete exit 0"
	run "$py" os._exit && expect 1 "complete _exit 0"
	run "$py" raise && expect 1 "complete exit 0"
	run "$py" daemon && expect 1 "complete exit 0"
	run "$py" sigterm && expect 1 "complete signal 15"
	run "$py" sigkill && expect 1 "writing none 0"
	run "$py" fork && expect 2 "complete exit 0" "complete _exit 0"
	run "$py" exec && expect 2 "complete exec 0" "complete exit 0"
	run "$py" exec-sh && expect 1 "complete exec 0"
	run "$py" subprocess && expect 1 "complete exit 0"
	# the forked child's file names its parent
	run "$py" fork
	parent=$(awk '$3 == "exit" {print $5}' "$work/hdr")
	childppid=$(awk '$3 == "_exit" {print $6}' "$work/hdr")
	if [ -n "$parent" ] && [ "$parent" = "$childppid" ]; then
		ok "$tag: child's file names parent $parent"
	else
		fail "$tag: child's ppid '$childppid' is not the parent '$parent'"
	fi
done
finish
