/*
 * emit.c - escaping, number output and the stack -> tree node map shared
 * by the structured renderers (see emit.h for why each exists).
 */
#include "config.h"

#include "emit.h"
#include "render.h"

#include <string.h>

void emit_json_string(GString *buf, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;

	g_string_append_c(buf, '"');
	for (; *u; u++) {
		unsigned char c = *u;
		switch (c) {
		case '"': g_string_append(buf, "\\\""); continue;
		case '\\': g_string_append(buf, "\\\\"); continue;
		case '\n': g_string_append(buf, "\\n"); continue;
		case '\t': g_string_append(buf, "\\t"); continue;
		case '\r': g_string_append(buf, "\\r"); continue;
		default: break;
		}
		if (c < 0x20 || c == 0x7f || c == '<' || c == '>' || c == '&') {
			g_string_append(buf, "\\u00");
			g_string_append_c(buf, hex[c >> 4]);
			g_string_append_c(buf, hex[c & 15]);
		} else if (c == 0xe2 && u[1] == 0x80 && (u[2] == 0xa8 || u[2] == 0xa9)) {
			/* line and paragraph separators end a JavaScript
			 * string literal in older engines */
			g_string_append(buf, u[2] == 0xa8 ? "\\u2028" : "\\u2029");
			u += 2;
		} else {
			g_string_append_c(buf, (char)c);
		}
	}
	g_string_append_c(buf, '"');
}

void emit_xml_text(GString *buf, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		switch (c) {
		case '&': g_string_append(buf, "&amp;"); break;
		case '<': g_string_append(buf, "&lt;"); break;
		case '>': g_string_append(buf, "&gt;"); break;
		case '"': g_string_append(buf, "&quot;"); break;
		case '\'': g_string_append(buf, "&apos;"); break;
		default:
			if (c >= 0x20 && c != 0x7f)
				g_string_append_c(buf, (char)c);
			else if (c == '\t' || c == '\n')
				g_string_append_c(buf, ' ');
		}
	}
}

