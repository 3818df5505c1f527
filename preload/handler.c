/*
 * handler.c - the SIGPROF handler, and the records it writes.
 *
 * The handler (handler_sigprof, called from sigchain.c's dispatch, and
 * everything it calls, each marked HANDLER: see handler.h) may only:
 *   - load and store memory mapped before it runs (the file mapping, the
 *     intern tables, this thread's struct thread_state);
 *   - use lock-free atomics;
 *   - call, of the preload: everything in this file; try_busy, unbusy,
 *     clock_ns, gettid_, by_tid_get, writer_enter, writer_leave,
 *     writer_of and thread_sync (sampler-int.h); intern_code and
 *     intern_string (intern.c); pyintro_current_tstate,
 *     pyintro_finalizing, pyintro_holds_gil, pystack_walk, pycode_read,
 *     pystr_utf8 and pyintro_copy (tstate.c, pystack.c, remote.c, and the
 *     self-check in selfcheck.c); intern_native (intern.c);
 *     native_stack, native_merge and native_learn (native.c), and through
 *     them libunwind's local unwinding (unw_backtrace; for learning,
 *     unw_init_local2, unw_step, unw_get_reg and unw_get_proc_info without
 *     unwind info), documented signal-safe, on a thread that native_warm
 *     readied; its cache takes its own lock (with every signal blocked) on
 *     an address it has not seen (see native.c and libpyprof(7) LIMITS);
 *   - call, of format/: pf_writer_next_chunk, pf_cursor_space,
 *     pf_cursor_commit, pf_count_drop, the pf_put_* encoders and
 *     linetable_line (the self-check's);
 *   - make these system calls: clock_gettime, gettid, getpid, ioctl,
 *     process_vm_readv, write (the self-check's one message), and
 *     fstat, fstatfs, fallocate and pwrite (through the writer); and
 *     pthread_getspecific and pthread_self (glibc: loads, no lock).
 * Never malloc, stdio, locks of pyprof's, dlsym, or the Python C API.
 * It never waits: whatever it cannot do at once it drops, and counts the
 * drop by reason in the file's header.  errno is saved and restored (by dispatch).
 *
 * Re-entrancy: a thread's state is written by the handler and, rarely, by
 * the thread itself outside the handler (start, stop).  `busy` marks both;
 * a signal that lands while busy is dropped, not nested.  Wall mode's
 * sampler thread writes records for waiting threads with the same
 * functions, holding their `busy` the same way.
 */
#include "config.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "intern.h"
#include "native.h"
#include "sampler-int.h"

/* --- records into this thread's chunk ----------------------------------- */

/* Opens a fresh chunk with its PF_REC_THREAD.  The baselines are the
 * previous sample's clocks, so deltas run on across chunks unchanged. */
HANDLER static int new_chunk(struct thread_state *t)
{
	struct pf_rec_thread rec = {0};
	uint8_t *body;
	size_t len;

	if (pf_writer_next_chunk(t->w, &t->cur) != 0)
		return -1;
	t->prev_depth = 0;
	rec.flags = t->is_main ? PF_THREAD_MAIN : 0;
	rec.base_mono_ns = t->last_mono;
	rec.base_cpu_ns = t->last_cpu;
	rec.pthread = t->pthread;
	body = pf_cursor_space(&t->cur, sizeof rec);
	if (!body)
		return -1;
	len = pf_put_thread(body, &rec, NULL);
	pf_cursor_commit(&t->cur, PF_REC_THREAD, len);
	return 0;
}

HANDLER uint8_t *thread_space(struct thread_state *t, size_t n)
{
	uint8_t *p = pf_cursor_space(&t->cur, n);

	if (!p && new_chunk(t) == 0)
		p = pf_cursor_space(&t->cur, n);
	return p;
}

/* Where intern.c writes the records of a code object it meets first */
HANDLER static uint8_t *sink_space(void *ctx, size_t n)
{
	return thread_space(ctx, n);
}

