/*
 * preload.c - libpyprof.so's life inside the target: load, threads, fork,
 * exec and exit.
 *
 * The library is preloaded into every process of a tree (LD_PRELOAD is
 * inherited), so the first thing the constructor does is decide whether
 * to exist: anything that is not a supported CPython gets no file, no
 * timer, no signal handler and no output.  In CPython it creates the file,
 * installs the sampler and starts the main thread's timer; new threads get
 * theirs through the pthread_create interposed here.
 *
 * The rest keeps the file honest at the edges of the process's life:
 *   exit()          atexit handler: mark the file complete
 *   _exit()         interposed (os._exit never runs atexit handlers)
 *   SIGTERM, and SIGPROF or SIGBUS the program did not take: sigchain.c's
 *                   default action completes the file and dies of the
 *                   same signal
 *   exec*()         interposed: complete the file; undo if exec fails
 *   fork()          the child gets a file of its own (pthread_atfork)
 * A SIGKILL leaves state WRITING; every committed record is still there.
 *
 * Messages go to stderr with write(2), never through stdio, so the target's
 * buffered output is not disturbed; and only errors are said unasked.
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "attach.h"
#include "settings.h"
#include "control.h"
#include "pyintro.h"
#include "names.h"
#include "native.h"
#include "sampler.h"
#include "sigchain.h"
#include "encode.h"
#include "write.h"

#define EXPORT __attribute__((visibility("default")))

static struct settings settings;
static struct py_layout layout;
/* Two, for a rotated run: wr is the one being written (see sampler-int.h
 * on how a rotation moves from one to the other), path its file's name */
/* fd -1: closing a writer that was never made must not close the
 * program's descriptor 0 */
static struct pf_writer writers[2] = {{.fd = -1}, {.fd = -1}};
static struct pf_writer *wr = &writers[0];
static char paths[2][4096];
static char *path = paths[0];
static int on;        /* this process is being profiled */
static pid_t file_pid; /* the process the open file belongs to */
static int fork_child; /* this file is a forked child's */
static int log_fd = -1;
/* Windows opened by pyprof_start and not yet closed.  Recording runs while
 * the file was started at load (PYPROF_START=1) or a window is open. */
static int windows;
static pthread_mutex_t control_lock = PTHREAD_MUTEX_INITIALIZER;

/* --- messages ----------------------------------------------------------- */

static void write_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t r = write(fd, s, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return;
		s += r;
		n -= (size_t)r;
	}
}

static dev_t log_dev;
static ino_t log_ino;

/* PYPROF_LOG's descriptor is one of the program's numbers: after a
 * closerange() and open() it may name the program's own file. */
static int log_is_ours(void)
{
	struct stat st;

	return fstat(log_fd, &st) == 0 && st.st_dev == log_dev &&
	       st.st_ino == log_ino;
}

/* Not for the signal handler (vsnprintf).  always: say it even without
 * PYPROF_LOG (errors that leave pyprof dormant). */
static void say(int always, const char *fmt, ...)
{
	char buf[1024];
	int n, head, kept = 0, saved = errno;
	va_list ap;

	if (!always && log_fd < 0)
		return;
	head = n = snprintf(buf, sizeof buf, "pyprof[%d]: ", (int)getpid());
	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof buf - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof buf - 2)
		n = (int)sizeof buf - 2;
	/* an error while pyprof attach sets up is its caller's to print */
	if (always)
		kept = attach_capture(buf + head, (size_t)(n - head));
	if ((log_fd > 2 && !log_is_ours()) || (kept && log_fd <= 2))
		goto out;
	buf[n++] = '\n';
	write_all(log_fd >= 0 ? log_fd : 2, buf, (size_t)n);
out:
	errno = saved;
}

