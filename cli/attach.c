/*
 * attach.c - `pyprof attach PID`: start recording in a running CPython
 * 3.14 or later that was not started with the preload, and `pyprof attach
 * --stop PID` to end it.
 *
 * CPython 3.14 runs a Python file on request of another process (PEP 768,
 * sys.remote_exec): the requester writes the file's path into the
 * target's memory, which takes the rights of ptrace, and the target runs
 * the file in its main thread at its next safe point.  So pyprof writes a
 * small script that loads libpyprof.so with ctypes and calls
 * pyprof_attach() (or pyprof_detach()), has a python of the target's own
 * version ask for it (the target's executable: sys.remote_exec wants the
 * same minor version on both sides), and waits for the script's answer,
 * a status file it writes beside itself.
 *
 * What the target must see is its own file system: the script, the
 * library and the file to write are paths in it.  So the script goes into
 * the target's own /tmp (through /proc/PID/root, which also reaches a
 * private /tmp or a container's), the library is used where it is if the
 * target sees the same file there and copied beside the script if not,
 * and for a target in another root (a chroot, a container) the helper
 * python runs in the target's mount and pid namespaces and root, where
 * the target's interpreter and its standard library are.
 *
 * The helper is the target's own program: run by root, it could be
 * anybody's.  So root runs only an interpreter that root owns and nobody
 * else may change (or the one --python names), and with no right left but
 * CAP_SYS_PTRACE, which the request needs; in a container, that and the
 * container's own pid namespace and root keep it there.
 *
 * The script runs when the target next runs Python in its main thread,
 * which may be never (a main thread blocked in join()).  A request that
 * timed out cannot be taken back, so the script and pyprof race for one
 * file, "claim", created with O_EXCL: the script goes on only if it made
 * it, and pyprof gives up only if it did, leaving a script that cleans up
 * after itself when it runs.
 */
#include "config.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "cli/cli.h"
#include "cli/options.h"
#include "collector/profile.h"
#include "preload/settings.h"

#define ATTACH_DEFAULT_TIMEOUT 10.0

struct attach_opts {
	gboolean stop;
	double timeout;
	char *python; /* --python: the interpreter, as the target sees it */
	/* the library's settings beyond report_opts' interval and mode:
	 * PYPROF_ROTATE, PYPROF_KEEP as given (checked), and 1 for
	 * PYPROF_CONTROL and PYPROF_NATIVE when asked */
	char *rotate, *keep;
	gboolean control, native;
};

/* What pyprof learns about the target before it asks anything. */
struct target {
	long pid;
	long nspid;            /* the pid in its own pid namespace */
	char *proc;            /* "/proc/PID" */
	char *root;            /* "/proc/PID/root": its file system */
	gboolean other_root;   /* a root directory other than ours */
	gboolean other_pidns;
	uid_t uid;             /* its file-system user and group */
	gid_t gid;
	unsigned version;      /* PY_VERSION_HEX, 0 if unknown */
	gboolean python_exe;   /* its executable is the interpreter */
	char *exe_inside;      /* the executable's path as it sees it */
};

/* --- is it CPython, and which? ------------------------------------------- */

/* The ELF file of fd: CPython if it has _PyRuntime (or Py_GetVersion);
 * its version from the _Py_DebugOffsets at the start of the .PyRuntime
 * section (3.13+: "xdebugpy", PY_VERSION_HEX, free_threaded) or from the
 * Py_Version constant (3.11+).  TRUE if CPython. */
static gboolean elf_cpython(int fd, unsigned *version, gboolean *free_threaded)
{
	GMappedFile *m = g_mapped_file_new_from_fd(fd, FALSE, NULL);
	const guint8 *b;
	gsize size;
	const Elf64_Ehdr *eh;
	const Elf64_Shdr *sh, *shstr;
	gboolean cpython = FALSE;

	*version = 0;
	*free_threaded = FALSE;
	if (!m)
		return FALSE;
	b = (const guint8 *)g_mapped_file_get_contents(m);
	size = g_mapped_file_get_length(m);
	eh = (const Elf64_Ehdr *)b;
	if (size < sizeof *eh || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_shoff > size ||
	    (size - eh->e_shoff) / sizeof(Elf64_Shdr) < eh->e_shnum ||
	    eh->e_shstrndx >= eh->e_shnum)
		goto out;
	sh = (const Elf64_Shdr *)(b + eh->e_shoff);
	shstr = &sh[eh->e_shstrndx];
	if (shstr->sh_offset > size || shstr->sh_size > size - shstr->sh_offset)
		goto out;
#define IN_FILE(s) ((s)->sh_type != SHT_NOBITS && (s)->sh_offset <= size && \
		    (s)->sh_size <= size - (s)->sh_offset)
	for (unsigned i = 0; i < eh->e_shnum; i++) {
		const char *name = (const char *)b + shstr->sh_offset + sh[i].sh_name;

		if (sh[i].sh_name >= shstr->sh_size || !IN_FILE(&sh[i]) ||
		    !memchr(name, '\0', shstr->sh_size - sh[i].sh_name))
			continue;
		if (!strcmp(name, ".PyRuntime") && sh[i].sh_size >= 24 &&
		    !memcmp(b + sh[i].sh_offset, "xdebugpy", 8)) {
			guint64 v, ft;
			memcpy(&v, b + sh[i].sh_offset + 8, 8);
			memcpy(&ft, b + sh[i].sh_offset + 16, 8);
			*version = (unsigned)v;
			*free_threaded = ft != 0;
			cpython = TRUE;
		}
		if (sh[i].sh_type == SHT_DYNSYM && sh[i].sh_link < eh->e_shnum &&
		    IN_FILE(&sh[sh[i].sh_link])) {
			const Elf64_Shdr *str = &sh[sh[i].sh_link];
			const Elf64_Sym *sym = (const Elf64_Sym *)(b + sh[i].sh_offset);
			gsize n = sh[i].sh_size / sizeof *sym;

			for (gsize k = 0; k < n; k++) {
				const char *sn = (const char *)b + str->sh_offset + sym[k].st_name;
				const Elf64_Shdr *in;

				/* defined here, not imported (an embedding
				 * program's references to libpython) */
				if (sym[k].st_name >= str->sh_size ||
				    sym[k].st_shndx == SHN_UNDEF ||
				    !memchr(sn, '\0', str->sh_size - sym[k].st_name))
					continue;
				if (!strcmp(sn, "_PyRuntime") || !strcmp(sn, "Py_GetVersion"))
					cpython = TRUE;
				if (strcmp(sn, "Py_Version") || *version ||
				    sym[k].st_shndx >= eh->e_shnum)
					continue;
				in = &sh[sym[k].st_shndx];
				if (IN_FILE(in) && sym[k].st_value >= in->sh_addr &&
				    sym[k].st_value - in->sh_addr + 4 <= in->sh_size) {
					guint32 v;
					memcpy(&v, b + in->sh_offset +
						       (sym[k].st_value - in->sh_addr), 4);
					*version = v;
				}
			}
		}
	}
