/*
 * test_native.c - preload/native.c: merging a native stack with the Python
 * runs, and unwinding from a real signal.
 *
 * The eval loop native.c looks for is this program's own
 * _PyEval_EvalFrameDefault (exported with -rdynamic, as every CPython
 * exports its own), so a merge's input is made of addresses inside it
 * ("eval calls") and outside it.
 */
#include "config.h"

#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>

#include "preload/native.h"
#include "unit.h"

/* Stands for the eval loop: big enough to hold a few distinct "return
 * addresses" */
__attribute__((noinline, used)) int _PyEval_EvalFrameDefault(int x);
__attribute__((noinline, used)) int _PyEval_EvalFrameDefault(int x)
{
	volatile int v = x;
	for (int i = 0; i < 16; i++)
		v = v * 3 + i;
	return v;
}

static uintptr_t eval(int k)
{
	return (uintptr_t)_PyEval_EvalFrameDefault + 1 + (uintptr_t)k;
}

/* Addresses that are not the eval loop */
#define C(k) ((uintptr_t)0x1000000 + (uintptr_t)(k) * 16)

static int inited;

static int setup(void)
{
	char why[256];

	inited = native_init(12, why, sizeof why) == 0;
	if (!inited)
		fprintf(stderr, "native_init: %s\n", why);
	return 0;
}

static struct py_raw_frame py(uintptr_t code, int run_start)
{
	struct py_raw_frame f = {.code = code, .frame = 0x10000 + code,
				 .lasti = 2, .run_start = run_start};
	return f;
}

static int is_native(const struct py_raw_frame *f, uintptr_t a)
{
	return f->frame == NATIVE_FRAME && f->code == a;
}

static int is_py(const struct py_raw_frame *f, uintptr_t code)
{
	return f->frame != NATIVE_FRAME && f->code == code;
}

/* Two runs: a -> b in the first eval call, c in the second (called from
 * C code that b called) */
static void test_native__runs_under_their_eval_calls(void)
{
	struct py_raw_frame walk[3] = {py(0xc, 1), py(0xb, 0), py(0xa, 1)};
	uintptr_t nat[5] = {C(5), eval(1), C(3), eval(0), C(1)};
	struct py_raw_frame out[16];
	int n;

	CU_ASSERT_FATAL(inited);
	n = native_merge(walk, 3, nat, 5, out, 16);
	CU_ASSERT_EQUAL_FATAL(n, 8);
	/* leaf first: C5, eval1, c, C3, eval0, b, a, C1: each eval call
	 * between its run's innermost frame and the C code that called */
	CU_ASSERT(is_native(&out[0], C(5)));
	CU_ASSERT(is_native(&out[1], eval(1)));
	CU_ASSERT(is_py(&out[2], 0xc));
	CU_ASSERT(is_native(&out[3], C(3)));
	CU_ASSERT(is_native(&out[4], eval(0)));
	CU_ASSERT(is_py(&out[5], 0xb));
	CU_ASSERT(is_py(&out[6], 0xa));
	CU_ASSERT(is_native(&out[7], C(1)));
}

/* 3.8-3.10: every frame is its own run, with an eval call each */
static void test_native__one_eval_per_frame(void)
{
	struct py_raw_frame walk[3] = {py(0xc, 1), py(0xb, 1), py(0xa, 1)};
	uintptr_t nat[7] = {C(7), eval(2), C(6), eval(1), C(5), eval(0), C(4)};
	struct py_raw_frame out[16];
	int n = native_merge(walk, 3, nat, 7, out, 16);

	CU_ASSERT_EQUAL_FATAL(n, 10);
	CU_ASSERT(is_native(&out[0], C(7)));
	CU_ASSERT(is_native(&out[1], eval(2)));
	CU_ASSERT(is_py(&out[2], 0xc));
	CU_ASSERT(is_native(&out[3], C(6)));
	CU_ASSERT(is_native(&out[4], eval(1)));
	CU_ASSERT(is_py(&out[5], 0xb));
	CU_ASSERT(is_native(&out[6], C(5)));
	CU_ASSERT(is_native(&out[7], eval(0)));
	CU_ASSERT(is_py(&out[8], 0xa));
	CU_ASSERT(is_native(&out[9], C(4)));
}

/* An eval call entered whose first frame is not linked yet: it stays a
 * native frame at the leaf, the rest pairs as before */
static void test_native__eval_call_without_its_frame_yet(void)
{
	struct py_raw_frame walk[2] = {py(0xb, 0), py(0xa, 1)};
	uintptr_t nat[4] = {eval(1), C(2), eval(0), C(1)};
	struct py_raw_frame out[16];
	int n = native_merge(walk, 2, nat, 4, out, 16);

	CU_ASSERT_EQUAL_FATAL(n, 6);
	CU_ASSERT(is_native(&out[0], eval(1)));
	CU_ASSERT(is_native(&out[1], C(2)));
	CU_ASSERT(is_native(&out[2], eval(0)));
	CU_ASSERT(is_py(&out[3], 0xb));
	CU_ASSERT(is_py(&out[4], 0xa));
}

/* A frame linked before its eval call is entered: that run goes at the
 * leaf, below the C code that is calling it */
static void test_native__frame_before_its_eval_call(void)
{
	struct py_raw_frame walk[2] = {py(0xb, 1), py(0xa, 1)};
	uintptr_t nat[3] = {C(3), eval(0), C(1)};
	struct py_raw_frame out[16];
	int n = native_merge(walk, 2, nat, 3, out, 16);

	CU_ASSERT_EQUAL_FATAL(n, 5);
	CU_ASSERT(is_py(&out[0], 0xb));
	CU_ASSERT(is_native(&out[1], C(3)));
	CU_ASSERT(is_native(&out[2], eval(0)));
	CU_ASSERT(is_py(&out[3], 0xa));
}

