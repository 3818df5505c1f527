#!/bin/sh
# The library itself under AddressSanitizer and UndefinedBehaviorSanitizer,
# inside every host interpreter, in both modes: thread churn at 250 us
# (thread states created and freed under the samples), wall mode's
# sampler thread reading other threads' stacks (wall.py), fork and exec,
# and native stacks (PYPROF_NATIVE=1) in churn, fork and wall mode.
# Each run must end as it would unprofiled (status 0) with no sanitizer
# report, and leave a file the collector reads.
#
# Only the sanitizer build runs it (make check-san, from setup.sh test):
# the library it tests links libasan, which the interpreter loads first
# through LD_PRELOAD.  Freed memory is filled (free_fill_byte), so a read
# of a freed thread state that the library validates (3.8; pystack.c)
# sees garbage, not the values it held.  The 3.14/3.15 chroot is left
# out: its libc is Debian sid's, and the library is built against this
# host's libasan.
PYPROF_CHROOT=none
. "$(dirname "$0")/setup.sh"

asan=$(ldd "$PYPROF_LIB" | awk '/libasan/ { print $3 }')
ubsan=$(ldd "$PYPROF_LIB" | awk '/libubsan/ { print $3 }')
[ -n "$asan" ] || skip "$PYPROF_LIB is not built with AddressSanitizer (configure --enable-asan)"
# leaks: the interpreter's own, at exit, are not the library's
ASAN_OPTIONS=detect_leaks=0:halt_on_error=1:max_free_fill_size=4096:free_fill_byte=190
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export ASAN_OPTIONS UBSAN_OPTIONS

# san NAME MODE ARGS...: one run, checked
san() {
	name=$1 mode=$2
	shift 2
	rm -rf "$work/out" && mkdir -p "$work/out"
	if (cd "$work/out" && PYPROF_MODE=$mode PYPROF_INTERVAL=250us \
		PYPROF_OUTPUT="$work/out/" LD_PRELOAD="$asan${ubsan:+ $ubsan} $PYPROF_LIB" \
		"$@" >"$work/stdout" 2>"$work/stderr"); then
		status=0
	else
		status=$?
	fi
	report=$(grep -m3 -E 'ERROR: AddressSanitizer|runtime error|Sanitizer' "$work/stderr" || true)
	if [ "$status" -eq 0 ] && [ -z "$report" ] &&
		"$PYPROF_BIN" info "$work"/out/*.pyprof >"$work/info" 2>&1 &&
		grep -q '^samples: *[1-9]' "$work/info"; then
		ok "$v $mode $name: status 0, no sanitizer report, $(sed -n 's/^samples: *\([0-9]*\) read.*/\1/p' "$work/info" | paste -sd+) samples"
	else
		fail "$v $mode $name: status $status, $report $(tail -5 "$work/stderr") $(cat "$work/info" 2>/dev/null | head -3)"
	fi
}

for py in $pythons; do
	v=$(pyver "$py")
	for mode in cpu wall; do
		san "churn" "$mode" "$py" "$targets/churn.py" 3000
		san "fork" "$mode" "$py" "$targets/lifecycle.py" fork
		san "exec" "$mode" "$py" "$targets/lifecycle.py" exec
	done
	san "wall.py" wall "$py" "$targets/wall.py" "$work/truth.json" 0.3
	# native stacks: unwinding and merging in the handler, the objects
	# list from the sampler thread, a fork's child listing them again
	san "native churn" cpu env PYPROF_NATIVE=1 "$py" "$targets/churn.py" 3000
	san "native fork" cpu env PYPROF_NATIVE=1 "$py" "$targets/lifecycle.py" fork
	san "native wall.py" wall env PYPROF_NATIVE=1 "$py" "$targets/wall.py" "$work/truth.json" 0.3
done
finish
