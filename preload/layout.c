/*
 * layout.c - where things are inside this process's CPython.
 *
 * pyintro_init() finds the interpreter with dlsym (it is whatever the
 * executable or its libpython exports; we link neither) and fills a
 * struct py_layout the signal handler then reads through.
 *
 * The one idea: the offsets for 3.8-3.12 come from a single table written
 * the way CPython's headers would print it (one line per field, one column
 * per minor version), and tests/layout/check-layout.sh diffs it against a
 * probe compiled with each installed interpreter's own headers.  From 3.13
 * CPython describes itself: _PyRuntime starts with _Py_DebugOffsets, so
 * those fields are read at run time and the 3.13-3.15 columns only hold
 * what the debug offsets lack (the TSS key, owner values, stackref tags,
 * _co_firsttraceable...).  The debug-offsets struct itself changes between
 * minors (3.14 and 3.15 insert fields in the middle), so each minor has its
 * own mirror below.  A minor newer than the table is read with the newest
 * mirror and the 3.15 constants and marked untested: selfcheck.c then
 * lets it be profiled only once a check on a live stack has passed.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* dladdr, dladdr1 */
#endif
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>

#include "layout.h"
#include "pyintro.h"

#define N (-1)                /* this version has no such field */
#define D LAYOUT_FROM_DEBUG   /* 3.13: taken from _Py_DebugOffsets */

/*
 * The table.  Columns are minor versions 8..15.  Measured on x86-64 Linux,
 * release (non-debug, GIL) builds; 3.14 and 3.15 are Debian's (sid,
 * experimental).  The probe in tests/layout is the authority, not this
 * comment or the fact sheet.
 *
 *        field                  3.8   3.9  3.10  3.11  3.12  3.13  3.14  3.15 */
#define LAYOUT_TABLE(F)                                                  \
	/* _PyRuntime */                                                 \
	F(rt_initialized,          12,   12,   12,   16,   16,  600,  776,  904) \
	F(rt_finalizing,           16,   16,   16,   24,   24,    D,    D,    D) \
	F(rt_interpreters_head,    32,   32,   32,   40,   40,    D,    D,    D) \
	F(rt_main_thread,          72,   72,   72,   80,   64,  656,  832,  960) \
	F(rt_tss_key,            1392,  584,  584,  592, 1544, 2160, 2336,    N) \
	F(tss_key_off,              4,    4,    4,    4,    4,    4,    4,    N) \
	F(rt_gil_tstate_current, 1368,  568,  568,  576,    N,    N,    N,    N) \
	/* PyInterpreterState; struct _gil_runtime_state */              \
	F(is_next,                  0,    0,    0,    0,    0,    D,    D,    D) \
	F(is_threads_head,          8,    8,    8,   16,   72,    D,    D,    D) \
	F(is_finalizing,            N,    N,    N,    N,  104, 7384, 7392, 7384) \
	F(rt_gil,                1152,  352,  352,  360,    N,    N,    N,    N) \
	F(gil_size,               208,  208,  208,  208,  208,  208,  208,  208) \
	F(is_gil_ptr,               N,    N,    N,    N,  384,    D,    D,    D) \
	F(gil_locked,               N,    N,    N,    N,   16,    D,    D,    D) \
	F(gil_last_holder,          N,    N,    N,    N,    8,    D,    D,    D) \
	/* PyThreadState; _PyCFrame */                                   \
	F(ts_next,                  8,    8,    8,    8,    8,    D,    D,    D) \
	F(ts_interp,               16,   16,   16,   16,   16,    D,    D,    D) \
	F(ts_frame,                24,   24,   24,    N,    N,    N,    N,    N) \
	F(ts_cframe,                N,    N,   48,   56,   56,    N,    N,    N) \
	F(cframe_current_frame,     N,    N,    N,    8,    0,    N,    N,    N) \
	F(ts_datastack_chunk,       N,    N,    N,  296,  232,    N,    N,    N) \
	F(ts_datastack_top,         N,    N,    N,  304,  240,    N,    N,    N) \
	F(ts_current_frame,         N,    N,    N,    N,    N,    D,    D,    D) \
	F(ts_thread_id,           176,  176,  176,  152,  136,    D,    D,    D) \
	F(ts_native_thread_id,      N,    N,    N,  160,  144,    D,    D,    D) \
	F(ts_state,                 N,    N,    N,    N,    N,   40,   44,   48) \
	F(ts_state_attached,        N,    N,    N,    N,    N,    1,    1,    1) \
	F(ts_status,                N,    N,    N,    N,    N,    D,    D,    D) \
	F(ts_holds_gil,             N,    N,    N,    N,    N,    N,   36,    D) \
	F(ts_base_frame,            N,    N,    N,    N,    N,    N,    N,    D) \
	/* PyFrameObject (<= 3.10), _PyInterpreterFrame (3.11+) */       \
	F(fr_back,                 24,   24,   24,   48,    8,    D,    D,    D) \
	F(fr_code,                 32,   32,   32,   32,    0,    D,    D,    D) \
	F(fr_lasti,               104,  104,   96,    N,    N,    N,    N,    N) \
	F(fr_instr,                 N,    N,    N,   56,   56,    D,    D,    D) \
	F(fr_owner,                 N,    N,    N,   69,   70,    D,    D,    D) \
	F(fr_is_entry,              N,    N,    N,   68,    N,    N,    N,    N) \
	F(fr_owner_generator,       N,    N,    N,    1,    1,    1,    1,    1) \
	F(fr_owner_cstack,          N,    N,    N,    N,    3,    3,    4,    N) \
	F(fr_owner_interpreter,     N,    N,    N,    N,    N,    N,    3,    3) \
	F(fr_code_tag,              0,    0,    0,    0,    0,    0,    3,    3) \
	/* PyCodeObject */                                               \
	F(co_filename,            104,  104,  104,  112,  112,    D,    D,    D) \
	F(co_name,                112,  112,  112,  120,  120,    D,    D,    D) \
	F(co_qualname,              N,    N,    N,  128,  128,    D,    D,    D) \
	F(co_firstlineno,          40,   40,   40,   72,   68,    D,    D,    D) \
	F(co_linetable,           120,  120,  120,  136,  136,    D,    D,    D) \
	F(co_firsttraceable,        N,    N,    N,  168,  176,  184,  192,  192) \
	F(co_code_adaptive,         N,    N,    N,  184,  192,    D,    D,    D) \
	F(co_size_field,            N,    N,    N,   16,   16,    D,    D,    D) \
	F(co_code,                 48,   48,   48,    N,    N,    N,    N,    N) \
	/* objects */                                                    \
	F(ob_type,                  8,    8,    8,    8,    8,    D,    D,    D) \
	F(ob_size,                 16,   16,   16,   16,   16,    D,    D,    D) \
	F(bytes_sval,              32,   32,   32,   32,   32,    D,    D,    D) \
	F(uni_length,              16,   16,   16,   16,   16,    D,    D,    D) \
	F(uni_state,               32,   32,   32,   32,   32,    D,    D,    D) \
	F(uni_ascii_size,          48,   48,   48,   48,   40,    D,    D,    D) \
	F(uni_compact_size,        72,   72,   72,   72,   56,    D,    D,    D)

