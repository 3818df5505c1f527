/*
 * walk-test.c - a test library that walks the calling thread's Python stack
 * from a real signal handler, for walk-test.py to compare with
 * sys._getframe().
 *
 * Built standalone with preload/layout.c and preload/pystack.c (with its
 * remote.c, tstate.c and selfcheck.c), and both
 * LD_PRELOADed (so pyintro_init runs before Py_Initialize, as in
 * libpyprof) and loaded again by ctypes, which finds the same object.
 * walktest_run() raises SIGPROF on the current thread; the handler does
 * exactly what the profiler's would (current tstate, GIL, walk, names) and
 * writes text with hand-rolled formatting, since snprintf may not be used
 * there.  The text, one frame a line, innermost first:
 *   tstate=<0|1> gil=<0|1> n=<frames or -1> truncated=<0|1>
 *   <lasti>\t<firstlineno>\t<code address>\t<name>\t<qualname>\t<filename>
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/time.h>

#include "pyintro.h"

#define MAXFRAMES 4096

static struct py_layout L;
static int layout_rc = 1; /* 1: pyintro_init not called yet */
static int ctor_rc = 1, ctor_tstate = -1;

static struct py_raw_frame frames[MAXFRAMES];
/* Written by the handler, read after raise(): without volatile, gcc -O2
 * keeps out_len in a register across raise() and returns 0. */
static char *out;
static size_t out_cap;
static volatile size_t out_len;
static int out_max;

static void put(const char *s, size_t n)
{
	if (n > out_cap - out_len)
		n = out_cap - out_len;
	memcpy(out + out_len, s, n);
	out_len += n;
}

static void put_s(const char *s)
{
	put(s, strlen(s));
}

static void put_i(long long v)
{
	char b[24];
	int i = sizeof b;
	unsigned long long u = v < 0 ? 0 - (unsigned long long)v
				     : (unsigned long long)v;

	do
		b[--i] = (char)('0' + u % 10);
	while ((u /= 10) && i > 1);
	if (v < 0)
		b[--i] = '-';
	put(b + i, sizeof b - (size_t)i);
}

static void put_str(uintptr_t obj)
{
	int n;

	if (!obj) /* no qualname before 3.11 */
		return;
	n = pystr_utf8(&L, obj, out + out_len, out_cap - out_len);
	if (n < 0)
		put_s("<bad str>");
	else
		out_len += (size_t)n;
}

static void on_sigprof(int sig)
{
	uintptr_t ts = pyintro_current_tstate(&L);
	int n = -1, truncated = 0;

	(void)sig;
	if (ts)
		n = pystack_walk(&L, ts, frames, out_max, &truncated);
	put_s("tstate=");
	put_i(ts != 0);
	put_s(" gil=");
	put_i(pyintro_holds_gil(&L, ts));
	put_s(" n=");
	put_i(n);
	put_s(" truncated=");
	put_i(truncated);
	put_s("\n");
	for (int i = 0; i < n; i++) {
		struct py_code_view cv;

		put_i(frames[i].lasti);
		put_s("\t");
		if (pycode_read(&L, frames[i].code, &cv) < 0) {
			put_s("<bad code>\n");
			continue;
		}
		put_i(cv.firstlineno);
		put_s("\t");
		put_i((long long)frames[i].code);
		put_s("\t");
		put_str(cv.name);
		put_s("\t");
		put_str(cv.qualname);
		put_s("\t");
		put_str(cv.filename);
		put_s("\n");
	}
}

/* Before Py_Initialize when preloaded: init must work, and no thread may
 * have a Python thread state yet. */
__attribute__((constructor)) static void walktest_at_load(void)
{
	char why[200];

	ctor_rc = pyintro_init(&L, why, sizeof why);
	layout_rc = ctor_rc;
	if (ctor_rc == 0)
		ctor_tstate = pyintro_current_tstate(&L) != 0;
}

