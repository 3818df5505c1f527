/*
 * html.c - one self-contained HTML page: a flame graph with zoom, a
 * call tree to open and close (pyinstrument's way: the hot path open,
 * each function's lines in its details), a timeline with a lane per
 * thread, a search that highlights in all three, a legend of where the
 * code lives, process and thread selectors and, when frames were hidden
 * or trimmed, a toggle to the full tree.  `pyprof diff` writes the same
 * page with its table of changes and a flame graph of NEW coloured by
 * them (render_diff_html).  The page (render/html/report.html) is
 * compiled into the binary (render/html-template.c, made by the
 * Makefile); this file writes it with the data as JSON where the
 * PYPROF_DATA marker stands.
 *
 * The data are compact: the tree's nodes as columns, frames as columns
 * indexed by the nodes, files and colours as tables indexed by the
 * frames, each string once.  Their size grows with the number of
 * distinct call paths, not with the number of samples.  Nodes below
 * 1/HTML_MIN_SHARE of the whole (0.001%) are left out, with their
 * subtrees: no view can show them (a box that narrow is far below a
 * pixel), and a profile whose every sample is a new path (10^6 samples
 * of random 30-deep stacks: 370 MB of page) would otherwise not open.
 * Their time stays in their callers' totals; the page says how many were
 * left out.  Profiles of up to 10^5 samples lose nothing.
 *
 * The timeline is bucketed: at most HTML_BUCKETS columns from the time
 * trace and gecko count from (emit_time_base) to the last sample (none
 * narrower than the sampling interval), for at most HTML_LANES threads
 * (the busiest), each column a thread's running and waiting time in it
 * and the node that holds most of it: the deepest node of the shown tree
 * with at least half of the column's time.  A sample stands for the time
 * before it (as in trace.c), so its time is spread over the columns it
 * covers.
 */
#include "config.h"

#include "render.h"
#include "emit.h"

#include <string.h>

#include "collector/diff.h"
#include "collector/shape.h"

/* render/html-template.c, generated from render/html/report.html */
extern const unsigned char render_html_template[];

#define MARKER "/*PYPROF_DATA*/"
#define HTML_MIN_SHARE 100000
#define HTML_BUCKETS 400
#define HTML_LANES 64
#define HTML_LINES 30      /* lines of a function in its details */
#define HTML_DIFF_ROWS 5000
#define PRUNED G_MAXUINT32  /* a node's page id: left out */
#define NO_FILE G_MAXUINT32 /* a synthetic frame's file */