static void open_log(void)
{
	if (!settings.log)
		return;
	if (!strcmp(settings.log, "stderr")) {
		log_fd = 2;
		return;
	}
	/* As carefully as the profile: a log in a shared directory must not
	 * follow a link somebody planted there, nor append to a file of
	 * another user's; and its number stays out of the program's way.
	 * The processes of a tree share one log, so it may exist. */
	log_fd = open(settings.log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC |
					    O_NOFOLLOW | O_NOCTTY | O_NONBLOCK,
		      0600);
	if (log_fd < 0) {
		say(1, "cannot open PYPROF_LOG=%s: %s", settings.log,
		    errno == ELOOP ? "it is a symbolic link" : strerror(errno));
		return;
	}
	{
		struct stat st;
		const char *bad = NULL;
		if (fstat(log_fd, &st) != 0)
			bad = strerror(errno);
		else if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode) &&
			 !S_ISFIFO(st.st_mode))
			bad = "not a file, a FIFO or a terminal";
		else if (S_ISREG(st.st_mode) && st.st_uid != geteuid())
			bad = "the file belongs to another user";
		if (bad) {
			close(log_fd);
			log_fd = -1;
			say(1, "cannot use PYPROF_LOG=%s: %s", settings.log, bad);
			return;
		}
		log_dev = st.st_dev;
		log_ino = st.st_ino;
	}
	if ((log_fd = pf_fd_high(log_fd)) < 0)
		say(1, "cannot use PYPROF_LOG=%s: no descriptor", settings.log);
}

/* --- the file ----------------------------------------------------------- */

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void read_cmdline(struct pf_header *h)
{
	int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	ssize_t n, total = 0;
	char extra;

	if (fd < 0)
		return;
	while (total < (ssize_t)PF_CMDLINE_MAX &&
	       (n = read(fd, h->cmdline + total,
			 PF_CMDLINE_MAX - (size_t)total)) > 0)
		total += n;
	if (total == (ssize_t)PF_CMDLINE_MAX && read(fd, &extra, 1) == 1) {
		h->flags |= PF_FLAG_CMDLINE_TRUNCATED;
		/* keep whole arguments only */
		while (total > 0 && h->cmdline[total - 1] != '\0')
			total--;
		memset(h->cmdline + total, 0, PF_CMDLINE_MAX - (size_t)total);
	}
	h->cmdline_len = (uint32_t)total;
	close(fd);
}

/* Where the program started and what runs it, so that reports can tell
 * the program's own files from the interpreter's library.  A path that
 * does not fit stays unknown rather than cut. */
static void read_places(struct pf_header *h)
{
	int saved = errno;
	ssize_t n;

	if (!getcwd(h->cwd, sizeof h->cwd))
		memset(h->cwd, 0, sizeof h->cwd);
	n = readlink("/proc/self/exe", h->exe, sizeof h->exe);
	if (n < 0 || n >= (ssize_t)sizeof h->exe)
		n = 0;
	memset(h->exe + n, 0, sizeof h->exe - (size_t)n);
	errno = saved;
}

/*
 * Creates the file w writes, named into p (PATH_MAX bytes) from the
 * template; seq is its number in a rotated run (0: not rotated).  loud:
 * a failure is said on standard error even without PYPROF_LOG.  The
 * header describes the process: read now for the first file, copied from
 * prev's for the next file of a run (where the process started, its
 * command line, are the run's).
 */
