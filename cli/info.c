/*
 * info.c - `pyprof info`: what each .pyprof file says about its process,
 * interpreter, sampling and losses, file by file (no merging).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <glib.h>

#include "cli/cli.h"
#include "cli/pipeline.h"
#include "collector/profile.h"
#include "render/render.h"

static void print_clean(const char *s)
{
	GString *b = g_string_new(NULL);
	render_append_clean(b, s, 0);
	fputs(b->str, stdout);
	g_string_free(b, TRUE);
}

static gint mark_time_cmp(gconstpointer a, gconstpointer b)
{
	const struct profile_mark *x = *(struct profile_mark *const *)a;
	const struct profile_mark *y = *(struct profile_mark *const *)b;

	return x->mono_ns < y->mono_ns ? -1 : x->mono_ns > y->mono_ns;
}

/* The control API's marks (and pyprof ctl's), in time order (a file
 * keeps them in the chunks of whichever threads wrote them), as seconds
 * after the process started; the first few when there are many */
static void print_marks(const struct profile *p, guint pi,
			const struct profile_process *pr)
{
	static const char *const kinds[] = {"?", "start", "stop", "mark"};
	GPtrArray *mine = g_ptr_array_new();

	for (guint i = 0; i < p->marks->len; i++)
		if (g_array_index(p->marks, struct profile_mark, i).process == pi)
			g_ptr_array_add(mine, &g_array_index(p->marks, struct profile_mark, i));
	g_ptr_array_sort(mine, mark_time_cmp);
	if (mine->len)
		printf("marks:     %u:", mine->len);
	for (guint i = 0; i < mine->len && i < 10; i++) {
		const struct profile_mark *m = g_ptr_array_index(mine, i);

		printf("%s %s ", i ? "," : "",
		       kinds[m->kind <= PROFILE_MARK_POINT ? m->kind : 0]);
		print_clean(m->label);
		printf(" +%.3f s", m->mono_ns >= pr->start_mono_ns
				   ? (double)(m->mono_ns - pr->start_mono_ns) / 1e9 : 0.0);
	}
	if (mine->len)
		printf("%s\n", mine->len > 10 ? ", ..." : "");
	g_ptr_array_free(mine, TRUE);
}

