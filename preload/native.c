/*
 * native.c - the native stack under the Python frames (PYPROF_NATIVE=1).
 *
 * The handler records raw instruction addresses only; names are the
 * collector's (collector/symbols.c), from the objects this file lists in
 * PF_REC_OBJECT records.  Three parts:
 *
 *   - Unwinding, with libunwind loaded privately: dlopen(RTLD_LOCAL), so
 *     its `backtrace` and 38 `_Unwind_*` exports never enter the global
 *     scope, where C++ exceptions of the program's extensions would bind to
 *     them instead of libgcc_s's.  unw_backtrace has a per-thread cache of
 *     frame rules (no lock on a hit), created on first use with malloc and
 *     pthread_once, and libunwind's own thread-locals are dynamic TLS
 *     (allocated on first touch): so each thread calls it once outside the
 *     handler (native_warm) before its first signal, and a thread that
 *     never did is not unwound.
 *   - Merging (native_merge): each run of Python frames goes where the
 *     eval-loop call that runs it is, just before that call's frame.  Eval calls are recognised by address,
 *     the range of _PyEval_EvalFrameDefault (its size from the dynamic
 *     symbol table, which every CPython exports it in), and paired with the
 *     runs root first, so that a race at the leaf (a call entered before
 *     its frame is linked, or a frame linked before its call) cannot
 *     misalign the rest.  Anything else is not guessed at: the sample
 *     keeps its Python stack alone, flagged PF_SAMPLE_UNMERGED.
 *   - The objects: a snapshot of dl_iterate_phdr, written at start and
 *     again by the sampler thread whenever glibc's count of loads and
 *     unloads moves (never from the handler: dl_iterate_phdr takes the
 *     loader's lock).  dlopen itself is not interposed: glibc resolves a
 *     dlopen's search path from its caller's address, which interposing
 *     would change.
 */
#include "config.h"

#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <ucontext.h>
#include <unistd.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "native.h"
#include "sampler-int.h"

static int (*unw_backtrace_)(void **, int);
static int (*unw_init_local2_)(unw_cursor_t *, unw_context_t *, int);
static int (*unw_step_)(unw_cursor_t *);
static int (*unw_get_reg_)(unw_cursor_t *, unw_regnum_t, unw_word_t *);
static int (*unw_get_proc_info_)(unw_cursor_t *, unw_proc_info_t *);
static int native_on, python_minor;

/*
 * Where the eval loop's code is.  The dynamic symbol gives one range; an
 * optimised build splits the function (GCC's hot/cold partitioning, a
 * PGO build's), and a stripped interpreter names no other part.  So from
 * 3.12, where each eval call keeps its entry frame on the C stack, the
 * parts are learned: when a stack does not pair, it is unwound once more,
 * frame by frame with stack pointers, the native frame whose stack holds
 * a run's entry frame is that run's eval call, and the unwind information
 * says where the code of that frame's function part begins and ends.
 * Append-only, published by the count.
 */
#define EVAL_RANGES 16
static struct {
	uintptr_t lo, hi;
} eval_ranges[EVAL_RANGES];
static int eval_nranges;
/* Learning unwinds left: each costs a slow unwind with locks, and a stack
 * that fails to pair for other reasons would otherwise pay it every time */
static int learn_budget = 1024;

/* How many of the handler's own frames (sigchain's dispatch, the
 * handler, the unwinder's call) and the signal trampoline precede the
 * interrupted frame, at most */
#define OWN_FRAMES 16

static int resolve_eval(void)
{
	void *f = dlsym(RTLD_DEFAULT, "_PyEval_EvalFrameDefault");
	const ElfW(Sym) *sym = NULL;
	Dl_info info;

	if (!f || !dladdr1(f, &info, (void **)&sym, RTLD_DL_SYMENT) || !sym ||
	    !sym->st_size)
		return -1;
	eval_ranges[0].lo = (uintptr_t)f;
	eval_ranges[0].hi = (uintptr_t)f + sym->st_size;
	eval_nranges = 1;
	return 0;
}

/*
 * libunwind opens a pipe of its own on first use (it tests addresses by
 * writing from them), which would take the two numbers the program's next
 * open() and pipe() should get, for the process's life.  So the free
 * numbers below the upper range (pf_fd_high) are held for that first use,
 * and the pipe lands up there, where pyprof's other descriptors are.
 */
static void first_use_in_upper_range(void)
{
	int held[1024], n = 0, base = pf_fd_high_base();
	void *buf[8];

	while (n < (int)(sizeof held / sizeof held[0])) {
		int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			break;
		if (fd >= base) {
			close(fd);
			break;
		}
		held[n++] = fd;
	}
	unw_backtrace_(buf, 8);
	while (n)
		close(held[--n]);
}

