/*
 * profile-private.h - what the model's own files (profile.c, load.c,
 * tree.c) share, and nothing else may use.
 *
 * Frames, stacks and tree edges live in "pages" (fixed blocks that never
 * move), so a GHashTable can use a pointer to the stored element as its
 * key and a probe on the C stack for lookups: interning costs no
 * allocation per lookup, and an id is an index into the pages.
 */
#ifndef PYPROF_PROFILE_PRIVATE_H
#define PYPROF_PROFILE_PRIVATE_H

#include <glib.h>

#include "collector/profile.h"

/* ---- pages: arrays whose elements never move ---- */

#define PAGE_SHIFT 12
#define PAGE_LEN (1u << PAGE_SHIFT)

static inline void *page_slot(GPtrArray *pages, gsize elem, guint32 id)
{
	return (char *)g_ptr_array_index(pages, id >> PAGE_SHIFT) +
	       (gsize)(id & (PAGE_LEN - 1)) * elem;
}

/* Slot for id, which must be the next one (== elements stored). */
static inline void *page_append(GPtrArray *pages, gsize elem, guint32 id)
{
	if ((id >> PAGE_SHIFT) >= pages->len)
		g_ptr_array_add(pages, g_malloc0(elem * PAGE_LEN));
	return page_slot(pages, elem, id);
}

struct stack_hint {
	guint32 child, frame; /* child 0: none */
};

/* profile_stack_push's first try, where the loader pushes: the child of
 * parent pushed last, if its frame is frame; else 0.  Inline, since the
 * same call path recurs sample after sample. */
static inline guint32 profile_stack_hint(const struct profile *p, guint32 parent,
					 guint32 frame)
{
	const struct stack_hint *h;

	if (parent >= p->stack_hints_len)
		return 0;
	h = &p->stack_hints[parent];
	return h->frame == frame ? h->child : 0;
}

/* Sets f's origin, package and short file (origin.c), for the process
 * being added (the last one), or none. */
void profile_frame_set_origin(struct profile *p, struct profile_frame *f);

/* ---- hashing ---- */

static inline guint mix(guint64 h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return (guint)h;
}

/* Keys of both stacks and tree edges start with {parent, frame}. */
struct edge {
	guint32 parent, frame;
};

static inline guint edge_hash(gconstpointer k)
{
	const struct edge *e = k;
	return mix(((guint64)e->parent << 32) | e->frame);
}

static inline gboolean edge_equal(gconstpointer a, gconstpointer b)
{
	const struct edge *x = a, *y = b;
	return x->parent == y->parent && x->frame == y->frame;
}

/* ---- an index of ids by (parent, frame) ---- */

/*
 * Open addressing with linear probing over the ids themselves, the key
 * read from the element an id names (a stack, a tree node): 4 bytes a
 * slot at most three quarters full.  A GHashTable of pointers into the
 * pages took 40-56 bytes an entry, and a profile where nearly every
 * sample is a new stack has millions of them (bench/README.md).  Id 0 is
 * never stored: stack 0 and node 0 are the roots, nobody's child.
 */
/* struct id_index { slots (NULL until the first insert), mask (slots -
 * 1), n } is declared in profile.h, where struct profile holds one. */

/* The key of element id of owner */
typedef struct edge (*id_index_key_fn)(gconstpointer owner, guint32 id);

/* The id stored for e, 0 if none; *at is then the slot to insert it at
 * (valid until the next insert). */
static inline guint32 id_index_find(const struct id_index *x, struct edge e,
				    id_index_key_fn key, gconstpointer owner,
				    guint32 *at)
{
	guint32 i, id;

	if (!x->slots) {
		*at = 0;
		return 0;
	}
	for (i = edge_hash(&e) & x->mask; (id = x->slots[i]); i = (i + 1) & x->mask) {
		struct edge k = key(owner, id);
		if (k.parent == e.parent && k.frame == e.frame)
			return id;
	}
	*at = i;
	return 0;
}

/* Stores id at slot at (from id_index_find); may grow the index. */
void id_index_insert(struct id_index *x, guint32 at, guint32 id,
		     id_index_key_fn key, gconstpointer owner);
void id_index_release(struct id_index *x);

#endif
