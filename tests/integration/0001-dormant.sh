#!/bin/sh
# Outside CPython the library does nothing: no file, no output, the same
# exit status, no thread of its own (wall mode's sampler thread included).
# This is what lets it wrap a container's entrypoint.
. "$(dirname "$0")/setup.sh"

cat > "$work/prog.c" <<'C'
#include <stdio.h>
#include <pthread.h>
static void *run(void *p) { return p; }
int main(void) {
	pthread_t t;
	pthread_create(&t, NULL, run, NULL);
	pthread_join(t, NULL);
	puts("c program");
	return 7;
}
C
cc -o "$work/prog" "$work/prog.c" -lpthread || skip "no C compiler"

check_dormant() {
	name=$1
	shift
	rm -rf "$work/out" "$work/o1" "$work/o2" && mkdir -p "$work/out"
	set +e
	"$@" >"$work/o1" 2>&1
	want=$?
	(cd "$work/out" && LD_PRELOAD=$PYPROF_LIB "$@") >"$work/o2" 2>&1
	got=$?
	set -e
	if [ "$got" -ne "$want" ]; then
		fail "$name: exit status $got, without pyprof $want"
	elif ! cmp -s "$work/o1" "$work/o2"; then
		fail "$name: output differs: $(diff "$work/o1" "$work/o2" | head -5)"
	elif [ -n "$(ls -A "$work/out")" ]; then
		fail "$name: left files: $(ls "$work/out")"
	else
		ok "$name: dormant"
	fi
}

check_dormant sh sh -c 'echo hello; exit 3'
check_dormant env env true
check_dormant ls ls /
check_dormant c-program "$work/prog"
check_dormant sh-in-sh sh -c 'sh -c "exit 5"'
PYPROF_MODE=wall check_dormant c-program-wall "$work/prog"

# Wall mode's sampler thread exists only where something is profiled.
set +e
PYPROF_MODE=wall LD_PRELOAD=$PYPROF_LIB sh -c 'ls /proc/$$/task | wc -l' >"$work/tasks"
set -e
if [ "$(cat "$work/tasks")" = 1 ]; then
	ok "wall mode: no sampler thread in a dormant process"
else
	fail "wall mode: a dormant shell has $(cat "$work/tasks") threads"
fi
finish
