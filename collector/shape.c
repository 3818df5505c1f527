/*
 * shape.c - one node per function, recursion and library runs folded
 * (see shape.h for the rules).
 *
 * Every stage copies the old tree's nodes in id order, parents first, into
 * a new node array: an old node is either kept (under the new node its
 * parent's children go to, with maybe another frame: a node of the same
 * (parent, frame) is then merged into) or absorbed (its own time added to
 * a node made already).  map[] says where each old node went, for
 * profile_tree_remap.
 */
#include "config.h"

#include "collector/shape.h"

#include <string.h>

struct reshape {
	const struct profile_tree *old;
	GArray *nodes;        /* the new ones */
	/* (parent, frame) -> new node, and (node, frame) -> line index + 1:
	 * open addressing over the ids, 0 an empty slot (node 0 is never a
	 * child), as reshaping touches every node of trees of millions */
	guint32 *slots, mask, used;
	guint32 *line_slots, line_mask, lines_used;
	GArray *lines;        /* of struct profile_line, unsorted */
	GArray *repeat;       /* of guint32 by new node (tree->repeat), NULL
			       * until a node has some */
	guint32 *map;         /* old node -> new node */
};

static inline guint32 pair_hash(guint32 a, guint32 b)
{
	guint64 h = ((guint64)a << 32 | b) * 0x9e3779b97f4a7c15ull;
	return (guint32)(h >> 32);
}

static void rs_init(struct reshape *r, const struct profile_tree *old)
{
	struct profile_node root = *profile_tree_node(old, 0);
	guint32 size = 1024;

	while (size < 2 * old->nodes->len)
		size *= 2;
	memset(r, 0, sizeof *r);
	r->old = old;
	r->nodes = g_array_sized_new(FALSE, FALSE, sizeof(struct profile_node),
				     old->nodes->len);
	r->slots = g_new0(guint32, size);
	r->mask = size - 1;
	r->line_slots = g_new0(guint32, 1024);
	r->line_mask = 1023;
	r->lines = g_array_new(FALSE, FALSE, sizeof(struct profile_line));
	r->map = g_new0(guint32, old->nodes->len);
	g_array_append_val(r->nodes, root);
}

static struct profile_node *rs_node(struct reshape *r, guint32 id)
{
	return &g_array_index(r->nodes, struct profile_node, id);
}

static void rs_grow(struct reshape *r)
{
	guint32 size = 2 * (r->mask + 1), *slots = g_new0(guint32, size);

	for (guint32 i = 0; i <= r->mask; i++) {
		guint32 id = r->slots[i], j;
		const struct profile_node *nd;
		if (!id)
			continue;
		nd = rs_node(r, id);
		for (j = pair_hash(nd->parent, nd->frame) & (size - 1); slots[j];
		     j = (j + 1) & (size - 1))
			;
		slots[j] = id;
	}
	g_free(r->slots);
	r->slots = slots;
	r->mask = size - 1;
}

/* The new node of frame under new node parent, made if new */
static guint32 rs_child(struct reshape *r, guint32 parent, guint32 frame,
			int thread)
{
	struct profile_node nd = {0};
	guint32 i, id;

	for (i = pair_hash(parent, frame) & r->mask; (id = r->slots[i]);
	     i = (i + 1) & r->mask) {
		const struct profile_node *x = rs_node(r, id);
		if (x->parent == parent && x->frame == frame)
			return id;
	}
	id = r->nodes->len;
	nd.frame = frame;
	nd.parent = parent;
	nd.thread = thread;
	g_array_append_val(r->nodes, nd);
	if (r->repeat)
		g_array_set_size(r->repeat, r->nodes->len);
	r->slots[i] = id;
	if (++r->used * 2 > r->mask)
		rs_grow(r);
	return id;
}

static void rs_grow_lines(struct reshape *r)
{
	guint32 size = 2 * (r->line_mask + 1), *slots = g_new0(guint32, size);

	for (guint32 i = 0; i <= r->line_mask; i++) {
		guint32 at = r->line_slots[i], j;
		const struct profile_line *l;
		if (!at)
			continue;
		l = &g_array_index(r->lines, struct profile_line, at - 1);
		for (j = pair_hash(l->node, l->frame) & (size - 1); slots[j];
		     j = (j + 1) & (size - 1))
			;
		slots[j] = at;
	}
	g_free(r->line_slots);
	r->line_slots = slots;
	r->line_mask = size - 1;
}

