/*
 * fuzz_read.c - the file reader on arbitrary bytes.
 *
 * Twice per input: first pf_file_open_mem on a heap copy of exactly the
 * input's size (so AddressSanitizer sees a read one byte past the end),
 * or pf_pack_open_mem for a packed file, visiting every record and
 * touching every byte the reader hands out, line tables decoded at every
 * frame's offset, on one thread and then on two (pf_file_set_threads),
 * which must touch the same bytes and count the same; then the collector's own load, profile_load_file on the
 * same bytes as a file, and a call tree.  The packed seeds store their
 * streams (pyprof pack -l 0), so that mutations reach the unpacking rather
 * than stop at a zstd checksum.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <glib.h>

#include "format/read.h"
#include "format/pack.h"
#include "format/linetable.h"
#include "collector/profile.h"

#define MAX_CODES 4096

struct walk {
	uint32_t py_hexversion;
	unsigned sum; /* every byte read, so none is optimised away */
	const struct pf_code_info *codes[MAX_CODES];
	struct pf_code_info code_store[MAX_CODES];
};

static void touch(struct walk *w, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		w->sum += b[i];
}

static int on_thread(void *ctx, const struct pf_thread_info *t)
{
	touch(ctx, t->name, t->name_len);
	return 0;
}

static int on_string(void *ctx, uint32_t id, const char *s, uint32_t len)
{
	(void)id;
	touch(ctx, s, len);
	return 0;
}

static int on_code(void *ctx, const struct pf_code_info *c)
{
	struct walk *w = ctx;

	touch(w, c->linetable, c->linetable_len);
	if (c->id < MAX_CODES) {
		w->code_store[c->id] = *c;
		w->codes[c->id] = &w->code_store[c->id];
	}
	for (int lasti = -1; lasti < 64; lasti += 2)
		w->sum += (unsigned)linetable_line_of(w->py_hexversion, c->flags,
						      c->linetable, c->linetable_len,
						      c->firstlineno, lasti);
	return 0;
}

static int on_sample(void *ctx, const struct pf_sample *s)
{
	struct walk *w = ctx;

	for (uint32_t i = 0; i < s->depth; i++) {
		const struct pf_frame *f = &s->frames[i];
		const struct pf_code_info *c =
			f->code_id < MAX_CODES ? w->codes[f->code_id] : NULL;
		if (c)
			w->sum += (unsigned)linetable_line_of(
				w->py_hexversion, c->flags, c->linetable,
				c->linetable_len, c->firstlineno, f->lasti);
	}
	return 0;
}

static void on_warning(void *ctx, const struct pf_error *e)
{
	touch(ctx, e->msg, strnlen(e->msg, sizeof e->msg));
}

static int on_thread_name(void *ctx, const struct pf_thread_name *n)
{
	touch(ctx, n->name, n->name_len);
	return 0;
}

static int on_mark(void *ctx, const struct pf_mark *m)
{
	touch(ctx, m->label, m->label_len);
	return 0;
}

static void read_raw(const uint8_t *data, size_t size)
{
	static const struct pf_visitor v = {
		.on_thread = on_thread, .on_string = on_string,
		.on_code = on_code, .on_sample = on_sample,
		.on_warning = on_warning, .on_thread_name = on_thread_name,
		.on_mark = on_mark,
	};
	static struct walk w;
	struct pf_error err;
	struct pf_file *f;
	void *copy = malloc(size ? size : 1); /* malloc aligns to 16 */
	struct pf_visit_stats one_stats;
	unsigned one_sum = 0;
	int one_rc = 0;
	const char *const *argv;
	int argc;

	memcpy(copy, data, size);
	if ((pf_pack_is_packed(copy, size) ? pf_pack_open_mem(copy, size, &f, &err)
					   : pf_file_open_mem(copy, size, &f, &err)) == 0) {
		const struct pf_header *h = pf_file_header(f);
		memset(w.codes, 0, sizeof w.codes);
		w.py_hexversion = h->py_hexversion;
		argv = pf_file_argv(f, &argc);
		for (int i = 0; argv && i < argc; i++)
			touch(&w, argv[i], strlen(argv[i]));
		w.sum += pf_file_chunks(f) + (unsigned)pf_file_size(f);
		/* on one thread, then with the samples decoded on a second
		 * and the structure scanned on both: the same callbacks */
		for (int threads = 1; threads <= 2; threads++) {
			unsigned before = w.sum;
			struct pf_visit_stats st;
			int rc;

			memset(w.codes, 0, sizeof w.codes);
			pf_file_set_threads(f, threads);
			rc = pf_file_visit(f, &v, &w);
			if (threads == 1) {
				one_rc = rc;
				one_sum = w.sum - before;
				one_stats = *pf_file_stats(f);
				continue;
			}
			st = *pf_file_stats(f);
			if (rc != one_rc || w.sum - before != one_sum ||
			    memcmp(&st, &one_stats, sizeof st) != 0)
				abort();
		}
		w.sum += (unsigned)pf_file_stats(f)->samples;
		pf_file_close(f);
	}
	free(copy);
}

static void read_collector(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	struct profile *p;
	GError *e = NULL;

	if (fd < 0) {
		fd = memfd_create("fuzz.pyprof", 0);
		if (fd < 0)
			abort();
		g_snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	p = profile_new();
	if (profile_load_file(p, path, &e)) {
		/* families are made from the file's thread names */
		struct profile_tree_options o = {.group = PROFILE_GROUP_FAMILY};

		profile_tree_free(profile_tree_build(p, NULL));
		profile_tree_free(profile_tree_build(p, &o));
	} else
		g_clear_error(&e);
	profile_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	read_raw(data, size);
	read_collector(data, size);
	return 0;
}
