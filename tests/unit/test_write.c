/*
 * test_write.c - the writer against the reader: what one writes the other
 * reads back, torn records stop a chunk and nothing else, and the size
 * bound turns into "full" instead of SIGBUS.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "encode.h"
#include "read.h"
#include "write.h"
#include "tests/unit/unit.h"

static char dir[64];
static char path[128];

static int suite_init(void)
{
	strcpy(dir, "/tmp/pyprof-write-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof path, "%s/t.pyprof", dir);
	return 0;
}

static int suite_clean(void)
{
	unlink(path);
	rmdir(dir);
	return 0;
}

static void put_thread(struct pf_cursor *c, uint64_t mono, uint64_t cpu)
{
	struct pf_rec_thread t = {PF_THREAD_MAIN, 0, mono, cpu, 77};
	uint8_t *b = pf_cursor_space(c, sizeof t);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	pf_cursor_commit(c, PF_REC_THREAD, pf_put_thread(b, &t, NULL));
}

static void put_string(struct pf_cursor *c, uint32_t id, const char *s)
{
	size_t n = strlen(s);
	uint8_t *b = pf_cursor_space(c, 4 + n);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	pf_cursor_commit(c, PF_REC_STRING, pf_put_string(b, id, s, n));
}

static void put_code(struct pf_cursor *c, uint32_t id, uint32_t file,
		     uint32_t name)
{
	struct pf_rec_code r = {id, file, name, 0, 10, 0};
	uint8_t *b = pf_cursor_space(c, sizeof r + 2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	b += pf_put_code(b, &r);
	b[0] = 6; /* a line table: 6 bytes of code ... */
	b[1] = 1; /* ... advance one line */
	pf_cursor_commit(c, PF_REC_CODE, sizeof r + 2);
}

/* A sample whose n new frames are codes[], each at lasti 4. */
static void put_sample_flags(struct pf_cursor *c, uint64_t dt, uint64_t dcpu,
			     uint32_t flags, uint32_t shared, int n,
			     const uint32_t *codes)
{
	uint8_t tmp[256], *p = tmp, *b;

	p += pf_put_sample_head(p, dt, dcpu, flags, shared, (uint32_t)n);
	for (int i = 0; i < n; i++)
		p += pf_put_frame(p, codes[i], 4);
	b = pf_cursor_space(c, (size_t)(p - tmp));
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	memcpy(b, tmp, (size_t)(p - tmp));
	pf_cursor_commit(c, PF_REC_SAMPLE, (size_t)(p - tmp));
}

static void put_sample(struct pf_cursor *c, uint64_t dt, uint64_t dcpu,
		       uint32_t shared, int n, const uint32_t *codes)
{
	put_sample_flags(c, dt, dcpu, PF_SAMPLE_GIL, shared, n, codes);
}

struct seen {
	int threads, strings, codes, samples, warnings;
	uint32_t depth[8];
	uint64_t mono[8], cpu[8], wall[8];
	uint32_t leaf[8];
};

static int on_thread(void *ctx, const struct pf_thread_info *t)
{
	((struct seen *)ctx)->threads++;
	CU_ASSERT_EQUAL(t->pthread, 77);
	return 0;
}
static int on_string(void *ctx, uint32_t id, const char *s, uint32_t len)
{
	((struct seen *)ctx)->strings++;
	return 0;
}
static int on_code(void *ctx, const struct pf_code_info *c)
{
	((struct seen *)ctx)->codes++;
	CU_ASSERT_EQUAL(c->linetable_len, 2);
	return 0;
}
static int on_sample(void *ctx, const struct pf_sample *s)
{
	struct seen *z = ctx;
	if (z->samples < 8) {
		z->depth[z->samples] = s->depth;
		z->mono[z->samples] = s->mono_ns;
		z->cpu[z->samples] = s->cpu_ns;
		z->wall[z->samples] = s->wall_ns;
		z->leaf[z->samples] = s->depth ? s->frames[s->depth - 1].code_id : 0;
		if (s->depth)
			CU_ASSERT_EQUAL(s->frames[s->depth - 1].lasti, 4);
	}
	z->samples++;
	return 0;
}
static void on_warning(void *ctx, const struct pf_error *w)
{
	((struct seen *)ctx)->warnings++;
}