struct html {
	const struct profile *p;
	const struct render_options *o;
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

/* The line to show of node id: its hottest line, -1 when none is known */
static int node_line(const struct profile_tree *t, guint32 id)
{
	const struct profile_frame *f =
		profile_frame(t->profile, shape_hot_line(t, id));

	if (f->kind == PROFILE_FRAME_PYTHON ||
	    (f->kind == PROFILE_FRAME_NATIVE && f->source))
		return f->line;
	return -1;
}

static gboolean kept(const struct profile_tree *t, guint32 id)
{
	const struct profile_node *root = profile_tree_node(t, 0);
	const struct profile_node *c = profile_tree_node(t, id);

	return c->total_ns * HTML_MIN_SHARE >= root->total_ns ||
	       c->total_samples * HTML_MIN_SHARE >= root->total_samples;
}

/*
 * Writes tree t as {"frame": [...], "parent": [...], ...}, its nodes in
 * depth-first order.  Returns the page's id of each node of t (PRUNED for
 * those left out); the caller frees it.
 */
static guint32 *write_tree(struct html *h, const struct profile_tree *t)
{
	guint32 n = t->nodes->len, at = 0;
	guint32 *order = g_new(guint32, n), *newid = g_new(guint32, n);
	GArray *stack = g_array_new(FALSE, FALSE, sizeof(guint32));
	guint32 zero = 0, pruned = 0;
	FILE *out = h->out;
	static const char *const cols[] = {"frame", "parent", "self", "total",
					   "samples", "line"};
	gboolean first;

	for (guint32 i = 0; i < n; i++)
		newid[i] = PRUNED;
	g_array_append_val(stack, zero);
	while (stack->len) {
		guint32 id = g_array_index(stack, guint32, stack->len - 1), k;
		const guint32 *kids = profile_tree_children(t, id, &k);
		g_array_set_size(stack, stack->len - 1);
		newid[id] = at;
		order[at++] = id;
		for (guint32 i = k; i-- > 0;) {
			if (kept(t, kids[i]))
				g_array_append_val(stack, kids[i]);
			else
				pruned++;
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
			case 4: emit_u64(out, nd->total_samples); break;
			default: fprintf(out, "%d", i ? node_line(t, order[i]) : -1); break;
			}
		}
		fputc(']', out);
	}
	/* sparse: most nodes have neither */
	fputs(",\n\"repeat\":{", out);
	first = TRUE;
	for (guint32 i = 1; i < at; i++) {
		guint32 repeat = profile_tree_repeat(t, order[i]);
		if (repeat > 1) {
			fprintf(out, "%s\"%u\":%u", first ? "" : ",", i, repeat);
			first = FALSE;
		}
	}
	fputs("},\n\"lines\":{", out);
	first = TRUE;
	for (guint32 i = 1; i < at; i++) {
		guint32 n_lines;
		const struct profile_line *lines = profile_tree_lines(t, order[i], &n_lines);
		if (n_lines < 2)
			continue;
		fprintf(out, "%s\"%u\":[", first ? "" : ",", i);
		first = FALSE;
		for (guint32 l = 0; l < n_lines && l < HTML_LINES; l++) {
			const struct profile_line *pl = &lines[l];
			fprintf(out, "%s%d,", l ? "," : "", profile_frame(h->p, pl->frame)->line);
			emit_u64(out, pl->ns);
		}
		fputc(']', out);
	}
	fputc('}', out);
	/* per root of one thread, its thread; per root of a family, its
	 * process, for the process selector, and how many threads it holds,
	 * for its label */
	{
		guint32 k;
		const guint32 *roots = profile_tree_children(t, 0, &k);
		GString *thread = g_string_new(NULL), *family = g_string_new(NULL);

		for (guint32 i = 0; i < k; i++) {
			const struct profile_node *nd = profile_tree_node(t, roots[i]);
			int process = profile_frame_family(profile_frame(h->p, nd->frame));

			if (newid[roots[i]] == PRUNED)
				continue;
			if (nd->thread >= 0)
				g_string_append_printf(thread, "%s\"%u\":%d",
						       thread->len ? "," : "",
						       newid[roots[i]], nd->thread);
			else if (process >= 0)
				g_string_append_printf(family, "%s\"%u\":[%d,%u]",
						       family->len ? "," : "",
						       newid[roots[i]], process,
						       render_root_threads(h->p, t, roots[i], NULL));
		}
		fprintf(out, ",\n\"thread\":{%s},\n\"family\":{%s", thread->str, family->str);
		g_string_free(thread, TRUE);
		g_string_free(family, TRUE);
	}
	fprintf(out, "},\n\"pruned\":%" G_GUINT32_FORMAT "}", pruned);
	g_array_unref(stack);
	g_free(order);
	return newid;
}

/* ---- the timeline ---- */

struct lane {
	guint thread;
	guint64 weight;
};

/* One thread's columns being added up */
struct columns {
	const struct profile_tree *t;
	const guint32 *newid;
	guint64 *acc;        /* node -> its time in the open column */
	GArray *touched;     /* nodes with acc set */
	guint32 root;        /* the lane's root node */
	gint64 open;         /* the column being added up, -1 none */
	guint64 run, wait;   /* its time */
	GArray *col, *runs, *waits, *nodes;
};

