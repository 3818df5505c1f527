/*
 * conf.h - the report's shaping settings (hiding, collapsing, trimming)
 * from pyprof.conf and the environment; the command line adds its own in
 * cli/options.c.  pyprof.conf(5) is the manual.
 *
 * Precedence: command line > environment > config file > default.  Rules
 * carry their level into struct hide_rules (see hide.h), which resolves
 * conflicts per frame; the scalar settings here are overwritten level by
 * level, lowest first, and -1 means "not set at any level yet".
 *
 * Only one config file is read: --config FILE, else $PYPROF_CONFIG, else
 * ./pyprof.conf, else $XDG_CONFIG_HOME/pyprof/pyprof.conf (XDG_CONFIG_HOME
 * defaulting to ~/.config); the first that exists.
 */
#ifndef PYPROF_CONF_H
#define PYPROF_CONF_H

#include <glib.h>

#include "collector/hide.h"

struct config {
	struct hide_rules *rules; /* owned */
	int show_all;             /* -1 unset, else 0 or 1 */
	int trim;                 /* -1 unset, else 0 or 1 */
	int fold;                 /* -1 unset, else 0 or 1 (collector/shape.h) */
	double trim_self_percent; /* < 0 unset */
	char *file;               /* the config file read, NULL if none */
};

void config_init(struct config *c);
void config_release(struct config *c);

/* The config file to read (`explicit` wins if not NULL), or NULL if none
 * exists.  Newly allocated. */
char *config_find_file(const char *explicit_path);

/* Reads the [report] group of a GKeyFile; FALSE with an error naming the
 * file (and key) when it cannot be read or a value is wrong. */
gboolean config_load_file(struct config *c, const char *path, GError **error);

/* Reads PYPROF_HIDE, PYPROF_COLLAPSE, PYPROF_SHOW, PYPROF_PRESET,
 * PYPROF_SHOW_ALL, PYPROF_TRIM; FALSE with an error naming the variable. */
gboolean config_load_env(struct config *c, GError **error);

/* Splits a list value at ';' (a ';' inside a rule is written '\;'); other
 * backslashes are kept, so regexes need no doubling.  Empty items are
 * dropped.  Newly allocated, NULL-terminated. */
char **config_split_list(const char *value);

/* Parses 1/0, yes/no, true/false, on/off. */
gboolean config_parse_bool(const char *s, gboolean *out);

#endif
