/*
 * test_diff.c - two synthetic profiles compared (collector/diff.c): the
 * work of a program moved from parse to render, through a shared spin.
 *
 *   BASE  MainThread  main -> parse -> spin   3 s
 *                     main -> render -> spin  1 s
 *   NEW   MainThread  main -> parse -> spin   1 s
 *                     main -> render -> spin  3 s
 *                     main -> only_new        1 s
 * Shares of the totals (4 s and 5 s): parse 75% -> 20%, render 25% ->
 * 60%, spin's own time 100% -> 80%, only_new 0 -> 20%.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "collector/diff.h"
#include "collector/profile.h"
#include "collector/shape.h"
#include "tests/unit/unit.h"

#define FILE_ "/srv/app/work.py"

static struct profile *make_side(guint64 parse_s, guint64 render_s,
				 gboolean extra)
{
	struct profile *p = unit_profile_new(PROFILE_MODE_CPU, "d.pyprof", 1000000, 0);
	const char *file = profile_intern(p, FILE_, -1);
	guint32 s_main = profile_stack_push(p, 0, unit_frame(p, file, "main", NULL, 1, 2));
	guint32 spin = unit_frame(p, file, "spin", NULL, 5, 6);
	guint32 s_parse = profile_stack_push(p, profile_stack_push(p, s_main,
				unit_frame(p, file, "parse", NULL, 8, 9)), spin);
	guint32 s_render = profile_stack_push(p, profile_stack_push(p, s_main,
				unit_frame(p, file, "render", NULL, 10, 11)), spin);
	guint64 s = 1000000000u;

	profile_add_sample(p, 0, 1 * s, parse_s * s, 0, 0, s_parse);
	profile_add_sample(p, 0, 2 * s, render_s * s, 0, 0, s_render);
	if (extra)
		profile_add_sample(p, 0, 3 * s, s, 0, 0, profile_stack_push(p, s_main,
					unit_frame(p, file, "only_new", NULL, 20, 21)));
	return p;
}

struct sides {
	struct profile *p[2];
	struct profile_tree *t[2];
	struct diff *d;
};

static void sides_make(struct sides *x)
{
	struct profile_tree_options o = {.group = PROFILE_GROUP_THREAD};

	x->p[0] = make_side(3, 1, FALSE);
	x->p[1] = make_side(1, 3, TRUE);
	for (int i = 0; i < 2; i++)
		x->t[i] = profile_tree_build(x->p[i], &o);
	x->d = diff_new(x->t[0], x->t[1]);
}

static void sides_free(struct sides *x)
{
	diff_free(x->d);
	for (int i = 0; i < 2; i++) {
		profile_tree_free(x->t[i]);
		profile_free(x->p[i]);
	}
}

static const struct diff_row *row_named(const struct diff *d, const char *name)
{
	for (guint i = 0; i < d->rows->len; i++) {
		const struct diff_row *r = g_ptr_array_index(d->rows, i);
		if (!strcmp(r->frame->name, name))
			return r;
	}
	return NULL;
}

static void test_diff__functions_as_shares_with_signs(void)
{
	struct sides x;
	const struct diff_row *parse, *render, *spin, *extra, *first;

	sides_make(&x);
	parse = row_named(x.d, "parse");
	render = row_named(x.d, "render");
	spin = row_named(x.d, "spin");
	extra = row_named(x.d, "only_new");
	CU_ASSERT_PTR_NOT_NULL_FATAL(parse);
	CU_ASSERT_PTR_NOT_NULL_FATAL(render);
	CU_ASSERT_PTR_NOT_NULL_FATAL(spin);
	CU_ASSERT_PTR_NOT_NULL_FATAL(extra);
	CU_ASSERT_DOUBLE_EQUAL(parse->total[0], 75.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(parse->total[1], 20.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(diff_row_change(parse), -55.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(diff_row_change(render), 35.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(spin->self[0], 100.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(diff_row_change(spin), -20.0, 1e-9);
	CU_ASSERT_TRUE(diff_row_added(extra));
	CU_ASSERT_FALSE(diff_row_added(parse) || diff_row_gone(parse));
	/* the largest change first */
	first = g_ptr_array_index(x.d->rows, 0);
	CU_ASSERT_STRING_EQUAL(first->frame->name, "parse");
	sides_free(&x);
}

/* The node of NEW's tree at main -> a -> b (b NULL: main -> a) */
static guint32 node_at(const struct profile_tree *t, const char *a, const char *b)
{
	const char *want[] = {"main", a, b};
	guint32 id = profile_tree_children(t, 0, &(guint32){0})[0]; /* MainThread */

	for (int level = 0; level < 3 && want[level]; level++) {
		guint32 n, found = 0;
		const guint32 *kids = profile_tree_children(t, id, &n);
		for (guint32 i = 0; i < n; i++)
			if (!strcmp(profile_frame(t->profile, profile_tree_node(t, kids[i])->frame)->name,
				    want[level]))
				found = kids[i];
		CU_ASSERT_FATAL(found != 0);
		id = found;
	}
	return id;
}

static void test_diff__paths_of_new_in_base(void)
{
	struct sides x;
	double *self, *total;
	guint32 parse_spin, render_spin, extra;

	sides_make(&x);
	diff_paths(x.d, &self, &total);
	parse_spin = node_at(x.t[1], "parse", "spin");
	render_spin = node_at(x.t[1], "render", "spin");
	extra = node_at(x.t[1], "only_new", NULL);
	/* the same function on two paths: each path its own share */
	CU_ASSERT_DOUBLE_EQUAL(self[parse_spin], 75.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(self[render_spin], 25.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(total[node_at(x.t[1], "render", NULL)], 25.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(total[0], 100.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(self[extra], -1, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(total[extra], -1, 1e-9);
	g_free(self);
	g_free(total);
	sides_free(&x);
}

/* Trees of one node per function (as the reports people read have them)
 * still name each function's line */
static void test_diff__shaped_trees_keep_lines(void)
{
	struct sides x;

	sides_make(&x);
	diff_free(x.d);
	shape_functions(x.t[0]);
	shape_functions(x.t[1]);
	x.d = diff_new(x.t[0], x.t[1]);
	CU_ASSERT_EQUAL(row_named(x.d, "parse")->frame->line, 9);
	CU_ASSERT_EQUAL(row_named(x.d, "spin")->frame->line, 6);
	CU_ASSERT_DOUBLE_EQUAL(diff_row_change(row_named(x.d, "parse")), -55.0, 1e-9);
	sides_free(&x);
}

UNIT_MAIN("diff",
	  UNIT_TEST(test_diff__shaped_trees_keep_lines),
	  UNIT_TEST(test_diff__functions_as_shares_with_signs),
	  UNIT_TEST(test_diff__paths_of_new_in_base))