#define COL_8(f, a, b, c, d, e, g, h, i)  .f = a,
#define COL_9(f, a, b, c, d, e, g, h, i)  .f = b,
#define COL_10(f, a, b, c, d, e, g, h, i) .f = c,
#define COL_11(f, a, b, c, d, e, g, h, i) .f = d,
#define COL_12(f, a, b, c, d, e, g, h, i) .f = e,
#define COL_13(f, a, b, c, d, e, g, h, i) .f = g,
#define COL_14(f, a, b, c, d, e, g, h, i) .f = h,
#define COL_15(f, a, b, c, d, e, g, h, i) .f = i,
#define ROW(m) { .minor = m, LAYOUT_TABLE(COL_##m) }

static const struct py_layout layout_table[] = {
	ROW(8), ROW(9), ROW(10), ROW(11), ROW(12), ROW(13), ROW(14), ROW(15),
};

#define FIELD(f, a, b, c, d, e, g, h, i) { #f, offsetof(struct py_layout, f) },
static const struct {
	const char *name;
	size_t off;
} layout_fields[] = { LAYOUT_TABLE(FIELD) };

#define NFIELDS ((int)(sizeof layout_fields / sizeof layout_fields[0]))

const struct py_layout *layout_table_for_minor(int minor)
{
	if (minor < LAYOUT_MINOR_MIN || minor > LAYOUT_MINOR_MAX)
		return NULL;
	return &layout_table[minor - LAYOUT_MINOR_MIN];
}

int layout_field_count(void)
{
	return NFIELDS;
}

const char *layout_field_name(int i)
{
	return i >= 0 && i < NFIELDS ? layout_fields[i].name : NULL;
}

int layout_field_value(const struct py_layout *L, int i)
{
	if (i < 0 || i >= NFIELDS)
		return N;
	return *(const int *)((const char *)L + layout_fields[i].off);
}

