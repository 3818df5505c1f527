#!/bin/sh
# --format gecko (-o FILE.gecko.json): the Firefox Profiler's processed
# format, version 57.  The file is valid against
# tests/consumers/gecko-profile.schema.json (the subset pyprof writes, from
# the profiler's own types; ajv applies it), its tables hold together
# (formats.py gecko), and it says what the JSON tree says: the same
# threads, each weighing what its root does (threads.py's w1, w2 and w3
# together what their family's does), one entry per sample in CPU mode; the control API's marks are markers of the threads that made them;
# a hidden function is nowhere; wall-mode waiting is [idle] in the Idle
# category.  The profiler itself is a web application that is neither
# packaged nor on npm, and the machine has no network: no browser loads
# the file here.
. "$(dirname "$0")/setup.sh"
. "$top_srcdir/tests/integration/consumers.sh"
make_profile
schema=$top_srcdir/tests/consumers/gecko-profile.schema.json

# -o picks the format by the longest extension: .gecko.json, not .json
"$PYPROF_BIN" report -o "$work/p.gecko.json" "$prof"
if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(not ("meta" in d and "threads" in d))' \
	"$work/p.gecko.json"; then
	ok "-o p.gecko.json writes the gecko format"
else
	fail "-o p.gecko.json: $(head -c 200 "$work/p.gecko.json")"
fi
run_check "tables, threads, weights and samples equal the JSON tree's" \
	python3 "$formats_py" gecko "$work/p.gecko.json" "$work/tree.json" cpu
"$PYPROF_BIN" run --interval 1ms --format gecko -o "$work/run.json" -- \
	"$py" "$targets/threads.py" "$work/run-truth.json" 0.2 >/dev/null 2>&1
if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(d["meta"]["product"] != "pyprof")' \
	"$work/run.json" 2>/dev/null; then
	ok "pyprof run --format gecko writes it too"
else
	fail "pyprof run --format gecko: $(head -c 200 "$work/run.json" 2>/dev/null)"
fi

# Marks (tests/targets/marks.py): nested windows, one never closed, a
# point mark from a worker thread
rm -rf "$work/out"
PYPROF_INTERVAL=1ms profile "$work/out" "$py" "$targets/marks.py" "$work/marks.json"
mprof=$(ls "$work"/out/*.pyprof)
"$PYPROF_BIN" report --format gecko "$mprof" >"$work/m.gecko.json"
"$PYPROF_BIN" report --format json "$mprof" >"$work/m.tree.json"
python3 - "$work/marks.json" "$work/m.tree.json" >"$work/want.json" <<'EOF'
import json, sys
done = json.load(open(sys.argv[1]))
main = [t["tid"] for t in json.load(open(sys.argv[2]))["threads"] if t["main"]][0]
print(json.dumps([[main, "outer", 1], [main, "inner", 1], [main, "open", 1],
                  [done["worker_tid"], "checkpoint", 0]]))
EOF
run_check "marks: windows are intervals, a point an instant, on the thread that made it" \
	python3 "$formats_py" gecko-markers "$work/m.gecko.json" "$work/want.json"
run_check "marks profile: tables and totals" \
	python3 "$formats_py" gecko "$work/m.gecko.json" "$work/m.tree.json" cpu

# --hide: the function is gone, its time is its callers'
"$PYPROF_BIN" report --hide spin --format gecko "$mprof" >"$work/h.gecko.json"
"$PYPROF_BIN" report --hide spin --format json "$mprof" >"$work/h.tree.json"
if grep -q '"spin"' "$work/m.gecko.json"; then
	run_check "--hide spin: no spin anywhere" \
		python3 "$formats_py" gecko-absent "$work/h.gecko.json" spin
else
	fail "the marks profile has no spin to hide"
fi
run_check "--hide spin: totals equal the tree built with it" \
	python3 "$formats_py" gecko "$work/h.gecko.json" "$work/h.tree.json" cpu

rm -rf "$work/out"
PYPROF_MODE=wall PYPROF_INTERVAL=2ms profile "$work/out" "$py" "$targets/threads.py" "$work/truth.json" 0.3 2>"$work/wall.err"
"$PYPROF_BIN" report --format gecko "$work"/out/*.pyprof >"$work/w.gecko.json"
"$PYPROF_BIN" report --format json "$work"/out/*.pyprof >"$work/w.tree.json"
run_check "wall mode: tables, totals, [idle] in the Idle category" \
	python3 "$formats_py" gecko "$work/w.gecko.json" "$work/w.tree.json" wall

# The schema, with ajv from npm (skipped with a note where node is not)
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
	need_node_packages
	for f in p m h w; do
		run_check "$f.gecko.json valid against gecko-profile.schema.json" \
			env NODE_PATH="$node_modules" node "$top_srcdir/tests/consumers/validate-schema.js" \
			"$schema" "$work/$f.gecko.json"
	done
	# and the schema can fail: a sample weighed in counts is not pyprof's
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d["threads"][0]["samples"]["weightType"]="samples"; json.dump(d,open(sys.argv[2],"w"))' \
		"$work/p.gecko.json" "$work/bad.json"
	if env NODE_PATH="$node_modules" node "$top_srcdir/tests/consumers/validate-schema.js" \
		"$schema" "$work/bad.json" >/dev/null 2>&1; then
		fail "the schema accepts a weightType pyprof does not write"
	else
		ok "the schema rejects a file pyprof would not write"
	fi
else
	echo "note: node or npm missing: the schema was not applied"
fi
finish