#undef IN_FILE
out:
	g_mapped_file_unref(m);
	return cpython;
}

/* The number after "KEY:" in /proc/PID/status, the last of them for
 * field < 0 (NSpid: the pid in the innermost namespace). */
static gboolean status_field(const char *proc, const char *key, int field,
			     long *out)
{
	char *path = g_build_filename(proc, "status", NULL), *text = NULL;
	gboolean found = FALSE;

	if (g_file_get_contents(path, &text, NULL, NULL)) {
		char **lines = g_strsplit(text, "\n", -1);

		for (char **l = lines; *l; l++) {
			char **w;
			int n;

			if (strncmp(*l, key, strlen(key)) || (*l)[strlen(key)] != ':')
				continue;
			w = g_strsplit_set(*l + strlen(key) + 1, " \t", -1);
			n = 0;
			for (char **q = w; *q; q++)
				if (**q && (field < 0 || n++ == field)) {
					*out = strtol(*q, NULL, 10);
					found = TRUE;
					if (field >= 0)
						break;
				}
			g_strfreev(w);
			break;
		}
		g_strfreev(lines);
	}
	g_free(text);
	g_free(path);
	return found;
}

static gboolean same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 &&
	       sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* Whether /proc/PID/ns/NAME is another namespace than ours. */
static gboolean other_ns(const char *proc, const char *name)
{
	char *a = g_strdup_printf("/proc/self/ns/%s", name);
	char *b = g_build_filename(proc, "ns", name, NULL);
	gboolean other = !same_file(a, b);

	g_free(a);
	g_free(b);
	return other;
}

static const char *ptrace_advice(void)
{
	static char buf[256];
	char *text = NULL;

	if (!g_file_get_contents("/proc/sys/kernel/yama/ptrace_scope", &text,
				 NULL, NULL))
		return "the same user, or root (CAP_SYS_PTRACE)";
	g_snprintf(buf, sizeof buf,
		   "the same user with kernel.yama.ptrace_scope 0 (it is %s here), "
		   "or root (CAP_SYS_PTRACE)", g_strstrip(text));
	g_free(text);
	return buf;
}

/* A path as we see it (through /proc/PID/exe, maps), as the target sees
 * it: without its root directory in front.  In place. */
static void target_view(const struct target *t, char *path)
{
	char *root = t->other_root ? g_file_read_link(t->root, NULL) : NULL;
	gsize n = root ? strlen(root) : 0;

	if (root && n > 1 && g_str_has_prefix(path, root) && path[n] == '/')
		memmove(path, path + n, strlen(path + n) + 1);
	g_free(root);
}

/* Finds the target and its interpreter; prints why not and returns FALSE
 * if pyprof cannot attach to it. */
static gboolean target_find(struct target *t, long pid, const char *lib)
{
	char *exe = g_strdup_printf("/proc/%ld/exe", pid), *link = NULL;
	gboolean free_threaded = FALSE, ok = FALSE, cpython;
	long v;
	int fd;

	t->pid = pid;
	t->proc = g_strdup_printf("/proc/%ld", pid);
	t->root = g_strdup_printf("/proc/%ld/root", pid);
	if (!g_file_test(t->proc, G_FILE_TEST_IS_DIR)) {
		fprintf(stderr, "pyprof: attach: no process %ld\n", pid);
		goto out;
	}
	fd = open(exe, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		if (e == EACCES || e == EPERM)
			fprintf(stderr, "pyprof: attach: permission denied to look at "
					"process %ld: attaching needs the rights to trace it: "
					"%s\n", pid, ptrace_advice());
		else
			fprintf(stderr, "pyprof: attach: process %ld: %s: %s\n", pid,
				exe, g_strerror(e));
		goto out;
	}
	cpython = elf_cpython(fd, &t->version, &free_threaded);
	close(fd);
	t->other_root = !same_file("/", t->root);
	link = g_file_read_link(exe, NULL);
	/* the interpreter itself, libpython linked in (Debian's), not a
	 * program that embeds it */
	if (cpython && link) {
		char *base = g_path_get_basename(link);
		t->python_exe = g_str_has_prefix(base, "python");
		g_free(base);
	}
	if (!cpython) {
		/* an embedding program: its libpython */
		char *maps = g_build_filename(t->proc, "maps", NULL), *text = NULL;

		if (g_file_get_contents(maps, &text, NULL, NULL)) {
			char **lines = g_strsplit(text, "\n", -1);
			for (char **l = lines; *l && !cpython; l++) {
				char *path = strchr(*l, '/'), *in, *base;
				if (!path)
					continue;
				target_view(t, path);
				base = g_path_get_basename(path);
				in = g_build_filename(t->root, path, NULL);
				if (g_str_has_prefix(base, "libpython3.") &&
				    (fd = open(in, O_RDONLY | O_CLOEXEC)) >= 0) {
					cpython = elf_cpython(fd, &t->version,
							      &free_threaded);
					close(fd);
					/* before 3.11, only its name says */
					if (cpython && !t->version)
						t->version = 0x03000000u | (unsigned)
							strtoul(base + 11, NULL, 10) << 16;
				}
				g_free(in);
				g_free(base);
			}
			g_strfreev(lines);
		}
		g_free(text);
		g_free(maps);
		if (!cpython) {
			fprintf(stderr, "pyprof: attach: process %ld is not CPython\n", pid);
			goto out;
		}
	}
	if (!t->version || t->version < 0x030e0000) {
		char ver[32] = "older than 3.11";
		if (t->version >> 16 > 0x0300)
			g_snprintf(ver, sizeof ver, "%u.%u", t->version >> 24,
				   (t->version >> 16) & 0xff);
		fprintf(stderr, "pyprof: attach: process %ld runs CPython %s: "
				"attaching needs 3.14 or later (sys.remote_exec); start it "
				"with LD_PRELOAD=%s instead (libpyprof(7))\n", pid, ver, lib);
		goto out;
	}
	if (free_threaded) {
		fprintf(stderr, "pyprof: attach: process %ld runs a free-threaded "
				"CPython, which pyprof does not profile\n", pid);
		goto out;
	}
	t->other_pidns = other_ns(t->proc, "pid");
	t->nspid = pid;
	if (t->other_pidns && !status_field(t->proc, "NSpid", -1, &t->nspid)) {
		fprintf(stderr, "pyprof: attach: process %ld: its pid in its own "
				"namespace is not known (no NSpid in %s/status)\n",
			pid, t->proc);
		goto out;
	}
	t->uid = status_field(t->proc, "Uid", 3, &v) ? (uid_t)v : getuid();
	t->gid = status_field(t->proc, "Gid", 3, &v) ? (gid_t)v : getgid();
	/* the executable's path in the target's file system */
	if (link) {
		target_view(t, link);
		char *in = g_build_filename(t->root, link, NULL);
		if (same_file(in, exe))
			t->exe_inside = g_strdup(link);
		g_free(in);
	}
	ok = TRUE;
out:
	g_free(link);
	g_free(exe);
	return ok;
}

