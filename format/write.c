/*
 * write.c - the writer's side of format.h.
 *
 * Only pf_writer_create/close may allocate or open files; the rest is
 * called from the sampling signal handler and keeps to atomics, stores and
 * raw system calls.  See write.h for the space rules.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "encode.h"
#include "write.h"

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Gives [off, off+len) real blocks.  fallocate is exact and cheap; where a
 * file system lacks it, writing zeros allocates just as surely.  Either way
 * ENOSPC comes back here as an error, not later as SIGBUS. */
static int allocate(int fd, uint64_t off, uint64_t len)
{
	static const uint8_t zeros[4096];

	if (fallocate(fd, 0, (off_t)off, (off_t)len) == 0)
		return 0;
	if (errno != EOPNOTSUPP && errno != ENOSYS)
		return -1;
	for (uint64_t done = 0; done < len;) {
		size_t n = len - done < sizeof zeros ? (size_t)(len - done)
						     : sizeof zeros;
		ssize_t r = pwrite(fd, zeros, n, (off_t)(off + done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		done += (uint64_t)r;
	}
	return 0;
}

/* Growing a file past RLIMIT_FSIZE raises SIGXFSZ, which kills a program
 * that set it back to the default (Python ignores it; a program that
 * manages its own file sizes may not).  So the limit is a bound like the
 * disk's: checked first, and a chunk it would cut is never asked for. */
static int under_fsize_limit(uint64_t end)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_FSIZE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return 1;
	return end <= (uint64_t)rl.rlim_cur;
}

int pf_fd_high_base(void)
{
	struct rlimit rl;
	long base = 512;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		base = (long)(rl.rlim_cur / 2);
	/* Far beyond 1024 the kernel's descriptor table would grow to the
	 * number for nothing: programs count on low numbers, not on these. */
	return base > 1024 ? 1024 : (int)base;
}

int pf_fd_high(int fd)
{
	int base = pf_fd_high_base(), hi;

	if (fd >= base)
		return fd;
	hi = fcntl(fd, F_DUPFD_CLOEXEC, base);
	close(fd);
	return hi;
}

/* Leaves PF_RESERVE_BYTES for the rest of the system. */
static int space_left(int fd, uint64_t want)
{
	struct statfs sf;

	if (fstatfs(fd, &sf) != 0)
		return 1; /* cannot tell: let allocate() decide */
	return (uint64_t)sf.f_bavail * (uint64_t)sf.f_bsize >=
	       want + PF_RESERVE_BYTES;
}

int pf_writer_create(struct pf_writer *w, const char *path, uint64_t max_size,
		     char *err, size_t err_len)
{
	int fd, saved;
	void *map;

	memset(w, 0, sizeof *w);
	w->fd = -1;
	if (max_size < PF_HEADER_SIZE + PF_CHUNK_SIZE) {
		snprintf(err, err_len, "size bound %llu is below one chunk",
			 (unsigned long long)max_size);
		errno = EINVAL;
		return -1;
	}
	w->max_chunks = (uint32_t)((max_size - PF_HEADER_SIZE) / PF_CHUNK_SIZE);
	w->map_size = PF_HEADER_SIZE + (uint64_t)w->max_chunks * PF_CHUNK_SIZE;

	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0) {
		saved = errno;
		snprintf(err, err_len, "cannot create %s: %s", path,
			 strerror(saved));
		errno = saved;
		return -1;
	}
	if ((fd = pf_fd_high(fd)) < 0) {
		saved = errno;
		snprintf(err, err_len, "no descriptor for %s: %s", path,
			 strerror(saved));
		unlink(path);
		errno = saved;
		return -1;
	}
	if (!under_fsize_limit(PF_HEADER_SIZE + PF_CHUNK_SIZE)) {
		saved = EFBIG;
		snprintf(err, err_len,
			 "RLIMIT_FSIZE leaves no room for %s", path);
		goto fail;
	}
	if (!space_left(fd, PF_HEADER_SIZE) ||
	    allocate(fd, 0, PF_HEADER_SIZE) != 0) {
		saved = errno ? errno : ENOSPC;
		snprintf(err, err_len, "no space for %s", path);
		goto fail;
	}
	map = mmap(NULL, w->map_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		   0);
	if (map == MAP_FAILED) {
		saved = errno;
		snprintf(err, err_len, "cannot map %s: %s", path,
			 strerror(saved));
		goto fail;
	}
	w->fd = fd;
	w->hdr = map;
	w->allocated_end = PF_HEADER_SIZE;
	w->page_size = (uintptr_t)sysconf(_SC_PAGESIZE);
	{
		struct stat st;
		if (fstat(fd, &st) == 0) {
			w->dev = (uint64_t)st.st_dev;
			w->ino = (uint64_t)st.st_ino;
		}
	}
	memcpy(w->hdr->magic, PF_MAGIC, PF_MAGIC_LEN);
	w->hdr->version_major = PF_VERSION_MAJOR;
	w->hdr->version_minor = PF_VERSION_MINOR;
	w->hdr->byte_order = PF_BYTE_ORDER;
	w->hdr->header_size = PF_HEADER_SIZE;
	w->hdr->chunk_size = PF_CHUNK_SIZE;
	w->hdr->max_size = w->map_size;
	w->hdr->state = PF_STATE_WRITING;
	return 0;
fail:
	close(fd);
	unlink(path);
	errno = saved;
	return -1;
}

