/*
 * test_profile.c - the profile model: loading, interning, call trees.
 *
 * The reader and the line table are replaced here by fakes that visit
 * exactly the records a test describes, so each test states its input as
 * data and checks one behaviour of the model (collector/profile.c,
 * load.c, tree.c).
 */
#include <string.h>

#include <glib.h>

#include "collector/profile.h"
#include "format/read.h"
#include "format/pack.h"
#include "format/linetable.h"
#include "tests/unit/unit.h"

/* ---- the fake reader ---- */

struct fake_sample {
	guint32 thread;
	guint64 cpu_ns, wall_ns;
	guint32 flags;
	guint32 depth;
	struct pf_frame frames[4];
};

struct fake_file {
	struct pf_header header;
	int open_fails;
	const struct pf_thread_info *threads;
	gsize n_threads;
	const struct pf_code_info *codes;
	gsize n_codes;
	const char *const *strings; /* id = index + 1 */
	const struct fake_sample *samples;
	gsize n_samples;
	const struct pf_mark *marks; /* visited after the samples */
	gsize n_marks;
	const char *warning;
};

struct pf_file {
	const struct fake_file *fake;
};

static const struct fake_file *fake_current;
static struct pf_file fake_handle;

int pf_pack_open(const char *path, struct pf_file **out, struct pf_error *err)
{
	if (fake_current->open_fails) {
		err->offset = 12;
		snprintf(err->msg, sizeof err->msg, "byte order 0x4030201 is not supported");
		return -1;
	}
	fake_handle.fake = fake_current;
	*out = &fake_handle;
	return 0;
}

void pf_file_close(struct pf_file *f) { (void)f; }

const struct pf_header *pf_file_header(const struct pf_file *f)
{
	return &f->fake->header;
}

const char *const *pf_file_argv(const struct pf_file *f, int *argc)
{
	static const char *const argv[] = {"python", "app.py", NULL};
	*argc = 2;
	return argv;
}

int pf_file_visit(struct pf_file *f, const struct pf_visitor *v, void *ctx)
{
	const struct fake_file *ff = f->fake;
	guint64 mono = 1000;

	for (gsize i = 0; i < ff->n_threads; i++)
		v->on_thread(ctx, &ff->threads[i]);
	for (gsize i = 0; ff->strings && ff->strings[i]; i++)
		v->on_string(ctx, (uint32_t)i + 1, ff->strings[i],
			     (uint32_t)strlen(ff->strings[i]));
	for (gsize i = 0; i < ff->n_codes; i++)
		v->on_code(ctx, &ff->codes[i]);
	for (gsize i = 0; i < ff->n_samples; i++) {
		const struct fake_sample *fs = &ff->samples[i];
		struct pf_sample s = {
			.thread = fs->thread, .mono_ns = mono += 10,
			.cpu_ns = fs->cpu_ns, .wall_ns = fs->wall_ns,
			.flags = fs->flags, .depth = fs->depth,
			.frames = fs->frames,
		};
		int rc = v->on_sample(ctx, &s);
		if (rc)
			return rc;
	}
	for (gsize i = 0; i < ff->n_marks; i++)
		v->on_mark(ctx, &ff->marks[i]);
	if (ff->warning) {
		struct pf_error w = {.offset = 70000};
		snprintf(w.msg, sizeof w.msg, "%s", ff->warning);
		v->on_warning(ctx, &w);
	}
	return 0;
}

/* Fake line table: line = firstlineno + lasti / 2, unknown past 100. */
int linetable_line(uint32_t py_hexversion, const uint8_t *table, size_t len,
		   int firstlineno, int lasti_bytes)
{
	if (lasti_bytes < 0)
		return firstlineno;
	return lasti_bytes > 100 ? -1 : firstlineno + lasti_bytes / 2;
}

int linetable_line_of(uint32_t py_hexversion, uint32_t code_flags,
		      const uint8_t *table, size_t len, int firstlineno,
		      int lasti_bytes)
{
	(void)code_flags;
	return linetable_line(py_hexversion, table, len, firstlineno,
			      lasti_bytes);
}

/* ---- a small program: main() calls work() and idle() ---- */

static const char *const strings[] = {"app.py", "<module>", "main", "work",
				      "idle", "Worker.run", "run", NULL};
/* string ids: 1 app.py, 2 <module>, 3 main, 4 work, 5 idle, 6 Worker.run, 7 run */
static const struct pf_code_info codes[] = {
	{.id = 1, .filename = 1, .name = 2, .qualname = 2, .firstlineno = 1},
	{.id = 2, .filename = 1, .name = 3, .qualname = 3, .firstlineno = 10},
	{.id = 3, .filename = 1, .name = 4, .qualname = 4, .firstlineno = 20},
	{.id = 4, .filename = 1, .name = 5, .qualname = 0, .firstlineno = 30},
	{.id = 5, .filename = 1, .name = 7, .qualname = 6, .firstlineno = 40},
};
static const struct pf_thread_info threads[] = {
	{.thread = 1, .tid = 100, .flags = PF_THREAD_MAIN},
	{.thread = 2, .tid = 101, .name = "pool-1", .name_len = 6},
	{.thread = 3, .tid = 102},
};

#define F(code, lasti) {code, lasti}
static const struct fake_sample program[] = {
	/* main thread: <module> -> main -> work, 3 ms + 5 ms; -> idle 1 ms */
	{1, 3000000, 4000000, 0, 3, {F(1, 0), F(2, 4), F(3, 6)}},
	{1, 5000000, 4000000, 0, 3, {F(1, 0), F(2, 4), F(3, 6)}},
	{1, 1000000, 4000000, 0, 3, {F(1, 0), F(2, 8), F(4, -1)}},
	/* pool-1: Worker.run, 2 ms */
	{2, 2000000, 4000000, 0, 1, {F(5, 2)}},
	/* thread 3: truncated, then unknown codes (0 and 99) */
	{3, 1000000, 4000000, PF_SAMPLE_TRUNCATED, 2, {F(2, 4), F(3, 6)}},
	{3, 1000000, 4000000, 0, 2, {F(2, 4), F(0, 0)}},
	{3, 1000000, 4000000, 0, 2, {F(2, 4), F(99, 0)}},
};

