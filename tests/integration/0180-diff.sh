#!/bin/sh
# pyprof diff BASE NEW: a program run twice with its work moved from one
# function to another shows both changes, with their signs and sizes, each
# as a share of its own run; a function found on one side only is marked;
# bad usage is refused with the reason.  The html page (-o FILE.html), in
# headless Chromium: the slower function listed as slower with a plus, the
# faster one as faster with a minus, sortable; its flame graph red where
# time went, blue where it left.
. "$(dirname "$0")/setup.sh"

py=$(echo "$pythons" | head -n 1)
cat >"$work/work.py" <<'PY'
import sys, time
def spin(s):
    t = time.thread_time() + s
    while time.thread_time() < t:
        pass
def parse(s):
    spin(s)
def render(s):
    spin(s)
def only_new():
    spin(0.1)
a, b = float(sys.argv[1]), float(sys.argv[2])
parse(a)
render(b)
if len(sys.argv) > 3:
    only_new()
PY
PYPROF_INTERVAL=1ms profile "$work/base" "$py" "$work/work.py" 0.3 0.1
PYPROF_INTERVAL=1ms profile "$work/new" "$py" "$work/work.py" 0.1 0.3 new
if "$PYPROF_BIN" diff "$work/base" "$work/new" >"$work/diff.txt" 2>"$work/err"; then
	ok "diff of two directories"
else
	fail "diff failed: $(cat "$work/err")"
