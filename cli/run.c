/*
 * run.c - `pyprof run`: run a command with libpyprof.so preloaded into a
 * directory of its own, then report every profile it wrote, and exit as
 * the command did.
 *
 * Every process of the command's tree writes its own file, and a file is
 * complete only when its process ends.  The command's own children may
 * outlive it (multiprocessing's resource tracker, a daemon), so pyprof is
 * their subreaper: they become its children when their parent dies, and
 * it waits for them too, for a bounded grace period, before it reads the
 * files.  Whoever is still running then is named in the report as still
 * running, not as a damaged file.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "cli/cli.h"
#include "cli/options.h"
#include "cli/pipeline.h"
#include "collector/profile.h"

#define RUN_DEFAULT_INTERVAL "1ms"

#ifndef PKGLIBDIR
#define PKGLIBDIR "/usr/local/lib/pyprof"
#endif

char *run_library(void)
{
	const char *env = g_getenv("PYPROF_LIB");
	char *exe, *lib;

	if (env && *env)
		return g_strdup(env);
	exe = g_file_read_link("/proc/self/exe", NULL);
	if (exe) {
		char *dir = g_path_get_dirname(exe);
		lib = g_build_filename(dir, ".libs", "libpyprof.so", NULL);
		g_free(dir);
		g_free(exe);
		if (g_file_test(lib, G_FILE_TEST_EXISTS))
			return lib;
		g_free(lib);
	}
	return g_build_filename(PKGLIBDIR, "libpyprof.so", NULL);
}

/* Removes the files in dir (not recursively; pyprof made it and only the
 * library writes there), then dir. */
static void remove_dir(const char *dir)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	const char *name;

	if (d) {
		while ((name = g_dir_read_name(d))) {
			char *path = g_build_filename(dir, name, NULL);
			if (g_unlink(path) != 0)
				fprintf(stderr, "pyprof: warning: %s: %s\n", path,
					g_strerror(errno));
			g_free(path);
		}
		g_dir_close(d);
	}
	if (g_rmdir(dir) != 0)
		fprintf(stderr, "pyprof: warning: %s: %s\n", dir, g_strerror(errno));
}

/* Exits as a process that ended with wait status `status` would. */
static G_GNUC_NORETURN void exit_like(int status)
{
	if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);
		struct rlimit no_core = {0, 0};
		sigset_t set;

		/* the command already dumped core if it was going to */
		setrlimit(RLIMIT_CORE, &no_core);
		fflush(NULL);
		signal(sig, SIG_DFL);
		sigemptyset(&set);
		sigaddset(&set, sig);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		raise(sig);
		exit(128 + sig);
	}
	exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
}

/* Reaps every child (the command's orphans, adopted as subreaper) until
 * none is left or `grace` seconds have passed. */
static void wait_children(double grace)
{
	struct timespec pause = {0, 20 * 1000 * 1000};
	gint64 end = g_get_monotonic_time() + (gint64)(grace * 1e6);

	for (;;) {
		pid_t r = waitpid(-1, NULL, WNOHANG);
		if (r > 0)
			continue;
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || g_get_monotonic_time() >= end)
			return; /* ECHILD: all gone */
		nanosleep(&pause, NULL);
	}
}

/* pid -> name of the children still running, or NULL if there are none. */
static GHashTable *still_running(void)
{
	GHashTable *h = NULL;
	GDir *tasks = g_dir_open("/proc/self/task", 0, NULL);
	const char *tid;

	while (tasks && (tid = g_dir_read_name(tasks))) {
		char *path = g_strdup_printf("/proc/self/task/%s/children", tid);
		char *text = NULL, **pids;

		if (g_file_get_contents(path, &text, NULL, NULL)) {
			pids = g_strsplit(g_strstrip(text), " ", -1);
			for (char **q = pids; *q; q++) {
				int pid = atoi(*q);
				char *comm_path, *comm = NULL;
				if (pid <= 0)
					continue;
				comm_path = g_strdup_printf("/proc/%d/comm", pid);
				if (!g_file_get_contents(comm_path, &comm, NULL, NULL))
					comm = g_strdup("?");
				g_strstrip(comm);
				if (!h)
					h = g_hash_table_new_full(g_direct_hash,
								  g_direct_equal,
								  NULL, g_free);
				g_hash_table_replace(h, GINT_TO_POINTER(pid), comm);
				g_free(comm_path);
			}
			g_strfreev(pids);
		}
		g_free(text);
		g_free(path);
	}
	if (tasks)
		g_dir_close(tasks);
	return h;
}