static int open_file_at(struct pf_writer *w, char *p, unsigned seq,
			const struct pf_header *prev, int loud)
{
	char host[64] = "", err[512];
	uint64_t realtime = clock_ns(CLOCK_REALTIME);
	struct pf_header *h;
	int attempt;

	gethostname(host, sizeof host - 1);
	for (attempt = 0; attempt < 100; attempt++) {
		if (settings_output_path(settings.output, (int)getpid(),
					 (long)(realtime / 1000000000u), host,
					 seq, attempt, p, sizeof paths[0]) != 0) {
			say(loud, "PYPROF_OUTPUT=%s: bad template (use %%p, %%t, %%h, %%n, %%%%) or path too long; not profiling",
			    settings.output);
			return -1;
		}
		if (pf_writer_create(w, p, settings.max_size, err,
				     sizeof err) == 0)
			break;
		if (errno != EEXIST) {
			say(loud, "%s%s", err, loud ? "; not profiling" : "");
			return -1;
		}
		/* /dev/null and the like: a .1 beside it would be a stray
		 * file in /dev, not a profile. */
		{
			struct stat st;
			if (lstat(p, &st) == 0 &&
			    (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))) {
				say(loud, "PYPROF_OUTPUT=%s is a device, not a file or a directory; not profiling",
				    p);
				return -1;
			}
		}
	}
	if (attempt == 100) {
		say(loud, "%s exists, and so do 99 more%s", p,
		    loud ? "; not profiling" : "");
		return -1;
	}
	h = w->hdr;
	if (prev) {
		/* all but what pf_writer_create set and what is this file's */
		size_t from = offsetof(struct pf_header, mode);
		memcpy((char *)h + from, (const char *)prev + from,
		       sizeof *h - from);
		h->end_monotonic_ns = 0;
		h->signals = h->samples = 0;
		memset(h->dropped, 0, sizeof h->dropped);
	} else {
		h->mode = (uint32_t)settings.mode;
		h->interval_ns = settings.interval_ns;
		h->pid = (int32_t)getpid();
		h->ppid = (int32_t)getppid();
		h->py_hexversion = layout.hexversion;
		if (layout.is_static)
			h->flags |= PF_FLAG_PY_STATIC;
		/* settings, not native_enabled(): a second pyprof attach
		 * may not ask for what a first one loaded */
		if (settings.native)
			h->flags |= PF_FLAG_NATIVE;
		snprintf(h->py_version, sizeof h->py_version, "%s", layout.version);
		memcpy(h->hostname, host, sizeof h->hostname - 1);
		read_cmdline(h);
		read_places(h);
		h->run_start_realtime_ns = seq ? realtime : 0;
	}
	h->start_realtime_ns = realtime;
	h->start_monotonic_ns = clock_ns(CLOCK_MONOTONIC);
	h->sequence = seq;
	file_pid = getpid();
	return 0;
}

/* The current file's number in a rotated run, from 1; 0 not rotated */
static unsigned file_seq;

static int rotating(void)
{
	return settings.rotate_ns || settings.rotate_bytes;
}

static void rotate_forget(void);
static uint64_t rotate_tick(void);

static int open_file(void)
{
	file_seq = settings.rotate_ns || settings.rotate_bytes ? 1 : 0;
	wr = &writers[0];
	path = paths[0];
	return open_file_at(wr, path, file_seq, NULL, 1);
}

/* The process the file is (or would be) for: before the first file, this
 * process. */
static pid_t file_pid_or_self(void)
{
	return file_pid ? file_pid : getpid();
}

static uint64_t dropped_total(void)
{
	uint64_t n = 0;

	for (int i = 0; i < PF_DROP_COUNT; i++)
		n += wr->hdr->dropped[i];
	return n;
}

/* Called from _exit, exec, and on_death. */
HANDLER static void finish(enum pf_end_reason why, int sig)
{
	if (!on || !wr->hdr || getpid() != file_pid)
		return; /* no file yet, or a vfork child sharing our memory */
	sampler_set_active(0);
	/* and the one a rotation is leaving, if it is still open */
	pf_writer_finish(&writers[0], why, sig);
	pf_writer_finish(&writers[1], why, sig);
}

/* --- interposed libc functions ------------------------------------------ */

struct start {
	void *(*fn)(void *);
	void *arg;
};

static void *start_thread(void *p)
{
	struct start s = *(struct start *)p;

	free(p);
	if (sampler_thread_start() == 0)
		names_request();
	return s.fn(s.arg);
}

