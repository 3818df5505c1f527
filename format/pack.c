/*
 * pack.c - packing a finished .pyprof file, and unpacking a packed one to
 * read it (pack.h has the layout).
 *
 * Packing takes the records the reader accepts (pf_file_segments), puts
 * each sample's fields into the column streams and every other record
 * whole into RECORDS and BODIES, then compresses each stream on its own.
 * Unpacking decompresses the streams and lays the records out in chunks
 * again, in anonymous memory that the ordinary reader then opens and
 * checks like any file: nothing here decides what a record means.
 *
 * The one file of format/ that libpyprof.so does not link (it is in
 * libpfpack.la): zstd stays out of the profiled process.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zstd.h>

#include "linetable.h"
#include "pack.h"
#include "read-int.h"

/* Larger zstd windows than levels up to 19 use are refused when reading,
 * so a hostile frame cannot make the decoder allocate more than this. */
#define PACK_WINDOW_LOG_MAX 24

/* Largest sample body the columns make: five varints, its frames, and a
 * repeated sample's count */
#define PACK_SAMPLE_MAX (6 * PF_VARINT_MAX + PF_MAX_DEPTH * 2 * PF_VARINT_MAX)

static const char *const stream_names[PF_PACK_STREAMS] = {
	"header", "segments", "records", "bodies",
	"shape", "cpu", "wall", "frames",
};

int pf_pack_is_packed(const void *data, size_t size)
{
	return size >= PF_MAGIC_LEN && !memcmp(data, PF_PACK_MAGIC, PF_MAGIC_LEN);
}

static uint64_t zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static uint64_t unzigzag(uint64_t v)
{
	return (v >> 1) ^ (0 - (v & 1));
}

static size_t varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

/* --- growing buffers ----------------------------------------------------- */

struct buf {
	uint8_t *p;
	size_t len, cap;
	int oom; /* sticky: a store was lost */
};