/*
 * _Py_DebugOffsets, one mirror per minor version that has it
 * (Include/internal/pycore_debug_offsets.h from 3.14, pycore_runtime.h in
 * 3.13).  CPython promises the layout only within a minor version: 3.14
 * inserted threads_main, the tlbc fields, stackpointer, co_tlbc and a
 * set_object block, and appended gen_object, llist_node and
 * debugger_support; 3.15 inserted base_frame and holds_gil (among others)
 * into thread_state, and more into type_object and unicode_object.  Only
 * the cookie, version and free_threaded prefix is stable.  All members are
 * uint64_t, so a mirror has no padding to get wrong, and each mirror's
 * sizeof is checked against the real struct by tests/layout.
 */
#define DBG_U64(...) uint64_t __VA_ARGS__
#define DBG_HEAD char cookie[8]; DBG_U64(version, free_threaded)
#define DBG_RUNTIME struct { DBG_U64(size, finalizing, interpreters_head); } runtime_state

struct debug_offsets_v313 {
	DBG_HEAD;
	DBG_RUNTIME;
	struct {
		DBG_U64(size, id, next, threads_head, gc, imports_modules,
			sysdict, builtins, ceval_gil, gil_runtime_state,
			gil_runtime_state_enabled, gil_runtime_state_locked,
			gil_runtime_state_holder);
	} interpreter_state;
	struct {
		DBG_U64(size, prev, next, interp, current_frame, thread_id,
			native_thread_id, datastack_chunk, status);
	} thread_state;
	struct {
		DBG_U64(size, previous, executable, instr_ptr, localsplus,
			owner);
	} interpreter_frame;
	struct {
		DBG_U64(size, filename, name, qualname, linetable, firstlineno,
			argcount, localsplusnames, localspluskinds,
			co_code_adaptive);
	} code_object;
	struct { DBG_U64(size, ob_type); } pyobject;
	struct { DBG_U64(size, tp_name, tp_repr, tp_flags); } type_object;
	struct { DBG_U64(size, ob_item, ob_size); } tuple_object, list_object;
	struct { DBG_U64(size, ma_keys, ma_values); } dict_object;
	struct { DBG_U64(size, ob_fval); } float_object;
	struct { DBG_U64(size, lv_tag, ob_digit); } long_object;
	struct { DBG_U64(size, ob_size, ob_sval); } bytes_object;
	struct { DBG_U64(size, state, length, asciiobject_size); } unicode_object;
	struct { DBG_U64(size, collecting); } gc;
};

struct debug_offsets_v314 {
	DBG_HEAD;
	DBG_RUNTIME;
	struct {
		DBG_U64(size, id, next, threads_head, threads_main, gc,
			imports_modules, sysdict, builtins, ceval_gil,
			gil_runtime_state, gil_runtime_state_enabled,
			gil_runtime_state_locked, gil_runtime_state_holder,
			code_object_generation, tlbc_generation);
	} interpreter_state;
	struct {
		DBG_U64(size, prev, next, interp, current_frame, thread_id,
			native_thread_id, datastack_chunk, status);
	} thread_state;
	struct {
		DBG_U64(size, previous, executable, instr_ptr, localsplus,
			owner, stackpointer, tlbc_index);
	} interpreter_frame;
	struct {
		DBG_U64(size, filename, name, qualname, linetable, firstlineno,
			argcount, localsplusnames, localspluskinds,
			co_code_adaptive, co_tlbc);
	} code_object;
	struct { DBG_U64(size, ob_type); } pyobject;
	struct { DBG_U64(size, tp_name, tp_repr, tp_flags); } type_object;
	struct { DBG_U64(size, ob_item, ob_size); } tuple_object, list_object;
	struct { DBG_U64(size, used, table, mask); } set_object;
	struct { DBG_U64(size, ma_keys, ma_values); } dict_object;
	struct { DBG_U64(size, ob_fval); } float_object;
	struct { DBG_U64(size, lv_tag, ob_digit); } long_object;
	struct { DBG_U64(size, ob_size, ob_sval); } bytes_object;
	struct { DBG_U64(size, state, length, asciiobject_size); } unicode_object;
	struct { DBG_U64(size, collecting); } gc;
	struct { DBG_U64(size, gi_name, gi_iframe, gi_frame_state); } gen_object;
	struct { DBG_U64(next, prev); } llist_node;
	struct {
		DBG_U64(eval_breaker, remote_debugger_support,
			remote_debugging_enabled, debugger_pending_call,
			debugger_script_path, debugger_script_path_size);
	} debugger_support;
};