#define REAL(name) \
	static __typeof__(name) *real; \
	if (!real) \
		real = (__typeof__(name) *)dlsym(RTLD_NEXT, #name)

EXPORT int pthread_create(pthread_t *th, const pthread_attr_t *attr,
			  void *(*fn)(void *), void *arg)
{
	struct start *s;
	int r;

	REAL(pthread_create);
	if (!on || !(s = malloc(sizeof *s)))
		return real(th, attr, fn, arg);
	s->fn = fn;
	s->arg = arg;
	r = real(th, attr, start_thread, s);
	if (r != 0)
		free(s);
	return r;
}

EXPORT void _exit(int status)
{
	finish(PF_END__EXIT, 0);
	syscall(SYS_exit_group, status);
	__builtin_unreachable();
}

EXPORT void _Exit(int status)
{
	finish(PF_END__EXIT, 0);
	syscall(SYS_exit_group, status);
	__builtin_unreachable();
}

/* A forked child that did nothing worth a profile before exec (the fork
 * half of subprocess) leaves no file behind. */
static void before_exec(void)
{
	int saved = errno;

	if (on && wr->hdr && getpid() == file_pid) {
		if (fork_child && wr->hdr->samples == 0) {
			sampler_set_active(0);
			unlink(path);
		} else {
			finish(PF_END_EXEC, 0);
		}
		sampler_exec_prepare();
		sigchain_hand_back();
	}
	errno = saved;
}

static void after_failed_exec(void)
{
	int saved = errno;

	if (on && wr->hdr && getpid() == file_pid) {
		pf_writer_unfinish(wr);
		sigchain_take_again();
		sampler_exec_failed();
		sampler_set_active(1);
	}
	errno = saved;
}

EXPORT int execve(const char *file, char *const argv[], char *const envp[])
{
	int r;

	REAL(execve);
	before_exec();
	r = real(file, argv, envp);
	after_failed_exec();
	return r;
}

EXPORT int execv(const char *file, char *const argv[])
{
	int r;

	REAL(execv);
	before_exec();
	r = real(file, argv);
	after_failed_exec();
	return r;
}

EXPORT int execvp(const char *file, char *const argv[])
{
	int r;

	REAL(execvp);
	before_exec();
	r = real(file, argv);
	after_failed_exec();
	return r;
}

EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	int r;

	REAL(execvpe);
	before_exec();
	r = real(file, argv, envp);
	after_failed_exec();
	return r;
}

EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	int r;

	REAL(fexecve);
	before_exec();
	r = real(fd, argv, envp);
	after_failed_exec();
	return r;
}

/* --- lifecycle ---------------------------------------------------------- */

/* A signal the program did not take is about to kill it (sigchain's
 * default action): the file is complete, and says which signal ended it. */
HANDLER static void on_death(int sig)
{
	finish(PF_END_SIGNAL, sig);
}

/* A store into the file's mapping after the file was truncated under it
 * would kill the program with SIGBUS; the writer puts memory there
 * instead and recording stops. */
HANDLER static int on_sigbus(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	if (si->si_code <= 0)
		return 0; /* sent, not a fault */
	return pf_writer_fault(&writers[0], si->si_addr) ||
	       pf_writer_fault(&writers[1], si->si_addr);
}

static void say_wrote(void)
{
	if (on && getpid() == file_pid && wr->hdr)
		say(0, "wrote %s: %llu samples, %llu dropped (size bound %llu)",
		    path, (unsigned long long)wr->hdr->samples,
		    (unsigned long long)wr->hdr->dropped[PF_DROP_FULL],
		    (unsigned long long)wr->hdr->max_size);
}

static void on_exit_(void)
{
	/* objects loaded since the sampler thread's last look, and the
	 * waiting threads' last ticks */
	if (on && getpid() == file_pid && wr->hdr) {
		native_objects_poll(sampler_write_record);
		sampler_flush_runs();
	}
	finish(PF_END_EXIT, 0);
	say_wrote();
}

/* Closes the files (pyprof_detach, or the parent's in a child). */
static void files_close(void)
{
	pf_writer_close(&writers[0]);
	pf_writer_close(&writers[1]);
	wr = &writers[0];
	path = paths[0];
	rotate_forget();
}

static void atfork_child(void)
{
	if (!on)
		return;
	sampler_set_active(0);
	pthread_mutex_init(&control_lock, NULL);
	windows = 0;
	if (attach_forked()) {
		/* not the child's profile, nor its threads (attach.c) */
		sampler_forget_parent();
		files_close();
		file_pid = 0;
		return;
	}
	if (!wr->hdr) {
		/* recording waits for pyprof_start(), in the child too */
		sampler_after_fork(writers);
		return;
	}
	/* The parent's files are shared memory: the child must never write
	 * them.  Their mappings go; the parent's process keeps them. */
	files_close();
	if (!settings.start) {
		/* the parent's window is the parent's: the child waits */
		file_pid = 0;
		sampler_after_fork(writers);
		return;
	}
	if (open_file() != 0) {
		on = 0;
		return;
	}
	fork_child = 1;
	sampler_after_fork(writers);
	sampler_set_active(1);
}

