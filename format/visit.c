/*
 * visit.c - walking the chunks of an open .pyprof file (pf_file_visit; see
 * read.h, and read.c for the header).
 *
 * The one idea: nothing in the file is believed until it has been checked
 * against the bytes present.  Walk 1 scans the chunks in file order,
 * splits them into segments (format 2.0: a thread hands the rest of its
 * chunk to another), checks the structure of every record and notes
 * where each segment's valid records end; the segments are then sorted
 * by (thread serial, seq) and their threads, strings and the like given
 * to the callbacks, then their code objects (walk 2), then their
 * samples (walk 3).  Every step moves forward by at least 4 bytes, so no
 * input can hang a walk.  On two CPUs a large file's scan is split
 * between two threads and walk 3's decoding runs on a second thread; the
 * callbacks are always made on the caller's, in the same order.  Depends
 * on libc only.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#endif

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "read-int.h"

/* A chunk as the reader sees it: a whole chunk of the file, or one segment
 * of it (format 2.0: a PF_REC_SEGMENT record hands the rest of a chunk to
 * another thread).  Offsets are from the chunk's start. */
struct chunk {
	uint64_t off;    /* file offset of the chunk header */
	uint32_t avail;  /* bytes of the chunk present in the file */
	uint32_t start;  /* its first record (its PF_REC_THREAD) */
	uint32_t limit;  /* where the next segment begins, or avail */
	uint32_t end;    /* records decode in [start, end) */
	uint32_t thread, tid, seq;
	uint32_t index;  /* chunk number in the file, a tie-breaker */
	uint32_t ord;    /* among all segments in file order, the last one */
	uint32_t thread_at; /* its opening thread record, NO_POS if not
			     * accepted */
	uint32_t scan;   /* the scan that found it, whose events ... */
	uint32_t seg;    /* ... name it by this index */
	size_t ev_lo, ev_hi; /* and lie in this range of them */
	int damaged;
};

#define NO_POS UINT32_MAX
#define NO_SEG UINT32_MAX

/*
 * Walk 1 is a scan of the file's chunks in file order: it splits them
 * into segments, checks every record's structure, and notes what the
 * callbacks are to be given, without calling them; the callbacks follow,
 * from the notes, in the order the visit promises (threads by serial).
 * So the one pass over every record head can be split between two
 * threads, each scanning half of the file.
 */
enum ev_kind {
	EV_WARNING,     /* at: index in warns */
	EV_STRING,      /* at: the record's position in its chunk */
	EV_CODE,        /* a code or native record, for walk 2 */
	EV_OBJECT,
	EV_MARK,
	EV_THREAD_NAME,
};

struct event {
	uint32_t seg;   /* index in the scan's segs, or NO_SEG: a warning
			 * about a chunk's header or segment records, given
			 * before any segment's */
	uint32_t kind;
	uint32_t at;
};

struct scan {
	uint32_t first, end;    /* the file's chunks [first, end) */
	struct chunk *segs;
	uint32_t nsegs, segs_cap;
	uint32_t cur;           /* the segment being walked, or NO_SEG */
	struct event *ev;
	size_t nev, ev_cap;
	struct pf_error *warns;
	size_t nwarns, warns_cap;
	uint64_t damaged, skipped; /* for the file's stats */
	uint64_t released;      /* file offset up to which pages were let go */
	int oom;
};

struct rec {
	unsigned type;
	uint64_t off;       /* file offset of the head */
	const uint8_t *body;
	uint32_t body_len;
};

/* --- the visit ----------------------------------------------------------- */

struct visit {
	struct pf_file *f;
	const struct pf_visitor *v;
	void *ctx;
	struct chunk *chunks; /* usable chunks and segments, sorted by
			       * (thread, seq) */
	uint32_t nchunks;
	uint32_t *code_ids;   /* sorted after the code walk */
	size_t ncode_ids, code_ids_cap;
	/* ids are small and dense in files pyprof writes: a bitmap answers
	 * "is this id defined" in one load; NULL when the largest id is too
	 * large for one (a hostile file), and the sorted array is searched */
	uint8_t *known;
	uint32_t known_max;
	struct pf_frame *stack; /* PF_MAX_DEPTH frames */
	uint64_t read;          /* bytes read since the last release_read */
	/* walk 1's scans: the first half of the file's chunks and, on two
	 * CPUs, the second; scan is set in the copy of the visit a scan
	 * runs in, which notes warnings instead of giving them */
	struct scan scans[2];
	unsigned nscans;
	struct scan *scan;
	/* set in the copy the second thread decodes samples with: its
	 * samples and warnings go there instead of to the callbacks */
	struct pipe *pipe;
};

static void pipe_warning(struct visit *vi, const struct pf_error *w);
static void scan_warning(struct scan *sc, const struct pf_error *w);

