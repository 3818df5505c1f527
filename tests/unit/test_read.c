/*
 * test_read.c - the reader against hand-built files.
 *
 * Every file here is built byte by byte from format.h by the small builder
 * below (not by format/write.c), so these tests pin the format itself: if
 * the writer and the reader ever agree on something format.h does not say,
 * one of them fails here.  The visitor logs each callback as one line of
 * text, and tests compare logs, so an expectation reads like the decoded
 * file.  Damaged inputs are opened from malloc'd buffers of their exact
 * size (pf_file_open_mem), so AddressSanitizer sees any read past the end.
 * Packed files (pack.h) must read as the files they were packed from.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


#include "format.h"
#include "linetable.h"
#include "pack.h"
#include "read.h"
#include "tests/unit/unit.h"

/* --- a builder of .pyprof bytes ------------------------------------------ */

struct fb {
	uint8_t *buf;
	size_t size;
	uint32_t chunk_size;
	size_t pos; /* where the next record goes */
};

static void fb_init(struct fb *b, uint32_t chunk_size, uint32_t nchunks)
{
	struct pf_header *h;
	static const char cmd[] = "python3\0-c\0pass";

	b->chunk_size = chunk_size;
	b->size = PF_HEADER_SIZE + (size_t)chunk_size * nchunks;
	b->buf = aligned_alloc(8, b->size);
	memset(b->buf, 0, b->size);
	b->pos = 0;
	h = (struct pf_header *)b->buf;
	memcpy(h->magic, PF_MAGIC, PF_MAGIC_LEN);
	h->version_major = PF_VERSION_MAJOR;
	h->version_minor = PF_VERSION_MINOR;
	h->byte_order = PF_BYTE_ORDER;
	h->header_size = PF_HEADER_SIZE;
	h->chunk_size = chunk_size;
	h->chunks_claimed = nchunks;
	h->state = PF_STATE_COMPLETE;
	h->mode = PF_MODE_CPU;
	h->pid = 4242;
	h->py_hexversion = 0x030c01f0;
	memcpy(h->cmdline, cmd, sizeof(cmd));
	h->cmdline_len = sizeof(cmd); /* includes the last NUL */
}

static void fb_free(struct fb *b) { free(b->buf); }

static struct pf_header *fb_header(struct fb *b)
{
	return (struct pf_header *)b->buf;
}

static size_t fb_chunk_off(const struct fb *b, uint32_t i)
{
	return PF_HEADER_SIZE + (size_t)i * b->chunk_size;
}

/* Starts chunk i; records then go after its header. */
static void fb_chunk(struct fb *b, uint32_t i, uint32_t thread, uint32_t tid,
		     uint32_t seq)
{
	struct pf_chunk_header ch = { PF_CHUNK_MAGIC, thread, tid, seq };

	memcpy(b->buf + fb_chunk_off(b, i), &ch, sizeof(ch));
	b->pos = fb_chunk_off(b, i) + PF_CHUNK_HEADER_SIZE;
}

/* Appends a record; returns its file offset. */
static size_t fb_rec(struct fb *b, unsigned type, const void *body,
		     size_t len)
{
	uint32_t head = pf_head_make(type, (uint32_t)(len + 4));
	size_t at = b->pos;

	CU_ASSERT_FATAL(at + pf_align4(len + 4) <= b->size);
	memcpy(b->buf + at + 4, body, len);
	memcpy(b->buf + at, &head, 4);
	b->pos += pf_align4(len + 4);
	return at;
}

static size_t fb_thread(struct fb *b, uint32_t flags, const char *name,
			uint64_t base_mono, uint64_t base_cpu)
{
	uint8_t body[128];
	struct pf_rec_thread t = { flags, (uint32_t)strlen(name), base_mono,
				   base_cpu, 0x7f0000001000ull };

	memcpy(body, &t, sizeof(t));
	memcpy(body + sizeof(t), name, t.name_len);
	return fb_rec(b, PF_REC_THREAD, body, sizeof(t) + t.name_len);
}

static size_t fb_string(struct fb *b, uint32_t id, const char *s)
{
	uint8_t body[256];

	memcpy(body, &id, 4);
	memcpy(body + 4, s, strlen(s));
	return fb_rec(b, PF_REC_STRING, body, 4 + strlen(s));
}

static size_t fb_code(struct fb *b, uint32_t id, uint32_t file,
		      uint32_t name, int32_t firstlineno, const char *lt)
{
	uint8_t body[256];
	struct pf_rec_code c = { id, file, name, 0, firstlineno, 0 };

	memcpy(body, &c, sizeof(c));
	memcpy(body + sizeof(c), lt, strlen(lt));
	return fb_rec(b, PF_REC_CODE, body, sizeof(c) + strlen(lt));
}

/* frames: count pairs of { code_id, lasti_plus_1 } */
static size_t fb_sample(struct fb *b, uint64_t dt, uint64_t dcpu,
			uint64_t flags, uint64_t shared, uint64_t count,
			const uint64_t *frames)
{
	static uint8_t body[PF_VARINT_MAX * (5 + 2 * (PF_MAX_DEPTH + 1))];
	size_t n = 0;

	n += pf_varint_put(body + n, dt);
	n += pf_varint_put(body + n, dcpu);
	n += pf_varint_put(body + n, flags);
	n += pf_varint_put(body + n, shared);
	n += pf_varint_put(body + n, count);
	for (uint64_t i = 0; i < 2 * count; i++)
		n += pf_varint_put(body + n, frames[i]);
	return fb_rec(b, PF_REC_SAMPLE, body, n);
}

/* A repeated sample (2.4): fb_sample's fields, then its count */
static size_t fb_repeat(struct fb *b, uint64_t dt, uint64_t dcpu,
			uint64_t flags, uint64_t shared, uint64_t repeats)
{
	uint8_t body[6 * PF_VARINT_MAX];
	size_t n = 0;

	n += pf_varint_put(body + n, dt);
	n += pf_varint_put(body + n, dcpu);
	n += pf_varint_put(body + n, flags | PF_SAMPLE_REPEAT);
	n += pf_varint_put(body + n, shared);
	n += pf_varint_put(body + n, 0);
	n += pf_varint_put(body + n, repeats);
	return fb_rec(b, PF_REC_SAMPLE, body, n);
}

/* A copy of bytes [0, len) in a buffer of exactly len bytes. */
static uint8_t *exact_copy(const uint8_t *src, size_t len)
{
	uint8_t *p = malloc(len ? len : 1);
	if (len)
		memcpy(p, src, len);
	return p;
}

/* --- a visitor that logs ------------------------------------------------- */

struct log {
	char **lines;
	size_t n, cap;
	const uint8_t *lo, *hi; /* the file's bytes, for pointer checks */
	int stop_after;         /* stop the visit at this many lines, if > 0 */
	int bad_pointer;
};

static void log_add(struct log *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void log_add(struct log *l, const char *fmt, ...)
{
	char tmp[8192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->lines = realloc(l->lines, l->cap * sizeof(*l->lines));
	}
	l->lines[l->n++] = strdup(tmp);
}

static void log_free(struct log *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->lines[i]);
	free(l->lines);
	memset(l, 0, sizeof(*l));
}

static int in_file(struct log *l, const void *p, size_t len)
{
	const uint8_t *q = p;
	if (!l->lo)
		return 1;
	if (len == 0)
		return 1;
	if (q < l->lo || q > l->hi || (size_t)(l->hi - q) < len) {
		l->bad_pointer = 1;
		return 0;
	}
	return 1;
}

static int stop(struct log *l)
{
	return l->stop_after > 0 && (int)l->n >= l->stop_after ? 7 : 0;
}

static int on_thread(void *ctx, const struct pf_thread_info *t)
{
	struct log *l = ctx;

	if (!in_file(l, t->name, t->name_len))
		return 1;
	log_add(l, "thread %u tid %u flags %u pthread %llx name '%.*s'",
		t->thread, t->tid, t->flags, (unsigned long long)t->pthread,
		(int)t->name_len, t->name);
	return stop(l);
}

static int on_string(void *ctx, uint32_t id, const char *s, uint32_t len)
{
	struct log *l = ctx;

	if (!in_file(l, s, len))
		return 1;
	log_add(l, "string %u '%.*s'", id, (int)len, s);
	return stop(l);
}

static int on_code(void *ctx, const struct pf_code_info *c)
{
	struct log *l = ctx;

	if (!in_file(l, c->linetable, c->linetable_len))
		return 1;
	log_add(l, "code %u file %u name %u qual %u line %d flags %u lt '%.*s'",
		c->id, c->filename, c->name, c->qualname, c->firstlineno,
		c->flags, (int)c->linetable_len, (const char *)c->linetable);
	return stop(l);
}

static int on_sample(void *ctx, const struct pf_sample *s)
{
	struct log *l = ctx;
	char frames[PF_MAX_DEPTH * 24] = "";
	size_t n = 0;

	if (s->depth > PF_MAX_DEPTH || (s->depth && !s->frames)) {
		l->bad_pointer = 1;
		return 1;
	}
	for (uint32_t i = 0; i < s->depth && n < sizeof(frames) - 32; i++)
		n += (size_t)snprintf(frames + n, sizeof(frames) - n, "%s%u:%d",
				      i ? " " : "", s->frames[i].code_id,
				      s->frames[i].lasti);
	log_add(l, "sample t%u mono %llu cpu %llu wall %llu flags %u [%s]",
		s->thread, (unsigned long long)s->mono_ns,
		(unsigned long long)s->cpu_ns, (unsigned long long)s->wall_ns,
		s->flags, frames);
	return stop(l);
}

static void on_warning(void *ctx, const struct pf_error *w)
{
	struct log *l = ctx;

	log_add(l, "warning @%llu %s", (unsigned long long)w->offset, w->msg);
}

static int on_native(void *ctx, const struct pf_native_info *n)
{
	struct log *l = ctx;

	log_add(l, "native %u %llx", n->id, (unsigned long long)n->address);
	return stop(l);
}

static int on_object(void *ctx, const struct pf_object_info *o)
{
	struct log *l = ctx;
	char id[2 * 20 + 1] = "";

	for (uint32_t i = 0; i < o->build_id_len && i < 20; i++)
		snprintf(id + 2 * i, 3, "%02x", o->build_id[i]);
	log_add(l, "object mono %llu bias %llx [%llx, %llx) '%.*s' id %s",
		(unsigned long long)o->mono_ns, (unsigned long long)o->bias,
		(unsigned long long)o->lo, (unsigned long long)o->hi,
		(int)o->path_len, o->path, id);
	return stop(l);
}

