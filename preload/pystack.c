/*
 * pystack.c - the current thread's Python stack, read from a signal handler.
 *
 * Everything here runs inside SIGPROF, interrupting the interpreter at any
 * instruction, possibly while it holds malloc's lock or is halfway through
 * pushing a frame.  So these functions only load memory, compare, and call
 * pthread_getspecific (glibc: an array lookup, no lock, no allocation).
 * They never call Python, malloc, stdio or anything that may lock.
 * The one exception to "only loads" is safe_copy() below: on 3.11/3.12
 * the innermost frame pointer may be uninitialized stack (see
 * first_frame()), and a read that may fault goes through a syscall.
 *
 * The one idea: every pointer followed is checked before it is trusted
 * (non-null, aligned, the object's type is what we expect, an index is
 * inside the object) and the walk stops on the first thing that does not
 * fit, returning "nothing" rather than a guess.  Reading our *own* thread's
 * frames is safe from use-after-free: a frame cannot be freed while the
 * code that would free it is the code we interrupted.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* process_vm_readv */
#endif
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "pyintro.h"

/*
 * Other threads store these words (the GIL holder, _finalizing); relaxed
 * atomic loads keep the compiler from tearing, merging or hoisting them,
 * and on x86-64 they are plain moves.
 */
static inline uintptr_t ld_ptr(uintptr_t a)
{
	return __atomic_load_n((const uintptr_t *)a, __ATOMIC_RELAXED);
}

static inline int ld_int(uintptr_t a)
{
	return __atomic_load_n((const int *)a, __ATOMIC_RELAXED);
}

static inline intptr_t ld_ssize(uintptr_t a)
{
	return __atomic_load_n((const intptr_t *)a, __ATOMIC_RELAXED);
}

static inline unsigned ld_u8(uintptr_t a)
{
	return __atomic_load_n((const uint8_t *)a, __ATOMIC_RELAXED);
}

/* Objects, frames and thread states are malloc'd or static and so at least
 * 8-aligned; the first page is never mapped. */
static inline int ptr_ok(uintptr_t p)
{
	return p >= 4096 && (p & 7) == 0;
}

static inline int is_code(const struct py_layout *L, uintptr_t code)
{
	return ptr_ok(code) && ld_ptr(code + L->ob_type) == L->code_type;
}

int pyintro_finalizing(const struct py_layout *L)
{
	if (!L->runtime)
		return 0;
	/* Py_FinalizeEx sets this before it frees the daemon threads' states,
	 * whose TSS slots may then point at freed memory. */
	return ld_ptr(L->runtime + L->rt_finalizing) != 0;
}

uintptr_t pyintro_current_tstate(const struct py_layout *L)
{
	uintptr_t rt = L->runtime, tss, ts, interp;
	pthread_key_t key;

	if (!rt || !ld_int(rt + L->rt_initialized) || pyintro_finalizing(L))
		return 0;
	/* Not tstate_current / _PyThreadState_GET(): that is the thread
	 * holding the GIL, maybe not us.  The gilstate key maps this thread
	 * to its own state whether or not it holds the GIL.  It is deleted
	 * at finalization, and _is_initialized says so. */
	tss = rt + L->rt_tss_key;
	if (!ld_int(tss))
		return 0;
	key = (pthread_key_t)ld_int(tss + L->tss_key_off);
	ts = (uintptr_t)pthread_getspecific(key);
	if (!ptr_ok(ts))
		return 0;
	if (L->is_finalizing >= 0) {
		/* 3.12+: a subinterpreter finalizes on its own, without the
		 * runtime-wide flag. */
		interp = ld_ptr(ts + L->ts_interp);
		if (!ptr_ok(interp) || ld_ptr(interp + L->is_finalizing))
			return 0;
	}
	return ts;
}

int pyintro_holds_gil(const struct py_layout *L, uintptr_t ts)
{
	uintptr_t interp, gil;

	if (!L->runtime || !ptr_ok(ts))
		return 0;
	if (L->rt_gil_tstate_current >= 0) /* <= 3.11: one runtime GIL */
		return ld_ptr(L->runtime + L->rt_gil_tstate_current) == ts;

	/* 3.12+: each interpreter points at its GIL (its own, or the main
	 * one's when shared).  last_holder stays set after a release, so
	 * locked must be checked too. */
	interp = ld_ptr(ts + L->ts_interp);
	if (!ptr_ok(interp))
		return 0;
	gil = ld_ptr(interp + L->is_gil_ptr);
	if (!ptr_ok(gil) || !ld_int(gil + L->gil_locked) ||
	    ld_ptr(gil + L->gil_last_holder) != ts)
		return 0;
	/* 3.13: a detached thread can still be last_holder while another
	 * thread is about to take the (still locked) GIL over. */
	if (L->ts_state >= 0 && ld_int(ts + L->ts_state) != L->ts_state_attached)
		return 0;
	return 1;
}

