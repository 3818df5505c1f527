/*
 * test_shape.c - the stages that reshape a call tree for people
 * (collector/shape.h), on synthetic profiles: exact nodes, totals, lines,
 * and where each node of the tree as built went.
 */
#include "collector/profile.h"
#include "collector/shape.h"
#include "tests/unit/unit.h"

#define MS 1000000ull

static const char *app, *lib, *lib2;

static struct profile *new_profile(void)
{
	struct profile *p = unit_profile_new(PROFILE_MODE_CPU, "t.pyprof", MS, 0);

	app = profile_intern(p, "/home/me/app.py", -1);
	lib = profile_intern(p, "/x/lib/python3.11/site-packages/pkg/a.py", -1);
	lib2 = profile_intern(p, "/x/lib/python3.11/site-packages/other/b.py", -1);
	return p;
}

/* n samples of ms each on thread 0, with the stack of frames fs[0..k) */
static void add(struct profile *p, int n, guint64 ms, const guint32 *fs, int k)
{
	guint32 s = 0;

	for (int i = 0; i < k; i++)
		s = profile_stack_push(p, s, fs[i]);
	for (int i = 0; i < n; i++)
		profile_add_sample(p, 0, 0, ms * MS, ms * MS, 0, s);
}

/* The only child of node id (asserting there is one) */
static guint32 only_child(const struct profile_tree *t, guint32 id)
{
	guint32 n;
	const guint32 *kids = profile_tree_children(t, id, &n);

	CU_ASSERT_EQUAL_FATAL(n, 1);
	return kids[0];
}

/* MainThread's node: the heaviest of the root's (the worker has none) */
static guint32 main_thread(const struct profile_tree *t)
{
	guint32 n;
	const guint32 *kids = profile_tree_children(t, 0, &n);

	CU_ASSERT_TRUE_FATAL(n >= 1);
	return kids[0];
}

static const struct profile_frame *frame_of(const struct profile_tree *t, guint32 id)
{
	return profile_frame(t->profile, profile_tree_node(t, id)->frame);
}

/* Every node of the tree as built maps to a node of the reshaped tree */
static void check_built(const struct profile_tree *t)
{
	for (guint i = 0; i < t->built->len; i++)
		CU_ASSERT_TRUE(g_array_index(t->built, struct profile_built, i).node <
			       t->nodes->len);
}

static void test_shape__functions_merge_calling_lines(void)
{
	struct profile *p = new_profile();
	guint32 main10 = unit_frame(p, app, "main", NULL, 9, 10);
	guint32 main11 = unit_frame(p, app, "main", NULL, 9, 11);
	guint32 work = unit_frame(p, app, "work", NULL, 20, 21);
	struct profile_tree *t;
	guint32 top, w;
	const struct profile_node *nd;
	const struct profile_line *l;
	guint32 n_lines;

	add(p, 3, 1, (guint32[]){main10, work}, 2);
	add(p, 5, 1, (guint32[]){main11, work}, 2);
	add(p, 1, 1, (guint32[]){main11}, 1);
	t = profile_tree_build(p, NULL);
	shape_functions(t);
	check_built(t);
	top = only_child(t, main_thread(t));
	nd = profile_tree_node(t, top);
	CU_ASSERT_EQUAL(frame_of(t, top)->line, -1);
	CU_ASSERT_STRING_EQUAL(frame_of(t, top)->name, "main");
	CU_ASSERT_EQUAL(nd->total_ns, 9 * MS);
	CU_ASSERT_EQUAL(nd->self_ns, 1 * MS);
	/* lines heaviest first: 11 (6 ms with its callee), then 10 (3 ms) */
	l = profile_tree_lines(t, top, &n_lines);
	CU_ASSERT_EQUAL_FATAL(n_lines, 2);
	CU_ASSERT_EQUAL(l[0].frame, main11);
	CU_ASSERT_EQUAL(l[0].ns, 6 * MS);
	CU_ASSERT_EQUAL(l[1].frame, main10);
	CU_ASSERT_EQUAL(l[1].ns, 3 * MS);
	CU_ASSERT_EQUAL(shape_hot_line(t, top), main11);
	/* the two `work` nodes under main's two lines are one now */
	w = only_child(t, top);
	CU_ASSERT_EQUAL(profile_tree_node(t, w)->total_ns, 8 * MS);
	CU_ASSERT_EQUAL(shape_hot_line(t, w), work);
	profile_tree_free(t);
	profile_free(p);
}

