/*
 * test_settings.c - PYPROF_* parsing: every value a user may type, and the
 * bad ones that must leave pyprof dormant with a reason.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "format.h"
#include "preload/settings.h"
#include "tests/unit/unit.h"

static void test_settings__interval_units(void)
{
	uint64_t ns = 0;

	CU_ASSERT_EQUAL(settings_parse_interval("250us", &ns), 0);
	CU_ASSERT_EQUAL(ns, 250000);
	CU_ASSERT_EQUAL(settings_parse_interval("1ms", &ns), 0);
	CU_ASSERT_EQUAL(ns, 1000000);
	CU_ASSERT_EQUAL(settings_parse_interval("0.5ms", &ns), 0);
	CU_ASSERT_EQUAL(ns, 500000);
	CU_ASSERT_EQUAL(settings_parse_interval("10ms", &ns), 0);
	CU_ASSERT_EQUAL(ns, 10000000);
	CU_ASSERT_EQUAL(settings_parse_interval("1s", &ns), 0);
	CU_ASSERT_EQUAL(ns, 1000000000);
	CU_ASSERT_EQUAL(settings_parse_interval("100000ns", &ns), 0);
	CU_ASSERT_EQUAL(ns, 100000);
}

static void test_settings__interval_bad(void)
{
	uint64_t ns = 42;
	const char *bad[] = {"", "10", "ms", "1 ms", "-1ms", "1msx", "1h",
			     "50us", "11s", "99999999999999999999s", "1.ms.",
			     NULL};

	for (int i = 0; bad[i]; i++) {
		CU_ASSERT_EQUAL(settings_parse_interval(bad[i], &ns), -1);
		CU_ASSERT_EQUAL(ns, 42);
	}
	CU_ASSERT_EQUAL(settings_parse_interval(NULL, &ns), -1);
}

static void test_settings__size(void)
{
	uint64_t v = 0;

	CU_ASSERT_EQUAL(settings_parse_size("256M", &v), 0);
	CU_ASSERT_EQUAL(v, 256ull << 20);
	CU_ASSERT_EQUAL(settings_parse_size("1G", &v), 0);
	CU_ASSERT_EQUAL(v, 1ull << 30);
	CU_ASSERT_EQUAL(settings_parse_size("64MiB", &v), 0);
	CU_ASSERT_EQUAL(v, 64ull << 20);
	CU_ASSERT_EQUAL(settings_parse_size("1048576", &v), 0);
	CU_ASSERT_EQUAL(v, 1048576);
	CU_ASSERT_EQUAL(settings_parse_size("12X", &v), -1);
	CU_ASSERT_EQUAL(settings_parse_size("M", &v), -1);
	CU_ASSERT_EQUAL(settings_parse_size("", &v), -1);
	CU_ASSERT_EQUAL(settings_parse_size("99999999999999G", &v), -1);
}

static const char *fake_env[16][2];

static const char *fake_get(const char *name)
{
	for (int i = 0; fake_env[i][0]; i++)
		if (!strcmp(fake_env[i][0], name))
			return fake_env[i][1];
	return NULL;
}

static void set_env(const char *name, const char *value)
{
	memset(fake_env, 0, sizeof fake_env);
	fake_env[0][0] = name;
	fake_env[0][1] = value;
}

static void test_settings__defaults(void)
{
	struct settings st;
	char why[256] = "";

	set_env("UNRELATED", "x");
	CU_ASSERT_EQUAL(settings_load(&st, fake_get, why, sizeof why), 0);
	CU_ASSERT_EQUAL(st.enable, 1);
	CU_ASSERT_EQUAL(st.mode, PF_MODE_CPU);
	CU_ASSERT_EQUAL(st.interval_ns, SETTINGS_DEFAULT_INTERVAL_NS);
	CU_ASSERT_EQUAL(st.max_size, SETTINGS_DEFAULT_MAX_SIZE);
	CU_ASSERT_PTR_NULL(st.output);
	CU_ASSERT_PTR_NULL(st.log);
	CU_ASSERT_EQUAL(st.control, 0);
}

/* The control channel is opt-in: only a yes turns it on. */
static void test_settings__control(void)
{
	struct settings st;
	char why[256] = "";

	set_env("PYPROF_CONTROL", "1");
	CU_ASSERT_EQUAL(settings_load(&st, fake_get, why, sizeof why), 0);
	CU_ASSERT_EQUAL(st.control, 1);
	set_env("PYPROF_CONTROL", "off");
	CU_ASSERT_EQUAL(settings_load(&st, fake_get, why, sizeof why), 0);
	CU_ASSERT_EQUAL(st.control, 0);
}

