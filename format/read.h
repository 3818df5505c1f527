/*
 * read.h - a reader of .pyprof files that trusts nothing in them.
 *
 * The file is mapped read-only and every field is checked against the
 * file's real size before use.  Decoding is a visit: pf_file_visit() calls
 * back for threads, strings, code objects and samples, with each sample's
 * stack already expanded (the shared-prefix compression undone) and its
 * times made absolute.  Depends on libc only, so the collector wraps its
 * errors in GError and the tests can use it without GLib.
 *
 * Damage is of two kinds.  A file that is not a pyprof file, or whose
 * header is unusable, fails pf_file_open() with an error naming the offset.
 * Damage after the header (a torn record, an impossible length, a chunk cut
 * short by truncation) ends the decoding of that chunk only: the visit goes
 * on with the other chunks and reports each problem through on_warning
 * with the byte offset, so a cut-short file still yields its valid part.
 */
#ifndef PYPROF_READ_H
#define PYPROF_READ_H

#include <stddef.h>
#include <stdint.h>

#include "format.h"

struct pf_error {
	uint64_t offset; /* byte offset in the file the problem was found at */
	char msg[256];   /* lowercase, no file name (the caller adds it) */
};

struct pf_file;

/* Opens and maps path, validates the header.  On success *out owns the
 * mapping (release with pf_file_close) and 0 is returned; on failure -1 and
 * err is filled. */
int pf_file_open(const char *path, struct pf_file **out, struct pf_error *err);
/* The same on bytes already in memory (a test, or a file read another way).
 * data must be 8-byte aligned and stay valid and unchanged until
 * pf_file_close, which does not free it.  A buffer of exactly the file's
 * size lets AddressSanitizer catch any read past the end, which a page of
 * mapping would hide. */
int pf_file_open_mem(const void *data, size_t size, struct pf_file **out,
		     struct pf_error *err);
void pf_file_close(struct pf_file *f);

/* The header as read (points into the mapping, valid until close). */
const struct pf_header *pf_file_header(const struct pf_file *f);
uint64_t pf_file_size(const struct pf_file *f);
/* The bytes read: the file's mapping, or what f was opened on (valid
 * until close); pf_file_size of them. */
const void *pf_file_data(const struct pf_file *f);
/* Chunks present in the file (bounded by both the header and the size). */
uint32_t pf_file_chunks(const struct pf_file *f);
/* argv of the profiled command, split at NULs; *argc set.  The array is
 * owned by f. */
const char *const *pf_file_argv(const struct pf_file *f, int *argc);

struct pf_thread_info {
	uint32_t thread; /* process-wide serial */
	uint32_t tid;
	uint32_t flags;  /* PF_THREAD_* */
	uint64_t pthread;
	const char *name; /* not NUL-terminated; name_len bytes; may be 0 */
	uint32_t name_len;
};

struct pf_thread_name {
	uint32_t tid;
	uint64_t pthread;
	uint64_t mono_ns;
	const char *name; /* not NUL-terminated */
	uint32_t name_len;
};

struct pf_mark {
	uint32_t thread; /* serial of the thread that made it */
	uint64_t mono_ns;
	uint32_t kind;   /* enum pf_mark_kind */
	const char *label; /* not NUL-terminated */
	uint32_t label_len;
};

struct pf_code_info {
	uint32_t id;
	uint32_t filename, name, qualname; /* string ids; qualname may be 0 */
	int32_t firstlineno;
	uint32_t flags;
	const uint8_t *linetable;
	uint32_t linetable_len;
};

/* PF_REC_NATIVE: a frame id naming a native address (2.1) */
struct pf_native_info {
	uint32_t id;
	uint64_t address;
};

/* PF_REC_OBJECT (2.1) */
struct pf_object_info {
	uint64_t mono_ns;
	uint64_t bias, lo, hi;
	const char *path;        /* not NUL-terminated; path_len bytes */
	uint32_t path_len;
	const uint8_t *build_id; /* build_id_len bytes, may be 0 */
	uint32_t build_id_len;
};

struct pf_frame {
	uint32_t code_id;
	int32_t lasti; /* byte offset of the instruction, -1 if not started */
};

