/*
 * fixture.h - small .pyprof files written with the library's own writer
 * (format/write.c), and the built pyprof run on them: what the programs
 * testing the pyprof command end to end share (test_wall, test_report).
 *
 * A program includes it after format.h and write.h, sets fixture_path
 * to the file it writes, and checks fixture_failed after writing: the
 * writing runs in a suite's init, outside any test, so it cannot assert.
 * pyprof is $PYPROF_BIN (make check sets it), else ./pyprof.
 */
#ifndef PYPROF_TESTS_FIXTURE_H
#define PYPROF_TESTS_FIXTURE_H

#include <stdint.h>
#include <string.h>
#include <sys/wait.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "format.h"
#include "write.h"

static char *fixture_dir, *fixture_path;
static gboolean fixture_failed;

/* Makes a temporary directory and starts writer w on file `name` in it
 * (1 MiB at most); -1 if either fails */
static int fixture_create(struct pf_writer *w, const char *name)
{
	char err[256];

	if (!(fixture_dir = g_dir_make_tmp("pyprof-fixture-XXXXXX", NULL)))
		return -1;
	fixture_path = g_build_filename(fixture_dir, name, NULL);
	return pf_writer_create(w, fixture_path, 1 << 20, err, sizeof err) == 0 ? 0 : -1;
}

/* Removes the file and its directory: a suite's clean function */
static int fixture_clean(void)
{
	if (fixture_path)
		g_unlink(fixture_path);
	if (fixture_dir)
		g_rmdir(fixture_dir);
	g_free(fixture_path);
	g_free(fixture_dir);
	return 0;
}

static void fixture_put(struct pf_cursor *c, unsigned type, const void *body,
			size_t len)
{
	uint8_t *b = pf_cursor_space(c, len);

	if (!b) {
		fixture_failed = TRUE;
		return;
	}
	memcpy(b, body, len);
	pf_cursor_commit(c, type, len);
}

static void fixture_thread(struct pf_cursor *c, uint32_t flags, const char *name)
{
	uint8_t b[64];
	struct pf_rec_thread t = {flags, (uint32_t)strlen(name), 1000, 0, 77 + c->thread};

	memcpy(b, &t, sizeof t);
	memcpy(b + sizeof t, name, t.name_len);
	fixture_put(c, PF_REC_THREAD, b, sizeof t + t.name_len);
}

static void fixture_string(struct pf_cursor *c, uint32_t id, const char *s)
{
	uint8_t b[256];
	size_t n = strlen(s);

	if (n > sizeof b - 4) {
		fixture_failed = TRUE;
		return;
	}
	memcpy(b, &id, 4);
	memcpy(b + 4, s, n);
	fixture_put(c, PF_REC_STRING, b, 4 + n);
}

/* A code object; lnotab (3.8's co_lnotab, len bytes) may be NULL: then
 * every instruction is on the definition's line */
static void fixture_code(struct pf_cursor *c, uint32_t id, uint32_t filename,
			 uint32_t name, uint32_t qualname, int32_t firstlineno,
			 const uint8_t *lnotab, size_t len)
{
	uint8_t b[sizeof(struct pf_rec_code) + 64];
	struct pf_rec_code r = {id, filename, name, qualname, firstlineno, 0};

	if (len > 64) {
		fixture_failed = TRUE;
		return;
	}
	memcpy(b, &r, sizeof r);
	if (len)
		memcpy(b + sizeof r, lnotab, len);
	fixture_put(c, PF_REC_CODE, b, sizeof r + len);
}

/* One sample: wall dt, CPU dcpu, flags and the whole stack, root first:
 * codes[i] at instruction lasti1[i] (1 + offset / 2; NULL: all 1),
 * nothing shared with the previous one. */
static void fixture_sample(struct pf_cursor *c, uint64_t dt, uint64_t dcpu,
			   uint32_t flags, int n, const uint32_t *codes,
			   const uint32_t *lasti1)
{
	uint8_t b[512], *p = b;

	if (n > 40) {
		fixture_failed = TRUE;
		return;
	}
	p += pf_varint_put(p, dt);
	p += pf_varint_put(p, dcpu);
	p += pf_varint_put(p, flags);
	p += pf_varint_put(p, 0);
	p += pf_varint_put(p, (uint64_t)n);
	for (int i = 0; i < n; i++) {
		p += pf_varint_put(p, codes[i]);
		p += pf_varint_put(p, lasti1 ? lasti1[i] : 1);
	}
	fixture_put(c, PF_REC_SAMPLE, b, (size_t)(p - b));
}

/* Runs pyprof with args, then the file; returns its exit status, its
 * output in *out (owned by the caller). */
static int fixture_report(const char *const *args, char **out)
{
	const char *bin = g_getenv("PYPROF_BIN");
	GPtrArray *argv = g_ptr_array_new();
	char *err = NULL;
	int status = -1;
	GError *error = NULL;

	g_ptr_array_add(argv, (gpointer)(bin && *bin ? bin : "./pyprof"));
	for (; *args; args++)
		g_ptr_array_add(argv, (gpointer)*args);
	g_ptr_array_add(argv, fixture_path);
	g_ptr_array_add(argv, NULL);
	if (!g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_DEFAULT,
			  NULL, NULL, out, &err, &status, &error)) {
		fprintf(stderr, "cannot run pyprof: %s\n", error->message);
		g_error_free(error);
		status = -1;
	} else if (err && *err) {
		fprintf(stderr, "\npyprof said: %s", err);
	}
	g_free(err);
	g_ptr_array_unref(argv);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

#define CHECK_HAS(out, line)                                                 \
	do {                                                                 \
		CU_ASSERT_PTR_NOT_NULL((out) && strstr(out, line));          \
		if (!(out) || !strstr(out, line))                            \
			fprintf(stderr, "\n  want %s\n  in   %s\n", line, out); \
	} while (0)

#endif
