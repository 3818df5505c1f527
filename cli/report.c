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
		p->n_samples -= t->samples->len;
		g_array_set_size(t->samples, 0);
		t->cpu_ns = t->wall_ns = t->idle_ns = 0;
	}
	if (!kept)
		fprintf(stderr, "pyprof: report: no thread matches --thread\n");
	return kept > 0;
}

/* --threads: one line per thread.  In CPU mode, wall time is the span
 * its samples cover, and for a main thread the life of its process when
 * the file is complete (a thread's own end is not recorded, and a main
 * thread that blocked was not sampled meanwhile); "running" is its CPU
 * time's share of that and the rest was spent waiting (blocked, or ready
 * but not scheduled).  In wall mode every thread was sampled on wall
 * time throughout, each sample saying whether it waited: wall time is the
 * sum its samples stand for, split by that flag into running and waiting,
 * as the text report's headers split it. */
static void print_threads(const struct profile *p)
{
	printf("%-20s %8s %7s %10s %10s %8s %8s\n", "thread", "tid", "samples",
	       "cpu s", "wall s", "running", "waiting");
	for (guint i = 0; i < p->threads->len; i++) {
		const struct profile_thread *t = profile_thread(p, i);
		const struct profile_process *pr = profile_process(p, t->process);
		double cpu = t->cpu_ns / 1e9, wall = t->wall_ns / 1e9, run;
		GString *name;

		if (!t->samples->len)
			continue;
		if (pr->mode == PROFILE_MODE_WALL) {
			run = t->wall_ns ? (double)(t->wall_ns - t->idle_ns) / (double)t->wall_ns
					 : 0;
		} else {
			if ((t->flags & PROFILE_THREAD_MAIN) && pr->complete &&
			    pr->end_mono_ns > pr->start_mono_ns)
				wall = MAX(wall, (pr->end_mono_ns - pr->start_mono_ns) / 1e9);
			run = wall > 0 ? MIN(1.0, cpu / wall) : 0;
		}
		name = g_string_new(NULL);
		render_append_clean(name, t->name, 0);
		printf("%-20s %8" G_GUINT32_FORMAT " %7u %10.3f %10.3f %7.1f%% %7.1f%%\n",
		       name->str, t->tid, t->samples->len, cpu, wall,
		       100 * run, wall > 0 ? 100 * (1 - run) : 0.0);
		g_string_free(name, TRUE);
	}
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
			   "stands for the *.pyprof files in it.", &o, FALSE);
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
