/*
 * test_hide.c - hide rules, collapsing, stem trimming and pyprof.conf, on
 * small synthetic profiles built with the model's own builder functions.
 *
 * Each test writes its stacks as strings, root first, one frame per
 * "file:function" word ("app.py:main", "<frozen runpy>:_run_code"), with
 * a weight in ms, so the input reads like the tree it describes; '%'
 * stands for a space in a file name ("<frozen%runpy>"), and a word that
 * starts with '!' is a native frame, "!object:function".  In wall-mode
 * profiles a last word "[idle]" marks a sample taken while its thread
 * waited (the IDLE flag; it is no frame of the stack).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "collector/conf.h"
#include "collector/hide.h"
#include "collector/profile.h"
#include "collector/trim.h"
#include "tests/unit/unit.h"

/* ---- building profiles ---- */

struct sample {
	const char *stack; /* "file:func file:func ..." root first; "" empty */
	guint ms;
	guint thread;      /* 0 MainThread, 1 worker */
};

/* A frame from "file:func" (func may be a qualname "A.f": name is "f"),
 * or from "!object:function", native. */
static guint32 frame_of(struct profile *p, const char *word)
{
	const char *colon = strrchr(word, ':');
	char *file = g_strndup(word, (gsize)(colon - word));
	g_strdelimit(file, "%", ' '); /* stacks are split at spaces */
	const char *qual = colon + 1, *dot = strrchr(qual, '.');
	const char *name = dot && qual[0] != '<' ? dot + 1 : qual;
	guint32 id = file[0] == '!'
		? profile_frame_intern_native(p, profile_intern(p, file + 1, -1),
					      profile_intern(p, qual, -1), NULL, -1)
		: profile_frame_intern(p, PROFILE_FRAME_PYTHON,
				       profile_intern(p, file, -1),
				       profile_intern(p, name, -1),
				       profile_intern(p, qual, -1), 1, 1, -1);
	g_free(file);
	return id;
}

static struct profile *make_mode(const struct sample *s, gsize n,
				  enum profile_mode mode)
{
	struct profile *p = profile_new();
	struct profile_process info = {.path = "t.pyprof", .pid = 7,
				       .mode = mode, .complete = TRUE};

	profile_add_process(p, &info);
	profile_add_thread(p, 0, 1, 7, PROFILE_THREAD_MAIN, 0, NULL, 0);
	profile_add_thread(p, 0, 2, 8, 0, 0, "worker", 6);
	for (gsize i = 0; i < n; i++) {
		char **words = g_strsplit(s[i].stack, " ", -1);
		guint32 stack = 0, flags = 0;
		guint64 ns = (guint64)s[i].ms * 1000000;
		for (char **w = words; *w; w++)
			if (!strcmp(*w, "[idle]"))
				flags |= PROFILE_SAMPLE_IDLE;
			else if (**w)
				stack = profile_stack_push(p, stack, frame_of(p, *w));
		/* wall mode: a running sample's time all CPU, an idle
		 * one's none (profile_sample_wait_ns splits by the clocks) */
		profile_add_sample(p, s[i].thread, 1000 + i,
				   mode == PROFILE_MODE_WALL && flags ? 0 : ns,
				   mode == PROFILE_MODE_WALL ? ns : 0, flags, stack);
		g_strfreev(words);
	}
	return p;
}

static struct profile *make(const struct sample *s, gsize n)
{
	return make_mode(s, n, PROFILE_MODE_CPU);
}

/* Builds the tree of p shaped by rules (NULL: none) and trimming. */
static struct profile_tree *shape(struct profile *p, struct hide_rules *r,
				  gboolean trim, double self_percent)
{
	struct profile_tree_options o = {.group = PROFILE_GROUP_THREAD};
	struct profile_tree *t;

	if (r) {
		hide_rules_apply(r, p);
		o.classify = hide_rules_classify;
		o.classify_stack = hide_rules_classify_stack;
		o.classify_data = r;
	}
	t = profile_tree_build(p, &o);
	if (trim) {
		struct trim_options to = {hide_rules_plumbing, r, self_percent};
		trim_stem(t, &to);
	}
	return t;
}

/* The tree as text: "label(ms)[children]" depth first, for whole-tree
 * comparisons: "MainThread(10)[main(10)[work(6)]]". */
static void dump_node(const struct profile_tree *t, guint32 id, GString *b)
{
	const struct profile_node *nd = profile_tree_node(t, id);
	guint32 n;
	const guint32 *kids = profile_tree_children(t, id, &n);

	g_string_append_printf(b, "%s(%" G_GUINT64_FORMAT ")",
			       profile_frame_label(profile_frame(t->profile, nd->frame)),
			       nd->total_ns / 1000000);
	if (n) {
		g_string_append_c(b, '[');
		for (guint32 i = 0; i < n; i++) {
			if (i)
				g_string_append_c(b, ' ');
			dump_node(t, kids[i], b);
		}
		g_string_append_c(b, ']');
	}
}

/* The dump of thread `thread`'s subtree (NULL-safe string compare). */
static char *dump(const struct profile_tree *t, guint thread)
{
	GString *b = g_string_new(NULL);
	guint32 n;
	const guint32 *threads = profile_tree_children(t, 0, &n);

	for (guint32 i = 0; i < n; i++)
		if (profile_tree_node(t, threads[i])->thread == (int)thread)
			dump_node(t, threads[i], b);
	return g_string_free(b, FALSE);
}

#define CHECK_TREE(t, thread, want)                                          \
	do {                                                                 \
		char *got_ = dump(t, thread);                                \
		CU_ASSERT_STRING_EQUAL(got_, want);                          \
		if (strcmp(got_, want))                                      \
			fprintf(stderr, "\n  want %s\n  got  %s\n", want, got_); \
		g_free(got_);                                                \
	} while (0)

static struct hide_rules *rules(enum hide_action a, const char *spec)
{
	struct hide_rules *r = hide_rules_new();
	GError *e = NULL;
	CU_ASSERT_TRUE(hide_rules_add(r, HIDE_LEVEL_CMDLINE, a, spec, &e));
	if (e)
		fprintf(stderr, "\n  %s: %s\n", spec, e->message), g_error_free(e);
	return r;
}

/* The tree of p with the one rule `spec`, dumped for thread 0. */
static char *dump_with(struct profile *p, enum hide_action a, const char *spec)
{
	struct hide_rules *r = rules(a, spec);
	struct profile_tree *t = shape(p, r, FALSE, 0);
	char *d = dump(t, 0);

	profile_tree_free(t);
	hide_rules_free(r);
	return d;
}

#define CHECK_DUMP(got, want)                                                \
	do {                                                                 \
		char *got_ = (got);                                          \
		CU_ASSERT_STRING_EQUAL(got_, want);                          \
		if (strcmp(got_, want))                                      \
			fprintf(stderr, "\n  want %s\n  got  %s\n", want, got_); \
		g_free(got_);                                                \
	} while (0)

/* Whether the one-rule set `spec` (NULL: the built-in machinery rules)
 * hides frame "word". */
static gboolean hides(const char *spec, const char *word)
{
	struct profile *p = profile_new();
	guint32 f = frame_of(p, word);
	struct hide_rules *r = spec ? rules(HIDE_ACTION_HIDE, spec) : hide_rules_new();
	gboolean hit;

	if (!spec)
		hide_rules_add_machinery(r);
	hide_rules_apply(r, p);
	hit = hide_rules_classify(p, f, r) == PROFILE_TREE_HIDDEN;
	hide_rules_free(r);
	profile_free(p);
	return hit;
}

/* ---- the matcher ---- */

static void test_hide__function_glob_matches_name_or_qualname(void)
{
	CU_ASSERT_TRUE(hides("run_cell", "/x/IPython/core/interactiveshell.py:InteractiveShell.run_cell"));
	CU_ASSERT_TRUE(hides("InteractiveShell.*", "/x/shell.py:InteractiveShell.run_cell"));
	CU_ASSERT_TRUE(hides("run_*", "app.py:run_all"));
	CU_ASSERT_FALSE(hides("run", "app.py:run_all"));
	CU_ASSERT_FALSE(hides("name:InteractiveShell.*", "/x/shell.py:InteractiveShell.run_cell"));
	CU_ASSERT_TRUE(hides("qualname:InteractiveShell.run_cell", "/x/shell.py:InteractiveShell.run_cell"));
	CU_ASSERT_FALSE(hides("qualname:run_cell", "/x/shell.py:InteractiveShell.run_cell"));
}

