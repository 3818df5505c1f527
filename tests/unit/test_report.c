/*
 * test_report.c - the default text report, exactly: a CPU-mode file
 * written with the library's writer (tests/unit/fixture.h), read by the
 * built pyprof, its output compared line for line.
 *
 * The process (pid 4242, CPython 3.8 at /opt/py/bin/python3.8, started
 * in /home/me/proj), one thread, 10 ms of CPU a sample:
 *   <module>:3 -> main:11 -> fib -> fib -> fib          10 samples
 *   <module>:3 -> main:11 -> fib                          5
 *   <module>:3 -> main:12 -> loads -> decode -> raw_decode 20
 *   <module>:3 -> main:12 -> loads                        2
 *   <module>:3 -> main:13 -> get -> request -> send -> urlopen
 *                                 -> _make_request -> recv_into          30
 *   <module>:3 -> main:13 -> get -> request -> send -> callback:31  8
 * app.py is the program's; json and socket the standard library's;
 * requests and urllib3 installed packages.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "tests/unit/unit.h"
#include "tests/unit/fixture.h"

enum {
	S_APP = 1, S_MODULE, S_MAIN, S_FIB, S_JSON_INIT, S_LOADS, S_DECODER,
	S_DECODE, S_RAW, S_API, S_GET, S_REQUEST, S_SESSIONS, S_SEND, S_POOL,
	S_URLOPEN, S_SOCKET, S_RECV, S_CALLBACK, S_MAKE,
};
enum {
	C_MODULE = 1, C_MAIN, C_FIB, C_LOADS, C_DECODE, C_RAW, C_GET, C_REQUEST,
	C_SEND, C_URLOPEN, C_RECV, C_CALLBACK, C_MAKE,
};

static int suite_init(void)
{
	static const char *const strings[] = {
		[S_APP] = "/home/me/proj/app.py", [S_MODULE] = "<module>",
		[S_MAIN] = "main", [S_FIB] = "fib",
		[S_JSON_INIT] = "/opt/py/lib/python3.8/json/__init__.py",
		[S_LOADS] = "loads",
		[S_DECODER] = "/opt/py/lib/python3.8/json/decoder.py",
		[S_DECODE] = "decode", [S_RAW] = "raw_decode",
		[S_API] = "/opt/py/lib/python3.8/site-packages/requests/api.py",
		[S_GET] = "get", [S_REQUEST] = "request",
		[S_SESSIONS] = "/opt/py/lib/python3.8/site-packages/requests/sessions.py",
		[S_SEND] = "send",
		[S_POOL] = "/opt/py/lib/python3.8/site-packages/urllib3/connectionpool.py",
		[S_URLOPEN] = "urlopen",
		[S_SOCKET] = "/opt/py/lib/python3.8/socket.py",
		[S_RECV] = "recv_into", [S_CALLBACK] = "callback",
		[S_MAKE] = "_make_request",
	};
	/* a line more every two bytes of code: lasti+1 k is line first+k-1 */
	static const uint8_t lines[] = {2, 1, 2, 1, 2, 1};
	static const uint32_t fib3[] = {C_MODULE, C_MAIN, C_FIB, C_FIB, C_FIB},
			      fib3_at[] = {3, 2, 1, 1, 1};
	static const uint32_t json[] = {C_MODULE, C_MAIN, C_LOADS, C_DECODE, C_RAW},
			      json_at[] = {3, 3, 1, 1, 1};
	static const uint32_t net[] = {C_MODULE, C_MAIN, C_GET, C_REQUEST, C_SEND,
				       C_URLOPEN, C_MAKE, C_RECV},
			      net_at[] = {3, 4, 1, 1, 1, 1, 1, 1};
	static const uint32_t back[] = {C_MODULE, C_MAIN, C_GET, C_REQUEST, C_SEND,
					C_CALLBACK},
			      back_at[] = {3, 4, 1, 1, 1, 2};
	struct pf_writer w;
	struct pf_cursor c = {.thread = 1, .tid = 100};
	const guint64 ms10 = 10000000;

	if (fixture_create(&w, "r.pyprof") != 0)
		return -1;
	w.hdr->mode = PF_MODE_CPU;
	w.hdr->interval_ns = ms10;
	w.hdr->pid = 4242;
	w.hdr->ppid = 1;
	w.hdr->py_hexversion = 0x030800f0;
	strcpy(w.hdr->py_version, "3.8.0");
	strcpy(w.hdr->cwd, "/home/me/proj");
	strcpy(w.hdr->exe, "/opt/py/bin/python3.8");
	w.hdr->start_monotonic_ns = 1000;
	if (pf_writer_next_chunk(&w, &c))
		return -1;

	fixture_thread(&c, PF_THREAD_MAIN, "");
	for (guint i = 1; i < G_N_ELEMENTS(strings); i++)
		fixture_string(&c, i, strings[i]);
	fixture_code(&c, C_MODULE, S_APP, S_MODULE, 0, 1, lines, sizeof lines);
	fixture_code(&c, C_MAIN, S_APP, S_MAIN, 0, 10, lines, sizeof lines);
	fixture_code(&c, C_FIB, S_APP, S_FIB, 0, 20, NULL, 0);
	fixture_code(&c, C_LOADS, S_JSON_INIT, S_LOADS, 0, 299, NULL, 0);
	fixture_code(&c, C_DECODE, S_DECODER, S_DECODE, 0, 332, NULL, 0);
	fixture_code(&c, C_RAW, S_DECODER, S_RAW, 0, 343, NULL, 0);
	fixture_code(&c, C_GET, S_API, S_GET, 0, 64, NULL, 0);
	fixture_code(&c, C_REQUEST, S_API, S_REQUEST, 0, 16, NULL, 0);
	fixture_code(&c, C_SEND, S_SESSIONS, S_SEND, 0, 600, NULL, 0);
	fixture_code(&c, C_URLOPEN, S_POOL, S_URLOPEN, 0, 500, NULL, 0);
	fixture_code(&c, C_RECV, S_SOCKET, S_RECV, 0, 700, NULL, 0);
	fixture_code(&c, C_CALLBACK, S_APP, S_CALLBACK, 0, 30, lines, sizeof lines);
	fixture_code(&c, C_MAKE, S_POOL, S_MAKE, 0, 400, NULL, 0);
	for (int i = 0; i < 10; i++)
		fixture_sample(&c, ms10, ms10, PF_SAMPLE_GIL, 5, fib3, fib3_at);
	for (int i = 0; i < 5; i++)
		fixture_sample(&c, ms10, ms10, PF_SAMPLE_GIL, 3, fib3, fib3_at);
	for (int i = 0; i < 20; i++)
		fixture_sample(&c, ms10, ms10, PF_SAMPLE_GIL, 5, json, json_at);
	for (int i = 0; i < 2; i++)
		fixture_sample(&c, ms10, ms10, PF_SAMPLE_GIL, 3, json, json_at);
	for (int i = 0; i < 30; i++)
		fixture_sample(&c, ms10, ms10, PF_SAMPLE_GIL, 8, net, net_at);
	for (int i = 0; i < 8; i++)
		fixture_sample(&c, ms10, ms10, PF_SAMPLE_GIL, 6, back, back_at);
	w.hdr->samples = 75;
	pf_writer_finish(&w, PF_END_EXIT, 0);
	pf_writer_close(&w);
	return fixture_failed ? -1 : 0;
}