static const struct pf_visitor logger = {
	.on_thread = on_thread, .on_string = on_string, .on_code = on_code,
	.on_sample = on_sample, .on_warning = on_warning,
	.on_native = on_native, .on_object = on_object,
};

/* Compares the log with expected lines (NULL-terminated). */
static void expect_log(const struct log *l, const char *const *want)
{
	size_t i;

	for (i = 0; want[i] && i < l->n; i++) {
		if (strcmp(l->lines[i], want[i]) != 0)
			fprintf(stderr, "\n  line %zu:\n    got  %s\n    want %s\n",
				i, l->lines[i], want[i]);
		CU_ASSERT_STRING_EQUAL(l->lines[i], want[i]);
	}
	for (; want[i]; i++)
		fprintf(stderr, "\n  missing: %s\n", want[i]);
	for (size_t j = i; j < l->n; j++)
		fprintf(stderr, "\n  extra: %s\n", l->lines[j]);
	CU_ASSERT_EQUAL(l->n, i);
}

static void expect_same_logs_as(const struct log *a, const struct log *b,
				const char *an, const char *bn)
{
	CU_ASSERT_EQUAL(a->n, b->n);
	for (size_t i = 0; i < a->n && i < b->n; i++) {
		if (strcmp(a->lines[i], b->lines[i]) != 0)
			fprintf(stderr, "\n  line %zu:\n    %-6s %s\n    %-6s %s\n",
				i, an, a->lines[i], bn, b->lines[i]);
		CU_ASSERT_STRING_EQUAL(a->lines[i], b->lines[i]);
	}
}

static void expect_same_logs(const struct log *a, const struct log *b)
{
	expect_same_logs_as(a, b, "live", "packed");
}

/* Visits f into l on one thread, then again with the second thread
 * (pf_file_set_threads), which must give the same callbacks, result and
 * stats; returns the result, *stats the stats. */
static int visit_both_ways(struct pf_file *f, struct log *l,
			   struct pf_visit_stats *stats)
{
	struct log two = { .lo = l->lo, .hi = l->hi,
			   .stop_after = l->stop_after };
	struct pf_visit_stats one;
	int rc, rc2;

	pf_file_set_threads(f, 1);
	rc = pf_file_visit(f, &logger, l);
	one = *pf_file_stats(f);
	pf_file_set_threads(f, 2);
	rc2 = pf_file_visit(f, &logger, &two);
	CU_ASSERT_EQUAL(rc2, rc);
	expect_same_logs_as(l, &two, "one", "two");
	CU_ASSERT_EQUAL(pf_file_stats(f)->samples, one.samples);
	CU_ASSERT_EQUAL(pf_file_stats(f)->records_skipped, one.records_skipped);
	CU_ASSERT_EQUAL(pf_file_stats(f)->chunks_damaged, one.chunks_damaged);
	CU_ASSERT_EQUAL(pf_file_stats(f)->frames_unresolved,
			one.frames_unresolved);
	l->bad_pointer |= two.bad_pointer;
	log_free(&two);
	pf_file_set_threads(f, 0);
	if (stats)
		*stats = one;
	return rc;
}

/* Opens bytes from an exact-size copy, visits into l.  Returns the open
 * result; err is filled on failure. */
static int visit_bytes(const uint8_t *bytes, size_t len, struct log *l,
		       struct pf_error *err, struct pf_visit_stats *stats)
{
	struct pf_file *f;
	uint8_t *copy = exact_copy(bytes, len);
	int rc;

	memset(err, 0, sizeof(*err));
	rc = pf_file_open_mem(copy, len, &f, err);
	if (rc == 0) {
		l->lo = copy;
		l->hi = copy + len;
		visit_both_ways(f, l, stats);
		pf_file_close(f);
		l->lo = l->hi = NULL;
	}
	free(copy);
	return rc;
}

/* --- the reference file -------------------------------------------------- */

/*
 * Three chunks of 4096 bytes, in file order:
 *   0: thread 2 seq 0   a code naming strings from thread 1, one sample
 *                       naming an undefined code, one unknown record
 *   1: thread 1 seq 1   a new stack (the previous one does not carry over)
 *   2: thread 1 seq 0   the strings, codes, and shared-prefix samples
 * so the visit must sort chunks by (thread, seq).
 */
static void build_reference(struct fb *b)
{
	fb_init(b, 4096, 3);

	fb_chunk(b, 0, 2, 202, 0);
	fb_thread(b, 0, "worker", 3000, 900);
	fb_code(b, 4, 1, 3, 30, "");
	{
		uint8_t junk[6] = { 1, 2, 3, 4, 5, 6 };
		fb_rec(b, 0x77, junk, sizeof(junk));
	}
	fb_sample(b, 100, 100, PF_SAMPLE_IDLE, 0, 2,
		  (uint64_t[]){ 4, 2, 9, 0 });

	fb_chunk(b, 1, 1, 101, 1);
	fb_thread(b, PF_THREAD_MAIN, "main", 2000, 500);
	fb_sample(b, 1, 2, 0, 0, 2, (uint64_t[]){ 1, 1, 2, 2 });
	fb_sample(b, 3, 4, PF_SAMPLE_GIL, 2, 1, (uint64_t[]){ 3, 10 });

	fb_chunk(b, 2, 1, 101, 0);
	fb_thread(b, PF_THREAD_MAIN, "main", 1000, 50);
	fb_string(b, 1, "app.py");
	fb_string(b, 2, "main");
	fb_code(b, 1, 1, 2, 1, "ab");
	fb_string(b, 3, "work");
	fb_code(b, 2, 1, 3, 10, "");
	fb_code(b, 3, 1, 3, 20, "xyz");
	fb_sample(b, 10, 5, PF_SAMPLE_GIL, 0, 3,
		  (uint64_t[]){ 1, 1, 2, 5, 3, 0 });
	fb_sample(b, 20, 7, 0, 2, 1, (uint64_t[]){ 3, 3 });
	fb_sample(b, 5, 1, PF_SAMPLE_GIL | PF_SAMPLE_TRUNCATED, 3, 0, NULL);
	fb_sample(b, 0, 0, 0, 1, 0, NULL);
	fb_sample(b, 7, 7, 0, 1, 1, (uint64_t[]){ 2, 1 });
}

static const char *const reference_log[] = {
	"thread 1 tid 101 flags 1 pthread 7f0000001000 name 'main'",
	"string 1 'app.py'",
	"string 2 'main'",
	"string 3 'work'",
	"thread 2 tid 202 flags 0 pthread 7f0000001000 name 'worker'",
	"code 1 file 1 name 2 qual 0 line 1 flags 0 lt 'ab'",
	"code 2 file 1 name 3 qual 0 line 10 flags 0 lt ''",
	"code 3 file 1 name 3 qual 0 line 20 flags 0 lt 'xyz'",
	"code 4 file 1 name 3 qual 0 line 30 flags 0 lt ''",
	"sample t1 mono 1010 cpu 5 wall 10 flags 1 [1:0 2:8 3:-1]",
	"sample t1 mono 1030 cpu 7 wall 20 flags 0 [1:0 2:8 3:4]",
	"sample t1 mono 1035 cpu 1 wall 5 flags 3 [1:0 2:8 3:4]",
	"sample t1 mono 1035 cpu 0 wall 0 flags 0 [1:0]",
	"sample t1 mono 1042 cpu 7 wall 7 flags 0 [1:0 2:0]",
	"sample t1 mono 2001 cpu 2 wall 1 flags 0 [1:0 2:2]",
	"sample t1 mono 2004 cpu 4 wall 3 flags 1 [1:0 2:2 3:18]",
	"sample t2 mono 3100 cpu 100 wall 100 flags 4 [4:2 9:-1]",
	NULL,
};

/* --- tests --------------------------------------------------------------- */

static void test_read__round_trip(void)
{
	struct fb b;
	struct log l = { 0 };
	struct pf_error err;
	struct pf_visit_stats st;

	build_reference(&b);
	CU_ASSERT_EQUAL_FATAL(visit_bytes(b.buf, b.size, &l, &err, &st), 0);
	expect_log(&l, reference_log);
	CU_ASSERT_EQUAL(st.samples, 8);
	CU_ASSERT_EQUAL(st.records_skipped, 1);
	CU_ASSERT_EQUAL(st.chunks_damaged, 0);
	CU_ASSERT_EQUAL(st.frames_unresolved, 1); /* code 9 */
	CU_ASSERT_FALSE(l.bad_pointer);
	log_free(&l);
	fb_free(&b);
}

static char *write_temp(const uint8_t *bytes, size_t len)
{
	char *path = unit_write_temp(bytes, len);

	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	return path;
}

static void test_read__open_by_path(void)
{
	struct fb b;
	struct log l = { 0 };
	struct pf_file *f;
	struct pf_error err;
	const char *const *argv;
	int argc;
	char *path;

	build_reference(&b);
	path = write_temp(b.buf, b.size);
	CU_ASSERT_EQUAL_FATAL(pf_file_open(path, &f, &err), 0);
	CU_ASSERT_EQUAL(pf_file_size(f), b.size);
	CU_ASSERT_EQUAL(pf_file_chunks(f), 3);
	CU_ASSERT_EQUAL(pf_file_header(f)->pid, 4242);
	argv = pf_file_argv(f, &argc);
	CU_ASSERT_EQUAL_FATAL(argc, 3);
	CU_ASSERT_STRING_EQUAL(argv[0], "python3");
	CU_ASSERT_STRING_EQUAL(argv[1], "-c");
	CU_ASSERT_STRING_EQUAL(argv[2], "pass");
	CU_ASSERT_PTR_NULL(argv[3]);
	CU_ASSERT_EQUAL(pf_file_visit(f, &logger, &l), 0);
	expect_log(&l, reference_log);
	/* a second visit gives the same, with fresh stats */
	log_free(&l);
	CU_ASSERT_EQUAL(pf_file_visit(f, &logger, &l), 0);
	expect_log(&l, reference_log);
	CU_ASSERT_EQUAL(pf_file_stats(f)->samples, 8);
	pf_file_close(f);
	unlink(path);
	free(path);
	log_free(&l);
	fb_free(&b);
}

