/*
 * gecko.c - the Firefox Profiler's file format (https://profiler.firefox.com,
 * "Load a profile from file"): its "processed" profile, version 57, the
 * kind CPython's own sampler writes (Lib/profiling/sampling/
 * gecko_collector.py in 3.15); the profiler upgrades it to its current
 * version as it loads it.
 *
 * One Firefox thread per pyprof thread, under its process (pid, command
 * line).  Version 57 gives each thread its own tables, rows referring to
 * rows by index, and one string array for all:
 *
 *   samples        stack, time, weight: one entry per sample
 *   stackTable     one row per call tree node the thread's samples reach:
 *                  its frame and its caller's row (prefix; null at the
 *                  top), callers before callees
 *   frameTable     one row per frame, a function at a line
 *   funcTable      one row per function: name, file, line of its def
 *   resourceTable  one row per Python file or native object
 *   markers        the control API's marks (libpyprof(7))
 *
 * A sample's stack is its node's path in the call tree (see emit.h), so
 * hiding, grouping, trimming and [idle] leaves are the tree's.  Weights
 * are milliseconds ("tracing-ms": each entry has its own weight), the CPU
 * or wall time each sample measured, since samples are not interval
 * apart.  A wall-mode sample whose period held both running and waiting
 * (emit_map_pieces) is two entries, its stack and the [idle] below it,
 * so the thread adds up as the tree does: in wall mode there can be more
 * entries than samples.
 *
 * Times are milliseconds since the earliest process start
 * (emit_time_base); meta.startTime is that instant on the wall clock.
 * An entry's time is the end of the period it stands for: when the
 * sample was taken, or, for the first of two pieces, when the second
 * began, in the order emit_map_pieces_in_time gives them.
 *
 * Marks become markers of the thread that made them: a start and the
 * stop that closes it (same label and process, windows nesting) an
 * interval, a window never closed lasting to the process's end; a point
 * mark, or a stop that closes nothing, an instant.
 *
 * Written as a stream, for files of millions of samples: a thread's
 * sample columns in three passes over its samples (stacks, times,
 * weights), its tables after them from the rows the first pass made, the
 * strings last.
 */
#include "config.h"

#include "render.h"
#include "emit.h"

#include <string.h>

/* Indexes into meta.categories; "Other" must be the first grey one, the
 * profiler's default.  "Idle" is transparent, so waiting time leaves a
 * gap in the activity graph as it does in a thread's life. */
enum gecko_category {
	GECKO_CAT_OTHER,
	GECKO_CAT_IDLE,
	GECKO_CAT_PYTHON,
	GECKO_CAT_NATIVE,
};

#define GECKO_CATEGORIES                                                       \
	"[{\"name\":\"Other\",\"color\":\"grey\",\"subcategories\":[\"Other\"]},"   \
	"{\"name\":\"Idle\",\"color\":\"transparent\",\"subcategories\":[\"Other\"]}," \
	"{\"name\":\"Python\",\"color\":\"yellow\",\"subcategories\":[\"Other\"]}," \
	"{\"name\":\"Native\",\"color\":\"blue\",\"subcategories\":[\"Other\"]}]"

/* The markers' data.type; the schema makes the profiler list them in the
 * marker chart and table and draw them on the thread's track. */
#define GECKO_MARKER_SCHEMA                                                    \
	"[{\"name\":\"PyprofMark\",\"display\":[\"marker-chart\",\"marker-table\"," \
	"\"timeline-overview\"],\"chartLabel\":\"{marker.name}\","                  \
	"\"tooltipLabel\":\"{marker.name}\","                                       \
	"\"tableLabel\":\"{marker.name} ({marker.data.kind})\","                    \
	"\"description\":\"pyprof's control API: pyprof_start and pyprof_stop "    \
	"windows, pyprof_mark points (libpyprof(7))\","                             \
	"\"fields\":[{\"key\":\"kind\",\"label\":\"Kind\",\"format\":\"string\"}]}]"

struct gecko_marker {
	guint thread;
	guint64 start, end; /* ns since the time base */
	gboolean interval;
	const char *label;
	const char *kind;   /* "window", "point", "stop" */
};