HANDLER static void sink_commit(void *ctx, unsigned type, size_t n)
{
	struct thread_state *t = ctx;
	pf_cursor_commit(&t->cur, type, n);
}

/* --- the sample --------------------------------------------------------- */

HANDLER size_t thread_encode(struct thread_state *t, int n, uint32_t shared,
			     uint64_t dt, uint64_t dcpu, uint32_t flags,
			     uint32_t repeats)
{
	uint8_t *p = t->scratch;

	p += pf_put_sample_head(p, dt, dcpu, flags, shared,
				(uint32_t)n - shared);
	for (int i = (int)shared; i < n; i++)
		p += pf_put_frame(p, t->prev[i].id, t->prev[i].lasti);
	if (flags & PF_SAMPLE_REPEAT)
		p += pf_put_repeats(p, repeats);
	return (size_t)(p - t->scratch);
}

/* Writes the stack t->prev[0..n), its first `shared` frames the chunk's
 * previous sample's, as a sample ending at (mono, cpu) and standing for
 * 1 + repeats; in a new chunk, with all its frames, if it does not fit.
 * 0, or -1 when the file is full. */
HANDLER static int commit_sample(struct thread_state *t, int n,
				 uint32_t shared, uint32_t flags,
				 uint32_t repeats, uint64_t mono, uint64_t cpu)
{
	uint64_t dt = mono - t->last_mono, dcpu = cpu - t->last_cpu;
	size_t len = thread_encode(t, n, shared, dt, dcpu, flags, repeats);
	uint8_t *body = pf_cursor_space(&t->cur, len);

	if (!body) {
		/* the new chunk's base is the same last sample's clocks */
		if (new_chunk(t) != 0)
			return -1;
		len = thread_encode(t, n, 0, dt, dcpu, flags, repeats);
		if (!(body = pf_cursor_space(&t->cur, len)))
			return -1;
	}
	memcpy(body, t->scratch, len);
	pf_cursor_commit(&t->cur, PF_REC_SAMPLE, len);
	t->prev_depth = (uint32_t)n;
	t->depth = (uint32_t)n;
	t->have_stack = 1;
	t->last_mono = mono;
	t->last_cpu = cpu;
	__atomic_fetch_add(&t->w->hdr->samples, 1 + repeats, __ATOMIC_RELAXED);
	return 0;
}

/* A run of repeats is written at least once a second: a reader of the
 * growing file (pyprof top, dump) sees a waiting thread's time that late
 * at most, and a process that ends other than by exit() (a fatal signal,
 * _exit, exec: sampler_flush_runs takes a lock) loses at most that much of
 * each waiting thread's.  At 1 ms a waiting thread then costs a record of
 * about 16 bytes a second where it cost one of 12 a tick. */
#define RUN_MAX_NS 1000000000u

HANDLER void thread_flush_run(struct thread_state *t)
{
	uint32_t n = t->run_ticks;

	if (!n)
		return;
	t->run_ticks = 0;
	/* prev[] is the stack and its ids are known: nothing is read or
	 * interned, so the code objects may even be gone by now.  Not in
	 * another file than the ids' (a rotation came between: each file
	 * has its own): the time stays, without a stack to stand for.
	 * The rotation writes every run it can first (sampler_flush_runs),
	 * and a tick finding ids stale reads the stack again (wall.c). */
	if (t->ids_gen != t->gen) {
		thread_gap(t, t->run_mono, t->last_cpu);
		return;
	}
	if (commit_sample(t, (int)t->depth, t->prev_depth,
			  t->run_flags | (n > 1 ? PF_SAMPLE_REPEAT : 0), n - 1,
			  t->run_mono, t->last_cpu) != 0) {
		__atomic_fetch_add(&t->w->hdr->dropped[PF_DROP_FULL], n,
				   __ATOMIC_RELAXED);
		thread_gap(t, t->run_mono, t->last_cpu);
	}
}

