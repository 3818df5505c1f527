/*
 * text.c - the call tree as text, one section per thread (or family of
 * threads, or group).
 *
 *   MainThread (pid 4242, tid 4242): 1000 samples, 4.000 s CPU
 *   4.000 100.0%  <module>  app.py:3
 *   └─ 3.000  75.0%  main  app.py:10
 *      ├─ 2.000  50.0%  work  app.py:20
 *      └─ … 2 more below 1.0% (0.010 s)
 *
 * Each line is a node's total time in seconds, its share of its thread (or
 * of the whole profile), the function (qualname when known) and the line it
 * was executing.  Children come heaviest first; those below --min-percent
 * are summed into one "more below" line so the totals still add up.  A
 * thread's own time (samples whose every frame was hidden or trimmed) is
 * a "[hidden]" line after its top frames.
 *
 * In wall mode a header also splits the wall time of its threads into
 * running (what their CPU clocks counted) and waiting (the rest, the
 * [idle] leaves of the tree; profile_sample_wait_ns):
 *
 *   MainThread (pid 4242, tid 4242): 1000 samples, 3.020 s wall — running 0.410 s (13.6%), waiting 2.610 s (86.4%)
 *
 * A family of threads (threads whose names differ only by their numbers,
 * collector/family.c) has one tree and one header, which says how many
 * they are and, on a second line so that the first stays near 80
 * columns, the median of their times and the split:
 *
 *   handle ×1,555 (pid 4242): 48213 samples, 512.301 s wall (97.1% of all)
 *     median per thread 0.329 s — running 12.300 s (2.4%), waiting ...
 *
 * With --no-idle the tree is running time only, and the header says so:
 * "120 samples, 0.410 s running — of 3.020 s wall: running ...".  When
 * threads are merged into one tree (--group name|all, --by process), one
 * such line per thread, or per family, comes first, "MainThread (pid
 * 4242, tid 4242): 3.020 s wall — running ...", so the split of each
 * stays visible.  The split is the threads' own (every sample kept after
 * --window and --thread), not the tree's, so hiding and trimming never
 * change it.
 *
 * --flat puts a table of functions under the same header instead of the
 * tree, as pstats prints one:
 *
 *     self s  self%  total s  total%  function  hottest line
 *      2.000  50.0%    4.000 100.0%  work  app.py:23
 *
 * A function's self time is the sum over the tree's nodes of that function
 * (hidden frames' time is already their callers'), its total the sum over
 * its outermost nodes only, so recursion is not counted twice; the line
 * shown is the one with the most self time (or, for a function with none,
 * the first seen).  Rows under --min-percent in both columns are summed
 * into one "more below" line.
 */
#include "config.h"

#include "render.h"

#include <string.h>

#include "collector/shape.h"

#define C_RESET "\033[0m"
#define C_BOLD "\033[1m"
#define C_DIM "\033[2m"
#define C_RED "\033[31m"
#define C_YELLOW "\033[33m"
#define C_GREEN "\033[32m"
#define C_CYAN "\033[36m"
#define C_MAGENTA "\033[35m"

struct text {
	const struct profile *p;
	const struct profile_tree *t;
	const struct render_options *o;
	FILE *out;
	guint64 ref; /* 100% */
	GString *line, *prefix;
};

static double share(const struct text *x, guint64 ns)
{
	return x->ref ? 100.0 * (double)ns / (double)x->ref : 0.0;
}

static const char *share_color(double pct)
{
	return pct >= 50 ? C_RED : pct >= 20 ? C_YELLOW : pct >= 5 ? C_GREEN : C_DIM;
}

/* The colour of a frame's name by where its code lives: the program's
 * own bright, libraries' plain with their place dim, native code its own
 * colour, folded library runs dim */
static const char *origin_color(const struct profile_frame *f)
{
	switch (f->origin) {
	case PROFILE_ORIGIN_PROGRAM: return C_BOLD;
	case PROFILE_ORIGIN_STDLIB:
	case PROFILE_ORIGIN_LIBRARY: return "";
	case PROFILE_ORIGIN_NATIVE: return C_MAGENTA;
	case PROFILE_ORIGIN_OTHER: break;
	}
	return f->kind == PROFILE_FRAME_GROUP ? C_DIM : C_BOLD;
}

/* The function, "×N" when recursion was folded into it, and its place:
 * file:line for Python (the file short unless --full-paths; the line
 * that of `at`, its hottest), [object or source] for native code */