static void info_process(const struct profile *p, guint pi)
{
	const struct profile_process *pr = profile_process(p, pi);
	guint64 samples = 0, cpu = 0, wall = 0, dropped = 0, unmerged = 0;
	GString *cmd = g_string_new(NULL);

	GArray *scratch = g_array_new(FALSE, FALSE, sizeof(struct profile_aggregate));

	for (guint i = 0; i < pr->n_threads; i++) {
		const struct profile_thread *t = profile_thread(p, pr->first_thread + i);
		const struct profile_aggregate *a;
		guint n = 0;

		samples += t->n_samples;
		cpu += t->cpu_ns;
		wall += t->wall_ns;
		a = pr->native ? profile_thread_aggregates(p, pr->first_thread + i,
							   scratch, &n) : NULL;
		for (guint j = 0; j < n; j++)
			if (a[j].flags & PROFILE_SAMPLE_UNMERGED)
				unmerged += a[j].count;
	}
	g_array_unref(scratch);
	for (char **a = pr->argv; *a; a++) {
		const char *s = *a;
		gboolean plain = *s != '\0';
		for (const char *c = s; *c; c++)
			if (!g_ascii_isalnum(*c) && !strchr("-_./=:,+@%", *c))
				plain = FALSE;
		if (cmd->len)
			g_string_append_c(cmd, ' ');
		if (plain) {
			g_string_append(cmd, s);
		} else {
			char *q = g_shell_quote(s);
			g_string_append(cmd, q);
			g_free(q);
		}
	}

	fputs("file:      ", stdout);
	print_clean(pr->path);
	printf("\npid:       %d (parent %d)\n", pr->pid, pr->ppid);
	fputs("host:      ", stdout);
	print_clean(pr->hostname);
	fputs("\ncommand:   ", stdout);
	print_clean(cmd->str);
	printf("%s\n", pr->argv_truncated ? " [truncated]" : "");
	fputs("python:    ", stdout);
	print_clean(pr->py_version);
	printf(" (hex 0x%08" G_GINT32_MODIFIER "x)\n", pr->py_hexversion);
	printf("build:     %s\n", pr->py_static
		? "libpython linked into the executable (static)"
		: "shared libpython");
	if (pr->native)
		printf("native:    recorded; %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
		       " samples not merged ([native: unmerged])\n", unmerged, samples);
	printf("mode:      %s\n", profile_mode_name(pr->mode));
	printf("source:    %s\n", profile_source_name(pr->source));
	printf("interval:  %.3f ms asked", (double)pr->interval_ns / 1e6);
	if (pr->mode == PROFILE_MODE_CPU && cpu)
		printf(", %.1f samples per CPU-second achieved\n",
		       (double)samples / ((double)cpu / 1e9));
	else if (pr->mode == PROFILE_MODE_WALL && wall)
		printf(", %.1f samples per thread-second achieved\n",
		       (double)samples / ((double)wall / 1e9));
	else
		printf("\n");
	if (pr->start_realtime_ns) {
		time_t secs = (time_t)(pr->start_realtime_ns / 1000000000u);
		struct tm tm;
		char buf[64];
		if (localtime_r(&secs, &tm) &&
		    strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S %z", &tm))
			printf("started:   %s\n", buf);
	}
	if (pr->sequence) {
		time_t secs = (time_t)(pr->run_start_realtime_ns / 1000000000u);
		struct tm tm;
		char buf[64] = "?";

		if (localtime_r(&secs, &tm))
			strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S %z", &tm);
		printf("run:       file %u of a rotated run started %s\n",
		       pr->sequence, buf);
	}
	if (pr->complete && pr->end_mono_ns >= pr->start_mono_ns)
		printf("duration:  %.3f s\n",
		       (double)(pr->end_mono_ns - pr->start_mono_ns) / 1e9);
	else if (pr->last_mono_ns > pr->start_mono_ns)
		printf("duration:  unfinished (last sample at %.3f s)\n",
		       (double)(pr->last_mono_ns - pr->start_mono_ns) / 1e9);
	else
		printf("duration:  unfinished\n");
	printf("samples:   %" G_GUINT64_FORMAT " read, %.3f s CPU", samples,
	       (double)cpu / 1e9);
	printf(" (header: %" G_GUINT64_FORMAT " committed, %" G_GUINT64_FORMAT
	       " signals)\n", pr->header_samples, pr->signals);
	printf("dropped:  ");
	for (guint i = 0; i < PROFILE_DROP_COUNT; i++) {
		const char *name = profile_drop_name(i);
		if (!pr->dropped[i])
			continue;
		dropped += pr->dropped[i];
		if (name)
			printf(" %s %" G_GUINT64_FORMAT, name, pr->dropped[i]);
		else
			printf(" reason-%u %" G_GUINT64_FORMAT, i, pr->dropped[i]);
	}
	printf("%s\n", dropped ? "" : " none");
	if (!pr->complete)
		printf("state:     cut short (the process did not finish writing it)\n");
	else if (pr->end_reason == PROFILE_END_SIGNAL)
		printf("state:     complete (ended by signal %d, %s)\n",
		       pr->end_signal, g_strsignal(pr->end_signal));
	else
		printf("state:     complete (%s)\n", profile_end_name(pr->end_reason));
	print_marks(p, pi, pr);
	printf("threads:   %u\n", pr->n_threads);
	for (guint i = 0; i < pr->n_threads; i++) {
		const struct profile_thread *t = profile_thread(p, pr->first_thread + i);
		fputs("  ", stdout);
		print_clean(t->name);
		printf("  tid %" G_GUINT32_FORMAT "  %" G_GUINT64_FORMAT " samples  %.3f s CPU",
		       t->tid, t->n_samples, (double)t->cpu_ns / 1e9);
		if (pr->mode == PROFILE_MODE_WALL)
			printf("  %.3f s wall", (double)t->wall_ns / 1e9);
		printf("\n");
	}
	g_string_free(cmd, TRUE);
}

int cmd_info(int argc, char **argv)
{
	GOptionContext *ctx = g_option_context_new("FILE...");
	int rc = 0;

	g_option_context_set_summary(ctx, "Describe .pyprof files: process, "
				     "interpreter, sampling, threads, losses.");
	g_option_context_set_description(ctx, "See pyprof(1) for details.");
	if (!options_parse(ctx, "info", &argc, &argv)) {
		rc = EXIT_USAGE;
		goto out;
	}
	if (argc < 2) {
		fprintf(stderr, "pyprof: info: no FILE given\nTry 'pyprof info --help'.\n");
		rc = EXIT_USAGE;
		goto out;
	}
	for (int i = 1; i < argc; i++) {
		struct profile *p = profile_new();
		GError *error = NULL;
		guint printed = 0;

		/* counts and totals only */
		profile_set_timelines(p, FALSE);
		if (!profile_load_file(p, argv[i], &error)) {
			fflush(stdout);
			pipeline_print_warnings(p, &printed);
			fprintf(stderr, "pyprof: %s\n", error->message);
			g_error_free(error);
			rc = EXIT_INPUT;
		} else {
			if (i > 1)
				printf("\n");
			info_process(p, 0);
			fflush(stdout);
			pipeline_print_warnings(p, &printed);
		}
		profile_free(p);
	}
out:
	g_option_context_free(ctx);
	return rc;
}