/* A python of the target's version, as the target sees it: its own
 * executable, or for an embedding program pythonX.Y beside the usual
 * places.  NULL with a message printed. */
static char *target_python(const struct target *t, const struct attach_opts *ao)
{
	static const char *const dirs[] = {"/usr/bin", "/usr/local/bin", "/bin"};
	char name[32];

	if (ao->python)
		return g_strdup(ao->python);
	if (t->python_exe && t->exe_inside)
		return g_strdup(t->exe_inside);
	g_snprintf(name, sizeof name, "python%u.%u", t->version >> 24,
		   (t->version >> 16) & 0xff);
	for (gsize i = 0; !t->python_exe && i < G_N_ELEMENTS(dirs); i++) {
		char *p = g_build_filename(dirs[i], name, NULL);
		char *in = g_build_filename(t->root, p, NULL);
		gboolean there = g_file_test(in, G_FILE_TEST_IS_EXECUTABLE);
		g_free(in);
		if (there)
			return p;
		g_free(p);
	}
	fprintf(stderr, "pyprof: attach: process %ld: no %s found to ask it with; "
			"give one with --python PATH (a path in its file system)\n",
		t->pid, t->python_exe ? "path to its executable" : name);
	return NULL;
}

/* --- the script the target runs -------------------------------------- */

static char *hex(const char *s)
{
	GString *g = g_string_new(NULL);

	for (; *s; s++)
		g_string_append_printf(g, "%02x", (unsigned char)*s);
	return g_string_free(g, FALSE);
}

/*
 * Runs in the target's main thread, in a namespace of its own, so it
 * leaves nothing behind but the ctypes module imported.  Nothing it does
 * may print, warn or raise: the target's output must stay its own.
 */
static const char script_text[] =
	"def _pyprof(d, lib, settings, stop):\n"
	"    import ctypes, os\n"
	"    def put(name, text):\n"
	"        tmp = os.path.join(d, name + '.tmp')\n"
	"        with open(tmp, 'w') as f:\n"
	"            f.write(text)\n"
	"        os.rename(tmp, os.path.join(d, name))\n"
	"    try:\n"
	"        os.close(os.open(os.path.join(d, 'claim'), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))\n"
	"    except OSError:\n"
	"        # pyprof gave up waiting: nobody reads an answer now\n"
	"        for name in os.listdir(d):\n"
	"            os.unlink(os.path.join(d, name))\n"
	"        os.rmdir(d)\n"
	"        return\n"
	"    try:\n"
	"        try:\n"
	"            h = ctypes.CDLL('libpyprof.so', mode=os.RTLD_NOW | os.RTLD_NOLOAD, use_errno=True)\n"
	"        except OSError:\n"
	"            if stop:\n"
	"                put('status', 'error\\t0\\t\\tnot profiled: libpyprof.so is not loaded\\n')\n"
	"                return\n"
	"            h = ctypes.CDLL(lib, use_errno=True)\n"
	"        if not hasattr(h, 'pyprof_attach'):\n"
	"            put('status', 'error\\t0\\t\\tthe libpyprof.so loaded here is too old for pyprof attach\\n')\n"
	"            return\n"
	"        why = ctypes.create_string_buffer(1024)\n"
	"        h.pyprof_path.restype = ctypes.c_char_p\n"
	"        if stop:\n"
	"            path = h.pyprof_path()\n"
	"            r = h.pyprof_detach(why, len(why))\n"
	"        else:\n"
	"            r = h.pyprof_attach(settings.encode(), why, len(why))\n"
	"            path = h.pyprof_path()\n"
	"        e = ctypes.get_errno() if r else 0\n"
	"        put('status', '%s\\t%d\\t%s\\t%s\\n' % ('error' if r else 'ok', e,\n"
	"            os.fsdecode(path or b''), ' '.join(why.value.decode(errors='replace').split())))\n"
	"    except BaseException as x:\n"
	"        put('status', 'error\\t0\\t\\t%s\\n' % ' '.join(('%s: %s' % (type(x).__name__, x)).split()))\n";
/* ... called with the directory, the library, the settings, and whether
 * to stop (a printf format) */
