/*
 * sampler.c - a thread's sampling from its start to its end, and the
 * process's: init, fork and exec.
 *
 * Every thread of the target gets its own state (struct thread_state,
 * sampler-int.h) and its own signal source, from the thread itself when
 * it starts (the preload interposes pthread_create) or from another
 * thread when pyprof was loaded late (adoption); a pthread key destructor
 * ends it.  All of this is ordinary context and may lock, but a thread's
 * state is taken from its handler only through `busy`, and the tables the
 * handler reads (self, by_tid) change by single atomic stores.
 */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "helper.h"
#include "intern.h"
#include "names.h"
#include "sampler.h"
#include "sampler-int.h"
#include "sigchain.h"

__thread struct thread_state *self
	__attribute__((tls_model("initial-exec")));

const struct settings *settings;
const struct py_layout *layout;
struct pf_writer *writers;
uint32_t writer_gen;
int writer_users[2];
int active;
int timer_cookie;
static uint32_t next_serial;
static pthread_key_t stop_key;

/* --- tid -> state (see sampler-int.h) ------------------------------------ */

struct thread_state **by_tid;
pthread_mutex_t by_tid_lock = PTHREAD_MUTEX_INITIALIZER;

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
struct thread_state *live;

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

/* --- rotation ------------------------------------------------------------ */

int sampler_rotate(void)
{
	uint32_t old = __atomic_load_n(&writer_gen, __ATOMIC_SEQ_CST);

	/* the next file's tables, unused since the file before this one */
	intern_reset((int)((old + 1) & 1));
	__atomic_store_n(&writer_gen, old + 1, __ATOMIC_SEQ_CST);
	/* A section is a sample's work or one record's: microseconds, unless
	 * its thread is descheduled; never one waiting for this thread. */
	while (__atomic_load_n(&writer_users[old & 1], __ATOMIC_SEQ_CST)) {
		struct timespec ts = {0, 50000};
		nanosleep(&ts, NULL);
	}
	return (int)(old & 1);
}

struct pf_writer *sampler_writer(void)
{
	return writer_of(__atomic_load_n(&writer_gen, __ATOMIC_ACQUIRE));
}

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
	t->syscall_fd = -1;
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
	if (t->syscall_fd >= 0)
		close(t->syscall_fd);
	t->syscall_fd = -1;
	pthread_mutex_lock(&spare_lock);
	*(struct thread_state **)t = spare;
	spare = t;
	pthread_mutex_unlock(&spare_lock);
}

