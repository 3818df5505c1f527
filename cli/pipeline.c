/*
 * pipeline.c - the report pipeline shared by `report` and `run`: read the
 * files into one profile, then hide, build, trim and render.
 *
 * Precedence of the shaping settings is applied here, once: command line
 * > environment > config file > default.  Reading can take seconds per
 * file, so a terminal gets a progress line meanwhile.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "cli/cli.h"
#include "cli/pipeline.h"
#include "collector/hide.h"
#include "collector/shape.h"
#include "collector/trim.h"
#include "render/render.h"

void pipeline_print_warnings(struct profile *p, guint *printed)
{
	for (; *printed < p->warnings->len; (*printed)++)
		fprintf(stderr, "pyprof: warning: %s\n",
			(const char *)g_ptr_array_index(p->warnings, *printed));
}

static int compare_names(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

GPtrArray *pipeline_dir_profiles(const char *dir, GError **error)
{
	GDir *d = g_dir_open(dir, 0, error);
	GHashTable *live;
	GPtrArray *files, *packed;
	const char *name;

	if (!d)
		return NULL;
	files = g_ptr_array_new_with_free_func(g_free);
	packed = g_ptr_array_new_with_free_func(g_free);
	live = g_hash_table_new(g_str_hash, g_str_equal);
	while ((name = g_dir_read_name(d))) {
		if (g_str_has_suffix(name, ".pyprof")) {
			g_ptr_array_add(files, g_build_filename(dir, name, NULL));
			g_hash_table_add(live, g_ptr_array_index(files, files->len - 1));
		} else if (g_str_has_suffix(name, ".pyprofz")) {
			g_ptr_array_add(packed, g_build_filename(dir, name, NULL));
		}
	}
	/* FILE.pyprofz beside FILE.pyprof is the same process, packed
	 * (pyprof pack keeps the live file unless asked): read it once */
	for (guint i = 0; i < packed->len; i++) {
		char *p = g_ptr_array_index(packed, i);
		char *twin = g_strndup(p, strlen(p) - 1);

		if (!g_hash_table_contains(live, twin))
			g_ptr_array_add(files, g_strdup(p));
		g_free(twin);
	}
	g_hash_table_unref(live);
	g_ptr_array_unref(packed);
	g_dir_close(d);
	g_ptr_array_sort(files, compare_names);
	return files;
}

/* A progress line on stderr while reading takes more than a second, and
 * only when stderr is a terminal: "pyprof: reading FILE (2 files read,
 * 3 s)", rewritten in place by a thread four times a second (one big file
 * can take seconds, and the loader has no hook to report from), erased
 * when reading ends or a warning is printed.  The same for the stages
 * after it, which take seconds too when stacks are millions (the tree
 * built from them) or a timeline is gigabytes of output: "pyprof:
 * building the call tree (2 s)".  The thread touches nothing but the
 * fields below, under the lock. */
struct progress {
	GMutex lock;
	GCond cond;
	GThread *thread;
	gint64 start;
	gboolean done, shown;
	char *file;
	guint files;
	const char *doing; /* instead of reading files: a stage, static */
};

static gpointer progress_thread(gpointer data)
{
	struct progress *pg = data;

	g_mutex_lock(&pg->lock);
	while (!pg->done) {
		gint64 now = g_get_monotonic_time();
		if (now - pg->start >= G_USEC_PER_SEC && pg->doing) {
			fprintf(stderr, "\r\033[Kpyprof: %s (%.0f s)", pg->doing,
				(double)(now - pg->start) / G_USEC_PER_SEC);
			fflush(stderr);
			pg->shown = TRUE;
		} else if (now - pg->start >= G_USEC_PER_SEC && pg->file) {
			fprintf(stderr, "\r\033[Kpyprof: reading %.50s (%u file%s read, %.0f s)",
				pg->file, pg->files, pg->files == 1 ? "" : "s",
				(double)(now - pg->start) / G_USEC_PER_SEC);
			fflush(stderr);
			pg->shown = TRUE;
		}
		g_cond_wait_until(&pg->cond, &pg->lock, now + G_USEC_PER_SEC / 4);
	}
	g_mutex_unlock(&pg->lock);
	return NULL;
}

static void progress_start(struct progress *pg)
{
	memset(pg, 0, sizeof *pg);
	g_mutex_init(&pg->lock);
	g_cond_init(&pg->cond);
	pg->start = g_get_monotonic_time();
	if (isatty(2))
		pg->thread = g_thread_new("progress", progress_thread, pg);
}

/* Holds the lock with the progress line erased, so the caller can print */
static void progress_pause(struct progress *pg)
{
	g_mutex_lock(&pg->lock);
	if (pg->shown)
		fputs("\r\033[K", stderr);
	pg->shown = FALSE;
}

static void progress_resume(struct progress *pg)
{
	g_mutex_unlock(&pg->lock);
}