int native_init(int minor, char *why, size_t cap)
{
	void *h;

	python_minor = minor;
	if (resolve_eval() != 0) {
		snprintf(why, cap, "_PyEval_EvalFrameDefault not found with "
			 "its size in the dynamic symbols");
		return -1;
	}
	h = dlopen("libunwind.so.8", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(why, cap, "cannot load libunwind.so.8: %s", dlerror());
		return -1;
	}
	*(void **)&unw_backtrace_ = dlsym(h, "unw_backtrace");
	*(void **)&unw_init_local2_ = dlsym(h, "_ULx86_64_init_local2");
	*(void **)&unw_step_ = dlsym(h, "_ULx86_64_step");
	*(void **)&unw_get_reg_ = dlsym(h, "_ULx86_64_get_reg");
	*(void **)&unw_get_proc_info_ = dlsym(h, "_ULx86_64_get_proc_info");
	if (!unw_backtrace_) {
		snprintf(why, cap, "libunwind.so.8 has no unw_backtrace");
		return -1;
	}
	native_on = 1;
	first_use_in_upper_range();
	return 0;
}

int native_enabled(void)
{
	return native_on;
}

/*
 * A stack unwound to its end ends at the thread's first frame; one that
 * went astray (through code whose unwind information misleads, such as
 * an unwinder at work for a C++ exception) ends anywhere.  So the root is
 * learned here, once: for the main thread, _start's call of
 * __libc_start_main, just past the program's entry point (this runs in a
 * constructor, under the loader's own entry); for another thread, the
 * frame that called its start routine (clone's), the same for all of its
 * life.
 */
int native_warm(int is_main, struct native_root *root)
{
	void *buf[256];
	int n;

	pthread_attr_t attr;
	void *stack;
	size_t size;

	if (!native_on)
		return -1;
	/* An "instruction" inside the thread's own stack is the unwinder
	 * gone astray (seen with C++ exceptions in flight) */
	root->stack_lo = root->stack_hi = 0;
	if (pthread_getattr_np(pthread_self(), &attr) == 0) {
		if (pthread_attr_getstack(&attr, &stack, &size) == 0) {
			root->stack_lo = (uintptr_t)stack;
			root->stack_hi = (uintptr_t)stack + size;
		}
		pthread_attr_destroy(&attr);
	}
	n = unw_backtrace_(buf, 256);
	if (is_main) {
		root->lo = (uintptr_t)getauxval(AT_ENTRY);
		root->hi = root->lo + 64;
		return root->lo ? 0 : -1;
	}
	if (n <= 0 || n == 256)
		return -1;
	root->lo = (uintptr_t)buf[n - 1];
	root->hi = root->lo + 1;
	return 0;
}

HANDLER static uintptr_t interrupted_ip(const void *uc)
{
	const ucontext_t *u = uc;
#if defined(__x86_64__)
	return (uintptr_t)u->uc_mcontext.gregs[REG_RIP];
#elif defined(__aarch64__)
	return (uintptr_t)u->uc_mcontext.pc;
#else
	(void)u;
	return 0;
#endif
}

HANDLER int native_stack(const void *uc, const struct native_root *root,
			 uintptr_t *out, int max, int *complete)
{
	void **buf = (void **)out;
	uintptr_t ip = interrupted_ip(uc);
	int n, first = -1;

	*complete = 0;
	if (!native_on || !ip || max <= OWN_FRAMES)
		return -1;
	n = unw_backtrace_(buf, max);
	for (int i = 0; i < n && i < OWN_FRAMES; i++)
		if ((uintptr_t)buf[i] == ip) {
			first = i;
			break;
		}
	if (first < 0)
		return -1;
	*complete = n < max && (uintptr_t)buf[n - 1] >= root->lo &&
		    (uintptr_t)buf[n - 1] < root->hi;
	/* Leaf first; the callers' return addresses less one, so that each
	 * names the call instruction's line, not the next one. */
	for (int i = first; i < n; i++) {
		uintptr_t a = (uintptr_t)buf[i];
		if (a >= root->stack_lo && a < root->stack_hi)
			return -1;
		out[i - first] = a - (i > first);
	}
	return n - first;
}

HANDLER static int is_eval(uintptr_t a)
{
	int n = __atomic_load_n(&eval_nranges, __ATOMIC_ACQUIRE);

	for (int i = 0; i < n; i++)
		if (a >= eval_ranges[i].lo && a < eval_ranges[i].hi)
			return 1;
	return 0;
}

