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

#endif
