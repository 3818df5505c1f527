#!/bin/sh
# check-deps.sh - the dependency rules of ARCHITECTURE.md, checked on the
# #include lines of the sources.
#
# preload/ and format/ go into the profiled process, so they may include
# nothing of collector/, render/ or cli/, and nothing of GLib; render/ sees
# the profile model only, never the file format, so it may include none of
# format/'s headers.  A quoted include is resolved as the build resolves it
# (the including file's folder, then the top folder, then format/), so a
# bare "profile.h" that could only mean collector's is caught too.  Every
# offence is printed as file:line and the include; exit 1 if there is any.

top=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$top" || exit 99

# "line q|s name" for each include of file $1 (q quoted, s <system>)
includes() {
	awk '{ s = $0 }
	     sub(/^[ \t]*#[ \t]*include[ \t]*/, "", s) && s ~ /^["<]/ {
		kind = substr(s, 1, 1) == "<" ? "s" : "q"
		s = substr(s, 2); sub(/[">].*/, "", s)
		print FNR, kind, s
	     }' "$1"
}

# The file a quoted include of $1 names, relative to the top folder.
resolve() {
	for d in "$(dirname "$1")" . format; do
		# config.h and the like: made from a .in by configure
		if [ -f "$d/$2" ] || [ -f "$d/$2.in" ]; then
			echo "$d/$2" | sed 's|^\./||'
			return
		fi
	done
	# not found where the build looks: say whose it is, if anyone's
	for d in collector render cli; do
		if [ -f "$d/$2" ]; then
			echo "$d/$2"
			return
		fi
	done
	echo "$2"
}

# file, rule: a line for each include of file that the rule forbids.
check() {
	includes "$1" | while read -r line kind name; do
		path=$name
		[ "$kind" = q ] && path=$(resolve "$1" "$name")
		if "$2" "$path"; then
			echo "check-deps: $1:$line: includes $name"
		fi
	done
}

in_process_forbids() {
	case $1 in
	collector/* | render/* | cli/* | */collector/* | */render/* | */cli/*) return 0 ;;
	glib.h | glib/* | glib-object.h | gobject/* | gio/* | gmodule.h) return 0 ;;
	esac
	return 1
}

format_headers=$(cd format && ls *.h)
render_forbids() {
	for h in $format_headers; do
		case $1 in
		"$h" | "format/$h" | */format/"$h") return 0 ;;
		esac
	done
	return 1
}

out=$(
	for f in $(find preload format -name '*.[ch]' | sort); do
		check "$f" in_process_forbids
	done
	for f in $(find render -name '*.[ch]' | sort); do
		check "$f" render_forbids
	done
)
if [ -n "$out" ]; then
	echo "$out"
	echo "check-deps: preload/ and format/ may not include collector/, render/, cli/ or GLib;"
	echo "check-deps: render/ may not include format/'s headers ($(echo $format_headers))"
	exit 1
fi
echo "check-deps: ok"
