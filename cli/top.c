/*
 * top.c - `pyprof top` and `pyprof dump`: what a running process is doing,
 * read from the file it is writing.  No ptrace, no signal to it: the file
 * is designed for readers that see a prefix (every committed record
 * decodes), so these read it as it grows.
 *
 * top shows the hottest functions of the last --seconds (own and total
 * time, all threads merged), shaped like every report, and refreshes every
 * second until q (or --once: one table, for scripts).  dump shows each
 * thread's latest sample, its stack root first, and how long before the
 * file's latest sample it was taken.
 *
 * A PID stands for the .pyprof file that process has mapped (read from
 * /proc/PID/maps, which needs the same rights as reading its memory
 * statistics, not ptrace).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/options.h"
#include "cli/pipeline.h"
#include "render/render.h"

struct top_opts {
	gboolean once;
	double seconds;
};

/* The file for a FILE or PID argument, or NULL with a message printed. */
static char *target_file(const char *cmd, const char *arg)
{
	char *end, *path, *line = NULL, *found = NULL;
	size_t cap = 0;
	long pid = strtol(arg, &end, 10);
	FILE *maps;

	if (*arg == '\0' || *end || pid <= 0 || g_file_test(arg, G_FILE_TEST_EXISTS))
		return g_strdup(arg);
	path = g_strdup_printf("/proc/%ld/maps", pid);
	maps = fopen(path, "r");
	if (!maps) {
		int e = errno;
		fprintf(stderr, "pyprof: %s: process %ld: %s (%s)\n", cmd, pid,
			e == ENOENT ? "no such process" : g_strerror(e), path);
		g_free(path);
		return NULL;
	}
	while (getline(&line, &cap, maps) > 0) {
		char *slash = strchr(line, '/');
		gsize n;

		if (!slash)
			continue;
		n = strcspn(slash, "\n");
		slash[n] = '\0';
		if (g_str_has_suffix(slash, ".pyprof")) {
			found = g_strdup(slash);
			break;
		}
	}
	free(line);
	fclose(maps);
	if (!found)
		fprintf(stderr, "pyprof: %s: process %ld has no .pyprof file mapped "
				"(not profiled, or recording not started)\n", cmd, pid);
	g_free(path);
	return found;
}

static struct profile *load(const char *cmd, const char *file)
{
	struct profile *p = profile_new();
	GError *error = NULL;

	if (!profile_load_file(p, file, &error)) {
		fprintf(stderr, "pyprof: %s: %s\n", cmd, error->message);
		g_error_free(error);
		profile_free(p);
		return NULL;
	}
	return p;
}

static int fn_cmp(gconstpointer pa, gconstpointer pb)
{
	const struct profile_function_total *a = *(struct profile_function_total *const *)pa;
	const struct profile_function_total *b = *(struct profile_function_total *const *)pb;

	if (a->self_ns != b->self_ns)
		return a->self_ns < b->self_ns ? 1 : -1;
	if (a->total_ns != b->total_ns)
		return a->total_ns < b->total_ns ? 1 : -1;
	return a->function < b->function ? -1 : a->function > b->function;
}