/* Adds [lo, hi) unless known; one writer at a time (the CAS on the
 * count's claim), readers see it once the count is stored. */
HANDLER static int add_range(uintptr_t lo, uintptr_t hi)
{
	static int claim;
	int n, expect = 0;

	if (is_eval(lo) || hi <= lo)
		return 0;
	if (!__atomic_compare_exchange_n(&claim, &expect, 1, 0,
					 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return 0; /* another thread is adding: the next failure retries */
	n = eval_nranges;
	if (n < EVAL_RANGES) {
		eval_ranges[n].lo = lo;
		eval_ranges[n].hi = hi;
		__atomic_store_n(&eval_nranges, n + 1, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&claim, 0, __ATOMIC_RELEASE);
	return n < EVAL_RANGES;
}

HANDLER int native_learn(const void *uc, const struct py_raw_frame *py,
			 int np, void *cursor_space)
{
	unw_cursor_t *c = cursor_space;
	unw_word_t sp, next_sp, ip;
	unw_proc_info_t pi;
	int learned = 0, steps = 0, r = 0;

	if (python_minor < 12 || !unw_init_local2_ || !unw_step_ ||
	    !unw_get_reg_ || !unw_get_proc_info_ ||
	    __atomic_sub_fetch(&learn_budget, 1, __ATOMIC_RELAXED) < 0)
		return 0;
	if (unw_init_local2_(c, (unw_context_t *)(uintptr_t)uc,
			     UNW_INIT_SIGNAL_FRAME) < 0 ||
	    unw_get_reg_(c, UNW_REG_SP, &sp) < 0)
		return 0;
	/* Frame k's locals lie in [its SP, its caller's SP): where a run's
	 * entry frame lies, frame k is that run's eval call. */
	while (steps++ < NATIVE_MAX) {
		if (unw_get_reg_(c, UNW_REG_IP, &ip) < 0 ||
		    unw_get_proc_info_(c, &pi) < 0)
			break;
		/* the cursor moves on: keep this frame's bounds first */
		unw_word_t lo = pi.start_ip, hi = pi.end_ip;
		if ((r = unw_step_(c)) <= 0 ||
		    unw_get_reg_(c, UNW_REG_SP, &next_sp) < 0)
			break;
		for (int i = 0; i < np; i++)
			if (py[i].entry && py[i].entry >= sp &&
			    py[i].entry < next_sp && !is_eval(ip))
				learned += add_range(lo, hi);
		sp = next_sp;
	}
	return learned;
}

HANDLER int native_merge(const struct py_raw_frame *py, int np,
			 const uintptr_t *nat, int nn,
			 struct py_raw_frame *out, int max)
{
	int evals = 0, runs = 0, paired, o = 0, e = 0;
	int pi = np - 1; /* py[] is leaf first: the root is at np - 1 */

	for (int i = 0; i < nn; i++)
		evals += is_eval(nat[i]);
	for (int i = 0; i < np; i++)
		runs += py[i].run_start != 0;
	/* An eval call entered before its first frame is linked, or left
	 * after its last is unlinked: one eval more at the leaf.  A frame
	 * linked before its call is entered: one run more. */
	if (!evals ||
	    !(evals == runs || evals == runs + 1 || runs == evals + 1))
		return -1;
	if (nn + np > max)
		return -1;
	paired = evals < runs ? evals : runs;
	/* Root first into out[] from its end, so that out[] comes out leaf
	 * first as the walk's does.  An eval call's frame goes after the
	 * run it runs, between the run's innermost frame and the C code that
	 * frame called: its address moves with every instruction of that
	 * frame, and before the run it would make each sample differ from
	 * the last at the run's root (the file shares the equal prefix). */
	for (int i = nn - 1; i >= 0; i--) {
		struct py_raw_frame f = {
			.code = nat[i], .frame = NATIVE_FRAME,
		};

		if (is_eval(nat[i]) && e++ < paired) {
			/* the run: from its root-most frame to before the
			 * next run's */
			do
				out[max - 1 - o++] = py[pi--];
			while (pi >= 0 && !py[pi].run_start);
		}
		out[max - 1 - o++] = f;
	}
	/* the one run linked before its eval call */
	while (pi >= 0)
		out[max - 1 - o++] = py[pi--];
	memmove(out, out + max - o, (size_t)o * sizeof *out);
	return o;
}

/* --- the loaded objects -------------------------------------------------- */

#define OBJECTS_MAX 4096

struct seen {
	uintptr_t bias, lo, hi;
};
static struct seen seen[OBJECTS_MAX];
static int nseen;
static unsigned long long last_adds, last_subs;
static pthread_mutex_t objects_lock = PTHREAD_MUTEX_INITIALIZER;
static char exe_path[4096];

struct poll {
	int changed;
	int (*write)(unsigned type, const void *body, size_t len);
	uint64_t mono;
};

static int counts(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct poll *p = arg;

	if (size >= offsetof(struct dl_phdr_info, dlpi_subs) +
			    sizeof info->dlpi_subs &&
	    (info->dlpi_adds != last_adds || info->dlpi_subs != last_subs)) {
		last_adds = info->dlpi_adds;
		last_subs = info->dlpi_subs;
		p->changed = 1;
	}
	return 1; /* the counts are the same in every entry: one is enough */
}

static size_t build_id(const struct dl_phdr_info *info, const uint8_t **out)
{
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		const uint8_t *p, *end;

		if (ph->p_type != PT_NOTE)
			continue;
		p = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr);
		end = p + ph->p_memsz;
		while (p + sizeof(ElfW(Nhdr)) <= end) {
			const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
			size_t name = (nh->n_namesz + 3) & ~3u;
			size_t desc = (nh->n_descsz + 3) & ~3u;
			const uint8_t *d = p + sizeof *nh + name;

			if (d + nh->n_descsz > end)
				break;
			if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
			    !memcmp(p + sizeof *nh, "GNU", 4)) {
				*out = d;
				return nh->n_descsz;
			}
			p = d + desc;
		}
	}
	return 0;
}

