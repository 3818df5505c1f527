/*
 * pystack.c - the current thread's Python stack, read from a signal handler.
 *
 * Everything here runs inside SIGPROF, interrupting the interpreter at any
 * instruction, possibly while it holds malloc's lock or is halfway through
 * pushing a frame.  So these functions only load memory, compare, and call
 * pthread_getspecific (glibc: an array lookup, no lock, no allocation).
 * They never call Python, malloc, stdio or anything that may lock.
 * The one exception to "only loads" is safe_copy() (remote.c): on
 * 3.11/3.12 the innermost frame pointer may be uninitialized stack (see
 * first_frame()), and a read that may fault goes through a syscall.
 * Finding the thread state is tstate.c's; the loads are pystack-int.h's.
 *
 * The one idea: every pointer followed is checked before it is trusted
 * (non-null, aligned, the object's type is what we expect, an index is
 * inside the object) and the walk stops on the first thing that does not
 * fit, returning "nothing" rather than a guess.  Reading our *own* thread's
 * frames is safe from use-after-free: a frame cannot be freed while the
 * code that would free it is the code we interrupted.
 */
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "pystack-int.h"

/* HOP_ENTRY: a frame that is not code but marks where a call of the eval
 * loop begins (3.12+), which native merging needs to know */
enum hop { HOP_BAD = -1, HOP_SKIP = 0, HOP_KEEP = 1, HOP_ENTRY = 2 };

/* <= 3.10: a PyFrameObject; f_lasti is -1 before the first instruction. */
HANDLER static enum hop frame_object(const struct py_layout *L, uintptr_t f,
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
	rf->run_start = 1; /* one eval call per frame */
	return HOP_KEEP;
}

/*
 * 3.11+: a _PyInterpreterFrame.  3.11/3.12 store prev_instr (the last
 * instruction started, one unit before the code when not started); 3.13
 * stores instr_ptr (the current instruction).  Either way the offset from
 * co_code_adaptive, in bytes, is what f_lasti reports.
 */
HANDLER static enum hop interp_frame(const struct py_layout *L, uintptr_t f,
				     struct py_raw_frame *rf)
{
	unsigned owner = ld_u8(f + L->fr_owner);
	uintptr_t code, instr;
	intptr_t units, off;
	int first, skip_from, max_owner = 2;

	/* Owners run 0..2 (3.11), 0..3 (3.12, 3.13, 3.15) or 0..4 (3.14);
	 * anything else means f is not a frame.  Owners from CSTACK (3.12,
	 * 3.13) or INTERPRETER (3.14+) up are the entry frames
	 * _PyEval_EvalFrameDefault pushes for each call from C, and 3.15's
	 * base frame: their f_executable is None, not code. */
	if (L->fr_owner_cstack > max_owner)
		max_owner = L->fr_owner_cstack;
	if (L->fr_owner_interpreter > max_owner)
		max_owner = L->fr_owner_interpreter;
	skip_from = L->fr_owner_interpreter >= 0 ? L->fr_owner_interpreter
						 : L->fr_owner_cstack;
	if (owner > (unsigned)max_owner)
		return HOP_BAD;
	if (skip_from >= 0 && owner >= (unsigned)skip_from)
		return HOP_ENTRY;

	/* 3.14+: f_executable is a _PyStackRef, tagged in its low bits. */
	code = ld_ptr(f + L->fr_code) & ~(uintptr_t)L->fr_code_tag;
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
	rf->run_start = L->fr_is_entry >= 0 && ld_u8(f + L->fr_is_entry);
	return HOP_KEEP;
}

/* Whether f is readable, and a frame whose code is readable and a code
 * object; after that, plain loads from f and its code are safe. */