fi
sed 's/^/    /' "$work/diff.txt" | head -12
# change of parse's and render's total share: about -55 and +35 points
# (0.3 of 0.4 s -> 0.1 of 0.5 s; 0.1 of 0.4 -> 0.3 of 0.5)
check_row() {
	line=$(grep "  $1  " "$work/diff.txt" | head -1)
	# fields: self base, new, change, total base, new, change
	set -- $line "$2" "$3"
	eval want_lo=\${$(($#-1))} want_hi=\${$#}
	change=${6%.*}
	change=${change#+}
	if [ -n "$line" ] && [ "$change" -ge "$want_lo" ] && [ "$change" -le "$want_hi" ]; then
		ok "$line"
	else
		fail "row for the function: '$line' (want a total change in [$want_lo, $want_hi])"
	fi
}
check_row parse -65 -45
check_row render 25 45
if grep -q "  only_new  .*(new)" "$work/diff.txt"; then
	ok "a function of NEW only is marked (new)"
else
	fail "no (new) row for only_new"
fi
# the rows come by the size of their larger change, largest first
first=$(sed -n 4p "$work/diff.txt")
case $first in
*"  parse  "*) ok "the first row is the largest change: $first" ;;
*) fail "first row: $first" ;;
esac
# -o FILE: the text table to a file; FILE.html (or --format html): the page
"$PYPROF_BIN" diff -o "$work/diff-o.txt" "$work/base" "$work/new"
if cmp -s "$work/diff.txt" "$work/diff-o.txt"; then
	ok "-o FILE writes the same table"
else
	fail "-o FILE: $(diff "$work/diff.txt" "$work/diff-o.txt" | head -5)"
fi
"$PYPROF_BIN" diff -o "$work/diff.html" "$work/base" "$work/new"
"$PYPROF_BIN" diff --format html "$work/base" "$work/new" >"$work/stdout.html"
if grep -q '"kind":"diff"' "$work/diff.html" && cmp -s "$work/diff.html" "$work/stdout.html"; then
	ok "-o diff.html and --format html write the page ($(wc -c <"$work/diff.html") bytes)"
else
	fail "no diff page in diff.html or on stdout"
fi
if grep -qE '(src|href)="(https?:)?//' "$work/diff.html"; then
	fail "the diff page loads something from the network"
else
	ok "no network references in the diff page"
fi
. "$top_srcdir/tests/integration/consumers.sh"
if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
	find_chromium
	cat >"$work/diff.js" <<'JS'
(function () {
  var r = {};
  function all(s) { return Array.prototype.slice.call(document.querySelectorAll(s)); }
  function rows() {
    return all("#changes tbody tr").map(function (tr) {
      var c = tr.cells;
      return { name: c[0].textContent, total: c[7].textContent, self: c[4].textContent,
               verdict: c[8].textContent, cls: tr.className };
    });
  }
  r.ready = document.body.dataset.ready === "1";
  r.rows = rows();
  // sorted by the change of the total share, largest rise first
  var th = all("#changes th").filter(function (h) { return h.dataset.sort === "dtotal"; })[0];
  th.click();
  r.sorted = rows().map(function (x) { return x.name; });
  document.querySelector('#tabs [data-view="flame"]').click();
  r.spins = all("#flame .frame").filter(function (b) { return b.textContent === "spin"; }).map(function (b) {
    var box = b.getBoundingClientRect();
    b.dispatchEvent(new MouseEvent("mousemove", { bubbles: true, clientX: box.left + 1, clientY: box.top + 1 }));
    return { fill: getComputedStyle(b).backgroundColor, tip: document.getElementById("tip").textContent };
  });
  var pre = document.createElement("pre");
  pre.id = "results";
  pre.textContent = JSON.stringify(r);
  document.body.appendChild(pre);
})();
JS
	if chromium_eval "$work/diff.html" "$work/diff.js" "$work/diff.json"; then
		python3 - "$work/diff.json" >"$work/verdict" <<'PY'
import json, re, sys
r = json.load(open(sys.argv[1]))
def say(ok, what): print(("ok " if ok else "FAIL ") + what)
def num(s): return float(s.replace("\u2212", "-").replace("+", ""))
say(r["ready"], "the diff page's script ran to the end")
by = {x["name"]: x for x in r["rows"]}
say("render" in by and by["render"]["verdict"] == "slower" and 25 <= num(by["render"]["total"]) <= 45
    and by["render"]["total"].startswith("+") and "slower" in by["render"]["cls"],
    "render, made slower, is listed as slower: %s" % by.get("render"))
say("parse" in by and by["parse"]["verdict"] == "faster" and -65 <= num(by["parse"]["total"]) <= -45
    and by["parse"]["total"].startswith("\u2212"), "parse, made faster, is listed as faster: %s" % by.get("parse"))
say("only_new" in by and by["only_new"]["verdict"] == "new", "only_new is new: %s" % by.get("only_new"))
say(r["sorted"][:1] == ["render"] and r["sorted"][-1:] == ["parse"],
    "sorted by total change: %s ... %s" % (r["sorted"][:3], r["sorted"][-2:]))
rgb = [[int(v) for v in re.findall(r"\d+", s["fill"])[:3]] for s in r["spins"]]
# spin below parse, below render and below only_new
say(len(rgb) == 3 and sum(c[0] > c[2] + 60 for c in rgb) == 2 and sum(c[2] > c[0] + 60 for c in rgb) == 1,
    "spin is red where it took more (below render and only_new), blue where less (below parse): %s"
    % [s["fill"] for s in r["spins"]])
PY
		verdicts "$work/verdict"
	fi
else
	echo "SKIP: the diff page in Chromium: Chromium is not installed"
fi
# refused WANT ARGS...: diff ARGS exits 2 saying WANT
refused() {
	want=$1
	shift
	set +e
	"$PYPROF_BIN" diff "$@" >"$work/out" 2>"$work/err"
	rc=$?
	set -e
	if [ "$rc" -eq 2 ] && grep -q "$want" "$work/err"; then
		ok "diff $(echo "$@" | sed "s#$work/##g"): exit 2, $(head -1 "$work/err")"
	else
		fail "diff $*: exit $rc, $(cat "$work/err")"
	fi
}
refused "expected text or html" --format json "$work/base" "$work/new"
refused "expected BASE and NEW" "$work/base"
finish
