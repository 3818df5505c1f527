#!/bin/sh
# A file's bound is about samples, not threads: 200 threads one after
# another, in a file of 4 MiB (63 chunks), are all recorded, in both modes,
# because each new thread takes the rest of an ended thread's chunk.
. "$(dirname "$0")/setup.sh"

for py in $pythons; do
	v=$(pyver "$py")
	for mode in cpu wall; do
		rm -rf "$work/out" && mkdir -p "$work/out"
		set +e
		(cd "$work" && PYPROF_MODE=$mode PYPROF_INTERVAL=1ms PYPROF_MAX_SIZE=4M \
			PYPROF_OUTPUT="$work/out" LD_PRELOAD="$PYPROF_LIB" \
			"$py" "$targets/sequential.py" 200) >"$work/got.out" 2>"$work/got.err"
		st=$?
		set -e
		f=$(ls "$work"/out/*.pyprof 2>/dev/null | head -n 1)
		if [ "$st" -ne 0 ] || [ -z "$f" ]; then
			fail "$v $mode: exit $st, $(head -c 200 "$work/got.err")"
			continue
		fi
		"$PYPROF_BIN" info "$f" >"$work/info"
		threads=$(sed -n 's/^threads: *//p' "$work/info")
		drops=$(sed -n 's/^dropped: *//p' "$work/info")
		size=$(wc -c <"$f")
		case $drops in
		*full*) fail "$v $mode: the file filled up ($drops; $threads threads, $size bytes)" ;;
		*)
			# More threads than the file has chunks (63), the old
			# bound; not all 200, since a thread that ends before
			# its first sample leaves no record.
			if [ "$threads" -gt 100 ]; then
				ok "$v $mode: $threads threads in $size bytes, dropped: $drops"
			else
				fail "$v $mode: only $threads threads recorded ($size bytes)"
			fi
			;;
		esac
	done
done
finish
