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
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "format/linetable.h"
#include "pyintro.h"

/*
 * Remote mode (wall mode's sampler thread, see sampler.c): the calling
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
#define RBLOCK 256
#define RBLOCKS 1024 /* direct-mapped by address */
static __thread int rmode __attribute__((tls_model("initial-exec")));
/* Only the one thread in remote mode uses these: plain statics, not
 * initial-exec TLS, of which a library loaded with dlopen (the IPython
 * extension's case) gets very little. */
static int rfault;
static struct {
	uintptr_t base; /* 0: empty */
	uint8_t data[RBLOCK];
} rcache[RBLOCKS];

static int no_vm_readv;

static pid_t rpid; /* getpid() is a system call: once per sampler thread */

static int vm_read(void *dst, uintptr_t a, size_t n)
{
	struct iovec local = { dst, n }, remote = { (void *)a, n };

	return process_vm_readv(rpid, &local, 1, &remote, 1, 0) ==
			       (ssize_t)n ? 0 : -1;
}

/* n bytes at a, n <= 8 and a aligned to n (never spanning blocks). */
static void remote_ld(void *dst, uintptr_t a, size_t n)
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

/*
 * Other threads store these words (the GIL holder, _finalizing); relaxed
 * atomic loads keep the compiler from tearing, merging or hoisting them,
 * and on x86-64 they are plain moves.
 */
#define LD(name, T, R)                                                    \
	static inline R name(uintptr_t a)                                 \
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

