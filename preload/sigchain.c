/*
 * sigchain.c - the program's view of the signals pyprof claims (see
 * sigchain.h for the two ways to claim).
 *
 * The one idea: for a claimed signal the kernel holds dispatch(), and the
 * program's own action lives here as a copy that the interposed
 * sigaction() reads and writes.  dispatch() gives pyprof's function the
 * first look and otherwise does what the kernel would have done with the
 * program's action: call its handler with its mask, ignore, or take the
 * default action (finish the file, then die of the same signal).
 *
 * The copy is read from signal handlers on any thread while the program
 * may be changing it, so it is guarded by a sequence counter: a writer
 * makes it odd, writes, makes it even; a reader retries until it saw the
 * same even value before and after its copy.  Writers block every signal
 * on their own thread meanwhile, so no handler on that thread can wait for
 * them, and they take turns on the counter itself.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "handler.h"
#include "sigchain.h"

#define EXPORT __attribute__((visibility("default")))

struct claim {
	int claimed;
	enum sigchain_mode mode;
	sigchain_fn fn;
	int kernel_flags;
	int installed;           /* dispatch() is in the kernel */
	unsigned seq;            /* odd while view is being written */
	struct sigaction view;   /* what the program would see */
};

static struct claim claims[_NSIG];
static sigchain_death_fn death;
static int (*real_sigaction)(int, const struct sigaction *,
			     struct sigaction *);
static __sighandler_t (*real_signal)(int, __sighandler_t);
static __sighandler_t (*real_bsd_signal)(int, __sighandler_t);
static __sighandler_t (*real_sysv_signal)(int, __sighandler_t);
#ifdef SA_RESTORER
/* glibc adds its restorer to every action it hands the kernel and reports
 * it back: the program's view carries it too, so a read-back is exact. */
static void (*restorer)(void);
#endif

/* Resolving takes dlsym's locks: done in the constructor, or lazily by an
 * interposed call that comes first (another library's constructor), both
 * ordinary context. */
static int resolve(void)
{
	if (real_sigaction)
		return 0;
	*(void **)&real_signal = dlsym(RTLD_NEXT, "signal");
	*(void **)&real_bsd_signal = dlsym(RTLD_NEXT, "bsd_signal");
	*(void **)&real_sysv_signal = dlsym(RTLD_NEXT, "sysv_signal");
	*(void **)&real_sigaction = dlsym(RTLD_NEXT, "sigaction");
	return real_sigaction ? 0 : -1;
}

HANDLER static int claimed(int sig)
{
	return sig > 0 && sig < _NSIG &&
	       __atomic_load_n(&claims[sig].claimed, __ATOMIC_ACQUIRE);
}

/* --- the sequence counter ------------------------------------------------ */

HANDLER static void view_read(struct claim *c, struct sigaction *out)
{
	for (unsigned spins = 0;; spins++) {
		unsigned s = __atomic_load_n(&c->seq, __ATOMIC_ACQUIRE);
		if (!(s & 1)) {
			memcpy(out, &c->view, sizeof *out);
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			if (__atomic_load_n(&c->seq, __ATOMIC_RELAXED) == s)
				return;
		}
		/* the writer is another thread, descheduled mid-copy */
		if (spins > 64)
			sched_yield();
	}
}

