/*
 * options.c - the option tables of `report` and `run` and their callbacks.
 *
 * GOptionEntry arrays are static, so the entries whose value is stored
 * straight into a field get that field's address when a context is made;
 * the others are callbacks that check the value first.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "cli/options.h"
#include "cli/when.h"
#include "collector/hide.h"

/* ---- option callbacks: validate, with messages naming the value ---- */

static gboolean opt_sysroot(const gchar *name, const gchar *value,
			    gpointer data, GError **error)
{
	if (!g_file_test(value, G_FILE_TEST_IS_DIR)) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "%s: '%s' is not a directory", name, value);
		return FALSE;
	}
	(void)data;
	profile_set_sysroot(value);
	return TRUE;
}

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

	if (i >= 0)
		((struct report_opts *)data)->color = when[i];
	return i >= 0;
}

static gboolean opt_weight(const gchar *name, const gchar *value, gpointer data,
			   GError **error)
{
	static const char *const words[] = {"samples", "ns", NULL};
	int i = opt_choice(name, value, words, error);

	if (i >= 0)
		((struct report_opts *)data)->render.weight_ns = i == 1;
	return i >= 0;
}

static gboolean opt_percent_of(const gchar *name, const gchar *value,
			       gpointer data, GError **error)
{
	static const char *const words[] = {"thread", "total", NULL};
	int i = opt_choice(name, value, words, error);

	if (i >= 0)
		((struct report_opts *)data)->render.percent_of_total = i == 1;
	return i >= 0;
}

static gboolean opt_sort(const gchar *name, const gchar *value, gpointer data,
			 GError **error)
{
	static const char *const words[] = {"self", "total", "name", NULL};
	static const enum render_sort sort[] = {RENDER_SORT_SELF,
						RENDER_SORT_TOTAL, RENDER_SORT_NAME};
	int i = opt_choice(name, value, words, error);

	if (i >= 0)
		((struct report_opts *)data)->render.sort = sort[i];
	return i >= 0;
}

/* The tree grouping named by one of words, group[i] for words[i] */
static gboolean opt_grouping(const gchar *name, const gchar *value,
			     const char *const *words,
			     const enum profile_group *group,
			     struct report_opts *o, GError **error)
{
	int i = opt_choice(name, value, words, error);

	if (i >= 0)
		o->group = group[i];
	return i >= 0;
}

/* --by: how files and threads merge; the same trees as --group, named
 * for what a merged report is split by */
static gboolean opt_by(const gchar *name, const gchar *value, gpointer data,
		       GError **error)
{
	static const char *const words[] = {"process", "thread", "none", NULL};
	static const enum profile_group group[] = {
		PROFILE_GROUP_PROCESS, PROFILE_GROUP_THREAD, PROFILE_GROUP_ALL};

	return opt_grouping(name, value, words, group, data, error);
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

/* --since, --until: the same time syntax (cli/when.h) */
static gboolean opt_when(const gchar *name, const gchar *value, gpointer data,
			 GError **error)
{
	struct report_opts *o = data;
	GError *e = NULL;
	guint64 t;

	if (!when_parse(value, g_get_real_time() * 1000, &t, &e)) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "%s: %s",
			    name, e->message);
		g_error_free(e);
		return FALSE;
	}
	if (!strcmp(name, "--since"))
		o->since_ns = t;
	else
		o->until_ns = t;
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
	static const char *const words[] = {"thread", "family", "name", "all", NULL};
	static const enum profile_group group[] = {
		PROFILE_GROUP_THREAD, PROFILE_GROUP_FAMILY, PROFILE_GROUP_NAME,
		PROFILE_GROUP_ALL};

	return opt_grouping(name, value, words, group, data, error);
}

/* Keeps a checked value for the environment of `run`'s command */
static gboolean opt_keep(char **field, const gchar *value)
{
	g_free(*field);
	*field = g_strdup(value);
	return TRUE;
}

double options_duration_ns(const char *value)
{
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
	return v;
}

/* The syntax libpyprof(7) accepts for PYPROF_INTERVAL: a number with a
 * unit (ns, us, ms, s) between 100us and 10s.  Checked here too so that a
 * typo fails before the command runs rather than leaving it unprofiled. */
gboolean options_interval_arg(const gchar *name, const gchar *value,
			      gpointer data, GError **error)
{
	struct report_opts *o = data;
	double v = options_duration_ns(value);

	if (!(v >= 1e5 && v <= 1e10)) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "%s: expected a duration with a unit between 100us and 10s, e.g. 1ms, got '%s'",
			    name, value);
		return FALSE;
	}
	return opt_keep(&o->interval, value);
}

/* Checked here too, as --interval is: a typo must fail before the command
 * runs rather than leave it unprofiled. */
