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