HANDLER void thread_repeat(struct thread_state *t, uint32_t flags,
			   uint64_t mono)
{
	if (mono < thread_last_mono(t))
		mono = thread_last_mono(t);
	if (t->run_ticks &&
	    (flags != t->run_flags || t->run_ticks > PF_SAMPLE_REPEATS_MAX ||
	     mono - t->last_mono >= RUN_MAX_NS))
		thread_flush_run(t);
	t->run_flags = flags;
	t->run_mono = mono;
	t->run_ticks++;
}

/* Deltas are unsigned: a reading older than the thread's last sample
 * (two writers' clocks read in the other order) would wrap to centuries.
 * It counts as no time instead. */
HANDLER void thread_not_before_last(const struct thread_state *t,
				    uint64_t *mono, uint64_t *cpu)
{
	if (*mono < t->last_mono)
		*mono = t->last_mono;
	if (*cpu < t->last_cpu)
		*cpu = t->last_cpu;
}

/*
 * Time no sample will stand for, from the baselines to (mono, cpu): a
 * PF_SAMPLE_GAP record, because readers rebuild each sample's time by
 * adding up the deltas.  Where the chunk has no room, a new chunk's base
 * takes the new baselines instead; with no chunk yet, nothing is needed.
 */
HANDLER void thread_gap(struct thread_state *t, uint64_t mono, uint64_t cpu)
{
	uint8_t b[PF_SAMPLE_HEAD_MAX], *body;
	size_t len;
	int room;

	thread_flush_run(t);
	thread_not_before_last(t, &mono, &cpu);

	len = pf_put_gap(b, mono - t->last_mono, cpu - t->last_cpu,
			 t->prev_depth);
	room = t->cur.chunk && (body = pf_cursor_space(&t->cur, len));
	t->last_mono = mono;
	t->last_cpu = cpu;
	if (room) {
		memcpy(body, b, len);
		pf_cursor_commit(&t->cur, PF_REC_SAMPLE, len);
	} else if (t->cur.chunk && !t->w->full) {
		new_chunk(t);
	}
}

HANDLER void thread_drop(struct thread_state *t, enum pf_drop why,
			 uint64_t mono, uint64_t cpu)
{
	pf_count_drop(t->w, why);
	/* The dropped period's CPU time is not handed to the next sample:
	 * it would credit a stack with time it may not have used.  In wall
	 * mode a thread seen running Python keeps it, as the sampler thread
	 * does (wall_observe in wall.c): its wall time must add up to its life, and
	 * the dropped period may hold a long wait the sampler thread, late
	 * on a loaded machine, had not written yet. */
	if (settings->mode == PF_MODE_WALL && t->have_stack &&
	    (why == PF_DROP_NO_PYTHON || why == PF_DROP_BAD_STACK))
		return;
	thread_gap(t, mono, cpu);
}

/* Writes the stack in frames[0..n) (leaf first) as a sample standing
 * for the time since the previous one. */
