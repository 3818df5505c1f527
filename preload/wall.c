/*
 * wall.c - wall mode's sampler thread.
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
 *     is the one recorded then (no read at all), and the sample is kept
 *     back: the ticks at which it still has not run become one repeated
 *     sample, written when it next runs, or at the latest a second later
 *     (thread_repeat).  If it ran a little and then blocked, its stack is
 *     read with remote reads that cannot fault (pyintro_remote_thread),
 *     from its PyThreadState.  The sample is IDLE unless the thread holds
 *     the GIL.
 *
 * No thread is ever signalled by the sampler thread: a signal reaching a
 * thread blocked in nanosleep, select or read makes the call fail with
 * EINTR, which calls made through ctypes do not retry.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <signal.h>
#include <time.h>

#include "attach.h"
#include "helper.h"
#include "names.h"
#include "sampler.h"
#include "sampler-int.h"

static int wall_running, wall_wanted;
static pthread_t wall_thread;
static int wall_tid; /* from helper_enter, for helper_join */
static int wall_stop_flag;
static pthread_mutex_t wall_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wall_cond;
static uint64_t wall_ticks, wall_reads, wall_repeats; /* for PYPROF_LOG */

/* A tick spends at most a tenth of the interval reading stacks: a thread
 * it could not read is read first at the next tick (wall_tick), by a
 * sample that covers both.  Repeating an unread stack is not counted: it
 * is cheap. */
static uint64_t wall_deadline;

/*
 * What a waiting thread waits for (enum pf_wait), from the system call it
 * is blocked in, which the kernel shows in /proc/self/task/TID/syscall
 * without a signal or ptrace: a futex of its interpreter's GIL, another
 * futex, a sleep, I/O.  A thread that has not run since its last idle
 * sample waits for the same thing.  The file stays open (in the upper
 * descriptor range, see pf_fd_high) for the thread's life: opening it at
 * each tick would take, again and again, the lowest free descriptor
 * number for a moment from under the program.
 */
static uint32_t wait_kind(struct thread_state *t, uintptr_t ts, int ran)
{
	char path[64], buf[256];
	unsigned long long nr, a1, a2;
	uintptr_t gil;
	size_t gil_size;
	ssize_t n;

	if (!ran && t->wait_kind)
		return t->wait_kind;
	if (t->syscall_fd < 0) {
		int fd;
		snprintf(path, sizeof path, "/proc/self/task/%d/syscall", t->tid);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 ||
		    (fd = pf_fd_high(fd)) < 0)
			return t->wait_kind = PF_WAIT_UNKNOWN;
		t->syscall_fd = fd;
	}
	n = pread(t->syscall_fd, buf, sizeof buf - 1, 0);
	if (n <= 0)
		return t->wait_kind = PF_WAIT_UNKNOWN;
	buf[n] = '\0';
	/* "NR 0xARG1 0xARG2 ... 0xSP 0xPC", "-1 0xSP 0xPC" outside a system
	 * call, "running" */
	if (sscanf(buf, "%llu %llx %llx", &nr, &a1, &a2) != 3)
		return t->wait_kind = PF_WAIT_UNKNOWN;
	/* select or poll with nothing to watch is a sleep: time.sleep
	 * before 3.11 */
#ifdef SYS_select
	if (nr == SYS_select && a1 == 0)
		return t->wait_kind = PF_WAIT_SLEEP;
#endif
#ifdef SYS_poll
	if (nr == SYS_poll && a2 == 0)
		return t->wait_kind = PF_WAIT_SLEEP;
