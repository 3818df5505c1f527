/*
 * diff.c - `pyprof diff BASE NEW`: what got slower or faster, by function.
 *
 * Each side is loaded (files or directories, as report takes them) and
 * shaped the same way (the same hide, collapse and trim rules), then every
 * function's own and total time is taken as a share of its side's total,
 * so that a run twice as long does not look twice as slow everywhere.  A
 * function is the same on both sides when its file and name are (its
 * lines may have moved).  Rows come by the larger change of their two
 * shares, largest first; those whose shares on both sides and changes
 * are all below --min-percent are counted on one line.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/options.h"
#include "cli/pipeline.h"
#include "render/render.h"

struct side {
	struct profile *p;
	struct profile_tree *t;
	guint64 total_ns;
};

struct row {
	const char *key;  /* file and name: the function on both sides */
	const struct profile_frame *frame; /* as shown (NEW's if there) */
	const struct profile *p;
	double self[2], total[2]; /* shares, percent */
	guint64 self_ns[2];
};

static gboolean side_load(struct side *s, struct report_opts *o,
			  const char *path)
{
	struct profile_tree_options topts;
	char *paths[] = {(char *)path, NULL};

	s->p = profile_new();
	pipeline_prepare(s->p, o);
	if (!pipeline_load(s->p, paths, 1, FALSE))
		return FALSE;
	if (o->window && !profile_keep_window(s->p, o->window)) {
		fprintf(stderr, "pyprof: diff: no window labelled '%s' in %s\n",
			o->window, path);
		return FALSE;
	}
	s->t = pipeline_shape(s->p, o, &topts);
	s->total_ns = profile_tree_node(s->t, 0)->total_ns;
	return TRUE;
}

static char *key_of(const struct profile_frame *f)
{
	return g_strdup_printf("%d\x1f%s\x1f%s", (int)f->kind, f->filename,
			       profile_frame_label(f));
}

static void add_side(GHashTable *rows, GPtrArray *order, struct side *s, int i)
{
	GPtrArray *fns = profile_tree_functions(s->t, 0);

	for (guint k = 0; k < fns->len; k++) {
		const struct profile_function_total *fn = g_ptr_array_index(fns, k);
		const struct profile_frame *f = profile_frame(s->p, fn->line_frame);
		char *key = key_of(profile_frame(s->p, fn->function));
		struct row *r = g_hash_table_lookup(rows, key);

		if (!r) {
			r = g_new0(struct row, 1);
			r->key = key;
			g_hash_table_insert(rows, key, r);
			g_ptr_array_add(order, r);
		} else {
			g_free(key);
		}
		if (!r->frame || i == 1) {
			r->frame = f;
			r->p = s->p;
		}
		r->self_ns[i] += fn->self_ns;
		if (s->total_ns) {
			r->self[i] += 100.0 * (double)fn->self_ns / (double)s->total_ns;
			r->total[i] += 100.0 * (double)fn->total_ns / (double)s->total_ns;
		}
	}
	g_ptr_array_unref(fns);
}

static int row_cmp(gconstpointer pa, gconstpointer pb)
{
	const struct row *a = *(struct row *const *)pa;
	const struct row *b = *(struct row *const *)pb;
	double ka = fmax(fabs(a->self[1] - a->self[0]), fabs(a->total[1] - a->total[0]));
	double kb = fmax(fabs(b->self[1] - b->self[0]), fabs(b->total[1] - b->total[0]));

	if (ka != kb)
		return ka < kb ? 1 : -1;
	return strcmp(a->key, b->key);
}

int cmd_diff(int argc, char **argv)
{
	struct report_opts o;
	GOptionContext *ctx;
	struct side s[2] = {{0}};
	GHashTable *rows = NULL;
	GPtrArray *order = NULL;
	const char *unit;
	int rc = 0;
	guint more = 0;

	options_init(&o);
	ctx = options_context_new("BASE NEW",
			   "Compare two profiles by function: each one's own and total time as "
			   "a share of its profile, what changed most first.  BASE and NEW are "
			   ".pyprof files or directories of them.", &o, FALSE);
	if (!options_parse(ctx, "diff", &argc, &argv) ||
	    !options_shape_setup(&o, "diff")) {
		rc = EXIT_USAGE;
		goto out;
	}
	if (argc != 3) {
		fprintf(stderr, "pyprof: diff: expected BASE and NEW, got %d "
				"argument%s\nTry 'pyprof diff --help'.\n",
			argc - 1, argc == 2 ? "" : "s");
		rc = EXIT_USAGE;
		goto out;
	}
	for (int i = 0; i < 2; i++)
		if (!side_load(&s[i], &o, argv[1 + i])) {
			rc = EXIT_INPUT;
			goto out;
		}
	rows = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	order = g_ptr_array_new();
	add_side(rows, order, &s[0], 0);
	add_side(rows, order, &s[1], 1);
	g_ptr_array_sort(order, row_cmp);

	unit = s[0].p->mode == PROFILE_MODE_WALL ? "wall" : "CPU";
	printf("base %s: %.3f s %s; new %s: %.3f s %s (%+.1f%%)\n", argv[1],
	       (double)s[0].total_ns / 1e9, unit, argv[2],
	       (double)s[1].total_ns / 1e9,
	       s[1].p->mode == PROFILE_MODE_WALL ? "wall" : "CPU",
	       s[0].total_ns ? 100.0 * ((double)s[1].total_ns - (double)s[0].total_ns) /
				       (double)s[0].total_ns : 0.0);
	if (s[0].p->mode != s[1].p->mode)
		printf("(the two were recorded in different modes)\n");
	printf("         self %%                total %%\n"
	       "  base    new  change    base    new  change  function\n");
	for (guint i = 0; i < order->len; i++) {
		const struct row *r = g_ptr_array_index(order, i);
		double ds = r->self[1] - r->self[0], dt = r->total[1] - r->total[0];
		GString *l;

		if (fabs(ds) < o.render.min_percent && fabs(dt) < o.render.min_percent &&
		    r->self[0] < o.render.min_percent && r->self[1] < o.render.min_percent) {
			more++;
			continue;
		}
		l = g_string_new(NULL);
		g_string_printf(l, "%6.1f %6.1f %+7.1f  %6.1f %6.1f %+7.1f  ",
				r->self[0], r->self[1], ds, r->total[0], r->total[1], dt);
		render_append_frame(l, r->frame);
		if (!r->self_ns[0] && r->total[0] == 0)
			g_string_append(l, "  (new)");
		else if (r->self[1] == 0 && r->total[1] == 0)
			g_string_append(l, "  (gone)");
		puts(l->str);
		g_string_free(l, TRUE);
	}
	if (more)
		printf("… %u more functions changed less than %.1f points and "
		       "hold less than %.1f%% on either side\n",
		       more, o.render.min_percent, o.render.min_percent);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "pyprof: diff: write error\n");
		rc = EXIT_INPUT;
	}
out:
	if (order)
		g_ptr_array_unref(order);
	if (rows)
		g_hash_table_unref(rows);
	for (int i = 0; i < 2; i++)
		if (s[i].p) {
			if (s[i].t)
				profile_tree_free(s[i].t);
			profile_free(s[i].p);
		}
	g_option_context_free(ctx);
	options_release(&o);
	return rc;
}