static struct fake_file make_file(enum pf_mode mode, enum pf_state state)
{
	struct fake_file ff = {0};
	ff.header.pid = 4242;
	ff.header.ppid = 1;
	ff.header.mode = mode;
	ff.header.state = state;
	ff.header.end_reason = state == PF_STATE_COMPLETE ? PF_END_EXIT : 0;
	ff.header.interval_ns = 1000000;
	ff.header.py_hexversion = 0x030c00f0;
	strcpy(ff.header.py_version, "3.12.0");
	ff.threads = threads;
	ff.n_threads = G_N_ELEMENTS(threads);
	ff.codes = codes;
	ff.n_codes = G_N_ELEMENTS(codes);
	ff.strings = strings;
	ff.samples = program;
	ff.n_samples = G_N_ELEMENTS(program);
	return ff;
}

static struct profile *load(const struct fake_file *ff)
{
	struct profile *p = profile_new();
	GError *error = NULL;

	fake_current = ff;
	CU_ASSERT_TRUE_FATAL(profile_load_file(p, "/dev/null", &error));
	CU_ASSERT_PTR_NULL(error);
	return p;
}

/* The child of node `id` whose frame has label `label`, or 0. */
static guint32 child(const struct profile_tree *t, guint32 id, const char *label)
{
	guint32 n;
	const guint32 *kids = profile_tree_children(t, id, &n);
	for (guint32 i = 0; i < n; i++) {
		const struct profile_frame *f =
			profile_frame(t->profile, profile_tree_node(t, kids[i])->frame);
		if (!strcmp(profile_frame_label(f), label))
			return kids[i];
	}
	return 0;
}

static void test_profile__cpu_weight_is_measured_cpu_time(void)
{
	struct fake_file ff = make_file(PF_MODE_CPU, PF_STATE_COMPLETE);
	struct profile *p = load(&ff);
	struct profile_tree *t = profile_tree_build(p, NULL);
	guint32 th = child(t, 0, "MainThread");
	guint32 mod = child(t, th, "<module>");
	guint32 work = child(t, child(t, mod, "main"), "work");

	CU_ASSERT_NOT_EQUAL_FATAL(work, 0);
	/* 3 ms + 5 ms, not 2 samples x the 1 ms interval */
	CU_ASSERT_EQUAL(profile_tree_node(t, work)->total_ns, 8000000);
	CU_ASSERT_EQUAL(profile_tree_node(t, work)->self_samples, 2);
	CU_ASSERT_EQUAL(profile_tree_node(t, mod)->total_ns, 9000000);
	CU_ASSERT_EQUAL(profile_tree_node(t, mod)->self_ns, 0);
	CU_ASSERT_EQUAL(profile_tree_node(t, 0)->total_ns, 9000000 + 2000000 + 3000000);
	CU_ASSERT_EQUAL(profile_tree_node(t, 0)->total_samples, 7);
	profile_tree_free(t);
	profile_free(p);
}

static void test_profile__wall_weight_is_wall_time(void)
{
	struct fake_file ff = make_file(PF_MODE_WALL, PF_STATE_COMPLETE);
	struct profile *p = load(&ff);
	struct profile_tree *t = profile_tree_build(p, NULL);

	CU_ASSERT_EQUAL(p->mode, PROFILE_MODE_WALL);
	CU_ASSERT_EQUAL(profile_tree_node(t, 0)->total_ns, 7 * 4000000);
	profile_tree_free(t);
	profile_free(p);
}

static void test_profile__children_heaviest_first(void)
{
	struct fake_file ff = make_file(PF_MODE_CPU, PF_STATE_COMPLETE);
	struct profile *p = load(&ff);
	struct profile_tree *t = profile_tree_build(p, NULL);
	guint32 n;
	const guint32 *tops = profile_tree_children(t, 0, &n);

	CU_ASSERT_EQUAL_FATAL(n, 3);
	for (guint32 i = 1; i < n; i++)
		CU_ASSERT_TRUE(profile_tree_node(t, tops[i - 1])->total_ns >=
			       profile_tree_node(t, tops[i])->total_ns);
	CU_ASSERT_STRING_EQUAL(profile_frame(p, profile_tree_node(t, tops[0])->frame)->name,
			       "MainThread");
	/* main at line 12 (work, 8 ms) before main at line 14 (idle, 1 ms) */
	{
		guint32 mod = child(t, tops[0], "<module>"), k;
		const guint32 *mains = profile_tree_children(t, mod, &k);
		CU_ASSERT_EQUAL_FATAL(k, 2);
		CU_ASSERT_EQUAL(profile_frame(p, profile_tree_node(t, mains[0])->frame)->line, 12);
		CU_ASSERT_EQUAL(profile_frame(p, profile_tree_node(t, mains[1])->frame)->line, 14);
	}
	profile_tree_free(t);
	profile_free(p);
}

static void test_profile__lines_and_definition(void)
{
	struct fake_file ff = make_file(PF_MODE_CPU, PF_STATE_COMPLETE);
	struct profile *p = load(&ff);
	struct profile_tree *t = profile_tree_build(p, NULL);
	guint32 th = child(t, 0, "MainThread");
	guint32 mod = child(t, th, "<module>");
	guint32 n;
	const guint32 *mains = profile_tree_children(t, mod, &n);
	guint32 idle = child(t, mains[1], "idle");
	const struct profile_frame *f = profile_frame(p, profile_tree_node(t, idle)->frame);

	CU_ASSERT_EQUAL(f->line, 30); /* lasti -1: not started, at the def */
	CU_ASSERT_EQUAL(f->firstlineno, 30);
	CU_ASSERT_PTR_NULL(f->qualname);
	CU_ASSERT_STRING_EQUAL(f->filename, "app.py");
	/* the line-less twin */
	CU_ASSERT_EQUAL(profile_frame(p, f->function)->line, -1);
	CU_ASSERT_STRING_EQUAL(profile_frame(p, f->function)->name, "idle");
	profile_tree_free(t);
	profile_free(p);
}