static const char script_call[] =
	"_pyprof(bytes.fromhex('%s').decode(), bytes.fromhex('%s').decode(),\n"
	"        bytes.fromhex('%s').decode(), %s)\n";

/* Asks for the script to be run, with sys.remote_exec. */
static const char helper_text[] =
	"import sys\n"
	"def ask(pid, path):\n"
	"    try:\n"
	"        remote_exec = sys.remote_exec\n"
	"    except AttributeError:\n"
	"        return 'version', sys.version\n"
	"    try:\n"
	"        remote_exec(pid, path)\n"
	"    except PermissionError as e:\n"
	"        return 'permission', str(e)\n"
	"    except ProcessLookupError as e:\n"
	"        return 'gone', str(e)\n"
	"    except RuntimeError as e:\n"
	"        if 'not enabled in the remote process' in str(e):\n"
	"            return 'disabled', str(e)\n"
	"        c = e.__cause__ or e.__context__\n"
	"        if isinstance(c, PermissionError):\n"
	"            return 'permission', str(c)\n"
	"        return 'error', '%s%s' % (e, ' (%s)' % c if c else '')\n"
	"    except Exception as e:\n"
	"        return 'error', '%s: %s' % (type(e).__name__, e)\n"
	"    return 'ok', ''\n"
	"kind, text = ask(int(sys.argv[1]), sys.argv[2])\n"
	"print('pyprof-helper\\t%s\\t%s' % (kind, ' '.join(text.split())), flush=True)\n";

/* --- the exchange ------------------------------------------------------ */

struct exchange {
	char *dir;        /* ours: /proc/PID/root/tmp/pyprof-attach.XXXXXX */
	char *dir_inside; /* the target's: /tmp/pyprof-attach.XXXXXX */
	char *lib_inside;
};

static gboolean give_to_target(const struct target *t, const char *path)
{
	/* root makes the files; the target's user must read and write them */
	if (geteuid() == 0 && t->uid != 0 && lchown(path, t->uid, t->gid) != 0) {
		fprintf(stderr, "pyprof: attach: %s: %s\n", path, g_strerror(errno));
		return FALSE;
	}
	return TRUE;
}

static gboolean write_file(const struct target *t, const char *path,
			   const char *text, gsize len, int mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	gboolean ok = fd >= 0;

	while (ok && len) {
		ssize_t n = write(fd, text, len);
		if (n < 0 && errno == EINTR)
			continue;
		ok = n > 0;
		text += n > 0 ? n : 0;
		len -= n > 0 ? (gsize)n : 0;
	}
	if (fd >= 0 && close(fd) != 0)
		ok = FALSE;
	if (!ok)
		fprintf(stderr, "pyprof: attach: %s: %s\n", path, g_strerror(errno));
	return ok && give_to_target(t, path);
}

static gboolean exchange_make(struct exchange *x, const struct target *t,
			      const char *lib)
{
	static const char *const tmps[] = {"/tmp", "/var/tmp", "/dev/shm"};
	char *libpath;

	/* the target's /tmp is ours unless it has a root or mounts of its
	 * own (a private /tmp); through /proc/PID/root only then, so that
	 * the directory can be removed even if the target has exited */
	const char *prefix = t->other_root || other_ns(t->proc, "mnt") ? t->root : "/";

	for (gsize i = 0; !x->dir && i < G_N_ELEMENTS(tmps); i++) {
		char *d = g_build_filename(prefix, tmps[i], "pyprof-attach.XXXXXX", NULL);
		if (g_mkdtemp_full(d, 0700)) {
			x->dir = d;
			x->dir_inside = g_build_filename(tmps[i], strrchr(d, '/'), NULL);
		} else {
			g_free(d);
		}
	}
	if (!x->dir) {
		fprintf(stderr, "pyprof: attach: no directory to put the script in "
				"where process %ld can read it (%s/tmp: %s)\n",
			t->pid, strcmp(prefix, "/") ? prefix : "", g_strerror(errno));
		return FALSE;
	}
	if (!give_to_target(t, x->dir))
		return FALSE;
	libpath = g_build_filename(t->root, lib, NULL);
	if (same_file(libpath, lib)) {
		x->lib_inside = g_strdup(lib);
	} else {
		/* another file system (a container): a copy beside the script */
		char *text = NULL, *copy = g_build_filename(x->dir, "libpyprof.so", NULL);
		gsize len = 0;
		GError *error = NULL;
		gboolean ok = g_file_get_contents(lib, &text, &len, &error);

		if (!ok) {
			fprintf(stderr, "pyprof: attach: %s\n", error->message);
			g_error_free(error);
		}
		ok = ok && write_file(t, copy, text, len, 0755);
		g_free(text);
		g_free(copy);
		if (!ok) {
			g_free(libpath);
			return FALSE;
		}
		x->lib_inside = g_build_filename(x->dir_inside, "libpyprof.so", NULL);
	}
	g_free(libpath);
	return TRUE;
}

static void exchange_remove(struct exchange *x)
{
	GDir *d = x->dir ? g_dir_open(x->dir, 0, NULL) : NULL;
	const char *name;

	while (d && (name = g_dir_read_name(d))) {
		char *p = g_build_filename(x->dir, name, NULL);
		g_unlink(p);
		g_free(p);
	}
	if (d)
		g_dir_close(d);
	if (x->dir)
		g_rmdir(x->dir);
	g_free(x->dir);
	g_free(x->dir_inside);
	g_free(x->lib_inside);
}

/* What an attach passes for setting name: the option's value if given,
 * else this environment's. */
static const char *attach_value(const struct report_opts *o,
				const struct attach_opts *ao, const char *name)
{
	if (!strcmp(name, "PYPROF_INTERVAL") && o->interval)
		return o->interval;
	if (!strcmp(name, "PYPROF_MODE") && o->mode)
		return o->mode;
	if (!strcmp(name, "PYPROF_ROTATE") && ao->rotate)
		return ao->rotate;
	if (!strcmp(name, "PYPROF_KEEP") && ao->keep)
		return ao->keep;
	if (!strcmp(name, "PYPROF_CONTROL") && ao->control)
		return "1";
	if (!strcmp(name, "PYPROF_NATIVE") && ao->native)
		return "1";
	return g_getenv(name);
}