struct gecko {
	const struct profile *p;
	const struct profile_tree *t;
	FILE *out;
	struct emit_map *map;
	guint64 base;
	GString *b;
	/* the string array, shared by the threads */
	GHashTable *string_index; /* string -> index + 1 */
	GPtrArray *strings;       /* of const char *, borrowed */
	GArray *markers;          /* of struct gecko_marker, every thread's */
	/* The current thread's tables: each a list of ids in row order,
	 * and a map from id to row + 1 (0: none yet), cleared between
	 * threads through the lists. */
	guint32 root;             /* its root in the tree, 0 if none */
	GArray *stacks;           /* tree node ids */
	GArray *frames;           /* frame ids */
	GArray *funcs;            /* frame ids of functions (line -1) */
	GArray *func_resource;    /* a func's resource row, -1 none */
	GArray *resources;        /* a frame id from each resource */
	GArray *thread_markers;   /* indexes into markers */
	guint32 *stack_row, *frame_row, *func_row;
	GHashTable *resource_row; /* file or object path -> row + 1 */
	GArray *path;             /* scratch */
};

static guint gecko_string(struct gecko *g, const char *s)
{
	guint i = GPOINTER_TO_UINT(g_hash_table_lookup(g->string_index, s));

	if (!i) {
		g_ptr_array_add(g->strings, (gpointer)s);
		i = g->strings->len;
		g_hash_table_insert(g->string_index, (gpointer)s, GUINT_TO_POINTER(i));
	}
	return i - 1;
}

/* ---- the rows of a thread's tables ---- */

static gint32 gecko_resource(struct gecko *g, guint32 frame)
{
	const struct profile_frame *f = profile_frame(g->p, frame);
	guint row;

	if (!profile_frame_is_code(f))
		return -1;
	row = GPOINTER_TO_UINT(g_hash_table_lookup(g->resource_row, f->filename));
	if (!row) {
		g_array_append_val(g->resources, frame);
		row = g->resources->len;
		g_hash_table_insert(g->resource_row, (gpointer)f->filename,
				    GUINT_TO_POINTER(row));
	}
	return (gint32)row - 1;
}

static guint32 gecko_func(struct gecko *g, guint32 function)
{
	if (!g->func_row[function]) {
		gint32 res = gecko_resource(g, function);
		g_array_append_val(g->funcs, function);
		g_array_append_val(g->func_resource, res);
		g->func_row[function] = g->funcs->len;
	}
	return g->func_row[function] - 1;
}

static guint32 gecko_frame(struct gecko *g, guint32 frame)
{
	if (!g->frame_row[frame]) {
		gecko_func(g, profile_frame(g->p, frame)->function);
		g_array_append_val(g->frames, frame);
		g->frame_row[frame] = g->frames->len;
	}
	return g->frame_row[frame] - 1;
}

/* The stack row of tree node `node`, made with its callers' rows if new.
 * A sample at the thread's root itself (all its frames hidden) gets a
 * row of the root's frame, so that its time is not lost. */
static guint32 gecko_stack(struct gecko *g, guint32 node)
{
	guint32 n = node;

	if (g->stack_row[node])
		return g->stack_row[node] - 1;
	g_array_set_size(g->path, 0);
	for (;;) {
		g_array_append_val(g->path, n);
		if (n == g->root)
			break;
		n = profile_tree_node(g->t, n)->parent;
		if (!n || n == g->root || g->stack_row[n])
			break;
	}
	for (guint i = g->path->len; i-- > 0;) {
		n = g_array_index(g->path, guint32, i);
		gecko_frame(g, profile_tree_node(g->t, n)->frame);
		g_array_append_val(g->stacks, n);
		g->stack_row[n] = g->stacks->len;
	}
	return g->stack_row[node] - 1;
}

static void gecko_thread_clear(struct gecko *g)
{
	for (guint i = 0; i < g->stacks->len; i++)
		g->stack_row[g_array_index(g->stacks, guint32, i)] = 0;
	for (guint i = 0; i < g->frames->len; i++)
		g->frame_row[g_array_index(g->frames, guint32, i)] = 0;
	for (guint i = 0; i < g->funcs->len; i++)
		g->func_row[g_array_index(g->funcs, guint32, i)] = 0;
	g_array_set_size(g->stacks, 0);
	g_array_set_size(g->frames, 0);
	g_array_set_size(g->funcs, 0);
	g_array_set_size(g->func_resource, 0);
	g_array_set_size(g->resources, 0);
	g_array_set_size(g->thread_markers, 0);
	g_hash_table_remove_all(g->resource_row);
}

