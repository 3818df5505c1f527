/*
 * tstate-cost.c - times pyintro_current_tstate(), for tstate-cost.py.
 *
 * Calls it in a loop from Python (GIL held, or released through
 * ctypes.CDLL) and from a C thread that has no Python state, and returns
 * nanoseconds per call.  Outside a signal handler the cost is the same:
 * loads, and on 3.15+ without the GIL a getpid + process_vm_readv.
 */
#include <pthread.h>
#include <stdint.h>
#include <time.h>
#include "pyintro.h"
static struct py_layout L;
static int rc = -9;
__attribute__((constructor)) static void init(void) { char why[256]; rc = pyintro_init(&L, why, sizeof why); }
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e9 + t.tv_nsec; }
double bench(int n, int *found) {
	double t0 = now(); uintptr_t ts = 0;
	for (int i = 0; i < n; i++) ts |= pyintro_current_tstate(&L);
	*found = ts != 0;
	return (now() - t0) / n;
}
static void *thr(void *p) { int f; *(double *)p = bench(200000, &f); return 0; }
double bench_foreign(void) { pthread_t t; double r; pthread_create(&t, 0, thr, &r); pthread_join(t, 0); return r; }
int init_rc(void) { return rc; }
