/*
 * speedscope.c - speedscope's file format
 * (https://www.speedscope.app/file-format-schema.json): one "sampled"
 * profile per root of the call tree (a thread, or a group of threads),
 * named as the text report's headers name it ("worker ×40 (pid 4242)"),
 * frames shared, weights in seconds.
 *
 * Samples keep their time order, so speedscope's "Time Order" view is a
 * timeline; consecutive samples that land on the same tree node are one
 * sample with the summed weight, which changes no view and makes a steady
 * loop cost one entry instead of thousands.  Each sample's stack is its
 * node's path in the tree, so hiding, grouping, trimming, [idle] leaves
 * and --no-idle show here as in every other format.
 */
#include "config.h"

#include "render.h"
#include "emit.h"

#include <string.h>

struct speedscope {
	const struct profile *p;
	const struct profile_tree *t;
	FILE *out;
	struct emit_map *map;
	guint32 *index;    /* frame id -> speedscope frame index + 1 */
	GArray *frames;    /* of guint32 frame ids, in index order */
	GArray *path;      /* scratch */
};

static guint32 frame_index(struct speedscope *s, guint32 frame)
{
	if (!s->index[frame]) {
		g_array_append_val(s->frames, frame);
		s->index[frame] = s->frames->len;
	}
	return s->index[frame] - 1;
}

static void write_stack(struct speedscope *s, guint32 node, guint32 root)
{
	g_array_set_size(s->path, 0);
	for (; node && node != root; node = profile_tree_node(s->t, node)->parent) {
		guint32 i = frame_index(s, profile_tree_node(s->t, node)->frame);
		g_array_append_val(s->path, i);
	}
	fputc('[', s->out);
	for (guint i = s->path->len; i-- > 0;) {
		emit_u64(s->out, g_array_index(s->path, guint32, i));
		if (i)
			fputc(',', s->out);
	}
	fputc(']', s->out);
}

/* Walks the samples of the threads under root r, merged as described at
 * the top; writes stacks (weights FALSE) or weights. */
static guint64 walk_samples(struct speedscope *s, guint32 r, gboolean weights)
{
	gboolean first = TRUE;
	guint64 total = 0;

	for (guint ti = 0; ti < s->p->threads->len; ti++) {
		const struct profile_thread *th = profile_thread(s->p, ti);
		const struct profile_sample *sm =
			(const struct profile_sample *)(gpointer)th->samples->data;
		guint32 node = 0;
		guint64 w = 0;

		if (emit_map_thread(s->map, ti) != r || !th->samples->len)
			continue;
		for (guint i = 0; i <= th->samples->len; i++) {
			guint32 at[2] = {0, 0};
			guint64 ns[2] = {0, 0};
			/* none: left out of the tree (--no-idle); two: its
			 * running and its waiting time (wall mode) */
			guint k = 0, pieces = i < th->samples->len
				? emit_map_pieces(s->map, &sm[i], at, ns) : 1;

			if (i < th->samples->len && !pieces)
				continue;
			for (k = 0; k < pieces; k++) {
				guint32 n = at[k];

				if (node && (i == th->samples->len || n != node)) {
					if (!first)
						fputc(',', s->out);
					first = FALSE;
					if (weights)
						emit_seconds(s->out, w);
					else
						write_stack(s, node, r);
					total += w;
					w = 0;
				}
				if (i < th->samples->len) {
					node = n;
					w += ns[k];
				}
			}
		}
	}
	return total;
}

gboolean render_speedscope(const struct profile *p, const struct profile_tree *t,
			   const struct render_options *o, FILE *out,
			   GError **error)
{
	struct speedscope s = {.p = p, .t = t, .out = out};
	guint32 n;
	const guint32 *roots = profile_tree_children(t, 0, &n);
	gboolean first = TRUE;
	GString *b = g_string_new(NULL), *name = g_string_new(NULL);

	s.map = emit_map_new(p, t, o->tree_options);
	s.index = g_new0(guint32, profile_n_frames(p) + 1);
	s.frames = g_array_new(FALSE, FALSE, sizeof(guint32));
	s.path = g_array_new(FALSE, FALSE, sizeof(guint32));

	fputs("{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\","
	      "\"exporter\":\"pyprof " PACKAGE_VERSION "\",\"name\":", out);
	g_string_truncate(b, 0);
	emit_json_string(b, p->processes->len ? profile_process(p, 0)->path : "pyprof");
	fputs(b->str, out);
	fputs(",\"activeProfileIndex\":0,\"profiles\":[", out);
	for (guint32 i = 0; i < n; i++) {
		const struct profile_node *nd = profile_tree_node(t, roots[i]);
		guint64 total;

		if (!nd->total_samples)
			continue;
		fputs(first ? "\n" : ",\n", out);
		first = FALSE;
		g_string_truncate(name, 0);
		render_append_root(name, p, t, roots[i], FALSE);
		g_string_truncate(b, 0);
		emit_json_string(b, name->str);
		fprintf(out, "{\"type\":\"sampled\",\"name\":%s,\"unit\":\"seconds\","
			"\"startValue\":0,\"endValue\":", b->str);
		emit_seconds(out, nd->total_ns);
		fputs(",\"samples\":[", out);
		walk_samples(&s, roots[i], FALSE);
		fputs("],\"weights\":[", out);
		/* equal to nd->total_ns: every sample of the root's
		 * threads lands in its subtree */
		total = walk_samples(&s, roots[i], TRUE);
		(void)total;
		fputs("]}", out);
	}
	fputs("],\n\"shared\":{\"frames\":[", out);
	for (guint i = 0; i < s.frames->len; i++) {
		const struct profile_frame *f =
			profile_frame(p, g_array_index(s.frames, guint32, i));
		g_string_assign(b, i ? ",\n{\"name\":" : "\n{\"name\":");
		emit_json_string(b, profile_frame_label(f));
		if (profile_frame_is_code(f)) {
			g_string_append(b, ",\"file\":");
			emit_json_string(b, f->kind == PROFILE_FRAME_NATIVE
						    ? render_native_file(f)
						    : f->filename);
			if (f->line >= 0)
				g_string_append_printf(b, ",\"line\":%d", f->line);
		}
		g_string_append_c(b, '}');
		fputs(b->str, out);
	}
	fputs("]}}\n", out);

	g_string_free(b, TRUE);
	g_string_free(name, TRUE);
	emit_map_free(s.map);
	g_free(s.index);
	g_array_unref(s.frames);
	g_array_unref(s.path);
	return render_check_stream(out, error);
}