struct debug_offsets_v315 {
	DBG_HEAD;
	DBG_RUNTIME;
	struct {
		DBG_U64(size, id, next, threads_head, threads_main, gc,
			imports_modules, sysdict, builtins, ceval_gil,
			gil_runtime_state, gil_runtime_state_enabled,
			gil_runtime_state_locked, gil_runtime_state_holder,
			code_object_generation, tlbc_generation);
	} interpreter_state;
	struct {
		DBG_U64(size, prev, next, interp, current_frame, base_frame,
			last_profiled_frame, last_profiled_frame_seq, thread_id,
			native_thread_id, datastack_chunk, status, holds_gil,
			gil_requested, current_exception, exc_state);
	} thread_state;
	struct { DBG_U64(exc_value); } err_stackitem;
	struct {
		DBG_U64(size, previous, executable, instr_ptr, localsplus,
			owner, stackpointer, tlbc_index);
	} interpreter_frame;
	struct {
		DBG_U64(size, filename, name, qualname, linetable, firstlineno,
			argcount, localsplusnames, localspluskinds,
			co_code_adaptive, co_tlbc);
	} code_object;
	struct { DBG_U64(size, ob_type); } pyobject;
	struct {
		DBG_U64(size, tp_name, tp_repr, tp_flags, tp_basicsize,
			tp_dictoffset);
	} type_object;
	struct { DBG_U64(size, ht_cached_keys); } heap_type_object;
	struct { DBG_U64(size, ob_item, ob_size); } tuple_object, list_object;
	struct { DBG_U64(size, used, table, mask); } set_object;
	struct { DBG_U64(size, ma_keys, ma_values); } dict_object;
	struct { DBG_U64(size, ob_fval); } float_object;
	struct { DBG_U64(size, lv_tag, ob_digit); } long_object;
	struct { DBG_U64(size, ob_size, ob_sval); } bytes_object;
	struct {
		DBG_U64(size, state, length, asciiobject_size,
			compactunicodeobject_size);
	} unicode_object;
	struct {
		DBG_U64(size, collecting, frame, generation_stats_size,
			generation_stats);
	} gc;
	struct { DBG_U64(size, gi_name, gi_iframe, gi_frame_state); } gen_object;
	struct { DBG_U64(next, prev); } llist_node;
	struct {
		DBG_U64(eval_breaker, remote_debugger_support,
			remote_debugging_enabled, debugger_pending_call,
			debugger_script_path, debugger_script_path_size);
	} debugger_support;
};

/* The newest mirror, used for minors newer than the table (untested). */
#define DEBUG_NEWEST_MINOR 15

size_t layout_debug_offsets_size(int minor)
{
	switch (minor) {
	case 13: return sizeof(struct debug_offsets_v313);
	case 14: return sizeof(struct debug_offsets_v314);
	case 15: return sizeof(struct debug_offsets_v315);
	default: return 0;
	}
}

/*
 * What pyprof takes from _Py_DebugOffsets, whatever the minor: each
 * mirror is copied into this by member name (the names do not change
 * between minors, only their positions), and one function checks and
 * applies it.  0 for "this minor has no such member".
 */
struct debug_view {
	char cookie[8];
	uint64_t version, free_threaded;
	uint64_t rt_size, rt_finalizing, rt_interpreters_head;
	uint64_t is_size, is_next, is_threads_head, is_ceval_gil,
		is_gil_runtime_state, is_gil_locked, is_gil_holder;
	uint64_t ts_size, ts_next, ts_interp, ts_current_frame, ts_thread_id,
		ts_native_thread_id, ts_status, ts_holds_gil, ts_base_frame;
	uint64_t fr_size, fr_previous, fr_executable, fr_instr_ptr, fr_owner;
	uint64_t co_size, co_filename, co_name, co_qualname, co_linetable,
		co_firstlineno, co_code_adaptive;
	uint64_t ob_size_, ob_type;
	uint64_t tuple_size, tuple_ob_size;
	uint64_t bytes_size, bytes_ob_sval;
	uint64_t uni_size, uni_state, uni_length, uni_ascii_size,
		uni_compact_size;
};

