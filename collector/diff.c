/*
 * diff.c - two call trees compared by function and by call path (see
 * diff.h for what counts as the same).
 *
 * By function: profile_tree_functions gives each side's functions with
 * their own and total time (recursion counted once); rows are keyed by
 * the function's identity and summed.  By path: each node of BASE gets a
 * path id from its parent's and its own key, in node order (a parent's id
 * is always smaller than its children's), and NEW's nodes look theirs up.
 */
#include "config.h"

#include "collector/diff.h"

#include <string.h>

static char *function_key(const struct profile_frame *f)
{
	return g_strdup_printf("%d\x1f%s\x1f%s", (int)f->kind, f->filename,
			       profile_frame_label(f));
}

static void add_side(struct diff *d, GHashTable *rows, int side)
{
	const struct profile_tree *t = d->t[side];
	GPtrArray *fns = profile_tree_functions(t, 0);
	double total = (double)d->total_ns[side];

	for (guint k = 0; k < fns->len; k++) {
		const struct profile_function_total *fn = g_ptr_array_index(fns, k);
		char *key = function_key(profile_frame(t->profile, fn->function));
		struct diff_row *r = g_hash_table_lookup(rows, key);

		if (!r) {
			r = g_new0(struct diff_row, 1);
			r->key = key;
			g_hash_table_insert(rows, key, r);
			g_ptr_array_add(d->rows, r);
		} else {
			g_free(key);
		}
		if (!r->frame || side == 1)
			r->frame = profile_frame(t->profile, fn->line_frame);
		r->self_ns[side] += fn->self_ns;
		if (total > 0) {
			r->self[side] += 100.0 * (double)fn->self_ns / total;
			r->total[side] += 100.0 * (double)fn->total_ns / total;
		}
	}
	g_ptr_array_unref(fns);
}

double diff_row_change(const struct diff_row *r)
{
	double ds = r->self[1] - r->self[0], dt = r->total[1] - r->total[0];

	return (ds < 0 ? -ds : ds) > (dt < 0 ? -dt : dt) ? ds : dt;
}

gboolean diff_row_added(const struct diff_row *r)
{
	return !r->self_ns[0] && r->total[0] == 0;
}

gboolean diff_row_gone(const struct diff_row *r)
{
	return r->self[1] == 0 && r->total[1] == 0;
}

static int row_cmp(gconstpointer pa, gconstpointer pb)
{
	const struct diff_row *a = *(struct diff_row *const *)pa;
	const struct diff_row *b = *(struct diff_row *const *)pb;
	double ka = diff_row_change(a), kb = diff_row_change(b);

	ka = ka < 0 ? -ka : ka;
	kb = kb < 0 ? -kb : kb;
	if (ka != kb)
		return ka < kb ? 1 : -1;
	return strcmp(a->key, b->key);
}

static void row_free(gpointer data)
{
	struct diff_row *r = data;

	g_free(r->key);
	g_free(r);
}

struct diff *diff_new(const struct profile_tree *base,
		      const struct profile_tree *cur)
{
	struct diff *d = g_new0(struct diff, 1);
	GHashTable *rows = g_hash_table_new(g_str_hash, g_str_equal);

	d->t[0] = base;
	d->t[1] = cur;
	for (int i = 0; i < 2; i++)
		d->total_ns[i] = profile_tree_node(d->t[i], 0)->total_ns;
	d->rows = g_ptr_array_new_with_free_func(row_free);
	add_side(d, rows, 0);
	add_side(d, rows, 1);
	g_ptr_array_sort(d->rows, row_cmp);
	g_hash_table_unref(rows);
	return d;
}

void diff_free(struct diff *d)
{
	if (!d)
		return;
	g_ptr_array_unref(d->rows);
	g_free(d);
}

/* ---- call paths ---- */

#define NO_PATH G_MAXUINT32

/* The key of node id under its parent's path: a group matches any group,
 * a thread root its name, or anything when both sides have one root */