/* What the constructor saw: init's return, and whether it found a tstate. */
int walktest_ctor(int *tstate_found)
{
	*tstate_found = ctor_tstate;
	return ctor_rc;
}

/* pyintro_init again, now that Python runs; copies the reason to why. */
int walktest_init(char *why, int why_len, int *is_static, int *minor)
{
	layout_rc = pyintro_init(&L, why, (size_t)why_len);
	*is_static = L.is_static;
	*minor = L.minor;
	return layout_rc;
}

/* Walks this thread from a SIGPROF handler; returns the text's length. */
int walktest_run(char *buf, int cap, int max)
{
	struct sigaction sa, old;

	if (layout_rc != 0 || cap <= 0)
		return -1;
	out = buf;
	out_cap = (size_t)cap;
	out_len = 0;
	out_max = max > MAXFRAMES ? MAXFRAMES : max;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_sigprof;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGPROF, &sa, &old) < 0)
		return -1;
	raise(SIGPROF); /* delivered to this thread before raise returns */
	sigaction(SIGPROF, &old, NULL);
	return (int)out_len;
}

/* pystr_utf8 on any object (id() in CPython is its address). */
int walktest_str(uintptr_t obj, char *buf, int cap)
{
	return pystr_utf8(&L, obj, buf, (size_t)cap);
}

static void *foreign(void *arg)
{
	*(uintptr_t *)arg = pyintro_current_tstate(&L);
	return NULL;
}

/* pyintro_current_tstate from a thread Python never saw: must be 0. */
int walktest_foreign_thread(void)
{
	pthread_t t;
	uintptr_t ts = 1;

	if (pthread_create(&t, NULL, foreign, &ts) != 0)
		return -1;
	pthread_join(t, NULL);
	return ts != 0;
}

/* The finalizing flag, read as the handler would. */
int walktest_finalizing(void)
{
	return pyintro_finalizing(&L);
}

/* Outcomes of timer samples: no tstate, empty stack, walked, rejected
 * (pystack_walk -1), truncated, unreadable name. */
static long samples[6];

static void on_timer(int sig)
{
	static __thread struct py_raw_frame fr[256];
	int saved = errno, trunc, n, k;
	uintptr_t ts = pyintro_current_tstate(&L);
	char name[64];

	(void)sig;
	if (!ts) {
		__atomic_fetch_add(&samples[0], 1, __ATOMIC_RELAXED);
		goto out;
	}
	n = pystack_walk(&L, ts, fr, 256, &trunc);
	k = n < 0 ? 3 : n == 0 ? 1 : 2;
	__atomic_fetch_add(&samples[k], 1, __ATOMIC_RELAXED);
	if (trunc)
		__atomic_fetch_add(&samples[4], 1, __ATOMIC_RELAXED);
	for (int i = 0; i < n; i++) {
		struct py_code_view cv;

		if (pycode_read(&L, fr[i].code, &cv) < 0 ||
		    pystr_utf8(&L, cv.name, name, sizeof name) < 0)
			__atomic_fetch_add(&samples[5], 1, __ATOMIC_RELAXED);
	}
out:
	errno = saved;
}

/* Samples every usec of CPU time until walktest_sample_stop(). */
int walktest_sample_start(int usec)
{
	struct sigaction sa;
	struct itimerval it = { { 0, usec }, { 0, usec } };

	if (layout_rc != 0)
		return -1;
	memset(samples, 0, sizeof samples);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_timer;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGPROF, &sa, NULL) < 0)
		return -1;
	return setitimer(ITIMER_PROF, &it, NULL);
}

/* Stops the timer and copies the six counters to out. */
int walktest_sample_stop(long *out6)
{
	struct itimerval off = { { 0, 0 }, { 0, 0 } };

	setitimer(ITIMER_PROF, &off, NULL);
	for (int i = 0; i < 6; i++)
		out6[i] = __atomic_load_n(&samples[i], __ATOMIC_RELAXED);
	return 0;
}