static void check_equal(const char *out, const char *want)
{
	CU_ASSERT_STRING_EQUAL(out, want);
	if (strcmp(out, want))
		fprintf(stderr, "\n--- want\n%s--- got\n%s---\n", want, out);
}

/* One node per function (main's three calling lines are one, shown at
 * its hottest), fib's staircase one node; in the requests call's library
 * run, what holds the time and the call back into the program stay, and
 * urllib3's two frames between them fold; one frame to fold (request,
 * json's decode) stays. */
static void test_report__default_tree(void)
{
	const char *a[] = {"report", "--color=never", NULL};
	char *out = NULL;

	CU_ASSERT_EQUAL(fixture_report(a, &out), 0);
	check_equal(out,
		"MainThread (pid 4242, tid 100): 75 samples, 0.750 s CPU\n"
		"0.750 100.0%  <module>  app.py:3\n"
		"└─ 0.750 100.0%  main  app.py:13\n"
		"   ├─ 0.380  50.7%  get  requests/api.py:64\n"
		"   │  └─ 0.380  50.7%  request  requests/api.py:16\n"
		"   │     └─ 0.380  50.7%  send  requests/sessions.py:600\n"
		"   │        ├─ 0.300  40.0%  [urllib3: 2 frames]\n"
		"   │        │  └─ 0.300  40.0%  recv_into  <stdlib>/socket.py:700\n"
		"   │        └─ 0.080  10.7%  callback  app.py:31\n"
		"   ├─ 0.220  29.3%  loads  <stdlib>/json/__init__.py:299\n"
		"   │  └─ 0.200  26.7%  decode  <stdlib>/json/decoder.py:332\n"
		"   │     └─ 0.200  26.7%  raw_decode  <stdlib>/json/decoder.py:343\n"
		"   └─ 0.150  20.0%  fib ×3  app.py:20\n");
	g_free(out);
}