static void progress_file(struct progress *pg, const char *path, gboolean read)
{
	g_mutex_lock(&pg->lock);
	g_free(pg->file);
	pg->file = g_path_get_basename(path);
	pg->files += read;
	g_mutex_unlock(&pg->lock);
}

/* Says what is being done now (a static string) */
static void progress_doing(struct progress *pg, const char *doing)
{
	g_mutex_lock(&pg->lock);
	pg->doing = doing;
	g_mutex_unlock(&pg->lock);
}

static void progress_stop(struct progress *pg)
{
	g_mutex_lock(&pg->lock);
	pg->done = TRUE;
	g_cond_signal(&pg->cond);
	g_mutex_unlock(&pg->lock);
	if (pg->thread)
		g_thread_join(pg->thread);
	if (pg->shown)
		fputs("\r\033[K", stderr);
	g_free(pg->file);
	g_mutex_clear(&pg->lock);
	g_cond_clear(&pg->cond);
}

gboolean pipeline_load(struct profile *p, char **paths, int n,
		       gboolean keep_going)
{
	guint printed = 0;
	gboolean ok = TRUE;
	struct progress pg;

	progress_start(&pg);
	for (int i = 0; i < n; i++) {
		GError *error = NULL;
		GPtrArray *files = NULL;

		if (g_file_test(paths[i], G_FILE_TEST_IS_DIR)) {
			if (!(files = pipeline_dir_profiles(paths[i], &error))) {
				progress_stop(&pg);
				fprintf(stderr, "pyprof: %s\n", error->message);
				g_error_free(error);
				return FALSE;
			}
			if (files->len == 0) {
				progress_pause(&pg);
				fprintf(stderr, "pyprof: %s: no .pyprof or .pyprofz files in this directory\n",
					paths[i]);
				progress_resume(&pg);
				g_ptr_array_unref(files);
				if (!keep_going) {
					progress_stop(&pg);
					return FALSE;
				}
				ok = FALSE;
				continue;
			}
		} else {
			files = g_ptr_array_new();
			g_ptr_array_add(files, paths[i]);
		}
		for (guint j = 0; j < files->len; j++) {
			gboolean loaded;

			progress_file(&pg, g_ptr_array_index(files, j), FALSE);
			loaded = profile_load_file(p, g_ptr_array_index(files, j), &error);
			progress_pause(&pg);
			if (!loaded) {
				pipeline_print_warnings(p, &printed);
				fprintf(stderr, "pyprof: %s\n", error->message);
				g_clear_error(&error);
				ok = FALSE;
				if (!keep_going) {
					progress_resume(&pg);
					progress_stop(&pg);
					g_ptr_array_unref(files);
					return FALSE;
				}
			}
			pipeline_print_warnings(p, &printed);
			progress_resume(&pg);
			progress_file(&pg, g_ptr_array_index(files, j), TRUE);
		}
		g_ptr_array_unref(files);
	}
	progress_stop(&pg);
	profile_loaded(p);
	if (p->mixed_modes)
		fprintf(stderr, "pyprof: warning: the files mix CPU and wall "
				"mode; each sample is weighed by its own file's mode\n");
	return ok;
}

static gboolean color_wanted(enum color_when w, FILE *out)
{
	const char *term = g_getenv("TERM"), *no = g_getenv("NO_COLOR");

	if (w != COLOR_AUTO)
		return w == COLOR_ALWAYS;
	return isatty(fileno(out)) && term && strcmp(term, "dumb") &&
	       !(no && *no);
}

/* The format whose extension ends path (the longest match: x.trace.json
 * is a trace, x.json the JSON tree), NULL if none does.  ".pprof" is
 * pprof's other usual name. */
static const struct renderer *format_for_file(const char *path)
{
	const struct renderer *best = NULL;
	gsize best_len = 0;

	if (g_str_has_suffix(path, ".pprof"))
		return render_lookup("pprof");
	for (const struct renderer *r = render_table; r->name; r++) {
		char *dotted = g_strconcat(".", r->extension, NULL);
		gsize len = strlen(dotted);
		if (len > best_len && g_str_has_suffix(path, dotted)) {
			best = r;
			best_len = len;
		}
		g_free(dotted);
	}
	return best;
}

/* The format o asks for, the output file's extension deciding when no
 * --format was given */
static const struct renderer *pipeline_format(struct report_opts *o)
{
	if (o->output && !o->format_set && format_for_file(o->output))
		o->format = format_for_file(o->output);
	return o->format;
}

void pipeline_prepare(struct profile *p, struct report_opts *o)
{
	/* Without a timeline a thread's samples are summed as they are
	 * read, which makes reading faster and its memory grow with
	 * distinct stacks only (bench/README.md) */
	profile_set_timelines(p, o->window || o->since_ns ||
				 o->until_ns != G_MAXUINT64 ||
				 pipeline_format(o)->timeline);
}

