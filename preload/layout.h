/*
 * layout.h - the offset table behind pyintro_init(), for its tests.
 *
 * libpyprof itself only needs pyintro_init().  These functions let
 * tests/layout print the static table (3.8-3.15) and the layout that
 * pyintro_init() produced, by field name, so that a probe compiled against
 * each interpreter's own headers can be diffed against both.  None of them
 * is for the handler, and none allocates.
 */
#ifndef PYPROF_LAYOUT_H
#define PYPROF_LAYOUT_H

#include "pyintro.h"

/* In the 3.13+ rows: this field is read from _Py_DebugOffsets at run time. */
#define LAYOUT_FROM_DEBUG (-2)

/* The first and last minor versions the table knows. */
#define LAYOUT_MINOR_MIN 8
#define LAYOUT_MINOR_MAX 15

/* The static row for 3.<minor>, or NULL if the table has none.  Fields the
 * version lacks are -1; in the 3.13+ rows, fields the debug offsets supply
 * are LAYOUT_FROM_DEBUG.  The pointer is to static storage. */
const struct py_layout *layout_table_for_minor(int minor);

/* The offset fields of struct py_layout that the table sets, by index
 * 0 <= i < layout_field_count(); names are those of the struct members. */
int layout_field_count(void);
const char *layout_field_name(int i);
int layout_field_value(const struct py_layout *L, int i);

/* sizeof(_Py_DebugOffsets) as this file describes it, 0 if the minor
 * version has none (or none we know). */
size_t layout_debug_offsets_size(int minor);

#endif