static const struct pf_visitor visitor = {
	.on_thread = on_thread, .on_string = on_string, .on_code = on_code,
	.on_sample = on_sample, .on_warning = on_warning,
};

static void read_back(struct seen *z)
{
	struct pf_file *f;
	struct pf_error err;

	memset(z, 0, sizeof *z);
	CU_ASSERT_EQUAL_FATAL(pf_file_open(path, &f, &err), 0);
	CU_ASSERT_EQUAL(pf_file_visit(f, &visitor, z), 0);
	pf_file_close(f);
}

static void test_write__round_trip(void)
{
	struct pf_writer w;
	struct pf_cursor c = {.thread = 1, .tid = 100};
	struct seen z;
	char err[256];
	uint32_t stack[3] = {1, 2, 1};

	unlink(path);
	CU_ASSERT_EQUAL_FATAL(pf_writer_create(&w, path, 1 << 20, err, sizeof err), 0);
	w.hdr->start_monotonic_ns = 1000;
	CU_ASSERT_EQUAL_FATAL(pf_writer_next_chunk(&w, &c), 0);
	CU_ASSERT_EQUAL(c.seq, 0);
	put_thread(&c, 1000, 50);
	put_string(&c, 1, "app.py");
	put_string(&c, 2, "main");
	put_code(&c, 1, 1, 2);
	put_code(&c, 2, 1, 2);
	put_sample(&c, 10, 7, 0, 3, stack);     /* 1 2 1 */
	put_sample(&c, 20, 9, 2, 1, stack + 1); /* 1 2 2 */
	/* a second chunk starts over with a thread record */
	CU_ASSERT_EQUAL_FATAL(pf_writer_next_chunk(&w, &c), 0);
	CU_ASSERT_EQUAL(c.seq, 1);
	put_thread(&c, 1030, 66);
	put_sample(&c, 5, 4, 0, 1, stack);
	pf_writer_finish(&w, PF_END_EXIT, 0);
	pf_writer_close(&w);

	read_back(&z);
	CU_ASSERT_EQUAL(z.threads, 1);
	CU_ASSERT_EQUAL(z.strings, 2);
	CU_ASSERT_EQUAL(z.codes, 2);
	CU_ASSERT_EQUAL(z.samples, 3);
	CU_ASSERT_EQUAL(z.warnings, 0);
	CU_ASSERT_EQUAL(z.depth[0], 3);
	CU_ASSERT_EQUAL(z.depth[1], 3);
	CU_ASSERT_EQUAL(z.leaf[1], 2);
	CU_ASSERT_EQUAL(z.depth[2], 1);
	CU_ASSERT_EQUAL(z.mono[0], 1010);
	CU_ASSERT_EQUAL(z.mono[1], 1030);
	CU_ASSERT_EQUAL(z.mono[2], 1035);
	CU_ASSERT_EQUAL(z.cpu[0], 7);
	CU_ASSERT_EQUAL(z.cpu[1], 9);
	CU_ASSERT_EQUAL(z.cpu[2], 4);
}

/* A new file at `path` with one thread's chunk (baselines mono 1000, cpu
 * 50) and code objects 1 and 2 ("main" in app.py), ready for samples. */
static void open_one_thread(struct pf_writer *w, struct pf_cursor *c)
{
	char err[256];

	unlink(path);
	CU_ASSERT_EQUAL_FATAL(pf_writer_create(w, path, 1 << 20, err, sizeof err), 0);
	CU_ASSERT_EQUAL_FATAL(pf_writer_next_chunk(w, c), 0);
	put_thread(c, 1000, 50);
	put_string(c, 1, "app.py");
	put_string(c, 2, "main");
	put_code(c, 1, 1, 2);
	put_code(c, 2, 1, 2);
}

/* Ends the file that open_one_thread began, and reads it back into z. */
static void close_and_read(struct pf_writer *w, struct seen *z)
{
	pf_writer_finish(w, PF_END_EXIT, 0);
	pf_writer_close(w);
	read_back(z);
}

/* A gap (a dropped sample, a pause) is no sample, but its time moves the
 * clock of the samples after it, and the stack carries over it. */