/* What one frame contributes to the walk. */
enum hop { HOP_BAD = -1, HOP_SKIP = 0, HOP_KEEP = 1 };

/* <= 3.10: a PyFrameObject; f_lasti is -1 before the first instruction. */
static enum hop frame_object(const struct py_layout *L, uintptr_t f,
			     struct py_raw_frame *rf)
{
	uintptr_t code = ld_ptr(f + L->fr_code), bytes;
	intptr_t size;
	int lasti;

	if (!is_code(L, code))
		return HOP_BAD;
	bytes = ld_ptr(code + L->co_code);
	if (!ptr_ok(bytes) || ld_ptr(bytes + L->ob_type) != L->bytes_type)
		return HOP_BAD;
	size = ld_ssize(bytes + L->ob_size);
	lasti = ld_int(f + L->fr_lasti);
	/* 3.10 counts 2-byte code units; 3.8/3.9 count bytes. */
	if (L->minor == 10 && lasti > 0)
		lasti = lasti > INT_MAX / 2 ? INT_MIN : lasti * 2;
	if (lasti < -1 || (intptr_t)lasti >= size)
		return HOP_BAD;
	rf->code = code;
	rf->lasti = lasti;
	return HOP_KEEP;
}

/*
 * 3.11+: a _PyInterpreterFrame.  3.11/3.12 store prev_instr (the last
 * instruction started, one unit before the code when not started); 3.13
 * stores instr_ptr (the current instruction).  Either way the offset from
 * co_code_adaptive, in bytes, is what f_lasti reports.
 */
static enum hop interp_frame(const struct py_layout *L, uintptr_t f,
			     struct py_raw_frame *rf)
{
	unsigned owner = ld_u8(f + L->fr_owner);
	uintptr_t code, instr;
	intptr_t units, off;
	int first;

	/* Owners run 0..2 (3.11) or 0..3 (3.12+); anything else means f is
	 * not a frame. */
	if (owner > 3 || (L->fr_owner_cstack < 0 && owner == 3))
		return HOP_BAD;
	/* The entry frame _PyEval_EvalFrameDefault pushes for each call from
	 * C (3.12+); in 3.13 its f_executable is None, not code. */
	if (L->fr_owner_cstack >= 0 && owner == (unsigned)L->fr_owner_cstack)
		return HOP_SKIP;

	code = ld_ptr(f + L->fr_code);
	if (!is_code(L, code))
		return HOP_BAD;
	units = ld_ssize(code + L->co_size_field);
	instr = ld_ptr(f + L->fr_instr);
	off = (intptr_t)(instr - (code + (uintptr_t)L->co_code_adaptive));
	if (units <= 0 || units > INT_MAX / 2 || (off & 1) ||
	    off < (L->ts_current_frame >= 0 ? 0 : -2) || off >= 2 * units)
		return HOP_BAD;

	/* A frame pushed but not yet at its RESUME (COPY_FREE_VARS,
	 * MAKE_CELL...) is "incomplete": CPython hides it from
	 * sys._getframe and tracebacks, and so do we.  Generator frames are
	 * exempt because they start inside the code. */
	first = ld_int(code + L->co_firsttraceable);
	if (owner != (unsigned)L->fr_owner_generator && off < 2 * (intptr_t)first)
		return HOP_SKIP;

	rf->code = code;
	rf->lasti = off < 0 ? -1 : (int32_t)off;
	return HOP_KEEP;
}

/* Set once process_vm_readv turns out to be unavailable (seccomp, old
 * kernel): safe_copy() then trusts the address, as every other read does. */
static int no_vm_readv;

/*
 * Copies n bytes at address a into dst, failing instead of faulting when a
 * is not mapped: process_vm_readv on ourselves returns EFAULT.  Costs two
 * syscalls, so only the one untrusted pointer per walk comes through here.
 * Saves errno, which the interrupted code may be about to read.
 */
