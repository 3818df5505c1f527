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
		{"PYPROF_CONTROL", "socket"},
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

	CU_ASSERT_EQUAL(settings_output_path(NULL, 42, 7, "h", 0, buf, sizeof buf), 0);
	CU_ASSERT_STRING_EQUAL(buf, "pyprof-42.pyprof");
	CU_ASSERT_EQUAL(settings_output_path(NULL, 42, 7, "h", 2, buf, sizeof buf), 0);
	CU_ASSERT_STRING_EQUAL(buf, "pyprof-42.2.pyprof");
	CU_ASSERT_EQUAL(settings_output_path("out/%h-%p-%t.prof", 42, 7, "box", 0,
					     buf, sizeof buf), 0);
	CU_ASSERT_STRING_EQUAL(buf, "out/box-42-7.prof");
	CU_ASSERT_EQUAL(settings_output_path("a%%b", 1, 1, "h", 1, buf, sizeof buf), 0);
	CU_ASSERT_STRING_EQUAL(buf, "a%b.1");
	CU_ASSERT_EQUAL(settings_output_path("dir/", 5, 1, "h", 0, buf, sizeof buf), 0);
	CU_ASSERT_STRING_EQUAL(buf, "dir/pyprof-5.pyprof");
	CU_ASSERT_EQUAL(settings_output_path("bad%q", 5, 1, "h", 0, buf, sizeof buf), -1);
	CU_ASSERT_EQUAL(settings_output_path("x%p5", 5, 1, "h", 0, buf, 3), -1);
}

static void test_settings__output_existing_dir(void)
{
	char dir[] = "/tmp/pyprof-test-XXXXXX", buf[256], want[256];

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	CU_ASSERT_EQUAL(settings_output_path(dir, 9, 1, "h", 0, buf, sizeof buf), 0);
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
	  UNIT_TEST(test_settings__output_existing_dir))
