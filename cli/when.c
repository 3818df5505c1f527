/*
 * when.c - parsing --since and --until (when.h).  GLib's ISO 8601 parser
 * does the calendar; what is added here is the relative form, the bare
 * time of day and epoch seconds.
 */
#include "config.h"

#include <string.h>

#include "cli/when.h"

static gboolean bad(const char *s, GError **error)
{
	g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
		    "'%s' is not a time: expected -DURATION (-10m, -30s, -1h), "
		    "YYYY-MM-DD HH:MM[:SS], HH:MM[:SS] or @SECONDS", s);
	return FALSE;
}

/* "1.5h" and the like into ns; FALSE if it is not one */
static gboolean duration_ns(const char *s, guint64 *out)
{
	static const struct { const char *unit; double ns; } units[] = {
		{"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}, {"d", 86400e9},
	};
	char *end;
	double v;

	if (!g_ascii_isdigit(*s))
		return FALSE;
	v = g_ascii_strtod(s, &end);
	for (gsize i = 0; i < G_N_ELEMENTS(units); i++) {
		if (strcmp(end, units[i].unit))
			continue;
		if (!(v >= 0 && v * units[i].ns < 9e18))
			return FALSE;
		*out = (guint64)(v * units[i].ns);
		return TRUE;
	}
	return FALSE;
}

static gboolean from_datetime(GDateTime *dt, guint64 *out)
{
	gint64 us;

	if (!dt)
		return FALSE;
	us = g_date_time_to_unix(dt) * G_USEC_PER_SEC +
	     g_date_time_get_microsecond(dt);
	g_date_time_unref(dt);
	if (us < 0)
		return FALSE;
	*out = (guint64)us * 1000;
	return TRUE;
}

gboolean when_parse(const char *s, gint64 now_ns, guint64 *out, GError **error)
{
	GTimeZone *local;
	gboolean ok = FALSE;
	guint64 d;

	if (!s || !*s)
		return bad(s ? s : "", error);
	if (*s == '-') {
		if (!duration_ns(s + 1, &d))
			return bad(s, error);
		*out = (guint64)now_ns > d ? (guint64)now_ns - d : 0;
		return TRUE;
	}
	if (*s == '@') {
		char *end;
		double v = g_ascii_strtod(s + 1, &end);

		if (end == s + 1 || *end || !(v >= 0 && v < 9e9))
			return bad(s, error);
		*out = (guint64)(v * 1e9);
		return TRUE;
	}
	local = g_time_zone_new_local();
	if (strlen(s) >= 10 && s[4] == '-' && s[7] == '-') {
		/* a date alone is its midnight; GLib wants the seconds */
		char *full = strlen(s) == 10   ? g_strconcat(s, "T00:00:00", NULL)
			     : strlen(s) == 16 ? g_strconcat(s, ":00", NULL)
					       : g_strdup(s);
		ok = from_datetime(g_date_time_new_from_iso8601(full, local), out);
		g_free(full);
	} else if (g_ascii_isdigit(s[0]) && strchr(s, ':')) {
		GDateTime *now = g_date_time_new_from_unix_local(now_ns / 1000000000);
		char *day = g_date_time_format(now, "%Y-%m-%d");
		char *full = g_strconcat(day, "T", s, strlen(s) == 5 ? ":00" : "",
					 NULL);

		ok = from_datetime(g_date_time_new_from_iso8601(full, local), out);
		g_free(full);
		g_free(day);
		g_date_time_unref(now);
	}
	g_time_zone_unref(local);
	return ok ? TRUE : bad(s, error);
}