static void test_report__lines_split_a_function_by_calling_line(void)
{
	const char *a[] = {"report", "--color=never", "--lines", "--depth=2", NULL};
	char *out = NULL;

	CU_ASSERT_EQUAL(fixture_report(a, &out), 0);
	check_equal(out,
		"MainThread (pid 4242, tid 100): 75 samples, 0.750 s CPU\n"
		"0.750 100.0%  <module>  app.py:3\n"
		"├─ 0.380  50.7%  main  app.py:13\n"
		"├─ 0.220  29.3%  main  app.py:12\n"
		"└─ 0.150  20.0%  main  app.py:11\n");
	g_free(out);
}

static void test_report__no_fold_keeps_every_frame(void)
{
	const char *a[] = {"report", "--color=never", "--no-fold", "--full-paths", NULL};
	char *out = NULL;

	CU_ASSERT_EQUAL(fixture_report(a, &out), 0);
	check_equal(out,
		"MainThread (pid 4242, tid 100): 75 samples, 0.750 s CPU\n"
		"0.750 100.0%  <module>  /home/me/proj/app.py:3\n"
		"└─ 0.750 100.0%  main  /home/me/proj/app.py:13\n"
		"   ├─ 0.380  50.7%  get  /opt/py/lib/python3.8/site-packages/requests/api.py:64\n"
		"   │  └─ 0.380  50.7%  request  /opt/py/lib/python3.8/site-packages/requests/api.py:16\n"
		"   │     └─ 0.380  50.7%  send  /opt/py/lib/python3.8/site-packages/requests/sessions.py:600\n"
		"   │        ├─ 0.300  40.0%  urlopen  /opt/py/lib/python3.8/site-packages/urllib3/connectionpool.py:500\n"
		"   │        │  └─ 0.300  40.0%  _make_request  /opt/py/lib/python3.8/site-packages/urllib3/connectionpool.py:400\n"
		"   │        │     └─ 0.300  40.0%  recv_into  /opt/py/lib/python3.8/socket.py:700\n"
		"   │        └─ 0.080  10.7%  callback  /home/me/proj/app.py:31\n"
		"   ├─ 0.220  29.3%  loads  /opt/py/lib/python3.8/json/__init__.py:299\n"
		"   │  └─ 0.200  26.7%  decode  /opt/py/lib/python3.8/json/decoder.py:332\n"
		"   │     └─ 0.200  26.7%  raw_decode  /opt/py/lib/python3.8/json/decoder.py:343\n"
		"   └─ 0.150  20.0%  fib  /home/me/proj/app.py:20\n"
		"      └─ 0.100  13.3%  fib  /home/me/proj/app.py:20\n"
		"         └─ 0.100  13.3%  fib  /home/me/proj/app.py:20\n");
	g_free(out);
}

/* A frame a --show rule names is never folded away; --show-all folds
 * nothing either */