struct pf_sample {
	uint32_t thread;   /* serial, as in pf_thread_info */
	uint64_t mono_ns;  /* absolute CLOCK_MONOTONIC */
	uint64_t cpu_ns;   /* CPU time this sample stands for */
	uint64_t wall_ns;  /* wall time since this thread's previous sample */
	uint32_t flags;    /* PF_SAMPLE_*; never PF_SAMPLE_REPEAT: a repeated
			    * sample comes as the samples it stands for */
	uint32_t depth;
	uint32_t shared; /* frames[0, shared) equal the previous sample's of
			  * the same thread (0 after a chunk boundary) */
	const struct pf_frame *frames; /* root first; valid during the call */
};

/* Return non-zero from a callback to stop the visit (pf_file_visit then
 * returns that value). Any callback may be NULL. */
struct pf_visitor {
	int (*on_thread)(void *ctx, const struct pf_thread_info *t);
	int (*on_string)(void *ctx, uint32_t id, const char *s, uint32_t len);
	int (*on_code)(void *ctx, const struct pf_code_info *c);
	int (*on_sample)(void *ctx, const struct pf_sample *s);
	void (*on_warning)(void *ctx, const struct pf_error *w);
	/* PF_REC_THREAD_NAME records, in the first pass (see format.h for
	 * which thread a name belongs to) */
	int (*on_thread_name)(void *ctx, const struct pf_thread_name *n);
	/* PF_REC_MARK records, in the first pass, with the chunk's thread */
	int (*on_mark)(void *ctx, const struct pf_mark *m);
	/* PF_REC_OBJECT records, in the first pass (2.1) */
	int (*on_object)(void *ctx, const struct pf_object_info *o);
	/* PF_REC_NATIVE records, with the codes: a sample's frame whose
	 * code_id is a native id is that native address (2.1) */
	int (*on_native)(void *ctx, const struct pf_native_info *n);
};

/*
 * Visits the whole file in this order: every PF_REC_THREAD, PF_REC_STRING
 * and PF_REC_CODE of every chunk first (so ids are known before use), then
 * the samples, thread by thread in serial order, each thread's chunks in
 * seq order.  on_thread is called once per thread serial (its first chunk's
 * record).  Returns 0, or what a callback returned to stop.
 *
 * More precisely, the first part is itself two walks: threads and strings
 * of every chunk, then codes of every chunk, so every string a code names
 * has been seen when on_code is called (file order alone would not give
 * that: a code in chunk 3 may name a string another thread wrote to chunk
 * 5).  The linetable and name pointers point into the file and stay valid
 * until pf_file_close.  Returns -1 (after an "out of memory" warning) if
 * the visit's own bookkeeping cannot be allocated.
 */
int pf_file_visit(struct pf_file *f, const struct pf_visitor *v, void *ctx);

/* A thread's run of records: a chunk, or one segment of a chunk (2.0),
 * as far as the structure walk accepted it. */
struct pf_segment_info {
	uint32_t thread, tid, seq; /* as in the chunk header or PF_REC_SEGMENT */
	uint64_t offset;           /* file offset of its first record */
	const uint8_t *records;    /* its records as in the file: each head,
				    * body and padding to 4 bytes; points
				    * into f, valid until pf_file_close */
	uint32_t len;              /* bytes of whole records there */
};

/*
 * The first walk of pf_file_visit only (threads, strings, names, marks
 * and objects to v's callbacks, damage to on_warning), then fn for each
 * segment that holds at least its thread record, in the order the visit
 * decodes samples: by thread serial, each thread's in seq order.  For
 * copying a file's records as they are (pyprof pack).  Returns 0, what a
 * callback returned to stop, or -1 (warned) when out of memory.
 */
int pf_file_segments(struct pf_file *f, const struct pf_visitor *v,
		     int (*fn)(void *ctx, const struct pf_segment_info *s),
		     void *ctx);

/*
 * How many threads pf_file_visit decodes with: 1, the caller's only; 2,
 * the samples decoded on a second thread while the caller's takes them
 * (every callback still runs on the caller's thread, in the same order,
 * with the same arguments); 0 (the default), 2 for a file of more than a
 * few chunks when the process may run on two CPUs, else 1.  The second
 * thread blocks every signal.  Any other value is taken as 0.
 */
void pf_file_set_threads(struct pf_file *f, int threads);

/* Counts kept by the last visit */
struct pf_visit_stats {
	uint64_t samples;
	uint64_t records_skipped;   /* unknown types, skipped by length */
	uint64_t chunks_damaged;    /* chunks whose decoding stopped early */
	uint64_t frames_unresolved; /* samples naming an unknown code id */
};
const struct pf_visit_stats *pf_file_stats(const struct pf_file *f);

#endif
