/*
 * tree.c - the call tree of a profile's samples, built on demand.
 *
 * Each thread's samples are walked summed (profile_thread_aggregates),
 * in the order of their first sample; a stack is resolved to its node
 * (stacks are shared, samples repeat them: a cache of the stacks
 * resolved lately spares walking their callers again), asking the hide
 * or classify predicate once per frame (once per stack for a frame whose
 * verdict depends on its caller).  Nodes are found by (parent node,
 * frame) in a chained hash whose links are the nodes' own first_child
 * while the tree is being built: a tree of millions of nodes needs no
 * index beside them but the buckets.
 */
#include "config.h"

#include "collector/profile.h"

#include <string.h>

#include "collector/profile-private.h"

/* a tree of millions of nodes: see struct profile_node */
G_STATIC_ASSERT(sizeof(struct profile_node) == 48);

/* ---- the stack -> node walk ---- */

#define VERDICT_UNKNOWN 0xfffffffeu
#define WALK_CACHE_BITS 18

static inline struct profile_walk_stack *walk_cached(struct profile_walk *w,
						      guint32 stack)
{
	return &w->stacks[(guint32)(stack * 0x9e3779b1u) >> (32 - WALK_CACHE_BITS)];
}

/* Whether the cache has stack's node, put in *node */
static inline gboolean walk_lookup(struct profile_walk *w, guint32 stack,
				   guint32 *node)
{
	const struct profile_walk_stack *c = walk_cached(w, stack);

	if (c->stack != stack || c->epoch != w->cur_epoch)
		return FALSE;
	*node = c->node;
	return TRUE;
}

void profile_walk_init(struct profile_walk *w, const struct profile *p,
		       const struct profile_tree *t,
		       const struct profile_tree_options *opts,
		       profile_walk_child_fn child, gpointer data)
{
	memset(w, 0, sizeof *w);
	w->p = p;
	w->t = t;
	w->opts = opts;
	w->child = child;
	w->data = data;
	w->stacks = g_new0(struct profile_walk_stack, 1u << WALK_CACHE_BITS);
	w->scratch = g_array_new(FALSE, FALSE, sizeof(guint32));
	w->verdict = g_new(guint32, profile_n_frames(p) + 1);
	for (guint32 i = 0; i <= profile_n_frames(p); i++)
		w->verdict[i] = VERDICT_UNKNOWN;
}

void profile_walk_release(struct profile_walk *w)
{
	g_free(w->stacks);
	g_array_unref(w->scratch);
	g_free(w->verdict);
}

void profile_walk_thread(struct profile_walk *w, guint32 top)
{
	w->cur_epoch++;
	w->top = top;
}

/* 0 (keep), PROFILE_TREE_HIDDEN or a group frame for the leaf frame of
 * stack: asked once per frame, and once per stack for the few frames
 * whose answer depends on their caller */
static guint32 walk_verdict(struct profile_walk *w, guint32 stack, guint32 frame)
{
	const struct profile_tree_options *o = w->opts;

	if (!o || (!o->hide && !o->classify))
		return 0;
	if (w->verdict[frame] == VERDICT_UNKNOWN) {
		if (o->classify)
			w->verdict[frame] = o->classify(w->p, frame, o->classify_data);
		else
			w->verdict[frame] = o->hide(w->p, frame, o->hide_data)
						    ? PROFILE_TREE_HIDDEN : 0;
	}
	if (w->verdict[frame] == PROFILE_TREE_CONTEXTUAL)
		return o->classify_stack
			       ? o->classify_stack(w->p, stack, o->classify_data) : 0;
	return w->verdict[frame];
}