static void text_append_frame(const struct text *x, GString *l,
			      const struct profile_frame *f,
			      const struct profile_frame *at, guint32 repeat)
{
	gboolean c = x->o->color;

	if (c)
		g_string_append(l, origin_color(f));
	render_append_label(l, f, repeat, x->o->ascii);
	if (c)
		g_string_append(l, C_RESET);
	if (!profile_frame_is_code(f))
		return;
	if (c)
		g_string_append(l, f->origin == PROFILE_ORIGIN_PROGRAM ? "  " C_CYAN
								   : "  " C_DIM);
	else
		g_string_append(l, "  ");
	render_append_shown_place(l, f, at, x->o->full_paths);
	if (c)
		g_string_append(l, C_RESET);
}

static void text_frame(struct text *x, guint32 id, const char *connector)
{
	const struct profile_node *nd = profile_tree_node(x->t, id);
	const struct profile_frame *f = profile_frame(x->p, nd->frame);
	double pct = share(x, nd->total_ns);
	gboolean c = x->o->color;
	GString *l = x->line;

	g_string_assign(l, x->prefix->str);
	g_string_append(l, connector);
	g_string_append_printf(l, "%s%.3f %5.1f%%%s  ", c ? share_color(pct) : "",
			       (double)nd->total_ns / 1e9, pct, c ? C_RESET : "");
	text_append_frame(x, l, f, profile_frame(x->p, shape_hot_line(x->t, id)),
			  profile_tree_repeat(x->t, id));
	g_string_append_c(l, '\n');
	fputs(l->str, x->out);
}

/* A thread's own time: samples whose every frame was hidden or trimmed
 * (say, the tool's own call that closes a window).  Other formats keep it
 * as the thread's self time; here it gets a line, so the top frames and
 * it add up to the header. */
static gboolean text_unshown_shown(const struct text *x, guint32 thread)
{
	const struct profile_node *nd = profile_tree_node(x->t, thread);

	return nd->self_ns && share(x, nd->self_ns) >= x->o->min_percent;
}

static void text_unshown(struct text *x, guint32 thread)
{
	const struct profile_node *nd = profile_tree_node(x->t, thread);
	double pct = share(x, nd->self_ns);
	gboolean c = x->o->color;

	if (!text_unshown_shown(x, thread))
		return;
	fprintf(x->out, "%s%.3f %5.1f%%%s  %s[hidden]%s  %sframes hidden or trimmed (--show-all shows them)%s\n",
		c ? share_color(pct) : "", (double)nd->self_ns / 1e9, pct,
		c ? C_RESET : "", c ? C_BOLD : "", c ? C_RESET : "",
		c ? C_DIM : "", c ? C_RESET : "");
}

/* Draws the children of node `id` at frame level `level` (1 = the top
 * frames of a thread). */
static void text_children(struct text *x, guint32 id, guint level)
{
	const char *tee = x->o->ascii ? "|- " : "├─ ";
	const char *ell = x->o->ascii ? "`- " : "└─ ";
	const char *bar = x->o->ascii ? "|  " : "│  ";
	guint32 n, shown = 0, more = 0;
	const guint32 *kids = profile_tree_children(x->t, id, &n);
	guint64 more_ns = 0;
	gsize plen = x->prefix->len;

	if (x->o->depth && level > x->o->depth)
		return;
	/* children are sorted heaviest first: the cut is a suffix */
	while (shown < n &&
	       share(x, profile_tree_node(x->t, kids[shown])->total_ns) >=
		       x->o->min_percent)
		shown++;
	for (guint32 i = shown; i < n; i++) {
		more++;
		more_ns += profile_tree_node(x->t, kids[i])->total_ns;
	}
	if (level == 1 && !text_unshown_shown(x, id) &&
	    profile_tree_node(x->t, id)->self_ns) {
		more++;
		more_ns += profile_tree_node(x->t, id)->self_ns;
	}
	for (guint32 i = 0; i < shown; i++) {
		gboolean last = i + 1 == shown && !more;
		/* the top frames of a thread hang from its header line */
		text_frame(x, kids[i], level == 1 ? "" : last ? ell : tee);
		if (level > 1)
			g_string_append(x->prefix, last ? "   " : bar);
		text_children(x, kids[i], level + 1);
		g_string_truncate(x->prefix, plen);
	}
	if (level == 1)
		text_unshown(x, id);
	if (more) {
		gboolean c = x->o->color;
		fprintf(x->out, "%s%s%s%s %u more below %.1f%% (%.3f s)%s\n",
			x->prefix->str, level == 1 ? "" : ell, c ? C_DIM : "",
			x->o->ascii ? "..." : "…", more, x->o->min_percent,
			(double)more_ns / 1e9, c ? C_RESET : "");
	}
}