static void test_report__show_exempts_from_folding(void)
{
	const char *a[] = {"report", "--color=never", "--show=function:urlopen", NULL};
	const char *all[] = {"report", "--color=never", "--show-all", NULL};
	char *out = NULL;

	CU_ASSERT_EQUAL(fixture_report(a, &out), 0);
	CHECK_HAS(out, "   │        ├─ 0.300  40.0%  urlopen  urllib3/connectionpool.py:500\n");
	CU_ASSERT_PTR_NULL(strstr(out, "frames]"));
	g_free(out);
	CU_ASSERT_EQUAL(fixture_report(all, &out), 0);
	CHECK_HAS(out, "request  requests/api.py:16\n");
	CHECK_HAS(out, "      └─ 0.100  13.3%  fib  app.py:20\n");
	CU_ASSERT_PTR_NULL(strstr(out, "frames]"));
	CU_ASSERT_PTR_NULL(strstr(out, "×"));
	g_free(out);
}

/* pyprof.conf's fold = false turns folding off; --no-fold is the same */
static void test_report__config_fold_false(void)
{
	char *conf = g_build_filename(fixture_dir, "pyprof.conf", NULL);
	char *opt = g_strconcat("--config=", conf, NULL);
	const char *a[] = {"report", "--color=never", opt, NULL};
	const char *b[] = {"report", "--color=never", "--no-fold", NULL};
	char *out = NULL, *out2 = NULL;

	CU_ASSERT_TRUE(g_file_set_contents(conf, "[report]\nfold = false\n", -1, NULL));
	CU_ASSERT_EQUAL(fixture_report(a, &out), 0);
	CU_ASSERT_EQUAL(fixture_report(b, &out2), 0);
	CHECK_HAS(out, "urlopen  urllib3/connectionpool.py:500\n");
	CU_ASSERT_PTR_NULL(strstr(out, "frames]"));
	CU_ASSERT_STRING_EQUAL(out, out2);
	g_unlink(conf);
	g_free(out);
	g_free(out2);
	g_free(opt);
	g_free(conf);
}

/* Machine formats keep every frame at its line */
static void test_report__collapsed_keeps_lines_and_frames(void)
{
	const char *a[] = {"report", "--format=collapsed", "--no-thread-frame", NULL};
	char *out = NULL;

	CU_ASSERT_EQUAL(fixture_report(a, &out), 0);
	CHECK_HAS(out, "<module> (/home/me/proj/app.py:3);main (/home/me/proj/app.py:11);"
		       "fib (/home/me/proj/app.py:20);fib (/home/me/proj/app.py:20);"
		       "fib (/home/me/proj/app.py:20) 10\n");
	CHECK_HAS(out, ";request (/opt/py/lib/python3.8/site-packages/requests/api.py:16);");
	g_free(out);
}

/* Colour follows origin: the program's names bold, its places cyan;
 * libraries' places dim; the folded run dim */
static void test_report__colour_by_origin(void)
{
	const char *a[] = {"report", "--color=always", NULL};
	char *out = NULL;

	CU_ASSERT_EQUAL(fixture_report(a, &out), 0);
	CHECK_HAS(out, "\033[1mcallback\033[0m  \033[36mapp.py:31\033[0m\n");
	CHECK_HAS(out, "recv_into\033[0m  \033[2m<stdlib>/socket.py:700\033[0m\n");
	CHECK_HAS(out, "\033[2m[urllib3: 2 frames]\033[0m\n");
	g_free(out);
}

UNIT_MAIN_SUITE("report", suite_init, fixture_clean,
		UNIT_TEST(test_report__default_tree),
		UNIT_TEST(test_report__lines_split_a_function_by_calling_line),
		UNIT_TEST(test_report__no_fold_keeps_every_frame),
		UNIT_TEST(test_report__show_exempts_from_folding),
		UNIT_TEST(test_report__config_fold_false),
		UNIT_TEST(test_report__collapsed_keeps_lines_and_frames),
		UNIT_TEST(test_report__colour_by_origin))
