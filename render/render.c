/*
 * render.c - the table of output formats and what they share.
 */
#include "config.h"

#include "render.h"

#include <errno.h>
#include <string.h>

G_DEFINE_QUARK(pyprof-render-error-quark, render_error)

const struct renderer render_table[] = {
	{"text", "txt", "call tree per thread, for a terminal", render_text,
	 RENDER_SHAPE_FUNCTIONS | RENDER_SHAPE_FOLD, FALSE},
	{"collapsed", "folded", "folded stacks, one line per distinct stack",
	 render_collapsed, 0, FALSE},
	{"html", "html", "interactive flame graph and call tree, one self-contained page",
	 render_html, RENDER_SHAPE_FUNCTIONS | RENDER_SHAPE_FOLD, FALSE},
	{"speedscope", "speedscope.json", "speedscope's file format, a profile per thread",
	 render_speedscope, RENDER_SHAPE_FUNCTIONS, TRUE},
	{"pprof", "pb.gz", "gzipped profile.proto for go tool pprof and Pyroscope",
	 render_pprof, 0, FALSE},
	{"trace", "trace.json", "Chrome trace event JSON (Perfetto, chrome://tracing)",
	 render_trace, 0, TRUE},
	{"svg", "svg", "flame graph image", render_svg,
	 RENDER_SHAPE_FUNCTIONS | RENDER_SHAPE_FOLD, FALSE},
	{"json", "json", "the call tree as JSON (schema in pyprof(1))", render_json, 0, FALSE},
	{"pstats", "pstats", "Python's profile statistics: pstats.Stats, snakeviz",
	 render_pstats, 0, FALSE},
	{NULL, NULL, NULL, NULL, 0, FALSE},
};

const struct renderer *render_lookup(const char *name)
{
	for (const struct renderer *r = render_table; r->name; r++)
		if (!strcmp(r->name, name))
			return r;
	return NULL;
}

void render_options_init(struct render_options *o)
{
	memset(o, 0, sizeof *o);
	o->min_percent = RENDER_DEFAULT_MIN_PERCENT;
	o->thread_frame = TRUE;
}

void render_append_clean(GString *buf, const char *s, char also)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		/* C1 controls (U+0080..U+009F; 0x9b is a CSI on some
		 * terminals) are two bytes in UTF-8 */
		if (c == 0xc2 && (unsigned char)s[1] >= 0x80 &&
		    (unsigned char)s[1] <= 0x9f) {
			g_string_append_c(buf, '?');
			s++;
			continue;
		}
		g_string_append_c(buf, (c < 0x20 || c == 0x7f || (also && *s == also))
					       ? '?' : *s);
	}
}

const char *render_native_file(const struct profile_frame *f)
{
	return f->source ? f->source : f->filename;
}

void render_append_place(GString *buf, const struct profile_frame *f,
			 char also)
{
	if (f->kind == PROFILE_FRAME_NATIVE) {
		const char *path = render_native_file(f);
		const char *base = strrchr(path, '/');

		render_append_clean(buf, base ? base + 1 : path, also);
		if (f->source && f->line >= 0)
			g_string_append_printf(buf, ":%d", f->line);
		return;
	}
	render_append_clean(buf, f->filename, also);
	if (f->line >= 0)
		g_string_append_printf(buf, ":%d", f->line);
	else
		g_string_append(buf, ":?");
}

void render_append_frame(GString *buf, const struct profile_frame *f)
{
	render_append_clean(buf, profile_frame_label(f), 0);
	if (!profile_frame_is_code(f))
		return;
	if (f->kind == PROFILE_FRAME_NATIVE) {
		g_string_append(buf, "  [");
		render_append_place(buf, f, 0);
		g_string_append_c(buf, ']');
		return;
	}
	g_string_append(buf, "  ");
	render_append_clean(buf, f->short_file, 0);
	if (f->line >= 0)
		g_string_append_printf(buf, ":%d", f->line);
	else
		g_string_append(buf, ":?");
}

gboolean render_check_stream(FILE *out, GError **error)
{
	if (fflush(out) != 0 || ferror(out)) {
		int e = errno;
		g_set_error(error, RENDER_ERROR, RENDER_ERROR_WRITE,
			    "write error: %s", g_strerror(e ? e : EIO));
		return FALSE;
	}
	return TRUE;
}
