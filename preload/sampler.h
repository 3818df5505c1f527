/*
 * sampler.h - per-thread timers and the SIGPROF handler.
 *
 * Every thread of the target gets its own timer on its own CPU clock, armed
 * by the thread itself when it starts (the preload interposes
 * pthread_create) and deleted when it ends (a pthread key destructor), so
 * a thread's share of samples is its share of CPU.  The handler samples the
 * thread it interrupts, and only that thread: walking your own stack is the
 * one walk that cannot race with the frames being freed.
 */
#ifndef PYPROF_SAMPLER_H
#define PYPROF_SAMPLER_H

#include "handler.h"
#include "settings.h"
#include "pyintro.h"
#include "write.h"

/* Installs the handler, picks the timer source.  The sampler keeps the
 * three pointers; w is an array of two writers, the second used by a
 * rotated run (sampler_rotate), w[0] the current one.  0 or -1. */
int sampler_init(const struct settings *s, const struct py_layout *L,
		 struct pf_writer *w);

/* Rotation: the other writer of the two, made ready by the caller (a
 * file created and its header filled), becomes the current one; returns
 * once no thread can write to the one before any more (its index in the
 * array), which the caller then finishes and closes.  Ordinary context;
 * one caller at a time. */
int sampler_rotate(void);
/* The writer being written (the current one of the two) */
struct pf_writer *sampler_writer(void);

/* The source in use (enum pf_source) once sampler_init succeeded. */
int sampler_source(void);

/* Starts sampling the calling thread (allocates its state,
 * arms its timer).  0, or -1 (the thread is then not sampled). */
int sampler_thread_start(void);

/* Arms a timer for every thread of the process that has
 * none (threads that existed before the library was loaded with dlopen,
 * which pthread_create's interposition never saw).  Returns how many were
 * adopted, or -1. */
int sampler_adopt_threads(void);

/* Arms the thread tid of this process, unless it has a state already:
 * 1 if adopted, 0 if not (armed already, gone, or one of pyprof's own
 * threads), -1 if out of memory.  With native stacks, only the calling
 * thread's own adoption readies its unwinding (native_warm): another
 * thread's samples keep their Python frames alone, marked unmerged. */
int sampler_adopt_thread(int tid);

/* Stops sampling the calling thread and frees its state. */
void sampler_thread_stop(void);

/* Recording off, every thread's state unpublished, the handlers and
 * writers still at work waited for, then every signal source stopped
 * and every state freed (pyprof_detach).  The calling thread's `self`
 * is cleared; no other thread may have one (adopted threads have none).
 * 0, or -1 if handlers did not finish within 2 s: the states and the
 * file must then stay as they are. */
int sampler_release_all(void);

/* Appends one record to the calling thread's chunk, from
 * its ordinary context (a signal arriving meanwhile is dropped as busy).
 * 0, or -1 if the thread is not sampled, recording is off or the file is
 * full. */
int sampler_write_record(unsigned type, const void *body, size_t len);
/* The same from any thread, sampled or not (the sampler thread, the
 * control thread): into the chunk of a live thread it can have, trying
 * again for a moment while they are all busy; or -1. */
int sampler_write_record_any(unsigned type, const void *body, size_t len);

/* Wall mode: writes every thread's samples kept back because it had not
 * run (thread_repeat in handler.c), before the file is finished or
 * recording stops.  Gives up on a thread it cannot have soon, which then
 * loses that time (a second at most). */
void sampler_flush_runs(void);

/* Turns recording on or off for every thread; while off the handler
 * returns at once.  Also on SIGTERM, from finish() in preload.c. */
HANDLER void sampler_set_active(int on);

/* Turns recording on after a pause (pyprof_start): every
 * thread's clocks restart from now (a gap record each), under the thread
 * list's lock, so no sample stands for time spent paused. */
void sampler_resume(void);

/* Before a new file in the same process (pyprof_attach after a
 * detach): the source picked again for s, the codes, names and objects
 * of the old file forgotten, the second set of tables mapped if s
 * rotates and the first attach did not.  No thread may be sampled
 * meanwhile.  0, or -1 with errno. */
int sampler_new_file(const struct settings *s);

/* Async-signal-safe, as exec is: a program may call it from a signal
 * handler.  Before exec: stop this thread's signals and leave none
 * pending, so the new image cannot be killed by a late SIGPROF. */
void sampler_exec_prepare(void);
/* After an exec that failed: sample again. */
void sampler_exec_failed(void);

/* In a forked child: forget the parent's threads (their
 * memory is leaked on purpose: it is small, and freeing it would need
 * their timers, which the child does not have) and start the calling
 * thread afresh on the new writer. */
void sampler_after_fork(struct pf_writer *w);
/* Its first half: forgets the parent's threads, closing their
 * descriptors, and the parent's interned names, samples nothing. */
void sampler_forget_parent(void);

/* Wall mode, or native mode (else a no-op): starts the sampler thread
 * that records waiting threads (see wall.c), and notes newly loaded
 * objects (native.c).  0 or -1. */
int sampler_wall_start(void);
/* Stops it for good and waits for it to end. */
void sampler_wall_stop(void);
int sampler_wall_running(void);
/* For the log: ticks, stacks read remotely, stacks repeated unread. */
void sampler_wall_counts(uint64_t *ticks, uint64_t *reads, uint64_t *repeats);

#endif
