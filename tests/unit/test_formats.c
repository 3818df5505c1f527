/*
 * test_formats.c - the structured formats (json, speedscope, trace, gecko,
 * pprof, svg, html) of a small synthetic profile, read back with independent
 * parsers: json-glib for JSON, zlib + protobuf-c for pprof, GMarkup for
 * SVG.  Each test checks one property: totals equal the tree's, the
 * structure the consumer needs, hostile strings survive escaping.
 *
 * The profile (as in test_render.c, plus a hostile function name):
 *   MainThread (tid 100)  <module> -> main -> work   6 samples of 1 s
 *                         <module> -> main           1 sample of 3.95 s
 *                         <module> -> main -> tiny   1 sample of 0.05 s
 *   worker (tid 101)      Worker.run                 1 sample of 1.5 s
 *                         Worker.run -> EVIL         1 sample of 0.5 s
 * where EVIL is a name with quotes, </script>, a control character and
 * U+2028.  Totals: 12 s, 10 samples.
 *
 * And a wall-mode one (as in test_render.c), whose idle samples must show
 * as an [idle] leaf below the frame that waited in every format:
 *   MainThread (tid 100)  <module> -> main -> work   2 samples of 0.5 s
 *                         <module> -> main -> wait   3 idle samples of 1 s
 *   worker (tid 101)      Worker.run                 1 sample of 1.6 s
 *                         Worker.run -> poll         1 idle sample of 0.4 s
 * Totals: 6 s, 7 samples; running only (--no-idle): 2.6 s, 3 samples.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <json-glib/json-glib.h>
#include <zlib.h>

#include "collector/diff.h"
#include "collector/profile.h"
#include "collector/shape.h"
#include "render/emit.h"
#include "render/render.h"
#include "render/profile.pb-c.h"
#include "tests/unit/unit.h"

#define EVIL "ev\"il</script><b>\x01\xe2\x80\xa8\\x"
#define TOTAL_NS G_GUINT64_CONSTANT(12000000000)

#define FRAME(name, qual, def, line) unit_frame(p, file, name, qual, def, line)

static struct profile *make_profile(void)
{
	struct profile *p = unit_profile_new(PROFILE_MODE_CPU, "t.pyprof",
					     1000000, 500);
	const char *file = profile_intern(p, "app.py", -1);
	guint32 mod = FRAME("<module>", "<module>", 1, 1);
	guint32 main_ = FRAME("main", "main", 10, 12);
	guint32 work = FRAME("work", "work", 20, 23);
	guint32 tiny = FRAME("tiny", NULL, 30, 30);
	guint32 run = FRAME("run", "Worker.run", 40, 40);
	guint32 evil = FRAME(EVIL, NULL, 50, 51);
	guint32 s_main, s_work, s_tiny, s_run, s_evil;
	guint t0 = 0, t1 = 1;

	s_main = profile_stack_push(p, profile_stack_push(p, 0, mod), main_);
	s_work = profile_stack_push(p, s_main, work);
	s_tiny = profile_stack_push(p, s_main, tiny);
	s_run = profile_stack_push(p, 0, run);
	s_evil = profile_stack_push(p, s_run, evil);
	for (int i = 0; i < 6; i++)
		profile_add_sample(p, t0, 1000000000u * (guint64)(i + 1), 1000000000, 0, 0, s_work);
	profile_add_sample(p, t0, 11000000000u, 3950000000u, 0, 0, s_main);
	profile_add_sample(p, t0, 12000000000u, 50000000, 0, 0, s_tiny);
	profile_add_sample(p, t1, 3000000000u, 1500000000u, 0, 0, s_run);
	profile_add_sample(p, t1, 4000000000u, 500000000u, 0, 0, s_evil);
	return p;
}

/* A wall-mode profile of one process, its threads MainThread (0, tid
 * 100) and worker (1, tid 101), no samples yet. */
static struct profile *wall_profile_new(void)
{
	return unit_profile_new(PROFILE_MODE_WALL, "w.pyprof", 1000000, 500);
}

static struct profile *make_wall_profile(void)
{
	struct profile *p = wall_profile_new();
	const char *file = profile_intern(p, "app.py", -1);
	guint32 mod = FRAME("<module>", "<module>", 1, 1);
	guint32 main_ = FRAME("main", "main", 10, 12);
	guint32 work = FRAME("work", "work", 20, 23);
	guint32 wait = FRAME("wait", "wait", 30, 31);
	guint32 run = FRAME("run", "Worker.run", 40, 40);
	guint32 poll = FRAME("poll", "poll", 45, 46);
	guint32 s_main, s_work, s_wait, s_run, s_poll;
	guint t0 = 0, t1 = 1;

	s_main = profile_stack_push(p, profile_stack_push(p, 0, mod), main_);
	s_work = profile_stack_push(p, s_main, work);
	s_wait = profile_stack_push(p, s_main, wait);
	s_run = profile_stack_push(p, 0, run);
	s_poll = profile_stack_push(p, s_run, poll);
	for (int i = 0; i < 2; i++)
		profile_add_sample(p, t0, 500000000u * (guint64)(i + 1), 500000000,
				   500000000, PROFILE_SAMPLE_GIL, s_work);
	for (int i = 0; i < 3; i++)
		profile_add_sample(p, t0, 1000000000u * (guint64)(i + 2), 0,
				   1000000000, PROFILE_SAMPLE_IDLE, s_wait);
	profile_add_sample(p, t1, 1600000000u, 1600000000u, 1600000000u,
			   PROFILE_SAMPLE_GIL, s_run);
	profile_add_sample(p, t1, 2000000000u, 0, 400000000,
			   PROFILE_SAMPLE_IDLE, s_poll);
	return p;
}

static gboolean hide_main(const struct profile *p, guint32 frame, gpointer data)
{
	return !strcmp(profile_frame(p, frame)->name, "main");
}

/* Tree t of p rendered as format with o (defaults if NULL), into a new
 * buffer, its length in *len (may be NULL) */
static char *render_built(const struct profile *p, const struct profile_tree *t,
			  const char *format, const struct render_options *opts,
			  gsize *len)
{
	struct render_options o;
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	GError *error = NULL;

	if (opts)
		o = *opts;
	else
		render_options_init(&o);
	CU_ASSERT_TRUE(render_lookup(format)->render(p, t, &o, f, &error));
	CU_ASSERT_PTR_NULL(error);
	fclose(f);
	if (len)
		*len = n;
	return buf;
}

/* Renders profile p as `format`, its tree built with topts (and with
 * nothing hidden too, as html's full tree, if `full`), into a new buffer,
 * its length in *len; frees p. */
static char *render_grouped(struct profile *p, const char *format,
			    const struct profile_tree_options *topts, gboolean full,
			    gsize *len)
{
	struct profile_tree *t = profile_tree_build(p, topts);
	struct profile_tree *whole = full ? profile_tree_build(p, NULL) : NULL;
	struct render_options o;
	char *buf;

	render_options_init(&o);
	o.tree_options = topts;
	o.full = whole;
	buf = render_built(p, t, format, &o, len);
	profile_tree_free(t);
	profile_tree_free(whole);
	profile_free(p);
	return buf;
}

/* Renders the test profile as `format` (hiding "main" if asked) into a
 * new buffer, its length in *len. */
static char *render_hiding(const char *format, gboolean hide, gsize *len)
{
	struct profile_tree_options topts = {.group = PROFILE_GROUP_THREAD};

	if (hide)
		topts.hide = hide_main;
	return render_grouped(make_profile(), format, &topts, hide, len);
}

/* Renders the wall-mode profile as `format`, with or without its idle
 * samples, into a new buffer, its length in *len. */
static char *render_wall(const char *format, gboolean no_idle, gsize *len)
{
	struct profile_tree_options topts = {.no_idle = no_idle};

	return render_grouped(make_wall_profile(), format, &topts, FALSE, len);
}

static JsonNode *parse(const char *text)
{
	JsonParser *parser = json_parser_new();
	GError *error = NULL;
	JsonNode *root = NULL;

	if (json_parser_load_from_data(parser, text, -1, &error))
		root = json_node_copy(json_parser_get_root(parser));
	else
		fprintf(stderr, "\nJSON: %s\n", error->message);
	CU_ASSERT_PTR_NULL(error);
	g_clear_error(&error);
	g_object_unref(parser);
	return root;
}

static JsonNode *render_json_doc(const char *format, gboolean hide)
{
	char *text = render_hiding(format, hide, NULL);
	JsonNode *n = parse(text);
	free(text);
	return n;
}

/* ---- helpers ---- */

static char *emitted(void (*fn)(FILE *, guint64), guint64 v)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	fn(f, v);
	fclose(f);
	return buf;
}

static void test_formats__emit_numbers(void)
{
	struct { void (*fn)(FILE *, guint64); guint64 v; const char *want; } cases[] = {
		{emit_u64, 0, "0"}, {emit_u64, G_MAXUINT64, "18446744073709551615"},
		{emit_us, 0, "0"}, {emit_us, 1500, "1.5"}, {emit_us, 12345, "12.345"},
		{emit_us, 7000, "7"}, {emit_us, 1001, "1.001"},
		{emit_seconds, 1000000000, "1"}, {emit_seconds, 50000000, "0.05"},
		{emit_seconds, 1, "0.000000001"}, {emit_seconds, 3950000000u, "3.95"},
		{emit_seconds, 0, "0"}, {emit_ms, 0, "0"}, {emit_ms, 1500000, "1.5"},
		{emit_ms, 1, "0.000001"}, {emit_ms, 12345678901u, "12345.678901"},
		{emit_ms, 7000000, "7"},
	};
	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *got = emitted(cases[i].fn, cases[i].v);
		CU_ASSERT_STRING_EQUAL(got, cases[i].want);
		free(got);
	}
}

static void test_formats__json_string_round_trip(void)
{
	const char *hostile[] = {"", "plain", EVIL, "tab\there\r\n", "\x7f\x1f",
				 "caf\xc3\xa9 \xf0\x9f\x90\x8d", "a&b>c"};
	for (gsize i = 0; i < G_N_ELEMENTS(hostile); i++) {
		GString *b = g_string_new("[");
		JsonNode *n;
		emit_json_string(b, hostile[i]);
		g_string_append_c(b, ']');
		CU_ASSERT_PTR_NULL(strstr(b->str, "</"));
		CU_ASSERT_PTR_NULL(strstr(b->str, "\xe2\x80\xa8"));
		n = parse(b->str);
		CU_ASSERT_PTR_NOT_NULL_FATAL(n);
		CU_ASSERT_STRING_EQUAL(json_array_get_string_element(json_node_get_array(n), 0),
				       hostile[i]);
		json_node_unref(n);
		g_string_free(b, TRUE);
	}
}

/* ---- json ---- */

