/*
 * test_when.c - the times --since and --until take (cli/when.h).
 */
#include <stdlib.h>
#include <time.h>

#include <glib.h>

#include "cli/when.h"
#include "tests/unit/unit.h"

/* 2026-12-01 12:00:00 UTC */
#define NOW_NS 1796126400000000000ll

static void test_when__relative_to_now(void)
{
	guint64 t = 0;

	CU_ASSERT_TRUE(when_parse("-10m", NOW_NS, &t, NULL));
	CU_ASSERT_EQUAL(t, NOW_NS - 600000000000ll);
	CU_ASSERT_TRUE(when_parse("-1.5h", NOW_NS, &t, NULL));
	CU_ASSERT_EQUAL(t, NOW_NS - 5400000000000ll);
	CU_ASSERT_TRUE(when_parse("-250ms", NOW_NS, &t, NULL));
	CU_ASSERT_EQUAL(t, NOW_NS - 250000000ll);
	CU_ASSERT_TRUE(when_parse("-2d", NOW_NS, &t, NULL));
	CU_ASSERT_EQUAL(t, NOW_NS - 172800000000000ll);
}

static void test_when__absolute(void)
{
	guint64 t = 0;

	CU_ASSERT_TRUE(when_parse("2026-12-01T12:00:00Z", NOW_NS, &t, NULL));
	CU_ASSERT_EQUAL(t, NOW_NS);
	CU_ASSERT_TRUE(when_parse("2026-12-01 13:30:00+01:00", NOW_NS, &t, NULL));
	CU_ASSERT_EQUAL(t, NOW_NS + 1800000000000ll);
	CU_ASSERT_TRUE(when_parse("@1796126400.5", NOW_NS, &t, NULL));
	CU_ASSERT_EQUAL(t, NOW_NS + 500000000ll);
	/* local time: TZ is UTC here (main) */
	CU_ASSERT_TRUE(when_parse("2026-12-01 12:00", NOW_NS, &t, NULL));
	CU_ASSERT_EQUAL(t, NOW_NS);
	CU_ASSERT_TRUE(when_parse("2026-12-01", NOW_NS, &t, NULL));
	CU_ASSERT_EQUAL(t, NOW_NS - 12 * 3600000000000ll);
	CU_ASSERT_TRUE(when_parse("11:59:30", NOW_NS, &t, NULL));
	CU_ASSERT_EQUAL(t, NOW_NS - 30000000000ll);
}

static void test_when__bad(void)
{
	const char *bad[] = {"", "10m", "-10", "-10x", "-m", "yesterday",
			     "2026-13-01", "25:00", "@x", "-1e30h", NULL};

	for (int i = 0; bad[i]; i++) {
		guint64 t = 42;
		GError *e = NULL;

		CU_ASSERT_FALSE(when_parse(bad[i], NOW_NS, &t, &e));
		CU_ASSERT_EQUAL(t, 42);
		CU_ASSERT_PTR_NOT_NULL(e);
		if (e) {
			CU_ASSERT_PTR_NOT_NULL(strstr(e->message, bad[i]));
			g_error_free(e);
		}
	}
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_when__relative_to_now),
		UNIT_TEST(test_when__absolute),
		UNIT_TEST(test_when__bad),
	};

	setenv("TZ", "UTC", 1);
	tzset();
	return unit_run_suite("when", NULL, NULL, tests, G_N_ELEMENTS(tests));
}
