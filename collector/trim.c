/*
 * trim.c - stem trimming (see trim.h for the rules).
 *
 * Works on a finished tree in two passes.  First, per thread and per
 * function among its top frames, it follows the stem as a *set* of nodes
 * (every line of the function), marking the sets it removes.  Then it
 * copies the node array in id order (parents first): a removed node's id
 * maps to its parent's new id, so its callees are re-parented and its self
 * time handed up, and a node whose (new parent, frame) already exists is
 * merged into it, subtree and all.  profile_tree_finish redoes totals,
 * children and order.
 */
#include "config.h"

#include "trim.h"

#include <string.h>

#include "collector/hide.h"

char *trim_spell_frame(const struct profile *p, guint32 frame)
{
	const struct profile_frame *f = profile_frame(p, frame);
	char *module, *s;

	if (f->kind != PROFILE_FRAME_PYTHON)
		return g_strdup(profile_frame_label(f));
	module = hide_module_of(f->filename);
	s = *module ? g_strdup_printf("%s (%s)", profile_frame_label(f), module)
		    : g_strdup(profile_frame_label(f));
	g_free(module);
	return s;
}

static guint32 function_of(const struct profile_tree *t, guint32 node)
{
	return profile_frame(t->profile, profile_tree_node(t, node)->frame)->function;
}

/* An [idle] node is the time its caller spent blocked in a call it made
 * (profile.h): the caller's own time, never a callee to trim towards, and
 * never plumbing itself. */
static gboolean is_idle(const struct profile_tree *t, guint32 node)
{
	return profile_frame(t->profile, profile_tree_node(t, node)->frame)->kind ==
	       PROFILE_FRAME_IDLE;
}

/* Follows the stem from `set` (the nodes of one function under a thread),
 * marking what it removes; returns the number of frames trimmed and sets
 * *last to a node of the last one. */
static guint trim_from(struct profile_tree *t, const struct trim_options *o,
		       GArray *set, guint64 thread_ns, guint8 *removed,
		       guint32 *last)
{
	GHashTable *callees = g_hash_table_new(g_direct_hash, g_direct_equal);
	GArray *next = g_array_new(FALSE, FALSE, sizeof(guint32));
	guint n = 0;

	for (;;) {
		guint64 total = 0, best_ns = 0, side_plumbing = 0;
		guint32 best = 0, fr = profile_tree_node(t, g_array_index(set, guint32, 0))->frame;
		GHashTableIter it;
		gpointer k, v;

		if (is_idle(t, g_array_index(set, guint32, 0)) ||
		    !o->plumbing(t->profile, fr, o->data))
			break;
		g_hash_table_remove_all(callees);
		for (guint i = 0; i < set->len; i++) {
			guint32 id = g_array_index(set, guint32, i), nk;
			const guint32 *kids = profile_tree_children(t, id, &nk);
			total += profile_tree_node(t, id)->total_ns;
			for (guint32 j = 0; j < nk; j++) {
				gpointer f = GUINT_TO_POINTER(function_of(t, kids[j]));
				guint64 sum;

				if (is_idle(t, kids[j]))
					continue; /* counts as self time */
				sum = (guint64)(guintptr)g_hash_table_lookup(callees, f);
				sum += profile_tree_node(t, kids[j])->total_ns;
				g_hash_table_insert(callees, f, (gpointer)(guintptr)sum);
			}
		}
		g_hash_table_iter_init(&it, callees);
		while (g_hash_table_iter_next(&it, &k, &v))
			if (!best || (guint64)(guintptr)v > best_ns ||
			    ((guint64)(guintptr)v == best_ns && GPOINTER_TO_UINT(k) < best)) {
				best = GPOINTER_TO_UINT(k);
				best_ns = (guint64)(guintptr)v;
			}
		/* plumbing's side work (runpy finding the module) is no branch */
		g_hash_table_iter_init(&it, callees);
		while (g_hash_table_iter_next(&it, &k, &v))
			if (GPOINTER_TO_UINT(k) != best &&
			    o->plumbing(t->profile, GPOINTER_TO_UINT(k), o->data))
				side_plumbing += (guint64)(guintptr)v;
		/* no callee, or too much time outside the main one */
		if (!best || (double)(total - best_ns - side_plumbing) * 100.0 >
				     o->self_percent * (double)thread_ns)
			break;
		g_array_set_size(next, 0);
		for (guint i = 0; i < set->len; i++) {
			guint32 id = g_array_index(set, guint32, i), nk;
			const guint32 *kids = profile_tree_children(t, id, &nk);
			removed[id] = 1;
			*last = id;
			for (guint32 j = 0; j < nk; j++)
				if (function_of(t, kids[j]) == best)
					g_array_append_val(next, kids[j]);
		}
		n++;
		g_array_set_size(set, 0);
		g_array_append_vals(set, next->data, next->len);
	}
	g_hash_table_unref(callees);
	g_array_unref(next);
	return n;
}

