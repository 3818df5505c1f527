/*
 * trim.h - remove the stem of interpreter and tool plumbing above the
 * program's own code, on the call tree, however it was recorded.
 *
 * Trimming reasons about functions: the lines of one function are one
 * frame here (a tree node is a function *at a line*, so runpy's
 * _run_module_as_main is several nodes).  Starting at each function among
 * a thread's top frames, a frame is trimmed while all of these hold:
 *   - it is plumbing (o->plumbing says so: the built-in list, plus rules;
 *     see hide.h), and no show rule matches it;
 *   - it calls something, and the time it spends outside its heaviest
 *     callee (its self time, its [idle] time -- waiting in a call it made
 *     itself -- and other callees that are not plumbing) is at most
 *     o->self_percent of its thread's total: it leads to a single child
 *     of the program's;
 * and trimming goes on with that heaviest callee.  The first frame that
 * fails is the new top frame (the program's own code fails the first
 * test; [idle] is never plumbing).  Hidden frames never reach the tree,
 * so a stem of hidden frames is gone already.  A trimmed frame's self
 * time goes to the thread and its other callees, [idle] included, become
 * top frames, as a hidden frame's would; nodes that end up alike under
 * one parent are merged.  Totals are unchanged.
 */
#ifndef PYPROF_TRIM_H
#define PYPROF_TRIM_H

#include <glib.h>

#include "collector/profile.h"

#define TRIM_DEFAULT_SELF_PERCENT 5.0

struct trim_options {
	gboolean (*plumbing)(const struct profile *p, guint32 frame, gpointer data);
	gpointer data;
	double self_percent; /* 0..100 */
};

/* Trims t in place and records each trimmed stem in t->trims.  Returns
 * the number of frames removed. */
guint trim_stem(struct profile_tree *t, const struct trim_options *o);

/* "label (module)", or the label alone when the module is unknown;
 * newly allocated. */
char *trim_spell_frame(const struct profile *p, guint32 frame);

#endif