static gboolean text_no_idle(const struct text *x)
{
	return x->o->tree_options && x->o->tree_options->no_idle;
}

/* " — running 0.410 s (13.6%), waiting 2.610 s (86.4%)", preceded by
 * "of 3.020 s wall:" when the tree's own total is not that wall time */
static void text_append_split(struct text *x, GString *l, guint64 wall,
			      guint64 idle, gboolean say_wall)
{
	guint64 run = wall - idle;

	g_string_append(l, x->o->ascii ? " - " : " — ");
	if (say_wall)
		g_string_append_printf(l, "of %.3f s wall: ", (double)wall / 1e9);
	g_string_append_printf(l, "running %.3f s (%.1f%%), waiting %.3f s (%.1f%%)",
			       (double)run / 1e9,
			       wall ? 100.0 * (double)run / (double)wall : 0.0,
			       (double)idle / 1e9,
			       wall ? 100.0 * (double)idle / (double)wall : 0.0);
}

/* Wall mode, threads merged into trees: "NAME (pid P, tid T): W s wall —
 * running ..., waiting ..." for each thread with samples, one line for
 * each family of threads ("LABEL ×N (pid P): ..."), in thread order. */
static void text_thread_splits(struct text *x)
{
	gboolean c = x->o->color;
	GString *l = x->line;
	/* family_frame -> index in `fams` + 1 */
	GHashTable *seen = g_hash_table_new(g_direct_hash, g_direct_equal);
	struct split { guint first, n; guint64 wall, idle; };
	GArray *fams = g_array_new(FALSE, FALSE, sizeof(struct split));

	for (guint ti = 0; ti < x->p->threads->len; ti++) {
		const struct profile_thread *th = profile_thread(x->p, ti);
		gpointer at;
		struct split *sp;

		if (!th->n_samples ||
		    profile_process(x->p, th->process)->mode != PROFILE_MODE_WALL)
			continue;
		at = g_hash_table_lookup(seen, GUINT_TO_POINTER(th->family_frame));
		if (!at) {
			struct split fresh = {ti, 0, 0, 0};
			g_array_append_val(fams, fresh);
			at = GUINT_TO_POINTER(fams->len);
			g_hash_table_insert(seen, GUINT_TO_POINTER(th->family_frame), at);
		}
		sp = &g_array_index(fams, struct split, GPOINTER_TO_UINT(at) - 1);
		sp->n++;
		sp->wall += th->wall_ns;
		sp->idle += th->idle_ns;
	}
	for (guint i = 0; i < fams->len; i++) {
		const struct split *sp = &g_array_index(fams, struct split, i);
		GString *name = g_string_new(NULL);

		render_append_family(name, x->p, sp->first, sp->n, x->o->ascii);
		g_string_assign(l, c ? C_BOLD : "");
		render_append_clean(l, name->str, 0);
		g_string_append_printf(l, ": %.3f s wall", (double)sp->wall / 1e9);
		text_append_split(x, l, sp->wall, sp->idle, FALSE);
		g_string_append(l, c ? C_RESET "\n" : "\n");
		fputs(l->str, x->out);
		g_string_free(name, TRUE);
	}
	fputc('\n', x->out);
	g_array_unref(fams);
	g_hash_table_unref(seen);
}

static int compare_u64(gconstpointer a, gconstpointer b)
{
	guint64 x = *(const guint64 *)a, y = *(const guint64 *)b;

	return x < y ? -1 : x > y;
}