static void test_hide__file_glob_and_regex(void)
{
	CU_ASSERT_TRUE(hides("file:*/site-packages/requests/*", "/v/lib/python3.11/site-packages/requests/api.py:get"));
	CU_ASSERT_FALSE(hides("file:*/requests/*", "/home/me/app.py:get"));
	CU_ASSERT_TRUE(hides("file~/(requests|urllib3)/", "/v/site-packages/urllib3/pool.py:urlopen"));
	CU_ASSERT_FALSE(hides("file~^/(requests|urllib3)/", "/v/site-packages/urllib3/pool.py:urlopen"));
	CU_ASSERT_TRUE(hides("~^_run_.*", "<frozen runpy>:_run_code"));
}

static void test_hide__module_matches_package_and_submodules(void)
{
	CU_ASSERT_TRUE(hides("module:runpy", "<frozen runpy>:_run_code"));
	CU_ASSERT_TRUE(hides("module:runpy", "/usr/lib/python3.9/runpy.py:_run_code"));
	CU_ASSERT_TRUE(hides("module:asyncio", "/usr/lib/python3.11/asyncio/base_events.py:BaseEventLoop.run_forever"));
	CU_ASSERT_TRUE(hides("module:asyncio.base_events", "/usr/lib/python3.11/asyncio/base_events.py:f"));
	CU_ASSERT_FALSE(hides("module:asyncio.events", "/usr/lib/python3.11/asyncio/base_events.py:f"));
	CU_ASSERT_FALSE(hides("module:async", "/usr/lib/python3.11/asyncio/base_events.py:f"));
	CU_ASSERT_TRUE(hides("module~^asyncio$", "/usr/lib/python3.11/asyncio/__init__.py:f"));
	CU_ASSERT_FALSE(hides("module~^asyncio$", "/usr/lib/python3.11/asyncio/tasks.py:f"));
}

/* Whether the built-in native rules (or the one rule `spec`, if given)
 * hide the native frame `name` of object `object`. */
static gboolean hides_native(const char *spec, const char *object,
			     const char *name)
{
	struct profile *p = profile_new();
	guint32 f = profile_frame_intern_native(p, profile_intern(p, object, -1),
						profile_intern(p, name, -1),
						NULL, -1);
	struct hide_rules *r = spec ? rules(HIDE_ACTION_HIDE, spec)
				    : hide_rules_new();
	gboolean hit;

	if (!spec)
		hide_rules_add_native(r);
	hide_rules_apply(r, p);
	hit = hide_rules_classify(p, f, r) == PROFILE_TREE_HIDDEN;
	hide_rules_free(r);
	profile_free(p);
	return hit;
}

static void test_hide__object_matches_native_frames_only(void)
{
	CU_ASSERT_TRUE(hides_native("object:libz.so*", "/lib/x86_64-linux-gnu/libz.so.1", "deflate"));
	CU_ASSERT_FALSE(hides_native("object:libz.so*", "/lib/x86_64-linux-gnu/libc.so.6", "deflate"));
	CU_ASSERT_TRUE(hides_native("deflate", "/lib/libz.so.1", "deflate"));
	/* Python frames have no object */
	CU_ASSERT_FALSE(hides("object:*", "/home/me/app.py:deflate"));
	CU_ASSERT_FALSE(hides("object:* deflate", "/home/me/app.py:deflate"));
}

static void test_hide__interpreter_native_frames_hidden_by_default(void)
{
	static const char *const machinery[] = {
		"_PyEval_EvalFrameDefault", "_PyEval_Vector", "PyEval_EvalCode",
		"_PyFunction_Vectorcall", "_PyObject_MakeTpCall",
		"cfunction_vectorcall_O", "method_vectorcall_FASTCALL",
		"PyObject_Vectorcall", "_PyObject_VectorcallTstate",
		"cfunction_call", "slot_tp_call", "call_function",
		"Py_BytesMain", "pymain_run_python", "_PyRun_SimpleFileObject",
		"run_mod", "main", "__libc_start_main", "_start", "clone3",
		"start_thread", "thread_run", "python3.11+0x1a2b3",
		"gen_send", "PyGen_am_send", "gen_iternext",
	};
	static const char *const kept[] = {
		"zlib_compress", "deflate", "builtin_sorted", "list_sort_impl",
		"gc_collect_main", "take_gil", "PyObject_Malloc", "main_loop",
		"sha256_block_data_order",
	};

	for (gsize i = 0; i < G_N_ELEMENTS(machinery); i++) {
		const char *obj = g_str_has_prefix(machinery[i], "python3.11")
					  ? "/usr/bin/python3.11"
					  : "/usr/lib/libpython3.11.so.1.0";
		if (!hides_native(NULL, obj, machinery[i]))
			CU_FAIL_FATAL(machinery[i]);
	}
	for (gsize i = 0; i < G_N_ELEMENTS(kept); i++)
		if (hides_native(NULL, "/usr/lib/libpython3.11.so.1.0", kept[i]))
			CU_FAIL_FATAL(kept[i]);
	/* the unnamed parts of other objects are theirs, not machinery */
	CU_ASSERT_FALSE(hides_native(NULL, "/lib/libz.so.1", "libz.so.1+0x1a2b"));
	/* and a Python function of the same name is the program's */
	{
		struct profile *p = profile_new();
		guint32 f = frame_of(p, "/home/me/app.py:_PyEval_EvalFrameDefault");
		struct hide_rules *r = hide_rules_new();
		hide_rules_add_native(r);
		hide_rules_apply(r, p);
		CU_ASSERT_NOT_EQUAL(hide_rules_classify(p, f, r), PROFILE_TREE_HIDDEN);
		hide_rules_free(r);
		profile_free(p);
	}
}

#define LIB38 "/usr/lib/python3.8/"
#define LIB "/usr/lib/python3.12/"

static void test_hide__python_machinery_hidden_by_default(void)
{
	/* frozen from 3.11 (importlib's bootstrap always), files before;
	 * qualnames from 3.11, names before */
	static const char *const machinery[] = {
		"<frozen%importlib._bootstrap>:_find_and_load",
		"<frozen%importlib._bootstrap>:_call_with_frames_removed",
		"<frozen%importlib._bootstrap_external>:_LoaderBasics.exec_module",
		"<frozen%importlib._bootstrap_external>:SourceLoader.get_code",
		LIB38 "importlib/_bootstrap.py:_load_unlocked",
		LIB38 "importlib/_bootstrap_external.py:exec_module",
		"<frozen%zipimport>:zipimporter.exec_module",
		LIB "importlib/__init__.py:import_module",
		"<frozen%site>:<module>", "<frozen%site>:addsitedir",
		"<frozen%site>:StartupState._exec_imports",
		LIB38 "site.py:addpackage", "/opt/py/lib/python3.10/site.py:main",
		"<frozen%runpy>:_run_module_as_main", "<frozen%runpy>:run_path",
		LIB38 "runpy.py:_run_code",
		LIB "threading.py:Thread._bootstrap", LIB "threading.py:Thread._bootstrap_inner",
		LIB "threading.py:Thread.run", LIB38 "threading.py:run",
		LIB38 "threading.py:_bootstrap_inner",
		LIB "concurrent/futures/thread.py:_worker",
		LIB "concurrent/futures/thread.py:_WorkItem.run",
		"/usr/lib/python3.14/concurrent/futures/thread.py:WorkerContext.run",
		LIB "concurrent/futures/process.py:_process_worker",
		LIB "multiprocessing/process.py:BaseProcess._bootstrap",
		LIB "multiprocessing/process.py:BaseProcess.run",
		LIB38 "multiprocessing/process.py:_bootstrap",
		LIB "multiprocessing/popen_fork.py:Popen._launch",
		LIB "multiprocessing/popen_fork.py:Popen.__init__",
		LIB "multiprocessing/popen_spawn_posix.py:Popen._launch",
		LIB "multiprocessing/popen_forkserver.py:Popen._launch",
		LIB "multiprocessing/context.py:ForkProcess._Popen",
		LIB "multiprocessing/spawn.py:spawn_main", LIB "multiprocessing/spawn.py:_main",
		LIB "multiprocessing/forkserver.py:main",
		LIB "multiprocessing/forkserver.py:_serve_one",
		LIB "multiprocessing/pool.py:worker", LIB "multiprocessing/pool.py:mapstar",
	};
	/* what a program calls, and waits in, stays */
	static const char *const kept[] = {
		LIB "threading.py:Thread.start", LIB "threading.py:Thread.join",
		LIB "threading.py:Thread._wait_for_tstate_lock",
		LIB "threading.py:Condition.wait", LIB "threading.py:Event.wait",
		LIB "threading.py:_shutdown", LIB38 "threading.py:join",
		LIB "concurrent/futures/_base.py:Future.result",
		LIB "concurrent/futures/thread.py:ThreadPoolExecutor.submit",
		LIB "concurrent/futures/process.py:_sendback_result",
		LIB "concurrent/futures/process.py:_ExecutorManagerThread.run",
		LIB "multiprocessing/process.py:BaseProcess.start",
		LIB "multiprocessing/process.py:BaseProcess.join",
		LIB "multiprocessing/pool.py:Pool.map",
		LIB "multiprocessing/queues.py:Queue.get",
		LIB "multiprocessing/context.py:BaseContext.Pool",
		LIB "multiprocessing/resource_tracker.py:main",
		LIB "importlib/__init__.py:reload",
		LIB "importlib/metadata/__init__.py:version",
		LIB "asyncio/runners.py:run",
		/* a program's own site.py, run(), Thread subclass */
		"/home/me/site.py:<module>", "/home/me/blog/site.py:build",
		"/home/me/app.py:run", "/home/me/app.py:Worker.run",
		"/home/me/app.py:_bootstrap",
		/* `python -c`'s code, and an exec's */
		"<string>:<module>",
	};

	for (gsize i = 0; i < G_N_ELEMENTS(machinery); i++) {
		gboolean hit = hides(NULL, machinery[i]);
		CU_ASSERT_TRUE(hit);
		if (!hit)
			fprintf(stderr, "\n  shown: %s\n", machinery[i]);
	}
	for (gsize i = 0; i < G_N_ELEMENTS(kept); i++) {
		gboolean hit = hides(NULL, kept[i]);
		CU_ASSERT_FALSE(hit);
		if (hit)
			fprintf(stderr, "\n  hidden: %s\n", kept[i]);
	}
}