void pf_writer_close(struct pf_writer *w)
{
	struct pf_header *h = w->hdr;

	/* unpublished before it goes: a late pf_writer_finish (a signal's
	 * death, in another thread) then finds no file */
	__atomic_store_n(&w->hdr, NULL, __ATOMIC_RELEASE);
	if (h)
		munmap(h, w->map_size);
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
}

void pf_writer_give_back(struct pf_writer *w, struct pf_cursor *c)
{
	uint64_t idx, rest;

	if (!c->chunk || c->pos + PF_REST_MIN > PF_CHUNK_SIZE ||
	    __atomic_load_n(&w->lost, __ATOMIC_RELAXED))
		return;
	idx = (uint64_t)(c->chunk - (uint8_t *)w->hdr - PF_HEADER_SIZE) /
	      PF_CHUNK_SIZE;
	rest = (idx + 1) << 32 | c->pos;
	for (unsigned i = 0; i < PF_WRITER_RESTS; i++) {
		uint64_t empty = 0;
		if (__atomic_compare_exchange_n(&w->rests[i], &empty, rest, 0,
						__ATOMIC_RELEASE,
						__ATOMIC_RELAXED))
			break;
	}
	c->pos = PF_CHUNK_SIZE; /* given away, or left unused */
}

/* A thread's first records into a rest given back, if there is one. */
static int take_rest(struct pf_writer *w, struct pf_cursor *c)
{
	for (unsigned i = 0; i < PF_WRITER_RESTS; i++) {
		uint64_t rest = __atomic_load_n(&w->rests[i], __ATOMIC_RELAXED);
		struct pf_rec_segment seg = {c->thread, c->tid, 0};
		uint8_t *body;

		if (!rest || !__atomic_compare_exchange_n(&w->rests[i], &rest, 0,
							  0, __ATOMIC_ACQUIRE,
							  __ATOMIC_RELAXED))
			continue;
		c->chunk = (uint8_t *)w->hdr + PF_HEADER_SIZE +
			   ((rest >> 32) - 1) * PF_CHUNK_SIZE;
		c->pos = (uint32_t)rest;
		c->seq = 0;
		body = pf_cursor_space(c, sizeof seg);
		pf_cursor_commit(c, PF_REC_SEGMENT, pf_put_segment(body, &seg));
		return 0;
	}
	return -1;
}

