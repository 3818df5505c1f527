/*
 * main.c - the pyprof command: report, info, run.
 *
 * The only file that prints to the user or exits.  Each subcommand has its
 * own GOptionContext; values are checked in option callbacks so a bad one
 * fails with a message naming the option and the value.  Exit status: 0,
 * 1 for bad input (a file that cannot be read, a write error), 2 for bad
 * usage; `run` exits as its command did.
 */
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "collector/config.h"
#include "collector/hide.h"
#include "collector/profile.h"
#include "collector/trim.h"
#include "render/render.h"

#ifndef PYPROF_VERSION
#define PYPROF_VERSION "0.1.0"
#endif
#ifndef PKGLIBDIR
#define PKGLIBDIR "/usr/local/lib/pyprof"
#endif

#define EXIT_INPUT 1
#define EXIT_USAGE 2

enum color_when { COLOR_AUTO, COLOR_ALWAYS, COLOR_NEVER };

struct report_opts {
	const struct renderer *format;
	gboolean format_set;   /* --format given: -o FILE's extension is not
				* consulted */
	char *output;
	enum color_when color;
	enum profile_group group;
	struct render_options render;
	/* shaping (hide, collapse, trim): command-line rules are compiled
	 * into config.rules as they are parsed */
	struct config config;
	char *config_file;
	gboolean show_all, no_trim;
	gboolean idle;         /* --idle (default) / --no-idle */
	double trim_self_percent; /* < 0: not given */
	/* run only */
	char *interval;
	char *mode;
	char *output_dir;
	gboolean keep;
	char *title;
	char *window; /* --window LABEL: only samples inside those marks */
	GPtrArray *threads_sel;   /* --thread NAME|TID, repeatable */
	gboolean threads_table;   /* --threads */
};

/* ---- option callbacks: validate, with messages naming the value ---- */

static gboolean opt_format(const gchar *name, const gchar *value, gpointer data,
			   GError **error)
{
	struct report_opts *o = data;
	GString *known;

	if ((o->format = render_lookup(value))) {
		o->format_set = TRUE;
		return TRUE;
	}
	known = g_string_new(NULL);
	for (const struct renderer *r = render_table; r->name; r++)
		g_string_append_printf(known, "%s%s", known->len ? ", " : "", r->name);
	g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
		    "%s: unknown format '%s' (expected %s)", name, value, known->str);
	g_string_free(known, TRUE);
	return FALSE;
}

static gboolean opt_depth(const gchar *name, const gchar *value, gpointer data,
			  GError **error)
{
	struct report_opts *o = data;
	guint64 v;

	if (!g_ascii_string_to_unsigned(value, 10, 0, 100000, &v, NULL)) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "%s: expected a number of levels from 0 (all) to 100000, got '%s'",
			    name, value);
		return FALSE;
	}
	o->render.depth = (guint)v;
	return TRUE;
}

/* A percentage from 0 to 100 into *out, or FALSE with an error. */
static gboolean opt_percent(const gchar *name, const gchar *value, double *out,
			    GError **error)
{
	char *end = NULL;
	double v;

	errno = 0;
	v = g_ascii_strtod(value, &end);
	if (!*value || errno || !end || *end || !(v >= 0 && v <= 100)) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "%s: expected a percentage from 0 to 100, got '%s'",
			    name, value);
		return FALSE;
	}
	*out = v;
	return TRUE;
}

static gboolean opt_min_percent(const gchar *name, const gchar *value,
				gpointer data, GError **error)
{
	return opt_percent(name, value,
			   &((struct report_opts *)data)->render.min_percent, error);
}

/* One of a fixed set of words: its index in words (NULL-terminated), or
 * -1 with an error listing them, e.g. "expected auto, always or never". */
static int opt_choice(const gchar *name, const gchar *value,
		      const char *const *words, GError **error)
{
	GString *want;
	int n;

	for (n = 0; words[n]; n++)
		if (value && !strcmp(value, words[n]))
			return n;
	want = g_string_new(NULL);
	for (int i = 0; i < n; i++)
		g_string_append_printf(want, "%s%s", i == 0 ? "" : i == n - 1 ? " or " : ", ",
				       words[i]);
	g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
		    "%s: expected %s, got '%s'", name, want->str, value ? value : "");
	g_string_free(want, TRUE);
	return -1;
}

static gboolean opt_color(const gchar *name, const gchar *value, gpointer data,
			  GError **error)
{
	static const char *const words[] = {"auto", "always", "never", NULL};
	static const enum color_when when[] = {COLOR_AUTO, COLOR_ALWAYS, COLOR_NEVER};
	int i = value ? opt_choice(name, value, words, error) : 1;

	if (i < 0)
		return FALSE;
	((struct report_opts *)data)->color = when[i];
	return TRUE;
}