static void test_profile__qualname_preferred(void)
{
	struct fake_file ff = make_file(PF_MODE_CPU, PF_STATE_COMPLETE);
	struct profile *p = load(&ff);
	struct profile_tree *t = profile_tree_build(p, NULL);
	guint32 th = child(t, 0, "pool-1");

	CU_ASSERT_NOT_EQUAL(child(t, th, "Worker.run"), 0);
	profile_tree_free(t);
	profile_free(p);
}

static void test_profile__thread_names(void)
{
	struct fake_file ff = make_file(PF_MODE_CPU, PF_STATE_COMPLETE);
	struct profile *p = load(&ff);

	CU_ASSERT_EQUAL_FATAL(p->threads->len, 3);
	CU_ASSERT_STRING_EQUAL(profile_thread(p, 0)->name, "MainThread");
	CU_ASSERT_STRING_EQUAL(profile_thread(p, 1)->name, "pool-1");
	CU_ASSERT_STRING_EQUAL(profile_thread(p, 2)->name, "Thread 102");
	CU_ASSERT_EQUAL(profile_thread(p, 0)->samples->len, 3);
	CU_ASSERT_EQUAL(profile_thread(p, 0)->cpu_ns, 9000000);
	profile_free(p);
}

static void test_profile__truncated_frame_at_root(void)
{
	struct fake_file ff = make_file(PF_MODE_CPU, PF_STATE_COMPLETE);
	struct profile *p = load(&ff);
	struct profile_tree *t = profile_tree_build(p, NULL);
	guint32 th = child(t, 0, "Thread 102");
	guint32 tr = child(t, th, "[truncated]");

	CU_ASSERT_NOT_EQUAL_FATAL(tr, 0);
	CU_ASSERT_EQUAL(profile_frame(p, profile_tree_node(t, tr)->frame)->kind,
			PROFILE_FRAME_TRUNCATED);
	CU_ASSERT_NOT_EQUAL(child(t, child(t, tr, "main"), "work"), 0);
	profile_tree_free(t);
	profile_free(p);
}

static void test_profile__unknown_code_is_unknown_frame(void)
{
	struct fake_file ff = make_file(PF_MODE_CPU, PF_STATE_COMPLETE);
	struct profile *p = load(&ff);
	struct profile_tree *t = profile_tree_build(p, NULL);
	guint32 th = child(t, 0, "Thread 102");
	guint32 unk = child(t, child(t, th, "main"), "[unknown]");

	CU_ASSERT_NOT_EQUAL_FATAL(unk, 0);
	/* code id 0 and an id never defined are the same synthetic frame */
	CU_ASSERT_EQUAL(profile_tree_node(t, unk)->total_samples, 2);
	profile_tree_free(t);
	profile_free(p);
}

static void test_profile__cut_short_file_warns_and_keeps_samples(void)
{
	struct fake_file ff = make_file(PF_MODE_CPU, PF_STATE_WRITING);
	struct profile *p;

	ff.warning = "chunk 3 is cut short";
	p = load(&ff);
	CU_ASSERT_EQUAL(p->n_samples, G_N_ELEMENTS(program));
	CU_ASSERT_FALSE(profile_process(p, 0)->complete);
	CU_ASSERT_EQUAL_FATAL(p->warnings->len, 2);
	CU_ASSERT_STRING_EQUAL(g_ptr_array_index(p->warnings, 0),
			       "/dev/null: was cut short (the process did not finish writing it)");
	CU_ASSERT_STRING_EQUAL(g_ptr_array_index(p->warnings, 1),
			       "/dev/null: offset 70000: chunk 3 is cut short");
	profile_free(p);
}

static void test_profile__bad_file_error_names_file_and_offset(void)
{
	struct fake_file ff = make_file(PF_MODE_CPU, PF_STATE_COMPLETE);
	struct profile *p = profile_new();
	GError *error = NULL;

	ff.open_fails = 1;
	fake_current = &ff;
	CU_ASSERT_FALSE(profile_load_file(p, "/dev/null", &error));
	CU_ASSERT_PTR_NOT_NULL_FATAL(error);
	CU_ASSERT_STRING_EQUAL(error->message,
			       "/dev/null: offset 12: byte order 0x4030201 is not supported");
	CU_ASSERT_EQUAL(p->processes->len, 0);
	g_clear_error(&error);
	CU_ASSERT_FALSE(profile_load_file(p, "/nonexistent/x.pyprof", &error));
	CU_ASSERT_TRUE(g_str_has_prefix(error->message, "/nonexistent/x.pyprof: "));
	g_clear_error(&error);
	profile_free(p);
}

