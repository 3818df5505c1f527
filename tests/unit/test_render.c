/*
 * test_render.c - text and collapsed output of a small synthetic profile,
 * compared with the exact expected bytes.
 *
 * The profile, built with the model's own builder functions:
 *   MainThread (tid 100)  <module> -> main -> work   6 samples of 1 s
 *                         <module> -> main           1 sample of 3.95 s
 *                         <module> -> main -> tiny   1 sample of 0.05 s
 *   worker (tid 101)      Worker.run                 1 sample of 2 s
 *
 * and a wall-mode one, where some samples were taken while their thread
 * waited (the IDLE flag), in wait() and in poll():
 *   MainThread (tid 100)  <module> -> main -> work   2 samples of 0.5 s
 *                         <module> -> main -> wait   3 idle samples of 1 s
 *   worker (tid 101)      Worker.run                 1 sample of 1.6 s
 *                         Worker.run -> poll         1 idle sample of 0.4 s
 * MainThread: 4 s wall, 1 s running, 3 s waiting; worker: 2 s wall, 1.6 s
 * running, 0.4 s waiting.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "collector/profile.h"
#include "render/render.h"
#include "tests/unit/unit.h"

#define FRAME(name, qual, def, line) unit_frame(p, file, name, qual, def, line)

static struct profile *make_profile(void)
{
	struct profile *p = unit_profile_new(PROFILE_MODE_CPU, "t.pyprof", 0, 0);
	const char *file = profile_intern(p, "app.py", -1);
	guint32 mod = FRAME("<module>", "<module>", 1, 1);
	guint32 main_ = FRAME("main", "main", 10, 12);
	guint32 work = FRAME("work", "work", 20, 23);
	guint32 tiny = FRAME("tiny", NULL, 30, 30);
	guint32 run = FRAME("run", "Worker.run", 40, 40);
	guint32 s_main, s_work, s_tiny, s_run;
	guint t0 = 0, t1 = 1;

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

static struct profile *make_wall_profile(void)
{
	struct profile *p = unit_profile_new(PROFILE_MODE_WALL, "w.pyprof", 0, 0);
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
	/* running samples all CPU, idle ones none; the split of a sample
	 * that is both is test_render__wall_split_by_clocks's */
	for (int i = 0; i < 2; i++)
		profile_add_sample(p, t0, 1000 + i, 500000000, 500000000,
				   PROFILE_SAMPLE_GIL, s_work);
	for (int i = 0; i < 3; i++)
		profile_add_sample(p, t0, 2000 + i, 0, 1000000000,
				   PROFILE_SAMPLE_IDLE, s_wait);
	profile_add_sample(p, t1, 3000, 1600000000u, 1600000000u,
			   PROFILE_SAMPLE_GIL, s_run);
	profile_add_sample(p, t1, 4000, 0, 400000000, PROFILE_SAMPLE_IDLE, s_poll);
	return p;
}

/* Renders profile p with `o`, its tree built with topts (NULL: the
 * defaults), into a new string; frees p. */
static char *render_profile(struct profile *p, const char *format,
			    const struct profile_tree_options *topts,
			    const struct render_options *o)
{
	struct profile_tree *t = profile_tree_build(p, topts);
	struct render_options ro = *o;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	GError *error = NULL;

	ro.tree_options = topts;
	CU_ASSERT_TRUE(render_lookup(format)->render(p, t, &ro, f, &error));
	CU_ASSERT_PTR_NULL(error);
	fclose(f);
	profile_tree_free(t);
	profile_free(p);
	return buf;
}

/* Renders the test profile with `o` into a new string. */
static char *render(const char *format, const struct render_options *o)
{
	return render_profile(make_profile(), format, NULL, o);
}

static void check_text(char *got, const char *expected)
{
	CU_ASSERT_STRING_EQUAL(got, expected);
	if (strcmp(got, expected))
		fprintf(stderr, "\n--- expected\n%s--- got\n%s---\n", expected, got);
	free(got);
}

