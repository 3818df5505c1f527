#!/bin/sh
# Thousands of short-lived threads while sampling at 250 us: no crash, the
# program's output and status unchanged, every signal either a sample or a
# counted drop, and a readable file.  Again in wall mode, where the
# sampler thread walks the list of threads while they come and go (there
# the sampler thread's samples are no signals: only the file is checked).
. "$(dirname "$0")/setup.sh"

for py in $pythons; do
for mode in cpu wall; do
	v="$(pyver "$py") $mode"
	rm -rf "$work/out" && mkdir -p "$work/out"
	set +e
	PYPROF_MODE=$mode PYPROF_INTERVAL=250us profile "$work/out" "$py" "$targets/churn.py" 3000 >"$work/stdout" 2>"$work/stderr"
	status=$?
	set -e
	if [ "$status" -ne 0 ] || [ "$(cat "$work/stdout")" != "churned 3000" ] || [ -s "$work/stderr" ]; then
		fail "$v: status $status, output $(cat "$work/stdout" "$work/stderr" | head -5)"
		continue
	fi
	f=$(ls "$work"/out/*.pyprof)
	if ! "$PYPROF_BIN" info "$f" >"$work/info" 2>&1; then
		fail "$v: pyprof info failed: $(head -3 "$work/info")"
		continue
	fi
	# signals = samples + drops, from the header
	python3 - "$f" >"$work/count" <<'PY'
import struct, sys
h = open(sys.argv[1], "rb").read(4096)
signals, samples = struct.unpack_from("<QQ", h, 168)
drops = struct.unpack_from("<16Q", h, 184)
print(signals, samples, sum(drops), " ".join(str(d) for d in drops[:7]))
PY
	read -r signals samples drops detail <"$work/count"
	if [ "$mode" = wall ]; then
		if [ "$samples" -gt 0 ]; then
			ok "$v: $samples samples, $drops drops ($detail)"
		else
			fail "$v: no samples"
		fi
		continue
	fi
	if [ "$signals" -eq $((samples + drops)) ] && [ "$samples" -gt 0 ]; then
		ok "$v: $signals signals = $samples samples + $drops drops ($detail)"
	else
		fail "$v: $signals signals, $samples samples, $drops drops ($detail)"
	fi
done
done
finish