static void test_profile__stacks_are_interned(void)
{
	struct profile *p = profile_new();
	const char *file = profile_intern(p, "a.py", -1);
	guint32 f = profile_frame_intern(p, PROFILE_FRAME_PYTHON, file,
					 profile_intern(p, "f", -1), NULL, 1, 2, -1);
	guint32 g = profile_frame_intern(p, PROFILE_FRAME_PYTHON, file,
					 profile_intern(p, "g", 1), NULL, 5, 6, -1);
	guint32 s1 = profile_stack_push(p, profile_stack_push(p, 0, f), g);
	guint32 s2 = profile_stack_push(p, profile_stack_push(p, 0, f), g);

	CU_ASSERT_EQUAL(f, profile_frame_intern(p, PROFILE_FRAME_PYTHON, file,
						profile_intern(p, "f", -1), NULL, 1, 2, -1));
	CU_ASSERT_NOT_EQUAL(f, g);
	CU_ASSERT_EQUAL(s1, s2);
	CU_ASSERT_EQUAL(profile_stack(p, s1)->frame, g);
	CU_ASSERT_EQUAL(profile_stack(p, profile_stack(p, s1)->parent)->frame, f);
	CU_ASSERT_EQUAL(profile_stack(p, profile_stack(p, s1)->parent)->parent, 0);
	/* the index and the push shortcuts go when loading ends; stacks
	 * pushed after that are still the same ones */
	profile_loaded(p);
	CU_ASSERT_EQUAL(profile_stack_push(p, profile_stack_push(p, 0, f), g), s1);
	CU_ASSERT_EQUAL(profile_stack_push(p, s1, f), profile_stack_push(p, s1, f));
	CU_ASSERT_NOT_EQUAL(profile_stack_push(p, s1, f), s1);
	CU_ASSERT_EQUAL(profile_n_stacks(p), 4);
	profile_free(p);
}

static gboolean hide_main(const struct profile *p, guint32 frame, gpointer data)
{
	return !strcmp(profile_frame(p, frame)->name, "main");
}

static void test_profile__hidden_frames_give_time_to_caller(void)
{
	struct fake_file ff = make_file(PF_MODE_CPU, PF_STATE_COMPLETE);
	struct profile *p = load(&ff);
	struct profile_tree_options o = {.hide = hide_main};
	struct profile_tree *t = profile_tree_build(p, &o);
	guint32 mod = child(t, child(t, 0, "MainThread"), "<module>");

	CU_ASSERT_EQUAL(child(t, mod, "main"), 0);
	CU_ASSERT_EQUAL(profile_tree_node(t, child(t, mod, "work"))->total_ns, 8000000);
	CU_ASSERT_EQUAL(profile_tree_node(t, child(t, mod, "idle"))->total_ns, 1000000);
	profile_tree_free(t);
	profile_free(p);
}

static void test_profile__group_all_merges_threads(void)
{
	struct fake_file ff = make_file(PF_MODE_CPU, PF_STATE_COMPLETE);
	struct profile *p = load(&ff);
	struct profile_tree_options o = {.group = PROFILE_GROUP_ALL};
	struct profile_tree *t = profile_tree_build(p, &o);
	guint32 n;

	profile_tree_children(t, 0, &n);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_EQUAL(profile_tree_node(t, child(t, 0, "[all threads]"))->total_samples, 7);
	profile_tree_free(t);
	profile_free(p);
}

static void test_profile__two_files_are_two_processes(void)
{
	struct fake_file ff = make_file(PF_MODE_CPU, PF_STATE_COMPLETE);
	struct profile *p = load(&ff);
	GError *error = NULL;
	struct profile_tree *t;
	guint32 n;

	CU_ASSERT_TRUE(profile_load_file(p, "/dev/null", &error));
	CU_ASSERT_EQUAL(p->processes->len, 2);
	CU_ASSERT_EQUAL(p->threads->len, 6);
	CU_ASSERT_EQUAL(profile_process(p, 1)->first_thread, 3);
	t = profile_tree_build(p, NULL);
	profile_tree_children(t, 0, &n);
	CU_ASSERT_EQUAL(n, 6);
	profile_tree_free(t);
	{
		struct profile_tree_options o = {.group = PROFILE_GROUP_NAME};
		t = profile_tree_build(p, &o);
		profile_tree_children(t, 0, &n);
		CU_ASSERT_EQUAL(n, 3);
		CU_ASSERT_EQUAL(profile_tree_node(t, child(t, 0, "MainThread"))->total_ns,
				2 * 9000000);
		profile_tree_free(t);
	}
	profile_free(p);
}

/* A rotated run's files, read in order, are one process: its threads
 * carry on (by serial), the counts add up, the end is the last file's;
 * a file of another run, or out of order, is a process of its own */
static void test_profile__rotated_run_is_one_process(void)
{
	struct fake_file a = make_file(PF_MODE_CPU, PF_STATE_COMPLETE);
	struct fake_file b = a, c = a, other = a;
	struct profile *p;
	GError *error = NULL;

	a.header.end_reason = b.header.end_reason = PF_END_ROTATE;
	a.header.run_start_realtime_ns = 5000;
	a.header.sequence = 1;
	a.header.samples = a.header.signals = 7;
	b.header = a.header;
	b.header.sequence = 2;
	c.header = a.header;
	c.header.sequence = 3;
	c.header.end_reason = PF_END_EXIT;
	p = load(&a);
	fake_current = &b;
	CU_ASSERT_TRUE(profile_load_file(p, "/dev/null", &error));
	fake_current = &c;
	CU_ASSERT_TRUE(profile_load_file(p, "/dev/null", &error));
	CU_ASSERT_EQUAL(p->processes->len, 1);
	CU_ASSERT_EQUAL(p->threads->len, 3);
	CU_ASSERT_EQUAL(profile_process(p, 0)->n_files, 3);
	CU_ASSERT_EQUAL(profile_process(p, 0)->header_samples, 21);
	CU_ASSERT_EQUAL(profile_process(p, 0)->end_reason, PROFILE_END_EXIT);
	/* the main thread's three samples, three times */
	CU_ASSERT_EQUAL(profile_thread(p, 0)->samples->len, 9);
	CU_ASSERT_EQUAL(profile_thread(p, 0)->cpu_ns, 3 * 9000000);
	/* the same numbers again: a run of its own (another start), and a
	 * file that does not follow (sequence 3 after 1) */
	other.header = a.header;
	other.header.run_start_realtime_ns = 6000;
	fake_current = &other;
	CU_ASSERT_TRUE(profile_load_file(p, "/dev/null", &error));
	fake_current = &c;
	CU_ASSERT_TRUE(profile_load_file(p, "/dev/null", &error));
	CU_ASSERT_EQUAL(p->processes->len, 3);
	profile_free(p);
}