static void check(const char *format, const struct render_options *o,
		  const char *expected)
{
	check_text(render(format, o), expected);
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

/* --flat: functions by self time, with their total; the self column adds
 * up to the header, the rows under --min-percent summed into one line. */
static void test_render__flat_by_self(void)
{
	struct render_options o;
	render_options_init(&o);
	o.flat = TRUE;
	check("text", &o,
	      "MainThread (pid 4242, tid 100): 8 samples, 10.000 s CPU (83.3% of all)\n"
	      " self s  self%  total s  total%  function  hottest line\n"
	      "  6.000  60.0%    6.000  60.0%  work  app.py:23\n"
	      "  3.950  39.5%   10.000 100.0%  main  app.py:12\n"
	      "  0.000   0.0%   10.000 100.0%  <module>  app.py:1\n"
	      "  0.050   0.5%  … 1 more below 1.0%\n"
	      "\n"
	      "worker (pid 4242, tid 101): 1 sample, 2.000 s CPU (16.7% of all)\n"
	      " self s  self%  total s  total%  function  hottest line\n"
	      "  2.000 100.0%    2.000 100.0%  Worker.run  app.py:40\n");
}

static void test_render__flat_sort_total_and_name(void)
{
	struct render_options o;
	render_options_init(&o);
	o.flat = TRUE;
	o.ascii = TRUE;
	o.min_percent = 0;
	o.sort = RENDER_SORT_TOTAL;
	check("text", &o,
	      "MainThread (pid 4242, tid 100): 8 samples, 10.000 s CPU (83.3% of all)\n"
	      " self s  self%  total s  total%  function  hottest line\n"
	      "  3.950  39.5%   10.000 100.0%  main  app.py:12\n"
	      "  0.000   0.0%   10.000 100.0%  <module>  app.py:1\n"
	      "  6.000  60.0%    6.000  60.0%  work  app.py:23\n"
	      "  0.050   0.5%    0.050   0.5%  tiny  app.py:30\n"
	      "\n"
	      "worker (pid 4242, tid 101): 1 sample, 2.000 s CPU (16.7% of all)\n"
	      " self s  self%  total s  total%  function  hottest line\n"
	      "  2.000 100.0%    2.000 100.0%  Worker.run  app.py:40\n");
	o.sort = RENDER_SORT_NAME;
	check("text", &o,
	      "MainThread (pid 4242, tid 100): 8 samples, 10.000 s CPU (83.3% of all)\n"
	      " self s  self%  total s  total%  function  hottest line\n"
	      "  0.000   0.0%   10.000 100.0%  <module>  app.py:1\n"
	      "  3.950  39.5%   10.000 100.0%  main  app.py:12\n"
	      "  0.050   0.5%    0.050   0.5%  tiny  app.py:30\n"
	      "  6.000  60.0%    6.000  60.0%  work  app.py:23\n"
	      "\n"
	      "worker (pid 4242, tid 101): 1 sample, 2.000 s CPU (16.7% of all)\n"
	      " self s  self%  total s  total%  function  hottest line\n"
	      "  2.000 100.0%    2.000 100.0%  Worker.run  app.py:40\n");
}

/* Recursion: a function's total counts its outermost calls only, and its
 * hottest line is the one with the most self time. */
static void test_render__flat_recursion_counted_once(void)
{
	struct profile *p = unit_profile_new(PROFILE_MODE_CPU, "r.pyprof", 0, 0);
	const char *file = profile_intern(p, "rec.py", -1);
	guint32 a5 = FRAME("a", "a", 4, 5), b8 = FRAME("b", "b", 7, 8);
	guint32 a6 = FRAME("a", "a", 4, 6), b9 = FRAME("b", "b", 7, 9);
	guint32 s1 = profile_stack_push(p, profile_stack_push(p, 0, a5), b8);
	guint32 s2 = profile_stack_push(p, profile_stack_push(p, s1, a6), b9);
	struct render_options o;

	profile_add_sample(p, 0, 1000, 1000000000, 0, 0, s2);   /* a b a b9 */
	profile_add_sample(p, 0, 2000, 1000000000, 0, 0, s2);
	profile_add_sample(p, 0, 3000, 1000000000, 0, 0, s1);   /* a b8 */
	render_options_init(&o);
	o.flat = TRUE;
	check_text(render_profile(p, "text", NULL, &o),
		   "MainThread (pid 4242, tid 100): 3 samples, 3.000 s CPU (100.0% of all)\n"
		   " self s  self%  total s  total%  function  hottest line\n"
		   "  3.000 100.0%    3.000 100.0%  b  rec.py:9\n"
		   "  0.000   0.0%    3.000 100.0%  a  rec.py:5\n");
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

/* A sample none of whose frames is shown (here: an empty stack, as one
 * whose frames were all hidden becomes) is the thread's own time: a
 * [hidden] line, or part of "more below" when under --min-percent. */
static void test_render__text_thread_own_time_is_hidden_line(void)
{
	struct render_options o;
	struct profile *p = make_profile();

	profile_add_sample(p, 0, 5000, 2500000000u, 0, 0, 0);
	render_options_init(&o);
	o.ascii = TRUE;
	check_text(render_profile(p, "text", NULL, &o),
		   "MainThread (pid 4242, tid 100): 9 samples, 12.500 s CPU (86.2% of all)\n"
		   "10.000  80.0%  <module>  app.py:1\n"
		   "`- 10.000  80.0%  main  app.py:12\n"
		   "   |- 6.000  48.0%  work  app.py:23\n"
		   "   `- ... 1 more below 1.0% (0.050 s)\n"
		   "2.500  20.0%  [hidden]  frames hidden or trimmed (--show-all shows them)\n"
		   "\n"
		   "worker (pid 4242, tid 101): 1 sample, 2.000 s CPU (13.8% of all)\n"
		   "2.000 100.0%  Worker.run  app.py:40\n");
	p = make_profile();
	profile_add_sample(p, 0, 5000, 2500000000u, 0, 0, 0);
	o.min_percent = 30;
	check_text(render_profile(p, "text", NULL, &o),
		   "MainThread (pid 4242, tid 100): 9 samples, 12.500 s CPU (86.2% of all)\n"
		   "10.000  80.0%  <module>  app.py:1\n"
		   "`- 10.000  80.0%  main  app.py:12\n"
		   "   |- 6.000  48.0%  work  app.py:23\n"
		   "   `- ... 1 more below 30.0% (0.050 s)\n"
		   "... 1 more below 30.0% (2.500 s)\n"
		   "\n"
		   "worker (pid 4242, tid 101): 1 sample, 2.000 s CPU (13.8% of all)\n"
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

/* ---- wall mode ---- */

static void test_render__wall_idle_leaf_and_split_header(void)
{
	struct render_options o;
	render_options_init(&o);
	check_text(render_profile(make_wall_profile(), "text", NULL, &o),
	      "MainThread (pid 4242, tid 100): 5 samples, 4.000 s wall (66.7% of all)"
	      " — running 1.000 s (25.0%), waiting 3.000 s (75.0%)\n"
	      "4.000 100.0%  <module>  app.py:1\n"
	      "└─ 4.000 100.0%  main  app.py:12\n"
	      "   ├─ 3.000  75.0%  wait  app.py:31\n"
	      "   │  └─ 3.000  75.0%  [idle]\n"
	      "   └─ 1.000  25.0%  work  app.py:23\n"
	      "\n"
	      "worker (pid 4242, tid 101): 2 samples, 2.000 s wall (33.3% of all)"
	      " — running 1.600 s (80.0%), waiting 0.400 s (20.0%)\n"
	      "2.000 100.0%  Worker.run  app.py:40\n"
	      "└─ 0.400  20.0%  poll  app.py:46\n"
	      "   └─ 0.400  20.0%  [idle]\n");
}

static void test_render__wall_no_idle_is_running_time_only(void)
{
	struct profile_tree_options topts = {.no_idle = TRUE};
	struct render_options o;

	render_options_init(&o);
	o.ascii = TRUE;
	/* the worker ran longer than MainThread: it comes first now */
	check_text(render_profile(make_wall_profile(), "text", &topts, &o),
	      "worker (pid 4242, tid 101): 1 sample, 1.600 s running (61.5% of all)"
	      " - of 2.000 s wall: running 1.600 s (80.0%), waiting 0.400 s (20.0%)\n"
	      "1.600 100.0%  Worker.run  app.py:40\n"
	      "\n"
	      "MainThread (pid 4242, tid 100): 2 samples, 1.000 s running (38.5% of all)"
	      " - of 4.000 s wall: running 1.000 s (25.0%), waiting 3.000 s (75.0%)\n"
	      "1.000 100.0%  <module>  app.py:1\n"
	      "`- 1.000 100.0%  main  app.py:12\n"
	      "   `- 1.000 100.0%  work  app.py:23\n");
}

static void test_render__wall_merged_threads_list_each_split_first(void)
{
	struct profile_tree_options topts = {.group = PROFILE_GROUP_ALL};
	struct render_options o;

	render_options_init(&o);
	check_text(render_profile(make_wall_profile(), "text", &topts, &o),
	      "MainThread (pid 4242, tid 100): 4.000 s wall"
	      " — running 1.000 s (25.0%), waiting 3.000 s (75.0%)\n"
	      "worker (pid 4242, tid 101): 2.000 s wall"
	      " — running 1.600 s (80.0%), waiting 0.400 s (20.0%)\n"
	      "\n"
	      "[all threads]: 7 samples, 6.000 s wall"
	      " — running 2.600 s (43.3%), waiting 3.400 s (56.7%)\n"
	      "4.000  66.7%  <module>  app.py:1\n"
	      "└─ 4.000  66.7%  main  app.py:12\n"
	      "   ├─ 3.000  50.0%  wait  app.py:31\n"
	      "   │  └─ 3.000  50.0%  [idle]\n"
	      "   └─ 1.000  16.7%  work  app.py:23\n"
	      "2.000  33.3%  Worker.run  app.py:40\n"
	      "└─ 0.400   6.7%  poll  app.py:46\n"
	      "   └─ 0.400   6.7%  [idle]\n");
}

static void test_render__wall_collapsed_idle_leaf(void)
{
	struct profile_tree_options topts = {.no_idle = TRUE};
	struct render_options o;

	render_options_init(&o);
	check_text(render_profile(make_wall_profile(), "collapsed", NULL, &o),
	      "MainThread;<module> (app.py:1);main (app.py:12);wait (app.py:31);[idle] 3\n"
	      "MainThread;<module> (app.py:1);main (app.py:12);work (app.py:23) 2\n"
	      "worker;Worker.run (app.py:40) 1\n"
	      "worker;Worker.run (app.py:40);poll (app.py:46);[idle] 1\n");
	o.weight_ns = TRUE;
	check_text(render_profile(make_wall_profile(), "collapsed", NULL, &o),
	      "MainThread;<module> (app.py:1);main (app.py:12);wait (app.py:31);[idle] 3000000000\n"
	      "MainThread;<module> (app.py:1);main (app.py:12);work (app.py:23) 1000000000\n"
	      "worker;Worker.run (app.py:40) 1600000000\n"
	      "worker;Worker.run (app.py:40);poll (app.py:46);[idle] 400000000\n");
	check_text(render_profile(make_wall_profile(), "collapsed", &topts, &o),
	      "MainThread;<module> (app.py:1);main (app.py:12);work (app.py:23) 1000000000\n"
	      "worker;Worker.run (app.py:40) 1600000000\n");
}

/* CPU mode: the idle flag means nothing (a CPU-mode sample stands for CPU
 * time used), so neither it nor --no-idle changes a byte of the report. */
static void test_render__cpu_mode_ignores_idle_flag_and_no_idle(void)
{
	struct profile_tree_options topts = {.no_idle = TRUE};
	struct render_options o;
	struct profile *p = make_profile();

	for (guint ti = 0; ti < p->threads->len; ti++) {
		struct profile_thread *th = profile_thread(p, ti);
		for (guint i = 0; i < th->samples->len; i++)
			g_array_index(th->samples, struct profile_sample, i).flags |=
				PROFILE_SAMPLE_IDLE;
	}
	render_options_init(&o);
	check_text(render_profile(p, "text", &topts, &o),
	      "MainThread (pid 4242, tid 100): 8 samples, 10.000 s CPU (83.3% of all)\n"
	      "10.000 100.0%  <module>  app.py:1\n"
	      "└─ 10.000 100.0%  main  app.py:12\n"
	      "   ├─ 6.000  60.0%  work  app.py:23\n"
	      "   └─ … 1 more below 1.0% (0.050 s)\n"
	      "\n"
	      "worker (pid 4242, tid 101): 1 sample, 2.000 s CPU (16.7% of all)\n"
	      "2.000 100.0%  Worker.run  app.py:40\n");
}

/* A family of threads, in wall mode: MainThread (tid 100) 2 s running in
 * work, and "Thread-N (handle)" (tids 102 to 104) each 0.5 s running in
 * handle and then waiting 0.5, 1.5 and 3.5 s in wait (1, 2 and 4 s
 * wall).  The thread "worker" has no samples. */
static struct profile *make_family_profile(void)
{
	struct profile *p = unit_profile_new(PROFILE_MODE_WALL, "f.pyprof", 0, 0);
	const char *file = profile_intern(p, "app.py", -1);
	guint32 s_work = profile_stack_push(p, 0, FRAME("work", "work", 20, 23));
	guint32 s_handle = profile_stack_push(p, 0, FRAME("handle", "handle", 60, 61));
	guint32 s_wait = profile_stack_push(p, s_handle, FRAME("wait", "wait", 70, 71));
	static const guint64 waits[] = {500000000, 1500000000, 3500000000u};

	profile_add_sample(p, 0, 1000, 2000000000, 2000000000, PROFILE_SAMPLE_GIL, s_work);
	for (guint i = 0; i < 3; i++) {
		char name[32];
		guint ti;

		g_snprintf(name, sizeof name, "Thread-%u (handle)", i + 1);
		ti = profile_add_thread(p, 0, 3 + i, 102 + i, 0, 0, name, strlen(name));
		profile_add_sample(p, ti, 2000 + i, 500000000, 500000000,
				   PROFILE_SAMPLE_GIL, s_handle);
		profile_add_sample(p, ti, 3000 + i, 0, waits[i], PROFILE_SAMPLE_IDLE, s_wait);
	}
	profile_family_group(p, 0);
	return p;
}

/* One header for the family, with how many threads, their sum and their
 * median, on two lines to stay near 80 columns; the main thread apart */
static void test_render__family_one_header(void)
{
	struct profile_tree_options topts = {.group = PROFILE_GROUP_FAMILY};
	struct render_options o;

	render_options_init(&o);
	check_text(render_profile(make_family_profile(), "text", &topts, &o),
	      "handle ×3 (pid 4242): 6 samples, 7.000 s wall (77.8% of all)\n"
	      "  median per thread 2.000 s — running 1.500 s (21.4%), waiting 5.500 s (78.6%)\n"
	      "7.000 100.0%  handle  app.py:61\n"
	      "└─ 5.500  78.6%  wait  app.py:71\n"
	      "   └─ 5.500  78.6%  [idle]\n"
	      "\n"
	      "MainThread (pid 4242, tid 100): 1 sample, 2.000 s wall (22.2% of all)"
	      " — running 2.000 s (100.0%), waiting 0.000 s (0.0%)\n"
	      "2.000 100.0%  work  app.py:23\n");
}

/* Threads merged into one tree: one split line for the family, not one
 * per thread */
static void test_render__family_one_split_line_when_merged(void)
{
	struct profile_tree_options topts = {.group = PROFILE_GROUP_ALL};
	struct render_options o;

	render_options_init(&o);
	o.ascii = TRUE;
	check_text(render_profile(make_family_profile(), "text", &topts, &o),
	      "MainThread (pid 4242, tid 100): 2.000 s wall"
	      " - running 2.000 s (100.0%), waiting 0.000 s (0.0%)\n"
	      "handle x3 (pid 4242): 7.000 s wall"
	      " - running 1.500 s (21.4%), waiting 5.500 s (78.6%)\n"
	      "\n"
	      "[all threads]: 7 samples, 9.000 s wall"
	      " - running 3.500 s (38.9%), waiting 5.500 s (61.1%)\n"
	      "7.000  77.8%  handle  app.py:61\n"
	      "`- 5.500  61.1%  wait  app.py:71\n"
	      "   `- 5.500  61.1%  [idle]\n"
	      "2.000  22.2%  work  app.py:23\n");
}

/* --no-idle: the median of the threads' running time; with an even
 * number of threads, the mean of the middle two */
static void test_render__family_median_of_running_time(void)
{
	struct profile_tree_options topts = {.group = PROFILE_GROUP_FAMILY,
					     .no_idle = TRUE};
	struct render_options o;
	struct profile *p = make_family_profile();
	const char *file = profile_intern(p, "app.py", -1);
	guint ti = profile_add_thread(p, 0, 9, 109, 0, 0, "Thread-9 (handle)", 17);

	profile_add_sample(p, ti, 4000, 1500000000u, 1500000000u, PROFILE_SAMPLE_GIL,
			   profile_stack_push(p, 0, FRAME("handle", "handle", 60, 61)));
	profile_family_group(p, 0);
	render_options_init(&o);
	o.depth = 1;
	check_text(render_profile(p, "text", &topts, &o),
	      "handle ×4 (pid 4242): 4 samples, 3.000 s running (60.0% of all)\n"
	      "  median per thread 0.500 s — of 8.500 s wall: running 3.000 s (35.3%),"
	      " waiting 5.500 s (64.7%)\n"
	      "3.000 100.0%  handle  app.py:61\n"
	      "\n"
	      "MainThread (pid 4242, tid 100): 1 sample, 2.000 s running (40.0% of all)"
	      " — of 2.000 s wall: running 2.000 s (100.0%), waiting 0.000 s (0.0%)\n"
	      "2.000 100.0%  work  app.py:23\n");
}

UNIT_MAIN("render",
	  UNIT_TEST(test_render__text_default),
	  UNIT_TEST(test_render__flat_by_self),
	  UNIT_TEST(test_render__flat_sort_total_and_name),
	  UNIT_TEST(test_render__flat_recursion_counted_once),
	  UNIT_TEST(test_render__text_ascii_min_percent_zero),
	  UNIT_TEST(test_render__text_depth),
	  UNIT_TEST(test_render__text_min_percent_cuts_a_suffix),
	  UNIT_TEST(test_render__text_thread_own_time_is_hidden_line),
	  UNIT_TEST(test_render__text_color),
	  UNIT_TEST(test_render__collapsed_samples),
	  UNIT_TEST(test_render__collapsed_ns_without_thread),
	  UNIT_TEST(test_render__collapsed_cleans_separators),
	  UNIT_TEST(test_render__empty_profile),
	  UNIT_TEST(test_render__wall_idle_leaf_and_split_header),
	  UNIT_TEST(test_render__wall_no_idle_is_running_time_only),
	  UNIT_TEST(test_render__wall_merged_threads_list_each_split_first),
	  UNIT_TEST(test_render__wall_collapsed_idle_leaf),
	  UNIT_TEST(test_render__cpu_mode_ignores_idle_flag_and_no_idle),
	  UNIT_TEST(test_render__family_one_header),
	  UNIT_TEST(test_render__family_one_split_line_when_merged),
	  UNIT_TEST(test_render__family_median_of_running_time))
