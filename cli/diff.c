/*
 * diff.c - `pyprof diff BASE NEW`: what got slower or faster, by function.
 *
 * Each side is loaded (files or directories, as report takes them) and
 * shaped the same way (the same hide, collapse and trim rules), then every
 * function's own and total time is taken as a share of its side's total,
 * so that a run twice as long does not look twice as slow everywhere.  A
 * function is the same on both sides when its file and name are (its
 * lines may have moved): collector/diff.c.  Rows come by the larger change
 * of their two shares, largest first; in the text table those whose
 * shares on both sides and changes are all below --min-percent are
 * counted on one line.  With --format html the page (render/html.c) has
 * every row and a flame graph of NEW coloured by change.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/options.h"
#include "cli/pipeline.h"
#include "collector/diff.h"
#include "render/render.h"

struct side {
	struct profile *p;
	struct profile_tree *t;
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
	return TRUE;
}

/* The table of changes, as text */
static void print_rows(const struct diff *d, char **names, FILE *out,
		       const struct report_opts *o)
{
	const struct profile *p[2] = {d->t[0]->profile, d->t[1]->profile};
	guint more = 0;

	fprintf(out, "base %s: %.3f s %s; new %s: %.3f s %s (%+.1f%%)\n", names[0],
		(double)d->total_ns[0] / 1e9,
		p[0]->mode == PROFILE_MODE_WALL ? "wall" : "CPU", names[1],
		(double)d->total_ns[1] / 1e9,
		p[1]->mode == PROFILE_MODE_WALL ? "wall" : "CPU",
		d->total_ns[0] ? 100.0 * ((double)d->total_ns[1] - (double)d->total_ns[0]) /
				       (double)d->total_ns[0] : 0.0);
	if (p[0]->mode != p[1]->mode)
		fprintf(out, "(the two were recorded in different modes)\n");
	fprintf(out, "         self %%                total %%\n"
		"  base    new  change    base    new  change  function\n");
	for (guint i = 0; i < d->rows->len; i++) {
		const struct diff_row *r = g_ptr_array_index(d->rows, i);
		double ds = r->self[1] - r->self[0], dt = r->total[1] - r->total[0];
		double min = o->render.min_percent;
		GString *l;

		if (fabs(ds) < min && fabs(dt) < min && r->self[0] < min && r->self[1] < min) {
			more++;
			continue;
		}
		l = g_string_new(NULL);
		g_string_printf(l, "%6.1f %6.1f %+7.1f  %6.1f %6.1f %+7.1f  ",
				r->self[0], r->self[1], ds, r->total[0], r->total[1], dt);
		render_append_frame(l, r->frame);
		if (diff_row_added(r))
			g_string_append(l, "  (new)");
		else if (diff_row_gone(r))
			g_string_append(l, "  (gone)");
		fprintf(out, "%s\n", l->str);
		g_string_free(l, TRUE);
	}
	if (more)
		fprintf(out, "… %u more functions changed less than %.1f points and "
			"hold less than %.1f%% on either side\n",
			more, o->render.min_percent, o->render.min_percent);
}

int cmd_diff(int argc, char **argv)
{
	struct report_opts o;
	GOptionContext *ctx;
	struct side s[2] = {{0}};
	struct diff *d = NULL;
	FILE *out = stdout;
	gboolean html, ok;
	int rc = 0;

	options_init(&o);
	ctx = options_context_new("BASE NEW",
			   "Compare two profiles by function: each one's own and total time as "
			   "a share of its profile, what changed most first.  BASE and NEW are "
			   ".pyprof files or directories of them.  With --format html (or -o "
			   "FILE.html), one self-contained page instead: the table, sortable, "
			   "and a flame graph of NEW coloured by change (red slower, blue "
			   "faster).  -o FILE writes to FILE.", &o, FALSE);
	if (!options_parse(ctx, "diff", &argc, &argv) ||
	    !options_shape_setup(&o, "diff")) {
		rc = EXIT_USAGE;
		goto out;
	}
	if (o.format_set && strcmp(o.format->name, "text") && strcmp(o.format->name, "html")) {
		fprintf(stderr, "pyprof: diff: --format: expected text or html, got '%s'\n"
				"Try 'pyprof diff --help'.\n", o.format->name);
		rc = EXIT_USAGE;
		goto out;
	}
	html = o.format_set ? !strcmp(o.format->name, "html")
			    : o.output && g_str_has_suffix(o.output, ".html");
	/* both sides are shaped as the format the diff is shown in would be,
	 * but unfolded: a folded group's label counts its frames, so the
	 * same library code would be a different row on each side */
	o.format = render_lookup(html ? "html" : "text");
	o.no_fold = TRUE;
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
	d = diff_new(s[0].t, s[1].t);
	if (o.output && !(out = fopen(o.output, "w"))) {
		fprintf(stderr, "pyprof: diff: %s: %s\n", o.output, g_strerror(errno));
		rc = EXIT_INPUT;
		goto out;
	}
	if (html) {
		const char *names[2] = {argv[1], argv[2]};
		GError *error = NULL;

		o.render.title = o.title;
		if (!render_diff_html(d, names, &o.render, out, &error)) {
			fprintf(stderr, "pyprof: diff: %s: %s\n", o.output ? o.output : "output",
				error->message);
			g_error_free(error);
			rc = EXIT_INPUT;
		}
	} else {
		print_rows(d, argv + 1, out, &o);
	}
	ok = fflush(out) == 0 && !ferror(out);
	if (out != stdout && fclose(out) != 0)
		ok = FALSE;
	if (!ok && !rc) {
		fprintf(stderr, "pyprof: diff: %s: write error\n", o.output ? o.output : "output");
		rc = EXIT_INPUT;
	}
out:
	diff_free(d);
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
