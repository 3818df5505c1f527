#!/bin/sh
# pyprof pack: real profiles (CPU and wall mode, threads) packed, then
# report, info, diff, top --once and dump read the packed file and say
# what they said of the live one; a directory holding both is read once;
# --delete, --round, an unfinished file refused unless --force, a packed
# file refused; a damaged packed file is a clear error naming the file
# and the offset, never a crash or a hang; and a generated profile at
# scale packs to at most 4 bytes a sample.
. "$(dirname "$0")/setup.sh"

# same NAME OUT PACKED LIVE: OUT.a (of LIVE) and OUT.b (of PACKED) equal,
# the files' names aside
same() {
	sed -e "s|$3|FILE|g" -e "s|$(basename "$3")|FILE|g" "$2.b" >"$2.b2"
	sed -e "s|$4|FILE|g" -e "s|$(basename "$4")|FILE|g" "$2.a" >"$2.a2"
	if cmp -s "$2.a2" "$2.b2"; then
		ok "$1"
	else
		fail "$1: $(diff "$2.a2" "$2.b2" | head -6)"
	fi
}

# every output of the live file ($1) and its packed form ($2), named $3
same_outputs() {
	live=$1 packed=$2 tag=$3
	for how in "report" "report -f collapsed --weight=ns" "report -f json" \
		"report --threads" "info" "top --once" "dump"; do
		set -- $how
		"$PYPROF_BIN" "$@" "$live" >"$work/o.a" 2>&1 || true
		"$PYPROF_BIN" "$@" "$packed" >"$work/o.b" 2>&1 || true
		same "$tag: $how of the packed file as of the live one" "$work/o" "$packed" "$live"
	done
	"$PYPROF_BIN" diff "$live" "$packed" >"$work/diff" 2>&1 || true
	if sed -n '4,$p' "$work/diff" | awk '$3 ~ /^[-+][0-9]/ && ($3 != "+0.0" || $6 != "+0.0") {bad = 1} END {exit bad}' &&
		head -1 "$work/diff" | grep -q '(+0.0%)'; then
		ok "$tag: diff of the live and packed files shows no change"
	else
		fail "$tag: diff live packed: $(head -6 "$work/diff")"
	fi
}