HANDLER void thread_record_stack(struct thread_state *t,
				 const struct py_raw_frame *frames, int n,
				 uint32_t flags, uint64_t mono, uint64_t cpu)
{
	struct rec_sink sink = {sink_space, sink_commit, t, (int)(t->gen & 1)};
	uint32_t shared = 0;
	uint8_t *chunk_before;

	thread_flush_run(t);
	thread_not_before_last(t, &mono, &cpu);
	/* prev[] is root first, walk[] leaf first. */
	while ((int)shared < n && shared < t->prev_depth) {
		const struct py_raw_frame *f = &frames[n - 1 - shared];
		const struct prev_frame *p = &t->prev[shared];
		if (p->code != f->code || p->frame != f->frame ||
		    p->lasti != f->lasti)
			break;
		shared++;
	}
	/* Interning may open a new chunk, which forgets the shared prefix;
	 * prev[] keeps its ids, so the frames are all still known. */
	chunk_before = t->cur.chunk;
	if (!chunk_before && new_chunk(t) != 0)
		return thread_drop(t, PF_DROP_FULL, mono, cpu);
	for (int i = (int)shared; i < n; i++) {
		const struct py_raw_frame *f = &frames[n - 1 - i];
		uint32_t id = f->frame == NATIVE_FRAME
				      ? intern_native(f->code, &sink)
				      : intern_code(layout, f->code, &sink);
		if (!id && t->w->full)
			return thread_drop(t, PF_DROP_FULL, mono, cpu);
		t->prev[i].code = f->code;
		t->prev[i].frame = f->frame;
		t->prev[i].lasti = f->lasti;
		t->prev[i].id = id;
	}
	t->ids_gen = t->gen;
	if (t->cur.chunk != chunk_before || shared > t->prev_depth)
		shared = 0;
	if (commit_sample(t, n, shared, flags, 0, mono, cpu) != 0)
		thread_drop(t, PF_DROP_FULL, mono, cpu);
}

/* Native mode: the native stack of the interrupted thread, merged with
 * its n Python frames in t->walk (none: a thread running no Python).
 * Returns the frames to record, and their count in *n; the Python stack
 * alone, flagged, where the two cannot be merged. */
HANDLER static const struct py_raw_frame *
with_native(struct thread_state *t, const void *uc, int *n, uint32_t *flags)
{
	int nn, complete, m;

	if (!t->native_ready) {
		*flags |= PF_SAMPLE_UNMERGED;
		return t->walk;
	}
	nn = native_stack(uc, &t->native_root, t->nat, NATIVE_MAX, &complete);
	if (nn > 0 && !*n && complete) {
		/* no Python: the native stack is the whole story */
		if (nn > PF_MAX_DEPTH)
			nn = PF_MAX_DEPTH;
		for (int i = 0; i < nn; i++) {
			t->mix[i].code = t->nat[i];
			t->mix[i].frame = NATIVE_FRAME;
			t->mix[i].lasti = 0;
			t->mix[i].run_start = 0;
		}
		*n = nn;
		return t->mix;
	}
	if (nn <= 0 || !complete || (*flags & PF_SAMPLE_TRUNCATED)) {
		*flags |= PF_SAMPLE_UNMERGED;
		return t->walk;
	}
	m = native_merge(t->walk, *n, t->nat, nn, t->mix, PF_MAX_DEPTH);
	if (m < 0 && native_learn(uc, t->walk, *n, t->cursor) > 0)
		m = native_merge(t->walk, *n, t->nat, nn, t->mix, PF_MAX_DEPTH);
	if (m < 0) {
		*flags |= PF_SAMPLE_UNMERGED;
		return t->walk;
	}
	*n = m;
	return t->mix;
}

HANDLER static void take_sample(struct thread_state *t, const void *uc)
{
	uint64_t mono = clock_ns(CLOCK_MONOTONIC);
	uint64_t cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	const struct py_raw_frame *frames = t->walk;
	uintptr_t ts;
	int n, truncated = 0;
	uint32_t flags = 0;

	if (t->w->full)
		return thread_drop(t, PF_DROP_FULL, mono, cpu);
	ts = pyintro_current_tstate(layout);
	if (!ts && settings->native && t->native_ready) {
		/* a thread of C code, or one whose Python has ended */
		n = 0;
		frames = with_native(t, uc, &n, &flags);
		if (n > 0)
			return thread_record_stack(t, frames, n, flags, mono,
						   cpu);
	}
	if (!ts)
		return thread_drop(t, pyintro_finalizing(layout) ? PF_DROP_FINALIZING
							  : PF_DROP_NO_PYTHON,
			    mono, cpu);
	/* for wall mode's sampler thread, which cannot ask the TSS key */
	t->tstate = ts;
	if (!t->pthread)
		t->pthread = (uint64_t)pthread_self();
	n = pystack_walk(layout, ts, t->walk, PF_MAX_DEPTH, &truncated);
	if (n < 0)
		return thread_drop(t, PF_DROP_BAD_STACK, mono, cpu);
	if (pyintro_holds_gil(layout, ts))
		flags |= PF_SAMPLE_GIL;
	if (truncated)
		flags |= PF_SAMPLE_TRUNCATED;
	if (settings->native)
		frames = with_native(t, uc, &n, &flags);
	if (settings->mode == PF_MODE_WALL) {
		/* what the sampler thread saw it wait for, lately (wall.c) */
		uint32_t k = __atomic_load_n(&t->wait_hint, __ATOMIC_ACQUIRE);
		uint64_t at = __atomic_load_n(&t->wait_hint_mono, __ATOMIC_RELAXED);
		if (k && mono - at <= 2 * settings->interval_ns)
			flags |= k << PF_SAMPLE_WAIT_SHIFT;
	}
	thread_record_stack(t, frames, n, flags, mono, cpu);
}