static void columns_flush(struct columns *c)
{
	guint64 total = c->run + c->wait;
	guint32 best = c->root, node;

	if (c->open < 0)
		return;
	/* the deepest node with half the column's time: those with half are
	 * one line of callers and callees, and a callee's id is larger */
	for (guint i = 0; i < c->touched->len; i++) {
		guint32 id = g_array_index(c->touched, guint32, i);
		if (c->acc[id] * 2 >= total && id > best)
			best = id;
		c->acc[id] = 0;
	}
	g_array_set_size(c->touched, 0);
	/* a node left out of the page counts in its nearest shown caller */
	for (node = best; node && c->newid[node] == PRUNED;)
		node = profile_tree_node(c->t, node)->parent;
	if (total) {
		guint32 col = (guint32)c->open, page = c->newid[node];
		guint64 run_us = (c->run + 500) / 1000, wait_us = (c->wait + 500) / 1000;
		g_array_append_val(c->col, col);
		g_array_append_val(c->runs, run_us);
		g_array_append_val(c->waits, wait_us);
		g_array_append_val(c->nodes, page);
	}
	c->open = -1;
	c->run = c->wait = 0;
}

/* Adds ns of node (running or waiting) to column col */
static void columns_add(struct columns *c, gint64 col, guint32 node,
			guint64 ns, gboolean waiting)
{
	if (col != c->open) {
		columns_flush(c);
		c->open = col;
	}
	if (waiting)
		c->wait += ns;
	else
		c->run += ns;
	for (guint32 n = node; n; n = profile_tree_node(c->t, n)->parent) {
		if (!c->acc[n])
			g_array_append_val(c->touched, n);
		c->acc[n] += ns;
		if (n == c->root)
			break;
	}
}

static void write_u64s(FILE *out, const char *name, GArray *a, gboolean is64)
{
	fprintf(out, ",\"%s\":[", name);
	for (guint i = 0; i < a->len; i++) {
		if (i)
			fputc(',', out);
		emit_u64(out, is64 ? g_array_index(a, guint64, i) : g_array_index(a, guint32, i));
	}
	fputc(']', out);
}

static int lane_heavier(gconstpointer pa, gconstpointer pb)
{
	const struct lane *a = pa, *b = pb;

	if (a->weight != b->weight)
		return a->weight < b->weight ? 1 : -1;
	return a->thread < b->thread ? -1 : a->thread > b->thread;
}

static int lane_order(gconstpointer pa, gconstpointer pb)
{
	const struct lane *a = pa, *b = pb;

	return a->thread < b->thread ? -1 : a->thread > b->thread;
}

/* The start of the time sample i of th stands for: its weight back from
 * its instant, clipped to the previous sample's instant (or for the
 * first, the process's start) */
static guint64 sample_start(const struct profile *p, const struct profile_thread *th,
			    const struct profile_sample *s, guint i)
{
	guint64 w = profile_sample_weight(p, th, &s[i]);
	guint64 from = i ? s[i - 1].mono_ns : profile_process(p, th->process)->start_mono_ns;
	guint64 start = w < s[i].mono_ns ? s[i].mono_ns - w : 0;

	return start < from && from <= s[i].mono_ns ? from : start;
}

