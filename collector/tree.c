/*
 * tree.c - the call tree of a profile's samples, built on demand.
 *
 * Each thread's samples are walked in order; a stack is resolved to its
 * node once per thread (stacks are shared, samples repeat them), asking
 * the hide or classify predicate once per frame.  Nodes are found by
 * (parent node, frame) in a hash of edges kept in pages, like the stacks'.
 */
#include "collector/profile.h"

#include <string.h>

#include "collector/profile-private.h"

struct tree_build {
	const struct profile *p;
	const struct profile_tree_options *opts;
	struct profile_tree *t;
	GPtrArray *edge_pages;  /* struct edge per node: the index keys */
	GHashTable *edges;      /* (parent node, frame) -> node */
	guint32 *stack_node;    /* stack id -> node, for the current thread */
	GArray *touched;        /* stack ids set in stack_node */
	GArray *walk;           /* scratch: stack ids awaiting a node */
	guint32 *verdict;       /* frame id -> VERDICT_UNKNOWN, or the
				 * answer of opts->classify (or hide) */
};

#define VERDICT_UNKNOWN 0xfffffffeu

static guint32 tree_child(struct tree_build *b, guint32 parent, guint32 frame,
			  int thread)
{
	struct edge probe = {parent, frame}, *key;
	struct profile_node node = {0};
	const struct profile_node *up;
	guint32 id;

	id = GPOINTER_TO_UINT(g_hash_table_lookup(b->edges, &probe));
	if (id)
		return id;
	up = profile_tree_node(b->t, parent);
	id = b->t->nodes->len;
	node.frame = frame;
	node.parent = parent;
	node.depth = up->depth + 1;
	node.thread = thread;
	g_array_append_val(b->t->nodes, node);
	key = page_append(b->edge_pages, sizeof *key, id);
	*key = probe;
	g_hash_table_insert(b->edges, key, GUINT_TO_POINTER(id));
	return id;
}

/* 0 (keep), PROFILE_TREE_HIDDEN or a group frame: asked once per frame */
static guint32 tree_verdict(struct tree_build *b, guint32 frame)
{
	const struct profile_tree_options *o = b->opts;

	if (!o || (!o->hide && !o->classify))
		return 0;
	if (b->verdict[frame] == VERDICT_UNKNOWN) {
		if (o->classify)
			b->verdict[frame] = o->classify(b->p, frame, o->classify_data);
		else
			b->verdict[frame] = o->hide(b->p, frame, o->hide_data)
						    ? PROFILE_TREE_HIDDEN : 0;
	}
	return b->verdict[frame];
}

