/*
 * symbols.h - native instruction addresses to function names, at report
 * time.
 *
 * The profiled process records only raw addresses and, for each object it
 * had loaded (PF_REC_OBJECT), the object's path, build-id, load bias and
 * executable range.  This side opens those objects (and their separate
 * debug info, by build-id) with elfutils' libdw, offline, and answers
 * address -> function, source file and line.  One symbolizer serves every
 * process of a report: objects are cached by build-id (by path when an
 * object has none), so the same libpython or libz is read once, and each
 * answer is cached by address per process.
 *
 * Nothing here prints or exits.  An object that cannot be opened, or whose
 * build-id differs from the recorded one (the file changed since, or the
 * report is made on another machine), gives answers with function NULL,
 * and is listed by symbolizer_missing().  An object that was read keeps
 * its file and its debug file open until symbolizer_free(), so the first
 * one opened raises the process's soft limit of open files to the hard
 * limit.
 */
#ifndef PYPROF_SYMBOLS_H
#define PYPROF_SYMBOLS_H

#include <glib.h>

/* One loaded object of one process, as recorded. */
struct sym_object {
	const char *path;        /* as the loader named it; "" if unknown */
	const guint8 *build_id;  /* NT_GNU_BUILD_ID bytes, NULL if none */
	gsize build_id_len;
	guint64 bias;            /* load bias: address = bias + ELF vaddr */
	guint64 lo, hi;          /* its executable range, [lo, hi) */
};

/* What an address is.  Strings are owned by the symbolizer and valid until
 * symbolizer_free(); function and source are NULL when unknown. */
struct sym_info {
	const char *object;   /* the containing object's path, NULL if the
			       * address is in no recorded object */
	guint64 offset;       /* address - bias (the ELF vaddr), for
			       * "libz.so.1+0x1a2b3" when function is NULL;
			       * the address itself when object is NULL */
	const char *function; /* symbol name, C++ names demangled */
	const char *source;   /* source file from DWARF, NULL if none */
	int line;             /* its line, -1 if unknown */
};

struct symbolizer;

struct symbolizer *symbolizer_new(void);
void symbolizer_free(struct symbolizer *s);

/* Adds an object of process `process` (any integer naming one process
 * of the report, e.g. its index); the strings and bytes are copied.
 * Where two objects of one process overlap (dlclose, then another
 * dlopen at the same place), the later added wins. */
void symbolizer_add(struct symbolizer *s, guint process,
		    const struct sym_object *o);

/* Looks up an address of `process`.  The address is the one to look up
 * (a return address already less 1).  Always fills *out; returns FALSE
 * when the address lies in no object added for that process. */
gboolean symbolizer_lookup(struct symbolizer *s, guint process, guint64 addr,
			   struct sym_info *out);

/* Looks for every recorded object under root (a container's or a
 * chroot's file system, as the profiled process saw it) instead of at its
 * path; NULL or "/" for the paths as they are.  Before the first lookup. */
void symbolizer_set_root(struct symbolizer *s, const char *root);

/* The paths of objects that were needed by a lookup and could not be
 * read, each with why ("not found", "build-id differs", ...): a
 * NULL-terminated array owned by the symbolizer, valid until the next
 * lookup. */
const char *const *symbolizer_missing(struct symbolizer *s);

/* The demangled form of a C++ symbol name ("_ZN3foo3barEi" ->
 * "foo::bar(int)"), newly allocated (g_free it); NULL when name is no
 * mangled C++ name, or pyprof was built without libstdc++'s demangler.
 * symbolizer_lookup() already answers demangled names. */
char *symbols_demangle(const char *name);

#endif
