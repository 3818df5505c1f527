/*
 * native.h - native stacks (PYPROF_NATIVE=1): unwinding in the handler,
 * merging with the Python frames, and the list of loaded objects the
 * collector names addresses from.  See native.c.
 */
#ifndef PYPROF_NATIVE_H
#define PYPROF_NATIVE_H

#include <stddef.h>
#include <stdint.h>

#include "handler.h"
#include "pyintro.h"

/* Deepest native stack unwound; a deeper one is not merged */
#define NATIVE_MAX 1024

/* py_raw_frame.frame of a native frame (code is then its address): no
 * Python frame lies in the first page */
#define NATIVE_FRAME ((uintptr_t)1)

/* Where a thread's stack ends when unwound to its root: [lo, hi) */
struct native_root {
	uintptr_t lo, hi;
	uintptr_t stack_lo, stack_hi; /* the thread's stack */
};

/* Loads libunwind privately and finds the eval loop of CPython 3.minor.
 * 0, or -1 with why. */
int native_init(int minor, char *why, size_t cap);
/* native_init succeeded */
int native_enabled(void);
/* Readies the calling thread's unwinding state, outside any handler,
 * and learns where its stack ends.  0, or -1 (the thread is then not
 * unwound). */
int native_warm(int is_main, struct native_root *root);

/* The interrupted thread's native stack, leaf first, from the signal's
 * ucontext: out[0] is the interrupted instruction, the others return
 * addresses less one.  *complete says it reached the thread's root (and
 * fitted in max).  Returns the count, or -1. */
HANDLER int native_stack(const void *uc, const struct native_root *root,
			 uintptr_t *out, int max, int *complete);

/* Merges py[0..np) (a pystack_walk, leaf first, run_start set) with
 * nat[0..nn) (native_stack) into out[0..max), leaf first; native frames
 * have frame == NATIVE_FRAME.  Returns the count, or -1 where the two do
 * not pair (see native.c): nothing is guessed. */
HANDLER int native_merge(const struct py_raw_frame *py, int np,
			 const uintptr_t *nat, int nn,
			 struct py_raw_frame *out, int max);

/* Room for a libunwind cursor, of the installed version whatever the
 * header's (a newer one may be larger) */
#define NATIVE_CURSOR_SPACE 8192

/* 3.12+: learns the parts of the eval loop that the stack at uc shows
 * (py[] with entry set: a pystack_walk), unwinding it slowly once; see
 * native.c.  Returns how many new parts it found. */
HANDLER int native_learn(const void *uc, const struct py_raw_frame *py,
			 int np, void *cursor_space);

/* Writes a PF_REC_OBJECT for each loaded object not written yet, if the
 * set changed since the last call.  Not from a handler.  0, or -1 if some
 * record could not be written (retried at the next call). */
int native_objects_poll(int (*write)(unsigned type, const void *body,
				     size_t len));
/* In a forked child: every object is written again. */
void native_objects_reset(void);
/* A rotated run's next file: the next poll writes every object again. */
void native_objects_again(void);

#endif
