/*
 * shape.h - a call tree reshaped for people: one node per function, a
 * function calling itself folded into one node, and runs of library code
 * between the program's own frames folded into one line.
 *
 * Each stage makes the tree anew and keeps tree->built pointing right
 * (profile_tree_remap), so renderers of timelines still place every
 * sample; totals are unchanged by all of them.  They run after hiding and
 * trimming, in this order: functions, then fold.
 *
 * shape_functions: the nodes of one function under one parent (one per
 * calling line of the function, in the tree as built) become one node,
 * and what lay below them merges likewise.  The node keeps its lines in
 * tree->lines: the time at each line of the function, its callees'
 * included, heaviest first.
 *
 * shape_fold, recursion: a node of the same function as its parent (a
 * staircase of fib calling fib) is merged into it, its callees becoming
 * the parent's; the node's `repeat` is the deepest such chain.
 *
 * shape_fold, libraries: in a run of library frames (Python code of the
 * standard library and installed packages: profile_frame_is_library;
 * native frames, recorded only when asked for, are never folded) the
 * frames that matter stay: the run's first frame (what the program
 * called), those that call back into the program, and those whose own
 * time (waiting included) is at least o->min_percent of their thread's.
 * The others fold: those below one frame that stays (the nearest) become
 * one group node right below it, "[json, urllib3: 14 frames]" (the
 * packages of the folded frames, heaviest first, and the count of
 * distinct functions folded), and the frames that stay below them hang
 * from the group.  The group's own time is the folded frames' own time.
 * Fewer than two functions to fold below a frame stay as they are.
 * Frames o->exempt says so (a --show rule matches them) are never folded
 * nor library.
 */
#ifndef PYPROF_SHAPE_H
#define PYPROF_SHAPE_H

#include <glib.h>

#include "collector/profile.h"

struct shape_options {
	gboolean recursion;  /* fold recursion */
	gboolean libraries;  /* fold library runs */
	double min_percent;  /* a library frame with this share of its
			      * thread's time in its own stays */
	gboolean (*exempt)(const struct profile *p, guint32 frame, gpointer data);
	gpointer data;
};

void shape_functions(struct profile_tree *t);

/* p: where the group frames are interned */
void shape_fold(struct profile *p, struct profile_tree *t,
		const struct shape_options *o);

/* The frame of node id's heaviest line (its own frame if it has no line
 * breakdown) */
guint32 shape_hot_line(const struct profile_tree *t, guint32 id);

#endif
