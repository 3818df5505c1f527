/*
 * timers.c - what raises a thread's SIGPROF: a perf task-clock event, or
 * a POSIX timer on the thread's CPU clock.
 *
 * Both count the thread's own CPU time and signal that thread alone, so
 * a thread's share of samples is its share of CPU.  They differ in rate
 * and in cost (see timers_init), and one thread may have the timer where
 * the process has perf events, when descriptors run short.  Ordinary
 * context throughout, but for timers_disarm on the way to exec.
 */
#include "config.h"

#include <fcntl.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "sampler.h"
#include "sampler-int.h"

static int source; /* enum pf_source, from timers_init */

/* Descriptors ever used for our perf events: a signal of one may still be
 * pending after the thread closed it (it exited, or fell back to the
 * timer), and must not reach the program's SIGPROF action, whose default
 * kills.  Never cleared, for that reason. */
#define PERF_FDS_SEEN 65536
static uint8_t perf_fds_seen[PERF_FDS_SEEN / 8];

HANDLER int timers_perf_fd_was_ours(int fd)
{
	if (fd < 0 || fd >= PERF_FDS_SEEN)
		return 1; /* beyond the map: no program makes SIGPROF an I/O signal */
	return (__atomic_load_n(&perf_fds_seen[fd / 8], __ATOMIC_RELAXED) >>
		(fd % 8)) & 1;
}

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
	its.it_interval.tv_sec = (time_t)(settings->interval_ns / 1000000000u);
	its.it_interval.tv_nsec = (long)(settings->interval_ns % 1000000000u);
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
	a.sample_period = settings->interval_ns;
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
	/* A perf event is a descriptor in the program's table: keep it out
	 * of the low numbers the program's own open() would get.  Where the
	 * upper half is used up, the thread gets the timer, which takes
	 * none. */
	if ((fd = pf_fd_high(fd)) < 0)
		return -1;
	if (fd < PERF_FDS_SEEN)
		__atomic_fetch_or(&perf_fds_seen[fd / 8],
				  (uint8_t)(1u << (fd % 8)), __ATOMIC_RELAXED);
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
int timers_arm(struct thread_state *t)
{
	if (source == PF_SOURCE_PERF_TASK_CLOCK && arm_perf(t) == 0)
		return 0;
	return arm_timer(t);
}

void timers_disarm(struct thread_state *t)
{
	if (t->has_timer)
		timer_delete(t->timer);
	t->has_timer = 0;
	if (t->perf_fd >= 0)
		close(t->perf_fd);
	t->perf_fd = -1;
}

void timers_init(const struct settings *s)
{
	/* The perf task-clock event by default, wherever the process may
	 * open one: it keeps any asked rate (the CPU timer only fires on the
	 * kernel tick, 250 Hz here) and, counting user mode only, it never
	 * interrupts a system call, which the CPU timer can when its tick
	 * lands in a call's way into the kernel.  It costs ~30 us a signal
	 * on these VMs: 0.3% at the default 10 ms.  See libpyprof(7). */
	source = PF_SOURCE_THREAD_CPU_TIMER;
	if (s->source == SETTINGS_SOURCE_PERF || s->source == SETTINGS_SOURCE_AUTO) {
		struct thread_state probe = {.tid = gettid_(), .perf_fd = -1};
		if (arm_perf(&probe) == 0) {
			close(probe.perf_fd);
			source = PF_SOURCE_PERF_TASK_CLOCK;
		}
	}
}

int sampler_source(void) { return source; }