static int safe_copy(void *dst, uintptr_t a, size_t n)
{
	struct iovec local = { dst, n }, remote = { (void *)a, n };
	int saved = errno, rc = 0;

	if (__atomic_load_n(&no_vm_readv, __ATOMIC_RELAXED)) {
		memcpy(dst, (const void *)a, n);
		return 0;
	}
	if (process_vm_readv(getpid(), &local, 1, &remote, 1, 0) != (ssize_t)n) {
		if (errno == ENOSYS || errno == EPERM) {
			__atomic_store_n(&no_vm_readv, 1, __ATOMIC_RELAXED);
			memcpy(dst, (const void *)a, n);
		} else {
			rc = -1;
		}
	}
	errno = saved;
	return rc;
}

/* Whether f is readable, and a frame whose code is readable and a code
 * object; after that, plain loads from f and its code are safe. */
static int frame_readable(const struct py_layout *L, uintptr_t f)
{
	uint8_t hdr[128];
	uintptr_t code, type;
	size_t span = (size_t)L->fr_owner + 1;

	if (!ptr_ok(f) || span > sizeof hdr || (size_t)L->fr_code + 8 > span)
		return 0;
	if (safe_copy(hdr, f, span) < 0)
		return 0;
	memcpy(&code, hdr + L->fr_code, sizeof code);
	return ptr_ok(code) && safe_copy(&type, code + L->ob_type, 8) == 0 &&
	       type == L->code_type;
}

/*
 * The innermost frame (0 for none), or -1 if the way to it is broken.
 *
 * 3.11/3.12: _PyEval_EvalFrameDefault publishes its C-stack _PyCFrame
 * (tstate->cframe = &cframe) before it fills it in; 3.12.1's build stores
 * current_frame and previous together with one 16-byte store ~30
 * instructions later.  A signal in between finds uninitialized stack, often
 * a frame popped long ago (the churn test hits this about once per 150
 * samples on 3.12).  So that one pointer is read without faulting, must
 * lead to a code object, and if it is owned by the thread must lie below
 * the data stack's top, which popped frames do not.  A frame caught there
 * is dropped (-1): nothing left in memory names the caller's cframe.
 * 3.8-3.10 (tstate->frame) and 3.13 (tstate->current_frame) publish fully
 * built frames.
 */
static int first_frame(const struct py_layout *L, uintptr_t ts, uintptr_t *f)
{
	uintptr_t cf, chunk, top;

	if (L->ts_frame >= 0) {
		*f = ld_ptr(ts + L->ts_frame);
		return 0;
	}
	if (L->ts_current_frame >= 0) {
		*f = ld_ptr(ts + L->ts_current_frame);
		return 0;
	}
	cf = ld_ptr(ts + L->ts_cframe);
	if (!ptr_ok(cf))
		return -1;
	if (safe_copy(f, cf + L->cframe_current_frame, sizeof *f) < 0)
		return -1;
	if (*f == 0)
		return 0;
	if (!frame_readable(L, *f))
		return -1;
	if (ld_u8(*f + L->fr_owner) == 0) { /* FRAME_OWNED_BY_THREAD */
		chunk = ld_ptr(ts + L->ts_datastack_chunk);
		top = ld_ptr(ts + L->ts_datastack_top);
		if (*f < chunk || *f >= top)
			return -1;
	}
	return 0;
}

int pystack_walk(const struct py_layout *L, uintptr_t ts,
		 struct py_raw_frame *out, int max, int *truncated)
{
	uintptr_t f, next, tortoise;
	unsigned power = 1, steps = 0;
	struct py_raw_frame rf;
	enum hop h;
	int n = 0;

	if (truncated)
		*truncated = 0;
	if (!L->runtime || !ptr_ok(ts) || max < 0)
		return -1;

	if (first_frame(L, ts, &f) < 0)
		return -1;
	/* Brent's cycle finder: the tortoise jumps to the hare at each power
	 * of two, so a loop in a corrupt chain is caught within a few laps,
	 * at the cost of one compare per hop and no table. */
	tortoise = f;
	while (f) {
		if (!ptr_ok(f))
			return -1;
		h = L->fr_lasti >= 0 ? frame_object(L, f, &rf)
				     : interp_frame(L, f, &rf);
		if (h == HOP_BAD)
			return -1;
		if (h == HOP_KEEP) {
			if (n == max) {
				if (truncated)
					*truncated = 1;
				break;
			}
			rf.frame = f;
			out[n++] = rf;
		}
		next = ld_ptr(f + L->fr_back);
		if (next && next == tortoise)
			return -1;
		if (++steps == power) {
			tortoise = next;
			power <<= 1;
			steps = 0;
		}
		f = next;
	}
	return n;
}

