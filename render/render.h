/*
 * render.h - the output formats: one function each, from the profile model
 * to a stream.
 *
 * A renderer sees only the model (collector/profile.h): the call tree after
 * whatever hiding and trimming the collector applied, and the profile for
 * timelines and process facts.  It writes to a stdio stream and reports a
 * write error as a GError; it never prints elsewhere and never exits.
 */
#ifndef PYPROF_RENDER_H
#define PYPROF_RENDER_H

#include <stdio.h>

#include <glib.h>

#include "collector/profile.h"

#define RENDER_ERROR (render_error_quark())
GQuark render_error_quark(void);
enum render_error_code {
	RENDER_ERROR_WRITE,
};

/* The order of --flat's table: heaviest self time first (the default),
 * total time first, or by function name. */
enum render_sort { RENDER_SORT_SELF, RENDER_SORT_TOTAL, RENDER_SORT_NAME };

/* Options shared by the renderers; each uses those that apply to it. */
struct render_options {
	gboolean color;          /* ANSI colour (the caller resolves "auto") */
	gboolean ascii;          /* ASCII tree lines and "..." instead of "…" */
	guint depth;             /* text: frame levels shown, 0 = all */
	double min_percent;      /* text: hide nodes below this share */
	gboolean percent_of_total; /* text: shares of the whole profile, not
				    * of the node's thread */
	gboolean weight_ns;      /* collapsed: nanoseconds, not sample counts */
	gboolean thread_frame;   /* collapsed: lead each stack with its thread */
	/* The options the tree was built with (NULL: none), so that renderers
	 * of timelines (trace, speedscope, gecko) hide and group frames alike;
	 * html: the tree built with nothing hidden or trimmed (--show-all),
	 * NULL when it is the tree itself. */
	const struct profile_tree_options *tree_options;
	const struct profile_tree *full;
	const char *title;       /* html, svg: the page title, NULL: default */
	gboolean flat;           /* text: a table of functions, not a tree */
	gboolean full_paths;     /* text, html, svg: files' full paths, not
				  * their short_file */
	enum render_sort sort;   /* text --flat: the order of the table */
};

#define RENDER_DEFAULT_MIN_PERCENT 1.0

/* Sets the defaults documented in pyprof(1). */
void render_options_init(struct render_options *o);

typedef gboolean (*render_fn)(const struct profile *p,
			      const struct profile_tree *t,
			      const struct render_options *o, FILE *out,
			      GError **error);

/* struct renderer.shape: how the tree it is given was reshaped for
 * people (collector/shape.h), unless the options say otherwise */
#define RENDER_SHAPE_FUNCTIONS 0x1u /* one node per function */
#define RENDER_SHAPE_FOLD 0x2u      /* recursion and library runs folded */

struct renderer {
	const char *name;        /* as given to --format */
	const char *extension;   /* of a file it writes, without the dot */
	const char *description; /* one line for --help */
	render_fn render;
	unsigned shape;          /* RENDER_SHAPE_*; machine formats keep
				  * lines and every frame */
	gboolean timeline;       /* it draws samples in time order, so the
				  * profile must keep timelines
				  * (profile_set_timelines); the others see
				  * only trees */
};

/* The renderers, ended by an entry whose name is NULL. */
extern const struct renderer render_table[];

/* The renderer called name, or NULL. */
const struct renderer *render_lookup(const char *name);

gboolean render_pstats(const struct profile *p, const struct profile_tree *t,
		       const struct render_options *o, FILE *out, GError **error);
gboolean render_text(const struct profile *p, const struct profile_tree *t,
		     const struct render_options *o, FILE *out, GError **error);
gboolean render_collapsed(const struct profile *p, const struct profile_tree *t,
			  const struct render_options *o, FILE *out,
			  GError **error);
/* render/json.c, speedscope.c, trace.c, gecko.c, pprof.c, svg.c, html.c */
gboolean render_json(const struct profile *p, const struct profile_tree *t,
		     const struct render_options *o, FILE *out, GError **error);
gboolean render_speedscope(const struct profile *p, const struct profile_tree *t,
			   const struct render_options *o, FILE *out,
			   GError **error);
gboolean render_trace(const struct profile *p, const struct profile_tree *t,
		      const struct render_options *o, FILE *out, GError **error);
