#!/bin/sh
# What reports hide by default: Python's machinery between the program and
# its code, on every interpreter.  An import shows as the importing line
# calling the module's <module> (no importlib, no zipimport); `python -m`
# starts at the module (no runpy); a .pth file's import line, which site
# runs as <string> code, is hidden while a `python -c` program, <string>
# too, stays; a thread starts at its target (no bootstrap, no executor
# worker), while what the main thread waits in stays; a child process
# starts at its target, under the start() that forked it or the -c line
# that spawned it, while the parent's side of starting it stays its own
# (the resource tracker's _launch, say).  --show-all brings each back, and
# a --show rule brings back what it matches and nothing else.
. "$(dirname "$0")/setup.sh"

XDG_CONFIG_HOME=$work/xdg
export XDG_CONFIG_HOME
unset PYPROF_CONFIG PYPROF_HIDE PYPROF_COLLAPSE PYPROF_SHOW PYPROF_PRESET PYPROF_SHOW_ALL PYPROF_TRIM || true
# no __pycache__ in the source tree's targets
PYTHONDONTWRITEBYTECODE=1
export PYTHONDONTWRITEBYTECODE

burn='def burn(n):
    x = 0
    for i in range(n):
        x += i * i
    return x


burn(3_000_000)
'
mkdir -p "$work/zip"
printf '%s' "$burn" >"$work/zip/zipburn.py"
(cd "$work/zip" && "$(echo "$pythons" | head -n 1)" -c \
	'import zipfile; z = zipfile.ZipFile("../burn.zip", "w"); z.write("zipburn.py"); z.close()')

# rep [OPTIONS]: the profile in $work/out as collapsed stacks, in ns
rep() { "$PYPROF_BIN" report --format collapsed --weight=ns "$@" "$work/out" 2>/dev/null; }
has() { grep -Eq -- "$1"; }
# check NAME FILE: ok if every pattern after -- matches FILE and none after
# --not does; else FAIL, naming the first that did not hold
check() {
	name=$1 file=$2
	shift 2
	want=1 bad=
	for pat in "$@"; do
		case $pat in
		--not) want=0; continue ;;
		esac
		if has "$pat" <"$file"; then
			[ "$want" = 1 ] || { bad="has $pat"; break; }
		else
			[ "$want" = 0 ] || { bad="lacks $pat"; break; }
		fi
	done
	if [ -z "$bad" ]; then
		ok "$v $name"
	else
		fail "$v $name: $bad"
		sed 's/^/    /' "$file" | cut -c1-400 | head -n 12
	fi
}

