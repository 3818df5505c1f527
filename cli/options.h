/*
 * options.h - the options of `report` and `run`, parsed into one struct
 * report_opts.
 *
 * Both subcommands take every report option, so they share one table;
 * `run` adds its own.  Values are checked in GOption callbacks, so that a
 * bad one fails with a message naming the option and the value, and hide
 * rules given on the command line are compiled as they are parsed.
 */
#ifndef PYPROF_CLI_OPTIONS_H
#define PYPROF_CLI_OPTIONS_H

#include <glib.h>

#include "collector/conf.h"
#include "collector/profile.h"
#include "render/render.h"

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
	gboolean lines, no_fold; /* --lines, --no-fold (collector/shape.h) */
	gboolean defaults_added, ipython_added; /* pipeline_shape's, once */
	gboolean idle;         /* --idle (default) / --no-idle */
	double trim_self_percent; /* < 0: not given */
	/* run only */
	char *interval;
	char *mode;
	char *output_dir;
	gboolean keep;
	gboolean native; /* --native: PYPROF_NATIVE=1 */
	double grace;  /* --grace: seconds to wait for the command's children */
	char *title;
	char *window; /* --window LABEL: only samples inside those marks */
	/* --since, --until: wall-clock ns since the epoch; 0 and
	 * G_MAXUINT64 when not given */
	guint64 since_ns, until_ns;
	GPtrArray *threads_sel;   /* --thread NAME|TID, repeatable */
	gboolean threads_table;   /* --threads */
};

/* run's --interval and --mode checks (GOptionArgFunc, the group's user
 * data an o), for another command's entries: attach's. */
gboolean options_interval_arg(const gchar *name, const gchar *value,
			      gpointer data, GError **error);
gboolean options_mode_arg(const gchar *name, const gchar *value, gpointer data,
			  GError **error);

/* Sets o to the defaults; options_release() frees what parsing added. */
void options_init(struct report_opts *o);
void options_release(struct report_opts *o);

/* A context for the report options (and with run, run's too) whose
 * callbacks and fields are o's.  Owned by the caller:
 * g_option_context_free(), before options_release(o). */
GOptionContext *options_context_new(const char *usage, const char *summary,
				    struct report_opts *o, gboolean run);

/* Parses argv for command `cmd`; on a usage error prints it and returns
 * FALSE.  --help is handled by GLib (it exits 0). */
gboolean options_parse(GOptionContext *ctx, const char *cmd, int *argc,
		       char ***argv);

/* A duration with its unit (ns, us, ms, s: "1.5ms") in ns, or -1 */
double options_duration_ns(const char *value);

/* Reads the config file and the environment into o->config (the command
 * line's rules are there already); FALSE after printing an error. */
gboolean options_shape_setup(struct report_opts *o, const char *cmd);

#endif
