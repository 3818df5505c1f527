/*
 * test_cli.c - pyprof's answers to bad command lines: exit status 2 and a
 * message naming the option and the value.  Runs the built binary
 * ($PYPROF_BIN, set by make check; ./pyprof otherwise).
 */
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>

#include "tests/unit/unit.h"

/* Runs pyprof with args; returns its exit status, stderr in *err. */
static int run(const char *const *args, char **out, char **err)
{
	const char *bin = g_getenv("PYPROF_BIN");
	GPtrArray *argv = g_ptr_array_new();
	int status = -1;
	GError *error = NULL;

	g_ptr_array_add(argv, (gpointer)(bin && *bin ? bin : "./pyprof"));
	for (; *args; args++)
		g_ptr_array_add(argv, (gpointer)*args);
	g_ptr_array_add(argv, NULL);
	if (!g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_DEFAULT,
			  NULL, NULL, out, err, &status, &error)) {
		fprintf(stderr, "cannot run pyprof: %s\n", error->message);
		g_error_free(error);
		status = -1;
	}
	g_ptr_array_unref(argv);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void expect_usage_error(const char *const *args, const char *message)
{
	char *out = NULL, *err = NULL;

	CU_ASSERT_EQUAL(run(args, &out, &err), 2);
	CU_ASSERT_PTR_NOT_NULL(err && strstr(err, message));
	if (err && !strstr(err, message))
		fprintf(stderr, "\nexpected '%s' in: %s\n", message, err);
	CU_ASSERT_STRING_EQUAL(out ? out : "", "");
	g_free(out);
	g_free(err);
}

static void test_cli__negative_depth(void)
{
	const char *a[] = {"report", "--depth", "-1", "x.pyprof", NULL};
	expect_usage_error(a, "pyprof: report: --depth: expected a number of levels");
}

static void test_cli__unknown_color(void)
{
	const char *a[] = {"report", "--color=purple", "x.pyprof", NULL};
	expect_usage_error(a, "--color: expected auto, always or never, got 'purple'");
}

static void test_cli__min_percent_over_100(void)
{
	const char *a[] = {"report", "--min-percent", "200", "x.pyprof", NULL};
	expect_usage_error(a, "--min-percent: expected a percentage from 0 to 100, got '200'");
}

/* A rule that is not UTF-8 is refused naming the option, not with GLib's
 * "Invalid byte sequence in conversion input". */
static void test_cli__rule_not_utf8_names_the_option(void)
{
	const char *a[] = {"report", "--hide=\xff", "x.pyprof", NULL};
	expect_usage_error(a, "pyprof: report: --hide: '\xef\xbf\xbd': not valid UTF-8");
}

static void test_cli__bad_sort(void)
{
	const char *a[] = {"report", "--flat", "--sort=speed", "x.pyprof", NULL};
	expect_usage_error(a, "--sort: expected self, total or name, got 'speed'");
}

static void test_cli__run_bad_grace(void)
{
	const char *a[] = {"run", "--grace", "soon", "--", "true", NULL};
	expect_usage_error(a, "--grace: 'soon' is not a number of seconds from 0 to 86400");
}

static void test_cli__unknown_format(void)
{
	const char *a[] = {"report", "--format", "pdf", "x.pyprof", NULL};
	expect_usage_error(a, "unknown format 'pdf' (expected text, collapsed, html, speedscope, pprof, trace, gecko, svg, json, pstats)");
}

static void test_cli__unknown_command(void)
{
	const char *a[] = {"frobnicate", NULL};
	expect_usage_error(a, "pyprof: unknown command 'frobnicate'");
}

static void test_cli__report_needs_files(void)
{
	const char *a[] = {"report", NULL};
	expect_usage_error(a, "no FILE or DIR given");
}

static void test_cli__run_bad_interval(void)
{
	const char *a[] = {"run", "--interval", "10", "--", "true", NULL};
	expect_usage_error(a, "--interval: expected a duration with a unit");
}

static void test_cli__missing_file_is_bad_input(void)
{
	const char *a[] = {"report", "/nonexistent/x.pyprof", NULL};
	char *out = NULL, *err = NULL;

	CU_ASSERT_EQUAL(run(a, &out, &err), 1);
	CU_ASSERT_STRING_EQUAL(err, "pyprof: /nonexistent/x.pyprof: No such file or directory\n");
	g_free(out);
	g_free(err);
}

static void test_cli__garbage_file_is_bad_input(void)
{
	char *out = NULL, *err = NULL;
	char *path = unit_write_temp("not a profile at all\n", 21);
	const char *a[] = {"report", NULL, NULL};

	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	a[1] = path;
	CU_ASSERT_EQUAL(run(a, &out, &err), 1);
	CU_ASSERT_TRUE(g_str_has_prefix(err, "pyprof: ") && strstr(err, ": offset "));
	unlink(path);
	free(path);
	g_free(out);
	g_free(err);
}

static void test_cli__version_and_help(void)
{
	const char *v[] = {"--version", NULL}, *h[] = {"report", "--help", NULL};
	char *out = NULL, *err = NULL;

	CU_ASSERT_EQUAL(run(v, &out, &err), 0);
	CU_ASSERT_TRUE(g_str_has_prefix(out, "pyprof "));
	g_free(out);
	g_free(err);
	CU_ASSERT_EQUAL(run(h, &out, &err), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "--min-percent=P"));
	g_free(out);
	g_free(err);
}

UNIT_MAIN("cli",
	  UNIT_TEST(test_cli__negative_depth),
	  UNIT_TEST(test_cli__unknown_color),
	  UNIT_TEST(test_cli__min_percent_over_100),
	  UNIT_TEST(test_cli__unknown_format),
	  UNIT_TEST(test_cli__rule_not_utf8_names_the_option),
	  UNIT_TEST(test_cli__run_bad_grace),
	  UNIT_TEST(test_cli__bad_sort),
	  UNIT_TEST(test_cli__unknown_command),
	  UNIT_TEST(test_cli__report_needs_files),
	  UNIT_TEST(test_cli__run_bad_interval),
	  UNIT_TEST(test_cli__missing_file_is_bad_input),
	  UNIT_TEST(test_cli__garbage_file_is_bad_input),
	  UNIT_TEST(test_cli__version_and_help))