guint32 profile_walk_node(struct profile_walk *w, guint32 stack)
{
	guint32 s = stack, node = w->top;

	if (s == 0)
		return w->top;
	if (walk_lookup(w, s, &node))
		return node;
	g_array_set_size(w->scratch, 0);
	while (s != 0 && !walk_lookup(w, s, &node)) {
		g_array_append_val(w->scratch, s);
		s = profile_stack(w->p, s)->parent;
	}
	if (s == 0)
		node = w->top;
	for (guint i = w->scratch->len; i-- > 0;) {
		guint32 id = g_array_index(w->scratch, guint32, i);
		guint32 frame = profile_stack(w->p, id)->frame;
		guint32 v = walk_verdict(w, id, frame), child = 0;

		if (v == 0)
			child = w->child(w->data, node, frame);
		else if (v != PROFILE_TREE_HIDDEN &&
			 (w->built ? g_array_index(w->t->built, struct profile_built, node).frame
				   : profile_tree_node(w->t, node)->frame) != v)
			child = w->child(w->data, node, v);
		/* no such child: the frame was trimmed away with the stem */
		if (child)
			node = child;
		*walk_cached(w, id) = (struct profile_walk_stack){id, w->cur_epoch, node};
	}
	return node;
}

/* ---- building ---- */

struct tree_build {
	struct profile_tree *t;
	/* (parent node, frame) -> node: the first node of each bucket, the
	 * next one in the node's first_child, 0 the end (node 0, the root,
	 * is nobody's child) */
	guint32 *buckets, mask;
	int thread;             /* of the nodes being made, -1 if grouped */
};

static inline guint32 build_bucket(const struct tree_build *b, guint32 parent,
				   guint32 frame)
{
	return mix(((guint64)parent << 32) | frame) & b->mask;
}

/* Twice the buckets, every node but the root linked again */
static void build_grow(struct tree_build *b)
{
	guint32 size = b->buckets ? 2 * (b->mask + 1) : 1024;

	g_free(b->buckets);
	b->buckets = g_new0(guint32, size);
	b->mask = size - 1;
	for (guint32 id = 1; id < b->t->nodes->len; id++) {
		struct profile_node *nd = &g_array_index(b->t->nodes, struct profile_node, id);
		guint32 h = build_bucket(b, nd->parent, nd->frame);
		nd->first_child = b->buckets[h];
		b->buckets[h] = id;
	}
}

/* The child of parent for frame, made if new (a profile_walk_child_fn) */
static guint32 tree_child(gpointer data, guint32 parent, guint32 frame)
{
	struct tree_build *b = data;
	struct profile_node node = {0};
	guint32 id, h;

	if (!b->buckets)
		build_grow(b);
	h = build_bucket(b, parent, frame);
	for (id = b->buckets[h]; id; id = profile_tree_node(b->t, id)->first_child) {
		const struct profile_node *nd = profile_tree_node(b->t, id);
		if (nd->parent == parent && nd->frame == frame)
			return id;
	}
	id = b->t->nodes->len;
	node.frame = frame;
	node.parent = parent;
	node.thread = b->thread;
	node.first_child = b->buckets[h];
	b->buckets[h] = id;
	g_array_append_val(b->t->nodes, node);
	/* two nodes a bucket at most: a lookup reads about two */
	if (id > 2 * (b->mask + 1))
		build_grow(b);
	return id;
}

static int tree_compare(gconstpointer a, gconstpointer b, gpointer data)
{
	const struct profile_tree *t = data;
	guint32 ia = *(const guint32 *)a, ib = *(const guint32 *)b;
	const struct profile_node *x = profile_tree_node(t, ia);
	const struct profile_node *y = profile_tree_node(t, ib);
	const struct profile_frame *fx, *fy;
	int c;

	if (x->total_ns != y->total_ns)
		return x->total_ns > y->total_ns ? -1 : 1;
	if (x->total_samples != y->total_samples)
		return x->total_samples > y->total_samples ? -1 : 1;
	fx = profile_frame(t->profile, x->frame);
	fy = profile_frame(t->profile, y->frame);
	if ((c = strcmp(profile_frame_label(fx), profile_frame_label(fy))))
		return c;
	if ((c = strcmp(fx->filename, fy->filename)))
		return c;
	if (fx->line != fy->line)
		return fx->line < fy->line ? -1 : 1;
	if (x->thread != y->thread)
		return x->thread < y->thread ? -1 : 1;
	return ia < ib ? -1 : ia > ib;
}

