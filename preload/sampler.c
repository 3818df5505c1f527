/*
 * sampler.c - per-thread timers and the SIGPROF handler.
 *
 * The handler (on_sigprof and everything it calls) may only:
 *   - load and store memory mapped before it runs (the file mapping, the
 *     intern tables, this thread's struct thread_state);
 *   - use lock-free atomics;
 *   - call clock_gettime, pthread_getspecific (through pyintro), ioctl,
 *     fallocate, pwrite and fstatfs (through the writer).
 * Never malloc, stdio, locks, dlsym, or the Python C API.  It never waits:
 * whatever it cannot do at once it drops, and counts the drop by reason in
 * the file's header.  errno is saved and restored.
 *
 * Re-entrancy: a thread's state is written by the handler and, rarely, by
 * the thread itself outside the handler (start, stop).  `busy` marks both;
 * a signal that lands while busy is dropped, not nested.
 */
#include "config.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "encode.h"
#include "intern.h"
#include "names.h"
#include "sampler.h"

struct prev_frame {
	uintptr_t code, frame;
	int32_t lasti;
	uint32_t id;
};

struct thread_state {
	struct pf_cursor cur;
	int busy;                     /* see try_busy() */
	int tid;
	int is_main;
	uint64_t pthread;
	int has_timer;
	int adopted;                  /* armed by another thread */
	struct thread_state *next_live; /* the live list, see live_add */
	unsigned long long started;   /* adopted: thread_start_time() */
	timer_t timer;
	int perf_fd;
	uint64_t last_mono, last_cpu; /* the previous sample's clocks */
	uint32_t prev_depth;          /* frames of prev[] shareable in cur */
	/* wall mode (wall_tick): */
	uint32_t depth;               /* frames of the last recorded stack */
	int have_stack;               /* prev[0..depth) is that stack */
	uintptr_t tstate;             /* its PyThreadState when last seen */
	uint64_t tick_mono, tick_cpu; /* the clocks at the previous tick */
	uint32_t search_skip, search_backoff; /* no state found: back off */
	int wall_left;                /* not read at the last tick */
	struct prev_frame prev[PF_MAX_DEPTH];
	struct py_raw_frame walk[PF_MAX_DEPTH];
	uint8_t scratch[PF_SAMPLE_HEAD_MAX + PF_MAX_DEPTH * PF_FRAME_MAX];
};

static __thread struct thread_state *self
	__attribute__((tls_model("initial-exec")));

static const struct config *cfg;
static const struct py_layout *layout;
static struct pf_writer *writer;
static int source;
static int active;
static uint32_t next_serial;
static struct sigaction old_action, our_action;
static pthread_key_t stop_key;
/* sigev_value of our timers: tells our SIGPROF from anybody else's */
static int timer_cookie;

/*
 * A thread's state is written by its own handler, by the thread itself
 * outside the handler (start, stop, records), and in wall mode by the
 * sampler thread.  Whoever takes `busy` owns it; the handler and the
 * sampler thread never wait for it (a sample is dropped, or the thread is
 * looked at on the next tick), only sampler_thread_stop() does, and the
 * sampler thread holds it for one bounded read.
 */
static inline int try_busy(struct thread_state *t)
{
	return !__atomic_exchange_n(&t->busy, 1, __ATOMIC_ACQUIRE);
}