#endif
	if ((nr == SYS_pselect6 && a1 == 0) || (nr == SYS_ppoll && a2 == 0))
		return t->wait_kind = PF_WAIT_SLEEP;
	switch (nr) {
	case SYS_futex:
		gil = pyintro_gil(layout, ts, &gil_size);
		return t->wait_kind = gil && a1 >= gil && a1 < gil + gil_size
					      ? PF_WAIT_GIL : PF_WAIT_LOCK;
#ifdef SYS_futex_waitv
	case SYS_futex_waitv:
		return t->wait_kind = PF_WAIT_LOCK;
#endif
	case SYS_nanosleep:
	case SYS_clock_nanosleep:
		return t->wait_kind = PF_WAIT_SLEEP;
	case SYS_read: case SYS_readv: case SYS_pread64: case SYS_preadv:
	case SYS_write: case SYS_writev: case SYS_pwrite64:
	case SYS_recvfrom: case SYS_recvmsg: case SYS_recvmmsg:
	case SYS_sendto: case SYS_sendmsg: case SYS_sendmmsg:
	case SYS_accept: case SYS_accept4: case SYS_connect:
	case SYS_ppoll: case SYS_pselect6: case SYS_epoll_pwait:
#ifdef SYS_poll
	case SYS_poll:
#endif
#ifdef SYS_select
	case SYS_select:
#endif
#ifdef SYS_epoll_wait
	case SYS_epoll_wait:
#endif
#ifdef SYS_epoll_pwait2
	case SYS_epoll_pwait2:
#endif
#ifdef SYS_io_uring_enter
	case SYS_io_uring_enter:
#endif
		return t->wait_kind = PF_WAIT_IO;
	case SYS_wait4:
	case SYS_waitid:
		return t->wait_kind = PF_WAIT_CHILD;
	default:
		return t->wait_kind = PF_WAIT_OTHER;
	}
}

/* 1 if t was left for the next tick */
static int wall_observe(struct thread_state *t, uint64_t now, uint64_t cpu)
{
	uint64_t tick_wall = now - t->tick_mono, tick_cpu = cpu - t->tick_cpu;
	int on_cpu = tick_cpu * 2 >= tick_wall, n = 0, truncated = 0;
	int repeat = 0;
	uint32_t flags = 0;
	uintptr_t ts;

	t->tick_mono = now;
	t->tick_cpu = cpu;
	if (on_cpu || now - thread_last_mono(t) < settings->interval_ns) {
		/* Its own signals cover it, and its next sample's wall time
		 * less CPU time is time it waited: what for, this look says
		 * (the latest look, if within two intervals of the sample:
		 * one look in two may find it running).  A thread that
		 * takes turns with another for the GIL is the case: it runs
		 * half the time, its own samples carry the other half. */
		if (t->tstate && tick_wall > tick_cpu + settings->interval_ns / 4) {
			uint32_t k = wait_kind(t, t->tstate, 1);
			if (k != PF_WAIT_UNKNOWN) {
				__atomic_store_n(&t->wait_hint_mono, now,
						 __ATOMIC_RELAXED);
				__atomic_store_n(&t->wait_hint, k, __ATOMIC_RELEASE);
			}
		}
		return 0;
	}
	if (t->w->full)
		return thread_drop(t, PF_DROP_FULL, now, cpu), 0;
	if (pyintro_finalizing(layout))
		return thread_drop(t, PF_DROP_FINALIZING, now, cpu), 0;
	pyintro_remote_reset(0);
	if (cpu == t->last_cpu && t->have_stack && t->tstate) {
		/* It has not run since its last sample: the same stack,
		 * kept back with the ticks like it (thread_repeat); in a
		 * file rotated to since, written again, its code objects
		 * (alive: it has not run) interned in that file. */
		ts = t->tstate;
		repeat = t->ids_gen == t->gen;
		n = (int)t->depth;
		for (int i = 0; !repeat && i < n; i++) {
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
				thread_gap(t, now, cpu);
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
				thread_gap(t, now, cpu);
			return 0;
		}
		t->search_backoff = t->search_skip = 0;
		t->tstate = ts;
		n = pystack_walk(layout, ts, t->walk, PF_MAX_DEPTH, &truncated);
		if (n < 0 || pyintro_remote_failed()) {
			/* caught moving: counted, and read again next tick,
			 * by a sample that keeps this period's time */
			pf_count_drop(t->w, PF_DROP_BAD_STACK);
			return 0;
		}
		if (truncated)
			flags |= PF_SAMPLE_TRUNCATED;
		wall_reads++;
	}
	if (pyintro_holds_gil(layout, ts) && !pyintro_remote_failed()) {
		flags |= PF_SAMPLE_GIL;
	} else {
		uint32_t k = wait_kind(t, ts, cpu != t->last_cpu);

		flags |= PF_SAMPLE_IDLE | k << PF_SAMPLE_WAIT_SHIFT;
		if (k != PF_WAIT_UNKNOWN) {
			__atomic_store_n(&t->wait_hint_mono, now, __ATOMIC_RELAXED);
			__atomic_store_n(&t->wait_hint, k, __ATOMIC_RELEASE);
		}
	}
	if (repeat)
		thread_repeat(t, flags, now);
	else
		thread_record_stack(t, t->walk, n, flags, now, cpu);
	return 0;
}

