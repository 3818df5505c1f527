/*
 * test_family.c - families of threads (collector/family.c): which names
 * are one family, how a family is labelled, and the call tree grouped by
 * family (PROFILE_GROUP_FAMILY) of a profile built by hand.
 */
#include <string.h>

#include <glib.h>

#include "collector/profile.h"
#include "tests/unit/unit.h"

/* ---- keys ---- */

static gboolean same_family(const char *a, const char *b)
{
	char *ka = profile_family_key(a), *kb = profile_family_key(b);
	gboolean same = !strcmp(ka, kb);

	g_free(ka);
	g_free(kb);
	return same;
}

static void test_family__names_that_differ_by_numbers_are_one(void)
{
	static const char *const same[][2] = {
		{"Thread-12 (process_request_thread)", "Thread-13 (process_request_thread)"},
		{"Thread-1", "Thread-1234"},
		{"ThreadPoolExecutor-0_0", "ThreadPoolExecutor-0_7"},
		/* an executor per request is still one family */
		{"ThreadPoolExecutor-0_0", "ThreadPoolExecutor-15_0"},
		{"asyncio_0", "asyncio_11"},
		{"Dummy-1", "Dummy-2"},
		{"Thread 4242", "Thread 4243"},
		{"w1", "w007"},
		{"worker", "worker"},
		{"7", "8"},
	};
	static const char *const apart[][2] = {
		/* the target of Python's default name keeps its digits */
		{"Thread-1 (worker2)", "Thread-2 (worker3)"},
		{"Thread-1 (handle)", "Thread-1 (serve)"},
		{"Thread-1 (handle)", "Thread-1"},
		{"worker", "worker-1"},
		{"w1", "w1a"},
		{"w1", "v1"},
		/* a run of digits is one run, whatever its length */
		{"w1x2", "w12"},
		{"Thread 4242", "Thread-4242"},
		/* what a key spells is not a name's */
		{"Thread-1 (N)", "Thread-1 (1)"},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(same); i++)
		if (!same_family(same[i][0], same[i][1])) {
			CU_FAIL("not one family");
			fprintf(stderr, "\n%s / %s: not one family\n", same[i][0], same[i][1]);
		}
	for (gsize i = 0; i < G_N_ELEMENTS(apart); i++)
		if (same_family(apart[i][0], apart[i][1])) {
			CU_FAIL("one family");
			fprintf(stderr, "\n%s / %s: one family\n", apart[i][0], apart[i][1]);
		}
}

/* ---- labels ---- */

static void test_family__labels(void)
{
	static const struct {
		const char *names[4];
		const char *label;
	} cases[] = {
		{{"Thread-12 (process_request_thread)", "Thread-13 (process_request_thread)"},
		 "process_request_thread"},
		{{"Thread-1 (<lambda>)", "Thread-9 (<lambda>)"}, "<lambda>"},
		{{"Thread-1 (worker2)", "Thread-5 (worker2)"}, "worker2"},
		{{"Thread-1 (f(x))", "Thread-2 (f(x))"}, "f(x)"},
		/* before 3.10, and Thread subclasses: no target */
		{{"Thread-1", "Thread-2", "Thread-30"}, "Thread-N"},
		{{"ThreadPoolExecutor-0_0", "ThreadPoolExecutor-0_1"}, "ThreadPoolExecutor-0_N"},
		{{"ThreadPoolExecutor-0_0", "ThreadPoolExecutor-1_0"}, "ThreadPoolExecutor-N_0"},
		{{"ThreadPoolExecutor-0_0", "ThreadPoolExecutor-1_1"}, "ThreadPoolExecutor-N_N"},
		{{"asyncio_0", "asyncio_1"}, "asyncio_N"},
		{{"Dummy-1", "Dummy-2"}, "Dummy-N"},
		/* threads without a Python name: the model's "Thread <tid>" */
		{{"Thread 4242", "Thread 4250"}, "Thread N"},
		/* runs are compared as text: 01 is not 1 */
		{{"w1", "w01"}, "wN"},
		{{"w7", "w7"}, "w7"},
		{{"worker", "worker"}, "worker"},
		{{"12", "13"}, "N"},
		{{"Thread-1 ()", "Thread-2 ()"}, "Thread-N ()"},
		{{"Thread-1 (", "Thread-2 ("}, "Thread-N ("},
		{{"Thread-", "Thread-"}, "Thread-"},
		{{"T", "T"}, "T"},
		{{"Thread-1 (handle)"}, "handle"},
		{{"pool-3-worker-1", "pool-3-worker-2", "pool-3-worker-10"}, "pool-3-worker-N"},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		guint n = 0;
		char *got;

		while (n < G_N_ELEMENTS(cases[i].names) && cases[i].names[n])
			n++;
		got = profile_family_label(cases[i].names, n);
		CU_ASSERT_STRING_EQUAL(got, cases[i].label);
		if (strcmp(got, cases[i].label))
			fprintf(stderr, "\n%s...: got '%s', expected '%s'\n",
				cases[i].names[0], got, cases[i].label);
		g_free(got);
	}
}