/* site runs a .pth file's import lines with exec(line), which compiles
 * them as <string>, as `python -c` is */
static const struct sample pth[] = {
	{"<frozen%site>:<module> <frozen%site>:main <frozen%site>:addsitepackages "
	 "<frozen%site>:addsitedir <frozen%site>:addpackage <string>:<module> "
	 "/u/site-packages/pthmod.py:<module> /u/site-packages/pthmod.py:burn", 5, 0},
	/* 3.15: StartupState; 3.8: a file, no qualnames; native mode */
	{"<frozen%site>:<module> <frozen%site>:StartupState._exec_imports <string>:<module> "
	 "/u/site-packages/pthmod.py:<module>", 1, 0},
	{LIB38 "site.py:<module> " LIB38 "site.py:addpackage <string>:<module> "
	 "/u/site-packages/pthmod.py:<module>", 1, 0},
	{"<frozen%site>:addpackage !/usr/bin/python3.12:builtin_exec <string>:<module> "
	 "/u/site-packages/pthmod.py:<module>", 1, 0},
	/* python -c 'exec("burn()")', and a program's own addpackage (in
	 * another thread: the .pth line and python -c's are the same frame) */
	{"<string>:<module> <string>:<module> app.py:burn", 2, 1},
	{"app.py:addpackage <string>:<module> app.py:burn", 4, 1},
};

static void test_hide__pth_import_lines_hidden_python_c_kept(void)
{
	struct profile *p = make(pth, G_N_ELEMENTS(pth));
	struct hide_rules *r = hide_rules_new();
	struct profile_tree *t;

	hide_rules_add_machinery(r);
	hide_rules_add_native(r);
	t = shape(p, r, FALSE, 0);
	/* pthmod's <module> at the top */
	CHECK_TREE(t, 0, "MainThread(8)[<module>(8)[burn(5)]]");
	CHECK_TREE(t, 1, "worker(6)[addpackage(4)[<module>(4)[burn(4)]] <module>(2)[<module>(2)[burn(2)]]]");
	profile_tree_free(t);
	/* a show rule brings them back, over the default level */
	CU_ASSERT_TRUE(hide_rules_add(r, HIDE_LEVEL_CMDLINE, HIDE_ACTION_SHOW, "file:<string>", NULL));
	t = shape(p, r, FALSE, 0);
	CHECK_TREE(t, 0, "MainThread(8)[<module>(8)[<module>(8)[burn(5)]]]");
	profile_tree_free(t);
	hide_rules_free(r);
	profile_free(p);
}

static void test_hide__machinery_presets_stay_and_put_defaults_back(void)
{
	static const struct sample s[] = {
		{"<frozen%runpy>:_run_module_as_main <frozen%runpy>:_run_code app.py:<module> "
		 "<frozen%importlib._bootstrap>:_find_and_load lib.py:<module>", 3, 0},
	};
	static const char *const names[] = {"importlib", "site", "runpy",
					    "threading", "multiprocessing"};
	struct profile *p = make(s, G_N_ELEMENTS(s));
	struct hide_rules *r = hide_rules_new();
	struct profile_tree *t;

	for (gsize i = 0; i < G_N_ELEMENTS(names); i++)
		CU_ASSERT_TRUE(hide_rules_add_preset(r, HIDE_LEVEL_CONFIG, names[i], NULL));
	hide_rules_free(r);
	/* the defaults; a config file's show rule turns one off; the
	 * preset on the command line puts it back over that */
	r = hide_rules_new();
	hide_rules_add_machinery(r);
	t = shape(p, r, FALSE, 0);
	CHECK_TREE(t, 0, "MainThread(3)[<module>(3)[<module>(3)]]");
	profile_tree_free(t);
	CU_ASSERT_TRUE(hide_rules_add(r, HIDE_LEVEL_CONFIG, HIDE_ACTION_SHOW, "module:runpy", NULL));
	t = shape(p, r, FALSE, 0);
	CHECK_TREE(t, 0, "MainThread(3)[_run_module_as_main(3)[_run_code(3)[<module>(3)[<module>(3)]]]]");
	profile_tree_free(t);
	CU_ASSERT_TRUE(hide_rules_add_preset(r, HIDE_LEVEL_CMDLINE, "runpy", NULL));
	t = shape(p, r, FALSE, 0);
	CHECK_TREE(t, 0, "MainThread(3)[<module>(3)[<module>(3)]]");
	profile_tree_free(t);
	hide_rules_free(r);
	profile_free(p);
}

static void test_hide__terms_must_all_match(void)
{
	const char *rule = "module:threading function~^(Thread\\.)?run$";
	CU_ASSERT_TRUE(hides(rule, "/usr/lib/python3.11/threading.py:Thread.run"));
	CU_ASSERT_FALSE(hides(rule, "/usr/lib/python3.11/threading.py:Thread.join"));
	CU_ASSERT_FALSE(hides(rule, "/home/me/app.py:Thread.run"));
}

/* ---- caller. terms ---- */

static const struct sample execs[] = {
	/* `python -c CODE`, and an exec of its own */
	{"<string>:<module> app.py:work", 1, 0},
	{"<string>:<module> <string>:<module> app.py:work", 2, 0},
	/* run() exec'ing a string, its own time, and through exec's native
	 * frames as a native-mode stack records them */
	{"app.py:run <string>:<module> app.py:work", 4, 0},
	{"app.py:run", 8, 0},
	{"app.py:run !libpython3.12.so.1.0:builtin_exec !libpython3.12.so.1.0:PyEval_EvalCode <string>:<module> app.py:work", 16, 0},
};

static void test_hide__caller_terms_test_the_recorded_caller(void)
{
	struct profile *p = make(execs, G_N_ELEMENTS(execs));
	struct hide_rules *r = rules(HIDE_ACTION_HIDE, "file:<string> caller.function:run");
	struct profile_tree *t;

	/* a frame without a caller, or with another one, is not the rule's;
	 * native frames between run and <string> are no caller */
	t = shape(p, r, FALSE, 0);
	CHECK_TREE(t, 0, "MainThread(31)[run(28)[builtin_exec(16)[PyEval_EvalCode(16)[work(16)]] work(4)] "
			 "<module>(3)[<module>(2)[work(2)] work(1)]]");
	profile_tree_free(t);
	/* the caller counts as recorded, hidden or not */
	CU_ASSERT_TRUE(hide_rules_add(r, HIDE_LEVEL_CMDLINE, HIDE_ACTION_HIDE, "object:*", NULL));
	CU_ASSERT_TRUE(hide_rules_add(r, HIDE_LEVEL_CMDLINE, HIDE_ACTION_HIDE, "run", NULL));
	t = shape(p, r, FALSE, 0);
	CHECK_TREE(t, 0, "MainThread(31)[work(20) <module>(3)[<module>(2)[work(2)] work(1)]]");
	profile_tree_free(t);
	hide_rules_free(r);
	/* the caller of the inner <string> is the outer one */
	r = rules(HIDE_ACTION_HIDE, "file:<string> caller.file:<string>");
	t = shape(p, r, FALSE, 0);
	CHECK_TREE(t, 0, "MainThread(31)[run(28)[builtin_exec(16)[PyEval_EvalCode(16)[<module>(16)[work(16)]]] "
			 "<module>(4)[work(4)]] <module>(3)[work(3)]]");
	profile_tree_free(t);
	hide_rules_free(r);
	profile_free(p);
}