/* dlopen'd into a running interpreter: see pyprof_load */
static int loaded_late;
static int set_up;    /* setup() ran */
static int by_attach; /* ... for pyprof_attach */
static int py_r;      /* pyintro_init's verdict, and why */
static char py_why[512];

static const char *env(const char *name)
{
	return loaded_late ? attach_setting(name) : getenv(name);
}

static void say_recording(void)
{
	say(0, "profiling %s into %s: %s mode, interval %llu ns, source %s",
	    layout.version, path,
	    settings.mode == PF_MODE_WALL ? "wall" : "cpu",
	    (unsigned long long)settings.interval_ns,
	    sampler_source() == PF_SOURCE_PERF_TASK_CLOCK
		    ? "perf task-clock" : "thread CPU timer");
}

/* The control thread, for the channel and for rotation's clock; from
 * setup, and from setup_again for a second pyprof attach (the first's
 * went with its pyprof_detach). */
static void start_control(void)
{
	if ((settings.control || rotating()) &&
	    control_init(settings.control, rotating() ? rotate_tick : NULL) != 0)
		say(1, "cannot open the control channel%s: %s",
		    rotating() ? " (which rotates the files too)" : "",
		    strerror(errno));
}

/* All that starting takes once this is known to be CPython: the
 * settings, the file (unless it waits for pyprof_start), the handlers,
 * the threads.  From the constructor when preloaded; for a library loaded
 * late, from the first pyprof_start() or pyprof_attach(). */
static void setup(void)
{
	char why[512];
	int r = py_r;

	char settings_why[512];

	set_up = 1;
	if (settings_load(&settings, env, settings_why,
			  sizeof settings_why) != 0) {
		say(1, "%s; not profiling", settings_why);
		return;
	}
	if (!settings.enable)
		return;
	open_log();
	if (r != 0) {
		say(1, "%s; not profiling", py_why);
		return;
	}
	if (settings.native && native_init(layout.minor, why, sizeof why) != 0) {
		say(1, "native stacks unavailable: %s; Python frames only", why);
		settings.native = 0;
	}
	if (settings.start && open_file() != 0)
		return;
	if (sigchain_init(on_death) != 0 ||
	    sampler_init(&settings, &layout, writers) != 0) {
		say(1, "cannot install the sampler: %s; not profiling",
		    strerror(errno));
		if (wr->hdr) {
			unlink(path);
			pf_writer_close(wr);
		}
		return;
	}
	on = 1;
	if (names_init(&layout) != 0)
		say(0, "thread names unavailable: C API functions not found");
	pthread_atfork(NULL, NULL, atfork_child);
	atexit(on_exit_);
	/* SIGTERM only while the program leaves it at the default, which is
	 * when the file needs finishing before the process dies; a handler
	 * of the program's goes to the kernel as it is. */
	if (sigchain_claim(SIGTERM, SIGCHAIN_WHILE_DEFAULT, NULL,
			   SA_RESTART) != 0 ||
	    sigchain_claim(SIGBUS, SIGCHAIN_FIRST, on_sigbus,
			   SA_RESTART | SA_ONSTACK) != 0)
		say(1, "cannot watch SIGTERM and SIGBUS: %s", strerror(errno));
	if (wr->hdr) {
		wr->hdr->source = (uint32_t)sampler_source();
		sampler_set_active(1);
	}
	/* the program's threads run already: all of them, from outside */
	if (attach_attaching() && attach_threads() != 0)
		say(1, "cannot list the threads: %s", strerror(errno));
	else if (!attach_attaching() && sampler_thread_start() != 0)
		say(1, "cannot start the main thread's timer: %s",
		    strerror(errno));
	native_objects_poll(sampler_write_record);
	if (sampler_wall_start() != 0)
		say(1, "cannot start the wall-mode sampler thread: %s; "
		    "waiting threads are not sampled", strerror(errno));
	if (wr->hdr)
		say_recording();
	else
		say(0, "loaded for %s; recording waits for pyprof_start()",
		    layout.version);
	start_control();
}