gboolean options_mode_arg(const gchar *name, const gchar *value, gpointer data,
			  GError **error)
{
	static const char *const words[] = {"cpu", "wall", NULL};

	return opt_choice(name, value, words, error) >= 0 &&
	       opt_keep(&((struct report_opts *)data)->mode, value);
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
	 "trace, gecko, svg, json or pstats", "FORMAT"},
	{"output", 'o', 0, G_OPTION_ARG_FILENAME, NULL,
	 "Write the report to FILE; without --format, the format follows its "
	 "extension (.txt .folded .html .speedscope.json .pb.gz .pprof "
	 ".trace.json .gecko.json .svg .json .pstats)", "FILE"},
	{"by", 0, 0, G_OPTION_ARG_CALLBACK, opt_by,
	 "Split the merged report by process, by thread, or not at all "
	 "(default: by family of threads, as --group)", "process|thread|none"},
	{"window", 0, 0, G_OPTION_ARG_STRING, NULL,
	 "Only the samples between the start and stop marks labelled LABEL "
	 "(libpyprof(7), control API)", "LABEL"},
	{"since", 0, 0, G_OPTION_ARG_CALLBACK, opt_when,
	 "Only the samples taken from TIME on: -10m (before now), "
	 "YYYY-MM-DD HH:MM[:SS], HH:MM[:SS] (today) or @SECONDS", "TIME"},
	{"until", 0, 0, G_OPTION_ARG_CALLBACK, opt_when,
	 "Only the samples taken up to TIME (as --since)", "TIME"},
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
	{"flat", 0, 0, G_OPTION_ARG_NONE, NULL,
	 "text: a table of functions by self time, with their total time, "
	 "instead of the tree", NULL},
	{"sort", 0, 0, G_OPTION_ARG_CALLBACK, opt_sort,
	 "text --flat: order by self time (default), total time or name",
	 "self|total|name"},
	{"weight", 0, 0, G_OPTION_ARG_CALLBACK, opt_weight,
	 "collapsed: count samples (default) or ns", "samples|ns"},
	{"no-thread-frame", 0, G_OPTION_FLAG_REVERSE, G_OPTION_ARG_NONE, NULL,
	 "collapsed: do not start each stack with its thread's name", NULL},
	{"threads", 0, 0, G_OPTION_ARG_NONE, NULL,
	 "Print a table of the threads (name, tid, samples, CPU and wall "
	 "seconds, running and waiting shares), then one of their families, "
	 "instead of a report", NULL},
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
	 "One tree per thread, per family of threads whose names differ only "
	 "by their numbers (default), per thread name, or one for all",
	 "thread|family|name|all"},
	/* rules as bytes (FILENAME): GLib's conversion would fail with a
	 * message naming neither the option nor the value; the rule parser
	 * names both */
	{"hide", 0, G_OPTION_FLAG_FILENAME, G_OPTION_ARG_CALLBACK, opt_rule,
	 "Hide frames matching RULE; their time goes to their caller "
	 "(repeatable; see pyprof.conf(5))", "RULE"},
	{"collapse", 0, G_OPTION_FLAG_FILENAME, G_OPTION_ARG_CALLBACK, opt_rule,
	 "Show consecutive frames matching RULE as one node, [NAME] with "
	 "NAME=RULE (repeatable)", "RULE"},
	{"show", 0, G_OPTION_FLAG_FILENAME, G_OPTION_ARG_CALLBACK, opt_rule,
	 "Exempt frames matching RULE from hiding, collapsing and trimming "
	 "(repeatable)", "RULE"},
	{"preset", 0, G_OPTION_FLAG_FILENAME, G_OPTION_ARG_CALLBACK, opt_rule,
	 "Apply a preset rule set: importlib, site, runpy, threading, "
	 "multiprocessing (applied by default), ipython, asyncio (repeatable)", "NAME"},
	{"config", 0, 0, G_OPTION_ARG_FILENAME, NULL,
	 "Read settings from FILE instead of ./pyprof.conf or "
	 "~/.config/pyprof/pyprof.conf", "FILE"},
	{"show-all", 0, 0, G_OPTION_ARG_NONE, NULL,
	 "Show every recorded frame: no hiding, collapsing or trimming", NULL},
	{"sysroot", 0, 0, G_OPTION_ARG_CALLBACK, opt_sysroot,
	 "Native frames: read the profiled process's objects under DIR (its "
	 "container's or chroot's root) rather than at their paths", "DIR"},
	{"no-trim", 0, 0, G_OPTION_ARG_NONE, NULL,
	 "Keep the stem of start-up plumbing above the program's code", NULL},
	{"lines", 0, 0, G_OPTION_ARG_NONE, NULL,
	 "text, html, svg, speedscope: one node per line of a function, not "
	 "one per function", NULL},
	{"no-fold", 0, 0, G_OPTION_ARG_NONE, NULL,
	 "text, html, svg: keep runs of library frames and recursion as they "
	 "are, not folded into one line", NULL},
	{"full-paths", 0, 0, G_OPTION_ARG_NONE, NULL,
	 "text, html, svg: files by their full paths, not relative to the "
	 "program's directory or their library", NULL},
	{"trim-self-percent", 0, 0, G_OPTION_ARG_CALLBACK, opt_trim_percent,
	 "Stop trimming at a stem frame spending over P percent of its thread "
	 "outside its one callee (default 5)", "P"},
	G_OPTION_ENTRY_NULL
};

