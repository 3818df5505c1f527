/*
 * report.c - `pyprof report`: the merged report of .pyprof files, or with
 * --threads a table of their threads.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "cli/cli.h"
#include "cli/options.h"
#include "cli/pipeline.h"
#include "collector/profile.h"
#include "render/render.h"

/* --thread: empties every thread whose name and tid match none of sel. */
static gboolean keep_threads(struct profile *p, GPtrArray *sel)
{
	guint kept = 0;

	for (guint i = 0; i < p->threads->len; i++) {
		struct profile_thread *t = profile_thread(p, i);
		char tid[16];
		gboolean keep = FALSE;

		g_snprintf(tid, sizeof tid, "%" G_GUINT32_FORMAT, t->tid);
		for (guint k = 0; k < sel->len && !keep; k++)
			keep = !strcmp(t->name, g_ptr_array_index(sel, k)) ||
			       !strcmp(tid, g_ptr_array_index(sel, k));
		if (keep) {
			kept++;
			continue;
		}
		profile_thread_clear(p, i);
	}
	if (!kept)
		fprintf(stderr, "pyprof: report: no thread matches --thread\n");
	/* a thread left out leaves its family */
	for (guint i = 0; i < p->processes->len; i++)
		profile_family_group(p, i);
	return kept > 0;
}

/* A row of --threads: a thread, or the sum of a family's */
struct row {
	guint first, n;   /* its (first) thread; how many */
	guint64 samples;
	double cpu, wall, run; /* seconds; run: seconds running */
};

static void print_row(const struct profile *p, const struct row *r,
		      gboolean family)
{
	GString *name = g_string_new(NULL);
	const struct profile_thread *t = profile_thread(p, r->first);

	render_append_clean(name, family ? profile_frame(p, t->family_frame)->name
					 : t->name, 0);
	printf("%-20s %8" G_GUINT32_FORMAT " %7" G_GUINT64_FORMAT " %10.3f %10.3f %7.1f%% %7.1f%%\n",
	       name->str, family ? r->n : t->tid, r->samples, r->cpu, r->wall,
	       r->wall > 0 ? 100 * r->run / r->wall : 0.0,
	       r->wall > 0 ? 100 * (1 - r->run / r->wall) : 0.0);
	g_string_free(name, TRUE);
}

/* --threads: one line per thread.  In CPU mode, wall time is the span
 * its samples cover, and for a main thread the life of its process when
 * the file is complete (a thread's own end is not recorded, and a main
 * thread that blocked was not sampled meanwhile); "running" is its CPU
 * time's share of that and the rest was spent waiting (blocked, or ready
 * but not scheduled).  In wall mode every thread was sampled on wall
 * time throughout, each sample saying whether it waited: wall time is the
 * sum its samples stand for, split by that flag into running and waiting,
 * as the text report's headers split it.  Then, when some threads form
 * families (profile_family_group), one line per family with the sums of
 * its threads and their number where the tid was. */
static void print_threads(const struct profile *p)
{
	GArray *families = g_array_new(FALSE, FALSE, sizeof(struct row));
	/* family_frame -> index in families + 1 */
	GHashTable *seen = g_hash_table_new(g_direct_hash, g_direct_equal);

	printf("%-20s %8s %7s %10s %10s %8s %8s\n", "thread", "tid", "samples",
	       "cpu s", "wall s", "running", "waiting");
	for (guint i = 0; i < p->threads->len; i++) {
		const struct profile_thread *t = profile_thread(p, i);
		const struct profile_process *pr = profile_process(p, t->process);
		struct row r = {i, 1, t->n_samples, t->cpu_ns / 1e9, t->wall_ns / 1e9, 0};
		gpointer at;

		if (!t->n_samples)
			continue;
		if (pr->mode == PROFILE_MODE_WALL) {
			r.run = (t->wall_ns - t->idle_ns) / 1e9;
		} else {
			if ((t->flags & PROFILE_THREAD_MAIN) && pr->complete &&
			    pr->end_mono_ns > pr->start_mono_ns)
				r.wall = MAX(r.wall, (pr->end_mono_ns - pr->start_mono_ns) / 1e9);
			r.run = MIN(r.cpu, r.wall);
		}
		print_row(p, &r, FALSE);
		if (t->family_frame == t->frame)
			continue;
		if (!(at = g_hash_table_lookup(seen, GUINT_TO_POINTER(t->family_frame)))) {
			struct row none = {i, 0, 0, 0, 0, 0};
			g_array_append_val(families, none);
			at = GUINT_TO_POINTER(families->len);
			g_hash_table_insert(seen, GUINT_TO_POINTER(t->family_frame), at);
		}
		{
			struct row *f = &g_array_index(families, struct row,
						       GPOINTER_TO_UINT(at) - 1);
			f->n++;
			f->samples += r.samples;
			f->cpu += r.cpu;
			f->wall += r.wall;
			f->run += r.run;
		}
	}
	if (families->len)
		printf("\n%-20s %8s %7s %10s %10s %8s %8s\n", "family", "threads",
		       "samples", "cpu s", "wall s", "running", "waiting");
	for (guint i = 0; i < families->len; i++)
		print_row(p, &g_array_index(families, struct row, i), TRUE);
	g_hash_table_unref(seen);
	g_array_unref(families);
}

int cmd_report(int argc, char **argv)
{
	struct report_opts o;
	GOptionContext *ctx;
	struct profile *p;
	int rc;

	options_init(&o);
	ctx = options_context_new("FILE|DIR...",
			   "Render a report from .pyprof files, merged.  A directory "
			   "stands for the *.pyprof files in it (and packed *.pyprofz).", &o, FALSE);
	if (!options_parse(ctx, "report", &argc, &argv) ||
	    !options_shape_setup(&o, "report")) {
		rc = EXIT_USAGE;
		goto out;
	}
	if (argc < 2) {
		fprintf(stderr, "pyprof: report: no FILE or DIR given\n"
				"Try 'pyprof report --help'.\n");
		rc = EXIT_USAGE;
		goto out;
	}
	p = profile_new();
	pipeline_prepare(p, &o);
	if (!pipeline_load(p, argv + 1, argc - 1, FALSE)) {
		rc = EXIT_INPUT;
	} else if (o.window && !profile_keep_window(p, o.window)) {
		fprintf(stderr, "pyprof: report: no window labelled '%s' in the "
				"input\n", o.window);
		rc = EXIT_INPUT;
	} else if ((o.since_ns || o.until_ns != G_MAXUINT64) &&
		   !profile_keep_between(p, o.since_ns, o.until_ns)) {
		fprintf(stderr, "pyprof: report: no samples between --since "
				"and --until in the input\n");
		rc = EXIT_INPUT;
	} else if (o.threads_sel && !keep_threads(p, o.threads_sel)) {
		rc = EXIT_INPUT;
	} else if (o.threads_table) {
		print_threads(p);
		rc = 0;
	} else {
		rc = pipeline_render(p, &o, stdout);
	}
	profile_free(p);
out:
	g_option_context_free(ctx);
	options_release(&o);
	return rc;
}
