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

/* Writes v / 10^digits with up to `digits` decimals, trailing zeros and
 * a bare point left out: the unit conversions of emit_us, emit_ms and
 * emit_seconds are exact, where a double would round nanoseconds. */
static void emit_fixed(FILE *out, guint64 v, guint digits)
{
	guint64 scale = 1;
	char b[21];
	int n;

	for (guint i = 0; i < digits; i++)
		scale *= 10;
	emit_u64(out, v / scale);
	v %= scale;
	if (!v)
		return;
	b[0] = '.';
	for (n = (int)digits; n >= 1; n--, v /= 10)
		b[n] = (char)('0' + v % 10);
	n = (int)digits + 1;
	while (b[n - 1] == '0')
		n--;
	fwrite(b, 1, (size_t)n, out);
}

void emit_us(FILE *out, guint64 ns)
{
	emit_fixed(out, ns, 3);
}

void emit_ms(FILE *out, guint64 ns)
{
	emit_fixed(out, ns, 6);
}

void emit_seconds(FILE *out, guint64 ns)
{
	emit_fixed(out, ns, 9);
}

guint64 emit_time_base(const struct profile *p)
{
	guint64 base = G_MAXUINT64;

	for (guint i = 0; i < p->processes->len; i++) {
		const struct profile_process *pr = profile_process(p, i);
		if (pr->start_mono_ns && pr->start_mono_ns < base)
			base = pr->start_mono_ns;
	}
	for (guint ti = 0; ti < p->threads->len; ti++) {
		const struct profile_thread *th = profile_thread(p, ti);
		if (th->samples->len &&
		    g_array_index(th->samples, struct profile_sample, 0).mono_ns < base)
			base = g_array_index(th->samples, struct profile_sample, 0).mono_ns;
	}
	return base == G_MAXUINT64 ? 0 : base;
}

char *emit_command_line(const struct profile_process *pr)
{
	return pr->argv && pr->argv[0] ? g_strjoinv(" ", pr->argv) : g_strdup(pr->path);
}

/* ---- colour by origin ---- */

const char *emit_color_key(const struct profile_frame *f)
{
	switch (f->kind) {
	case PROFILE_FRAME_THREAD: return "thread";
	case PROFILE_FRAME_GROUP: return "group";
	case PROFILE_FRAME_IDLE: return "idle";
	case PROFILE_FRAME_PYTHON:
	case PROFILE_FRAME_NATIVE:
		if (f->origin == PROFILE_ORIGIN_PROGRAM || !f->package)
			return f->short_file;
		return f->package;
	default: return "other";
	}
}

/* HSL as CSS has it (h in degrees, s and l from 0 to 1); without libm,
 * which nothing else here needs */
static guint32 hsl_rgb(double h, double s, double l)
{
	/* per 60-degree sector, which of r, g, b gets the chroma and which
	 * the second-largest component */
	static const int ci[6] = {0, 1, 1, 2, 2, 0}, xi[6] = {1, 0, 2, 1, 0, 2};
	double c = (1 - (2 * l > 1 ? 2 * l - 1 : 1 - 2 * l)) * s, hp = h / 60;
	int sector = (int)hp % 6;
	double mod2 = hp - 2 * (int)(hp / 2), m = l - c / 2;
	double rgb[3] = {0, 0, 0};

	rgb[ci[sector]] = c;
	rgb[xi[sector]] = c * (1 - (mod2 > 1 ? mod2 - 1 : 1 - mod2));
	return (guint32)((rgb[0] + m) * 255 + 0.5) << 16 |
	       (guint32)((rgb[1] + m) * 255 + 0.5) << 8 |
	       (guint32)((rgb[2] + m) * 255 + 0.5);
}

/* Per origin: hue from, its width, saturation, lightness from, its width */
static const double origin_range[][5] = {
	[PROFILE_ORIGIN_PROGRAM] = {0, 42, 0.85, 0.55, 0.10},
	[PROFILE_ORIGIN_STDLIB] = {196, 32, 0.60, 0.60, 0.12},
	[PROFILE_ORIGIN_LIBRARY] = {88, 60, 0.45, 0.50, 0.12},
	[PROFILE_ORIGIN_NATIVE] = {268, 40, 0.40, 0.62, 0.10},
};

/* The shade at (a, b) of origin o's range, each from 0 to 1 */
static guint32 origin_shade(enum profile_origin o, double a, double b)
{
	const double *r = origin_range[o];

	return hsl_rgb(r[0] + r[1] * a, r[2], r[3] + r[4] * b);
}

guint32 emit_origin_color(enum profile_origin o)
{
	if (o == PROFILE_ORIGIN_OTHER || o >= G_N_ELEMENTS(origin_range))
		return 0xc4c4c4;
	return origin_shade(o, 0.5, 0.5);
}

guint32 emit_frame_color(const struct profile_frame *f)
{
	guint32 h = 2166136261u; /* FNV-1a: the same shade in every report */

	if (!profile_frame_is_code(f) || f->origin == PROFILE_ORIGIN_OTHER) {
		switch (f->kind) {
		case PROFILE_FRAME_THREAD: return 0xc4c4c4;
		case PROFILE_FRAME_GROUP: return 0xd0d0d0;
		case PROFILE_FRAME_IDLE: return 0xe6e6e6;
		default: return 0xb0b0b0;
		}
	}
	for (const unsigned char *u = (const unsigned char *)emit_color_key(f); *u; u++)
		h = (h ^ *u) * 16777619u;
	return origin_shade(f->origin, (double)(h & 0xffff) / 65536.0,
			    (double)(h >> 16) / 65536.0);
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
	GArray *groups;

	/* a renderer of samples in time whose table row does not say so
	 * (render.h: timeline) was given a profile without timelines */
	g_return_val_if_fail(t->built != NULL, NULL);
	m = g_new0(struct emit_map, 1);
	n = t->built->len;
	roots = g_new0(guint32, n + 1);
	groups = g_array_new(FALSE, FALSE, sizeof(guint32));

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
	/* The builder gave each thread one root: its own, or its family's,
	 * its name's, its process's or all threads'.  Only the few roots of
	 * groups are searched, so that a tree of a root per thread (there
	 * may be 100,000) costs one pass. */
	for (guint32 i = 0; i < nroot; i++) {
		const struct profile_node *nd = profile_tree_node(t, built(m, roots[i])->node);
		if (nd->thread >= 0 && (guint)nd->thread < p->threads->len)
			m->thread_root[nd->thread] = roots[i];
		else if (nd->thread < 0)
			g_array_append_val(groups, roots[i]);
	}
	for (guint ti = 0; ti < p->threads->len; ti++)
		for (guint32 i = 0; i < groups->len && !m->thread_root[ti]; i++) {
			guint32 root = g_array_index(groups, guint32, i);
			if (render_root_holds(p, t, built(m, root)->node, ti))
				m->thread_root[ti] = root;
		}
	g_array_unref(groups);
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

guint emit_map_pieces_in_time(struct emit_map *m, const struct profile_sample *s,
			      guint32 node[2], guint64 ns[2])
{
	guint k = emit_map_pieces(m, s, node, ns);

	if (k == 2 && !profile_sample_idle(m->p, m->cur, s)) {
		guint32 tn = node[0];
		guint64 tns = ns[0];
		node[0] = node[1], ns[0] = ns[1];
		node[1] = tn, ns[1] = tns;
	}
	return k;
}