struct edge {
	guint32 parent, frame;
};

static guint edge_hash(gconstpointer k)
{
	const struct edge *e = k;
	return g_int64_hash(&(gint64){((gint64)e->parent << 32) | e->frame});
}

static gboolean edge_equal(gconstpointer a, gconstpointer b)
{
	const struct edge *x = a, *y = b;
	return x->parent == y->parent && x->frame == y->frame;
}

/* Copies t's nodes without the removed ones, merging alike siblings. */
static void rebuild(struct profile_tree *t, const guint8 *removed, guint32 *map)
{
	guint32 n = t->nodes->len;
	GArray *nodes = g_array_sized_new(FALSE, FALSE, sizeof(struct profile_node), n);
	struct edge *keys = g_new(struct edge, n);
	GHashTable *index = g_hash_table_new(edge_hash, edge_equal);

	for (guint32 i = 0; i < n; i++) {
		struct profile_node nd = g_array_index(t->nodes, struct profile_node, i);
		struct profile_node *up;
		gpointer found;

		if (i && removed[i]) {
			map[i] = map[nd.parent];
			up = &g_array_index(nodes, struct profile_node, map[i]);
			up->self_ns += nd.self_ns;
			up->self_samples += nd.self_samples;
			continue;
		}
		if (i) {
			nd.parent = map[nd.parent];
			keys[i] = (struct edge){nd.parent, nd.frame};
			if ((found = g_hash_table_lookup(index, &keys[i]))) {
				map[i] = GPOINTER_TO_UINT(found);
				up = &g_array_index(nodes, struct profile_node, map[i]);
				up->self_ns += nd.self_ns;
				up->self_samples += nd.self_samples;
				continue;
			}
		}
		map[i] = nodes->len;
		if (i)
			g_hash_table_insert(index, &keys[i], GUINT_TO_POINTER(map[i]));
		g_array_append_val(nodes, nd);
	}
	g_hash_table_unref(index);
	g_free(keys);
	g_array_unref(t->nodes);
	t->nodes = nodes;
}

guint trim_stem(struct profile_tree *t, const struct trim_options *o)
{
	guint32 n = t->nodes->len, n_threads;
	const guint32 *threads = profile_tree_children(t, 0, &n_threads);
	guint8 *removed = g_new0(guint8, n);
	GPtrArray *trims = g_ptr_array_new();
	GArray *set = g_array_new(FALSE, FALSE, sizeof(guint32));
	guint total = 0;

	for (guint32 i = 0; i < n_threads; i++) {
		guint32 thread = threads[i], k;
		const guint32 *tops = profile_tree_children(t, thread, &k);
		guint64 thread_ns = profile_tree_node(t, thread)->total_ns;
		GHashTable *done = g_hash_table_new(g_direct_hash, g_direct_equal);

		for (guint32 j = 0; j < k; j++) {
			guint32 fn = function_of(t, tops[j]), last = 0;
			struct profile_trim *tr;
			guint count;

			if (g_hash_table_contains(done, GUINT_TO_POINTER(fn)))
				continue;
			g_hash_table_add(done, GUINT_TO_POINTER(fn));
			g_array_set_size(set, 0);
			for (guint32 m = j; m < k; m++)
				if (function_of(t, tops[m]) == fn)
					g_array_append_val(set, tops[m]);
			if (!(count = trim_from(t, o, set, thread_ns, removed, &last)))
				continue;
			tr = g_new0(struct profile_trim, 1);
			tr->node = thread; /* an old id until rebuilt */
			tr->n_frames = count;
			tr->first = trim_spell_frame(t->profile, profile_tree_node(t, tops[j])->frame);
			tr->last = trim_spell_frame(t->profile, profile_tree_node(t, last)->frame);
			g_ptr_array_add(trims, tr);
			total += count;
		}
		g_hash_table_unref(done);
	}
	if (total) {
		guint32 *map = g_new0(guint32, n);
		rebuild(t, removed, map);
		profile_tree_remap(t, map);
		for (guint i = 0; i < trims->len; i++) {
			struct profile_trim *tr = g_ptr_array_index(trims, i);
			tr->node = map[tr->node];
			g_ptr_array_add(t->trims, tr);
		}
		g_free(map);
		profile_tree_finish(t);
	}
	g_ptr_array_unref(trims);
	g_array_unref(set);
	g_free(removed);
	return total;
}