static gboolean opt_weight(const gchar *name, const gchar *value, gpointer data,
			   GError **error)
{
	static const char *const words[] = {"samples", "ns", NULL};
	int i = opt_choice(name, value, words, error);

	if (i < 0)
		return FALSE;
	((struct report_opts *)data)->render.weight_ns = i == 1;
	return TRUE;
}

static gboolean opt_percent_of(const gchar *name, const gchar *value,
			       gpointer data, GError **error)
{
	static const char *const words[] = {"thread", "total", NULL};
	int i = opt_choice(name, value, words, error);

	if (i < 0)
		return FALSE;
	((struct report_opts *)data)->render.percent_of_total = i == 1;
	return TRUE;
}

/* --by: how files and threads merge; the same trees as --group, named
 * for what a merged report is split by */
static gboolean opt_by(const gchar *name, const gchar *value, gpointer data,
		       GError **error)
{
	static const char *const words[] = {"process", "thread", "none", NULL};
	static const enum profile_group group[] = {
		PROFILE_GROUP_PROCESS, PROFILE_GROUP_THREAD, PROFILE_GROUP_ALL};
	int i = opt_choice(name, value, words, error);

	if (i < 0)
		return FALSE;
	((struct report_opts *)data)->group = group[i];
	return TRUE;
}

static gboolean opt_thread(const gchar *name, const gchar *value, gpointer data,
			   GError **error)
{
	struct report_opts *o = data;

	if (!*value) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "%s: expected a thread name or native id", name);
		return FALSE;
	}
	if (!o->threads_sel)
		o->threads_sel = g_ptr_array_new_with_free_func(g_free);
	g_ptr_array_add(o->threads_sel, g_strdup(value));
	return TRUE;
}

static gboolean opt_merge_threads(const gchar *name, const gchar *value,
				  gpointer data, GError **error)
{
	((struct report_opts *)data)->group = PROFILE_GROUP_ALL;
	return TRUE;
}

static gboolean opt_group(const gchar *name, const gchar *value, gpointer data,
			  GError **error)
{
	static const char *const words[] = {"thread", "name", "all", NULL};
	static const enum profile_group group[] = {
		PROFILE_GROUP_THREAD, PROFILE_GROUP_NAME, PROFILE_GROUP_ALL};
	int i = opt_choice(name, value, words, error);

	if (i < 0)
		return FALSE;
	((struct report_opts *)data)->group = group[i];
	return TRUE;
}

/* The syntax libpyprof(7) accepts for PYPROF_INTERVAL: a number with a
 * unit (ns, us, ms, s) between 100us and 10s.  Checked here too so that a
 * typo fails before the command runs rather than leaving it unprofiled. */
static gboolean opt_interval(const gchar *name, const gchar *value,
			     gpointer data, GError **error)
{
	struct report_opts *o = data;
	static const struct { const char *unit; double ns; } units[] = {
		{"ns", 1}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9},
	};
	const char *p = value;
	char *num;
	double v = -1;

	while (g_ascii_isdigit(*p) || *p == '.')
		p++;
	num = g_strndup(value, (gsize)(p - value));
	for (gsize i = 0; *num && num[0] != '.' && i < G_N_ELEMENTS(units); i++) {
		char *end;
		if (strcmp(p, units[i].unit))
			continue;
		v = g_ascii_strtod(num, &end) * units[i].ns;
		if (*end)
			v = -1;
	}
	g_free(num);
	if (!(v >= 1e5 && v <= 1e10)) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "%s: expected a duration with a unit between 100us and 10s, e.g. 1ms, got '%s'",
			    name, value);
		return FALSE;
	}
	g_free(o->interval);
	o->interval = g_strdup(value);
	return TRUE;
}

/* Checked here too, as --interval is: a typo must fail before the command
 * runs rather than leave it unprofiled. */
static gboolean opt_mode(const gchar *name, const gchar *value, gpointer data,
			 GError **error)
{
	static const char *const words[] = {"cpu", "wall", NULL};
	struct report_opts *o = data;

	if (opt_choice(name, value, words, error) < 0)
		return FALSE;
	g_free(o->mode);
	o->mode = g_strdup(value);
	return TRUE;
}

/* --hide, --collapse, --show, --preset: compiled now, so that a bad rule
 * fails naming the option */
static gboolean opt_rule(const gchar *name, const gchar *value, gpointer data,
			 GError **error)
{
	struct report_opts *o = data;
	GError *e = NULL;
	gboolean ok;

	if (!strcmp(name, "--preset"))
		ok = hide_rules_add_preset(o->config.rules, HIDE_LEVEL_CMDLINE, value, &e);
	else
		ok = hide_rules_add(o->config.rules, HIDE_LEVEL_CMDLINE,
				    !strcmp(name, "--hide") ? HIDE_ACTION_HIDE
				    : !strcmp(name, "--collapse") ? HIDE_ACTION_COLLAPSE
								  : HIDE_ACTION_SHOW,
				    value, &e);
	if (!ok) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "%s: %s",
			    name, e->message);
		g_error_free(e);
	}
	return ok;
}