static void test_hide__caller_verdict_is_contextual_per_frame(void)
{
	struct profile *p = make(execs, G_N_ELEMENTS(execs));
	struct hide_rules *r = rules(HIDE_ACTION_HIDE, "file:<string> caller.function:run");
	guint32 code = frame_of(p, "<string>:<module>");

	hide_rules_apply(r, p);
	/* only the frames the rest of a caller. rule matches wait for a
	 * stack; the others have their verdict */
	CU_ASSERT_EQUAL(hide_rules_classify(p, code, r), PROFILE_TREE_CONTEXTUAL);
	CU_ASSERT_EQUAL(hide_rules_classify(p, frame_of(p, "app.py:run"), r), 0);
	/* the frame stays contextual with a show rule of its level, which
	 * then wins in every context */
	CU_ASSERT_TRUE(hide_rules_add(r, HIDE_LEVEL_CMDLINE, HIDE_ACTION_SHOW, "file:<string>", NULL));
	hide_rules_apply(r, p);
	CU_ASSERT_EQUAL(hide_rules_classify(p, code, r), PROFILE_TREE_CONTEXTUAL);
	{
		struct profile_tree *t = shape(p, r, FALSE, 0);
		CHECK_TREE(t, 0, "MainThread(31)[run(28)[builtin_exec(16)[PyEval_EvalCode(16)[<module>(16)[work(16)]]] "
				 "<module>(4)[work(4)]] <module>(3)[<module>(2)[work(2)] work(1)]]");
		profile_tree_free(t);
	}
	hide_rules_free(r);
	profile_free(p);
}

static void test_hide__caller_collapse_has_its_group(void)
{
	struct profile *p = make(execs, G_N_ELEMENTS(execs));
	struct hide_rules *r = rules(HIDE_ACTION_COLLAPSE, "exec=file:<string> caller.name:run");
	struct profile_tree *t;

	CU_ASSERT_TRUE(hide_rules_add(r, HIDE_LEVEL_CMDLINE, HIDE_ACTION_HIDE, "object:*", NULL));
	t = shape(p, r, FALSE, 0);
	CHECK_TREE(t, 0, "MainThread(31)[run(28)[[exec](20)[work(20)]] <module>(3)[<module>(2)[work(2)] work(1)]]");
	profile_tree_free(t);
	hide_rules_free(r);
	profile_free(p);
}

static void test_hide__caller_rules_that_cannot_be(void)
{
	static const char *const bad[][3] = {
		{"h", "caller.modul:x", "unknown field 'caller.modul'"},
		{"h", "caller.object:libz*", "a caller is a Python frame"},
		{"h", "caller.:x", "unknown field 'caller.'"},
		{"p", "file:<string> caller.module:site", "not plumbing"},
	};
	struct hide_rules *r = hide_rules_new();

	for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
		GError *e = NULL;
		CU_ASSERT_FALSE(hide_rules_add(r, HIDE_LEVEL_CMDLINE,
					       bad[i][0][0] == 'p' ? HIDE_ACTION_PLUMBING
								   : HIDE_ACTION_HIDE,
					       bad[i][1], &e));
		CU_ASSERT_PTR_NOT_NULL(e && strstr(e->message, bad[i][2]));
		if (e && !strstr(e->message, bad[i][2]))
			fprintf(stderr, "\n  %s: %s\n", bad[i][1], e->message);
		g_clear_error(&e);
	}
	CU_ASSERT_EQUAL(hide_rules_count(r), 0);
	/* every other field, caller. or not */
	CU_ASSERT_TRUE(hide_rules_add(r, HIDE_LEVEL_CMDLINE, HIDE_ACTION_SHOW,
				      "caller.file:a caller.module:b caller.name:c "
				      "caller.qualname:d caller.function~e", NULL));
	hide_rules_free(r);
}

static void test_hide__bad_rules_are_errors(void)
{
	struct hide_rules *r = hide_rules_new();
	GError *e = NULL;

	CU_ASSERT_FALSE(hide_rules_add(r, HIDE_LEVEL_CMDLINE, HIDE_ACTION_HIDE, "modul:x", &e));
	CU_ASSERT_PTR_NOT_NULL(e && strstr(e->message, "unknown field 'modul'"));
	g_clear_error(&e);
	CU_ASSERT_FALSE(hide_rules_add(r, HIDE_LEVEL_CMDLINE, HIDE_ACTION_HIDE, "file~(", &e));
	CU_ASSERT_PTR_NOT_NULL(e && strstr(e->message, "bad regular expression"));
	g_clear_error(&e);
	CU_ASSERT_FALSE(hide_rules_add(r, HIDE_LEVEL_CMDLINE, HIDE_ACTION_HIDE, "g=module:x", &e));
	CU_ASSERT_PTR_NOT_NULL(e && strstr(e->message, "only for collapse"));
	g_clear_error(&e);
	CU_ASSERT_FALSE(hide_rules_add(r, HIDE_LEVEL_CMDLINE, HIDE_ACTION_HIDE, "  ", &e));
	g_clear_error(&e);
	CU_ASSERT_FALSE(hide_rules_add_preset(r, HIDE_LEVEL_CMDLINE, "jupyter", &e));
	CU_ASSERT_PTR_NOT_NULL(e && strstr(e->message, "expected ipython, importlib"));
	g_clear_error(&e);
	CU_ASSERT_EQUAL(hide_rules_count(r), 0);
	hide_rules_free(r);
}

static void test_hide__module_of_paths(void)
{
	static const char *const cases[][2] = {
		{"<frozen runpy>", "runpy"},
		{"<frozen importlib._bootstrap>", "importlib._bootstrap"},
		{"/v/lib/python3.11/site-packages/requests/api.py", "requests.api"},
		{"/v/lib/python3.11/site-packages/IPython/__init__.py", "IPython"},
		{"/usr/lib/python3/dist-packages/yaml/main.py", "yaml.main"},
		{"/usr/lib/python3.11/json/decoder.py", "json.decoder"},
		{"/usr/lib/python3.11/threading.py", "threading"},
		{"/home/me/app.py", "app"},
		{"<string>", ""},
		{"<ipython-input-3-0123456789ab>", ""},
	};
	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		char *m = hide_module_of(cases[i][0]);
		CU_ASSERT_STRING_EQUAL(m, cases[i][1]);
		g_free(m);
	}
}

/* ---- hiding and collapsing on trees ---- */

static const struct sample program[] = {
	{"app.py:<module> app.py:main lib.py:helper app.py:work", 6, 0},
	{"app.py:<module> app.py:main lib.py:helper", 2, 0},
	{"app.py:<module> app.py:main app.py:idle", 1, 0},
	{"app.py:<module>", 1, 0},
	{"w.py:loop", 3, 1},
};

static void test_hide__hidden_frame_reparents_callees_and_keeps_totals(void)
{
	struct profile *p = make(program, G_N_ELEMENTS(program));
	struct profile_tree *all = profile_tree_build(p, NULL);
	struct hide_rules *r = rules(HIDE_ACTION_HIDE, "helper");
	struct profile_tree *t = shape(p, r, FALSE, 0);

	CHECK_TREE(t, 0, "MainThread(10)[<module>(10)[main(9)[work(6) idle(1)]]]");
	CU_ASSERT_EQUAL(profile_tree_node(t, 0)->total_ns, profile_tree_node(all, 0)->total_ns);
	CU_ASSERT_EQUAL(profile_tree_node(t, 0)->total_samples, 5);
	profile_tree_free(t);
	profile_tree_free(all);
	hide_rules_free(r);
	profile_free(p);
}

static void test_hide__hidden_root_frame_time_goes_to_thread(void)
{
	struct profile *p = make(program, G_N_ELEMENTS(program));
	struct hide_rules *r = rules(HIDE_ACTION_HIDE, "<module>");
	struct profile_tree *t = shape(p, r, FALSE, 0);
	guint32 n;
	const guint32 *threads = profile_tree_children(t, 0, &n);

	CHECK_TREE(t, 0, "MainThread(10)[main(9)[helper(8)[work(6)] idle(1)]]");
	CU_ASSERT_EQUAL(profile_tree_node(t, threads[0])->self_ns, 1000000);
	profile_tree_free(t);
	hide_rules_free(r);
	profile_free(p);
}

