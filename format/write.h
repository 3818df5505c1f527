/*
 * write.h - appending to a .pyprof file from a signal handler.
 *
 * pf_writer_create() and pf_writer_close() run in ordinary context (they
 * open, map and unmap).  Everything else here is async-signal-safe: it
 * touches only memory mapped up front, uses lock-free atomics, and makes
 * plain system calls (fallocate, pwrite, fstatfs) without locks or
 * allocation, so a sampling handler may call it at any instant.
 *
 * Space: the whole size bound is mapped once (MAP_SHARED) but the file only
 * grows a chunk at a time, and a chunk is used only after its blocks were
 * really allocated.  So a full disk or the size bound turns into counted
 * drops, never into SIGBUS; and the writer leaves PF_RESERVE_BYTES free on
 * the file system for everyone else.
 *
 * Threads that come and go: a thread that ends gives the unused rest of its
 * chunk back (pf_writer_give_back), and a new thread's first records go
 * there, after a PF_REC_SEGMENT record, before it claims a chunk of its
 * own.  The rests wait in a small lock-free table in struct pf_writer: a
 * rest that finds the table full is left unused, which costs space only.
 */
#ifndef PYPROF_WRITE_H
#define PYPROF_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "format.h"

/* Chunk rests kept for new threads, and the smallest worth keeping (a
 * segment and thread record, and some samples) */
#define PF_WRITER_RESTS 64
#define PF_REST_MIN 2048u

/* Space the writer leaves free on the file system */
#define PF_RESERVE_BYTES (64ull << 20)

struct pf_writer {
	int fd;
	struct pf_header *hdr; /* the mapping; hdr is at its start */
	uint64_t map_size;
	uint32_t max_chunks;
	int full; /* sticky: no more chunks will be had */
	uint64_t dev, ino; /* the file, to notice fd being closed and reused */
	uintptr_t page_size;
	int lost; /* sticky: the file lost pages under the mapping (truncated) */
	/* atomic: the end of the furthest chunk allocated so far; the file is
	 * at least this long unless something truncated it */
	uint64_t allocated_end;
	/* rests of chunks given back, each (chunk index + 1) << 32 | offset
	 * of the rest; 0 = empty slot */
	uint64_t rests[PF_WRITER_RESTS];
};

/* A thread's place in its current chunk.  Owned by one thread. */
struct pf_cursor {
	uint8_t *chunk; /* NULL until the first chunk is claimed */
	uint32_t pos;   /* next free byte in the chunk */
	uint32_t thread, tid, seq;
};

/*
 * Creates path (O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600), maps max_size bytes
 * of it and writes a header with magic, versions, sizes and state WRITING;
 * the caller fills in the rest of the header.  Returns 0, or -1 with errno
 * set (EEXIST when the file exists) and a reason in err.
 */
int pf_writer_create(struct pf_writer *w, const char *path, uint64_t max_size,
		     char *err, size_t err_len);

/* Unmaps and closes; the file stays as it is. */
void pf_writer_close(struct pf_writer *w);

/* Async-signal-safe.  Claims a fresh chunk for c's thread and writes its
 * chunk header (c->seq counts up); a thread's first chunk (c->chunk NULL)
 * is the rest of one given back, when there is one, opened with a
 * PF_REC_SEGMENT record.  Either way the caller writes the thread record
 * next.  Returns 0, or -1 when no space can be had (the writer is then
 * full for good). */
int pf_writer_next_chunk(struct pf_writer *w, struct pf_cursor *c);

/* Async-signal-safe.  c's thread has written its last record: the rest of
 * its chunk, if worth it, is kept for a new thread.  c then writes no more
 * into that chunk (a later record would open the thread's next one). */
void pf_writer_give_back(struct pf_writer *w, struct pf_cursor *c);

/* Async-signal-safe.  Where a record of body_len bytes would go in c's
 * current chunk, or NULL if it does not fit there. */
static inline uint8_t *pf_cursor_space(const struct pf_cursor *c,
				       size_t body_len)
{
	if (!c->chunk || c->pos + 4 + body_len > PF_CHUNK_SIZE)
		return NULL;
	return c->chunk + c->pos + 4;
}

/* Async-signal-safe.  Commits the record whose body was written at
 * pf_cursor_space(c, ...): its head is stored last, with release order, so
 * a reader that sees the head sees the body. */
static inline void pf_cursor_commit(struct pf_cursor *c, unsigned type,
				    size_t body_len)
{
	uint32_t len = (uint32_t)(4 + body_len);
	__atomic_store_n((uint32_t *)(c->chunk + c->pos),
			 pf_head_make(type, len), __ATOMIC_RELEASE);
	c->pos += (uint32_t)pf_align4(len);
}

/* Async-signal-safe counters in the header */
static inline void pf_count_drop(struct pf_writer *w, enum pf_drop why)
{
	__atomic_fetch_add(&w->hdr->dropped[why], 1, __ATOMIC_RELAXED);
}

/*
 * Async-signal-safe, for a SIGBUS handler.  If addr lies in w's mapping
 * (the file was truncated under it: a copy-truncate rotation, `truncate`),
 * puts anonymous memory in place of the pages from addr's to the end, so
 * that the faulting store succeeds when retried, and stops recording for
 * good.  Returns 1 then, 0 if addr is not the writer's.
 */
int pf_writer_fault(struct pf_writer *w, const void *addr);

/*
 * Async-signal-safe.  Moves fd (one of pyprof's own) out of the numbers a
 * program expects to get from open(): to the upper half of the soft
 * RLIMIT_NOFILE (at most from 1024 up), close-on-exec.  Returns the new
 * descriptor, or -1 (fd closed) when there is no room there.
 */
int pf_fd_high(int fd);
/* Where that upper range begins */
int pf_fd_high_base(void);

/* Async-signal-safe.  Marks the file complete with a reason; idempotent
 * (the first caller wins).  pf_writer_unfinish() undoes it, for an exec
 * that failed. */
void pf_writer_finish(struct pf_writer *w, enum pf_end_reason why, int sig);
void pf_writer_unfinish(struct pf_writer *w);

#endif
