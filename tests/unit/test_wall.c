/*
 * test_wall.c - wall mode through the pyprof command: a wall-mode file
 * written with the library's own writer (format/write.c), read by the
 * built pyprof ($PYPROF_BIN, set by make check; ./pyprof otherwise).
 *
 * The file, pid 4242, as the library writes it in wall mode: each sample
 * carries the wall time since its thread's previous one (dt) and the CPU
 * time it used (dcpu); samples taken while the thread waited carry the
 * IDLE flag and the stack of the Python frame that made the blocking call.
 *   MainThread (tid 100)  <module> -> main -> work   2 samples, 0.5 s each
 *                         <module> -> main -> wait   3 idle samples, 1 s each
 *   worker (tid 101)      Worker.run                 1 sample, 1.6 s
 *                         Worker.run -> poll         1 idle sample, 0.4 s
 * MainThread: 4 s wall, 1 s running (25%), 3 s waiting (75%); worker:
 * 2 s wall, 1.6 s running (80%), 0.4 s waiting (20%).
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "tests/unit/unit.h"
#include "tests/unit/fixture.h"

static int suite_init(void)
{
	static const uint32_t work[] = {1, 2, 4}, wait[] = {1, 2, 3};
	static const uint32_t run[] = {5}, poll[] = {5, 6};
	struct pf_writer w;
	struct pf_cursor main_c = {.thread = 1, .tid = 100};
	struct pf_cursor worker_c = {.thread = 2, .tid = 101};

	if (fixture_create(&w, "w.pyprof") != 0)
		return -1;
	w.hdr->mode = PF_MODE_WALL;
	w.hdr->interval_ns = 10000000;
	w.hdr->pid = 4242;
	w.hdr->ppid = 1;
	w.hdr->py_hexversion = 0x030800f0;
	strcpy(w.hdr->py_version, "3.8.0");
	w.hdr->start_monotonic_ns = 1000;
	if (pf_writer_next_chunk(&w, &main_c) || pf_writer_next_chunk(&w, &worker_c))
		return -1;

	fixture_thread(&main_c, PF_THREAD_MAIN, "");
	fixture_string(&main_c, 1, "app.py");
	fixture_string(&main_c, 2, "<module>");
	fixture_string(&main_c, 3, "main");
	fixture_string(&main_c, 4, "wait");
	fixture_string(&main_c, 5, "work");
	fixture_string(&main_c, 6, "run");
	fixture_string(&main_c, 7, "Worker.run");
	fixture_string(&main_c, 8, "poll");
	fixture_code(&main_c, 1, 1, 2, 2, 1, NULL, 0);
	fixture_code(&main_c, 2, 1, 3, 3, 10, NULL, 0);
	fixture_code(&main_c, 3, 1, 4, 4, 20, NULL, 0);
	fixture_code(&main_c, 4, 1, 5, 5, 30, NULL, 0);
	fixture_code(&main_c, 5, 1, 6, 7, 40, NULL, 0);
	fixture_code(&main_c, 6, 1, 8, 8, 45, NULL, 0);
	for (int i = 0; i < 2; i++)
		fixture_sample(&main_c, 500000000, 500000000, PF_SAMPLE_GIL, 3, work, NULL);
	for (int i = 0; i < 3; i++)
		fixture_sample(&main_c, 1000000000, 0, PF_SAMPLE_IDLE, 3, wait, NULL);

	fixture_thread(&worker_c, 0, "worker");
	fixture_sample(&worker_c, 1600000000, 1600000000, PF_SAMPLE_GIL, 1, run, NULL);
	fixture_sample(&worker_c, 400000000, 0, PF_SAMPLE_IDLE, 2, poll, NULL);

	w.hdr->samples = 7;
	pf_writer_finish(&w, PF_END_EXIT, 0);
	pf_writer_close(&w);
	return fixture_failed ? -1 : 0;
}

/* ---- the tests ---- */

