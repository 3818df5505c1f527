#!/bin/sh
# One mechanism to hide frames, on a real profile: --hide gives a frame's
# time to its caller, --collapse shows a run of frames as one [group]
# node, --show exempts, presets and pyprof.conf add rules, the environment
# sits between the two, --show-all undoes everything -- in text and
# collapsed output alike, with the totals unchanged.  (What is hidden by
# default is 0215's.)
. "$(dirname "$0")/setup.sh"

py=$(echo "$pythons" | head -n 1)
v=$(pyver "$py")
(cd "$targets" && PYPROF_INTERVAL=1ms profile "$work/out" "$py" -m stem)
# no config file from the caller's home or directory
XDG_CONFIG_HOME=$work/xdg
export XDG_CONFIG_HOME
unset PYPROF_CONFIG PYPROF_HIDE PYPROF_COLLAPSE PYPROF_SHOW PYPROF_PRESET PYPROF_SHOW_ALL PYPROF_TRIM || true
cd "$work"

rep() { "$PYPROF_BIN" report --format collapsed --weight=ns "$@" "$work/out"; }
# total weight of all stacks, and of the stacks whose frames match $1
total() { awk '{s += $NF} END {print s}'; }
has() { grep -q "$1"; }

rep --show-all >all
rep --hide inner >hid
if ! has ';inner (' <hid && has ';helper ([^;]*);work (' <hid; then
	ok "$v --hide inner: work re-parented under helper"
else
	fail "$v --hide inner"
fi
[ "$(total <all)" = "$(total <hid)" ] && ok "$v hiding keeps the total ($(total <all) ns)" ||
	fail "$v totals: $(total <all) vs $(total <hid)"

rep --collapse 'layer=function~^(helper|inner)$' >col
if has ';main ([^;]*);\[layer\];work (' <col && ! has ';helper (' <col; then
	ok "$v --collapse: helper and inner are one [layer] node"
else
	fail "$v --collapse"; head -n 3 col
fi
rep --collapse 'layer=function~^(helper|inner)$' --show inner >col2
has ';\[layer\];inner (' <col2 && ok "$v --show exempts inner from the group" || fail "$v --show"

# the thread bootstrap is hidden by default; a show rule of the
# environment brings it back, and the preset on the command line hides it
# again over that
rep >dflt
PYPROF_SHOW=module:threading rep >shown
PYPROF_SHOW=module:threading rep --preset threading >pre
if grep -v '^MainThread' dflt | has '^[^;]*;worker (' && ! has '_bootstrap_inner' <dflt &&
	has '_bootstrap_inner' <shown &&
	grep -v '^MainThread' pre | has '^[^;]*;worker (' && ! has '_bootstrap_inner' <pre; then
	ok "$v --preset threading hides the thread bootstrap over PYPROF_SHOW"
else
	fail "$v --preset threading"
fi
"$PYPROF_BIN" report --preset nosuch "$work/out" >/dev/null 2>err && st=0 || st=$?
[ "$st" = 2 ] && grep -q "unknown preset 'nosuch'" err && ok "$v unknown preset: exit 2, $(cat err | head -n 1)" ||
	fail "$v unknown preset: status $st"
"$PYPROF_BIN" report --hide 'modul:x' "$work/out" >/dev/null 2>err && st=0 || st=$?
[ "$st" = 2 ] && grep -q -- "--hide: 'modul:x': unknown field" err && ok "$v bad rule names the option" ||
	fail "$v bad rule: status $st $(cat err)"

# pyprof.conf in the current directory, then the environment over it,
# then the command line over both
printf '[report]\nhide = inner; ~^help\\w+$\n' >pyprof.conf
rep >conf
! has ';inner (' <conf && ! has ';helper (' <conf && has ';main ([^;]*);work (' <conf &&
	ok "$v ./pyprof.conf hides (regex with a backslash kept as written)" || fail "$v ./pyprof.conf"
PYPROF_SHOW=helper rep >env
has ';main ([^;]*);helper ([^;]*);work (' <env && ok "$v PYPROF_SHOW overrides the config file" ||
	fail "$v PYPROF_SHOW"
PYPROF_SHOW=helper rep --hide helper >cmd
! has ';helper (' <cmd && ok "$v --hide overrides PYPROF_SHOW" || fail "$v --hide over env"
rep --show-all >conf-all
cmp -s all conf-all && ok "$v --show-all ignores the config file's rules" || fail "$v --show-all with config"
rm pyprof.conf
mkdir -p "$XDG_CONFIG_HOME/pyprof"
printf '[report]\ncollapse = mine=file:*stem.py\n' >"$XDG_CONFIG_HOME/pyprof/pyprof.conf"
rep >xdg.out
has '^MainThread;\[mine\] ' <xdg.out && ok "$v \$XDG_CONFIG_HOME/pyprof/pyprof.conf is read" || fail "$v XDG config"
printf '[report]\nhide = work\n' >other.conf
rep --config other.conf >cfg
! has ';work (' <cfg && ! has '\[mine\]' <cfg && ok "$v --config FILE replaces the default file" || fail "$v --config"
printf '[report]\nhid = work\n' >bad.conf
"$PYPROF_BIN" report --config bad.conf "$work/out" >/dev/null 2>err && st=0 || st=$?
[ "$st" = 2 ] && grep -q 'bad.conf: \[report\] hid: unknown key' err && ok "$v bad config: $(head -n 1 err)" ||
	fail "$v bad config: status $st $(cat err)"

# text output obeys the same rules
rm "$XDG_CONFIG_HOME/pyprof/pyprof.conf"
"$PYPROF_BIN" report --ascii --hide inner "$work/out" >text
! grep -q '  inner  .*stem.py' text && grep -q '  work  .*stem.py' text && ok "$v text output hides too" || fail "$v text"
finish