static void test_write__gap_moves_the_clock(void)
{
	struct pf_writer w;
	struct pf_cursor c = {.thread = 1, .tid = 100};
	struct seen z;
	uint32_t stack[3] = {1, 2, 1};

	open_one_thread(&w, &c);
	put_sample(&c, 10, 7, 0, 3, stack);
	put_sample_flags(&c, 500, 3, PF_SAMPLE_GAP, 3, 0, NULL);
	put_sample(&c, 20, 9, 3, 0, NULL); /* the same stack */
	close_and_read(&w, &z);
	CU_ASSERT_EQUAL(z.samples, 2);
	CU_ASSERT_EQUAL(z.warnings, 0);
	CU_ASSERT_EQUAL(z.mono[0], 1010);
	CU_ASSERT_EQUAL(z.mono[1], 1530);
	CU_ASSERT_EQUAL(z.cpu[1], 9);
	CU_ASSERT_EQUAL(z.depth[1], 3);
	CU_ASSERT_EQUAL(z.leaf[1], 1);
}

/* 2.4: the ticks at which a waiting thread had not run, written as one
 * repeated sample (what the writer's encoders make of it), read back as
 * that many samples of its stack, whose times add up to the record's. */
static void test_write__repeated_sample_reads_as_its_samples(void)
{
	struct pf_writer w;
	struct pf_cursor c = {.thread = 1, .tid = 100};
	struct seen z;
	uint32_t stack[2] = {1, 2};
	uint8_t tmp[64], *p = tmp, *b;
	uint64_t wall = 0, cpu = 0;

	open_one_thread(&w, &c);
	put_sample(&c, 10, 7, 0, 2, stack);
	p += pf_put_sample_head(p, 3000001, 0, PF_SAMPLE_IDLE | PF_SAMPLE_REPEAT,
				2, 0);
	p += pf_put_repeats(p, 5);
	b = pf_cursor_space(&c, (size_t)(p - tmp));
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	memcpy(b, tmp, (size_t)(p - tmp));
	pf_cursor_commit(&c, PF_REC_SAMPLE, (size_t)(p - tmp));
	put_sample(&c, 20, 9, 2, 0, NULL);
	close_and_read(&w, &z);
	CU_ASSERT_EQUAL(z.samples, 8);
	CU_ASSERT_EQUAL(z.warnings, 0);
	for (int i = 1; i <= 6; i++) {
		CU_ASSERT_EQUAL(z.depth[i], 2);
		CU_ASSERT_EQUAL(z.leaf[i], 2);
		CU_ASSERT(z.wall[i] == 500000 || z.wall[i] == 500001);
		wall += z.wall[i];
		cpu += z.cpu[i];
	}
	CU_ASSERT_EQUAL(wall, 3000001);
	CU_ASSERT_EQUAL(cpu, 0);
	CU_ASSERT_EQUAL(z.mono[6], 1010 + 3000001);
	CU_ASSERT_EQUAL(z.mono[7], 1010 + 3000001 + 20);
	CU_ASSERT_EQUAL(z.wall[7], 20);
}

/* A delta of 2^63 or more is a small negative one (clocks read before
 * the previous sample's): the time goes back by it, modulo 2^64, and the
 * sample stands for no time, not for centuries. */
static void test_write__negative_delta_is_no_time(void)
{
	struct pf_writer w;
	struct pf_cursor c = {.thread = 1, .tid = 100};
	struct seen z;
	uint32_t stack[1] = {1};

	open_one_thread(&w, &c);
	put_sample(&c, 100, 40, 0, 1, stack);
	put_sample(&c, (uint64_t)-30, (uint64_t)-5, 1, 0, NULL);
	put_sample(&c, 80, 20, 1, 0, NULL);
	close_and_read(&w, &z);
	CU_ASSERT_EQUAL(z.samples, 3);
	CU_ASSERT_EQUAL(z.warnings, 0);
	CU_ASSERT_EQUAL(z.mono[0], 1100);
	CU_ASSERT_EQUAL(z.mono[1], 1070);
	CU_ASSERT_EQUAL(z.wall[1], 0);
	CU_ASSERT_EQUAL(z.cpu[1], 0);
	CU_ASSERT_EQUAL(z.mono[2], 1150);
	CU_ASSERT_EQUAL(z.wall[2], 80);
	CU_ASSERT_EQUAL(z.cpu[2], 20);
}

