/*
 * read-int.h - what the two halves of the reader share: read.c opens a
 * file and checks its header, visit.c walks its chunks.  Not for anyone
 * else: the rest of pyprof sees read.h only.
 */
#ifndef PYPROF_READ_INT_H
#define PYPROF_READ_INT_H

#include <stdint.h>
#include <string.h>

#include "read.h"

/* Bounds on header fields beyond which a file is not believed. */
#define READ_MAX_HEADER_SIZE (1u << 20)
#define READ_MIN_CHUNK_SIZE 4096u
#define READ_MAX_CHUNK_SIZE (1u << 30)

enum { PF_MAPPED_FILE = 1, PF_MAPPED_ANON = 2 };

static inline int pf_is_pow2(uint32_t v) { return v && !(v & (v - 1)); }

struct pf_file {
	const uint8_t *base;
	uint64_t size;
	/* base is our mmap, unmapped on close: PF_MAPPED_FILE, or
	 * PF_MAPPED_ANON for a packed file's rebuilt image, whose pages are
	 * the only copy of its bytes (never to be dropped, see visit.c) */
	int mapped;
	const struct pf_header *hdr;
	uint32_t header_size, chunk_size;
	uint32_t chunks;       /* chunks (whole or partial) present */
	char *argv_buf;
	const char **argv;
	int argc;
	struct pf_visit_stats stats;
	int threads; /* pf_file_set_threads: 0 (choose), 1 or 2 */
};

/* Fills e (if not NULL) with offset and a message */
void pf_set_error(struct pf_error *e, uint64_t offset, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Unaligned little-endian loads: records are only 4-byte aligned. */
static inline uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint64_t rd64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

#endif