__attribute__((constructor)) static void pyprof_load(void)
{
	/* Not CPython: dormant and silent, whatever PYPROF_* says, since the
	 * variables reach every process of the tree. */
	py_r = pyintro_init(&layout, py_why, sizeof py_why);
	if (py_r == -1)
		return;
	/* Loaded into a running interpreter: its threads run already, and
	 * nothing it calls reaches the interposed functions.  Nothing starts
	 * until pyprof_start() or pyprof_attach() asks (attach.c). */
	if ((loaded_late = attach_loaded_late()))
		return;
	setup();
}

/* --- pyprof attach (attach.c) --------------------------------------------- */

/* pyprof_attach after a pyprof_detach: the handlers are in place, the
 * settings and the file are new, the threads are adopted again. */
static void setup_again(void)
{
	char why[512];
	struct settings s;

	if (settings_load(&s, env, why, sizeof why) != 0) {
		say(1, "%s; not profiling", why);
		return;
	}
	if (s.native && !native_enabled() &&
	    native_init(layout.minor, why, sizeof why) != 0) {
		say(1, "native stacks unavailable: %s; Python frames only", why);
		s.native = 0;
	}
	settings = s;
	if (log_fd > 2)
		close(log_fd);
	log_fd = -1;
	open_log();
	if (sampler_new_file(&settings) != 0) {
		say(1, "cannot make the tables of a rotated run: %s; not "
		    "profiling", strerror(errno));
		return;
	}
	if (open_file() != 0)
		return;
	wr->hdr->source = (uint32_t)sampler_source();
	sampler_set_active(1);
	if (attach_threads() != 0)
		say(1, "cannot list the threads: %s", strerror(errno));
	native_objects_poll(sampler_write_record_any);
	if (sampler_wall_start() != 0)
		say(1, "cannot start pyprof's helper thread: %s; threads started "
		    "from now on are not sampled", strerror(errno));
	say_recording();
	start_control();
}

int preload_attach(void)
{
	int r = -1;

	pthread_mutex_lock(&control_lock);
	if (!loaded_late || (set_up && !by_attach)) {
		/* preloaded, or set up by the program (%pyprof) */
		errno = on && wr->hdr && (settings.start || windows)
				? EALREADY : EBUSY;
		goto out;
	}
	if (wr->hdr && wr->hdr->state == PF_STATE_WRITING) {
		errno = EALREADY;
		goto out;
	}
	by_attach = 1;
	if (!on)
		setup();
	else
		setup_again();
	if (on && wr->hdr && wr->hdr->state == PF_STATE_WRITING &&
	    getpid() == file_pid)
		r = 0;
	else
		errno = EIO;
out:
	pthread_mutex_unlock(&control_lock);
	return r;
}

void preload_detach(int unmap)
{
	pthread_mutex_lock(&control_lock);
	finish(PF_END_STOP, 0);
	say_wrote();
	/* else a handler may still be in it: it stays, complete */
	if (unmap && wr->hdr) {
		files_close();
		file_pid = 0;
	}
	pthread_mutex_unlock(&control_lock);
}

/* --- the control API (libpyprof(7)) -------------------------------------- */


static int write_mark(enum pf_mark_kind kind, const char *label)
{
	struct pf_rec_mark rec;
	uint8_t body[sizeof rec + 1024];
	struct timespec ts;
	size_t len = label ? strnlen(label, sizeof body - sizeof rec) : 0;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	rec.mono_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	rec.kind = kind;
	rec.label_len = (uint32_t)len;
	/* the caller may be a thread pyprof does not sample: pyprof ctl's
	 * (control.c), or one a program started before a dlopen */
	return sampler_write_record_any(PF_REC_MARK, body,
					pf_put_mark(body, &rec, label));
}

EXPORT int pyprof_start(const char *label)
{
	int r = -1;

	pthread_mutex_lock(&control_lock);
	if (loaded_late && !set_up)
		setup();
	if (!on || getpid() != file_pid_or_self()) {
		errno = ENOTSUP;
		goto out;
	}
	if (!wr->hdr) {
		if (open_file() != 0) {
			errno = EIO;
			goto out;
		}
		wr->hdr->source = (uint32_t)sampler_source();
	}
	/* threads that existed before a dlopen get their timers now, and
	 * their names */
	if (sampler_adopt_threads() > 0)
		names_request();
	windows++;
	sampler_resume();
	write_mark(PF_MARK_START, label);
	/* a file opened now lists the objects loaded so far at once */
	native_objects_poll(sampler_write_record_any);
	r = 0;
out:
	pthread_mutex_unlock(&control_lock);
	return r;
}

