/*
 * json.c - the processed call tree as JSON, for scripts and diffing.
 *
 *   {"format": "pyprof-tree", "version": 1, "mode": "cpu", "unit": "ns",
 *    "total_ns": 12000000000, "total_samples": 9,
 *    "processes": [{"pid": 4242, "ppid": 1, "file": "t.pyprof",
 *                   "argv": ["python3", "app.py"], "python": "3.11.2",
 *                   "mode": "cpu", "interval_ns": 1000000}],
 *    "threads": [{"process": 0, "tid": 100, "name": "MainThread",
 *                 "main": true}],
 *    "roots": [{"name": "MainThread", "kind": "thread", "thread": 0,
 *               "self_ns": 0, "total_ns": 10000000000,
 *               "self_samples": 0, "total_samples": 8,
 *               "children": [{"name": "<module>", "kind": "python",
 *                             "file": "app.py", "line": 1, ...}]}]}
 *
 * The tree is the one every format shows (after hiding, grouping and
 * trimming): "roots" are its thread (or thread-family, thread-name,
 * process or all-threads) nodes, children heaviest first.  "line" is null
 * when unknown; "thread" (an index into "threads") appears on the root of
 * one thread only, "threads" (the indices of those with samples) on a
 * root that groups threads: a family, a name, a process, all of them.  pyprof(1)
 * documents the schema; version changes when a field changes meaning.
 * Written as a stream with an explicit stack: deep recursion in a profile
 * costs no C stack.
 */
#include "config.h"

#include "render.h"
#include "emit.h"

#include <string.h>

static const char *kind_name(enum profile_frame_kind k)
{
	switch (k) {
	case PROFILE_FRAME_PYTHON: return "python";
	case PROFILE_FRAME_TRUNCATED: return "truncated";
	case PROFILE_FRAME_UNKNOWN: return "unknown";
	case PROFILE_FRAME_THREAD: return "thread";
	case PROFILE_FRAME_IDLE: return "idle";
	case PROFILE_FRAME_NATIVE: return "native";
	case PROFILE_FRAME_UNMERGED: return "unmerged";
	default: return "group";
	}
}

/* The frame's fields, made once per frame */
static const char *frame_fields(const struct profile *p, char **cache,
				guint32 frame)
{
	const struct profile_frame *f;
	GString *b;

	if (cache[frame])
		return cache[frame];
	f = profile_frame(p, frame);
	b = g_string_new("\"name\":");
	emit_json_string(b, profile_frame_label(f));
	g_string_append_printf(b, ",\"kind\":\"%s\"", kind_name(f->kind));
	if (f->kind == PROFILE_FRAME_PYTHON) {
		g_string_append(b, ",\"file\":");
		emit_json_string(b, f->filename);
		if (f->line >= 0)
			g_string_append_printf(b, ",\"line\":%d", f->line);
		else
			g_string_append(b, ",\"line\":null");
		if (f->qualname && strcmp(f->qualname, f->name)) {
			g_string_append(b, ",\"function\":");
			emit_json_string(b, f->name);
		}
	} else if (f->kind == PROFILE_FRAME_NATIVE) {
		g_string_append(b, ",\"object\":");
		emit_json_string(b, f->filename);
		g_string_append(b, ",\"file\":");
		if (f->source)
			emit_json_string(b, f->source);
		else
			g_string_append(b, "null");
		if (f->source && f->line >= 0)
			g_string_append_printf(b, ",\"line\":%d", f->line);
		else
			g_string_append(b, ",\"line\":null");
	}
	return cache[frame] = g_string_free(b, FALSE);
}

