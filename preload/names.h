/*
 * names.h - Python thread names for the file (see names.c).
 * None of this may be called from the signal handler.
 */
#ifndef PYPROF_NAMES_H
#define PYPROF_NAMES_H

#include "pyintro.h"

/* Finds the few C API functions it needs.  0, or -1 (names stay unknown). */
int names_init(const struct py_layout *L);

/* Asks the interpreter to refresh the names soon (at most one request is
 * queued).  Any thread, GIL or not. */
void names_request(void);

/* In a forked child: nothing queued, nothing written yet. */
void names_reset(void);

/* A rotated run's next file: every name is written again, soon
 * (names_request).  Any thread. */
void names_forget(void);

/* Writes the calling thread's name, as the thread itself knows it (with
 * the GIL held: the callback's table of names written is shared). */
int names_self(const char *name);

/* Runs fn(arg) in the main thread at its next safe point, GIL held
 * (Py_AddPendingCall).  0, or -1 if Python is not running or refused. */
int names_call_soon(int (*fn)(void *), void *arg);

#endif