static const struct sample library[] = {
	/* requests' internals between two of the user's frames */
	{"app.py:main /sp/site-packages/requests/api.py:get /sp/site-packages/requests/sessions.py:Session.request /sp/site-packages/urllib3/pool.py:urlopen app.py:hook", 4, 0},
	{"app.py:main /sp/site-packages/requests/api.py:get /sp/site-packages/requests/sessions.py:Session.request", 3, 0},
	{"app.py:main /sp/site-packages/requests/api.py:get app.py:callback /sp/site-packages/requests/models.py:Response.json", 2, 0},
	{"app.py:main", 1, 0},
};

static void test_hide__collapse_makes_one_node_per_run(void)
{
	struct profile *p = make(library, G_N_ELEMENTS(library));
	struct hide_rules *r = rules(HIDE_ACTION_COLLAPSE, "http=module:requests");
	struct profile_tree *t;

	CU_ASSERT_TRUE(hide_rules_add(r, HIDE_LEVEL_CMDLINE, HIDE_ACTION_COLLAPSE,
				      "http=module:urllib3", NULL));
	t = shape(p, r, FALSE, 0);
	/* a user frame between two runs starts a second [http] node */
	CHECK_TREE(t, 0, "MainThread(10)[main(10)[[http](9)[hook(4) callback(2)[[http](2)]]]]");
	profile_tree_free(t);
	hide_rules_free(r);
	profile_free(p);
}

static void test_hide__collapse_group_named_after_pattern(void)
{
	struct profile *p = make(library, G_N_ELEMENTS(library));
	struct hide_rules *r = rules(HIDE_ACTION_COLLAPSE, "module:requests");
	struct profile_tree *t = shape(p, r, FALSE, 0);

	/* urllib3 is not in the group: it splits the run */
	CHECK_TREE(t, 0, "MainThread(10)[main(10)[[requests](9)[urlopen(4)[hook(4)] callback(2)[[requests](2)]]]]");
	profile_tree_free(t);
	hide_rules_free(r);
	profile_free(p);
}

static void test_hide__hidden_frames_inside_a_run_do_not_split_it(void)
{
	struct profile *p = make(library, G_N_ELEMENTS(library));
	struct hide_rules *r = rules(HIDE_ACTION_COLLAPSE, "module:requests");
	struct profile_tree *t;

	CU_ASSERT_TRUE(hide_rules_add(r, HIDE_LEVEL_CMDLINE, HIDE_ACTION_HIDE,
				      "module:urllib3", NULL));
	t = shape(p, r, FALSE, 0);
	CHECK_TREE(t, 0, "MainThread(10)[main(10)[[requests](9)[hook(4) callback(2)[[requests](2)]]]]");
	profile_tree_free(t);
	hide_rules_free(r);
	profile_free(p);
}

static void test_hide__precedence_levels_then_show_hide_collapse(void)
{
	struct profile *p = make(program, G_N_ELEMENTS(program));
	struct hide_rules *r = hide_rules_new();
	struct profile_tree *t;

	/* config hides main and helper; the command line shows main again */
	CU_ASSERT_TRUE(hide_rules_add(r, HIDE_LEVEL_CONFIG, HIDE_ACTION_HIDE, "main", NULL));
	CU_ASSERT_TRUE(hide_rules_add(r, HIDE_LEVEL_CONFIG, HIDE_ACTION_HIDE, "helper", NULL));
	CU_ASSERT_TRUE(hide_rules_add(r, HIDE_LEVEL_CMDLINE, HIDE_ACTION_SHOW, "main", NULL));
	/* one level: hide beats collapse, show beats hide */
	CU_ASSERT_TRUE(hide_rules_add(r, HIDE_LEVEL_ENV, HIDE_ACTION_COLLAPSE, "file:app.py", NULL));
	CU_ASSERT_TRUE(hide_rules_add(r, HIDE_LEVEL_ENV, HIDE_ACTION_HIDE, "idle", NULL));
	CU_ASSERT_TRUE(hide_rules_add(r, HIDE_LEVEL_ENV, HIDE_ACTION_SHOW, "work", NULL));
	t = shape(p, r, FALSE, 0);
	CHECK_TREE(t, 0, "MainThread(10)[[app.py](10)[main(9)[work(6)]]]");
	profile_tree_free(t);
	hide_rules_free(r);
	profile_free(p);
}

static void test_hide__verdicts_are_per_frame_not_per_sample(void)
{
	struct profile *p = make(program, G_N_ELEMENTS(program));
	struct hide_rules *r = rules(HIDE_ACTION_HIDE, "helper");
	guint32 helper = frame_of(p, "lib.py:helper");
	guint32 line2 = profile_frame_intern(p, PROFILE_FRAME_PYTHON,
					     profile_intern(p, "lib.py", -1),
					     profile_intern(p, "helper", -1),
					     profile_intern(p, "helper", -1), 1, 7, -1);

	hide_rules_apply(r, p);
	/* another line of a hidden function is hidden too */
	CU_ASSERT_EQUAL(hide_rules_classify(p, helper, r), PROFILE_TREE_HIDDEN);
	CU_ASSERT_EQUAL(hide_rules_classify(p, line2, r), PROFILE_TREE_HIDDEN);
	CU_ASSERT_EQUAL(hide_rules_classify(p, frame_of(p, "app.py:main"), r), 0);
	hide_rules_free(r);
	profile_free(p);
}

/* ---- trimming ---- */

/* The built-in plumbing, and runpy's and the thread bootstrap's stems,
 * which these tests are written in: reports hide those by default, so the
 * built-in list leaves them out, but they are the stems people know. */
static struct hide_rules *plumbing_rules(void)
{
	struct hide_rules *r = hide_rules_new();
	hide_rules_add_plumbing(r);
	CU_ASSERT_TRUE(hide_rules_add(r, HIDE_LEVEL_CONFIG, HIDE_ACTION_PLUMBING,
				      "module:runpy", NULL));
	CU_ASSERT_TRUE(hide_rules_add(r, HIDE_LEVEL_CONFIG, HIDE_ACTION_PLUMBING,
				      "module:threading function~^(Thread\\.)?"
				      "(_bootstrap|_bootstrap_inner|run)$", NULL));
	return r;
}

static const struct sample dash_m[] = {
	{"<frozen%runpy>:_run_module_as_main <frozen%runpy>:_run_code app.py:<module> app.py:main app.py:work", 8, 0},
	{"<frozen%runpy>:_run_module_as_main <frozen%runpy>:_run_code app.py:<module> app.py:main", 2, 0},
	{"/usr/lib/python3.11/threading.py:Thread._bootstrap /usr/lib/python3.11/threading.py:Thread._bootstrap_inner /usr/lib/python3.11/threading.py:Thread.run w.py:loop", 5, 1},
};

static void test_trim__stem_of_plumbing_is_removed(void)
{
	struct profile *p = make(dash_m, G_N_ELEMENTS(dash_m));
	struct hide_rules *r = plumbing_rules();
	struct profile_tree *t = shape(p, r, TRUE, 1.0);
	const struct profile_trim *tr;

	CHECK_TREE(t, 0, "MainThread(10)[<module>(10)[main(10)[work(8)]]]");
	CHECK_TREE(t, 1, "worker(5)[loop(5)]");
	CU_ASSERT_EQUAL_FATAL(t->trims->len, 2);
	tr = g_ptr_array_index(t->trims, 0);
	CU_ASSERT_EQUAL(tr->n_frames, 2);
	CU_ASSERT_STRING_EQUAL(tr->first, "_run_module_as_main (runpy)");
	CU_ASSERT_STRING_EQUAL(tr->last, "_run_code (runpy)");
	CU_ASSERT_EQUAL(profile_tree_depth(t, tr->node), 1);
	tr = g_ptr_array_index(t->trims, 1);
	CU_ASSERT_EQUAL(tr->n_frames, 3);
	CU_ASSERT_STRING_EQUAL(tr->first, "Thread._bootstrap (threading)");
	CU_ASSERT_STRING_EQUAL(tr->last, "Thread.run (threading)");
	CU_ASSERT_EQUAL(profile_tree_node(t, 0)->total_ns, 15000000);
	/* nodes stay consistent: parents first, each node among its
	 * parent's children */
	for (guint32 i = 1; i < t->nodes->len; i++) {
		const struct profile_node *nd = profile_tree_node(t, i);
		guint32 n, k;
		const guint32 *kids = profile_tree_children(t, nd->parent, &n);
		CU_ASSERT_TRUE(nd->parent < i);
		for (k = 0; k < n && kids[k] != i; k++)
			;
		CU_ASSERT_TRUE(k < n);
	}
	profile_tree_free(t);
	hide_rules_free(r);
	profile_free(p);
}