EXPORT int pyprof_stop(const char *label)
{
	int r = -1;

	pthread_mutex_lock(&control_lock);
	if (!on || !windows) {
		errno = EINVAL;
		goto out;
	}
	/* what the window loaded, before recording may stop */
	native_objects_poll(sampler_write_record_any);
	write_mark(PF_MARK_STOP, label);
	if (--windows == 0 && !settings.start) {
		sampler_flush_runs();
		sampler_set_active(0);
	}
	r = 0;
out:
	pthread_mutex_unlock(&control_lock);
	return r;
}

EXPORT int pyprof_mark(const char *label)
{
	if (!on || !wr->hdr) {
		errno = EINVAL;
		return -1;
	}
	return write_mark(PF_MARK_POINT, label);
}

/* For threads pthread_create's interposition never saw (the library was
 * loaded with dlopen): the thread arms its own timer. */
EXPORT int pyprof_thread_start(void)
{
	if (attach_polling())
		return 0; /* pyprof's helper thread adopts it */
	if (!on) {
		errno = ENOTSUP;
		return -1;
	}
	if (sampler_thread_start() != 0)
		return -1;
	names_request();
	return 0;
}

/* A thread's name, told by the thread itself: the names callback runs in
 * the main thread, which may be blocked (say, in join()) for the whole
 * life of the threads it waits for. */
EXPORT int pyprof_thread_name(const char *name)
{
	if (!on || !wr->hdr || !name) {
		errno = EINVAL;
		return -1;
	}
	return names_self(name);
}

/* --- rotation (PYPROF_ROTATE) -------------------------------------------- */

/* The run's finished files, oldest first, for PYPROF_KEEP (ordinary
 * context: the control thread's, under control_lock) */
static struct kept {
	char *path;
	uint64_t bytes;
} *kept;
static size_t n_kept, kept_cap;
static uint64_t kept_bytes;
static uint64_t next_boundary; /* CLOCK_MONOTONIC; 0: from the file's start */
static int rotate_failed;      /* said once */

static void rotate_forget(void)
{
	for (size_t i = 0; i < n_kept; i++)
		free(kept[i].path);
	n_kept = 0;
	kept_bytes = 0;
	next_boundary = 0;
	rotate_failed = 0;
}

static uint64_t file_bytes(const struct pf_header *h)
{
	return PF_HEADER_SIZE + (uint64_t)h->chunks_claimed * PF_CHUNK_SIZE;
}

/* Deletes the oldest finished files while the run has more than
 * PYPROF_KEEP allows, the file being written counted as one. */
static void keep(const char *done, uint64_t bytes)
{
	if (!settings.keep_files && !settings.keep_bytes)
		return;
	if (n_kept == kept_cap) {
		size_t cap = kept_cap ? kept_cap * 2 : 16;
		struct kept *k = realloc(kept, cap * sizeof *k);
		if (!k)
			return;
		kept = k;
		kept_cap = cap;
	}
	if (!(kept[n_kept].path = strdup(done)))
		return;
	kept[n_kept++].bytes = bytes;
	kept_bytes += bytes;
	while (n_kept && ((settings.keep_files && n_kept + 1 > settings.keep_files) ||
			  (settings.keep_bytes &&
			   kept_bytes + file_bytes(wr->hdr) > settings.keep_bytes))) {
		if (unlink(kept[0].path) != 0 && errno != ENOENT)
			say(0, "cannot delete %s: %s", kept[0].path, strerror(errno));
		kept_bytes -= kept[0].bytes;
		free(kept[0].path);
		memmove(kept, kept + 1, --n_kept * sizeof *kept);
	}
}

/* The file is finished, complete, and the run goes on in the next,
 * numbered one more (see sampler-int.h for why no sample is lost or
 * written twice).  Under control_lock, so that a window's marks and
 * status see one file or the other. */