static void test_shape__recursion_folds_into_one_node(void)
{
	struct profile *p = new_profile();
	guint32 mod = unit_frame(p, app, "<module>", NULL, 1, 2);
	guint32 fib = unit_frame(p, app, "fib", NULL, 5, 6);
	guint32 fib7 = unit_frame(p, app, "fib", NULL, 5, 7);
	guint32 leaf = unit_frame(p, app, "leaf", NULL, 9, 9);
	struct shape_options so = {.recursion = TRUE};
	struct profile_tree *t;
	guint32 f, k;

	add(p, 2, 1, (guint32[]){mod, fib, fib7, fib, leaf}, 5);
	add(p, 4, 1, (guint32[]){mod, fib, fib7}, 3);
	add(p, 1, 1, (guint32[]){mod, fib}, 2);
	/* <module> of one file nested in itself is two exec'd strings, not
	 * recursion */
	add(p, 1, 1, (guint32[]){mod, mod}, 2);
	t = profile_tree_build(p, NULL);
	shape_functions(t);
	shape_fold(p, t, &so);
	check_built(t);
	{
		guint32 n;
		const guint32 *kids = profile_tree_children(t, only_child(t, main_thread(t)), &n);
		CU_ASSERT_EQUAL_FATAL(n, 2);
		f = kids[0];
		CU_ASSERT_STRING_EQUAL(frame_of(t, kids[1])->name, "<module>");
	}
	CU_ASSERT_STRING_EQUAL(frame_of(t, f)->name, "fib");
	CU_ASSERT_EQUAL(profile_tree_repeat(t, f), 3);
	CU_ASSERT_EQUAL(profile_tree_node(t, f)->total_ns, 7 * MS);
	CU_ASSERT_EQUAL(profile_tree_node(t, f)->self_ns, 5 * MS);
	k = only_child(t, f);
	CU_ASSERT_STRING_EQUAL(frame_of(t, k)->name, "leaf");
	CU_ASSERT_EQUAL(profile_tree_node(t, k)->total_ns, 2 * MS);
	profile_tree_free(t);
	profile_free(p);
}

/* A run of library frames: its first frame stays, and so do the frame with
 * the time and the call back into the program; the rest fold into one
 * group below the first, recursion inside them not the group's */
static void test_shape__library_run_folds(void)
{
	struct profile *p = new_profile();
	guint32 main_ = unit_frame(p, app, "main", NULL, 1, 2);
	guint32 entry = unit_frame(p, lib, "entry", NULL, 10, 11);
	guint32 mid = unit_frame(p, lib, "mid", NULL, 20, 21);
	guint32 mid2 = unit_frame(p, lib2, "mid2", NULL, 25, 26);
	guint32 deep = unit_frame(p, lib2, "deep", NULL, 30, 31);
	guint32 hot = unit_frame(p, lib2, "hot", NULL, 40, 41);
	guint32 cb = unit_frame(p, app, "callback", NULL, 50, 51);
	struct shape_options so = {.recursion = TRUE, .libraries = TRUE,
				   .min_percent = 2.0};
	struct profile_tree *t;
	guint32 e, g, n;
	const guint32 *kids;

	add(p, 80, 1, (guint32[]){main_, entry, mid, mid2, hot}, 5);
	add(p, 19, 1, (guint32[]){main_, entry, cb}, 3);
	/* under 2%: folded, its time the group's */
	add(p, 1, 1, (guint32[]){main_, entry, mid, deep, deep}, 5);
	t = profile_tree_build(p, NULL);
	shape_functions(t);
	shape_fold(p, t, &so);
	check_built(t);
	e = only_child(t, only_child(t, main_thread(t)));
	CU_ASSERT_STRING_EQUAL(frame_of(t, e)->name, "entry");
	kids = profile_tree_children(t, e, &n);
	CU_ASSERT_EQUAL_FATAL(n, 2);
	g = kids[0];
	CU_ASSERT_EQUAL(frame_of(t, g)->kind, PROFILE_FRAME_GROUP);
	CU_ASSERT_STRING_EQUAL(frame_of(t, g)->name, "[pkg, other: 3 frames]");
	CU_ASSERT_EQUAL(profile_tree_repeat(t, g), 0);
	CU_ASSERT_EQUAL(profile_tree_node(t, g)->self_ns, 1 * MS);
	CU_ASSERT_EQUAL(profile_tree_node(t, g)->total_ns, 81 * MS);
	CU_ASSERT_STRING_EQUAL(frame_of(t, kids[1])->name, "callback");
	CU_ASSERT_EQUAL(profile_tree_node(t, kids[1])->total_ns, 19 * MS);
	g = only_child(t, g);
	CU_ASSERT_STRING_EQUAL(frame_of(t, g)->name, "hot");
	CU_ASSERT_EQUAL(profile_tree_node(t, g)->total_ns, 80 * MS);
	profile_tree_free(t);
	profile_free(p);
}

/* One function to fold is no fold */
static void test_shape__one_frame_to_fold_stays(void)
{
	struct profile *p = new_profile();
	guint32 main_ = unit_frame(p, app, "main", NULL, 1, 2);
	guint32 entry = unit_frame(p, lib, "entry", NULL, 10, 11);
	guint32 mid = unit_frame(p, lib, "mid", NULL, 20, 21);
	guint32 hot = unit_frame(p, lib2, "hot", NULL, 40, 41);
	struct shape_options so = {.libraries = TRUE, .min_percent = 1.0};
	struct profile_tree *t;
	guint32 e;

	add(p, 10, 1, (guint32[]){main_, entry, mid, hot}, 4);
	t = profile_tree_build(p, NULL);
	shape_functions(t);
	shape_fold(p, t, &so);
	e = only_child(t, only_child(t, main_thread(t)));
	CU_ASSERT_STRING_EQUAL(frame_of(t, only_child(t, e))->name, "mid");
	CU_ASSERT_STRING_EQUAL(frame_of(t, only_child(t, only_child(t, e)))->name, "hot");
	profile_tree_free(t);
	profile_free(p);
}

UNIT_MAIN("shape",
	  UNIT_TEST(test_shape__functions_merge_calling_lines),
	  UNIT_TEST(test_shape__recursion_folds_into_one_node),
	  UNIT_TEST(test_shape__library_run_folds),
	  UNIT_TEST(test_shape__one_frame_to_fold_stays))