struct profile_tree *profile_tree_build(const struct profile *p,
					const struct profile_tree_options *opts)
{
	struct profile_tree *t = g_new0(struct profile_tree, 1);
	struct tree_build b = {.t = t};
	struct profile_walk w;
	enum profile_group group = opts ? opts->group : PROFILE_GROUP_THREAD;
	struct profile_node root = {0};
	GArray *scratch = g_array_new(FALSE, FALSE, sizeof(struct profile_aggregate));

	t->profile = p;
	t->nodes = g_array_new(FALSE, FALSE, sizeof(struct profile_node));
	root.thread = -1;
	g_array_append_val(t->nodes, root);
	profile_walk_init(&w, p, t, opts, tree_child, &b);

	for (guint ti = 0; ti < p->threads->len; ti++) {
		const struct profile_thread *th = profile_thread(p, ti);
		gboolean wall = profile_process(p, th->process)->mode ==
				PROFILE_MODE_WALL;
		guint32 top = group == PROFILE_GROUP_THREAD ? th->frame
			      : group == PROFILE_GROUP_FAMILY ? th->family_frame
			      : group == PROFILE_GROUP_PROCESS
				      ? profile_process(p, th->process)->frame
			      : group == PROFILE_GROUP_NAME ? th->name_frame
							    : p->frame_all_threads;
		guint n;
		const struct profile_aggregate *a =
			profile_thread_aggregates(p, ti, scratch, &n);

		/* a thread alone in its family is its own root */
		b.thread = top == th->frame ? (int)ti : -1;
		profile_walk_thread(&w, tree_child(&b, 0, top));
		/* Each aggregate goes as each of its samples would, one by
		 * one, since they agree on everything asked here (see struct
		 * profile_aggregate); adding them up is the same sum. */
		for (guint i = 0; i < n; i++) {
			guint32 node, idle = 0;
			struct profile_node *nd;
			gboolean is_idle = wall && (a[i].flags & PROFILE_SAMPLE_IDLE);
			gboolean counts = !(opts && opts->no_idle && is_idle);

			if (!counts && !(a[i].kind & PROFILE_AGGREGATE_RAN))
				continue;
			node = profile_walk_node(&w, a[i].stack);
			/* no verdict is asked for [idle]: it is no frame of
			 * the program, and no rule may take it away.  A
			 * wall-mode sample's running time goes to its stack,
			 * its waiting time to the [idle] below it. */
			if (wall && ((a[i].kind & PROFILE_AGGREGATE_WAITED) || is_idle) &&
			    !(opts && opts->no_idle))
				idle = tree_child(&b, node,
						  profile_idle_frame_of(p, a[i].flags));
			nd = &g_array_index(t->nodes, struct profile_node, node);
			nd->self_ns += wall ? a[i].wall_ns - a[i].wait_ns : a[i].cpu_ns;
			if (counts && !(idle && is_idle))
				nd->self_samples += a[i].count;
			if (idle) {
				nd = &g_array_index(t->nodes, struct profile_node, idle);
				nd->self_ns += a[i].wait_ns;
				if (is_idle)
					nd->self_samples += a[i].count;
			}
		}
	}

	g_array_unref(scratch);
	g_free(b.buckets);
	profile_walk_release(&w);
	t->lines = g_array_new(FALSE, FALSE, sizeof(struct profile_line));
	/* only the renderers of timelines walk samples into a reshaped
	 * tree, and a profile without timelines has no samples to walk:
	 * 12 bytes a node saved where nodes are millions */
	if (p->timelines) {
		t->built = g_array_sized_new(FALSE, FALSE, sizeof(struct profile_built),
					     t->nodes->len);
		for (guint32 i = 0; i < t->nodes->len; i++) {
			const struct profile_node *nd = profile_tree_node(t, i);
			struct profile_built e = {nd->parent, nd->frame, i};
			g_array_append_val(t->built, e);
		}
	}
	profile_tree_finish(t);
	return t;
}

