#!/bin/sh
# Damaged files: a clear error naming the file and the offset and a
# non-zero exit, or for a file cut short a warning and the report of its
# valid part.  Never a crash or a hang.
. "$(dirname "$0")/setup.sh"

py=$(echo "$pythons" | head -n 1)
mkdir -p "$work/out" "$work/bad"
PYPROF_INTERVAL=1ms profile "$work/out" "$py" "$targets/threads.py" "$work/truth.json" 0.5
good=$(ls "$work"/out/*.pyprof)
size=$(stat -c %s "$good")

: >"$work/bad/empty.pyprof"
printf 'hello, this is text\n' >"$work/bad/text.pyprof"
cp "$(command -v ls)" "$work/bad/elf.pyprof"
head -c 100 "$good" >"$work/bad/short-header.pyprof"
head -c 4096 "$good" >"$work/bad/header-only.pyprof"
for cut in 4200 5000 70000 $((size - 1000)); do
	[ "$cut" -lt "$size" ] && head -c "$cut" "$good" >"$work/bad/cut-$cut.pyprof"
done
python3 - "$good" "$work/bad" <<'PY'
import random, struct, sys
good, out = sys.argv[1], sys.argv[2]
data = bytearray(open(good, "rb").read())
def save(name, b):
    open("%s/%s.pyprof" % (out, name), "wb").write(b)
b = bytearray(data); b[0:8] = b"NOTMAGIC"; save("bad-magic", b)
b = bytearray(data); struct.pack_into("<H", b, 8, 99); save("major-99", b)
b = bytearray(data); struct.pack_into("<I", b, 12, 0x04030201); save("big-endian", b)
b = bytearray(data); struct.pack_into("<I", b, 20, 12345); save("chunk-size", b)
b = bytearray(data); struct.pack_into("<I", b, 32, 0xffffffff); save("chunks-claimed", b)
# a record length that runs past its chunk, in the first chunk
b = bytearray(data); struct.pack_into("<I", b, 4096 + 16, (0xffffff << 8) | 4); save("record-length", b)
rng = random.Random(7)
for i in range(20):
    b = bytearray(data)
    for _ in range(50):
        p = rng.randrange(4096, len(b))
        b[p] = rng.randrange(256)
    save("noise-%02d" % i, b)
PY

for f in "$work"/bad/*.pyprof; do
	name=$(basename "$f")
	for cmd in report info; do
		set +e
		timeout 20 "$PYPROF_BIN" $cmd "$f" >"$work/stdout" 2>"$work/stderr"
		status=$?
		set -e
		msg=$(head -n 3 "$work/stderr")
		if [ "$status" -eq 124 ]; then
			fail "$cmd $name: hung"
		elif [ "$status" -ge 125 ]; then
			fail "$cmd $name: crashed with status $status: $msg"
		elif [ "$status" -ne 0 ]; then
			if grep -q "$name" "$work/stderr" && grep -qi "offset" "$work/stderr"; then
				ok "$cmd $name: status $status: $(head -n 1 "$work/stderr")"
			else
				fail "$cmd $name: status $status without file and offset: $msg"
			fi
		else
			case $name in
			empty* | text* | elf* | short-header* | bad-magic* | major-99* | big-endian* | chunk-size*)
				fail "$cmd $name: accepted a file it must refuse" ;;
			cut-* | record-length* | chunks-claimed*)
				if grep -qi "warning" "$work/stderr" && grep -q "$name" "$work/stderr"; then
					ok "$cmd $name: valid part with a warning: $(head -n 1 "$work/stderr")"
				else
					fail "$cmd $name: no warning for a damaged file"
				fi ;;
			*) ok "$cmd $name: status 0" ;;
			esac
		fi
	done
done

# files that do not exist, and a directory with no profiles
for cmd in report info; do
	set +e
	"$PYPROF_BIN" $cmd "$work/missing.pyprof" >/dev/null 2>"$work/stderr"
	status=$?
	set -e
	if [ "$status" -ne 0 ] && grep -q missing.pyprof "$work/stderr"; then
		ok "$cmd missing file: $(head -n 1 "$work/stderr")"
	else
		fail "$cmd missing file: status $status, $(cat "$work/stderr")"
	fi
done
mkdir -p "$work/emptydir"
set +e
"$PYPROF_BIN" report "$work/emptydir" >/dev/null 2>"$work/stderr"
status=$?
set -e
if [ "$status" -ne 0 ] && grep -q emptydir "$work/stderr"; then
	ok "report on a directory without profiles: $(head -n 1 "$work/stderr")"
else
	fail "report on a directory without profiles: status $status"
fi
finish
