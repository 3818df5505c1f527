#!/bin/sh
# setup.sh - install what pyprof needs on Debian, build it, then either
# profile the bundled demo (`./setup.sh demo`) or run the whole test suite
# (`./setup.sh test`).  Run as root or as a user with sudo.  Builds go to
# build/ (and build-san/ for the sanitizer run: unit tests, and the library
# under ASan and UBSan inside the interpreters).
set -eu
cd "$(dirname "$0")"
top=$(pwd)
what=${1:-demo}

# Build and test dependencies, all from Debian's archive.
PACKAGES="build-essential autoconf automake libtool pkg-config
  libglib2.0-dev libunwind-dev libdw-dev libcunit1-dev python3 python3-dev valgrind
  libprotobuf-c-dev protobuf-c-compiler zlib1g-dev libzstd-dev libjson-glib-dev
  chromium golang-go librsvg2-bin nodejs debootstrap clang"
# Debian's nodejs comes without npm; NodeSource's includes it and conflicts
# with Debian's npm package.
command -v npm >/dev/null 2>&1 || PACKAGES="$PACKAGES npm"

install_packages() {
	missing=
	for p in $PACKAGES; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q 'install ok installed' || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	sudo=
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	echo "setup: installing$missing" >&2
	$sudo apt-get update -qq
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing >&2
}

# build DIR [CONFIGURE FLAGS...]
build() {
	dir=$1
	shift
	[ -x configure ] || autoreconf -fi >&2
	mkdir -p "$dir"
	(cd "$dir" && { [ -f Makefile ] || "$top/configure" -q "$@" >&2; } &&
		make -j"$(nproc)" >&2)
}

case $what in
demo)
	install_packages
	build build
	exec build/pyprof run -- python3 demo/demo.py
	;;
test)
	install_packages
	build build
	status=0
	(cd build && make -j"$(nproc)" check) || status=$?
	build build-san --enable-asan --enable-ubsan
	(cd build-san && make -j"$(nproc)" check-san) || status=$?
	# Every test's output is in its log; print the failures' logs, then
	# one closing line over both runs.
	trs=$(find build/tests build-san/tests -name '*.trs')
	for t in $trs; do
		if grep -qE '^:test-result: (FAIL|ERROR)' "$t"; then
			echo "==== ${t%.trs}.log"
			cat "${t%.trs}.log"
		fi
	done
	pass=$(cat $trs | grep -c '^:test-result: PASS' || true)
	fail=$(cat $trs | grep -cE '^:test-result: (FAIL|ERROR|XPASS)' || true)
	skip=$(cat $trs | grep -c '^:test-result: SKIP' || true)
	grep -h '^SKIP' $(find build/tests -name '*.log') 2>/dev/null | sort -u || true
	echo "$pass passed, $fail failed, $skip skipped"
	exit $status
	;;
*)
	echo "usage: $0 demo|test" >&2
	exit 2
	;;
esac