static int buf_reserve(struct buf *b, size_t n)
{
	size_t cap = b->cap ? b->cap : 4096;
	uint8_t *p;

	if (b->oom)
		return -1;
	if (b->cap - b->len >= n)
		return 0;
	while (cap - b->len < n) {
		if (cap > SIZE_MAX / 2) {
			b->oom = 1;
			return -1;
		}
		cap *= 2;
	}
	if (!(p = realloc(b->p, cap))) {
		b->oom = 1;
		return -1;
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

static void buf_put(struct buf *b, const void *p, size_t n)
{
	if (n && buf_reserve(b, n) == 0) {
		memcpy(b->p + b->len, p, n);
		b->len += n;
	}
}

static void buf_varint(struct buf *b, uint64_t v)
{
	if (buf_reserve(b, PF_VARINT_MAX) == 0)
		b->len += pf_varint_put(b->p + b->len, v);
}

/* --- packing ------------------------------------------------------------- */

struct packer {
	const struct pf_pack_options *o;
	struct buf s[PF_PACK_STREAMS]; /* by kind - 1 */
	uint32_t room;                 /* bytes a segment may take */
	uint64_t samples;
	uint32_t segments, exact_segments;
	uint32_t py_hexversion;
	/* every (code id << 32 | lasti) a sample's frame names, lasti >= 0:
	 * a set while the samples are read, then sorted */
	uint64_t *used;
	size_t nused, used_mask;
	int used_oom;
	uint32_t codes_paired;
	struct buf scratch;            /* a code record's new body */
};

#define STREAM(pk, kind) (&(pk)->s[(kind) - 1])

/* A varint in its shortest form, the only one the columns give back */
static int get_shortest(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	const uint8_t *start = *p;

	if (pf_varint_get(p, end, v) != 0)
		return -1;
	return *p - start > 1 && (*p)[-1] == 0 ? -1 : 0;
}

struct sample_fields {
	uint64_t dt, dcpu, flags, shared, count, repeats;
	const uint8_t *frames;
	size_t frames_len;
};

/* 0 if body is a sample the columns give back byte for byte: its five
 * varints and 2 x count more, a repeated sample's count, each shortest,
 * and nothing after them (a newer minor's trailing field keeps the record
 * whole). */
static int split_sample(const uint8_t *body, size_t len,
			struct sample_fields *s)
{
	const uint8_t *p = body, *end = body + len;
	uint64_t v;

	if (get_shortest(&p, end, &s->dt) || get_shortest(&p, end, &s->dcpu) ||
	    get_shortest(&p, end, &s->flags) ||
	    get_shortest(&p, end, &s->shared) ||
	    get_shortest(&p, end, &s->count) || s->count > PF_MAX_DEPTH)
		return -1;
	s->frames = p;
	for (uint64_t i = 0; i < 2 * s->count; i++)
		if (get_shortest(&p, end, &v) != 0)
			return -1;
	s->frames_len = (size_t)(p - s->frames);
	s->repeats = 0;
	if ((s->flags & PF_SAMPLE_REPEAT) && get_shortest(&p, end, &s->repeats))
		return -1;
	return p == end ? 0 : -1;
}

/* Running sums of one clock's deltas, true and as packed (mod 2^64) */
struct clock_sums {
	uint64_t truth, packed;
};

static int64_t floor_div(int64_t a, int64_t b)
{
	return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/* The delta d in units of q, chosen so that the packed sum stays within
 * q/2 of the true one (rounding each delta alone would let the errors of a
 * long run add up).  -1 for a delta too large to do that with. */
static int quantize(struct clock_sums *c, uint64_t d, uint32_t q, uint64_t *k)
{
	const int64_t limit = INT64_MAX / 4;
	int64_t sd = (int64_t)d, r;

	if (q == 1) {
		*k = d;
		return 0;
	}
	if (sd > limit || sd < -limit)
		return -1;
	c->truth += d;
	r = (int64_t)(c->truth - c->packed);
	*k = (uint64_t)floor_div(r + (int64_t)(q / 2), q);
	c->packed += *k * q;
	return 0;
}

/* The samples a sample record kept whole stands for, as the reader
 * counts them: none for a gap or one that does not decode */
static uint64_t samples_in(const uint8_t *body, size_t len)
{
	const uint8_t *p = body, *end = body + len;
	uint64_t dt, dcpu, flags, shared, count, v, repeats = 0;

	if (pf_varint_get(&p, end, &dt) || pf_varint_get(&p, end, &dcpu) ||
	    pf_varint_get(&p, end, &flags) || pf_varint_get(&p, end, &shared) ||
	    pf_varint_get(&p, end, &count) || count > PF_MAX_DEPTH ||
	    (flags & PF_SAMPLE_GAP))
		return 0;
	for (uint64_t i = 0; i < 2 * count; i++)
		if (pf_varint_get(&p, end, &v))
			return 0;
	if ((flags & PF_SAMPLE_REPEAT) && (pf_varint_get(&p, end, &repeats) ||
					   repeats > PF_SAMPLE_REPEATS_MAX))
		return 0;
	return 1 + repeats;
}

/* One segment's records into the streams with quantum q.  Returns its laid
 * out size, or 0 when q cannot be kept (a delta out of range). */
/* --- the lines of the offsets samples name --------------------------------
 *
 * A code record's line table (co_linetable, 3.11+: positions of every
 * instruction) is most of what a short profile packs to, and its samples
 * name a few of its offsets.  So where it is smaller, a code record is
 * packed with the lines of those offsets (PF_CODE_LINE_PAIRS, format.h)
 * in place of its table: every frame of the file reads the same line. */

static uint64_t used_hash(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	return k;
}

/* Distinct (code, offset) pairs beyond which the tables are kept whole:
 * a program names thousands, and a hostile file must not make the set
 * take more than 64 MB */
#define PACK_USED_MAX (1u << 22)

/* Keys are never 0: lasti + 1 in the low half */
static void used_add(struct packer *pk, uint32_t code, int32_t lasti)
{
	uint64_t k = (uint64_t)code << 32 | (uint32_t)(lasti + 1);
	size_t j;

	if (pk->used_oom)
		return;
	if (pk->nused >= PACK_USED_MAX) {
		pk->used_oom = 1; /* every table kept as it is */
		return;
	}
	if ((pk->nused + 1) * 4 > (pk->used_mask + 1) * 3 || !pk->used) {
		size_t size = pk->used ? (pk->used_mask + 1) * 2 : 1024;
		uint64_t *n = calloc(size, sizeof *n);

		if (!n) {
			pk->used_oom = 1;
			return;
		}
		for (size_t i = 0; pk->used && i <= pk->used_mask; i++) {
			if (!pk->used[i])
				continue;
			for (j = used_hash(pk->used[i]) & (size - 1); n[j];
			     j = (j + 1) & (size - 1))
				;
			n[j] = pk->used[i];
		}
		free(pk->used);
		pk->used = n;
		pk->used_mask = size - 1;
	}
	for (j = used_hash(k) & pk->used_mask; pk->used[j];
	     j = (j + 1) & pk->used_mask)
		if (pk->used[j] == k)
			return;
	pk->used[j] = k;
	pk->nused++;
}

static int used_sample(void *ctx, const struct pf_sample *s)
{
	/* the shared frames were the sample before's */
	for (uint32_t i = s->shared; i < s->depth; i++)
		if (s->frames[i].lasti >= 0)
			used_add(ctx, s->frames[i].code_id, s->frames[i].lasti);
	return 0;
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* The set, sorted, packed to the front of its array */
static void used_sort(struct packer *pk)
{
	size_t n = 0;

	for (size_t i = 0; pk->used && i <= pk->used_mask; i++)
		if (pk->used[i])
			pk->used[n++] = pk->used[i];
	if (n)
		qsort(pk->used, n, sizeof *pk->used, u64_cmp);
	pk->nused = n;
}

/* The body a code record packs to: with the lines of its offsets the
 * samples name, if that is smaller than its table; else NULL (kept as
 * it is).  *len is set. */
static const uint8_t *code_body(struct packer *pk, const uint8_t *body,
				size_t *len)
{
	const size_t head = sizeof(struct pf_rec_code);
	size_t lo = 0, hi = pk->nused, first, n;
	uint32_t id, flags;
	int32_t firstlineno;
	uint8_t *out;

	if (pk->used_oom || *len < head)
		return NULL;
	id = rd32(body);
	memcpy(&firstlineno, body + 16, 4);
	flags = rd32(body + 20);
	if (flags & PF_CODE_LINE_PAIRS)
		return NULL;
	while (lo < hi) { /* the first key of this id */
		size_t mid = lo + (hi - lo) / 2;
		if (pk->used[mid] >> 32 < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	first = lo;
	while (lo < pk->nused && pk->used[lo] >> 32 == id)
		lo++;
	n = lo - first;
	if (n * sizeof(struct pf_line_pair) >= *len - head)
		return NULL;
	pk->scratch.len = 0;
	if (buf_reserve(&pk->scratch, head + n * sizeof(struct pf_line_pair)))
		return NULL;
	out = pk->scratch.p;
	memcpy(out, body, head);
	flags |= PF_CODE_LINE_PAIRS;
	memcpy(out + 20, &flags, 4);
	for (size_t i = 0; i < n; i++) {
		struct pf_line_pair lp;

		lp.lasti = (int32_t)(uint32_t)pk->used[first + i] - 1;
		lp.line = linetable_line(pk->py_hexversion, body + head,
					 *len - head, firstlineno, lp.lasti);
		memcpy(out + head + i * sizeof lp, &lp, sizeof lp);
	}
	*len = head + n * sizeof(struct pf_line_pair);
	pk->codes_paired++;
	return out;
}

static uint64_t pack_records(struct packer *pk, const struct pf_segment_info *seg,
			     uint32_t q, uint64_t *records, uint64_t *samples)
{
	struct clock_sums mono = {0}, cpu = {0};
	uint64_t bytes = 0;
	uint32_t pos = 0;

	*records = *samples = 0;
	while (pos + 4 <= seg->len) {
		uint32_t head = rd32(seg->records + pos);
		uint32_t len = pf_head_length(head);
		unsigned type = pf_head_type(head);
		const uint8_t *body = seg->records + pos + 4;
		struct sample_fields f;
		size_t body_len;

		/* the structure walk accepted [0, len): whole records only */
		if (len < 4 || len > seg->len - pos)
			break;
		body_len = len - 4;
		if (type == PF_REC_SAMPLE &&
		    split_sample(body, body_len, &f) == 0) {
			uint64_t kd, kc;

			if (quantize(&mono, f.dt, q, &kd) != 0 ||
			    quantize(&cpu, f.dcpu, q, &kc) != 0)
				return 0;
			body_len = varint_len(kd * q) + varint_len(kc * q) +
				   varint_len(f.flags) + varint_len(f.shared) +
				   varint_len(f.count) + f.frames_len;
			buf_varint(STREAM(pk, PF_PACK_RECORDS), 0);
			buf_varint(STREAM(pk, PF_PACK_SHAPE), f.flags);
			buf_varint(STREAM(pk, PF_PACK_SHAPE), f.shared);
			buf_varint(STREAM(pk, PF_PACK_SHAPE), f.count);
			if (f.flags & PF_SAMPLE_REPEAT) {
				buf_varint(STREAM(pk, PF_PACK_SHAPE), f.repeats);
				body_len += varint_len(f.repeats);
			}
			buf_varint(STREAM(pk, PF_PACK_CPU), kc);
			buf_varint(STREAM(pk, PF_PACK_WALL),
				   zigzag((int64_t)(kd - kc)));
			buf_put(STREAM(pk, PF_PACK_FRAMES), f.frames, f.frames_len);
			*samples += f.flags & PF_SAMPLE_GAP ? 0 : 1 + f.repeats;
		} else {
			/* a record kept whole keeps its exact times, in both
			 * running sums alike */
			const uint8_t *b = type == PF_REC_CODE
				? code_body(pk, body, &body_len) : NULL;

			if (!b)
				b = body;
			buf_varint(STREAM(pk, PF_PACK_RECORDS), (uint64_t)type + 1);
			buf_varint(STREAM(pk, PF_PACK_RECORDS), body_len);
			buf_put(STREAM(pk, PF_PACK_BODIES), b, body_len);
			if (type == PF_REC_SAMPLE)
				*samples += samples_in(body, body_len);
		}
		bytes += pf_align4(4 + body_len);
		(*records)++;
		pos += (uint32_t)pf_align4(len);
	}
	return bytes;
}

static int pack_segment(void *ctx, const struct pf_segment_info *seg)
{
	struct packer *pk = ctx;
	size_t mark[PF_PACK_STREAMS];
	uint64_t bytes, records, samples;
	uint32_t q = pk->o->quantum_ns ? pk->o->quantum_ns : 1;

	for (int i = 0; i < PF_PACK_STREAMS; i++)
		mark[i] = pk->s[i].len;
	bytes = pack_records(pk, seg, q, &records, &samples);
	if (q > 1 && (bytes == 0 || bytes > pk->room)) {
		/* rounded times took more room than the chunk has, or did
		 * not fit: this segment keeps them exact */
		for (int i = 0; i < PF_PACK_STREAMS; i++)
			pk->s[i].len = mark[i];
		q = 1;
		bytes = pack_records(pk, seg, q, &records, &samples);
		pk->exact_segments++;
	}
	buf_varint(STREAM(pk, PF_PACK_SEGMENTS), seg->thread);
	buf_varint(STREAM(pk, PF_PACK_SEGMENTS), seg->tid);
	buf_varint(STREAM(pk, PF_PACK_SEGMENTS), seg->seq);
	buf_varint(STREAM(pk, PF_PACK_SEGMENTS), records);
	buf_varint(STREAM(pk, PF_PACK_SEGMENTS), bytes);
	buf_varint(STREAM(pk, PF_PACK_SEGMENTS), q);
	pk->segments++;
	pk->samples += samples;
	for (int i = 0; i < PF_PACK_STREAMS; i++)
		if (pk->s[i].oom)
			return -1;
	return 0;
}

static void pack_warning(void *ctx, const struct pf_error *w)
{
	struct packer *pk = ctx;

	if (pk->o->on_warning)
		pk->o->on_warning(pk->o->ctx, w);
}

static int write_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n) {
		ssize_t r = write(fd, b, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		b += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Compresses raw into *out (malloc'd) when that is smaller; *out stays
 * NULL for a stream stored as it is. */
static int compress_stream(ZSTD_CCtx *cc, const struct buf *raw, int level,
			   uint8_t **out, size_t *out_len, struct pf_error *err)
{
	size_t cap, n;

	*out = NULL;
	if (level <= 0 || raw->len == 0)
		return 0;
	cap = ZSTD_compressBound(raw->len);
	if (!(*out = malloc(cap))) {
		pf_set_error(err, 0, "out of memory");
		return -1;
	}
	ZSTD_CCtx_reset(cc, ZSTD_reset_session_and_parameters);
	ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, level);
	ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1);
	n = ZSTD_compress2(cc, *out, cap, raw->p, raw->len);
	if (ZSTD_isError(n)) {
		pf_set_error(err, 0, "zstd: %s", ZSTD_getErrorName(n));
		free(*out);
		*out = NULL;
		return -1;
	}
	if (n >= raw->len) {
		free(*out);
		*out = NULL;
		return 0;
	}
	*out_len = n;
	return 0;
}

int pf_pack_write(struct pf_file *f, int fd, const struct pf_pack_options *o,
		  struct pf_pack_stats *st, struct pf_error *err)
{
	const struct pf_visitor v = { .on_warning = pack_warning };
	struct packer pk;
	struct pf_pack_header h;
	struct pf_pack_stream table[PF_PACK_STREAMS];
	uint8_t *packed[PF_PACK_STREAMS] = {0};
	size_t packed_len[PF_PACK_STREAMS] = {0};
	ZSTD_CCtx *cc = NULL;
	uint64_t total;
	int rc = -1;

	memset(&pk, 0, sizeof pk);
	pk.o = o;
	pk.room = f->chunk_size - PF_CHUNK_HEADER_SIZE;
	if (o->level > 19 || (o->quantum_ns > 1000000000u)) {
		pf_set_error(err, 0, "level %d or quantum %u ns out of range",
			     o->level, o->quantum_ns);
		return -1;
	}
	buf_put(STREAM(&pk, PF_PACK_HEADER), f->base, f->header_size);
	pk.py_hexversion = f->hdr->py_hexversion;
	{
		/* the offsets the samples name, for code_body (its warnings
		 * are the next visit's too) */
		const struct pf_visitor uv = { .on_sample = used_sample };

		pf_file_visit(f, &uv, &pk);
		used_sort(&pk);
	}
	rc = pf_file_segments(f, &v, pack_segment, &pk);
	for (int i = 0; i < PF_PACK_STREAMS; i++)
		if (pk.s[i].oom)
			rc = -1;
	if (rc != 0) {
		pf_set_error(err, 0, rc < 0 ? "out of memory" : "packing stopped");
		rc = -1;
		goto out;
	}
	rc = -1;
	if (o->level > 0 && !(cc = ZSTD_createCCtx())) {
		pf_set_error(err, 0, "out of memory");
		goto out;
	}
	memset(&h, 0, sizeof h);
	memcpy(h.magic, PF_PACK_MAGIC, PF_MAGIC_LEN);
	h.version_major = PF_PACK_VERSION_MAJOR;
	h.version_minor = PF_PACK_VERSION_MINOR;
	h.byte_order = PF_BYTE_ORDER;
	h.table_size = (uint32_t)(sizeof h + sizeof table);
	h.streams = PF_PACK_STREAMS;
	h.live_size = f->size;
	h.samples = pk.samples;
	h.segments = pk.segments;
	total = h.table_size;
	for (int i = 0; i < PF_PACK_STREAMS; i++) {
		if (compress_stream(cc, &pk.s[i], o->level, &packed[i],
				    &packed_len[i], err) != 0)
			goto out;
		table[i].kind = (uint32_t)i + 1;
		table[i].method = packed[i] ? PF_PACK_ZSTD : PF_PACK_STORED;
		table[i].size = packed[i] ? packed_len[i] : pk.s[i].len;
		table[i].raw_size = pk.s[i].len;
		total += table[i].size;
	}
	if (write_all(fd, &h, sizeof h) != 0 ||
	    write_all(fd, table, sizeof table) != 0)
		goto io;
	for (int i = 0; i < PF_PACK_STREAMS; i++)
		if (write_all(fd, packed[i] ? packed[i] : pk.s[i].p,
			      (size_t)table[i].size) != 0)
			goto io;
	if (st) {
		memset(st, 0, sizeof *st);
		st->live_size = f->size;
		st->packed_size = total;
		st->samples = pk.samples;
		st->segments = pk.segments;
		st->exact_segments = pk.exact_segments;
		st->codes_paired = pk.codes_paired;
		for (int i = 0; i < PF_PACK_STREAMS; i++)
			st->stream_size[i] = table[i].size;
	}
	rc = 0;
	goto out;
io:
	pf_set_error(err, 0, "cannot write: %s", strerror(errno));
out:
	ZSTD_freeCCtx(cc);
	for (int i = 0; i < PF_PACK_STREAMS; i++) {
		free(pk.s[i].p);
		free(packed[i]);
	}
	free(pk.used);
	free(pk.scratch.p);
	return rc;
}

/* --- unpacking ----------------------------------------------------------- */

struct in_stream {
	const uint8_t *p, *end, *start;
	uint8_t *owned; /* decompressed here, or NULL: p is in the file */
	uint64_t offset; /* in the packed file */
};

struct unpacker {
	struct in_stream s[PF_PACK_STREAMS];
	struct pf_error *err;
	uint32_t segment; /* the one being rebuilt, for messages */
};

#define IN(u, kind) (&(u)->s[(kind) - 1])

static int in_fail(struct unpacker *u, int kind, const char *what)
{
	const struct in_stream *s = IN(u, kind);

	pf_set_error(u->err, s->offset, "packed stream %s at offset %llu: %s "
		     "(segment %u, byte %llu of the stream)",
		     stream_names[kind - 1], (unsigned long long)s->offset, what,
		     u->segment, (unsigned long long)(s->p - s->start));
	return -1;
}

static int in_varint(struct unpacker *u, int kind, uint64_t *v)
{
	struct in_stream *s = IN(u, kind);

	if (pf_varint_get(&s->p, s->end, v) == 0)
		return 0;
	return in_fail(u, kind, s->p >= s->end ? "ends early" : "bad varint");
}

/* A varint of stream kind, copied to *dst */
static int in_copy_varint(struct unpacker *u, int kind, uint8_t **dst)
{
	const uint8_t *from = IN(u, kind)->p;
	uint64_t v;

	if (in_varint(u, kind, &v) != 0)
		return -1;
	memcpy(*dst, from, (size_t)(IN(u, kind)->p - from));
	*dst += IN(u, kind)->p - from;
	return 0;
}

/* Decompresses stream i (at off in the packed file, described by t) into
 * memory of its own.  The output grows as the frame yields it, so a frame
 * that claims more than it holds costs only what it holds. */
static int inflate_stream(struct unpacker *u, int i, const uint8_t *src,
			  const struct pf_pack_stream *t, uint64_t off)
{
	struct in_stream *s = &u->s[i];
	ZSTD_DCtx *d;
	ZSTD_inBuffer in = { src, (size_t)t->size, 0 };
	size_t cap, pos = 0, r = 1;
	uint8_t *out;
	const char *name = stream_names[i];

	s->offset = off;
	if (t->method == PF_PACK_STORED) {
		if (t->raw_size != t->size) {
			pf_set_error(u->err, off, "stored stream %s at offset "
				     "%llu has size %llu but raw size %llu",
				     name, (unsigned long long)off,
				     (unsigned long long)t->size,
				     (unsigned long long)t->raw_size);
			return -1;
		}
		s->p = s->start = src;
		s->end = src + t->size;
		return 0;
	}
	if (t->method != PF_PACK_ZSTD) {
		pf_set_error(u->err, off, "stream %s at offset %llu: unknown "
			     "method %u", name, (unsigned long long)off, t->method);
		return -1;
	}
	if (t->raw_size >= SIZE_MAX / 2 || !(d = ZSTD_createDCtx())) {
		pf_set_error(u->err, off, "stream %s at offset %llu: out of memory",
			     name, (unsigned long long)off);
		return -1;
	}
	ZSTD_DCtx_setParameter(d, ZSTD_d_windowLogMax, PACK_WINDOW_LOG_MAX);
	/* one byte more than promised, to see a frame that holds more */
	cap = (size_t)(t->raw_size < (1u << 20) ? t->raw_size : (1u << 20)) + 1;
	out = malloc(cap);
	while (out && r != 0) {
		ZSTD_outBuffer ob = { out, cap, pos };

		r = ZSTD_decompressStream(d, &ob, &in);
		pos = ob.pos;
		if (ZSTD_isError(r) || pos > t->raw_size)
			break;
		if (r != 0 && in.pos == in.size && ob.pos < ob.size)
			break; /* the frame wants input the stream lacks */
		if (r != 0 && pos == cap) {
			size_t ncap = cap * 2 > t->raw_size + 1 ?
				(size_t)t->raw_size + 1 : cap * 2;
			uint8_t *n = realloc(out, ncap);
			if (!n) {
				free(out);
				out = NULL;
				break;
			}
			out = n;
			cap = ncap;
		}
	}
	ZSTD_freeDCtx(d);
	if (!out) {
		pf_set_error(u->err, off, "stream %s at offset %llu: out of memory",
			     name, (unsigned long long)off);
		return -1;
	}
	s->owned = out;
	if (ZSTD_isError(r) || r != 0 || pos != t->raw_size ||
	    in.pos != in.size) {
		pf_set_error(u->err, off, "stream %s at offset %llu is damaged: %s",
			     name, (unsigned long long)off,
			     ZSTD_isError(r) ? ZSTD_getErrorName(r) :
			     r != 0 ? "its zstd frame is cut short" :
			     pos != t->raw_size ? "it does not decompress to its "
						  "raw size" :
			     "bytes follow its zstd frame");
		return -1;
	}
	s->p = s->start = out;
	s->end = out + pos;
	return 0;
}

struct seg_desc {
	uint64_t thread, tid, seq, records, bytes, q;
};

static int read_segment(struct unpacker *u, uint32_t room, struct seg_desc *d)
{
	if (in_varint(u, PF_PACK_SEGMENTS, &d->thread) ||
	    in_varint(u, PF_PACK_SEGMENTS, &d->tid) ||
	    in_varint(u, PF_PACK_SEGMENTS, &d->seq) ||
	    in_varint(u, PF_PACK_SEGMENTS, &d->records) ||
	    in_varint(u, PF_PACK_SEGMENTS, &d->bytes) ||
	    in_varint(u, PF_PACK_SEGMENTS, &d->q))
		return -1;
	if (d->thread == 0 || d->thread > UINT32_MAX || d->tid > UINT32_MAX ||
	    d->seq > UINT32_MAX)
		return in_fail(u, PF_PACK_SEGMENTS, "a thread serial, tid or "
			       "seq is 0 or out of range");
	if (d->bytes < 4 || d->bytes % 4 || d->bytes > room ||
	    d->records > d->bytes / 4)
		return in_fail(u, PF_PACK_SEGMENTS, "a segment's size or record "
			       "count does not fit a chunk");
	if (d->q == 0 || d->q > 1000000000u)
		return in_fail(u, PF_PACK_SEGMENTS, "a quantum out of range");
	return 0;
}

/* Where segment d goes: a fresh chunk, or after a PF_REC_SEGMENT record in
 * the current one (*used bytes of it; 0 before the first chunk) */
static int place(uint32_t chunk_size, int segments, uint64_t *used,
		 const struct seg_desc *d)
{
	if (*used && segments &&
	    *used + sizeof(struct pf_rec_segment) + 4 + d->bytes <= chunk_size) {
		*used += sizeof(struct pf_rec_segment) + 4 + d->bytes;
		return 0;
	}
	*used = PF_CHUNK_HEADER_SIZE + d->bytes;
	return 1;
}

/* One record of segment d at *dst, which must stay below end */
static int unpack_record(struct unpacker *u, const struct seg_desc *d,
			 uint8_t **dst, uint8_t *end, uint8_t *scratch)
{
	uint64_t kind, len, flags, shared, count, repeats = 0, kc, w, kd;
	uint8_t *p = scratch, *body;
	unsigned type;

	if (in_varint(u, PF_PACK_RECORDS, &kind) != 0)
		return -1;
	if (kind == 0) {
		if (in_varint(u, PF_PACK_SHAPE, &flags) ||
		    in_varint(u, PF_PACK_SHAPE, &shared) ||
		    in_varint(u, PF_PACK_SHAPE, &count) ||
		    ((flags & PF_SAMPLE_REPEAT) &&
		     in_varint(u, PF_PACK_SHAPE, &repeats)) ||
		    in_varint(u, PF_PACK_CPU, &kc) ||
		    in_varint(u, PF_PACK_WALL, &w))
			return -1;
		if (count > PF_MAX_DEPTH)
			return in_fail(u, PF_PACK_SHAPE, "a sample deeper than "
				       "a file holds");
		kd = kc + unzigzag(w);
		p += pf_varint_put(p, kd * d->q);
		p += pf_varint_put(p, kc * d->q);
		p += pf_varint_put(p, flags);
		p += pf_varint_put(p, shared);
		p += pf_varint_put(p, count);
		for (uint64_t i = 0; i < 2 * count; i++)
			if (in_copy_varint(u, PF_PACK_FRAMES, &p) != 0)
				return -1;
		if (flags & PF_SAMPLE_REPEAT)
			p += pf_varint_put(p, repeats);
		type = PF_REC_SAMPLE;
		body = scratch;
		len = (uint64_t)(p - scratch);
	} else {
		struct in_stream *b = IN(u, PF_PACK_BODIES);

		if (kind > 256)
			return in_fail(u, PF_PACK_RECORDS, "a record type above 255");
		if (in_varint(u, PF_PACK_RECORDS, &len) != 0)
			return -1;
		if (len > (uint64_t)(b->end - b->p))
			return in_fail(u, PF_PACK_BODIES, "ends early");
		type = (unsigned)(kind - 1);
		body = (uint8_t *)b->p;
		b->p += len;
	}
	if (len + 4 > (uint64_t)(end - *dst))
		return in_fail(u, PF_PACK_RECORDS, "a segment's records run past "
			       "its size");
	if (len + 4 >= 1u << 24)
		return in_fail(u, PF_PACK_RECORDS, "a record longer than its "
			       "head can say");
	memcpy(*dst + 4, body, (size_t)len);
	memcpy(*dst, &(uint32_t){ pf_head_make(type, (uint32_t)(len + 4)) }, 4);
	*dst += pf_align4((size_t)len + 4);
	return 0;
}

/* Lays the segments out in chunks after the live header, in a mapping
 * of their size (*image, *image_size). */
static int rebuild(struct unpacker *u, const struct pf_pack_header *ph,
		   uint8_t **image, size_t *image_size)
{
	struct in_stream *hs = IN(u, PF_PACK_HEADER);
	size_t hsize = (size_t)(hs->end - hs->p);
	struct pf_header lh;
	uint64_t used = 0, nchunks = 0, size;
	uint32_t chunk_size, room;
	int segments;
	uint8_t *img, *chunk = NULL, *scratch;
	struct pf_header *out;

	/* a stored stream need not be aligned in the file */
	if (hsize >= sizeof lh)
		memcpy(&lh, hs->p, sizeof lh);
	if (hsize < PF_HEADER_SIZE || hsize % PF_HEADER_SIZE ||
	    hsize > READ_MAX_HEADER_SIZE ||
	    memcmp(lh.magic, PF_MAGIC, PF_MAGIC_LEN) || lh.header_size != hsize)
		return in_fail(u, PF_PACK_HEADER, "not the header of a pyprof file");
	chunk_size = lh.chunk_size;
	if (!pf_is_pow2(chunk_size) || chunk_size < READ_MIN_CHUNK_SIZE ||
	    chunk_size > READ_MAX_CHUNK_SIZE)
		return in_fail(u, PF_PACK_HEADER, "bad chunk size");
	room = chunk_size - PF_CHUNK_HEADER_SIZE;
	/* a version 1 file has no segments: a chunk each */
	segments = lh.version_major >= 2;

	/* where each segment goes, first: the mapping is made once */
	for (u->segment = 0; u->segment < ph->segments; u->segment++) {
		struct seg_desc d;

		if (read_segment(u, room, &d) != 0)
			return -1;
		nchunks += place(chunk_size, segments, &used, &d);
	}
	if (IN(u, PF_PACK_SEGMENTS)->p != IN(u, PF_PACK_SEGMENTS)->end)
		return in_fail(u, PF_PACK_SEGMENTS, "holds more segments than "
			       "the header says");
	if (nchunks > UINT32_MAX ||
	    nchunks > (SIZE_MAX / 2 - hsize) / chunk_size)
		return in_fail(u, PF_PACK_SEGMENTS, "too many chunks");
	size = hsize + nchunks * chunk_size;
	img = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (img == MAP_FAILED) {
		pf_set_error(u->err, 0, "cannot map %llu bytes to unpack into: %s",
			     (unsigned long long)size, strerror(errno));
		return -1;
	}
	if (!(scratch = malloc(PACK_SAMPLE_MAX))) {
		munmap(img, (size_t)size);
		pf_set_error(u->err, 0, "out of memory");
		return -1;
	}
	memcpy(img, hs->p, hsize);
	out = (struct pf_header *)img;
	out->chunks_claimed = (uint32_t)nchunks;
	out->max_size = size;

	IN(u, PF_PACK_SEGMENTS)->p = IN(u, PF_PACK_SEGMENTS)->start;
	used = 0;
	for (u->segment = 0; u->segment < ph->segments; u->segment++) {
		struct seg_desc d;
		uint8_t *dst, *end;

		read_segment(u, room, &d); /* as checked above */
		if (place(chunk_size, segments, &used, &d)) {
			struct pf_chunk_header ch = {
				PF_CHUNK_MAGIC, (uint32_t)d.thread,
				(uint32_t)d.tid, (uint32_t)d.seq,
			};
			chunk = chunk ? chunk + chunk_size : img + hsize;
			memcpy(chunk, &ch, sizeof ch);
			dst = chunk + PF_CHUNK_HEADER_SIZE;
		} else {
			struct pf_rec_segment sr = {
				(uint32_t)d.thread, (uint32_t)d.tid,
				(uint32_t)d.seq,
			};
			dst = chunk + used - d.bytes - sizeof sr - 4;
			memcpy(dst + 4, &sr, sizeof sr);
			memcpy(dst, &(uint32_t){ pf_head_make(PF_REC_SEGMENT,
							      sizeof sr + 4) }, 4);
			dst += sizeof sr + 4;
		}
		end = dst + d.bytes;
		for (uint64_t r = 0; r < d.records; r++)
			if (unpack_record(u, &d, &dst, end, scratch) != 0)
				goto fail;
		if (dst != end) {
			in_fail(u, PF_PACK_RECORDS, "a segment's records take "
				"less than its size");
			goto fail;
		}
	}
	for (int k = PF_PACK_RECORDS; k <= PF_PACK_STREAMS; k++)
		if (IN(u, k)->p != IN(u, k)->end) {
			in_fail(u, k, "has bytes left over");
			goto fail;
		}
	free(scratch);
	*image = img;
	*image_size = (size_t)size;
	return 0;
fail:
	free(scratch);
	munmap(img, (size_t)size);
	return -1;
}

int pf_pack_open_mem(const void *data, size_t size, struct pf_file **out,
		     struct pf_error *err)
{
	const uint8_t *b = data;
	struct pf_pack_header h;
	struct unpacker u;
	uint64_t off;
	uint8_t *image = NULL;
	size_t image_size = 0;
	int rc = -1;

	*out = NULL;
	memset(&u, 0, sizeof u);
	u.err = err;
	if (!pf_pack_is_packed(data, size)) {
		pf_set_error(err, 0, "not a packed pyprof file (bad magic)");
		return -1;
	}
	if (size < sizeof h) {
		pf_set_error(err, size, "packed file is cut short in its header");
		return -1;
	}
	memcpy(&h, b, sizeof h);
	if (h.byte_order != PF_BYTE_ORDER) {
		pf_set_error(err, offsetof(struct pf_pack_header, byte_order),
			     "packed file of another byte order");
		return -1;
	}
	if (h.version_major < 1 || h.version_major > PF_PACK_VERSION_MAJOR) {
		pf_set_error(err, offsetof(struct pf_pack_header, version_major),
			     "unsupported packed format version %u.%u (this "
			     "reader knows 1 to %u)", h.version_major,
			     h.version_minor, PF_PACK_VERSION_MAJOR);
		return -1;
	}
	if (h.streams != PF_PACK_STREAMS ||
	    h.table_size != sizeof h + h.streams * sizeof(struct pf_pack_stream)) {
		pf_set_error(err, offsetof(struct pf_pack_header, table_size),
			     "packed file has %u streams in a table of %u bytes "
			     "(expected %u in %zu)", h.streams, h.table_size,
			     PF_PACK_STREAMS, sizeof h + PF_PACK_STREAMS *
			     sizeof(struct pf_pack_stream));
		return -1;
	}
	if (size < h.table_size) {
		pf_set_error(err, size, "packed file is cut short in its "
			     "stream table");
		return -1;
	}
	off = h.table_size;
	for (int i = 0; i < PF_PACK_STREAMS; i++) {
		struct pf_pack_stream t;
		uint64_t at = sizeof h + (uint64_t)i * sizeof t;

		memcpy(&t, b + at, sizeof t);
		if (t.kind != (uint32_t)i + 1) {
			pf_set_error(err, at, "stream %d is of kind %u, not %s",
				     i + 1, t.kind, stream_names[i]);
			goto out;
		}
		if (t.size > size - off) {
			pf_set_error(err, size, "packed file is cut short: "
				     "stream %s at offset %llu needs %llu bytes, "
				     "%llu are left", stream_names[i],
				     (unsigned long long)off,
				     (unsigned long long)t.size,
				     (unsigned long long)(size - off));
			goto out;
		}
		if (inflate_stream(&u, i, b + off, &t, off) != 0)
			goto out;
		off += t.size;
	}
	if (off != size) {
		pf_set_error(err, off, "bytes follow the last stream (%llu)",
			     (unsigned long long)(size - off));
		goto out;
	}
	if (rebuild(&u, &h, &image, &image_size) != 0)
		goto out;
	if (pf_file_open_mem(image, image_size, out, err) != 0) {
		munmap(image, image_size);
		goto out;
	}
	(*out)->mapped = PF_MAPPED_ANON;
	rc = 0;
out:
	for (int i = 0; i < PF_PACK_STREAMS; i++)
		free(u.s[i].owned);
	return rc;
}

int pf_pack_open(const char *path, struct pf_file **out, struct pf_error *err)
{
	char magic[PF_MAGIC_LEN];
	struct stat st;
	void *map;
	int fd, rc;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    pread(fd, magic, sizeof magic, 0) != (ssize_t)sizeof magic ||
	    !pf_pack_is_packed(magic, sizeof magic)) {
		/* not packed, or not readable: the live reader says which */
		if (fd >= 0)
			close(fd);
		return pf_file_open(path, out, err);
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED) {
		pf_set_error(err, 0, "cannot map: %s", strerror(errno));
		return -1;
	}
	rc = pf_pack_open_mem(map, (size_t)st.st_size, out, err);
	munmap(map, (size_t)st.st_size);
	return rc;
}