for py in $pythons; do
	v=$(pyver "$py")

	# imports: a module's top level, and a module from a zip file
	rm -rf "$work/out"
	(cd "$targets" && PYPROF_INTERVAL=1ms profile "$work/out" "$py" machinery.py import "$work/burn.zip")
	rep >"$work/c"
	check "an import is the importing line calling <module>" "$work/c" \
		';load \([^)]*machinery\.py:[0-9]+\);<module> \([^)]*machinery_burn\.py:[0-9]+\);burn \(' \
		';load_zip \([^)]*machinery\.py:[0-9]+\);<module> \([^)]*burn\.zip/zipburn\.py:[0-9]+\);burn \(' \
		--not '_find_and_load' 'importlib[./]_bootstrap' 'zipimport'
	rep --show-all >"$work/c"
	# (zipimport's frames are on the stack while the module runs only
	# before 3.10, through its load_module; later it runs modules with
	# importlib's exec_module: they are checked hidden above, not here)
	check "--show-all shows importlib" "$work/c" \
		';load \([^)]*\);_find_and_load \(' \
		';load_zip \([^)]*\);_find_and_load \(.*;<module> \([^)]*zipburn\.py'
	rep --show module:importlib._bootstrap >"$work/c"
	check "--show module:importlib._bootstrap brings back only that" "$work/c" \
		';load \([^)]*\);_find_and_load \(' --not '_bootstrap_external' 'zipimport'

	# python -m: runpy
	rm -rf "$work/out"
	(cd "$targets" && PYPROF_INTERVAL=1ms profile "$work/out" "$py" -m machinery_pkg)
	rep >"$work/c"
	check "python -m starts at the module" "$work/c" \
		'^MainThread;<module> \([^)]*machinery_pkg/__main__\.py:[0-9]+\);work \([^)]*machinery\.py' \
		--not 'runpy|_run_module_as_main|_run_code'
	rep --show-all >"$work/c"
	check "--show-all shows runpy" "$work/c" \
		'^MainThread;_run_module_as_main \([^)]*runpy[^)]*\);_run_code \([^)]*\);<module> \([^)]*machinery_pkg/__main__'
	rep --show module:runpy >"$work/c"
	check "--show module:runpy brings it back" "$work/c" '^MainThread;_run_module_as_main \('

	# a .pth import line in the user's site-packages, which site reads at
	# start-up, and a python -c program in the same process
	ub=$work/userbase
	rm -rf "$ub" "$work/out"
	usp=$(PYTHONUSERBASE=$ub "$py" -c 'import site; print(site.getusersitepackages() if site.ENABLE_USER_SITE else "")')
	if [ -z "$usp" ]; then
		fail "$v the user's site-packages is off: no .pth to test"
	else
		mkdir -p "$usp"
		printf '%s' "$burn" >"$usp/pthburn.py"
		printf 'import pthburn\n' >"$usp/pthburn.pth"
		(cd "$targets" && PYTHONUSERBASE=$ub PYPROF_INTERVAL=1ms profile "$work/out" \
			"$py" -c 'import machinery; machinery.spin()')
		rep >"$work/c"
		check "a .pth line is hidden, python -c code is not" "$work/c" \
			'^MainThread;<module> \([^)]*pthburn\.py:[0-9]+\);burn \(' \
			'^MainThread;<module> \(<string>:1\);spin \([^)]*machinery\.py' \
			--not 'addpackage|_exec_imports|site\.py|<frozen site>' \
			'<module> \(<string>:1\);<module> \([^)]*pthburn\.py'
		rep --show-all >"$work/c"
		check "--show-all shows site and the .pth line" "$work/c" \
			'(addpackage|_exec_imports) \([^)]*\);<module> \(<string>:1\);.*<module> \([^)]*pthburn\.py'
		rep --show 'file:<string>' >"$work/c"
		check "--show file:<string> brings back the .pth line only" "$work/c" \
			'^MainThread;<module> \(<string>:1\);<module> \([^)]*pthburn\.py:[0-9]+\);burn \(' \
			--not 'addpackage|_exec_imports|_find_and_load'
	fi

	# threads: a target, a subclass's run, an executor's worker
	rm -rf "$work/out"
	(cd "$targets" && PYPROF_INTERVAL=1ms profile "$work/out" "$py" machinery.py threads)
	rep >"$work/c"
	# (the main thread's submit() makes a _WorkItem: its __init__ is the
	# program's call, not the worker's bootstrap)
	check "a thread starts at its target" "$work/c" \
		'^spinner;spin \(' '^subclass;(Spinner\.)?run \([^)]*machinery\.py' \
		'^pool_0;spin_executor \(' \
		--not '_bootstrap|_worker \(|_WorkItem\.run|;run \([^)]*concurrent/futures/thread\.py|Thread\.run \(|;run \([^)]*threading\.py'
	rep --show-all >"$work/c"
	check "--show-all shows the bootstraps" "$work/c" \
		'^spinner;(Thread\.)?_bootstrap \(' \
		'^pool_0;.*;_worker \([^)]*\);(_WorkItem\.)?run \(.*;spin_executor \('
	rep --show module:threading >"$work/c"
	check "--show module:threading brings back threading's only" "$work/c" \
		'^spinner;(Thread\.)?_bootstrap \(' --not '_worker \('
	# in wall mode the waits the program makes stay
	rm -rf "$work/out"
	(cd "$targets" && PYPROF_MODE=wall PYPROF_INTERVAL=1ms profile "$work/out" "$py" machinery.py threads)
	rep >"$work/c"
	check "wall mode: the main thread's wait in Future.result stays" "$work/c" \
		'^MainThread;<module> \([^)]*\);main \([^)]*\);threads \([^)]*\);(Future\.)?result \([^)]*concurrent/futures/_base\.py' \
		'^spinner;spin \('

	# processes: fork, spawn, forkserver, a spawn pool, a process executor
	rm -rf "$work/out"
	(cd "$targets" && PYPROF_INTERVAL=1ms profile "$work/out" "$py" machinery.py processes)
	rep >"$work/c"
	check "a child starts at its target" "$work/c" \
		';(BaseProcess\.)?start \([^)]*multiprocessing/process\.py:[0-9]+\);spin_fork \(' \
		'^MainThread;<module> \(<string>:1\);spin_spawn \(' \
		'^MainThread;<module> \(<string>:1\);spin_forkserver \(' \
		'^MainThread;<module> \(<string>:1\);spin_pool \(' \
		'^MainThread;<module> \(<string>:1\);spin_cf \(' \
		--not '_bootstrap \(|spawn_main|_serve_one|mapstar|_process_worker|_launch \([^)]*popen_|_Popen \('
	rep --show-all >"$work/c"
	check "--show-all shows the processes' bootstrap" "$work/c" \
		';(Popen\.)?_launch \([^)]*popen_fork\.py:[0-9]+\);(BaseProcess\.)?_bootstrap \(.*;spin_fork \(' \
		'^MainThread;<module> \(<string>:1\);spawn_main \(.*;spin_spawn \(' \
		';_serve_one \(.*;spin_forkserver \(' \
		';mapstar \([^)]*\);spin_pool \(' \
		';_process_worker \([^)]*\);spin_cf \('
	rep --show module:multiprocessing.spawn >"$work/c"
	check "--show module:multiprocessing.spawn brings back spawn's only" "$work/c" \
		'^MainThread;<module> \(<string>:1\);spawn_main \(' --not '_process_worker|_bootstrap \('
done
finish
