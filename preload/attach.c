/*
 * attach.c - libpyprof.so loaded into a running interpreter, and the
 * entry points of pyprof attach: pyprof_attach() and pyprof_detach().
 *
 * Preloaded, the library starts before the program and sees every thread
 * start.  Loaded later with dlopen (ctypes.CDLL, from %pyprof or from the
 * script pyprof attach has the target run through sys.remote_exec, PEP
 * 768), it finds threads that already run, and it never sees the
 * program's pthread_create, sigaction or exec: a library loaded that way
 * interposes nothing.  The one idea: every thread is adopted, armed from
 * outside and found by its tid, so that it can be let go from outside.
 *
 *   - The constructor starts nothing.  It keeps the environment's PYPROF_*
 *     settings for a first pyprof_start(), which opens a window as with
 *     PYPROF_START=0; pyprof_attach() brings settings of its own (pyprof
 *     attach's, not the target's environment) and records until
 *     pyprof_detach().
 *   - Adopting a thread arms its signal source by its tid: a POSIX timer
 *     on its CPU clock with SIGEV_THREAD_ID, or a perf event with
 *     F_SETOWN_EX.  Its handler looks its state up by tid at every signal
 *     (by_tid), never in a thread-local, which another thread could not
 *     clear.
 *   - Threads started later are found by pyprof's helper thread
 *     (pyprof-wall), which reads /proc/self/task every 100 ms; threads
 *     that ended are released by it at the same look.
 *   - pyprof_detach undoes it from outside: recording off, every state
 *     unpublished, the handlers still running waited for, every source
 *     stopped, the file finished (PF_END_STOP) and unmapped.  pyprof's
 *     SIGPROF handler stays in the kernel, handing on what is not its
 *     own: a signal still pending from a source just stopped must not
 *     meet the default action, which kills.
 *   - A child forked while attached is not profiled: it has no helper
 *     thread to see its threads, and the exec that often follows would
 *     not be seen either.
 *
 * Messages that would go to the target's stderr while pyprof_attach runs
 * go to its caller (attach_capture): the target's output stays its own.
 */
#include "config.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "attach.h"
#include "control.h"
#include "names.h"
#include "sampler.h"
#include "sampler-int.h"
#include "settings.h"

#define EXPORT __attribute__((visibility("default")))

extern char **environ;

/* "NAME=VALUE\0" after one another: the environment's PYPROF_* at load
 * (kept) and pyprof_attach's settings (given). */
#define SETTINGS_SPACE 8192
static char kept[SETTINGS_SPACE], given[SETTINGS_SPACE];
static size_t kept_len, given_len;

static int attaching; /* pyprof_attach is running */
static int attached;  /* recording for pyprof_attach, until detached */
static pthread_mutex_t attach_lock = PTHREAD_MUTEX_INITIALIZER;

/* /proc/self/task, open while attached, in the upper descriptor range:
 * the helper thread's looks then open no descriptor of the program's
 * numbers. */
static int task_fd = -1;

/* --- settings --------------------------------------------------------- */

static int keep(char *buf, size_t *len, const char *s, size_t n)
{
	if (*len + n + 1 > SETTINGS_SPACE)
		return -1;
	memcpy(buf + *len, s, n);
	buf[*len + n] = '\0';
	*len += n + 1;
	return 0;
}

static const char *find(const char *buf, size_t len, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < len; i += strlen(buf + i) + 1)
		if (!strncmp(buf + i, name, n) && buf[i + n] == '=')
			return buf + i + n + 1;
	return NULL;
}

int attach_loaded_late(void)
{
	int (*initialized)(void) =
		(int (*)(void))dlsym(RTLD_DEFAULT, "Py_IsInitialized");

	/* Preloaded, the constructor runs before main(), long before the
	 * interpreter is; Py_IsInitialized only reads a flag. */
	if (!initialized || !initialized())
		return 0;
	/* %pyprof sets its PYPROF_* just around its dlopen */
	for (char **e = environ; e && *e; e++)
		if (!strncmp(*e, "PYPROF_", 7))
			keep(kept, &kept_len, *e, strlen(*e));
	return 1;
}

const char *attach_setting(const char *name)
{
	if (!strcmp(name, "PYPROF_START"))
		return attaching ? "1" : "0";
	return attaching ? find(given, given_len, name)
			 : find(kept, kept_len, name);
}

int attach_attaching(void)
{
	return attaching;
}

