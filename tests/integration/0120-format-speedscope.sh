#!/bin/sh
# --format speedscope, checked by speedscope itself (npm `speedscope`):
# the file is valid against the JSON schema the package ships, and the
# package's viewer, in headless Chromium with the network off, imports it
# and shows its profiles.  Weights add up to the text report's total.
. "$(dirname "$0")/setup.sh"
. "$top_srcdir/tests/integration/consumers.sh"
need_node_packages
make_profile

"$PYPROF_BIN" report -o "$work/p.speedscope.json" "$prof"
run_check "totals equal the text report's" sh -c \
	"python3 '$formats_py' text-vs-json '$work/report.txt' '$work/tree.json' &&
	 python3 '$formats_py' totals speedscope '$work/p.speedscope.json' '$work/tree.json'"
schema=$node_modules/speedscope/dist/release/file-format-schema.json
[ -f "$schema" ] || schema=$(find "$node_modules/speedscope" -name file-format-schema.json | head -n 1)
if [ -f "$schema" ]; then
	run_check "valid against speedscope's file-format-schema.json" \
		env NODE_PATH="$node_modules" node "$top_srcdir/tests/consumers/validate-schema.js" \
		"$schema" "$work/p.speedscope.json"
else
	fail "the speedscope package ships no file-format-schema.json"
fi

# The viewer: what `speedscope FILE` does, without a desktop browser: a
# script that hands the file to speedscope.loadFileFromBase64, named in
# the page's #localProfilePath.
find_chromium
index=$node_modules/speedscope/dist/release/index.html
node -e '
const fs = require("fs");
const b64 = fs.readFileSync(process.argv[1]).toString("base64");
fs.writeFileSync(process.argv[2], "speedscope.loadFileFromBase64(" +
  JSON.stringify("p.speedscope.json") + "," + JSON.stringify(b64) + ")");
' "$work/p.speedscope.json" "$work/load.js"
chromium_run --dump-dom --virtual-time-budget=8000 --window-size=1280,800 \
	"file://$index#localProfilePath=$work/load.js" >"$work/dom.html" || true
thread=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["profiles"][0]["name"])' "$work/p.speedscope.json")
if grep -qF "$thread" "$work/dom.html"; then
	ok "speedscope's viewer imported the file and shows profile '$thread'"
else
	fail "speedscope's viewer does not show '$thread': $(grep -o 'Something went wrong[^<]*\|[Ff]ailed[^<]*' "$work/dom.html" | head -n 3) $(tail -n 3 "$work/chrome.err")"
fi
finish