#define VIEW_COMMON(v, d) do {                                            \
	memcpy((v)->cookie, (d)->cookie, 8);                              \
	(v)->version = (d)->version;                                      \
	(v)->free_threaded = (d)->free_threaded;                          \
	(v)->rt_size = (d)->runtime_state.size;                           \
	(v)->rt_finalizing = (d)->runtime_state.finalizing;               \
	(v)->rt_interpreters_head = (d)->runtime_state.interpreters_head; \
	(v)->is_size = (d)->interpreter_state.size;                       \
	(v)->is_next = (d)->interpreter_state.next;                       \
	(v)->is_threads_head = (d)->interpreter_state.threads_head;       \
	(v)->is_ceval_gil = (d)->interpreter_state.ceval_gil;             \
	(v)->is_gil_runtime_state = (d)->interpreter_state.gil_runtime_state; \
	(v)->is_gil_locked = (d)->interpreter_state.gil_runtime_state_locked; \
	(v)->is_gil_holder = (d)->interpreter_state.gil_runtime_state_holder; \
	(v)->ts_size = (d)->thread_state.size;                            \
	(v)->ts_next = (d)->thread_state.next;                            \
	(v)->ts_interp = (d)->thread_state.interp;                        \
	(v)->ts_current_frame = (d)->thread_state.current_frame;          \
	(v)->ts_thread_id = (d)->thread_state.thread_id;                  \
	(v)->ts_native_thread_id = (d)->thread_state.native_thread_id;    \
	(v)->ts_status = (d)->thread_state.status;                        \
	(v)->fr_size = (d)->interpreter_frame.size;                       \
	(v)->fr_previous = (d)->interpreter_frame.previous;               \
	(v)->fr_executable = (d)->interpreter_frame.executable;           \
	(v)->fr_instr_ptr = (d)->interpreter_frame.instr_ptr;             \
	(v)->fr_owner = (d)->interpreter_frame.owner;                     \
	(v)->co_size = (d)->code_object.size;                             \
	(v)->co_filename = (d)->code_object.filename;                     \
	(v)->co_name = (d)->code_object.name;                             \
	(v)->co_qualname = (d)->code_object.qualname;                     \
	(v)->co_linetable = (d)->code_object.linetable;                   \
	(v)->co_firstlineno = (d)->code_object.firstlineno;               \
	(v)->co_code_adaptive = (d)->code_object.co_code_adaptive;        \
	(v)->ob_size_ = (d)->pyobject.size;                               \
	(v)->ob_type = (d)->pyobject.ob_type;                             \
	(v)->tuple_size = (d)->tuple_object.size;                         \
	(v)->tuple_ob_size = (d)->tuple_object.ob_size;                   \
	(v)->bytes_size = (d)->bytes_object.size;                         \
	(v)->bytes_ob_sval = (d)->bytes_object.ob_sval;                   \
	(v)->uni_size = (d)->unicode_object.size;                         \
	(v)->uni_state = (d)->unicode_object.state;                       \
	(v)->uni_length = (d)->unicode_object.length;                     \
	(v)->uni_ascii_size = (d)->unicode_object.asciiobject_size;       \
} while (0)

/* Reads the debug offsets at runtime with the mirror of minor (0 if none). */
static int debug_view_read(struct debug_view *v, const void *runtime, int minor)
{
	memset(v, 0, sizeof *v);
	if (minor == 13) {
		struct debug_offsets_v313 d;

		memcpy(&d, runtime, sizeof d);
		VIEW_COMMON(v, &d);
	} else if (minor == 14) {
		struct debug_offsets_v314 d;

		memcpy(&d, runtime, sizeof d);
		VIEW_COMMON(v, &d);
	} else if (minor == 15) {
		struct debug_offsets_v315 d;

		memcpy(&d, runtime, sizeof d);
		VIEW_COMMON(v, &d);
		v->ts_holds_gil = d.thread_state.holds_gil;
		v->ts_base_frame = d.thread_state.base_frame;
		v->uni_compact_size = d.unicode_object.compactunicodeobject_size;
	} else {
		return -1;
	}
	return 0;
}

/* An offset read from the target is trusted only if it lands inside the
 * object it describes; this also keeps it within an int. */
static int dbg_off(uint64_t off, uint64_t size, int *out)
{
	if (size == 0 || size > (1u << 20) || off >= size)
		return -1;
	*out = (int)off;
	return 0;
}

/* Length of the version proper in L->version ("3.13.0" of "3.13.0 (main..."). */
static int version_len(const struct py_layout *L)
{
	int n = 0;

	while (L->version[n] && L->version[n] != ' ')
		n++;
	return n;
}

/*
 * Fills the LAYOUT_FROM_DEBUG fields of L from _Py_DebugOffsets, read
 * with the mirror of mirror_minor (the interpreter's own minor, or the
 * newest we know for an untested one).  -2 with a reason when the struct
 * is absent or implausible.
 */
