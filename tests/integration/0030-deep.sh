#!/bin/sh
# Deep stacks are recorded whole up to 2048 frames, each with the line it
# is executing; deeper ones keep their innermost 2048 frames under a
# [truncated] marker at the root, never silently.
. "$(dirname "$0")/setup.sh"

call_line=$(grep -n '# the recursive call$' "$targets/deep.py" | cut -d: -f1)

for py in $pythons; do
	v=$(pyver "$py")
	for depth in 1500 3000; do
		rm -rf "$work/out" && mkdir -p "$work/out"
		PYPROF_INTERVAL=4ms profile "$work/out" "$py" "$targets/deep.py" $depth
		"$PYPROF_BIN" report --format collapsed "$work"/out/*.pyprof >"$work/collapsed"
		# the hottest stack: the spin at the bottom of the recursion
		top=$(awk '{print $NF, NR}' "$work/collapsed" | sort -n -r | head -n 1 |
			while read -r _ n; do sed -n "${n}p" "$work/collapsed"; done | sed 's/ [0-9]*$//')
		frames=$(echo "$top" | tr ';' '\n')
		downs=$(echo "$frames" | grep -c '^down ' || true)
		at_call=$(echo "$frames" | grep -c "^down (.*deep.py:$call_line)$" || true)
		trunc=$(echo "$frames" | grep -c '^\[truncated\]$' || true)
		if [ "$depth" -eq 1500 ]; then
			# depth+1 calls of down(); all but the innermost at the call line
			if [ "$downs" -eq 1501 ] && [ "$at_call" -eq 1500 ] && [ "$trunc" -eq 0 ]; then
				ok "$v depth 1500: 1501 frames of down(), 1500 at line $call_line"
			else
				fail "$v depth 1500: $downs frames of down(), $at_call at line $call_line, $trunc truncation markers"
			fi
		else
			total=$(echo "$frames" | grep -vc '^MainThread\|^\[truncated\]' || true)
			if [ "$trunc" -eq 1 ] && [ "$total" -eq 2048 ] &&
				[ "$(echo "$frames" | sed -n 2p)" = "[truncated]" ]; then
				ok "$v depth 3000: 2048 innermost frames under [truncated]"
			else
				fail "$v depth 3000: $total frames, $trunc markers, second frame $(echo "$frames" | sed -n 2p)"
			fi
		fi
	done
done
finish