struct profile_tree *pipeline_shape(struct profile *p, struct report_opts *o,
				    struct profile_tree_options *topts)
{
	struct profile_tree *t;
	gboolean show_all, trim;

	*topts = (struct profile_tree_options){.group = o->group,
					       .no_idle = !o->idle};
	/* precedence: command line > environment > config file > default */
	show_all = o->show_all || o->config.show_all == 1;
	trim = !o->no_trim && o->config.trim != 0;
	if (!show_all) {
		if (!o->defaults_added) {
			hide_rules_add_plumbing(o->config.rules);
			hide_rules_add_machinery(o->config.rules);
			hide_rules_add_native(o->config.rules);
			o->defaults_added = TRUE;
		}
		if (hide_profile_is_ipython(p) && !o->ipython_added) {
			hide_rules_add_preset(o->config.rules, HIDE_LEVEL_DEFAULT,
					      "ipython", NULL);
			o->ipython_added = TRUE;
		}
		hide_rules_apply(o->config.rules, p);
		topts->classify = hide_rules_classify;
		topts->classify_stack = hide_rules_classify_stack;
		topts->classify_data = o->config.rules;
	}
	t = profile_tree_build(p, topts);
	if (!show_all && trim) {
		struct trim_options tro = {
			.plumbing = hide_rules_plumbing,
			.data = o->config.rules,
			.self_percent = o->trim_self_percent >= 0 ? o->trim_self_percent
					: o->config.trim_self_percent >= 0
						? o->config.trim_self_percent
						: TRIM_DEFAULT_SELF_PERCENT,
		};
		trim_stem(t, &tro);
	}
	if ((o->format->shape & RENDER_SHAPE_FUNCTIONS) && !o->lines &&
	    !o->render.flat)
		shape_functions(t);
	if ((o->format->shape & RENDER_SHAPE_FOLD) && !show_all && !o->no_fold &&
	    o->config.fold != 0 && !o->render.flat) {
		struct shape_options so = {
			.recursion = TRUE,
			.libraries = TRUE,
			.min_percent = o->render.min_percent,
			.exempt = hide_rules_shown,
			.data = o->config.rules,
		};
		shape_fold(p, t, &so);
	}
	return t;
}

int pipeline_render(struct profile *p, struct report_opts *o, FILE *dflt)
{
	struct profile_tree_options topts;
	struct profile_tree *t;
	GError *error = NULL;
	FILE *out = dflt;
	gboolean ok, show_all, to_terminal;
	struct profile_tree *full = NULL;
	struct progress pg;

	pipeline_format(o);
	if ((!strcmp(o->format->name, "pprof") || !strcmp(o->format->name, "pstats")) &&
	    !o->output && isatty(fileno(out))) {
		fprintf(stderr, "pyprof: %s output is binary: not writing it to a "
				"terminal (use -o FILE)\n", o->format->name);
		return EXIT_USAGE;
	}
	if (o->output && !(out = fopen(o->output, "w"))) {
		int e = errno;
		fprintf(stderr, "pyprof: %s: %s\n", o->output, g_strerror(e));
		return EXIT_INPUT;
	}
	o->render.color = color_wanted(o->color, out);
	show_all = o->show_all || o->config.show_all == 1;
	progress_start(&pg);
	progress_doing(&pg, "building the call tree");
	t = pipeline_shape(p, o, &topts);
	/* html offers the full tree beside the shaped one */
	if (!show_all && !strcmp(o->format->name, "html")) {
		struct profile_tree_options fopts = {.group = o->group,
						     .no_idle = !o->idle};
		full = profile_tree_build(p, &fopts);
		if (!o->lines)
			shape_functions(full);
	}
	o->render.tree_options = &topts;
	o->render.full = full;
	o->render.title = o->title;
	/* not over a report written to the same terminal */
	to_terminal = isatty(fileno(out));
	if (to_terminal)
		progress_stop(&pg);
	else
		progress_doing(&pg, o->format->timeline ? "writing the timeline"
							: "writing the report");
	ok = o->format->render(p, t, &o->render, out, &error);
	if (!to_terminal)
		progress_stop(&pg);
	o->render.tree_options = NULL;
	o->render.full = NULL;
	profile_tree_free(full);
	profile_tree_free(t);
	if (out != dflt && fclose(out) != 0 && ok) {
		int e = errno;
		g_set_error(&error, RENDER_ERROR, RENDER_ERROR_WRITE,
			    "write error: %s", g_strerror(e));
		ok = FALSE;
	}
	if (!ok) {
		fprintf(stderr, "pyprof: %s: %s\n", o->output ? o->output : "output",
			error->message);
		g_error_free(error);
		return EXIT_INPUT;
	}
	return 0;
}
