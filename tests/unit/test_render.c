/*
 * test_render.c - text and collapsed output of a small synthetic profile,
 * compared with the exact expected bytes.
 *
 * The profile, built with the model's own builder functions:
 *   MainThread (tid 100)  <module> -> main -> work   6 samples of 1 s
 *                         <module> -> main           1 sample of 3.95 s
 *                         <module> -> main -> tiny   1 sample of 0.05 s
 *   worker (tid 101)      Worker.run                 1 sample of 2 s
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <glib.h>

#include "collector/profile.h"
#include "render/render.h"

static struct profile *make_profile(void)
{
	struct profile *p = profile_new();
	struct profile_process info = {
		.path = "t.pyprof", .pid = 4242, .mode = PROFILE_MODE_CPU,
		.complete = TRUE,
	};
	const char *file = profile_intern(p, "app.py", -1);
#define FRAME(name, qual, def, line) \
	profile_frame_intern(p, PROFILE_FRAME_PYTHON, file, \
			     profile_intern(p, name, -1), \
			     qual ? profile_intern(p, qual, -1) : NULL, def, line, -1)
	guint32 mod = FRAME("<module>", "<module>", 1, 1);
	guint32 main_ = FRAME("main", "main", 10, 12);
	guint32 work = FRAME("work", "work", 20, 23);
	guint32 tiny = FRAME("tiny", NULL, 30, 30);
	guint32 run = FRAME("run", "Worker.run", 40, 40);
	guint32 s_main, s_work, s_tiny, s_run;
	guint t0, t1;

	profile_add_process(p, &info);
	t0 = profile_add_thread(p, 0, 1, 100, PROFILE_THREAD_MAIN, 0, NULL, 0);
	t1 = profile_add_thread(p, 0, 2, 101, 0, 0, "worker", 6);
	s_main = profile_stack_push(p, profile_stack_push(p, 0, mod), main_);
	s_work = profile_stack_push(p, s_main, work);
	s_tiny = profile_stack_push(p, s_main, tiny);
	s_run = profile_stack_push(p, 0, run);
	for (int i = 0; i < 6; i++)
		profile_add_sample(p, t0, 1000 + i, 1000000000, 0, 0, s_work);
	profile_add_sample(p, t0, 2000, 3950000000u, 0, 0, s_main);
	profile_add_sample(p, t0, 3000, 50000000, 0, 0, s_tiny);
	profile_add_sample(p, t1, 4000, 2000000000, 0, 0, s_run);
	return p;
}

/* Renders the test profile with `o` into a new string. */
static char *render(const char *format, const struct render_options *o)
{
	struct profile *p = make_profile();
	struct profile_tree *t = profile_tree_build(p, NULL);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	GError *error = NULL;

	CU_ASSERT_TRUE(render_lookup(format)->render(p, t, o, f, &error));
	CU_ASSERT_PTR_NULL(error);
	fclose(f);
	profile_tree_free(t);
	profile_free(p);
	return buf;
}

static void check(const char *format, const struct render_options *o,
		  const char *expected)
{
	char *got = render(format, o);
	CU_ASSERT_STRING_EQUAL(got, expected);
	if (strcmp(got, expected))
		fprintf(stderr, "\n--- expected\n%s--- got\n%s---\n", expected, got);
	free(got);
}

static void test_render__text_default(void)
{
	struct render_options o;
	render_options_init(&o);
	check("text", &o,
	      "MainThread (pid 4242, tid 100): 8 samples, 10.000 s CPU (83.3% of all)\n"
	      "10.000 100.0%  <module>  app.py:1\n"
	      "└─ 10.000 100.0%  main  app.py:12\n"
	      "   ├─ 6.000  60.0%  work  app.py:23\n"
	      "   └─ … 1 more below 1.0% (0.050 s)\n"
	      "\n"
	      "worker (pid 4242, tid 101): 1 sample, 2.000 s CPU (16.7% of all)\n"
	      "2.000 100.0%  Worker.run  app.py:40\n");
}

static void test_render__text_ascii_min_percent_zero(void)
{
	struct render_options o;
	render_options_init(&o);
	o.ascii = TRUE;
	o.min_percent = 0;
	check("text", &o,
	      "MainThread (pid 4242, tid 100): 8 samples, 10.000 s CPU (83.3% of all)\n"
	      "10.000 100.0%  <module>  app.py:1\n"
	      "`- 10.000 100.0%  main  app.py:12\n"
	      "   |- 6.000  60.0%  work  app.py:23\n"
	      "   `- 0.050   0.5%  tiny  app.py:30\n"
	      "\n"
	      "worker (pid 4242, tid 101): 1 sample, 2.000 s CPU (16.7% of all)\n"
	      "2.000 100.0%  Worker.run  app.py:40\n");
}