/* ---- tables as columns ---- */

/* Writes row `row` of one column */
typedef void (*gecko_cell_fn)(struct gecko *g, guint row);

struct gecko_column {
	const char *name;
	gecko_cell_fn cell;
};

static void cell_null(struct gecko *g, guint row) { (void)row; fputs("null", g->out); }
static void cell_zero(struct gecko *g, guint row) { (void)row; fputc('0', g->out); }
static void cell_minus_one(struct gecko *g, guint row) { (void)row; fputs("-1", g->out); }

static void cell_nullable(struct gecko *g, int v)
{
	if (v >= 0)
		emit_u64(g->out, (guint64)v);
	else
		fputs("null", g->out);
}

static void cell_string(struct gecko *g, const char *s)
{
	if (s)
		emit_u64(g->out, gecko_string(g, s));
	else
		fputs("null", g->out);
}

static const struct profile_node *stack_node(struct gecko *g, guint row)
{
	return profile_tree_node(g->t, g_array_index(g->stacks, guint32, row));
}

static void stack_frame(struct gecko *g, guint row)
{
	emit_u64(g->out, g->frame_row[stack_node(g, row)->frame] - 1);
}

static void stack_prefix(struct gecko *g, guint row)
{
	guint32 node = g_array_index(g->stacks, guint32, row);
	guint32 up = stack_node(g, row)->parent;

	cell_nullable(g, node == g->root || up == g->root ? -1
			 : (int)g->stack_row[up] - 1);
}

static const struct profile_frame *row_frame(struct gecko *g, GArray *ids, guint row)
{
	return profile_frame(g->p, g_array_index(ids, guint32, row));
}

static void frame_category(struct gecko *g, guint row)
{
	enum gecko_category c;

	switch (row_frame(g, g->frames, row)->kind) {
	case PROFILE_FRAME_PYTHON:
	case PROFILE_FRAME_GROUP: c = GECKO_CAT_PYTHON; break;
	case PROFILE_FRAME_NATIVE: c = GECKO_CAT_NATIVE; break;
	case PROFILE_FRAME_IDLE: c = GECKO_CAT_IDLE; break;
	default: c = GECKO_CAT_OTHER; break;
	}
	emit_u64(g->out, c);
}

static void frame_func(struct gecko *g, guint row)
{
	emit_u64(g->out, g->func_row[row_frame(g, g->frames, row)->function] - 1);
}

static void frame_line(struct gecko *g, guint row)
{
	const struct profile_frame *f = row_frame(g, g->frames, row);

	cell_nullable(g, f->kind == PROFILE_FRAME_PYTHON ||
				 (f->kind == PROFILE_FRAME_NATIVE && f->source)
			 ? f->line : -1);
}

static void func_name(struct gecko *g, guint row)
{
	cell_string(g, profile_frame_label(row_frame(g, g->funcs, row)));
}

/* isJS picks the frames of the profiler's "JavaScript only" view, which
 * for a Python program is the Python frames; relevantForJS keeps pyprof's
 * own ([idle], groups, [truncated]) in that view too. */
static void func_is_js(struct gecko *g, guint row)
{
	fputs(row_frame(g, g->funcs, row)->kind == PROFILE_FRAME_PYTHON ? "true" : "false",
	      g->out);
}

static void func_relevant(struct gecko *g, guint row)
{
	fputs(profile_frame_is_code(row_frame(g, g->funcs, row)) ? "false" : "true",
	      g->out);
}

static void func_resource(struct gecko *g, guint row)
{
	gint32 r = g_array_index(g->func_resource, gint32, row);

	if (r < 0)
		fputs("-1", g->out);
	else
		emit_u64(g->out, (guint64)r);
}

static void func_file(struct gecko *g, guint row)
{
	const struct profile_frame *f = row_frame(g, g->funcs, row);

	cell_string(g, f->kind == PROFILE_FRAME_PYTHON ? f->filename
		       : f->kind == PROFILE_FRAME_NATIVE ? f->source : NULL);
}

static void func_line(struct gecko *g, guint row)
{
	const struct profile_frame *f = row_frame(g, g->funcs, row);

	cell_nullable(g, f->kind == PROFILE_FRAME_PYTHON ? f->firstlineno : -1);
}

/* A Python file by its path; a native object by its base name, as the
 * other formats spell it ("libz.so.1") */
