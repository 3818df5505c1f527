# find-pythons.sh - sourced by the tests in this folder.
#
# python_candidates prints the CPython 3 interpreters to test, one path a
# line: pyenv's versions, then python3.8..python3.15 in each PATH folder,
# then the test chroot's (see below).
# pyenv's shims are skipped (they only re-dispatch to its versions); the
# caller drops duplicates by real path (/bin is /usr/bin on Debian).
python_candidates() {
	_root=${PYENV_ROOT:-$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")}
	for _p in "$_root"/versions/3.*/bin/python3.[0-9] \
		  "$_root"/versions/3.*/bin/python3.[0-9][0-9]; do
		[ -x "$_p" ] && echo "$_p"
	done | sort -V
	_ifs=$IFS
	IFS=:
	for _dir in $PATH; do
		case $_dir in */shims) continue ;; esac
		for _m in 8 9 10 11 12 13 14 15; do
			[ -x "$_dir/python3.$_m" ] && echo "$_dir/python3.$_m"
		done
	done
	IFS=$_ifs
	chroot_pythons
}

# The Debian sid chroot's 3.14 and 3.15 (tests/chroot), as wrapper scripts
# that run them inside it; made on first use, skipped with a message when
# it cannot be.  chroot_root WRAPPER prints the chroot's folder, empty for
# a host interpreter.
. "$(dirname "$0")/../chroot/chroot.sh"
chroot_root() {
	case $1 in
	*/chroot-python3.*) sed -n 's/.*run-in-chroot.sh" "\([^"]*\)".*/\1/p' "$1" ;;
	esac
}