static void write_timeline(struct html *h, const struct profile_tree *t,
			   const guint32 *newid)
{
	const struct profile *p = h->p;
	FILE *out = h->out;
	struct emit_map *m = emit_map_new(p, t, h->o->tree_options);
	GArray *lanes = g_array_new(FALSE, FALSE, sizeof(struct lane));
	guint64 t0 = emit_time_base(p), t1 = t0, width = 1, interval = 0;
	guint n_cols, left_out = 0;
	struct columns c = {.t = t, .newid = newid};

	for (guint ti = 0; ti < p->threads->len; ti++) {
		const struct profile_thread *th = profile_thread(p, ti);
		const struct profile_sample *s = (const struct profile_sample *)(gpointer)th->samples->data;
		struct lane l = {ti, 0};
		guint32 root;

		/* a thread whose root the page leaves out (below 0.001%)
		 * has no lane either */
		if (!th->samples->len || !(root = emit_map_thread(m, ti)) ||
		    newid[root] == PRUNED)
			continue;
		for (guint i = 0; i < th->samples->len; i++) {
			guint32 node[2];
			guint64 ns[2];
			guint k = emit_map_pieces(m, &s[i], node, ns);
			for (guint j = 0; j < k; j++)
				l.weight += ns[j];
			if (k)
				t1 = MAX(t1, s[i].mono_ns);
		}
		if (l.weight)
			g_array_append_val(lanes, l);
		interval = MAX(interval, profile_process(p, th->process)->interval_ns);
	}
	if (lanes->len > HTML_LANES) {
		left_out = lanes->len - HTML_LANES;
		g_array_sort(lanes, lane_heavier);
		g_array_set_size(lanes, HTML_LANES);
		g_array_sort(lanes, lane_order);
	}
	width = MAX((t1 - t0 + HTML_BUCKETS - 1) / HTML_BUCKETS, MAX(interval, 1));
	n_cols = (guint)((t1 - t0) / width + 1);

	fprintf(out, "{\"start\":%" G_GUINT64_FORMAT ",\"width\":%" G_GUINT64_FORMAT
		",\"columns\":%u,\"left_out\":%u,\"lanes\":[", t0, width, n_cols, left_out);
	c.acc = g_new0(guint64, t->nodes->len);
	c.touched = g_array_new(FALSE, FALSE, sizeof(guint32));
	c.col = g_array_new(FALSE, FALSE, sizeof(guint32));
	c.runs = g_array_new(FALSE, FALSE, sizeof(guint64));
	c.waits = g_array_new(FALSE, FALSE, sizeof(guint64));
	c.nodes = g_array_new(FALSE, FALSE, sizeof(guint32));
	for (guint li = 0; li < lanes->len; li++) {
		guint ti = g_array_index(lanes, struct lane, li).thread;
		const struct profile_thread *th = profile_thread(p, ti);
		const struct profile_sample *s = (const struct profile_sample *)(gpointer)th->samples->data;
		guint64 last = t0;

		c.root = emit_map_thread(m, ti);
		c.open = -1;
		c.run = c.wait = 0;
		for (guint i = 0; i < th->samples->len; i++) {
			guint32 node[2];
			guint64 ns[2];
			guint k = emit_map_pieces(m, &s[i], node, ns);
			guint64 a = sample_start(p, th, s, i), z = s[i].mono_ns, span;

			if (!k)
				continue;
			/* columns come in order: a sample out of order is
			 * moved to after the one before */
			a = MAX(a, last);
			z = MAX(z, a);
			last = z;
			span = z - a;
			/* the share of [a, z] in each column it covers, column
			 * by column */
			for (guint64 col = (a - t0) / width, col1 = (z - t0) / width; col <= col1; col++) {
				guint64 lo = MAX(a, t0 + col * width);
				guint64 hi = MIN(z, t0 + (col + 1) * width);
				for (guint j = 0; j < k; j++) {
					const struct profile_frame *f =
						profile_frame(p, profile_tree_node(t, node[j])->frame);
					guint64 part = span ? (guint64)((double)ns[j] * (double)(hi - lo) /
									(double)span)
							    : ns[j];
					if (part || col == col1)
						columns_add(&c, (gint64)col, node[j], part,
							    f->kind == PROFILE_FRAME_IDLE);
				}
			}
		}
		columns_flush(&c);
		fprintf(out, "%s\n{\"thread\":%u,\"root\":%u", li ? "," : "", ti, newid[c.root]);
		write_u64s(out, "col", c.col, FALSE);
		write_u64s(out, "run", c.runs, TRUE);
		write_u64s(out, "wait", c.waits, TRUE);
		write_u64s(out, "node", c.nodes, FALSE);
		fputc('}', out);
		g_array_set_size(c.col, 0);
		g_array_set_size(c.runs, 0);
		g_array_set_size(c.waits, 0);
		g_array_set_size(c.nodes, 0);
	}
	fputs("]}", out);
	g_free(c.acc);
	g_array_unref(c.touched);
	g_array_unref(c.col);
	g_array_unref(c.runs);
	g_array_unref(c.waits);
	g_array_unref(c.nodes);
	g_array_unref(lanes);
	emit_map_free(m);
}

/* ---- frames, their files and colours ---- */

/* The file a frame's place names, as shown (short unless full_paths) and
 * in full; NULL for synthetic frames */