/* The node of stack s under thread node `top`, creating the path. */
static guint32 tree_node_for(struct tree_build *b, guint32 s, guint32 top,
			     int thread)
{
	guint32 node;

	if (s == 0)
		return top;
	if (b->stack_node[s])
		return b->stack_node[s];
	g_array_set_size(b->walk, 0);
	while (s != 0 && !b->stack_node[s]) {
		g_array_append_val(b->walk, s);
		s = profile_stack(b->p, s)->parent;
	}
	node = s ? b->stack_node[s] : top;
	for (guint i = b->walk->len; i-- > 0;) {
		guint32 id = g_array_index(b->walk, guint32, i);
		guint32 frame = profile_stack(b->p, id)->frame;
		guint32 v = tree_verdict(b, frame);
		if (v == 0)
			node = tree_child(b, node, frame, thread);
		else if (v != PROFILE_TREE_HIDDEN &&
			 profile_tree_node(b->t, node)->frame != v)
			node = tree_child(b, node, v, thread);
		b->stack_node[id] = node;
		g_array_append_val(b->touched, id);
	}
	return node;
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
	struct tree_build b = {.p = p, .opts = opts, .t = t};
	enum profile_group group = opts ? opts->group : PROFILE_GROUP_THREAD;
	struct profile_node root = {0};

	t->profile = p;
	t->nodes = g_array_new(FALSE, FALSE, sizeof(struct profile_node));
	root.thread = -1;
	g_array_append_val(t->nodes, root);
	b.edge_pages = g_ptr_array_new_with_free_func(g_free);
	page_append(b.edge_pages, sizeof(struct edge), 0);
	b.edges = g_hash_table_new(edge_hash, edge_equal);
	b.stack_node = g_new0(guint32, p->n_stacks);
	b.touched = g_array_new(FALSE, FALSE, sizeof(guint32));
	b.walk = g_array_new(FALSE, FALSE, sizeof(guint32));
	b.verdict = g_new(guint32, p->n_frames);
	for (guint32 i = 0; i < p->n_frames; i++)
		b.verdict[i] = VERDICT_UNKNOWN;

	for (guint ti = 0; ti < p->threads->len; ti++) {
		const struct profile_thread *th = profile_thread(p, ti);
		const struct profile_sample *s =
			(const struct profile_sample *)(gpointer)th->samples->data;
		gboolean wall = profile_process(p, th->process)->mode ==
				PROFILE_MODE_WALL;
		guint32 top;
		int thread = group == PROFILE_GROUP_THREAD ? (int)ti : -1;

		top = tree_child(&b, 0,
				 group == PROFILE_GROUP_THREAD ? th->frame
				 : group == PROFILE_GROUP_PROCESS
					 ? profile_process(p, th->process)->frame
				 : group == PROFILE_GROUP_NAME ? th->name_frame
							       : p->frame_all_threads,
				 thread);
		for (guint i = 0; i < th->samples->len; i++) {
			guint32 node, idle = 0;
			struct profile_node *nd;
			guint64 wait = profile_sample_wait_ns(p, th, &s[i]);
			gboolean counts = profile_tree_counts(opts, p, th, &s[i]);

			if (!counts && wait >= s[i].wall_ns)
				continue;
			node = tree_node_for(&b, s[i].stack, top, thread);
			/* no verdict is asked for [idle]: it is no frame of
			 * the program, and no rule may take it away.  A
			 * wall-mode sample's running time goes to its stack,
			 * its waiting time to the [idle] below it. */
			if (wall && (wait || profile_sample_idle(p, th, &s[i])) &&
			    !(opts && opts->no_idle))
				idle = tree_child(&b, node, p->frame_idle, thread);
			nd = &g_array_index(t->nodes, struct profile_node, node);
			nd->self_ns += wall ? s[i].wall_ns - wait : s[i].cpu_ns;
			if (counts && !(idle && profile_sample_idle(p, th, &s[i])))
				nd->self_samples++;
			if (idle) {
				nd = &g_array_index(t->nodes, struct profile_node, idle);
				nd->self_ns += wait;
				if (profile_sample_idle(p, th, &s[i]))
					nd->self_samples++;
			}
		}
		for (guint i = 0; i < b.touched->len; i++)
			b.stack_node[g_array_index(b.touched, guint32, i)] = 0;
		g_array_set_size(b.touched, 0);
	}

	g_ptr_array_unref(b.edge_pages);
	g_hash_table_unref(b.edges);
	g_free(b.stack_node);
	g_array_unref(b.touched);
	g_array_unref(b.walk);
	g_free(b.verdict);
	profile_tree_finish(t);
	return t;
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
	guint32 n, *fill;

	if (!t->trims)
		t->trims = g_ptr_array_new_with_free_func(trim_free);
	if (t->children)
		g_array_unref(t->children);
	/* a child always has a larger id than its parent */
	n = t->nodes->len;
	for (guint32 i = 0; i < n; i++) {
		struct profile_node *nd = &g_array_index(t->nodes, struct profile_node, i);
		nd->total_ns = nd->self_ns;
		nd->total_samples = nd->self_samples;
		nd->n_children = 0;
	}
	for (guint32 i = n; i-- > 1;) {
		struct profile_node *nd = &g_array_index(t->nodes, struct profile_node, i);
		struct profile_node *up = &g_array_index(t->nodes, struct profile_node, nd->parent);
		up->total_ns += nd->total_ns;
		up->total_samples += nd->total_samples;
		up->n_children++;
	}
	t->children = g_array_sized_new(FALSE, FALSE, sizeof(guint32), n);
	g_array_set_size(t->children, n ? n - 1 : 0);
	fill = g_new0(guint32, n);
	for (guint32 i = 0, at = 0; i < n; i++) {
		struct profile_node *nd = &g_array_index(t->nodes, struct profile_node, i);
		nd->first_child = at;
		fill[i] = at;
		at += nd->n_children;
	}
	for (guint32 i = 1; i < n; i++) {
		guint32 up = g_array_index(t->nodes, struct profile_node, i).parent;
		g_array_index(t->children, guint32, fill[up]++) = i;
	}
	for (guint32 i = 0; i < n; i++) {
		const struct profile_node *nd = profile_tree_node(t, i);
		if (nd->n_children > 1)
			g_qsort_with_data(&g_array_index(t->children, guint32, nd->first_child),
					  (gint)nd->n_children, sizeof(guint32),
					  tree_compare, t);
	}

	g_free(fill);
}

void profile_tree_free(struct profile_tree *t)
{
	if (!t)
		return;
	g_array_unref(t->nodes);
	g_array_unref(t->children);
	g_ptr_array_unref(t->trims);
	g_free(t);
}
