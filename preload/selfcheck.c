/*
 * selfcheck.c - the self-check for untested versions (L->untested): before a version
 * newer than the table is profiled, the layout guessed for it must read
 * a real stack correctly.  It runs here, in the handler, on the first
 * samples that find a thread state, because that is the first moment
 * Python is known to be running code, and the only context pyprof has
 * then that needs no hook into the interpreter: the constructor runs
 * before Py_Initialize, and calling into Python (a pending call, an audit
 * hook) would make the check depend on the very API calls the design
 * avoids.  So the check uses no ground truth from Python; it uses
 * redundancy instead: every read goes through process_vm_readv (the
 * offsets are not trusted yet, so nothing may fault), and what is read
 * must be self-consistent --
 *   - the state was found by thread_id == pthread_self() and points back
 *     at the interpreter whose list held it;
 *   - every frame's owner is a known value; every code frame's executable
 *     (tag bits masked) has type PyCode_Type (an exported symbol);
 *   - the instruction pointer lies inside the code, 2-byte aligned, and
 *     _co_firsttraceable inside the code too;
 *   - co_name, co_qualname and co_filename are compact str objects of a
 *     valid kind; ASCII ones are printable, and the qualname ends with
 *     the name;
 *   - the line table is a bytes object, and decoding it (the 3.11+
 *     encoding) at the instruction gives a line at or after co_firstlineno
 *     for at least one frame, and no line before it for any;
 *   - where the debug offsets name a base frame, the chain ends there.
 * A wrong offset makes one of these fail with overwhelming probability
 * (tests/integration/0080-untested.sh shifts the code offsets by one word
 * and sees it fail).  A sample whose stack has no code frame yet is
 * inconclusive; 200 inconclusive samples, or 200 samples in which no
 * thread state is found at all after the interpreter list appeared, are
 * a failure.  One thread at a time runs the check (a flag taken with a
 * CAS; the others drop their sample), and the verdict is final.
 */
#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "format/linetable.h"
#include "pystack-int.h"

enum { SC_PENDING = 0, SC_PASS = 1, SC_FAIL = 2 };
static int sc_verdict, sc_busy, sc_inconclusive, sc_frames;
static const char *sc_why;
static uint8_t sc_table[4096]; /* guarded by sc_busy */

HANDLER static int sc_str(const struct py_layout *L, uintptr_t obj, char *ascii,
			  size_t cap, size_t *len_out)
{
	uintptr_t a[3] = { obj + L->ob_type, obj + L->uni_state,
			   obj + L->uni_length }, w[3];
	unsigned state, kind;

	if (!ptr_ok(obj) || safe_words(w, a, 3) < 0 || w[0] != L->unicode_type)
		return -1;
	state = (unsigned)w[1];
	kind = (state >> 2) & 7;
	if (!((state >> 5) & 1) || (kind != 1 && kind != 2 && kind != 4) ||
	    (intptr_t)w[2] <= 0 || w[2] > 4096)
		return -1;
	*len_out = 0;
	if (((state >> 6) & 1)) { /* ASCII: its bytes are printable text */
		size_t n = w[2] < cap ? w[2] : cap;

		if (kind != 1 ||
		    safe_copy(ascii, obj + (uintptr_t)L->uni_ascii_size, n) < 0)
			return -1;
		for (size_t i = 0; i < n; i++)
			if (ascii[i] < 0x20 || ascii[i] > 0x7e)
				return -1;
		*len_out = n;
	}
	return 0;
}

