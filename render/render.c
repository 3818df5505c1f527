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
	 render_html, RENDER_SHAPE_FUNCTIONS | RENDER_SHAPE_FOLD, TRUE},
	{"speedscope", "speedscope.json", "speedscope's file format, a profile per thread",
	 render_speedscope, RENDER_SHAPE_FUNCTIONS, TRUE},
	{"pprof", "pb.gz", "gzipped profile.proto for go tool pprof and Pyroscope",
	 render_pprof, 0, FALSE},
	{"trace", "trace.json", "Chrome trace event JSON (Perfetto, chrome://tracing)",
	 render_trace, 0, TRUE},
	{"gecko", "gecko.json", "Firefox Profiler's format: threads, samples over time, marks",
	 render_gecko, 0, TRUE},
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

void render_append_label(GString *buf, const struct profile_frame *f,
			 guint32 repeat, gboolean ascii)
{
	render_append_clean(buf, profile_frame_label(f), 0);
	if (repeat > 1)
		g_string_append_printf(buf, ascii ? " x%u" : " ×%u", repeat);
}

void render_append_shown_place(GString *buf, const struct profile_frame *f,
			       const struct profile_frame *at,
			       gboolean full_paths)
{
	if (f->kind == PROFILE_FRAME_NATIVE) {
		g_string_append_c(buf, '[');
		render_append_place(buf, at, 0);
		g_string_append_c(buf, ']');
	} else if (f->kind == PROFILE_FRAME_PYTHON) {
		render_append_clean(buf, full_paths ? f->filename : f->short_file, 0);
		if (at->line >= 0)
			g_string_append_printf(buf, ":%d", at->line);
		else
			g_string_append(buf, ":?");
	}
}

void render_append_frame(GString *buf, const struct profile_frame *f)
{
	render_append_label(buf, f, 0, FALSE);
	if (!profile_frame_is_code(f))
		return;
	g_string_append(buf, "  ");
	render_append_shown_place(buf, f, f, FALSE);
}

gboolean render_root_holds(const struct profile *p, const struct profile_tree *t,
			   guint32 root, guint ti)
{
	const struct profile_node *nd = profile_tree_node(t, root);
	const struct profile_thread *th = profile_thread(p, ti);

	if (nd->thread >= 0)
		return (guint)nd->thread == ti;
	return nd->frame == th->family_frame || nd->frame == th->name_frame ||
	       nd->frame == profile_process(p, th->process)->frame ||
	       render_one_root(t);
}

/* n with a comma every three digits, as "1,555" */
static void append_count(GString *buf, guint64 n)
{
	char digits[24];
	int len = g_snprintf(digits, sizeof digits, "%" G_GUINT64_FORMAT, n);

	for (int i = 0; i < len; i++) {
		if (i && (len - i) % 3 == 0)
			g_string_append_c(buf, ',');
		g_string_append_c(buf, digits[i]);
	}
}

void render_append_family(GString *buf, const struct profile *p, guint ti,
			  guint n, gboolean ascii)
{
	const struct profile_thread *th = profile_thread(p, ti);
	int pid = profile_process(p, th->process)->pid;

	if (n <= 1 || th->family_frame == th->frame) {
		g_string_append_printf(buf, "%s (pid %d, tid %" G_GUINT32_FORMAT ")",
				       th->name, pid, th->tid);
		return;
	}
	g_string_append(buf, profile_frame(p, th->family_frame)->name);
	g_string_append(buf, ascii ? " x" : " ×");
	append_count(buf, n);
	g_string_append_printf(buf, " (pid %d)", pid);
}

guint render_root_threads(const struct profile *p, const struct profile_tree *t,
			  guint32 root, guint *first)
{
	guint n = 0;

	for (guint ti = 0; ti < p->threads->len; ti++)
		if (profile_thread(p, ti)->n_samples &&
		    render_root_holds(p, t, root, ti) && !n++ && first)
			*first = ti;
	return n;
}

void render_append_root(GString *buf, const struct profile *p,
			const struct profile_tree *t, guint32 root, gboolean ascii)
{
	const struct profile_node *nd = profile_tree_node(t, root);
	const struct profile_frame *f = profile_frame(p, nd->frame);
	guint first = 0, n;

	if (nd->thread >= 0) {
		render_append_family(buf, p, (guint)nd->thread, 1, ascii);
		return;
	}
	if (profile_frame_family(f) >= 0 &&
	    (n = render_root_threads(p, t, root, &first)) > 0) {
		render_append_family(buf, p, first, n, ascii);
		return;
	}
	g_string_append(buf, profile_frame_label(f));
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