static gboolean opt_trim_percent(const gchar *name, const gchar *value,
				 gpointer data, GError **error)
{
	return opt_percent(name, value,
			   &((struct report_opts *)data)->trim_self_percent, error);
}

static const GOptionEntry render_entries[] = {
	{"format", 'f', 0, G_OPTION_ARG_CALLBACK, opt_format,
	 "Output format: text (default), collapsed, html, speedscope, pprof, "
	 "trace, svg or json", "FORMAT"},
	{"output", 'o', 0, G_OPTION_ARG_FILENAME, NULL,
	 "Write the report to FILE; without --format, the format follows its "
	 "extension (.txt .folded .html .speedscope.json .pb.gz .pprof "
	 ".trace.json .svg .json)", "FILE"},
	{"by", 0, 0, G_OPTION_ARG_CALLBACK, opt_by,
	 "Split the merged report by thread (default), by process, or not "
	 "at all", "process|thread|none"},
	{"window", 0, 0, G_OPTION_ARG_STRING, NULL,
	 "Only the samples between the start and stop marks labelled LABEL "
	 "(libpyprof(7), control API)", "LABEL"},
	{"title", 0, 0, G_OPTION_ARG_STRING, NULL,
	 "html, svg: the title shown (default: the command line)", "TEXT"},
	{"depth", 0, 0, G_OPTION_ARG_CALLBACK, opt_depth,
	 "text: show at most N levels of frames (0: all, the default)", "N"},
	{"min-percent", 0, 0, G_OPTION_ARG_CALLBACK, opt_min_percent,
	 "text: fold frames below P percent into one line (default 1)", "P"},
	{"percent-of", 0, 0, G_OPTION_ARG_CALLBACK, opt_percent_of,
	 "text: percentages of each thread (default) or of the total", "thread|total"},
	{"color", 0, G_OPTION_FLAG_OPTIONAL_ARG, G_OPTION_ARG_CALLBACK, opt_color,
	 "text: colour: auto (default), always or never", "WHEN"},
	{"ascii", 0, 0, G_OPTION_ARG_NONE, NULL,
	 "text: draw the tree with ASCII characters only", NULL},
	{"weight", 0, 0, G_OPTION_ARG_CALLBACK, opt_weight,
	 "collapsed: count samples (default) or ns", "samples|ns"},
	{"no-thread-frame", 0, G_OPTION_FLAG_REVERSE, G_OPTION_ARG_NONE, NULL,
	 "collapsed: do not start each stack with its thread's name", NULL},
	{"threads", 0, 0, G_OPTION_ARG_NONE, NULL,
	 "Print a table of the threads (name, tid, samples, CPU and wall "
	 "seconds, running and waiting shares) instead of a report", NULL},
	{"idle", 0, 0, G_OPTION_ARG_NONE, NULL,
	 "Wall mode: count the time threads spent waiting, as [idle] below "
	 "the frame that waited (default); no effect in CPU mode", NULL},
	{"no-idle", 0, G_OPTION_FLAG_REVERSE, G_OPTION_ARG_NONE, NULL,
	 "Wall mode: leave waiting out of the trees and totals: running "
	 "time only; no effect in CPU mode", NULL},
	{"thread", 0, 0, G_OPTION_ARG_CALLBACK, opt_thread,
	 "Only this thread: a name or a native thread id (repeatable)", "NAME|TID"},
	{"merge-threads", 0, G_OPTION_FLAG_NO_ARG, G_OPTION_ARG_CALLBACK, opt_merge_threads,
	 "Merge the same call paths of every thread into one tree (--group=all)", NULL},
	{"group", 0, 0, G_OPTION_ARG_CALLBACK, opt_group,
	 "One tree per thread (default), per thread name, or one for all", "thread|name|all"},
	{"hide", 0, 0, G_OPTION_ARG_CALLBACK, opt_rule,
	 "Hide frames matching RULE; their time goes to their caller "
	 "(repeatable; see pyprof.conf(5))", "RULE"},
	{"collapse", 0, 0, G_OPTION_ARG_CALLBACK, opt_rule,
	 "Show consecutive frames matching RULE as one node, [NAME] with "
	 "NAME=RULE (repeatable)", "RULE"},
	{"show", 0, 0, G_OPTION_ARG_CALLBACK, opt_rule,
	 "Exempt frames matching RULE from hiding, collapsing and trimming "
	 "(repeatable)", "RULE"},
	{"preset", 0, 0, G_OPTION_ARG_CALLBACK, opt_rule,
	 "Apply a preset rule set: ipython, importlib, runpy, asyncio, "
	 "threading (repeatable)", "NAME"},
	{"config", 0, 0, G_OPTION_ARG_FILENAME, NULL,
	 "Read settings from FILE instead of ./pyprof.conf or "
	 "~/.config/pyprof/pyprof.conf", "FILE"},
	{"show-all", 0, 0, G_OPTION_ARG_NONE, NULL,
	 "Show every recorded frame: no hiding, collapsing or trimming", NULL},
	{"no-trim", 0, 0, G_OPTION_ARG_NONE, NULL,
	 "Keep the stem of start-up plumbing above the program's code", NULL},
	{"trim-self-percent", 0, 0, G_OPTION_ARG_CALLBACK, opt_trim_percent,
	 "Stop trimming at a stem frame spending over P percent of its thread "
	 "outside its one callee (default 5)", "P"},
	G_OPTION_ENTRY_NULL
};

