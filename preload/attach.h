/*
 * attach.h - libpyprof.so loaded into a running interpreter: what the
 * rest of the library asks attach.c, and what attach.c asks preload.c.
 * The story is at the top of attach.c.
 */
#ifndef PYPROF_ATTACH_H
#define PYPROF_ATTACH_H

#include <stddef.h>

/* From the constructor: 1 if the interpreter already runs (the library
 * was loaded with dlopen), after keeping the environment's PYPROF_*
 * settings for the first pyprof_start(); 0 if it was preloaded. */
int attach_loaded_late(void);

/* The settings of a library loaded late: pyprof_attach's while it
 * attaches, else the environment's as they were at load; PYPROF_START is
 * 1 for an attach, 0 otherwise (a window is opened by pyprof_start).
 * Valid until the next attach. */
const char *attach_setting(const char *name);

/* pyprof_attach is setting up (preload.c adopts every thread then,
 * rather than arming only the calling one). */
int attach_attaching(void);

/* Adopts every thread of the process that has no state, and asks for
 * their names; from the thread that attaches.  0, or -1 (no /proc). */
int attach_threads(void);

/* A message bound for the target's stderr while pyprof_attach runs in
 * this thread: kept for pyprof_attach's caller instead.  1 if kept. */
int attach_capture(const char *msg, size_t n);

/* Attached: pyprof's helper thread must run to call attach_poll. */
int attach_polling(void);

/* The helper thread's chore, every 100 ms at most: adopt the threads
 * started since the last look, release those that ended. */
void attach_poll(void);

/* In a forked child of a process that was set up: 1 if the parent was
 * attached, whose child is not profiled (the caller forgets the parent's
 * file and threads). */
int attach_forked(void);

/* preload.c's half of pyprof_attach: checks that nothing else set up the
 * library, sets it up (or again, after a detach) with attach_setting()'s
 * values and starts recording.  0, or -1 with errno: EALREADY (recording
 * already), EBUSY (the program set it up: LD_PRELOAD, pyprof_start), or
 * the reason said through say(). */
int preload_attach(void);

/* The control API's (preload.c): the file being written, or NULL. */
const char *pyprof_path(void);

/* preload.c's half of pyprof_detach, once every thread is released:
 * finishes the file (PF_END_STOP) and, with unmap, closes it. */
void preload_detach(int unmap);

#endif