/* A record whose head was never stored ends its chunk; the records before
 * it and the other chunks still decode. */
static void test_write__torn_record(void)
{
	struct pf_writer w;
	struct pf_cursor a = {.thread = 1, .tid = 100}, b = {.thread = 2, .tid = 101};
	struct seen z;
	char err[256];
	uint32_t stack[1] = {1};

	unlink(path);
	CU_ASSERT_EQUAL_FATAL(pf_writer_create(&w, path, 1 << 20, err, sizeof err), 0);
	CU_ASSERT_EQUAL_FATAL(pf_writer_next_chunk(&w, &a), 0);
	CU_ASSERT_EQUAL_FATAL(pf_writer_next_chunk(&w, &b), 0);
	put_thread(&a, 0, 0);
	put_string(&a, 1, "f");
	put_code(&a, 1, 1, 1);
	put_sample(&a, 1, 1, 0, 1, stack);
	/* a torn sample: body written, head not committed */
	uint8_t *body = pf_cursor_space(&a, 8);
	memset(body, 0x55, 8);
	put_thread(&b, 0, 0);
	put_sample(&b, 1, 1, 0, 1, stack);
	pf_writer_close(&w); /* never finished: state WRITING */

	read_back(&z);
	CU_ASSERT_EQUAL(z.samples, 2);
	CU_ASSERT_EQUAL(z.threads, 2);
}

/* The size bound: chunks run out, the writer says so, nothing faults. */
static void test_write__size_bound(void)
{
	struct pf_writer w;
	struct pf_cursor c = {.thread = 1, .tid = 1};
	char err[256];
	int got = 0;

	unlink(path);
	CU_ASSERT_EQUAL_FATAL(pf_writer_create(&w, path, PF_HEADER_SIZE + 3 * PF_CHUNK_SIZE + 100,
					       err, sizeof err), 0);
	while (pf_writer_next_chunk(&w, &c) == 0 && got < 10) {
		put_thread(&c, 0, 0);
		got++;
	}
	CU_ASSERT_EQUAL(got, 3);
	CU_ASSERT_EQUAL(w.full, 1);
	CU_ASSERT_EQUAL(w.hdr->chunks_claimed, 3);
	CU_ASSERT_EQUAL(pf_writer_next_chunk(&w, &c), -1);
	pf_writer_close(&w);
	struct stat st;
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_size, PF_HEADER_SIZE + 3 * PF_CHUNK_SIZE);
}

/* 0600, never over an existing file, never through a symlink. */
static void test_write__creation_rules(void)
{
	struct pf_writer w;
	char err[256], link_path[160];
	struct stat st;

	unlink(path);
	CU_ASSERT_EQUAL_FATAL(pf_writer_create(&w, path, 1 << 20, err, sizeof err), 0);
	pf_writer_close(&w);
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);
	CU_ASSERT_EQUAL(pf_writer_create(&w, path, 1 << 20, err, sizeof err), -1);
	CU_ASSERT_EQUAL(errno, EEXIST);
	snprintf(link_path, sizeof link_path, "%s/link.pyprof", dir);
	CU_ASSERT_EQUAL(symlink("/tmp/pyprof-nonexistent-target", link_path), 0);
	CU_ASSERT_EQUAL(pf_writer_create(&w, link_path, 1 << 20, err, sizeof err), -1);
	CU_ASSERT_EQUAL(access("/tmp/pyprof-nonexistent-target", F_OK), -1);
	unlink(link_path);
	CU_ASSERT_EQUAL(pf_writer_create(&w, path, 1000, err, sizeof err), -1);
}

/* A program that closes pyprof's descriptor and opens a file of its own
 * under the same number must never see that file grown by pyprof. */