static gboolean opt_grace(const gchar *name, const gchar *value,
			  gpointer data, GError **error)
{
	char *end;
	double v = g_ascii_strtod(value, &end);

	if (end == value || *end || !(v >= 0 && v <= 86400)) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "%s: '%s' is not a number of seconds from 0 to 86400",
			    name, value);
		return FALSE;
	}
	((struct report_opts *)data)->grace = v;
	return TRUE;
}

static const GOptionEntry run_entries[] = {
	{"interval", 'i', 0, G_OPTION_ARG_CALLBACK, options_interval_arg,
	 "Sampling interval, e.g. 5ms (default 1ms, or PYPROF_INTERVAL)", "TIME"},
	{"mode", 'm', 0, G_OPTION_ARG_CALLBACK, options_mode_arg,
	 "cpu (the default: CPU time per thread) or wall (wall time, "
	 "waiting shown as [idle]); PYPROF_MODE", "cpu|wall"},
	{"output-dir", 'd', 0, G_OPTION_ARG_FILENAME, NULL,
	 "Keep the .pyprof files in DIR instead of a temporary directory", "DIR"},
	{"keep", 'k', 0, G_OPTION_ARG_NONE, NULL,
	 "Keep the temporary directory and say where it is", NULL},
	{"native", 0, 0, G_OPTION_ARG_NONE, NULL,
	 "Record native (C, C++) frames with the Python ones (PYPROF_NATIVE=1)",
	 NULL},
	{"grace", 0, 0, G_OPTION_ARG_CALLBACK, opt_grace,
	 "After COMMAND exits, wait up to S seconds for the processes it "
	 "started (default 5)", "S"},
	G_OPTION_ENTRY_NULL
};

/* Entries with a NULL arg_data are pointed at o's fields here. */
GOptionContext *options_context_new(const char *usage, const char *summary,
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
		else if (!strcmp(e[n].long_name, "flat"))
			e[n].arg_data = &o->render.flat;
		else if (!strcmp(e[n].long_name, "no-thread-frame"))
			e[n].arg_data = &o->render.thread_frame;
		else if (!strcmp(e[n].long_name, "config"))
			e[n].arg_data = &o->config_file;
		else if (!strcmp(e[n].long_name, "show-all"))
			e[n].arg_data = &o->show_all;
		else if (!strcmp(e[n].long_name, "no-trim"))
			e[n].arg_data = &o->no_trim;
		else if (!strcmp(e[n].long_name, "lines"))
			e[n].arg_data = &o->lines;
		else if (!strcmp(e[n].long_name, "no-fold"))
			e[n].arg_data = &o->no_fold;
		else if (!strcmp(e[n].long_name, "full-paths"))
			e[n].arg_data = &o->render.full_paths;
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
		else if (!strcmp(e[n].long_name, "native"))
			e[n].arg_data = &o->native;
		n++;
	}
	e[n] = (GOptionEntry)G_OPTION_ENTRY_NULL;
	g_option_group_add_entries(g, e);
	g_option_context_set_main_group(ctx, g);
	g_option_context_set_summary(ctx, summary);
	g_option_context_set_description(ctx, "See pyprof(1) for details.");
	return ctx;
}

void options_init(struct report_opts *o)
{
	memset(o, 0, sizeof *o);
	o->format = render_lookup("text");
	/* a server's thread per request is one tree, not thousands */
	o->group = PROFILE_GROUP_FAMILY;
	o->grace = 5;
	o->color = COLOR_AUTO;
	render_options_init(&o->render);
	config_init(&o->config);
	o->trim_self_percent = -1;
	o->idle = TRUE;
	o->until_ns = G_MAXUINT64;
}

void options_release(struct report_opts *o)
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

gboolean options_shape_setup(struct report_opts *o, const char *cmd)
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

gboolean options_parse(GOptionContext *ctx, const char *cmd, int *argc,
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
