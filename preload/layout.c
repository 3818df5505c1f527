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
 * those fields are read at run time and the 3.13 column only holds what
 * the debug offsets lack (the TSS key, owner values, _co_firsttraceable...).
 * The debug-offsets struct itself changes between minors (3.14 inserts
 * fields in the middle), so each minor that uses it needs its own mirror
 * below; an unknown minor is refused rather than guessed.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* dladdr, dladdr1 */
#endif
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>

#include "layout.h"
#include "pyintro.h"

#define N (-1)                /* this version has no such field */
#define D LAYOUT_FROM_DEBUG   /* 3.13: taken from _Py_DebugOffsets */

/*
 * The table.  Columns are minor versions 8..13.  Measured on x86-64 Linux,
 * release (non-debug, GIL) builds; the probe in tests/layout is the
 * authority, not this comment or the fact sheet.
 *
 *        field                  3.8   3.9  3.10  3.11  3.12  3.13 */
#define LAYOUT_TABLE(F)                                                  \
	/* _PyRuntime */                                                 \
	F(rt_initialized,          12,   12,   12,   16,   16,  600)     \
	F(rt_finalizing,           16,   16,   16,   24,   24,    D)     \
	F(rt_interpreters_head,    32,   32,   32,   40,   40,    D)     \
	F(rt_main_thread,          72,   72,   72,   80,   64,  656)     \
	F(rt_tss_key,            1392,  584,  584,  592, 1544, 2160)     \
	F(tss_key_off,              4,    4,    4,    4,    4,    4)     \
	F(rt_gil_tstate_current, 1368,  568,  568,  576,    N,    N)     \
	/* PyInterpreterState; struct _gil_runtime_state */              \
	F(is_next,                  0,    0,    0,    0,    0,    D)     \
	F(is_threads_head,          8,    8,    8,   16,   72,    D)     \
	F(is_finalizing,            N,    N,    N,    N,  104, 7384)     \
	F(is_gil_ptr,               N,    N,    N,    N,  384,    D)     \
	F(gil_locked,               N,    N,    N,    N,   16,    D)     \
	F(gil_last_holder,          N,    N,    N,    N,    8,    D)     \
	/* PyThreadState; _PyCFrame */                                   \
	F(ts_next,                  8,    8,    8,    8,    8,    D)     \
	F(ts_interp,               16,   16,   16,   16,   16,    D)     \
	F(ts_frame,                24,   24,   24,    N,    N,    N)     \
	F(ts_cframe,                N,    N,   48,   56,   56,    N)     \
	F(cframe_current_frame,     N,    N,    N,    8,    0,    N)     \
	F(ts_datastack_chunk,       N,    N,    N,  296,  232,    N)     \
	F(ts_datastack_top,         N,    N,    N,  304,  240,    N)     \
	F(ts_current_frame,         N,    N,    N,    N,    N,    D)     \
	F(ts_thread_id,           176,  176,  176,  152,  136,    D)     \
	F(ts_native_thread_id,      N,    N,    N,  160,  144,    D)     \
	F(ts_state,                 N,    N,    N,    N,    N,   40)     \
	F(ts_state_attached,        N,    N,    N,    N,    N,    1)     \
	/* PyFrameObject (<= 3.10), _PyInterpreterFrame (3.11+) */       \
	F(fr_back,                 24,   24,   24,   48,    8,    D)     \
	F(fr_code,                 32,   32,   32,   32,    0,    D)     \
	F(fr_lasti,               104,  104,   96,    N,    N,    N)     \
	F(fr_instr,                 N,    N,    N,   56,   56,    D)     \
	F(fr_owner,                 N,    N,    N,   69,   70,    D)     \
	F(fr_owner_generator,       N,    N,    N,    1,    1,    1)     \
	F(fr_owner_cstack,          N,    N,    N,    N,    3,    3)     \
	/* PyCodeObject */                                               \
	F(co_filename,            104,  104,  104,  112,  112,    D)     \
	F(co_name,                112,  112,  112,  120,  120,    D)     \
	F(co_qualname,              N,    N,    N,  128,  128,    D)     \
	F(co_firstlineno,          40,   40,   40,   72,   68,    D)     \
	F(co_linetable,           120,  120,  120,  136,  136,    D)     \
	F(co_firsttraceable,        N,    N,    N,  168,  176,  184)     \
	F(co_code_adaptive,         N,    N,    N,  184,  192,    D)     \
	F(co_size_field,            N,    N,    N,   16,   16,    D)     \
	F(co_code,                 48,   48,   48,    N,    N,    N)     \
	/* objects */                                                    \
	F(ob_type,                  8,    8,    8,    8,    8,    D)     \
	F(ob_size,                 16,   16,   16,   16,   16,    D)     \
	F(bytes_sval,              32,   32,   32,   32,   32,    D)     \
	F(uni_length,              16,   16,   16,   16,   16,    D)     \
	F(uni_state,               32,   32,   32,   32,   32,    D)     \
	F(uni_ascii_size,          48,   48,   48,   48,   40,    D)     \
	F(uni_compact_size,        72,   72,   72,   72,   56,    D)

