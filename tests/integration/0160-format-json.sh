#!/bin/sh
# --format json: parses as JSON, follows the schema pyprof(1) documents
# (checked field by field), totals equal the text report's; -o FILE picks
# formats by extension; --by merges and splits several files.
. "$(dirname "$0")/setup.sh"
. "$top_srcdir/tests/integration/consumers.sh"
make_profile

run_check "text report and JSON tree agree" \
	python3 "$formats_py" text-vs-json "$work/report.txt" "$work/tree.json"
run_check "the documented schema" python3 - "$work/tree.json" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
assert t["format"] == "pyprof-tree" and t["version"] == 1 and t["unit"] == "ns", t["format"]
for k in ("pid", "ppid", "file", "argv", "python", "mode", "interval_ns"):
    assert k in t["processes"][0], k
for k in ("process", "tid", "name", "main"):
    assert k in t["threads"][0], k
stack = [(n, 1) for n in t["roots"]]
assert sum(n["total_ns"] for n in t["roots"]) == t["total_ns"]
nodes = 0
while stack:
    n, d = stack.pop()
    nodes += 1
    for k in ("name", "kind", "self_ns", "total_ns", "self_samples", "total_samples", "children"):
        assert k in n, k
    assert n["total_ns"] == n["self_ns"] + sum(c["total_ns"] for c in n["children"])
    assert n["total_samples"] == n["self_samples"] + sum(c["total_samples"] for c in n["children"])
    if d == 1:
        # one thread's root names it, a family's lists its threads
        assert n["kind"] == "thread" and ("thread" in n) != ("threads" in n), n["name"]
        assert all(0 <= i < len(t["threads"]) for i in n.get("threads", [n.get("thread")]))
    if n["kind"] == "python":
        assert "file" in n and "line" in n
    stack.extend((c, d + 1) for c in n["children"])
print("ok: %d nodes, totals add up at every node" % nodes)
# threads.py's workers w1, w2 and w3 are one family, by default one root
fams = [(r["name"], sorted(t["threads"][i]["name"] for i in r["threads"]))
        for r in t["roots"] if "threads" in r]
assert fams == [("wN", ["w1", "w2", "w3"])], fams
print("ok: one family root, %s" % fams)
PY

for pair in "x.html:<!DOCTYPE html>" "x.svg:<?xml" "x.json:{\"format\":\"pyprof-tree\"" \
	"x.trace.json:{\"displayTimeUnit\"" "x.speedscope.json:{\"\$schema\"" "x.folded:" "x.txt:"; do
	file=${pair%%:*}
	want=${pair#*:}
	"$PYPROF_BIN" report -o "$work/$file" "$prof"
	if [ -z "$want" ] || head -c 40 "$work/$file" | grep -qF "$want"; then
		ok "-o $file picks its format"
	else
		fail "-o $file wrote: $(head -c 40 "$work/$file")"
	fi
done
"$PYPROF_BIN" report --format text -o "$work/forced.html" "$prof"
if grep -q '<html' "$work/forced.html"; then
	fail "--format beats the extension"
else
	ok "--format beats the extension"
fi

# Two files merged: --by none gives one root, --by process one per
# process, --by thread one per thread; totals stay the same.
mkdir -p "$work/two"
cp "$prof" "$work/two/"
PYPROF_INTERVAL=1ms profile "$work/two" "$py" "$targets/threads.py" "$work/truth2.json" 0.2
for by in none process thread; do
	"$PYPROF_BIN" report --by "$by" --format json "$work/two" >"$work/by-$by.json"
done
run_check "--by none|process|thread: 1, 2 and 8 roots, one total" python3 - "$work" <<'PY'
import json, sys
d = {b: json.load(open("%s/by-%s.json" % (sys.argv[1], b))) for b in ("none", "process", "thread")}
roots = {b: len(t["roots"]) for b, t in d.items()}
assert roots["none"] == 1 and roots["process"] == 2 and roots["thread"] == 8, roots
assert len({t["total_ns"] for t in d.values()}) == 1
assert d["process"]["roots"][0]["name"].startswith("process ")
print("ok:", roots)
PY
if "$PYPROF_BIN" report --by bogus "$prof" 2>"$work/err"; then
	fail "--by bogus accepted"
elif grep -q "expected process, thread or none" "$work/err"; then
	ok "--by bogus: $(cat "$work/err" | head -n 1)"
else
	fail "--by bogus: $(cat "$work/err")"
fi
finish