/* ---- the tree ---- */

/*
 * Process 4242:
 *   0  MainThread (main)         2 samples of 1 ms in main
 *   1  Thread-1 (handle)         1 sample of 2 ms in handle
 *   2  Thread-2 (handle)         2 samples of 3 ms in handle
 *   3  Thread-3 (handle)         1 sample of 4 ms in handle -> parse
 *   4  Thread-4 (handle)         no samples
 *   5  Thread-5 (other)          1 sample of 5 ms in handle: alone
 *   6  MainThread (not main)     1 sample of 6 ms in main
 *   7  MainThread (not main)     1 sample of 7 ms in main
 * Process 4343:
 *   8  Thread-6 (handle)         1 sample of 8 ms in handle: alone in its
 *                                process
 */
static struct profile *family_profile(void)
{
	struct profile *p = profile_new();
	struct profile_process info = {.path = "f.pyprof", .pid = 4242,
				       .mode = PROFILE_MODE_CPU, .complete = TRUE};
	const char *file = profile_intern(p, "app.py", -1);
	guint32 s_main, s_handle, s_parse;
	static const char *const names[] = {
		NULL, "Thread-1 (handle)", "Thread-2 (handle)", "Thread-3 (handle)",
		"Thread-4 (handle)", "Thread-5 (other)", "MainThread", "MainThread",
	};

	profile_add_process(p, &info);
	for (guint i = 0; i < G_N_ELEMENTS(names); i++)
		profile_add_thread(p, 0, i + 1, 100 + i, i ? 0 : PROFILE_THREAD_MAIN, 0,
				   names[i], names[i] ? strlen(names[i]) : 0);
	s_main = profile_stack_push(p, 0, unit_frame(p, file, "main", NULL, 1, 2));
	s_handle = profile_stack_push(p, 0, unit_frame(p, file, "handle", NULL, 10, 11));
	s_parse = profile_stack_push(p, s_handle, unit_frame(p, file, "parse", NULL, 20, 21));
	profile_add_sample(p, 0, 1, 1000000, 0, 0, s_main);
	profile_add_sample(p, 0, 2, 1000000, 0, 0, s_main);
	profile_add_sample(p, 1, 3, 2000000, 0, 0, s_handle);
	profile_add_sample(p, 2, 4, 3000000, 0, 0, s_handle);
	profile_add_sample(p, 2, 5, 3000000, 0, 0, s_handle);
	profile_add_sample(p, 3, 6, 4000000, 0, 0, s_parse);
	profile_add_sample(p, 5, 7, 5000000, 0, 0, s_handle);
	profile_add_sample(p, 6, 8, 6000000, 0, 0, s_main);
	profile_add_sample(p, 7, 9, 7000000, 0, 0, s_main);
	profile_family_group(p, 0);

	info.pid = 4343;
	info.path = "g.pyprof";
	profile_add_process(p, &info);
	profile_add_thread(p, 1, 1, 200, 0, 0, "Thread-6 (handle)", 17);
	profile_add_sample(p, 8, 10, 8000000, 0, 0, s_handle);
	profile_family_group(p, 1);
	return p;
}

/* The root whose frame is labelled name and whose node's thread is
 * `thread` (-1: a group); 0 if none. */
static guint32 root_of(const struct profile_tree *t, const char *name, int thread)
{
	guint32 n;
	const guint32 *roots = profile_tree_children(t, 0, &n);

	for (guint32 i = 0; i < n; i++) {
		const struct profile_node *nd = profile_tree_node(t, roots[i]);
		if (!strcmp(profile_frame(t->profile, nd->frame)->name, name) &&
		    nd->thread == thread)
			return roots[i];
	}
	return 0;
}