static void json_header(const struct profile *p, const struct profile_tree *t,
			FILE *out)
{
	const struct profile_node *root = profile_tree_node(t, 0);
	GString *b = g_string_new(NULL);

	g_string_append_printf(b, "{\"format\":\"pyprof-tree\",\"version\":1,"
			       "\"mode\":\"%s\",\"unit\":\"ns\",\"total_ns\":%"
			       G_GUINT64_FORMAT ",\"total_samples\":%" G_GUINT64_FORMAT
			       ",\n\"processes\":[",
			       profile_mode_name(p->mode), root->total_ns,
			       root->total_samples);
	for (guint i = 0; i < p->processes->len; i++) {
		const struct profile_process *pr = profile_process(p, i);
		g_string_append_printf(b, "%s\n{\"pid\":%d,\"ppid\":%d,\"file\":",
				       i ? "," : "", pr->pid, pr->ppid);
		emit_json_string(b, pr->path);
		g_string_append(b, ",\"argv\":[");
		for (char **a = pr->argv; a && *a; a++) {
			if (a != pr->argv)
				g_string_append_c(b, ',');
			emit_json_string(b, *a);
		}
		g_string_append(b, "],\"python\":");
		emit_json_string(b, pr->py_version ? pr->py_version : "");
		g_string_append_printf(b, ",\"mode\":\"%s\",\"interval_ns\":%" G_GUINT64_FORMAT "}",
				       profile_mode_name(pr->mode), pr->interval_ns);
	}
	g_string_append(b, "],\n\"threads\":[");
	for (guint i = 0; i < p->threads->len; i++) {
		const struct profile_thread *th = profile_thread(p, i);
		g_string_append_printf(b, "%s\n{\"process\":%u,\"tid\":%" G_GUINT32_FORMAT
				       ",\"name\":", i ? "," : "", th->process, th->tid);
		emit_json_string(b, th->name);
		g_string_append_printf(b, ",\"main\":%s}",
				       th->flags & PROFILE_THREAD_MAIN ? "true" : "false");
	}
	g_string_append(b, "],\n\"roots\":[");
	fputs(b->str, out);
	g_string_free(b, TRUE);
}

struct level {
	guint32 node, next;
};

/* ,"threads":[...]: the threads with samples under a root that groups
 * them, so that a script can tell a family's threads without knowing how
 * families are made */
static void json_root_threads(const struct profile *p,
			      const struct profile_tree *t, guint32 root,
			      FILE *out)
{
	gboolean first = TRUE;

	fputs(",\"threads\":[", out);
	for (guint ti = 0; ti < p->threads->len; ti++) {
		if (!profile_thread(p, ti)->n_samples ||
		    !render_root_holds(p, t, root, ti))
			continue;
		if (!first)
			fputc(',', out);
		first = FALSE;
		emit_u64(out, ti);
	}
	fputc(']', out);
}

gboolean render_json(const struct profile *p, const struct profile_tree *t,
		     const struct render_options *o, FILE *out, GError **error)
{
	char **cache = g_new0(char *, profile_n_frames(p) + 1);
	GArray *stack = g_array_new(FALSE, FALSE, sizeof(struct level));
	struct level top = {0, 0};

	json_header(p, t, out);
	g_array_append_val(stack, top);
	while (stack->len) {
		struct level *l = &g_array_index(stack, struct level, stack->len - 1);
		guint32 n;
		const guint32 *kids = profile_tree_children(t, l->node, &n);
		const struct profile_node *nd;
		struct level down;

		if (l->next == n) {
			fputs(stack->len > 1 ? "]}" : "]}\n", out);
			g_array_set_size(stack, stack->len - 1);
			continue;
		}
		nd = profile_tree_node(t, kids[l->next]);
		if (l->next++)
			fputc(',', out);
		if (stack->len == 1)
			fputc('\n', out);
		fputc('{', out);
		fputs(frame_fields(p, cache, nd->frame), out);
		/* a thread or group node */
		if (stack->len == 1 && nd->thread >= 0)
			fprintf(out, ",\"thread\":%d", nd->thread);
		else if (stack->len == 1)
			json_root_threads(p, t, kids[l->next - 1], out);
		fprintf(out, ",\"self_ns\":%" G_GUINT64_FORMAT ",\"total_ns\":%" G_GUINT64_FORMAT
			",\"self_samples\":%" G_GUINT64_FORMAT ",\"total_samples\":%"
			G_GUINT64_FORMAT ",\"children\":[",
			nd->self_ns, nd->total_ns, nd->self_samples, nd->total_samples);
		down.node = kids[l->next - 1];
		down.next = 0;
		g_array_append_val(stack, down);
	}
	for (guint32 i = 0; i <= profile_n_frames(p); i++)
		g_free(cache[i]);
	g_free(cache);
	g_array_unref(stack);
	return render_check_stream(out, error);
}