static void test_write__reused_fd_is_not_ours(void)
{
	struct pf_writer w;
	struct pf_cursor c = {.thread = 1, .tid = 1};
	char err[256], other[160];
	struct stat st;
	int fd;

	unlink(path);
	CU_ASSERT_EQUAL_FATAL(pf_writer_create(&w, path, 1 << 20, err, sizeof err), 0);
	CU_ASSERT_EQUAL(pf_writer_next_chunk(&w, &c), 0);
	snprintf(other, sizeof other, "%s/other", dir);
	close(w.fd);
	/* the writer's number is a high one (see descriptor_stays_high): a
	 * program gets it back with dup2, or once it has used all below */
	fd = open(other, O_RDWR | O_CREAT | O_TRUNC, 0600);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL_FATAL(dup2(fd, w.fd), w.fd);
	close(fd);
	fd = w.fd;
	CU_ASSERT_EQUAL(pf_writer_next_chunk(&w, &c), -1);
	CU_ASSERT_EQUAL(w.full, 1);
	CU_ASSERT_EQUAL(fstat(fd, &st), 0);
	CU_ASSERT_EQUAL(st.st_size, 0);
	close(fd);
	unlink(other);
	w.fd = -1;
	pf_writer_close(&w);
}

/* Threads that come and go share chunks: the rest of an ended thread's
 * chunk opens the next new thread's records, after a segment record, and
 * the reader gives every sample to its own thread. */
struct per_thread {
	unsigned samples[4], threads[4];
	uint32_t tid[4];
	int warnings;
};
static int pt_thread(void *ctx, const struct pf_thread_info *t)
{
	struct per_thread *z = ctx;
	if (t->thread < 4) {
		z->threads[t->thread]++;
		z->tid[t->thread] = t->tid;
	}
	return 0;
}
static int pt_sample(void *ctx, const struct pf_sample *s)
{
	struct per_thread *z = ctx;
	if (s->thread < 4)
		z->samples[s->thread]++;
	return 0;
}
static void pt_warning(void *ctx, const struct pf_error *w)
{
	((struct per_thread *)ctx)->warnings++;
	fprintf(stderr, "\nwarning: %s\n", w->msg);
}

static void test_write__ended_thread_s_rest_goes_to_the_next(void)
{
	static const struct pf_visitor v = {
		.on_thread = pt_thread, .on_sample = pt_sample,
		.on_warning = pt_warning,
	};
	struct pf_writer w;
	struct pf_cursor a = {.thread = 1, .tid = 100}, b = {.thread = 2, .tid = 200},
			 c = {.thread = 3, .tid = 300};
	struct per_thread z = {0};
	struct pf_file *f;
	struct pf_error err;
	char errs[256];
	uint32_t code = 1;
	uint8_t *first;

	unlink(path);
	CU_ASSERT_EQUAL_FATAL(pf_writer_create(&w, path, 1 << 20, errs, sizeof errs), 0);
	CU_ASSERT_EQUAL_FATAL(pf_writer_next_chunk(&w, &a), 0);
	first = a.chunk;
	put_thread(&a, 1000, 0);
	put_string(&a, 1, "f");
	put_code(&a, 1, 1, 1);
	put_sample(&a, 10, 10, 0, 1, &code);
	put_sample(&a, 10, 10, 1, 0, &code);
	pf_writer_give_back(&w, &a);

	CU_ASSERT_EQUAL_FATAL(pf_writer_next_chunk(&w, &b), 0);
	CU_ASSERT_PTR_EQUAL(b.chunk, first);
	CU_ASSERT_EQUAL(b.seq, 0);
	put_thread(&b, 2000, 0);
	for (int i = 0; i < 3; i++)
		put_sample(&b, 10, 10, 0, 1, &code);
	pf_writer_give_back(&w, &b);

	CU_ASSERT_EQUAL_FATAL(pf_writer_next_chunk(&w, &c), 0);
	CU_ASSERT_PTR_EQUAL(c.chunk, first);
	put_thread(&c, 3000, 0);
	put_sample(&c, 10, 10, 0, 1, &code);
	CU_ASSERT_EQUAL(w.hdr->chunks_claimed, 1);

	/* the first thread writes again: a chunk of its own, its next */
	CU_ASSERT_EQUAL_FATAL(pf_writer_next_chunk(&w, &a), 0);
	CU_ASSERT_PTR_NOT_EQUAL(a.chunk, first);
	CU_ASSERT_EQUAL(a.seq, 1);
	put_thread(&a, 4000, 0);
	put_sample(&a, 10, 10, 0, 1, &code);
	CU_ASSERT_EQUAL(w.hdr->chunks_claimed, 2);
	pf_writer_close(&w);

	CU_ASSERT_EQUAL_FATAL(pf_file_open(path, &f, &err), 0);
	CU_ASSERT_EQUAL(pf_file_visit(f, &v, &z), 0);
	pf_file_close(f);
	CU_ASSERT_EQUAL(z.warnings, 0);
	CU_ASSERT_EQUAL(z.samples[1], 3);
	CU_ASSERT_EQUAL(z.samples[2], 3);
	CU_ASSERT_EQUAL(z.samples[3], 1);
	CU_ASSERT_EQUAL(z.tid[2], 200);
	CU_ASSERT_EQUAL(z.tid[3], 300);
}