/* What does not pair is refused, never guessed */
static void test_native__what_does_not_pair_is_refused(void)
{
	struct py_raw_frame walk[3] = {py(0xc, 1), py(0xb, 1), py(0xa, 1)};
	uintptr_t three[4] = {eval(2), eval(1), eval(0), C(1)};
	uintptr_t one[2] = {eval(0), C(1)};
	uintptr_t none[2] = {C(2), C(1)};
	struct py_raw_frame out[16];

	/* 3 runs, 1 eval call: a stack cut short */
	CU_ASSERT_EQUAL(native_merge(walk, 3, one, 2, out, 16), -1);
	/* 1 run, 3 eval calls */
	CU_ASSERT_EQUAL(native_merge(walk + 2, 1, three, 4, out, 16), -1);
	/* no eval call at all, however few runs: the unwind went astray */
	CU_ASSERT_EQUAL(native_merge(walk + 2, 1, none, 2, out, 16), -1);
	/* more than fits */
	CU_ASSERT_EQUAL(native_merge(walk + 2, 1, one, 2, out, 2), -1);
}

/* --- unwinding from a signal ------------------------------------------- */

static struct native_root root;
static uintptr_t got[NATIVE_MAX];
/* volatile: raise() is declared leaf, so without it the compiler may
 * assume the handler did not change them */
static volatile int got_n, got_complete;

/* Not static: code_of finds them by their dynamic symbols */
void on_sigprof(int sig, siginfo_t *si, void *uc);
int marker(void);

void on_sigprof(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	int complete;

	got_n = native_stack(uc, &root, got, NATIVE_MAX, &complete);
	got_complete = complete;
}

__attribute__((noinline)) int marker(void)
{
	raise(SIGPROF);
	return got_n;
}

/* Where fn's code is, from its dynamic symbol */
static int code_of(void *fn, uintptr_t *lo, uintptr_t *hi)
{
	const ElfW(Sym) *sym = NULL;
	Dl_info info;

	if (!dladdr1(fn, &info, (void **)&sym, RTLD_DL_SYMENT) || !sym)
		return -1;
	*lo = (uintptr_t)info.dli_saddr;
	*hi = *lo + sym->st_size;
	return 0;
}

static int in(uintptr_t a, uintptr_t lo, uintptr_t hi)
{
	return a >= lo && a < hi;
}

/* One SIGPROF to this thread, from marker(), unwound by on_sigprof */
static void signal_here(void)
{
	struct sigaction sa, old;

	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_sigprof;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	CU_ASSERT_FATAL(sigaction(SIGPROF, &sa, &old) == 0);
	got_n = 0;
	got_complete = 0;
	marker();
	sigaction(SIGPROF, &old, NULL);
}

static void unwind_here(int is_main)
{
	uintptr_t lo = 0, hi = 0;
	int hit = 0;

	CU_ASSERT_EQUAL_FATAL(native_warm(is_main, &root), 0);
	signal_here();
	CU_ASSERT_FATAL(got_n > 2);
	CU_ASSERT(got_complete);
	/* marker's return address, less one, is in marker */
	CU_ASSERT_FATAL(code_of((void *)marker, &lo, &hi) == 0);
	for (int i = 1; i < got_n; i++)
		hit += in(got[i], lo, hi);
	CU_ASSERT_EQUAL(hit, 1);
	/* the handler's own frames are not part of it */
	CU_ASSERT_FATAL(code_of((void *)on_sigprof, &lo, &hi) == 0);
	for (int i = 0; i < got_n; i++)
		CU_ASSERT(!in(got[i], lo, hi));
}

static void test_native__stack_from_a_signal_main_thread(void)
{
	CU_ASSERT_FATAL(inited);
	unwind_here(1);
}

static void *thread_main(void *arg)
{
	(void)arg;
	unwind_here(0);
	return NULL;
}

static void test_native__stack_from_a_signal_other_thread(void)
{
	pthread_t th;

	CU_ASSERT_FATAL(inited);
	CU_ASSERT_FATAL(pthread_create(&th, NULL, thread_main, NULL) == 0);
	pthread_join(th, NULL);
}

/* A thread's root learned on another thread does not vouch for this
 * one's stack: the unwind is not called complete */
static void *wrong_root_main(void *arg)
{
	struct native_root mine;

	(void)arg;
	native_warm(0, &mine);
	root = mine;
	root.lo = root.hi = 1;
	signal_here();
	CU_ASSERT(got_n > 2);
	CU_ASSERT(!got_complete);
	return NULL;
}

static void test_native__unknown_root_is_not_complete(void)
{
	pthread_t th;

	CU_ASSERT_FATAL(inited);
	CU_ASSERT_FATAL(pthread_create(&th, NULL, wrong_root_main, NULL) == 0);
	pthread_join(th, NULL);
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_native__runs_under_their_eval_calls),
		UNIT_TEST(test_native__one_eval_per_frame),
		UNIT_TEST(test_native__eval_call_without_its_frame_yet),
		UNIT_TEST(test_native__frame_before_its_eval_call),
		UNIT_TEST(test_native__what_does_not_pair_is_refused),
		UNIT_TEST(test_native__stack_from_a_signal_main_thread),
		UNIT_TEST(test_native__stack_from_a_signal_other_thread),
		UNIT_TEST(test_native__unknown_root_is_not_complete),
	};

	setup();
	return unit_run("native", tests, sizeof tests / sizeof tests[0]);
}
