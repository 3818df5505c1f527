/*
 * helper.h - pyprof's own threads in the target: wall mode's sampler
 * thread (wall.c) and the control channel's (control.c).
 *
 * They are started with the real pthread_create, so the interposed one
 * never arms a timer for them, and with every signal blocked, so that no
 * signal of the program's is ever delivered to them and none of pyprof's
 * is meant for them.  Each records its tid while it runs: a thread
 * adopted by pyprof_start (sampler_adopt_threads) is a thread of the
 * program's, never one of these.  Ordinary context throughout.
 */
#ifndef PYPROF_HELPER_H
#define PYPROF_HELPER_H

#include <pthread.h>

/* Starts fn(arg) in a new thread named name (at most 15 bytes), every
 * signal blocked in it.  0, or -1 with errno. */
int helper_spawn(pthread_t *th, void *(*fn)(void *), void *arg,
		 const char *name);

/* Called by a helper thread first and last thing: its tid is pyprof's
 * while it runs.  helper_enter returns the tid, for helper_join. */
int helper_enter(void);
void helper_leave(void);

/* pthread_join(th), then waits (100 ms at most) until the kernel no
 * longer counts th, whose tid helper_enter returned (0: not known).  A
 * joined thread is still counted for a moment: glibc's join returns when
 * the kernel clears the thread's tid word, before the thread is taken out
 * of its group, and CPython 3.12+ counts the threads in /proc/self/stat
 * right after fork() returns in the parent to warn of a fork with
 * threads. */
void helper_join(pthread_t th, int tid);

/* Whether tid is one of pyprof's running helper threads. */
int helper_is_own(int tid);

/* In a forked child: the parent's helper threads are not here. */
void helper_after_fork(void);

/*
 * After a fork, in the parent: starts a helper thread that was stopped
 * for the fork.  CPython 3.12 and later count the process's threads right
 * after fork() returns in the parent, and warn (a DeprecationWarning,
 * shown by default in __main__) if there is more than one; so there it
 * asks the interpreter to call restart(arg) once os.fork() has returned
 * to Python (Py_AddPendingCall), and only calls start_now() itself where
 * that cannot be.  Earlier versions do not count: start_now() at once.
 */
void helper_restart_after_fork(int (*restart)(void *), void *arg,
			       void (*start_now)(void));

#endif