/* main thread: running in work 4 ms, then blocked in idle() 6 ms */
static const struct fake_sample waiting[] = {
	{1, 3000000, 4000000, PF_SAMPLE_GIL, 3, {F(1, 0), F(2, 4), F(3, 6)}},
	{1, 20000, 6000000, PF_SAMPLE_IDLE, 3, {F(1, 0), F(2, 8), F(4, -1)}},
};

static void test_profile__idle_samples_in_wall_mode(void)
{
	struct fake_file ff = make_file(PF_MODE_WALL, PF_STATE_COMPLETE);
	struct profile *p;
	struct profile_tree *t;
	const guint32 *mains;
	guint32 n, idle, leaf;

	ff.samples = waiting;
	ff.n_samples = G_N_ELEMENTS(waiting);
	p = load(&ff);
	CU_ASSERT_EQUAL(profile_thread(p, 0)->wall_ns, 10000000);
	/* waiting is wall less CPU, sample by sample: 1 ms of the running
	 * one (a GIL wait, say), 5.98 ms of the idle one */
	CU_ASSERT_EQUAL(profile_thread(p, 0)->idle_ns, 1000000 + 5980000);
	t = profile_tree_build(p, NULL);
	/* main at line 14 (6 ms, calling idle()) first, then at line 12 */
	mains = profile_tree_children(t, child(t, child(t, 0, "MainThread"), "<module>"), &n);
	CU_ASSERT_EQUAL_FATAL(n, 2);
	/* the function called idle() is Python code; [idle] is below it */
	idle = child(t, mains[0], "idle");
	CU_ASSERT_NOT_EQUAL_FATAL(idle, 0);
	leaf = child(t, idle, "[idle]");
	CU_ASSERT_NOT_EQUAL_FATAL(leaf, 0);
	CU_ASSERT_EQUAL(profile_frame(p, profile_tree_node(t, leaf)->frame)->kind,
			PROFILE_FRAME_IDLE);
	CU_ASSERT_EQUAL(profile_tree_node(t, leaf)->total_ns, 5980000);
	CU_ASSERT_EQUAL(profile_tree_node(t, leaf)->self_samples, 1);
	/* the 20 us it ran before it blocked */
	CU_ASSERT_EQUAL(profile_tree_node(t, idle)->self_ns, 20000);
	/* the running sample: 3 ms running in work, 1 ms waiting there */
	CU_ASSERT_EQUAL(profile_tree_node(t, child(t, mains[1], "work"))->self_ns, 3000000);
	leaf = child(t, child(t, mains[1], "work"), "[idle]");
	CU_ASSERT_NOT_EQUAL_FATAL(leaf, 0);
	CU_ASSERT_EQUAL(profile_tree_node(t, leaf)->total_ns, 1000000);
	CU_ASSERT_EQUAL(profile_tree_node(t, leaf)->self_samples, 0);
	profile_tree_free(t);

	/* a window around the idle sample alone: the sums follow */
	{
		struct profile_mark m[] = {{0, 1015, PROFILE_MARK_START, profile_intern(p, "w", -1), 0},
					   {0, 1025, PROFILE_MARK_STOP, profile_intern(p, "w", -1), 0}};
		g_array_append_vals(p->marks, m, 2);
		CU_ASSERT_EQUAL(profile_keep_window(p, "w"), 1);
		/* the sample (at 1020) stood for 6 ms; the window began
		 * 5 ns before it: only those are the window's */
		CU_ASSERT_EQUAL(profile_thread(p, 0)->wall_ns, 5);
		CU_ASSERT_EQUAL(profile_thread(p, 0)->cpu_ns, 0);
		CU_ASSERT_EQUAL(profile_thread(p, 0)->idle_ns, 5);
	}
	profile_free(p);
}

/* A mark names the thread that made it by its serial; the model gives
 * that thread's index, -1 for a serial no thread record had. */
static void test_profile__marks_name_their_thread(void)
{
	static const struct pf_mark marks[] = {
		{.thread = 2, .mono_ns = 1005, .kind = PF_MARK_START, .label = "phase", .label_len = 5},
		{.thread = 1, .mono_ns = 1030, .kind = PF_MARK_POINT, .label = "tick", .label_len = 4},
		{.thread = 9, .mono_ns = 1040, .kind = PF_MARK_STOP, .label = "phase", .label_len = 5},
	};
	struct fake_file ff = make_file(PF_MODE_CPU, PF_STATE_COMPLETE);
	struct profile *p;
	const struct profile_mark *m;

	ff.marks = marks;
	ff.n_marks = G_N_ELEMENTS(marks);
	p = load(&ff);
	CU_ASSERT_EQUAL_FATAL(p->marks->len, 3);
	m = &g_array_index(p->marks, struct profile_mark, 0);
	CU_ASSERT_EQUAL(m->thread, 1);
	CU_ASSERT_EQUAL(profile_thread(p, (guint)m->thread)->tid, 101);
	CU_ASSERT_EQUAL(m->kind, PROFILE_MARK_START);
	CU_ASSERT_STRING_EQUAL(m->label, "phase");
	m = &g_array_index(p->marks, struct profile_mark, 1);
	CU_ASSERT_EQUAL(m->thread, 0);
	CU_ASSERT_EQUAL(m->mono_ns, 1030);
	m = &g_array_index(p->marks, struct profile_mark, 2);
	CU_ASSERT_EQUAL(m->thread, -1);
	profile_free(p);
}

