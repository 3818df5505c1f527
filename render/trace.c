/*
 * trace.c - Chrome trace event JSON, for Perfetto and chrome://tracing:
 * one track per thread (pid and tid are the real ones), the sampled stacks
 * drawn as nested slices over time.
 *
 * A sample taken at time T that stands for d ns (its CPU time in CPU
 * mode, its wall time in wall mode) is drawn over [T - d, T], clipped so
 * it never starts before the previous sample of its thread ended: in CPU
 * mode the gaps are the time the thread was off the CPU.  Consecutive
 * samples that share frames keep those slices open ("B" and "E" events,
 * one pair per change, written in time order per thread).  A wall-mode
 * sample's waiting time (its wall time less its thread's CPU time,
 * profile_sample_wait_ns) is an "[idle]" slice on top of its stack,
 * category "idle": the tree's [idle] leaf, so the trace adds up as the
 * tree does.  Where in the period the wait was is not recorded: it is
 * drawn before the sample's instant when the thread's own clock took the
 * sample (it was running then), after its running part when the sampler
 * thread took it (the thread was waiting then).  Stacks are the call
 * tree's paths, so
 * hiding, trimming and --no-idle apply (see emit.h); a sample the tree
 * left out is not drawn, and its time is a gap.
 *
 * Timestamps are microseconds (with nanosecond decimals) since the
 * earliest process start; all processes of a report share
 * CLOCK_MONOTONIC, so their tracks line up.  Each thread's "thread_name"
 * metadata event also carries its total weight and sample count, so a
 * script can check the trace against the other reports.
 */
#include "config.h"

#include "render.h"
#include "emit.h"

#include <string.h>

struct trace {
	const struct profile *p;
	const struct profile_tree *t;
	const struct render_options *o;
	FILE *out;
	struct emit_map *map;
	char **opening;   /* frame id -> ,"name":...,"cat":...,"args":{...}} */
	char ids[64];     /* "pid":N,"tid":N */
	GArray *open;     /* node ids of the open slices */
	GArray *want;
	gboolean first;
};

static const char *opening(struct trace *x, guint32 frame)
{
	const struct profile_frame *f;
	GString *b;

	if (x->opening[frame])
		return x->opening[frame];
	f = profile_frame(x->p, frame);
	b = g_string_new(",\"name\":");
	emit_json_string(b, profile_frame_label(f));
	if (f->kind == PROFILE_FRAME_PYTHON) {
		g_string_append(b, ",\"cat\":\"python\",\"args\":{\"file\":");
		emit_json_string(b, f->filename);
		g_string_append_printf(b, ",\"line\":%d}}", f->line);
	} else if (f->kind == PROFILE_FRAME_NATIVE) {
		g_string_append(b, ",\"cat\":\"native\",\"args\":{\"object\":");
		emit_json_string(b, f->filename);
		g_string_append(b, ",\"file\":");
		emit_json_string(b, render_native_file(f));
		g_string_append_printf(b, ",\"line\":%d}}",
				       f->source ? f->line : -1);
	} else if (f->kind == PROFILE_FRAME_IDLE) {
		g_string_append(b, ",\"cat\":\"idle\"}");
	} else {
		g_string_append(b, ",\"cat\":\"pyprof\"}");
	}
	return x->opening[frame] = g_string_free(b, FALSE);
}

static void event(struct trace *x, char ph, guint64 ts, guint32 node)
{
	FILE *out = x->out;

	fputs(x->first ? "\n{\"ph\":\"" : ",\n{\"ph\":\"", out);
	x->first = FALSE;
	fputc(ph, out);
	fputs("\",", out);
	fputs(x->ids, out);
	fputs(",\"ts\":", out);
	emit_us(out, ts);
	if (ph == 'E')
		fputc('}', out);
	else
		fputs(opening(x, profile_tree_node(x->t, node)->frame), out);
}

/* Makes the open slices x->want, at time ts. */
static void switch_to(struct trace *x, guint64 ts)
{
	guint common = 0;

	while (common < x->open->len && common < x->want->len &&
	       g_array_index(x->open, guint32, common) ==
		       g_array_index(x->want, guint32, common))
		common++;
	for (guint i = x->open->len; i-- > common;)
		event(x, 'E', ts, 0);
	for (guint i = common; i < x->want->len; i++)
		event(x, 'B', ts, g_array_index(x->want, guint32, i));
	g_array_set_size(x->open, 0);
	g_array_append_vals(x->open, x->want->data, x->want->len);
}

/* Opens the slices of node's path from below the thread's root, at ts. */
static void want_node(struct trace *x, guint32 node, guint32 root, guint64 ts)
{
	g_array_set_size(x->want, 0);
	for (guint32 n = node; n && n != root; n = profile_tree_node(x->t, n)->parent)
		g_array_append_val(x->want, n);
	/* root-most first */
	for (guint a = 0, z = x->want->len; a + 1 < z; a++, z--) {
		guint32 tmp = g_array_index(x->want, guint32, a);
		g_array_index(x->want, guint32, a) = g_array_index(x->want, guint32, z - 1);
		g_array_index(x->want, guint32, z - 1) = tmp;
	}
	switch_to(x, ts);
}

