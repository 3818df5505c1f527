/*
 * pack.h - packed .pyprof files: a finished file's records, small at rest.
 *
 * A live file is laid out for a signal handler: 64 KiB chunks claimed whole,
 * records padded to 4 bytes, nanosecond deltas.  At rest none of that is
 * needed.  A packed file keeps every record of the live file that the reader
 * accepts, byte for byte (a sample's times only to the quantum asked for,
 * 1 ns by default; a code record's line table as the lines of the offsets
 * the file's samples name, PF_CODE_LINE_PAIRS in format.h, where that is
 * smaller), without chunks or padding, its fields sorted into
 * streams of like values, each compressed with zstd.  Reading it rebuilds a
 * live file in memory, records laid out in chunks again, and reads that with
 * the ordinary reader, which checks it as it checks any file.
 *
 * The one idea: one stream per kind of value (flags, CPU time, frames...),
 * so that zstd sees runs of alike bytes, not one sample after another.
 *
 * Layout (little-endian):
 *
 *   offset 0         struct pf_pack_header
 *   48               struct pf_pack_stream, `streams` of them
 *   48 + 24*streams  each stream's bytes, in table order, back to back; the
 *                    file ends with the last one
 *
 * A stream is stored (method 0) or one zstd frame (method 1, with its
 * content size and checksum) that decompresses to raw_size bytes.  Version
 * 2.0 has the eight streams below, in this order; a reader refuses others.
 * (1.0 is the same without line pairs, and is read too; 2.0 keeps readers
 * that do not know line pairs from reading them as line tables.)
 * All values in streams are varints as in format.h; zigzag(v) is
 * (v << 1) ^ (v >> 63) of the signed 64-bit v.
 *
 *   1 HEADER    the live file's header, as it was (header_size bytes); a
 *               reader rebuilds the chunks and sets chunks_claimed and
 *               max_size to fit them
 *   2 SEGMENTS  per segment (a chunk's, or a PF_REC_SEGMENT's records, in
 *               the reader's order: by thread serial, then seq): thread,
 *               tid, seq; records; bytes (its records laid out, heads and
 *               padding included, at most chunk_size - 16); quantum (ns;
 *               its samples' times in the columns are in this unit)
 *   3 RECORDS   per record of each segment: 0, a sample in the columns
 *               below; or type + 1, a record kept whole, then its body's
 *               length (the body is in BODIES)
 *   4 BODIES    the bodies of the records kept whole, back to back
 *   5 SHAPE     per sample in the columns: flags, shared, count, and with
 *               PF_SAMPLE_REPEAT in flags its repeats (format 2.4)
 *   6 CPU       per sample: dcpu / quantum
 *   7 WALL      per sample: zigzag(dt / quantum - dcpu / quantum)
 *   8 FRAMES    per sample: count x {code_id, lasti_plus_1}
 *
 * A sample goes to the columns when its body is exactly its five varints
 * and its frames, each in its shortest form, so that it comes back as it
 * was; any other record is kept whole.  The streams of a packed file must
 * be used up exactly by its segments.
 *
 * With a quantum q above 1, each sample's dt and dcpu become multiples of
 * q chosen so that their running sums stay within q/2 of the true ones:
 * every timestamp moves by less than q/2, and a thread's totals too.  A
 * segment that would not fit its chunk that way, or whose deltas are out
 * of range, is packed with quantum 1.
 */
#ifndef PYPROF_PACK_H
#define PYPROF_PACK_H

#include <stddef.h>
#include <stdint.h>

#include "read.h"

#define PF_PACK_MAGIC "\x7fPYPACK\n"
#define PF_PACK_VERSION_MAJOR 2
#define PF_PACK_VERSION_MINOR 0

enum pf_pack_kind {
	PF_PACK_HEADER = 1,
	PF_PACK_SEGMENTS = 2,
	PF_PACK_RECORDS = 3,
	PF_PACK_BODIES = 4,
	PF_PACK_SHAPE = 5,
	PF_PACK_CPU = 6,
	PF_PACK_WALL = 7,
	PF_PACK_FRAMES = 8,
	PF_PACK_STREAMS = 8,
};

enum pf_pack_method {
	PF_PACK_STORED = 0,
	PF_PACK_ZSTD = 1,
};

struct pf_pack_header {
	char magic[8];          /* 0  PF_PACK_MAGIC */
	uint16_t version_major; /* 8  a reader refuses a major it does not know */
	uint16_t version_minor; /* 10 */
	uint32_t byte_order;    /* 12 PF_BYTE_ORDER */
	uint32_t table_size;    /* 16 48 + 24 * streams: where streams begin */
	uint32_t streams;       /* 20 */
	uint64_t live_size;     /* 24 bytes of the live file packed */
	uint64_t samples;       /* 32 samples in it, as the reader counts them */
	uint32_t segments;      /* 40 */
	uint32_t flags;         /* 44 0 */
};

struct pf_pack_stream {
	uint32_t kind;     /* enum pf_pack_kind */
	uint32_t method;   /* enum pf_pack_method */
	uint64_t size;     /* bytes in the packed file */
	uint64_t raw_size; /* bytes once decompressed */
};

_Static_assert(sizeof(struct pf_pack_header) == 48, "pack header");
_Static_assert(sizeof(struct pf_pack_stream) == 24, "pack stream");

/* Whether the size bytes at data begin like a packed file. */
int pf_pack_is_packed(const void *data, size_t size);

struct pf_pack_options {
	int level;                /* zstd level 1..19; 0 stores every stream */
	uint32_t quantum_ns;      /* 1: times exact */
	/* what the reader finds wrong with the live file: pack keeps what
	 * reads, and says what does not */
	void (*on_warning)(void *ctx, const struct pf_error *w);
	void *ctx;
};

struct pf_pack_stats {
	uint64_t live_size, packed_size;
	uint64_t samples;
	uint32_t segments;
	uint32_t exact_segments; /* packed with quantum 1 although asked more */
	uint32_t codes_paired;   /* code records packed with line pairs */
	uint64_t stream_size[PF_PACK_STREAMS]; /* packed bytes, by kind - 1 */
};

/*
 * Packs the open live file f into fd (written from its current offset
 * on), as the options say.  Returns 0 and fills st (if not NULL), or -1
 * with err (the offset then is f's, or 0).
 */
int pf_pack_write(struct pf_file *f, int fd, const struct pf_pack_options *o,
		  struct pf_pack_stats *st, struct pf_error *err);

/*
 * Opens path, live or packed: a live file as pf_file_open() does, a packed
 * one unpacked into memory of its own (released by pf_file_close).  Errors
 * about a packed file's container name the offset in it; the reader's
 * warnings about its records name the offset in the live file rebuilt.
 */
int pf_pack_open(const char *path, struct pf_file **out, struct pf_error *err);

/* The same on the bytes of a packed file in memory; data is only read
 * during the call. */
int pf_pack_open_mem(const void *data, size_t size, struct pf_file **out,
		     struct pf_error *err);

#endif