static void test_settings__modes(void)
{
	struct settings st;
	char why[256] = "";

	set_env("PYPROF_MODE", "wall");
	CU_ASSERT_EQUAL(settings_load(&st, fake_get, why, sizeof why), 0);
	CU_ASSERT_EQUAL(st.mode, PF_MODE_WALL);
	set_env("PYPROF_MODE", "cpu");
	CU_ASSERT_EQUAL(settings_load(&st, fake_get, why, sizeof why), 0);
	CU_ASSERT_EQUAL(st.mode, PF_MODE_CPU);
}

/* Each bad value is refused with a reason naming the variable and value. */
static void test_settings__bad_values_named(void)
{
	static const char *cases[][2] = {
		{"PYPROF_INTERVAL", "fast"}, {"PYPROF_MODE", "gpu"},
		{"PYPROF_MAX_SIZE", "512K"}, {"PYPROF_ENABLE", "maybe"},
		{"PYPROF_SOURCE", "hpet"},   {"PYPROF_MODE", "walltime"},
		{"PYPROF_CONTROL", "socket"}, {"PYPROF_ROTATE", "often"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct settings st;
		char why[256] = "";
		char want[128];

		set_env(cases[i][0], cases[i][1]);
		CU_ASSERT_EQUAL(settings_load(&st, fake_get, why, sizeof why), -1);
		snprintf(want, sizeof want, "%s=%s", cases[i][0], cases[i][1]);
		CU_ASSERT_PTR_NOT_NULL(strstr(why, want));
	}
}

static void test_settings__log_values(void)
{
	struct settings st;
	char why[256];

	set_env("PYPROF_LOG", "1");
	CU_ASSERT_EQUAL(settings_load(&st, fake_get, why, sizeof why), 0);
	CU_ASSERT_STRING_EQUAL(st.log, "stderr");
	set_env("PYPROF_LOG", "0");
	CU_ASSERT_EQUAL(settings_load(&st, fake_get, why, sizeof why), 0);
	CU_ASSERT_PTR_NULL(st.log);
	set_env("PYPROF_LOG", "/tmp/x.log");
	CU_ASSERT_EQUAL(settings_load(&st, fake_get, why, sizeof why), 0);
	CU_ASSERT_STRING_EQUAL(st.log, "/tmp/x.log");
}

static void test_settings__output_template(void)
{
	char buf[256];

	CU_ASSERT_EQUAL(settings_output_path(NULL, 42, 7, "h", 0, 0, buf, sizeof buf), 0);
	CU_ASSERT_STRING_EQUAL(buf, "pyprof-42.pyprof");
	CU_ASSERT_EQUAL(settings_output_path(NULL, 42, 7, "h", 0, 2, buf, sizeof buf), 0);
	CU_ASSERT_STRING_EQUAL(buf, "pyprof-42.2.pyprof");
	CU_ASSERT_EQUAL(settings_output_path("out/%h-%p-%t.prof", 42, 7, "box", 0, 0,
					     buf, sizeof buf), 0);
	CU_ASSERT_STRING_EQUAL(buf, "out/box-42-7.prof");
	CU_ASSERT_EQUAL(settings_output_path("a%%b", 1, 1, "h", 0, 1, buf, sizeof buf), 0);
	CU_ASSERT_STRING_EQUAL(buf, "a%b.1");
	CU_ASSERT_EQUAL(settings_output_path("dir/", 5, 1, "h", 0, 0, buf, sizeof buf), 0);
	CU_ASSERT_STRING_EQUAL(buf, "dir/pyprof-5.pyprof");
	CU_ASSERT_EQUAL(settings_output_path("bad%q", 5, 1, "h", 0, 0, buf, sizeof buf), -1);
	CU_ASSERT_EQUAL(settings_output_path("x%p5", 5, 1, "h", 0, 0, buf, 3), -1);
}

/* A rotated run's files are numbered: %n, or "-NNNN" before .pyprof */
static void test_settings__output_numbered(void)
{
	char buf[256];

	CU_ASSERT_EQUAL(settings_output_path(NULL, 42, 7, "h", 3, 0, buf, sizeof buf), 0);
	CU_ASSERT_STRING_EQUAL(buf, "pyprof-42-0003.pyprof");
	CU_ASSERT_EQUAL(settings_output_path("out/%p.%n.pyprof", 42, 7, "h", 12, 0,
					     buf, sizeof buf), 0);
	CU_ASSERT_STRING_EQUAL(buf, "out/42.0012.pyprof");
	CU_ASSERT_EQUAL(settings_output_path("x-%p", 42, 7, "h", 10000, 0, buf, sizeof buf), 0);
	CU_ASSERT_STRING_EQUAL(buf, "x-42-10000");
	/* %%n is a percent sign and an n, not the number */
	CU_ASSERT_EQUAL(settings_output_path("a%%n.pyprof", 1, 1, "h", 2, 1, buf, sizeof buf), 0);
	CU_ASSERT_STRING_EQUAL(buf, "a%n-0002.1.pyprof");
	/* not rotated: %n is the first file's number */
	CU_ASSERT_EQUAL(settings_output_path("%n.pyprof", 1, 1, "h", 0, 0, buf, sizeof buf), 0);
	CU_ASSERT_STRING_EQUAL(buf, "0000.pyprof");
}

static void test_settings__rotate_and_keep(void)
{
	uint64_t ns = 0, bytes = 0, files = 0;

	CU_ASSERT_EQUAL(settings_parse_rotate("60s", &ns, &bytes), 0);
	CU_ASSERT_EQUAL(ns, 60000000000ull);
	CU_ASSERT_EQUAL(bytes, 0);
	CU_ASSERT_EQUAL(settings_parse_rotate("200ms", &ns, &bytes), 0);
	CU_ASSERT_EQUAL(ns, 200000000ull);
	CU_ASSERT_EQUAL(settings_parse_rotate("10m,100MB", &ns, &bytes), 0);
	CU_ASSERT_EQUAL(ns, 600000000000ull);
	CU_ASSERT_EQUAL(bytes, 100ull << 20);
	CU_ASSERT_EQUAL(settings_parse_rotate("1.5h", &ns, &bytes), 0);
	CU_ASSERT_EQUAL(ns, 5400000000000ull);
	CU_ASSERT_EQUAL(settings_parse_rotate("64M", &ns, &bytes), 0);
	CU_ASSERT_EQUAL(ns, 0);
	CU_ASSERT_EQUAL(bytes, 64ull << 20);
	{
		const char *bad[] = {"", "60", "2000000", "50ms", "512K", "1m,2m",
				     "1M,2M", "10m,", ",10m", "fast", NULL};
		for (int i = 0; bad[i]; i++)
			CU_ASSERT_EQUAL(settings_parse_rotate(bad[i], &ns, &bytes), -1);
	}
	CU_ASSERT_EQUAL(settings_parse_keep("10", &files, &bytes), 0);
	CU_ASSERT_EQUAL(files, 10);
	CU_ASSERT_EQUAL(bytes, 0);
	CU_ASSERT_EQUAL(settings_parse_keep("1G,5", &files, &bytes), 0);
	CU_ASSERT_EQUAL(files, 5);
	CU_ASSERT_EQUAL(bytes, 1ull << 30);
	{
		const char *bad[] = {"", "0", "ten", "5,6", "1G,2G", "-1", NULL};
		for (int i = 0; bad[i]; i++)
			CU_ASSERT_EQUAL(settings_parse_keep(bad[i], &files, &bytes), -1);
	}
}

/* PYPROF_KEEP bounds the files of a rotation: alone it is a mistake */
static void test_settings__keep_needs_rotate(void)
{
	struct settings st;
	char why[256] = "";

	set_env("PYPROF_KEEP", "3");
	CU_ASSERT_EQUAL(settings_load(&st, fake_get, why, sizeof why), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "PYPROF_ROTATE"));
}

static void test_settings__output_existing_dir(void)
{
	char dir[] = "/tmp/pyprof-test-XXXXXX", buf[256], want[256];

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	CU_ASSERT_EQUAL(settings_output_path(dir, 9, 1, "h", 0, 0, buf, sizeof buf), 0);
	snprintf(want, sizeof want, "%s/pyprof-9.pyprof", dir);
	CU_ASSERT_STRING_EQUAL(buf, want);
	rmdir(dir);
}

UNIT_MAIN("settings",
	  UNIT_TEST(test_settings__interval_units),
	  UNIT_TEST(test_settings__interval_bad),
	  UNIT_TEST(test_settings__size),
	  UNIT_TEST(test_settings__defaults),
	  UNIT_TEST(test_settings__control),
	  UNIT_TEST(test_settings__modes),
	  UNIT_TEST(test_settings__bad_values_named),
	  UNIT_TEST(test_settings__log_values),
	  UNIT_TEST(test_settings__output_template),
	  UNIT_TEST(test_settings__output_numbered),
	  UNIT_TEST(test_settings__rotate_and_keep),
	  UNIT_TEST(test_settings__keep_needs_rotate),
	  UNIT_TEST(test_settings__output_existing_dir))