/* "NAME=VALUE" lines, PYPROF_* only. */
static int give(const char *s)
{
	given_len = 0;
	while (s && *s) {
		size_t n = strcspn(s, "\n");

		if (n && (strncmp(s, "PYPROF_", 7) || !memchr(s, '=', n) ||
			  keep(given, &given_len, s, n)))
			return -1;
		s += n + (s[n] == '\n');
	}
	return 0;
}

/* --- what would go to the target's stderr ------------------------------ */

static char *capture_buf;
static size_t capture_cap;
static pthread_t capture_thread;

int attach_capture(const char *msg, size_t n)
{
	size_t used;

	if (!capture_buf || !pthread_equal(capture_thread, pthread_self()))
		return 0;
	used = strlen(capture_buf);
	if (used && used + 2 < capture_cap) {
		memcpy(capture_buf + used, "; ", 2);
		used += 2;
	}
	if (used + 1 >= capture_cap)
		return 1;
	if (n > capture_cap - used - 1)
		n = capture_cap - used - 1;
	memcpy(capture_buf + used, msg, n);
	capture_buf[used + n] = '\0';
	return 1;
}

static void capture(char *buf, size_t cap)
{
	if (buf && cap)
		buf[0] = '\0';
	capture_thread = pthread_self();
	capture_cap = cap;
	capture_buf = cap ? buf : NULL;
}

/* The reason for the caller, unless say() gave one already. */
__attribute__((format(printf, 3, 4)))
static void reason(char *why, size_t cap, const char *fmt, ...)
{
	va_list ap;

	if (!why || !cap || why[0])
		return;
	va_start(ap, fmt);
	vsnprintf(why, cap, fmt, ap);
	va_end(ap);
}

/* --- threads ----------------------------------------------------------- */

/* Adopts the threads without a state (but pyprof's own: see
 * sampler_adopt_thread).  Returns how many. */
static int adopt_new(void)
{
	char buf[4096];
	long n;
	int adopted = 0;

	if (task_fd < 0 || lseek(task_fd, 0, SEEK_SET) != 0)
		return 0;
	while ((n = syscall(SYS_getdents64, task_fd, buf, sizeof buf)) > 0) {
		for (long at = 0; at < n;) {
			/* struct linux_dirent64: d_ino, d_off, d_reclen, d_type, d_name */
			unsigned short reclen;
			int tid;

			memcpy(&reclen, buf + at + 16, sizeof reclen);
			tid = atoi(buf + at + 19);
			at += reclen;
			if (tid > 0 && !by_tid_get(tid) &&
			    sampler_adopt_thread(tid) > 0)
				adopted++;
		}
	}
	return adopted;
}

int attach_threads(void)
{
	int fd = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || (task_fd = pf_fd_high(fd)) < 0)
		return -1;
	if (adopt_new() > 0)
		names_request();
	return 0;
}

/* An adopted thread that has ended, or NULL. */
static struct thread_state *ended(void)
{
	struct thread_state *t;
	pid_t pid = getpid();

	pthread_mutex_lock(&by_tid_lock);
	for (t = live; t; t = t->next_live)
		if (t->adopted && syscall(SYS_tgkill, pid, t->tid, 0) != 0 &&
		    errno == ESRCH)
			break;
	pthread_mutex_unlock(&by_tid_lock);
	return t;
}

int attach_polling(void)
{
	return __atomic_load_n(&attached, __ATOMIC_ACQUIRE) ||
	       __atomic_load_n(&attaching, __ATOMIC_ACQUIRE);
}

#define POLL_NS 100000000u

void attach_poll(void)
{
	static uint64_t last;
	uint64_t now;
	struct thread_state *t;
	int saved = errno;

	if (!__atomic_load_n(&attached, __ATOMIC_ACQUIRE) ||
	    (now = clock_ns(CLOCK_MONOTONIC)) - last < POLL_NS)
		return;
	last = now;
	while ((t = ended()))
		sampler_thread_release(t);
	if (adopt_new() > 0)
		names_request();
	errno = saved;
}

int attach_forked(void)
{
	/* another thread may have held it at fork */
	pthread_mutex_init(&attach_lock, NULL);
	if (!attached)
		return 0;
	attached = 0;
	/* the parent's task list, not ours */
	if (task_fd >= 0)
		close(task_fd);
	task_fd = -1;
	return 1;
}

/* Native stacks: a thread's unwinding is readied in that thread
 * (native_warm), and of the threads adopted only the one attaching runs
 * pyprof's code; the others are sampled, with their Python frames only.
 * Said to pyprof_attach's caller, who asked for native stacks of all. */
