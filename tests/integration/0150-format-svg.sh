#!/bin/sh
# --format svg, checked by a real SVG renderer: rsvg-convert (Debian:
# librsvg2-bin) turns it into a PNG without an error; the hot function's
# name is in the SVG's text, and the root box has the text report's total.
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
shots=$top_builddir/tests/screenshots
mkdir -p "$shots" && cp "$work/p.png" "$shots/format-svg.png"
finish