/* The values the library would refuse, checked here with its own parser
 * before the target is asked anything: the target would stay as it is,
 * but the answer would come from its side, naming PYPROF_* rather than
 * the option.  TRUE, or FALSE after printing why, naming the option (or
 * the variable, where it came from the environment). */
static gboolean attach_check(const struct report_opts *o,
			     const struct attach_opts *ao)
{
	static const struct {
		const char *name, *option;
	} bools[] = {{"PYPROF_CONTROL", "--control"}, {"PYPROF_NATIVE", "--native"}};
	const char *rotate = attach_value(o, ao, "PYPROF_ROTATE");
	const char *keep = attach_value(o, ao, "PYPROF_KEEP");
	guint64 a, b;
	int on;

	if (rotate && *rotate && settings_parse_rotate(rotate, &a, &b) != 0) {
		if (ao->rotate)
			fprintf(stderr, "pyprof: attach: --rotate: expected a period "
					"of at least 100ms (60s, 10m, 1h) and/or a size of "
					"at least 1M (100M), comma-separated, got '%s'\n",
				rotate);
		else
			fprintf(stderr, "pyprof: attach: PYPROF_ROTATE=%s: expected a "
					"period of at least 100ms (60s, 10m, 1h) and/or a "
					"size of at least 1M (100M), comma-separated\n",
				rotate);
		return FALSE;
	}
	if (keep && *keep && settings_parse_keep(keep, &a, &b) != 0) {
		if (ao->keep)
			fprintf(stderr, "pyprof: attach: --keep: expected a number of "
					"files (10) and/or a total size (1G), "
					"comma-separated, got '%s'\n", keep);
		else
			fprintf(stderr, "pyprof: attach: PYPROF_KEEP=%s: expected a "
					"number of files (10) and/or a total size (1G), "
					"comma-separated\n", keep);
		return FALSE;
	}
	if (keep && *keep && !(rotate && *rotate)) {
		fprintf(stderr, "pyprof: attach: %s: needs --rotate (or "
				"PYPROF_ROTATE): only a rotated run has files to "
				"delete\n", ao->keep ? "--keep" : "PYPROF_KEEP");
		return FALSE;
	}
	for (gsize i = 0; i < G_N_ELEMENTS(bools); i++) {
		const char *v = attach_value(o, ao, bools[i].name);
		if (v && *v && settings_parse_bool(v, &on) != 0) {
			fprintf(stderr, "pyprof: attach: %s=%s: expected 1 or 0 "
					"(or give %s)\n", bools[i].name, v,
				bools[i].option);
			return FALSE;
		}
	}
	return TRUE;
}

/* PYPROF_* for the library: the options, else this environment's; an
 * output relative to here made absolute. */
static char *attach_settings(const struct report_opts *o,
			     const struct attach_opts *ao)
{
	static const char *const passed[] = {
		"PYPROF_INTERVAL", "PYPROF_MODE", "PYPROF_SOURCE",
		"PYPROF_MAX_SIZE", "PYPROF_LOG", "PYPROF_ROTATE", "PYPROF_KEEP",
		"PYPROF_CONTROL", "PYPROF_NATIVE",
	};
	GString *s = g_string_new(NULL);
	const char *out = o->output ? o->output : g_getenv("PYPROF_OUTPUT");
	char *cwd = g_get_current_dir();

	if (!out || !*out)
		g_string_append_printf(s, "PYPROF_OUTPUT=%s/\n", cwd);
	else if (g_path_is_absolute(out))
		g_string_append_printf(s, "PYPROF_OUTPUT=%s\n", out);
	else
		g_string_append_printf(s, "PYPROF_OUTPUT=%s/%s\n", cwd, out);
	for (gsize i = 0; i < G_N_ELEMENTS(passed); i++) {
		const char *v = attach_value(o, ao, passed[i]);
		if (v && *v && !strchr(v, '\n'))
			g_string_append_printf(s, "%s=%s\n", passed[i], v);
	}
	g_free(cwd);
	return g_string_free(s, FALSE);
}

static gboolean exchange_script(struct exchange *x, const struct target *t,
				const char *settings, gboolean stop)
{
	char *d = hex(x->dir_inside), *l = hex(x->lib_inside), *s = hex(settings);
	char *call = g_strdup_printf(script_call, d, l, s, stop ? "True" : "False");
	char *text = g_strconcat(script_text, call, NULL);
	char *path = g_build_filename(x->dir, "attach.py", NULL);
	gboolean ok = write_file(t, path, text, strlen(text), 0600);

	g_free(d);
	g_free(l);
	g_free(s);
	g_free(call);
	g_free(text);
	g_free(path);
	return ok;
}

/* In the child: into the target's namespaces and root when it has its own
 * root, so that its interpreter finds its standard library. */
static void enter_target(const struct target *t)
{
	char *p;
	int root, mnt, pidns = -1;

	if (!t->other_root)
		return;
	p = g_build_filename(t->proc, "ns", "mnt", NULL);
	mnt = open(p, O_RDONLY | O_CLOEXEC);
	g_free(p);
	if (t->other_pidns) {
		p = g_build_filename(t->proc, "ns", "pid", NULL);
		pidns = open(p, O_RDONLY | O_CLOEXEC);
		g_free(p);
	}
	root = open(t->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (mnt < 0 || root < 0 || (t->other_pidns && pidns < 0) ||
	    (other_ns(t->proc, "mnt") && setns(mnt, CLONE_NEWNS) != 0) ||
	    (pidns >= 0 && setns(pidns, CLONE_NEWPID) != 0) ||
	    fchdir(root) != 0 || chroot(".") != 0 || chdir("/") != 0) {
		int e = errno;
		printf("pyprof-helper\troot\t%s\n", g_strerror(e));
		fflush(stdout);
		_exit(1);
	}
	if (pidns >= 0) {
		/* a pid namespace is entered by the children made after setns */
		pid_t c = fork();
		int status;

		if (c < 0)
			_exit(1);
		if (c > 0) {
			while (waitpid(c, &status, 0) < 0 && errno == EINTR)
				;
			_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
		}
	}
}

/* root's helper: every capability dropped but CAP_SYS_PTRACE, none to be
 * had again (the bounding set, no_new_privs).  Kept across execve as an
 * ambient capability, which needs it inheritable too.  In the child;
 * FALSE if the kernel refused. */
static gboolean only_ptrace(void)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];
	unsigned bit = CAP_SYS_PTRACE;

	for (int cap = 0; cap <= 63; cap++)
		if (cap != CAP_SYS_PTRACE && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 &&
		    errno != EINVAL)
			return FALSE;
	memset(d, 0, sizeof d);
	d[bit / 32].effective = d[bit / 32].permitted =
		d[bit / 32].inheritable = 1u << (bit % 32);
	return syscall(SYS_capset, &h, d) == 0 &&
	       prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_SYS_PTRACE, 0, 0) == 0 &&
	       prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0;
}