static void test_profile__idle_flag_means_nothing_in_cpu_mode(void)
{
	struct fake_file ff = make_file(PF_MODE_CPU, PF_STATE_COMPLETE);
	struct profile *p;
	struct profile_tree *t;
	guint32 mod;

	ff.samples = waiting;
	ff.n_samples = G_N_ELEMENTS(waiting);
	p = load(&ff);
	CU_ASSERT_EQUAL(profile_thread(p, 0)->idle_ns, 0);
	t = profile_tree_build(p, NULL);
	mod = child(t, child(t, 0, "MainThread"), "<module>");
	for (guint32 i = 1; i < t->nodes->len; i++)
		CU_ASSERT_NOT_EQUAL(profile_tree_node(t, i)->frame, profile_frame_idle(p));
	CU_ASSERT_EQUAL(profile_tree_node(t, mod)->total_ns, 3000000 + 20000);
	profile_tree_free(t);
	profile_free(p);
}

/* ---- samples summed instead of kept in order ---- */

static struct profile *load_summed(const struct fake_file *ff, gboolean timelines)
{
	struct profile *p = profile_new();
	GError *error = NULL;

	profile_set_timelines(p, timelines);
	fake_current = ff;
	CU_ASSERT_TRUE_FATAL(profile_load_file(p, "/dev/null", &error));
	return p;
}

/* Whether two trees are the same node for node: ids, links and weights */
static gboolean trees_equal(const struct profile_tree *a, const struct profile_tree *b)
{
	if (a->nodes->len != b->nodes->len || a->children->len != b->children->len)
		return FALSE;
	for (guint32 i = 0; i < a->nodes->len; i++) {
		const struct profile_node *x = profile_tree_node(a, i);
		const struct profile_node *y = profile_tree_node(b, i);
		if (x->frame != y->frame || x->parent != y->parent ||
		    x->thread != y->thread ||
		    x->self_ns != y->self_ns || x->total_ns != y->total_ns ||
		    x->self_samples != y->self_samples ||
		    x->total_samples != y->total_samples ||
		    x->first_child != y->first_child)
			return FALSE;
	}
	return !memcmp(a->children->data, b->children->data,
		       a->children->len * sizeof(guint32));
}

/* Wall mode, the cases a sum could get wrong: a stack first seen without
 * waiting, a new stack, then the first stack again with a wait (its
 * [idle] node is made after the new stack's); idle samples that ran a
 * little and that did not run at all (--no-idle drops only the latter);
 * flags that differ on one stack. */
static const struct fake_sample summed[] = {
	{1, 4000000, 4000000, 0, 3, {F(1, 0), F(2, 4), F(3, 6)}},
	{1, 0, 6000000, PF_SAMPLE_IDLE | (3u << PF_SAMPLE_WAIT_SHIFT), 3,
	 {F(1, 0), F(2, 8), F(4, -1)}},
	{1, 3000000, 4000000, 0, 3, {F(1, 0), F(2, 4), F(3, 6)}},
	{1, 3000000, 4000000, PF_SAMPLE_GIL, 3, {F(1, 0), F(2, 4), F(3, 6)}},
	{1, 20000, 6000000, PF_SAMPLE_IDLE, 3, {F(1, 0), F(2, 8), F(4, -1)}},
	{1, 4000000, 4000000, 0, 3, {F(1, 0), F(2, 4), F(3, 6)}},
	{2, 0, 9000000, PF_SAMPLE_IDLE, 1, {F(5, 2)}},
	{2, 0, 9000000, PF_SAMPLE_IDLE, 2, {F(5, 2), F(3, 0)}},
	{2, 1000000, 1000000, 0, 1, {F(5, 4)}},
	{3, 1000000, 4000000, PF_SAMPLE_TRUNCATED, 2, {F(2, 4), F(3, 6)}},
	{3, 1000000, 1000000, 0, 2, {F(2, 4), F(3, 6)}},
};

static gboolean hide_work(const struct profile *p, guint32 frame, gpointer data)
{
	(void)data;
	return !strcmp(profile_frame(p, frame)->name, "work");
}

static void test_profile__summed_samples_give_the_timeline_tree(void)
{
	const struct profile_tree_options cases[] = {
		{.group = PROFILE_GROUP_THREAD},
		{.group = PROFILE_GROUP_THREAD, .no_idle = TRUE},
		{.group = PROFILE_GROUP_ALL},
		{.group = PROFILE_GROUP_NAME, .no_idle = TRUE},
		{.group = PROFILE_GROUP_PROCESS, .hide = hide_work},
	};

	for (int mode = PF_MODE_CPU; mode <= PF_MODE_WALL; mode++) {
		struct fake_file ff = make_file((enum pf_mode)mode, PF_STATE_COMPLETE);
		struct profile *kept, *sum;

		ff.samples = summed;
		ff.n_samples = G_N_ELEMENTS(summed);
		kept = load_summed(&ff, TRUE);
		sum = load_summed(&ff, FALSE);
		CU_ASSERT_EQUAL(profile_thread(sum, 0)->samples->len, 0);
		CU_ASSERT_EQUAL(profile_thread(kept, 0)->samples->len, 6);
		CU_ASSERT_EQUAL(sum->n_samples, kept->n_samples);
		for (guint i = 0; i < kept->threads->len; i++) {
			const struct profile_thread *x = profile_thread(kept, i);
			const struct profile_thread *y = profile_thread(sum, i);
			CU_ASSERT_EQUAL(x->n_samples, y->n_samples);
			CU_ASSERT_EQUAL(x->first_mono_ns, y->first_mono_ns);
			CU_ASSERT_EQUAL(x->last_mono_ns, y->last_mono_ns);
			CU_ASSERT_EQUAL(x->cpu_ns, y->cpu_ns);
			CU_ASSERT_EQUAL(x->wall_ns, y->wall_ns);
			CU_ASSERT_EQUAL(x->idle_ns, y->idle_ns);
		}
		if (mode == PF_MODE_WALL) {
			/* as sample by sample: the wait below work() is seen
			 * after idle() was, so its node comes later; with
			 * --no-idle, pool-1's sample that never ran is no
			 * node at all */
			struct profile_tree_options no_idle = {.no_idle = TRUE};
			struct profile_tree *t = profile_tree_build(sum, NULL);
			guint32 work = 0, idle = 0;

			for (guint32 i = t->nodes->len; i-- > 1;) {
				const char *name = profile_frame(sum, profile_tree_node(t, i)->frame)->name;
				if (!strcmp(name, "work") && profile_tree_node(t, i)->thread == 0)
					work = i;
				if (!strcmp(name, "idle"))
					idle = i;
			}
			CU_ASSERT_TRUE(work && idle && child(t, work, "[idle]") > idle);
			profile_tree_free(t);
			t = profile_tree_build(sum, &no_idle);
			CU_ASSERT_EQUAL(child(t, child(t, child(t, 0, "pool-1"), "Worker.run"),
					      "work"), 0);
			profile_tree_free(t);
		}
		for (guint c = 0; c < G_N_ELEMENTS(cases); c++) {
			struct profile_tree *a = profile_tree_build(kept, &cases[c]);
			struct profile_tree *b = profile_tree_build(sum, &cases[c]);
			CU_ASSERT_TRUE(trees_equal(a, b));
			CU_ASSERT_EQUAL(profile_tree_node(a, 0)->total_ns,
					profile_tree_node(b, 0)->total_ns);
			profile_tree_free(a);
			profile_tree_free(b);
		}
		profile_free(kept);
		profile_free(sum);
	}
}