/* One table; rows at most (0: all).  0, or an exit status. */
static int top_once(const char *file, struct report_opts *o,
		    const struct top_opts *to, guint rows, FILE *out)
{
	struct profile *p = load("top", file);
	struct profile_tree_options topts;
	struct profile_tree *t;
	GPtrArray *fns;
	guint64 total;
	const struct profile_process *pr;

	if (!p)
		return EXIT_INPUT;
	profile_keep_recent(p, (guint64)(to->seconds * 1e9));
	t = pipeline_shape(p, o, &topts);
	total = profile_tree_node(t, 0)->total_ns;
	fns = profile_tree_functions(t, 0);
	g_ptr_array_sort(fns, fn_cmp);
	pr = p->processes->len ? profile_process(p, 0) : NULL;
	fprintf(out, "pid %d: %s, the last %.1f s: %" G_GUINT64_FORMAT " samples, "
		"%.3f s %s, %u threads\n",
		pr ? pr->pid : 0, pr && pr->complete ? "finished" : "running",
		to->seconds, p->n_samples, (double)total / 1e9,
		p->mode == PROFILE_MODE_WALL ? "wall" : "CPU", p->threads->len);
	fprintf(out, " self s  self%%  total s  total%%  function\n");
	for (guint i = 0, shown = 0; i < fns->len && (!rows || shown < rows); i++) {
		const struct profile_function_total *r = g_ptr_array_index(fns, i);
		GString *l;

		if (!r->total_ns)
			continue;
		shown++;
		l = g_string_new(NULL);

		g_string_printf(l, "%7.3f %5.1f%%  %7.3f %5.1f%%  ",
				(double)r->self_ns / 1e9,
				total ? 100.0 * (double)r->self_ns / (double)total : 0.0,
				(double)r->total_ns / 1e9,
				total ? 100.0 * (double)r->total_ns / (double)total : 0.0);
		render_append_frame(l, profile_frame(p, r->line_frame));
		fprintf(out, "%s\n", l->str);
		g_string_free(l, TRUE);
	}
	g_ptr_array_unref(fns);
	profile_tree_free(t);
	profile_free(p);
	return 0;
}

static volatile sig_atomic_t stop;
static void on_stop(int sig) { (void)sig; stop = 1; }

static int top_live(const char *file, struct report_opts *o,
		    const struct top_opts *to)
{
	struct termios saved, raw;
	gboolean tty = isatty(0) && tcgetattr(0, &saved) == 0;
	struct sigaction sa;
	int rc = 0;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (tty) {
		raw = saved;
		raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
		tcsetattr(0, TCSANOW, &raw);
	}
	while (!stop) {
		struct pollfd pfd = {0, POLLIN, 0};
		char *buf = NULL;
		size_t len = 0;
		FILE *mem = open_memstream(&buf, &len);
		guint rows = 20;
		char *lines = getenv("LINES");

		if (lines && atoi(lines) > 4)
			rows = (guint)atoi(lines) - 3;
		rc = top_once(file, o, to, rows, mem);
		fclose(mem);
		fputs("\033[H\033[2J", stdout);
		fputs(buf, stdout);
		fputs("q to quit\n", stdout);
		fflush(stdout);
		free(buf);
		if (rc)
			break;
		if (poll(&pfd, 1, 1000) > 0 && tty) {
			char c;
			if (read(0, &c, 1) == 1 && (c == 'q' || c == 'Q'))
				break;
		}
	}
	if (tty)
		tcsetattr(0, TCSANOW, &saved);
	return rc;
}

static gboolean opt_seconds(const gchar *name, const gchar *value,
			    gpointer data, GError **error)
{
	char *end;
	double v = g_ascii_strtod(value, &end);

	if (end == value || *end || !(v > 0 && v <= 86400)) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "%s: '%s' is not a number of seconds above 0 and up "
			    "to 86400", name, value);
		return FALSE;
	}
	((struct top_opts *)data)->seconds = v;
	return TRUE;
}

int cmd_top(int argc, char **argv)
{
	struct report_opts o;
	struct top_opts to = {FALSE, 5};
	GOptionEntry own[] = {
		{"once", 0, 0, G_OPTION_ARG_NONE, &to.once,
		 "Print one table and exit", NULL},
		{"seconds", 0, 0, G_OPTION_ARG_CALLBACK, opt_seconds,
		 "The span shown: the last S seconds of samples (default 5)", "S"},
		G_OPTION_ENTRY_NULL,
	};
	GOptionContext *ctx;
	GOptionGroup *g;
	char *file = NULL;
	int rc;

	options_init(&o);
	ctx = options_context_new("PID|FILE",
			   "The hottest functions of a running process over the last "
			   "seconds, read from the file it is writing, refreshed every "
			   "second (q quits).", &o, FALSE);
	g = g_option_group_new("top", "top options", "Show top options", &to, NULL);
	g_option_group_add_entries(g, own);
	g_option_context_add_group(ctx, g);
	if (!options_parse(ctx, "top", &argc, &argv) ||
	    !options_shape_setup(&o, "top")) {
		rc = EXIT_USAGE;
		goto out;
	}
	if (argc != 2) {
		fprintf(stderr, "pyprof: top: expected one PID or FILE\n"
				"Try 'pyprof top --help'.\n");
		rc = EXIT_USAGE;
		goto out;
	}
	if (!(file = target_file("top", argv[1]))) {
		rc = EXIT_INPUT;
		goto out;
	}
	rc = to.once || !isatty(1) ? top_once(file, &o, &to, 0, stdout)
				   : top_live(file, &o, &to);
out:
	g_free(file);
	g_option_context_free(ctx);
	options_release(&o);
	return rc;
}