static void test_trim__hidden_stems_leave_nothing_to_trim(void)
{
	struct profile *p = make(dash_m, G_N_ELEMENTS(dash_m));
	struct hide_rules *r = hide_rules_new();
	struct profile_tree *t;

	/* a report's defaults */
	hide_rules_add_plumbing(r);
	hide_rules_add_machinery(r);
	t = shape(p, r, TRUE, 1.0);
	CHECK_TREE(t, 0, "MainThread(10)[<module>(10)[main(10)[work(8)]]]");
	CHECK_TREE(t, 1, "worker(5)[loop(5)]");
	CU_ASSERT_EQUAL(t->trims->len, 0);
	profile_tree_free(t);
	/* shown again, they are exempt from trimming too */
	CU_ASSERT_TRUE(hide_rules_add(r, HIDE_LEVEL_CMDLINE, HIDE_ACTION_SHOW, "module:runpy", NULL));
	t = shape(p, r, TRUE, 1.0);
	CHECK_TREE(t, 0, "MainThread(10)[_run_module_as_main(10)[_run_code(10)[<module>(10)[main(10)[work(8)]]]]]");
	CU_ASSERT_EQUAL(t->trims->len, 0);
	profile_tree_free(t);
	hide_rules_free(r);
	profile_free(p);
}

static void test_trim__branch_stops_trimming(void)
{
	static const struct sample s[] = {
		{"<frozen%runpy>:_run_module_as_main <frozen%runpy>:_run_code app.py:<module>", 8, 0},
		/* the program's code on two branches: _run_module_as_main branches */
		{"<frozen%runpy>:_run_module_as_main app.py:hook", 2, 0},
	};
	struct profile *p = make(s, G_N_ELEMENTS(s));
	struct hide_rules *r = plumbing_rules();
	struct profile_tree *t = shape(p, r, TRUE, 1.0);

	CHECK_TREE(t, 0, "MainThread(10)[_run_module_as_main(10)[_run_code(8)[<module>(8)] hook(2)]]");
	CU_ASSERT_EQUAL(t->trims->len, 0);
	profile_tree_free(t);
	hide_rules_free(r);
	profile_free(p);
}

static void test_trim__plumbing_side_work_is_no_branch(void)
{
	static const struct sample s[] = {
		{"<frozen%runpy>:_run_module_as_main <frozen%runpy>:_run_code app.py:<module>", 8, 0},
		/* runpy finding the module: plumbing, becomes a top frame */
		{"<frozen%runpy>:_run_module_as_main <frozen%runpy>:_get_module_details", 2, 0},
	};
	struct profile *p = make(s, G_N_ELEMENTS(s));
	struct hide_rules *r = plumbing_rules();
	struct profile_tree *t = shape(p, r, TRUE, 1.0);

	CHECK_TREE(t, 0, "MainThread(10)[<module>(8) _get_module_details(2)]");
	profile_tree_free(t);
	hide_rules_free(r);
	profile_free(p);
}

static void test_trim__self_time_at_the_stem_stops_trimming(void)
{
	static const struct sample s[] = {
		{"<frozen%runpy>:_run_module_as_main <frozen%runpy>:_run_code app.py:<module>", 90, 0},
		{"<frozen%runpy>:_run_module_as_main <frozen%runpy>:_run_code", 10, 0},
	};
	struct profile *p = make(s, G_N_ELEMENTS(s));
	struct hide_rules *r = plumbing_rules();
	struct profile_tree *t = shape(p, r, TRUE, 1.0);

	/* _run_code's 10% self time is worth seeing: trimming stops there */
	CHECK_TREE(t, 0, "MainThread(100)[_run_code(100)[<module>(90)]]");
	profile_tree_free(t);
	t = shape(p, r, TRUE, 20.0);
	CHECK_TREE(t, 0, "MainThread(100)[<module>(90)]");
	/* the trimmed self time stays in the thread's total */
	CU_ASSERT_EQUAL(profile_tree_node(t, 0)->total_ns, 100000000);
	profile_tree_free(t);
	hide_rules_free(r);
	profile_free(p);
}

static void test_trim__program_code_is_never_trimmed(void)
{
	static const struct sample s[] = {
		{"app.py:<module> app.py:main app.py:work", 5, 0},
		{"<frozen%runpy>:_run_code", 5, 1}, /* a leaf: nothing below it */
	};
	struct profile *p = make(s, G_N_ELEMENTS(s));
	struct hide_rules *r = plumbing_rules();
	struct profile_tree *t = shape(p, r, TRUE, 1.0);

	CHECK_TREE(t, 0, "MainThread(5)[<module>(5)[main(5)[work(5)]]]");
	CHECK_TREE(t, 1, "worker(5)[_run_code(5)]");
	CU_ASSERT_EQUAL(t->trims->len, 0);
	profile_tree_free(t);
	hide_rules_free(r);
	profile_free(p);
}

static void test_trim__show_rule_and_config_plumbing(void)
{
	struct profile *p = make(dash_m, G_N_ELEMENTS(dash_m));
	struct hide_rules *r = plumbing_rules();
	struct profile_tree *t;

	/* a show rule exempts _run_code; a plumbing rule adds <module> */
	CU_ASSERT_TRUE(hide_rules_add(r, HIDE_LEVEL_CMDLINE, HIDE_ACTION_SHOW, "_run_code", NULL));
	t = shape(p, r, TRUE, 1.0);
	CHECK_TREE(t, 0, "MainThread(10)[_run_code(10)[<module>(10)[main(10)[work(8)]]]]");
	profile_tree_free(t);
	hide_rules_free(r);

	r = plumbing_rules();
	CU_ASSERT_TRUE(hide_rules_add(r, HIDE_LEVEL_CONFIG, HIDE_ACTION_PLUMBING, "file:app.py name:<module>", NULL));
	t = shape(p, r, TRUE, 1.0);
	CHECK_TREE(t, 0, "MainThread(10)[main(10)[work(8)]]");
	CU_ASSERT_EQUAL(((struct profile_trim *)g_ptr_array_index(t->trims, 0))->n_frames, 3);
	profile_tree_free(t);
	hide_rules_free(r);
	profile_free(p);
}

static void test_trim__stems_ending_alike_are_merged(void)
{
	static const struct sample s[] = {
		{"<frozen%runpy>:_run_module_as_main app.py:main app.py:work", 5, 0},
		{"<frozen%runpy>:run_path app.py:main", 5, 0},
	};
	struct profile *p = make(s, G_N_ELEMENTS(s));
	struct hide_rules *r = plumbing_rules();
	struct profile_tree *t = shape(p, r, TRUE, 1.0);

	CHECK_TREE(t, 0, "MainThread(10)[main(10)[work(5)]]");
	CU_ASSERT_EQUAL(t->trims->len, 2);
	profile_tree_free(t);
	hide_rules_free(r);
	profile_free(p);
}

static void test_trim__lines_of_a_function_are_one_frame(void)
{
	/* two lines of _run_module_as_main and of <module>; a small side
	 * branch (runpy compiling the module) becomes a top frame */
	struct profile *p = profile_new();
	struct profile_process info = {.path = "t", .mode = PROFILE_MODE_CPU};
	const char *runpy = profile_intern(p, "<frozen runpy>", -1);
	const char *app = profile_intern(p, "app.py", -1);
	const char *rmain = profile_intern(p, "_run_module_as_main", -1);
	guint32 m1 = profile_frame_intern(p, PROFILE_FRAME_PYTHON, runpy, rmain, rmain, 1, 189, -1);
	guint32 m2 = profile_frame_intern(p, PROFILE_FRAME_PYTHON, runpy, rmain, rmain, 1, 198, -1);
	const char *rc = profile_intern(p, "_run_code", -1);
	guint32 code = profile_frame_intern(p, PROFILE_FRAME_PYTHON, runpy, rc, rc, 1, 88, -1);
	const char *gd = profile_intern(p, "_get_module_details", -1);
	guint32 det = profile_frame_intern(p, PROFILE_FRAME_PYTHON, runpy, gd, gd, 1, 140, -1);
	const char *mod = profile_intern(p, "<module>", -1);
	guint32 l3 = profile_frame_intern(p, PROFILE_FRAME_PYTHON, app, mod, mod, 1, 3, -1);
	guint32 l9 = profile_frame_intern(p, PROFILE_FRAME_PYTHON, app, mod, mod, 1, 9, -1);
	guint32 s2 = profile_stack_push(p, 0, m2), sc = profile_stack_push(p, s2, code);
	struct hide_rules *r = plumbing_rules();
	struct profile_tree *t;
	guint th;

	profile_add_process(p, &info);
	th = profile_add_thread(p, 0, 1, 1, PROFILE_THREAD_MAIN, 0, NULL, 0);
	profile_add_sample(p, th, 1, 400000000, 0, 0, profile_stack_push(p, sc, l3));
	profile_add_sample(p, th, 2, 599000000, 0, 0, profile_stack_push(p, sc, l9));
	profile_add_sample(p, th, 3, 1000000, 0, 0,
			   profile_stack_push(p, profile_stack_push(p, 0, m1), det));
	t = shape(p, r, TRUE, 1.0);
	CHECK_TREE(t, 0, "MainThread(1000)[<module>(599) <module>(400) _get_module_details(1)]");
	CU_ASSERT_EQUAL_FATAL(t->trims->len, 1);
	CU_ASSERT_EQUAL(((struct profile_trim *)g_ptr_array_index(t->trims, 0))->n_frames, 2);
	profile_tree_free(t);
	hide_rules_free(r);
	profile_free(p);
}