/* A day of samples over a few call paths costs a few aggregates */
static void test_profile__summed_samples_grow_with_distinct_stacks(void)
{
	enum { N = 3000 };
	struct fake_sample *many = g_new0(struct fake_sample, N);
	struct fake_file ff = make_file(PF_MODE_CPU, PF_STATE_COMPLETE);
	struct profile *p;
	guint64 count = 0;

	/* 3 stacks x 2 flag values, in a pattern that never repeats a
	 * sample's predecessor */
	for (guint i = 0; i < N; i++) {
		many[i] = (struct fake_sample){1, 1000, 1000,
					       (i / 3) % 2 ? PF_SAMPLE_GIL : 0, 2,
					       {F(1, 0), F(2 + i % 3, 0)}};
	}
	ff.samples = many;
	ff.n_samples = N;
	p = load_summed(&ff, FALSE);
	CU_ASSERT_EQUAL(profile_thread(p, 0)->n_samples, N);
	CU_ASSERT_EQUAL(profile_thread(p, 0)->samples->len, 0);
	CU_ASSERT_EQUAL(profile_thread(p, 0)->aggregates->len, 6);
	for (guint i = 0; i < profile_thread(p, 0)->aggregates->len; i++)
		count += g_array_index(profile_thread(p, 0)->aggregates,
				       struct profile_aggregate, i).count;
	CU_ASSERT_EQUAL(count, N);
	CU_ASSERT_EQUAL(profile_thread(p, 0)->cpu_ns, 1000ull * N);
	profile_free(p);
	p = load_summed(&ff, TRUE);
	CU_ASSERT_EQUAL(profile_thread(p, 0)->samples->len, N);
	CU_ASSERT_EQUAL(profile_thread(p, 0)->aggregates->len, 0);
	profile_free(p);
	g_free(many);
}

/* Where code lives, from its file, the starting directory and the
 * standard library's directory; NULL: unknown */
static void test_profile__origin_of_files(void)
{
	static const struct {
		const char *file, *cwd, *stdlib;
		enum profile_origin origin;
		const char *package, *short_file;
	} cases[] = {
		{"/home/me/proj/app.py", "/home/me/proj", "/usr/lib/python3.11/",
		 PROFILE_ORIGIN_PROGRAM, NULL, "app.py"},
		{"/home/me/proj/pkg/mod.py", "/home/me/proj", NULL,
		 PROFILE_ORIGIN_PROGRAM, NULL, "pkg/mod.py"},
		/* a sibling directory whose name starts the same is not below */
		{"/home/me/project2/x.py", "/home/me/proj", NULL,
		 PROFILE_ORIGIN_PROGRAM, NULL, NULL},
		{"app.py", "/home/me/proj", NULL, PROFILE_ORIGIN_PROGRAM, NULL, NULL},
		{"<string>", "/", NULL, PROFILE_ORIGIN_PROGRAM, NULL, NULL},
		{"<ipython-input-3-abc>", NULL, NULL, PROFILE_ORIGIN_PROGRAM, NULL, NULL},
		{"<frozen importlib._bootstrap>", NULL, NULL, PROFILE_ORIGIN_STDLIB,
		 "importlib", NULL},
		{"/usr/lib/python3.11/json/decoder.py", "/", "/usr/lib/python3.11/",
		 PROFILE_ORIGIN_STDLIB, "json", "<stdlib>/json/decoder.py"},
		{"/usr/lib/python3.11/threading.py", "/", "/usr/lib/python3.11/",
		 PROFILE_ORIGIN_STDLIB, "threading", "<stdlib>/threading.py"},
		/* another interpreter's library, when this one's is known */
		{"/opt/lib/python3.12/json/decoder.py", "/", "/usr/lib/python3.11/",
		 PROFILE_ORIGIN_PROGRAM, NULL, NULL},
		/* unknown: any .../lib/python3.N/ */
		{"/opt/lib/python3.12/json/decoder.py", NULL, NULL,
		 PROFILE_ORIGIN_STDLIB, "json", "<stdlib>/json/decoder.py"},
		{"/opt/lib/python3.x/json.py", NULL, NULL, PROFILE_ORIGIN_PROGRAM, NULL, NULL},
		{"/usr/lib/python3.11/site-packages/botocore/session.py", "/",
		 "/usr/lib/python3.11/", PROFILE_ORIGIN_LIBRARY, "botocore",
		 "botocore/session.py"},
		{"/usr/lib/python3/dist-packages/six.py", "/", "/usr/lib/python3.11/",
		 PROFILE_ORIGIN_LIBRARY, "six", "six.py"},
		/* a venv inside the program's directory holds libraries */
		{"/home/me/proj/.venv/lib/python3.11/site-packages/flask/app.py",
		 "/home/me/proj", "/usr/lib/python3.11/", PROFILE_ORIGIN_LIBRARY,
		 "flask", "flask/app.py"},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *package, *short_file;
		enum profile_origin o = profile_classify_file(
			cases[i].file, cases[i].cwd, cases[i].stdlib, &package,
			&short_file);
		if (o != cases[i].origin ||
		    g_strcmp0(package, cases[i].package) ||
		    g_strcmp0(short_file, cases[i].short_file))
			fprintf(stderr, "\n  %s: %s %s %s\n", cases[i].file,
				profile_origin_name(o), package, short_file);
		CU_ASSERT_EQUAL(o, cases[i].origin);
		CU_ASSERT_STRING_EQUAL(package ? package : "-",
				       cases[i].package ? cases[i].package : "-");
		CU_ASSERT_STRING_EQUAL(short_file ? short_file : "-",
				       cases[i].short_file ? cases[i].short_file : "-");
		g_free(package);
		g_free(short_file);
	}
	{
		char *d = profile_stdlib_dir("/root/.pyenv/versions/3.11.7/bin/python3.11",
					     0x030b07f0);
		CU_ASSERT_STRING_EQUAL(d, "/root/.pyenv/versions/3.11.7/lib/python3.11/");
		g_free(d);
		d = profile_stdlib_dir("/usr/bin/python3.15", 0x030f02f0);
		CU_ASSERT_STRING_EQUAL(d, "/usr/lib/python3.15/");
		g_free(d);
		CU_ASSERT_PTR_NULL(profile_stdlib_dir(NULL, 0x030b07f0));
	}
}