/* Whether root may run path (in the target's file system): root's, and
 * neither it nor its folder writable by anyone else.  NULL if so, else
 * why not. */
static const char *trusted(const struct target *t, const char *path)
{
	char *in = g_build_filename(t->root, path, NULL), *real, *dir;
	const char *why = NULL;
	struct stat st;

	/* the file a link names is what runs */
	real = t->other_root ? g_strdup(in) : realpath(in, NULL);
	if (!real)
		real = g_strdup(in);
	dir = g_path_get_dirname(real);
	if (stat(real, &st) != 0)
		why = "it cannot be read";
	else if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)))
		why = "it is not root's alone";
	else if (stat(dir, &st) != 0 || st.st_uid != 0 ||
		 (st.st_mode & (S_IWGRP | S_IWOTH)))
		why = "its folder is not root's alone";
	g_free(dir);
	free(real);
	g_free(in);
	return why;
}

/* Runs the helper; returns its "kind" (ok, permission, disabled, gone,
 * root, version, error) and sets *text.  Owned by the caller. */
static char *ask_target(const struct target *t, const char *python,
			const char *script, char **text)
{
	int fds[2];
	pid_t child;
	GString *out = g_string_new(NULL);
	char *kind = NULL, **lines;
	char buf[4096];
	ssize_t n;
	int status;

	*text = NULL;
	if (pipe(fds) != 0) {
		*text = g_strdup(g_strerror(errno));
		g_string_free(out, TRUE);
		return g_strdup("error");
	}
	fflush(NULL);
	child = fork();
	if (child == 0) {
		char pid[32];
		/* -I: none of this environment's PYTHON* (a
		 * PYTHON_DISABLE_REMOTE_DEBUG here would refuse), no user
		 * site; -S: no site, it is not needed */
		char *argv[] = {(char *)python, "-I", "-S", "-c", (char *)helper_text,
				pid, (char *)script, NULL};
		char *envp[] = {"PATH=/usr/local/bin:/usr/bin:/bin", "LC_ALL=C.UTF-8", NULL};

		close(fds[0]);
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		enter_target(t);
		if (geteuid() == 0 && !only_ptrace()) {
			printf("pyprof-helper\terror\tcannot drop root's rights for %s: %s\n",
			       python, g_strerror(errno));
			fflush(stdout);
			_exit(1);
		}
		g_snprintf(pid, sizeof pid, "%ld", t->nspid);
		execve(python, argv, envp);
		printf("pyprof-helper\texec\t%s: %s\n", python, g_strerror(errno));
		fflush(stdout);
		_exit(127);
	}
	close(fds[1]);
	while (child > 0 && ((n = read(fds[0], buf, sizeof buf)) > 0 ||
			     (n < 0 && errno == EINTR)))
		if (n > 0)
			g_string_append_len(out, buf, n);
	close(fds[0]);
	if (child < 0 || waitpid(child, &status, 0) < 0)
		status = -1;
	lines = g_strsplit(out->str, "\n", -1);
	for (char **l = lines; *l && !kind; l++) {
		char **w = g_strsplit(*l, "\t", 3);
		if (w[0] && !strcmp(w[0], "pyprof-helper") && w[1]) {
			kind = g_strdup(w[1]);
			*text = g_strdup(w[2] ? w[2] : "");
		}
		g_strfreev(w);
	}
	g_strfreev(lines);
	if (!kind) {
		kind = g_strdup("error");
		*text = g_strdup_printf("%s did not answer: %s", python,
					*g_strstrip(out->str) ? out->str : "no output");
	}
	g_string_free(out, TRUE);
	return kind;
}

/* The script's answer: "ok|error \t errno \t path \t reason", or NULL if
 * it did not come within timeout (then the request is withdrawn: see the
 * top). */
static char **wait_answer(const struct exchange *x, const struct target *t,
			  double timeout)
{
	char *status = g_build_filename(x->dir, "status", NULL);
	char *claim = g_build_filename(x->dir, "claim", NULL);
	gint64 end = g_get_monotonic_time() + (gint64)(timeout * 1e6);
	struct timespec pause = {0, 2 * 1000 * 1000};
	char **answer = NULL;
	gboolean claimed = FALSE;

	for (;;) {
		char *text = NULL;

		if (g_file_get_contents(status, &text, NULL, NULL)) {
			char *nl = strchr(text, '\n');
			if (nl)
				*nl = '\0';
			answer = g_strsplit(text, "\t", 4);
			g_free(text);
			if (g_strv_length(answer) == 4)
				break;
			g_strfreev(answer);
			answer = NULL;
		}
		if (!g_file_test(t->proc, G_FILE_TEST_IS_DIR))
			break;
		if (g_get_monotonic_time() >= end) {
			int fd = claimed ? -1 : open(claim, O_WRONLY | O_CREAT |
						     O_EXCL | O_CLOEXEC, 0600);
			if (fd >= 0)
				close(fd);
			if (claimed || fd >= 0)
				break; /* withdrawn, or the script is stuck */
			/* the script has started: it answers soon */
			claimed = TRUE;
			end = g_get_monotonic_time() + (gint64)(timeout * 1e6);
		}
		nanosleep(&pause, NULL);
	}
	g_free(status);
	g_free(claim);
	return answer;
}