int sampler_thread_start(void)
{
	struct thread_state *t;

	if (!writers || self)
		return -1;
	t = thread_state_new(gettid_());
	if (!t)
		return -1;
	if (settings->native)
		t->native_ready = native_warm(t->is_main, &t->native_root) == 0;
	if ((timers_arm(t))) {
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

int sampler_adopt_thread(int tid)
{
	unsigned long long started;
	struct thread_state *t;

	if (helper_is_own(tid))
		return 0; /* pyprof's own (helper.h) */
	started = thread_start_time(tid);
	t = by_tid_get(tid);
	if (t && (!t->adopted || t->started == started))
		return 0; /* armed already (a stale adopted state of a dead
			   * thread whose tid was reused is not) */
	if (!(t = thread_state_new(tid)))
		return -1;
	t->adopted = 1;
	t->started = started;
	/* libunwind readies a thread's state in that thread only (native.c):
	 * of the adopted, the one adopting can be, no other */
	if (settings->native && tid == gettid_())
		t->native_ready = native_warm(t->is_main, &t->native_root) == 0;
	if ((timers_arm(t))) {
		thread_state_free(t);
		return 0; /* it may have ended meanwhile */
	}
	by_tid_set(tid, t);
	live_add(t);
	return 1;
}

int sampler_adopt_threads(void)
{
	DIR *d;
	struct dirent *e;
	int adopted = 0, me = gettid_();

	if (!writers || !(d = opendir("/proc/self/task")))
		return -1;
	while ((e = readdir(d))) {
		int tid = atoi(e->d_name), r;

		if (tid <= 0)
			continue;
		if (tid == me && self)
			continue; /* sampled */
		if ((r = sampler_adopt_thread(tid)) < 0)
			break;
		adopted += r;
	}
	closedir(d);
	return adopted;
}

/* Unpublishes t: neither the handler nor a writer finds it after this
 * (but one that found it before may still hold it). */
static void thread_unpublish(struct thread_state *t)
{
	by_tid_set(t->tid, NULL);
	live_remove(t);
}

/* The end of t, unpublished, that nothing holds any more: its source
 * stopped, the rest of its chunk given back, its state freed. */
static void thread_end(struct thread_state *t)
{
	uint32_t gen = writer_enter();

	/* a cursor left in an older file (rotated since) is dropped */
	thread_sync(t, gen);
	timers_disarm(t);
	/* Nothing writes with t->cur any more: the rest of its chunk is
	 * the next new thread's (write.h) */
	if (t->w->hdr)
		pf_writer_give_back(t->w, &t->cur);
	writer_leave(gen);
	thread_state_free(t);
}

void sampler_thread_release(struct thread_state *t)
{
	/* Nothing else holds it: an ended thread takes no signal, and a
	 * writer in another thread (sampler_write_record_any) holds
	 * by_tid_lock, which unpublishing takes. */
	thread_unpublish(t);
	thread_end(t);
}

int sampler_release_all(void)
{
	struct thread_state *t, *all;

	sampler_set_active(0);
	pthread_mutex_lock(&by_tid_lock);
	all = live;
	for (t = all; t && by_tid; t = t->next_live)
		__atomic_store_n(&by_tid[t->tid], NULL, __ATOMIC_RELEASE);
	__atomic_store_n(&live, NULL, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&by_tid_lock);
	if (self) {
		self = NULL;
		pthread_setspecific(stop_key, NULL);
	}
	/* A handler that found a state before it was unpublished may still
	 * be using it, or its perf descriptor: closing one then could
	 * refresh the program's descriptor of the same number.  One that
	 * starts from now on finds nothing (handler_enter).  Handlers never
	 * wait, so this is short, unless the process is stopped or traced. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	for (uint64_t end = clock_ns(CLOCK_MONOTONIC) + 2000000000u;
	     handler_running();) {
		struct timespec pause = {0, 100000};

		if (clock_ns(CLOCK_MONOTONIC) >= end)
			return -1;
		nanosleep(&pause, NULL);
	}
	while ((t = all)) {
		all = t->next_live;
		thread_end(t);
	}
	return 0;
}

void sampler_thread_stop(void)
{
	struct thread_state *t = self;
	uint32_t gen;

	if (!t)
		return;
	gen = writer_enter();
	/* Not from a handler: this thread's own cannot be running, and the
	 * sampler thread lets go after one read. */
	while (!try_busy(t))
		sched_yield();
	thread_sync(t, gen);
	thread_flush_run(t);
	/* Wall mode: the time since the thread's last sample (maybe long,
	 * if the sampler thread ran late) is still its life's; its last
	 * stack is the best account of it there is. */
	if (settings->mode == PF_MODE_WALL && t->have_stack &&
	    t->prev_depth == t->depth && t->cur.chunk &&
	    __atomic_load_n(&active, __ATOMIC_ACQUIRE)) {
		/* Only as a repeat of the chunk's last stack: its code
		 * objects may be freed by now, and nothing is read. */
		uint64_t mono = clock_ns(CLOCK_MONOTONIC);
		uint64_t cpu = clock_ns(CLOCK_THREAD_CPUTIME_ID);
		size_t len;
		uint8_t *body;

		thread_not_before_last(t, &mono, &cpu);
		len = thread_encode(t, (int)t->depth, t->depth, mono - t->last_mono,
				    cpu - t->last_cpu, 0, 0);
		body = pf_cursor_space(&t->cur, len);

		if (body) {
			memcpy(body, t->scratch, len);
			pf_cursor_commit(&t->cur, PF_REC_SAMPLE, len);
			__atomic_fetch_add(&t->w->hdr->samples, 1,
					   __ATOMIC_RELAXED);
		}
	}
	writer_leave(gen);
	/* Unpublish first: a signal still in flight then finds no state. */
	__atomic_store_n(&self, NULL, __ATOMIC_RELEASE);
	thread_unpublish(t);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	pthread_setspecific(stop_key, NULL);
	thread_end(t);
	/* others may have been renamed since the last look */
	names_request();
}

/* One record into t's chunk in generation gen's file, t's busy held */
static int put_record(struct thread_state *t, uint32_t gen, unsigned type,
		      const void *body, size_t len)
{
	uint8_t *p;

	thread_sync(t, gen);
	if (!(p = thread_space(t, len)))
		return -1;
	memcpy(p, body, len);
	pf_cursor_commit(&t->cur, type, len);
	return 0;
}

static int write_record(unsigned type, const void *body, size_t len)
{
	struct thread_state *t = self ? self : by_tid_get(gettid_());
	uint32_t gen;
	int r;

	if (!t || !__atomic_load_n(&active, __ATOMIC_ACQUIRE))
		return -1;
	gen = writer_enter();
	/* the sampler thread holds it for a moment at most */
	for (int i = 0; !try_busy(t); i++) {
		if (i == 1000) {
			writer_leave(gen);
			return -1;
		}
		sched_yield();
	}
	r = put_record(t, gen, type, body, len);
	unbusy(t);
	writer_leave(gen);
	return r;
}

/* Counted as a handler is, so that sampler_release_all waits for a
 * record being written from another thread (a thread name, a mark). */
int sampler_write_record(unsigned type, const void *body, size_t len)
{
	int r;

	handler_enter();
	r = write_record(type, body, len);
	handler_leave();
	return r;
}

int sampler_write_record_any(unsigned type, const void *body, size_t len)
{
	int r = -1;

	if (self)
		return sampler_write_record(type, body, len);
	if (!__atomic_load_n(&active, __ATOMIC_ACQUIRE))
		return -1;
	/* A thread's handler holds its state for a sample (tens of us): at
	 * 1 ms, one try in thirty of a one-thread program's would find it
	 * busy, and a window's start mark would be lost.  So try again, as
	 * sampler_write_record does, while some thread was only busy. */
	for (int round = 0; r && round < 1000; round++) {
		uint32_t gen = writer_enter();
		int busy = 0;

		pthread_mutex_lock(&by_tid_lock);
		for (struct thread_state *t = live; t && r; t = t->next_live) {
			if (!try_busy(t)) {
				busy = 1;
				continue;
			}
			r = put_record(t, gen, type, body, len);
			unbusy(t);
		}
		pthread_mutex_unlock(&by_tid_lock);
		writer_leave(gen);
		if (!busy)
			break; /* no thread, or the file is full */
		if (r)
			sched_yield();
	}
	return r;
}

void sampler_flush_runs(void)
{
	uint32_t gen;

	if (!settings || settings->mode != PF_MODE_WALL)
		return; /* only wall mode's sampler thread keeps samples back */
	/* by trylock: exit may come from a handler of the program's that
	 * interrupted the lock's holder, which would never let go */
	for (int i = 0; pthread_mutex_trylock(&by_tid_lock) != 0; i++) {
		if (i == 1000)
			return;
		sched_yield();
	}
	gen = writer_enter();
	for (struct thread_state *t = live; t; t = t->next_live) {
		int i;

		/* the sampler thread holds one for a read at most */
		for (i = 0; i < 1000 && !try_busy(t); i++)
			sched_yield();
		if (i == 1000)
			continue;
		thread_sync(t, gen);
		thread_flush_run(t);
		unbusy(t);
	}
	writer_leave(gen);
	pthread_mutex_unlock(&by_tid_lock);
}

HANDLER void sampler_set_active(int on)
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
		uint32_t gen = writer_enter();

		pthread_mutex_lock(&by_tid_lock);
		for (struct thread_state *t = live; t; t = t->next_live) {
			uint64_t cpu = clock_ns(thread_clock(t->tid));

			if (!cpu || !try_busy(t))
				continue;
			thread_sync(t, gen);
			thread_gap(t, now, cpu);
			t->tick_mono = now;
			t->tick_cpu = cpu;
			unbusy(t);
		}
		pthread_mutex_unlock(&by_tid_lock);
		writer_leave(gen);
	}
	sampler_set_active(1);
}