static void test_formats__json_tree_and_totals(void)
{
	JsonNode *doc = render_json_doc("json", FALSE);
	JsonObject *o, *main_t, *mod;
	JsonArray *roots;

	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	o = json_node_get_object(doc);
	CU_ASSERT_STRING_EQUAL(json_object_get_string_member(o, "format"), "pyprof-tree");
	CU_ASSERT_EQUAL(json_object_get_int_member(o, "total_ns"), (gint64)TOTAL_NS);
	CU_ASSERT_EQUAL(json_object_get_int_member(o, "total_samples"), 10);
	roots = json_object_get_array_member(o, "roots");
	CU_ASSERT_EQUAL_FATAL(json_array_get_length(roots), 2);
	main_t = json_array_get_object_element(roots, 0);
	CU_ASSERT_STRING_EQUAL(json_object_get_string_member(main_t, "name"), "MainThread");
	CU_ASSERT_EQUAL(json_object_get_int_member(main_t, "total_ns"), 10000000000);
	CU_ASSERT_EQUAL(json_object_get_int_member(main_t, "thread"), 0);
	mod = json_array_get_object_element(json_object_get_array_member(main_t, "children"), 0);
	CU_ASSERT_STRING_EQUAL(json_object_get_string_member(mod, "name"), "<module>");
	CU_ASSERT_STRING_EQUAL(json_object_get_string_member(mod, "file"), "app.py");
	CU_ASSERT_EQUAL(json_object_get_int_member(mod, "line"), 1);
	json_node_unref(doc);
}

static void test_formats__json_hostile_name_survives(void)
{
	JsonNode *doc = render_json_doc("json", FALSE);
	JsonObject *worker = json_array_get_object_element(
		json_object_get_array_member(json_node_get_object(doc), "roots"), 1);
	JsonObject *run = json_array_get_object_element(
		json_object_get_array_member(worker, "children"), 0);
	JsonObject *evil = json_array_get_object_element(
		json_object_get_array_member(run, "children"), 0);

	CU_ASSERT_STRING_EQUAL(json_object_get_string_member(evil, "name"), EVIL);
	json_node_unref(doc);
}

/* ---- speedscope ---- */

static double weights_sum(JsonArray *w)
{
	double s = 0;
	for (guint i = 0; i < json_array_get_length(w); i++)
		s += json_array_get_double_element(w, i);
	return s;
}

/* The seconds a speedscope document's profiles add up to. */
static double speedscope_seconds(const char *text)
{
	JsonNode *doc = parse(text);
	JsonArray *a = json_object_get_array_member(json_node_get_object(doc), "profiles");
	double secs = 0;

	for (guint i = 0; i < json_array_get_length(a); i++)
		secs += weights_sum(json_object_get_array_member(
			json_array_get_object_element(a, i), "weights"));
	json_node_unref(doc);
	return secs;
}