/* The file the target wrote, as we see it. */
static char *file_here(const struct target *t, const char *path)
{
	return t->other_root ? g_build_filename(t->root, path, NULL) : g_strdup(path);
}

static void print_stopped(const struct target *t, const char *path)
{
	struct profile *p = profile_new();
	char *here = file_here(t, path);
	GError *error = NULL;

	if (profile_load_file(p, here, &error)) {
		const struct profile_process *pr =
			p->processes->len ? g_ptr_array_index(p->processes, 0) : NULL;
		char *run = pr && pr->sequence
			? g_strdup_printf(" (file %u of a rotated run; pyprof report "
					  "DIR reads them all)", pr->sequence)
			: g_strdup("");

		printf("pyprof: stopped %ld: %s is complete%s: %" G_GUINT64_FORMAT
		       " samples of %u threads\n", t->pid, path, run, p->n_samples,
		       p->threads->len);
		g_free(run);
	} else {
		printf("pyprof: stopped %ld: %s is complete\n", t->pid, path);
		g_error_free(error);
	}
	g_free(here);
	profile_free(p);
}

/* A file the target has mapped whose path ends in suffix, or NULL. */
static char *mapped(const struct target *t, const char *suffix)
{
	char *maps = g_build_filename(t->proc, "maps", NULL), *text = NULL;
	char *found = NULL;

	if (g_file_get_contents(maps, &text, NULL, NULL)) {
		char **lines = g_strsplit(text, "\n", -1);
		for (char **l = lines; *l && !found; l++) {
			char *path = strchr(*l, '/');
			if (path && g_str_has_suffix(path, " (deleted)"))
				path[strlen(path) - strlen(" (deleted)")] = '\0';
			if (path && g_str_has_suffix(path, suffix)) {
				found = g_strdup(path);
				target_view(t, found);
			}
		}
		g_strfreev(lines);
	}
	g_free(text);
	g_free(maps);
	return found;
}

static int attach(const struct target *t, const struct report_opts *o,
		  const struct attach_opts *ao, const char *lib)
{
	struct exchange x = {0};
	char *python = NULL, *settings = NULL, *kind = NULL, *text = NULL;
	char *script = NULL, **answer = NULL;
	const char *on;
	int control = 0;
	gint64 t0;
	int rc = EXIT_INPUT;

	if (!(python = target_python(t, ao)))
		goto out;
	if (geteuid() == 0 && !ao->python && (kind = (char *)trusted(t, python))) {
		fprintf(stderr, "pyprof: attach: process %ld: pyprof runs its "
				"interpreter %s to ask it, and will not as root: %s; "
				"give a trusted python of its version with --python, or "
				"attach as its user\n", t->pid, python, kind);
		kind = NULL;
		goto out;
	}
	if (!exchange_make(&x, t, lib))
		goto out;
	settings = attach_settings(o, ao);
	if (!exchange_script(&x, t, settings, ao->stop))
		goto out;
	script = g_build_filename(x.dir_inside, "attach.py", NULL);
	t0 = g_get_monotonic_time();
	kind = ask_target(t, python, script, &text);
	if (!strcmp(kind, "permission")) {
		fprintf(stderr, "pyprof: attach: permission denied: attaching to "
				"process %ld needs the rights to trace it: %s (%s)\n",
			t->pid, ptrace_advice(), text);
		goto out;
	} else if (!strcmp(kind, "disabled")) {
		fprintf(stderr, "pyprof: attach: remote debugging is disabled in "
				"process %ld (PYTHON_DISABLE_REMOTE_DEBUG, -X "
				"disable-remote-debug, or built without it): start it "
				"with LD_PRELOAD=%s instead (libpyprof(7))\n", t->pid, lib);
		goto out;
	} else if (!strcmp(kind, "root")) {
		fprintf(stderr, "pyprof: attach: process %ld has a root directory of "
				"its own (a container, a chroot): entering it needs root "
				"(%s)\n", t->pid, text);
		goto out;
	} else if (!strcmp(kind, "gone")) {
		fprintf(stderr, "pyprof: attach: process %ld has exited\n", t->pid);
		goto out;
	} else if (strcmp(kind, "ok")) {
		fprintf(stderr, "pyprof: attach: process %ld: %s\n", t->pid, text);
		goto out;
	}
	answer = wait_answer(&x, t, ao->timeout);
	if (!answer) {
		if (!g_file_test(t->proc, G_FILE_TEST_IS_DIR))
			fprintf(stderr, "pyprof: attach: process %ld exited before it "
					"answered\n", t->pid);
		else {
			fprintf(stderr, "pyprof: attach: process %ld did not run the "
					"request within %g s: its main thread runs no Python "
					"(blocked in a call: join(), a read, a sleep?); the "
					"request is withdrawn (--timeout)\n", t->pid, ao->timeout);
			g_free(x.dir);
			x.dir = NULL; /* the script removes it when it runs */
		}
		goto out;
	}
	if (strcmp(answer[0], "ok")) {
		fprintf(stderr, "pyprof: attach: process %ld: %s\n", t->pid,
			*answer[3] ? answer[3] : "failed");
		goto out;
	}
	if (*answer[3])
		fprintf(stderr, "pyprof: attach: warning: %s\n", answer[3]);
	if (ao->stop)
		print_stopped(t, answer[2]);
	else
		printf("pyprof: attached to %ld (CPython %u.%u) in %.3f s: writing %s\n"
		       "pyprof: stop with: pyprof attach --stop %ld\n", t->pid,
		       t->version >> 24, (t->version >> 16) & 0xff,
		       (double)(g_get_monotonic_time() - t0) / 1e6, answer[2], t->pid);
	if (!ao->stop && (on = attach_value(o, ao, "PYPROF_CONTROL")) &&
	    settings_parse_bool(on, &control) == 0 && control)
		printf("pyprof: control with: pyprof ctl %ld start|stop|mark|status\n",
		       t->pid);
	rc = 0;
out:
	exchange_remove(&x);
	g_strfreev(answer);
	g_free(script);
	g_free(kind);
	g_free(text);
	g_free(settings);
	g_free(python);
	return rc;
}