static const char *frame_file(const struct profile_frame *f, gboolean full)
{
	if (f->kind == PROFILE_FRAME_PYTHON)
		return full ? f->filename : f->short_file;
	if (f->kind == PROFILE_FRAME_NATIVE) {
		const char *path = render_native_file(f), *base = strrchr(path, '/');
		return full || !base ? path : base + 1;
	}
	return NULL;
}

/* The index of key in table, item added to list as its entry if new
 * (key copied if copy) */
static guint32 table_index(GHashTable *table, GPtrArray *list,
			   const char *key, gboolean copy, gpointer item)
{
	gpointer v = g_hash_table_lookup(table, key);

	if (!v) {
		g_ptr_array_add(list, item);
		v = GUINT_TO_POINTER(list->len);
		g_hash_table_insert(table, copy ? g_strdup(key) : (gpointer)key, v);
	}
	return GPOINTER_TO_UINT(v) - 1;
}

/*
 * The frames both trees use, as columns: "name", "file" (an index in
 * "files", -1 none) and "pkg" (an index in "packages": what its colour
 * is for, {"name", "origin", "color"}, one per package of an origin, or
 * for the program's code per file), then the tables.
 */
static void write_frames(struct html *h)
{
	const struct profile *p = h->p;
	FILE *out = h->out;
	GString *b = h->b;
	GHashTable *files = g_hash_table_new(g_str_hash, g_str_equal);
	GHashTable *colors = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	GPtrArray *file_list = g_ptr_array_new(), *pkg_list = g_ptr_array_new();
	guint32 *file_of = g_new(guint32, h->frames->len + 1);
	guint32 *pkg_of = g_new(guint32, h->frames->len + 1);

	for (guint i = 0; i < h->frames->len; i++) {
		const struct profile_frame *f =
			profile_frame(p, g_array_index(h->frames, guint32, i));
		const char *full = frame_file(f, TRUE);

		file_of[i] = full ? table_index(files, file_list, full, FALSE, (gpointer)f)
				  : NO_FILE;
		g_string_printf(b, "%d\x1f%s", (int)f->origin, emit_color_key(f));
		pkg_of[i] = table_index(colors, pkg_list, b->str, TRUE, (gpointer)f);
	}
	fputs("{\"name\":[", out);
	for (guint i = 0; i < h->frames->len; i++) {
		const struct profile_frame *f =
			profile_frame(p, g_array_index(h->frames, guint32, i));
		g_string_assign(b, i ? "," : "");
		emit_json_string(b, profile_frame_label(f));
		fputs(b->str, out);
	}
	fputs("],\n\"file\":[", out);
	for (guint i = 0; i < h->frames->len; i++)
		fprintf(out, "%s%d", i ? "," : "", file_of[i] == NO_FILE ? -1 : (int)file_of[i]);
	fputs("],\n\"pkg\":[", out);
	for (guint i = 0; i < h->frames->len; i++)
		fprintf(out, "%s%u", i ? "," : "", pkg_of[i]);
	/* each file as shown, and its full path where that differs */
	fputs("]},\n\"files\":[", out);
	for (guint i = 0; i < file_list->len; i++) {
		const struct profile_frame *f = g_ptr_array_index(file_list, i);
		g_string_assign(b, i ? "," : "");
		emit_json_string(b, frame_file(f, h->o->full_paths));
		fputs(b->str, out);
	}
	fputs("],\n\"paths\":[", out);
	for (guint i = 0; i < file_list->len; i++) {
		const struct profile_frame *f = g_ptr_array_index(file_list, i);
		const char *full = frame_file(f, TRUE);
		g_string_assign(b, i ? "," : "");
		if (strcmp(full, frame_file(f, h->o->full_paths)))
			emit_json_string(b, full);
		else
			g_string_append(b, "null");
		fputs(b->str, out);
	}
	fputs("],\n\"packages\":[", out);
	for (guint i = 0; i < pkg_list->len; i++) {
		const struct profile_frame *f = g_ptr_array_index(pkg_list, i);
		g_string_assign(b, i ? ",\n{\"name\":" : "{\"name\":");
		emit_json_string(b, emit_color_key(f));
		g_string_append_printf(b, ",\"origin\":\"%s\",\"color\":\"#%06x\"}",
				       profile_origin_name(f->origin), emit_frame_color(f));
		fputs(b->str, out);
	}
	fputc(']', out);
	g_hash_table_unref(files);
	g_hash_table_unref(colors);
	g_ptr_array_unref(file_list);
	g_ptr_array_unref(pkg_list);
	g_free(file_of);
	g_free(pkg_of);
}

