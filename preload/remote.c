/*
 * remote.c - reads of interpreter memory that fail instead of faulting.
 *
 * Remote mode (wall mode's sampler thread, see wall.c): the calling
 * thread reads *other* threads' frames, which they may free at any
 * moment, so no load may be a plain one.  Every ld_* then goes through
 * process_vm_readv, which fails instead of faulting, via a cache of
 * 256-byte blocks (256 divides the page size, so a block is all readable
 * or not at all).  The cache lives for one tick of the sampler thread
 * (pyintro_remote_reset(1)): the code objects the threads share are read
 * once per tick, not once per thread, and each thread's own frames and
 * state are read once per tick anyway.  A failed read yields 0, which
 * fails the checks that follow it, and sets `rfault`, which callers test
 * after each walk (pyintro_remote_reset(0) clears it before).  The flag
 * is per thread and set only in the sampler thread: the signal handler's
 * loads stay plain moves behind one well-predicted branch.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* process_vm_readv */
#endif
#include <errno.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "pystack-int.h"

#define RBLOCK 256
#define RBLOCKS 1024 /* direct-mapped by address */
__thread int rmode __attribute__((tls_model("initial-exec")));
/* Only the one thread in remote mode uses these: plain globals, not
 * initial-exec TLS, of which a library loaded with dlopen (the IPython
 * extension's case) gets very little. */
int rfault;
static struct {
	uintptr_t base; /* 0: empty */
	uint8_t data[RBLOCK];
} rcache[RBLOCKS];

static int no_vm_readv;

static pid_t rpid; /* getpid() is a system call: once per sampler thread */

HANDLER static int vm_read(void *dst, uintptr_t a, size_t n)
{
	struct iovec local = { dst, n }, remote = { (void *)a, n };

	return process_vm_readv(rpid, &local, 1, &remote, 1, 0) ==
			       (ssize_t)n ? 0 : -1;
}

/* n bytes at a, n <= 8 and a aligned to n (never spanning blocks). */
HANDLER void remote_ld(void *dst, uintptr_t a, size_t n)
{
	uintptr_t base = a & ~(uintptr_t)(RBLOCK - 1);
	unsigned i = (unsigned)(base / RBLOCK) % RBLOCKS;

	if (rcache[i].base == base)
		goto hit;
	rcache[i].base = 0;
	if (a < 4096 || no_vm_readv || vm_read(rcache[i].data, base, RBLOCK) < 0) {
		rfault = 1;
		memset(dst, 0, n);
		return;
	}
	rcache[i].base = base;
hit:
	memcpy(dst, rcache[i].data + (a - base), n);
}

void pyintro_remote_thread(void)
{
	rpid = getpid();
	rmode = 1;
}

void pyintro_remote_reset(int forget)
{
	rfault = 0;
	if (forget)
		for (unsigned i = 0; i < RBLOCKS; i++)
			rcache[i].base = 0;
}

int pyintro_remote_failed(void)
{
	return rfault;
}

HANDLER int pyintro_copy(void *dst, uintptr_t src, size_t n)
{
	if (!rmode) {
		memcpy(dst, (const void *)src, n);
		return 0;
	}
	if (n && (no_vm_readv || vm_read(dst, src, n) < 0)) {
		rfault = 1;
		return -1;
	}
	return 0;
}


/* no_vm_readv (above) is set once process_vm_readv turns out to be
 * unavailable (seccomp, old kernel): safe_copy() then trusts the address,
 * as every other read does -- except in remote mode, where nothing is
 * read at all (wall mode's sampler thread then records no stacks). */

/*
 * Copies n bytes at address a into dst, failing instead of faulting when a
 * is not mapped: process_vm_readv on ourselves returns EFAULT.  Costs two
 * syscalls, so only the one untrusted pointer per walk comes through here.
 * Saves errno, which the interrupted code may be about to read.
 */
HANDLER int safe_copy(void *dst, uintptr_t a, size_t n)
{
	struct iovec local = { dst, n }, remote = { (void *)a, n };
	int saved = errno, rc = 0;

	if (__atomic_load_n(&no_vm_readv, __ATOMIC_RELAXED)) {
		if (rmode)
			return -1;
		memcpy(dst, (const void *)a, n);
		return 0;
	}
	if (process_vm_readv(getpid(), &local, 1, &remote, 1, 0) != (ssize_t)n) {
		if ((errno == ENOSYS || errno == EPERM) && !rmode) {
			__atomic_store_n(&no_vm_readv, 1, __ATOMIC_RELAXED);
			memcpy(dst, (const void *)a, n);
		} else {
			rc = -1;
		}
	}
	errno = saved;
	return rc;
}

/*
 * Reads n words at the addresses a[0..n) into w with one process_vm_readv
 * (several remote iovecs), failing instead of faulting if any of them is
 * unmapped.  Same fallback and errno rule as safe_copy().
 */
HANDLER int safe_words(uintptr_t *w, const uintptr_t *a, int n)
{
	struct iovec local = { w, (size_t)n * sizeof *w }, remote[8];
	int saved = errno, rc = 0;

	if (n > 8)
		return -1;
	for (int i = 0; i < n; i++) {
		remote[i].iov_base = (void *)a[i];
		remote[i].iov_len = sizeof *w;
	}
	if (__atomic_load_n(&no_vm_readv, __ATOMIC_RELAXED)) {
		if (rmode)
			return -1;
		for (int i = 0; i < n; i++)
			w[i] = ld_ptr(a[i]);
		return 0;
	}
	if (process_vm_readv(getpid(), &local, 1, remote, (unsigned long)n, 0) !=
	    (ssize_t)local.iov_len) {
		if ((errno == ENOSYS || errno == EPERM) && !rmode) {
			__atomic_store_n(&no_vm_readv, 1, __ATOMIC_RELAXED);
			for (int i = 0; i < n; i++)
				w[i] = ld_ptr(a[i]);
		} else {
			rc = -1;
		}
	}
	errno = saved;
	return rc;
}
