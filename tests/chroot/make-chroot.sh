#!/bin/sh
# make-chroot.sh - a Debian sid chroot with real CPython 3.14 and 3.15.
#
# usage: make-chroot.sh DIR
#
# Python versions newer than any pyenv build on this machine come from
# Debian: sid has python3.14, experimental python3.15, and the -dev packages
# carry the internal headers the offset probe needs.  The chroot is made
# once and cached: DIR/.pyprof-chroot-ok marks a finished one, so a later
# call returns at once.  It is built in DIR.new and renamed into place, so
# an interrupted run leaves no half-made chroot behind that looks finished.
#
# Exit 0 when DIR is ready, 77 (automake's "skip") with a plain reason on
# stdout when it cannot be made here (not root, no debootstrap, archive
# unreachable), 1 when it got partway and failed.
#
# Environment: PYPROF_DEBIAN_MIRROR (default http://deb.debian.org/debian).
# The archive's Release files may be past their Valid-Until date (a frozen
# snapshot), hence -o Acquire::Check-Valid-Until=false everywhere.

set -u
dir=${1:?usage: make-chroot.sh DIR}
mirror=${PYPROF_DEBIAN_MIRROR:-http://deb.debian.org/debian}
stamp=$dir/.pyprof-chroot-ok

[ -f "$stamp" ] && exit 0

[ "$(id -u)" -eq 0 ] || { echo "SKIP: the 3.14/3.15 chroot needs root"; exit 77; }
command -v debootstrap >/dev/null 2>&1 ||
	{ echo "SKIP: no debootstrap (apt-get install debootstrap) for the 3.14/3.15 chroot"; exit 77; }
command -v chroot >/dev/null 2>&1 || { echo "SKIP: no chroot(8)"; exit 77; }

# Can the archive be reached at all?  A clear skip beats a debootstrap
# failure deep in its log.
if command -v python3 >/dev/null 2>&1; then
	python3 - "$mirror/dists/sid/Release" <<'EOF' ||
import sys, urllib.request
urllib.request.urlopen(sys.argv[1], timeout=20).read(64)
EOF
	{ echo "SKIP: Debian archive $mirror not reachable: no chroot with 3.14/3.15"; exit 77; }
fi

new=$dir.new
log=$dir.log
rm -rf "$new"
mkdir -p "$(dirname "$dir")"
echo "making the 3.14/3.15 chroot in $dir (log: $log)"

apt_opts="-o Acquire::Check-Valid-Until=false -o APT::Install-Recommends=false -o Dpkg::Use-Pty=0 -y -q"
inchroot() { chroot "$new" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"; }

{
	debootstrap --variant=minbase --include=python3.14,python3.14-dev,libunwind8 \
		sid "$new" "$mirror" &&
	echo "deb $mirror experimental main" >"$new/etc/apt/sources.list.d/experimental.list" &&
	inchroot apt-get $apt_opts update &&
	inchroot apt-get $apt_opts install -t experimental python3.15 python3.15-dev &&
	inchroot apt-get clean
} >"$log" 2>&1
rc=$?
# debootstrap mounts /proc and /sys inside while it works; make sure
# nothing stays mounted under the tree we rename or delete.
for m in $(awk -v d="$new/" 'index($2, d) == 1 {print $2}' /proc/mounts | sort -r); do
	umount -l "$m" 2>/dev/null
done
if [ "$rc" -ne 0 ]; then
	echo "FAIL: making the chroot failed; last lines of $log:"
	tail -n 15 "$log" | sed 's/^/    /'
	exit 1
fi
touch "$new/.pyprof-chroot-ok"
rm -rf "$dir"
mv "$new" "$dir" || exit 1
echo "chroot ready: $(ls "$dir"/usr/bin/python3.1[0-9] | tr '\n' ' ')"
exit 0