static int layout_from_debug(struct py_layout *L, const void *runtime,
			     int mirror_minor, char *why, size_t why_len)
{
	struct debug_view d;
	int bad = 0, locked, holder, vn = version_len(L);

	if (debug_view_read(&d, runtime, mirror_minor) < 0)
		return -2;
	if (memcmp(d.cookie, "xdebugpy", 8) != 0) {
		snprintf(why, why_len, "python %.*s: _PyRuntime has no debug "
			 "offsets cookie", vn, L->version);
		return -2;
	}
	if ((d.version >> 16) != (L->hexversion >> 16)) {
		snprintf(why, why_len, "python %.*s: debug offsets say version "
			 "%#llx", vn, L->version, (unsigned long long)d.version);
		return -2;
	}
	if (d.free_threaded) {
		snprintf(why, why_len, "python %.*s: free-threaded builds are "
			 "not supported", vn, L->version);
		return -2;
	}

#define TAKE(field, off, sz) bad |= dbg_off(d.off, d.sz, &L->field)
	TAKE(rt_finalizing, rt_finalizing, rt_size);
	TAKE(rt_interpreters_head, rt_interpreters_head, rt_size);
	TAKE(is_next, is_next, is_size);
	TAKE(is_threads_head, is_threads_head, is_size);
	TAKE(is_gil_ptr, is_ceval_gil, is_size);
	TAKE(ts_next, ts_next, ts_size);
	TAKE(ts_interp, ts_interp, ts_size);
	TAKE(ts_current_frame, ts_current_frame, ts_size);
	TAKE(ts_thread_id, ts_thread_id, ts_size);
	TAKE(ts_native_thread_id, ts_native_thread_id, ts_size);
	TAKE(ts_status, ts_status, ts_size);
	if (L->ts_holds_gil == D)
		TAKE(ts_holds_gil, ts_holds_gil, ts_size);
	if (L->ts_base_frame == D)
		TAKE(ts_base_frame, ts_base_frame, ts_size);
	TAKE(fr_back, fr_previous, fr_size);
	TAKE(fr_code, fr_executable, fr_size);
	TAKE(fr_instr, fr_instr_ptr, fr_size);
	TAKE(fr_owner, fr_owner, fr_size);
	TAKE(co_filename, co_filename, co_size);
	TAKE(co_name, co_name, co_size);
	TAKE(co_qualname, co_qualname, co_size);
	TAKE(co_firstlineno, co_firstlineno, co_size);
	TAKE(co_linetable, co_linetable, co_size);
	TAKE(co_code_adaptive, co_code_adaptive, co_size);
	TAKE(ob_type, ob_type, ob_size_);
	/* Every PyVarObject keeps ob_size in the same place; the code object
	 * is one, and tuple is the debug offsets' nearest witness. */
	TAKE(ob_size, tuple_ob_size, tuple_size);
	TAKE(co_size_field, tuple_ob_size, tuple_size);
	TAKE(bytes_sval, bytes_ob_sval, bytes_size);
	TAKE(uni_length, uni_length, uni_size);
	TAKE(uni_state, uni_state, uni_size);
#undef TAKE
	/* sizeof(PyASCIIObject) is the struct's size, not an offset in it */
	if (d.uni_ascii_size == 0 || d.uni_ascii_size > 256)
		bad = 1;
	L->uni_ascii_size = (int)d.uni_ascii_size;
	/* PyCompactUnicodeObject = PyASCIIObject + utf8_length + utf8 since
	 * 3.12 dropped wstr; 3.15's debug offsets say so themselves. */
	L->uni_compact_size = d.uni_compact_size
		? (int)d.uni_compact_size : L->uni_ascii_size + 16;
	if (L->uni_compact_size <= L->uni_ascii_size ||
	    L->uni_compact_size > 256)
		bad = 1;
	/* The code bytes follow the fixed part of the code object. */
	if (L->co_code_adaptive + 2 > (int)d.co_size + 64)
		bad = 1;

	/* The debug offsets give the GIL fields relative to the interpreter
	 * (its own _gil); the handler follows ceval.gil, which may point at
	 * the main interpreter's GIL, so it needs them relative to the GIL. */
	bad |= dbg_off(d.is_gil_locked, d.is_size, &locked);
	bad |= dbg_off(d.is_gil_holder, d.is_size, &holder);
	if (!bad && (uint64_t)locked > d.is_gil_runtime_state &&
	    (uint64_t)holder > d.is_gil_runtime_state) {
		L->gil_locked = locked - (int)d.is_gil_runtime_state;
		L->gil_last_holder = holder - (int)d.is_gil_runtime_state;
	} else {
		bad = 1;
	}

	/* The table's own constants must fit the sizes CPython reports. */
	if (L->rt_initialized >= (int)d.rt_size ||
	    L->rt_tss_key >= (int)d.rt_size ||
	    L->is_finalizing >= (int)d.is_size ||
	    L->ts_state >= (int)d.ts_size ||
	    L->ts_holds_gil >= (int)d.ts_size ||
	    L->co_firsttraceable >= (int)d.co_size)
		bad = 1;

	if (bad) {
		snprintf(why, why_len, "python %.*s: implausible debug offsets",
			 vn, L->version);
		return -2;
	}
	return 0;
}