int cmd_dump(int argc, char **argv)
{
	struct report_opts o;
	GOptionContext *ctx;
	struct profile *p = NULL;
	struct profile_tree_options topts;
	struct profile_tree *t = NULL;
	char *file = NULL;
	int rc = 0;
	const guint32 *threads;
	guint32 n;

	options_init(&o);
	ctx = options_context_new("PID|FILE",
			   "Each thread's latest sample, its stack root first, from the "
			   "file a process is writing.", &o, FALSE);
	if (!options_parse(ctx, "dump", &argc, &argv) ||
	    !options_shape_setup(&o, "dump")) {
		rc = EXIT_USAGE;
		goto out;
	}
	if (argc != 2) {
		fprintf(stderr, "pyprof: dump: expected one PID or FILE\n"
				"Try 'pyprof dump --help'.\n");
		rc = EXIT_USAGE;
		goto out;
	}
	if (!(file = target_file("dump", argv[1])) || !(p = load("dump", file))) {
		rc = EXIT_INPUT;
		goto out;
	}
	/* each thread's last sample, and how long before the latest of all */
	{
		GArray *age = g_array_new(FALSE, TRUE, sizeof(guint64));
		guint64 latest = 0;

		for (guint i = 0; i < p->threads->len; i++) {
			struct profile_thread *th = profile_thread(p, i);
			if (th->samples->len) {
				struct profile_sample *s = &g_array_index(
					th->samples, struct profile_sample, th->samples->len - 1);
				if (s->mono_ns > latest)
					latest = s->mono_ns;
			}
		}
		for (guint i = 0; i < p->threads->len; i++) {
			struct profile_thread *th = profile_thread(p, i);
			guint64 a = 0;
			if (th->samples->len) {
				struct profile_sample s = g_array_index(
					th->samples, struct profile_sample, th->samples->len - 1);
				a = latest - s.mono_ns;
				g_array_index(th->samples, struct profile_sample, 0) = s;
				g_array_set_size(th->samples, 1);
				profile_thread_retotal(p, i);
			}
			g_array_append_val(age, a);
		}
		t = pipeline_shape(p, &o, &topts);
		threads = profile_tree_children(t, 0, &n);
		for (guint32 i = 0; i < n; i++) {
			const struct profile_node *nd = profile_tree_node(t, threads[i]);
			const struct profile_frame *tf = profile_frame(p, nd->frame);
			guint32 at = threads[i], depth = 0;
			const guint32 *kids;
			guint32 nk;

			printf("%s%s", i ? "\n" : "", profile_frame_label(tf));
			if (tf->thread >= 0) {
				const struct profile_thread *th = profile_thread(p, (guint)tf->thread);
				printf(" (tid %u), %.3f s before the latest sample\n", th->tid,
				       (double)g_array_index(age, guint64, (guint)tf->thread) / 1e9);
			} else {
				putchar('\n');
			}
			while ((kids = profile_tree_children(t, at, &nk)), nk) {
				GString *l = g_string_new(NULL);
				at = kids[0];
				g_string_append_printf(l, "%*s", (int)(2 * ++depth), "");
				render_append_frame(l, profile_frame(p, profile_tree_node(t, at)->frame));
				puts(l->str);
				g_string_free(l, TRUE);
			}
		}
		g_array_unref(age);
	}
	if (fflush(stdout) != 0 || ferror(stdout))
		rc = EXIT_INPUT;
out:
	profile_tree_free(t);
	if (p)
		profile_free(p);
	g_free(file);
	g_option_context_free(ctx);
	options_release(&o);
	return rc;
}