static void say_native(void)
{
	struct thread_state *me, *t;
	char msg[512];
	int others = 0, ready;

	if (!settings || !settings->native)
		return;
	pthread_mutex_lock(&by_tid_lock);
	me = by_tid_get(gettid_());
	ready = me && me->native_ready;
	for (t = live; t; t = t->next_live)
		others += t != me;
	pthread_mutex_unlock(&by_tid_lock);
	if (ready)
		snprintf(msg, sizeof msg,
			 "native stacks for %s only: the other threads (%d "
			 "now, and those started from now on) are sampled with "
			 "their Python frames alone, shown under [native: "
			 "unmerged] (libpyprof(7), Loaded late)",
			 me->is_main ? "the main thread" : "the thread that attached",
			 others);
	else
		snprintf(msg, sizeof msg,
			 "no native stacks: the attaching thread's unwinding "
			 "could not be readied, and no other thread's can be; "
			 "every thread is sampled with its Python frames alone");
	attach_capture(msg, strlen(msg));
}

/* --- the entry points ---------------------------------------------------- */

/*
 * Starts recording in a process whose library was loaded late, with the
 * settings given as "NAME=VALUE" lines (PYPROF_OUTPUT, PYPROF_INTERVAL...:
 * libpyprof(7)); the environment's are not read.  0, or -1 with errno and
 * a one-line reason in why: EALREADY (recording already), EBUSY (the
 * library was preloaded, or the program set it up), EINVAL (bad
 * settings), or whatever kept the file from being made.
 */
EXPORT int pyprof_attach(const char *settings, char *why, size_t why_len)
{
	int r = -1, err;

	pthread_mutex_lock(&attach_lock);
	capture(why, why_len);
	if (give(settings) != 0) {
		err = EINVAL;
		reason(why, why_len, "bad settings: NAME=VALUE lines of PYPROF_* expected");
		goto out;
	}
	wall_init(); /* pyprof's helper thread runs now, stopped around forks */
	__atomic_store_n(&attaching, 1, __ATOMIC_RELEASE);
	r = preload_attach();
	err = errno;
	if (r == 0) {
		__atomic_store_n(&attached, 1, __ATOMIC_RELEASE);
		say_native();
	}
	__atomic_store_n(&attaching, 0, __ATOMIC_RELEASE);
	if (r != 0 && task_fd >= 0) {
		close(task_fd);
		task_fd = -1;
	}
	if (r != 0 && err == EALREADY)
		reason(why, why_len, "already profiled: writing %s", pyprof_path());
	else if (r != 0 && err == EBUSY)
		reason(why, why_len, "libpyprof was set up by the program itself "
		       "(LD_PRELOAD, %%pyprof or pyprof_start)");
	else if (r != 0)
		reason(why, why_len, "not profiling");
out:
	capture(NULL, 0);
	pthread_mutex_unlock(&attach_lock);
	errno = err;
	return r;
}

/*
 * Stops what pyprof_attach started: every thread's signals, pyprof's
 * helper thread; the file is complete (end reason "stop") and closed.
 * 0, or -1 with errno EINVAL (not attached) or EBUSY (a thread did not
 * leave pyprof's signal handler within 2 s: the file is complete but
 * stays mapped), and a reason in why.
 */
EXPORT int pyprof_detach(char *why, size_t why_len)
{
	int r = 0, err = 0;

	pthread_mutex_lock(&attach_lock);
	if (why && why_len)
		why[0] = '\0';
	if (!attached) {
		reason(why, why_len, "not attached: no pyprof attach is recording here");
		r = -1;
		err = EINVAL;
		goto out;
	}
	__atomic_store_n(&attached, 0, __ATOMIC_RELEASE);
	/* first: a request it serves (ctl start) or a rotation it makes
	 * would open a file, and it must answer nobody once detached */
	control_release();
	sampler_wall_stop();
	/* the waiting threads' kept-back samples, while they may still be
	 * written */
	sampler_flush_runs();
	if (task_fd >= 0)
		close(task_fd);
	task_fd = -1;
	if (sampler_release_all() != 0) {
		reason(why, why_len, "a thread stayed in pyprof's signal handler: "
		       "the file is complete but stays mapped");
		r = -1;
		err = EBUSY;
	}
	preload_detach(r == 0);
out:
	pthread_mutex_unlock(&attach_lock);
	errno = err;
	return r;
}
