/*
 * pstats.c - the call tree as Python's profile statistics, the file that
 * pstats.Stats loads and snakeviz, gprof2dot and tuna read: a marshal'd
 * dict
 *
 *   {(file, line, name): (cc, nc, tt, ct, {(caller): (cc, nc, tt, ct)})}
 *
 * as cProfile writes it (pstats reads it with marshal.load).  Sampling
 * counts no calls, so nc and cc are sample counts: the samples with the
 * function on their stack (once per sample, recursion included); tt is
 * the function's own time, ct its total with recursion counted once, in
 * seconds; each caller entry is the same, of the time the function spent
 * called from that caller.  The tree is every format's (hidden frames
 * gone, their time with the nearest caller shown), all threads merged:
 * pstats has no threads.  A native frame is (object or source file, line
 * or 0, name); [idle] and the other synthetic frames are ("~", 0, label),
 * as cProfile names built-in functions; ("~", 0, "[hidden]") holds the
 * time whose every frame was hidden or trimmed, so that the own times add
 * up to the tree's total.
 *
 * The marshal bytes written: '{' key value ... '0' for a dict, '(' and a
 * 32-bit count for a tuple, 'u' and a 32-bit length for a str, 'i' for a
 * 32-bit int ('l', 15-bit digits, when larger), 'g' for a double; all
 * little-endian, no references (marshal's version 2 and later read them).
 */
#include "config.h"

#include "render.h"

#include <string.h>

struct edge {
	guint64 samples, self_ns, total_ns;
};

struct fn {
	guint32 frame;    /* the function's frame (line -1) */
	guint64 samples, self_ns, total_ns;
	guint active;     /* its nodes on the walk's path */
	GHashTable *callers; /* caller function frame -> struct edge */
	GHashTable *active_from; /* caller -> its nodes on the path */
};

static void fn_free(gpointer data)
{
	struct fn *f = data;
	g_hash_table_unref(f->callers);
	g_hash_table_unref(f->active_from);
	g_free(f);
}

/* --- marshal ------------------------------------------------------------- */

static void w_u32(FILE *out, guint32 v)
{
	guint8 b[4] = {v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >> 24};
	fwrite(b, 1, 4, out);
}

static void w_int(FILE *out, guint64 v)
{
	if (v <= G_MAXINT32) {
		fputc('i', out);
		w_u32(out, (guint32)v);
		return;
	}
	/* TYPE_LONG: a signed count of 15-bit digits, least significant
	 * first */
	{
		guint16 digits[5];
		int n = 0;
		while (v) {
			digits[n++] = v & 0x7fff;
			v >>= 15;
		}
		fputc('l', out);
		w_u32(out, (guint32)n);
		for (int i = 0; i < n; i++) {
			fputc(digits[i] & 0xff, out);
			fputc(digits[i] >> 8, out);
		}
	}
}

static void w_float(FILE *out, double d)
{
	guint64 bits;
	guint8 b[8];

	memcpy(&bits, &d, 8);
	for (int i = 0; i < 8; i++)
		b[i] = (guint8)(bits >> (8 * i));
	fputc('g', out);
	fwrite(b, 1, 8, out);
}

static void w_str(FILE *out, const char *s)
{
	gsize n = strlen(s);

	fputc('u', out);
	w_u32(out, (guint32)n);
	fwrite(s, 1, n, out);
}

static void w_tuple(FILE *out, guint32 n)
{
	fputc('(', out);
	w_u32(out, n);
}

/* (file, line, name) of a function frame */
static void w_key(FILE *out, const struct profile_frame *f)
{
	w_tuple(out, 3);
	if (f->kind == PROFILE_FRAME_PYTHON) {
		w_str(out, f->filename);
		w_int(out, f->firstlineno > 0 ? (guint64)f->firstlineno : 0);
	} else if (f->kind == PROFILE_FRAME_NATIVE) {
		w_str(out, render_native_file(f));
		w_int(out, 0);
	} else {
		w_str(out, "~");
		w_int(out, 0);
	}
	w_str(out, profile_frame_label(f));
}

static void w_stats(FILE *out, guint64 samples, guint64 self_ns,
		    guint64 total_ns)
{
	w_int(out, samples);
	w_int(out, samples);
	w_float(out, (double)self_ns / 1e9);
	w_float(out, (double)total_ns / 1e9);
}

/* --- the walk ------------------------------------------------------------ */

struct walk {
	guint32 node;
	gboolean leaving;
};

static struct fn *fn_of(GHashTable *fns, GPtrArray *order, guint32 function)
{
	struct fn *f = g_hash_table_lookup(fns, GUINT_TO_POINTER(function));

	if (!f) {
		f = g_new0(struct fn, 1);
		f->frame = function;
		f->callers = g_hash_table_new_full(g_direct_hash, g_direct_equal,
						   NULL, g_free);
		f->active_from = g_hash_table_new(g_direct_hash, g_direct_equal);
		g_hash_table_insert(fns, GUINT_TO_POINTER(function), f);
		g_ptr_array_add(order, f);
	}
	return f;
}