static void text_thread_header(struct text *x, guint32 id, guint64 all)
{
	const struct profile_node *nd = profile_tree_node(x->t, id);
	gboolean c = x->o->color;
	gboolean wall = x->p->mode == PROFILE_MODE_WALL;
	gboolean family = nd->thread < 0 &&
			  profile_frame_family(profile_frame(x->p, nd->frame)) >= 0;
	GString *l = x->line, *name = g_string_new(NULL);
	/* the time of each thread of a family, for its median */
	GArray *each = g_array_new(FALSE, FALSE, sizeof(guint64));
	guint64 w = 0, idle = 0;
	gboolean any = FALSE;
	guint from = 0, to = x->p->threads->len;

	/* a thread's own root holds it alone: no need to ask every thread,
	 * of which --group=thread may have 100,000 */
	if (nd->thread >= 0)
		from = (guint)nd->thread, to = from + 1;
	for (guint ti = from; ti < to; ti++) {
		const struct profile_thread *th = profile_thread(x->p, ti);

		if (!render_root_holds(x->p, x->t, id, ti))
			continue;
		if (family && th->n_samples) {
			guint64 ns = profile_thread_tree_ns(x->o->tree_options, x->p, th);
			g_array_append_val(each, ns);
		}
		/* a CPU-mode file merged in (p->mixed_modes) has no split */
		if (profile_process(x->p, th->process)->mode == PROFILE_MODE_WALL) {
			w += th->wall_ns;
			idle += th->idle_ns;
			any = TRUE;
		}
	}
	render_append_root(name, x->p, x->t, id, x->o->ascii);
	g_string_assign(l, c ? C_BOLD : "");
	render_append_clean(l, name->str, 0);
	g_string_append_printf(l, ": %" G_GUINT64_FORMAT " sample%s, %.3f s %s",
			       nd->total_samples, nd->total_samples == 1 ? "" : "s",
			       (double)nd->total_ns / 1e9,
			       !wall ? "CPU" : text_no_idle(x) ? "running" : "wall");
	if (!render_one_root(x->t) && all)
		g_string_append_printf(l, " (%.1f%% of all)",
				       100.0 * (double)nd->total_ns / (double)all);
	if (!family || !each->len) {
		if (wall && any)
			text_append_split(x, l, w, idle, text_no_idle(x));
		if (c)
			g_string_append(l, C_RESET);
	} else {
		/* with all of it a family's line would run well past 80
		 * columns: its median and split go on a line of their own */
		guint64 *v = (guint64 *)(gpointer)each->data;
		guint k = each->len;

		g_array_sort(each, compare_u64);
		if (c)
			g_string_append(l, C_RESET);
		g_string_append_printf(l, "\n  median per thread %.3f s",
				       (k % 2 ? (double)v[k / 2]
					      : ((double)v[k / 2 - 1] + (double)v[k / 2]) / 2) / 1e9);
		if (wall && any)
			text_append_split(x, l, w, idle, text_no_idle(x));
	}
	g_string_append_c(l, '\n');
	fputs(l->str, x->out);
	g_string_free(name, TRUE);
	g_array_unref(each);
}

/* "trimmed 3 frames: <module> (runpy) … run (threading)" under a thread
 * whose stem of start-up plumbing was trimmed (collector/trim.h) */
static void text_trims(struct text *x, guint32 thread)
{
	gboolean c = x->o->color;

	for (guint i = 0; x->t->trims && i < x->t->trims->len; i++) {
		const struct profile_trim *tr = g_ptr_array_index(x->t->trims, i);
		GString *l = x->line;
		if (tr->node != thread)
			continue;
		g_string_assign(l, c ? C_DIM : "");
		g_string_append_printf(l, "trimmed %u frame%s: ", tr->n_frames,
				       tr->n_frames == 1 ? "" : "s");
		render_append_clean(l, tr->first, 0);
		if (tr->n_frames > 1) {
			g_string_append(l, x->o->ascii ? " ... " : " … ");
			render_append_clean(l, tr->last, 0);
		}
		g_string_append(l, c ? C_RESET "\n" : "\n");
		fputs(l->str, x->out);
	}
}

/* --- --flat ------------------------------------------------------------- */


static int flat_cmp(gconstpointer pa, gconstpointer pb, gpointer data)
{
	const struct profile_function_total *a = *(struct profile_function_total *const *)pa;
	const struct profile_function_total *b = *(struct profile_function_total *const *)pb;
	const struct text *x = data;
	const struct profile_frame *fa = profile_frame(x->p, a->line_frame);
	const struct profile_frame *fb = profile_frame(x->p, b->line_frame);
	int by_name = strcmp(profile_frame_label(fa), profile_frame_label(fb));
	guint64 ka = x->o->sort == RENDER_SORT_TOTAL ? a->total_ns : a->self_ns;
	guint64 kb = x->o->sort == RENDER_SORT_TOTAL ? b->total_ns : b->self_ns;

	if (x->o->sort == RENDER_SORT_NAME && by_name)
		return by_name;
	if (ka != kb)
		return ka < kb ? 1 : -1;
	if (a->total_ns != b->total_ns)
		return a->total_ns < b->total_ns ? 1 : -1;
	if (a->self_ns != b->self_ns)
		return a->self_ns < b->self_ns ? 1 : -1;
	if (by_name)
		return by_name;
	return strcmp(fa->filename, fb->filename);
}

