/*
 * origin.c - where a frame's code lives: the program, the standard
 * library, an installed package, native code; and the short spelling of
 * its file that reports show.
 *
 * Decided from the file name alone, against the process the frame was
 * first seen in (profile.h): its starting directory and the standard
 * library's directory, <prefix>/lib/pythonX.Y/ with the prefix taken from
 * the executable's real path (bin/python3.X under it).  Files read before
 * format 2.2 know neither, and a .../lib/python3.N/ directory then stands
 * for the standard library.  An installed package is anything below a
 * site-packages or dist-packages directory, wherever that is: a venv's,
 * the user's, Debian's /usr/lib/python3/dist-packages.
 */
#include "config.h"

#include "collector/profile.h"

#include <string.h>

#include "collector/profile-private.h"

char *profile_stdlib_dir(const char *exe, guint32 hexversion)
{
	char *bin, *prefix, *dir;

	if (!exe || exe[0] != '/' || !hexversion)
		return NULL;
	bin = g_path_get_dirname(exe);
	prefix = g_path_get_dirname(bin);
	if (!strcmp(prefix, "/"))
		prefix[0] = '\0';
	dir = g_strdup_printf("%s/lib/python%u.%u/", prefix,
			      (guint)(hexversion >> 24),
			      (guint)(hexversion >> 16 & 0xff));
	g_free(bin);
	g_free(prefix);
	return dir;
}

/* Past ".../lib/python3.N/" in s, or NULL */
static const char *past_lib_python(const char *s)
{
	const char *at = s;

	while ((at = strstr(at, "/lib/python3."))) {
		const char *q = at + strlen("/lib/python3.");
		if (g_ascii_isdigit(*q)) {
			while (g_ascii_isdigit(*q))
				q++;
			if (*q == '/')
				return q + 1;
		}
		at++;
	}
	return NULL;
}

/* The first component of a path below a library directory, without .py:
 * "json/decoder.py" -> json, "six.py" -> six */
static char *first_component(const char *rest)
{
	gsize n = strcspn(rest, "/");

	if (!rest[n] && n > 3 && !strncmp(rest + n - 3, ".py", 3))
		n -= 3;
	return g_strndup(rest, n);
}

enum profile_origin profile_classify_file(const char *filename, const char *cwd,
					  const char *stdlib, char **package,
					  char **short_file)
{
	static const char *const roots[] = {"/site-packages/", "/dist-packages/"};
	const char *rest = NULL;
	gsize n;

	*package = NULL;
	*short_file = NULL;
	if (g_str_has_prefix(filename, "<frozen ") && g_str_has_suffix(filename, ">")) {
		n = strcspn(filename + 8, ".>");
		*package = g_strndup(filename + 8, n);
		return PROFILE_ORIGIN_STDLIB;
	}
	if (filename[0] == '<')
		return PROFILE_ORIGIN_PROGRAM; /* <string>, <stdin>, cells */
	for (gsize i = 0; i < G_N_ELEMENTS(roots); i++) {
		const char *at = g_strrstr(filename, roots[i]);
		if (at && (!rest || at + strlen(roots[i]) > rest))
			rest = at + strlen(roots[i]);
	}
	if (rest && *rest) {
		*package = first_component(rest);
		*short_file = g_strdup(rest);
		return PROFILE_ORIGIN_LIBRARY;
	}
	if (stdlib && *stdlib)
		rest = g_str_has_prefix(filename, stdlib) ? filename + strlen(stdlib)
							   : NULL;
	else
		rest = past_lib_python(filename);
	if (rest && *rest) {
		*package = first_component(rest);
		*short_file = g_strconcat("<stdlib>/", rest, NULL);
		return PROFILE_ORIGIN_STDLIB;
	}
	if (cwd && *cwd && (n = strlen(cwd)) &&
	    !strncmp(filename, cwd, n) && filename[n] == '/' && filename[n + 1])
		*short_file = g_strdup(filename + n + 1);
	return PROFILE_ORIGIN_PROGRAM;
}

const char *profile_origin_name(enum profile_origin o)
{
	switch (o) {
	case PROFILE_ORIGIN_PROGRAM: return "program";
	case PROFILE_ORIGIN_STDLIB: return "stdlib";
	case PROFILE_ORIGIN_LIBRARY: return "library";
	case PROFILE_ORIGIN_NATIVE: return "native";
	case PROFILE_ORIGIN_OTHER: break;
	}
	return "other";
}

void profile_frame_set_origin(struct profile *p, struct profile_frame *f)
{
	const struct profile_process *pr =
		p->processes->len ? profile_process(p, p->processes->len - 1) : NULL;
	char *package = NULL, *short_file = NULL;

	f->origin = PROFILE_ORIGIN_OTHER;
	f->package = NULL;
	f->short_file = f->filename;
	if (f->kind == PROFILE_FRAME_NATIVE) {
		const char *base = strrchr(f->filename, '/');
		f->origin = PROFILE_ORIGIN_NATIVE;
		f->package = profile_intern(p, base ? base + 1 : f->filename, -1);
		return;
	}
	if (f->kind != PROFILE_FRAME_PYTHON)
		return;
	f->origin = profile_classify_file(f->filename, pr ? pr->cwd : NULL,
					  pr ? pr->stdlib : NULL, &package,
					  &short_file);
	if (package)
		f->package = profile_intern(p, package, -1);
	if (short_file)
		f->short_file = profile_intern(p, short_file, -1);
	g_free(package);
	g_free(short_file);
}