/* ---- IPython ---- */

#define SHELL "/v/site-packages/IPython/core/interactiveshell.py:InteractiveShell."
#define LOOP "/v/bin/ipython:<module> /v/site-packages/IPython/__init__.py:start_ipython " \
	"/v/site-packages/traitlets/config/application.py:Application.launch_instance " \
	"/v/site-packages/IPython/terminal/ipapp.py:TerminalIPythonApp.start " \
	"/v/site-packages/IPython/terminal/interactiveshell.py:TerminalInteractiveShell.mainloop " \
	"/v/site-packages/IPython/terminal/interactiveshell.py:TerminalInteractiveShell.interact " \
	SHELL "run_cell " SHELL "_run_cell /v/site-packages/IPython/core/async_helpers.py:_pseudo_sync_runner " \
	SHELL "run_cell_async " SHELL "run_ast_nodes " SHELL "run_code "

static const struct sample session[] = {
	{"/v/bin/ipython:<module> <frozen%importlib._bootstrap>:_find_and_load /v/site-packages/IPython/__init__.py:<module> /v/site-packages/pygments/lexer.py:<module>", 3, 0},
	{LOOP "<ipython-input-1-0123456789ab>:<module> <ipython-input-1-0123456789ab>:spin", 5, 0},
	{LOOP "<ipython-input-2-ba9876543210>:<module>", 2, 0},
	{LOOP "<ipython-input-1-0123456789ab>:<module>", 1, 0},
};

/* ---- wall mode: the [idle] leaf ---- */

static const struct sample waiting[] = {
	{"app.py:<module> app.py:main app.py:wait [idle]", 30, 0},
	{"app.py:<module> app.py:main app.py:work", 10, 0},
};

static void test_hide__idle_leaf_below_the_waiting_frame(void)
{
	struct profile *p = make_mode(waiting, G_N_ELEMENTS(waiting), PROFILE_MODE_WALL);
	struct profile_tree *t = shape(p, NULL, FALSE, 0);

	CHECK_TREE(t, 0, "MainThread(40)[<module>(40)[main(40)[wait(30)[[idle](30)] work(10)]]]");
	/* the stacks stay as recorded: [idle] is the tree's, not a frame
	 * any stack holds */
	for (guint32 i = 1; i < profile_n_stacks(p); i++)
		CU_ASSERT_NOT_EQUAL(profile_stack(p, i)->frame, profile_frame_idle(p));
	profile_tree_free(t);
	profile_free(p);
}

static void test_hide__rules_never_take_idle_away(void)
{
	struct profile *p = make_mode(waiting, G_N_ELEMENTS(waiting), PROFILE_MODE_WALL);

	/* everything but the blocking frame hidden: wait -> [idle] stays,
	 * work's time goes to the thread */
	CHECK_DUMP(dump_with(p, HIDE_ACTION_HIDE, "function~^(?!wait$)"),
		   "MainThread(40)[wait(30)[[idle](30)]]");
	/* everything hidden: [idle] hangs from the thread */
	CHECK_DUMP(dump_with(p, HIDE_ACTION_HIDE, "*"), "MainThread(40)[[idle](30)]");
	/* a pattern that spells [idle]'s label matches no Python frame here
	 * and cannot match [idle] */
	CHECK_DUMP(dump_with(p, HIDE_ACTION_HIDE, "*idle*"),
		   "MainThread(40)[<module>(40)[main(40)[wait(30)[[idle](30)] work(10)]]]");
	/* hiding the blocking frame moves [idle] to its caller */
	CHECK_DUMP(dump_with(p, HIDE_ACTION_HIDE, "wait"),
		   "MainThread(40)[<module>(40)[main(40)[[idle](30) work(10)]]]");
	/* collapsing everything: [idle] stays a node of its own below the
	 * group */
	CHECK_DUMP(dump_with(p, HIDE_ACTION_COLLAPSE, "*"),
		   "MainThread(40)[[*](40)[[idle](30)]]");
	profile_free(p);
}

static void test_hide__no_idle_leaves_idle_samples_out(void)
{
	struct profile *p = make_mode(waiting, G_N_ELEMENTS(waiting), PROFILE_MODE_WALL);
	struct profile_tree_options o = {.no_idle = TRUE};
	struct profile_tree *t = profile_tree_build(p, &o);

	CHECK_TREE(t, 0, "MainThread(10)[<module>(10)[main(10)[work(10)]]]");
	CU_ASSERT_EQUAL(profile_tree_node(t, 0)->total_samples, 1);
	/* the thread's own sums keep both */
	CU_ASSERT_EQUAL(profile_thread(p, 0)->wall_ns, 40000000);
	CU_ASSERT_EQUAL(profile_thread(p, 0)->idle_ns, 30000000);
	profile_tree_free(t);
	profile_free(p);
}

static void test_hide__cpu_mode_has_no_idle(void)
{
	/* a CPU-mode sample stands for CPU time used: an IDLE flag there
	 * (a damaged or hostile file) means nothing */
	struct profile *p = make(waiting, G_N_ELEMENTS(waiting));
	struct profile_tree_options o = {.no_idle = TRUE};
	struct profile_tree *t = profile_tree_build(p, &o);

	CHECK_TREE(t, 0, "MainThread(40)[<module>(40)[main(40)[wait(30) work(10)]]]");
	CU_ASSERT_EQUAL(profile_thread(p, 0)->idle_ns, 0);
	profile_tree_free(t);
	profile_free(p);
}

static void test_trim__idle_is_the_waiting_frame_own_time(void)
{
	static const struct sample mostly_waiting[] = {
		{"/usr/lib/python3.11/threading.py:Thread._bootstrap /usr/lib/python3.11/threading.py:Thread._bootstrap_inner /usr/lib/python3.11/threading.py:Thread.run [idle]", 96, 1},
		{"/usr/lib/python3.11/threading.py:Thread._bootstrap /usr/lib/python3.11/threading.py:Thread._bootstrap_inner /usr/lib/python3.11/threading.py:Thread.run w.py:loop", 4, 1},
	};
	static const struct sample barely_waiting[] = {
		{"/usr/lib/python3.11/threading.py:Thread._bootstrap /usr/lib/python3.11/threading.py:Thread._bootstrap_inner /usr/lib/python3.11/threading.py:Thread.run [idle]", 1, 1},
		{"/usr/lib/python3.11/threading.py:Thread._bootstrap /usr/lib/python3.11/threading.py:Thread._bootstrap_inner /usr/lib/python3.11/threading.py:Thread.run w.py:loop", 99, 1},
	};
	struct profile *p = make_mode(mostly_waiting, G_N_ELEMENTS(mostly_waiting),
				      PROFILE_MODE_WALL);
	struct hide_rules *r = plumbing_rules();
	struct profile_tree *t = shape(p, r, TRUE, 5.0);

	/* Thread.run made the blocking call (Thread(target=time.sleep)):
	 * its waiting is its own time, so trimming stops there rather than
	 * leave an [idle] nobody called */
	CHECK_TREE(t, 1, "worker(100)[Thread.run(100)[[idle](96) loop(4)]]");
	CU_ASSERT_EQUAL(t->trims->len, 1);
	profile_tree_free(t);
	profile_free(p);

	/* 1% waiting: Thread.run goes with the stem, its [idle] stays */
	p = make_mode(barely_waiting, G_N_ELEMENTS(barely_waiting), PROFILE_MODE_WALL);
	t = shape(p, r, TRUE, 5.0);
	CHECK_TREE(t, 1, "worker(100)[loop(99) [idle](1)]");
	profile_tree_free(t);
	hide_rules_free(r);
	profile_free(p);
}