static void rs_add_line(struct reshape *r, guint32 node, guint32 frame,
			guint64 ns)
{
	guint32 i, at;
	struct profile_line l = {node, frame, 0};

	for (i = pair_hash(node, frame) & r->line_mask; (at = r->line_slots[i]);
	     i = (i + 1) & r->line_mask) {
		struct profile_line *x = &g_array_index(r->lines, struct profile_line, at - 1);
		if (x->node == node && x->frame == frame) {
			x->ns += ns;
			return;
		}
	}
	l.ns = ns;
	g_array_append_val(r->lines, l);
	r->line_slots[i] = r->lines->len;
	if (++r->lines_used * 2 > r->line_mask)
		rs_grow_lines(r);
}

/* Node id's recursion is at least repeat */
static void rs_set_repeat(struct reshape *r, guint32 id, guint32 repeat)
{
	if (!repeat)
		return;
	if (!r->repeat) {
		r->repeat = g_array_sized_new(FALSE, TRUE, sizeof(guint32), r->nodes->len);
		g_array_set_size(r->repeat, r->nodes->len);
	}
	if (repeat > g_array_index(r->repeat, guint32, id))
		g_array_index(r->repeat, guint32, id) = repeat;
}

#define ABSORB_LINES 0x1u  /* its lines are into's lines */
#define ABSORB_REPEAT 0x2u /* its recursion is into's */

/* Adds old node o's own time to new node into (and what `what` says) */
static void rs_absorb(struct reshape *r, guint32 o, guint32 into,
		      unsigned what)
{
	const struct profile_node *od = profile_tree_node(r->old, o);
	struct profile_node *nd = rs_node(r, into);
	const struct profile_line *l;
	guint32 n;

	nd->self_ns += od->self_ns;
	nd->self_samples += od->self_samples;
	if (what & ABSORB_REPEAT)
		rs_set_repeat(r, into, profile_tree_repeat(r->old, o));
	r->map[o] = into;
	if (!(what & ABSORB_LINES))
		return;
	l = profile_tree_lines(r->old, o, &n);
	for (guint32 i = 0; i < n; i++)
		rs_add_line(r, into, l[i].frame, l[i].ns);
}

/* Keeps old node o as frame under new node parent */
static guint32 rs_keep(struct reshape *r, guint32 o, guint32 parent,
		       guint32 frame)
{
	guint32 id = rs_child(r, parent, frame, profile_tree_node(r->old, o)->thread);

	rs_absorb(r, o, id, ABSORB_LINES | ABSORB_REPEAT);
	return id;
}

static int line_order(gconstpointer a, gconstpointer b)
{
	const struct profile_line *x = a, *y = b;

	if (x->node != y->node)
		return x->node < y->node ? -1 : 1;
	if (x->ns != y->ns)
		return x->ns > y->ns ? -1 : 1;
	return x->frame < y->frame ? -1 : x->frame > y->frame;
}

/* Puts the new nodes in place of t's, with their lines sorted and sliced */
static void rs_finish(struct reshape *r, struct profile_tree *t)
{
	g_array_sort(r->lines, line_order);
	g_array_unref(t->nodes);
	t->nodes = r->nodes;
	g_array_unref(t->lines);
	t->lines = r->lines;
	if (t->repeat)
		g_array_unref(t->repeat);
	t->repeat = r->repeat;
	profile_tree_remap(t, r->map);
	profile_tree_finish(t);
	g_free(r->slots);
	g_free(r->line_slots);
	g_free(r->map);
}

static const struct profile_frame *node_frame(const struct profile_tree *t,
					      guint32 id)
{
	return profile_frame(t->profile, profile_tree_node(t, id)->frame);
}

/* ---- one node per function ---- */

void shape_functions(struct profile_tree *t)
{
	struct reshape r;
	guint32 n = t->nodes->len;

	rs_init(&r, t);
	for (guint32 i = 1; i < n; i++) {
		const struct profile_node *od = profile_tree_node(t, i);
		const struct profile_frame *f = node_frame(t, i);
		guint32 id;

		if (!profile_frame_is_code(f)) {
			rs_keep(&r, i, r.map[od->parent], od->frame);
			continue;
		}
		guint32 n_lines;

		profile_tree_lines(t, i, &n_lines);
		id = rs_child(&r, r.map[od->parent], f->function, od->thread);
		rs_absorb(&r, i, id, ABSORB_REPEAT | (n_lines ? ABSORB_LINES : 0));
		if (!n_lines && f->line >= 0)
			rs_add_line(&r, id, od->frame, od->total_ns);
	}
	rs_finish(&r, t);
}