int cmd_attach(int argc, char **argv)
{
	struct report_opts o;
	struct attach_opts ao = {FALSE, ATTACH_DEFAULT_TIMEOUT, NULL, NULL, NULL,
				 FALSE, FALSE};
	struct target t = {0};
	GOptionContext *ctx;
	GOptionGroup *g;
	char *lib = NULL, *end, *file = NULL, *loaded = NULL;
	long pid;
	int rc = EXIT_USAGE;
	const GOptionEntry entries[] = {
		{"output", 'o', 0, G_OPTION_ARG_FILENAME, &o.output,
		 "Where the target writes, as PYPROF_OUTPUT says: a directory or a "
		 "file name template (default: PYPROF_OUTPUT, else the current "
		 "directory); a path in the target's file system", "PATH"},
		{"interval", 'i', 0, G_OPTION_ARG_CALLBACK, options_interval_arg,
		 "Sampling interval, e.g. 5ms (default 10ms, or PYPROF_INTERVAL)", "TIME"},
		{"mode", 'm', 0, G_OPTION_ARG_CALLBACK, options_mode_arg,
		 "cpu (the default) or wall; PYPROF_MODE", "cpu|wall"},
		{"rotate", 0, 0, G_OPTION_ARG_STRING, &ao.rotate,
		 "Write a run of files, a new one every PERIOD (at least 100ms: "
		 "60s, 10m, 1h) and/or when the file reaches SIZE (at least 1M: "
		 "100M), numbered -0001, -0002...; both comma-separated; "
		 "PYPROF_ROTATE", "PERIOD|SIZE"},
		{"keep", 0, 0, G_OPTION_ARG_STRING, &ao.keep,
		 "With --rotate: delete the oldest files beyond N files and/or "
		 "SIZE bytes in all; PYPROF_KEEP", "N|SIZE"},
		{"control", 0, 0, G_OPTION_ARG_NONE, &ao.control,
		 "Open the control channel, for 'pyprof ctl PID' while attached "
		 "(PYPROF_CONTROL=1)", NULL},
		{"native", 0, 0, G_OPTION_ARG_NONE, &ao.native,
		 "Record native (C, C++) frames with the Python ones: of the main "
		 "thread only, the others' cannot be readied from outside "
		 "(PYPROF_NATIVE=1)", NULL},
		{"stop", 0, 0, G_OPTION_ARG_NONE, &ao.stop,
		 "Stop recording, complete the file (with --rotate, the run's "
		 "last) and close the control channel; with none of the options "
		 "for starting", NULL},
		{"timeout", 0, 0, G_OPTION_ARG_DOUBLE, &ao.timeout,
		 "Wait up to S seconds for the target to run the request (default 10)",
		 "S"},
		{"python", 0, 0, G_OPTION_ARG_FILENAME, &ao.python,
		 "The python to ask with, of the target's version, as a path in the "
		 "target's file system (default: the target's own executable)", "PATH"},
		G_OPTION_ENTRY_NULL
	};

	options_init(&o);
	ctx = g_option_context_new("PID");
	g_option_context_set_summary(ctx,
		"Start recording in PID, a running CPython 3.14 or later started "
		"without LD_PRELOAD (sys.remote_exec); --stop ends it and completes "
		"the file.  Needs the rights to trace PID.");
	g = g_option_group_new("attach", "", "", &o, NULL);
	g_option_group_add_entries(g, entries);
	g_option_context_set_main_group(ctx, g);
	if (!options_parse(ctx, "attach", &argc, &argv))
		goto out;
	if (argc != 2 || (pid = strtol(argv[1], &end, 10)) <= 0 || *end) {
		fprintf(stderr, "pyprof: attach: %s\nTry 'pyprof attach --help'.\n",
			argc < 2 ? "no PID given" : argc > 2 ? "one PID only"
							  : "PID: expected a process id");
		goto out;
	}
	if (!(ao.timeout > 0)) {
		fprintf(stderr, "pyprof: attach: --timeout: expected seconds > 0\n"
				"Try 'pyprof attach --help'.\n");
		goto out;
	}
	/* what only starting reads, asked of --stop: an error, not a no-op */
	if (ao.stop && (o.output || o.interval || o.mode || ao.rotate || ao.keep ||
			ao.control || ao.native)) {
		fprintf(stderr, "pyprof: attach: --stop takes none of --output, "
				"--interval, --mode, --rotate, --keep, --control, "
				"--native: they are for starting\n"
				"Try 'pyprof attach --help'.\n");
		goto out;
	}
	/* --stop passes no settings the library reads */
	if (!ao.stop && !attach_check(&o, &ao))
		goto out;
	rc = EXIT_INPUT;
	lib = run_library();
	if (!g_file_test(lib, G_FILE_TEST_IS_REGULAR)) {
		fprintf(stderr, "pyprof: attach: %s: no such library (set PYPROF_LIB "
				"to libpyprof.so)\n", lib);
		goto out;
	}
	if (!target_find(&t, pid, lib))
		goto out;
	file = mapped(&t, ".pyprof");
	loaded = mapped(&t, "/libpyprof.so");
	if (file && !ao.stop) {
		fprintf(stderr, "pyprof: attach: already profiled: process %ld is "
				"writing %s\n", pid, file);
		goto out;
	}
	if (!loaded && ao.stop) {
		fprintf(stderr, "pyprof: attach: process %ld is not profiled "
				"(libpyprof.so is not loaded)\n", pid);
		goto out;
	}
	rc = attach(&t, &o, &ao, lib);
out:
	g_free(file);
	g_free(loaded);
	g_free(lib);
	g_free(t.proc);
	g_free(t.root);
	g_free(t.exe_inside);
	g_free(ao.rotate);
	g_free(ao.keep);
	g_free(ao.python);
	g_option_context_free(ctx);
	options_release(&o);
	return rc;
}
