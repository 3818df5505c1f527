/*
 * visit.c - walking the chunks of an open .pyprof file (pf_file_visit; see
 * read.h, and read.c for the header).
 *
 * The one idea: nothing in the file is believed until it has been checked
 * against the bytes present.  Chunks (and, from format 2.0, the segments
 * of a chunk that threads took over from one another) are sorted by
 * (thread serial, seq) and walked three times: structure, threads and
 * strings first, then code objects, then samples, each walk up to where
 * the first found the chunk's valid records end.  Every step moves forward
 * by at least 4 bytes, so no input can hang a walk.  Depends on libc only.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

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
	int damaged;
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
	uint32_t nchunks, cap;
	uint32_t *code_ids;   /* sorted after the code walk */
	size_t ncode_ids, code_ids_cap;
	/* ids are small and dense in files pyprof writes: a bitmap answers
	 * "is this id defined" in one load; NULL when the largest id is too
	 * large for one (a hostile file), and the sorted array is searched */
	uint8_t *known;
	uint32_t known_max;
	struct pf_frame *stack; /* PF_MAX_DEPTH frames */
	uint64_t read;          /* bytes read since the last release_read */
	/* where the structure walk found code and native records, in walk
	 * order, so that the code walk reads those and not every record of
	 * the file again; codes_at_lost if it could not keep them all */
	struct code_at {
		uint32_t chunk, pos;
	} *codes_at;
	size_t ncodes_at, codes_at_cap;
	int codes_at_lost;
};