py=$(echo "$pythons" | head -n 1)
newest=$(echo "$pythons" | tail -n 1)
for p in "$py" "$newest"; do
	v=$(pyver "$p")
	rm -rf "$work/cpu" "$work/wall"
	PYPROF_INTERVAL=1ms profile "$work/cpu" "$p" "$targets/threads.py" "$work/truth.json" 0.5
	PYPROF_MODE=wall PYPROF_INTERVAL=1ms profile "$work/wall" "$p" "$targets/wall.py" "$work/truth.json" 0.5
	for mode in cpu wall; do
		live=$(ls "$work/$mode"/*.pyprof | head -n 1)
		"$PYPROF_BIN" pack "$work/$mode"/*.pyprof >"$work/pack.out" 2>&1
		status=$?
		if [ "$status" -eq 0 ] && [ -f "${live}z" ] && [ -f "$live" ] &&
			grep -q "bytes per sample" "$work/pack.out"; then
			ok "$v $mode: packed beside the live file, which stays: $(head -n 1 "$work/pack.out" | sed 's|.*/||')"
		else
			fail "$v $mode: pack: status $status: $(head -n 3 "$work/pack.out")"
			continue
		fi
		same_outputs "$live" "${live}z" "$v $mode"
		# a directory with both reads each process once
		"$PYPROF_BIN" report -f collapsed "$work/$mode" >"$work/dir.a" 2>&1
		mkdir -p "$work/only" && rm -f "$work/only"/* && cp "$work/$mode"/*.pyprof "$work/only/"
		"$PYPROF_BIN" report -f collapsed "$work/only" >"$work/dir.b" 2>&1
		if cmp -s "$work/dir.a" "$work/dir.b"; then
			ok "$v $mode: report DIR with FILE.pyprof and FILE.pyprofz counts it once"
		else
			fail "$v $mode: report DIR with both: $(diff "$work/dir.a" "$work/dir.b" | head -4)"
		fi
	done
done

# --delete; a directory of packed files alone; --round
d=$work/cpu
"$PYPROF_BIN" report -f collapsed --weight=ns "$d" >"$work/before"
cp "$d"/*.pyprof "$work/"
if "$PYPROF_BIN" pack --force --delete "$d"/*.pyprof >/dev/null 2>&1 &&
	[ -z "$(ls "$d"/*.pyprof 2>/dev/null)" ] && [ -n "$(ls "$d"/*.pyprofz)" ]; then
	ok "pack --delete: only the packed files remain"
else
	fail "pack --delete: $(ls "$d")"
fi
"$PYPROF_BIN" report -f collapsed --weight=ns "$d" >"$work/after"
if cmp -s "$work/before" "$work/after"; then
	ok "report DIR of packed files alone: the same as before packing"
else
	fail "report DIR of packed files: $(diff "$work/before" "$work/after" | head -4)"
fi
live=$(ls "$work"/*.pyprof | head -n 1)
"$PYPROF_BIN" pack --round=1us -o "$work/round.pyprofz" "$live" >"$work/pack.out" 2>&1
"$PYPROF_BIN" report -f collapsed --weight=ns "$live" >"$work/exact"
"$PYPROF_BIN" report -f collapsed --weight=ns "$work/round.pyprofz" >"$work/rounded"
# each stack's time within a microsecond a sample of it
if python3 - "$work/exact" "$work/rounded" <<'PY'
import sys
def load(p):
    d = {}
    for line in open(p):
        stack, ns = line.rsplit(" ", 1)
        d[stack] = int(ns)
    return d
a, b = load(sys.argv[1]), load(sys.argv[2])
assert a.keys() == b.keys(), "stacks differ"
total = sum(a.values())
err = sum(abs(a[k] - b[k]) for k in a)
assert err <= 1000 * len(a) * 50, (err, len(a))
assert abs(sum(b.values()) - total) <= 1000 * 50, (sum(b.values()), total)
PY
then
	ok "pack --round=1us: the same stacks, their times within microseconds: $(grep -o 'times rounded.*' "$work/pack.out")"
else
	fail "pack --round=1us: $(head -3 "$work/pack.out")"
fi

# refusals: an unfinished file, a packed one, an existing output
cp "$live" "$work/unfinished.pyprof"
printf '\000\000\000\000' | dd of="$work/unfinished.pyprof" bs=1 seek=36 conv=notrunc 2>/dev/null
set +e
"$PYPROF_BIN" pack "$work/unfinished.pyprof" >/dev/null 2>"$work/err"
status=$?
set -e
if [ "$status" -eq 1 ] && grep -q "unfinished.pyprof: not finished" "$work/err" &&
	grep -q -- "--force" "$work/err" && [ ! -e "$work/unfinished.pyprofz" ]; then
	ok "pack refuses an unfinished file: $(cat "$work/err")"
else
	fail "pack of an unfinished file: status $status: $(cat "$work/err")"
fi
if "$PYPROF_BIN" pack --force "$work/unfinished.pyprof" >/dev/null 2>&1 &&
	"$PYPROF_BIN" info "$work/unfinished.pyprofz" 2>&1 | grep -q "cut short"; then
	ok "pack --force packs it, and the packed file still says it was cut short"
else
	fail "pack --force of an unfinished file"
fi
set +e
"$PYPROF_BIN" pack "$work/unfinished.pyprofz" >/dev/null 2>"$work/err"
s1=$?
"$PYPROF_BIN" pack -o "$work/round.pyprofz" "$live" >/dev/null 2>"$work/err2"
s2=$?
set -e
if [ "$s1" -eq 1 ] && grep -q "packed already" "$work/err" &&
	[ "$s2" -eq 1 ] && grep -q "exists already" "$work/err2"; then
	ok "pack refuses a packed file and an existing output: $(cat "$work/err")"
else
	fail "pack of a packed file ($s1: $(cat "$work/err")), existing output ($s2: $(cat "$work/err2"))"
fi

# damaged packed files: refused with the file and an offset, or read
packed=$(ls "$d"/*.pyprofz | head -n 1)
mkdir -p "$work/bad"
size=$(stat -c %s "$packed")
for cut in 0 7 30 47 100 300 $((size / 2)) $((size - 1)); do
	head -c "$cut" "$packed" >"$work/bad/cut-$cut.pyprofz"
done
python3 - "$packed" "$work/bad" <<'PY'
import random, struct, sys
data = open(sys.argv[1], "rb").read()
rng = random.Random(11)
def save(name, b):
    open("%s/%s.pyprofz" % (sys.argv[2], name), "wb").write(b)
b = bytearray(data); struct.pack_into("<I", b, 20, 9); save("streams", b)
b = bytearray(data); struct.pack_into("<Q", b, 48 + 24 * 7 + 8, 1 << 40); save("stream-size", b)
b = bytearray(data); struct.pack_into("<Q", b, 48 + 24 * 7 + 16, 1 << 40); save("raw-size", b)
save("trailing", data + b"x")
for i in range(12):
    b = bytearray(data)
    for _ in range(1 + i):
        p = rng.randrange(48, len(b))
        b[p] ^= 1 << rng.randrange(8)
    save("flip-%02d" % i, b)
PY
for f in "$work"/bad/*.pyprofz; do
	name=$(basename "$f")
	for cmd in report info; do
		set +e
		timeout 20 "$PYPROF_BIN" $cmd "$f" >/dev/null 2>"$work/stderr"
		status=$?
		set -e
		if [ "$status" -eq 124 ]; then
			fail "$cmd $name: hung"
		elif [ "$status" -ge 125 ]; then
			fail "$cmd $name: crashed with status $status: $(head -n 2 "$work/stderr")"
		elif [ "$status" -ne 0 ]; then
			if grep -q "$name: offset [0-9]*: " "$work/stderr"; then
				ok "$cmd $name: status $status: $(head -n 1 "$work/stderr" | sed 's|.*/||')"
			else
				fail "$cmd $name: status $status without file and offset: $(head -n 2 "$work/stderr")"
			fi
		else
			case $name in
			flip-*) ok "$cmd $name: read (the change was in what a reader ignores)" ;;
			*) fail "$cmd $name: accepted a packed file it must refuse" ;;
			esac
		fi
	done