static void resource_name(struct gecko *g, guint row)
{
	const struct profile_frame *f = row_frame(g, g->resources, row);
	const char *base = strrchr(f->filename, '/');

	cell_string(g, f->kind == PROFILE_FRAME_NATIVE && base ? base + 1 : f->filename);
}

/* resourceTypes.library: what the profiler's own importers give files
 * of code that is not a web page */
static void resource_type(struct gecko *g, guint row) { (void)row; fputc('1', g->out); }

static const struct gecko_marker *row_marker(struct gecko *g, guint row)
{
	return &g_array_index(g->markers, struct gecko_marker,
			      g_array_index(g->thread_markers, guint, row));
}

static void marker_data(struct gecko *g, guint row)
{
	fprintf(g->out, "{\"type\":\"PyprofMark\",\"kind\":\"%s\"}", row_marker(g, row)->kind);
}

static void marker_name(struct gecko *g, guint row)
{
	cell_string(g, row_marker(g, row)->label);
}

static void marker_start(struct gecko *g, guint row)
{
	emit_ms(g->out, row_marker(g, row)->start);
}

static void marker_end(struct gecko *g, guint row)
{
	const struct gecko_marker *m = row_marker(g, row);

	if (m->interval)
		emit_ms(g->out, m->end);
	else
		fputs("null", g->out);
}

/* 0 an instant, 1 an interval (the profiler's MarkerPhase) */
static void marker_phase(struct gecko *g, guint row)
{
	fputc(row_marker(g, row)->interval ? '1' : '0', g->out);
}

static const struct gecko_column stack_columns[] = {
	{"frame", stack_frame}, {"prefix", stack_prefix}, {NULL, NULL},
};
static const struct gecko_column frame_columns[] = {
	{"address", cell_minus_one}, {"inlineDepth", cell_zero},
	{"category", frame_category}, {"subcategory", cell_zero},
	{"func", frame_func}, {"nativeSymbol", cell_null},
	{"innerWindowID", cell_null}, {"line", frame_line},
	{"column", cell_null}, {NULL, NULL},
};
static const struct gecko_column func_columns[] = {
	{"name", func_name}, {"isJS", func_is_js}, {"relevantForJS", func_relevant},
	{"resource", func_resource}, {"fileName", func_file},
	{"lineNumber", func_line}, {"columnNumber", cell_null}, {NULL, NULL},
};
static const struct gecko_column resource_columns[] = {
	{"lib", cell_null}, {"name", resource_name}, {"host", cell_null},
	{"type", resource_type}, {NULL, NULL},
};
/* Native frames come named: no symbol table to look them up in */
static const struct gecko_column native_symbol_columns[] = {
	{"libIndex", NULL}, {"address", NULL}, {"name", NULL},
	{"functionSize", NULL}, {NULL, NULL},
};
static const struct gecko_column marker_columns[] = {
	{"data", marker_data}, {"name", marker_name}, {"startTime", marker_start},
	{"endTime", marker_end}, {"phase", marker_phase}, {"category", cell_zero},
	{NULL, NULL},
};

/* Writes ,"name":{"column":[...],...,"length":rows} */
static void write_table(struct gecko *g, const char *name,
			const struct gecko_column *cols, guint rows)
{
	fprintf(g->out, ",\n\"%s\":{", name);
	for (const struct gecko_column *c = cols; c->name; c++) {
		fprintf(g->out, "%s\"%s\":[", c == cols ? "" : ",", c->name);
		for (guint i = 0; i < rows; i++) {
			if (i)
				fputc(',', g->out);
			c->cell(g, i);
		}
		fputc(']', g->out);
	}
	fprintf(g->out, ",\"length\":%u}", rows);
}

/* ---- samples ---- */

enum gecko_sample_column { GECKO_STACK, GECKO_TIME, GECKO_WEIGHT };

/* Writes one column of thread ti's samples (see the top for what an entry
 * is); returns the number of entries. */