static void rotate(void)
{
	struct pf_writer *next = &writers[(wr - writers) ^ 1], *old;
	char *next_path = paths[(wr - writers) ^ 1];
	char done[sizeof paths[0]];
	uint64_t bytes, t0 = clock_ns(CLOCK_MONOTONIC), t1, t2;

	/* Not said unasked: the program's standard error is the program's,
	 * and recording goes on in the file it has (its losses counted) */
	if (open_file_at(next, next_path, file_seq + 1, wr->hdr, 0) != 0) {
		if (!rotate_failed++)
			say(0, "cannot rotate %s: recording goes on in it", path);
		return;
	}
	t1 = clock_ns(CLOCK_MONOTONIC);
	/* the waiting threads' kept-back samples, into the file their
	 * stacks' ids are of */
	sampler_flush_runs();
	old = &writers[sampler_rotate()];
	t2 = clock_ns(CLOCK_MONOTONIC);
	pf_writer_finish(old, PF_END_ROTATE, 0);
	bytes = file_bytes(old->hdr);
	memcpy(done, path, sizeof done);
	pf_writer_close(old);
	wr = next;
	path = next_path;
	file_seq++;
	/* the new file names the threads and lists the objects again */
	names_forget();
	native_objects_again();
	native_objects_poll(sampler_write_record_any);
	/* for bench/README.md: the file made, the wait, the whole */
	say(0, "rotated: %s complete, now %s (%llu us: %llu creating, %llu "
	    "waiting for writers)", done, path,
	    (unsigned long long)(clock_ns(CLOCK_MONOTONIC) - t0) / 1000,
	    (unsigned long long)(t1 - t0) / 1000,
	    (unsigned long long)(t2 - t1) / 1000);
	keep(done, bytes);
}

/* The control thread's clock: rotates at each period boundary (from the
 * first file's start) and when the file reaches the size; returns the
 * ns until it should look again. */
static uint64_t rotate_tick(void)
{
	uint64_t now = clock_ns(CLOCK_MONOTONIC), wait = 0;
	int recording;

	pthread_mutex_lock(&control_lock);
	recording = on && wr->hdr && getpid() == file_pid &&
		    (settings.start || windows) &&
		    wr->hdr->state == PF_STATE_WRITING;
	if (settings.rotate_ns) {
		if (!next_boundary)
			next_boundary = (wr->hdr ? wr->hdr->start_monotonic_ns : now) +
					settings.rotate_ns;
		if (now >= next_boundary) {
			if (recording)
				rotate();
			/* boundaries missed (a stopped process) are skipped */
			while (next_boundary <= now)
				next_boundary += settings.rotate_ns;
		}
		wait = next_boundary - now;
	}
	/* The size asked for, or PYPROF_MAX_SIZE, at which a file drops
	 * every sample: the next one takes them (not a file full for want
	 * of disk space, which the next would be too). */
	if (recording && wr->hdr &&
	    ((settings.rotate_bytes && file_bytes(wr->hdr) >= settings.rotate_bytes) ||
	     wr->hdr->chunks_claimed >= wr->max_chunks))
		rotate();
	/* a chunk a thread claims is 64 KiB: looking ten times a second
	 * keeps a file within a few chunks of the size */
	if (!wait || wait > 100000000u)
		wait = 100000000u;
	pthread_mutex_unlock(&control_lock);
	return wait;
}

void preload_status(char *buf, size_t cap)
{
	int rec;

	pthread_mutex_lock(&control_lock);
	rec = wr->hdr && (settings.start || windows) &&
	      wr->hdr->state == PF_STATE_WRITING;
	snprintf(buf, cap,
		 "recording: %s\n"
		 "file: %s\n"
		 "samples: %llu\n"
		 "dropped: %llu\n"
		 "windows: %d\n",
		 rec ? "on" : "off",
		 wr->hdr ? path : "none (recording has not started)",
		 wr->hdr ? (unsigned long long)wr->hdr->samples : 0ull,
		 wr->hdr ? (unsigned long long)dropped_total() : 0ull,
		 windows);
	pthread_mutex_unlock(&control_lock);
}

EXPORT const char *pyprof_path(void)
{
	return on && wr->hdr ? path : NULL;
}
