#!/bin/sh
# PYPROF_NATIVE=1: native frames merged with the Python frames, on every
# interpreter.  C libraries under their Python callers (zlib, hashlib); C
# -> Python -> C sandwiches: sorted with a key, map with a Python function
# and a generator resumed by sum (checked in --show-all: a stripped
# interpreter names none of the C in between), a ctypes callback from
# qsort; a C++ library loaded while sampling whose exceptions still work;
# a thread that runs no Python; the interpreter's frames hidden by default
# and shown by --show-all; the "[native: unmerged]" marker where the
# native stack is deeper than what is kept; every renderer naming native
# frames; -X perf trampolines.  The chroot's interpreters are reported
# with --sysroot.
. "$(dirname "$0")/setup.sh"

command -v g++ >/dev/null 2>&1 || skip "no g++ to build the C++ test library"
prog=$targets/native.py
lib=$work/libnative_work.so
g++ -shared -fPIC -O1 -g -o "$lib" "$targets/native_work.cc" -lpthread ||
	{ fail "cannot build the C++ test library"; finish; exit 1; }

# has TAG REGEX [FILE]: a collapsed line of the report (default c.txt,
# the default view) matches (extended regex)
has() {
	if grep -Eq -- "$2" "$work/${3:-c.txt}"; then
		ok "$v: $1"
	else
		fail "$v: $1: no line matches /$2/; e.g. $(grep -E 'compress_part' "$work/c.txt" | head -2 | cut -c1-400)"
	fi
}