/* 1 pass, 0 inconclusive, -1 fail (sc_why says why). */
HANDLER static int selfcheck(const struct py_layout *L, uintptr_t ts)
{
	uintptr_t a[8], w[8], f, base = 0, last = 0, interp;
	int frames = 0, lines_ok = 0, skip_from, max_owner = 3;
	unsigned hex = L->hexversion > 0x030f00f0 ? 0x030f00f0 : L->hexversion;

	a[0] = ts + L->ts_current_frame;
	a[1] = ts + L->ts_interp;
	a[2] = ts + (L->ts_base_frame >= 0 ? L->ts_base_frame : 0);
	if (safe_words(w, a, 3) < 0)
		return sc_why = "thread state unreadable", -1;
	f = w[0];
	interp = w[1];
	if (L->ts_base_frame >= 0)
		base = w[2];
	if (!ptr_ok(interp))
		return sc_why = "thread state's interp is not a pointer", -1;
	if (!f)
		return 0;
	skip_from = L->fr_owner_interpreter >= 0 ? L->fr_owner_interpreter
						 : L->fr_owner_cstack;
	if (L->fr_owner_cstack > max_owner)
		max_owner = L->fr_owner_cstack;
	for (int hops = 0; f; hops++) {
		uintptr_t code, instr, units, first;
		char name[128], qual[256], file[64];
		size_t nl, ql, fl;
		int line, lasti;
		uint8_t owner;

		if (hops == 1024 || !ptr_ok(f))
			return sc_why = "frame chain too long or misaligned", -1;
		a[0] = f + L->fr_code;
		a[1] = f + L->fr_back;
		a[2] = f + L->fr_instr;
		if (safe_words(w, a, 3) < 0 ||
		    safe_copy(&owner, f + L->fr_owner, 1) < 0)
			return sc_why = "frame unreadable", -1;
		last = f;
		f = w[1];
		if (owner > max_owner)
			return sc_why = "unknown frame owner", -1;
		if (skip_from >= 0 && owner >= skip_from)
			continue;
		code = w[0] & ~(uintptr_t)L->fr_code_tag;
		instr = w[2];
		a[0] = code + L->ob_type;
		a[1] = code + L->co_size_field;
		a[2] = code + L->co_name;
		a[3] = code + L->co_qualname;
		a[4] = code + L->co_filename;
		a[5] = code + L->co_linetable;
		a[6] = code + L->co_firstlineno;
		a[7] = code + L->co_firsttraceable;
		if (!ptr_ok(code) || safe_words(w, a, 8) < 0 ||
		    w[0] != L->code_type)
			return sc_why = "f_executable is not a code object", -1;
		units = w[1];
		first = (uint32_t)w[7];
		if (units == 0 || units > (1u << 24) || first >= units)
			return sc_why = "implausible code size", -1;
		if (instr < code + (uintptr_t)L->co_code_adaptive ||
		    instr >= code + (uintptr_t)L->co_code_adaptive + 2 * units ||
		    (instr & 1))
			return sc_why = "instruction pointer outside its code", -1;
		lasti = (int)(instr - (code + (uintptr_t)L->co_code_adaptive));
		if (sc_str(L, w[2], name, sizeof name, &nl) < 0 ||
		    sc_str(L, w[3], qual, sizeof qual, &ql) < 0 ||
		    sc_str(L, w[4], file, sizeof file, &fl) < 0)
			return sc_why = "co_name, co_qualname or co_filename is "
					"not a str", -1;
		if (nl && ql && nl < sizeof name && ql < sizeof qual &&
		    (ql < nl || memcmp(qual + ql - nl, name, nl) != 0))
			return sc_why = "co_qualname does not end with co_name", -1;
		{
			uintptr_t lt = w[5], b[2] = { lt + L->ob_type,
						      lt + L->ob_size }, x[2];
			int firstlineno = (int)(uint32_t)w[6];

			if (!ptr_ok(lt) || safe_words(x, b, 2) < 0 ||
			    x[0] != L->bytes_type || (intptr_t)x[1] < 0)
				return sc_why = "co_linetable is not bytes", -1;
			if (firstlineno < 0)
				return sc_why = "negative co_firstlineno", -1;
			if (x[1] <= sizeof sc_table) {
				if (safe_copy(sc_table, lt + (uintptr_t)L->bytes_sval,
					      x[1]) < 0)
					return sc_why = "line table unreadable", -1;
				line = linetable_line(hex, sc_table, x[1],
						      firstlineno, lasti);
				/* A line before co_firstlineno is not proof of a
				 * misread: a module's prologue maps to line 0 in
				 * newer versions.  Only lines that make sense
				 * count towards passing. */
				if (line >= firstlineno)
					lines_ok++;
			}
		}
		frames++;
	}
	if (L->ts_base_frame >= 0 && last != base)
		return sc_why = "frame chain does not end at the base frame", -1;
	if (!frames)
		return 0;
	if (!lines_ok)
		return 0; /* e.g. only a prologue at line 0: look again */
	sc_frames = frames;
	return 1;
}

/* The one message, with write(2): the handler has no stdio. */
HANDLER static void selfcheck_say(const struct py_layout *L, int pass)
{
	char buf[512], num[24];
	size_t n = 0;
	int saved = errno, k = 0;
	unsigned long v = (unsigned long)getpid();

#define PUT(s) do { const char *s_ = (s); \
		while (*s_ && n < sizeof buf - 1) buf[n++] = *s_++; } while (0)
	do
		num[k++] = (char)('0' + v % 10);
	while ((v /= 10) && k < (int)sizeof num);
	PUT("pyprof[");
	while (k)
		buf[n++] = num[--k];
	PUT("]: python ");
	for (int i = 0; L->version[i] && L->version[i] != ' ' && n < 100; i++)
		buf[n++] = L->version[i];
	if (pass) {
		PUT(" is untested (pyprof knows 3.8-3.15); its "
		    "_Py_DebugOffsets passed pyprof's self-check on a live "
		    "stack: profiling it\n");
	} else {
		PUT(" is untested (pyprof knows 3.8-3.15) and failed pyprof's "
		    "self-check (");
		PUT(sc_why ? sc_why : "?");
		PUT("); not profiling\n");
	}
#undef PUT
	(void)!write(2, buf, n);
	errno = saved;
}

HANDLER int selfcheck_pending(void)
{
	return __atomic_load_n(&sc_verdict, __ATOMIC_RELAXED) == SC_PENDING;
}

/* Non-zero once the check has passed.  ts 0: a sample found no state;
 * that counts against the layout only in the main thread (other threads
 * may be native ones) and once the interpreter list exists. */
HANDLER int selfcheck_gate(const struct py_layout *L, uintptr_t ts)
{
	int v = __atomic_load_n(&sc_verdict, __ATOMIC_ACQUIRE), r;
	uintptr_t head;

	if (v != SC_PENDING)
		return v == SC_PASS;
	if (__atomic_exchange_n(&sc_busy, 1, __ATOMIC_ACQUIRE))
		return 0;
	if (ts) {
		r = selfcheck(L, ts);
	} else {
		/* Nothing found: only a failure of ours if Python is up. */
		r = 0;
		if (syscall(SYS_gettid) != getpid() ||
		    safe_copy(&head, L->runtime + L->rt_interpreters_head,
			      sizeof head) < 0 || !head)
			r = 2;
	}
	if (r == 0 && ++sc_inconclusive >= 200) {
		r = -1;
		sc_why = ts ? "no Python frame seen in 200 samples"
			    : "no thread state found for this thread";
	}
	if (r == 1 || r == -1) {
		__atomic_store_n(&sc_verdict, r == 1 ? SC_PASS : SC_FAIL,
				 __ATOMIC_RELEASE);
		selfcheck_say(L, r == 1);
	}
	__atomic_store_n(&sc_busy, 0, __ATOMIC_RELEASE);
	return r == 1;
}

int selfcheck_passed(void)
{
	return __atomic_load_n(&sc_verdict, __ATOMIC_ACQUIRE) == SC_PASS;
}
