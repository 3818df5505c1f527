#!/bin/sh
# read-speed.sh [-n RUNS] BUILDDIR... - reading speed: `pyprof report
# --format collapsed` of gen-profile's 10 million samples (447 MB), each
# build's pyprof run in turn RUNS times (default 10), so that the VM's
# drift falls on all of them alike.  Prints each build's elapsed seconds,
# fastest and median, its samples per second at the median, its user and
# system CPU seconds (medians) and peak RSS.  Figures: bench/README.md.
set -eu
runs=10
if [ "${1:-}" = -n ]; then
	runs=$2
	shift 2
fi
[ $# -ge 1 ] || { echo "usage: bench/read-speed.sh [-n RUNS] BUILDDIR..." >&2; exit 2; }
src=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pyprof-read.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
gcc -O2 -I"$1" -I"$src/format" "$src/bench/gen-profile.c" "$src/format/write.c" \
	"$src/format/encode.c" -o "$tmp/gen"
"$tmp/gen" "$tmp/big.pyprof" 10000000 >/dev/null
i=0
while [ $i -lt "$runs" ]; do
	k=0
	for b in "$@"; do
		/usr/bin/time -f "%e %U %S %M" -a -o "$tmp/t$k" "$b/pyprof" report \
			--format collapsed -o "$tmp/out$k" "$tmp/big.pyprof"
		k=$((k + 1))
	done
	i=$((i + 1))
done
k=0
for b in "$@"; do
	cmp -s "$tmp/out0" "$tmp/out$k" || echo "$b: output differs from $1's" >&2
	python3 - "$b" "$tmp/t$k" <<'PY'
import statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[2]) if l.strip()]
e, u, s, m = (sorted(c) for c in zip(*rows))
med = statistics.median(e)
print(f"{sys.argv[1]}: fastest {e[0]:.2f} s, median {med:.2f} s "
      f"({10 / med:.1f} M samples/s), user {statistics.median(u):.2f} s, "
      f"system {statistics.median(s):.2f} s, peak {m[-1] / 1024:.0f} MB")
PY
	k=$((k + 1))
done
