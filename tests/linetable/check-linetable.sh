#!/bin/sh
# check-linetable.sh - linetable_line() against every installed CPython.
#
# For each interpreter found, gen.py dumps line tables and the lines CPython
# reports for them; check.c (compiled here with cc, against
# format/linetable.c) verifies every offset.  Exit 0 when all agree, 1 on
# a mismatch or error, 77 (automake's "skipped") when no interpreter is
# installed.  PYENV_ROOT picks where interpreters live (/root/.pyenv).
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
pyenv=${PYENV_ROOT:-/root/.pyenv}
versions="3.8.18 3.9.18 3.10.13 3.11.7 3.12.1 3.13.0"
CC=${CC:-cc}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-linetable.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

if ! $CC -std=c11 -O1 -g -Wall -Wextra ${CHECK_CFLAGS:-} -I "$top" \
	-o "$tmp/check" "$here/check.c" "$top/format/linetable.c"; then
	echo "FAIL: cannot compile the checker"
	exit 1
fi

ran=0
failed=0
for v in $versions; do
	minor=${v%.*}
	py=$pyenv/versions/$v/bin/python$minor
	if [ ! -x "$py" ]; then
		echo "skip $v: $py not installed"
		continue
	fi
	ran=$((ran + 1))
	if ! "$py" "$here/gen.py" > "$tmp/$v.txt"; then
		echo "FAIL $v: gen.py failed"
		failed=1
		continue
	fi
	if out=$("$tmp/check" "$tmp/$v.txt"); then
		echo "ok $v: $out"
	else
		echo "FAIL $v: ${out:-mismatches above}"
		failed=1
	fi
done

if [ "$ran" -eq 0 ]; then
	echo "skip: no CPython interpreter installed under $pyenv"
	exit 77
fi
exit $failed