/* The function frame of node id, 0 for the root and thread nodes */
static guint32 function_of(const struct profile *p, const struct profile_tree *t,
			   guint32 id)
{
	const struct profile_node *nd = profile_tree_node(t, id);
	const struct profile_frame *f;

	if (!nd->frame)
		return 0;
	f = profile_frame(p, nd->frame);
	return f->kind == PROFILE_FRAME_THREAD ? 0 : f->function;
}

gboolean render_pstats(const struct profile *p, const struct profile_tree *t,
		       const struct render_options *o, FILE *out, GError **error)
{
	GHashTable *fns = g_hash_table_new_full(g_direct_hash, g_direct_equal,
						NULL, fn_free);
	GPtrArray *order = g_ptr_array_new();
	GArray *todo = g_array_new(FALSE, FALSE, sizeof(struct walk));
	struct walk w0 = {0, FALSE};

	(void)o;
	g_array_append_val(todo, w0);
	while (todo->len) {
		struct walk w = g_array_index(todo, struct walk, todo->len - 1);
		const struct profile_node *nd = profile_tree_node(t, w.node);
		guint32 function = function_of(p, t, w.node);
		guint32 caller = nd->parent ? function_of(p, t, nd->parent) : 0;
		const guint32 *kids;
		guint32 n;

		g_array_set_size(todo, todo->len - 1);
		if (function) {
			struct fn *f = fn_of(fns, order, function);
			guint from = GPOINTER_TO_UINT(g_hash_table_lookup(
				f->active_from, GUINT_TO_POINTER(caller)));

			if (w.leaving) {
				f->active--;
				if (caller)
					g_hash_table_insert(f->active_from,
							    GUINT_TO_POINTER(caller),
							    GUINT_TO_POINTER(from - 1));
				continue;
			}
			/* recursion counts once: only the outermost node of
			 * a function on a path adds its total (and of an
			 * edge, the outermost node with that caller) */
			if (!f->active++) {
				f->total_ns += nd->total_ns;
				f->samples += nd->total_samples;
			}
			f->self_ns += nd->self_ns;
			if (caller) {
				struct edge *e = g_hash_table_lookup(
					f->callers, GUINT_TO_POINTER(caller));
				if (!e) {
					e = g_new0(struct edge, 1);
					g_hash_table_insert(f->callers,
							    GUINT_TO_POINTER(caller), e);
				}
				if (!from) {
					e->total_ns += nd->total_ns;
					e->samples += nd->total_samples;
				}
				e->self_ns += nd->self_ns;
				g_hash_table_insert(f->active_from,
						    GUINT_TO_POINTER(caller),
						    GUINT_TO_POINTER(from + 1));
			}
			{
				struct walk back = {w.node, TRUE};
				g_array_append_val(todo, back);
			}
		}
		kids = profile_tree_children(t, w.node, &n);
		for (guint32 i = n; i-- > 0;) {
			struct walk c = {kids[i], FALSE};
			g_array_append_val(todo, c);
		}
	}

	fputc('{', out);
	for (guint i = 0; i < order->len; i++) {
		const struct fn *f = g_ptr_array_index(order, i);
		GHashTableIter it;
		gpointer k, v;

		w_key(out, profile_frame(p, f->frame));
		w_tuple(out, 5);
		w_stats(out, f->samples, f->self_ns, f->total_ns);
		fputc('{', out);
		g_hash_table_iter_init(&it, f->callers);
		while (g_hash_table_iter_next(&it, &k, &v)) {
			const struct edge *e = v;
			w_key(out, profile_frame(p, GPOINTER_TO_UINT(k)));
			w_tuple(out, 4);
			w_stats(out, e->samples, e->self_ns, e->total_ns);
		}
		fputc('0', out);
	}
	/* time whose every frame was hidden or trimmed, the threads' own in
	 * the tree: named as the text report names it, so the totals agree */
	{
		guint64 ns = 0, samples = 0;
		guint32 n;
		const guint32 *threads = profile_tree_children(t, 0, &n);

		for (guint32 i = 0; i < n; i++) {
			ns += profile_tree_node(t, threads[i])->self_ns;
			samples += profile_tree_node(t, threads[i])->self_samples;
		}
		if (ns) {
			w_tuple(out, 3);
			w_str(out, "~");
			w_int(out, 0);
			w_str(out, "[hidden]");
			w_tuple(out, 5);
			w_stats(out, samples, ns, ns);
			fputc('{', out);
			fputc('0', out);
		}
	}
	fputc('0', out);

	g_array_unref(todo);
	g_ptr_array_unref(order);
	g_hash_table_unref(fns);
	return render_check_stream(out, error);
}
