/*
 * sampler-int.h - what the sampler's files share: a thread's state, the
 * process-wide pointers, and the little the handler needs inline.
 *
 * The sampler is split by the context each part runs in: handler.c (the
 * SIGPROF handler and the records it writes), timers.c (what raises the
 * signal), wall.c (wall mode's sampler thread) and sampler.c (starting
 * and stopping threads, init, fork and exec).  The one idea: a thread's
 * struct thread_state is owned by whoever holds its `busy`, and the
 * handler and the sampler thread only ever try for it, never wait.
 * Private to libpyprof: sampler.h is the interface.
 */
#ifndef PYPROF_SAMPLER_INT_H
#define PYPROF_SAMPLER_INT_H

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "encode.h"
#include "handler.h"
#include "native.h"
#include "pyintro.h"
#include "settings.h"
#include "write.h"

struct prev_frame {
	uintptr_t code, frame;
	int32_t lasti;
	uint32_t id;
};

struct thread_state {
	struct pf_cursor cur;         /* in the file of generation gen */
	uint32_t gen;                 /* see thread_sync */
	struct pf_writer *w;          /* that file's writer */
	int busy;                     /* see try_busy() */
	int tid;
	int is_main;
	uint64_t pthread;
	int has_timer;
	int adopted;                  /* armed by another thread */
	struct thread_state *next_live; /* the live list, see live_add */
	unsigned long long started;   /* adopted: thread_start_time() */
	timer_t timer;
	int perf_fd;
	uint64_t last_mono, last_cpu; /* the previous sample's clocks */
	uint32_t prev_depth;          /* frames of prev[] shareable in cur */
	/* wall mode (wall_tick): */
	uint32_t depth;               /* frames of the last recorded stack */
	int have_stack;               /* prev[0..depth) is that stack */
	uintptr_t tstate;             /* its PyThreadState when last seen */
	uint64_t tick_mono, tick_cpu; /* the clocks at the previous tick */
	uint32_t search_skip, search_backoff; /* no state found: back off */
	int wall_left;                /* not read at the last tick */
	int syscall_fd;               /* its /proc/self/task/TID/syscall, -1 */
	uint32_t wait_kind;           /* enum pf_wait at its last idle sample */
	/* wall mode: ticks at which the thread had not run since its last
	 * sample, kept back to be written as one repeated sample of its last
	 * stack (thread_repeat): how many, their flags, the latest's time */
	uint32_t run_ticks, run_flags;
	uint64_t run_mono;
	uint32_t ids_gen;             /* the file generation prev[]'s ids are
				       * of (each file has its own) */
	uint32_t wait_hint;           /* wall mode: what the sampler thread saw
				       * it wait for last, and when */
	uint64_t wait_hint_mono;
	int native_ready;             /* native_warm() ran in this thread */
	struct native_root native_root;
	struct prev_frame prev[PF_MAX_DEPTH];
	struct py_raw_frame walk[PF_MAX_DEPTH];
	/* native mode (pages never touched without it) */
	uintptr_t nat[NATIVE_MAX];
	struct py_raw_frame mix[PF_MAX_DEPTH];
	uint64_t cursor[NATIVE_CURSOR_SPACE / 8];
	uint8_t scratch[PF_SAMPLE_HEAD_MAX + PF_MAX_DEPTH * PF_FRAME_MAX +
			PF_VARINT_MAX];
};

/* This thread's state; NULL for a thread not sampled (or adopted and not
 * yet signalled: see by_tid_get) */
extern __thread struct thread_state *self
	__attribute__((tls_model("initial-exec")));

/* Set by sampler_init, and writers again in a forked child */
extern const struct settings *settings;
extern const struct py_layout *layout;
extern int active; /* recording on; see sampler_set_active */
/* sigev_value of our timers: tells our SIGPROF from anybody else's */
extern int timer_cookie;

/*
 * A thread's state is written by its own handler, by the thread itself
 * outside the handler (start, stop, records), and in wall mode by the
 * sampler thread.  Whoever takes `busy` owns it; the handler and the
 * sampler thread never wait for it (a sample is dropped, or the thread is
 * looked at on the next tick), only sampler_thread_stop() does, and the
 * sampler thread holds it for one bounded read.
 */
