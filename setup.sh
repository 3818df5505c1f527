#!/bin/sh
# setup.sh - install what pyprof needs on Debian, build it, then either
# profile the bundled demo (`./setup.sh demo`) or run the whole test suite
# (`./setup.sh test`).  Run as root or as a user with sudo.
set -eu
cd "$(dirname "$0")"
what=${1:-demo}

# Build and test dependencies, all from Debian's archive.
PACKAGES="build-essential autoconf automake libtool pkg-config
  libglib2.0-dev libunwind-dev libcunit1-dev python3 python3-dev"

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

build() {
	[ -x configure ] || autoreconf -fi >&2
	[ -f Makefile ] || ./configure ${CONFIGURE_FLAGS:-} >&2
	make -j"$(nproc)" >&2
}

case $what in
demo)
	install_packages
	build
	exec ./pyprof run -- python3 demo/demo.py
	;;
test)
	install_packages
	build
	status=0
	make -j"$(nproc)" check || status=$?
	# The unit programs' CUnit summaries and every test's output are in
	# the logs; print the failures' logs, then one closing line.
	for log in $(find tests -name '*.log' ! -name test-suite.log | sort); do
		if grep -q '^:test-result: FAIL' "${log%.log}.trs" 2>/dev/null; then
			echo "==== $log"; cat "$log"
		fi
	done
	pass=$(grep -h '^:test-result: PASS' $(find tests -name '*.trs') | wc -l)
	fail=$(grep -hE '^:test-result: (FAIL|ERROR|XPASS)' $(find tests -name '*.trs') | wc -l)
	skip=$(grep -h '^:test-result: SKIP' $(find tests -name '*.trs') | wc -l)
	echo "$pass passed, $fail failed, $skip skipped"
	exit $status
	;;
*)
	echo "usage: $0 demo|test" >&2
	exit 2
	;;
esac
