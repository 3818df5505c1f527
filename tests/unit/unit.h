/*
 * unit.h - what the CUnit programs share: the runner, temporary files and,
 * for the programs that include the model (collector/profile.h) first, the
 * pieces their synthetic profiles are built from.
 *
 * A test file lists its tests and ends with
 *     UNIT_MAIN("read", UNIT_TEST(test_read__round_trip), ...)
 * (UNIT_MAIN_SUITE with a suite's init and clean functions), or calls
 * unit_run() from a main() of its own that sets something up first.  The exit status is 0 when every assertion held, 1 otherwise, 2
 * when CUnit itself failed.
 */
#ifndef PYPROF_TESTS_UNIT_H
#define PYPROF_TESTS_UNIT_H

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

struct unit_test {
	const char *name;
	void (*fn)(void);
};

#define UNIT_TEST(fn) {#fn, fn}

/* Runs tests as suite; init and clean (either may be NULL) run before
 * and after them, as CUnit's suite functions do. */
static inline int unit_run_suite(const char *suite, CU_InitializeFunc init,
				 CU_CleanupFunc clean,
				 const struct unit_test *tests, size_t n)
{
	CU_pSuite s;
	unsigned failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	if (!(s = CU_add_suite(suite, init, clean)))
		return 2;
	for (size_t i = 0; i < n; i++)
		if (!CU_add_test(s, tests[i].name, tests[i].fn))
			return 2;
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}

static inline int unit_run(const char *suite, const struct unit_test *tests,
			   size_t n)
{
	return unit_run_suite(suite, NULL, NULL, tests, n);
}

#define UNIT_MAIN_SUITE(suite, init, clean, ...)                           \
	int main(void)                                                     \
	{                                                                  \
		static const struct unit_test tests_[] = {__VA_ARGS__};    \
		return unit_run_suite(suite, init, clean, tests_,          \
				      sizeof tests_ / sizeof tests_[0]);   \
	}
#define UNIT_MAIN(suite, ...) UNIT_MAIN_SUITE(suite, NULL, NULL, __VA_ARGS__)

/* Writes len bytes to a new file in $TMPDIR (or /tmp) and returns its
 * path, which the caller frees (and unlinks); NULL if it cannot. */
static inline char *unit_write_temp(const void *bytes, size_t len)
{
	const char *dir = getenv("TMPDIR");
	size_t n = strlen(dir && *dir ? dir : "/tmp") + 32;
	char *path = malloc(n);
	int fd;

	if (!path)
		return NULL;
	snprintf(path, n, "%s/pyprof-unit-XXXXXX", dir && *dir ? dir : "/tmp");
	fd = mkstemp(path);
	if (fd < 0) {
		free(path);
		return NULL;
	}
	if (write(fd, bytes, len) != (ssize_t)len) {
		close(fd);
		unlink(path);
		free(path);
		return NULL;
	}
	close(fd);
	return path;
}

#ifdef PYPROF_PROFILE_H
/* The model's side: a frame of file, and the process most synthetic
 * profiles are made of. */

/* A Python frame name (qualified name qual, or none) defined at def, at
 * line `line` of file. */
static inline guint32 unit_frame(struct profile *p, const char *file,
				 const char *name, const char *qual, int def,
				 int line)
{
	return profile_frame_intern(p, PROFILE_FRAME_PYTHON, file,
				    profile_intern(p, name, -1),
				    qual ? profile_intern(p, qual, -1) : NULL,
				    def, line, -1);
}

/* A profile of one process (pid 4242, file name path) in mode with two
 * threads and no samples: 0 is MainThread (tid 100), 1 is "worker" (tid
 * 101).  interval_ns and start_mono_ns as the header would say. */
static inline struct profile *unit_profile_new(enum profile_mode mode,
					       const char *path,
					       guint64 interval_ns,
					       guint64 start_mono_ns)
{
	struct profile *p = profile_new();
	struct profile_process info = {
		.path = path, .pid = 4242, .mode = mode, .complete = TRUE,
		.interval_ns = interval_ns, .start_mono_ns = start_mono_ns,
	};

	profile_add_process(p, &info);
	profile_add_thread(p, 0, 1, 100, PROFILE_THREAD_MAIN, 0, NULL, 0);
	profile_add_thread(p, 0, 2, 101, 0, 0, "worker", 6);
	return p;
}
#endif

#endif