static void test_read__argv_truncated_without_nul(void)
{
	struct fb b;
	struct pf_file *f;
	struct pf_error err;
	const char *const *argv;
	int argc;

	fb_init(&b, 4096, 0);
	memset(fb_header(&b)->cmdline, 0, PF_CMDLINE_MAX);
	memcpy(fb_header(&b)->cmdline, "ab\0cd", 5);
	fb_header(&b)->cmdline_len = 5;
	fb_header(&b)->flags = PF_FLAG_CMDLINE_TRUNCATED;
	CU_ASSERT_EQUAL_FATAL(pf_file_open_mem(b.buf, b.size, &f, &err), 0);
	argv = pf_file_argv(f, &argc);
	CU_ASSERT_EQUAL_FATAL(argc, 2);
	CU_ASSERT_STRING_EQUAL(argv[0], "ab");
	CU_ASSERT_STRING_EQUAL(argv[1], "cd");
	pf_file_close(f);
	/* clamped to the cmdline field, not believed: the zeros after "cd"
	 * then read as empty arguments */
	fb_header(&b)->cmdline_len = 0xffffffffu;
	CU_ASSERT_EQUAL_FATAL(pf_file_open_mem(b.buf, b.size, &f, &err), 0);
	argv = pf_file_argv(f, &argc);
	CU_ASSERT_EQUAL_FATAL(argc, PF_CMDLINE_MAX - 4);
	CU_ASSERT_STRING_EQUAL(argv[1], "cd");
	CU_ASSERT_STRING_EQUAL(argv[2], "");
	CU_ASSERT_PTR_NULL(argv[argc]);
	pf_file_close(f);
	fb_free(&b);
}

/* A zero head mid-chunk is the end of committed data, not damage. */
static void test_read__torn_record(void)
{
	struct fb b;
	struct log l = { 0 };
	struct pf_error err;
	struct pf_visit_stats st;
	size_t torn;
	static const char *const want[] = {
		"thread 1 tid 1 flags 0 pthread 7f0000001000 name 't'",
		"sample t1 mono 11 cpu 1 wall 1 flags 0 [5:0]",
		"sample t1 mono 12 cpu 1 wall 1 flags 0 [5:0 6:2]",
		NULL,
	};

	fb_init(&b, 4096, 1);
	fb_chunk(&b, 0, 1, 1, 0);
	fb_thread(&b, 0, "t", 10, 0);
	fb_sample(&b, 1, 1, 0, 0, 1, (uint64_t[]){ 5, 1 });
	fb_sample(&b, 1, 1, 0, 1, 1, (uint64_t[]){ 6, 2 });
	torn = fb_sample(&b, 1, 1, 0, 0, 1, (uint64_t[]){ 7, 1 });
	fb_sample(&b, 1, 1, 0, 0, 1, (uint64_t[]){ 8, 1 });
	memset(b.buf + torn, 0, 4); /* body written, head not yet stored */
	CU_ASSERT_EQUAL_FATAL(visit_bytes(b.buf, b.size, &l, &err, &st), 0);
	expect_log(&l, want);
	CU_ASSERT_EQUAL(st.chunks_damaged, 0);
	log_free(&l);
	fb_free(&b);
}

static void test_read__short_record_length(void)
{
	struct fb b;
	struct log l = { 0 };
	struct pf_error err;
	struct pf_visit_stats st;
	size_t bad;
	uint32_t head = pf_head_make(PF_REC_SAMPLE, 3);
	char want_warn[128];
	const char *want[] = {
		/* the structure walk meets thread 1's damage before thread 2 */
		"thread 1 tid 1 flags 0 pthread 7f0000001000 name 't'",
		want_warn,
		"thread 2 tid 2 flags 0 pthread 7f0000001000 name 'u'",
		"sample t1 mono 11 cpu 1 wall 1 flags 0 [5:0]",
		"sample t2 mono 21 cpu 1 wall 1 flags 0 [6:0]",
		NULL,
	};

	fb_init(&b, 4096, 2);
	fb_chunk(&b, 0, 1, 1, 0);
	fb_thread(&b, 0, "t", 10, 0);
	fb_sample(&b, 1, 1, 0, 0, 1, (uint64_t[]){ 5, 1 });
	bad = fb_sample(&b, 1, 1, 0, 0, 1, (uint64_t[]){ 5, 1 });
	fb_sample(&b, 1, 1, 0, 0, 1, (uint64_t[]){ 5, 1 });
	memcpy(b.buf + bad, &head, 4);
	fb_chunk(&b, 1, 2, 2, 0);
	fb_thread(&b, 0, "u", 20, 0);
	fb_sample(&b, 1, 1, 0, 0, 1, (uint64_t[]){ 6, 1 });
	snprintf(want_warn, sizeof(want_warn),
		 "warning @%zu record at offset %zu has length 3 (less than 4)",
		 bad, bad);
	CU_ASSERT_EQUAL_FATAL(visit_bytes(b.buf, b.size, &l, &err, &st), 0);
	expect_log(&l, want);
	CU_ASSERT_EQUAL(st.chunks_damaged, 1);
	CU_ASSERT_EQUAL(st.samples, 2);
	log_free(&l);
	fb_free(&b);
}

static void test_read__record_past_chunk(void)
{
	struct fb b;
	struct log l = { 0 };
	struct pf_error err;
	struct pf_visit_stats st;
	size_t bad;
	uint32_t head = pf_head_make(PF_REC_STRING, 5000);

	fb_init(&b, 4096, 1);
	fb_chunk(&b, 0, 1, 1, 0);
	fb_thread(&b, 0, "t", 10, 0);
	fb_string(&b, 1, "kept");
	bad = fb_string(&b, 2, "lost");
	memcpy(b.buf + bad, &head, 4);
	CU_ASSERT_EQUAL_FATAL(visit_bytes(b.buf, b.size, &l, &err, &st), 0);
	CU_ASSERT_EQUAL_FATAL(l.n, 3);
	CU_ASSERT_STRING_EQUAL(l.lines[1], "string 1 'kept'");
	CU_ASSERT_PTR_NOT_NULL(strstr(l.lines[2], "runs past the end of its chunk"));
	CU_ASSERT_EQUAL(st.chunks_damaged, 1);
	log_free(&l);
	fb_free(&b);
}

static void test_read__chunk_without_thread_record(void)
{
	struct fb b;
	struct log l = { 0 };
	struct pf_error err;
	struct pf_visit_stats st;

	fb_init(&b, 4096, 2);
	fb_chunk(&b, 0, 1, 1, 0);
	fb_string(&b, 1, "orphan");
	fb_chunk(&b, 1, 2, 2, 0);
	fb_thread(&b, 0, "ok", 0, 0);
	fb_string(&b, 2, "fine");
	CU_ASSERT_EQUAL_FATAL(visit_bytes(b.buf, b.size, &l, &err, &st), 0);
	CU_ASSERT_EQUAL_FATAL(l.n, 3);
	CU_ASSERT_STRING_EQUAL(l.lines[0],
			       "warning @4112 chunk at offset 4096 does not "
			       "begin with a thread record (type 2)");
	CU_ASSERT_STRING_EQUAL(l.lines[2], "string 2 'fine'");
	CU_ASSERT_EQUAL(st.chunks_damaged, 1);
	log_free(&l);
	fb_free(&b);
}

/* Format 2: a segment record hands the rest of a chunk to the thread it
 * names; a version-1 file has no segments, so there the same bytes are an
 * unknown record and the chunk stays its first thread's. */
static void segment_file(struct fb *b, uint16_t major)
{
	struct pf_rec_segment seg = {5, 55, 0};

	fb_init(b, 4096, 1);
	fb_header(b)->version_major = major;
	fb_chunk(b, 0, 1, 11, 0);
	fb_thread(b, 0, "first", 0, 0);
	fb_string(b, 1, "one");
	fb_rec(b, PF_REC_SEGMENT, &seg, sizeof seg);
	fb_thread(b, 0, "second", 0, 0);
	fb_string(b, 2, "two");
}

/* 2.1: native ids share the code ids (a sample may name one before the
 * codes of other chunks), objects are reported whole, and a cut-short
 * object record is warned about, not read past. */
static void test_read__native_and_object_records(void)
{
	struct fb b;
	struct log l = { 0 };
	struct pf_error err;
	struct pf_visit_stats st;
	struct pf_rec_native nr = { 7, 0, 0x7f00deadbeefull };
	struct pf_rec_object orec = { 100, 0x7f0000000000ull, 0x7f0000001000ull,
				      0x7f0000009000ull, 9, 4 };
	uint8_t body[sizeof orec + 13];
	const uint64_t frames[] = { 7, 0 };
	size_t bad;

	fb_init(&b, 4096, 1);
	fb_chunk(&b, 0, 1, 11, 0);
	fb_thread(&b, PF_THREAD_MAIN, "main", 0, 0);
	fb_rec(&b, PF_REC_NATIVE, &nr, sizeof nr);
	memcpy(body, &orec, sizeof orec);
	memcpy(body + sizeof orec, "/lib/x.so\x01\x02\xab\xcd", 13);
	fb_rec(&b, PF_REC_OBJECT, body, sizeof body);
	fb_sample(&b, 10, 10, 0, 0, 1, frames);
	orec.path_len = 200; /* longer than the record */
	memcpy(body, &orec, sizeof orec);
	bad = fb_rec(&b, PF_REC_OBJECT, body, sizeof body);
	CU_ASSERT_EQUAL_FATAL(visit_bytes(b.buf, b.size, &l, &err, &st), 0);
	CU_ASSERT_EQUAL_FATAL(l.n, 5);
	CU_ASSERT_STRING_EQUAL(l.lines[0], "thread 1 tid 11 flags 1 pthread 7f0000001000 name 'main'");
	CU_ASSERT_STRING_EQUAL(l.lines[1], "object mono 100 bias 7f0000000000 [7f0000001000, 7f0000009000) '/lib/x.so' id 0102abcd");
	{
		char want[96];
		snprintf(want, sizeof want, "warning @%zu object record at offset %zu is cut short", bad, bad);
		CU_ASSERT_STRING_EQUAL(l.lines[2], want);
	}
	CU_ASSERT_STRING_EQUAL(l.lines[3], "native 7 7f00deadbeef");
	CU_ASSERT_STRING_EQUAL(l.lines[4], "sample t1 mono 10 cpu 10 wall 10 flags 0 [7:-1]");
	CU_ASSERT_EQUAL(st.frames_unresolved, 0);
	CU_ASSERT_EQUAL(st.records_skipped, 0);
	log_free(&l);
	fb_free(&b);
}