gboolean render_gecko(const struct profile *p, const struct profile_tree *t,
		      const struct render_options *o, FILE *out, GError **error);
gboolean render_pprof(const struct profile *p, const struct profile_tree *t,
		      const struct render_options *o, FILE *out, GError **error);
gboolean render_svg(const struct profile *p, const struct profile_tree *t,
		    const struct render_options *o, FILE *out, GError **error);
gboolean render_html(const struct profile *p, const struct profile_tree *t,
		     const struct render_options *o, FILE *out, GError **error);

/* `pyprof diff`'s page (render/html.c): d's functions, largest change
 * first, and NEW's tree (d->t[1], d's second) as a flame graph coloured
 * by how each call path's own time changed; names: what BASE and NEW
 * were read from. */
struct diff;
gboolean render_diff_html(const struct diff *d, const char *const names[2],
			  const struct render_options *o, FILE *out,
			  GError **error);

/* Helpers for renderers. */

/* Appends s to buf with control characters (and, if `also` is not NUL,
 * that character too) replaced by '?', so that a hostile file cannot send
 * escape sequences to a terminal or break a line-based format. */
void render_append_clean(GString *buf, const char *s, char also);

/* A code frame's place, cleaned as render_append_clean does: "file:line"
 * (":?" for an unknown line) for Python; for native code the source
 * file's base name and line where debug info gave them, else the base name
 * of the object ("libz.so.1").  Renderers put it in parentheses for
 * Python and in brackets for native frames: "deflate [libz.so.1]". */
void render_append_place(GString *buf, const struct profile_frame *f,
			 char also);
/* What the reports for people (text, html, svg) show of a node's frame:
 * its label, then " ×N" when recursion was folded into it (repeat > 1;
 * " xN" with ascii); and its place, "file:line" for Python with the file
 * short (short_file) unless full_paths and the line that of `at` (the
 * node's hottest, shape_hot_line), "[place]" for native code, nothing
 * for synthetic frames.  Both cleaned as render_append_clean does. */
void render_append_label(GString *buf, const struct profile_frame *f,
			 guint32 repeat, gboolean ascii);
/* The tree has one thread (or group) node under its root */
static inline gboolean render_one_root(const struct profile_tree *t)
{
	guint32 n;

	profile_tree_children(t, 0, &n);
	return n == 1;
}
void render_append_shown_place(GString *buf, const struct profile_frame *f,
			       const struct profile_frame *at,
			       gboolean full_paths);
/* A frame as the text report spells it, without colour: "label  file:line"
 * (its short file), "label  [place]" for native code, the label alone for
 * the others */
void render_append_frame(GString *buf, const struct profile_frame *f);
/* A native frame's file for formats that have a file field: its source
 * file, else its object's path */
const char *render_native_file(const struct profile_frame *f);

/* Whether the samples of thread ti count under `root`, a child of node 0
 * of t: the thread's own node, or the node of its family, its name, its
 * process or all threads, by the group the tree was built with. */
gboolean render_root_holds(const struct profile *p, const struct profile_tree *t,
			   guint32 root, guint ti);
/* How many threads with samples count under root; *first (may be NULL)
 * set to the first of them when there is one. */
guint render_root_threads(const struct profile *p, const struct profile_tree *t,
			  guint32 root, guint *first);
/* Thread ti as the header of its tree spells it, not cleaned: "NAME (pid
 * P, tid T)" for a thread alone in its family (or n <= 1), else its
 * family's "LABEL ×N (pid P)", N = n with thousands separated by commas
 * ("×1,555"; "x1,555" with ascii). */
void render_append_family(GString *buf, const struct profile *p, guint ti,
			  guint n, gboolean ascii);
/* Root node `root` of t spelled so, not cleaned: a thread's or a
 * family's as render_append_family has them, any other root (a name, a
 * process, all threads) by its label. */
void render_append_root(GString *buf, const struct profile *p,
			const struct profile_tree *t, guint32 root, gboolean ascii);

/* Sets a RENDER_ERROR_WRITE error if out has its error flag set, after
 * flushing it; returns FALSE then. */
gboolean render_check_stream(FILE *out, GError **error);

#endif
