#!/bin/sh
# The html page's views, driven in headless Chromium as a person would,
# on tests/targets/origins.py (the program's checksum in a thread, json's
# encoder and decoder in the main thread, a thread that sleeps):
#   call tree  clicking a closed function shows its children, clicking
#              again hides them; searching a function deep in json's
#              decoder opens the way to it and highlights it
#   colours    the program's frames warm, json's frames blue and of one
#              hue, whatever the page, as the tooltip says where they are
#   timeline   one lane per thread that has samples (pyprof report
#              --threads), and in wall mode the sleeping thread's lane
#              mostly waiting
. "$(dirname "$0")/setup.sh"
. "$top_srcdir/tests/integration/consumers.sh"
find_chromium

py=$(echo "$pythons" | head -n 1)
PYPROF_INTERVAL=1ms profile "$work/cpu" "$py" "$targets/origins.py" 0.3
PYPROF_INTERVAL=1ms PYPROF_MODE=wall profile "$work/wall" "$py" "$targets/origins.py" 0.3
"$PYPROF_BIN" report -o "$work/cpu.html" "$work/cpu"
"$PYPROF_BIN" report -o "$work/wall.html" "$work/wall"
for m in cpu wall; do
	"$PYPROF_BIN" report --threads "$work/$m" | awk 'NR > 1 {print $1}' | sort >"$work/$m.threads"
done

cat >"$work/views.js" <<'JS'
(function () {
  var r = {};
  function $(s) { return document.querySelector(s); }
  function all(s) { return Array.prototype.slice.call(document.querySelectorAll(s)); }
  function visible(e) { return !!e && e.offsetParent !== null; }
  function fn(node) { return node.querySelector(":scope > .trow .fn").textContent; }
  function kids(node) { return all("#tree .tnode").filter(function (k) { return k.parentNode.parentNode === node; }); }
  r.ready = document.body.dataset.ready === "1";

  // the flame graph: each box's fill and, from its tooltip, its place
  $('#tabs [data-view="flame"]').click();
  r.boxes = all("#flame .frame").filter(function (b) { return b.dataset.node !== "0"; }).map(function (b) {
    var box = b.getBoundingClientRect();
    b.dispatchEvent(new MouseEvent("mousemove", { bubbles: true, clientX: box.left + 1, clientY: box.top + 1 }));
    return { fill: getComputedStyle(b).backgroundColor, tip: document.getElementById("tip").textContent };
  });

  // the call tree: a closed function opened and closed by a click
  $('#tabs [data-view="tree"]').click();
  var closed = all("#tree .tnode").filter(function (n) {
    return visible(n) && n.dataset.open !== "1" && n.querySelector(".tog").textContent === "\u25b8";
  });
  var loads = closed.filter(function (n) { return fn(n) === "loads"; })[0] || closed[0];
  r.clicked = loads ? fn(loads) : null;
  if (loads) {
    r.kidsBefore = kids(loads).filter(visible).length;
    loads.querySelector(".trow").click();
    r.kidsAfter = kids(loads).filter(visible).map(fn);
    loads.querySelector(".trow").click();
    r.kidsClosed = kids(loads).filter(visible).length;
    r.detail = document.getElementById("detail").textContent;
  }

  // search: found, highlighted and opened to
  r.rawBefore = all("#tree .trow .fn").filter(function (e) { return visible(e) && /raw_decode/.test(e.textContent); }).length;
  var s = document.getElementById("search");
  s.value = "raw_decode";
  s.dispatchEvent(new Event("input"));
  r.rawMatches = all("#tree .trow.match").filter(visible).map(function (e) { return e.querySelector(".fn").textContent; });
  s.value = "checksum";
  s.dispatchEvent(new Event("input"));
  r.hotMatches = all("#tree .trow.match").filter(visible).map(function (e) { return e.querySelector(".fn").textContent; });
  $('#tabs [data-view="flame"]').click();
  r.hotBoxes = all("#flame .frame.match").map(function (e) { return e.textContent; });
  r.searchInfo = document.getElementById("search-info").textContent;
  s.value = "";
  s.dispatchEvent(new Event("input"));

  // the timeline
  $('#tabs [data-view="timeline"]').click();
  r.lanes = all("#timeline .lane").map(function (l) {
    return { name: l.querySelector(".lname").firstChild.textContent.trim(), running: +l.dataset.running,
             waiting: +l.dataset.waiting, drawn: l.querySelector("canvas").width > 0 };
  });
  var pre = document.createElement("pre");
  pre.id = "results";
  pre.textContent = JSON.stringify(r);
  document.body.appendChild(pre);
})();
JS

