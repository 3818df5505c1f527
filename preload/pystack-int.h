/*
 * pystack-int.h - what the files that read CPython's memory share: loads
 * that work on the calling thread's own memory or, in remote mode, on
 * another thread's without faulting, and the self-check's gate.
 *
 * The one idea: every read of interpreter memory goes through an ld_*
 * (or safe_copy / safe_words where a pointer may be garbage), so that one
 * branch on `rmode` decides, for all of tstate.c, selfcheck.c and
 * pystack.c at once, whether a read is a plain move or one that cannot
 * fault (remote.c).  The loads are inline: they are the walk's inner loop.
 * Private to libpyprof: pyintro.h is the interface.
 */
#ifndef PYPROF_PYSTACK_INT_H
#define PYPROF_PYSTACK_INT_H

#include <stddef.h>
#include <stdint.h>

#include "handler.h"
#include "pyintro.h"

/* Remote mode is on in this thread (wall mode's sampler thread only) */
extern __thread int rmode __attribute__((tls_model("initial-exec")));
/* A remote read failed since the last pyintro_remote_reset(0) */
extern int rfault;

/* n bytes at a through the block cache, n <= 8 and a aligned to n: see
 * remote.c.  A failed read gives zeros and sets rfault. */
HANDLER void remote_ld(void *dst, uintptr_t a, size_t n);

/*
 * Other threads store these words (the GIL holder, _finalizing); relaxed
 * atomic loads keep the compiler from tearing, merging or hoisting them,
 * and on x86-64 they are plain moves.
 */
#define LD(name, T, R)                                                    \
	HANDLER static inline R name(uintptr_t a)                         \
	{                                                                 \
		T v;                                                      \
		if (__builtin_expect(rmode, 0)) {                         \
			remote_ld(&v, a, sizeof v);                       \
			return v;                                         \
		}                                                         \
		return __atomic_load_n((const T *)a, __ATOMIC_RELAXED);   \
	}
LD(ld_ptr, uintptr_t, uintptr_t)
LD(ld_int, int, int)
LD(ld_u8, uint8_t, unsigned)
LD(ld_u16, uint16_t, uint32_t)
LD(ld_u32, uint32_t, uint32_t)
#undef LD

HANDLER static inline intptr_t ld_ssize(uintptr_t a)
{
	return (intptr_t)ld_ptr(a);
}

/* Objects, frames and thread states are malloc'd or static and so at least
 * 8-aligned; the first page is never mapped. */
HANDLER static inline int ptr_ok(uintptr_t p)
{
	return p >= 4096 && (p & 7) == 0;
}

HANDLER static inline int is_code(const struct py_layout *L, uintptr_t code)
{
	return ptr_ok(code) && ld_ptr(code + L->ob_type) == L->code_type;
}

/* n bytes at a into dst, failing (-1) instead of faulting when a is not
 * mapped.  Two system calls: for the one untrusted pointer of a walk. */
HANDLER int safe_copy(void *dst, uintptr_t a, size_t n);
/* The words at a[0..n) (n <= 8) into w, with one system call; -1 if any
 * is unmapped. */
HANDLER int safe_words(uintptr_t *w, const uintptr_t *a, int n);

/* The self-check of an untested layout (selfcheck.c).  Non-zero once it
 * has passed; ts 0 says a sample found no thread state. */
HANDLER int selfcheck_gate(const struct py_layout *L, uintptr_t ts);
/* No verdict yet */
HANDLER int selfcheck_pending(void);
/* The verdict is a pass (for remote mode, which does not run the check) */
int selfcheck_passed(void);

#endif
