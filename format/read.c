/*
 * read.c - the bounds-checked reader of .pyprof files (see read.h).
 *
 * The one idea: nothing in the file is believed until it has been checked
 * against the bytes actually present.  The header is validated once at
 * open; the chunks are then walked record by record, and each record's
 * length is checked against its chunk before a byte of its body is read.
 * All multi-byte reads go through memcpy, because records are only 4-byte
 * aligned and their u64 fields need not be 8-byte aligned.
 *
 * The visit is in visit.c.  A visit makes three walks over the usable chunks, sorted by (thread serial,
 * seq): the first checks the record structure, reports threads and strings
 * and remembers where each chunk's valid records end; the second reports
 * code objects (so a consumer has every string before any code that names
 * one); the third decodes samples, up to where the first walk stopped.
 * Walks only ever move forward by at least 4 bytes, so no input can hang
 * them.  Depends on libc only.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#elif !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L /* O_CLOEXEC outside the autotools build */
#endif

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "read-int.h"

void pf_set_error(struct pf_error *e, uint64_t offset, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return;
	e->offset = offset;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
}

/* Splits the header's cmdline at NULs into a NUL-terminated copy that the
 * file owns: the mapping itself need not hold a final NUL. */
static int build_argv(struct pf_file *f)
{
	uint32_t len = f->hdr->cmdline_len, i, start = 0;
	int n = 0;

	if (len > PF_CMDLINE_MAX)
		len = PF_CMDLINE_MAX;
	f->argv_buf = malloc((size_t)len + 1);
	if (!f->argv_buf)
		return -1;
	memcpy(f->argv_buf, f->hdr->cmdline, len);
	f->argv_buf[len] = '\0';
	/* each argument ends in a NUL, but the last one may have lost its
	 * NUL to PF_FLAG_CMDLINE_TRUNCATED */
	for (i = 0; i < len; i++)
		n += f->argv_buf[i] == '\0';
	if (len > 0 && f->argv_buf[len - 1] != '\0')
		n++;
	f->argv = calloc((size_t)n + 1, sizeof(*f->argv));
	if (!f->argv)
		return -1;
	for (i = 0; i < len; i++) {
		if (f->argv_buf[i] == '\0') {
			f->argv[f->argc++] = f->argv_buf + start;
			start = i + 1;
		}
	}
	if (start < len)
		f->argv[f->argc++] = f->argv_buf + start;
	return 0;
}

/* Validates the header of [data, data+size) into f.  Messages name the
 * offset of the offending field. */