static void warn(struct visit *vi, uint64_t offset, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Every page of a mapped file that a walk reads stays in the process
 * until the file is closed, and the kernel maps the pages around each
 * fault too (whole large folios of the page cache): reading a file of
 * gigabytes took that much memory beside the profile, however few its
 * distinct stacks.  So after every RELEASE_EVERY bytes of chunks read,
 * the whole mapping is dropped from the process (MADV_DONTNEED: the
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
	vi->v->on_warning(vi->ctx, &w);
}

static void damage(struct visit *vi, struct chunk *c)
{
	if (!c->damaged)
		vi->f->stats.chunks_damaged++;
	c->damaged = 1;
}

static int chunk_cmp(const void *a, const void *b)
{
	const struct chunk *x = a, *y = b;

	if (x->thread != y->thread)
		return x->thread < y->thread ? -1 : 1;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* Reads the chunk headers, warns about what cannot be used, and keeps the
 * rest sorted by (thread, seq). */
static int next_record(struct visit *vi, struct chunk *c, uint32_t *pos,
		       uint32_t limit, struct rec *r, int check);

static int push_chunk(struct visit *vi, const struct chunk *c)
{
	if (vi->nchunks == vi->cap) {
		uint32_t cap = vi->cap * 2;
		struct chunk *n = cap > vi->cap ?
			realloc(vi->chunks, cap * sizeof(*n)) : NULL;
		if (!n)
			return -1;
		vi->chunks = n;
		vi->cap = cap;
	}
	vi->chunks[vi->nchunks++] = *c;
	return 0;
}

/* Adds chunk c, or its segments: each PF_REC_SEGMENT record ends the one
 * before it and opens the next, for the thread it names.  Only record
 * heads are read here; a damaged record ends the splitting, and the walk
 * of that segment says what is wrong. */
static int add_segments(struct visit *vi, struct chunk *c)
{
	uint32_t pos = c->start;
	struct rec r;

	if (vi->f->hdr->version_major < 2)
		return push_chunk(vi, c);
	while (next_record(vi, c, &pos, c->avail, &r, 0) > 0) {
		struct chunk next = *c;

		if (r.type != PF_REC_SEGMENT)
			continue;
		c->limit = (uint32_t)(r.off - c->off);
		if (r.body_len < sizeof(struct pf_rec_segment) ||
		    rd32(r.body) == 0) {
			warn(vi, r.off, "segment record at offset %llu is "
			     "cut short or names thread 0",
			     (unsigned long long)r.off);
			vi->f->stats.chunks_damaged++;
			break;
		}
		if (push_chunk(vi, c) != 0)
			return -1;
		next.thread = rd32(r.body);
		next.tid = rd32(r.body + 4);
		next.seq = rd32(r.body + 8);
		next.start = next.end = pos;
		next.limit = c->avail;
		*c = next;
	}
	return push_chunk(vi, c);
}

static int collect_chunks(struct visit *vi)
{
	struct pf_file *f = vi->f;
	const struct pf_header *h = f->hdr;
	uint64_t want = h->chunks_claimed;
	uint32_t i;

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

	vi->cap = f->chunks ? f->chunks : 1;
	vi->chunks = calloc(vi->cap, sizeof(*vi->chunks));
	if (!vi->chunks)
		return -1;
	for (i = 0; i < f->chunks; i++) {
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
			warn(vi, f->size,
			     "file is cut short: chunk %u at offset %llu has "
			     "%u of %u bytes", i, (unsigned long long)c.off,
			     c.avail, f->chunk_size);
		if (c.avail < PF_CHUNK_HEADER_SIZE) {
			/* not even a header: unused, or damaged past use */
			int zero = 1;
			for (uint32_t k = 0; k < c.avail && k < 4; k++)
				zero &= p[k] == 0;
			if (!zero)
				f->stats.chunks_damaged++;
			continue;
		}
		if (rd32(p) == 0)
			continue; /* unused chunk */
		if (rd32(p) != PF_CHUNK_MAGIC) {
			warn(vi, c.off, "chunk %u at offset %llu has bad magic "
			     "0x%08x", i, (unsigned long long)c.off, rd32(p));
			f->stats.chunks_damaged++;
			continue;
		}
		c.thread = rd32(p + 4);
		c.tid = rd32(p + 8);
		c.seq = rd32(p + 12);
		if (c.thread == 0) {
			warn(vi, c.off + 4, "chunk %u at offset %llu has "
			     "thread serial 0", i, (unsigned long long)c.off);
			f->stats.chunks_damaged++;
			continue;
		}
		c.start = c.end = PF_CHUNK_HEADER_SIZE;
		c.limit = c.avail;
		if (add_segments(vi, &c) != 0)
			return -1;
		release_read(vi, c.avail);
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

/* Walk 1: structure, threads, strings.  Sets c->end. */
/* Notes a code or native record at at (its chunk c) for the code walk */
static void note_code(struct visit *vi, const struct chunk *c, uint32_t at)
{
	if (vi->codes_at_lost)
		return;
	if (vi->ncodes_at == vi->codes_at_cap) {
		size_t cap = vi->codes_at_cap ? vi->codes_at_cap * 2 : 256;
		struct code_at *n = realloc(vi->codes_at, cap * sizeof(*n));
		if (!n) {
			vi->codes_at_lost = 1; /* the code walk reads every record */
			return;
		}
		vi->codes_at = n;
		vi->codes_at_cap = cap;
	}
	vi->codes_at[vi->ncodes_at++] =
		(struct code_at){(uint32_t)(c - vi->chunks), at};
}

static int walk_structure(struct visit *vi, struct chunk *c,
			  uint32_t *last_thread)
{
	uint32_t pos = c->start, at;
	struct pf_thread_info t;
	struct rec r;
	int first = 1, rc, ret;

	for (;;) {
		at = pos;
		rc = next_record(vi, c, &pos, c->limit, &r, 1);
		if (rc == 0)
			break;
		if (rc < 0) {
			damage(vi, c);
			break;
		}
		if (first) {
			if (r.type != PF_REC_THREAD) {
				warn(vi, r.off, "chunk at offset %llu does not "
				     "begin with a thread record (type %u)",
				     (unsigned long long)c->off, r.type);
				damage(vi, c);
				c->end = c->start;
				return 0;
			}
			if (parse_thread(vi, c, &r, &t, NULL, NULL, 1) != 0) {
				damage(vi, c);
				c->end = c->start;
				return 0;
			}
			first = 0;
			c->end = pos;
			if (*last_thread != c->thread) {
				*last_thread = c->thread;
				if (vi->v->on_thread &&
				    (ret = vi->v->on_thread(vi->ctx, &t)) != 0)
					return ret;
			}
			continue;
		}
		switch (r.type) {
		case PF_REC_THREAD:
			/* only the opening one counts; a later one would be
			 * a writer bug, but its length is sound */
			break;
		case PF_REC_STRING:
			if (r.body_len < 4) {
				warn(vi, r.off, "string record at offset %llu "
				     "has no id", (unsigned long long)r.off);
				damage(vi, c);
				return 0;
			}
			if (rd32(r.body) == 0) {
				warn(vi, r.off, "string record at offset %llu "
				     "has id 0", (unsigned long long)r.off);
				break;
			}
			if (vi->v->on_string &&
			    (ret = vi->v->on_string(vi->ctx, rd32(r.body),
						    (const char *)r.body + 4,
						    r.body_len - 4)) != 0)
				return ret;
			break;
		case PF_REC_CODE:
			if (r.body_len < sizeof(struct pf_rec_code)) {
				warn(vi, r.off, "code record at offset %llu is "
				     "%u bytes (less than %zu)",
				     (unsigned long long)r.off, r.body_len + 4,
				     sizeof(struct pf_rec_code) + 4);
				damage(vi, c);
				return 0;
			}
			if (rd32(r.body) == 0)
				warn(vi, r.off, "code record at offset %llu "
				     "has id 0", (unsigned long long)r.off);
			else
				note_code(vi, c, at);
			break;
		case PF_REC_SAMPLE:
			break;
		case PF_REC_NATIVE:
			if (r.body_len < sizeof(struct pf_rec_native) ||
			    rd32(r.body) == 0) {
				warn(vi, r.off, "native record at offset %llu "
				     "is cut short or has id 0",
				     (unsigned long long)r.off);
				break;
			}
			note_code(vi, c, at);
			break;
		case PF_REC_OBJECT:
			if (r.body_len < sizeof(struct pf_rec_object) ||
			    (uint64_t)rd32(r.body + 32) + rd32(r.body + 36) >
			    r.body_len - sizeof(struct pf_rec_object)) {
				warn(vi, r.off, "object record at offset %llu "
				     "is cut short", (unsigned long long)r.off);
				break;
			}
			if (vi->v->on_object) {
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
				if ((ret = vi->v->on_object(vi->ctx, &o)))
					return ret;
			}
			break;
		case PF_REC_MARK:
			if (r.body_len < sizeof(struct pf_rec_mark) ||
			    rd32(r.body + 12) > r.body_len -
			    sizeof(struct pf_rec_mark)) {
				warn(vi, r.off, "mark record at offset %llu is "
				     "cut short", (unsigned long long)r.off);
				break;
			}
			if (vi->v->on_mark) {
				struct pf_mark m = {
					.thread = c->thread,
					.mono_ns = rd64(r.body),
					.kind = rd32(r.body + 8),
					.label_len = rd32(r.body + 12),
					.label = (const char *)r.body +
						 sizeof(struct pf_rec_mark),
				};
				if ((ret = vi->v->on_mark(vi->ctx, &m)))
					return ret;
			}
			break;
		case PF_REC_THREAD_NAME:
			if (r.body_len < sizeof(struct pf_rec_thread_name) ||
			    rd32(r.body + 4) > r.body_len -
			    sizeof(struct pf_rec_thread_name)) {
				warn(vi, r.off, "thread name record at offset "
				     "%llu is cut short",
				     (unsigned long long)r.off);
				break;
			}
			if (vi->v->on_thread_name) {
				struct pf_thread_name tn = {
					.tid = rd32(r.body),
					.name_len = rd32(r.body + 4),
					.pthread = rd64(r.body + 8),
					.mono_ns = rd64(r.body + 16),
					.name = (const char *)r.body +
						sizeof(struct pf_rec_thread_name),
				};
				if ((ret = vi->v->on_thread_name(vi->ctx, &tn)))
					return ret;
			}
			break;
		default:
			vi->f->stats.records_skipped++;
			break;
		}
		c->end = pos;
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

/* Walk 2 over one chunk, every record within what walk 1 accepted */
static int walk_codes(struct visit *vi, struct chunk *c, int *oom)
{
	uint32_t pos = c->start;
	struct rec r;
	int ret;

	while (next_record(vi, c, &pos, c->end, &r, 0) > 0)
		if ((ret = code_record(vi, &r, oom)) != 0)
			return ret;
	return 0;
}

/* Walk 2 over the records walk 1 noted, in the same order */
static int walk_codes_noted(struct visit *vi, int *oom)
{
	int ret;

	for (size_t i = 0; i < vi->ncodes_at; i++) {
		struct chunk *c = &vi->chunks[vi->codes_at[i].chunk];
		uint32_t pos = vi->codes_at[i].pos;
		struct rec r;

		if (next_record(vi, c, &pos, c->end, &r, 0) > 0 &&
		    (ret = code_record(vi, &r, oom)) != 0)
			return ret;
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

/* Walk 3: samples, within what walk 1 accepted. */
static int walk_samples(struct visit *vi, struct chunk *c)
{
	uint32_t pos = c->start, depth = 0, k;
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
		if (s.flags & PF_SAMPLE_GAP)
			continue; /* its time only moved the clock */
		s.thread = c->thread;
		/* the shared prefix was checked with the sample before */
		for (k = s.shared; k < s.depth; k++)
			if (s.frames[k].code_id != 0 &&
			    !code_known(vi, s.frames[k].code_id))
				vi->f->stats.frames_unresolved++;
		if (repeats) {
			if ((ret = give_repeats(vi, &s, repeats)))
				return ret;
			continue;
		}
		vi->f->stats.samples++;
		if (vi->v->on_sample && (ret = vi->v->on_sample(vi->ctx, &s)))
			return ret;
	}
	return 0;
}

/* Both visits: the structure walk, then either each segment to fn or
 * (fn NULL) the codes and samples. */
static int visit(struct pf_file *f, const struct pf_visitor *v,
		 int (*fn)(void *ctx, const struct pf_segment_info *s),
		 void *ctx)
{
	static const struct pf_visitor none;
	struct visit vi;
	uint32_t i, last_thread = 0;
	int ret = 0, oom = 0;

	memset(&vi, 0, sizeof(vi));
	memset(&f->stats, 0, sizeof(f->stats));
	vi.f = f;
	vi.v = v ? v : &none;
	vi.ctx = ctx;
	vi.stack = calloc(PF_MAX_DEPTH, sizeof(*vi.stack));
	if (!vi.stack || collect_chunks(&vi) != 0) {
		warn(&vi, 0, "out of memory");
		ret = -1;
		goto out;
	}

	for (i = 0; i < vi.nchunks && !ret; i++) {
		ret = walk_structure(&vi, &vi.chunks[i], &last_thread);
		release_read(&vi, vi.chunks[i].avail);
	}
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
	if (!vi.codes_at_lost) {
		ret = walk_codes_noted(&vi, &oom);
	} else {
		for (i = 0; i < vi.nchunks && !ret; i++) {
			ret = walk_codes(&vi, &vi.chunks[i], &oom);
			release_read(&vi, vi.chunks[i].avail);
		}
	}
	if (oom)
		warn(&vi, 0, "out of memory");
	if (ret)
		goto out;
	index_codes(&vi);
	for (i = 0; i < vi.nchunks && !ret; i++) {
		ret = walk_samples(&vi, &vi.chunks[i]);
		release_read(&vi, vi.chunks[i].avail);
	}
out:
	free(vi.stack);
	free(vi.chunks);
	free(vi.codes_at);
	free(vi.code_ids);
	free(vi.known);
	return ret;
}

int pf_file_visit(struct pf_file *f, const struct pf_visitor *v, void *ctx)
{
	return visit(f, v, NULL, ctx);
}

int pf_file_segments(struct pf_file *f, const struct pf_visitor *v,
		     int (*fn)(void *ctx, const struct pf_segment_info *s),
		     void *ctx)
{
	return visit(f, v, fn, ctx);
}