static void test_read__segment_is_the_named_thread_s(void)
{
	struct fb b;
	struct log l = { 0 };
	struct pf_error err;
	struct pf_visit_stats st;

	segment_file(&b, 2);
	CU_ASSERT_EQUAL_FATAL(visit_bytes(b.buf, b.size, &l, &err, &st), 0);
	CU_ASSERT_EQUAL_FATAL(l.n, 4);
	CU_ASSERT_STRING_EQUAL(l.lines[0], "thread 1 tid 11 flags 0 pthread 7f0000001000 name 'first'");
	CU_ASSERT_STRING_EQUAL(l.lines[1], "string 1 'one'");
	CU_ASSERT_STRING_EQUAL(l.lines[2], "thread 5 tid 55 flags 0 pthread 7f0000001000 name 'second'");
	CU_ASSERT_STRING_EQUAL(l.lines[3], "string 2 'two'");
	CU_ASSERT_EQUAL(st.chunks_damaged, 0);
	log_free(&l);
	fb_free(&b);

	segment_file(&b, 1);
	CU_ASSERT_EQUAL_FATAL(visit_bytes(b.buf, b.size, &l, &err, &st), 0);
	CU_ASSERT_EQUAL_FATAL(l.n, 3);
	CU_ASSERT_STRING_EQUAL(l.lines[0], "thread 1 tid 11 flags 0 pthread 7f0000001000 name 'first'");
	CU_ASSERT_STRING_EQUAL(l.lines[2], "string 2 'two'");
	log_free(&l);
	fb_free(&b);
}

/* A segment record too short to name its thread ends the chunk there,
 * with a warning that names its offset. */
static void test_read__short_segment_is_damage(void)
{
	struct fb b;
	struct log l = { 0 };
	struct pf_error err;
	struct pf_visit_stats st;
	uint32_t half = 5;

	fb_init(&b, 4096, 1);
	fb_chunk(&b, 0, 1, 11, 0);
	fb_thread(&b, 0, "first", 0, 0);
	fb_rec(&b, PF_REC_SEGMENT, &half, sizeof half);
	fb_thread(&b, 0, "lost", 0, 0);
	CU_ASSERT_EQUAL_FATAL(visit_bytes(b.buf, b.size, &l, &err, &st), 0);
	CU_ASSERT_EQUAL_FATAL(l.n, 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(l.lines[0], "segment record at offset"));
	CU_ASSERT_STRING_EQUAL(l.lines[1], "thread 1 tid 11 flags 0 pthread 7f0000001000 name 'first'");
	CU_ASSERT_EQUAL(st.chunks_damaged, 1);
	log_free(&l);
	fb_free(&b);
}

/* Ids start at 1: a record defining id 0 is reported and not passed on,
 * but the records after it still decode. */
static void test_read__zero_ids_are_warned(void)
{
	struct fb b;
	struct log l = { 0 };
	struct pf_error err;
	struct pf_visit_stats st;
	static const char *const want[] = {
		"thread 1 tid 1 flags 0 pthread 7f0000001000 name 't'",
		"warning @4152 string record at offset 4152 has id 0",
		"warning @4164 code record at offset 4164 has id 0",
		"string 1 'after'",
		NULL,
	};

	fb_init(&b, 4096, 1);
	fb_chunk(&b, 0, 1, 1, 0);
	fb_thread(&b, 0, "t", 0, 0);
	fb_string(&b, 0, "zero");
	fb_code(&b, 0, 1, 1, 1, "");
	fb_string(&b, 1, "after");
	CU_ASSERT_EQUAL_FATAL(visit_bytes(b.buf, b.size, &l, &err, &st), 0);
	expect_log(&l, want);
	CU_ASSERT_EQUAL(st.chunks_damaged, 0);
	log_free(&l);
	fb_free(&b);
}

static void test_read__unused_chunk_is_silent(void)
{
	struct fb b;
	struct log l = { 0 };
	struct pf_error err;
	struct pf_visit_stats st;

	fb_init(&b, 4096, 3); /* chunks 0 and 2 stay zero */
	fb_chunk(&b, 1, 1, 1, 0);
	fb_thread(&b, 0, "t", 0, 0);
	CU_ASSERT_EQUAL_FATAL(visit_bytes(b.buf, b.size, &l, &err, &st), 0);
	CU_ASSERT_EQUAL_FATAL(l.n, 1);
	CU_ASSERT_STRING_EQUAL(l.lines[0],
			       "thread 1 tid 1 flags 0 pthread 7f0000001000 name 't'");
	CU_ASSERT_EQUAL(st.chunks_damaged, 0);
	log_free(&l);
	fb_free(&b);
}

/* Each chunk restarts the previous stack: sharing across chunks is damage. */
static void test_read__shared_beyond_previous_depth(void)
{
	struct fb b;
	struct log l = { 0 };
	struct pf_error err;
	struct pf_visit_stats st;

	fb_init(&b, 4096, 2);
	fb_chunk(&b, 0, 1, 1, 0);
	fb_thread(&b, 0, "t", 0, 0);
	fb_sample(&b, 1, 1, 0, 0, 2, (uint64_t[]){ 1, 1, 2, 1 });
	fb_chunk(&b, 1, 1, 1, 1);
	fb_thread(&b, 0, "t", 0, 0);
	fb_sample(&b, 1, 1, 0, 1, 1, (uint64_t[]){ 3, 1 });
	CU_ASSERT_EQUAL_FATAL(visit_bytes(b.buf, b.size, &l, &err, &st), 0);
	CU_ASSERT_EQUAL_FATAL(l.n, 3);
	CU_ASSERT_STRING_EQUAL(l.lines[1],
			       "sample t1 mono 1 cpu 1 wall 1 flags 0 [1:0 2:0]");
	CU_ASSERT_STRING_EQUAL(l.lines[2],
			       "warning @8248 sample at offset 8248 shares 1 "
			       "frames with a previous stack of 0");
	CU_ASSERT_EQUAL(st.samples, 1);
	CU_ASSERT_EQUAL(st.chunks_damaged, 1);
	log_free(&l);
	fb_free(&b);
}

static void test_read__depth_limit(void)
{
	struct fb b;
	struct log l = { 0 };
	struct pf_error err;
	struct pf_visit_stats st;
	uint64_t *fr = calloc(2 * (PF_MAX_DEPTH + 1), sizeof(*fr));

	for (int i = 0; i < 2 * (PF_MAX_DEPTH + 1); i++)
		fr[i] = 1;
	fb_init(&b, 65536, 1);
	fb_chunk(&b, 0, 1, 1, 0);
	fb_thread(&b, 0, "t", 0, 0);
	fb_sample(&b, 1, 1, PF_SAMPLE_TRUNCATED, 0, PF_MAX_DEPTH, fr);
	fb_sample(&b, 1, 1, 0, PF_MAX_DEPTH, 1, fr);     /* 2049 */
	CU_ASSERT_EQUAL_FATAL(visit_bytes(b.buf, b.size, &l, &err, &st), 0);
	CU_ASSERT_EQUAL(st.samples, 1);
	CU_ASSERT_EQUAL(st.chunks_damaged, 1);
	CU_ASSERT_EQUAL_FATAL(l.n, 3);
	CU_ASSERT_PTR_NOT_NULL(strstr(l.lines[2], "has depth 2049 (more than 2048)"));
	log_free(&l);
	fb_free(&b);
	free(fr);
}

static void test_read__file_cut_mid_chunk_keeps_prefix(void)
{
	struct fb b;
	struct log l = { 0 };
	struct pf_error err;
	struct pf_visit_stats st;
	size_t cut;

	fb_init(&b, 4096, 2);
	fb_chunk(&b, 0, 1, 1, 0);
	fb_thread(&b, 0, "t", 0, 0);
	fb_sample(&b, 1, 1, 0, 0, 1, (uint64_t[]){ 1, 1 });
	cut = fb_sample(&b, 1, 1, 0, 0, 1, (uint64_t[]){ 1, 1 }) + 5;
	CU_ASSERT_EQUAL_FATAL(visit_bytes(b.buf, cut, &l, &err, &st), 0);
	CU_ASSERT_EQUAL(st.samples, 1);
	CU_ASSERT_EQUAL(st.chunks_damaged, 1);
	CU_ASSERT_EQUAL_FATAL(l.n, 5);
	CU_ASSERT_STRING_EQUAL(l.lines[0],
			       "warning @4169 file is cut short: the header "
			       "claims 2 chunks, the file holds 1");
	CU_ASSERT_STRING_EQUAL(l.lines[1],
			       "warning @4169 file is cut short: chunk 0 at "
			       "offset 4096 has 73 of 4096 bytes");
	CU_ASSERT_STRING_EQUAL(l.lines[3],
			       "warning @4164 record at offset 4164 (type 4, "
			       "length 11) is cut short by the end of the file");
	CU_ASSERT_STRING_EQUAL(l.lines[4],
			       "sample t1 mono 1 cpu 1 wall 1 flags 0 [1:0]");
	log_free(&l);
	fb_free(&b);
}