/* A rest too small to be worth it is not handed on. */
static void test_write__small_rest_is_kept_back(void)
{
	struct pf_writer w;
	struct pf_cursor a = {.thread = 1, .tid = 100}, b = {.thread = 2, .tid = 200};
	char errs[256];
	uint8_t *first;

	unlink(path);
	CU_ASSERT_EQUAL_FATAL(pf_writer_create(&w, path, 1 << 20, errs, sizeof errs), 0);
	CU_ASSERT_EQUAL_FATAL(pf_writer_next_chunk(&w, &a), 0);
	first = a.chunk;
	a.pos = PF_CHUNK_SIZE - PF_REST_MIN + 4;
	pf_writer_give_back(&w, &a);
	CU_ASSERT_EQUAL_FATAL(pf_writer_next_chunk(&w, &b), 0);
	CU_ASSERT_PTR_NOT_EQUAL(b.chunk, first);
	CU_ASSERT_EQUAL(w.hdr->chunks_claimed, 2);
	pf_writer_close(&w);
}

/* pyprof's descriptor never takes the number the program's next open()
 * would get. */
static void test_write__descriptor_stays_high(void)
{
	struct pf_writer w;
	char err[256];
	int before, after;

	unlink(path);
	before = open("/dev/null", O_RDONLY);
	CU_ASSERT_FATAL(before >= 0);
	close(before);
	CU_ASSERT_EQUAL_FATAL(pf_writer_create(&w, path, 1 << 20, err, sizeof err), 0);
	CU_ASSERT(w.fd > before);
	CU_ASSERT(fcntl(w.fd, F_GETFD) & FD_CLOEXEC);
	after = open("/dev/null", O_RDONLY);
	CU_ASSERT_EQUAL(after, before);
	close(after);
	pf_writer_close(&w);
}

/* Under RLIMIT_FSIZE, with SIGXFSZ at its default (which kills), the file
 * stops growing at the limit instead: in a child, so the limit and the
 * disposition stay there. */
static void test_write__fsize_limit_is_a_bound(void)
{
	pid_t pid;
	int status;

	unlink(path);
	pid = fork();
	if (pid == 0) {
		struct pf_writer w;
		struct pf_cursor c = {.thread = 1, .tid = 1};
		struct rlimit rl;
		char err[256];
		int n = 0;

		signal(SIGXFSZ, SIG_DFL);
		getrlimit(RLIMIT_FSIZE, &rl);
		rl.rlim_cur = PF_HEADER_SIZE + 2 * PF_CHUNK_SIZE;
		setrlimit(RLIMIT_FSIZE, &rl);
		if (pf_writer_create(&w, path, 1 << 20, err, sizeof err) != 0)
			_exit(10);
		while (pf_writer_next_chunk(&w, &c) == 0)
			n++;
		_exit(n == 2 && w.full ? 0 : 11);
	}
	CU_ASSERT_EQUAL_FATAL(waitpid(pid, &status, 0), pid);
	CU_ASSERT(WIFEXITED(status));
	CU_ASSERT_EQUAL(WEXITSTATUS(status), 0);
}

/* The file truncated under the mapping: pf_writer_fault (what the SIGBUS
 * handler calls) puts memory where the lost pages were, so the store that
 * faulted succeeds when retried; recording stops; an address outside the
 * mapping is not the writer's. */