/* ---- the page ---- */

static void html_init(struct html *h, const struct profile *p,
		      const struct render_options *o, FILE *out)
{
	memset(h, 0, sizeof *h);
	h->p = p;
	h->o = o;
	h->out = out;
	h->index = g_new0(guint32, profile_n_frames(p) + 1);
	h->frames = g_array_new(FALSE, FALSE, sizeof(guint32));
	h->b = g_string_new(NULL);
}

static void html_release(struct html *h)
{
	g_free(h->index);
	g_array_unref(h->frames);
	g_string_free(h->b, TRUE);
}

/* The page up to the data; returns what follows them */
static const char *html_start(FILE *out)
{
	const char *page = (const char *)render_html_template;
	const char *mark = strstr(page, MARKER);

	g_assert(mark != NULL);
	fwrite(page, 1, (size_t)(mark - page), out);
	return mark + strlen(MARKER);
}

/* {"title":..., "mode":..., "processes":[...], "threads":[...], and the
 * opening of the next member, into h->b */
static void html_head(struct html *h, const char *kind, const char *title)
{
	const struct profile *p = h->p;
	GString *b = h->b;

	g_string_printf(b, "{\"kind\":\"%s\",\"title\":", kind);
	emit_json_string(b, title);
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
	g_string_append(b, "],\n");
}

static char *default_title(const struct profile *p, const struct render_options *o)
{
	if (o->title)
		return g_strdup(o->title);
	if (p->processes->len == 1 && profile_process(p, 0)->argv &&
	    profile_process(p, 0)->argv[0])
		return g_strjoinv(" ", profile_process(p, 0)->argv);
	return g_strdup_printf("%u processes", p->processes->len);
}

gboolean render_html(const struct profile *p, const struct profile_tree *t,
		     const struct render_options *o, FILE *out, GError **error)
{
	struct html h;
	const char *rest = html_start(out);
	char *title = default_title(p, o);
	guint32 *shown, *full;

	html_init(&h, p, o, out);
	html_head(&h, "report", title);
	g_free(title);
	fputs(h.b->str, out);
	fputs("\"tree\":", out);
	shown = write_tree(&h, t);
	fputs(",\n\"full\":", out);
	if (o->full && o->full != t) {
		full = write_tree(&h, o->full);
		g_free(full);
	} else {
		fputs("null", out);
	}
	fputs(",\n\"timeline\":", out);
	write_timeline(&h, t, shown);
	fputs(",\n\"frames\":", out);
	write_frames(&h);
	fputc('}', out);
	fputs(rest, out);
	g_free(shown);
	html_release(&h);
	return render_check_stream(out, error);
}

/* A share in percent, -1 for none, as few digits as tell it */
static void write_share(FILE *out, double v)
{
	if (v < 0)
		fputs("-1", out);
	else
		fprintf(out, "%.4g", v);
}

/* The rows of d, with their frames spelt out: a row's frame may be
 * BASE's, whose frame ids are not NEW's */