guint32 shape_hot_line(const struct profile_tree *t, guint32 id)
{
	guint32 n;
	const struct profile_line *l = profile_tree_lines(t, id, &n);

	return n ? l->frame : profile_tree_node(t, id)->frame;
}

/* ---- folding ---- */

static void fold_recursion(struct profile_tree *t)
{
	struct reshape r;
	guint32 n = t->nodes->len;

	rs_init(&r, t);
	for (guint32 i = 1; i < n; i++) {
		const struct profile_node *od = profile_tree_node(t, i);
		guint32 up = r.map[od->parent];
		const struct profile_node *un = rs_node(&r, up);

		/* the new parent's frame is the old parent's (or an older
		 * ancestor's of the same function) */
		/* <module> is no recursion: exec'd strings share one name */
		if (up && un->frame && profile_frame_is_code(profile_frame(t->profile, un->frame)) &&
		    profile_frame(t->profile, un->frame)->function ==
			    node_frame(t, i)->function &&
		    strcmp(node_frame(t, i)->name, "<module>")) {
			/* its lines are counted in the caller's calling line */
			rs_absorb(&r, i, up, ABSORB_REPEAT);
			continue;
		}
		rs_keep(&r, i, up, od->frame);
	}
	/* the depth of each folded staircase: the longest chain of old nodes
	 * of one function, each the parent of the next, that went into one
	 * new node */
	{
		guint32 *depth = g_new0(guint32, n);
		for (guint32 i = 1; i < n; i++) {
			const struct profile_node *od = profile_tree_node(t, i);
			depth[i] = od->parent && r.map[od->parent] == r.map[i]
					   ? depth[od->parent] + 1 : 1;
			if (depth[i] > 1)
				rs_set_repeat(&r, r.map[i], depth[i]);
		}
		g_free(depth);
	}
	rs_finish(&r, t);
}

struct region {
	GHashTable *functions; /* folded functions */
	GHashTable *packages;  /* package -> heaviest folded node's total */
	guint32 group;         /* its group frame, 0 if not folded */
};

static void region_free(gpointer data)
{
	struct region *g = data;

	g_hash_table_unref(g->functions);
	g_hash_table_unref(g->packages);
	g_free(g);
}

struct package_weight {
	const char *name;
	guint64 ns;
};

static int package_order(gconstpointer a, gconstpointer b)
{
	const struct package_weight *x = a, *y = b;

	if (x->ns != y->ns)
		return x->ns > y->ns ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* "[json, urllib3: 14 frames]": at most three packages named */
static guint32 region_frame(struct profile *p, struct region *g)
{
	GArray *pk = g_array_new(FALSE, FALSE, sizeof(struct package_weight));
	GHashTableIter it;
	gpointer k, v;
	GString *label = g_string_new("[");
	guint32 frame;

	g_hash_table_iter_init(&it, g->packages);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		struct package_weight w = {k, *(guint64 *)v};
		g_array_append_val(pk, w);
	}
	g_array_sort(pk, package_order);
	for (guint i = 0; i < pk->len && i < 3; i++)
		g_string_append_printf(label, "%s%s", i ? ", " : "",
				       g_array_index(pk, struct package_weight, i).name);
	if (pk->len > 3)
		g_string_append_printf(label, " +%u", pk->len - 3);
	g_string_append_printf(label, "%s%u frames]", pk->len ? ": " : "",
			       g_hash_table_size(g->functions));
	frame = profile_frame_intern(p, PROFILE_FRAME_GROUP, profile_intern(p, "", -1),
				     profile_intern(p, label->str, -1), NULL, -1,
				     -1, -1);
	g_string_free(label, TRUE);
	g_array_unref(pk);
	return frame;
}