static const GOptionEntry run_entries[] = {
	{"interval", 'i', 0, G_OPTION_ARG_CALLBACK, opt_interval,
	 "Sampling interval, e.g. 1ms (PYPROF_INTERVAL)", "TIME"},
	{"mode", 'm', 0, G_OPTION_ARG_CALLBACK, opt_mode,
	 "cpu (the default: CPU time per thread) or wall (wall time, "
	 "waiting shown as [idle]); PYPROF_MODE", "cpu|wall"},
	{"output-dir", 'd', 0, G_OPTION_ARG_FILENAME, NULL,
	 "Keep the .pyprof files in DIR instead of a temporary directory", "DIR"},
	{"keep", 'k', 0, G_OPTION_ARG_NONE, NULL,
	 "Keep the temporary directory and say where it is", NULL},
	G_OPTION_ENTRY_NULL
};

/* Builds a context whose callbacks get o; entries with a NULL arg_data
 * are pointed at o's fields here (GOptionEntry arrays are static). */
static GOptionContext *make_context(const char *usage, const char *summary,
				    struct report_opts *o, gboolean run)
{
	GOptionContext *ctx = g_option_context_new(usage);
	GOptionGroup *g = g_option_group_new("main", "", "", o, NULL);
	GOptionEntry e[G_N_ELEMENTS(render_entries) + G_N_ELEMENTS(run_entries)];
	gsize n = 0;

	for (gsize i = 0; render_entries[i].long_name; i++) {
		e[n] = render_entries[i];
		if (!strcmp(e[n].long_name, "output"))
			e[n].arg_data = &o->output;
		else if (!strcmp(e[n].long_name, "title"))
			e[n].arg_data = &o->title;
		else if (!strcmp(e[n].long_name, "window"))
			e[n].arg_data = &o->window;
		else if (!strcmp(e[n].long_name, "threads"))
			e[n].arg_data = &o->threads_table;
		else if (!strcmp(e[n].long_name, "ascii"))
			e[n].arg_data = &o->render.ascii;
		else if (!strcmp(e[n].long_name, "no-thread-frame"))
			e[n].arg_data = &o->render.thread_frame;
		else if (!strcmp(e[n].long_name, "config"))
			e[n].arg_data = &o->config_file;
		else if (!strcmp(e[n].long_name, "show-all"))
			e[n].arg_data = &o->show_all;
		else if (!strcmp(e[n].long_name, "no-trim"))
			e[n].arg_data = &o->no_trim;
		else if (!strcmp(e[n].long_name, "idle") ||
			 !strcmp(e[n].long_name, "no-idle"))
			e[n].arg_data = &o->idle;
		else
			e[n].arg_data = (gpointer)e[n].arg_data;
		n++;
	}
	for (gsize i = 0; run && run_entries[i].long_name; i++) {
		e[n] = run_entries[i];
		if (!strcmp(e[n].long_name, "output-dir"))
			e[n].arg_data = &o->output_dir;
		else if (!strcmp(e[n].long_name, "keep"))
			e[n].arg_data = &o->keep;
		n++;
	}
	e[n] = (GOptionEntry)G_OPTION_ENTRY_NULL;
	g_option_group_add_entries(g, e);
	g_option_context_set_main_group(ctx, g);
	g_option_context_set_summary(ctx, summary);
	g_option_context_set_description(ctx, "See pyprof(1) for details.");
	return ctx;
}

static void report_opts_init(struct report_opts *o)
{
	memset(o, 0, sizeof *o);
	o->format = render_lookup("text");
	o->color = COLOR_AUTO;
	render_options_init(&o->render);
	config_init(&o->config);
	o->trim_self_percent = -1;
	o->idle = TRUE;
}

