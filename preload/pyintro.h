/*
 * pyintro.h - reading a running CPython from inside it, without its API.
 *
 * libpyprof.so does not link libpython and never calls the Python C API from
 * the signal handler.  Instead it reads the interpreter's memory through
 * offsets: one table for 3.8-3.12 (preload/layout.c, checked against each
 * installed interpreter's headers by tests/layout), and _Py_DebugOffsets
 * read from _PyRuntime for 3.13 and later.  Everything the handler needs is
 * in struct py_layout, filled once by pyintro_init() at load time.
 *
 * Functions marked HANDLER (handler.h) only load memory,
 * compare, and call pthread_getspecific (lock-free, no allocation in glibc)
 * and, on 3.11 and 3.12 only, process_vm_readv on the first frame pointer
 * (see first_frame() in pystack.c: CPython publishes a new C-stack frame
 * before filling it in, so that one pointer may be stale and unmapped).
 * They validate every pointer they follow (alignment, object type, bounds,
 * depth, cycles) and return "nothing" rather than guess.
 *
 * Finding the current thread's PyThreadState is behind one function,
 * pyintro_current_tstate(), because how it is done changes: 3.8-3.14 read
 * the gilstate TSS key (pthread_getspecific); 3.15 keeps that mapping in a
 * C thread-local nothing exports (gh-131185; Debian's 3.14.10 still has
 * the key), so from 3.15 the thread is found by walking the interpreters'
 * thread lists for native_thread_id == gettid() with reads that cannot
 * fault, and remembered in an initial-exec __thread (see tstate.c).
 *
 * A minor version newer than the table (3.16+) is "untested": it is
 * profiled through its _Py_DebugOffsets read with the newest mirror we
 * have, but only after pyintro_current_tstate() has run a self-check on a
 * real stack (object types, string shapes, line numbers, the base frame at
 * the end of the chain), once per process, from the first samples.  Until
 * the verdict it returns 0; a failed check leaves it returning 0 for good.
 * The verdict is written once to stderr, with write(2).
 */
#ifndef PYPROF_PYINTRO_H
#define PYPROF_PYINTRO_H

#include <stddef.h>
#include <stdint.h>

#include "handler.h"

/* Everything the handler reads, in bytes.  A field that a version lacks is
 * -1 (or 0 for sizes). */
struct py_layout {
	unsigned hexversion; /* PY_VERSION_HEX, e.g. 0x030b07f0 */
	int minor;           /* 8..15, or newer when untested */
	int untested;        /* newer than the table: self-check pending */
	int is_static;       /* libpython linked into the executable */
	char version[64];    /* Py_GetVersion(), first line */

	uintptr_t runtime;   /* &_PyRuntime */
	size_t runtime_size; /* its ELF symbol's size, 0 if unknown */
	uintptr_t code_type; /* &PyCode_Type */
	uintptr_t unicode_type;
	uintptr_t bytes_type;

	/* _PyRuntime */
	int rt_initialized, rt_finalizing, rt_interpreters_head, rt_main_thread;
	int rt_tss_key;               /* Py_tss_t {int initialized; key} */
	int tss_key_off;              /* pthread_key_t within Py_tss_t */
	int rt_gil_tstate_current;    /* <= 3.11: GIL holder tstate */
	/* PyInterpreterState */
	int is_next, is_threads_head, is_finalizing, is_gil_ptr;
	int gil_locked, gil_last_holder; /* in struct _gil_runtime_state */
	int rt_gil;                   /* <= 3.11: _PyRuntime.ceval.gil */
	int gil_size;                 /* sizeof(struct _gil_runtime_state) */
	/* PyThreadState */
	int ts_next, ts_interp, ts_frame, ts_cframe, ts_current_frame;
	int ts_thread_id, ts_native_thread_id, ts_state;
	int ts_state_attached;        /* 3.13: value of state when attached */
	int ts_status;                /* 3.13+: the _status bit-field word */
	int ts_holds_gil;             /* 3.14+: int, set while holding the GIL */
	int ts_base_frame;            /* 3.15+: the sentinel ending the chain */
	int cframe_current_frame;
	int ts_datastack_chunk, ts_datastack_top; /* 3.11/3.12: see pystack.c */
	/* frames: PyFrameObject (<= 3.10) or _PyInterpreterFrame (3.11+) */
	int fr_back, fr_code, fr_lasti, fr_instr, fr_owner;
	int fr_is_entry;              /* 3.11: the first frame of an eval call */
	int fr_owner_generator, fr_owner_cstack; /* enum _frameowner values */
	int fr_owner_interpreter;     /* 3.14+: owners >= this are not code */
	int fr_code_tag;              /* 3.14+: _PyStackRef tag bits, else 0 */
	/* PyCodeObject */
	int co_filename, co_name, co_qualname, co_firstlineno, co_linetable;
	int co_firsttraceable, co_code_adaptive;
	int co_size_field; /* ob_size of the code (3.11+: code units), or -1 */
	int co_code;       /* <= 3.10: the co_code bytes object, for its size */
	/* objects */
	int ob_type, ob_size;
	int bytes_sval;
	int uni_length, uni_state, uni_ascii_size, uni_compact_size;
};