void emit_u64(FILE *out, guint64 v)
{
	char b[24], *e = b + sizeof b, *q = e;

	do {
		*--q = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	fwrite(q, 1, (size_t)(e - q), out);
}

void emit_us(FILE *out, guint64 ns)
{
	guint frac = (guint)(ns % 1000);

	emit_u64(out, ns / 1000);
	if (frac) {
		char b[5] = {'.', (char)('0' + frac / 100), (char)('0' + frac / 10 % 10),
			     (char)('0' + frac % 10), 0};
		int n = 4;
		while (b[n - 1] == '0')
			n--;
		fwrite(b, 1, (size_t)n, out);
	}
}

void emit_seconds(FILE *out, guint64 ns)
{
	guint64 frac = ns % 1000000000u;

	emit_u64(out, ns / 1000000000u);
	if (frac) {
		char b[11];
		int n = 10;
		b[0] = '.';
		for (int i = 9; i >= 1; i--, frac /= 10)
			b[i] = (char)('0' + frac % 10);
		while (b[n - 1] == '0')
			n--;
		fwrite(b, 1, (size_t)n, out);
	}
}

char *emit_frame_title(const struct profile_frame *f)
{
	if (f->kind == PROFILE_FRAME_NATIVE) {
		GString *b = g_string_new(profile_frame_label(f));
		g_string_append(b, " [");
		render_append_place(b, f, 0);
		g_string_append_c(b, ']');
		return g_string_free(b, FALSE);
	}
	if (f->kind != PROFILE_FRAME_PYTHON)
		return g_strdup(profile_frame_label(f));
	if (f->line >= 0)
		return g_strdup_printf("%s (%s:%d)", profile_frame_label(f),
				       f->filename, f->line);
	return g_strdup_printf("%s (%s:?)", profile_frame_label(f), f->filename);
}

/* ---- the stack -> node map ---- */

struct emit_map {
	const struct profile *p;
	const struct profile_tree *t;
	/* (parent node, frame) -> child node, open addressing; a slot holds
	 * the child's id, 0 when empty (node 0 is never a child) */
	guint32 *slots;
	guint32 mask;
	const struct profile_thread *cur; /* the thread being resolved */
	struct profile_walk walk;
	guint32 *thread_root; /* thread index -> root node, 0 none */
	const struct profile_tree_options *opts;
};

static inline guint32 map_hash(guint32 parent, guint32 frame)
{
	guint64 h = ((guint64)parent << 32 | frame) * 0x9e3779b97f4a7c15ull;
	return (guint32)(h >> 32);
}

static const struct profile_built *built(const struct emit_map *m, guint32 id)
{
	return &g_array_index(m->t->built, struct profile_built, id);
}

/* The built node of frame under built node parent, 0 if none */
static guint32 built_child(const struct emit_map *m, guint32 parent, guint32 frame)
{
	for (guint32 i = map_hash(parent, frame) & m->mask;; i = (i + 1) & m->mask) {
		guint32 id = m->slots[i];
		const struct profile_built *b;
		if (!id)
			return 0;
		b = built(m, id);
		if (b->parent == parent && b->frame == frame)
			return id;
	}
}

static guint32 map_child(gpointer data, guint32 parent, guint32 frame)
{
	return built_child(data, parent, frame);
}

struct emit_map *emit_map_new(const struct profile *p,
			      const struct profile_tree *t,
			      const struct profile_tree_options *opts)
{
	struct emit_map *m;
	guint32 n, size = 16, nroot = 0;
	guint32 *roots;

	/* a renderer of samples in time whose table row does not say so
	 * (render.h: timeline) was given a profile without timelines */
	g_return_val_if_fail(t->built != NULL, NULL);
	m = g_new0(struct emit_map, 1);
	n = t->built->len;
	roots = g_new0(guint32, n + 1);

	m->p = p;
	m->t = t;
	m->opts = opts;
	while (size < 2 * n)
		size *= 2;
	m->slots = g_new0(guint32, size);
	m->mask = size - 1;
	/* the walk goes over the tree as built, each node then mapped to
	 * the one it now counts in */
	for (guint32 id = 1; id < n; id++) {
		const struct profile_built *b = built(m, id);
		guint32 i = map_hash(b->parent, b->frame) & m->mask;
		while (m->slots[i])
			i = (i + 1) & m->mask;
		m->slots[i] = id;
		if (!b->parent)
			roots[nroot++] = id;
	}
	profile_walk_init(&m->walk, p, t, opts, map_child, m);
	m->walk.built = TRUE;
	m->thread_root = g_new0(guint32, p->threads->len + 1);
	/* A thread's root: the node of its own thread frame, else of its
	 * name, else of its process, else (one root for many threads) the
	 * only root there is. */
	for (guint ti = 0; ti < p->threads->len; ti++) {
		const struct profile_thread *th = profile_thread(p, ti);
		for (guint32 i = 0; i < nroot && !m->thread_root[ti]; i++)
			if (built(m, roots[i])->frame == th->frame)
				m->thread_root[ti] = roots[i];
		for (guint32 i = 0; i < nroot && !m->thread_root[ti]; i++)
			if (built(m, roots[i])->frame == th->name_frame)
				m->thread_root[ti] = roots[i];
		for (guint32 i = 0; i < nroot && !m->thread_root[ti]; i++)
			if (built(m, roots[i])->frame ==
			    profile_process(p, th->process)->frame)
				m->thread_root[ti] = roots[i];
		if (!m->thread_root[ti] && nroot == 1)
			m->thread_root[ti] = roots[0];
	}
	g_free(roots);
	return m;
}

void emit_map_free(struct emit_map *m)
{
	if (!m)
		return;
	g_free(m->slots);
	profile_walk_release(&m->walk);
	g_free(m->thread_root);
	g_free(m);
}

guint32 emit_map_thread(struct emit_map *m, guint ti)
{
	guint32 top = ti < m->p->threads->len ? m->thread_root[ti] : 0;

	m->cur = ti < m->p->threads->len ? profile_thread(m->p, ti) : NULL;
	profile_walk_thread(&m->walk, top);
	return top ? built(m, top)->node : 0;
}

guint32 emit_map_node(struct emit_map *m, guint32 stack)
{
	return built(m, profile_walk_node(&m->walk, stack))->node;
}

guint emit_map_pieces(struct emit_map *m, const struct profile_sample *s,
		      guint32 node[2], guint64 ns[2])
{
	guint64 wait, weight;
	guint n = 0;
	guint32 at, idle;

	if (!m->cur)
		return 0;
	wait = profile_sample_wait_ns(m->p, m->cur, s);
	weight = profile_sample_weight(m->p, m->cur, s);
	if (!profile_tree_counts(m->opts, m->p, m->cur, s) && wait >= weight)
		return 0;
	at = profile_walk_node(&m->walk, s->stack);
	if (weight > wait) {
		node[n] = built(m, at)->node;
		ns[n++] = weight - wait;
	}
	if (wait && (idle = built_child(m, at, profile_idle_frame_of(m->p, s->flags)))) {
		node[n] = built(m, idle)->node;
		ns[n++] = wait;
	}
	return n;
}