static void test_write__truncated_file_fault(void)
{
	struct pf_writer w;
	struct pf_cursor c = {.thread = 1, .tid = 1};
	char err[256];
	uint8_t *p;
	int local;

	unlink(path);
	CU_ASSERT_EQUAL_FATAL(pf_writer_create(&w, path, 1 << 20, err, sizeof err), 0);
	CU_ASSERT_EQUAL_FATAL(pf_writer_next_chunk(&w, &c), 0);
	CU_ASSERT_EQUAL_FATAL(truncate(path, 0), 0);
	p = c.chunk + 100;
	CU_ASSERT_EQUAL(pf_writer_fault(&w, &local), 0);
	CU_ASSERT_EQUAL(pf_writer_fault(&w, p), 1);
	*p = 42; /* would have been SIGBUS */
	CU_ASSERT_EQUAL(*p, 42);
	CU_ASSERT_EQUAL(w.lost, 1);
	CU_ASSERT_EQUAL(pf_writer_next_chunk(&w, &c), -1);
	pf_writer_close(&w);
}

/* A file shortened under the writer (without a fault yet) is noticed when
 * the next chunk is wanted: never grown again behind a lost header. */
static void test_write__shrunk_file_stops_growth(void)
{
	struct pf_writer w;
	struct pf_cursor c = {.thread = 1, .tid = 1};
	char err[256];
	struct stat st;

	unlink(path);
	CU_ASSERT_EQUAL_FATAL(pf_writer_create(&w, path, 1 << 20, err, sizeof err), 0);
	CU_ASSERT_EQUAL_FATAL(pf_writer_next_chunk(&w, &c), 0);
	/* the header stays: its page is still the file's, so claiming the
	 * next chunk touches no lost page */
	CU_ASSERT_EQUAL_FATAL(truncate(path, PF_HEADER_SIZE), 0);
	CU_ASSERT_EQUAL(pf_writer_next_chunk(&w, &c), -1);
	CU_ASSERT_EQUAL(w.lost, 1);
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_size, PF_HEADER_SIZE);
	pf_writer_close(&w);
}

/* Two threads claim chunks at once: the first has claimed chunk 0 and not
 * allocated it yet when the second claims chunk 1, so the file is shorter
 * than chunk 1's start without being truncated.  The second must get its
 * chunk, not stop the whole file (0310-wall saw a run lose every sample
 * after three threads started together). */
static void test_write__concurrent_claims_are_not_truncation(void)
{
	struct pf_writer w;
	struct pf_cursor c = {.thread = 2, .tid = 2};
	char err[256];
	struct stat st;

	unlink(path);
	CU_ASSERT_EQUAL_FATAL(pf_writer_create(&w, path, 1 << 20, err, sizeof err), 0);
	/* another thread's claim of chunk 0, its allocation still to come */
	__atomic_fetch_add(&w.hdr->chunks_claimed, 1, __ATOMIC_RELAXED);
	CU_ASSERT_EQUAL_FATAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_size, PF_HEADER_SIZE);
	CU_ASSERT_EQUAL(pf_writer_next_chunk(&w, &c), 0);
	CU_ASSERT_EQUAL(w.lost, 0);
	CU_ASSERT_EQUAL(w.full, 0);
	CU_ASSERT_PTR_EQUAL(c.chunk, (uint8_t *)w.hdr + PF_HEADER_SIZE + PF_CHUNK_SIZE);
	pf_writer_close(&w);
}

/* finish() is idempotent; unfinish() (a failed exec) reopens. */
static void test_write__finish(void)
{
	struct pf_writer w;
	char err[256];

	unlink(path);
	CU_ASSERT_EQUAL_FATAL(pf_writer_create(&w, path, 1 << 20, err, sizeof err), 0);
	CU_ASSERT_EQUAL(w.hdr->state, PF_STATE_WRITING);
	pf_writer_finish(&w, PF_END_SIGNAL, 15);
	pf_writer_finish(&w, PF_END_EXIT, 0);
	CU_ASSERT_EQUAL(w.hdr->state, PF_STATE_COMPLETE);
	CU_ASSERT_EQUAL(w.hdr->end_reason, PF_END_SIGNAL);
	CU_ASSERT_EQUAL(w.hdr->end_signal, 15);
	pf_writer_unfinish(&w);
	CU_ASSERT_EQUAL(w.hdr->state, PF_STATE_WRITING);
	pf_writer_close(&w);
}

/* A rotated file (2.3) reads back complete, rotated, with its number and
 * its run's start; and a closed writer has no header for a late finish */