static guint write_samples(struct gecko *g, guint ti, enum gecko_sample_column col)
{
	const struct profile_thread *th = profile_thread(g->p, ti);
	const struct profile_sample *s =
		(const struct profile_sample *)(gpointer)th->samples->data;
	guint64 last = 0;
	guint n = 0;

	if (!g->root)
		return 0;
	emit_map_thread(g->map, ti);
	for (guint i = 0; i < th->samples->len; i++) {
		guint32 node[2];
		guint64 ns[2], when[2];
		guint64 at = s[i].mono_ns > g->base ? s[i].mono_ns - g->base : 0;
		guint k = emit_map_pieces_in_time(g->map, &s[i], node, ns);

		if (!k)
			continue; /* left out of the tree (--no-idle) */
		if (at < last)
			at = last; /* out of order: never back in time */
		when[k - 1] = at;
		if (k == 2)
			when[0] = at - last > ns[1] ? at - ns[1] : last;
		for (guint j = 0; j < k; j++, n++) {
			if (n)
				fputc(',', g->out);
			if (col == GECKO_STACK)
				emit_u64(g->out, gecko_stack(g, node[j]));
			else if (col == GECKO_TIME)
				emit_ms(g->out, when[j]);
			else
				emit_ms(g->out, ns[j]);
		}
		last = at;
	}
	return n;
}

/* ---- marks ---- */

static guint64 since_base(const struct gecko *g, guint64 mono_ns)
{
	return mono_ns > g->base ? mono_ns - g->base : 0;
}

/* The thread a mark is drawn on: the one that made it, else its
 * process's main thread, else its first; G_MAXUINT if it has none. */
static guint mark_thread(const struct profile *p, const struct profile_mark *m)
{
	const struct profile_process *pr = profile_process(p, m->process);

	if (m->thread >= 0 && (guint)m->thread < p->threads->len)
		return (guint)m->thread;
	for (guint t = pr->first_thread; t < pr->first_thread + pr->n_threads; t++)
		if (profile_thread(p, t)->flags & PROFILE_THREAD_MAIN)
			return t;
	return pr->n_threads ? pr->first_thread : G_MAXUINT;
}

static gint mark_order(gconstpointer a, gconstpointer b, gpointer data)
{
	const struct profile_mark *x = &g_array_index((GArray *)data, struct profile_mark,
						      *(const guint *)a);
	const struct profile_mark *y = &g_array_index((GArray *)data, struct profile_mark,
						      *(const guint *)b);

	if (x->process != y->process)
		return x->process < y->process ? -1 : 1;
	if (x->mono_ns != y->mono_ns)
		return x->mono_ns < y->mono_ns ? -1 : 1;
	return *(const guint *)a < *(const guint *)b ? -1 : 1;
}

/* Pairs the marks into g->markers (see the top).  Each thread's chunk
 * holds its own marks, so the file's order is not time's: marks are
 * taken in time order within each process. */
static void gecko_pair_marks(struct gecko *g)
{
	const struct profile *p = g->p;
	guint n = p->marks->len;
	guint *order = g_new(guint, n + 1);
	GArray *open = g_array_new(FALSE, FALSE, sizeof(guint)); /* of markers */

	for (guint i = 0; i < n; i++)
		order[i] = i;
	g_qsort_with_data(order, (gint)n, sizeof *order, mark_order, p->marks);
	for (guint i = 0; i < n; i++) {
		const struct profile_mark *m = &g_array_index(p->marks, struct profile_mark, order[i]);
		struct gecko_marker gm = {mark_thread(p, m), since_base(g, m->mono_ns), 0,
					  FALSE, m->label, "point"};

		if (i && m->process != g_array_index(p->marks, struct profile_mark,
						     order[i - 1]).process)
			g_array_set_size(open, 0);
		if (gm.thread == G_MAXUINT)
			continue;
		if (m->kind == PROFILE_MARK_START) {
			const struct profile_process *pr = profile_process(p, m->process);
			guint64 end = pr->end_mono_ns ? pr->end_mono_ns : pr->last_mono_ns;

			gm.interval = TRUE;
			gm.kind = "window";
			gm.end = MAX(since_base(g, end), gm.start);
			g_array_append_val(open, g->markers->len);
		} else if (m->kind == PROFILE_MARK_STOP) {
			gboolean closed = FALSE;

			for (guint k = open->len; k-- > 0 && !closed;) {
				struct gecko_marker *w = &g_array_index(
					g->markers, struct gecko_marker, g_array_index(open, guint, k));
				if (!strcmp(w->label, m->label)) {
					w->end = gm.start;
					g_array_remove_index(open, k);
					closed = TRUE;
				}
			}
			if (closed)
				continue;
			gm.kind = "stop";
		}
		g_array_append_val(g->markers, gm);
	}
	g_array_unref(open);
	g_free(order);
}

