/*
 * sigchain.h - signals pyprof needs, without the program seeing them.
 *
 * pyprof must have its handler in the kernel for a few signals (SIGPROF for
 * sampling, SIGBUS to survive its file being truncated, SIGTERM to finish
 * the file), yet the program must see exactly the dispositions it would
 * see without pyprof and get exactly the signals meant for it.  So the
 * library interposes sigaction(), signal(), bsd_signal() and sysv_signal():
 * for a claimed signal they read and write the program's *view* (what it
 * set, or what the kernel had before pyprof), never the kernel, and the
 * one kernel handler asks pyprof's function first and hands on to the
 * program's view whatever pyprof does not take, the default action
 * included.  Unclaimed signals go straight to libc.
 *
 * Two ways to claim:
 *   SIGCHAIN_FIRST          pyprof's handler stays in the kernel whatever the
 *                           program sets (SIGPROF, SIGBUS): the program's
 *                           handler is called from it, with the program's
 *                           sa_mask, SA_NODEFER and SA_RESETHAND honoured.
 *   SIGCHAIN_WHILE_DEFAULT  pyprof's handler is in the kernel only while the
 *                           program's view is SIG_DFL (SIGTERM): any other
 *                           action the program sets goes to the kernel as
 *                           it is, so its flags (SA_RESTART...) are exact.
 *
 * The kernel handler and the sigchain_* calls marked so are
 * async-signal-safe; the interposed functions may be called from the
 * program's own handlers, as sigaction() may.
 */
#ifndef PYPROF_SIGCHAIN_H
#define PYPROF_SIGCHAIN_H

#include <signal.h>

#include "handler.h"

enum sigchain_mode {
	SIGCHAIN_FIRST,
	SIGCHAIN_WHILE_DEFAULT,
};

/* pyprof's part of a claimed signal: returns 1 if the signal was pyprof's
 * (nothing more is done), 0 to hand it to the program's view.  Called in
 * the kernel handler, with errno already saved. */
typedef int (*sigchain_fn)(int sig, siginfo_t *si, void *uc);

/* Called before a signal the program did not take kills the process by its
 * default action (to mark the file finished).  Async-signal-safe. */
typedef void (*sigchain_death_fn)(int sig);

/* Resolves libc's functions; ordinary context.  0 or -1. */
int sigchain_init(sigchain_death_fn on_death);

/* Claims sig: the kernel's current action becomes the program's view, and
 * pyprof's handler goes into the kernel (now, or whenever the view is
 * SIG_DFL).  kernel_flags are added to SA_SIGINFO for SIGCHAIN_FIRST.
 * Ordinary context.  0, or -1 with errno. */
int sigchain_claim(int sig, enum sigchain_mode mode, sigchain_fn fn,
		   int kernel_flags);

/* Async-signal-safe.  Puts the program's view of every claimed signal into
 * the kernel (for an exec: the new image inherits what the program set),
 * and back again (the exec failed). */
HANDLER void sigchain_hand_back(void);
HANDLER void sigchain_take_again(void);

/* Async-signal-safe.  libc's sigaction, past the interposer: what pyprof
 * itself uses to change the kernel's disposition. */
HANDLER int sigchain_kernel_action(int sig, const struct sigaction *act,
			   struct sigaction *old);

/* The program's view of sig, for tests and `status`. */
int sigchain_view(int sig, struct sigaction *out);

#endif