static void wall_tick(void)
{
	uint64_t now = clock_ns(CLOCK_MONOTONIC);
	struct thread_state *left = NULL, **left_tail = &left;
	struct thread_state *rest = NULL, **rest_tail = &rest;
	uint32_t gen = writer_enter();

	wall_ticks++;
	wall_deadline = now + settings->interval_ns / 10;
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
			thread_sync(t, gen);
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
	writer_leave(gen);
}

/* Native mode: how often the loaded objects are looked at.  An address
 * in an object loaded and unloaded between two looks stays unnamed. */
#define OBJECTS_POLL_NS 100000000u

static void *wall_main(void *arg)
{
	const int wall = settings->mode == PF_MODE_WALL;
	const uint64_t period = wall ? settings->interval_ns : OBJECTS_POLL_NS;
	uint64_t polled = 0;
	struct timespec next;

	(void)arg;
	__atomic_store_n(&wall_tid, helper_enter(), __ATOMIC_RELEASE);
	pyintro_remote_thread();
	clock_gettime(CLOCK_MONOTONIC, &next);
	pthread_mutex_lock(&wall_lock);
	while (!wall_stop_flag) {
		uint64_t ns = (uint64_t)next.tv_nsec + period;
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
		if (wall && __atomic_load_n(&active, __ATOMIC_ACQUIRE))
			wall_tick();
		if (settings->native &&
		    clock_ns(CLOCK_MONOTONIC) - polled >= OBJECTS_POLL_NS) {
			native_objects_poll(sampler_write_record_any);
			polled = clock_ns(CLOCK_MONOTONIC);
		}
		attach_poll();
		pthread_mutex_lock(&wall_lock);
	}
	pthread_mutex_unlock(&wall_lock);
	helper_leave();
	return NULL;
}

/* Starting and stopping: under wall_ctl, which a fork holds from prepare
 * to parent and child (where it is made anew). */
static pthread_mutex_t wall_ctl = PTHREAD_MUTEX_INITIALIZER;

static int wall_start_locked(void)
{
	pthread_condattr_t ca;

	if (wall_running)
		return 0;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&wall_cond, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&wall_lock, NULL);
	wall_stop_flag = 0;
	wall_tid = 0;
	if (helper_spawn(&wall_thread, wall_main, NULL, "pyprof-wall") != 0)
		return -1;
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
	helper_join(wall_thread, __atomic_load_n(&wall_tid, __ATOMIC_ACQUIRE));
	wall_running = 0;
}

int sampler_wall_start(void)
{
	int r;

	if (!settings || (settings->mode != PF_MODE_WALL && !native_enabled() &&
			  !attach_polling()))
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
	wall_wanted = 0; /* for good: a fork must not start it again */
	wall_stop_locked();
	pthread_mutex_unlock(&wall_ctl);
}

/* Fork.  The sampler thread is stopped before every fork and started
 * again after it, so that no fork ever copies it halfway through a tick
 * (holding a lock, or a thread's `busy`); in the parent as
 * helper_restart_after_fork says, in the child at once (it has one
 * thread: sampler_after_fork). */
static int wall_restart(void *arg)
{
	(void)arg;
	if (wall_wanted)
		sampler_wall_start();
	return 0;
}

static void wall_start_now(void)
{
	wall_start_locked();
}

static void wall_prepare(void)
{
	pthread_mutex_lock(&wall_ctl);
	wall_stop_locked();
}

static void wall_parent(void)
{
	if (wall_wanted)
		helper_restart_after_fork(wall_restart, NULL, wall_start_now);
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


void wall_init(void)
{
	static int done;

	/* once: pyprof_attach asks again at every attach */
	if (!done++)
		pthread_atfork(wall_prepare, wall_parent, wall_child);
}

void wall_after_fork(void)
{
	if (wall_wanted)
		sampler_wall_start();
}
