/*
 * linetable.h - source line of an instruction, from a code object's raw
 * line table as CPython keeps it.
 *
 * The preload copies co_lnotab (3.8-3.9) or co_linetable (3.10+) into the
 * file byte for byte; turning (table, lasti) into a line number is the
 * reader's business, in the collector, where a mistake costs a wrong line
 * and not a crashed target.  (The preload's self-check decodes a table
 * too, from the handler: so this file only reads its arguments, and stays
 * async-signal-safe.)  Three encodings exist, chosen by the target's
 * PY_VERSION_HEX; each decoder mirrors CPython's own PyCode_Addr2Line for
 * that version, including its quirks.  Plain C, no GLib, so the test can
 * check it against every installed interpreter.
 */
#ifndef PYPROF_LINETABLE_H
#define PYPROF_LINETABLE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Returns the line of the instruction at byte offset lasti_bytes of the
 * code whose line table is table[0..len) and whose co_firstlineno is
 * firstlineno, as the interpreter of version py_hexversion would report it:
 * lasti -1 (not started) gives firstlineno.  Returns -1 when the line is
 * unknown: an instruction with no line (3.10+), an offset past the table's
 * end (3.10+), a version whose encoding is not known (before 3.8; minors
 * after 3.15 are read as 3.11+), or a table that does not decode.  Reads only table[0..len), for
 * any bytes, in time bounded by len.
 */
int linetable_line(uint32_t py_hexversion, const uint8_t *table, size_t len,
		   int firstlineno, int lasti_bytes);

/* The same for a code record's bytes with its PF_CODE_* flags: with
 * PF_CODE_LINE_PAIRS, the line its pairs give lasti_bytes (format.h), -1
 * for an offset they do not name (found by bisection, so unsorted pairs
 * give a wrong line, never a long search); else linetable_line(). */
int linetable_line_of(uint32_t py_hexversion, uint32_t code_flags,
		      const uint8_t *table, size_t len, int firstlineno,
		      int lasti_bytes);

#endif
