#!/bin/sh
# Families of threads: a program that starts a thread per request
# (tests/targets/families.py, 200 short threads with Python's default
# names), in CPU and wall mode, on every interpreter:
#  - the default text report has one header for them, "handle ×200"
#    ("Thread-N ×200" before 3.10, whose default names have no target),
#    N the number the program started, and the main thread apart;
#  - --group=thread has one header per thread, --threads one line per
#    thread and one for the family;
#  - the family's time is the sum of its threads' (--group=thread, json),
#    and its median per thread their median;
#  - speedscope and trace, which walk samples in time, find them under
#    the family's root;
#  - wall mode, threads merged (--merge-threads): one split line for the
#    family, not one per thread.
. "$(dirname "$0")/setup.sh"

for py in $pythons; do
for mode in cpu wall; do
	v="$(pyver "$py") $mode"
	rm -rf "$work/out" && mkdir -p "$work/out"
	if ! PYPROF_MODE=$mode PYPROF_INTERVAL=1ms profile "$work/out" "$py" \
		"$targets/families.py" 200 >"$work/started" 2>"$work/err"; then
		fail "$v: the target failed: $(head -c 300 "$work/err")"
		continue
	fi
	n=$(cat "$work/started")
	if "$py" -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
		label=handle
	else
		label=Thread-N
	fi
	prof=$(ls "$work"/out/*.pyprof)
	"$PYPROF_BIN" report --color=never "$prof" >"$work/text"
	"$PYPROF_BIN" report --color=never --group=thread "$prof" >"$work/threads"
	"$PYPROF_BIN" report --threads "$prof" >"$work/table"
	"$PYPROF_BIN" report --format json --group=thread "$prof" >"$work/each.json"
	"$PYPROF_BIN" report --format json "$prof" >"$work/family.json"
	"$PYPROF_BIN" report --format speedscope "$prof" >"$work/family.speedscope"
	"$PYPROF_BIN" report --format trace "$prof" >"$work/family.trace"

	heads=$(grep -c ' (pid [0-9]*\(, tid [0-9]*\)\?): ' "$work/text" || true)
	family=$(grep -c "^$label ×$n (pid [0-9]*): [0-9]* samples, " "$work/text" || true)
	if [ "$family" -eq 1 ] && [ "$heads" -le 2 ] &&
		grep -q '^MainThread (pid [0-9]*, tid [0-9]*): ' "$work/text"; then
		ok "$v: one header for the $n threads started, $(grep "^$label ×" "$work/text")"
	else
		fail "$v: $family headers '$label ×$n', $heads in all: $(grep ' (pid ' "$work/text" | head -5)"
	fi
	each=$(grep -c '^Thread-[0-9]* .*(pid [0-9]*, tid [0-9]*): ' "$work/threads" || true)
	if [ "$each" -eq "$n" ]; then
		ok "$v: --group=thread: $each headers, one per thread"
	else
		fail "$v: --group=thread: $each headers for $n threads"
	fi
	rows=$(awk '/^family/ {exit} $1 ~ /^Thread-[0-9]+$/ {n++} END {print n + 0}' "$work/table")
	frow=$(awk -v l="$label" 'f && $1 == l {print $2} /^family/ {f = 1}' "$work/table")
	if [ "$rows" -eq "$n" ] && [ "$frow" = "$n" ]; then
		ok "$v: --threads: $rows threads, and the family of $frow"
	else
		fail "$v: --threads: $rows thread lines, family line '$frow', for $n: $(tail -n 3 "$work/table")"
	fi
	if python3 - "$work" "$label" "$n" >"$work/check" 2>&1 <<'PY'; then
import json, re, statistics, sys
work, label, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
text = open(work + "/text").read()
m = re.search(r"^%s ×%d \(pid \d+\): (\d+) samples?, ([0-9.]+) s (?:CPU|wall).*\n"
              r"  median per thread ([0-9.]+) s" % (re.escape(label), n), text, re.M)
assert m, "no family header"
each = json.load(open(work + "/each.json"))
mine = [r for r in each["roots"] if each["threads"][r["thread"]]["name"].startswith("Thread-")]
total = sum(r["total_ns"] for r in mine)
assert len(mine) == n, (len(mine), n)
assert abs(float(m.group(2)) - total / 1e9) <= 0.0005, (m.group(2), total)
assert int(m.group(1)) == sum(r["total_samples"] for r in mine), m.group(1)
median = statistics.median(r["total_ns"] for r in mine) / 1e9
assert abs(float(m.group(3)) - median) <= 0.0005, (m.group(3), median)
fam = json.load(open(work + "/family.json"))
root = [r for r in fam["roots"] if r["name"] == label]
assert len(root) == 1 and root[0]["total_ns"] == total, [r["name"] for r in fam["roots"]]
assert sorted(root[0]["threads"]) == sorted(r["thread"] for r in mine)
ss = json.load(open(work + "/family.speedscope"))
prof = [p for p in ss["profiles"] if p["name"].startswith("%s ×%d (pid " % (label, n))]
assert len(prof) == 1 and abs(sum(prof[0]["weights"]) - total / 1e9) < 1e-6, \
    [p["name"] for p in ss["profiles"]]
tids = {each["threads"][r["thread"]]["tid"] for r in mine}
drawn = {e["tid"] for e in json.load(open(work + "/family.trace"))["traceEvents"]
         if e["ph"] == "B" and e["name"] == "handle"}
assert tids <= drawn, "%d of %d threads drawn in handle" % (len(tids & drawn), len(tids))
print("%.3f s = the sum of %d threads, median %.3f s; speedscope and trace agree"
      % (total / 1e9, n, median))
PY
		ok "$v: $(cat "$work/check")"
	else
		fail "$v: $(tail -n 3 "$work/check")"
	fi
	if [ "$mode" = wall ]; then
		"$PYPROF_BIN" report --color=never --merge-threads "$prof" | sed '/^$/q' >"$work/splits"
		if [ "$(grep -c ' wall — running ' "$work/splits")" -eq 2 ] &&
			grep -q "^$label ×$n (pid [0-9]*): [0-9.]* s wall — running " "$work/splits"; then
			ok "$v: --merge-threads opens with one split line for the family"
		else
			fail "$v: --merge-threads opens with: $(head -n 4 "$work/splits")"
		fi
	fi
done
done
finish
