/*
 * html.c - one self-contained HTML page: a flame graph with zoom, search
 * with highlighting, a call-tree table with self and total time, process
 * and thread selectors and, when frames were hidden or trimmed, a toggle
 * to the full tree.  The page (render/html/report.html) is compiled into
 * the binary (render/html-template.c, made by the Makefile); this file
 * writes it with the profile as JSON where the PYPROF_DATA marker stands.
 *
 * The data are compact: the tree's nodes as columns, frames as columns
 * indexed by the nodes, each string once.  Its size grows with the number
 * of distinct call paths, not with the number of samples.  Nodes below
 * 1/HTML_MIN_SHARE of the whole (0.001%) are left out, with their
 * subtrees: no view can show them (a box that narrow is far below a
 * pixel), and a profile whose every sample is a new path (10^6 samples
 * of random 30-deep stacks: 370 MB of page) would otherwise not open.
 * Their time stays in their callers' totals; the page says how many were
 * left out.  Profiles of up to 10^5 samples lose nothing.
 */
#include "config.h"

#include "render.h"
#include "emit.h"

#include <string.h>

/* render/html-template.c, generated from render/html/report.html */
extern const unsigned char render_html_template[];

#define MARKER "/*PYPROF_DATA*/"
#define HTML_MIN_SHARE 100000

struct html {
	const struct profile *p;
	FILE *out;
	guint32 *index;  /* frame id -> index + 1 in the frames columns */
	GArray *frames;
	GString *b;
};

static guint32 frame_index(struct html *h, guint32 frame)
{
	if (!h->index[frame]) {
		g_array_append_val(h->frames, frame);
		h->index[frame] = h->frames->len;
	}
	return h->index[frame] - 1;
}

/* Writes tree t as {"frame": [...], "parent": [...], ...}, its nodes in
 * depth-first order. */
static void write_tree(struct html *h, const struct profile_tree *t)
{
	guint32 n = t->nodes->len, at = 0;
	guint32 *order = g_new(guint32, n), *newid = g_new(guint32, n);
	GArray *stack = g_array_new(FALSE, FALSE, sizeof(guint32));
	guint32 zero = 0, pruned = 0;
	const struct profile_node *root = profile_tree_node(t, 0);
	FILE *out = h->out;
	static const char *const cols[] = {"frame", "parent", "self", "total", "samples"};

	g_array_append_val(stack, zero);
	while (stack->len) {
		guint32 id = g_array_index(stack, guint32, stack->len - 1), k;
		const guint32 *kids = profile_tree_children(t, id, &k);
		g_array_set_size(stack, stack->len - 1);
		newid[id] = at;
		order[at++] = id;
		for (guint32 i = k; i-- > 0;) {
			const struct profile_node *c = profile_tree_node(t, kids[i]);
			if (c->total_ns * HTML_MIN_SHARE < root->total_ns &&
			    c->total_samples * HTML_MIN_SHARE < root->total_samples)
				pruned++;
			else
				g_array_append_val(stack, kids[i]);
		}
	}
	fputc('{', out);
	for (guint c = 0; c < G_N_ELEMENTS(cols); c++) {
		fprintf(out, "%s\"%s\":[", c ? ",\n" : "", cols[c]);
		for (guint32 i = 0; i < at; i++) {
			const struct profile_node *nd = profile_tree_node(t, order[i]);
			if (i)
				fputc(',', out);
			switch (c) {
			case 0:
				if (i == 0)
					fputs("-1", out);
				else
					emit_u64(out, frame_index(h, nd->frame));
				break;
			case 1: emit_u64(out, i ? newid[nd->parent] : 0); break;
			case 2: emit_u64(out, nd->self_ns); break;
			case 3: emit_u64(out, nd->total_ns); break;
			default: emit_u64(out, nd->total_samples); break;
			}
		}
		fputc(']', out);
	}
	fputs(",\n\"thread\":{", out);
	{
		guint32 k;
		const guint32 *roots = profile_tree_children(t, 0, &k);
		gboolean first = TRUE;
		for (guint32 i = 0; i < k; i++) {
			const struct profile_node *nd = profile_tree_node(t, roots[i]);
			if (nd->thread < 0)
				continue;
			fprintf(out, "%s\"%u\":%d", first ? "" : ",", newid[roots[i]], nd->thread);
			first = FALSE;
		}
	}
	fprintf(out, "},\n\"pruned\":%" G_GUINT32_FORMAT "}", pruned);
	g_array_unref(stack);
	g_free(order);
	g_free(newid);
}

