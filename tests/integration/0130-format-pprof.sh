#!/bin/sh
# --format pprof, checked by `go tool pprof` (Debian: golang-go): it reads
# the gzipped profile.proto, and its total and top functions (flat time)
# are the text report's, to the nanosecond.
. "$(dirname "$0")/setup.sh"
. "$top_srcdir/tests/integration/consumers.sh"
command -v go >/dev/null 2>&1 || skip "go is not installed (Debian: golang-go)"
make_profile

"$PYPROF_BIN" report -o "$work/p.pb.gz" "$prof"
if [ "$(head -c 2 "$work/p.pb.gz" | od -An -tx1 | tr -d ' ')" = 1f8b ]; then
	ok "-o p.pb.gz writes gzip"
else
	fail "-o p.pb.gz is not gzip"
fi
run_check "text report and JSON tree agree" \
	python3 "$formats_py" text-vs-json "$work/report.txt" "$work/tree.json"
# go wants a writable home and build cache even to run a prebuilt tool
export HOME="$work" GOCACHE="$work/gocache" GOFLAGS= GOTOOLCHAIN=local
if go tool pprof -top -unit=ns -nodefraction=0 -nodecount=20 "$work/p.pb.gz" >"$work/top.txt" 2>&1; then
	ok "go tool pprof -top reads it"
else
	fail "go tool pprof -top: $(head -n 5 "$work/top.txt")"
fi
sed -n '1,14p' "$work/top.txt" | sed 's/^/    /'
run_check "pprof's total and top functions equal the tree's" \
	python3 "$formats_py" pprof-top "$work/top.txt" "$work/tree.json"
if go tool pprof -top -sample_index=samples "$work/p.pb.gz" 2>/dev/null |
	grep -q "of $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["total_samples"])' "$work/tree.json") total"; then
	ok "samples/count total equals the sample count"
else
	fail "samples/count total"
fi
# w1, w2 and w3 are one family, wN
if go tool pprof -raw "$work/p.pb.gz" 2>/dev/null | grep -q 'thread:\[wN\]'; then
	ok "samples carry thread labels"
else
	fail "no thread label in: $(go tool pprof -raw "$work/p.pb.gz" 2>&1 | sed -n '/Samples/,+4p')"
fi
finish