int pf_writer_next_chunk(struct pf_writer *w, struct pf_cursor *c)
{
	uint32_t n;
	uint64_t off;
	struct pf_chunk_header *ch;

	if (!c->chunk && !__atomic_load_n(&w->lost, __ATOMIC_RELAXED) &&
	    take_rest(w, c) == 0)
		return 0;
	if (__atomic_load_n(&w->full, __ATOMIC_RELAXED))
		return -1;
	/* A CAS loop rather than fetch_add, so chunks_claimed never counts
	 * past the bound and stays exact for the reader. */
	n = __atomic_load_n(&w->hdr->chunks_claimed, __ATOMIC_RELAXED);
	do {
		if (n >= w->max_chunks) {
			__atomic_store_n(&w->full, 1, __ATOMIC_RELAXED);
			return -1;
		}
	} while (!__atomic_compare_exchange_n(&w->hdr->chunks_claimed, &n,
					      n + 1, 1, __ATOMIC_ACQ_REL,
					      __ATOMIC_RELAXED));
	off = PF_HEADER_SIZE + (uint64_t)n * PF_CHUNK_SIZE;
	/* The descriptor is the program's too: a daemon's closerange() may
	 * have closed it and an open() reused the number.  Never grow a file
	 * that is not ours. */
	{
		/* read before fstat: allocations since only make it longer */
		uint64_t end = __atomic_load_n(&w->allocated_end, __ATOMIC_ACQUIRE);
		struct stat st;

		if (fstat(w->fd, &st) != 0 || (uint64_t)st.st_dev != w->dev ||
		    (uint64_t)st.st_ino != w->ino) {
			__atomic_store_n(&w->full, 1, __ATOMIC_RELAXED);
			return -1;
		}
		/* Shorter than what was allocated: truncated under us.
		 * Growing it again would only write behind a lost header.
		 * (Not "shorter than the chunks before this one": another
		 * thread may have claimed the one before and not allocated
		 * it yet, and then the file is rightly shorter.) */
		if ((uint64_t)st.st_size < end) {
			__atomic_store_n(&w->lost, 1, __ATOMIC_RELAXED);
			__atomic_store_n(&w->full, 1, __ATOMIC_RELAXED);
			return -1;
		}
	}
	if (!under_fsize_limit(off + PF_CHUNK_SIZE) ||
	    !space_left(w->fd, PF_CHUNK_SIZE) ||
	    allocate(w->fd, off, PF_CHUNK_SIZE) != 0) {
		/* The claimed chunk stays a hole with a zero magic: readers
		 * skip it.  Nothing more will fit, so stop trying. */
		__atomic_store_n(&w->full, 1, __ATOMIC_RELAXED);
		return -1;
	}
	{
		uint64_t end = __atomic_load_n(&w->allocated_end, __ATOMIC_RELAXED);
		while (end < off + PF_CHUNK_SIZE &&
		       !__atomic_compare_exchange_n(&w->allocated_end, &end,
						    off + PF_CHUNK_SIZE, 1,
						    __ATOMIC_RELEASE,
						    __ATOMIC_RELAXED))
			;
	}
	ch = (struct pf_chunk_header *)((uint8_t *)w->hdr + off);
	ch->thread = c->thread;
	ch->tid = c->tid;
	ch->seq = c->chunk ? c->seq + 1 : 0;
	__atomic_store_n(&ch->magic, PF_CHUNK_MAGIC, __ATOMIC_RELEASE);
	c->seq = ch->seq;
	c->chunk = (uint8_t *)ch;
	c->pos = PF_CHUNK_HEADER_SIZE;
	return 0;
}

int pf_writer_fault(struct pf_writer *w, const void *addr)
{
	uintptr_t a = (uintptr_t)addr, base = (uintptr_t)w->hdr, page;

	if (!w->hdr || a < base || a >= base + w->map_size)
		return 0;
	__atomic_store_n(&w->lost, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&w->full, 1, __ATOMIC_RELAXED);
	/* Only pages past the file's new end fault, and the mapping's end is
	 * past them all: what stays in the file stays shared. */
	page = a & ~(w->page_size - 1);
	return mmap((void *)page, base + w->map_size - page,
		    PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1,
		    0) != MAP_FAILED;
}

void pf_writer_finish(struct pf_writer *w, enum pf_end_reason why, int sig)
{
	if (!w->hdr ||
	    __atomic_load_n(&w->hdr->state, __ATOMIC_ACQUIRE) != PF_STATE_WRITING)
		return;
	w->hdr->end_monotonic_ns = mono_ns();
	w->hdr->end_reason = why;
	w->hdr->end_signal = (uint32_t)sig;
	__atomic_store_n(&w->hdr->state, PF_STATE_COMPLETE, __ATOMIC_RELEASE);
}

void pf_writer_unfinish(struct pf_writer *w)
{
	if (!w->hdr)
		return;
	w->hdr->end_monotonic_ns = 0;
	w->hdr->end_reason = PF_END_NONE;
	w->hdr->end_signal = 0;
	__atomic_store_n(&w->hdr->state, PF_STATE_WRITING, __ATOMIC_RELEASE);
}