/* Blocks every signal on this thread (into *saved) and takes the counter. */
HANDLER static void view_lock(struct claim *c, sigset_t *saved)
{
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, saved);
	for (unsigned spins = 0;; spins++) {
		unsigned s = __atomic_load_n(&c->seq, __ATOMIC_RELAXED);
		if (!(s & 1) &&
		    __atomic_compare_exchange_n(&c->seq, &s, s + 1, 0,
						__ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			break;
		if (spins > 64)
			sched_yield();
	}
}

HANDLER static void view_unlock(struct claim *c, const sigset_t *saved)
{
	__atomic_fetch_add(&c->seq, 1, __ATOMIC_RELEASE);
	pthread_sigmask(SIG_SETMASK, saved, NULL);
}

/* --- the kernel's handler ------------------------------------------------ */

HANDLER static int default_is_ignore(int sig)
{
	return sig == SIGCHLD || sig == SIGCONT || sig == SIGURG ||
	       sig == SIGWINCH;
}

HANDLER static int is_fault(int sig, const siginfo_t *si)
{
	return si->si_code > 0 && (sig == SIGBUS || sig == SIGSEGV ||
				   sig == SIGILL || sig == SIGFPE);
}

/* What the kernel does for SIG_DFL.  sig is blocked while we run, so a
 * re-raised signal waits for our return and then meets SIG_DFL; a fault
 * simply happens again when the instruction is retried. */
HANDLER static void default_action(int sig, siginfo_t *si)
{
	struct sigaction dfl;

	if (default_is_ignore(sig))
		return;
	/* A pid namespace's init (a container's PID 1) is sent only the
	 * signals it has a handler for: this one reached it because pyprof's
	 * handler is in the kernel, and would have been dropped without it.
	 * So it is here, profile and all; a fault is forced on init too. */
	if (getpid() == 1 && !is_fault(sig, si))
		return;
	if (death)
		death(sig);
	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	real_sigaction(sig, &dfl, NULL);
	if (!is_fault(sig, si))
		syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), sig);
}

HANDLER static void reset_view(struct claim *c)
{
	sigset_t saved;

	view_lock(c, &saved);
	c->view.sa_handler = SIG_DFL;
	c->view.sa_flags &= ~SA_SIGINFO;
	view_unlock(c, &saved);
}

HANDLER static void forward(int sig, siginfo_t *si, void *uc, struct claim *c)
{
	struct sigaction v;
	sigset_t saved;
	int masked = 0;

	view_read(c, &v);
	if (v.sa_handler == SIG_IGN)
		return;
	if (v.sa_handler == SIG_DFL) {
		default_action(sig, si);
		return;
	}
	if (v.sa_flags & SA_RESETHAND)
		reset_view(c);
	/* The program asked for its sa_mask (and sig itself, unless
	 * SA_NODEFER) blocked while its handler runs; the kernel blocked
	 * only sig for us. */
	if (!sigisemptyset(&v.sa_mask) || (v.sa_flags & SA_NODEFER)) {
		pthread_sigmask(SIG_BLOCK, &v.sa_mask, &saved);
		if (v.sa_flags & SA_NODEFER) {
			sigset_t one;
			sigemptyset(&one);
			sigaddset(&one, sig);
			pthread_sigmask(SIG_UNBLOCK, &one, NULL);
		}
		masked = 1;
	}
	if (v.sa_flags & SA_SIGINFO)
		v.sa_sigaction(sig, si, uc);
	else
		v.sa_handler(sig);
	if (masked)
		pthread_sigmask(SIG_SETMASK, &saved, NULL);
}

HANDLER static void dispatch(int sig, siginfo_t *si, void *uc)
{
	int saved = errno;
	struct claim *c = &claims[sig];

	if (!c->fn || !c->fn(sig, si, uc))
		forward(sig, si, uc, c);
	errno = saved;
}

/* Puts dispatch() into the kernel for c. */
HANDLER static int install(int sig, struct claim *c)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = dispatch;
	sa.sa_flags = SA_SIGINFO | c->kernel_flags;
	sigemptyset(&sa.sa_mask);
	if (real_sigaction(sig, &sa, NULL) != 0)
		return -1;
	c->installed = 1;
	return 0;
}

/* --- pyprof's side ------------------------------------------------------- */

int sigchain_init(sigchain_death_fn on_death)
{
	death = on_death;
	return resolve();
}

int sigchain_claim(int sig, enum sigchain_mode mode, sigchain_fn fn,
		   int kernel_flags)
{
	struct claim *c;
	struct sigaction now;

	if (resolve() != 0 || sig <= 0 || sig >= _NSIG) {
		errno = EINVAL;
		return -1;
	}
	c = &claims[sig];
	if (real_sigaction(sig, NULL, &now) != 0)
		return -1;
	c->view = now;
	c->mode = mode;
	c->fn = fn;
	c->kernel_flags = kernel_flags;
	if ((mode == SIGCHAIN_FIRST || now.sa_handler == SIG_DFL) &&
	    install(sig, c) != 0)
		return -1;
#ifdef SA_RESTORER
	if (c->installed && !restorer) {
		struct sigaction back;
		if (real_sigaction(sig, NULL, &back) == 0 &&
		    (back.sa_flags & SA_RESTORER))
			restorer = back.sa_restorer;
	}
#endif
	__atomic_store_n(&c->claimed, 1, __ATOMIC_RELEASE);
	return 0;
}

