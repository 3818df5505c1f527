# consumers.sh - sourced by the format tests (01NN-format-*.sh) after
# setup.sh: a profile to render, the JSON tree and text report to compare
# with, and the real consumers (Chromium, node packages).
formats_py=$top_srcdir/tests/integration/formats.py

# run_check WHAT COMMAND...: one ok/FAIL line per check the command prints
run_check() {
	what=$1
	shift
	if "$@" >"$work/check.out" 2>&1; then
		ok "$what"
	else
		fail "$what"
	fi
	sed 's/^/    /' "$work/check.out"
}

# make_profile: profiles tests/targets/threads.py (three threads burning
# CPU in `burn`, the main thread waiting) into $prof; writes the JSON tree
# and the text report it is compared with.
make_profile() {
	py=$(echo "$pythons" | head -n 1)
	PYPROF_INTERVAL=1ms profile "$work/out" "$py" "$targets/threads.py" "$work/truth.json" 0.4
	prof=$(ls "$work"/out/*.pyprof)
	"$PYPROF_BIN" report --format json "$prof" >"$work/tree.json"
	"$PYPROF_BIN" report --color=never "$prof" >"$work/report.txt"
}

# find_chromium: sets $chrome, or skips
find_chromium() {
	chrome=
	for c in chromium chromium-browser google-chrome; do
		if command -v "$c" >/dev/null 2>&1; then
			chrome=$(command -v "$c")
			break
		fi
	done
	[ -n "$chrome" ] || skip "Chromium is not installed (Debian: chromium)"
}

# chromium_run ARGS...: headless, sandbox and GPU off, no network (every
# host resolves to nothing, every request goes to a dead proxy), a fresh
# profile directory each time.
chromium_run() {
	profdir=$(mktemp -d "$work/chrome.XXXXXX")
	timeout 60 "$chrome" --headless --no-sandbox --disable-gpu --no-first-run \
		--disable-background-networking --disable-component-update \
		--disable-sync --disable-dev-shm-usage \
		--proxy-server=127.0.0.1:9 --host-resolver-rules='MAP * ~NOTFOUND' \
		--user-data-dir="$profdir" "$@" 2>>"$work/chrome.err"
}

# chromium_eval PAGE JS RESULTS: loads PAGE in headless Chromium with the
# script JS run after the page's own; JS leaves its findings as JSON in a
# <pre id="results">, which --dump-dom prints and this writes to RESULTS.
# Fails saying so when Chromium gave none.
chromium_eval() {
	dir=$(dirname "$1")
	cp "$2" "$dir/check-$(basename "$2")"
	sed 's#</body>#<script src="check-'"$(basename "$2")"'"></script></body>#' "$1" >"$1.checked.html"
	chromium_run --dump-dom --virtual-time-budget=3000 --window-size=1280,900 \
		"file://$1.checked.html" >"$1.dom" || true
	sed -n 's#.*<pre id="results">\(.*\)</pre>.*#\1#p' "$1.dom" |
		sed 's/&quot;/"/g; s/&lt;/</g; s/&gt;/>/g; s/&amp;/\&/g' >"$3"
	if [ ! -s "$3" ]; then
		fail "Chromium ran $(basename "$1"): no results in the DOM ($(tail -n 3 "$work/chrome.err"))"
		return 1
	fi
	sed 's/^/    /' "$3"
	echo
}

# screenshot NAME URL SIZE: keeps Chromium's picture of URL (at SIZE,
# "1280,900") as tests/screenshots/NAME.png in the build tree
screenshot() {
	shots=$top_builddir/tests/screenshots
	mkdir -p "$shots"
	rm -f "$shots/$1.png"
	chromium_run --screenshot="$shots/$1.png" --window-size="$3" \
		--virtual-time-budget=2000 "$2" >/dev/null || true
	if [ -s "$shots/$1.png" ]; then
		ok "screenshot: $shots/$1.png"
	else
		fail "screenshot $1: $(tail -n 3 "$work/chrome.err")"
	fi
}

# verdicts FILE: one ok/FAIL per line "ok WHAT" or "FAIL WHAT" of FILE
verdicts() {
	while read -r verdict what; do
		if [ "$verdict" = ok ]; then ok "$what"; else fail "$what"; fi
	done <"$1"
}

# need_node_packages: installs tests/consumers/package.json into the build
# tree once (npm install, cached, one installer at a time) and sets
# $node_modules; skips if node or npm are missing or the install fails.
need_node_packages() {
	command -v node >/dev/null 2>&1 || skip "node is not installed"
	command -v npm >/dev/null 2>&1 || skip "npm is not installed (Debian: npm)"
	cdir=$top_builddir/tests/consumers
	mkdir -p "$cdir"
	(
		flock 9
		if ! cmp -s "$top_srcdir/tests/consumers/package.json" "$cdir/package.json" ||
			[ ! -d "$cdir/node_modules/speedscope" ] || [ ! -d "$cdir/node_modules/ajv" ]; then
			cp "$top_srcdir/tests/consumers/package.json" "$cdir/package.json"
			(cd "$cdir" && npm install --no-audit --no-fund --loglevel=error) >"$cdir/npm.log" 2>&1 ||
				{ rm -f "$cdir/package.json"; exit 1; }
		fi
	) 9>"$cdir/.lock" || skip "npm install failed (see $cdir/npm.log)"
	node_modules=$cdir/node_modules
}