int sampler_init(const struct settings *s, const struct py_layout *L,
		 struct pf_writer *w)
{
	settings = s;
	layout = L;
	writers = w;
	writer_gen = 0;
	if (intern_init(s->rotate_ns || s->rotate_bytes ? 2 : 1) != 0 ||
	    pthread_key_create(&stop_key,
						     stop_key_destructor) != 0)
		return -1;
	by_tid = mmap(NULL, sizeof *by_tid * TIDS_MAX, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (by_tid == MAP_FAILED)
		by_tid = NULL; /* adoption is then unavailable; nothing else */
	/* SA_RESTART whatever the program sets for SIGPROF: our signals
	 * must never fail a system call with EINTR. */
	if (sigchain_claim(SIGPROF, SIGCHAIN_FIRST, handler_sigprof,
			   SA_RESTART) != 0)
		return -1;
	timers_init(s);
	if (w[0].hdr)
		w[0].hdr->source = (uint32_t)sampler_source();
	if (s->mode == PF_MODE_WALL || s->native)
		wall_init();
	return 0;
}

int sampler_new_file(const struct settings *s)
{
	if (intern_init(s->rotate_ns || s->rotate_bytes ? 2 : 1) != 0)
		return -1;
	timers_init(s);
	writer_gen = 0;
	intern_reset(0);
	intern_reset(1);
	names_reset();
	native_objects_reset();
	return 0;
}

void sampler_exec_prepare(void)
{
	struct sigaction ign;
	struct thread_state *t = self;

	/* Pending signals survive execve, and the new image's SIGPROF is
	 * SIG_DFL, which terminates it: stop this thread's source and let
	 * SIG_IGN discard whatever is pending; the caller then hands the
	 * new image the program's own dispositions (sigchain_hand_back).
	 * Other threads' signals are directed at them and die with them. */
	if (t)
		timers_disarm(t);
	/* The sampler thread is left alone: the exec ends it, and stopping
	 * it here would take a lock and join, which a program calling
	 * execve from its own signal handler could deadlock on.  Recording
	 * is off already (finish), so it writes nothing more. */
	memset(&ign, 0, sizeof ign);
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	sigchain_kernel_action(SIGPROF, &ign, NULL);
}

void sampler_exec_failed(void)
{
	struct thread_state *t = self;

	if (t)
		timers_arm(t);
}

void sampler_after_fork(struct pf_writer *w)
{
	writers = w;
	sampler_forget_parent();
	if (w[0].hdr)
		w[0].hdr->source = (uint32_t)sampler_source();
	sampler_thread_start();
	native_objects_poll(sampler_write_record);
	wall_after_fork();
}

void sampler_forget_parent(void)
{
	/* the parent's sections are not the child's, and the child's file
	 * is the first of its run */
	writer_gen = 0;
	writer_users[0] = writer_users[1] = 0;
	/* The parent's threads are gone; this thread's state belonged to the
	 * parent's file and its timer did not survive fork.  The perf event
	 * fds of all of them did, but they count the parent's threads: close
	 * them, so the child holds no descriptor it did not open. */
	for (struct thread_state *t = live; t; t = t->next_live)
	{
		if (t->perf_fd >= 0)
			close(t->perf_fd);
		if (t->syscall_fd >= 0)
			close(t->syscall_fd);
	}
	live = NULL;
	self = NULL;
	helper_after_fork();
	next_serial = 0;
	names_reset();
	/* the parent's threads are not ours: an empty table, lazily zero */
	if (by_tid)
		madvise(by_tid, sizeof *by_tid * TIDS_MAX, MADV_DONTNEED);
	pthread_mutex_init(&by_tid_lock, NULL);
	/* Another thread may have held the lock at fork: start over. */
	pthread_mutex_init(&spare_lock, NULL);
	spare = NULL;
	intern_reset(0);
	intern_reset(1);
	native_objects_reset();
}