struct py_raw_frame {
	uintptr_t code;  /* PyCodeObject *, type-checked */
	uintptr_t frame; /* the frame's address (tells recursion levels apart) */
	int32_t lasti;   /* byte offset of the current instruction, -1 if none */
	/* The root-most frame of the frames one call of the eval loop runs
	 * (pystack_walk): each is its own on 3.8-3.10 */
	int32_t run_start;
	/* 3.12+, on a run_start frame: the address of the entry frame of its
	 * eval call (on the C stack), 0 if none */
	uintptr_t entry;
};

/* What pycode_read() found; the string pointers are Python str objects,
 * the line table points into a bytes object's data.  Valid only while the
 * code object is alive (true during the handler, for its own stack). */
struct py_code_view {
	uintptr_t filename, name, qualname; /* qualname 0 before 3.11 */
	int32_t firstlineno;
	const uint8_t *linetable;
	uint32_t linetable_len;
};

/*
 * Fills L for the interpreter in this process.  It uses dlsym and dladdr,
 * once, from the library constructor.
 * Returns 0 if this is a supported CPython; -1 if it is not CPython at all
 * (no _PyRuntime / Py_GetVersion: stay dormant, say nothing); -2 if it is
 * CPython but unsupported, with a one-line reason in why.
 */
int pyintro_init(struct py_layout *L, char *why, size_t why_len);

/* This thread's PyThreadState, or 0 if it has none, the interpreter is
 * not initialized, or it is finalizing. */
HANDLER uintptr_t pyintro_current_tstate(const struct py_layout *L);

/* Non-zero while the runtime is initialized and not finalizing: the only
 * time the C API may be asked for anything (Py_AddPendingCall). */
int pyintro_running(const struct py_layout *L);

/* Non-zero while the runtime (or main interpreter) finalizes. */
HANDLER int pyintro_finalizing(const struct py_layout *L);

/* Non-zero if tstate holds the GIL now. */
HANDLER int pyintro_holds_gil(const struct py_layout *L, uintptr_t tstate);

/* Where the GIL of tstate's interpreter is: *size bytes from the return
 * value (its condition variable and mutex among them), 0 if not known.
 * For wall mode's sampler thread, which tells a thread waiting for the
 * GIL by the futex it sleeps on. */
uintptr_t pyintro_gil(const struct py_layout *L, uintptr_t tstate,
		      size_t *size);

/*
 * Walks tstate's frames from the innermost (out[0]) outwards,
 * skipping shim and incomplete frames.  Stops after max frames and sets
 * *truncated if more remain.  Returns the number of frames stored (0 for
 * an empty stack), or -1 if the chain failed validation.  Outside remote
 * mode tstate is the calling thread's own (on 3.8, whose states can be
 * found freed, a state that does not name this thread gives -1).
 */
HANDLER int pystack_walk(const struct py_layout *L, uintptr_t tstate,
			 struct py_raw_frame *out, int max, int *truncated);

/* Reads a code object's names, first line and line table.  Returns 0, or
 * -1 if code is not a valid code object. */
HANDLER int pycode_read(const struct py_layout *L, uintptr_t code,
			struct py_code_view *out);

/*
 * Copies a str object as UTF-8 into buf (at most cap bytes,
 * never NUL-terminated), converting from the compact 1/2/4-byte kinds when
 * it is not ASCII.  Returns the byte length, or -1 if obj is not a valid
 * str.  A string longer than cap is cut at a character boundary.
 */
HANDLER int pystr_utf8(const struct py_layout *L, uintptr_t obj, char *buf,
		       size_t cap);

/*
 * Remote mode: reading another thread's Python state (wall mode's sampler
 * thread).  After pyintro_remote_thread(), every read the functions above
 * make in the calling thread goes through process_vm_readv and cannot
 * fault, and pycode_read()'s line table must be copied with
 * pyintro_copy().  A read that failed makes the result meaningless:
 * callers reset before a walk and test pyintro_remote_failed() after.
 * The sampler thread's, which takes no signals.
 */
void pyintro_remote_thread(void);
/* Before a walk: clears the failure flag; with forget, also the cache of
 * blocks read (once per tick: see remote.c). */
void pyintro_remote_reset(int forget);
int pyintro_remote_failed(void);

/* Copies n bytes at src: memcpy, or in remote mode a read that cannot
 * fault.  0, or -1 if unreadable.  The handler's too (intern.c). */
HANDLER int pyintro_copy(void *dst, uintptr_t src, size_t n);

/*
 * Remote mode.  The live PyThreadState of the thread with native id tid
 * (pthread_t pthread, or 0 if unknown): cached if it still is, else
 * searched for in the interpreters' thread lists.  0 if none (a native
 * thread, one not started yet or gone, or during finalization).
 */
uintptr_t pyintro_thread_tstate(const struct py_layout *L, uintptr_t cached,
				int tid, uint64_t pthread);

#endif