static void test_write__rotated_file_reads_back(void)
{
	struct pf_writer w;
	struct pf_file *f;
	struct pf_error e;
	char err[256];

	unlink(path);
	CU_ASSERT_EQUAL_FATAL(pf_writer_create(&w, path, 1 << 20, err, sizeof err), 0);
	w.hdr->sequence = 7;
	w.hdr->run_start_realtime_ns = 123456789;
	pf_writer_finish(&w, PF_END_ROTATE, 0);
	pf_writer_close(&w);
	CU_ASSERT_PTR_NULL(w.hdr);
	pf_writer_finish(&w, PF_END_EXIT, 0); /* nothing to finish: no crash */
	CU_ASSERT_EQUAL_FATAL(pf_file_open(path, &f, &e), 0);
	CU_ASSERT_EQUAL(pf_file_header(f)->state, PF_STATE_COMPLETE);
	CU_ASSERT_EQUAL(pf_file_header(f)->end_reason, PF_END_ROTATE);
	CU_ASSERT_EQUAL(pf_file_header(f)->sequence, 7);
	CU_ASSERT_EQUAL(pf_file_header(f)->run_start_realtime_ns, 123456789);
	CU_ASSERT(pf_file_header(f)->version_minor >= 3);
	pf_file_close(f);
}

/* Fails on purpose when the header or a record grows a field unnoticed:
 * the documented offsets of pyprof-format(5). */
static void test_write__layout_is_documented(void)
{
	CU_ASSERT_EQUAL(offsetof(struct pf_header, chunks_claimed), 32);
	CU_ASSERT_EQUAL(offsetof(struct pf_header, state), 36);
	CU_ASSERT_EQUAL(offsetof(struct pf_header, mode), 48);
	CU_ASSERT_EQUAL(offsetof(struct pf_header, interval_ns), 56);
	CU_ASSERT_EQUAL(offsetof(struct pf_header, pid), 64);
	CU_ASSERT_EQUAL(offsetof(struct pf_header, py_hexversion), 96);
	CU_ASSERT_EQUAL(offsetof(struct pf_header, py_version), 104);
	CU_ASSERT_EQUAL(offsetof(struct pf_header, samples), 176);
	CU_ASSERT_EQUAL(offsetof(struct pf_header, cmdline_len), 376);
	CU_ASSERT_EQUAL(offsetof(struct pf_header, sequence), 896);
	CU_ASSERT_EQUAL(offsetof(struct pf_header, run_start_realtime_ns), 904);
	CU_ASSERT_EQUAL(PF_END_ROTATE, 6);
	CU_ASSERT_EQUAL(PF_VERSION_MINOR, 4);
	CU_ASSERT_EQUAL(sizeof(struct pf_rec_thread), 32);
	CU_ASSERT_EQUAL(sizeof(struct pf_rec_code), 24);
	CU_ASSERT_EQUAL(PF_DROP_NO_THREAD, 6);
	CU_ASSERT_EQUAL(PF_SAMPLE_REPEAT, 0x100);
	CU_ASSERT_EQUAL(PF_SAMPLE_REPEATS_MAX, 1024);
}

UNIT_MAIN_SUITE("write", suite_init, suite_clean,
	  UNIT_TEST(test_write__round_trip),
	  UNIT_TEST(test_write__torn_record),
	  UNIT_TEST(test_write__gap_moves_the_clock),
	  UNIT_TEST(test_write__repeated_sample_reads_as_its_samples),
	  UNIT_TEST(test_write__negative_delta_is_no_time),
	  UNIT_TEST(test_write__size_bound),
	  UNIT_TEST(test_write__creation_rules),
	  UNIT_TEST(test_write__finish),
	  UNIT_TEST(test_write__rotated_file_reads_back),
	  UNIT_TEST(test_write__reused_fd_is_not_ours),
	  UNIT_TEST(test_write__descriptor_stays_high),
	  UNIT_TEST(test_write__ended_thread_s_rest_goes_to_the_next),
	  UNIT_TEST(test_write__small_rest_is_kept_back),
	  UNIT_TEST(test_write__fsize_limit_is_a_bound),
	  UNIT_TEST(test_write__truncated_file_fault),
	  UNIT_TEST(test_write__shrunk_file_stops_growth),
	  UNIT_TEST(test_write__concurrent_claims_are_not_truncation),
	  UNIT_TEST(test_write__layout_is_documented))