void profile_tree_remap(struct profile_tree *t, const guint32 *map)
{
	for (guint32 i = 0; t->built && i < t->built->len; i++) {
		struct profile_built *e = &g_array_index(t->built, struct profile_built, i);
		e->node = map[e->node];
	}
	for (guint i = 0; t->trims && i < t->trims->len; i++) {
		struct profile_trim *tr = g_ptr_array_index(t->trims, i);
		tr->node = map[tr->node];
	}
}

static void trim_free(gpointer data)
{
	struct profile_trim *tr = data;
	g_free(tr->first);
	g_free(tr->last);
	g_free(tr);
}

void profile_tree_finish(struct profile_tree *t)
{
	guint32 n;

	if (!t->trims)
		t->trims = g_ptr_array_new_with_free_func(trim_free);
	if (t->children)
		g_array_unref(t->children);
	/* A child always has a larger id than its parent.  Slices are in id
	 * order, a node's ending where the next one's begins; first_child
	 * counts a node's children, then is where its next child goes (the
	 * end of its slice, once all are placed: the next node's start). */
	n = t->nodes->len;
	for (guint32 i = 0; i < n; i++) {
		struct profile_node *nd = &g_array_index(t->nodes, struct profile_node, i);
		nd->total_ns = nd->self_ns;
		nd->total_samples = nd->self_samples;
		nd->first_child = 0;
	}
	for (guint32 i = n; i-- > 1;) {
		struct profile_node *nd = &g_array_index(t->nodes, struct profile_node, i);
		struct profile_node *up = &g_array_index(t->nodes, struct profile_node, nd->parent);
		up->total_ns += nd->total_ns;
		up->total_samples += nd->total_samples;
		up->first_child++;
	}
	t->children = g_array_sized_new(FALSE, FALSE, sizeof(guint32), n);
	g_array_set_size(t->children, n ? n - 1 : 0);
	for (guint32 i = 0, at = 0; i < n; i++) {
		struct profile_node *nd = &g_array_index(t->nodes, struct profile_node, i);
		guint32 count = nd->first_child;
		nd->first_child = at;
		at += count;
	}
	for (guint32 i = 1; i < n; i++) {
		guint32 up = g_array_index(t->nodes, struct profile_node, i).parent;
		g_array_index(t->children, guint32,
			      g_array_index(t->nodes, struct profile_node, up).first_child++) = i;
	}
	for (guint32 i = n; i-- > 1;)
		g_array_index(t->nodes, struct profile_node, i).first_child =
			g_array_index(t->nodes, struct profile_node, i - 1).first_child;
	if (n)
		g_array_index(t->nodes, struct profile_node, 0).first_child = 0;
	for (guint32 i = 0; i < n; i++) {
		guint32 k;
		guint32 *kids = (guint32 *)profile_tree_children(t, i, &k);
		if (k > 1)
			g_qsort_with_data(kids, (gint)k, sizeof(guint32), tree_compare, t);
	}
}