static void test_wall__text_idle_leaf_and_split_headers(void)
{
	const char *a[] = {"report", "--color=never", NULL};
	char *out = NULL;

	CU_ASSERT_EQUAL(fixture_report(a, &out), 0);
	CHECK_HAS(out, "MainThread (pid 4242, tid 100): 5 samples, 4.000 s wall (66.7% of all)"
		       " — running 1.000 s (25.0%), waiting 3.000 s (75.0%)\n"
		       "4.000 100.0%  <module>  app.py:1\n"
		       "└─ 4.000 100.0%  main  app.py:10\n"
		       "   ├─ 3.000  75.0%  wait  app.py:20\n"
		       "   │  └─ 3.000  75.0%  [idle]\n"
		       "   └─ 1.000  25.0%  work  app.py:30\n");
	CHECK_HAS(out, "worker (pid 4242, tid 101): 2 samples, 2.000 s wall (33.3% of all)"
		       " — running 1.600 s (80.0%), waiting 0.400 s (20.0%)\n"
		       "2.000 100.0%  Worker.run  app.py:40\n"
		       "└─ 0.400  20.0%  poll  app.py:45\n"
		       "   └─ 0.400  20.0%  [idle]\n");
	g_free(out);
}

static void test_wall__no_idle_drops_waiting_from_trees_and_totals(void)
{
	const char *a[] = {"report", "--color=never", "--no-idle", NULL};
	const char *c[] = {"report", "--format=collapsed", "--weight=ns", "--no-idle", NULL};
	const char *back[] = {"report", "--color=never", "--no-idle", "--idle", NULL};
	char *out = NULL;

	CU_ASSERT_EQUAL(fixture_report(a, &out), 0);
	CU_ASSERT_PTR_NULL(strstr(out, "[idle]"));
	CU_ASSERT_PTR_NULL(strstr(out, "wait  app.py"));
	/* shares of the running time: the worker comes first now */
	CU_ASSERT_TRUE(g_str_has_prefix(out,
		"worker (pid 4242, tid 101): 1 sample, 1.600 s running (61.5% of all)"
		" — of 2.000 s wall: running 1.600 s (80.0%), waiting 0.400 s (20.0%)\n"
		"1.600 100.0%  Worker.run  app.py:40\n\n"));
	CHECK_HAS(out, "MainThread (pid 4242, tid 100): 2 samples, 1.000 s running (38.5% of all)"
		       " — of 4.000 s wall: running 1.000 s (25.0%), waiting 3.000 s (75.0%)\n"
		       "1.000 100.0%  <module>  app.py:1\n");
	g_free(out);

	CU_ASSERT_EQUAL(fixture_report(c, &out), 0);
	CU_ASSERT_STRING_EQUAL(out,
		"MainThread;<module> (app.py:1);main (app.py:10);work (app.py:30) 1000000000\n"
		"worker;Worker.run (app.py:40) 1600000000\n");
	g_free(out);

	/* the last of --idle and --no-idle wins */
	CU_ASSERT_EQUAL(fixture_report(back, &out), 0);
	CHECK_HAS(out, "   │  └─ 3.000  75.0%  [idle]\n");
	g_free(out);
}

static void test_wall__collapsed_idle_leaf(void)
{
	const char *a[] = {"report", "--format=collapsed", NULL};
	char *out = NULL;

	CU_ASSERT_EQUAL(fixture_report(a, &out), 0);
	CU_ASSERT_STRING_EQUAL(out,
		"MainThread;<module> (app.py:1);main (app.py:10);wait (app.py:20);[idle] 3\n"
		"MainThread;<module> (app.py:1);main (app.py:10);work (app.py:30) 2\n"
		"worker;Worker.run (app.py:40) 1\n"
		"worker;Worker.run (app.py:40);poll (app.py:45);[idle] 1\n");
	g_free(out);
}

static void test_wall__merged_threads_list_each_thread_split(void)
{
	const char *a[] = {"report", "--color=never", "--merge-threads", NULL};
	char *out = NULL;

	CU_ASSERT_EQUAL(fixture_report(a, &out), 0);
	CU_ASSERT_TRUE(g_str_has_prefix(out,
		"MainThread (pid 4242, tid 100): 4.000 s wall"
		" — running 1.000 s (25.0%), waiting 3.000 s (75.0%)\n"
		"worker (pid 4242, tid 101): 2.000 s wall"
		" — running 1.600 s (80.0%), waiting 0.400 s (20.0%)\n"
		"\n"
		"[all threads]: 7 samples, 6.000 s wall"
		" — running 2.600 s (43.3%), waiting 3.400 s (56.7%)\n"));
	g_free(out);
}

