#!/bin/sh
# run-fuzz.sh - the libFuzzer targets: the file reader (read), the
# PYPROF_* settings (settings), pyprof.conf (config) and the hide rules
# (hide).  Each target first runs every input kept in regress/TARGET/
# once, then fuzzes for PYPROF_FUZZ_SECONDS (10 by default) from its seed
# corpus in corpus/TARGET/.  Any crash, leak, sanitizer report or input
# slower than 10 s fails; the executions and coverage of each target go to
# the log.
#
# Longer runs, on demand, from the build directory:
#     make fuzz                          # 300 s per target
#     make fuzz PYPROF_FUZZ_SECONDS=3600 FUZZ=read
# or directly: PYPROF_FUZZ_SECONDS=600 tests/fuzz/run-fuzz.sh read hide
# (top_srcdir and top_builddir default to this tree and the current
# directory).  What a run finds is kept in tests/fuzz/work/TARGET/ of the
# build tree: the corpus it grew, and the crashing input (crash-*,
# leak-*, timeout-*).  Once the bug is fixed, copy that input to
# regress/TARGET/ with a name saying what it was, so it stays fixed; new
# corpus inputs worth keeping can be merged into corpus/TARGET/ with
# `fuzz_TARGET -merge=1 corpus/TARGET work/TARGET/corpus`.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$(pwd)}"
seconds=${PYPROF_FUZZ_SECONDS:-10}
src=$top_srcdir/tests/fuzz
bin=$top_builddir/tests/fuzz
targets=${*:-read settings config hide}

for t in $targets; do
	if [ ! -x "$bin/fuzz_$t" ]; then
		echo "SKIP: no $bin/fuzz_$t: configure found no ${FUZZ_CC:-clang}" \
			"that builds -fsanitize=fuzzer (install clang, or set FUZZ_CC)"
		exit 77
	fi
done

# GLib's criticals are bugs too.  Leak detection stays on in full: GLib's
# one-time allocations stay reachable, so nothing needs suppressing.
G_DEBUG=fatal-criticals
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export G_DEBUG ASAN_OPTIONS UBSAN_OPTIONS

failed=0
for t in $targets; do
	work=$bin/work/$t
	rm -rf "$work"
	mkdir -p "$work/corpus"
	dict=
	[ -f "$src/$t.dict" ] && dict=-dict=$src/$t.dict

	# the kept inputs, once each
	set --
	for f in "$src/regress/$t"/*; do
		[ -f "$f" ] && set -- "$@" "$f"
	done
	if [ $# -gt 0 ]; then
		if "$bin/fuzz_$t" -timeout=10 "$@" >"$work/regress.log" 2>&1; then
			echo "ok: $t: $# regression inputs"
		else
			echo "FAIL: $t: a regression input fails again:"
			tail -n 40 "$work/regress.log"
			failed=1
			continue
		fi
	fi

	# fuzzing, from the seeds (read only) into a corpus of its own
	"$bin/fuzz_$t" -max_total_time="$seconds" -timeout=10 $dict \
		-artifact_prefix="$work/" -print_final_stats=1 \
		"$work/corpus" "$src/corpus/$t" >"$work/fuzz.log" 2>&1
	rc=$?
	done_line=$(grep -a '^#[0-9]*[[:space:]]*DONE' "$work/fuzz.log" | tail -n 1)
	if [ $rc -eq 0 ] && [ -n "$done_line" ]; then
		execs=$(echo "$done_line" | sed 's/^#\([0-9]*\).*/\1/')
		cov=$(echo "$done_line" | sed -n 's/.*\(cov: [0-9]*\).*/\1/p')
		ft=$(echo "$done_line" | sed -n 's/.*\(ft: [0-9]*\).*/\1/p')
		echo "ok: $t: ${seconds}s, $execs executions, $cov $ft"
	else
		echo "FAIL: $t: fuzzing stopped (exit $rc); input kept in $work/:"
		ls "$work" | grep -E '^(crash|leak|timeout|oom|slow-unit)-' || true
		tail -n 60 "$work/fuzz.log"
		failed=1
	fi
done
exit $failed