done

# at scale: a generated profile (bench/gen-profile.c, call sites like a
# program's) packs to at most 4 bytes a sample
if ${CC:-cc} -O2 -I"$top_srcdir/format" -I"$top_builddir" -o "$work/gen" \
	"$top_srcdir/bench/gen-profile.c" "$top_srcdir/format/write.c" \
	"$top_srcdir/format/encode.c" 2>"$work/cc.err"; then
	"$work/gen" "$work/gen.pyprof" 300000 6 callsite
	"$PYPROF_BIN" pack "$work/gen.pyprof" >"$work/pack.out" 2>&1
	bps=$(sed -n 's/.* -> \([0-9.]*\) bytes per sample.*/\1/p' "$work/pack.out")
	if [ -n "$bps" ] && awk -v b="$bps" 'BEGIN {exit !(b <= 4)}'; then
		ok "gen-profile, 300,000 samples: $bps bytes per sample packed (at most 4): $(sed 's|.*/||' "$work/pack.out")"
	else
		fail "gen-profile at scale: $(cat "$work/pack.out")"
	fi
	"$PYPROF_BIN" report -f collapsed "$work/gen.pyprof" | md5sum >"$work/g.a"
	"$PYPROF_BIN" report -f collapsed "$work/gen.pyprofz" | md5sum >"$work/g.b"
	if cmp -s "$work/g.a" "$work/g.b"; then
		ok "gen-profile: the packed file's report is the live one's"
	else
		fail "gen-profile: reports differ"
	fi
	# past 32 MiB the reader lets a mapped file's pages go as it reads;
	# a packed file's rebuilt chunks are the only copy of their bytes
	"$work/gen" "$work/big.pyprof" 1100000 6 callsite
	"$PYPROF_BIN" pack -l 9 "$work/big.pyprof" >/dev/null 2>&1
	"$PYPROF_BIN" report -f collapsed "$work/big.pyprof" 2>&1 | md5sum >"$work/g.a"
	"$PYPROF_BIN" report -f collapsed "$work/big.pyprofz" 2>&1 | md5sum >"$work/g.b"
	if [ "$(stat -c %s "$work/big.pyprof")" -gt $((32 << 20)) ] && cmp -s "$work/g.a" "$work/g.b"; then
		ok "a packed file of a $(stat -c %s "$work/big.pyprof")-byte live file reads as that file"
	else
		fail "a packed file past 32 MiB: reports differ"
	fi
else
	echo "SKIP (part): no C compiler for bench/gen-profile.c: $(head -n 2 "$work/cc.err")"
fi
finish