for py in $pythons; do
	v=$(pyver "$py")
	rm -rf "$work/out" "$work/ref.out" && mkdir -p "$work/out"
	set +e
	(cd "$work" && NATIVE_DUR=0.4 "$py" "$prog" "$lib") >"$work/ref.out" 2>"$work/ref.err"
	want=$?
	(cd "$work" && NATIVE_DUR=0.4 PYPROF_NATIVE=1 PYPROF_INTERVAL=1ms \
		PYPROF_OUTPUT="$work/out" LD_PRELOAD="$PYPROF_LIB" "$py" "$prog" "$lib") \
		>"$work/got.out" 2>"$work/got.err"
	got=$?
	set -e
	same_as_unprofiled "$v native" || continue
	ok "$v: same output and status as unprofiled (C++ exceptions caught: $(grep caught "$work/got.out"))"
	f=$(ls "$work"/out/*.pyprof)
	case $py in */chroot-*) root="--sysroot=$(sed -n "s/.*exec sh \"[^\"]*\" \"\([^\"]*\)\".*/\1/p" "$py")" ;; *) root= ;; esac
	if ! "$PYPROF_BIN" report -f collapsed $root "$f" >"$work/c.txt" 2>"$work/c.err"; then
		fail "$v: report failed: $(head -3 "$work/c.err")"
		continue
	fi
	"$PYPROF_BIN" report -f collapsed --show-all $root "$f" >"$work/all.txt"
	has "zlib's deflate under compress_part" \
		'until \([^;]*\);compress_part \([^;]*native\.py:[0-9]+\);([^;(]*\[[^];]*\];)*deflate[^;]* \[libz'
	has "the hash's C code under digest" \
		'digest \([^;]*native\.py:[0-9]+\);([^;(]*\[[^];]*\];)*[^;(]*\[[^];]*\] [0-9]+$'
	has "sorted(key=): C between sorter and key" \
		'sorter \([^;]*\);([^;(]*\[[^];]*\];)+key \([^;]*native\.py' all.txt
	has "map with a Python function: C between mapper and key" \
		'mapper \([^;]*\);([^;(]*\[[^];]*\];)+key \([^;]*native\.py' all.txt
	has "ctypes callback: libc's qsort between use_qsort and cmp" \
		'use_qsort \([^;]*\);.*qsort[^;]* \[[^];]*\];.*;cmp \('
	has "a generator resumed from C: C between consume and gen" \
		'consume \([^;]*\);([^;(]*\[[^];]*\];)+gen \([^;]*native\.py' all.txt
	has "C++ names demangled, under their Python caller" \
		'main \([^;]*\);([^;(]*\[[^];]*\];)*native_work::spin\(int\) \['
	if grep 'native_work::burn_loop() \[' "$work/c.txt" | grep -vq '\.py:'; then
		ok "$v: a thread with no Python: its native stack alone"
	else
		fail "$v: no native-only stack with native_work::burn_loop: $(grep -m2 burn_loop "$work/c.txt" | cut -c1-300)"
	fi
	has "a native stack deeper than kept: marked, Python frames whole" \
		'\[native: unmerged\];.*deep \([^;]*\);deep \([^;]*\);.*deep_spin \('
	# a stripped interpreter's eval loop is its unnamed parts
	interp='_PyEval_EvalFrame|python3(\.[0-9]+)?\+0x'
	if grep -Eq "$interp" "$work/c.txt"; then
		fail "$v: interpreter frames shown by default: $(grep -Em1 -o "[^;]*($interp)[^;]*" "$work/c.txt")"
	elif grep -Eq "$interp" "$work/all.txt"; then
		ok "$v: the eval loop hidden by default, shown by --show-all"
	else
		fail "$v: --show-all shows no eval loop frame"
	fi
	unmerged=$(grep -F '[native: unmerged]' "$work/c.txt" | grep -vc 'deep ' || true)
	total=$(awk '{n += $NF} END {print n}' "$work/c.txt")
	um=$(grep -F '[native: unmerged]' "$work/c.txt" | grep -v 'deep ' | awk '{n += $NF} END {print n + 0}')
	if [ $((um * 100)) -le "$total" ]; then
		ok "$v: $um of $total samples unmerged outside the deep case ($unmerged stacks)"
	else
		fail "$v: $um of $total samples unmerged outside the deep case: $(grep -F '[native: unmerged]' "$work/c.txt" | grep -v 'deep ' | head -2 | cut -c1-300)"
	fi
	for fmt in text json speedscope trace html svg; do
		# every node of the text report, however small its share on a
		# busy machine: what is checked is that deflate is named
		"$PYPROF_BIN" report -f "$fmt" --min-percent=0 $root "$f" >"$work/r.$fmt" 2>"$work/r.err" ||
			{ fail "$v: $fmt report failed: $(head -2 "$work/r.err")"; continue; }
		grep -q 'deflate' "$work/r.$fmt" ||
			fail "$v: the $fmt report does not name deflate"
	done
	"$PYPROF_BIN" report -f pprof $root -o "$work/r.pb.gz" "$f" &&
		zcat "$work/r.pb.gz" | grep -aq 'deflate' ||
		fail "$v: the pprof report does not name deflate"
	ok "$v: text, json, speedscope, trace, html, svg and pprof name native frames"

	# 3.12+ with -X perf: a trampoline per Python call, code without
	# unwind information on the C stack (the samples are unmerged where
	# the unwind stops there, never a crash)
	case $v in 3.8.*|3.9.*|3.10.*|3.11.*) continue ;; esac
	rm -rf "$work/out" && mkdir -p "$work/out"
	perfprog='import zlib, os; d = os.urandom(1 << 18)
def f(): return sorted(range(30000), key=lambda x: -x)
for i in range(60): zlib.compress(d, 6); f()
print("perf ok")'
	set +e
	(cd "$work" && "$py" -X perf -c "$perfprog") >"$work/ref.out" 2>"$work/ref.err"
	want=$?
	(cd "$work" && PYPROF_NATIVE=1 PYPROF_INTERVAL=1ms PYPROF_OUTPUT="$work/out" \
		LD_PRELOAD="$PYPROF_LIB" "$py" -X perf -c "$perfprog") >"$work/got.out" 2>"$work/got.err"
	got=$?
	set -e
	rm -f /tmp/perf-*.map 2>/dev/null || true
	if same_as_unprofiled "$v -X perf"; then
		f=$(ls "$work"/out/*.pyprof)
		if "$PYPROF_BIN" report -f collapsed $root "$f" >"$work/p.txt" 2>/dev/null &&
			[ -s "$work/p.txt" ]; then
			ok "$v: -X perf trampolines: same output, $(awk '{n += $NF} END {print n}' "$work/p.txt") samples, $(grep -F '[native: unmerged]' "$work/p.txt" | awk '{n += $NF} END {print n + 0}') unmerged"
		else
			fail "$v: -X perf: no report"
		fi
	fi
done
finish