static void report_opts_release(struct report_opts *o)
{
	g_free(o->output);
	g_free(o->interval);
	g_free(o->mode);
	g_free(o->output_dir);
	g_free(o->title);
	g_free(o->window);
	if (o->threads_sel)
		g_ptr_array_unref(o->threads_sel);
	g_free(o->config_file);
	config_release(&o->config);
}

/* Reads the config file and the environment into o->config (the command
 * line's rules are there already); FALSE after printing an error. */
static gboolean shape_setup(struct report_opts *o, const char *cmd)
{
	char *file = config_find_file(o->config_file);
	GError *error = NULL;
	gboolean ok = TRUE;

	if (file && !config_load_file(&o->config, file, &error))
		ok = FALSE;
	else if (!config_load_env(&o->config, &error))
		ok = FALSE;
	if (!ok) {
		fprintf(stderr, "pyprof: %s: %s\n", cmd, error->message);
		g_error_free(error);
	}
	g_free(file);
	return ok;
}

/* Parses argv for command `cmd`; on a usage error prints it and returns
 * FALSE.  --help is handled by GLib (it exits 0). */
static gboolean parse(GOptionContext *ctx, const char *cmd, int *argc,
		      char ***argv)
{
	GError *error = NULL;

	if (g_option_context_parse(ctx, argc, argv, &error))
		return TRUE;
	fprintf(stderr, "pyprof: %s: %s\nTry 'pyprof %s --help'.\n", cmd,
		error->message, cmd);
	g_error_free(error);
	return FALSE;
}

/* ---- loading ---- */

static void print_warnings(struct profile *p, guint *printed)
{
	for (; *printed < p->warnings->len; (*printed)++)
		fprintf(stderr, "pyprof: warning: %s\n",
			(const char *)g_ptr_array_index(p->warnings, *printed));
}