for m in cpu wall; do
	chromium_eval "$work/$m.html" "$work/views.js" "$work/$m.json" || continue
	python3 - "$m" "$work/$m.json" "$work/$m.threads" >"$work/verdict" <<'PY'
import json, re, sys
mode, r = sys.argv[1], json.load(open(sys.argv[2]))
threads = open(sys.argv[3]).read().split()
def say(ok, what): print(("ok " if ok else "FAIL ") + mode + ": " + what)
def hue(rgb):
    r, g, b = [int(x) / 255 for x in re.findall(r"\d+", rgb)[:3]]
    mx, mn = max(r, g, b), min(r, g, b)
    if mx == mn:
        return None
    if mx == r:
        h = 60 * (g - b) / (mx - mn)
    elif mx == g:
        h = 60 * (2 + (b - r) / (mx - mn))
    else:
        h = 60 * (4 + (r - g) / (mx - mn))
    return h % 360
say(r["ready"], "the page's script ran to the end")

# colours: the tooltip says which file a box is in
prog = [b for b in r["boxes"] if "origins.py" in b["tip"] and b["tip"].startswith("checksum")]
json_ = [b for b in r["boxes"] if "<stdlib>/json/" in b["tip"]]
say(prog and json_, "a box of the program (checksum) and boxes of json: %d, %d" % (len(prog), len(json_)))
if prog and json_:
    hp, hj = hue(prog[0]["fill"]), [hue(b["fill"]) for b in json_]
    say(hp is not None and (hp <= 50 or hp >= 340),
        "the program's frame is warm: %s (hue %s)" % (prog[0]["fill"], hp))
    say(all(h is not None and 190 <= h <= 235 for h in hj),
        "json's frames are blue: %s" % sorted(set(b["fill"] for b in json_)))
    say(all(b["fill"] != prog[0]["fill"] for b in json_),
        "a program frame and a stdlib frame differ")
    files = set(re.search(r"<stdlib>/json/[a-z_]+\.py", b["tip"]).group(0) for b in json_)
    say(len(hj) >= 2 and max(hj) - min(hj) < 10,
        "%d frames of json (%s) are of one hue: %s" % (len(hj), ", ".join(sorted(files)), sorted(set(round(h) for h in hj))))

# the call tree
say(r["clicked"] is not None and r["kidsBefore"] == 0 and len(r["kidsAfter"]) > 0,
    "clicking %s shows its children: %s" % (r["clicked"], r.get("kidsAfter")))
if r["clicked"] == "loads":
    say(any("decode" in k for k in r["kidsAfter"]), "loads calls decode")
say(r.get("kidsClosed") == 0, "clicking it again hides them")
say(r["clicked"] and r["clicked"] in r.get("detail", ""), "its details: %s" % r.get("detail", "")[:120])
say(r["rawBefore"] == 0 and len(r["rawMatches"]) > 0 and all("raw_decode" in m for m in r["rawMatches"]),
    "search raw_decode opens the way to it (hidden before) and highlights it: %s" % r["rawMatches"])
say("checksum" in r["hotMatches"] and "checksum" in r["hotBoxes"] and "match" in r["searchInfo"],
    "search checksum highlights it in the tree %s and the flame graph %s: %s" % (r["hotMatches"], r["hotBoxes"], r["searchInfo"]))

# the timeline
names = sorted(l["name"] for l in r["lanes"])
say(names == sorted(threads), "one lane per thread with samples: %s, as --threads lists %s" % (names, sorted(threads)))
say(all(l["drawn"] and l["running"] + l["waiting"] > 0 for l in r["lanes"]), "every lane is drawn and has time")
if mode == "wall":
    idler = [l for l in r["lanes"] if l["name"] == "idler"]
    say(idler and idler[0]["waiting"] > 5 * idler[0]["running"],
        "the sleeping thread's lane waits: %s" % idler)
PY
	verdicts "$work/verdict"
done

for v in tree timeline; do
	screenshot "html-$v" "file://$work/wall.html#$v" 1280,700
done
finish