static void fold_libraries(struct profile *p, struct profile_tree *t,
			   const struct shape_options *o)
{
	guint32 n = t->nodes->len;
	guint8 *lib = g_new0(guint8, n), *keep = g_new0(guint8, n);
	guint32 *anchor = g_new0(guint32, n), *attach = g_new0(guint32, n);
	guint32 *group = g_new0(guint32, n); /* anchor's new group node */
	guint64 *thread_ns = g_new0(guint64, n), *waits = g_new0(guint64, n);
	gboolean *calls_out = g_new0(gboolean, n);
	/* anchor -> what folds below it */
	GHashTable *clusters = g_hash_table_new_full(g_direct_hash, g_direct_equal,
						     NULL, region_free);
	struct reshape r;

	for (guint32 i = 1; i < n; i++) {
		const struct profile_node *nd = profile_tree_node(t, i);
		const struct profile_frame *f = node_frame(t, i);

		lib[i] = profile_frame_is_code(f) && profile_frame_is_library(f) &&
			 !(o->exempt && o->exempt(t->profile, nd->frame, o->data));
		thread_ns[i] = nd->parent == 0 ? nd->total_ns : thread_ns[nd->parent];
		if (f->kind == PROFILE_FRAME_IDLE)
			waits[nd->parent] += nd->total_ns;
		else if (!lib[i] && lib[nd->parent] &&
			 (profile_frame_is_code(f) || f->kind == PROFILE_FRAME_GROUP))
			calls_out[nd->parent] = TRUE;
	}
	/* which frames stay; each folded one belongs to the cluster of its
	 * nearest ancestor that stays (a library frame too: the run's first
	 * frame stays) */
	for (guint32 i = 1; i < n; i++) {
		const struct profile_node *nd = profile_tree_node(t, i);
		const struct profile_frame *f = node_frame(t, i);
		struct region *g;
		guint64 *w;

		if (!lib[i])
			continue;
		keep[i] = !lib[nd->parent] || calls_out[i] ||
			  (double)(nd->self_ns + waits[i]) * 100.0 >=
				  o->min_percent * (double)thread_ns[i];
		if (keep[i])
			continue;
		anchor[i] = keep[nd->parent] ? nd->parent : anchor[nd->parent];
		if (!(g = g_hash_table_lookup(clusters, GUINT_TO_POINTER(anchor[i])))) {
			g = g_new0(struct region, 1);
			g->functions = g_hash_table_new(g_direct_hash, g_direct_equal);
			g->packages = g_hash_table_new_full(g_str_hash, g_str_equal,
							    NULL, g_free);
			g_hash_table_insert(clusters, GUINT_TO_POINTER(anchor[i]), g);
		}
		g_hash_table_add(g->functions, GUINT_TO_POINTER(f->function));
		if (f->package) {
			if (!(w = g_hash_table_lookup(g->packages, f->package))) {
				w = g_new0(guint64, 1);
				g_hash_table_insert(g->packages, (gpointer)f->package, w);
			}
			if (nd->total_ns > *w)
				*w = nd->total_ns;
		}
	}
	{
		GHashTableIter it;
		gpointer k, v;
		g_hash_table_iter_init(&it, clusters);
		while (g_hash_table_iter_next(&it, &k, &v)) {
			struct region *g = v;
			if (g_hash_table_size(g->functions) >= 2)
				g->group = region_frame(p, g);
		}
	}

	rs_init(&r, t);
	for (guint32 i = 1; i < n; i++) {
		const struct profile_node *nd = profile_tree_node(t, i);
		struct region *g = anchor[i] ? g_hash_table_lookup(clusters,
					GUINT_TO_POINTER(anchor[i])) : NULL;
		guint32 up = attach[nd->parent];

		if (!g || !g->group) {
			attach[i] = rs_keep(&r, i, up, nd->frame);
			continue;
		}
		/* folded: its own time is the group's, made under the new
		 * node of the anchor when first needed; what stays below it
		 * hangs from the group */
		if (!group[anchor[i]])
			group[anchor[i]] = rs_child(&r, attach[anchor[i]], g->group,
						    nd->thread);
		rs_absorb(&r, i, group[anchor[i]], 0);
		attach[i] = group[anchor[i]];
	}
	rs_finish(&r, t);

	g_hash_table_unref(clusters);
	g_free(lib);
	g_free(keep);
	g_free(anchor);
	g_free(attach);
	g_free(group);
	g_free(thread_ns);
	g_free(waits);
	g_free(calls_out);
}

void shape_fold(struct profile *p, struct profile_tree *t,
		const struct shape_options *o)
{
	if (o->recursion)
		fold_recursion(t);
	if (o->libraries)
		fold_libraries(p, t, o);
}
