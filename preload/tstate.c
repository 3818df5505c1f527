/*
 * tstate.c - which PyThreadState is the calling thread's (and another
 * thread's, for wall mode), whether it holds the GIL, whether the
 * interpreter is going away.
 *
 * The one idea: any thread state but the interrupted thread's own may be
 * freed while we read it, so a state is trusted only once something that
 * cannot be stale vouches for it -- the TSS key (3.8-3.14), the GIL it
 * holds, or a read that cannot fault showing that it still names this
 * thread -- and the search for it through the interpreters' thread lists
 * reads nothing that can fault.
 */
#include <pthread.h>
#include <stdint.h>

#include "pystack-int.h"

int pyintro_running(const struct py_layout *L)
{
	return L->runtime && ld_int(L->runtime + L->rt_initialized) &&
	       !pyintro_finalizing(L);
}

HANDLER int pyintro_finalizing(const struct py_layout *L)
{
	if (!L->runtime)
		return 0;
	/* Py_FinalizeEx sets this before it frees the daemon threads' states,
	 * whose TSS slots may then point at freed memory. */
	return ld_ptr(L->runtime + L->rt_finalizing) != 0;
}

/* 3.8-3.14: the gilstate TSS key maps this thread to its own state. */
HANDLER static uintptr_t tstate_from_key(const struct py_layout *L)
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

HANDLER static int status_live(uintptr_t st)
{
	return (st & ST_BOUND) && !(st & ST_GONE);
}

/* The state whose thread is the caller, found in the thread lists, or 0. */
HANDLER static uintptr_t tstate_search(const struct py_layout *L,
				       uintptr_t self)
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

HANDLER static inline int in_runtime(const struct py_layout *L, uintptr_t p)
{
	return p >= L->runtime && p < L->runtime + L->runtime_size;
}

/* Whether the cached state is still this thread's, alive. */
HANDLER static int tstate_still_mine(const struct py_layout *L, uintptr_t ts,
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
	if (L->untested && !selfcheck_passed())
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

HANDLER static uintptr_t tstate_from_list(const struct py_layout *L)
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

HANDLER uintptr_t pyintro_current_tstate(const struct py_layout *L)
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

HANDLER int pyintro_holds_gil(const struct py_layout *L, uintptr_t ts)
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


uintptr_t pyintro_gil(const struct py_layout *L, uintptr_t ts, size_t *size)
{
	uintptr_t interp, gil;

	*size = L->gil_size > 0 ? (size_t)L->gil_size : 0;
	if (!L->runtime || !*size)
		return 0;
	if (L->rt_gil >= 0)
		return L->runtime + (uintptr_t)L->rt_gil;
	if (L->is_gil_ptr < 0 || !ptr_ok(ts))
		return 0;
	interp = ld_ptr(ts + L->ts_interp);
	if (!ptr_ok(interp))
		return 0;
	gil = ld_ptr(interp + L->is_gil_ptr);
	return ptr_ok(gil) ? gil : 0;
}