int pycode_read(const struct py_layout *L, uintptr_t code,
		struct py_code_view *out)
{
	uintptr_t lt;
	intptr_t len;

	if (!is_code(L, code))
		return -1;
	lt = ld_ptr(code + L->co_linetable);
	if (!ptr_ok(lt) || ld_ptr(lt + L->ob_type) != L->bytes_type)
		return -1;
	len = ld_ssize(lt + L->ob_size);
	if (len < 0 || len > (intptr_t)UINT32_MAX)
		return -1;
	out->filename = ld_ptr(code + L->co_filename);
	out->name = ld_ptr(code + L->co_name);
	out->qualname = L->co_qualname >= 0 ? ld_ptr(code + L->co_qualname) : 0;
	out->firstlineno = ld_int(code + L->co_firstlineno);
	out->linetable = (const uint8_t *)(lt + (uintptr_t)L->bytes_sval);
	out->linetable_len = (uint32_t)len;
	return 0;
}

/* PyASCIIObject.state: interned:2 kind:3 compact:1 ascii:1 ready:1 (the
 * last is statically_allocated from 3.12, when every str is ready). */
#define STATE_KIND(s)    (((s) >> 2) & 7)
#define STATE_COMPACT(s) (((s) >> 5) & 1)
#define STATE_ASCII(s)   (((s) >> 6) & 1)
#define STATE_READY(s)   (((s) >> 7) & 1)

int pystr_utf8(const struct py_layout *L, uintptr_t obj, char *buf,
	       size_t cap)
{
	unsigned state, kind;
	intptr_t len, i;
	uintptr_t data;
	size_t n = 0;

	if (!ptr_ok(obj) || ld_ptr(obj + L->ob_type) != L->unicode_type)
		return -1;
	state = (unsigned)ld_int(obj + L->uni_state);
	kind = STATE_KIND(state);
	len = ld_ssize(obj + L->uni_length);
	/* Legacy (non-compact) strings keep their data elsewhere, maybe not
	 * even in the canonical form; code object names never are. */
	if (!STATE_COMPACT(state) || len < 0 ||
	    (kind != 1 && kind != 2 && kind != 4) ||
	    (STATE_ASCII(state) && kind != 1) ||
	    (L->minor <= 11 && !STATE_READY(state)))
		return -1;
	if (cap > INT_MAX)
		cap = INT_MAX;

	if (STATE_ASCII(state)) {
		/* Already UTF-8, and every byte is a character boundary. */
		n = (size_t)len < cap ? (size_t)len : cap;
		memcpy(buf, (const void *)(obj + (uintptr_t)L->uni_ascii_size),
		       n);
		return (int)n;
	}

	data = obj + (uintptr_t)L->uni_compact_size;
	for (i = 0; i < len; i++) {
		uint32_t c;
		size_t need;

		if (kind == 1)
			c = ((const uint8_t *)data)[i];
		else if (kind == 2)
			c = ((const uint16_t *)data)[i];
		else
			c = ((const uint32_t *)data)[i];
		if (c > 0x10ffff)
			return -1;
		/* A str may hold lone surrogates, which UTF-8 cannot: write
		 * U+FFFD as errors="replace" would. */
		if (c >= 0xd800 && c <= 0xdfff)
			c = 0xfffd;
		need = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
		if (n + need > cap)
			break; /* cut before a character, never inside one */
		switch (need) {
		case 1:
			buf[n++] = (char)c;
			break;
		case 2:
			buf[n++] = (char)(0xc0 | c >> 6);
			buf[n++] = (char)(0x80 | (c & 0x3f));
			break;
		case 3:
			buf[n++] = (char)(0xe0 | c >> 12);
			buf[n++] = (char)(0x80 | ((c >> 6) & 0x3f));
			buf[n++] = (char)(0x80 | (c & 0x3f));
			break;
		default:
			buf[n++] = (char)(0xf0 | c >> 18);
			buf[n++] = (char)(0x80 | ((c >> 12) & 0x3f));
			buf[n++] = (char)(0x80 | ((c >> 6) & 0x3f));
			buf[n++] = (char)(0x80 | (c & 0x3f));
			break;
		}
	}
	return (int)n;
}