int cmd_run(int argc, char **argv)
{
	struct report_opts o;
	GOptionContext *ctx;
	char **cmd = NULL, *lib = NULL, *dir = NULL, *old, *preload;
	int dash = -1, status = 0, rc = 0;
	gboolean temp = FALSE;
	struct sigaction ign = {0}, old_int, old_quit;
	pid_t child;

	options_init(&o);
	ctx = options_context_new("-- COMMAND [ARG...]",
			   "Run COMMAND with libpyprof.so preloaded, then print the "
			   "report of every process it started to standard error "
			   "(or to -o FILE).  Exits as COMMAND did.", &o, TRUE);
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--")) {
			dash = i;
			break;
		}
	if (dash >= 0) {
		cmd = argv + dash + 1;
		argc = dash; /* parse only what precedes "--" */
	} else {
		g_option_context_set_strict_posix(ctx, TRUE);
	}
	if (!options_parse(ctx, "run", &argc, &argv) ||
	    !options_shape_setup(&o, "run")) {
		rc = EXIT_USAGE;
		goto out;
	}
	if (dash < 0)
		cmd = argc > 1 ? argv + 1 : NULL;
	else if (argc > 1) {
		fprintf(stderr, "pyprof: run: unexpected '%s' before '--'\n"
				"Try 'pyprof run --help'.\n", argv[1]);
		rc = EXIT_USAGE;
		goto out;
	}
	if (!cmd || !cmd[0]) {
		fprintf(stderr, "pyprof: run: no COMMAND given\nTry 'pyprof run --help'.\n");
		rc = EXIT_USAGE;
		goto out;
	}

	lib = run_library();
	if (!g_file_test(lib, G_FILE_TEST_IS_REGULAR)) {
		fprintf(stderr, "pyprof: %s: no such library (set PYPROF_LIB to "
				"libpyprof.so)\n", lib);
		rc = EXIT_INPUT;
		goto out;
	}
	if (o.output_dir) {
		if (g_mkdir_with_parents(o.output_dir, 0700) != 0) {
			fprintf(stderr, "pyprof: %s: %s\n", o.output_dir, g_strerror(errno));
			rc = EXIT_INPUT;
			goto out;
		}
		dir = g_strdup(o.output_dir);
	} else {
		GError *error = NULL;
		if (!(dir = g_dir_make_tmp("pyprof-XXXXXX", &error))) {
			fprintf(stderr, "pyprof: %s\n", error->message);
			g_error_free(error);
			rc = EXIT_INPUT;
			goto out;
		}
		temp = TRUE;
	}

	old = (char *)g_getenv("LD_PRELOAD");
	preload = old && *old ? g_strconcat(lib, ":", old, NULL) : g_strdup(lib);
	g_setenv("LD_PRELOAD", preload, TRUE);
	g_free(preload);
	{
		/* a trailing '/' makes the library treat it as a directory */
		char *out_dir = g_strconcat(dir, "/", NULL);
		g_setenv("PYPROF_OUTPUT", out_dir, TRUE);
		g_free(out_dir);
	}
	/* A command run by hand is mostly short: 1 ms gives a program of
	 * half a second hundreds of samples (the library's own 10 ms default
	 * is for services that run for days).  PYPROF_INTERVAL, if set, and
	 * --interval still win. */
	if (o.interval)
		g_setenv("PYPROF_INTERVAL", o.interval, TRUE);
	else if (!g_getenv("PYPROF_INTERVAL"))
		g_setenv("PYPROF_INTERVAL", RUN_DEFAULT_INTERVAL, TRUE);
	if (o.mode)
		g_setenv("PYPROF_MODE", o.mode, TRUE);
	if (o.native)
		g_setenv("PYPROF_NATIVE", "1", TRUE);

	/* The terminal sends ^C and ^\ to the whole foreground group: the
	 * command decides what they mean, pyprof waits to report. */
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	sigaction(SIGINT, &ign, &old_int);
	sigaction(SIGQUIT, &ign, &old_quit);
	fflush(NULL);
	/* the command's orphans become ours to wait for (see the top) */
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	child = fork();
	if (child == 0) {
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGQUIT, &old_quit, NULL);
		execvp(cmd[0], cmd);
		int e = errno;
		fprintf(stderr, "pyprof: %s: %s\n", cmd[0], g_strerror(e));
		_exit(e == ENOENT ? 127 : 126);
	}
	if (child < 0) {
		fprintf(stderr, "pyprof: fork: %s\n", g_strerror(errno));
		rc = EXIT_INPUT;
	} else {
		while (waitpid(child, &status, 0) < 0 && errno == EINTR)
			;
		wait_children(o.grace);
	}
	/* The library must not follow into the report's own children (none
	 * today, but a pager could come). */
	g_unsetenv("LD_PRELOAD");
	if (old)
		g_setenv("LD_PRELOAD", old, TRUE);

	if (child > 0) {
		GError *error = NULL;
		GPtrArray *files = pipeline_dir_profiles(dir, &error);
		if (!files) {
			fprintf(stderr, "pyprof: %s\n", error->message);
			g_error_free(error);
		} else if (files->len == 0) {
			/* an exec failure was already reported by the child */
			if (!(WIFEXITED(status) && WEXITSTATUS(status) >= 126))
				fprintf(stderr, "pyprof: warning: no profile was written "
						"(was '%s' a Python program?)\n", cmd[0]);
		} else {
			struct profile *p = profile_new();
			pipeline_prepare(p, &o);
			p->running = still_running();
			if (p->running)
				fprintf(stderr, "pyprof: warning: %u process%s the command "
						"started still running after %g s "
						"(--grace): reporting what they wrote so far\n",
					g_hash_table_size(p->running),
					g_hash_table_size(p->running) == 1 ? "" : "es",
					o.grace);
			pipeline_load(p, (char **)files->pdata, (int)files->len, TRUE);
			if (p->processes->len)
				pipeline_render(p, &o, stderr);
			profile_free(p);
		}
		if (files)
			g_ptr_array_unref(files);
	}
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
	if (temp && !o.keep)
		remove_dir(dir);
	else if (temp)
		fprintf(stderr, "pyprof: profiles kept in %s\n", dir);
	if (child > 0) {
		g_free(lib);
		g_free(dir);
		g_option_context_free(ctx);
		options_release(&o);
		exit_like(status);
	}
out:
	g_free(lib);
	g_free(dir);
	g_option_context_free(ctx);
	options_release(&o);
	return rc;
}