HANDLER static inline int try_busy(struct thread_state *t)
{
	return !__atomic_exchange_n(&t->busy, 1, __ATOMIC_ACQUIRE);
}

HANDLER static inline void unbusy(struct thread_state *t)
{
	__atomic_store_n(&t->busy, 0, __ATOMIC_RELEASE);
}

HANDLER static inline uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;
	if (clock_gettime(id, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

HANDLER static inline int gettid_(void) { return (int)syscall(SYS_gettid); }

/* MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED) of the kernel: the CPU clock
 * of one thread of this process, by tid. */
static inline clockid_t thread_clock(int tid)
{
	return (clockid_t)((~(unsigned)tid << 3) | 6);
}

/*
 * --- the file being written (sampler.c) ------------------------------------
 *
 * A rotated run (PYPROF_ROTATE) writes its files one after the other:
 * writers[gen & 1] is the current one, gen counting the files, so that
 * while a rotation moves from one to the next both may be in use.  Every
 * piece of code that writes a file, or a counter of its header, does so
 * between writer_enter() and writer_leave(): the rotation (sampler_rotate)
 * publishes the new generation, then waits until no section of the old
 * one is left, and only then may the old file be finished: no thread can
 * write to it after that, and none wrote to the new one a record of the
 * old.  A thread's cursor moves to the current file the first time it
 * writes in a section (thread_sync), so a sample is written once, into
 * one file, and stands for the time since the thread's previous sample
 * wherever that was.  Without rotation gen stays 0: one more atomic pair
 * per sample.
 */
extern struct pf_writer *writers;
extern uint32_t writer_gen;
extern int writer_users[2];

HANDLER static inline struct pf_writer *writer_of(uint32_t gen)
{
	return &writers[gen & 1];
}

/* Pins the current generation for a section of writes; returns it. */
HANDLER static inline uint32_t writer_enter(void)
{
	for (;;) {
		uint32_t g = __atomic_load_n(&writer_gen, __ATOMIC_SEQ_CST);

		__atomic_fetch_add(&writer_users[g & 1], 1, __ATOMIC_SEQ_CST);
		/* published meanwhile: the rotation may not have seen us */
		if (__atomic_load_n(&writer_gen, __ATOMIC_SEQ_CST) == g)
			return g;
		__atomic_fetch_sub(&writer_users[g & 1], 1, __ATOMIC_RELEASE);
	}
}

HANDLER static inline void writer_leave(uint32_t gen)
{
	__atomic_fetch_sub(&writer_users[gen & 1], 1, __ATOMIC_RELEASE);
}

/* With t's busy held, in a section of generation gen: t writes into that
 * generation's file.  A cursor left in an older file is dropped unread
 * (that file may be unmapped by now); the next record opens a chunk in
 * this one, with a THREAD record whose baselines are t's last sample's,
 * and frames are defined afresh (prev_depth 0). */
HANDLER static inline void thread_sync(struct thread_state *t, uint32_t gen)
{
	if (t->gen != gen || !t->w) {
		t->cur.chunk = NULL;
		t->cur.pos = 0;
		t->cur.seq = 0;
		t->prev_depth = 0;
		t->gen = gen;
	}
	t->w = writer_of(gen);
}

/* --- tid -> state (sampler.c) --------------------------------------------- */

/* The handler finds a thread's state through `self`; a thread armed by
 * another thread (adopted, see sampler_adopt_threads) has no `self`, and
 * the handler looks it up here by tid at every signal: another thread
 * may release the state (attach.c), and could not clear a `self`.  An
 * array indexed by tid (pid_max entries, mapped lazily by the kernel)
 * gives a lock-free O(1) lookup without deletion problems; writers take
 * the mutex. */
#define TIDS_MAX (1u << 22)
extern struct thread_state **by_tid;
extern pthread_mutex_t by_tid_lock;

/* Every armed thread's state, under by_tid_lock: see live_add in
 * sampler.c.  Also wall mode's order of service (wall_tick). */
extern struct thread_state *live;

/* Stops and frees the state of a thread that has ended, from another
 * thread (attach.c).  Takes by_tid_lock. */
void sampler_thread_release(struct thread_state *t);

HANDLER static inline struct thread_state *by_tid_get(int tid)
{
	struct thread_state *t;

	if (!by_tid || tid <= 0 || (unsigned)tid >= TIDS_MAX)
		return NULL;
	t = __atomic_load_n(&by_tid[tid], __ATOMIC_ACQUIRE);
	return t && t->tid == tid ? t : NULL;
}

/* --- records into a thread's chunk (handler.c) ---------------------------- */

/* pyprof's part of SIGPROF (a sigchain_fn): 1 if the signal was ours. */
HANDLER int handler_sigprof(int sig, siginfo_t *si, void *uc);

/* Brackets whatever may read a thread's state or write the file outside
 * the sampler's locks: the SIGPROF handler, and the records ordinary code
 * writes (sampler_write_record). */
HANDLER void handler_enter(void);
HANDLER void handler_leave(void);
/* How many of those are between the two now. */
HANDLER int handler_running(void);

/* Space for a body of n bytes in t's chunk, opening a new chunk if it is
 * full; NULL when the file is. */
HANDLER uint8_t *thread_space(struct thread_state *t, size_t n);

/* Encodes into t->scratch a sample of the stack t->prev[0..n) whose first
 * `shared` frames are the previous sample's (with PF_SAMPLE_REPEAT in
 * flags, standing for 1 + repeats); returns its length. */
HANDLER size_t thread_encode(struct thread_state *t, int n, uint32_t shared,
			     uint64_t dt, uint64_t dcpu, uint32_t flags,
			     uint32_t repeats);

/* Deltas are unsigned: clamps readings older than t's last sample. */
HANDLER void thread_not_before_last(const struct thread_state *t,
				    uint64_t *mono, uint64_t *cpu);

/* Time up to (mono, cpu) that no sample will stand for: a gap record. */
HANDLER void thread_gap(struct thread_state *t, uint64_t mono, uint64_t cpu);

/* Counts a dropped sample, and gaps its time unless it stays t's. */
HANDLER void thread_drop(struct thread_state *t, enum pf_drop why,
			 uint64_t mono, uint64_t cpu);

/* Writes frames[0..n) (leaf first) as a sample ending at (mono, cpu). */
HANDLER void thread_record_stack(struct thread_state *t,
				 const struct py_raw_frame *frames, int n,
				 uint32_t flags, uint64_t mono, uint64_t cpu);

/* Wall mode: t has not run since its last sample (its CPU clock has not
 * moved), so this tick's sample, at mono, is its last stack again.  It
 * is kept back, and the ticks like it after it, to be written as one
 * repeated sample (PF_SAMPLE_REPEAT) when the thread next has a record
 * written, when their flags change, or after RUN_MAX_NS or
 * PF_SAMPLE_REPEATS_MAX ticks. */
HANDLER void thread_repeat(struct thread_state *t, uint32_t flags,
			   uint64_t mono);
/* Writes the ticks thread_repeat kept back, if any.  Whatever writes a
 * record of t's time calls it first. */
HANDLER void thread_flush_run(struct thread_state *t);
/* The time of t's latest sample, written or kept back */
HANDLER static inline uint64_t thread_last_mono(const struct thread_state *t)
{
	return t->run_ticks ? t->run_mono : t->last_mono;
}

/* --- what raises the signal (timers.c) ------------------------------------ */

/* Picks the process's source (enum pf_source) from the settings, and the
 * descriptor ceiling for perf events.  Before any timers_arm. */
void timers_init(const struct settings *s);

/* Whether fd was ever one of our perf events (see handler.c's ours()). */
HANDLER int timers_perf_fd_was_ours(int fd);
/* Arms t's source, or the CPU timer where that fails.  0 or -1. */
int timers_arm(struct thread_state *t);
/* Stops t's signals: deletes its timer, closes its perf event.
 * Async-signal-safe, for sampler_exec_prepare. */
void timers_disarm(struct thread_state *t);

/* --- wall mode (wall.c) --------------------------------------------------- */

/* Registers the fork handlers that stop the sampler thread around fork. */
void wall_init(void);
/* In a forked child: the sampler thread again, if it was wanted. */
void wall_after_fork(void);

#endif