/* The rows of thread node `thread`'s functions, unsorted. */
static GPtrArray *flat_rows(const struct text *x, guint32 thread)
{
	return profile_tree_functions(x->t, thread);
}

static void text_flat(struct text *x, guint32 thread)
{
	GPtrArray *rows = flat_rows(x, thread);
	gboolean c = x->o->color;
	guint more = 0;
	guint64 more_ns = 0;

	g_ptr_array_sort_with_data(rows, flat_cmp, x);
	fprintf(x->out, "%s self s  self%%  total s  total%%  function  hottest line%s\n",
		c ? C_DIM : "", c ? C_RESET : "");
	for (guint i = 0; i < rows->len; i++) {
		const struct profile_function_total *r = g_ptr_array_index(rows, i);
		const struct profile_frame *f = profile_frame(x->p, r->line_frame);
		double self_pct = share(x, r->self_ns), total_pct = share(x, r->total_ns);
		GString *l = x->line;

		if (self_pct < x->o->min_percent && total_pct < x->o->min_percent) {
			more++;
			more_ns += r->self_ns;
			continue;
		}
		g_string_printf(l, "%s%7.3f %5.1f%%%s  %7.3f %5.1f%%  ",
				c ? share_color(self_pct) : "",
				(double)r->self_ns / 1e9, self_pct, c ? C_RESET : "",
				(double)r->total_ns / 1e9, total_pct);
		text_append_frame(x, l, f, f, 0);
		g_string_append_c(l, '\n');
		fputs(l->str, x->out);
	}
	/* the thread's own time, as the tree shows it: so that the self
	 * column adds up to the header */
	{
		guint64 own = profile_tree_node(x->t, thread)->self_ns;
		if (own && share(x, own) >= x->o->min_percent)
			fprintf(x->out, "%s%7.3f %5.1f%%%s  %7.3f %5.1f%%  [hidden]  %sframes hidden or trimmed (--show-all shows them)%s\n",
				c ? share_color(share(x, own)) : "",
				(double)own / 1e9, share(x, own), c ? C_RESET : "",
				(double)own / 1e9, share(x, own),
				c ? C_DIM : "", c ? C_RESET : "");
		else if (own) {
			more++;
			more_ns += own;
		}
	}
	if (more)
		fprintf(x->out, "%s%7.3f %5.1f%%  %s %u more below %.1f%%%s\n",
			c ? C_DIM : "", (double)more_ns / 1e9, share(x, more_ns),
			x->o->ascii ? "..." : "…", more, x->o->min_percent,
			c ? C_RESET : "");
	g_ptr_array_unref(rows);
}

/* Whether a tree holds threads that are neither one thread nor one
 * family (--group name|all, --by process), whose headers would hide the
 * split of each */
static gboolean text_merged(const struct text *x)
{
	guint32 n;
	const guint32 *roots = profile_tree_children(x->t, 0, &n);

	for (guint32 i = 0; i < n; i++) {
		const struct profile_node *nd = profile_tree_node(x->t, roots[i]);
		if (nd->total_samples && nd->thread < 0 &&
		    profile_frame_family(profile_frame(x->p, nd->frame)) < 0)
			return TRUE;
	}
	return FALSE;
}

gboolean render_text(const struct profile *p, const struct profile_tree *t,
		     const struct render_options *o, FILE *out, GError **error)
{
	struct text x = {.p = p, .t = t, .o = o, .out = out};
	const struct profile_node *root = profile_tree_node(t, 0);
	guint32 n;
	const guint32 *threads = profile_tree_children(t, 0, &n);
	gboolean first = TRUE;

	x.line = g_string_new(NULL);
	x.prefix = g_string_new(NULL);
	if (root->total_samples == 0)
		fputs("no samples\n", out);
	else if (p->mode == PROFILE_MODE_WALL && text_merged(&x))
		text_thread_splits(&x);
	for (guint32 i = 0; i < n; i++) {
		const struct profile_node *nd = profile_tree_node(t, threads[i]);
		if (nd->total_samples == 0)
			continue;
		if (!first)
			fputc('\n', out);
		first = FALSE;
		x.ref = o->percent_of_total ? root->total_ns : nd->total_ns;
		text_thread_header(&x, threads[i], root->total_ns);
		text_trims(&x, threads[i]);
		if (o->flat)
			text_flat(&x, threads[i]);
		else
			text_children(&x, threads[i], 1);
	}
	g_string_free(x.line, TRUE);
	g_string_free(x.prefix, TRUE);
	return render_check_stream(out, error);
}