static int compare_names(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.pyprof files in dir, sorted; NULL with error if unreadable. */
static GPtrArray *dir_profiles(const char *dir, GError **error)
{
	GDir *d = g_dir_open(dir, 0, error);
	GPtrArray *files;
	const char *name;

	if (!d)
		return NULL;
	files = g_ptr_array_new_with_free_func(g_free);
	while ((name = g_dir_read_name(d)))
		if (g_str_has_suffix(name, ".pyprof"))
			g_ptr_array_add(files, g_build_filename(dir, name, NULL));
	g_dir_close(d);
	g_ptr_array_sort(files, compare_names);
	return files;
}

/* Loads every path (files, or directories of *.pyprof); returns FALSE
 * after printing the first error. */
/* A progress line on stderr while reading takes more than a second, and
 * only when stderr is a terminal: "pyprof: reading FILE (2 files read,
 * 3 s)", rewritten in place by a thread four times a second (one big file
 * can take seconds, and the loader has no hook to report from), erased
 * when reading ends or a warning is printed.  The thread touches nothing
 * but the fields below, under the lock. */
struct progress {
	GMutex lock;
	GCond cond;
	GThread *thread;
	gint64 start;
	gboolean done, shown;
	char *file;
	guint files;
};

static gpointer progress_thread(gpointer data)
{
	struct progress *pg = data;

	g_mutex_lock(&pg->lock);
	while (!pg->done) {
		gint64 now = g_get_monotonic_time();
		if (now - pg->start >= G_USEC_PER_SEC && pg->file) {
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

static gboolean load_paths(struct profile *p, char **paths, int n,
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
			if (!(files = dir_profiles(paths[i], &error))) {
				progress_stop(&pg);
				fprintf(stderr, "pyprof: %s\n", error->message);
				g_error_free(error);
				return FALSE;
			}
			if (files->len == 0) {
				progress_pause(&pg);
				fprintf(stderr, "pyprof: %s: no .pyprof files in this directory\n",
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
				print_warnings(p, &printed);
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
			print_warnings(p, &printed);
			progress_resume(&pg);
			progress_file(&pg, g_ptr_array_index(files, j), TRUE);
		}
		g_ptr_array_unref(files);
	}
	progress_stop(&pg);
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

/* Renders p to o->output, or to dflt; prints errors; returns an exit code. */
static int render_profile(struct profile *p, struct report_opts *o, FILE *dflt)
{
	struct profile_tree_options topts = {.group = o->group, .no_idle = !o->idle};
	struct profile_tree *t;
	GError *error = NULL;
	FILE *out = dflt;
	gboolean ok, show_all, trim;
	struct profile_tree *full = NULL;

	if (o->output && !o->format_set && format_for_file(o->output))
		o->format = format_for_file(o->output);
	if (!strcmp(o->format->name, "pprof") && !o->output && isatty(fileno(out))) {
		fprintf(stderr, "pyprof: pprof output is gzipped binary: not writing "
				"it to a terminal (use -o FILE)\n");
		return EXIT_USAGE;
	}
	if (o->output && !(out = fopen(o->output, "w"))) {
		int e = errno;
		fprintf(stderr, "pyprof: %s: %s\n", o->output, g_strerror(e));
		return EXIT_INPUT;
	}
	o->render.color = color_wanted(o->color, out);
	/* precedence: command line > environment > config file > default */
	show_all = o->show_all || o->config.show_all == 1;
	trim = !o->no_trim && o->config.trim != 0;
	if (!show_all) {
		hide_rules_add_plumbing(o->config.rules);
		if (hide_profile_is_ipython(p))
			hide_rules_add_preset(o->config.rules, HIDE_LEVEL_DEFAULT,
					      "ipython", NULL);
		hide_rules_apply(o->config.rules, p);
		topts.classify = hide_rules_classify;
		topts.classify_data = o->config.rules;
	}
	t = profile_tree_build(p, &topts);
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
	/* html offers the full tree beside the shaped one */
	if (!show_all && !strcmp(o->format->name, "html")) {
		struct profile_tree_options fopts = {.group = o->group,
						     .no_idle = !o->idle};
		full = profile_tree_build(p, &fopts);
	}
	o->render.tree_options = &topts;
	o->render.full = full;
	o->render.title = o->title;
	ok = o->format->render(p, t, &o->render, out, &error);
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

/* ---- pyprof report ---- */

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

static int cmd_report(int argc, char **argv)
{
	struct report_opts o;
	GOptionContext *ctx;
	struct profile *p;
	int rc;

	report_opts_init(&o);
	ctx = make_context("FILE|DIR...",
			   "Render a report from .pyprof files, merged.  A directory "
			   "stands for the *.pyprof files in it.", &o, FALSE);
	if (!parse(ctx, "report", &argc, &argv) || !shape_setup(&o, "report")) {
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
	if (!load_paths(p, argv + 1, argc - 1, FALSE)) {
		rc = EXIT_INPUT;
	} else if (o.window && !profile_keep_window(p, o.window)) {
		fprintf(stderr, "pyprof: report: no window labelled '%s' in the "
				"input\n", o.window);
		rc = EXIT_INPUT;
	} else if (o.threads_sel && !keep_threads(p, o.threads_sel)) {
		rc = EXIT_INPUT;
	} else if (o.threads_table) {
		print_threads(p);
		rc = 0;
	} else {
		rc = render_profile(p, &o, stdout);
	}
	profile_free(p);
out:
	g_option_context_free(ctx);
	report_opts_release(&o);
	return rc;
}

/* ---- pyprof info ---- */

static void print_clean(const char *s)
{
	GString *b = g_string_new(NULL);
	render_append_clean(b, s, 0);
	fputs(b->str, stdout);
	g_string_free(b, TRUE);
}

static void info_process(const struct profile *p, guint pi)
{
	const struct profile_process *pr = profile_process(p, pi);
	guint64 samples = 0, cpu = 0, wall = 0, dropped = 0;
	GString *cmd = g_string_new(NULL);

	for (guint i = 0; i < pr->n_threads; i++) {
		const struct profile_thread *t = profile_thread(p, pr->first_thread + i);
		samples += t->samples->len;
		cpu += t->cpu_ns;
		wall += t->wall_ns;
	}
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
	printf("threads:   %u\n", pr->n_threads);
	for (guint i = 0; i < pr->n_threads; i++) {
		const struct profile_thread *t = profile_thread(p, pr->first_thread + i);
		fputs("  ", stdout);
		print_clean(t->name);
		printf("  tid %" G_GUINT32_FORMAT "  %u samples  %.3f s CPU",
		       t->tid, t->samples->len, (double)t->cpu_ns / 1e9);
		if (pr->mode == PROFILE_MODE_WALL)
			printf("  %.3f s wall", (double)t->wall_ns / 1e9);
		printf("\n");
	}
	g_string_free(cmd, TRUE);
}

static int cmd_info(int argc, char **argv)
{
	struct report_opts o;
	GOptionContext *ctx = g_option_context_new("FILE...");
	int rc = 0;

	report_opts_init(&o);
	g_option_context_set_summary(ctx, "Describe .pyprof files: process, "
				     "interpreter, sampling, threads, losses.");
	g_option_context_set_description(ctx, "See pyprof(1) for details.");
	if (!parse(ctx, "info", &argc, &argv)) {
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

		if (!profile_load_file(p, argv[i], &error)) {
			fflush(stdout);
			print_warnings(p, &printed);
			fprintf(stderr, "pyprof: %s\n", error->message);
			g_error_free(error);
			rc = EXIT_INPUT;
		} else {
			if (i > 1)
				printf("\n");
			info_process(p, 0);
			fflush(stdout);
			print_warnings(p, &printed);
		}
		profile_free(p);
	}
out:
	g_option_context_free(ctx);
	report_opts_release(&o);
	return rc;
}

/* ---- pyprof run ---- */

/* The library to preload: $PYPROF_LIB, else the build tree's when this
 * binary runs from it, else the installed one. */
static char *preload_library(void)
{
	const char *env = g_getenv("PYPROF_LIB");
	char *exe, *lib;

	if (env && *env)
		return g_strdup(env);
	exe = g_file_read_link("/proc/self/exe", NULL);
	if (exe) {
		char *dir = g_path_get_dirname(exe);
		lib = g_build_filename(dir, ".libs", "libpyprof.so", NULL);
		g_free(dir);
		g_free(exe);
		if (g_file_test(lib, G_FILE_TEST_EXISTS))
			return lib;
		g_free(lib);
	}
	return g_build_filename(PKGLIBDIR, "libpyprof.so", NULL);
}

/* Removes the files in dir (not recursively; pyprof made it and only the
 * library writes there), then dir. */
static void remove_dir(const char *dir)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	const char *name;

	if (d) {
		while ((name = g_dir_read_name(d))) {
			char *path = g_build_filename(dir, name, NULL);
			if (g_unlink(path) != 0)
				fprintf(stderr, "pyprof: warning: %s: %s\n", path,
					g_strerror(errno));
			g_free(path);
		}
		g_dir_close(d);
	}
	if (g_rmdir(dir) != 0)
		fprintf(stderr, "pyprof: warning: %s: %s\n", dir, g_strerror(errno));
}

/* Exits as a process that ended with wait status `status` would. */
static G_GNUC_NORETURN void exit_like(int status)
{
	if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);
		struct rlimit no_core = {0, 0};
		sigset_t set;

		/* the command already dumped core if it was going to */
		setrlimit(RLIMIT_CORE, &no_core);
		fflush(NULL);
		signal(sig, SIG_DFL);
		sigemptyset(&set);
		sigaddset(&set, sig);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		raise(sig);
		exit(128 + sig);
	}
	exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
}

static int cmd_run(int argc, char **argv)
{
	struct report_opts o;
	GOptionContext *ctx;
	char **cmd = NULL, *lib = NULL, *dir = NULL, *old, *preload;
	int dash = -1, status = 0, rc = 0;
	gboolean temp = FALSE;
	struct sigaction ign = {0}, old_int, old_quit;
	pid_t child;

	report_opts_init(&o);
	ctx = make_context("-- COMMAND [ARG...]",
			   "Run COMMAND with libpyprof.so preloaded, then print the "
			   "report of every process it started to standard error "
			   "(or to -o FILE).  Exits as COMMAND did.", &o, TRUE);
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--")) {
			dash = i;
			break;
		}
	if (dash >= 0) {
		cmd = argv + dash + 1;
		argc = dash; /* parse only what precedes "--" */
	} else {
		g_option_context_set_strict_posix(ctx, TRUE);
	}
	if (!parse(ctx, "run", &argc, &argv) || !shape_setup(&o, "run")) {
		rc = EXIT_USAGE;
		goto out;
	}
	if (dash < 0)
		cmd = argc > 1 ? argv + 1 : NULL;
	else if (argc > 1) {
		fprintf(stderr, "pyprof: run: unexpected '%s' before '--'\n"
				"Try 'pyprof run --help'.\n", argv[1]);
		rc = EXIT_USAGE;
		goto out;
	}
	if (!cmd || !cmd[0]) {
		fprintf(stderr, "pyprof: run: no COMMAND given\nTry 'pyprof run --help'.\n");
		rc = EXIT_USAGE;
		goto out;
	}

	lib = preload_library();
	if (!g_file_test(lib, G_FILE_TEST_IS_REGULAR)) {
		fprintf(stderr, "pyprof: %s: no such library (set PYPROF_LIB to "
				"libpyprof.so)\n", lib);
		rc = EXIT_INPUT;
		goto out;
	}
	if (o.output_dir) {
		if (g_mkdir_with_parents(o.output_dir, 0700) != 0) {
			fprintf(stderr, "pyprof: %s: %s\n", o.output_dir, g_strerror(errno));
			rc = EXIT_INPUT;
			goto out;
		}
		dir = g_strdup(o.output_dir);
	} else {
		GError *error = NULL;
		if (!(dir = g_dir_make_tmp("pyprof-XXXXXX", &error))) {
			fprintf(stderr, "pyprof: %s\n", error->message);
			g_error_free(error);
			rc = EXIT_INPUT;
			goto out;
		}
		temp = TRUE;
	}

	old = (char *)g_getenv("LD_PRELOAD");
	preload = old && *old ? g_strconcat(lib, ":", old, NULL) : g_strdup(lib);
	g_setenv("LD_PRELOAD", preload, TRUE);
	g_free(preload);
	{
		/* a trailing '/' makes the library treat it as a directory */
		char *out_dir = g_strconcat(dir, "/", NULL);
		g_setenv("PYPROF_OUTPUT", out_dir, TRUE);
		g_free(out_dir);
	}
	if (o.interval)
		g_setenv("PYPROF_INTERVAL", o.interval, TRUE);
	if (o.mode)
		g_setenv("PYPROF_MODE", o.mode, TRUE);

	/* The terminal sends ^C and ^\ to the whole foreground group: the
	 * command decides what they mean, pyprof waits to report. */
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	sigaction(SIGINT, &ign, &old_int);
	sigaction(SIGQUIT, &ign, &old_quit);
	fflush(NULL);
	child = fork();
	if (child == 0) {
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGQUIT, &old_quit, NULL);
		execvp(cmd[0], cmd);
		int e = errno;
		fprintf(stderr, "pyprof: %s: %s\n", cmd[0], g_strerror(e));
		_exit(e == ENOENT ? 127 : 126);
	}
	if (child < 0) {
		fprintf(stderr, "pyprof: fork: %s\n", g_strerror(errno));
		rc = EXIT_INPUT;
	} else {
		while (waitpid(child, &status, 0) < 0 && errno == EINTR)
			;
	}
	/* The library must not follow into the report's own children (none
	 * today, but a pager could come). */
	g_unsetenv("LD_PRELOAD");
	if (old)
		g_setenv("LD_PRELOAD", old, TRUE);

	if (child > 0) {
		GError *error = NULL;
		GPtrArray *files = dir_profiles(dir, &error);
		if (!files) {
			fprintf(stderr, "pyprof: %s\n", error->message);
			g_error_free(error);
		} else if (files->len == 0) {
			/* an exec failure was already reported by the child */
			if (!(WIFEXITED(status) && WEXITSTATUS(status) >= 126))
				fprintf(stderr, "pyprof: warning: no profile was written "
						"(was '%s' a Python program?)\n", cmd[0]);
		} else {
			struct profile *p = profile_new();
			load_paths(p, (char **)files->pdata, (int)files->len, TRUE);
			if (p->processes->len)
				render_profile(p, &o, stderr);
			profile_free(p);
		}
		if (files)
			g_ptr_array_unref(files);
	}
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
	if (temp && !o.keep)
		remove_dir(dir);
	else if (temp)
		fprintf(stderr, "pyprof: profiles kept in %s\n", dir);
	if (child > 0) {
		g_free(lib);
		g_free(dir);
		g_option_context_free(ctx);
		report_opts_release(&o);
		exit_like(status);
	}
out:
	g_free(lib);
	g_free(dir);
	g_option_context_free(ctx);
	report_opts_release(&o);
	return rc;
}

/* ---- main ---- */

static void usage(FILE *f)
{
	fputs("Usage: pyprof COMMAND [OPTION...] [ARG...]\n"
	      "\n"
	      "A sampling profiler for CPython.\n"
	      "\n"
	      "Commands:\n"
	      "  report [OPTION...] FILE|DIR...        render a report from .pyprof files\n"
	      "  info FILE...                          describe .pyprof files\n"
	      "  run [OPTION...] -- COMMAND [ARG...]   profile COMMAND, then report\n"
	      "\n"
	      "Options:\n"
	      "  -h, --help       show this help\n"
	      "  --version        show the version\n"
	      "\n"
	      "Run 'pyprof COMMAND --help' for the options of a command; see pyprof(1).\n",
	      f);
}

int main(int argc, char **argv)
{
	const char *cmd;

	setlocale(LC_ALL, "");
	setlocale(LC_NUMERIC, "C"); /* reports use "1.5", whatever the locale */
	g_set_prgname("pyprof");
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "--version")) {
		printf("pyprof %s\n", PYPROF_VERSION);
		return 0;
	}
	{
		/* GOption prints g_get_prgname() in "Usage:" */
		char *name = g_strconcat("pyprof ", cmd, NULL);
		g_set_prgname(name);
		g_free(name);
	}
	if (!strcmp(cmd, "report"))
		return cmd_report(argc - 1, argv + 1);
	if (!strcmp(cmd, "info"))
		return cmd_info(argc - 1, argv + 1);
	if (!strcmp(cmd, "run"))
		return cmd_run(argc - 1, argv + 1);
	fprintf(stderr, "pyprof: unknown command '%s'\nTry 'pyprof --help'.\n", cmd);
	return EXIT_USAGE;
}