/* --since/--until: samples placed on the wall clock by their process's
 * start; two processes whose monotonic clocks differ agree on the wall */
static void test_profile__keep_between_wall_clock(void)
{
	struct profile *p = profile_new();
	struct profile_process a = {0}, b = {0};
	char *argv[] = {NULL};
	guint ta, tb;

	a.path = "a";
	a.argv = b.argv = argv;
	a.mode = b.mode = PROFILE_MODE_CPU;
	a.start_realtime_ns = 1000000000000ull; /* wall 1000 s at mono 5 s */
	a.start_mono_ns = 5000000000ull;
	profile_add_process(p, &a);
	ta = profile_add_thread(p, 0, 1, 10, PROFILE_THREAD_MAIN, 0, NULL, 0);
	/* at wall 1001 s, 1002 s, 1003 s; each stood for 1 s */
	for (int i = 1; i <= 3; i++)
		profile_add_sample(p, ta, 5000000000ull + i * 1000000000ull,
				   1000000000, 1000000000, 0, 0);
	b.path = "b";
	b.start_realtime_ns = 1000000000000ull; /* wall 1000 s at mono 50 s */
	b.start_mono_ns = 50000000000ull;
	profile_add_process(p, &b);
	tb = profile_add_thread(p, 1, 1, 20, PROFILE_THREAD_MAIN, 0, NULL, 0);
	profile_add_sample(p, tb, 52000000000ull, 1000000000, 1000000000, 0, 0);
	/* from 1001.5 s to 1002.5 s: a's second sample, half of it, and b's */
	CU_ASSERT_EQUAL(profile_keep_between(p, 1001500000000ull, 1002500000000ull), 2);
	CU_ASSERT_EQUAL(profile_thread(p, ta)->samples->len, 1);
	CU_ASSERT_EQUAL(profile_thread(p, ta)->cpu_ns, 500000000);
	CU_ASSERT_EQUAL(profile_thread(p, tb)->samples->len, 1);
	/* nothing after 1010 s */
	CU_ASSERT_EQUAL(profile_keep_between(p, 1010000000000ull, G_MAXUINT64), 0);
	profile_free(p);
}

UNIT_MAIN("profile",
	  UNIT_TEST(test_profile__keep_between_wall_clock),
	  UNIT_TEST(test_profile__origin_of_files),
	  UNIT_TEST(test_profile__cpu_weight_is_measured_cpu_time),
	  UNIT_TEST(test_profile__wall_weight_is_wall_time),
	  UNIT_TEST(test_profile__children_heaviest_first),
	  UNIT_TEST(test_profile__lines_and_definition),
	  UNIT_TEST(test_profile__qualname_preferred),
	  UNIT_TEST(test_profile__thread_names),
	  UNIT_TEST(test_profile__truncated_frame_at_root),
	  UNIT_TEST(test_profile__unknown_code_is_unknown_frame),
	  UNIT_TEST(test_profile__cut_short_file_warns_and_keeps_samples),
	  UNIT_TEST(test_profile__bad_file_error_names_file_and_offset),
	  UNIT_TEST(test_profile__stacks_are_interned),
	  UNIT_TEST(test_profile__hidden_frames_give_time_to_caller),
	  UNIT_TEST(test_profile__group_all_merges_threads),
	  UNIT_TEST(test_profile__two_files_are_two_processes),
	  UNIT_TEST(test_profile__rotated_run_is_one_process),
	  UNIT_TEST(test_profile__idle_samples_in_wall_mode),
	  UNIT_TEST(test_profile__marks_name_their_thread),
	  UNIT_TEST(test_profile__idle_flag_means_nothing_in_cpu_mode),
	  UNIT_TEST(test_profile__summed_samples_give_the_timeline_tree),
	  UNIT_TEST(test_profile__summed_samples_grow_with_distinct_stacks))