/* Hiding everything but the frame that waited leaves [idle] below it,
 * and hiding that too leaves [idle] below the thread. */
static void test_wall__hide_rules_keep_idle(void)
{
	const char *a[] = {"report", "--format=collapsed", "--hide",
			   "function~^(?!wait$)", NULL};
	const char *all[] = {"report", "--format=collapsed", "--hide", "*",
			     "--hide", "name:*idle*", NULL};
	char *out = NULL;

	CU_ASSERT_EQUAL(fixture_report(a, &out), 0);
	CU_ASSERT_STRING_EQUAL(out,
		"MainThread 2\n"
		"MainThread;wait (app.py:20);[idle] 3\n"
		"worker 1\n"
		"worker;[idle] 1\n");
	g_free(out);
	CU_ASSERT_EQUAL(fixture_report(all, &out), 0);
	CU_ASSERT_STRING_EQUAL(out,
		"MainThread 2\n"
		"MainThread;[idle] 3\n"
		"worker 1\n"
		"worker;[idle] 1\n");
	g_free(out);
}

static void test_wall__threads_table_splits_by_idle_flag(void)
{
	const char *a[] = {"report", "--threads", NULL};
	char *out = NULL;

	CU_ASSERT_EQUAL(fixture_report(a, &out), 0);
	CU_ASSERT_STRING_EQUAL(out,
		"thread                    tid samples      cpu s     wall s  running  waiting\n"
		"MainThread                100       5      1.000      4.000    25.0%    75.0%\n"
		"worker                    101       2      1.600      2.000    80.0%    20.0%\n");
	g_free(out);
}

/* --mode wall reaches the command as PYPROF_MODE=wall; the library is
 * replaced by an empty file, which the dynamic loader skips, so this
 * needs no library and runs under the sanitizers. */
static void test_wall__run_passes_mode_wall(void)
{
	const char *bin = g_getenv("PYPROF_BIN");
	char *lib = g_build_filename(fixture_dir, "empty.so", NULL);
	const char *argv[] = {bin && *bin ? bin : "./pyprof", "run", "--mode=wall",
			      "--", "sh", "-c", "echo \"mode=$PYPROF_MODE\"", NULL};
	const char *bad[] = {argv[0], "run", "--mode=both", "--", "true", NULL};
	char **env = g_get_environ();
	char *out = NULL, *err = NULL;
	int status = -1;

	CU_ASSERT_TRUE(g_file_set_contents(lib, "", 0, NULL));
	env = g_environ_setenv(env, "PYPROF_LIB", lib, TRUE);
	env = g_environ_unsetenv(env, "PYPROF_MODE");
	CU_ASSERT_TRUE(g_spawn_sync(NULL, (char **)argv, env, G_SPAWN_DEFAULT, NULL,
				    NULL, &out, &err, &status, NULL));
	CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CU_ASSERT_STRING_EQUAL(out, "mode=wall\n");
	CU_ASSERT_PTR_NULL(strstr(err, "not available"));
	g_free(out);
	g_free(err);

	CU_ASSERT_TRUE(g_spawn_sync(NULL, (char **)bad, env, G_SPAWN_DEFAULT, NULL,
				    NULL, &out, &err, &status, NULL));
	CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "--mode: expected cpu or wall, got 'both'"));
	g_free(out);
	g_free(err);
	g_strfreev(env);
	g_unlink(lib);
	g_free(lib);
}

UNIT_MAIN_SUITE("wall", suite_init, fixture_clean,
	  UNIT_TEST(test_wall__text_idle_leaf_and_split_headers),
	  UNIT_TEST(test_wall__no_idle_drops_waiting_from_trees_and_totals),
	  UNIT_TEST(test_wall__collapsed_idle_leaf),
	  UNIT_TEST(test_wall__merged_threads_list_each_thread_split),
	  UNIT_TEST(test_wall__hide_rules_keep_idle),
	  UNIT_TEST(test_wall__threads_table_splits_by_idle_flag),
	  UNIT_TEST(test_wall__run_passes_mode_wall))
