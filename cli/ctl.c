/*
 * ctl.c - `pyprof ctl PID start|stop|mark|status`: the control channel of
 * a running process (libpyprof(7), PYPROF_CONTROL=1).
 *
 * The process's channel is a datagram socket of its own in the abstract
 * Unix namespace.  It is found the way ss(8) would: the socket inodes
 * among the process's descriptors (/proc/PID/fd, which needs the rights
 * to read its memory maps, not ptrace) against the names of its network
 * namespace's sockets (/proc/PID/net/unix).  So the answer comes from that
 * very process, never from another that took the name, and each way it
 * can fail (no such process, another user's, not profiled, profiled
 * without the channel, in another network namespace) gets its own message.
 * One request, one reply datagram (preload/control.h has the protocol).
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib.h>

#include "cli/cli.h"
#include "cli/options.h"

/* = CONTROL_NAME_PREFIX and CONTROL_LABEL_MAX of preload/control.h: the
 * protocol of libpyprof(7) */
#define NAME_PREFIX "pyprof-ctl-"
#define LABEL_MAX 1000

static void ctl_error(long pid, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void ctl_error(long pid, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "pyprof: ctl: process %ld: ", pid);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* The socket inodes among pid's descriptors, or NULL with the error said */
static GHashTable *socket_inodes(long pid)
{
	char *dir = g_strdup_printf("/proc/%ld/fd", pid);
	GError *error = NULL;
	GDir *d = g_dir_open(dir, 0, &error);
	GHashTable *inodes;
	const char *name;

	if (!d) {
		if (g_error_matches(error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
			ctl_error(pid, "no such process");
		else if (g_error_matches(error, G_FILE_ERROR, G_FILE_ERROR_ACCES) ||
			 g_error_matches(error, G_FILE_ERROR, G_FILE_ERROR_PERM))
			ctl_error(pid, "permission denied (another user's "
				  "process: run pyprof ctl as that user, or as root)");
		else
			ctl_error(pid, "%s", error->message);
		g_error_free(error);
		g_free(dir);
		return NULL;
	}
	inodes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	while ((name = g_dir_read_name(d))) {
		char *link = g_build_filename(dir, name, NULL);
		char *target = g_file_read_link(link, NULL);

		if (target && g_str_has_prefix(target, "socket:[")) {
			char *ino = g_strndup(target + 8, strcspn(target + 8, "]"));
			g_hash_table_add(inodes, ino);
		}
		g_free(target);
		g_free(link);
	}
	g_dir_close(d);
	g_free(dir);
	return inodes;
}

/* The abstract name (without its leading NUL) of the channel among
 * inodes, from pid's network namespace's socket table; NULL if none. */
static char *channel_name(long pid, GHashTable *inodes)
{
	char *path = g_strdup_printf("/proc/%ld/net/unix", pid), *text = NULL;
	char *found = NULL;
	char **lines;

	if (!g_file_get_contents(path, &text, NULL, NULL)) {
		g_free(path);
		return NULL;
	}
	/* "Num RefCount Protocol Flags Type St Inode Path", abstract paths
	 * shown with a leading '@' */
	lines = g_strsplit(text, "\n", -1);
	for (char **l = lines; *l && !found; l++) {
		char **f = g_strsplit_set(*l, " ", -1);
		const char *col[8];
		int n = 0;

		for (char **x = f; *x && n < 8; x++)
			if (**x)
				col[n++] = *x;
		if (n == 8 && g_hash_table_contains(inodes, col[6]) &&
		    g_str_has_prefix(col[7], "@" NAME_PREFIX))
			found = g_strdup(col[7] + 1);
		g_strfreev(f);
	}
	g_strfreev(lines);
	g_free(text);
	g_free(path);
	return found;
}

/* Whether pid has ended and waits for its parent to reap it: its
 * descriptors and maps are gone, so it would look unprofiled */
static gboolean is_zombie(long pid)
{
	char *path = g_strdup_printf("/proc/%ld/stat", pid), *text = NULL, *p;
	gboolean z = FALSE;

	if (g_file_get_contents(path, &text, NULL, NULL) &&
	    (p = strrchr(text, ')')))
		z = p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X');
	g_free(text);
	g_free(path);
	return z;
}

/* Whether pid has libpyprof.so mapped */
static gboolean has_pyprof(long pid)
{
	char *path = g_strdup_printf("/proc/%ld/maps", pid), *text = NULL;
	gboolean yes = FALSE;

	if (g_file_get_contents(path, &text, NULL, NULL))
		yes = strstr(text, "/libpyprof.so\n") != NULL;
	g_free(text);
	g_free(path);
	return yes;
}

static gboolean same_netns(long pid)
{
	char *theirs_path = g_strdup_printf("/proc/%ld/ns/net", pid);
	char *mine = g_file_read_link("/proc/self/ns/net", NULL);
	char *theirs = g_file_read_link(theirs_path, NULL);
	gboolean same = !mine || !theirs || !strcmp(mine, theirs);

	g_free(mine);
	g_free(theirs);
	g_free(theirs_path);
	return same;
}

/* Sends req to the socket named name, and returns the reply (NULL with
 * the error said). */
static char *ask(long pid, const char *name, const char *req, double timeout)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	socklen_t alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
				     strlen(name));
	char buf[8193];
	struct pollfd p;
	ssize_t n;
	int fd, r;

	if (strlen(name) + 1 >= sizeof a.sun_path) {
		ctl_error(pid, "control socket name too long");
		return NULL;
	}
	memcpy(a.sun_path + 1, name, strlen(name));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	/* an address of our own (autobind), for the reply to come to */
	if (fd < 0 || bind(fd, (struct sockaddr *)&(struct sockaddr_un){.sun_family = AF_UNIX},
			   sizeof(sa_family_t)) != 0) {
		ctl_error(pid, "cannot make a socket: %s", g_strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	if (connect(fd, (struct sockaddr *)&a, alen) != 0 ||
	    send(fd, req, strlen(req), 0) < 0) {
		int e = errno;
		if (e == ECONNREFUSED || e == ENOENT)
			ctl_error(pid, "its control channel closed (the process is ending?)");
		else if (e == EACCES || e == EPERM)
			ctl_error(pid, "permission denied");
		else
			ctl_error(pid, "cannot reach the control channel: %s",
				  g_strerror(e));
		close(fd);
		return NULL;
	}
	p.fd = fd;
	p.events = POLLIN;
	do
		r = poll(&p, 1, (int)(timeout * 1000));
	while (r < 0 && errno == EINTR);
	if (r <= 0) {
		ctl_error(pid, "no answer within %g s (the process is stopped, "
			  "or it forked and has not run Python since: its "
			  "channel comes back when it does)", timeout);
		close(fd);
		return NULL;
	}
	n = recv(fd, buf, sizeof buf - 1, 0);
	close(fd);
	if (n < 0) {
		ctl_error(pid, "%s", g_strerror(errno));
		return NULL;
	}
	buf[n] = '\0';
	return g_strdup(buf);
}

/* The request for argv (command and label), or NULL with a usage error */
static char *request(int argc, char **argv)
{
	const char *cmd = argv[0];

	if (!strcmp(cmd, "status")) {
		if (argc == 1)
			return g_strdup(cmd);
	} else if (!strcmp(cmd, "start") || !strcmp(cmd, "stop") ||
		   !strcmp(cmd, "mark")) {
		const char *label = argc == 2 ? argv[1] : "ctl";

		if (argc > 2 || (argc == 1 && !strcmp(cmd, "mark"))) {
			fprintf(stderr, "pyprof: ctl: %s takes %s LABEL\n", cmd,
				strcmp(cmd, "mark") ? "at most one" : "one");
			return NULL;
		}
		if (!*label || strlen(label) > LABEL_MAX ||
		    !g_utf8_validate(label, -1, NULL)) {
			fprintf(stderr, "pyprof: ctl: a label is 1 to %d bytes of "
				"UTF-8\n", LABEL_MAX);
			return NULL;
		}
		return g_strconcat(cmd, " ", label, NULL);
	} else {
		fprintf(stderr, "pyprof: ctl: unknown command '%s' (expected "
			"start, stop, mark or status)\n", cmd);
		return NULL;
	}
	fprintf(stderr, "pyprof: ctl: status takes no argument\n");
	return NULL;
}

int cmd_ctl(int argc, char **argv)
{
	double timeout = 5;
	GOptionEntry entries[] = {
		{"timeout", 't', 0, G_OPTION_ARG_DOUBLE, &timeout,
		 "Wait at most S seconds for the answer (default 5)", "S"},
		G_OPTION_ENTRY_NULL
	};
	GOptionContext *ctx = g_option_context_new("PID start|stop [LABEL] | mark LABEL | status");
	GHashTable *inodes = NULL;
	char *req = NULL, *name = NULL, *reply = NULL, *end;
	long pid;
	int rc = EXIT_INPUT;

	g_option_context_add_main_entries(ctx, entries, NULL);
	g_option_context_set_summary(ctx,
		"Control the recording of a running process started with "
		"PYPROF_CONTROL=1: start or stop a window (label 'ctl' unless "
		"given), mark an instant, or show whether it records, into "
		"which file, and its samples so far.");
	g_option_context_set_description(ctx, "See pyprof(1) and libpyprof(7).");
	if (!options_parse(ctx, "ctl", &argc, &argv)) {
		rc = EXIT_USAGE;
		goto out;
	}
	if (argc < 3) {
		fprintf(stderr, "pyprof: ctl: expected PID and a command\n"
				"Try 'pyprof ctl --help'.\n");
		rc = EXIT_USAGE;
		goto out;
	}
	pid = strtol(argv[1], &end, 10);
	if (!*argv[1] || *end || pid <= 0 || pid > G_MAXINT) {
		fprintf(stderr, "pyprof: ctl: '%s' is not a process id\n", argv[1]);
		rc = EXIT_USAGE;
		goto out;
	}
	if (!(timeout > 0 && timeout <= 3600)) {
		fprintf(stderr, "pyprof: ctl: --timeout: expected seconds from "
				"0 to 3600\n");
		rc = EXIT_USAGE;
		goto out;
	}
	if (!(req = request(argc - 2, argv + 2))) {
		rc = EXIT_USAGE;
		goto out;
	}
	if (!(inodes = socket_inodes(pid)))
		goto out;
	if (!(name = channel_name(pid, inodes))) {
		if (is_zombie(pid))
			ctl_error(pid, "it has ended (its parent has not "
				  "reaped it yet)");
		else if (!has_pyprof(pid))
			ctl_error(pid, "not profiled (libpyprof.so is not loaded "
				  "in it): start it with LD_PRELOAD=libpyprof.so "
				  "PYPROF_CONTROL=1, and PYPROF_START=0 to record "
				  "only when told");
		else
			ctl_error(pid, "no control channel: it was started "
				  "without PYPROF_CONTROL=1, pyprof is dormant "
				  "in it (not CPython, or a bad PYPROF_* setting), "
				  "or the program closed the channel's descriptors");
		goto out;
	}
	if (!same_netns(pid)) {
		ctl_error(pid, "its control channel is in another network "
			  "namespace (a container?): run pyprof ctl in there");
		goto out;
	}
	if (!(reply = ask(pid, name, req, timeout)))
		goto out;
	if (g_str_has_prefix(reply, "ok")) {
		const char *rest = reply + 2;
		if (*rest == '\n')
			rest++;
		fputs(rest, stdout);
		rc = 0;
	} else {
		ctl_error(pid, "%s", g_str_has_prefix(reply, "error: ")
				     ? reply + 7 : reply);
	}
out:
	if (inodes)
		g_hash_table_destroy(inodes);
	g_free(req);
	g_free(name);
	g_free(reply);
	g_option_context_free(ctx);
	return rc;
}
