/*
 * intern.h - process-wide ids for code objects and strings, from a signal
 * handler.
 *
 * A frame in a sample is (code id, lasti).  The first time any thread sees
 * a code object, it writes the code's strings (each once per process, keyed
 * by content) and a PF_REC_CODE record into its own chunk, and publishes the
 * id in a lock-free open-addressing table.  An id becomes visible to other
 * threads only after its record committed, so any record naming it is
 * written later.
 *
 * Two threads racing on the same new code may both define it (two ids, the
 * same content): the collector merges by content, and nobody ever waits.
 *
 * Tables are mapped once at start (intern_init) and never grow: when one is
 * 3/4 full, lookups that miss return 0 and the caller counts the drop.
 */
#ifndef PYPROF_INTERN_H
#define PYPROF_INTERN_H

#include <stddef.h>
#include <stdint.h>

#include "pyintro.h"

/* Sets of tables: one per file that may be written at once (two while a
 * rotated run moves to its next file) */
#define INTERN_SETS 2

/* Where records go: the sampler's per-thread chunk, or a test buffer. */
struct rec_sink {
	/* space for a body of n bytes, or NULL (the sink is full) */
	uint8_t *(*space)(void *ctx, size_t n);
	void (*commit)(void *ctx, unsigned type, size_t n);
	void *ctx;
	int set; /* the tables of the file the records go to */
};

/* Maps the first n sets of tables, those not mapped yet. 0 or -1. */
int intern_init(int n);
/* Forgets every id of one set (a forked child starts a new file, a
 * rotated run its next).  Nothing may use the set meanwhile. */
void intern_reset(int set);

/*
 * The id of the code object at code (with its identity read by
 * pycode_read), defining it through sink if new.  Returns the id (> 0), or
 * 0 if the table is full, the code cannot be read, or the sink is full.
 */
HANDLER uint32_t intern_code(const struct py_layout *L, uintptr_t code,
			     const struct rec_sink *sink);

/* The id of a UTF-8 string, defining it through sink if new; 0 on
 * failure. */
HANDLER uint32_t intern_string(const char *s, size_t len,
			       const struct rec_sink *sink);

/* The id of a native instruction address (a PF_REC_NATIVE record, its id
 * from the code ids), defining it through sink if new; 0 on failure. */
HANDLER uint32_t intern_native(uintptr_t address, const struct rec_sink *sink);

#endif