/*
 * "3.11.7 (main, ...)", "3.13.0rc2+ ..." -> PY_VERSION_HEX.  Py_Version
 * says the same from 3.11 on, but Py_GetVersion() exists everywhere and
 * only formats static strings, so it is safe before Py_Initialize.
 */
static unsigned parse_version(const char *s, int *major, int *minor)
{
	unsigned v[3] = { 0, 0, 0 }, level = 0xf, serial = 0;
	int i;

	for (i = 0; i < 3; i++) {
		if (*s < '0' || *s > '9')
			return 0;
		while (*s >= '0' && *s <= '9')
			v[i] = v[i] * 10 + (unsigned)(*s++ - '0');
		if (i < 2 && *s++ != '.')
			return 0;
	}
	if (s[0] == 'a' || s[0] == 'b' || (s[0] == 'r' && s[1] == 'c')) {
		level = s[0] == 'a' ? 0xa : s[0] == 'b' ? 0xb : 0xc;
		s += s[0] == 'r' ? 2 : 1;
		while (*s >= '0' && *s <= '9')
			serial = serial * 10 + (unsigned)(*s++ - '0');
	}
	*major = (int)v[0];
	*minor = (int)v[1];
	return (v[0] & 0xff) << 24 | (v[1] & 0xff) << 16 | (v[2] & 0xff) << 8 |
	       level << 4 | (serial & 0xf);
}

/*
 * Whether sym lives in the executable rather than a libpython.so.  The
 * executable's program headers (AT_PHDR) lie inside its first mapping, so
 * dladdr on them names the executable; comparing load bases then needs no
 * exported symbol in the main program and no realpath of argv[0] or
 * /proc/self/exe (which may be unreadable or name a different link).
 */
static int in_main_program(const void *sym)
{
	Dl_info exe, lib;
	const void *phdr = (const void *)getauxval(AT_PHDR);

	if (!phdr || !dladdr(phdr, &exe) || !dladdr(sym, &lib))
		return 0;
	return exe.dli_fbase == lib.dli_fbase;
}

/* sizeof(_PyRuntime) from its ELF symbol, 0 if unknown. */
static size_t symbol_size(const void *sym)
{
	Dl_info info;
	const ElfW(Sym) *es = NULL;

	if (!dladdr1(sym, &info, (void **)&es, RTLD_DL_SYMENT) || !es)
		return 0;
	return es->st_size;
}