static void test_render__text_depth(void)
{
	struct render_options o;
	render_options_init(&o);
	o.depth = 1;
	o.percent_of_total = TRUE;
	check("text", &o,
	      "MainThread (pid 4242, tid 100): 8 samples, 10.000 s CPU (83.3% of all)\n"
	      "10.000  83.3%  <module>  app.py:1\n"
	      "\n"
	      "worker (pid 4242, tid 101): 1 sample, 2.000 s CPU (16.7% of all)\n"
	      "2.000  16.7%  Worker.run  app.py:40\n");
}

static void test_render__text_min_percent_cuts_a_suffix(void)
{
	struct render_options o;
	render_options_init(&o);
	o.min_percent = 70;
	o.ascii = TRUE;
	check("text", &o,
	      "MainThread (pid 4242, tid 100): 8 samples, 10.000 s CPU (83.3% of all)\n"
	      "10.000 100.0%  <module>  app.py:1\n"
	      "`- 10.000 100.0%  main  app.py:12\n"
	      "   `- ... 2 more below 70.0% (6.050 s)\n"
	      "\n"
	      "worker (pid 4242, tid 101): 1 sample, 2.000 s CPU (16.7% of all)\n"
	      "2.000 100.0%  Worker.run  app.py:40\n");
}

static void test_render__text_color(void)
{
	struct render_options o;
	char *got;

	render_options_init(&o);
	o.color = TRUE;
	got = render("text", &o);
	CU_ASSERT_PTR_NOT_NULL(strstr(got, "\033[31m10.000 100.0%\033[0m  \033[1m<module>\033[0m  \033[36mapp.py:1\033[0m\n"));
	free(got);
	o.color = FALSE;
	got = render("text", &o);
	CU_ASSERT_PTR_NULL(strchr(got, '\033'));
	free(got);
}

static void test_render__collapsed_samples(void)
{
	struct render_options o;
	render_options_init(&o);
	check("collapsed", &o,
	      "MainThread;<module> (app.py:1);main (app.py:12) 1\n"
	      "MainThread;<module> (app.py:1);main (app.py:12);tiny (app.py:30) 1\n"
	      "MainThread;<module> (app.py:1);main (app.py:12);work (app.py:23) 6\n"
	      "worker;Worker.run (app.py:40) 1\n");
}

static void test_render__collapsed_ns_without_thread(void)
{
	struct render_options o;
	render_options_init(&o);
	o.weight_ns = TRUE;
	o.thread_frame = FALSE;
	check("collapsed", &o,
	      "<module> (app.py:1);main (app.py:12) 3950000000\n"
	      "<module> (app.py:1);main (app.py:12);tiny (app.py:30) 50000000\n"
	      "<module> (app.py:1);main (app.py:12);work (app.py:23) 6000000000\n"
	      "Worker.run (app.py:40) 2000000000\n");
}

static void test_render__collapsed_cleans_separators(void)
{
	struct profile *p = profile_new();
	struct profile_process info = {.path = "x", .mode = PROFILE_MODE_CPU};
	struct render_options o;
	struct profile_tree *t;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	guint32 fr;
	guint th;

	profile_add_process(p, &info);
	th = profile_add_thread(p, 0, 1, 7, 0, 0, "a;b\n", 4);
	fr = profile_frame_intern(p, PROFILE_FRAME_PYTHON, profile_intern(p, "x;y.py", -1),
				  profile_intern(p, "f\033[2J", -1), NULL, 1, -1, -1);
	profile_add_sample(p, th, 1, 5, 0, 0, profile_stack_push(p, 0, fr));
	t = profile_tree_build(p, NULL);
	render_options_init(&o);
	f = open_memstream(&buf, &len);
	CU_ASSERT_TRUE(render_collapsed(p, t, &o, f, NULL));
	fclose(f);
	CU_ASSERT_STRING_EQUAL(buf, "a?b?;f?[2J (x?y.py:?) 1\n");
	free(buf);
	profile_tree_free(t);
	profile_free(p);
}

static void test_render__empty_profile(void)
{
	struct profile *p = profile_new();
	struct profile_tree *t = profile_tree_build(p, NULL);
	struct render_options o;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	render_options_init(&o);
	CU_ASSERT_TRUE(render_text(p, t, &o, f, NULL));
	CU_ASSERT_TRUE(render_collapsed(p, t, &o, f, NULL));
	fclose(f);
	CU_ASSERT_STRING_EQUAL(buf, "no samples\n");
	free(buf);
	profile_tree_free(t);
	profile_free(p);
}

int main(void)
{
	CU_pSuite s;
	unsigned failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("render", NULL, NULL);
#define ADD(t) CU_add_test(s, #t, t)
	ADD(test_render__text_default);
	ADD(test_render__text_ascii_min_percent_zero);
	ADD(test_render__text_depth);
	ADD(test_render__text_min_percent_cuts_a_suffix);
	ADD(test_render__text_color);
	ADD(test_render__collapsed_samples);
	ADD(test_render__collapsed_ns_without_thread);
	ADD(test_render__collapsed_cleans_separators);
	ADD(test_render__empty_profile);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