static void test_formats__speedscope_profiles_weights_in_seconds(void)
{
	JsonNode *doc = render_json_doc("speedscope", FALSE);
	JsonObject *o = json_node_get_object(doc);
	JsonArray *profiles = json_object_get_array_member(o, "profiles");
	JsonObject *p0 = json_array_get_object_element(profiles, 0);
	JsonObject *p1 = json_array_get_object_element(profiles, 1);

	CU_ASSERT_EQUAL_FATAL(json_array_get_length(profiles), 2);
	CU_ASSERT_STRING_EQUAL(json_object_get_string_member(p0, "type"), "sampled");
	CU_ASSERT_STRING_EQUAL(json_object_get_string_member(p0, "unit"), "seconds");
	CU_ASSERT_DOUBLE_EQUAL(weights_sum(json_object_get_array_member(p0, "weights")), 10.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(weights_sum(json_object_get_array_member(p1, "weights")), 2.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(json_object_get_double_member(p0, "endValue"), 10.0, 1e-9);
	/* 6 consecutive samples in work merge: work, main, tiny */
	CU_ASSERT_EQUAL(json_array_get_length(json_object_get_array_member(p0, "samples")), 3);
	CU_ASSERT_EQUAL(json_array_get_length(json_object_get_array_member(p0, "weights")), 3);
	json_node_unref(doc);
}

static void test_formats__speedscope_stacks_name_frames(void)
{
	JsonNode *doc = render_json_doc("speedscope", FALSE);
	JsonObject *o = json_node_get_object(doc);
	JsonArray *frames = json_object_get_array_member(json_object_get_object_member(o, "shared"), "frames");
	JsonArray *p0 = json_object_get_array_member(
		json_array_get_object_element(json_object_get_array_member(o, "profiles"), 0), "samples");
	JsonArray *first = json_array_get_array_element(p0, 0);
	const char *want[] = {"<module>", "main", "work"};

	CU_ASSERT_EQUAL_FATAL(json_array_get_length(first), 3);
	for (guint i = 0; i < 3; i++) {
		gint64 fi = json_array_get_int_element(first, i);
		JsonObject *f = json_array_get_object_element(frames, (guint)fi);
		CU_ASSERT_STRING_EQUAL(json_object_get_string_member(f, "name"), want[i]);
	}
	json_node_unref(doc);
}

static void test_formats__speedscope_honours_hiding(void)
{
	char *text = render_hiding("speedscope", TRUE, NULL);
	JsonNode *doc = parse(text);
	JsonObject *o = json_node_get_object(doc);
	JsonArray *p0 = json_object_get_array_member(
		json_array_get_object_element(json_object_get_array_member(o, "profiles"), 0), "samples");

	CU_ASSERT_PTR_NULL(strstr(text, "\"main\""));
	/* <module> -> work, with main hidden */
	CU_ASSERT_EQUAL(json_array_get_length(json_array_get_array_element(p0, 0)), 2);
	CU_ASSERT_DOUBLE_EQUAL(weights_sum(json_object_get_array_member(
		json_array_get_object_element(json_object_get_array_member(o, "profiles"), 0), "weights")),
			       10.0, 1e-9);
	json_node_unref(doc);
	free(text);
}

/* ---- trace ---- */

static void test_formats__trace_nesting_and_time_order(void)
{
	JsonNode *doc = render_json_doc("trace", FALSE);
	JsonArray *ev = json_object_get_array_member(json_node_get_object(doc), "traceEvents");
	GHashTable *depth = g_hash_table_new(g_direct_hash, g_direct_equal);
	GHashTable *last = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
	guint begins = 0, work = 0;

	for (guint i = 0; i < json_array_get_length(ev); i++) {
		JsonObject *e = json_array_get_object_element(ev, i);
		const char *ph = json_object_get_string_member(e, "ph");
		gpointer tid = GINT_TO_POINTER((gint)json_object_get_int_member(e, "tid"));
		gint d = GPOINTER_TO_INT(g_hash_table_lookup(depth, tid));
		double ts, *prev;

		CU_ASSERT_TRUE(json_object_has_member(e, "pid"));
		if (!strcmp(ph, "M"))
			continue;
		ts = json_object_get_double_member(e, "ts");
		prev = g_hash_table_lookup(last, tid);
		if (prev) {
			CU_ASSERT_TRUE(ts >= *prev);
		} else {
			prev = g_new(double, 1);
			g_hash_table_insert(last, tid, prev);
		}
		*prev = ts;
		if (!strcmp(ph, "B")) {
			begins++;
			d++;
			if (!strcmp(json_object_get_string_member(e, "name"), "work"))
				work++;
		} else {
			CU_ASSERT_STRING_EQUAL(ph, "E");
			CU_ASSERT_TRUE(d > 0);
			d--;
		}
		g_hash_table_insert(depth, tid, GINT_TO_POINTER(d));
	}
	CU_ASSERT_EQUAL(GPOINTER_TO_INT(g_hash_table_lookup(depth, GINT_TO_POINTER(100))), 0);
	CU_ASSERT_EQUAL(GPOINTER_TO_INT(g_hash_table_lookup(depth, GINT_TO_POINTER(101))), 0);
	/* six back-to-back samples in work are one slice */
	CU_ASSERT_EQUAL(work, 1);
	CU_ASSERT_TRUE(begins >= 6);
	g_hash_table_unref(depth);
	g_hash_table_unref(last);
	json_node_unref(doc);
}

static void test_formats__trace_slices_span_sample_time(void)
{
	JsonNode *doc = render_json_doc("trace", FALSE);
	JsonArray *ev = json_object_get_array_member(json_node_get_object(doc), "traceEvents");
	double work_b = -1, work_e = -1;
	gint open_work = 0, d = 0;

	/* MainThread: work from the start to 6 s (six 1 s samples taken at
	 * 1..6 s); times count from the process start, 500 ns */
	for (guint i = 0; i < json_array_get_length(ev); i++) {
		JsonObject *e = json_array_get_object_element(ev, i);
		const char *ph = json_object_get_string_member(e, "ph");
		if (json_object_get_int_member(e, "tid") != 100 || !strcmp(ph, "M"))
			continue;
		if (!strcmp(ph, "B")) {
			d++;
			if (!strcmp(json_object_get_string_member(e, "name"), "work")) {
				work_b = json_object_get_double_member(e, "ts");
				open_work = d;
			}
		} else {
			if (d == open_work && work_e < 0 && work_b >= 0)
				work_e = json_object_get_double_member(e, "ts");
			d--;
		}
	}
	CU_ASSERT_DOUBLE_EQUAL(work_b, 0.0, 1e-6);
	CU_ASSERT_DOUBLE_EQUAL(work_e, 6e6 - 0.5, 1e-6);
	json_node_unref(doc);
}

/* ---- gecko ---- */

static JsonObject *member(JsonObject *o, const char *name)
{
	return json_object_get_object_member(o, name);
}

static JsonArray *column(JsonObject *table, const char *name)
{
	return json_object_get_array_member(table, name);
}

/* The string an index column's row points to in shared.stringArray */
static const char *gecko_str(JsonObject *doc, JsonArray *col, guint row)
{
	JsonArray *strings = column(member(doc, "shared"), "stringArray");
	return json_array_get_string_element(strings,
		(guint)json_array_get_int_element(col, row));
}

static JsonObject *gecko_thread(JsonObject *doc, guint i)
{
	return json_array_get_object_element(json_object_get_array_member(doc, "threads"), i);
}

/* The function names of sample `sample`'s stack, root first, joined by
 * ";", as a new string */
static char *gecko_stack(JsonObject *doc, JsonObject *th, guint sample)
{
	JsonObject *st = member(th, "stackTable"), *fr = member(th, "frameTable");
	JsonObject *fu = member(th, "funcTable");
	JsonNode *at = json_array_get_element(column(member(th, "samples"), "stack"), sample);
	GPtrArray *names = g_ptr_array_new();
	GString *b = g_string_new(NULL);

	while (!JSON_NODE_HOLDS_NULL(at)) {
		guint row = (guint)json_node_get_int(at);
		guint frame = (guint)json_array_get_int_element(column(st, "frame"), row);
		guint func = (guint)json_array_get_int_element(column(fr, "func"), frame);
		g_ptr_array_add(names, (gpointer)gecko_str(doc, column(fu, "name"), func));
		/* callers come first in the table */
		at = json_array_get_element(column(st, "prefix"), row);
		CU_ASSERT_TRUE_FATAL(JSON_NODE_HOLDS_NULL(at) ||
				     json_node_get_int(at) < (gint64)row);
	}
	for (guint i = names->len; i-- > 0;)
		g_string_append_printf(b, "%s%s", (char *)g_ptr_array_index(names, i),
				       i ? ";" : "");
	g_ptr_array_unref(names);
	return g_string_free(b, FALSE);
}

static double gecko_ms(JsonObject *th, const char *col, guint i)
{
	return json_array_get_double_element(column(member(th, "samples"), col), i);
}

static void test_formats__gecko_threads_samples_weights(void)
{
	JsonNode *node = render_json_doc("gecko", FALSE);
	JsonObject *doc, *meta, *main_t, *worker, *samples;
	char *stack;
	double ms = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(node);
	doc = json_node_get_object(node);
	meta = member(doc, "meta");
	CU_ASSERT_EQUAL(json_object_get_int_member(meta, "preprocessedProfileVersion"), 57);
	CU_ASSERT_STRING_EQUAL(json_object_get_string_member(meta, "product"), "pyprof");
	CU_ASSERT_DOUBLE_EQUAL(json_object_get_double_member(meta, "interval"), 1.0, 1e-12);
	CU_ASSERT_EQUAL(json_array_get_length(json_object_get_array_member(doc, "threads")), 2);
	main_t = gecko_thread(doc, 0);
	worker = gecko_thread(doc, 1);
	CU_ASSERT_STRING_EQUAL(json_object_get_string_member(main_t, "name"), "MainThread");
	CU_ASSERT_STRING_EQUAL(json_object_get_string_member(main_t, "pid"), "4242");
	CU_ASSERT_EQUAL(json_object_get_int_member(main_t, "tid"), 100);
	CU_ASSERT_TRUE(json_object_get_boolean_member(main_t, "isMainThread"));
	CU_ASSERT_STRING_EQUAL(json_object_get_string_member(worker, "name"), "worker");
	CU_ASSERT_FALSE(json_object_get_boolean_member(worker, "isMainThread"));

	/* one entry per sample, its own weight, time since the process
	 * start (500 ns): 6 x work, main, tiny */
	samples = member(main_t, "samples");
	CU_ASSERT_STRING_EQUAL(json_object_get_string_member(samples, "weightType"), "tracing-ms");
	CU_ASSERT_EQUAL_FATAL(json_object_get_int_member(samples, "length"), 8);
	for (guint i = 0; i < 8; i++)
		ms += gecko_ms(main_t, "weight", i);
	CU_ASSERT_DOUBLE_EQUAL(ms, 10000.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(gecko_ms(main_t, "weight", 6), 3950.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(gecko_ms(main_t, "time", 0), 999.9995, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(gecko_ms(main_t, "time", 7), 11999.9995, 1e-9);
	stack = gecko_stack(doc, main_t, 0);
	CU_ASSERT_STRING_EQUAL(stack, "<module>;main;work");
	g_free(stack);
	stack = gecko_stack(doc, main_t, 7);
	CU_ASSERT_STRING_EQUAL(stack, "<module>;main;tiny");
	g_free(stack);
	/* the six work samples share one row */
	CU_ASSERT_EQUAL(json_array_get_int_element(column(samples, "stack"), 0),
			json_array_get_int_element(column(samples, "stack"), 5));
	CU_ASSERT_EQUAL(json_object_get_int_member(member(main_t, "stackTable"), "length"), 4);
	CU_ASSERT_DOUBLE_EQUAL(gecko_ms(worker, "weight", 0) + gecko_ms(worker, "weight", 1),
			       2000.0, 1e-9);
	stack = gecko_stack(doc, worker, 1);
	CU_ASSERT_STRING_EQUAL(stack, "Worker.run;" EVIL);
	g_free(stack);
	json_node_unref(node);
}

/* work, called from main at line 12 of app.py: a frame at line 23, its
 * function defined at 20, in the resource app.py, category Python */
static void test_formats__gecko_frames_functions_files(void)
{
	JsonNode *node = render_json_doc("gecko", FALSE);
	JsonObject *doc = json_node_get_object(node), *th = gecko_thread(doc, 0);
	JsonObject *st = member(th, "stackTable"), *fr = member(th, "frameTable");
	JsonObject *fu = member(th, "funcTable"), *rs = member(th, "resourceTable");
	JsonArray *cats = json_object_get_array_member(member(doc, "meta"), "categories");
	guint row = (guint)json_array_get_int_element(column(member(th, "samples"), "stack"), 0);
	guint frame = (guint)json_array_get_int_element(column(st, "frame"), row);
	guint func = (guint)json_array_get_int_element(column(fr, "func"), frame);
	guint res = (guint)json_array_get_int_element(column(fu, "resource"), func);
	guint cat = (guint)json_array_get_int_element(column(fr, "category"), frame);

	CU_ASSERT_STRING_EQUAL(gecko_str(doc, column(fu, "name"), func), "work");
	CU_ASSERT_EQUAL(json_array_get_int_element(column(fr, "line"), frame), 23);
	CU_ASSERT_EQUAL(json_array_get_int_element(column(fu, "lineNumber"), func), 20);
	CU_ASSERT_STRING_EQUAL(gecko_str(doc, column(fu, "fileName"), func), "app.py");
	CU_ASSERT_TRUE(json_array_get_boolean_element(column(fu, "isJS"), func));
	CU_ASSERT_STRING_EQUAL(gecko_str(doc, column(rs, "name"), res), "app.py");
	CU_ASSERT_EQUAL(json_object_get_int_member(rs, "length"), 1);
	CU_ASSERT_STRING_EQUAL(json_object_get_string_member(
		json_array_get_object_element(cats, cat), "name"), "Python");
	CU_ASSERT_STRING_EQUAL(json_object_get_string_member(
		json_array_get_object_element(cats, 0), "color"), "grey");
	json_node_unref(node);
}

static void test_formats__gecko_honours_hiding(void)
{
	char *text = render_hiding("gecko", TRUE, NULL);
	JsonNode *node = parse(text);
	JsonObject *doc = json_node_get_object(node), *th = gecko_thread(doc, 0);
	char *stack = gecko_stack(doc, th, 0);
	double ms = 0;

	CU_ASSERT_PTR_NULL(strstr(text, "\"main\""));
	CU_ASSERT_STRING_EQUAL(stack, "<module>;work");
	for (guint i = 0; i < 8; i++)
		ms += gecko_ms(th, "weight", i);
	CU_ASSERT_DOUBLE_EQUAL(ms, 10000.0, 1e-9);
	g_free(stack);
	json_node_unref(node);
	free(text);
}

/* The control API's marks: a window from the worker, closed; a point with
 * no thread known (the main thread's); a window never closed (to the
 * process's last sample, 12 s). */
static void test_formats__gecko_marks_are_markers(void)
{
	struct profile *p = make_profile();
	struct profile_mark marks[] = {
		{0, 2000000500u, PROFILE_MARK_START, profile_intern(p, "w", -1), 1},
		{0, 4000000500u, PROFILE_MARK_POINT, profile_intern(p, "tick", -1), -1},
		{0, 3000000500u, PROFILE_MARK_STOP, profile_intern(p, "w", -1), 1},
		{0, 5000000500u, PROFILE_MARK_START, profile_intern(p, "open", -1), 0},
	};
	struct profile_tree *t;
	struct render_options o;
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	GError *error = NULL;
	JsonNode *node;
	JsonObject *doc, *m;

	g_array_append_vals(p->marks, marks, G_N_ELEMENTS(marks));
	t = profile_tree_build(p, NULL);
	render_options_init(&o);
	CU_ASSERT_TRUE(render_lookup("gecko")->render(p, t, &o, f, &error));
	fclose(f);
	node = parse(buf);
	CU_ASSERT_PTR_NOT_NULL_FATAL(node);
	doc = json_node_get_object(node);

	m = member(gecko_thread(doc, 1), "markers");
	CU_ASSERT_EQUAL_FATAL(json_object_get_int_member(m, "length"), 1);
	CU_ASSERT_STRING_EQUAL(gecko_str(doc, column(m, "name"), 0), "w");
	CU_ASSERT_EQUAL(json_array_get_int_element(column(m, "phase"), 0), 1);
	CU_ASSERT_DOUBLE_EQUAL(json_array_get_double_element(column(m, "startTime"), 0), 2000.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(json_array_get_double_element(column(m, "endTime"), 0), 3000.0, 1e-9);
	CU_ASSERT_STRING_EQUAL(json_object_get_string_member(
		json_array_get_object_element(column(m, "data"), 0), "type"), "PyprofMark");

	m = member(gecko_thread(doc, 0), "markers");
	CU_ASSERT_EQUAL_FATAL(json_object_get_int_member(m, "length"), 2);
	CU_ASSERT_STRING_EQUAL(gecko_str(doc, column(m, "name"), 0), "tick");
	CU_ASSERT_EQUAL(json_array_get_int_element(column(m, "phase"), 0), 0);
	CU_ASSERT_DOUBLE_EQUAL(json_array_get_double_element(column(m, "startTime"), 0), 4000.0, 1e-9);
	CU_ASSERT_TRUE(JSON_NODE_HOLDS_NULL(json_array_get_element(column(m, "endTime"), 0)));
	CU_ASSERT_STRING_EQUAL(gecko_str(doc, column(m, "name"), 1), "open");
	CU_ASSERT_EQUAL(json_array_get_int_element(column(m, "phase"), 1), 1);
	CU_ASSERT_DOUBLE_EQUAL(json_array_get_double_element(column(m, "endTime"), 1),
			       11999.9995, 1e-9);
	CU_ASSERT_STRING_EQUAL(json_object_get_string_member(
		json_array_get_object_element(column(m, "data"), 1), "kind"), "window");

	json_node_unref(node);
	free(buf);
	CU_ASSERT_PTR_NULL(error);
	profile_tree_free(t);
	profile_free(p);
}

/* ---- pprof ---- */

static Perftools__Profiles__Profile *unpack_gz(char *gz, gsize len)
{
	z_stream z = {0};
	GByteArray *raw = g_byte_array_new();
	guint8 buf[4096];
	Perftools__Profiles__Profile *pb;
	int rc;

	CU_ASSERT_TRUE(len > 2 && (guint8)gz[0] == 0x1f && (guint8)gz[1] == 0x8b);
	CU_ASSERT_EQUAL_FATAL(inflateInit2(&z, 15 + 16), Z_OK);
	z.next_in = (Bytef *)gz;
	z.avail_in = (uInt)len;
	do {
		z.next_out = buf;
		z.avail_out = sizeof buf;
		rc = inflate(&z, Z_NO_FLUSH);
		g_byte_array_append(raw, buf, sizeof buf - z.avail_out);
	} while (rc == Z_OK);
	CU_ASSERT_EQUAL(rc, Z_STREAM_END);
	inflateEnd(&z);
	pb = perftools__profiles__profile__unpack(NULL, raw->len, raw->data);
	g_byte_array_unref(raw);
	free(gz);
	return pb;
}

static Perftools__Profiles__Profile *unpack_pprof(void)
{
	gsize len;
	char *gz = render_hiding("pprof", FALSE, &len);
	return unpack_gz(gz, len);
}

static const char *pb_str(const Perftools__Profiles__Profile *pb, gint64 i)
{
	return i >= 0 && (size_t)i < pb->n_string_table ? pb->string_table[i] : "<bad>";
}

static void test_formats__pprof_types_and_totals(void)
{
	Perftools__Profiles__Profile *pb = unpack_pprof();
	gint64 samples = 0, ns = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(pb);
	CU_ASSERT_STRING_EQUAL(pb->string_table[0], "");
	CU_ASSERT_EQUAL_FATAL(pb->n_sample_type, 2);
	CU_ASSERT_STRING_EQUAL(pb_str(pb, pb->sample_type[0]->type), "samples");
	CU_ASSERT_STRING_EQUAL(pb_str(pb, pb->sample_type[0]->unit), "count");
	CU_ASSERT_STRING_EQUAL(pb_str(pb, pb->sample_type[1]->type), "cpu");
	CU_ASSERT_STRING_EQUAL(pb_str(pb, pb->sample_type[1]->unit), "nanoseconds");
	CU_ASSERT_EQUAL(pb->period, 1000000);
	for (size_t i = 0; i < pb->n_sample; i++) {
		CU_ASSERT_EQUAL(pb->sample[i]->n_value, 2);
		samples += pb->sample[i]->value[0];
		ns += pb->sample[i]->value[1];
	}
	CU_ASSERT_EQUAL(samples, 10);
	CU_ASSERT_EQUAL(ns, (gint64)TOTAL_NS);
	perftools__profiles__profile__free_unpacked(pb, NULL);
}

static void test_formats__pprof_locations_functions_labels(void)
{
	Perftools__Profiles__Profile *pb = unpack_pprof();
	gboolean found_work = FALSE;

	CU_ASSERT_PTR_NOT_NULL_FATAL(pb);
	for (size_t i = 0; i < pb->n_sample; i++) {
		Perftools__Profiles__Sample *s = pb->sample[i];
		Perftools__Profiles__Location *leaf;
		Perftools__Profiles__Function *fn;
		gboolean has_thread = FALSE;

		for (size_t l = 0; l < s->n_label; l++)
			if (!strcmp(pb_str(pb, s->label[l]->key), "thread"))
				has_thread = TRUE;
		CU_ASSERT_TRUE(has_thread);
		if (!s->n_location_id)
			continue;
		CU_ASSERT_TRUE_FATAL(s->location_id[0] >= 1 && s->location_id[0] <= pb->n_location);
		leaf = pb->location[s->location_id[0] - 1];
		CU_ASSERT_EQUAL(leaf->id, s->location_id[0]);
		CU_ASSERT_EQUAL_FATAL(leaf->n_line, 1);
		fn = pb->function[leaf->line[0]->function_id - 1];
		if (!strcmp(pb_str(pb, fn->name), "work")) {
			found_work = TRUE;
			CU_ASSERT_EQUAL(leaf->line[0]->line, 23);
			CU_ASSERT_EQUAL(fn->start_line, 20);
			CU_ASSERT_STRING_EQUAL(pb_str(pb, fn->filename), "app.py");
			CU_ASSERT_EQUAL(s->value[0], 6);
			CU_ASSERT_EQUAL(s->n_location_id, 3);
		}
	}
	CU_ASSERT_TRUE(found_work);
	perftools__profiles__profile__free_unpacked(pb, NULL);
}

/* ---- svg ---- */

struct svg_seen {
	int groups;
	gboolean work_text;
	GString *text;
};

static void svg_start(GMarkupParseContext *c, const gchar *el, const gchar **names,
		      const gchar **values, gpointer data, GError **error)
{
	struct svg_seen *s = data;
	for (int i = 0; !strcmp(el, "g") && names[i]; i++)
		if (!strcmp(names[i], "class") && !strcmp(values[i], "f"))
			s->groups++;
	g_string_truncate(s->text, 0);
}

static void svg_text(GMarkupParseContext *c, const gchar *text, gsize len,
		     gpointer data, GError **error)
{
	struct svg_seen *s = data;
	g_string_append_len(s->text, text, (gssize)len);
	if (!strcmp(g_markup_parse_context_get_element(c), "text") &&
	    !strcmp(s->text->str, "work"))
		s->work_text = TRUE;
}

static void test_formats__svg_is_well_formed_with_names(void)
{
	char *svg = render_hiding("svg", FALSE, NULL);
	GMarkupParser parser = {.start_element = svg_start, .text = svg_text};
	struct svg_seen seen = {0, FALSE, g_string_new(NULL)};
	GMarkupParseContext *c = g_markup_parse_context_new(&parser, 0, &seen, NULL);
	GError *error = NULL;
	/* GMarkup does not take the XML declaration */
	const char *body = strstr(svg, "<svg");

	CU_ASSERT_PTR_NOT_NULL_FATAL(body);
	CU_ASSERT_TRUE(g_markup_parse_context_parse(c, body, -1, &error) &&
		       g_markup_parse_context_end_parse(c, &error));
	if (error)
		fprintf(stderr, "\nSVG: %s\n", error->message);
	g_clear_error(&error);
	/* all, 2 threads, <module>, main, work, tiny, Worker.run, EVIL */
	CU_ASSERT_EQUAL(seen.groups, 9);
	CU_ASSERT_TRUE(seen.work_text);
	CU_ASSERT_PTR_NULL(strstr(svg, "</script><b>"));
	g_markup_parse_context_free(c);
	g_string_free(seen.text, TRUE);
	free(svg);
}

/* A profile of the program's code calling the standard library and an
 * installed package: MainThread <module> -> main (app.py) -> dumps
 * (json/__init__.py) -> encode (json/encoder.py), 2 s; main -> get
 * (site-packages/requests/api.py), 1 s; main -> work (app.py), 3 s (or
 * work_s) */
static struct profile *make_origin_profile_for(guint64 work_s)
{
	struct profile *p = unit_profile_new(PROFILE_MODE_CPU, "o.pyprof", 1000000, 500);
	const char *app = profile_intern(p, "/home/me/app.py", -1);
	const char *init = profile_intern(p, "/usr/lib/python3.11/json/__init__.py", -1);
	const char *enc = profile_intern(p, "/usr/lib/python3.11/json/encoder.py", -1);
	const char *api = profile_intern(p, "/srv/venv/lib/python3.11/site-packages/requests/api.py", -1);
	guint32 s_main = profile_stack_push(p, profile_stack_push(p, 0,
				unit_frame(p, app, "<module>", NULL, 1, 1)),
				unit_frame(p, app, "main", NULL, 10, 12));
	guint32 s_enc = profile_stack_push(p, profile_stack_push(p, s_main,
				unit_frame(p, init, "dumps", NULL, 183, 231)),
				unit_frame(p, enc, "encode", "JSONEncoder.encode", 183, 200));
	guint32 s_get = profile_stack_push(p, s_main, unit_frame(p, api, "get", NULL, 62, 73));
	guint32 s_work = profile_stack_push(p, s_main, unit_frame(p, app, "work", NULL, 20, 23));

	profile_add_sample(p, 0, 1000000000u, 2000000000u, 0, 0, s_enc);
	profile_add_sample(p, 0, 2000000000u, 1000000000u, 0, 0, s_get);
	profile_add_sample(p, 0, 3000000000u, work_s * 1000000000u, 0, 0, s_work);
	return p;
}

static struct profile *make_origin_profile(void)
{
	return make_origin_profile_for(3);
}

/* p rendered as format with o (defaults if NULL), its tree built with
 * nothing hidden; p is freed */
static char *render_profile(struct profile *p, const char *format,
			    const struct render_options *opts)
{
	struct profile_tree *t = profile_tree_build(p, NULL);
	char *buf = render_built(p, t, format, opts, NULL);

	profile_tree_free(t);
	profile_free(p);
	return buf;
}

/* The hue of "#rrggbb", in degrees */
static double hue_of(const char *hex)
{
	unsigned r, g, b;
	double mx, mn, h;

	CU_ASSERT_EQUAL_FATAL(sscanf(hex, "#%2x%2x%2x", &r, &g, &b), 3);
	mx = MAX(r, MAX(g, b));
	mn = MIN(r, MIN(g, b));
	if (mx == mn)
		return -1;
	if (mx == r)
		h = 60 * ((double)g - b) / (mx - mn);
	else if (mx == g)
		h = 60 * (2 + ((double)b - r) / (mx - mn));
	else
		h = 60 * (4 + ((double)r - g) / (mx - mn));
	return h < 0 ? h + 360 : h;
}

struct svg_fills {
	GHashTable *fill;  /* title up to " (" -> fill */
	GHashTable *title; /* the same -> the whole title */
	char *pending;     /* the fill of the <rect> after a <title> */
	GString *text;
};

static void fills_start(GMarkupParseContext *c, const gchar *el, const gchar **names,
			const gchar **values, gpointer data, GError **error)
{
	struct svg_fills *s = data;
	for (int i = 0; !strcmp(el, "rect") && s->pending && names[i]; i++)
		if (!strcmp(names[i], "fill")) {
			g_hash_table_insert(s->fill, s->pending, g_strdup(values[i]));
			s->pending = NULL;
		}
	g_string_truncate(s->text, 0);
}

static void fills_text(GMarkupParseContext *c, const gchar *text, gsize len,
		       gpointer data, GError **error)
{
	g_string_append_len(((struct svg_fills *)data)->text, text, (gssize)len);
}

static void fills_end(GMarkupParseContext *c, const gchar *el, gpointer data,
		      GError **error)
{
	struct svg_fills *s = data;
	if (!strcmp(el, "title")) {
		const char *cut = strstr(s->text->str, " (");
		s->pending = g_strndup(s->text->str, cut ? (gsize)(cut - s->text->str)
						       : s->text->len);
		g_hash_table_insert(s->title, g_strdup(s->pending), g_strdup(s->text->str));
	}
}

/* Each frame's fill and title in svg, by the title's label */
static void svg_fills(const char *svg, struct svg_fills *s)
{
	GMarkupParser parser = {.start_element = fills_start, .end_element = fills_end,
				.text = fills_text};
	GMarkupParseContext *c;

	s->fill = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	s->title = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	s->pending = NULL;
	s->text = g_string_new(NULL);
	c = g_markup_parse_context_new(&parser, 0, s, NULL);
	CU_ASSERT_TRUE(g_markup_parse_context_parse(c, strstr(svg, "<svg"), -1, NULL) &&
		       g_markup_parse_context_end_parse(c, NULL));
	g_markup_parse_context_free(c);
}

static void svg_fills_free(struct svg_fills *s)
{
	g_hash_table_unref(s->fill);
	g_hash_table_unref(s->title);
	g_free(s->pending);
	g_string_free(s->text, TRUE);
}

static void test_formats__svg_fills_by_origin(void)
{
	char *svg = render_profile(make_origin_profile(), "svg", NULL);
	struct svg_fills s;
	const char *work, *main_, *dumps, *encode, *get, *thread;

	svg_fills(svg, &s);
	work = g_hash_table_lookup(s.fill, "work");
	main_ = g_hash_table_lookup(s.fill, "main");
	dumps = g_hash_table_lookup(s.fill, "dumps");
	encode = g_hash_table_lookup(s.fill, "JSONEncoder.encode");
	get = g_hash_table_lookup(s.fill, "get");
	thread = g_hash_table_lookup(s.fill, "MainThread");
	CU_ASSERT_PTR_NOT_NULL_FATAL(work);
	CU_ASSERT_PTR_NOT_NULL_FATAL(dumps);
	CU_ASSERT_PTR_NOT_NULL_FATAL(encode);
	CU_ASSERT_PTR_NOT_NULL_FATAL(get);
	CU_ASSERT_PTR_NOT_NULL_FATAL(thread);
	/* the program warm, one shade per file; the standard library blue,
	 * one shade for json's two files; a package green; threads grey */
	CU_ASSERT_TRUE(hue_of(work) >= 0 && hue_of(work) <= 45);
	CU_ASSERT_STRING_EQUAL(work, main_);
	CU_ASSERT_TRUE(hue_of(dumps) >= 190 && hue_of(dumps) <= 235);
	CU_ASSERT_STRING_EQUAL(dumps, encode);
	CU_ASSERT_TRUE(hue_of(get) >= 80 && hue_of(get) <= 155);
	CU_ASSERT_EQUAL(hue_of(thread), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(svg, "data-origin=\"stdlib\""));
	CU_ASSERT_PTR_NULL(strstr(svg, "data-origin=\"native\""));
	svg_fills_free(&s);
	free(svg);
}

static void test_formats__svg_short_paths_unless_full(void)
{
	struct render_options o;
	char *svg = render_profile(make_origin_profile(), "svg", NULL), *full;
	struct svg_fills s;

	svg_fills(svg, &s);
	CU_ASSERT_STRING_EQUAL(g_hash_table_lookup(s.title, "dumps"),
			       "dumps (<stdlib>/json/__init__.py:231) (2.000 s, 1 samples, 33.33%)");
	CU_ASSERT_STRING_EQUAL(g_hash_table_lookup(s.title, "get"),
			       "get (requests/api.py:73) (1.000 s, 1 samples, 16.67%)");
	svg_fills_free(&s);
	render_options_init(&o);
	o.full_paths = TRUE;
	full = render_profile(make_origin_profile(), "svg", &o);
	svg_fills(full, &s);
	CU_ASSERT_STRING_EQUAL(g_hash_table_lookup(s.title, "dumps"),
			       "dumps (/usr/lib/python3.11/json/__init__.py:231) (2.000 s, 1 samples, 33.33%)");
	svg_fills_free(&s);
	free(svg);
	free(full);
}

/* ---- html ---- */

static JsonNode *html_data(const char *html)
{
	const char *open = "<script id=\"pyprof-data\" type=\"application/json\">";
	const char *a = strstr(html, open), *z;
	char *json;
	JsonNode *n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	a += strlen(open);
	z = strstr(a, "</script>");
	CU_ASSERT_PTR_NOT_NULL_FATAL(z);
	json = g_strndup(a, (gsize)(z - a));
	n = parse(json);
	g_free(json);
	return n;
}

static void test_formats__html_embeds_tree_columns(void)
{
	char *html = render_hiding("html", FALSE, NULL);
	JsonNode *doc = html_data(html);
	JsonObject *o, *tree;
	JsonArray *total, *frame;

	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	CU_ASSERT_PTR_NULL(strstr(html, "/*PYPROF_DATA*/"));
	o = json_node_get_object(doc);
	tree = json_object_get_object_member(o, "tree");
	total = json_object_get_array_member(tree, "total");
	frame = json_object_get_array_member(tree, "frame");
	CU_ASSERT_EQUAL(json_array_get_int_element(total, 0), (gint64)TOTAL_NS);
	/* root, 2 threads, 4 frames under MainThread, 2 under worker */
	CU_ASSERT_EQUAL(json_array_get_length(total), 9);
	CU_ASSERT_EQUAL(json_array_get_length(frame), 9);
	CU_ASSERT_TRUE(json_node_is_null(json_object_get_member(o, "full")));
	CU_ASSERT_EQUAL(json_array_get_length(json_object_get_array_member(
		json_object_get_object_member(o, "frames"), "name")), 8);
	json_node_unref(doc);
	free(html);
}

static void test_formats__html_full_tree_when_hiding(void)
{
	char *html = render_hiding("html", TRUE, NULL);
	JsonNode *doc = html_data(html);
	JsonObject *o = json_node_get_object(doc);
	JsonArray *shown = json_object_get_array_member(json_object_get_object_member(o, "tree"), "total");
	JsonArray *full = json_object_get_array_member(json_object_get_object_member(o, "full"), "total");

	CU_ASSERT_EQUAL(json_array_get_length(shown), 8);
	CU_ASSERT_EQUAL(json_array_get_length(full), 9);
	CU_ASSERT_EQUAL(json_array_get_int_element(shown, 0), json_array_get_int_element(full, 0));
	json_node_unref(doc);
	free(html);
}

/* The index in the frames columns of the frame called name */
static gint64 html_frame(JsonObject *o, const char *name)
{
	JsonArray *names = column(member(o, "frames"), "name");
	for (guint i = 0; i < json_array_get_length(names); i++)
		if (!strcmp(json_array_get_string_element(names, i), name))
			return i;
	return -1;
}

static JsonObject *html_package(JsonObject *o, const char *name)
{
	gint64 f = html_frame(o, name);
	CU_ASSERT_FATAL(f >= 0);
	return json_array_get_object_element(json_object_get_array_member(o, "packages"),
		(guint)json_array_get_int_element(column(member(o, "frames"), "pkg"), (guint)f));
}

static const char *html_file(JsonObject *o, const char *name, const char *table)
{
	gint64 f = html_frame(o, name), file;
	CU_ASSERT_FATAL(f >= 0);
	file = json_array_get_int_element(column(member(o, "frames"), "file"), (guint)f);
	CU_ASSERT_FATAL(file >= 0);
	return json_array_get_string_element(json_object_get_array_member(o, table), (guint)file);
}

static void test_formats__html_frames_say_origin_and_package(void)
{
	char *html = render_profile(make_origin_profile(), "html", NULL);
	JsonNode *doc = html_data(html);
	JsonObject *o = json_node_get_object(doc);
	JsonObject *dumps = html_package(o, "dumps"), *work = html_package(o, "work");

	CU_ASSERT_STRING_EQUAL(json_object_get_string_member(dumps, "origin"), "stdlib");
	CU_ASSERT_STRING_EQUAL(json_object_get_string_member(dumps, "name"), "json");
	/* one entry, one colour, for json's two files */
	CU_ASSERT_PTR_EQUAL(html_package(o, "JSONEncoder.encode"), dumps);
	CU_ASSERT_STRING_EQUAL(json_object_get_string_member(work, "origin"), "program");
	CU_ASSERT_PTR_EQUAL(html_package(o, "main"), work);
	CU_ASSERT_STRING_EQUAL(json_object_get_string_member(html_package(o, "get"), "origin"),
			       "library");
	CU_ASSERT_STRING_EQUAL(json_object_get_string_member(html_package(o, "MainThread"), "origin"),
			       "other");
	CU_ASSERT_STRING_NOT_EQUAL(json_object_get_string_member(dumps, "color"),
				   json_object_get_string_member(work, "color"));
	json_node_unref(doc);
	free(html);
}

static void test_formats__html_short_files_full_paths(void)
{
	struct render_options ro;
	char *html = render_profile(make_origin_profile(), "html", NULL), *full;
	JsonNode *doc = html_data(html), *fdoc;
	JsonObject *o = json_node_get_object(doc), *fo;

	CU_ASSERT_STRING_EQUAL(html_file(o, "dumps", "files"), "<stdlib>/json/__init__.py");
	CU_ASSERT_STRING_EQUAL(html_file(o, "dumps", "paths"), "/usr/lib/python3.11/json/__init__.py");
	CU_ASSERT_STRING_EQUAL(html_file(o, "get", "files"), "requests/api.py");
	render_options_init(&ro);
	ro.full_paths = TRUE;
	full = render_profile(make_origin_profile(), "html", &ro);
	fdoc = html_data(full);
	fo = json_node_get_object(fdoc);
	CU_ASSERT_STRING_EQUAL(html_file(fo, "dumps", "files"), "/usr/lib/python3.11/json/__init__.py");
	json_node_unref(doc);
	json_node_unref(fdoc);
	free(html);
	free(full);
}

/* A function's lines and folded recursion: fib calling fib calling fib */
static void test_formats__html_lines_and_repeat(void)
{
	struct profile *p = unit_profile_new(PROFILE_MODE_CPU, "r.pyprof", 1000000, 0);
	const char *file = profile_intern(p, "fib.py", -1);
	guint32 s = profile_stack_push(p, 0, FRAME("main", NULL, 1, 3));
	guint32 s1 = profile_stack_push(p, s, FRAME("fib", NULL, 5, 6));
	guint32 s2 = profile_stack_push(p, s1, FRAME("fib", NULL, 5, 7));
	guint32 s3 = profile_stack_push(p, s2, FRAME("fib", NULL, 5, 7));
	guint32 s4 = profile_stack_push(p, 0, FRAME("main", NULL, 1, 4));
	struct shape_options so = {.recursion = TRUE};
	struct profile_tree *t;
	char *buf;
	JsonNode *doc;
	JsonObject *tree;
	gint64 fib = -1, main_ = -1;
	JsonArray *frame, *line;

	profile_add_sample(p, 0, 1000000000u, 1000000000u, 0, 0, s3);
	profile_add_sample(p, 0, 2000000000u, 3000000000u, 0, 0, s4);
	t = profile_tree_build(p, NULL);
	shape_functions(t);
	shape_fold(p, t, &so);
	buf = render_built(p, t, "html", NULL, NULL);
	doc = html_data(buf);
	tree = member(json_node_get_object(doc), "tree");
	frame = column(tree, "frame");
	line = column(tree, "line");
	for (guint i = 1; i < json_array_get_length(frame); i++) {
		gint64 fi = json_array_get_int_element(frame, i);
		if (fi == html_frame(json_node_get_object(doc), "fib"))
			fib = i;
		if (fi == html_frame(json_node_get_object(doc), "main"))
			main_ = i;
	}
	CU_ASSERT_FATAL(fib > 0 && main_ > 0);
	{
		char key[16];
		JsonArray *lines;
		g_snprintf(key, sizeof key, "%" G_GINT64_FORMAT, fib);
		CU_ASSERT_EQUAL(json_object_get_int_member(member(tree, "repeat"), key), 3);
		g_snprintf(key, sizeof key, "%" G_GINT64_FORMAT, main_);
		/* main's lines, hottest first: 4 (3 s), then 3 (1 s) */
		lines = json_object_get_array_member(member(tree, "lines"), key);
		CU_ASSERT_PTR_NOT_NULL_FATAL(lines);
		CU_ASSERT_EQUAL(json_array_get_length(lines), 4);
		CU_ASSERT_EQUAL(json_array_get_int_element(lines, 0), 4);
		CU_ASSERT_EQUAL(json_array_get_int_element(lines, 1), 3000000000);
		CU_ASSERT_EQUAL(json_array_get_int_element(lines, 2), 3);
		CU_ASSERT_EQUAL(json_array_get_int_element(line, (guint)main_), 4);
	}
	json_node_unref(doc);
	free(buf);
	profile_tree_free(t);
	profile_free(p);
}

/* Each lane's columns add up to its thread's running and waiting time,
 * and the columns where it waited name the [idle] below wait() */
static void test_formats__html_timeline_lanes_add_up(void)
{
	char *html = render_wall("html", FALSE, NULL);
	JsonNode *doc = html_data(html);
	JsonObject *o = json_node_get_object(doc), *tl = member(o, "timeline");
	JsonArray *lanes = json_object_get_array_member(tl, "lanes");
	JsonArray *frame = column(member(o, "tree"), "frame"), *names = column(member(o, "frames"), "name");
	static const gint64 want_run[] = {1000000, 1600000}, want_wait[] = {3000000, 400000};
	guint columns = (guint)json_object_get_int_member(tl, "columns");

	CU_ASSERT_EQUAL_FATAL(json_array_get_length(lanes), 2);
	CU_ASSERT_TRUE(columns >= 2 && columns <= 400);
	for (guint li = 0; li < 2; li++) {
		JsonObject *lane = json_array_get_object_element(lanes, li);
		JsonArray *run = json_object_get_array_member(lane, "run");
		JsonArray *wait = json_object_get_array_member(lane, "wait");
		JsonArray *node = json_object_get_array_member(lane, "node");
		gint64 r = 0, w = 0;
		guint idle_cols = 0;

		CU_ASSERT_EQUAL(json_object_get_int_member(lane, "thread"), li);
		for (guint k = 0; k < json_array_get_length(run); k++) {
			const char *name = json_array_get_string_element(names,
				(guint)json_array_get_int_element(frame,
					(guint)json_array_get_int_element(node, k)));
			r += json_array_get_int_element(run, k);
			w += json_array_get_int_element(wait, k);
			if (json_array_get_int_element(wait, k) > json_array_get_int_element(run, k)) {
				idle_cols++;
				CU_ASSERT_STRING_EQUAL(name, "[idle]");
			}
		}
		/* microseconds, each column rounded */
		CU_ASSERT_TRUE(r >= want_run[li] - (gint64)columns && r <= want_run[li] + (gint64)columns);
		CU_ASSERT_TRUE(w >= want_wait[li] - (gint64)columns && w <= want_wait[li] + (gint64)columns);
		CU_ASSERT_TRUE(idle_cols > 0);
	}
	json_node_unref(doc);
	free(html);
}

/* A sample that both ran and waited, over many columns: each column once,
 * in order, its time split as the sample's */
static void test_formats__html_timeline_columns_in_order(void)
{
	struct profile *p = wall_profile_new();
	const char *file = profile_intern(p, "app.py", -1);
	guint32 st = profile_stack_push(p, 0, FRAME("main", NULL, 1, 2));
	struct profile_tree *t;
	char *buf;
	JsonNode *doc;
	JsonObject *lane;
	JsonArray *col, *run, *wait;
	gint64 r = 0, w = 0;

	profile_add_sample(p, 0, 1000000000u, 1000000000u, 1000000000u, PROFILE_SAMPLE_GIL, st);
	profile_add_sample(p, 0, 3000000000u, 1000000000u, 2000000000u, PROFILE_SAMPLE_GIL, st);
	t = profile_tree_build(p, NULL);
	buf = render_built(p, t, "html", NULL, NULL);
	doc = html_data(buf);
	lane = json_array_get_object_element(column(member(json_node_get_object(doc), "timeline"), "lanes"), 0);
	col = json_object_get_array_member(lane, "col");
	run = json_object_get_array_member(lane, "run");
	wait = json_object_get_array_member(lane, "wait");
	CU_ASSERT_TRUE(json_array_get_length(col) > 100);
	for (guint i = 0; i < json_array_get_length(col); i++) {
		if (i)
			CU_ASSERT_TRUE(json_array_get_int_element(col, i) >
				       json_array_get_int_element(col, i - 1));
		r += json_array_get_int_element(run, i);
		w += json_array_get_int_element(wait, i);
	}
	CU_ASSERT_TRUE(r >= 2000000 - 400 && r <= 2000000 + 400);
	CU_ASSERT_TRUE(w >= 1000000 - 400 && w <= 1000000 + 400);
	json_node_unref(doc);
	free(buf);
	profile_tree_free(t);
	profile_free(p);
}

static void test_formats__html_diff_rows_and_paths(void)
{
	struct profile *p[2] = {make_origin_profile_for(3), make_origin_profile_for(6)};
	struct profile_tree *t[2] = {profile_tree_build(p[0], NULL), profile_tree_build(p[1], NULL)};
	struct diff *d = diff_new(t[0], t[1]);
	const char *names[2] = {"base.pyprof", "new.pyprof"};
	struct render_options ro;
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	JsonNode *doc;
	JsonObject *o, *rows;
	JsonArray *rn, *was;
	gboolean seen_work = FALSE;

	render_options_init(&ro);
	CU_ASSERT_TRUE(render_diff_html(d, names, &ro, f, NULL));
	fclose(f);
	doc = html_data(buf);
	o = json_node_get_object(doc);
	CU_ASSERT_STRING_EQUAL(json_object_get_string_member(o, "kind"), "diff");
	CU_ASSERT_EQUAL(json_object_get_int_member(member(o, "base"), "total"), 6000000000);
	CU_ASSERT_EQUAL(json_object_get_int_member(member(o, "new"), "total"), 9000000000);
	rows = member(o, "rows");
	rn = column(rows, "name");
	for (guint i = 0; i < json_array_get_length(rn); i++) {
		double t0 = json_array_get_double_element(column(rows, "total0"), i);
		double t1 = json_array_get_double_element(column(rows, "total1"), i);
		if (strcmp(json_array_get_string_element(rn, i), "work"))
			continue;
		seen_work = TRUE;
		CU_ASSERT_DOUBLE_EQUAL(t0, 50.0, 0.01);
		CU_ASSERT_DOUBLE_EQUAL(t1, 66.67, 0.01);
		CU_ASSERT_STRING_EQUAL(json_array_get_string_element(column(rows, "file"), i), "/home/me/app.py");
		CU_ASSERT_EQUAL(json_array_get_int_element(column(rows, "line"), i), 23);
	}
	CU_ASSERT_TRUE(seen_work);
	/* BASE's share of each of NEW's nodes: the root all of it */
	was = column(member(o, "was"), "total");
	CU_ASSERT_EQUAL(json_array_get_length(was), json_array_get_length(column(member(o, "tree"), "total")));
	CU_ASSERT_DOUBLE_EQUAL(json_array_get_double_element(was, 0), 100.0, 1e-9);
	json_node_unref(doc);
	free(buf);
	diff_free(d);
	for (int i = 0; i < 2; i++) {
		profile_tree_free(t[i]);
		profile_free(p[i]);
	}
}

/* ---- wall mode: [idle] and --no-idle ---- */

static JsonObject *child_named(JsonObject *node, const char *name)
{
	JsonArray *kids = json_object_get_array_member(node, "children");
	for (guint i = 0; kids && i < json_array_get_length(kids); i++) {
		JsonObject *k = json_array_get_object_element(kids, i);
		if (!strcmp(json_object_get_string_member(k, "name"), name))
			return k;
	}
	return NULL;
}

static void test_formats__wall_json_idle_leaf(void)
{
	char *text = render_wall("json", FALSE, NULL);
	JsonNode *doc = parse(text);
	JsonObject *o = json_node_get_object(doc), *main_t, *wait, *idle;

	CU_ASSERT_EQUAL(json_object_get_int_member(o, "total_ns"), 6000000000);
	CU_ASSERT_EQUAL(json_object_get_int_member(o, "total_samples"), 7);
	main_t = json_array_get_object_element(json_object_get_array_member(o, "roots"), 0);
	wait = child_named(child_named(child_named(main_t, "<module>"), "main"), "wait");
	CU_ASSERT_PTR_NOT_NULL_FATAL(wait);
	CU_ASSERT_EQUAL(json_object_get_int_member(wait, "self_ns"), 0);
	idle = child_named(wait, "[idle]");
	CU_ASSERT_PTR_NOT_NULL_FATAL(idle);
	CU_ASSERT_STRING_EQUAL(json_object_get_string_member(idle, "kind"), "idle");
	CU_ASSERT_FALSE(json_object_has_member(idle, "file"));
	CU_ASSERT_EQUAL(json_object_get_int_member(idle, "total_ns"), 3000000000);
	CU_ASSERT_EQUAL(json_object_get_int_member(idle, "total_samples"), 3);
	json_node_unref(doc);
	free(text);
}

static void test_formats__wall_speedscope_idle_leaf(void)
{
	char *text = render_wall("speedscope", FALSE, NULL);
	JsonNode *doc = parse(text);
	JsonObject *o = json_node_get_object(doc);
	JsonArray *frames = json_object_get_array_member(json_object_get_object_member(o, "shared"), "frames");
	JsonObject *p0 = json_array_get_object_element(json_object_get_array_member(o, "profiles"), 0);
	JsonArray *samples = json_object_get_array_member(p0, "samples");
	JsonArray *weights = json_object_get_array_member(p0, "weights");
	gboolean found = FALSE;

	CU_ASSERT_DOUBLE_EQUAL(weights_sum(weights), 4.0, 1e-9);
	for (guint i = 0; i < json_array_get_length(samples); i++) {
		JsonArray *st = json_array_get_array_element(samples, i);
		guint n = json_array_get_length(st);
		JsonObject *leaf, *up;
		if (n < 2)
			continue;
		leaf = json_array_get_object_element(frames, (guint)json_array_get_int_element(st, n - 1));
		up = json_array_get_object_element(frames, (guint)json_array_get_int_element(st, n - 2));
		if (strcmp(json_object_get_string_member(leaf, "name"), "[idle]"))
			continue;
		found = TRUE;
		CU_ASSERT_STRING_EQUAL(json_object_get_string_member(up, "name"), "wait");
		CU_ASSERT_FALSE(json_object_has_member(leaf, "file"));
		/* three idle samples in a row: one entry of 3 s */
		CU_ASSERT_DOUBLE_EQUAL(json_array_get_double_element(weights, i), 3.0, 1e-9);
	}
	CU_ASSERT_TRUE(found);
	json_node_unref(doc);
	free(text);
}

static void test_formats__wall_trace_idle_slice_on_the_waiting_frame(void)
{
	char *text = render_wall("trace", FALSE, NULL);
	JsonNode *doc = parse(text);
	JsonArray *ev = json_object_get_array_member(json_node_get_object(doc), "traceEvents");
	GPtrArray *open = g_ptr_array_new();
	guint idle = 0;

	for (guint i = 0; i < json_array_get_length(ev); i++) {
		JsonObject *e = json_array_get_object_element(ev, i);
		const char *ph = json_object_get_string_member(e, "ph");
		if (json_object_get_int_member(e, "tid") != 100 || !strcmp(ph, "M"))
			continue;
		if (!strcmp(ph, "E")) {
			CU_ASSERT_TRUE_FATAL(open->len > 0);
			g_ptr_array_remove_index(open, open->len - 1);
			continue;
		}
		if (!strcmp(json_object_get_string_member(e, "name"), "[idle]")) {
			idle++;
			CU_ASSERT_STRING_EQUAL(json_object_get_string_member(e, "cat"), "idle");
			CU_ASSERT_TRUE_FATAL(open->len > 0);
			CU_ASSERT_STRING_EQUAL(g_ptr_array_index(open, open->len - 1), "wait");
			/* from the end of work (1 s) on, as the samples say */
			CU_ASSERT_DOUBLE_EQUAL(json_object_get_double_member(e, "ts"),
					       1e6 - 0.5, 1e-6);
		}
		g_ptr_array_add(open, (gpointer)json_object_get_string_member(e, "name"));
	}
	/* one slice for three back-to-back idle samples */
	CU_ASSERT_EQUAL(idle, 1);
	CU_ASSERT_EQUAL(open->len, 0);
	g_ptr_array_unref(open);
	json_node_unref(doc);
	free(text);
}

/* Idle samples are [idle] entries below the frame that waited, in the
 * Idle category; --no-idle leaves them out */
static void test_formats__wall_gecko_idle_entries(void)
{
	char *text = render_wall("gecko", FALSE, NULL);
	JsonNode *node = parse(text);
	JsonObject *doc = json_node_get_object(node), *th = gecko_thread(doc, 0);
	JsonObject *st = member(th, "stackTable"), *fr = member(th, "frameTable");
	JsonArray *cats = json_object_get_array_member(member(doc, "meta"), "categories");
	double ms = 0;
	char *stack;
	guint row, cat;

	CU_ASSERT_EQUAL_FATAL(json_object_get_int_member(member(th, "samples"), "length"), 5);
	for (guint i = 0; i < 5; i++)
		ms += gecko_ms(th, "weight", i);
	CU_ASSERT_DOUBLE_EQUAL(ms, 4000.0, 1e-9);
	stack = gecko_stack(doc, th, 2);
	CU_ASSERT_STRING_EQUAL(stack, "<module>;main;wait;[idle]");
	g_free(stack);
	row = (guint)json_array_get_int_element(column(member(th, "samples"), "stack"), 2);
	cat = (guint)json_array_get_int_element(column(fr, "category"),
		(guint)json_array_get_int_element(column(st, "frame"), row));
	CU_ASSERT_STRING_EQUAL(json_object_get_string_member(
		json_array_get_object_element(cats, cat), "name"), "Idle");
	json_node_unref(node);
	free(text);

	text = render_wall("gecko", TRUE, NULL);
	CU_ASSERT_PTR_NULL(strstr(text, "[idle]"));
	node = parse(text);
	th = gecko_thread(json_node_get_object(node), 0);
	CU_ASSERT_EQUAL(json_object_get_int_member(member(th, "samples"), "length"), 2);
	json_node_unref(node);
	free(text);
}

static void test_formats__wall_pprof_svg_html_idle_leaf(void)
{
	gsize len;
	char *gz = render_wall("pprof", FALSE, &len);
	Perftools__Profiles__Profile *pb = unpack_gz(gz, len);
	char *svg = render_wall("svg", FALSE, NULL);
	char *html = render_wall("html", FALSE, NULL);
	JsonNode *doc;
	JsonArray *names;
	gboolean found = FALSE;

	CU_ASSERT_PTR_NOT_NULL_FATAL(pb);
	CU_ASSERT_STRING_EQUAL(pb_str(pb, pb->sample_type[1]->type), "wall");
	for (size_t i = 0; i < pb->n_sample; i++) {
		Perftools__Profiles__Sample *s = pb->sample[i];
		Perftools__Profiles__Function *leaf, *up;
		if (s->n_location_id < 2)
			continue;
		leaf = pb->function[pb->location[s->location_id[0] - 1]->line[0]->function_id - 1];
		up = pb->function[pb->location[s->location_id[1] - 1]->line[0]->function_id - 1];
		if (strcmp(pb_str(pb, leaf->name), "[idle]") ||
		    strcmp(pb_str(pb, up->name), "wait"))
			continue;
		found = TRUE;
		CU_ASSERT_EQUAL(s->value[0], 3);
		CU_ASSERT_EQUAL(s->value[1], 3000000000);
	}
	CU_ASSERT_TRUE(found);
	perftools__profiles__profile__free_unpacked(pb, NULL);

	CU_ASSERT_PTR_NOT_NULL(strstr(svg, "<title>[idle] (3.000 s, 3 samples, 50.00%)</title>"));
	free(svg);

	doc = html_data(html);
	names = json_object_get_array_member(
		json_object_get_object_member(json_node_get_object(doc), "frames"), "name");
	found = FALSE;
	for (guint i = 0; i < json_array_get_length(names); i++)
		found |= !strcmp(json_array_get_string_element(names, i), "[idle]");
	CU_ASSERT_TRUE(found);
	json_node_unref(doc);
	free(html);
}

/* --no-idle: every format has the running time only, and no [idle] */
static void test_formats__wall_no_idle_totals_agree(void)
{
	static const char *const formats[] = {"json", "speedscope", "trace", "gecko", "svg",
					      "html"};
	char *json = render_wall("json", TRUE, NULL);
	char *ss = render_wall("speedscope", TRUE, NULL);
	char *trace = render_wall("trace", TRUE, NULL);
	JsonNode *doc;
	JsonObject *o;
	JsonArray *a;
	gint64 ns = 0, samples = 0;
	gsize len;
	char *gz;
	Perftools__Profiles__Profile *pb;

	for (gsize i = 0; i < G_N_ELEMENTS(formats); i++) {
		char *text = render_wall(formats[i], TRUE, NULL);
		CU_ASSERT_PTR_NULL(strstr(text, "[idle]"));
		free(text);
	}
	doc = parse(json);
	o = json_node_get_object(doc);
	CU_ASSERT_EQUAL(json_object_get_int_member(o, "total_ns"), 2600000000);
	CU_ASSERT_EQUAL(json_object_get_int_member(o, "total_samples"), 3);
	json_node_unref(doc);

	CU_ASSERT_DOUBLE_EQUAL(speedscope_seconds(ss), 2.6, 1e-9);

	doc = parse(trace);
	a = json_object_get_array_member(json_node_get_object(doc), "traceEvents");
	for (guint i = 0; i < json_array_get_length(a); i++) {
		JsonObject *e = json_array_get_object_element(a, i);
		if (strcmp(json_object_get_string_member(e, "ph"), "M") ||
		    strcmp(json_object_get_string_member(e, "name"), "thread_name"))
			continue;
		e = json_object_get_object_member(e, "args");
		ns += json_object_get_int_member(e, "total_ns");
		samples += json_object_get_int_member(e, "samples");
	}
	CU_ASSERT_EQUAL(ns, 2600000000);
	CU_ASSERT_EQUAL(samples, 3);
	json_node_unref(doc);

	gz = render_wall("pprof", TRUE, &len);
	pb = unpack_gz(gz, len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pb);
	ns = 0;
	for (size_t i = 0; i < pb->n_sample; i++)
		ns += pb->sample[i]->value[1];
	CU_ASSERT_EQUAL(ns, 2600000000);
	for (size_t i = 0; i < pb->n_function; i++)
		CU_ASSERT_STRING_NOT_EQUAL(pb_str(pb, pb->function[i]->name), "[idle]");
	perftools__profiles__profile__free_unpacked(pb, NULL);
	free(json);
	free(ss);
	free(trace);
}

/* A running sample whose thread also waited in its period (for the GIL,
 * a CPU) puts that wait in an [idle] leaf that has time but no sample
 * of its own: every format must still add up to the wall time.
 *   MainThread  <module> -> work   1 running sample: 1 s wall, 0.25 s CPU
 *               <module> -> wait   1 idle sample: 2 s wall, no CPU */
static void test_formats__wall_waits_of_running_samples_counted(void)
{
	struct profile *p = wall_profile_new();
	const char *file = profile_intern(p, "app.py", -1);
	guint32 mod = FRAME("<module>", "<module>", 1, 1);
	guint32 work = FRAME("work", "work", 20, 23);
	guint32 wait = FRAME("wait", "wait", 30, 31);
	struct profile_tree *t;
	struct render_options o;
	guint t0 = 0, s_mod;
	char *buf;
	size_t n;
	FILE *f;
	GError *error = NULL;
	gint64 ns = 0;
	Perftools__Profiles__Profile *pb;
	JsonNode *doc;
	JsonArray *a;

	s_mod = profile_stack_push(p, 0, mod);
	profile_add_sample(p, t0, 1000000000u, 250000000, 1000000000u,
			   PROFILE_SAMPLE_GIL, profile_stack_push(p, s_mod, work));
	profile_add_sample(p, t0, 3000000000u, 0, 2000000000u,
			   PROFILE_SAMPLE_IDLE, profile_stack_push(p, s_mod, wait));
	t = profile_tree_build(p, NULL);
	render_options_init(&o);

	o.weight_ns = TRUE;
	buf = NULL;
	f = open_memstream(&buf, &n);
	CU_ASSERT_TRUE(render_lookup("collapsed")->render(p, t, &o, f, &error));
	fclose(f);
	CU_ASSERT_STRING_EQUAL(buf,
		"MainThread;<module> (app.py:1);wait (app.py:31);[idle] 2000000000\n"
		"MainThread;<module> (app.py:1);work (app.py:23) 250000000\n"
		"MainThread;<module> (app.py:1);work (app.py:23);[idle] 750000000\n");
	free(buf);
	o.weight_ns = FALSE;

	buf = NULL;
	f = open_memstream(&buf, &n);
	CU_ASSERT_TRUE(render_lookup("pprof")->render(p, t, &o, f, &error));
	fclose(f);
	pb = unpack_gz(buf, n);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pb);
	for (size_t i = 0; i < pb->n_sample; i++)
		ns += pb->sample[i]->value[1];
	CU_ASSERT_EQUAL(ns, 3000000000);
	perftools__profiles__profile__free_unpacked(pb, NULL); /* buf freed */

	buf = NULL;
	f = open_memstream(&buf, &n);
	CU_ASSERT_TRUE(render_lookup("speedscope")->render(p, t, &o, f, &error));
	fclose(f);
	CU_ASSERT_DOUBLE_EQUAL(speedscope_seconds(buf), 3.0, 1e-9);
	free(buf);

	/* gecko: that sample is two entries, the wait first (the thread's
	 * own clock took it: it was running then), each at the end of its
	 * part of the period; times count from the process start (500 ns) */
	buf = NULL;
	f = open_memstream(&buf, &n);
	CU_ASSERT_TRUE(render_lookup("gecko")->render(p, t, &o, f, &error));
	fclose(f);
	doc = parse(buf);
	{
		JsonObject *th = gecko_thread(json_node_get_object(doc), 0);
		static const char *const stacks[] = {"<module>;work;[idle]", "<module>;work",
						     "<module>;wait;[idle]"};
		static const double when[] = {749.9995, 999.9995, 2999.9995};
		static const double weight[] = {750, 250, 2000};

		CU_ASSERT_EQUAL_FATAL(json_object_get_int_member(member(th, "samples"), "length"), 3);
		for (guint i = 0; i < 3; i++) {
			char *stack = gecko_stack(json_node_get_object(doc), th, i);
			CU_ASSERT_STRING_EQUAL(stack, stacks[i]);
			CU_ASSERT_DOUBLE_EQUAL(gecko_ms(th, "time", i), when[i], 1e-9);
			CU_ASSERT_DOUBLE_EQUAL(gecko_ms(th, "weight", i), weight[i], 1e-9);
			g_free(stack);
		}
	}
	json_node_unref(doc);
	free(buf);

	/* trace: the running sample's wait is an [idle] slice before its
	 * instant, 0.75 s of [idle] in work's first 0.75 s */
	buf = NULL;
	f = open_memstream(&buf, &n);
	CU_ASSERT_TRUE(render_lookup("trace")->render(p, t, &o, f, &error));
	fclose(f);
	doc = parse(buf);
	a = json_object_get_array_member(json_node_get_object(doc), "traceEvents");
	{
		GPtrArray *open = g_ptr_array_new();
		GArray *since = g_array_new(FALSE, FALSE, sizeof(double));
		double idle_us = 0, work_idle_from = -1;

		for (guint i = 0; i < json_array_get_length(a); i++) {
			JsonObject *e = json_array_get_object_element(a, i);
			const char *ph = json_object_get_string_member(e, "ph");
			double ts;

			if (!strcmp(ph, "M")) {
				if (!strcmp(json_object_get_string_member(e, "name"), "thread_name") &&
				    json_object_get_int_member(e, "tid") == 100)
					CU_ASSERT_EQUAL(json_object_get_int_member(
						json_object_get_object_member(e, "args"), "total_ns"),
						3000000000);
				continue;
			}
			ts = json_object_get_double_member(e, "ts");
			if (!strcmp(ph, "B")) {
				const char *name = json_object_get_string_member(e, "name");
				if (!strcmp(name, "[idle]") && open->len &&
				    !strcmp(g_ptr_array_index(open, open->len - 1), "work"))
					work_idle_from = ts;
				g_ptr_array_add(open, (gpointer)name);
				g_array_append_val(since, ts);
			} else if (open->len) {
				if (!strcmp(g_ptr_array_index(open, open->len - 1), "[idle]"))
					idle_us += ts - g_array_index(since, double, since->len - 1);
				g_ptr_array_set_size(open, open->len - 1);
				g_array_set_size(since, since->len - 1);
			}
		}
		CU_ASSERT_DOUBLE_EQUAL(idle_us, 2.75e6, 1e-3);
		CU_ASSERT_DOUBLE_EQUAL(work_idle_from, 0, 1e-3);
		CU_ASSERT_EQUAL(open->len, 0);
		g_ptr_array_unref(open);
		g_array_unref(since);
	}
	json_node_unref(doc);
	free(buf);

	CU_ASSERT_PTR_NULL(error);
	profile_tree_free(t);
	profile_free(p);
}

/* ---- a family of threads (PROFILE_GROUP_FAMILY) ---- */

/* The CPU-mode threads MainThread (tid 100, 2 s in work) and worker (101,
 * 1 s in Worker.run), and three threads "Thread-N (handle)" (102 to 104)
 * of 1, 2 and 3 s in handle, one family; rendered as format grouped by
 * family into a new buffer, its length in *len. */
static char *render_family(const char *format, gsize *len)
{
	struct profile *p = unit_profile_new(PROFILE_MODE_CPU, "f.pyprof",
					     1000000, 500);
	const char *file = profile_intern(p, "app.py", -1);
	guint32 s_work = profile_stack_push(p, 0, FRAME("work", "work", 20, 23));
	guint32 s_run = profile_stack_push(p, 0, FRAME("run", "Worker.run", 40, 40));
	guint32 s_handle = profile_stack_push(p, 0, FRAME("handle", "handle", 60, 61));
	struct profile_tree_options topts = {.group = PROFILE_GROUP_FAMILY};

	for (guint i = 0; i < 3; i++) {
		char name[32];
		guint ti;

		g_snprintf(name, sizeof name, "Thread-%u (handle)", i + 1);
		ti = profile_add_thread(p, 0, 3 + i, 102 + i, 0, 0, name, strlen(name));
		profile_add_sample(p, ti, 1000000000u * (guint64)(i + 1),
				   1000000000u * (guint64)(i + 1), 0, 0, s_handle);
	}
	profile_add_sample(p, 0, 2000000000u, 2000000000u, 0, 0, s_work);
	profile_add_sample(p, 1, 1000000000u, 1000000000u, 0, 0, s_run);
	profile_family_group(p, 0);
	return render_grouped(p, format, &topts, FALSE, len);
}

static JsonNode *render_family_doc(const char *format)
{
	char *text = render_family(format, NULL);
	JsonNode *n = parse(text);
	free(text);
	return n;
}

/* The JSON tree's root of a family lists its threads in place of one */
static void test_formats__family_json_root_lists_its_threads(void)
{
	JsonNode *doc = render_family_doc("json");
	JsonArray *roots = json_object_get_array_member(json_node_get_object(doc), "roots");
	JsonObject *family;
	JsonArray *threads;

	CU_ASSERT_EQUAL_FATAL(json_array_get_length(roots), 3);
	/* heaviest first: handle (6 s), MainThread (2 s), worker (1 s) */
	family = json_array_get_object_element(roots, 0);
	CU_ASSERT_STRING_EQUAL(json_object_get_string_member(family, "name"), "handle");
	CU_ASSERT_STRING_EQUAL(json_object_get_string_member(family, "kind"), "thread");
	CU_ASSERT_EQUAL(json_object_get_int_member(family, "total_ns"), 6000000000);
	CU_ASSERT_FALSE(json_object_has_member(family, "thread"));
	threads = json_object_get_array_member(family, "threads");
	CU_ASSERT_EQUAL_FATAL(json_array_get_length(threads), 3);
	for (guint i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(json_array_get_int_element(threads, i), 2 + i);
	CU_ASSERT_EQUAL(json_object_get_int_member(json_array_get_object_element(roots, 1),
						   "thread"), 0);
	CU_ASSERT_FALSE(json_object_has_member(json_array_get_object_element(roots, 1),
					       "threads"));
	json_node_unref(doc);
}

/* speedscope: one profile for the family, named as its text header */
static void test_formats__family_speedscope_one_profile(void)
{
	JsonNode *doc = render_family_doc("speedscope");
	JsonArray *profiles = json_object_get_array_member(json_node_get_object(doc),
							   "profiles");
	JsonObject *p0;

	CU_ASSERT_EQUAL_FATAL(json_array_get_length(profiles), 3);
	p0 = json_array_get_object_element(profiles, 0);
	CU_ASSERT_STRING_EQUAL(json_object_get_string_member(p0, "name"),
			       "handle \xc3\x97" "3 (pid 4242)");
	CU_ASSERT_DOUBLE_EQUAL(weights_sum(json_object_get_array_member(p0, "weights")),
			       6.0, 1e-9);
	CU_ASSERT_STRING_EQUAL(json_object_get_string_member(
		json_array_get_object_element(profiles, 1), "name"),
			       "MainThread (pid 4242, tid 100)");
	json_node_unref(doc);
}

/* trace: each thread of a family keeps its own track, with its samples
 * on it, found through the family's root */
static void test_formats__family_trace_threads_keep_their_tracks(void)
{
	JsonNode *doc = render_family_doc("trace");
	JsonArray *ev = json_object_get_array_member(json_node_get_object(doc), "traceEvents");
	guint handle_by_tid[3] = {0, 0, 0};
	gint64 total_by_tid[3] = {0, 0, 0};

	for (guint i = 0; i < json_array_get_length(ev); i++) {
		JsonObject *e = json_array_get_object_element(ev, i);
		const char *ph = json_object_get_string_member(e, "ph");
		gint64 tid = json_object_get_int_member(e, "tid");

		if (tid < 102 || tid > 104)
			continue;
		if (!strcmp(ph, "B") &&
		    !strcmp(json_object_get_string_member(e, "name"), "handle"))
			handle_by_tid[tid - 102]++;
		if (!strcmp(ph, "M") &&
		    !strcmp(json_object_get_string_member(e, "name"), "thread_name"))
			total_by_tid[tid - 102] = json_object_get_int_member(
				json_object_get_object_member(e, "args"), "total_ns");
	}
	for (guint i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(handle_by_tid[i], 1);
		CU_ASSERT_EQUAL(total_by_tid[i], 1000000000 * (gint64)(i + 1));
	}
	json_node_unref(doc);
}

/* pprof: a family's samples carry its label and its process's pid */
static void test_formats__family_pprof_labels(void)
{
	gsize len;
	char *gz = render_family("pprof", &len);
	Perftools__Profiles__Profile *pb = unpack_gz(gz, len);
	gint64 handle_ns = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(pb);
	for (size_t i = 0; i < pb->n_sample; i++) {
		Perftools__Profiles__Sample *s = pb->sample[i];
		const char *thread = NULL;
		gint64 pid = 0;

		for (size_t l = 0; l < s->n_label; l++) {
			const char *key = pb_str(pb, s->label[l]->key);
			if (!strcmp(key, "thread"))
				thread = pb_str(pb, s->label[l]->str);
			else if (!strcmp(key, "pid"))
				pid = s->label[l]->num;
		}
		CU_ASSERT_PTR_NOT_NULL_FATAL(thread);
		CU_ASSERT_EQUAL(pid, 4242);
		if (!strcmp(thread, "handle"))
			handle_ns += s->value[1];
	}
	CU_ASSERT_EQUAL(handle_ns, 6000000000);
	perftools__profiles__profile__free_unpacked(pb, NULL);
}

UNIT_MAIN("formats",
	  UNIT_TEST(test_formats__emit_numbers),
	  UNIT_TEST(test_formats__json_string_round_trip),
	  UNIT_TEST(test_formats__json_tree_and_totals),
	  UNIT_TEST(test_formats__json_hostile_name_survives),
	  UNIT_TEST(test_formats__speedscope_profiles_weights_in_seconds),
	  UNIT_TEST(test_formats__speedscope_stacks_name_frames),
	  UNIT_TEST(test_formats__speedscope_honours_hiding),
	  UNIT_TEST(test_formats__trace_nesting_and_time_order),
	  UNIT_TEST(test_formats__trace_slices_span_sample_time),
	  UNIT_TEST(test_formats__gecko_threads_samples_weights),
	  UNIT_TEST(test_formats__gecko_frames_functions_files),
	  UNIT_TEST(test_formats__gecko_honours_hiding),
	  UNIT_TEST(test_formats__gecko_marks_are_markers),
	  UNIT_TEST(test_formats__pprof_types_and_totals),
	  UNIT_TEST(test_formats__pprof_locations_functions_labels),
	  UNIT_TEST(test_formats__svg_is_well_formed_with_names),
	  UNIT_TEST(test_formats__svg_fills_by_origin),
	  UNIT_TEST(test_formats__svg_short_paths_unless_full),
	  UNIT_TEST(test_formats__html_embeds_tree_columns),
	  UNIT_TEST(test_formats__html_full_tree_when_hiding),
	  UNIT_TEST(test_formats__html_frames_say_origin_and_package),
	  UNIT_TEST(test_formats__html_short_files_full_paths),
	  UNIT_TEST(test_formats__html_lines_and_repeat),
	  UNIT_TEST(test_formats__html_timeline_lanes_add_up),
	  UNIT_TEST(test_formats__html_timeline_columns_in_order),
	  UNIT_TEST(test_formats__html_diff_rows_and_paths),
	  UNIT_TEST(test_formats__wall_json_idle_leaf),
	  UNIT_TEST(test_formats__wall_speedscope_idle_leaf),
	  UNIT_TEST(test_formats__wall_trace_idle_slice_on_the_waiting_frame),
	  UNIT_TEST(test_formats__wall_gecko_idle_entries),
	  UNIT_TEST(test_formats__wall_pprof_svg_html_idle_leaf),
	  UNIT_TEST(test_formats__wall_no_idle_totals_agree),
	  UNIT_TEST(test_formats__wall_waits_of_running_samples_counted),
	  UNIT_TEST(test_formats__family_json_root_lists_its_threads),
	  UNIT_TEST(test_formats__family_speedscope_one_profile),
	  UNIT_TEST(test_formats__family_trace_threads_keep_their_tracks),
	  UNIT_TEST(test_formats__family_pprof_labels))
