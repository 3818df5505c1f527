#!/bin/sh
# pyprof attach: recording in a running CPython 3.14+ started without the
# preload (the chroot's Debian 3.14 and 3.15, which run in a root of their
# own, so the request is made from inside it).
#  - attach to a service whose two threads run already, then a third
#    thread starts: after --stop the file is complete (end reason "stop")
#    and has samples of alpha, beta and gamma, named, in their own
#    functions; the service's output and exit status are those of a run
#    nobody attached to (with -X dev -W error: no warning either);
#  - a second attach says "already profiled"; attach after --stop writes
#    a new file; a SIGTERM while attached completes the file;
#  - --rotate=200ms --keep=3: the last three files of the run, numbered,
#    complete (rotated, the last stopped), read as one by report DIR;
#  - --control: pyprof ctl status, start, mark, stop while attached, the
#    marks in the file and --window picking its part; after --stop, no
#    channel and no pyprof-ctl thread;
#  - --native: native frames of the main thread (zlib's deflate under
#    its Python caller); the other threads' samples Python only, marked
#    unmerged, as attach warns;
#  - bad values (--rotate=garbage, --keep without --rotate, --stop with
#    what only starting reads) exit 2 naming
#    the option, the target not asked;
#  - a request the target does not run in time is withdrawn: when it runs
#    it does nothing and removes itself;
#  - refused with the reason: remote debugging disabled in the target,
#    no rights to trace it, not CPython, CPython before 3.14; and as root,
#    an interpreter that another user could have changed.
. "$(dirname "$0")/setup.sh"

export PYPROF_LIB
PYPROF_CHROOT_DIR=${PYPROF_CHROOT:-$top_builddir/tests/cache/chroot-sid}

# start PYTHON DIR [ENV...]: the service in the background, its pid in
# $pid once it is up (its output in DIR/out, DIR/err)
start() {
	sp=$1 sd=$2
	shift 2
	rm -rf "$sd" && mkdir -p "$sd"
	env "$@" "$sp" -X dev -W error "$targets/attach.py" "$sd" >"$sd/out" 2>"$sd/err" &
	spid=$!
	for _ in $(seq 300); do
		[ -f "$sd/pid" ] && break
		sleep 0.05
	done
	pid=$(cat "$sd/pid" 2>/dev/null || echo 0)
}

# end DIR: stops the service and sets $status
end() {
	touch "$1/stop"
	status=0
	wait "$spid" || status=$?
}

attach() { "$PYPROF_BIN" attach "$@" >"$work/aout" 2>"$work/aerr"; }