HANDLER int sigchain_kernel_action(int sig, const struct sigaction *act,
			   struct sigaction *old)
{
	return real_sigaction(sig, act, old);
}

HANDLER void sigchain_hand_back(void)
{
	for (int sig = 1; sig < _NSIG; sig++) {
		struct claim *c = &claims[sig];
		struct sigaction v;
		if (!claimed(sig) || !c->installed)
			continue;
		view_read(c, &v);
		real_sigaction(sig, &v, NULL);
	}
}

HANDLER void sigchain_take_again(void)
{
	for (int sig = 1; sig < _NSIG; sig++)
		if (claimed(sig) && claims[sig].installed)
			install(sig, &claims[sig]);
}

int sigchain_view(int sig, struct sigaction *out)
{
	if (!claimed(sig))
		return -1;
	view_read(&claims[sig], out);
	return 0;
}

/* --- the program's side: interposed libc --------------------------------- */

static int is_default(const struct sigaction *a)
{
	return a->sa_handler == SIG_DFL;
}

EXPORT int sigaction(int sig, const struct sigaction *act,
		     struct sigaction *old)
{
	struct claim *c;
	struct sigaction prev, next;
	sigset_t saved;
	int r = 0;

	if (!real_sigaction && resolve() != 0) {
		errno = ENOSYS;
		return -1;
	}
	if (!claimed(sig))
		return real_sigaction(sig, act, old);
	c = &claims[sig];
	if (!act) {
		/* a read: no syscall at all, the view is here */
		if (old)
			view_read(c, old);
		return 0;
	}
	next = *act;
#ifdef SA_RESTORER
	if (restorer) {
		next.sa_flags |= SA_RESTORER;
		next.sa_restorer = restorer;
	}
#endif
	view_lock(c, &saved);
	prev = c->view;
	if (c->mode == SIGCHAIN_WHILE_DEFAULT) {
		/* Anything but the default goes to the kernel as it is: then
		 * its flags and mask act exactly as the program meant. */
		if (is_default(act)) {
			if (!c->installed)
				r = install(sig, c);
		} else {
			r = real_sigaction(sig, act, NULL);
			if (r == 0)
				c->installed = 0;
		}
	}
	if (r == 0)
		c->view = next;
	view_unlock(c, &saved);
	if (r == 0 && old)
		*old = prev;
	return r;
}

/* signal() and friends: glibc's own semantics, but through the view. */
static __sighandler_t set_handler(int sig, __sighandler_t h, int flags,
				  int mask_self)
{
	struct sigaction a, o;

	if (h == SIG_ERR) {
		errno = EINVAL;
		return SIG_ERR;
	}
	memset(&a, 0, sizeof a);
	a.sa_handler = h;
	a.sa_flags = flags;
	sigemptyset(&a.sa_mask);
	if (mask_self)
		sigaddset(&a.sa_mask, sig);
	if (sigaction(sig, &a, &o) != 0)
		return SIG_ERR;
	return o.sa_handler;
}

EXPORT __sighandler_t signal(int sig, __sighandler_t h)
{
	if (!claimed(sig) && (real_signal || (resolve() == 0 && real_signal)))
		return real_signal(sig, h);
	return set_handler(sig, h, SA_RESTART, 1);
}

EXPORT __sighandler_t bsd_signal(int sig, __sighandler_t h)
{
	if (!claimed(sig) &&
	    (real_bsd_signal || (resolve() == 0 && real_bsd_signal)))
		return real_bsd_signal(sig, h);
	return set_handler(sig, h, SA_RESTART, 1);
}

EXPORT __sighandler_t sysv_signal(int sig, __sighandler_t h)
{
	if (!claimed(sig) &&
	    (real_sysv_signal || (resolve() == 0 && real_sysv_signal)))
		return real_sysv_signal(sig, h);
	return set_handler(sig, h, SA_RESETHAND | SA_NODEFER, 0);
}