static void path_key(GString *b, const struct profile_tree *t, guint32 id,
		     guint32 parent_path, gboolean one_root)
{
	const struct profile_node *nd = profile_tree_node(t, id);
	const struct profile_frame *f = profile_frame(t->profile, nd->frame);

	g_string_printf(b, "%u\x1e", parent_path);
	if (nd->parent == 0 && one_root)
		g_string_append(b, "root");
	else if (f->kind == PROFILE_FRAME_GROUP)
		g_string_append(b, "group");
	else
		g_string_append_printf(b, "%d\x1f%s\x1f%s", (int)f->kind, f->filename,
				       profile_frame_label(f));
}

void diff_paths(const struct diff *d, double **self, double **total)
{
	const struct profile_tree *base = d->t[0], *cur = d->t[1];
	GHashTable *ids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	guint32 nb = base->nodes->len, nc = cur->nodes->len;
	guint32 *bpath = g_new(guint32, nb), *cpath = g_new(guint32, nc);
	GArray *self_ns = g_array_new(FALSE, TRUE, sizeof(guint64));
	GArray *total_ns = g_array_new(FALSE, TRUE, sizeof(guint64));
	guint32 base_roots, cur_roots;
	gboolean one_root;
	double all = (double)d->total_ns[0];
	GString *b = g_string_new(NULL);

	profile_tree_children(base, 0, &base_roots);
	profile_tree_children(cur, 0, &cur_roots);
	one_root = base_roots == 1 && cur_roots == 1;
	/* path 0 is the root's */
	bpath[0] = cpath[0] = 0;
	g_array_set_size(self_ns, 1);
	g_array_set_size(total_ns, 1);
	g_array_index(self_ns, guint64, 0) = profile_tree_node(base, 0)->self_ns;
	g_array_index(total_ns, guint64, 0) = profile_tree_node(base, 0)->total_ns;
	for (guint32 i = 1; i < nb; i++) {
		const struct profile_node *nd = profile_tree_node(base, i);
		gpointer v;
		guint32 id;

		path_key(b, base, i, bpath[nd->parent], one_root);
		if (!(v = g_hash_table_lookup(ids, b->str))) {
			id = self_ns->len;
			g_array_set_size(self_ns, id + 1);
			g_array_set_size(total_ns, id + 1);
			g_hash_table_insert(ids, g_strdup(b->str), GUINT_TO_POINTER(id + 1));
		} else {
			id = GPOINTER_TO_UINT(v) - 1;
		}
		bpath[i] = id;
		g_array_index(self_ns, guint64, id) += nd->self_ns;
		/* two nodes of one path (threads of one name) both count;
		 * a node never holds another of its own path */
		g_array_index(total_ns, guint64, id) += nd->total_ns;
	}
	*self = g_new(double, nc);
	*total = g_new(double, nc);
	for (guint32 i = 0; i < nc; i++) {
		const struct profile_node *nd = profile_tree_node(cur, i);
		gpointer v = NULL;

		if (i) {
			if (cpath[nd->parent] != NO_PATH) {
				path_key(b, cur, i, cpath[nd->parent], one_root);
				v = g_hash_table_lookup(ids, b->str);
			}
			cpath[i] = v ? GPOINTER_TO_UINT(v) - 1 : NO_PATH;
		}
		if (cpath[i] == NO_PATH || all <= 0) {
			(*self)[i] = (*total)[i] = cpath[i] == NO_PATH ? -1 : 0;
			continue;
		}
		(*self)[i] = 100.0 * (double)g_array_index(self_ns, guint64, cpath[i]) / all;
		(*total)[i] = 100.0 * (double)g_array_index(total_ns, guint64, cpath[i]) / all;
	}
	g_string_free(b, TRUE);
	g_hash_table_unref(ids);
	g_array_unref(self_ns);
	g_array_unref(total_ns);
	g_free(bpath);
	g_free(cpath);
}