static int one_object(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct poll *p = arg;
	uintptr_t lo = UINTPTR_MAX, hi = 0;
	const uint8_t *bid = NULL;
	struct pf_rec_object rec = {0};
	uint8_t body[sizeof rec + 4096 + 64];
	const char *path = info->dlpi_name;
	size_t plen, blen;
	int i;

	(void)size;
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		if (info->dlpi_addr + ph->p_vaddr < lo)
			lo = info->dlpi_addr + ph->p_vaddr;
		if (info->dlpi_addr + ph->p_vaddr + ph->p_memsz > hi)
			hi = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
	}
	if (hi <= lo)
		return 0;
	for (i = 0; i < nseen; i++)
		if (seen[i].bias == info->dlpi_addr && seen[i].lo == lo &&
		    seen[i].hi == hi)
			return 0;
	if (nseen == OBJECTS_MAX)
		return 1;
	/* The executable's name is empty, the vDSO's is its soname. */
	if (!path || !*path)
		path = exe_path;
	else if (!strncmp(path, "linux-vdso", 10) || !strncmp(path, "linux-gate", 10))
		path = "[vdso]";
	plen = strnlen(path, 4096);
	blen = build_id(info, &bid);
	if (blen > 64)
		blen = 0;
	rec.mono_ns = p->mono;
	rec.bias = info->dlpi_addr;
	rec.lo = lo;
	rec.hi = hi;
	rec.path_len = (uint32_t)plen;
	rec.build_id_len = (uint32_t)blen;
	if (p->write(PF_REC_OBJECT, body, pf_put_object(body, &rec, path, bid)) != 0)
		return 1; /* not written: the next poll tries again */
	seen[nseen].bias = info->dlpi_addr;
	seen[nseen].lo = lo;
	seen[nseen].hi = hi;
	nseen++;
	return 0;
}

int native_objects_poll(int (*write)(unsigned type, const void *body,
				     size_t len))
{
	struct poll p = {0, write, clock_ns(CLOCK_MONOTONIC)};
	int unwritten = 0;

	if (!native_on)
		return 0;
	pthread_mutex_lock(&objects_lock);
	if (!exe_path[0]) {
		ssize_t n = readlink("/proc/self/exe", exe_path,
				     sizeof exe_path - 1);
		exe_path[n > 0 ? n : 0] = '\0';
	}
	dl_iterate_phdr(counts, &p);
	if (p.changed) {
		unwritten = dl_iterate_phdr(one_object, &p);
		/* what could not be written is looked at again next time */
		if (unwritten)
			last_adds = last_subs = ~0ull;
	}
	pthread_mutex_unlock(&objects_lock);
	return unwritten ? -1 : 0;
}

void native_objects_again(void)
{
	pthread_mutex_lock(&objects_lock);
	nseen = 0;
	last_adds = last_subs = ~0ull;
	pthread_mutex_unlock(&objects_lock);
}

void native_objects_reset(void)
{
	/* a forked child's file lists its objects afresh */
	pthread_mutex_init(&objects_lock, NULL);
	nseen = 0;
	last_adds = last_subs = ~0ull;
}