const struct profile_line *profile_tree_lines(const struct profile_tree *t,
					      guint32 id, guint32 *n)
{
	const struct profile_line *l;
	guint32 lo = 0, hi, from;

	*n = 0;
	if (!t->lines || !t->lines->len)
		return NULL;
	l = (const struct profile_line *)(gconstpointer)t->lines->data;
	/* sorted by node: the first of id's, then the end of them */
	hi = t->lines->len;
	while (lo < hi) {
		guint32 mid = lo + (hi - lo) / 2;
		if (l[mid].node < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	from = lo;
	while (lo < t->lines->len && l[lo].node == id)
		lo++;
	*n = lo - from;
	return *n ? &l[from] : NULL;
}

void profile_tree_free(struct profile_tree *t)
{
	if (!t)
		return;
	g_array_unref(t->nodes);
	g_array_unref(t->children);
	g_ptr_array_unref(t->trims);
	if (t->lines)
		g_array_unref(t->lines);
	if (t->repeat)
		g_array_unref(t->repeat);
	if (t->built)
		g_array_unref(t->built);
	g_free(t);
}

/* --- functions, flat ------------------------------------------------------ */

struct fn_walk {
	guint32 node;
	gboolean leaving;
};

GPtrArray *profile_tree_functions(const struct profile_tree *t, guint32 under)
{
	const struct profile *p = t->profile;
	GHashTable *by_fn = g_hash_table_new(g_direct_hash, g_direct_equal);
	GHashTable *line_self = g_hash_table_new_full(g_direct_hash, g_direct_equal,
						      NULL, g_free);
	GPtrArray *rows = g_ptr_array_new_with_free_func(g_free);
	GArray *todo = g_array_new(FALSE, FALSE, sizeof(struct fn_walk));
	GHashTableIter it;
	gpointer k, v;
	guint32 n;
	const guint32 *kids = profile_tree_children(t, under, &n);

	for (guint32 i = n; i-- > 0;) {
		struct fn_walk w = {kids[i], FALSE};
		g_array_append_val(todo, w);
	}
	while (todo->len) {
		struct fn_walk w = g_array_index(todo, struct fn_walk, todo->len - 1);
		const struct profile_node *nd = profile_tree_node(t, w.node);
		const struct profile_frame *f = profile_frame(p, nd->frame);
		struct profile_function_total *r;
		/* a node of a whole function (shape_functions) stands at its
		 * hottest line */
		guint32 n_lines;
		const struct profile_line *hot = profile_tree_lines(t, w.node, &n_lines);
		guint32 at = n_lines ? hot->frame : nd->frame;

		g_array_set_size(todo, todo->len - 1);
		/* under the root, the thread nodes are no functions */
		if (f->kind == PROFILE_FRAME_THREAD) {
			kids = profile_tree_children(t, w.node, &n);
			for (guint32 i = n; i-- > 0;) {
				struct fn_walk c = {kids[i], FALSE};
				g_array_append_val(todo, c);
			}
			continue;
		}
		r = g_hash_table_lookup(by_fn, GUINT_TO_POINTER(f->function));
		if (w.leaving) {
			r->active--;
			continue;
		}
		if (!r) {
			r = g_new0(struct profile_function_total, 1);
			r->function = f->function;
			r->line_frame = at;
			g_hash_table_insert(by_fn, GUINT_TO_POINTER(f->function), r);
			g_ptr_array_add(rows, r);
		}
		if (!r->active++)
			r->total_ns += nd->total_ns;
		r->self_ns += nd->self_ns;
		if (nd->self_ns) {
			guint64 *ls = g_hash_table_lookup(line_self, GUINT_TO_POINTER(at));
			if (!ls) {
				ls = g_new0(guint64, 1);
				g_hash_table_insert(line_self, GUINT_TO_POINTER(at), ls);
			}
			*ls += nd->self_ns;
		}
		{
			struct fn_walk back = {w.node, TRUE};
			g_array_append_val(todo, back);
		}
		kids = profile_tree_children(t, w.node, &n);
		for (guint32 i = n; i-- > 0;) {
			struct fn_walk c = {kids[i], FALSE};
			g_array_append_val(todo, c);
		}
	}
	/* each function's hottest line */
	g_hash_table_iter_init(&it, line_self);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		guint32 frame = GPOINTER_TO_UINT(k);
		guint64 ns = *(guint64 *)v;
		const struct profile_frame *f = profile_frame(p, frame);
		struct profile_function_total *r =
			g_hash_table_lookup(by_fn, GUINT_TO_POINTER(f->function));
		if (ns > r->line_self_ns) {
			r->line_self_ns = ns;
			r->line_frame = frame;
		}
	}
	g_hash_table_unref(line_self);
	g_hash_table_unref(by_fn);
	g_array_unref(todo);
	return rows;
}
