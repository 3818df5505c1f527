#!/bin/sh
# --format html, checked by headless Chromium with the network off: the
# page loads from disk, the flame graph has the expected top frames (the
# workers w1, w2 and w3 one family, wN), the search finds a function and
# highlights it, the thread selector lists the family and switches the
# views to it; a screenshot is kept in tests/screenshots/.  The page's
# data have the text report's totals.  0115 checks its views one by one.
. "$(dirname "$0")/setup.sh"
. "$top_srcdir/tests/integration/consumers.sh"
find_chromium
make_profile

if "$PYPROF_BIN" report -o "$work/page.html" "$prof" && grep -q '<html' "$work/page.html"; then
	ok "-o page.html writes HTML ($(wc -c <"$work/page.html") bytes)"
else
	fail "-o page.html"
fi
run_check "totals equal the text report's" sh -c \
	"python3 '$formats_py' text-vs-json '$work/report.txt' '$work/tree.json' &&
	 python3 '$formats_py' totals html '$work/page.html' '$work/tree.json'"
if grep -qE '(src|href)="(https?:)?//' "$work/page.html"; then
	fail "the page loads something from the network"
else
	ok "no network references in the page"
fi

# The checks run inside the page, after its own script, and leave their
# findings in the DOM that --dump-dom prints.
cat >"$work/check.js" <<'JS'
(function () {
  var r = {};
  function frames() { return Array.prototype.slice.call(document.querySelectorAll("#flame .frame")); }
  function at(level) { return frames().filter(function (e) { return e.style.top === (level * 18) + "px"; }).map(function (e) { return e.textContent; }); }
  function fns() { return Array.prototype.map.call(document.querySelectorAll("#tree .trow .fn"), function (e) { return e.textContent; }); }
  r.ready = document.body.dataset.ready === "1";
  r.top = at(1);
  r.second = at(2);
  r.nframes = frames().length;
  r.hasBurn = frames().some(function (e) { return e.textContent === "burn"; });
  document.querySelector('#tabs [data-view="tree"]').click();
  r.rows = document.querySelectorAll("#tree .trow").length;
  var s = document.getElementById("search");
  s.value = "burn";
  s.dispatchEvent(new Event("input"));
  r.rowMatches = document.querySelectorAll("#tree .trow.match").length;
  document.querySelector('#tabs [data-view="flame"]').click();
  r.matches = document.querySelectorAll("#flame .frame.match").length;
  r.searchInfo = document.getElementById("search-info").textContent;
  s.value = "";
  s.dispatchEvent(new Event("input"));
  var sel = document.getElementById("thread");
  r.threads = Array.prototype.map.call(sel.options, function (o) { return o.text; });
  for (var i = 0; i < sel.options.length; i++)
    if (/^wN /.test(sel.options[i].text)) sel.selectedIndex = i;
  sel.dispatchEvent(new Event("change"));
  r.afterTop = at(1);
  r.afterSummary = document.getElementById("summary").textContent;
  document.querySelector('#tabs [data-view="tree"]').click();
  r.afterRows = fns().slice(0, 3);
  document.querySelector('#tabs [data-view="timeline"]').click();
  r.afterLanes = Array.prototype.map.call(document.querySelectorAll("#timeline .lane .lname"), function (e) { return e.firstChild.textContent.trim(); });
  var pre = document.createElement("pre");
  pre.id = "results";
  pre.textContent = JSON.stringify(r);
  document.body.appendChild(pre);
})();
JS
if ! chromium_eval "$work/page.html" "$work/check.js" "$work/results.json"; then
	finish
	exit 1
fi
python3 - "$work/results.json" >"$work/verdict" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
def say(ok, what): print(("ok " if ok else "FAIL ") + what)
say(r["ready"], "the page's script ran to the end")
tops = set(t.split(" ")[0] for t in r["top"])
say("wN" in tops and not tops & {"w1", "w2", "w3"},
    "top frames are the threads, the workers one family: %s" % r["top"])
say(r["hasBurn"], "the flame graph shows burn")
say(r["nframes"] < 5000, "%d boxes, not one per sample" % r["nframes"])
say(r["rows"] > 0, "the call tree has %d rows" % r["rows"])
say(r["matches"] > 0 and r["rowMatches"] > 0 and "match" in r["searchInfo"],
    "search 'burn' highlights %d boxes, %d rows: %s" % (r["matches"], r["rowMatches"], r["searchInfo"]))
say(any(t.startswith("wN \u00d73 (pid ") for t in r["threads"]) and
    not any(t.startswith("w1 ") for t in r["threads"]),
    "thread selector: %s" % r["threads"])
say(len(r["afterTop"]) == 1 and r["afterTop"][0].startswith("wN"),
    "selecting wN shows wN alone: %s" % r["afterTop"])
say(r["afterRows"][:1] == ["wN"], "the call tree follows: %s" % r["afterRows"])
# the timeline keeps a lane per thread: the family's three
say(r["afterLanes"] == ["w1", "w2", "w3"], "and the timeline: %s" % r["afterLanes"])
PY
verdicts "$work/verdict"

screenshot format-html "file://$work/page.html" 1280,900
finish