static inline intptr_t ld_ssize(uintptr_t a)
{
	return (intptr_t)ld_ptr(a);
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

int pyintro_copy(void *dst, uintptr_t src, size_t n)
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
static int safe_copy(void *dst, uintptr_t a, size_t n)
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
static int safe_words(uintptr_t *w, const uintptr_t *a, int n)
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

int pyintro_running(const struct py_layout *L)
{
	return L->runtime && ld_int(L->runtime + L->rt_initialized) &&
	       !pyintro_finalizing(L);
}

int pyintro_finalizing(const struct py_layout *L)
{
	if (!L->runtime)
		return 0;
	/* Py_FinalizeEx sets this before it frees the daemon threads' states,
	 * whose TSS slots may then point at freed memory. */
	return ld_ptr(L->runtime + L->rt_finalizing) != 0;
}

/* 3.8-3.14: the gilstate TSS key maps this thread to its own state. */
static uintptr_t tstate_from_key(const struct py_layout *L)
{
	uintptr_t rt = L->runtime, tss;
	pthread_key_t key;

	if (!ld_int(rt + L->rt_initialized))
		return 0;
	/* Not tstate_current / _PyThreadState_GET(): that is the thread
	 * holding the GIL, maybe not us.  The gilstate key maps this thread
	 * to its own state whether or not it holds the GIL.  It is deleted
	 * at finalization, and _is_initialized says so. */
	tss = rt + L->rt_tss_key;
	if (!ld_int(tss))
		return 0;
	key = (pthread_key_t)ld_int(tss + L->tss_key_off);
	return (uintptr_t)pthread_getspecific(key);
}

/*
 * 3.15+ (and untested versions): no key to ask.  The mapping lives in
 * CPython's C thread-local _Py_tss_gilstate, which nothing exports and
 * which a handler could not reach through __tls_get_addr anyway.  So:
 *
 *  - Search: walk interpreters_head -> threads_head -> next, as the debug
 *    offsets describe, for the state whose thread_id is pthread_self() --
 *    CPython stores PyThread_get_thread_ident() there when it binds a
 *    state to its thread.  pthread_self() rather than gettid(): it is one
 *    load, and the forking thread keeps it in the child, where CPython
 *    keeps its state too.  The lists belong to other threads, which may
 *    free a state while we read it; every read of the search goes through
 *    process_vm_readv and so cannot fault, and a bounded hop count stops
 *    a list that is being rewritten under us.
 *  - Cache: the state found is kept in an initial-exec __thread (a load
 *    at a fixed %fs offset, never __tls_get_addr), and checked on each
 *    use.  Fast: when the main interpreter (which lives inside _PyRuntime,
 *    static memory) is the only one and its GIL is locked with the cached
 *    state as last_holder, that state is alive -- CPython frees a state
 *    only after releasing the GIL -- so plain loads confirm its thread_id.
 *    Otherwise (no GIL held: I/O, native code, wall mode's idle samples;
 *    or subinterpreters) one process_vm_readv of the window holding
 *    thread_id, _status and interp: a state that was cleared, or freed
 *    and reused, fails the check and the search runs again.
 *    Measured per call (tests/layout/tstate-cost.c, this VM): TSS key
 *    (3.8-3.14) 10 ns; 3.15 with the GIL held 20 ns; 3.15 without it
 *    ~1.4 us (getpid + process_vm_readv), against 18-30 us for taking the
 *    signal itself.
 *  - Misses back off: a thread with no Python state (a native worker)
 *    would otherwise search on every sample; after a failed search the
 *    next 1, 2, 4 ... 64 samples of that thread skip it, unless the list
 *    changed meanwhile.  "Changed" is cheap to see: interpreters_head
 *    lives in _PyRuntime (static memory, a plain load) and a new thread
 *    state is pushed at the head of its interpreter's list, so the pair
 *    (interpreters_head, its threads_head) moves whenever a state is
 *    added there -- at Py_Initialize for the main thread, at
 *    PyGILState_Ensure for a foreign one.  A threading.Thread's state is
 *    linked by its parent and bound to it (thread_id set) by the thread
 *    itself moments later; a sample in between costs one skipped sample.
 *
 * Cost, measured (tests/layout/walk-test.py prints it): see the man page.
 */
#define ST_BOUND (1u << 1)                           /* _status.bound */
#define ST_GONE ((1u << 2) | (1u << 6) | (1u << 7)) /* unbound, cleared, finalized */
#define SEARCH_HOPS 4096
#define BACKOFF_MAX 64

static __thread struct {
	uintptr_t ts;
	uintptr_t key[2]; /* the list heads at the last failed search */
	uint32_t skip, backoff;
} me __attribute__((tls_model("initial-exec")));

static int status_live(uintptr_t st)
{
	return (st & ST_BOUND) && !(st & ST_GONE);
}

/* The state whose thread is the caller, found in the thread lists, or 0. */
static uintptr_t tstate_search(const struct py_layout *L, uintptr_t self)
{
	uintptr_t a[4], w[4], interp, ts, next_interp;
	unsigned hops = 0;

	a[0] = L->runtime + L->rt_interpreters_head;
	if (safe_words(&interp, a, 1) < 0)
		return 0;
	while (ptr_ok(interp) && hops++ < SEARCH_HOPS) {
		a[0] = interp + L->is_threads_head;
		a[1] = interp + L->is_next;
		if (safe_words(w, a, 2) < 0)
			return 0;
		ts = w[0];
		next_interp = w[1];
		while (ptr_ok(ts) && hops++ < SEARCH_HOPS) {
			a[0] = ts + L->ts_thread_id;
			a[1] = ts + L->ts_status;
			a[2] = ts + L->ts_interp;
			a[3] = ts + L->ts_next;
			if (safe_words(w, a, 4) < 0)
				return 0;
			if (w[0] == self && status_live(w[1]) && w[2] == interp)
				return ts;
			ts = w[3];
		}
		interp = next_interp;
	}
	return 0;
}

static inline int in_runtime(const struct py_layout *L, uintptr_t p)
{
	return p >= L->runtime && p < L->runtime + L->runtime_size;
}

/* Whether the cached state is still this thread's, alive. */
static int tstate_still_mine(const struct py_layout *L, uintptr_t ts,
			     uintptr_t self)
{
	uintptr_t head, gil, w[32];
	int lo, hi;

	/* The GIL holder's state is alive (see above); one interpreter,
	 * embedded in _PyRuntime, so its GIL is static memory too. */
	head = ld_ptr(L->runtime + L->rt_interpreters_head);
	if (in_runtime(L, head) && !L->untested) {
		gil = ld_ptr(head + L->is_gil_ptr);
		if (in_runtime(L, gil) && ld_ptr(gil + L->gil_last_holder) == ts &&
		    ld_int(gil + L->gil_locked) &&
		    ld_ptr(ts + L->ts_thread_id) == self)
			return 1;
	}
	/* One read of the window spanning the three words. */
	lo = L->ts_thread_id;
	if (L->ts_status < lo)
		lo = L->ts_status;
	if (L->ts_interp < lo)
		lo = L->ts_interp;
	hi = L->ts_thread_id;
	if (L->ts_status > hi)
		hi = L->ts_status;
	if (L->ts_interp > hi)
		hi = L->ts_interp;
	lo &= ~7;
	if (hi + 8 - lo > (int)sizeof w || safe_copy(w, ts + (uintptr_t)lo,
						     (size_t)(hi + 8 - lo)) < 0)
		return 0;
#define WORD(off) (*(const uintptr_t *)((const char *)w + (off) - lo))
	return WORD(L->ts_thread_id) == self && status_live(WORD(L->ts_status)) &&
	       ptr_ok(WORD(L->ts_interp));
#undef WORD
}

static int selfcheck_gate(const struct py_layout *L, uintptr_t ts);
static int selfcheck_pending(void);
static int sc_verdict; /* SC_PASS (1) once an untested layout passed */

/*
 * Remote mode only.  Whether ts is the live state of the thread (tid,
 * pthread): by native_thread_id where the version has it (3.11+), else
 * by thread_id (pthread_self() of its thread).  pthread 0 is unknown.
 */
static int tstate_is(const struct py_layout *L, uintptr_t ts, int tid,
		     uint64_t pthread)
{
	if (!ptr_ok(ts))
		return 0;
	if (L->ts_status >= 0 && !status_live(ld_ptr(ts + L->ts_status)))
		return 0;
	if (!ptr_ok(ld_ptr(ts + L->ts_interp)))
		return 0;
	if (L->ts_native_thread_id >= 0)
		return ld_ptr(ts + L->ts_native_thread_id) == (uintptr_t)tid &&
		       !rfault;
	return pthread && ld_ptr(ts + L->ts_thread_id) == pthread && !rfault;
}

uintptr_t pyintro_thread_tstate(const struct py_layout *L, uintptr_t cached,
				int tid, uint64_t pthread)
{
	uintptr_t interp, ts, next_interp;
	unsigned hops = 0;

	if (!rmode || !L->runtime || pyintro_finalizing(L) ||
	    !ld_int(L->runtime + L->rt_initialized))
		return 0;
	if (L->untested && __atomic_load_n(&sc_verdict, __ATOMIC_ACQUIRE) != 1)
		return 0; /* not before the self-check has passed */
	if (cached && tstate_is(L, cached, tid, pthread))
		return cached;
	interp = ld_ptr(L->runtime + L->rt_interpreters_head);
	while (ptr_ok(interp) && hops++ < SEARCH_HOPS && !rfault) {
		ts = ld_ptr(interp + L->is_threads_head);
		next_interp = ld_ptr(interp + L->is_next);
		while (ptr_ok(ts) && hops++ < SEARCH_HOPS && !rfault) {
			if (tstate_is(L, ts, tid, pthread) &&
			    ld_ptr(ts + L->ts_interp) == interp)
				return ts;
			ts = ld_ptr(ts + L->ts_next);
		}
		interp = next_interp;
	}
	return 0;
}

static uintptr_t tstate_from_list(const struct py_layout *L)
{
	uintptr_t self = (uintptr_t)pthread_self(), ts = me.ts, key[2], a;

	if (ts && tstate_still_mine(L, ts, self))
		return ts;
	me.ts = 0;
	key[0] = ld_ptr(L->runtime + L->rt_interpreters_head);
	key[1] = 0;
	a = key[0] + L->is_threads_head;
	if (in_runtime(L, key[0]))  /* the main interpreter: static */
		key[1] = ld_ptr(a);
	else if (ptr_ok(key[0]) && safe_words(&key[1], &a, 1) < 0)
		key[1] = 1;
	if (me.skip && key[0] == me.key[0] && key[1] == me.key[1]) {
		me.skip--;
		return 0;
	}
	me.key[0] = key[0];
	me.key[1] = key[1];
	ts = tstate_search(L, self);
	if (ts) {
		me.ts = ts;
		me.backoff = 0;
		me.skip = 0;
	} else if (L->untested && selfcheck_pending()) {
		/* Counts toward "no state found"; no back-off meanwhile, so
		 * the verdict comes within a few hundred samples. */
		selfcheck_gate(L, 0);
	} else {
		me.backoff = me.backoff ? me.backoff * 2 : 1;
		if (me.backoff > BACKOFF_MAX)
			me.backoff = BACKOFF_MAX;
		me.skip = me.backoff;
	}
	return ts;
}

uintptr_t pyintro_current_tstate(const struct py_layout *L)
{
	uintptr_t ts, interp;

	if (!L->runtime || pyintro_finalizing(L))
		return 0;
	ts = L->rt_tss_key >= 0 ? tstate_from_key(L) : tstate_from_list(L);
	if (!ptr_ok(ts))
		return 0;
	if (L->is_finalizing >= 0) {
		/* 3.12+: a subinterpreter finalizes on its own, without the
		 * runtime-wide flag. */
		interp = ld_ptr(ts + L->ts_interp);
		if (!ptr_ok(interp) || ld_ptr(interp + L->is_finalizing))
			return 0;
	}
	if (L->untested && !selfcheck_gate(L, ts))
		return 0;
	return ts;
}

/*
 * The self-check for untested versions (L->untested): before a version
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
enum { SC_PENDING = 0, SC_PASS = 1, SC_FAIL = 2 };
static int sc_verdict, sc_busy, sc_inconclusive, sc_frames;
static const char *sc_why;
static uint8_t sc_table[4096]; /* guarded by sc_busy */

static int sc_str(const struct py_layout *L, uintptr_t obj, char *ascii,
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
static int selfcheck(const struct py_layout *L, uintptr_t ts)
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

/* async-signal-safe: the one message, with write(2). */
static void selfcheck_say(const struct py_layout *L, int pass)
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

static int selfcheck_pending(void)
{
	return __atomic_load_n(&sc_verdict, __ATOMIC_RELAXED) == SC_PENDING;
}

/* Non-zero once the check has passed.  ts 0: a sample found no state;
 * that counts against the layout only in the main thread (other threads
 * may be native ones) and once the interpreter list exists. */
static int selfcheck_gate(const struct py_layout *L, uintptr_t ts)
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

int pyintro_holds_gil(const struct py_layout *L, uintptr_t ts)
{
	uintptr_t interp, gil;

	if (!L->runtime || !ptr_ok(ts))
		return 0;
	if (L->rt_gil_tstate_current >= 0) /* <= 3.11: one runtime GIL */
		return ld_ptr(L->runtime + L->rt_gil_tstate_current) == ts;
	/* 3.14+: the state says so itself, in its own word. */
	if (L->ts_holds_gil >= 0)
		return ld_int(ts + L->ts_holds_gil) != 0;

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
		return HOP_SKIP;

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
	return HOP_KEEP;
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

int pystack_walk(const struct py_layout *L, uintptr_t ts,
		 struct py_raw_frame *out, int max, int *truncated)
{
	uintptr_t f, next, tortoise, last = 0;
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