int pyintro_init(struct py_layout *L, char *why, size_t why_len)
{
	const char *(*get_version)(void);
	const struct py_layout *row;
	void *runtime, *type_type;
	const char *ver;
	int major, minor, rc, untested = 0, mirror;
	const char *test;
	size_t n, rt_size;
	char dummy[1];

	if (!why || !why_len) {
		why = dummy;
		why_len = sizeof dummy;
	}
	why[0] = '\0';
	memset(L, 0, sizeof *L);

	runtime = dlsym(RTLD_DEFAULT, "_PyRuntime");
	*(void **)&get_version = dlsym(RTLD_DEFAULT, "Py_GetVersion");
	if (!runtime || !get_version)
		return -1; /* not CPython (or < 3.7): stay silent */

	ver = get_version();
	for (n = 0; ver[n] && ver[n] != '\n' && n < sizeof L->version - 1; n++)
		L->version[n] = ver[n];
	L->version[n] = '\0';
	n = (size_t)version_len(L);

	L->hexversion = parse_version(ver, &major, &minor);
	if (!L->hexversion || major != 3) {
		snprintf(why, why_len, "python %.*s: cannot parse version",
			 (int)n, L->version);
		return -2;
	}
	L->minor = minor;
	mirror = minor > DEBUG_NEWEST_MINOR ? DEBUG_NEWEST_MINOR : minor;
	row = layout_table_for_minor(minor);
	if (!row && minor > LAYOUT_MINOR_MAX) {
		/* Untested: try the newest mirror; the self-check decides. */
		row = layout_table_for_minor(LAYOUT_MINOR_MAX);
		untested = 1;
	}
	/* Test hook: treat a known 3.13+ as untested, so that the self-check
	 * runs on real interpreters ("skew": with code offsets made wrong on
	 * purpose, so that it must fail). */
	test = getenv("PYPROF_TEST_UNTESTED");
	if (test && *test && minor >= 13 && row) {
		untested = 1;
		mirror = minor <= DEBUG_NEWEST_MINOR ? minor : DEBUG_NEWEST_MINOR;
	}
	if (!row) {
		snprintf(why, why_len, "python %.*s is not supported "
			 "(3.%d-3.%d are)", (int)n, L->version,
			 LAYOUT_MINOR_MIN, LAYOUT_MINOR_MAX);
		return -2;
	}
	if (strstr(ver, "free-threading")) {
		snprintf(why, why_len, "python %.*s: free-threaded builds are "
			 "not supported", (int)n, L->version);
		return -2;
	}
	/* Py_REF_DEBUG builds change internal structs the table assumes. */
	if (dlsym(RTLD_DEFAULT, "_Py_NegativeRefcount")) {
		snprintf(why, why_len, "python %.*s: debug builds are not "
			 "supported", (int)n, L->version);
		return -2;
	}

	L->runtime = (uintptr_t)runtime;
	L->code_type = (uintptr_t)dlsym(RTLD_DEFAULT, "PyCode_Type");
	L->unicode_type = (uintptr_t)dlsym(RTLD_DEFAULT, "PyUnicode_Type");
	L->bytes_type = (uintptr_t)dlsym(RTLD_DEFAULT, "PyBytes_Type");
	type_type = dlsym(RTLD_DEFAULT, "PyType_Type");
	if (!L->code_type || !L->unicode_type || !L->bytes_type) {
		snprintf(why, why_len, "python %.*s: PyCode_Type, "
			 "PyUnicode_Type or PyBytes_Type not exported",
			 (int)n, L->version);
		return -2;
	}
	L->is_static = in_main_program(runtime);

	{
		/* Copy the row but keep what was found above. */
		struct py_layout head = *L;

		*L = *row;
		L->hexversion = head.hexversion;
		L->minor = head.minor;
		L->is_static = head.is_static;
		memcpy(L->version, head.version, sizeof L->version);
		L->runtime = head.runtime;
		L->code_type = head.code_type;
		L->unicode_type = head.unicode_type;
		L->bytes_type = head.bytes_type;
	}

	if (minor >= 13) {
		rc = layout_from_debug(L, runtime, mirror, why, why_len);
		if (rc)
			return rc;
	}
	if (untested) {
		/* Only what the debug offsets say, or what the self-check can
		 * see, is used: the table's interpreter-side constants may have
		 * moved, so the checks that need them are dropped. */
		L->untested = 1;
		L->is_finalizing = N;
		L->ts_state = N;
		L->rt_tss_key = N;
		if (test && !strcmp(test, "skew")) {
			L->co_filename += 8;
			L->co_name += 8;
			L->co_qualname += 8;
		}
	}
	for (int i = 0; i < NFIELDS; i++) {
		if (layout_field_value(L, i) == D) {
			snprintf(why, why_len, "python %.*s: %s missing from the "
				 "debug offsets", (int)n, L->version,
				 layout_fields[i].name);
			return -2;
		}
	}

	/* A type object's own type is PyType_Type: a cheap proof that
	 * ob_type sits where the table says (Py_TRACE_REFS moves it). */
	if (type_type &&
	    *(void **)(L->code_type + (uintptr_t)L->ob_type) != type_type) {
		snprintf(why, why_len, "python %.*s: unexpected object header",
			 (int)n, L->version);
		return -2;
	}
	/* The runtime's fields must fit inside _PyRuntime. */
	rt_size = symbol_size(runtime);
	L->runtime_size = rt_size;
	if (rt_size && ((L->rt_tss_key >= 0 &&
			 (size_t)L->rt_tss_key + 8 > rt_size) ||
			(size_t)L->rt_main_thread + 8 > rt_size ||
			(size_t)L->rt_initialized + 4 > rt_size)) {
		snprintf(why, why_len, "python %.*s: _PyRuntime is %zu bytes, "
			 "smaller than the table expects", (int)n, L->version,
			 rt_size);
		return -2;
	}
	return 0;
}