static void write_rows(struct html *h, const struct diff *d)
{
	FILE *out = h->out;
	GString *b = h->b;
	guint n = MIN(d->rows->len, HTML_DIFF_ROWS);
	static const char *const cols[] = {"name", "file", "path", "line", "color",
					   "origin", "self0", "self1", "total0",
					   "total1", "status"};

	fputc('{', out);
	for (guint c = 0; c < G_N_ELEMENTS(cols); c++) {
		fprintf(out, "%s\"%s\":[", c ? ",\n" : "", cols[c]);
		for (guint i = 0; i < n; i++) {
			const struct diff_row *r = g_ptr_array_index(d->rows, i);
			const struct profile_frame *f = r->frame;
			const char *file = frame_file(f, h->o->full_paths);

			g_string_assign(b, i ? "," : "");
			switch (c) {
			case 0: emit_json_string(b, profile_frame_label(f)); break;
			case 1: emit_json_string(b, file ? file : ""); break;
			case 2:
				if (file && strcmp(file, frame_file(f, TRUE)))
					emit_json_string(b, frame_file(f, TRUE));
				else
					g_string_append(b, "null");
				break;
			case 3:
				g_string_append_printf(b, "%d", f->kind == PROFILE_FRAME_PYTHON ||
					(f->kind == PROFILE_FRAME_NATIVE && f->source) ? f->line : -1);
				break;
			case 4: g_string_append_printf(b, "\"#%06x\"", emit_frame_color(f)); break;
			case 5: g_string_append_printf(b, "\"%s\"", profile_origin_name(f->origin)); break;
			case 10:
				g_string_append_c(b, diff_row_added(r) ? '1' : diff_row_gone(r) ? '2' : '0');
				break;
			default:
				break;
			}
			fputs(b->str, out);
			switch (c) {
			case 6: write_share(out, r->self[0]); break;
			case 7: write_share(out, r->self[1]); break;
			case 8: write_share(out, r->total[0]); break;
			case 9: write_share(out, r->total[1]); break;
			default: break;
			}
		}
		fputc(']', out);
	}
	fprintf(out, ",\n\"left_out\":%u}", d->rows->len - n);
}

static void write_side(struct html *h, const char *name, guint64 total_ns,
		       const struct profile *p)
{
	g_string_assign(h->b, "{\"name\":");
	emit_json_string(h->b, name);
	g_string_append_printf(h->b, ",\"total\":%" G_GUINT64_FORMAT ",\"mode\":\"%s\"}",
			       total_ns, p->mode == PROFILE_MODE_WALL ? "wall" : "CPU");
	fputs(h->b->str, h->out);
}

gboolean render_diff_html(const struct diff *d, const char *const names[2],
			  const struct render_options *o, FILE *out,
			  GError **error)
{
	const struct profile *p = d->t[1]->profile;
	struct html h;
	const char *rest = html_start(out);
	char *title = o->title ? g_strdup(o->title)
			       : g_strdup_printf("%s → %s", names[0], names[1]);
	double *self, *total;
	guint32 *newid, n = d->t[1]->nodes->len, at = 0;

	html_init(&h, p, o, out);
	html_head(&h, "diff", title);
	g_free(title);
	fputs(h.b->str, out);
	fputs("\"base\":", out);
	write_side(&h, names[0], d->total_ns[0], d->t[0]->profile);
	fputs(",\"new\":", out);
	write_side(&h, names[1], d->total_ns[1], p);
	fputs(",\n\"tree\":", out);
	newid = write_tree(&h, d->t[1]);
	/* BASE's shares of NEW's call paths, in the page's node order */
	diff_paths(d, &self, &total);
	{
		double *s2 = g_new(double, n), *t2 = g_new(double, n);
		for (guint32 i = 0; i < n; i++)
			if (newid[i] != PRUNED) {
				s2[newid[i]] = self[i];
				t2[newid[i]] = total[i];
				at = MAX(at, newid[i] + 1);
			}
		fputs(",\n\"was\":{\"self\":[", out);
		for (guint32 i = 0; i < at; i++) {
			if (i)
				fputc(',', out);
			write_share(out, s2[i]);
		}
		fputs("],\"total\":[", out);
		for (guint32 i = 0; i < at; i++) {
			if (i)
				fputc(',', out);
			write_share(out, t2[i]);
		}
		fputs("]}", out);
		g_free(s2);
		g_free(t2);
	}
	fputs(",\n\"full\":null,\"timeline\":null,\n\"rows\":", out);
	write_rows(&h, d);
	fputs(",\n\"frames\":", out);
	write_frames(&h);
	fputc('}', out);
	fputs(rest, out);
	g_free(self);
	g_free(total);
	g_free(newid);
	html_release(&h);
	return render_check_stream(out, error);
}