HANDLER static int frame_readable(const struct py_layout *L, uintptr_t f)
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
HANDLER static int first_frame(const struct py_layout *L, uintptr_t ts,
			       uintptr_t *f)
{
	uintptr_t cf, chunk, top;

	if (L->ts_frame >= 0 && L->minor == 8 && !rmode) {
		/* 3.8 frees a thread's state before it clears the key that
		 * led here (3.9 swapped the two), so a signal in between
		 * finds freed memory.  glibc leaves its fields as they were
		 * but the first 16 bytes (the frame NULL by then); the debug
		 * allocator fills it, another thread's malloc may take it,
		 * another allocator may unmap it.  So the frame is read with
		 * the state's thread id, without faulting, and followed only
		 * if the state still names this thread: one system call per
		 * sample, on 3.8 only. */
		uintptr_t w[2], a[2] = {ts + (uintptr_t)L->ts_thread_id,
					ts + (uintptr_t)L->ts_frame};

		if (safe_words(w, a, 2) < 0 || w[0] != (uintptr_t)pthread_self())
			return -1;
		*f = w[1];
		return 0;
	}
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
	/* cf is this thread's C stack (or the root cframe inside the thread
	 * state): mapped, though its contents may not be written yet. */
	*f = ld_ptr(cf + L->cframe_current_frame);
	if (*f == 0)
		return 0;
	/* The common case costs no system call: a pointer inside the live
	 * part of the data stack points at mapped memory holding frames and
	 * their locals (NULL or objects), so plain loads are safe there; a
	 * popped frame lies at or above the top and is refused below. */
	chunk = ld_ptr(ts + L->ts_datastack_chunk);
	top = ld_ptr(ts + L->ts_datastack_top);
	if (ptr_ok(*f) && *f >= chunk && *f + (uintptr_t)L->fr_owner < top)
		return is_code(L, ld_ptr(*f + L->fr_code)) ? 0 : -1;
	/* Elsewhere: a generator's frame on the heap, or garbage. */
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

HANDLER int pystack_walk(const struct py_layout *L, uintptr_t ts,
			 struct py_raw_frame *out, int max, int *truncated)
{
	uintptr_t f, next, tortoise, last = 0;
	unsigned power = 1, steps = 0;
	struct py_raw_frame rf;
	enum hop h;
	int n = 0, open = 0;

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
		/* 3.12+: the frame kept last is the root-most of its run */
		if (h == HOP_ENTRY && open) {
			out[n - 1].run_start = 1;
			out[n - 1].entry = f;
		}
		open = h == HOP_ENTRY ? 0 : open;
		if (h == HOP_KEEP) {
			if (n == max) {
				if (truncated)
					*truncated = 1;
				break;
			}
			rf.frame = f;
			rf.entry = 0;
			out[n++] = rf;
			open = 1;
		}
		last = f;
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
	/* 3.15: a complete chain ends at the thread's base frame; one that
	 * ends elsewhere was read half-written. */
	if (!f && last && L->ts_base_frame >= 0 &&
	    last != ld_ptr(ts + L->ts_base_frame))
		return -1;
	if (n)
		out[n - 1].run_start = 1;
	return n;
}

HANDLER int pycode_read(const struct py_layout *L, uintptr_t code,
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

HANDLER int pystr_utf8(const struct py_layout *L, uintptr_t obj, char *buf,
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
		if (pyintro_copy(buf, obj + (uintptr_t)L->uni_ascii_size, n) < 0)
			return -1;
		return (int)n;
	}

	data = obj + (uintptr_t)L->uni_compact_size;
	for (i = 0; i < len; i++) {
		uint32_t c;
		size_t need;

		if (kind == 1)
			c = ld_u8(data + (uintptr_t)i);
		else if (kind == 2)
			c = ld_u16(data + 2 * (uintptr_t)i);
		else
			c = ld_u32(data + 4 * (uintptr_t)i);
		if (c > 0x10ffff)
			return -1;
		/* A str may hold lone surrogates, which UTF-8 cannot: write
		 * U+FFFD as errors="replace" would. */
		if (c >= 0xd800 && c <= 0xdfff)
			c = 0xfffd;
		if (rfault)
			return -1;
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
