#!/bin/sh
# render.sh BUILDDIR - time and peak memory of `pyprof report` in every
# format on a 10-million-sample synthetic profile, the HTML page's size for
# 1 million samples, and that page's first paint in headless Chromium.
# Figures and the machine they came from: bench/README.md.
set -eu
b=${1:?usage: bench/render.sh BUILDDIR}
src=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pyprof-render.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
gcc -O2 -I"$b" -I"$src/format" "$src/bench/gen-profile.c" "$src/format/write.c" "$src/format/encode.c" -o "$tmp/gen"
"$tmp/gen" "$tmp/big.pyprof" 10000000 >/dev/null
echo "format      seconds  peak RSS   output"
for f in text collapsed json html svg pprof speedscope trace gecko; do
	/usr/bin/time -f "%e %M" -o "$tmp/time" "$b/pyprof" report --format $f \
		-o "$tmp/out" "$tmp/big.pyprof"
	read -r s kb <"$tmp/time"
	printf '%-10s %7s  %5d MB  %s bytes\n' $f "$s" $((kb / 1024)) "$(stat -c %s "$tmp/out")"
	rm -f "$tmp/out"
done
rm -f "$tmp/big.pyprof"
for branchy in 6 30; do
	"$tmp/gen" "$tmp/m1.pyprof" 1000000 $branchy >/dev/null
	"$b/pyprof" report -o "$tmp/m1.html" "$tmp/m1.pyprof"
	cat >"$tmp/paint.js" <<'JS'
document.addEventListener("DOMContentLoaded", function () {
  var ready = performance.now();
  requestAnimationFrame(function () { setTimeout(function () {
    var r = {script_done_ms: Math.round(ready), drawn_ms: Math.round(performance.now())};
    performance.getEntriesByType("paint").forEach(function (e) { r[e.name + "_ms"] = Math.round(e.startTime); });
    var pre = document.createElement("pre"); pre.id = "paint"; pre.textContent = JSON.stringify(r);
    document.body.appendChild(pre);
  }, 0); });
});
JS
	sed "s#<head>#<head><script src=\"$tmp/paint.js\"></script>#" "$tmp/m1.html" >"$tmp/p.html"
	echo "1M samples, branchy $branchy: page $(stat -c %s "$tmp/m1.html") bytes"
	for i in 1 2 3; do
		d=$(mktemp -d "$tmp/chrome.XXXXXX")
		chromium --headless --no-sandbox --disable-gpu --no-first-run \
			--disable-background-networking --disable-component-update --disable-sync \
			--user-data-dir="$d" --window-size=1280,900 --dump-dom \
			--virtual-time-budget=10000 "file://$tmp/p.html" 2>/dev/null |
			sed -n 's#.*<pre id="paint">\([^<]*\)</pre>.*#  \1#p' | sed 's/&quot;/"/g'
	done
done
