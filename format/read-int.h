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

struct pf_file {
	const uint8_t *base;
	uint64_t size;
	int mapped;            /* base is our mmap, unmap on close */
	const struct pf_header *hdr;
	uint32_t header_size, chunk_size;
	uint32_t chunks;       /* chunks (whole or partial) present */
	char *argv_buf;
	const char **argv;
	int argc;
	struct pf_visit_stats stats;
};

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