#define COL_8(f, a, b, c, d, e, g)  .f = a,
#define COL_9(f, a, b, c, d, e, g)  .f = b,
#define COL_10(f, a, b, c, d, e, g) .f = c,
#define COL_11(f, a, b, c, d, e, g) .f = d,
#define COL_12(f, a, b, c, d, e, g) .f = e,
#define COL_13(f, a, b, c, d, e, g) .f = g,
#define ROW(m) { .minor = m, LAYOUT_TABLE(COL_##m) }

static const struct py_layout layout_table[] = {
	ROW(8), ROW(9), ROW(10), ROW(11), ROW(12), ROW(13),
};

#define FIELD(f, a, b, c, d, e, g) { #f, offsetof(struct py_layout, f) },
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
 * _Py_DebugOffsets as 3.13 declares it (Include/internal/pycore_runtime.h).
 * CPython promises this layout only within a minor version, so this mirror
 * is keyed by minor; 3.14 needs its own.  All members are uint64_t, so the
 * mirror has no padding to get wrong.
 */
struct debug_offsets_v313 {
	char cookie[8];
	uint64_t version;
	uint64_t free_threaded;
	struct {
		uint64_t size, finalizing, interpreters_head;
	} runtime_state;
	struct {
		uint64_t size, id, next, threads_head, gc, imports_modules,
			sysdict, builtins, ceval_gil, gil_runtime_state,
			gil_runtime_state_enabled, gil_runtime_state_locked,
			gil_runtime_state_holder;
	} interpreter_state;
	struct {
		uint64_t size, prev, next, interp, current_frame, thread_id,
			native_thread_id, datastack_chunk, status;
	} thread_state;
	struct {
		uint64_t size, previous, executable, instr_ptr, localsplus,
			owner;
	} interpreter_frame;
	struct {
		uint64_t size, filename, name, qualname, linetable,
			firstlineno, argcount, localsplusnames,
			localspluskinds, co_code_adaptive;
	} code_object;
	struct {
		uint64_t size, ob_type;
	} pyobject;
	struct {
		uint64_t size, tp_name, tp_repr, tp_flags;
	} type_object;
	struct {
		uint64_t size, ob_item, ob_size;
	} tuple_object, list_object;
	struct {
		uint64_t size, ma_keys, ma_values;
	} dict_object;
	struct {
		uint64_t size, ob_fval;
	} float_object;
	struct {
		uint64_t size, lv_tag, ob_digit;
	} long_object;
	struct {
		uint64_t size, ob_size, ob_sval;
	} bytes_object;
	struct {
		uint64_t size, state, length, asciiobject_size;
	} unicode_object;
	struct {
		uint64_t size, collecting;
	} gc;
};