/* Ours: our timers' signals carry the cookie; our perf events' come as
 * I/O signals (POLL_*) from a descriptor we used.  Anything else (kill,
 * sigqueue, the program's setitimer or timer_create) is the program's. */
HANDLER static int ours(const siginfo_t *si)
{
	if (si->si_code == SI_TIMER)
		return si->si_value.sival_ptr == &timer_cookie;
	if (si->si_code >= POLL_IN && si->si_code <= POLL_HUP)
		return timers_perf_fd_was_ours(si->si_fd);
	return 0;
}

/* Handlers and writers between their first look at a thread's state or
 * the file and their last: see sampler_release_all. */
static int in_flight;

HANDLER void handler_enter(void)
{
	__atomic_add_fetch(&in_flight, 1, __ATOMIC_SEQ_CST);
	/* Pairs with the fence in handler_running's caller: counted first,
	 * then the state and `active` are read, so that either the caller
	 * sees this one running or this one sees what the caller did before
	 * (recording off, the states unpublished). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

HANDLER void handler_leave(void)
{
	__atomic_sub_fetch(&in_flight, 1, __ATOMIC_RELEASE);
}

HANDLER int handler_running(void)
{
	return __atomic_load_n(&in_flight, __ATOMIC_ACQUIRE);
}

HANDLER static int sigprof(siginfo_t *si, void *uc)
{
	struct thread_state *t = self;
	struct pf_writer *w;
	uint32_t gen;

	if (!ours(si))
		return 0;
	/* An adopted thread is found by its tid at every signal, never
	 * cached in `self`: its state is released by another thread
	 * (pyprof_detach, or the end of the thread seen by attach.c), which
	 * cannot clear this thread's `self`. */
	if (!t)
		t = by_tid_get(gettid_());
	if (!__atomic_load_n(&active, __ATOMIC_ACQUIRE))
		goto out;
	/* the signal and its sample (or drop) are counted in one file */
	gen = writer_enter();
	w = writer_of(gen);
	__atomic_fetch_add(&w->hdr->signals, 1, __ATOMIC_RELAXED);
	if (!t) {
		pf_count_drop(w, PF_DROP_NO_THREAD);
	} else if (!try_busy(t)) {
		pf_count_drop(w, PF_DROP_BUSY);
	} else {
		thread_sync(t, gen);
		if (!settings->floor)
			take_sample(t, uc);
		unbusy(t);
	}
	writer_leave(gen);
out:
	if (t && t->perf_fd >= 0)
		ioctl(t->perf_fd, PERF_EVENT_IOC_REFRESH, 1);
	return 1;
}

/* Called by sigchain's handler, which saved errno and hands whatever is
 * not ours (the program's own profiler, a kill) to the program's action. */
HANDLER int handler_sigprof(int sig, siginfo_t *si, void *uc)
{
	int r;

	(void)sig;
	handler_enter();
	r = sigprof(si, uc);
	handler_leave();
	return r;
}
