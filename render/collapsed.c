/*
 * collapsed.c - folded stacks, the input of flamegraph.pl and speedscope:
 *
 *   MainThread;<module> (app.py:3);main (app.py:10);work (app.py:20) 42
 *
 * One line per distinct stack, root first, frames joined by ';', then a
 * space and the count (samples, or nanoseconds with --weight=ns).  A frame
 * is spelled "label (file:line)", a synthetic one by its label alone
 * ("[truncated]", "[unknown]"); ';' and control characters inside a name
 * become '?'.  Lines come sorted bytewise, so the output is deterministic;
 * stacks that spell the same are summed.
 */
#include "config.h"

#include "render.h"

#include <string.h>

struct collapsed {
	const struct profile *p;
	const struct profile_tree *t;
	const struct render_options *o;
	FILE *out;
	GString *path;
	char **spelled; /* frame id -> its spelling, made on first use */
};

static const char *spell(struct collapsed *c, guint32 frame)
{
	const struct profile_frame *f;
	GString *b;

	if (c->spelled[frame])
		return c->spelled[frame];
	f = profile_frame(c->p, frame);
	b = g_string_new(NULL);
	render_append_clean(b, profile_frame_label(f), ';');
	if (f->kind == PROFILE_FRAME_PYTHON) {
		g_string_append(b, " (");
		render_append_place(b, f, ';');
		g_string_append_c(b, ')');
	} else if (f->kind == PROFILE_FRAME_NATIVE) {
		g_string_append(b, " [");
		render_append_place(b, f, ';');
		g_string_append_c(b, ']');
	}
	return c->spelled[frame] = g_string_free(b, FALSE);
}

struct group {
	const char *spelling;
	GArray *nodes; /* guint32 */
};

/* Sorting siblings by spelling + ';' makes a depth-first walk emit the
 * lines in bytewise order: "a b" < "a;b" since ' ' < ';'. */
static int group_compare(gconstpointer a, gconstpointer b)
{
	const char *x = ((const struct group *)a)->spelling;
	const char *y = ((const struct group *)b)->spelling;

	while (*x && *x == *y)
		x++, y++;
	return (int)(unsigned char)(*x ? *x : ';') -
	       (int)(unsigned char)(*y ? *y : ';');
}

/* Emits the lines below the nodes `set`, which all spell the current
 * path.  Nodes spelling alike (two threads of one name, two frames that
 * differ only in their definition line) are merged level by level, so
 * memory stays proportional to one path, not to the output. */
static void collapsed_children(struct collapsed *c, GArray *set)
{
	GHashTable *index = g_hash_table_new(g_str_hash, g_str_equal);
	GArray *groups = g_array_new(FALSE, FALSE, sizeof(struct group));
	gsize len = c->path->len;

	for (guint i = 0; i < set->len; i++) {
		guint32 n;
		const guint32 *kids = profile_tree_children(c->t, g_array_index(set, guint32, i), &n);
		for (guint32 j = 0; j < n; j++) {
			const char *sp = spell(c, profile_tree_node(c->t, kids[j])->frame);
			gpointer at;
			if (!g_hash_table_lookup_extended(index, sp, NULL, &at)) {
				struct group g = {sp, g_array_new(FALSE, FALSE, sizeof(guint32))};
				at = GUINT_TO_POINTER(groups->len);
				g_array_append_val(groups, g);
				g_hash_table_insert(index, (gpointer)sp, at);
			}
			g_array_append_val(g_array_index(groups, struct group,
							 GPOINTER_TO_UINT(at)).nodes,
					   kids[j]);
		}
	}
	g_hash_table_unref(index);
	g_array_sort(groups, group_compare);
	for (guint i = 0; i < groups->len; i++) {
		struct group *g = &g_array_index(groups, struct group, i);
		guint64 count = 0;
		gboolean any = FALSE;

		if (c->path->len)
			g_string_append_c(c->path, ';');
		g_string_append(c->path, g->spelling);
		for (guint j = 0; j < g->nodes->len; j++) {
			const struct profile_node *nd =
				profile_tree_node(c->t, g_array_index(g->nodes, guint32, j));
			/* with --weight=ns, time without a sample of its
			 * own too: a wall-mode [idle] leaf holds the waits
			 * within running samples' periods */
			if (c->o->weight_ns ? nd->self_ns != 0 : nd->self_samples != 0)
				any = TRUE;
			count += c->o->weight_ns ? nd->self_ns : nd->self_samples;
		}
		if (any)
			fprintf(c->out, "%s %" G_GUINT64_FORMAT "\n", c->path->str, count);
		collapsed_children(c, g->nodes);
		g_array_unref(g->nodes);
		g_string_truncate(c->path, len);
	}
	g_array_unref(groups);
}

gboolean render_collapsed(const struct profile *p, const struct profile_tree *t,
			  const struct render_options *o, FILE *out,
			  GError **error)
{
	struct collapsed c = {.p = p, .t = t, .o = o, .out = out};
	GArray *set = g_array_new(FALSE, FALSE, sizeof(guint32));
	guint32 n, root = 0;
	const guint32 *threads = profile_tree_children(t, 0, &n);

	c.path = g_string_new(NULL);
	c.spelled = g_new0(char *, profile_n_frames(p) + 1);
	if (o->thread_frame) {
		g_array_append_val(set, root);
	} else {
		/* the thread nodes' own samples (empty stacks) have no frame
		 * left to spell and are left out */
		for (guint32 i = 0; i < n; i++)
			g_array_append_val(set, threads[i]);
	}
	collapsed_children(&c, set);
	g_array_unref(set);
	for (guint32 i = 0; i <= profile_n_frames(p); i++)
		g_free(c.spelled[i]);
	g_free(c.spelled);
	g_string_free(c.path, TRUE);
	return render_check_stream(out, error);
}