static void write_data(struct html *h, const struct profile_tree *t,
		       const struct render_options *o)
{
	const struct profile *p = h->p;
	FILE *out = h->out;
	GString *b = h->b;
	char *title;

	if (o->title)
		title = g_strdup(o->title);
	else if (p->processes->len == 1 && profile_process(p, 0)->argv &&
		 profile_process(p, 0)->argv[0])
		title = g_strjoinv(" ", profile_process(p, 0)->argv);
	else
		title = g_strdup_printf("%u processes", p->processes->len);
	g_string_assign(b, "{\"title\":");
	emit_json_string(b, title);
	g_free(title);
	g_string_append_printf(b, ",\"mode\":\"%s\",\n\"processes\":[",
			       p->mode == PROFILE_MODE_WALL ? "wall" : "CPU");
	for (guint i = 0; i < p->processes->len; i++) {
		const struct profile_process *pr = profile_process(p, i);
		char *cmd = emit_command_line(pr);
		g_string_append_printf(b, "%s{\"pid\":%d,\"cmd\":", i ? "," : "", pr->pid);
		emit_json_string(b, cmd);
		g_string_append_c(b, '}');
		g_free(cmd);
	}
	g_string_append(b, "],\n\"threads\":[");
	for (guint i = 0; i < p->threads->len; i++) {
		const struct profile_thread *th = profile_thread(p, i);
		g_string_append_printf(b, "%s{\"process\":%u,\"tid\":%" G_GUINT32_FORMAT ",\"name\":",
				       i ? "," : "", th->process, th->tid);
		emit_json_string(b, th->name);
		g_string_append_c(b, '}');
	}
	g_string_append(b, "],\n\"tree\":");
	fputs(b->str, out);
	write_tree(h, t);
	fputs(",\n\"full\":", out);
	if (o->full && o->full != t)
		write_tree(h, o->full);
	else
		fputs("null", out);

	/* the frames both trees use, as columns */
	fputs(",\n\"frames\":{\"name\":[", out);
	for (guint i = 0; i < h->frames->len; i++) {
		const struct profile_frame *f =
			profile_frame(p, g_array_index(h->frames, guint32, i));
		g_string_assign(b, i ? "," : "");
		emit_json_string(b, profile_frame_label(f));
		fputs(b->str, out);
	}
	fputs("],\n\"file\":[", out);
	for (guint i = 0; i < h->frames->len; i++) {
		const struct profile_frame *f =
			profile_frame(p, g_array_index(h->frames, guint32, i));
		g_string_assign(b, i ? "," : "");
		emit_json_string(b, f->kind == PROFILE_FRAME_PYTHON ? f->filename
				    : f->kind == PROFILE_FRAME_NATIVE
					    ? render_native_file(f) : "");
		fputs(b->str, out);
	}
	fputs("],\n\"line\":[", out);
	for (guint i = 0; i < h->frames->len; i++) {
		const struct profile_frame *f =
			profile_frame(p, g_array_index(h->frames, guint32, i));
		fprintf(out, "%s%d", i ? "," : "", profile_frame_is_code(f) ? f->line : -1);
	}
	fputs("]}}", out);
}

gboolean render_html(const struct profile *p, const struct profile_tree *t,
		     const struct render_options *o, FILE *out, GError **error)
{
	struct html h = {.p = p, .out = out};
	const char *page = (const char *)render_html_template;
	const char *mark = strstr(page, MARKER);

	g_return_val_if_fail(mark != NULL, FALSE);
	h.index = g_new0(guint32, profile_n_frames(p) + 1);
	h.frames = g_array_new(FALSE, FALSE, sizeof(guint32));
	h.b = g_string_new(NULL);
	fwrite(page, 1, (size_t)(mark - page), out);
	write_data(&h, t, o);
	fputs(mark + strlen(MARKER), out);
	g_free(h.index);
	g_array_unref(h.frames);
	g_string_free(h.b, TRUE);
	return render_check_stream(out, error);
}