static void test_family__tree_has_one_root_per_family(void)
{
	struct profile *p = family_profile();
	struct profile_tree_options o = {.group = PROFILE_GROUP_FAMILY};
	struct profile_tree *t = profile_tree_build(p, &o);
	guint32 n, handle, mains, main0;
	const struct profile_frame *f;

	/* sample-less threads still get their own (empty) roots, as with
	 * PROFILE_GROUP_THREAD: 0, handle, 4, 5, the two MainThreads, 8 */
	profile_tree_children(t, 0, &n);
	CU_ASSERT_EQUAL(n, 6);
	handle = root_of(t, "handle", -1);
	CU_ASSERT_NOT_EQUAL_FATAL(handle, 0);
	CU_ASSERT_EQUAL(profile_tree_node(t, handle)->total_ns, 12000000);
	CU_ASSERT_EQUAL(profile_tree_node(t, handle)->total_samples, 4);
	f = profile_frame(p, profile_tree_node(t, handle)->frame);
	CU_ASSERT_EQUAL(profile_frame_family(f), 0);
	/* one tree for the three: parse under the one handle */
	profile_tree_children(t, handle, &n);
	CU_ASSERT_EQUAL(n, 1);
	/* the main thread apart, by itself, and the two other threads of
	 * that name a family of their own */
	main0 = root_of(t, "MainThread", 0);
	CU_ASSERT_NOT_EQUAL(main0, 0);
	CU_ASSERT_EQUAL(profile_tree_node(t, main0)->total_ns, 2000000);
	mains = root_of(t, "MainThread", -1);
	CU_ASSERT_NOT_EQUAL(mains, 0);
	CU_ASSERT_EQUAL(profile_tree_node(t, mains)->total_ns, 13000000);
	/* alone in its family: itself, with its own name */
	CU_ASSERT_EQUAL(profile_tree_node(t, root_of(t, "Thread-5 (other)", 5))->total_ns,
			5000000);
	/* families are per process */
	CU_ASSERT_EQUAL(profile_tree_node(t, root_of(t, "Thread-6 (handle)", 8))->total_ns,
			8000000);
	CU_ASSERT_EQUAL(profile_thread(p, 4)->family_frame, profile_thread(p, 4)->frame);
	CU_ASSERT_EQUAL(profile_tree_node(t, 0)->total_ns, 40000000);
	profile_tree_free(t);
	profile_free(p);
}

static void test_family__thread_grouping_still_one_root_per_thread(void)
{
	struct profile *p = family_profile();
	struct profile_tree_options o = {.group = PROFILE_GROUP_THREAD};
	struct profile_tree *t = profile_tree_build(p, &o);
	guint32 n;

	profile_tree_children(t, 0, &n);
	CU_ASSERT_EQUAL(n, 9);
	CU_ASSERT_EQUAL(root_of(t, "handle", -1), 0);
	CU_ASSERT_EQUAL(profile_tree_node(t, root_of(t, "Thread-2 (handle)", 2))->total_ns,
			6000000);
	profile_tree_free(t);
	profile_free(p);
}

/* A family whose other threads lost their samples (--window, top's
 * span) is one thread again, shown as itself. */
static void test_family__thread_left_alone_is_itself(void)
{
	struct profile *p = family_profile();
	struct profile_tree_options o = {.group = PROFILE_GROUP_FAMILY};
	struct profile_tree *t;

	/* the last 4 ns of each process: samples 6..9 (threads 3, 5, 6, 7)
	 * and process 4343's */
	profile_keep_recent(p, 3);
	CU_ASSERT_EQUAL(profile_thread(p, 3)->family_frame, profile_thread(p, 3)->frame);
	t = profile_tree_build(p, &o);
	CU_ASSERT_EQUAL(root_of(t, "handle", -1), 0);
	CU_ASSERT_EQUAL(profile_tree_node(t, root_of(t, "Thread-3 (handle)", 3))->total_ns,
			4000000);
	CU_ASSERT_EQUAL(profile_tree_node(t, root_of(t, "MainThread", -1))->total_ns,
			13000000);
	profile_tree_free(t);
	profile_free(p);
}

UNIT_MAIN("family",
	  UNIT_TEST(test_family__names_that_differ_by_numbers_are_one),
	  UNIT_TEST(test_family__labels),
	  UNIT_TEST(test_family__tree_has_one_root_per_family),
	  UNIT_TEST(test_family__thread_grouping_still_one_root_per_thread),
	  UNIT_TEST(test_family__thread_left_alone_is_itself))
