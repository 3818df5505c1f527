/*
 * diff.h - two call trees compared, for `pyprof diff`: by function (what
 * the text table and the html page list) and by call path (what the html
 * page's differential flame graph colours).
 *
 * Every time is taken as a share of its own tree's total, so that a run
 * twice as long does not look twice as slow everywhere.  A function is
 * the same on both sides when its kind, file and name are (its lines may
 * have moved); a call path is when each of its frames is, a folded group
 * of library frames matching any group at that place (its label counts
 * frames, which differ from run to run), and the thread roots matching by
 * name, or whatever they are called when each side has one root only.
 */
#ifndef PYPROF_DIFF_H
#define PYPROF_DIFF_H

#include <glib.h>

#include "collector/profile.h"

struct diff_row {
	const struct profile_frame *frame; /* as shown: NEW's where it is there */
	double self[2], total[2];          /* BASE's and NEW's shares, percent */
	guint64 self_ns[2];
	char *key;                         /* private */
};

struct diff {
	const struct profile_tree *t[2];   /* BASE and NEW; not owned */
	guint64 total_ns[2];
	GPtrArray *rows; /* of struct diff_row *, owned; the largest change
			  * (of its self or its total share) first */
};

/* The functions of base and cur (which must outlive it) compared.  Owned
 * by the caller: diff_free(). */
struct diff *diff_new(const struct profile_tree *base,
		      const struct profile_tree *cur);
void diff_free(struct diff *d);

/* The larger of a row's two changes, in points, with its sign */
double diff_row_change(const struct diff_row *r);
/* Whether the function is in NEW only, or in BASE only */
gboolean diff_row_added(const struct diff_row *r);
gboolean diff_row_gone(const struct diff_row *r);

/* For each node of NEW's tree (d->t[1]), the self and total share, in
 * percent of BASE's total, of the node of the same call path in BASE, or
 * -1 where BASE has no such path.  Both arrays are newly allocated, as
 * long as the tree has nodes: g_free() them. */
void diff_paths(const struct diff *d, double **self, double **total);

#endif