/* ---- the document ---- */

/* The wall clock at the time base, from the earliest process start
 * recorded on both clocks; 0 if none was. */
static guint64 gecko_start_realtime(const struct gecko *g)
{
	const struct profile_process *first = NULL;

	for (guint i = 0; i < g->p->processes->len; i++) {
		const struct profile_process *pr = profile_process(g->p, i);
		if (pr->start_realtime_ns && pr->start_mono_ns >= g->base &&
		    (!first || pr->start_mono_ns < first->start_mono_ns))
			first = pr;
	}
	if (!first || first->start_realtime_ns < first->start_mono_ns - g->base)
		return 0;
	return first->start_realtime_ns - (first->start_mono_ns - g->base);
}

static void write_meta(struct gecko *g)
{
	const struct profile *p = g->p;
	const struct profile_process *first = p->processes->len ? profile_process(p, 0) : NULL;
	guint64 interval = first && first->interval_ns ? first->interval_ns : 1000000;
	gboolean native = FALSE;
	char *cmd = first ? emit_command_line(first) : g_strdup("");

	for (guint i = 0; i < p->processes->len; i++)
		native |= profile_process(p, i)->native;
	g_string_assign(g->b, "");
	emit_json_string(g->b, cmd);
	fputs("{\"meta\":{\"version\":32,\"preprocessedProfileVersion\":57,"
	      "\"product\":\"pyprof\",\"processType\":0,\"interval\":", g->out);
	emit_ms(g->out, interval);
	fputs(",\"startTime\":", g->out);
	emit_ms(g->out, gecko_start_realtime(g));
	/* usesOnlyOneStackType hides the Python/native switch of the call
	 * tree where there is nothing to switch */
	fprintf(g->out, ",\"arguments\":%s,\"stackwalk\":%d,\"symbolicated\":true,"
		"\"sourceCodeIsNotOnSearchfox\":true,\"usesOnlyOneStackType\":%s,"
		"\n\"categories\":" GECKO_CATEGORIES ",\n\"markerSchema\":" GECKO_MARKER_SCHEMA,
		g->b->str, native, native ? "false" : "true");
	g_string_assign(g->b, "");
	emit_json_string(g->b, first && first->py_version ? first->py_version : "");
	fprintf(g->out, ",\n\"extra\":[{\"label\":\"pyprof\",\"entries\":["
		"{\"label\":\"pyprof\",\"format\":\"string\",\"value\":\"" PACKAGE_VERSION "\"},"
		"{\"label\":\"Python\",\"format\":\"string\",\"value\":%s},"
		"{\"label\":\"Mode\",\"format\":\"string\",\"value\":\"%s%s\"},"
		"{\"label\":\"Samples\",\"format\":\"integer\",\"value\":%" G_GUINT64_FORMAT "}]}]},",
		g->b->str, profile_mode_name(p->mode), p->mixed_modes ? " (mixed)" : "",
		profile_tree_node(g->t, 0)->total_samples);
	g_free(cmd);
}

