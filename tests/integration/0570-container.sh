#!/bin/sh
# The container recipe (demo/container, libpyprof(7) CONTAINERS), run as a
# container runtime would: the test chroot's Debian sid as the image's
# base, an overlay holding what the Dockerfile copies, new pid, mount and
# uts namespaces, the Dockerfile's ENV, a volume bound at /profiles, and
# the entrypoint (a shell script) as PID 1, which execs the service.
#  - service.py, which handles SIGTERM, and its worker, another Python
#    started through a shell: SIGTERM to PID 1 stops both, and the volume
#    holds one complete file for each (the service's ended by exit, the
#    worker's by SIGTERM), named by host name and pid, and nothing for the
#    shells and the tools (mkdir, id, cat) run before; output and status
#    as without the library;
#  - pid1.py, which leaves SIGTERM at the default: as PID 1 it does not get
#    it, profiled or not, and goes on recording until it exits.
. "$(dirname "$0")/setup.sh"

[ "$(id -u)" -eq 0 ] || skip "a container needs root (namespaces, mounts)"
for tool in unshare chroot mount; do
	command -v "$tool" >/dev/null 2>&1 || skip "no $tool"
done
grep -qw overlay /proc/filesystems || skip "no overlay file system"
image=${PYPROF_CHROOT:-$top_builddir/tests/cache/chroot-sid}
case $image in /*) ;; *) image=$(pwd)/$image ;; esac
recipe=$top_srcdir/demo/container
# the Dockerfile's ENV lines, as NAME=VALUE words
envs=$(sed -n 's/^ENV //p' "$recipe/Dockerfile")
case $envs in *LD_PRELOAD=*PYPROF_OUTPUT=*) ;; *) fail "Dockerfile: ENV LD_PRELOAD and PYPROF_OUTPUT expected: $envs" ;; esac

# container DIR ENV CMD...: runs CMD from the image in the background as
# a container; DIR/vol is its volume, DIR/out and DIR/err its output;
# $ctr is the host's pid of the unshare that holds it.  ENV is the
# Dockerfile's, or "" for the image without the library's ENV.
container() {
	c=$1 e=$2
	shift 2
	rm -rf "$c" && mkdir -p "$c/upper/opt/pyprof" "$c/upper/app" \
		"$c/upper/profiles" "$c/wd" "$c/root" "$c/vol"
	# the layer the Dockerfile adds
	cp "$PYPROF_LIB" "$c/upper/opt/pyprof/libpyprof.so"
	cp "$recipe/entrypoint.sh" "$c/upper/entrypoint.sh"
	cp "$targets/service.py" "$targets/service_worker.py" "$targets/pid1.py" "$c/upper/app/"
	CTR_IMAGE=$image CTR_DIR=$c CTR_ENV=$e \
	unshare --pid --fork --mount --uts --propagation private /bin/sh -c '
		set -e
		r=$CTR_DIR/root
		mount -t overlay overlay -o "lowerdir=$CTR_IMAGE,upperdir=$CTR_DIR/upper,workdir=$CTR_DIR/wd" "$r"
		mount --bind "$CTR_DIR/vol" "$r/profiles"
		mount -t proc proc "$r/proc"
		mount --rbind /dev "$r/dev"
		hostname ctr
		exec chroot "$r" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/root $CTR_ENV /entrypoint.sh "$@"
	' sh "$@" >"$c/out" 2>"$c/err" &
	ctr=$!
}

# pid1: the host's pid of the container's PID 1, once it runs $1
pid1() {
	for _ in $(seq 200); do
		p=$(cat /proc/"$ctr"/task/"$ctr"/children 2>/dev/null | tr -d ' ')
		if [ -n "$p" ] && tr '\0' ' ' </proc/"$p"/cmdline 2>/dev/null | grep -q "$1"; then
			echo "$p"
			return
		fi
		sleep 0.05
	done
	echo 0
}

# until_output DIR TEXT: waits for TEXT in the container's output
until_output() {
	for _ in $(seq 300); do
		grep -q "$2" "$1/out" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# run_service DIR ENV: the service, stopped with SIGTERM to PID 1 once it
# and its worker are up; sets $status
run_service() {
	# a shell and some tools before it, as a command's own preparation
	container "$1" "$2" /bin/sh -c 'mkdir -p /tmp/app && id >/dev/null &&
		cat /etc/hostname >/tmp/app/host && exec "$0" "$@"' "$py" /app/service.py
	p=$(pid1 service.py)
	until_output "$1" "service: up" && sleep 1
	kill -TERM "$p" 2>/dev/null || true
	status=0
	wait "$ctr" || status=$?
}

ran=0
for py in $pythons; do
	case $py in *chroot-python3.1[4-9]) ;; *) continue ;; esac
	ran=1
	v=$(pyver "$py")
	py=/usr/bin/${py##*chroot-}

	run_service "$work/ref" ""
	want=$status
	cp "$work/ref/out" "$work/ref.out"
	cp "$work/ref/err" "$work/ref.err"
	run_service "$work/c" "$envs"
	got=$status
	cp "$work/c/out" "$work/got.out"
	cp "$work/c/err" "$work/got.err"
	same_as_unprofiled "$v container" &&
		ok "$v: SIGTERM to PID 1 stopped the service and its worker; output and status ($got) as without pyprof"
	files=$(cd "$work/c/vol" && ls)
	set -- $files
	if [ "$#" -eq 2 ]; then
		ok "$v: two files on the volume, the service's and the worker's: $(echo $files)"
	else
		fail "$v: files on the volume (a Python process each, none for the shells and tools): $(echo $files)"
	fi
	svc= wrk=
	for f in $files; do
		"$PYPROF_BIN" info "$work/c/vol/$f" >"$work/info" 2>&1 || true
		h=$(python3 "$top_srcdir/tests/integration/pfheader.py" "$work/c/vol/$f")
		case $(grep '^command:' "$work/info") in
		*service_worker.py*) wrk=$h ;;
		*service.py*) svc=$h ;;
		esac
	done
	case $svc in
	*/ctr-1.pyprof" complete exit 0 1 0 "[1-9]*) ok "$v: the service (PID 1): ctr-1.pyprof complete, ended by exit, $(echo "$svc" | awk '{print $7}') samples" ;;
	*) fail "$v: the service's file: $svc" ;;
	esac
	case $wrk in
	*/ctr-[0-9]*.pyprof" complete signal 15 "*" "[1-9]*) ok "$v: the worker: complete, ended by SIGTERM, $(echo "$wrk" | awk '{print $7}') samples" ;;
	*) fail "$v: the worker's file: $wrk" ;;
	esac
	if "$PYPROF_BIN" report --format collapsed "$work/c/vol" >"$work/collapsed" 2>&1 &&
		grep -q ";handle " "$work/collapsed" && grep -q ";crunch " "$work/collapsed"; then
		ok "$v: pyprof report of the volume: handle() and crunch()"
	else
		fail "$v: report: $(head -5 "$work/collapsed")"
	fi

	# a PID 1 that leaves SIGTERM at the default does not get it
	for e in "" "$envs"; do
		container "$work/p" "$e" "$py" /app/pid1.py /profiles
		p=$(pid1 pid1.py)
		until_output "$work/p" "pid1: up" && sleep 0.5
		kill -TERM "$p" 2>/dev/null || true
		sleep 1
		alive=$(test -d /proc/"$p" && echo alive || echo gone)
		h1=$(python3 "$top_srcdir/tests/integration/pfheader.py" "$work"/p/vol/*.pyprof 2>/dev/null || true)
		sleep 0.5
		touch "$work/p/vol/stop"
		status=0
		wait "$ctr" || status=$?
		if [ -z "$e" ]; then
			want=$status
			cp "$work/p/out" "$work/ref.out"
			cp "$work/p/err" "$work/ref.err"
			[ "$alive" = alive ] || fail "$v: unprofiled, a PID 1 did not ignore SIGTERM?"
			continue
		fi
		got=$status
		cp "$work/p/out" "$work/got.out"
		cp "$work/p/err" "$work/got.err"
		h2=$(python3 "$top_srcdir/tests/integration/pfheader.py" "$work"/p/vol/*.pyprof 2>/dev/null || true)
		# pfheader.py: path state reason signal pid ppid samples ...
		n1=$(echo "$h1" | awk '{print $7}') n2=$(echo "$h2" | awk '{print $7}')
		case $alive/$h1/$h2 in
		alive/*" writing none "*/*" complete exit 0 1 0 "*)
			if [ "$n2" -gt "$n1" ] && same_as_unprofiled "$v PID 1"; then
				ok "$v: PID 1 with SIGTERM at the default goes on after it, recording ($n1 samples then, $n2 at exit)"
			elif [ "$n2" -le "$n1" ]; then
				fail "$v: PID 1: no samples after SIGTERM ($n1, $n2)"
			fi ;;
		*) fail "$v: PID 1 and SIGTERM: $alive; after SIGTERM: $h1; at the end: $h2" ;;
		esac
	done
done
[ "$ran" -eq 1 ] || skip "no CPython 3.14+ image here (the test chroot)"
finish