static void warn(struct visit *vi, uint64_t offset, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Every page of a mapped file that a walk reads stays in the process
 * until the file is closed, and the kernel maps the pages around each
 * fault too (whole large folios of the page cache): reading a file of
 * gigabytes took that much memory beside the profile, however few its
 * distinct stacks.  So after every RELEASE_EVERY bytes of chunks read,
 * the whole mapping (walk 1: the range it read) is dropped from the process (MADV_DONTNEED: the
 * pages stay in the page cache, a mapping of a file read only is not
 * changed by it); a page read again is only mapped again.  Not a packed
 * file's image (pack.c): anonymous memory dropped is memory zeroed.
 */
#define RELEASE_EVERY (32u << 20)

static void release_read(struct visit *vi, uint64_t bytes)
{
	long page = sysconf(_SC_PAGESIZE);

	vi->read += bytes;
	if (vi->read < RELEASE_EVERY || vi->f->mapped != PF_MAPPED_FILE ||
	    page <= 0)
		return;
	vi->read = 0;
	madvise((void *)vi->f->base,
		(size_t)(vi->f->size + (uint64_t)page - 1) & ~((size_t)page - 1),
		MADV_DONTNEED);
}

static void warn(struct visit *vi, uint64_t offset, const char *fmt, ...)
{
	struct pf_error w;
	va_list ap;

	if (!vi->v->on_warning)
		return;
	memset(&w, 0, sizeof(w));
	w.offset = offset;
	va_start(ap, fmt);
	vsnprintf(w.msg, sizeof(w.msg), fmt, ap);
	va_end(ap);
	if (vi->scan)
		scan_warning(vi->scan, &w);
	else if (vi->pipe)
		pipe_warning(vi, &w);
	else
		vi->v->on_warning(vi->ctx, &w);
}

/* A chunk or segment that cannot be used whole: counted once */
static void count_damaged(struct visit *vi)
{
	if (vi->scan)
		vi->scan->damaged++;
	else
		vi->f->stats.chunks_damaged++;
}

static void pipe_damage(struct visit *vi, const struct chunk *c);

static void damage(struct visit *vi, struct chunk *c)
{
	if (vi->pipe) {
		pipe_damage(vi, c); /* counted in its place, as warnings are */
		return;
	}
	if (!c->damaged)
		count_damaged(vi);
	c->damaged = 1;
}

static int chunk_cmp(const void *a, const void *b)
{
	const struct chunk *x = a, *y = b;

	if (x->thread != y->thread)
		return x->thread < y->thread ? -1 : 1;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	if (x->index != y->index)
		return x->index < y->index ? -1 : 1;
	return x->ord < y->ord ? -1 : x->ord > y->ord;
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* Steps to the record at *pos (relative to the chunk) within [.., limit).
 * Returns 1 with *r filled and *pos advanced, 0 at the end of committed
 * data, -1 on damage (warned when check is set). */
static int next_record(struct visit *vi, struct chunk *c, uint32_t *pos,
		       uint32_t limit, struct rec *r, int check)
{
	const uint8_t *p = vi->f->base + c->off;
	uint32_t head, len;

	if ((uint64_t)*pos + 4 > limit)
		return 0;
	head = rd32(p + *pos);
	if (head == 0)
		return 0;
	len = pf_head_length(head);
	r->type = pf_head_type(head);
	r->off = c->off + *pos;
	if (len < 4) {
		if (check)
			warn(vi, r->off, "record at offset %llu has length "
			     "%u (less than 4)", (unsigned long long)r->off,
			     len);
		return -1;
	}
	if ((uint64_t)*pos + len > limit) {
		if (check && c->avail < vi->f->chunk_size &&
		    (uint64_t)*pos + len <= vi->f->chunk_size)
			warn(vi, r->off, "record at offset %llu (type %u, "
			     "length %u) is cut short by the end of the file",
			     (unsigned long long)r->off, r->type, len);
		else if (check)
			warn(vi, r->off, "record at offset %llu (type %u, "
			     "length %u) runs past the end of its chunk",
			     (unsigned long long)r->off, r->type, len);
		return -1;
	}
	r->body = p + *pos + 4;
	r->body_len = len - 4;
	*pos += (uint32_t)pf_align4(len);
	return 1;
}

/* Checks a thread record's body.  Returns 0 and fills t, or -1. */
static int parse_thread(struct visit *vi, const struct chunk *c,
			const struct rec *r, struct pf_thread_info *t,
			uint64_t *base_mono, uint64_t *base_cpu, int check)
{
	uint32_t name_len;

	if (r->body_len < sizeof(struct pf_rec_thread)) {
		if (check)
			warn(vi, r->off, "thread record at offset %llu is %u "
			     "bytes (less than %zu)", (unsigned long long)r->off,
			     r->body_len + 4, sizeof(struct pf_rec_thread) + 4);
		return -1;
	}
	name_len = rd32(r->body + 4);
	if (name_len > r->body_len - sizeof(struct pf_rec_thread)) {
		if (check)
			warn(vi, r->off, "thread record at offset %llu: name "
			     "length %u runs past the record",
			     (unsigned long long)r->off, name_len);
		return -1;
	}
	if (t) {
		memset(t, 0, sizeof(*t));
		t->thread = c->thread;
		t->tid = c->tid;
		t->flags = rd32(r->body);
		t->pthread = rd64(r->body + 24);
		t->name = (const char *)r->body + sizeof(struct pf_rec_thread);
		t->name_len = name_len;
	}
	if (base_mono)
		*base_mono = rd64(r->body + 8);
	if (base_cpu)
		*base_cpu = rd64(r->body + 16);
	return 0;
}

/* --- walk 1: the scans, then the callbacks they noted -------------------- */

/* A second thread, with every signal blocked: signals are the caller's
 * thread's business (pyprof top's terminal, ^C).  0 if it runs. */
static int start_thread(pthread_t *th, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	int rc;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(th, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

/* files below this are read on one thread: a thread costs more than
 * their records do */
#define THREADS_MIN_FILE (1u << 20)

static int two_cpus(void)
{
	cpu_set_t set;

	return sched_getaffinity(0, sizeof(set), &set) == 0 &&
	       CPU_COUNT(&set) >= 2;
}

/* Whether this visit reads with two threads (pf_file_set_threads) */
static int use_threads(const struct pf_file *f)
{
	if (f->threads == 1 || f->threads == 2)
		return f->threads == 2;
	return f->size >= THREADS_MIN_FILE && two_cpus();
}

static void *grow(void *p, size_t *cap, size_t n, size_t elem, int *oom)
{
	size_t c = *cap ? *cap * 2 : 64;
	void *q;

	if (n < *cap)
		return p;
	q = c > *cap && c < SIZE_MAX / elem ? realloc(p, c * elem) : NULL;
	if (!q) {
		*oom = 1;
		return NULL;
	}
	*cap = c;
	return q;
}

static void note(struct scan *sc, uint32_t kind, uint32_t at)
{
	struct event *e;

	if (sc->oom || !(e = grow(sc->ev, &sc->ev_cap, sc->nev, sizeof(*e),
				  &sc->oom)))
		return;
	sc->ev = e;
	sc->ev[sc->nev++] = (struct event){sc->cur, kind, at};
}

static void scan_warning(struct scan *sc, const struct pf_error *w)
{
	struct pf_error *n;

	if (sc->oom || !(n = grow(sc->warns, &sc->warns_cap, sc->nwarns,
				  sizeof(*n), &sc->oom)))
		return;
	sc->warns = n;
	sc->warns[sc->nwarns] = *w;
	note(sc, EV_WARNING, (uint32_t)sc->nwarns++);
}

/* Adds a segment to the scan; its index, or NO_SEG (out of memory) */
static uint32_t push_seg(struct scan *sc, const struct chunk *c)
{
	size_t cap = sc->segs_cap;
	struct chunk *n;

	if (sc->oom || !(n = grow(sc->segs, &cap, sc->nsegs, sizeof(*n),
				  &sc->oom)) || cap > UINT32_MAX)
		return sc->oom = 1, NO_SEG;
	sc->segs = n;
	sc->segs_cap = (uint32_t)cap;
	sc->segs[sc->nsegs] = *c;
	sc->segs[sc->nsegs].seg = sc->nsegs;
	sc->segs[sc->nsegs].thread_at = NO_POS;
	sc->segs[sc->nsegs].ev_lo = sc->nev;
	return sc->nsegs++;
}

/* One record of segment c at at (r, read with its checks; pos after it):
 * its structure checked and its callback noted.  0, or 1 when the
 * segment's records end before it. */
static int structure_record(struct visit *vi, struct chunk *c,
			    const struct rec *r, uint32_t at, uint32_t pos)
{
	struct scan *sc = vi->scan;

	if (c->thread_at == NO_POS) {
		if (r->type != PF_REC_THREAD) {
			warn(vi, r->off, "chunk at offset %llu does not "
			     "begin with a thread record (type %u)",
			     (unsigned long long)c->off, r->type);
			damage(vi, c);
			c->end = c->start;
			return 1;
		}
		if (parse_thread(vi, c, r, NULL, NULL, NULL, 1) != 0) {
			damage(vi, c);
			c->end = c->start;
			return 1;
		}
		c->thread_at = at;
		c->end = pos;
		return 0;
	}
	switch (r->type) {
	case PF_REC_THREAD:
		/* only the opening one counts; a later one would be a writer
		 * bug, but its length is sound */
		break;
	case PF_REC_SAMPLE:
		break;
	case PF_REC_STRING:
		if (r->body_len < 4) {
			warn(vi, r->off, "string record at offset %llu has no "
			     "id", (unsigned long long)r->off);
			damage(vi, c);
			return 1;
		}
		if (rd32(r->body) == 0)
			warn(vi, r->off, "string record at offset %llu has id "
			     "0", (unsigned long long)r->off);
		else
			note(sc, EV_STRING, at);
		break;
	case PF_REC_CODE:
		if (r->body_len < sizeof(struct pf_rec_code)) {
			warn(vi, r->off, "code record at offset %llu is %u "
			     "bytes (less than %zu)", (unsigned long long)r->off,
			     r->body_len + 4, sizeof(struct pf_rec_code) + 4);
			damage(vi, c);
			return 1;
		}
		if (rd32(r->body) == 0)
			warn(vi, r->off, "code record at offset %llu has id 0",
			     (unsigned long long)r->off);
		else
			note(sc, EV_CODE, at);
		break;
	case PF_REC_NATIVE:
		if (r->body_len < sizeof(struct pf_rec_native) ||
		    rd32(r->body) == 0)
			warn(vi, r->off, "native record at offset %llu is cut "
			     "short or has id 0", (unsigned long long)r->off);
		else
			note(sc, EV_CODE, at);
		break;
	case PF_REC_OBJECT:
		if (r->body_len < sizeof(struct pf_rec_object) ||
		    (uint64_t)rd32(r->body + 32) + rd32(r->body + 36) >
		    r->body_len - sizeof(struct pf_rec_object))
			warn(vi, r->off, "object record at offset %llu is cut "
			     "short", (unsigned long long)r->off);
		else
			note(sc, EV_OBJECT, at);
		break;
	case PF_REC_MARK:
		if (r->body_len < sizeof(struct pf_rec_mark) ||
		    rd32(r->body + 12) > r->body_len - sizeof(struct pf_rec_mark))
			warn(vi, r->off, "mark record at offset %llu is cut "
			     "short", (unsigned long long)r->off);
		else
			note(sc, EV_MARK, at);
		break;
	case PF_REC_THREAD_NAME:
		if (r->body_len < sizeof(struct pf_rec_thread_name) ||
		    rd32(r->body + 4) > r->body_len -
		    sizeof(struct pf_rec_thread_name))
			warn(vi, r->off, "thread name record at offset %llu is "
			     "cut short", (unsigned long long)r->off);
		else
			note(sc, EV_THREAD_NAME, at);
		break;
	default:
		sc->skipped++;
		break;
	}
	c->end = pos;
	return 0;
}

/* The records of file chunk c (its header checked), split at each
 * PF_REC_SEGMENT record (format 2.0) into the segments of the threads
 * it names, each walked to where its records stop being sound.  A
 * segment that stops early leaves the chunk's later segments to find;
 * a damaged record head, or a damaged segment record, ends the chunk. */
static void scan_records(struct visit *vi, const struct chunk *first)
{
	struct scan *sc = vi->scan;
	const int split = vi->f->hdr->version_major >= 2;
	uint32_t k = push_seg(sc, first), pos, at;
	int walking = 1, rc;
	struct rec r;

	if (k == NO_SEG)
		return;
	sc->cur = k;
	pos = sc->segs[k].start;
	for (;;) {
		struct chunk *c = &sc->segs[k];

		at = pos;
		rc = next_record(vi, c, &pos, c->avail, &r, walking);
		if (rc < 0 && walking)
			damage(vi, c);
		if (rc <= 0)
			break;
		if (split && r.type == PF_REC_SEGMENT) {
			struct chunk next = *c;

			c->limit = at;
			if (r.body_len < sizeof(struct pf_rec_segment) ||
			    rd32(r.body) == 0) {
				sc->cur = NO_SEG;
				warn(vi, r.off, "segment record at offset %llu "
				     "is cut short or names thread 0",
				     (unsigned long long)r.off);
				count_damaged(vi);
				break;
			}
			c->ev_hi = sc->nev;
			next.thread = rd32(r.body);
			next.tid = rd32(r.body + 4);
			next.seq = rd32(r.body + 8);
			next.start = next.end = pos;
			next.limit = next.avail;
			next.damaged = 0;
			if ((k = push_seg(sc, &next)) == NO_SEG)
				return;
			sc->cur = k;
			walking = 1;
			continue;
		}
		if (walking && structure_record(vi, c, &r, at, pos))
			walking = 0; /* on to the next segment record */
	}
	sc->segs[k].ev_hi = sc->nev;
	sc->cur = NO_SEG;
}

/* Lets go of the pages of [sc->released, to) once they are half of
 * RELEASE_EVERY bytes (see release_read): two scans may run at once */
static void scan_release(struct visit *vi, uint64_t to)
{
	struct scan *sc = vi->scan;
	long page = sysconf(_SC_PAGESIZE);
	uint64_t lo, hi;

	if (to - sc->released < RELEASE_EVERY / 2 ||
	    vi->f->mapped != PF_MAPPED_FILE || page <= 0)
		return;
	lo = (sc->released + (uint64_t)page - 1) & ~(uint64_t)(page - 1);
	hi = to & ~(uint64_t)(page - 1);
	if (hi > lo)
		madvise((void *)(vi->f->base + lo), (size_t)(hi - lo),
			MADV_DONTNEED);
	sc->released = to;
}

/* The chunk header of file chunk i, then its records */
static void scan_chunk(struct visit *vi, uint32_t i)
{
	struct pf_file *f = vi->f;
	struct chunk c;
	uint64_t left;
	const uint8_t *p;

	memset(&c, 0, sizeof(c));
	c.index = i;
	c.off = f->header_size + (uint64_t)i * f->chunk_size;
	left = f->size - c.off;
	c.avail = left < f->chunk_size ? (uint32_t)left : f->chunk_size;
	p = f->base + c.off;
	if (c.avail < f->chunk_size)
		warn(vi, f->size, "file is cut short: chunk %u at offset %llu "
		     "has %u of %u bytes", i, (unsigned long long)c.off,
		     c.avail, f->chunk_size);
	if (c.avail < PF_CHUNK_HEADER_SIZE) {
		/* not even a header: unused, or damaged past use */
		int zero = 1;
		for (uint32_t k = 0; k < c.avail && k < 4; k++)
			zero &= p[k] == 0;
		if (!zero)
			count_damaged(vi);
		return;
	}
	if (rd32(p) == 0)
		return; /* unused chunk */
	if (rd32(p) != PF_CHUNK_MAGIC) {
		warn(vi, c.off, "chunk %u at offset %llu has bad magic "
		     "0x%08x", i, (unsigned long long)c.off, rd32(p));
		count_damaged(vi);
		return;
	}
	c.thread = rd32(p + 4);
	c.tid = rd32(p + 8);
	c.seq = rd32(p + 12);
	if (c.thread == 0) {
		warn(vi, c.off + 4, "chunk %u at offset %llu has thread "
		     "serial 0", i, (unsigned long long)c.off);
		count_damaged(vi);
		return;
	}
	c.start = c.end = PF_CHUNK_HEADER_SIZE;
	c.limit = c.avail;
	scan_records(vi, &c);
	scan_release(vi, c.off + c.avail);
}

static void scan_run(struct visit *vi)
{
	struct scan *sc = vi->scan;

	sc->cur = NO_SEG;
	sc->released = vi->f->header_size +
		       (uint64_t)sc->first * vi->f->chunk_size;
	for (uint32_t i = sc->first; i < sc->end && !sc->oom; i++)
		scan_chunk(vi, i);
}

struct scan_thread {
	struct visit vi;
};

static void *scan_thread_run(void *arg)
{
	scan_run(&((struct scan_thread *)arg)->vi);
	return NULL;
}

/* Scans the file's chunks, on two threads when it pays; gathers their
 * segments sorted by (thread, seq) and gives the warnings about chunks
 * themselves.  0, or -1 when out of memory. */
static int scan_file(struct visit *vi)
{
	struct pf_file *f = vi->f;
	const struct pf_header *h = f->hdr;
	uint64_t want = h->chunks_claimed;
	struct scan_thread *st = NULL;
	pthread_t th;
	int threaded = 0;
	uint32_t n = 0, i;

	/* Claimed chunks that lie past max_size were never given space (the
	 * claim is an atomic add that may overshoot); they are not missing. */
	if (h->max_size > f->header_size) {
		uint64_t fit = (h->max_size - f->header_size) / f->chunk_size;
		if (want > fit)
			want = fit;
	}
	/* The writer claims a chunk first and gives it space after: a file
	 * that ends exactly at a chunk boundary one chunk short is a writer
	 * caught in that window, or one that ran out of disk (the chunk
	 * "stays a hole" and is skipped).  Nothing committed is missing. */
	if (f->chunks + 1 == want &&
	    (f->size - f->header_size) % f->chunk_size == 0)
		want = f->chunks;
	if (f->chunks < want)
		warn(vi, f->size,
		     "file is cut short: the header claims %llu chunks, the "
		     "file holds %u", (unsigned long long)want, f->chunks);

	vi->nscans = 1;
	vi->scans[0].end = f->chunks;
	if (f->chunks >= 2 && use_threads(f) && (st = calloc(1, sizeof(*st)))) {
		vi->scans[1].first = vi->scans[0].end = f->chunks / 2;
		vi->scans[1].end = f->chunks;
		st->vi = *vi;
		st->vi.scan = &vi->scans[1];
		threaded = start_thread(&th, scan_thread_run, st) == 0;
		if (threaded)
			vi->nscans = 2;
		else
			vi->scans[0].end = f->chunks;
	}
	vi->scan = &vi->scans[0];
	scan_run(vi);
	vi->scan = NULL;
	if (threaded)
		pthread_join(th, NULL);
	free(st);

	for (unsigned s = 0; s < vi->nscans; s++) {
		if (vi->scans[s].oom)
			return -1;
		n += vi->scans[s].nsegs;
	}
	vi->chunks = calloc(n ? n : 1, sizeof(*vi->chunks));
	if (!vi->chunks)
		return -1;
	for (unsigned s = 0; s < vi->nscans; s++) {
		const struct scan *sc = &vi->scans[s];

		f->stats.chunks_damaged += sc->damaged;
		f->stats.records_skipped += sc->skipped;
		for (i = 0; i < sc->nsegs; i++) {
			vi->chunks[vi->nchunks] = sc->segs[i];
			vi->chunks[vi->nchunks].scan = s;
			vi->chunks[vi->nchunks].ord = vi->nchunks;
			vi->nchunks++;
		}
		/* what was said of chunks, in file order, before anything of
		 * their records */
		for (size_t e = 0; e < sc->nev; e++)
			if (sc->ev[e].seg == NO_SEG && vi->v->on_warning)
				vi->v->on_warning(vi->ctx,
						  &sc->warns[sc->ev[e].at]);
	}
	qsort(vi->chunks, vi->nchunks, sizeof(*vi->chunks), chunk_cmp);
	for (i = 1; i < vi->nchunks; i++) {
		struct chunk *a = &vi->chunks[i - 1], *b = &vi->chunks[i];
		if (a->thread == b->thread && a->seq == b->seq)
			warn(vi, b->off + 12, "chunk at offset %llu repeats "
			     "seq %u of thread %u (also at offset %llu)",
			     (unsigned long long)b->off, b->seq, b->thread,
			     (unsigned long long)a->off);
	}
	return 0;
}

/* One noted record's callback (not walk 2's codes) */
static int give_event(struct visit *vi, struct chunk *c, const struct event *e)
{
	const struct pf_visitor *v = vi->v;
	uint32_t pos = e->at;
	struct rec r;

	if (e->kind == EV_WARNING) {
		if (v->on_warning)
			v->on_warning(vi->ctx, &vi->scans[c->scan].warns[e->at]);
		return 0;
	}
	if (e->kind == EV_CODE || next_record(vi, c, &pos, c->end, &r, 0) <= 0)
		return 0;
	switch (e->kind) {
	case EV_STRING:
		return v->on_string ? v->on_string(vi->ctx, rd32(r.body),
						   (const char *)r.body + 4,
						   r.body_len - 4) : 0;
	case EV_OBJECT:
		if (v->on_object) {
			struct pf_object_info o = {
				.mono_ns = rd64(r.body),
				.bias = rd64(r.body + 8),
				.lo = rd64(r.body + 16),
				.hi = rd64(r.body + 24),
				.path_len = rd32(r.body + 32),
				.build_id_len = rd32(r.body + 36),
				.path = (const char *)r.body +
					sizeof(struct pf_rec_object),
			};
			o.build_id = r.body + sizeof(struct pf_rec_object) +
				     o.path_len;
			return v->on_object(vi->ctx, &o);
		}
		return 0;
	case EV_MARK:
		if (v->on_mark) {
			struct pf_mark m = {
				.thread = c->thread,
				.mono_ns = rd64(r.body),
				.kind = rd32(r.body + 8),
				.label_len = rd32(r.body + 12),
				.label = (const char *)r.body +
					 sizeof(struct pf_rec_mark),
			};
			return v->on_mark(vi->ctx, &m);
		}
		return 0;
	case EV_THREAD_NAME:
		if (v->on_thread_name) {
			struct pf_thread_name tn = {
				.tid = rd32(r.body),
				.name_len = rd32(r.body + 4),
				.pthread = rd64(r.body + 8),
				.mono_ns = rd64(r.body + 16),
				.name = (const char *)r.body +
					sizeof(struct pf_rec_thread_name),
			};
			return v->on_thread_name(vi->ctx, &tn);
		}
		return 0;
	}
	return 0;
}

/* Walk 1's callbacks, segment by segment in (thread, seq) order: a
 * thread's first accepted segment gives on_thread, then each segment
 * what its records hold.  0, or what a callback returned to stop. */
static int give_structure(struct visit *vi)
{
	uint32_t last_thread = 0;
	int ret;

	for (uint32_t i = 0; i < vi->nchunks; i++) {
		struct chunk *c = &vi->chunks[i];
		const struct scan *sc = &vi->scans[c->scan];

		if (c->thread_at != NO_POS && c->thread != last_thread) {
			struct pf_thread_info t;
			uint32_t pos = c->thread_at;
			struct rec r;

			last_thread = c->thread;
			if (next_record(vi, c, &pos, c->end, &r, 0) > 0 &&
			    parse_thread(vi, c, &r, &t, NULL, NULL, 0) == 0 &&
			    vi->v->on_thread &&
			    (ret = vi->v->on_thread(vi->ctx, &t)) != 0)
				return ret;
		}
		for (size_t e = c->ev_lo; e < c->ev_hi; e++)
			if (sc->ev[e].seg == c->seg &&
			    (ret = give_event(vi, c, &sc->ev[e])) != 0)
				return ret;
	}
	return 0;
}

static int add_code_id(struct visit *vi, uint32_t id)
{
	if (vi->ncode_ids == vi->code_ids_cap) {
		size_t cap = vi->code_ids_cap ? vi->code_ids_cap * 2 : 256;
		uint32_t *n = realloc(vi->code_ids, cap * sizeof(*n));
		if (!n)
			return -1;
		vi->code_ids = n;
		vi->code_ids_cap = cap;
	}
	vi->code_ids[vi->ncode_ids++] = id;
	return 0;
}

/* One record of walk 2: a code object or a native address (one id
 * space), else nothing.  0, -1 (*oom set) or what a callback returned. */
static int code_record(struct visit *vi, const struct rec *rp, int *oom)
{
	const struct rec r = *rp;
	struct pf_code_info ci;
	int ret;

	if (r.type == PF_REC_NATIVE &&
	    r.body_len >= sizeof(struct pf_rec_native) && rd32(r.body)) {
		struct pf_native_info ni = {
			.id = rd32(r.body),
			.address = rd64(r.body + 8),
		};
		if (add_code_id(vi, ni.id) != 0) {
			*oom = 1;
			return -1;
		}
		if (vi->v->on_native &&
		    (ret = vi->v->on_native(vi->ctx, &ni)) != 0)
			return ret;
		return 0;
	}
	if (r.type != PF_REC_CODE ||
	    r.body_len < sizeof(struct pf_rec_code) ||
	    rd32(r.body) == 0) /* warned by the structure walk */
		return 0;
	memset(&ci, 0, sizeof(ci));
	ci.id = rd32(r.body);
	ci.filename = rd32(r.body + 4);
	ci.name = rd32(r.body + 8);
	ci.qualname = rd32(r.body + 12);
	memcpy(&ci.firstlineno, r.body + 16, 4);
	ci.flags = rd32(r.body + 20);
	ci.linetable = r.body + sizeof(struct pf_rec_code);
	ci.linetable_len = r.body_len - sizeof(struct pf_rec_code);
	if (add_code_id(vi, ci.id) != 0) {
		*oom = 1;
		return -1;
	}
	if (vi->v->on_code && (ret = vi->v->on_code(vi->ctx, &ci)) != 0)
		return ret;
	return 0;
}

/* Walk 2: the code and native records walk 1 noted, in its order */
static int walk_codes(struct visit *vi, int *oom)
{
	int ret;

	for (uint32_t i = 0; i < vi->nchunks; i++) {
		struct chunk *c = &vi->chunks[i];
		const struct scan *sc = &vi->scans[c->scan];

		for (size_t e = c->ev_lo; e < c->ev_hi; e++) {
			uint32_t pos = sc->ev[e].at;
			struct rec r;

			if (sc->ev[e].seg != c->seg || sc->ev[e].kind != EV_CODE)
				continue;
			if (next_record(vi, c, &pos, c->end, &r, 0) > 0 &&
			    (ret = code_record(vi, &r, oom)) != 0)
				return ret;
		}
	}
	return 0;
}

#define KNOWN_BITMAP_MAX (1u << 24)

static void index_codes(struct visit *vi)
{
	uint32_t max;

	if (!vi->ncode_ids)
		return;
	qsort(vi->code_ids, vi->ncode_ids, sizeof(*vi->code_ids), u32_cmp);
	max = vi->code_ids[vi->ncode_ids - 1];
	if (max >= KNOWN_BITMAP_MAX || !(vi->known = calloc(max / 8 + 1, 1)))
		return;
	for (size_t i = 0; i < vi->ncode_ids; i++)
		vi->known[vi->code_ids[i] / 8] |= (uint8_t)(1u << (vi->code_ids[i] % 8));
	vi->known_max = max;
}

static int code_known(const struct visit *vi, uint32_t id)
{
	size_t lo = 0, hi = vi->ncode_ids;

	if (vi->known)
		return id <= vi->known_max &&
		       (vi->known[id / 8] >> (id % 8) & 1);

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (vi->code_ids[mid] == id)
			return 1;
		if (vi->code_ids[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* pf_varint_get, the one- and two-byte cases first: a sample's fields
 * and frames (code ids, lasti / 2 + 1) are nearly all that short, and
 * decoding them was a third of the time a report takes to read a file. */
static inline int varint_get(const uint8_t **p, const uint8_t *end,
			     uint64_t *out)
{
	const uint8_t *q = *p;

	if (end - q >= 2) {
		if (!(q[0] & 0x80)) {
			*out = q[0];
			*p = q + 1;
			return 0;
		}
		if (!(q[1] & 0x80)) {
			*out = (uint64_t)(q[0] & 0x7f) | (uint64_t)q[1] << 7;
			*p = q + 2;
			return 0;
		}
	}
	return pf_varint_get(p, end, out);
}

/* Decodes one sample body onto vi->stack, and a repeated sample's count
 * into *repeats (0 for others).  Returns 0, or -1 with a warning (the
 * caller stops the chunk). */
static int parse_sample(struct visit *vi, const struct rec *r,
			uint32_t *depth, uint64_t *mono, struct pf_sample *s,
			uint64_t *repeats)
{
	const uint8_t *p = r->body, *end = r->body + r->body_len;
	uint64_t dt, dcpu, flags, shared, count, i;
	unsigned long long off = (unsigned long long)r->off;

	if (varint_get(&p, end, &dt) || varint_get(&p, end, &dcpu) ||
	    varint_get(&p, end, &flags) ||
	    varint_get(&p, end, &shared) ||
	    varint_get(&p, end, &count)) {
		warn(vi, r->off, "sample at offset %llu: bad or cut-short "
		     "varint", off);
		return -1;
	}
	if (flags > UINT32_MAX) {
		warn(vi, r->off, "sample at offset %llu: flags 0x%llx do not "
		     "fit 32 bits", off, (unsigned long long)flags);
		return -1;
	}
	if (shared > *depth) {
		warn(vi, r->off, "sample at offset %llu shares %llu frames "
		     "with a previous stack of %u", off,
		     (unsigned long long)shared, *depth);
		return -1;
	}
	if (count > PF_MAX_DEPTH - shared) {
		warn(vi, r->off, "sample at offset %llu has depth %llu (more "
		     "than %u)", off, (unsigned long long)(shared + count),
		     PF_MAX_DEPTH);
		return -1;
	}
	for (i = 0; i < count; i++) {
		uint64_t code, lp1;
		struct pf_frame *fr = &vi->stack[shared + i];

		if (varint_get(&p, end, &code) ||
		    varint_get(&p, end, &lp1)) {
			warn(vi, r->off, "sample at offset %llu: frame %llu "
			     "has a bad or cut-short varint", off,
			     (unsigned long long)(shared + i));
			*depth = 0;
			return -1;
		}
		if (code > UINT32_MAX || lp1 > (uint64_t)INT32_MAX / 2 + 1) {
			warn(vi, r->off, "sample at offset %llu: frame %llu "
			     "is out of range (code %llu, lasti+1 %llu)", off,
			     (unsigned long long)(shared + i),
			     (unsigned long long)code,
			     (unsigned long long)lp1);
			*depth = 0;
			return -1;
		}
		fr->code_id = (uint32_t)code;
		fr->lasti = lp1 == 0 ? -1 : (int32_t)((lp1 - 1) * 2);
	}
	*repeats = 0;
	if ((flags & PF_SAMPLE_REPEAT) &&
	    (pf_varint_get(&p, end, repeats) ||
	     *repeats > PF_SAMPLE_REPEATS_MAX)) {
		warn(vi, r->off, "sample at offset %llu: its repeat count is "
		     "missing or above %u", off, PF_SAMPLE_REPEATS_MAX);
		*depth = 0;
		return -1;
	}
	/* Trailing body bytes are tolerated: a newer minor may add fields. */
	*depth = (uint32_t)(shared + count);
	/* A delta of 2^63 or more is a small negative one: a writer read
	 * its clocks before an earlier sample's (wall mode's sampler thread
	 * could, until the writer read them under the thread's busy flag).
	 * The timestamp goes back by it, modulo 2^64 as the writer computed
	 * it, and the sample stands for no time. */
	*mono += dt;
	memset(s, 0, sizeof(*s));
	s->mono_ns = *mono;
	s->cpu_ns = dcpu >> 63 ? 0 : dcpu;
	s->wall_ns = dt >> 63 ? 0 : dt;
	s->flags = (uint32_t)flags & ~PF_SAMPLE_REPEAT;
	s->depth = *depth;
	s->shared = (uint32_t)shared;
	s->frames = vi->stack;
	return 0;
}

/* x's share of i of n parts: x * i / n without overflow (i <= n) */
static uint64_t part(uint64_t x, uint64_t i, uint64_t n)
{
	return x / n * i + x % n * i / n;
}

/* A repeated sample (PF_SAMPLE_REPEAT) as the 1 + repeats samples it
 * stands for, its time spread evenly over them: the ticks were about an
 * interval apart, and their sum is exact. */
static int give_repeats(struct visit *vi, struct pf_sample *s, uint64_t repeats)
{
	const uint64_t n = repeats + 1, end = s->mono_ns, wall = s->wall_ns,
		       cpu = s->cpu_ns, start = end - wall;
	int ret = 0;

	for (uint64_t i = 1; i <= n && !ret; i++) {
		s->mono_ns = start + part(wall, i, n);
		s->wall_ns = part(wall, i, n) - part(wall, i - 1, n);
		s->cpu_ns = part(cpu, i, n) - part(cpu, i - 1, n);
		/* every sample after the first shares its whole stack */
		if (i > 1)
			s->shared = s->depth;
		vi->f->stats.samples++;
		if (vi->v->on_sample)
			ret = vi->v->on_sample(vi->ctx, s);
	}
	return ret;
}

static int pipe_sample(struct visit *vi, const struct pf_sample *s,
		       uint64_t repeats, int gap, uint32_t unknown);

/* The sample's new frames that name no code or native record (the
 * shared prefix was counted with the sample before) */
static uint32_t unresolved(const struct visit *vi, const struct pf_sample *s)
{
	uint32_t n = 0;

	for (uint32_t k = s->shared; k < s->depth; k++)
		n += s->frames[k].code_id != 0 &&
		     !code_known(vi, s->frames[k].code_id);
	return n;
}

/* A sample decoded, to the callback: on the caller's thread, which
 * counts it (and its frames unresolved) only as it is given */
static int deliver(struct visit *vi, struct pf_sample *s, uint64_t repeats,
		   uint32_t unknown)
{
	vi->f->stats.frames_unresolved += unknown;
	if (repeats)
		return give_repeats(vi, s, repeats);
	vi->f->stats.samples++;
	return vi->v->on_sample ? vi->v->on_sample(vi->ctx, s) : 0;
}

/* Walk 3: samples, within what walk 1 accepted. */
static int walk_samples(struct visit *vi, struct chunk *c)
{
	uint32_t pos = c->start, depth = 0;
	uint64_t mono = 0, repeats;
	struct rec r;
	int first = 1, ret;

	while (next_record(vi, c, &pos, c->end, &r, 0) > 0) {
		struct pf_sample s;

		if (first) {
			/* walk 1 accepted it, so this is the thread record */
			if (parse_thread(vi, c, &r, NULL, &mono, NULL, 0) != 0)
				return 0;
			first = 0;
			continue;
		}
		if (r.type != PF_REC_SAMPLE)
			continue;
		if (parse_sample(vi, &r, &depth, &mono, &s, &repeats) != 0) {
			damage(vi, c);
			return 0;
		}
		s.thread = c->thread;
		if (s.flags & PF_SAMPLE_GAP) {
			/* its time only moved the clock; its frames are the
			 * next sample's shared ones */
			if (vi->pipe && (ret = pipe_sample(vi, &s, 0, 1, 0)))
				return ret;
			continue;
		}
		ret = vi->pipe ? pipe_sample(vi, &s, repeats, 0, unresolved(vi, &s))
			       : deliver(vi, &s, repeats, unresolved(vi, &s));
		if (ret)
			return ret;
	}
	return 0;
}

/* --- walk 3 on a second thread ------------------------------------------- */

/*
 * Walk 3 is two halves of about equal cost: decoding the records
 * (varints, the shared prefix, the checks) and what the callback does
 * with each sample (the collector's lookups and sums).  With two CPUs the
 * decoding runs on a thread of its own, up to PIPE_BATCHES batches ahead:
 * it writes each sample's head and new frames, and each warning, into a
 * batch; the caller's thread rebuilds each stack from them and makes
 * every callback itself, in the order and with the arguments of the walk
 * on one thread, so a visitor needs no locks and sees no difference.
 */
#define PIPE_BATCHES 4
#define PIPE_BATCH_BYTES (256u << 10)

enum {
	PIPED_SAMPLE = 1,
	PIPED_GAP,     /* a sample's frames, not for a callback */
	PIPED_WARNING,
	PIPED_DAMAGE,  /* thread: the index of a chunk found damaged */
};

/* an entry of a batch, followed by the sample's depth - shared new
 * frames (struct pf_frame), or by a warning's struct pf_error; every
 * part a multiple of 8 bytes.  What the second thread finds out of a
 * chunk is an entry too, so that a visit the caller's thread stops has
 * the stats and warnings it would have had on one thread. */
struct piped {
	uint32_t kind, thread, flags, depth, shared, unresolved;
	uint64_t mono_ns, cpu_ns, wall_ns, repeats;
};

_Static_assert(sizeof(struct piped) % 8 == 0 &&
	       sizeof(struct pf_frame) == 8 && sizeof(struct pf_error) % 8 == 0,
	       "batch entries stay 8-byte aligned");
_Static_assert(sizeof(struct piped) + PF_MAX_DEPTH * sizeof(struct pf_frame) <=
	       PIPE_BATCH_BYTES, "a batch holds the deepest sample");

struct pipe {
	pthread_mutex_t mu;
	pthread_cond_t filled, emptied;
	struct batch {
		uint8_t *data;
		size_t len;
		int full, last;
	} b[PIPE_BATCHES];
	int stop;   /* the caller's thread takes no more */
	/* the second thread's: the batch it fills, and how far */
	unsigned w;
	size_t wlen;
	struct visit wv;
};

/* Hands the batch being filled to the caller's thread and waits for the
 * next to be free.  Returns non-zero when the caller's thread has
 * stopped taking them. */
static int pipe_send(struct pipe *pp, int last)
{
	int stop;

	pthread_mutex_lock(&pp->mu);
	pp->b[pp->w].len = pp->wlen;
	pp->b[pp->w].last = last;
	pp->b[pp->w].full = 1;
	pthread_cond_signal(&pp->filled);
	pp->w = (pp->w + 1) % PIPE_BATCHES;
	pp->wlen = 0;
	while (!last && pp->b[pp->w].full && !pp->stop)
		pthread_cond_wait(&pp->emptied, &pp->mu);
	stop = pp->stop;
	pthread_mutex_unlock(&pp->mu);
	return stop;
}

/* n bytes at the end of the batch being filled, or NULL (stopped) */
static void *pipe_space(struct pipe *pp, size_t n)
{
	void *p;

	if (pp->wlen + n > PIPE_BATCH_BYTES && pipe_send(pp, 0))
		return NULL;
	p = pp->b[pp->w].data + pp->wlen;
	pp->wlen += n;
	return p;
}

static int pipe_sample(struct visit *vi, const struct pf_sample *s,
		       uint64_t repeats, int gap, uint32_t unknown)
{
	const size_t nf = s->depth - s->shared;
	struct piped *e = pipe_space(vi->pipe, sizeof(*e) + nf * sizeof(*s->frames));

	if (!e)
		return 1;
	*e = (struct piped){
		.kind = gap ? PIPED_GAP : PIPED_SAMPLE, .thread = s->thread,
		.flags = s->flags,
		.depth = s->depth, .shared = s->shared, .mono_ns = s->mono_ns,
		.cpu_ns = s->cpu_ns, .wall_ns = s->wall_ns, .repeats = repeats,
		.unresolved = unknown,
	};
	memcpy(e + 1, s->frames + s->shared, nf * sizeof(*s->frames));
	return 0;
}

/* A warning of the second thread's walk, kept in its place among the
 * samples (lost only if the caller's thread has stopped taking them) */
static void pipe_warning(struct visit *vi, const struct pf_error *w)
{
	struct piped *e = pipe_space(vi->pipe, sizeof(*e) + sizeof(*w));

	if (!e)
		return;
	memset(e, 0, sizeof(*e));
	e->kind = PIPED_WARNING;
	memcpy(e + 1, w, sizeof(*w));
}

static void pipe_damage(struct visit *vi, const struct chunk *c)
{
	struct piped *e = pipe_space(vi->pipe, sizeof(*e));

	if (!e)
		return;
	memset(e, 0, sizeof(*e));
	e->kind = PIPED_DAMAGE;
	e->thread = (uint32_t)(c - vi->chunks);
}

static void *pipe_walk(void *arg)
{
	struct pipe *pp = arg;
	struct visit *vi = &pp->wv;
	int ret = 0;

	for (uint32_t i = 0; i < vi->nchunks && !ret; i++) {
		ret = walk_samples(vi, &vi->chunks[i]);
		release_read(vi, vi->chunks[i].avail);
	}
	if (!ret)
		pipe_send(pp, 1);
	return NULL;
}

/* The callbacks of one batch, on the caller's thread */
static int pipe_replay(struct visit *vi, const uint8_t *p, size_t len)
{
	const uint8_t *end = p + len;
	int ret = 0;

	while (p < end && !ret) {
		const struct piped *e = (const struct piped *)(const void *)p;
		struct pf_sample s;
		uint32_t nf;

		if (e->kind == PIPED_WARNING) {
			struct pf_error w;

			memcpy(&w, e + 1, sizeof(w));
			vi->v->on_warning(vi->ctx, &w);
			p += sizeof(*e) + sizeof(w);
			continue;
		}
		if (e->kind == PIPED_DAMAGE) {
			damage(vi, &vi->chunks[e->thread]);
			p += sizeof(*e);
			continue;
		}
		nf = e->depth - e->shared;
		memcpy(vi->stack + e->shared, e + 1, nf * sizeof(*vi->stack));
		p += sizeof(*e) + nf * sizeof(*vi->stack);
		if (e->kind == PIPED_GAP)
			continue;
		s = (struct pf_sample){
			.thread = e->thread, .mono_ns = e->mono_ns,
			.cpu_ns = e->cpu_ns, .wall_ns = e->wall_ns,
			.flags = e->flags, .depth = e->depth,
			.shared = e->shared, .frames = vi->stack,
		};
		ret = deliver(vi, &s, e->repeats, e->unresolved);
	}
	return ret;
}

/* Walk 3 with the decoding on a second thread.  Returns what a callback
 * returned to stop, else 0; *ran is 0 if the thread could not be had
 * (nothing has been called back: walk on one thread instead). */
static int walk_samples_piped(struct visit *vi, int *ran)
{
	struct pipe *pp = calloc(1, sizeof(*pp));
	pthread_t th;
	unsigned r = 0;
	int ret = 0, started = 0;

	*ran = 0;
	if (!pp)
		return 0;
	for (unsigned i = 0; i < PIPE_BATCHES; i++)
		if (!(pp->b[i].data = malloc(PIPE_BATCH_BYTES)))
			goto out;
	pp->wv = *vi;
	pp->wv.pipe = pp;
	pp->wv.read = 0;
	if (!(pp->wv.stack = calloc(PF_MAX_DEPTH, sizeof(*pp->wv.stack))))
		goto out;
	pthread_mutex_init(&pp->mu, NULL);
	pthread_cond_init(&pp->filled, NULL);
	pthread_cond_init(&pp->emptied, NULL);
	started = start_thread(&th, pipe_walk, pp) == 0;
	if (!started)
		goto out_sync;
	*ran = 1;
	for (;;) {
		struct batch *b = &pp->b[r];
		int last;

		pthread_mutex_lock(&pp->mu);
		while (!b->full)
			pthread_cond_wait(&pp->filled, &pp->mu);
		pthread_mutex_unlock(&pp->mu);
		ret = pipe_replay(vi, b->data, b->len);
		last = b->last;
		pthread_mutex_lock(&pp->mu);
		b->full = 0;
		if (ret)
			pp->stop = 1;
		pthread_cond_signal(&pp->emptied);
		pthread_mutex_unlock(&pp->mu);
		if (ret || last)
			break;
		r = (r + 1) % PIPE_BATCHES;
	}
	pthread_join(th, NULL);
out_sync:
	pthread_cond_destroy(&pp->emptied);
	pthread_cond_destroy(&pp->filled);
	pthread_mutex_destroy(&pp->mu);
out:
	free(pp->wv.stack);
	for (unsigned i = 0; i < PIPE_BATCHES; i++)
		free(pp->b[i].data);
	free(pp);
	return ret;
}

static int use_pipe(const struct visit *vi)
{
	return vi->v->on_sample && use_threads(vi->f);
}

/* Both visits: the structure walk, then either each segment to fn or
 * (fn NULL) the codes and samples. */
static int visit(struct pf_file *f, const struct pf_visitor *v,
		 int (*fn)(void *ctx, const struct pf_segment_info *s),
		 void *ctx)
{
	static const struct pf_visitor none;
	struct visit vi;
	uint32_t i;
	int ret = 0, oom = 0;

	memset(&vi, 0, sizeof(vi));
	memset(&f->stats, 0, sizeof(f->stats));
	vi.f = f;
	vi.v = v ? v : &none;
	vi.ctx = ctx;
	vi.stack = calloc(PF_MAX_DEPTH, sizeof(*vi.stack));
	if (!vi.stack || scan_file(&vi) != 0) {
		warn(&vi, 0, "out of memory");
		ret = -1;
		goto out;
	}
	if ((ret = give_structure(&vi)) != 0)
		goto out;
	if (fn) {
		for (i = 0; i < vi.nchunks && !ret; i++) {
			const struct chunk *c = &vi.chunks[i];
			struct pf_segment_info s = {
				.thread = c->thread, .tid = c->tid, .seq = c->seq,
				.offset = c->off + c->start,
				.records = f->base + c->off + c->start,
				.len = c->end - c->start,
			};
			if (c->end > c->start)
				ret = fn(ctx, &s);
		}
		goto out;
	}
	ret = walk_codes(&vi, &oom);
	if (oom)
		warn(&vi, 0, "out of memory");
	if (ret)
		goto out;
	index_codes(&vi);
	if (use_pipe(&vi)) {
		int ran;

		ret = walk_samples_piped(&vi, &ran);
		if (ran)
			goto out;
	}
	for (i = 0; i < vi.nchunks && !ret; i++) {
		ret = walk_samples(&vi, &vi.chunks[i]);
		release_read(&vi, vi.chunks[i].avail);
	}
out:
	free(vi.stack);
	free(vi.chunks);
	for (unsigned k = 0; k < 2; k++) {
		free(vi.scans[k].segs);
		free(vi.scans[k].ev);
		free(vi.scans[k].warns);
	}
	free(vi.code_ids);
	free(vi.known);
	return ret;
}

int pf_file_visit(struct pf_file *f, const struct pf_visitor *v, void *ctx)
{
	return visit(f, v, NULL, ctx);
}

void pf_file_set_threads(struct pf_file *f, int threads)
{
	f->threads = threads == 1 || threads == 2 ? threads : 0;
}

int pf_file_segments(struct pf_file *f, const struct pf_visitor *v,
		     int (*fn)(void *ctx, const struct pf_segment_info *s),
		     void *ctx)
{
	return visit(f, v, fn, ctx);
}
