#!/bin/sh
# --format svg, checked by a real SVG renderer: rsvg-convert (Debian:
# librsvg2-bin) turns it into a PNG without an error; the hot function's
# name is in the SVG's text, and the root box has the text report's total.
# Boxes are filled by where their code lives, their titles give short
# paths unless --full-paths.
. "$(dirname "$0")/setup.sh"
. "$top_srcdir/tests/integration/consumers.sh"
command -v rsvg-convert >/dev/null 2>&1 || skip "rsvg-convert is not installed (Debian: librsvg2-bin)"
make_profile

"$PYPROF_BIN" report -o "$work/p.svg" "$prof"
if rsvg-convert -o "$work/p.png" "$work/p.svg" 2>"$work/rsvg.err" && [ -s "$work/p.png" ] &&
	[ ! -s "$work/rsvg.err" ]; then
	ok "rsvg-convert renders it ($(wc -c <"$work/p.png") bytes of PNG)"
else
	fail "rsvg-convert: $(head -n 5 "$work/rsvg.err")"
fi
if grep -q '<text[^>]*>burn</text>' "$work/p.svg"; then
	ok "the hot function burn is named in the image"
else
	fail "no <text>burn</text>"
fi
run_check "totals equal the text report's" sh -c \
	"python3 '$formats_py' text-vs-json '$work/report.txt' '$work/tree.json' &&
	 python3 '$formats_py' totals svg '$work/p.svg' '$work/tree.json'"
# Colours and places, on tests/targets/origins.py (the program's checksum,
# json's encoder and decoder): each box's fill and title, read with an
# XML parser
PYPROF_INTERVAL=1ms profile "$work/origins" "$py" "$targets/origins.py" 0.3
"$PYPROF_BIN" report -o "$work/o.svg" "$work/origins"
"$PYPROF_BIN" report --full-paths -o "$work/full.svg" "$work/origins"
python3 - "$work/o.svg" "$work/full.svg" >"$work/verdict" <<'PY'
import re, sys
import xml.etree.ElementTree as ET
def say(ok, what): print(("ok " if ok else "FAIL ") + what)
def boxes(path):
    ns = {"s": "http://www.w3.org/2000/svg"}
    root = ET.parse(path).getroot()
    out = []
    for g in root.iter("{http://www.w3.org/2000/svg}g"):
        if g.get("class") != "f":
            continue
        out.append((g.find("s:title", ns).text, g.find("s:rect", ns).get("fill")))
    return root, out
def hue(hexrgb):
    r, g, b = [int(hexrgb[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    mx, mn = max(r, g, b), min(r, g, b)
    if mx == mn:
        return None
    if mx == r:
        return 60 * (g - b) / (mx - mn) % 360
    if mx == g:
        return 60 * (2 + (b - r) / (mx - mn))
    return 60 * (4 + (r - g) / (mx - mn))
root, short = boxes(sys.argv[1])
prog = [f for t, f in short if t.startswith("checksum (")]
json_ = [(t, f) for t, f in short if "<stdlib>/json/" in t]
say(prog and len(json_) >= 2, "boxes of checksum (%d) and of json (%d)" % (len(prog), len(json_)))
if prog and json_:
    hp = hue(prog[0])
    say(hp is not None and (hp <= 50 or hp >= 340), "the program's box is warm: %s" % prog[0])
    hj = [hue(f) for t, f in json_]
    say(all(h is not None and 190 <= h <= 235 for h in hj) and max(hj) - min(hj) < 10,
        "json's boxes are blue, of one hue: %s" % sorted(set(f for t, f in json_)))
    say(prog[0] not in [f for t, f in json_], "the program's and json's fills differ")
say(all(f == "#c4c4c4" for t, f in short if re.match(r"(MainThread|checker) \(", t)),
    "thread boxes are grey")
legend = [g.get("data-origin") for g in root.iter("{http://www.w3.org/2000/svg}g") if g.get("class") == "legend"]
say("program" in legend and "stdlib" in legend, "the legend names the origins: %s" % legend)
say(not any("/lib/python3." in t for t, f in short), "titles have short paths")
_, full = boxes(sys.argv[2])
say(any(re.search(r"/lib/python3\.\d+/json/\w+\.py:\d+\)", t) for t, f in full),
    "--full-paths: titles have full paths")
PY
verdicts "$work/verdict"
shots=$top_builddir/tests/screenshots
mkdir -p "$shots" && cp "$work/p.png" "$shots/format-svg.png"
finish