static void test_hide__ipython_preset_makes_cells_roots(void)
{
	struct profile *p = make(session, G_N_ELEMENTS(session));
	struct hide_rules *r = plumbing_rules();
	struct profile_tree *t;

	CU_ASSERT_TRUE(hide_profile_is_ipython(p));
	CU_ASSERT_TRUE(hide_rules_add_preset(r, HIDE_LEVEL_DEFAULT, "ipython", NULL));
	t = shape(p, r, TRUE, 1.0);
	CHECK_TREE(t, 0, "MainThread(11)[In [1](6)[spin(5)] [IPython](3) In [2](2)]");
	profile_tree_free(t);
	/* and nothing of it without the rules (--show-all) */
	t = profile_tree_build(p, NULL);
	{
		char *all = dump(t, 0);
		CU_ASSERT_PTR_NOT_NULL(strstr(all, "InteractiveShell.run_cell("));
		CU_ASSERT_PTR_NOT_NULL(strstr(all, "_pseudo_sync_runner("));
		CU_ASSERT_PTR_NULL(strstr(all, "In ["));
		g_free(all);
	}
	profile_tree_free(t);
	hide_rules_free(r);
	profile_free(p);
}

static void test_hide__not_ipython(void)
{
	struct profile *p = make(program, G_N_ELEMENTS(program));
	CU_ASSERT_FALSE(hide_profile_is_ipython(p));
	profile_free(p);
}

/* ---- pyprof.conf and the environment ---- */

static void test_config__list_split_and_escapes(void)
{
	char **v = config_split_list(" a ; file~x\\;y ;; c\\.d;");
	CU_ASSERT_EQUAL(g_strv_length(v), 3);
	CU_ASSERT_STRING_EQUAL(v[0], "a");
	CU_ASSERT_STRING_EQUAL(v[1], "file~x;y");
	CU_ASSERT_STRING_EQUAL(v[2], "c\\.d");
	g_strfreev(v);
}

static char *write_conf(const char *text)
{
	char *path = unit_write_temp(text, strlen(text));

	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	return path;
}

static void test_config__file_rules_and_settings(void)
{
	char *path = write_conf("# comment\n[report]\n"
				"hide = helper; ~^id\\w+$\n"
				"collapse = mine=file:app.py\n"
				"show = work\n"
				"trim = false\n"
				"trim-self-percent = 2.5\n"
				"[other]\nignored = yes\n");
	struct config c;
	GError *e = NULL;
	struct profile *p = make(program, G_N_ELEMENTS(program));
	struct profile_tree *t;

	config_init(&c);
	CU_ASSERT_TRUE(config_load_file(&c, path, &e));
	CU_ASSERT_PTR_NULL(e);
	CU_ASSERT_EQUAL(c.trim, 0);
	CU_ASSERT_EQUAL(c.show_all, -1);
	CU_ASSERT_DOUBLE_EQUAL(c.trim_self_percent, 2.5, 1e-9);
	CU_ASSERT_EQUAL(hide_rules_count(c.rules), 4);
	t = shape(p, c.rules, FALSE, 0);
	CHECK_TREE(t, 0, "MainThread(10)[[mine](10)[work(6)]]");
	profile_tree_free(t);
	config_release(&c);
	profile_free(p);
	g_unlink(path);
	free(path);
}

static void test_config__errors_name_file_and_key(void)
{
	static const char *const bad[][2] = {
		{"[report]\nhide = modul:x\n", "[report] hide: 'modul:x': unknown field"},
		{"[report]\npreset = jupyter\n", "[report] preset: unknown preset 'jupyter'"},
		{"[report]\ntrim = maybe\n", "[report] trim: expected true or false"},
		{"[report]\nhid = x\n", "[report] hid: unknown key"},
		{"not a key file\n", ""},
	};
	for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
		char *path = write_conf(bad[i][0]);
		struct config c;
		GError *e = NULL;

		config_init(&c);
		CU_ASSERT_FALSE(config_load_file(&c, path, &e));
		CU_ASSERT_PTR_NOT_NULL_FATAL(e);
		CU_ASSERT_TRUE(g_str_has_prefix(e->message, path));
		CU_ASSERT_PTR_NOT_NULL(strstr(e->message, bad[i][1]));
		g_error_free(e);
		config_release(&c);
		g_unlink(path);
		free(path);
	}
}

static void test_config__environment(void)
{
	struct config c;
	GError *e = NULL;

	config_init(&c);
	g_setenv("PYPROF_HIDE", "helper;idle", TRUE);
	g_setenv("PYPROF_PRESET", "runpy", TRUE);
	g_setenv("PYPROF_SHOW_ALL", "yes", TRUE);
	CU_ASSERT_TRUE(config_load_env(&c, &e));
	CU_ASSERT_EQUAL(c.show_all, 1);
	CU_ASSERT_EQUAL(c.trim, -1);
	CU_ASSERT_TRUE(hide_rules_count(c.rules) > 2);
	g_setenv("PYPROF_TRIM", "sometimes", TRUE);
	CU_ASSERT_FALSE(config_load_env(&c, &e));
	CU_ASSERT_PTR_NOT_NULL(e && strstr(e->message, "PYPROF_TRIM=sometimes"));
	g_clear_error(&e);
	g_unsetenv("PYPROF_HIDE");
	g_unsetenv("PYPROF_PRESET");
	g_unsetenv("PYPROF_SHOW_ALL");
	g_unsetenv("PYPROF_TRIM");
	config_release(&c);
}

UNIT_MAIN("hide",
	  UNIT_TEST(test_hide__function_glob_matches_name_or_qualname),
	  UNIT_TEST(test_hide__file_glob_and_regex),
	  UNIT_TEST(test_hide__module_matches_package_and_submodules),
	  UNIT_TEST(test_hide__terms_must_all_match),
	  UNIT_TEST(test_hide__python_machinery_hidden_by_default),
	  UNIT_TEST(test_hide__pth_import_lines_hidden_python_c_kept),
	  UNIT_TEST(test_hide__machinery_presets_stay_and_put_defaults_back),
	  UNIT_TEST(test_hide__object_matches_native_frames_only),
	  UNIT_TEST(test_hide__interpreter_native_frames_hidden_by_default),
	  UNIT_TEST(test_hide__caller_terms_test_the_recorded_caller),
	  UNIT_TEST(test_hide__caller_verdict_is_contextual_per_frame),
	  UNIT_TEST(test_hide__caller_collapse_has_its_group),
	  UNIT_TEST(test_hide__caller_rules_that_cannot_be),
	  UNIT_TEST(test_hide__bad_rules_are_errors),
	  UNIT_TEST(test_hide__module_of_paths),
	  UNIT_TEST(test_hide__hidden_frame_reparents_callees_and_keeps_totals),
	  UNIT_TEST(test_hide__hidden_root_frame_time_goes_to_thread),
	  UNIT_TEST(test_hide__collapse_makes_one_node_per_run),
	  UNIT_TEST(test_hide__collapse_group_named_after_pattern),
	  UNIT_TEST(test_hide__hidden_frames_inside_a_run_do_not_split_it),
	  UNIT_TEST(test_hide__precedence_levels_then_show_hide_collapse),
	  UNIT_TEST(test_hide__verdicts_are_per_frame_not_per_sample),
	  UNIT_TEST(test_trim__stem_of_plumbing_is_removed),
	  UNIT_TEST(test_trim__hidden_stems_leave_nothing_to_trim),
	  UNIT_TEST(test_trim__branch_stops_trimming),
	  UNIT_TEST(test_trim__plumbing_side_work_is_no_branch),
	  UNIT_TEST(test_trim__self_time_at_the_stem_stops_trimming),
	  UNIT_TEST(test_trim__program_code_is_never_trimmed),
	  UNIT_TEST(test_trim__show_rule_and_config_plumbing),
	  UNIT_TEST(test_trim__stems_ending_alike_are_merged),
	  UNIT_TEST(test_trim__lines_of_a_function_are_one_frame),
	  UNIT_TEST(test_hide__idle_leaf_below_the_waiting_frame),
	  UNIT_TEST(test_hide__rules_never_take_idle_away),
	  UNIT_TEST(test_hide__no_idle_leaves_idle_samples_out),
	  UNIT_TEST(test_hide__cpu_mode_has_no_idle),
	  UNIT_TEST(test_trim__idle_is_the_waiting_frame_own_time),
	  UNIT_TEST(test_hide__ipython_preset_makes_cells_roots),
	  UNIT_TEST(test_hide__not_ipython),
	  UNIT_TEST(test_config__list_split_and_escapes),
	  UNIT_TEST(test_config__file_rules_and_settings),
	  UNIT_TEST(test_config__errors_name_file_and_key),
	  UNIT_TEST(test_config__environment))