size_t layout_debug_offsets_size(int minor)
{
	return minor == 13 ? sizeof(struct debug_offsets_v313) : 0;
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

static int layout_from_debug_v313(struct py_layout *L, const void *runtime,
				  char *why, size_t why_len)
{
	struct debug_offsets_v313 d;
	int bad = 0, locked, holder, vn = version_len(L);

	memcpy(&d, runtime, sizeof d);
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
	TAKE(rt_finalizing, runtime_state.finalizing, runtime_state.size);
	TAKE(rt_interpreters_head, runtime_state.interpreters_head,
	     runtime_state.size);
	TAKE(is_next, interpreter_state.next, interpreter_state.size);
	TAKE(is_threads_head, interpreter_state.threads_head,
	     interpreter_state.size);
	TAKE(is_gil_ptr, interpreter_state.ceval_gil, interpreter_state.size);
	TAKE(ts_next, thread_state.next, thread_state.size);
	TAKE(ts_interp, thread_state.interp, thread_state.size);
	TAKE(ts_current_frame, thread_state.current_frame, thread_state.size);
	TAKE(ts_thread_id, thread_state.thread_id, thread_state.size);
	TAKE(ts_native_thread_id, thread_state.native_thread_id,
	     thread_state.size);
	TAKE(fr_back, interpreter_frame.previous, interpreter_frame.size);
	TAKE(fr_code, interpreter_frame.executable, interpreter_frame.size);
	TAKE(fr_instr, interpreter_frame.instr_ptr, interpreter_frame.size);
	TAKE(fr_owner, interpreter_frame.owner, interpreter_frame.size);
	TAKE(co_filename, code_object.filename, code_object.size);
	TAKE(co_name, code_object.name, code_object.size);
	TAKE(co_qualname, code_object.qualname, code_object.size);
	TAKE(co_firstlineno, code_object.firstlineno, code_object.size);
	TAKE(co_linetable, code_object.linetable, code_object.size);
	TAKE(co_code_adaptive, code_object.co_code_adaptive,
	     code_object.size);
	TAKE(ob_type, pyobject.ob_type, pyobject.size);
	/* Every PyVarObject keeps ob_size in the same place; the code object
	 * is one, and tuple is the debug offsets' nearest witness. */
	TAKE(ob_size, tuple_object.ob_size, tuple_object.size);
	TAKE(co_size_field, tuple_object.ob_size, tuple_object.size);
	TAKE(bytes_sval, bytes_object.ob_sval, bytes_object.size);
	TAKE(uni_length, unicode_object.length, unicode_object.size);
	TAKE(uni_state, unicode_object.state, unicode_object.size);
#undef TAKE
	/* sizeof(PyASCIIObject) is the struct's size, not an offset in it */
	if (d.unicode_object.asciiobject_size == 0 ||
	    d.unicode_object.asciiobject_size > 256)
		bad = 1;
	L->uni_ascii_size = (int)d.unicode_object.asciiobject_size;
	/* PyCompactUnicodeObject = PyASCIIObject + utf8_length + utf8 since
	 * 3.12 dropped wstr; the debug offsets do not say so themselves. */
	L->uni_compact_size = L->uni_ascii_size + 16;

	/* The debug offsets give the GIL fields relative to the interpreter
	 * (its own _gil); the handler follows ceval.gil, which may point at
	 * the main interpreter's GIL, so it needs them relative to the GIL. */
	bad |= dbg_off(d.interpreter_state.gil_runtime_state_locked,
		       d.interpreter_state.size, &locked);
	bad |= dbg_off(d.interpreter_state.gil_runtime_state_holder,
		       d.interpreter_state.size, &holder);
	if (!bad && (uint64_t)locked > d.interpreter_state.gil_runtime_state &&
	    (uint64_t)holder > d.interpreter_state.gil_runtime_state) {
		L->gil_locked =
			locked - (int)d.interpreter_state.gil_runtime_state;
		L->gil_last_holder =
			holder - (int)d.interpreter_state.gil_runtime_state;
	} else {
		bad = 1;
	}

	/* The table's own constants must fit the sizes CPython reports. */
	if (L->rt_initialized >= (int)d.runtime_state.size ||
	    L->rt_tss_key >= (int)d.runtime_state.size ||
	    L->is_finalizing >= (int)d.interpreter_state.size ||
	    L->ts_state >= (int)d.thread_state.size ||
	    L->co_firsttraceable >= (int)d.code_object.size)
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
	int major, minor, rc;
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
	row = layout_table_for_minor(minor);
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

	if (minor == 13) {
		rc = layout_from_debug_v313(L, runtime, why, why_len);
		if (rc)
			return rc;
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
	if (rt_size && ((size_t)L->rt_tss_key + 8 > rt_size ||
			(size_t)L->rt_main_thread + 8 > rt_size ||
			(size_t)L->rt_initialized + 4 > rt_size)) {
		snprintf(why, why_len, "python %.*s: _PyRuntime is %zu bytes, "
			 "smaller than the table expects", (int)n, L->version,
			 rt_size);
		return -2;
	}
	return 0;
}