static void write_thread(struct gecko *g, guint ti)
{
	const struct profile *p = g->p;
	const struct profile_thread *th = profile_thread(p, ti);
	const struct profile_process *pr = profile_process(p, th->process);
	guint images = 0, n;
	char *cmd = emit_command_line(pr);

	/* The exec images of one pid are processes of their own here; the
	 * profiler's pids are strings for that. */
	for (guint i = 0; i < th->process; i++)
		images += profile_process(p, i)->pid == pr->pid;
	g->root = emit_map_thread(g->map, ti);
	g_string_assign(g->b, "{\"name\":");
	emit_json_string(g->b, th->name);
	g_string_append(g->b, ",\"processName\":");
	emit_json_string(g->b, cmd);
	g_string_append_printf(g->b, ",\"pid\":\"%d", pr->pid);
	if (images)
		g_string_append_printf(g->b, ".%u", images);
	g_string_append_printf(g->b, "\",\"tid\":%" G_GUINT32_FORMAT ",\"isMainThread\":%s,"
			       "\"processType\":\"default\",\"pausedRanges\":[],"
			       "\"processStartupTime\":", th->tid,
			       th->flags & PROFILE_THREAD_MAIN ? "true" : "false");
	fputs(g->b->str, g->out);
	emit_ms(g->out, since_base(g, pr->start_mono_ns));
	fputs(",\"registerTime\":", g->out);
	emit_ms(g->out, since_base(g, pr->start_mono_ns));
	if (pr->end_mono_ns) {
		fputs(",\"processShutdownTime\":", g->out);
		emit_ms(g->out, since_base(g, pr->end_mono_ns));
		fputs(",\"unregisterTime\":", g->out);
		emit_ms(g->out, since_base(g, pr->end_mono_ns));
	} else {
		fputs(",\"processShutdownTime\":null,\"unregisterTime\":null", g->out);
	}
	g_free(cmd);

	fputs(",\n\"samples\":{\"stack\":[", g->out);
	n = write_samples(g, ti, GECKO_STACK);
	fputs("],\n\"time\":[", g->out);
	write_samples(g, ti, GECKO_TIME);
	fputs("],\n\"weight\":[", g->out);
	write_samples(g, ti, GECKO_WEIGHT);
	fprintf(g->out, "],\"weightType\":\"tracing-ms\",\"length\":%u}", n);

	for (guint i = 0; i < g->markers->len; i++)
		if (g_array_index(g->markers, struct gecko_marker, i).thread == ti)
			g_array_append_val(g->thread_markers, i);
	write_table(g, "markers", marker_columns, g->thread_markers->len);
	write_table(g, "stackTable", stack_columns, g->stacks->len);
	write_table(g, "frameTable", frame_columns, g->frames->len);
	write_table(g, "funcTable", func_columns, g->funcs->len);
	write_table(g, "resourceTable", resource_columns, g->resources->len);
	write_table(g, "nativeSymbols", native_symbol_columns, 0);
	fputc('}', g->out);
	gecko_thread_clear(g);
}

gboolean render_gecko(const struct profile *p, const struct profile_tree *t,
		      const struct render_options *o, FILE *out, GError **error)
{
	struct gecko g = {.p = p, .t = t, .out = out};
	guint32 nodes = t->nodes->len, frames = profile_n_frames(p) + 1;

	g.base = emit_time_base(p);
	g.map = emit_map_new(p, t, o->tree_options);
	g.b = g_string_new(NULL);
	g.string_index = g_hash_table_new(g_str_hash, g_str_equal);
	g.strings = g_ptr_array_new();
	g.markers = g_array_new(FALSE, FALSE, sizeof(struct gecko_marker));
	g.stacks = g_array_new(FALSE, FALSE, sizeof(guint32));
	g.frames = g_array_new(FALSE, FALSE, sizeof(guint32));
	g.funcs = g_array_new(FALSE, FALSE, sizeof(guint32));
	g.func_resource = g_array_new(FALSE, FALSE, sizeof(gint32));
	g.resources = g_array_new(FALSE, FALSE, sizeof(guint32));
	g.thread_markers = g_array_new(FALSE, FALSE, sizeof(guint));
	g.stack_row = g_new0(guint32, nodes);
	g.frame_row = g_new0(guint32, frames);
	g.func_row = g_new0(guint32, frames);
	g.resource_row = g_hash_table_new(g_str_hash, g_str_equal);
	g.path = g_array_new(FALSE, FALSE, sizeof(guint32));

	gecko_pair_marks(&g);
	write_meta(&g);
	fputs("\n\"libs\":[],\n\"threads\":[", out);
	for (guint ti = 0; ti < p->threads->len; ti++) {
		fputs(ti ? ",\n" : "\n", out);
		write_thread(&g, ti);
	}
	fputs("],\n\"shared\":{\"stringArray\":[", out);
	for (guint i = 0; i < g.strings->len; i++) {
		g_string_assign(g.b, i ? "," : "");
		emit_json_string(g.b, g_ptr_array_index(g.strings, i));
		fputs(g.b->str, out);
	}
	fputs("]}}\n", out);

	emit_map_free(g.map);
	g_string_free(g.b, TRUE);
	g_hash_table_unref(g.string_index);
	g_ptr_array_unref(g.strings);
	g_array_unref(g.markers);
	g_array_unref(g.stacks);
	g_array_unref(g.frames);
	g_array_unref(g.funcs);
	g_array_unref(g.func_resource);
	g_array_unref(g.resources);
	g_array_unref(g.thread_markers);
	g_free(g.stack_row);
	g_free(g.frame_row);
	g_free(g.func_row);
	g_hash_table_unref(g.resource_row);
	g_array_unref(g.path);
	return render_check_stream(out, error);
}