static void trace_thread(struct trace *x, guint ti, guint64 base)
{
	const struct profile_thread *th = profile_thread(x->p, ti);
	const struct profile_sample *s =
		(const struct profile_sample *)(gpointer)th->samples->data;
	guint32 root = emit_map_thread(x->map, ti);
	guint64 last_end = 0, total = 0;
	GString *b = g_string_new(NULL);
	guint32 prev_node = 0;
	guint counted = 0;

	g_snprintf(x->ids, sizeof x->ids, "\"pid\":%d,\"tid\":%" G_GUINT32_FORMAT,
		   profile_process(x->p, th->process)->pid, th->tid);
	for (guint i = 0; i < th->samples->len; i++) {
		guint32 node[2];
		guint64 ns[2];
		guint k = emit_map_pieces(x->map, &s[i], node, ns);

		for (guint j = 0; j < k; j++)
			total += ns[j];
		if (profile_tree_counts(x->o->tree_options, x->p, th, &s[i]))
			counted++;
	}
	emit_json_string(b, th->name);
	fprintf(x->out, "%s\n{\"ph\":\"M\",\"name\":\"thread_name\",%s,\"args\":{\"name\":%s,"
		"\"total_ns\":%" G_GUINT64_FORMAT ",\"samples\":%u}}",
		x->first ? "" : ",", x->ids, b->str, total, counted);
	x->first = FALSE;
	g_string_free(b, TRUE);
	if (!root)
		return;

	g_array_set_size(x->open, 0);
	for (guint i = 0; i < th->samples->len; i++) {
		guint64 end = s[i].mono_ns > base ? s[i].mono_ns - base : 0;
		guint32 node[2];
		guint64 ns[2], d = 0, start, at;
		guint k = emit_map_pieces_in_time(x->map, &s[i], node, ns);

		if (!k)
			continue; /* left out of the tree (--no-idle) */
		for (guint j = 0; j < k; j++)
			d += ns[j];
		if (end < last_end)
			end = last_end; /* out of order: never draw backwards */
		start = d < end && end - d > last_end ? end - d : last_end;
		if (start > last_end && x->open->len) {
			/* a gap: the thread was off the CPU */
			g_array_set_size(x->want, 0);
			switch_to(x, last_end);
		}
		at = start;
		for (guint j = 0; j < k; j++) {
			guint64 upto = j + 1 == k || at + ns[j] > end ? end : at + ns[j];

			/* a piece clipped away is not drawn, unless it is
			 * all there is */
			if (upto <= at && (j + 1 < k || x->open->len))
				continue;
			if (x->open->len == 0 || node[j] != prev_node)
				want_node(x, node[j], root, at);
			prev_node = node[j];
			at = upto;
		}
		last_end = end;
	}
	g_array_set_size(x->want, 0);
	switch_to(x, last_end);
}

gboolean render_trace(const struct profile *p, const struct profile_tree *t,
		      const struct render_options *o, FILE *out, GError **error)
{
	struct trace x = {.p = p, .t = t, .o = o, .out = out, .first = TRUE};
	guint64 base = emit_time_base(p);
	GString *b = g_string_new(NULL);

	x.map = emit_map_new(p, t, o->tree_options);
	x.opening = g_new0(char *, profile_n_frames(p) + 1);
	x.open = g_array_new(FALSE, FALSE, sizeof(guint32));
	x.want = g_array_new(FALSE, FALSE, sizeof(guint32));

	fprintf(out, "{\"displayTimeUnit\":\"ms\",\"otherData\":{\"mode\":\"%s\","
		"\"total_ns\":%" G_GUINT64_FORMAT ",\"samples\":%" G_GUINT64_FORMAT "},"
		"\"traceEvents\":[", profile_mode_name(p->mode),
		profile_tree_node(t, 0)->total_ns, profile_tree_node(t, 0)->total_samples);
	for (guint i = 0; i < p->processes->len; i++) {
		const struct profile_process *pr = profile_process(p, i);
		char *cmd = emit_command_line(pr);
		g_string_truncate(b, 0);
		emit_json_string(b, cmd);
		fprintf(out, "%s\n{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":%d,"
			"\"tid\":0,\"args\":{\"name\":%s}}", x.first ? "" : ",", pr->pid, b->str);
		x.first = FALSE;
		g_free(cmd);
	}
	for (guint ti = 0; ti < p->threads->len; ti++)
		trace_thread(&x, ti, base);
	fputs("\n]}\n", out);

	for (guint32 i = 0; i <= profile_n_frames(p); i++)
		g_free(x.opening[i]);
	g_free(x.opening);
	g_array_unref(x.open);
	g_array_unref(x.want);
	emit_map_free(x.map);
	g_string_free(b, TRUE);
	return render_check_stream(out, error);
}