/* Claims past max_size never got space: not reported as missing. */
static void test_read__claims_past_max_size_are_quiet(void)
{
	struct fb b;
	struct log l = { 0 };
	struct pf_error err;

	fb_init(&b, 4096, 1);
	fb_chunk(&b, 0, 1, 1, 0);
	fb_thread(&b, 0, "t", 0, 0);
	fb_header(&b)->chunks_claimed = 5;
	fb_header(&b)->max_size = b.size;
	CU_ASSERT_EQUAL_FATAL(visit_bytes(b.buf, b.size, &l, &err, NULL), 0);
	CU_ASSERT_EQUAL(l.n, 1);
	fb_header(&b)->max_size = 0;
	log_free(&l);
	CU_ASSERT_EQUAL_FATAL(visit_bytes(b.buf, b.size, &l, &err, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(l.n, 2);
	CU_ASSERT_STRING_EQUAL(l.lines[0], "warning @8192 file is cut short: "
			       "the header claims 5 chunks, the file holds 1");
	log_free(&l);
	fb_free(&b);
}

/* The writer claims a chunk before it allocates it: one claimed chunk
 * missing at a chunk boundary is that window (or a full disk), not damage. */
static void test_read__last_claim_unallocated_is_quiet(void)
{
	struct fb b;
	struct log l = { 0 };
	struct pf_error err;
	struct pf_visit_stats st;

	fb_init(&b, 4096, 1);
	fb_chunk(&b, 0, 1, 1, 0);
	fb_thread(&b, 0, "t", 0, 0);
	fb_header(&b)->chunks_claimed = 2;
	CU_ASSERT_EQUAL_FATAL(visit_bytes(b.buf, b.size, &l, &err, &st), 0);
	CU_ASSERT_EQUAL(l.n, 1);
	CU_ASSERT_EQUAL(st.chunks_damaged, 0);
	log_free(&l);
	fb_free(&b);
}

static void test_read__callback_stops_visit(void)
{
	struct fb b;
	struct log l = { 0 };
	struct pf_file *f;
	struct pf_error err;

	build_reference(&b);
	CU_ASSERT_EQUAL_FATAL(pf_file_open_mem(b.buf, b.size, &f, &err), 0);
	l.stop_after = 11;
	CU_ASSERT_EQUAL(visit_both_ways(f, &l, NULL), 7);
	CU_ASSERT_EQUAL(l.n, 11);
	log_free(&l);
	/* stopped in walk 1's callbacks, and in walk 3's */
	for (int at = 1; at <= 18; at++) {
		l.stop_after = at;
		CU_ASSERT_EQUAL(visit_both_ways(f, &l, NULL), at <= 17 ? 7 : 0);
		CU_ASSERT_EQUAL(l.n, (size_t)(at <= 17 ? at : 17));
		log_free(&l);
	}
	CU_ASSERT_EQUAL(pf_file_visit(f, NULL, NULL), 0);
	CU_ASSERT_EQUAL(pf_file_stats(f)->samples, 8);
	pf_file_close(f);
	fb_free(&b);
}

/* Every prefix of a valid file either fails to open or yields a prefix of
 * each thread's samples. */
static void test_read__truncated_at_every_length(void)
{
	struct fb b;
	struct log full = { 0 };
	struct pf_error err;
	size_t len, opened = 0, refused = 0;

	build_reference(&b);
	CU_ASSERT_EQUAL_FATAL(visit_bytes(b.buf, b.size, &full, &err, NULL), 0);
	for (len = 0; len <= b.size; len++) {
		struct log l = { 0 };
		size_t i, j = 0;

		if (visit_bytes(b.buf, len, &l, &err, NULL) != 0) {
			refused++;
			CU_ASSERT(err.msg[0] >= 'a' && err.msg[0] <= 'z');
			CU_ASSERT(len < PF_HEADER_SIZE);
			log_free(&l);
			continue;
		}
		opened++;
		CU_ASSERT_FALSE(l.bad_pointer);
		/* every non-warning line appears in the full log, in order */
		for (i = 0; i < l.n; i++) {
			if (strncmp(l.lines[i], "warning ", 8) == 0)
				continue;
			while (j < full.n && strcmp(full.lines[j], l.lines[i]))
				j++;
			CU_ASSERT(j < full.n);
			if (j == full.n) {
				fprintf(stderr, "\n  len %zu: unexpected %s\n",
					len, l.lines[i]);
				break;
			}
		}
		log_free(&l);
	}
	CU_ASSERT_EQUAL(refused, PF_HEADER_SIZE);
	CU_ASSERT_EQUAL(opened, b.size + 1 - PF_HEADER_SIZE);
	log_free(&full);
	fb_free(&b);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	/* xorshift64*: deterministic, so a failure reproduces */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

static void test_read__random_byte_flips(void)
{
	struct fb b;
	struct pf_error err;
	size_t *hot, nhot = 0, i;
	int round, rounds = 5000, opened = 0, bad = 0;

	/* TEST_READ_ROUNDS=N runs a longer soak with the same generator */
	if (getenv("TEST_READ_ROUNDS"))
		rounds = atoi(getenv("TEST_READ_ROUNDS"));
	build_reference(&b);
	/* mutate mostly where the bytes mean something: the header's fields,
	 * chunk headers and the records themselves */
	hot = malloc(b.size * sizeof(*hot));
	for (i = 0; i < b.size; i++)
		if (i < 400 || b.buf[i] != 0 ||
		    (i >= PF_HEADER_SIZE && (i - PF_HEADER_SIZE) % 4096 < 16))
			hot[nhot++] = i;
	for (round = 0; round < rounds; round++) {
		uint8_t *m = exact_copy(b.buf, b.size);
		size_t len = b.size;
		int flips = 1 + (int)(rng() % 8);
		struct log l = { 0 };

		for (int k = 0; k < flips; k++) {
			size_t at = rng() % 4 ? hot[rng() % nhot]
					      : rng() % b.size;
			switch (rng() % 3) {
			case 0: m[at] ^= (uint8_t)(1u << (rng() % 8)); break;
			case 1: m[at] = (uint8_t)rng(); break;
			default: m[at] = (uint8_t)(rng() % 2 ? 0 : 0xff); break;
			}
		}
		if (rng() % 8 == 0)
			len = PF_HEADER_SIZE + rng() % (b.size - PF_HEADER_SIZE);
		if (visit_bytes(m, len, &l, &err, NULL) == 0)
			opened++;
		bad |= l.bad_pointer;
		log_free(&l);
		free(m);
	}
	CU_ASSERT_FALSE(bad);
	CU_ASSERT(opened > rounds / 5); /* the mutations reached the chunks */
	free(hot);
	fb_free(&b);
}

static void expect_open_error(const uint8_t *bytes, size_t len,
			      uint64_t offset, const char *msg)
{
	struct pf_file *f = NULL;
	struct pf_error err;
	uint8_t *copy = exact_copy(bytes, len);

	memset(&err, 0, sizeof(err));
	CU_ASSERT_EQUAL(pf_file_open_mem(copy, len, &f, &err), -1);
	CU_ASSERT_PTR_NULL(f);
	if (strcmp(err.msg, msg) != 0)
		fprintf(stderr, "\n  got '%s' want '%s'\n", err.msg, msg);
	CU_ASSERT_STRING_EQUAL(err.msg, msg);
	CU_ASSERT_EQUAL(err.offset, offset);
	free(copy);
}

static void test_read__empty_file(void)
{
	struct pf_file *f;
	struct pf_error err;
	char *path = write_temp((const uint8_t *)"", 0);

	CU_ASSERT_EQUAL(pf_file_open(path, &f, &err), -1);
	CU_ASSERT_STRING_EQUAL(err.msg, "file is empty");
	CU_ASSERT_EQUAL(err.offset, 0);
	unlink(path);
	free(path);
	expect_open_error(NULL, 0, 0, "file is empty");
}

static void test_read__missing_file(void)
{
	struct pf_file *f;
	struct pf_error err;

	CU_ASSERT_EQUAL(pf_file_open("/nonexistent/x.pyprof", &f, &err), -1);
	CU_ASSERT_STRING_EQUAL(err.msg,
			       "cannot open: No such file or directory");
	CU_ASSERT_EQUAL(pf_file_open("/", &f, &err), -1);
	CU_ASSERT_STRING_EQUAL(err.msg, "not a regular file");
}

static void test_read__foreign_file(void)
{
	struct pf_file *f;
	struct pf_error err;

	/* this very test program is an ELF file */
	CU_ASSERT_EQUAL(pf_file_open("/proc/self/exe", &f, &err), -1);
	CU_ASSERT_STRING_EQUAL(err.msg, "not a pyprof file (bad magic)");
	CU_ASSERT_EQUAL(err.offset, 0);
	expect_open_error((const uint8_t *)"\x7f" "ELF", 4, 0,
			  "not a pyprof file (bad magic)");
	expect_open_error((const uint8_t *)"\x7fPYP", 4, 4,
			  "file is cut short in the magic (4 bytes)");
}

static void test_read__short_header(void)
{
	struct fb b;

	fb_init(&b, 4096, 0);
	expect_open_error(b.buf, 100, 100,
			  "file is cut short in the header (100 of 4096 bytes)");
	fb_free(&b);
}

static void test_read__big_endian(void)
{
	struct fb b;
	struct pf_header *h;

	fb_init(&b, 4096, 0);
	h = fb_header(&b);
	h->byte_order = __builtin_bswap32(PF_BYTE_ORDER);
	h->version_major = __builtin_bswap16(1);
	expect_open_error(b.buf, b.size, 12,
			  "big-endian file: only little-endian files are "
			  "supported");
	h->byte_order = 0xdeadbeef;
	expect_open_error(b.buf, b.size, 12, "bad byte order mark ef be ad de");
	fb_free(&b);
}

static void test_read__newer_major_version(void)
{
	struct fb b;
	struct pf_file *f;
	struct pf_error err;

	fb_init(&b, 4096, 0);
	fb_header(&b)->version_major = PF_VERSION_MAJOR + 1;
	fb_header(&b)->version_minor = 3;
	expect_open_error(b.buf, b.size, 8,
			  "unsupported format version 3.3 (this reader knows "
			  "major versions 1 to 2)");
	/* a newer minor is fine */
	fb_header(&b)->version_major = PF_VERSION_MAJOR;
	fb_header(&b)->version_minor = PF_VERSION_MINOR + 5;
	CU_ASSERT_EQUAL(pf_file_open_mem(b.buf, b.size, &f, &err), 0);
	pf_file_close(f);
	fb_free(&b);
}

static void test_read__bad_sizes(void)
{
	struct fb b;

	fb_init(&b, 4096, 0);
	fb_header(&b)->chunk_size = 12288;
	expect_open_error(b.buf, b.size, 20,
			  "bad chunk size 12288 (not a power of two between "
			  "4096 and 1073741824)");
	fb_header(&b)->chunk_size = 2048;
	expect_open_error(b.buf, b.size, 20,
			  "bad chunk size 2048 (not a power of two between "
			  "4096 and 1073741824)");
	fb_header(&b)->chunk_size = 4096;
	fb_header(&b)->header_size = 100;
	expect_open_error(b.buf, b.size, 16,
			  "bad header size 100 (expected 4096)");
	fb_header(&b)->header_size = 8192; /* sane, but past the end */
	expect_open_error(b.buf, b.size, 4096,
			  "file is cut short in the header (4096 of 8192 bytes)");
	fb_free(&b);
}

/* 2.4: a repeated sample comes out as the samples it stands for, its time
 * spread evenly over them and its whole stack in each, without the flag;
 * the sample after it counts from its end. */
static void repeat_file(struct fb *b)
{
	fb_init(b, 4096, 1);
	fb_chunk(b, 0, 1, 11, 0);
	fb_thread(b, PF_THREAD_MAIN, "main", 1000, 50);
	fb_sample(b, 10, 5, PF_SAMPLE_GIL, 0, 2, (uint64_t[]){ 1, 1, 2, 5 });
	fb_repeat(b, 10, 0, PF_SAMPLE_IDLE, 2, 3);
	fb_sample(b, 7, 1, 0, 2, 0, NULL);
}

static void test_read__repeated_sample_is_its_samples(void)
{
	static const char *const want[] = {
		"thread 1 tid 11 flags 1 pthread 7f0000001000 name 'main'",
		"sample t1 mono 1010 cpu 5 wall 10 flags 1 [1:0 2:8]",
		"sample t1 mono 1012 cpu 0 wall 2 flags 4 [1:0 2:8]",
		"sample t1 mono 1015 cpu 0 wall 3 flags 4 [1:0 2:8]",
		"sample t1 mono 1017 cpu 0 wall 2 flags 4 [1:0 2:8]",
		"sample t1 mono 1020 cpu 0 wall 3 flags 4 [1:0 2:8]",
		"sample t1 mono 1027 cpu 1 wall 7 flags 0 [1:0 2:8]",
		NULL,
	};
	struct fb b;
	struct log l = { 0 };
	struct pf_error err;
	struct pf_visit_stats st;

	repeat_file(&b);
	CU_ASSERT_EQUAL_FATAL(visit_bytes(b.buf, b.size, &l, &err, &st), 0);
	expect_log(&l, want);
	CU_ASSERT_EQUAL(st.samples, 6);
	CU_ASSERT_EQUAL(st.chunks_damaged, 0);
	log_free(&l);
	fb_free(&b);
}

/* A repeated sample without its count, or with more repeats than a
 * writer writes, is damage: the chunk stops there, with a warning. */
static void test_read__repeat_count_is_checked(void)
{
	static const uint8_t no_count[] = { 5, 0, 0x84, 0x02, 0, 0 };
	struct fb b;
	struct log l = { 0 };
	struct pf_error err;
	struct pf_visit_stats st;

	for (int k = 0; k < 2; k++) {
		fb_init(&b, 4096, 1);
		fb_chunk(&b, 0, 1, 11, 0);
		fb_thread(&b, 0, "", 0, 0);
		fb_sample(&b, 10, 5, 0, 0, 1, (uint64_t[]){ 1, 1 });
		if (k)
			fb_repeat(&b, 10, 0, 0, 1, PF_SAMPLE_REPEATS_MAX + 1);
		else
			fb_rec(&b, PF_REC_SAMPLE, no_count, sizeof no_count);
		fb_sample(&b, 7, 1, 0, 1, 0, NULL);
		CU_ASSERT_EQUAL_FATAL(visit_bytes(b.buf, b.size, &l, &err, &st), 0);
		CU_ASSERT_EQUAL(st.samples, 1);
		CU_ASSERT_EQUAL(st.chunks_damaged, 1);
		CU_ASSERT_EQUAL_FATAL(l.n, 3);
		CU_ASSERT_PTR_NOT_NULL(strstr(l.lines[2], "repeat count is missing or above 1024"));
		log_free(&l);
		fb_free(&b);
	}
}

/* --- packed files -------------------------------------------------------- */

/* The packed form of a live file's bytes (malloc'd, *out_len bytes) */
static uint8_t *pack_bytes(const uint8_t *bytes, size_t len, int level,
			   uint32_t quantum, struct pf_pack_stats *st,
			   size_t *out_len)
{
	struct pf_pack_options o = { level, quantum, NULL, NULL };
	struct pf_file *f;
	struct pf_error err;
	uint8_t *copy = exact_copy(bytes, len), *out;
	FILE *tmp = tmpfile();
	off_t size;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tmp);
	CU_ASSERT_EQUAL_FATAL(pf_file_open_mem(copy, len, &f, &err), 0);
	CU_ASSERT_EQUAL_FATAL(pf_pack_write(f, fileno(tmp), &o, st, &err), 0);
	pf_file_close(f);
	free(copy);
	size = lseek(fileno(tmp), 0, SEEK_END);
	CU_ASSERT_FATAL(size > 0);
	out = malloc((size_t)size);
	CU_ASSERT_EQUAL_FATAL(pread(fileno(tmp), out, (size_t)size, 0), size);
	fclose(tmp);
	*out_len = (size_t)size;
	return out;
}

/* visit_bytes for packed bytes.  The copy is freed before the visit: the
 * file unpacked is memory of its own. */
static int visit_packed(const uint8_t *bytes, size_t len, struct log *l,
			struct pf_error *err, struct pf_visit_stats *stats)
{
	struct pf_file *f;
	uint8_t *copy = exact_copy(bytes, len);
	int rc;

	memset(err, 0, sizeof(*err));
	rc = pf_pack_open_mem(copy, len, &f, err);
	free(copy);
	if (rc == 0) {
		l->lo = pf_file_data(f);
		l->hi = l->lo + pf_file_size(f);
		visit_both_ways(f, l, stats);
		pf_file_close(f);
		l->lo = l->hi = NULL;
	}
	return rc;
}

/* Live bytes and their packed form give the same visit, and so the same
 * stats; stored streams and compressed ones alike. */
static void expect_packs_alike(const uint8_t *bytes, size_t len)
{
	static const int levels[] = { 0, 1, 12 };
	struct log live = { 0 };
	struct pf_error err;
	struct pf_visit_stats st, pst;

	CU_ASSERT_EQUAL_FATAL(visit_bytes(bytes, len, &live, &err, &st), 0);
	for (size_t i = 0; i < sizeof levels / sizeof *levels; i++) {
		struct log packed = { 0 };
		size_t plen;
		uint8_t *p = pack_bytes(bytes, len, levels[i], 1, NULL, &plen);

		CU_ASSERT_TRUE(pf_pack_is_packed(p, plen));
		CU_ASSERT_EQUAL_FATAL(visit_packed(p, plen, &packed, &err, &pst), 0);
		expect_same_logs(&live, &packed);
		CU_ASSERT_FALSE(packed.bad_pointer);
		CU_ASSERT_EQUAL(pst.samples, st.samples);
		CU_ASSERT_EQUAL(pst.records_skipped, st.records_skipped);
		CU_ASSERT_EQUAL(pst.frames_unresolved, st.frames_unresolved);
		log_free(&packed);
		free(p);
	}
	log_free(&live);
}

static void test_read__packed_reads_as_the_file(void)
{
	struct fb b;

	build_reference(&b);
	expect_packs_alike(b.buf, b.size);
	fb_free(&b);
	segment_file(&b, 2);
	expect_packs_alike(b.buf, b.size);
	fb_free(&b);
	/* version 1: the same bytes, no segments: a chunk each still */
	segment_file(&b, 1);
	expect_packs_alike(b.buf, b.size);
	fb_free(&b);
	repeat_file(&b);
	expect_packs_alike(b.buf, b.size);
	fb_free(&b);
}

struct seg_log {
	uint8_t *bytes;
	size_t len;
};

/* Each segment's thread, tid, seq, length and records, back to back */
static int log_segment(void *ctx, const struct pf_segment_info *s)
{
	struct seg_log *sl = ctx;
	uint32_t h[4] = { s->thread, s->tid, s->seq, s->len };

	sl->bytes = realloc(sl->bytes, sl->len + sizeof h + s->len);
	memcpy(sl->bytes + sl->len, h, sizeof h);
	memcpy(sl->bytes + sl->len + sizeof h, s->records, s->len);
	sl->len += sizeof h + s->len;
	return 0;
}

static void segments_of(struct pf_file *f, struct seg_log *sl)
{
	memset(sl, 0, sizeof *sl);
	CU_ASSERT_EQUAL(pf_file_segments(f, NULL, log_segment, sl), 0);
}

/* Records come back byte for byte: the samples the columns take, and
 * those they cannot (a longer varint than needed, a field after the
 * frames, an unknown type), which are kept whole. */
static void test_read__packed_keeps_records_exactly(void)
{
	static const uint8_t long_varint[] = { 0x85, 0x00, 3, 0, 0, 0 };
	static const uint8_t trailing[] = { 9, 9, 0, 1, 0, 0x2a };
	struct fb b;
	struct pf_file *f, *g;
	struct pf_error err;
	struct seg_log live, packed;
	uint8_t *p, *copy;
	size_t plen;

	fb_init(&b, 4096, 2);
	fb_chunk(&b, 0, 1, 11, 0);
	fb_thread(&b, PF_THREAD_MAIN, "main", 100, 10);
	fb_sample(&b, 1000003, 999999, PF_SAMPLE_GIL, 0, 2,
		  (uint64_t[]){ 1, 1, 300, 70000 });
	fb_rec(&b, PF_REC_SAMPLE, long_varint, sizeof long_varint);
	fb_rec(&b, PF_REC_SAMPLE, trailing, sizeof trailing);
	fb_sample(&b, 50, 0, PF_SAMPLE_GAP, 2, 0, NULL);
	fb_rec(&b, 0x77, "\1\2\3\4\5", 5);
	fb_sample(&b, UINT64_MAX - 4, 7, 0, 1, 1, (uint64_t[]){ 2, 0 });
	fb_repeat(&b, 3000000, 0, PF_SAMPLE_IDLE, 2, 999);
	fb_chunk(&b, 1, 2, 22, 0);
	fb_thread(&b, 0, "", 5, 5);
	fb_sample(&b, 1, 1, PF_SAMPLE_IDLE | 3u << PF_SAMPLE_WAIT_SHIFT, 0, 0,
		  NULL);

	copy = exact_copy(b.buf, b.size);
	CU_ASSERT_EQUAL_FATAL(pf_file_open_mem(copy, b.size, &f, &err), 0);
	segments_of(f, &live);
	for (int level = 0; level <= 3; level += 3) {
		p = pack_bytes(b.buf, b.size, level, 1, NULL, &plen);
		CU_ASSERT_EQUAL_FATAL(pf_pack_open_mem(p, plen, &g, &err), 0);
		segments_of(g, &packed);
		CU_ASSERT_EQUAL(packed.len, live.len);
		CU_ASSERT(packed.len == live.len &&
			  !memcmp(packed.bytes, live.bytes, live.len));
		free(packed.bytes);
		pf_file_close(g);
		free(p);
	}
	free(live.bytes);
	pf_file_close(f);
	free(copy);
	fb_free(&b);
}

/* the code records a visit gives, by id (1..3) */
struct codes_seen {
	uint32_t flags[4];
	uint8_t table[4][256];
	uint32_t len[4];
	int32_t firstlineno[4];
};

static int see_code(void *ctx, const struct pf_code_info *c)
{
	struct codes_seen *cs = ctx;

	if (c->id < 4 && c->linetable_len <= sizeof cs->table[0]) {
		cs->flags[c->id] = c->flags;
		cs->len[c->id] = c->linetable_len;
		cs->firstlineno[c->id] = c->firstlineno;
		memcpy(cs->table[c->id], c->linetable, c->linetable_len);
	}
	return 0;
}

static int line_of(const struct codes_seen *cs, uint32_t id, int lasti)
{
	return linetable_line_of(0x030800f0, cs->flags[id], cs->table[id],
				 cs->len[id], cs->firstlineno[id], lasti);
}

/* A code record packs to the lines of the offsets its samples name when
 * they take less room than its line table; every frame reads the same
 * line, and the samples the same stacks. */
static void test_read__packed_lines_of_sampled_offsets(void)
{
	static const struct pf_visitor cv = { .on_code = see_code };
	char lnotab[61];
	struct fb b;
	struct pf_file *f, *g;
	struct pf_error err;
	struct pf_pack_stats st;
	struct codes_seen live = { 0 }, packed = { 0 };
	struct log ll = { 0 }, pl = { 0 };
	uint8_t *p, *copy;
	size_t plen;

	/* 3.8's co_lnotab: each 2-byte instruction a line further */
	for (int i = 0; i < 60; i += 2) {
		lnotab[i] = 2;
		lnotab[i + 1] = 1;
	}
	lnotab[60] = '\0';
	fb_init(&b, 4096, 1);
	fb_header(&b)->py_hexversion = 0x030800f0;
	fb_chunk(&b, 0, 1, 11, 0);
	fb_thread(&b, PF_THREAD_MAIN, "main", 100, 10);
	fb_string(&b, 1, "app.py");
	fb_code(&b, 1, 1, 1, 10, lnotab);  /* sampled: packs to 3 pairs */
	fb_code(&b, 2, 1, 1, 20, lnotab);  /* never sampled: to none */
	fb_code(&b, 3, 1, 1, 30, "ab");    /* 2 bytes: kept */
	fb_sample(&b, 1, 1, 0, 0, 2, (uint64_t[]){ 1, 1, 3, 3 });
	fb_sample(&b, 1, 1, 0, 1, 1, (uint64_t[]){ 1, 6 });
	fb_sample(&b, 1, 1, 0, 0, 1, (uint64_t[]){ 1, 11 });
	fb_sample(&b, 1, 1, 0, 0, 2, (uint64_t[]){ 1, 6, 1, 0 });

	copy = exact_copy(b.buf, b.size);
	CU_ASSERT_EQUAL_FATAL(pf_file_open_mem(copy, b.size, &f, &err), 0);
	CU_ASSERT_EQUAL(pf_file_visit(f, &cv, &live), 0);
	p = pack_bytes(b.buf, b.size, 3, 1, &st, &plen);
	CU_ASSERT_EQUAL(st.codes_paired, 2);
	CU_ASSERT_EQUAL_FATAL(pf_pack_open_mem(p, plen, &g, &err), 0);
	CU_ASSERT_EQUAL(pf_file_visit(g, &cv, &packed), 0);

	CU_ASSERT_EQUAL(live.flags[1], 0);
	CU_ASSERT_EQUAL(packed.flags[1], PF_CODE_LINE_PAIRS);
	CU_ASSERT_EQUAL(packed.len[1], 3 * sizeof(struct pf_line_pair));
	CU_ASSERT_EQUAL(packed.flags[2], PF_CODE_LINE_PAIRS);
	CU_ASSERT_EQUAL(packed.len[2], 0);
	CU_ASSERT_EQUAL(packed.flags[3], 0);
	CU_ASSERT_EQUAL(packed.len[3], 2);
	CU_ASSERT(!memcmp(packed.table[3], "ab", 2));
	/* the sampled offsets 0, 10, 20 read the live table's lines */
	for (int lasti = 0; lasti <= 20; lasti += 10) {
		CU_ASSERT_EQUAL(line_of(&packed, 1, lasti), line_of(&live, 1, lasti));
		CU_ASSERT_EQUAL(line_of(&live, 1, lasti), 10 + lasti / 2);
	}
	CU_ASSERT_EQUAL(line_of(&packed, 1, -1), 10);
	CU_ASSERT_EQUAL(line_of(&packed, 1, 12), -1); /* not sampled */
	CU_ASSERT_EQUAL(line_of(&packed, 2, 0), -1);
	CU_ASSERT_EQUAL(line_of(&packed, 3, 4), line_of(&live, 3, 4));
	/* and the rest reads the same */
	CU_ASSERT_EQUAL(visit_both_ways(f, &ll, NULL), 0);
	CU_ASSERT_EQUAL(visit_both_ways(g, &pl, NULL), 0);
	CU_ASSERT_EQUAL(pl.n, ll.n);
	for (size_t i = 0, k = 0; i < ll.n && k < pl.n; i++, k++) {
		if (!strncmp(ll.lines[i], "code ", 5))
			continue; /* their tables differ, as above */
		CU_ASSERT_STRING_EQUAL(pl.lines[k], ll.lines[i]);
	}
	log_free(&ll);
	log_free(&pl);
	pf_file_close(g);
	free(p);
	pf_file_close(f);
	free(copy);
	fb_free(&b);
}

/* Line pairs are found by bisection: in order, each offset's line; out of
 * order or cut short, some line or -1, never a read past them. */
static void test_read__line_pairs_lookup(void)
{
	const struct pf_line_pair sorted[] = { {0, 5}, {4, 6}, {10, -1}, {12, 9} };
	const struct pf_line_pair unsorted[] = { {12, 9}, {0, 5}, {10, 7}, {4, 6} };
	uint8_t *t = exact_copy((const uint8_t *)sorted, sizeof sorted);

	CU_ASSERT_EQUAL(linetable_line_of(0, PF_CODE_LINE_PAIRS, t, sizeof sorted, 3, 0), 5);
	CU_ASSERT_EQUAL(linetable_line_of(0, PF_CODE_LINE_PAIRS, t, sizeof sorted, 3, 4), 6);
	CU_ASSERT_EQUAL(linetable_line_of(0, PF_CODE_LINE_PAIRS, t, sizeof sorted, 3, 10), -1);
	CU_ASSERT_EQUAL(linetable_line_of(0, PF_CODE_LINE_PAIRS, t, sizeof sorted, 3, 12), 9);
	CU_ASSERT_EQUAL(linetable_line_of(0, PF_CODE_LINE_PAIRS, t, sizeof sorted, 3, 6), -1);
	CU_ASSERT_EQUAL(linetable_line_of(0, PF_CODE_LINE_PAIRS, t, sizeof sorted, 3, -1), 3);
	CU_ASSERT_EQUAL(linetable_line_of(0, PF_CODE_LINE_PAIRS, NULL, 0, 3, 4), -1);
	/* a length that is not whole pairs: the last part is not read */
	CU_ASSERT_EQUAL(linetable_line_of(0, PF_CODE_LINE_PAIRS, t, sizeof sorted - 1, 3, 12), -1);
	free(t);
	t = exact_copy((const uint8_t *)unsorted, sizeof unsorted);
	for (int lasti = -1; lasti < 16; lasti++) {
		int line = linetable_line_of(0, PF_CODE_LINE_PAIRS, t,
					     sizeof unsorted, 3, lasti);
		CU_ASSERT(line == -1 || line == 3 || line == 5 || line == 6 ||
			  line == 7 || line == 9);
	}
	free(t);
}

/* Rounded to q, every timestamp and every running sum of CPU time stays
 * within q/2 of the truth, and the stacks are untouched; a segment whose
 * deltas cannot be rounded keeps its times exact. */
static void test_read__packed_rounding_keeps_sums(void)
{
	enum { N = 300, Q = 1000 };
	struct fb b;
	struct log live = { 0 }, packed = { 0 };
	struct pf_error err;
	struct pf_pack_stats st;
	uint8_t *p;
	size_t plen;
	uint64_t cpu_live = 0, cpu_packed = 0;

	fb_init(&b, 16384, 2);
	fb_chunk(&b, 0, 1, 11, 0);
	fb_thread(&b, PF_THREAD_MAIN, "main", 1000000, 0);
	for (int i = 0; i < N; i++)
		fb_sample(&b, 1000000 + rng() % 99991, rng() % 1000003,
			  PF_SAMPLE_GIL, i ? 1 : 0, i ? 1 : 2,
			  i ? (uint64_t[]){ 2 + (uint64_t)i % 3, 1 }
			    : (uint64_t[]){ 1, 1, 2, 1 });
	fb_chunk(&b, 1, 2, 22, 0);
	fb_thread(&b, 0, "", 0, 0);
	fb_sample(&b, 1ull << 63, 10, 0, 0, 0, NULL);
	fb_sample(&b, 12345, 10, 0, 0, 0, NULL);

	CU_ASSERT_EQUAL_FATAL(visit_bytes(b.buf, b.size, &live, &err, NULL), 0);
	p = pack_bytes(b.buf, b.size, 12, Q, &st, &plen);
	CU_ASSERT_EQUAL(st.segments, 2);
	CU_ASSERT_EQUAL(st.exact_segments, 1);
	CU_ASSERT_EQUAL_FATAL(visit_packed(p, plen, &packed, &err, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(packed.n, live.n);
	for (size_t i = 0; i < live.n && i < packed.n; i++) {
		unsigned t1, t2, f1, f2;
		unsigned long long m1, m2, c1, c2, w1, w2;
		char s1[256], s2[256];

		if (strncmp(live.lines[i], "sample ", 7) != 0) {
			CU_ASSERT_STRING_EQUAL(live.lines[i], packed.lines[i]);
			continue;
		}
		CU_ASSERT_EQUAL_FATAL(sscanf(live.lines[i], "sample t%u mono %llu cpu %llu wall %llu flags %u %255[^\n]",
					     &t1, &m1, &c1, &w1, &f1, s1), 6);
		CU_ASSERT_EQUAL_FATAL(sscanf(packed.lines[i], "sample t%u mono %llu cpu %llu wall %llu flags %u %255[^\n]",
					     &t2, &m2, &c2, &w2, &f2, s2), 6);
		CU_ASSERT_EQUAL(t1, t2);
		CU_ASSERT_EQUAL(f1, f2);
		CU_ASSERT_STRING_EQUAL(s1, s2);
		if (t1 == 2) {
			/* the exact segment */
			CU_ASSERT_EQUAL(m1, m2);
			CU_ASSERT_EQUAL(c1, c2);
			continue;
		}
		cpu_live += c1;
		cpu_packed += c2;
		CU_ASSERT(m1 > m2 ? m1 - m2 <= Q / 2 : m2 - m1 <= Q / 2);
		CU_ASSERT(cpu_live > cpu_packed ? cpu_live - cpu_packed <= Q / 2
						: cpu_packed - cpu_live <= Q / 2);
		CU_ASSERT_EQUAL((m2 - 1000000) % Q, 0);
	}
	log_free(&live);
	log_free(&packed);
	free(p);
	fb_free(&b);
}

/* Whether byte at of packed bytes p lies in a zstd stream */
static int in_zstd_stream(const uint8_t *p, size_t at)
{
	struct pf_pack_header h;
	struct pf_pack_stream t;
	uint64_t off;

	memcpy(&h, p, sizeof h);
	off = h.table_size;
	for (uint32_t i = 0; i < h.streams; i++) {
		memcpy(&t, p + sizeof h + i * sizeof t, sizeof t);
		if (at >= off && at < off + t.size)
			return t.method == PF_PACK_ZSTD;
		off += t.size;
	}
	return 0;
}

/* Every prefix of a packed file, and every byte of it changed, is refused
 * with a message and an offset within it, or read without a byte read
 * from outside: compressed streams check themselves, stored ones go to
 * the live reader's checks. */
static void test_read__packed_damage(void)
{
	struct fb b;
	struct pf_error err;

	build_reference(&b);
	for (int level = 0; level <= 12; level += 12) {
		size_t plen, zstd_bytes = 0;
		uint8_t *p = pack_bytes(b.buf, b.size, level, 1, NULL, &plen);
		struct log full = { 0 };

		CU_ASSERT_EQUAL_FATAL(visit_packed(p, plen, &full, &err, NULL), 0);

		for (size_t len = 0; len < plen; len++) {
			struct log l = { 0 };

			CU_ASSERT_EQUAL(visit_packed(p, len, &l, &err, NULL), -1);
			CU_ASSERT(err.msg[0] >= 'a' && err.msg[0] <= 'z');
			CU_ASSERT(err.offset <= len);
			log_free(&l);
		}
		for (size_t at = 0; at < plen; at++) {
			int zstd = in_zstd_stream(p, at);

			for (int bit = 0; bit < 8; bit += 3) {
				struct log l = { 0 };
				int rc;

				p[at] ^= (uint8_t)(1u << bit);
				rc = visit_packed(p, plen, &l, &err, NULL);
				if (rc != 0)
					CU_ASSERT(err.offset <= plen);
				/* a compressed stream checks what it holds:
				 * a change it lets through (its window size,
				 * say) changed nothing */
				if (zstd && rc == 0)
					expect_same_logs(&full, &l);
				CU_ASSERT_FALSE(l.bad_pointer);
				log_free(&l);
				p[at] ^= (uint8_t)(1u << bit);
			}
			zstd_bytes += zstd;
		}
		CU_ASSERT(!level || zstd_bytes > 0);
		log_free(&full);
		free(p);
	}
	fb_free(&b);
}

static void expect_pack_error(const uint8_t *p, size_t len, uint64_t offset,
			      const char *msg)
{
	struct pf_file *f = NULL;
	struct pf_error err;

	memset(&err, 0, sizeof err);
	CU_ASSERT_EQUAL(pf_pack_open_mem(p, len, &f, &err), -1);
	CU_ASSERT_PTR_NULL(f);
	if (strcmp(err.msg, msg) != 0)
		fprintf(stderr, "\n  got '%s' want '%s'\n", err.msg, msg);
	CU_ASSERT_STRING_EQUAL(err.msg, msg);
	CU_ASSERT_EQUAL(err.offset, offset);
}

static void test_read__packed_container_errors(void)
{
	struct fb b;
	size_t plen;
	uint8_t *p, *q;
	uint16_t v = 3;

	build_reference(&b);
	p = pack_bytes(b.buf, b.size, 0, 1, NULL, &plen);
	q = exact_copy(p, plen);
	memcpy(q + 8, &v, 2);
	expect_pack_error(q, plen, 8, "unsupported packed format version 3.0 "
			  "(this reader knows 1 to 2)");
	free(q);
	q = malloc(plen + 3);
	memcpy(q, p, plen);
	memcpy(q + plen, "abc", 3);
	expect_pack_error(q, plen + 3, plen, "bytes follow the last stream (3)");
	free(q);
	expect_pack_error(p, 40, 40, "packed file is cut short in its header");
	/* a stored stream whose table entry says it unpacks to less */
	q = exact_copy(p, plen);
	{
		struct pf_pack_stream t[PF_PACK_STREAMS];
		size_t at = sizeof(struct pf_pack_header);
		char want[128];

		memcpy(t, q + at, sizeof t);
		t[2].raw_size--;
		memcpy(q + at, t, sizeof t);
		at += sizeof t + t[0].size + t[1].size;
		snprintf(want, sizeof want, "stored stream records at offset %zu "
			 "has size %llu but raw size %llu", at,
			 (unsigned long long)t[2].size,
			 (unsigned long long)t[2].raw_size);
		expect_pack_error(q, plen, at, want);
	}
	free(q);
	free(p);
	fb_free(&b);
}

/* pf_pack_open opens both kinds by path */
static void test_read__packed_open_by_path(void)
{
	struct fb b;
	struct log live = { 0 }, packed = { 0 };
	struct pf_file *f;
	struct pf_error err;
	size_t plen;
	uint8_t *p;
	char *lpath, *ppath;

	build_reference(&b);
	p = pack_bytes(b.buf, b.size, 3, 1, NULL, &plen);
	lpath = write_temp(b.buf, b.size);
	ppath = write_temp(p, plen);
	CU_ASSERT_EQUAL_FATAL(pf_pack_open(lpath, &f, &err), 0);
	pf_file_visit(f, &logger, &live);
	pf_file_close(f);
	CU_ASSERT_EQUAL_FATAL(pf_pack_open(ppath, &f, &err), 0);
	CU_ASSERT_EQUAL(pf_file_header(f)->pid, 4242);
	pf_file_visit(f, &logger, &packed);
	pf_file_close(f);
	expect_log(&live, reference_log);
	expect_same_logs(&live, &packed);
	CU_ASSERT_EQUAL(pf_pack_open("/nonexistent/x.pyprofz", &f, &err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "cannot open"));
	unlink(lpath);
	unlink(ppath);
	free(lpath);
	free(ppath);
	free(p);
	log_free(&live);
	log_free(&packed);
	fb_free(&b);
}

UNIT_MAIN("read",
	  UNIT_TEST(test_read__round_trip),
	  UNIT_TEST(test_read__open_by_path),
	  UNIT_TEST(test_read__argv_truncated_without_nul),
	  UNIT_TEST(test_read__torn_record),
	  UNIT_TEST(test_read__short_record_length),
	  UNIT_TEST(test_read__record_past_chunk),
	  UNIT_TEST(test_read__chunk_without_thread_record),
	  UNIT_TEST(test_read__segment_is_the_named_thread_s),
	  UNIT_TEST(test_read__native_and_object_records),
	  UNIT_TEST(test_read__short_segment_is_damage),
	  UNIT_TEST(test_read__zero_ids_are_warned),
	  UNIT_TEST(test_read__unused_chunk_is_silent),
	  UNIT_TEST(test_read__shared_beyond_previous_depth),
	  UNIT_TEST(test_read__depth_limit),
	  UNIT_TEST(test_read__file_cut_mid_chunk_keeps_prefix),
	  UNIT_TEST(test_read__claims_past_max_size_are_quiet),
	  UNIT_TEST(test_read__last_claim_unallocated_is_quiet),
	  UNIT_TEST(test_read__callback_stops_visit),
	  UNIT_TEST(test_read__truncated_at_every_length),
	  UNIT_TEST(test_read__random_byte_flips),
	  UNIT_TEST(test_read__empty_file),
	  UNIT_TEST(test_read__missing_file),
	  UNIT_TEST(test_read__foreign_file),
	  UNIT_TEST(test_read__short_header),
	  UNIT_TEST(test_read__big_endian),
	  UNIT_TEST(test_read__newer_major_version),
	  UNIT_TEST(test_read__bad_sizes),
	  UNIT_TEST(test_read__repeated_sample_is_its_samples),
	  UNIT_TEST(test_read__repeat_count_is_checked),
	  UNIT_TEST(test_read__packed_reads_as_the_file),
	  UNIT_TEST(test_read__packed_keeps_records_exactly),
	  UNIT_TEST(test_read__packed_lines_of_sampled_offsets),
	  UNIT_TEST(test_read__line_pairs_lookup),
	  UNIT_TEST(test_read__packed_rounding_keeps_sums),
	  UNIT_TEST(test_read__packed_damage),
	  UNIT_TEST(test_read__packed_container_errors),
	  UNIT_TEST(test_read__packed_open_by_path))
