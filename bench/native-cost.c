/*
 * native-cost.c - what unwinding and merging a native stack costs the
 * handler (PYPROF_NATIVE=1), measured in a signal handler at a chosen
 * depth of C frames.
 *
 * usage (from the source tree, after a build in BUILD):
 *   gcc -O2 -g -rdynamic -I BUILD -Ipreload -Iformat bench/native-cost.c \
 *       preload/native.c format/encode.c -ldl -lpthread -o native-cost
 *   ./native-cost [DEPTH] [SIGNALS]
 *
 * The thread recurses DEPTH - 4 levels (main and libc's start frames make
 * up the rest), then raises SIGPROF SIGNALS times; the handler times
 * native_stack (unwinding), and native_merge of the result with a
 * 3-frame Python stack, with CLOCK_MONOTONIC around each.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "format.h"
#include "native.h"

/* stands for CPython's: native.c finds the eval loop by this name */
__attribute__((noinline, used)) int _PyEval_EvalFrameDefault(int x);
__attribute__((noinline, used)) int _PyEval_EvalFrameDefault(int x)
{
	return x * 3 + 1;
}

static struct native_root root;
static uintptr_t nat[NATIVE_MAX];
static struct py_raw_frame mix[PF_MAX_DEPTH];
static uint64_t *unwind_ns, *merge_ns;
static volatile int taken, depth_seen;

static uint64_t now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void on_sigprof(int sig, siginfo_t *si, void *uc)
{
	struct py_raw_frame py[3] = {
		{.code = 0x3000, .frame = 0x30000, .run_start = 1},
		{.code = 0x2000, .frame = 0x20000},
		{.code = 0x1000, .frame = 0x10000, .run_start = 1},
	};
	uint64_t t0, t1, t2;
	int n, complete;

	(void)sig;
	(void)si;
	t0 = now();
	n = native_stack(uc, &root, nat, NATIVE_MAX, &complete);
	t1 = now();
	if (n > 0)
		native_merge(py, 3, nat, n, mix, PF_MAX_DEPTH);
	t2 = now();
	unwind_ns[taken] = t1 - t0;
	merge_ns[taken] = t2 - t1;
	depth_seen = complete ? n : -n;
	taken++;
}

static int cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

__attribute__((noinline)) static int recurse(int n, int signals)
{
	/* a frame per level: the compiler may not fold it into a loop */
	volatile char pad[16];

	pad[0] = (char)n;
	if (n > 0)
		return recurse(n - 1, signals) + pad[0];
	for (int i = 0; i < signals; i++)
		raise(SIGPROF);
	return 0;
}

int main(int argc, char **argv)
{
	int depth = argc > 1 ? atoi(argv[1]) : 30;
	int signals = argc > 2 ? atoi(argv[2]) : 100000;
	struct sigaction sa;
	char why[256];

	if (native_init(12, why, sizeof why) != 0 ||
	    native_warm(1, &root) != 0) {
		fprintf(stderr, "native-cost: %s\n", why);
		return 1;
	}
	unwind_ns = calloc((size_t)signals, sizeof *unwind_ns);
	merge_ns = calloc((size_t)signals, sizeof *merge_ns);
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_sigprof;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGPROF, &sa, NULL);
	recurse(depth > 4 ? depth - 4 : 0, signals);
	qsort(unwind_ns, (size_t)taken, sizeof *unwind_ns, cmp);
	qsort(merge_ns, (size_t)taken, sizeof *merge_ns, cmp);
	printf("depth %d (%s), %d signals: unwind median %.2f us, p99 %.2f us; "
	       "merge median %.2f us\n",
	       depth_seen < 0 ? -depth_seen : depth_seen,
	       depth_seen > 0 ? "to the root" : "NOT to the root", taken,
	       unwind_ns[taken / 2] / 1e3, unwind_ns[taken * 99 / 100] / 1e3,
	       merge_ns[taken / 2] / 1e3);
	return 0;
}