ran=0
for py in $pythons; do
	case $py in *chroot-python3.1[4-9]) ;; *) continue ;; esac
	ran=1
	v=$(pyver "$py")

	# the run nobody attaches to
	start "$py" "$work/ref"
	touch "$work/ref/go"
	sleep 0.5
	end "$work/ref"
	want=$status
	cp "$work/ref/out" "$work/ref.out"
	cp "$work/ref/err" "$work/ref.err"

	rm -rf "$work/out" "$work/out2" && mkdir -p "$work/out" "$work/out2"
	start "$py" "$work/run"
	if attach -o "$work/out/" "$pid" && grep -q "^pyprof: attached to $pid " "$work/aout"; then
		ok "$v: attached in $(sed -n 's/.* in \([0-9.]* s\).*/\1/p' "$work/aout")"
	else
		fail "$v: attach: $(cat "$work/aout" "$work/aerr")"
	fi
	if ! attach "$pid" && grep -q "already profiled" "$work/aerr"; then
		ok "$v: a second attach: already profiled"
	else
		fail "$v: a second attach: $(cat "$work/aout" "$work/aerr")"
	fi
	touch "$work/run/go"
	sleep 1.5
	if attach --stop "$pid" && grep -q "^pyprof: stopped $pid: .* is complete" "$work/aout"; then
		ok "$v: --stop: $(sed 's/^pyprof: //' "$work/aout")"
	else
		fail "$v: --stop: $(cat "$work/aout" "$work/aerr")"
	fi
	if attach --mode wall -i 5ms -o "$work/out2/" "$pid" && sleep 0.5 && attach --stop "$pid"; then
		ok "$v: attach (in wall mode) and --stop again"
	else
		fail "$v: attach again: $(cat "$work/aout" "$work/aerr")"
	fi
	end "$work/run"
	got=$status
	cp "$work/run/out" "$work/got.out"
	cp "$work/run/err" "$work/got.err"
	same_as_unprofiled "$v attached" && ok "$v: the service's output and exit status ($got) are its own"

	set -- "$work"/out/*.pyprof
	if [ "$#" -eq 1 ] && [ -f "$1" ]; then
		h=$(python3 "$top_srcdir/tests/integration/pfheader.py" "$1")
		case $h in
		*" complete stop "*) ok "$v: the file is complete, ended by stop" ;;
		*) fail "$v: header: $h" ;;
		esac
		"$PYPROF_BIN" report --threads "$1" >"$work/threads" 2>&1
		"$PYPROF_BIN" report --format collapsed "$1" >"$work/collapsed" 2>&1
		for th in alpha beta gamma; do
			n=$(awk -v t="$th" '$1 == t {print $3}' "$work/threads")
			if [ -n "$n" ] && [ "$n" -gt 0 ] 2>/dev/null &&
				grep -q "^$th;.*spin_$th " "$work/collapsed"; then
				ok "$v: thread $th named, $n samples in spin_$th"
			else
				fail "$v: thread $th: $(cat "$work/threads")"
			fi
		done
	else
		fail "$v: files written: $*"
	fi
	set -- "$work"/out2/*.pyprof
	h=$(python3 "$top_srcdir/tests/integration/pfheader.py" "$1")
	"$PYPROF_BIN" info "$1" >"$work/info" 2>&1 || true
	"$PYPROF_BIN" report --threads "$1" >"$work/threads" 2>&1 || true
	case $h/$(grep '^mode:' "$work/info") in
	*" complete stop "*/*wall*)
		if awk '$1 == "alpha" && $3 > 0 {a = 1} $1 == "MainThread" && $3 > 0 {m = 1} END {exit !(a && m)}' "$work/threads"; then
			ok "$v: the second attach's file: wall mode, complete, $(echo "$h" | awk '{print $7}') samples, the waiting main thread's too"
		else
			fail "$v: the second attach's threads: $(cat "$work/threads")"
		fi ;;
	*) fail "$v: second file: $h $(grep '^mode:' "$work/info")" ;;
	esac

	# --rotate=200ms --keep=3: a run of complete files, numbered, the
	# last three kept; report DIR reads them as one process
	# (after an attach that did not rotate: the second set of tables)
	rm -rf "$work/rot" "$work/rot0" && mkdir -p "$work/rot" "$work/rot0"
	start "$py" "$work/rrun"
	touch "$work/rrun/go"
	attach -o "$work/rot0/" "$pid" && sleep 0.2 && attach --stop "$pid" ||
		fail "$v: the attach before --rotate: $(cat "$work/aout" "$work/aerr")"
	if attach --rotate=200ms --keep=3 -i 1ms -o "$work/rot/" "$pid" && sleep 1.6 &&
		attach --stop "$pid" && grep -q "is complete (file [0-9]* of a rotated run" "$work/aout"; then
		ok "$v: --rotate: $(sed 's/^pyprof: //' "$work/aout")"
	else
		fail "$v: --rotate: $(cat "$work/aout" "$work/aerr")"
	fi
	end "$work/rrun"
	python3 "$top_srcdir/tests/integration/pfheader.py" "$work"/rot/*.pyprof >"$work/hdr"
	# path state reason signal pid ppid samples signals dropped sequence
	if [ "$(wc -l <"$work/hdr")" -eq 3 ] &&
		awk 'NR == 1 { first = $10 }
		     { split($1, a, "-"); if (a[length(a)] + 0 != $10) exit 1 }
		     $10 != first + NR - 1 || $2 != "complete" || $7 == 0 { exit 1 }
		     NR < 3 && $3 != "rotate" { exit 1 }
		     END { if ($3 != "stop" || first < 3) exit 1 }' "$work/hdr"; then
		ok "$v: --keep=3: files $(awk '{printf "%s ", $10}' "$work/hdr")complete, numbered, rotated but the last (stop)"
	else
		fail "$v: --rotate files: $(cat "$work/hdr")"
	fi
	bad=
	for f in "$work"/rot/*.pyprof; do
		"$PYPROF_BIN" info "$f" >"$work/info" 2>&1
		grep -q '^state: *complete' "$work/info" && grep -q '^run: *file [0-9]* of a rotated run' "$work/info" ||
			bad="$bad $(basename "$f"): $(grep -E '^(state|run):' "$work/info" | tr '\n' ' ')"
	done
	for f in "$work"/rot/*.pyprof; do
		"$PYPROF_BIN" report -f collapsed "$f" >"$work/collapsed" 2>&1
		grep -q "^alpha;.*spin_alpha " "$work/collapsed" || bad="$bad $(basename "$f"): no alpha;...spin_alpha;"
	done
	if [ -z "$bad" ]; then
		ok "$v: info: every file of the run complete, each naming alpha's function"
	else
		fail "$v: info:$bad"
	fi
	"$PYPROF_BIN" report --threads "$work/rot" >"$work/threads" 2>"$work/report.err" || true
	# one row of alpha, not one a file; the main thread, which only looks
	# at files every 20 ms, may have no CPU sample in the last three
	# files (none in one of three runs made to see), so at most one row
	if [ "$(awk '$1 == "alpha" && $3 > 0' "$work/threads" | wc -l)" -eq 1 ] &&
		[ "$(awk '$1 == "MainThread"' "$work/threads" | wc -l)" -le 1 ]; then
		ok "$v: report DIR: one process, alpha once with $(awk '$1 == "alpha" {print $3}' "$work/threads") samples over the files"
	else
		fail "$v: report DIR: $(cat "$work/threads" "$work/report.err")"
	fi

	# --control: pyprof ctl while attached; --stop closes the channel
	rm -rf "$work/ctl" "$work/ctl2" && mkdir -p "$work/ctl" "$work/ctl2"
	start "$py" "$work/crun"
	touch "$work/crun/go"
	ctl() { "$PYPROF_BIN" ctl "$pid" "$@" >"$work/cout" 2>"$work/cerr"; }
	if attach --control -o "$work/ctl/" "$pid" && grep -q "pyprof ctl $pid" "$work/aout" &&
		ctl status && grep -q '^recording: on' "$work/cout"; then
		ok "$v: --control: ctl status: $(grep -E '^(recording|windows):' "$work/cout" | tr '\n' ' ')"
	else
		fail "$v: --control: $(cat "$work/aout" "$work/aerr" "$work/cout" "$work/cerr")"
	fi
	sleep 0.4
	if ctl start win && sleep 0.4 && ctl mark here && sleep 0.4 && ctl stop win &&
		ctl status && grep -q '^windows: 0' "$work/cout" && ! ctl stop win &&
		grep -q "no window is open" "$work/cerr"; then
		ok "$v: ctl start, mark, stop; a second stop: $(cat "$work/cerr")"
	else
		fail "$v: ctl start/mark/stop: $(cat "$work/cout" "$work/cerr")"
	fi
	sleep 0.4
	attach --stop "$pid" || fail "$v: --stop after --control: $(cat "$work/aout" "$work/aerr")"
	sleep 0.2
	if ! ctl status && grep -q "no control channel" "$work/cerr" &&
		! grep -qx 'pyprof-ctl' /proc/"$pid"/task/*/comm; then
		ok "$v: after --stop: no channel, no pyprof-ctl thread ($(cat "$work/cerr"))"
	else
		fail "$v: after --stop: $(cat "$work/cout" "$work/cerr"; cat /proc/"$pid"/task/*/comm | tr '\n' ' ')"
	fi
	# a second attach has a channel of its own again
	if attach --control -o "$work/ctl2/" "$pid" && ctl status &&
		grep -q '^recording: on' "$work/cout" && attach --stop "$pid" &&
		! grep -qx 'pyprof-ctl' /proc/"$pid"/task/*/comm; then
		ok "$v: --control again after --stop: ctl status answers, and --stop ends it"
	else
		fail "$v: --control again: $(cat "$work/aout" "$work/aerr" "$work/cout" "$work/cerr")"
	fi
	end "$work/crun"
	f=$(ls "$work"/ctl/*.pyprof)
	"$PYPROF_BIN" info "$f" >"$work/info" 2>&1
	"$PYPROF_BIN" report --threads "$f" >"$work/all" 2>&1 || true
	"$PYPROF_BIN" report --threads --window win "$f" >"$work/win" 2>&1 || true
	in_win=$(awk '$1 == "alpha" {print $3}' "$work/win")
	in_all=$(awk '$1 == "alpha" {print $3}' "$work/all")
	if grep -q "^marks: *3: start win +[0-9.]* s, mark here +[0-9.]* s, stop win +[0-9.]* s$" "$work/info" &&
		[ "${in_win:-0}" -gt 0 ] && [ "$in_win" -lt "${in_all:-0}" ] 2>/dev/null; then
		ok "$v: the marks are in the file ($(grep '^marks' "$work/info")); --window win: $in_win of alpha's $in_all samples"
	else
		fail "$v: marks and window: $(grep '^marks' "$work/info"); window $in_win of $in_all: $(cat "$work/win")"
	fi

	# --native: the main thread's native frames (zlib's deflate under
	# squeeze); the other threads' cannot be readied from outside, which
	# attach says, and their samples are marked unmerged
	rm -rf "$work/nat" && mkdir -p "$work/nat"
	start "$py" "$work/nrun"
	touch "$work/nrun/go" "$work/nrun/squeeze"
	sleep 0.3
	if attach --native -i 1ms -o "$work/nat/" "$pid" &&
		grep -q "warning: native stacks for the main thread only: the other threads (3 now" "$work/aerr"; then
		ok "$v: --native: $(sed 's/^pyprof: attach: //' "$work/aerr" | cut -c1-90)..."
	else
		fail "$v: --native: $(cat "$work/aout" "$work/aerr")"
	fi
	sleep 1.5
	attach --stop "$pid" || fail "$v: --stop after --native: $(cat "$work/aout" "$work/aerr")"
	end "$work/nrun"
	f=$(ls "$work"/nat/*.pyprof)
	"$PYPROF_BIN" report -f collapsed --sysroot="$PYPROF_CHROOT_DIR" "$f" >"$work/c.txt" 2>"$work/c.err" || true
	if grep -Eq '^MainThread;.*squeeze \([^;]*attach\.py:[0-9]+\);([^;(]*\[[^];]*\];)*deflate[^;]* \[libz' "$work/c.txt"; then
		ok "$v: --native: MainThread: squeeze -> ... -> deflate [libz]"
	else
		fail "$v: --native: no deflate under squeeze: $(grep -m3 squeeze "$work/c.txt" | cut -c1-300) $(head -3 "$work/c.err")"
	fi
	if grep -q '^alpha;\[native: unmerged\];.*spin_alpha ' "$work/c.txt" &&
		! grep '^alpha;' "$work/c.txt" | grep -vq '\[native: unmerged\]'; then
		ok "$v: --native: alpha's samples, Python frames only, all under [native: unmerged]"
	else
		fail "$v: --native: alpha: $(grep -m3 '^alpha' "$work/c.txt" | cut -c1-300)"
	fi

	# a bad value fails naming the option, before the target is asked
	start "$py" "$work/brun"
	rc=0; attach --rotate=garbage "$pid" || rc=$?
	if [ "$rc" -eq 2 ] && grep -q "^pyprof: attach: --rotate: .*got 'garbage'" "$work/aerr" &&
		! grep -q libpyprof /proc/"$pid"/maps; then
		ok "$v: --rotate=garbage: exit $rc, $(cut -c1-60 "$work/aerr")..., the target untouched"
	else
		fail "$v: --rotate=garbage: exit $rc, $(cat "$work/aout" "$work/aerr")"
	fi
	rc=0; attach --keep=3 "$pid" || rc=$?
	if [ "$rc" -eq 2 ] && grep -q "^pyprof: attach: --keep: needs --rotate" "$work/aerr" &&
		! grep -q libpyprof /proc/"$pid"/maps; then
		ok "$v: --keep without --rotate: exit $rc, $(cat "$work/aerr")"
	else
		fail "$v: --keep without --rotate: exit $rc, $(cat "$work/aout" "$work/aerr")"
	fi
	rc=0; attach --stop -i 5ms "$pid" || rc=$?
	if [ "$rc" -eq 2 ] && grep -q "^pyprof: attach: --stop takes none of .*--interval" "$work/aerr" &&
		! grep -q libpyprof /proc/"$pid"/maps; then
		ok "$v: --stop with --interval: exit $rc, refused"
	else
		fail "$v: --stop with --interval: exit $rc, $(cat "$work/aout" "$work/aerr")"
	fi
	end "$work/brun"

	# a SIGTERM left at the default completes the file, as preloaded
	rm -rf "$work/out" && mkdir -p "$work/out"
	start "$py" "$work/term"
	attach -o "$work/out/" "$pid" && sleep 0.5
	kill -TERM "$pid"
	status=0
	wait "$spid" || status=$?
	h=$(python3 "$top_srcdir/tests/integration/pfheader.py" "$work"/out/*.pyprof)
	case $status/$h in
	143/*" complete signal 15 "*) ok "$v: SIGTERM while attached: the file is complete, the status SIGTERM's" ;;
	*) fail "$v: SIGTERM while attached: status $status, $h" ;;
	esac

	# a request that waits longer than --timeout is withdrawn
	rm -rf "$work/out"  && mkdir -p "$work/out"
	start "$py" "$work/nap"
	touch "$work/nap/nap"
	sleep 0.3
	if ! attach --timeout 1 -o "$work/out/" "$pid" && grep -q "did not run the request within 1 s" "$work/aerr"; then
		ok "$v: a request not run within --timeout is withdrawn"
	else
		fail "$v: --timeout: $(cat "$work/aout" "$work/aerr")"
	fi
	sleep 3
	# the service's own /tmp, where pyprof put the request
	left=$(ls "$work/out"; ls -d /proc/"$pid"/root/tmp/pyprof-attach.* 2>/dev/null || true)
	end "$work/nap"
	got=$status
	cp "$work/nap/out" "$work/got.out"
	cp "$work/nap/err" "$work/got.err"
	if same_as_unprofiled "$v withdrawn" && [ -z "$left" ]; then
		ok "$v: the withdrawn request ran later, did nothing and removed itself"
	elif [ -n "$left" ]; then
		fail "$v: left behind: $left"
	fi

	# refused, with the reason
	start "$py" "$work/nodebug" PYTHON_DISABLE_REMOTE_DEBUG=1
	if ! attach "$pid" && grep -q "remote debugging is disabled in process $pid" "$work/aerr" &&
		grep -q LD_PRELOAD "$work/aerr"; then
		ok "$v: PYTHON_DISABLE_REMOTE_DEBUG: $(cut -c1-60 "$work/aerr")..."
	else
		fail "$v: remote debugging disabled: $(cat "$work/aout" "$work/aerr")"
	fi
	if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null 2>&1; then
		# the build tree may be in a directory only root may enter (a
		# clone in mktemp -d): the other user gets copies of its own
		pub=$(mktemp -d /tmp/pyprof-pub.XXXXXX)
		chmod 755 "$pub"
		cp "$PYPROF_BIN" "$PYPROF_LIB" "$pub/"
		if ! PYPROF_LIB="$pub/$(basename "$PYPROF_LIB")" \
			setpriv --reuid=65534 --regid=65534 --clear-groups \
			"$pub/$(basename "$PYPROF_BIN")" attach "$pid" >"$work/aout" 2>"$work/aerr" &&
			grep -q "permission denied" "$work/aerr"; then
			ok "$v: another user: $(cut -c1-70 "$work/aerr")..."
		else
			fail "$v: another user: $(cat "$work/aout" "$work/aerr")"
		fi
		rm -rf "$pub"
	fi
	end "$work/nodebug"

	# root runs no interpreter that another user could have changed
	if [ "$(id -u)" -eq 0 ]; then
		mkdir -p "$work/theirs"
		cp "$PYPROF_CHROOT_DIR/usr/bin/${py##*chroot-}" "$work/theirs/"
		chown -R 65534:65534 "$work/theirs"
		# run in the chroot, as the chroot's own are (tests/chroot/chroot.sh)
		printf '#!/bin/sh\nPYPROF_CHROOT_BINDS="%s %s" exec sh "%s" "%s" "%s" "$@"\n' \
			"$top_srcdir" "$top_builddir" "$top_srcdir/tests/chroot/run-in-chroot.sh" \
			"$PYPROF_CHROOT_DIR" "$work/theirs/${py##*chroot-}" >"$work/theirs-py"
		chmod +x "$work/theirs-py"
		start "$work/theirs-py" "$work/theirs-run"
		if ! attach "$pid" && grep -q "will not as root: it is not root's alone" "$work/aerr" &&
			attach --python "/usr/bin/${py##*chroot-}" -o "$work/out/" "$pid" &&
			attach --stop --python "/usr/bin/${py##*chroot-}" "$pid"; then
			ok "$v: root does not run an interpreter of another user's; it does the one --python names"
		else
			fail "$v: an interpreter of another user's: $(cat "$work/aout" "$work/aerr")"
		fi
		end "$work/theirs-run"
		rm -rf "$work/theirs" "$work/theirs-py"
	fi
done
[ "$ran" -eq 1 ] || skip "no CPython 3.14 or later here (the test chroot)"

sleep 5 &
if ! attach $! && grep -q "is not CPython" "$work/aerr"; then
	ok "sleep(1): not CPython"
else
	fail "sleep(1): $(cat "$work/aout" "$work/aerr")"
fi
kill $! 2>/dev/null || true
for py in $pythons; do
	case $py in *chroot-*) continue ;; esac
	v=$(pyver "$py")
	"$py" -c 'import time; time.sleep(5)' &
	sleep 0.3
	if ! attach $! && grep -q "needs 3.14 or later" "$work/aerr" && grep -q LD_PRELOAD "$work/aerr"; then
		ok "$v: refused: $(cut -c 17-80 "$work/aerr")..."
	else
		fail "$v: $(cat "$work/aout" "$work/aerr")"
	fi
	kill $! 2>/dev/null || true
	break
done
finish
