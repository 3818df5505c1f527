/*
 * pipeline.h - what `report` and `run` do with their files: read them
 * (with a progress line on a terminal), then hide, build the tree, trim
 * it and render it as the options say.
 */
#ifndef PYPROF_CLI_PIPELINE_H
#define PYPROF_CLI_PIPELINE_H

#include <stdio.h>

#include <glib.h>

#include "cli/options.h"
#include "collector/profile.h"

/* Prints p's warnings from index *printed on, and advances it. */
void pipeline_print_warnings(struct profile *p, guint *printed);

/* The *.pyprof files in dir, and the packed *.pyprofz whose live file is
 * not there, sorted, owned by the caller; NULL with error if dir is
 * unreadable. */
GPtrArray *pipeline_dir_profiles(const char *dir, GError **error);

/* Says what p must keep of the files pipeline_load reads into it for what
 * o asks (profile_set_timelines); before loading. */
void pipeline_prepare(struct profile *p, struct report_opts *o);

/* Loads every path (files, or directories of *.pyprof) into p; prints
 * errors and warnings.  Returns FALSE after the first error, or with
 * keep_going after trying every path. */
gboolean pipeline_load(struct profile *p, char **paths, int n,
		       gboolean keep_going);

/* Shapes and renders p to o->output, or to dflt; prints errors; returns
 * an exit code. */
/* The tree every format shows: p's samples after o's hiding, collapsing
 * and trimming (the built-in defaults too, unless --show-all).  topts is
 * filled with the options it was built with; the rules stay o's. */
struct profile_tree *pipeline_shape(struct profile *p, struct report_opts *o,
				    struct profile_tree_options *topts);

int pipeline_render(struct profile *p, struct report_opts *o, FILE *dflt);

#endif