static int check_header(struct pf_file *f, struct pf_error *err)
{
	static const uint8_t le_order[4] = { 0x04, 0x03, 0x02, 0x01 };
	static const uint8_t be_order[4] = { 0x01, 0x02, 0x03, 0x04 };
	const uint8_t *b = f->base;
	const struct pf_header *h;
	uint64_t room, present;
	uint32_t native = PF_BYTE_ORDER;

	if (f->size == 0) {
		pf_set_error(err, 0, "file is empty");
		return -1;
	}
	if (f->size < PF_MAGIC_LEN) {
		if (memcmp(b, PF_MAGIC, f->size) == 0)
			pf_set_error(err, f->size,
				  "file is cut short in the magic (%u bytes)",
				  (unsigned)f->size);
		else
			pf_set_error(err, 0, "not a pyprof file (bad magic)");
		return -1;
	}
	if (memcmp(b, PF_MAGIC, PF_MAGIC_LEN) != 0) {
		pf_set_error(err, 0, "not a pyprof file (bad magic)");
		return -1;
	}
	if (f->size < PF_HEADER_SIZE) {
		pf_set_error(err, f->size,
			  "file is cut short in the header (%u of %u bytes)",
			  (unsigned)f->size, PF_HEADER_SIZE);
		return -1;
	}
	h = (const struct pf_header *)b;
	/* The byte order is checked before the version: in a big-endian
	 * file the version would read as 256 and mislead. */
	if (memcmp(&h->byte_order, &native, 4) != 0) {
		const uint8_t *o = b + offsetof(struct pf_header, byte_order);
		if (memcmp(o, be_order, 4) == 0)
			pf_set_error(err, offsetof(struct pf_header, byte_order),
				  "big-endian file: only little-endian files "
				  "are supported");
		else if (memcmp(o, le_order, 4) == 0)
			pf_set_error(err, offsetof(struct pf_header, byte_order),
				  "little-endian file: this reader runs on a "
				  "big-endian host and reads native order only");
		else
			pf_set_error(err, offsetof(struct pf_header, byte_order),
				  "bad byte order mark %02x %02x %02x %02x",
				  o[0], o[1], o[2], o[3]);
		return -1;
	}
	if (h->version_major < PF_VERSION_MAJOR_MIN ||
	    h->version_major > PF_VERSION_MAJOR) {
		pf_set_error(err, offsetof(struct pf_header, version_major),
			  "unsupported format version %u.%u (this reader "
			  "knows major versions %u to %u)",
			  h->version_major, h->version_minor,
			  PF_VERSION_MAJOR_MIN, PF_VERSION_MAJOR);
		return -1;
	}
	if (h->header_size < PF_HEADER_SIZE ||
	    h->header_size > READ_MAX_HEADER_SIZE ||
	    h->header_size % PF_HEADER_SIZE != 0) {
		pf_set_error(err, offsetof(struct pf_header, header_size),
			  "bad header size %u (expected %u)", h->header_size,
			  PF_HEADER_SIZE);
		return -1;
	}
	if (!pf_is_pow2(h->chunk_size) || h->chunk_size < READ_MIN_CHUNK_SIZE ||
	    h->chunk_size > READ_MAX_CHUNK_SIZE) {
		pf_set_error(err, offsetof(struct pf_header, chunk_size),
			  "bad chunk size %u (not a power of two between "
			  "%u and %u)", h->chunk_size, READ_MIN_CHUNK_SIZE,
			  READ_MAX_CHUNK_SIZE);
		return -1;
	}
	if (f->size < h->header_size) {
		pf_set_error(err, f->size,
			  "file is cut short in the header (%u of %u bytes)",
			  (unsigned)f->size, h->header_size);
		return -1;
	}
	f->hdr = h;
	f->header_size = h->header_size;
	f->chunk_size = h->chunk_size;
	/* A cut-short last chunk still counts: it decodes as far as it goes,
	 * and the visit warns about it. */
	room = f->size - h->header_size;
	present = (room + h->chunk_size - 1) / h->chunk_size;
	f->chunks = present < h->chunks_claimed ? (uint32_t)present
						 : h->chunks_claimed;
	if (build_argv(f) != 0) {
		pf_set_error(err, 0, "out of memory");
		return -1;
	}
	return 0;
}

int pf_file_open_mem(const void *data, size_t size, struct pf_file **out,
		     struct pf_error *err)
{
	struct pf_file *f;

	*out = NULL;
	if (size > 0 && ((uintptr_t)data & 7u) != 0) {
		pf_set_error(err, 0, "buffer is not 8-byte aligned");
		return -1;
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		pf_set_error(err, 0, "out of memory");
		return -1;
	}
	f->base = data;
	f->size = size;
	if (check_header(f, err) != 0) {
		pf_file_close(f);
		return -1;
	}
	*out = f;
	return 0;
}

int pf_file_open(const char *path, struct pf_file **out,
		 struct pf_error *err)
{
	struct stat st;
	void *map;
	int fd;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		pf_set_error(err, 0, "cannot open: %s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0) {
		pf_set_error(err, 0, "cannot stat: %s", strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		pf_set_error(err, 0, "not a regular file");
		close(fd);
		return -1;
	}
	if (st.st_size == 0) {
		pf_set_error(err, 0, "file is empty");
		close(fd);
		return -1;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED) {
		pf_set_error(err, 0, "cannot map: %s", strerror(errno));
		return -1;
	}
	if (pf_file_open_mem(map, (size_t)st.st_size, out, err) != 0) {
		munmap(map, (size_t)st.st_size);
		return -1;
	}
	(*out)->mapped = PF_MAPPED_FILE;
	return 0;
}

void pf_file_close(struct pf_file *f)
{
	if (!f)
		return;
	if (f->mapped)
		munmap((void *)f->base, (size_t)f->size);
	free(f->argv_buf);
	free(f->argv);
	free(f);
}

const struct pf_header *pf_file_header(const struct pf_file *f)
{
	return f->hdr;
}

uint64_t pf_file_size(const struct pf_file *f) { return f->size; }

const void *pf_file_data(const struct pf_file *f) { return f->base; }

uint32_t pf_file_chunks(const struct pf_file *f) { return f->chunks; }

const char *const *pf_file_argv(const struct pf_file *f, int *argc)
{
	if (argc)
		*argc = f->argc;
	return f->argv;
}

const struct pf_visit_stats *pf_file_stats(const struct pf_file *f)
{
	return &f->stats;
}