static inline void unbusy(struct thread_state *t)
{
	__atomic_store_n(&t->busy, 0, __ATOMIC_RELEASE);
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;
	if (clock_gettime(id, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int gettid_(void) { return (int)syscall(SYS_gettid); }

/* --- tid -> state ------------------------------------------------------- */

/* The handler finds a thread's state through `self`; a thread armed by
 * another thread (adopted, see sampler_adopt_threads) has no `self` yet,
 * so the handler looks it up here by tid and caches it in `self`.  An
 * array indexed by tid (pid_max entries, mapped lazily by the kernel)
 * gives a lock-free O(1) lookup without deletion problems; writers take
 * the mutex. */
#define TIDS_MAX (1u << 22)
static struct thread_state **by_tid;
static pthread_mutex_t by_tid_lock = PTHREAD_MUTEX_INITIALIZER;

static void by_tid_set(int tid, struct thread_state *t)
{
	if (!by_tid || tid <= 0 || (unsigned)tid >= TIDS_MAX)
		return;
	pthread_mutex_lock(&by_tid_lock);
	__atomic_store_n(&by_tid[tid], t, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&by_tid_lock);
}

/* Every armed thread's state, so that a forked child can close the perf
 * event descriptors of the parent's other threads.  Each change is one
 * pointer store, so the list is whole at any instant a fork may copy. */
static struct thread_state *live;

static void live_add(struct thread_state *t)
{
	pthread_mutex_lock(&by_tid_lock);
	t->next_live = live;
	__atomic_store_n(&live, t, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&by_tid_lock);
}

static void live_remove(struct thread_state *t)
{
	pthread_mutex_lock(&by_tid_lock);
	for (struct thread_state **p = &live; *p; p = &(*p)->next_live) {
		if (*p == t) {
			__atomic_store_n(p, t->next_live, __ATOMIC_RELEASE);
			break;
		}
	}
	pthread_mutex_unlock(&by_tid_lock);
}

/* HANDLER */
static struct thread_state *by_tid_get(int tid)
{
	struct thread_state *t;

	if (!by_tid || tid <= 0 || (unsigned)tid >= TIDS_MAX)
		return NULL;
	t = __atomic_load_n(&by_tid[tid], __ATOMIC_ACQUIRE);
	return t && t->tid == tid ? t : NULL;
}

/* MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED) of the kernel: the CPU clock
 * of one thread of this process, by tid. */
static clockid_t thread_clock(int tid)
{
	return (clockid_t)((~(unsigned)tid << 3) | 6);
}

/* --- records into this thread's chunk ----------------------------------- */

/* Opens a fresh chunk with its PF_REC_THREAD.  The baselines are the
 * previous sample's clocks, so deltas run on across chunks unchanged. */
static int new_chunk(struct thread_state *t)
{
	struct pf_rec_thread rec = {0};
	uint8_t *body;
	size_t len;

	if (pf_writer_next_chunk(writer, &t->cur) != 0)
		return -1;
	t->prev_depth = 0;
	rec.flags = t->is_main ? PF_THREAD_MAIN : 0;
	rec.base_mono_ns = t->last_mono;
	rec.base_cpu_ns = t->last_cpu;
	rec.pthread = t->pthread;
	body = pf_cursor_space(&t->cur, sizeof rec);
	if (!body)
		return -1;
	len = pf_put_thread(body, &rec, NULL);
	pf_cursor_commit(&t->cur, PF_REC_THREAD, len);
	return 0;
}

static uint8_t *sink_space(void *ctx, size_t n)
{
	struct thread_state *t = ctx;
	uint8_t *p = pf_cursor_space(&t->cur, n);

	if (!p && new_chunk(t) == 0)
		p = pf_cursor_space(&t->cur, n);
	return p;
}

static void sink_commit(void *ctx, unsigned type, size_t n)
{
	struct thread_state *t = ctx;
	pf_cursor_commit(&t->cur, type, n);
}

/* --- the sample --------------------------------------------------------- */

static size_t encode(struct thread_state *t, int n, uint32_t shared,
		     uint64_t dt, uint64_t dcpu, uint32_t flags)
{
	uint8_t *p = t->scratch;

	p += pf_put_sample_head(p, dt, dcpu, flags, shared,
				(uint32_t)n - shared);
	for (int i = (int)shared; i < n; i++)
		p += pf_put_frame(p, t->prev[i].id, t->prev[i].lasti);
	return (size_t)(p - t->scratch);
}

/* Deltas are unsigned: a reading older than the thread's last sample
 * (two writers' clocks read in the other order) would wrap to centuries.
 * It counts as no time instead. */
static void not_before_last(const struct thread_state *t, uint64_t *mono,
			    uint64_t *cpu)
{
	if (*mono < t->last_mono)
		*mono = t->last_mono;
	if (*cpu < t->last_cpu)
		*cpu = t->last_cpu;
}

/*
 * Time no sample will stand for, from the baselines to (mono, cpu): a
 * PF_SAMPLE_GAP record, because readers rebuild each sample's time by
 * adding up the deltas.  Where the chunk has no room, a new chunk's base
 * takes the new baselines instead; with no chunk yet, nothing is needed.
 */
static void gap(struct thread_state *t, uint64_t mono, uint64_t cpu)
{
	uint8_t b[PF_SAMPLE_HEAD_MAX], *body;
	size_t len;
	int room;

	not_before_last(t, &mono, &cpu);

	len = pf_put_gap(b, mono - t->last_mono, cpu - t->last_cpu,
			 t->prev_depth);
	room = t->cur.chunk && (body = pf_cursor_space(&t->cur, len));
	t->last_mono = mono;
	t->last_cpu = cpu;
	if (room) {
		memcpy(body, b, len);
		pf_cursor_commit(&t->cur, PF_REC_SAMPLE, len);
	} else if (t->cur.chunk && !writer->full) {
		new_chunk(t);
	}
}

static void drop(struct thread_state *t, enum pf_drop why, uint64_t mono,
		 uint64_t cpu)
{
	pf_count_drop(writer, why);
	/* The dropped period's CPU time is not handed to the next sample:
	 * it would credit a stack with time it may not have used.  In wall
	 * mode a thread seen running Python keeps it, as the sampler thread
	 * does (wall_observe): its wall time must add up to its life, and
	 * the dropped period may hold a long wait the sampler thread, late
	 * on a loaded machine, had not written yet. */
	if (cfg->mode == PF_MODE_WALL && t->have_stack &&
	    (why == PF_DROP_NO_PYTHON || why == PF_DROP_BAD_STACK))
		return;
	gap(t, mono, cpu);
}

/* Writes the stack in t->walk[0..n) (leaf first) as a sample standing
 * for the time since the previous one. */
static void record_stack(struct thread_state *t, int n, uint32_t flags,
			 uint64_t mono, uint64_t cpu)
{
	struct rec_sink sink = {sink_space, sink_commit, t};
	uint64_t dt, dcpu;
	uint32_t shared = 0;
	uint8_t *chunk_before;
	size_t len;
	uint8_t *body;

	not_before_last(t, &mono, &cpu);
	dt = mono - t->last_mono;
	dcpu = cpu - t->last_cpu;
	/* prev[] is root first, walk[] leaf first. */
	while ((int)shared < n && shared < t->prev_depth) {
		const struct py_raw_frame *f = &t->walk[n - 1 - shared];
		const struct prev_frame *p = &t->prev[shared];
		if (p->code != f->code || p->frame != f->frame ||
		    p->lasti != f->lasti)
			break;
		shared++;
	}
	/* Interning may open a new chunk, which forgets the shared prefix;
	 * prev[] keeps its ids, so the frames are all still known. */
	chunk_before = t->cur.chunk;
	if (!chunk_before && new_chunk(t) != 0)
		return drop(t, PF_DROP_FULL, mono, cpu);
	for (int i = (int)shared; i < n; i++) {
		const struct py_raw_frame *f = &t->walk[n - 1 - i];
		uint32_t id = intern_code(layout, f->code, &sink);
		if (!id && writer->full)
			return drop(t, PF_DROP_FULL, mono, cpu);
		t->prev[i].code = f->code;
		t->prev[i].frame = f->frame;
		t->prev[i].lasti = f->lasti;
		t->prev[i].id = id;
	}
	if (t->cur.chunk != chunk_before || shared > t->prev_depth)
		shared = 0;

	len = encode(t, n, shared, dt, dcpu, flags);
	body = pf_cursor_space(&t->cur, len);
	if (!body) {
		if (new_chunk(t) != 0)
			return drop(t, PF_DROP_FULL, mono, cpu);
		shared = 0;
		len = encode(t, n, 0, dt, dcpu, flags);
		body = pf_cursor_space(&t->cur, len);
		if (!body)
			return drop(t, PF_DROP_FULL, mono, cpu);
	}
	memcpy(body, t->scratch, len);
	pf_cursor_commit(&t->cur, PF_REC_SAMPLE, len);
	t->prev_depth = (uint32_t)n;
	t->depth = (uint32_t)n;
	t->have_stack = 1;
	t->last_mono = mono;
	t->last_cpu = cpu;
	__atomic_fetch_add(&writer->hdr->samples, 1, __ATOMIC_RELAXED);
}

static void take_sample(struct thread_state *t)
{
	uint64_t mono = clock_ns(CLOCK_MONOTONIC);
	uint64_t cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	uintptr_t ts;
	int n, truncated = 0;
	uint32_t flags = 0;

	if (writer->full)
		return drop(t, PF_DROP_FULL, mono, cpu);
	ts = pyintro_current_tstate(layout);
	if (!ts)
		return drop(t, pyintro_finalizing(layout) ? PF_DROP_FINALIZING
							  : PF_DROP_NO_PYTHON,
			    mono, cpu);
	/* for wall mode's sampler thread, which cannot ask the TSS key */
	t->tstate = ts;
	if (!t->pthread)
		t->pthread = (uint64_t)pthread_self();
	n = pystack_walk(layout, ts, t->walk, PF_MAX_DEPTH, &truncated);
	if (n < 0)
		return drop(t, PF_DROP_BAD_STACK, mono, cpu);
	if (pyintro_holds_gil(layout, ts))
		flags |= PF_SAMPLE_GIL;
	if (truncated)
		flags |= PF_SAMPLE_TRUNCATED;
	record_stack(t, n, flags, mono, cpu);
}

static int ours(const siginfo_t *si, const struct thread_state *t)
{
	if (si->si_code == SI_TIMER)
		return si->si_value.sival_ptr == &timer_cookie;
	if (t && t->perf_fd >= 0 && (si->si_code == POLL_HUP ||
				     si->si_code == POLL_IN))
		return si->si_fd == t->perf_fd;
	return 0;
}

static void on_sigprof(int sig, siginfo_t *si, void *uc)
{
	int saved = errno;
	struct thread_state *t = self;

	if (!t && si->si_code != SI_TIMER)
		t = by_tid_get(gettid_()); /* an adopted thread's perf signal */
	if (!ours(si, t)) {
		/* Somebody else's SIGPROF (the program's own profiler):
		 * hand it on rather than swallow it. */
		if (old_action.sa_flags & SA_SIGINFO) {
			if (old_action.sa_sigaction)
				old_action.sa_sigaction(sig, si, uc);
		} else if (old_action.sa_handler != SIG_DFL &&
			   old_action.sa_handler != SIG_IGN) {
			old_action.sa_handler(sig);
		}
		errno = saved;
		return;
	}
	if (!__atomic_load_n(&active, __ATOMIC_ACQUIRE))
		goto out;
	__atomic_fetch_add(&writer->hdr->signals, 1, __ATOMIC_RELAXED);
	if (!t && (t = by_tid_get(gettid_())))
		self = t; /* an adopted thread's first signal */
	if (!t) {
		pf_count_drop(writer, PF_DROP_NO_THREAD);
		goto out;
	}
	if (!try_busy(t)) {
		pf_count_drop(writer, PF_DROP_BUSY);
		goto out;
	}
	if (!cfg->floor)
		take_sample(t);
	unbusy(t);
out:
	if (t && t->perf_fd >= 0)
		ioctl(t->perf_fd, PERF_EVENT_IOC_REFRESH, 1);
	errno = saved;
}

/* --- timers ------------------------------------------------------------- */

static int fd_ceiling = 512; /* half of RLIMIT_NOFILE, set at init */

static int arm_timer(struct thread_state *t)
{
	struct sigevent sev;
	struct itimerspec its;

	memset(&sev, 0, sizeof sev);
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = SIGPROF;
	sev.sigev_value.sival_ptr = &timer_cookie;
	sev._sigev_un._tid = t->tid;
	/* t's own CPU clock, named by tid, so that a thread can arm another
	 * (adoption) as well as itself */
	if (timer_create(thread_clock(t->tid), &sev, &t->timer) != 0)
		return -1;
	its.it_interval.tv_sec = (time_t)(cfg->interval_ns / 1000000000u);
	its.it_interval.tv_nsec = (long)(cfg->interval_ns % 1000000000u);
	its.it_value = its.it_interval;
	if (timer_settime(t->timer, 0, &its, NULL) != 0) {
		timer_delete(t->timer);
		return -1;
	}
	t->has_timer = 1;
	return 0;
}

/* The task-clock event counts this thread's CPU time in nanoseconds and
 * signals the thread itself on every overflow, at the asked rate (the CPU
 * timer is checked only on the kernel tick).  REFRESH(1) arms one overflow
 * at a time; the handler re-arms it. */
static int arm_perf(struct thread_state *t)
{
	struct perf_event_attr a;
	struct f_owner_ex owner = {F_OWNER_TID, t->tid};
	int fd;

	memset(&a, 0, sizeof a);
	a.type = PERF_TYPE_SOFTWARE;
	a.size = sizeof a;
	a.config = PERF_COUNT_SW_TASK_CLOCK;
	a.sample_period = cfg->interval_ns;
	a.disabled = 1;
	a.wakeup_events = 1;
	/* Overflow only in user mode: a signal raised while the thread is in
	 * the kernel (say, entering nanosleep or select) would interrupt the
	 * call with EINTR, which calls made through ctypes do not retry.  In
	 * user mode the signal is taken on the way back from the interrupt,
	 * before any system call can start.  The CPU time spent meanwhile
	 * still reaches the next sample through the thread's clock. */
	a.exclude_kernel = 1;
	a.exclude_hv = 1;
	fd = (int)syscall(SYS_perf_event_open, &a, t->tid, -1, -1,
			  PERF_FLAG_FD_CLOEXEC);
	if (fd < 0)
		return -1;
	/* A perf event is a file descriptor of the program's.  Never take
	 * the upper half of its limit: a program with many threads would
	 * meet EMFILE sooner than without pyprof.  The timer takes none. */
	if (fd >= fd_ceiling) {
		close(fd);
		return -1;
	}
	if (fcntl(fd, F_SETFL, O_ASYNC) != 0 ||
	    fcntl(fd, F_SETSIG, SIGPROF) != 0 ||
	    fcntl(fd, F_SETOWN_EX, &owner) != 0 ||
	    ioctl(fd, PERF_EVENT_IOC_RESET, 0) != 0 ||
	    ioctl(fd, PERF_EVENT_IOC_REFRESH, 1) != 0) {
		close(fd);
		return -1;
	}
	t->perf_fd = fd;
	return 0;
}

/* The process's source, falling back to the timer for a thread whose perf
 * event cannot be had (say, file descriptors running short). */
static int arm(struct thread_state *t)
{
	if (source == PF_SOURCE_PERF_TASK_CLOCK && arm_perf(t) == 0)
		return 0;
	return arm_timer(t);
}

static void disarm(struct thread_state *t)
{
	if (t->has_timer)
		timer_delete(t->timer);
	t->has_timer = 0;
	if (t->perf_fd >= 0)
		close(t->perf_fd);
	t->perf_fd = -1;
}

/* wall mode, below */
static int wall_running, wall_wanted;
static void wall_prepare(void);
static void wall_parent(void);
static void wall_child(void);

/* --- thread lifecycle --------------------------------------------------- */

static void stop_key_destructor(void *p)
{
	(void)p;
	sampler_thread_stop();
}

/* Ended threads' states are kept for the next thread: mapping and
 * unmapping 140 KiB per thread would make every thread's exit slower (an
 * munmap is a TLB shootdown on every CPU).  Never touched by the handler,
 * so an ordinary mutex guards it. */
static pthread_mutex_t spare_lock = PTHREAD_MUTEX_INITIALIZER;
static struct thread_state *spare;

static struct thread_state *thread_state_new(int tid)
{
	struct thread_state *t;

	pthread_mutex_lock(&spare_lock);
	t = spare;
	if (t)
		spare = *(struct thread_state **)t;
	pthread_mutex_unlock(&spare_lock);
	if (t) {
		/* Only the fields below and the cursor need to be fresh;
		 * prev[] is meaningful only up to prev_depth. */
		memset(t, 0, offsetof(struct thread_state, prev));
	} else {
		t = mmap(NULL, sizeof *t, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (t == MAP_FAILED)
			return NULL;
	}
	t->tid = tid;
	t->is_main = t->tid == getpid();
	/* an adopted thread's pthread_t is not to be had from outside it */
	t->pthread = tid == gettid_() ? (uint64_t)pthread_self() : 0;
	t->perf_fd = -1;
	t->cur.thread = __atomic_add_fetch(&next_serial, 1, __ATOMIC_RELAXED);
	t->cur.tid = (uint32_t)t->tid;
	t->last_mono = clock_ns(CLOCK_MONOTONIC);
	t->last_cpu = clock_ns(thread_clock(tid));
	t->tick_mono = t->last_mono;
	t->tick_cpu = t->last_cpu;
	return t;
}

static void thread_state_free(struct thread_state *t)
{
	pthread_mutex_lock(&spare_lock);
	*(struct thread_state **)t = spare;
	spare = t;
	pthread_mutex_unlock(&spare_lock);
}

int sampler_thread_start(void)
{
	struct thread_state *t;

	if (!writer || self)
		return -1;
	t = thread_state_new(gettid_());
	if (!t)
		return -1;
	if ((arm(t))) {
		thread_state_free(t);
		return -1;
	}
	__atomic_store_n(&self, t, __ATOMIC_RELEASE);
	by_tid_set(t->tid, t);
	live_add(t);
	pthread_setspecific(stop_key, t);
	return 0;
}

/* Field 22 of /proc/self/task/TID/stat: when the thread started, in clock
 * ticks; tells a reused tid from the thread that had it before. */
static unsigned long long thread_start_time(int tid)
{
	char path[64], buf[1024], *p;
	unsigned long long v = 0;
	int fd, field;
	ssize_t n;

	snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* the command name may hold spaces and parentheses: count from
	 * the last ')' */
	if (!(p = strrchr(buf, ')')))
		return 0;
	for (field = 2; *p && field < 22; p++)
		if (*p == ' ')
			field++;
	sscanf(p, "%llu", &v);
	return v;
}

int sampler_adopt_threads(void)
{
	DIR *d;
	struct dirent *e;
	int adopted = 0, me = gettid_();

	if (!writer || !(d = opendir("/proc/self/task")))
		return -1;
	while ((e = readdir(d))) {
		int tid = atoi(e->d_name);
		struct thread_state *t;
		unsigned long long started;

		if (tid <= 0)
			continue;
		if (tid == me && self)
			continue;
		started = thread_start_time(tid);
		t = by_tid_get(tid);
		if (t && (!t->adopted || t->started == started))
			continue; /* armed already (a stale adopted state of a
				   * dead thread whose tid was reused is not) */
		if (!(t = thread_state_new(tid)))
			break;
		t->adopted = 1;
		t->started = started;
		if ((arm(t))) {
			thread_state_free(t);
			continue; /* it may have ended meanwhile */
		}
		by_tid_set(tid, t);
		live_add(t);
		if (tid == me)
			self = t;
		adopted++;
	}
	closedir(d);
	return adopted;
}

void sampler_thread_stop(void)
{
	struct thread_state *t = self;

	if (!t)
		return;
	/* Not from a handler: this thread's own cannot be running, and the
	 * sampler thread lets go after one read. */
	while (!try_busy(t))
		sched_yield();
	/* Wall mode: the time since the thread's last sample (maybe long,
	 * if the sampler thread ran late) is still its life's; its last
	 * stack is the best account of it there is. */
	if (cfg->mode == PF_MODE_WALL && t->have_stack &&
	    t->prev_depth == t->depth && t->cur.chunk &&
	    __atomic_load_n(&active, __ATOMIC_ACQUIRE)) {
		/* Only as a repeat of the chunk's last stack: its code
		 * objects may be freed by now, and nothing is read. */
		uint64_t mono = clock_ns(CLOCK_MONOTONIC);
		uint64_t cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID);
		size_t len;
		uint8_t *body;

		not_before_last(t, &mono, &cpu);
		len = encode(t, (int)t->depth, t->depth, mono - t->last_mono,
			     cpu - t->last_cpu, 0);
		body = pf_cursor_space(&t->cur, len);

		if (body) {
			memcpy(body, t->scratch, len);
			pf_cursor_commit(&t->cur, PF_REC_SAMPLE, len);
			__atomic_fetch_add(&writer->hdr->samples, 1,
					   __ATOMIC_RELAXED);
		}
	}
	/* Unpublish first: a signal still in flight then finds no state. */
	__atomic_store_n(&self, NULL, __ATOMIC_RELEASE);
	by_tid_set(t->tid, NULL);
	live_remove(t);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	disarm(t);
	pthread_setspecific(stop_key, NULL);
	thread_state_free(t);
	/* others may have been renamed since the last look */
	names_request();
}

int sampler_write_record(unsigned type, const void *body, size_t len)
{
	struct thread_state *t = self ? self : by_tid_get(gettid_());
	uint8_t *p;
	int r = -1;

	if (!t || !__atomic_load_n(&active, __ATOMIC_ACQUIRE))
		return -1;
	/* the sampler thread holds it for a moment at most */
	for (int i = 0; !try_busy(t); i++) {
		if (i == 1000)
			return -1;
		sched_yield();
	}
	if ((p = sink_space(t, len))) {
		memcpy(p, body, len);
		pf_cursor_commit(&t->cur, type, len);
		r = 0;
	}
	unbusy(t);
	return r;
}

void sampler_set_active(int on)
{
	__atomic_store_n(&active, on, __ATOMIC_RELEASE);
}

void sampler_resume(void)
{
	/* Off -> on (pyprof_start after a pause): every thread's next
	 * sample starts from now, not from its last one before the pause,
	 * which in wall mode may be a prompt's whole wait. */
	if (!__atomic_load_n(&active, __ATOMIC_ACQUIRE)) {
		uint64_t now = clock_ns(CLOCK_MONOTONIC);

		pthread_mutex_lock(&by_tid_lock);
		for (struct thread_state *t = live; t; t = t->next_live) {
			uint64_t cpu = clock_ns(thread_clock(t->tid));

			if (!cpu || !try_busy(t))
				continue;
			gap(t, now, cpu);
			t->tick_mono = now;
			t->tick_cpu = cpu;
			unbusy(t);
		}
		pthread_mutex_unlock(&by_tid_lock);
	}
	sampler_set_active(1);
}

int sampler_source(void) { return source; }

int sampler_init(const struct config *c, const struct py_layout *L,
		 struct pf_writer *w)
{
	struct sigaction sa;

	cfg = c;
	layout = L;
	writer = w;
	if (intern_init() != 0 || pthread_key_create(&stop_key,
						     stop_key_destructor) != 0)
		return -1;
	by_tid = mmap(NULL, sizeof *by_tid * TIDS_MAX, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (by_tid == MAP_FAILED)
		by_tid = NULL; /* adoption is then unavailable; nothing else */
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_sigprof;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGPROF, &sa, &old_action) != 0)
		return -1;
	our_action = sa;
	{
		struct rlimit rl;
		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
			fd_ceiling = (int)(rl.rlim_cur / 2);
		else
			fd_ceiling = 1 << 20;
	}

	/* The perf task-clock event by default, wherever the process may
	 * open one: it keeps any asked rate (the CPU timer only fires on the
	 * kernel tick, 250 Hz here) and, counting user mode only, it never
	 * interrupts a system call, which the CPU timer can when its tick
	 * lands in a call's way into the kernel.  It costs ~30 us a signal
	 * on these VMs: 0.3% at the default 10 ms.  See libpyprof(7). */
	source = PF_SOURCE_THREAD_CPU_TIMER;
	if (c->source == CONFIG_SOURCE_PERF || c->source == CONFIG_SOURCE_AUTO) {
		struct thread_state probe = {.tid = gettid_(), .perf_fd = -1};
		if (arm_perf(&probe) == 0) {
			close(probe.perf_fd);
			source = PF_SOURCE_PERF_TASK_CLOCK;
		}
	}
	if (w->hdr)
		w->hdr->source = (uint32_t)source;
	if (c->mode == PF_MODE_WALL)
		pthread_atfork(wall_prepare, wall_parent, wall_child);
	return 0;
}

void sampler_exec_prepare(void)
{
	struct sigaction ign;
	struct thread_state *t = self;

	/* Pending signals survive execve, and the new image's SIGPROF is
	 * SIG_DFL, which terminates it: stop this thread's source, let
	 * SIG_IGN discard whatever is pending, then hand the new image the
	 * disposition the program had before pyprof.  Other threads' signals
	 * are directed at them and die with them. */
	if (t)
		disarm(t);
	/* The sampler thread is left alone: the exec ends it, and stopping
	 * it here would take a lock and join, which a program calling
	 * execve from its own signal handler could deadlock on.  Recording
	 * is off already (finish), so it writes nothing more. */
	memset(&ign, 0, sizeof ign);
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	sigaction(SIGPROF, &ign, NULL);
	sigaction(SIGPROF, &old_action, NULL);
}

void sampler_exec_failed(void)
{
	struct thread_state *t = self;

	sigaction(SIGPROF, &our_action, NULL);
	if (t)
		arm(t);
}

void sampler_after_fork(struct pf_writer *w)
{
	writer = w;
	/* The parent's threads are gone; this thread's state belonged to the
	 * parent's file and its timer did not survive fork.  The perf event
	 * fds of all of them did, but they count the parent's threads: close
	 * them, so the child holds no descriptor it did not open. */
	for (struct thread_state *t = live; t; t = t->next_live)
		if (t->perf_fd >= 0)
			close(t->perf_fd);
	live = NULL;
	self = NULL;
	next_serial = 0;
	names_reset();
	/* the parent's threads are not ours: an empty table, lazily zero */
	if (by_tid)
		madvise(by_tid, sizeof *by_tid * TIDS_MAX, MADV_DONTNEED);
	pthread_mutex_init(&by_tid_lock, NULL);
	/* Another thread may have held the lock at fork: start over. */
	pthread_mutex_init(&spare_lock, NULL);
	spare = NULL;
	intern_reset();
	if (w->hdr)
		w->hdr->source = (uint32_t)source;
	sampler_thread_start();
	if (wall_wanted)
		sampler_wall_start();
}

/* --- wall mode: the sampler thread ----------------------------------------
 *
 * Running time is sampled as in CPU mode, by each thread's own signal on
 * its own CPU clock: the handler reads its own stack, which nothing can
 * free under it.  What a CPU clock cannot see is a thread that waits.  So
 * in wall mode one more thread, started with the real pthread_create and
 * with every signal blocked, wakes every interval and looks at each
 * sampled thread in turn:
 *
 *   - if the thread had a sample within the last interval, or used at
 *     least half of the last interval on CPU, its own signals cover it;
 *   - otherwise it is (mostly) waiting: the sampler thread takes its
 *     `busy`, and writes into the thread's own chunk a sample standing
 *     for the wall time since its previous one.  If the thread's CPU clock
 *     has not moved since that sample, it has not run since, so its stack
 *     is the one recorded then (no read at all).  If it ran a little and
 *     then blocked, its stack is read with remote reads that cannot fault
 *     (pyintro_remote_thread), from its PyThreadState.  The sample is
 *     IDLE unless the thread holds the GIL.
 *
 * No thread is ever signalled by the sampler thread: a signal reaching a
 * thread blocked in nanosleep, select or read makes the call fail with
 * EINTR, which calls made through ctypes do not retry.
 */
static int (*real_pthread_create)(pthread_t *, const pthread_attr_t *,
				  void *(*)(void *), void *);
static pthread_t wall_thread;
static int wall_stop_flag;
static pthread_mutex_t wall_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wall_cond;
static uint64_t wall_ticks, wall_reads, wall_repeats; /* for PYPROF_LOG */

/* A tick spends at most a tenth of the interval reading stacks: a thread
 * it could not read is read first at the next tick (wall_tick), by a
 * sample that covers both.  Repeating an unread stack is not counted: it
 * is cheap. */
static uint64_t wall_deadline;

/* 1 if t was left for the next tick */
static int wall_observe(struct thread_state *t, uint64_t now, uint64_t cpu)
{
	uint64_t tick_wall = now - t->tick_mono, tick_cpu = cpu - t->tick_cpu;
	int on_cpu = tick_cpu * 2 >= tick_wall, n, truncated = 0;
	uint32_t flags = 0;
	uintptr_t ts;

	t->tick_mono = now;
	t->tick_cpu = cpu;
	if (on_cpu || now - t->last_mono < cfg->interval_ns)
		return 0;
	if (writer->full)
		return drop(t, PF_DROP_FULL, now, cpu), 0;
	if (pyintro_finalizing(layout))
		return drop(t, PF_DROP_FINALIZING, now, cpu), 0;
	pyintro_remote_reset(0);
	if (cpu == t->last_cpu && t->have_stack && t->tstate) {
		/* It has not run since its last sample: the same stack. */
		ts = t->tstate;
		n = (int)t->depth;
		for (int i = 0; i < n; i++) {
			t->walk[n - 1 - i].code = t->prev[i].code;
			t->walk[n - 1 - i].frame = t->prev[i].frame;
			t->walk[n - 1 - i].lasti = t->prev[i].lasti;
		}
		wall_repeats++;
	} else {
		if (clock_ns(CLOCK_MONOTONIC) > wall_deadline)
			return 1;
		/* A thread that has been seen running Python keeps its
		 * time until it is read again; one never seen is not the
		 * profile's (yet): a native thread, or one starting. */
		if (t->search_skip) {
			t->search_skip--;
			if (!t->have_stack)
				gap(t, now, cpu);
			return 0;
		}
		ts = pyintro_thread_tstate(layout, t->tstate, t->tid,
					   t->pthread);
		if (!ts) {
			/* Look again after 1, 2, 4 ... 64 ticks. */
			t->search_backoff = t->search_backoff ? t->search_backoff * 2 : 1;
			if (t->search_backoff > 64)
				t->search_backoff = 64;
			t->search_skip = t->search_backoff;
			if (!t->have_stack)
				gap(t, now, cpu);
			return 0;
		}
		t->search_backoff = t->search_skip = 0;
		t->tstate = ts;
		n = pystack_walk(layout, ts, t->walk, PF_MAX_DEPTH, &truncated);
		if (n < 0 || pyintro_remote_failed()) {
			/* caught moving: counted, and read again next tick,
			 * by a sample that keeps this period's time */
			pf_count_drop(writer, PF_DROP_BAD_STACK);
			return 0;
		}
		if (truncated)
			flags |= PF_SAMPLE_TRUNCATED;
		wall_reads++;
	}
	if (pyintro_holds_gil(layout, ts) && !pyintro_remote_failed())
		flags |= PF_SAMPLE_GIL;
	else
		flags |= PF_SAMPLE_IDLE;
	record_stack(t, n, flags, now, cpu);
	return 0;
}

static void wall_tick(void)
{
	uint64_t now = clock_ns(CLOCK_MONOTONIC);
	struct thread_state *left = NULL, **left_tail = &left;
	struct thread_state *rest = NULL, **rest_tail = &rest;

	wall_ticks++;
	wall_deadline = now + cfg->interval_ns / 10;
	pyintro_remote_reset(1);
	/* Under the list's lock: a thread cannot end (and its state be
	 * reused) meanwhile; start and stop wait for one tick at most.
	 * The list is the order of service: the threads this tick leaves
	 * over move to its front, in the order they had, so that the next
	 * tick reads them first and every thread takes its turn.  (Two
	 * passes, the left-over threads and then the others, each in the
	 * list's order, newest thread first, left the oldest threads of a
	 * process with more than a tick's worth of reads waiting for
	 * seconds.) */
	pthread_mutex_lock(&by_tid_lock);
	for (struct thread_state *t = live, *next; t; t = next) {
		struct timespec ts;
		uint64_t cpu;

		next = t->next_live;
		if (try_busy(t)) {
			/* The clocks are read once the thread's own handler
			 * is locked out: its last sample, maybe taken since
			 * the tick began, is then older than both readings,
			 * and the deltas cannot run backwards.  A thread
			 * that ended but is not unlisted yet has no clock. */
			if (clock_gettime(thread_clock(t->tid), &ts) == 0) {
				cpu = (uint64_t)ts.tv_sec * 1000000000u +
				      (uint64_t)ts.tv_nsec;
				now = clock_ns(CLOCK_MONOTONIC);
				t->wall_left = wall_observe(t, now, cpu);
			}
			unbusy(t);
		}
		if (t->wall_left) {
			*left_tail = t;
			left_tail = &t->next_live;
		} else {
			*rest_tail = t;
			rest_tail = &t->next_live;
		}
	}
	*rest_tail = NULL;
	*left_tail = rest;
	__atomic_store_n(&live, left, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&by_tid_lock);
}

static void *wall_main(void *arg)
{
	struct timespec next;

	(void)arg;
	pyintro_remote_thread();
	clock_gettime(CLOCK_MONOTONIC, &next);
	pthread_mutex_lock(&wall_lock);
	while (!wall_stop_flag) {
		uint64_t ns = (uint64_t)next.tv_nsec + cfg->interval_ns;
		struct timespec now;

		next.tv_sec += (time_t)(ns / 1000000000u);
		next.tv_nsec = (long)(ns % 1000000000u);
		/* fell behind (a stopped process, a busy machine): skip the
		 * missed ticks rather than run them back to back */
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > next.tv_sec ||
		    (now.tv_sec == next.tv_sec && now.tv_nsec > next.tv_nsec))
			next = now;
		while (!wall_stop_flag &&
		       pthread_cond_timedwait(&wall_cond, &wall_lock, &next) == 0)
			;
		if (wall_stop_flag)
			break;
		pthread_mutex_unlock(&wall_lock);
		if (__atomic_load_n(&active, __ATOMIC_ACQUIRE))
			wall_tick();
		pthread_mutex_lock(&wall_lock);
	}
	pthread_mutex_unlock(&wall_lock);
	return NULL;
}

/* Starting and stopping: under wall_ctl, which a fork holds from prepare
 * to parent and child (where it is made anew). */
static pthread_mutex_t wall_ctl = PTHREAD_MUTEX_INITIALIZER;

static int wall_start_locked(void)
{
	sigset_t all, old;
	pthread_condattr_t ca;
	int r;

	if (wall_running)
		return 0;
	if (!real_pthread_create)
		*(void **)&real_pthread_create = dlsym(RTLD_NEXT, "pthread_create");
	if (!real_pthread_create)
		return -1;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&wall_cond, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&wall_lock, NULL);
	wall_stop_flag = 0;
	/* The new thread inherits this mask: no signal of the program's is
	 * ever delivered to it, and none of ours is meant for it. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = real_pthread_create(&wall_thread, NULL, wall_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		errno = r;
		return -1;
	}
	pthread_setname_np(wall_thread, "pyprof-wall");
	wall_running = 1;
	return 0;
}

static void wall_stop_locked(void)
{
	if (!wall_running)
		return;
	pthread_mutex_lock(&wall_lock);
	wall_stop_flag = 1;
	pthread_cond_signal(&wall_cond);
	pthread_mutex_unlock(&wall_lock);
	pthread_join(wall_thread, NULL);
	wall_running = 0;
}

int sampler_wall_start(void)
{
	int r;

	if (!cfg || cfg->mode != PF_MODE_WALL)
		return 0;
	pthread_mutex_lock(&wall_ctl);
	wall_wanted = 1;
	r = wall_start_locked();
	pthread_mutex_unlock(&wall_ctl);
	return r;
}

void sampler_wall_stop(void)
{
	pthread_mutex_lock(&wall_ctl);
	wall_stop_locked();
	pthread_mutex_unlock(&wall_ctl);
}

/* Fork.  The sampler thread is stopped before every fork and started
 * again after it, so that no fork ever copies it halfway through a tick
 * (holding a lock, or a thread's `busy`).  CPython 3.12+ counts the
 * process's threads right after fork() returns in the parent, and warns
 * (DeprecationWarning, shown by default in __main__) if there is more than
 * one: there, the parent starts it again from a pending call, which runs
 * once os.fork() has returned to Python.  Earlier versions do not count,
 * and the child has one thread either way: those start it at once (the
 * child in sampler_after_fork). */
static int wall_restart(void *arg)
{
	(void)arg;
	if (wall_wanted)
		sampler_wall_start();
	return 0;
}

static void wall_prepare(void)
{
	pthread_mutex_lock(&wall_ctl);
	wall_stop_locked();
}

static void wall_parent(void)
{
	if (wall_wanted &&
	    (layout->minor < 12 || names_call_soon(wall_restart, NULL) != 0))
		wall_start_locked();
	pthread_mutex_unlock(&wall_ctl);
}

static void wall_child(void)
{
	pthread_mutex_init(&wall_ctl, NULL);
	wall_running = 0;
}

int sampler_wall_running(void)
{
	return wall_running;
}

void sampler_wall_counts(uint64_t *ticks, uint64_t *reads, uint64_t *repeats)
{
	*ticks = wall_ticks;
	*reads = wall_reads;
	*repeats = wall_repeats;
}
