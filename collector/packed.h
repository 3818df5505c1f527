/*
 * packed.h - packing finished .pyprof files for keeping (`pyprof pack`):
 * the collector's side of format/pack.h, with GLib's errors.
 *
 * Reading needs nothing here: profile_load_file() opens packed files as
 * it opens live ones.  A packed file is written beside its target under a
 * temporary name, read back and compared with the live file record by
 * record before it takes its name, so that a caller may delete the live
 * file once this returns TRUE.
 */
#ifndef PYPROF_COLLECTOR_PACKED_H
#define PYPROF_COLLECTOR_PACKED_H

#include <glib.h>

#define PACKED_ERROR (packed_error_quark())
GQuark packed_error_quark(void);

enum packed_error {
	PACKED_ERROR_IO,         /* a file could not be read or written */
	PACKED_ERROR_FORMAT,     /* not a pyprof file, or damaged */
	PACKED_ERROR_UNFINISHED, /* its writer has not finished it */
	PACKED_ERROR_PACKED,     /* packed already */
	PACKED_ERROR_EXISTS,     /* the packed file is there already */
	PACKED_ERROR_MISMATCH,   /* read back, it differs: a bug */
};

/* The name `pyprof pack` gives the packed form of path: FILE.pyprof ->
 * FILE.pyprofz, anything else gets ".pyprofz" added.  Owned by the
 * caller. */
char *packed_name(const char *path);

struct packed_options {
	int level;           /* zstd level 1..19; 0 stores the streams */
	guint32 quantum_ns;  /* 1: times exact; else rounded to it */
	gboolean force;      /* pack an unfinished file; replace out_path */
};

struct packed_result {
	guint64 live_size, packed_size;
	guint64 samples;
	guint32 segments;
	guint32 exact_segments; /* kept at 1 ns although rounding was asked */
};

/*
 * Packs the live file at path into out_path.  Refuses a packed file, an
 * unfinished one (unless o->force: its writer may still be adding to it),
 * and an existing out_path (unless o->force).  What the reader finds wrong
 * in the live file is added to warnings (strings, owned by the array):
 * the packed file keeps what reads.  Returns TRUE with r filled, or FALSE
 * with error (and no out_path written).
 */
gboolean packed_write(const char *path, const char *out_path,
		      const struct packed_options *o, struct packed_result *r,
		      GPtrArray *warnings, GError **error);

#endif
