/*
 * when.h - the times `report --since/--until` take: an instant on the
 * wall clock, absolute or relative to now.
 */
#ifndef PYPROF_CLI_WHEN_H
#define PYPROF_CLI_WHEN_H

#include <glib.h>

/*
 * Parses s into nanoseconds since the epoch (CLOCK_REALTIME's):
 *   -DURATION                 before now: -10m, -30s, -1.5h, -250ms, -2d
 *   YYYY-MM-DD[(T| )HH:MM[:SS[.frac]]][Z|(+|-)HH[:MM]]
 *                             ISO 8601, local time unless a zone is given
 *   HH:MM[:SS]                today, local time
 *   @SECONDS                  since the epoch
 * now_ns is "now" (tests give their own).  FALSE with an error naming s.
 */
gboolean when_parse(const char *s, gint64 now_ns, guint64 *out, GError **error);

#endif
