/*
 * settings.c - PYPROF_* parsing.  Runs in the library constructor, before
 * the target's main(): no allocation, no stdio on the target's streams.
 */
#include "config.h"

#include "settings.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "format.h"

/* Parses a non-negative decimal with an optional fraction into a value
 * scaled by 1e9 (so "0.5" -> 500000000), leaving *end after it. */
static int parse_fixed(const char *s, const char **end, uint64_t *out)
{
	uint64_t whole = 0, frac = 0, scale = 1000000000ull;
	int digits = 0;

	while (*s >= '0' && *s <= '9') {
		if (whole > 100000000000ull)
			return -1;
		whole = whole * 10 + (uint64_t)(*s++ - '0');
		digits++;
	}
	if (*s == '.') {
		s++;
		while (*s >= '0' && *s <= '9') {
			if (scale > 1) {
				scale /= 10;
				frac += (uint64_t)(*s - '0') * scale;
			}
			s++;
			digits++;
		}
	}
	if (!digits)
		return -1;
	*end = s;
	*out = whole * 1000000000ull + frac;
	return 0;
}

int settings_parse_interval(const char *s, uint64_t *out_ns)
{
	static const struct {
		const char *unit;
		uint64_t ns;
	} units[] = {{"ns", 1}, {"us", 1000}, {"ms", 1000000}, {"s", 1000000000}};
	const char *end;
	uint64_t fixed;

	if (!s || parse_fixed(s, &end, &fixed) != 0)
		return -1;
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (strcmp(end, units[i].unit) != 0)
			continue;
		/* fixed is the value x 1e9; keep precision for sub-unit
		 * fractions without overflowing for up to 10 s. */
		uint64_t ns = fixed / 1000000000ull * units[i].ns +
			      (fixed % 1000000000ull) * units[i].ns / 1000000000ull;
		if (ns < SETTINGS_MIN_INTERVAL_NS || ns > SETTINGS_MAX_INTERVAL_NS)
			return -1;
		*out_ns = ns;
		return 0;
	}
	return -1;
}

int settings_parse_size(const char *s, uint64_t *out)
{
	uint64_t v = 0, mul = 1;
	int digits = 0;

	if (!s)
		return -1;
	while (*s >= '0' && *s <= '9') {
		if (v > (1ull << 50))
			return -1;
		v = v * 10 + (uint64_t)(*s++ - '0');
		digits++;
	}
	if (!digits)
		return -1;
	switch (*s) {
	case 'K': case 'k': mul = 1ull << 10; s++; break;
	case 'M': case 'm': mul = 1ull << 20; s++; break;
	case 'G': case 'g': mul = 1ull << 30; s++; break;
	case '\0': break;
	default: return -1;
	}
	if (*s == 'i' && mul > 1)
		s++;
	if ((*s == 'B' || *s == 'b') && mul > 1)
		s++;
	if (*s || v > (1ull << 44) / mul * 1024)
		return -1;
	*out = v * mul;
	return 0;
}

/* One comma-separated item of s into item (NUL-terminated); the rest
 * after it, or NULL at the end */
static const char *next_item(const char *s, char *item, size_t cap)
{
	size_t n = strcspn(s, ",");

	if (n >= cap)
		n = cap - 1;
	memcpy(item, s, n);
	item[n] = '\0';
	return s[n] == ',' ? s + n + 1 : NULL;
}

/* "200ms", "60s", "10m", "1.5h": rotation periods are longer than
 * intervals, and never bare numbers */
static int parse_period(const char *s, uint64_t *ns)
{
	static const struct {
		const char *unit;
		uint64_t ms;
	} units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};
	const char *end;
	uint64_t v;

	/* at most 7 digits before a fraction: no overflow below */
	if (strspn(s, "0123456789") > 7 || parse_fixed(s, &end, &v) != 0)
		return -1;
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (strcmp(end, units[i].unit))
			continue;
		/* v is the number x 1e9: x ms per unit, x 1e6 ns per ms */
		*ns = v / 1000 * units[i].ms;
		return 0;
	}
	return -1;
}

/* "X", "Y" or "X,Y" in either order, each item taken by one of two
 * parsers (0 on success) into *x or *y, each at most once; 0 or -1 */
static int parse_pair(const char *s, int (*px)(const char *, uint64_t *),
		      int (*py)(const char *, uint64_t *), uint64_t *x,
		      uint64_t *y)
{
	uint64_t a = 0, b = 0;
	char item[64];

	if (!s || !*s)
		return -1;
	do {
		uint64_t v;

		s = next_item(s, item, sizeof item);
		if (!a && px(item, &v) == 0)
			a = v;
		else if (!b && py(item, &v) == 0)
			b = v;
		else
			return -1;
	} while (s);
	*x = a;
	*y = b;
	return 0;
}

static int rotate_period(const char *s, uint64_t *ns)
{
	return parse_period(s, ns) == 0 && *ns >= SETTINGS_MIN_ROTATE_NS ? 0 : -1;
}

/* sizes in capitals (100M): periods are in small letters (10m) */
static int rotate_size(const char *s, uint64_t *bytes)
{
	size_t n = strspn(s, "0123456789.");

	return n && s[n] && strchr("KMG", s[n]) && settings_parse_size(s, bytes) == 0 &&
	       *bytes >= SETTINGS_MIN_ROTATE_BYTES ? 0 : -1;
}

/* a bare number counts files; with a unit it is a size */
static int keep_count(const char *s, uint64_t *files)
{
	size_t n = strspn(s, "0123456789");

	return n && !s[n] && settings_parse_size(s, files) == 0 && *files ? 0 : -1;
}

static int keep_size(const char *s, uint64_t *bytes)
{
	size_t n = strspn(s, "0123456789");

	return n && s[n] && settings_parse_size(s, bytes) == 0 && *bytes ? 0 : -1;
}

int settings_parse_rotate(const char *s, uint64_t *ns, uint64_t *bytes)
{
	return parse_pair(s, rotate_period, rotate_size, ns, bytes);
}

int settings_parse_keep(const char *s, uint64_t *files, uint64_t *bytes)
{
	return parse_pair(s, keep_count, keep_size, files, bytes);
}

int settings_parse_bool(const char *s, int *out)
{
	static const char *yes[] = {"1", "yes", "true", "on"};
	static const char *no[] = {"0", "no", "false", "off"};

	for (size_t i = 0; s && i < 4; i++) {
		if (!strcasecmp(s, yes[i]))
			return *out = 1, 0;
		if (!strcasecmp(s, no[i]))
			return *out = 0, 0;
	}
	return -1;
}

int settings_load(struct settings *st, const char *(*get)(const char *name),
		  char *why, size_t why_len)
{
	const char *v;

	st->enable = 1;
	st->mode = PF_MODE_CPU;
	st->interval_ns = SETTINGS_DEFAULT_INTERVAL_NS;
	st->max_size = SETTINGS_DEFAULT_MAX_SIZE;
	st->source = SETTINGS_SOURCE_AUTO;
	st->output = NULL;
	st->log = NULL;

	if ((v = get("PYPROF_ENABLE")) && settings_parse_bool(v, &st->enable)) {
		snprintf(why, why_len,
			 "PYPROF_ENABLE=%s: expected 1 or 0 (yes/no, true/false, on/off)",
			 v);
		return -1;
	}
	if ((v = get("PYPROF_MODE"))) {
		if (!strcmp(v, "cpu")) {
			st->mode = PF_MODE_CPU;
		} else if (!strcmp(v, "wall")) {
			st->mode = PF_MODE_WALL;
		} else {
			snprintf(why, why_len, "PYPROF_MODE=%s: expected cpu or wall", v);
			return -1;
		}
	}
	if ((v = get("PYPROF_INTERVAL")) &&
	    settings_parse_interval(v, &st->interval_ns)) {
		snprintf(why, why_len,
			 "PYPROF_INTERVAL=%s: expected a duration with a unit between 100us and 10s, e.g. 1ms",
			 v);
		return -1;
	}
	if ((v = get("PYPROF_MAX_SIZE"))) {
		if (settings_parse_size(v, &st->max_size) ||
		    st->max_size < SETTINGS_MIN_MAX_SIZE) {
			snprintf(why, why_len,
				 "PYPROF_MAX_SIZE=%s: expected a size of at least 1M, e.g. 256M",
				 v);
			return -1;
		}
	}
	if ((v = get("PYPROF_SOURCE"))) {
		if (!strcmp(v, "auto"))
			st->source = SETTINGS_SOURCE_AUTO;
		else if (!strcmp(v, "timer"))
			st->source = SETTINGS_SOURCE_TIMER;
		else if (!strcmp(v, "perf"))
			st->source = SETTINGS_SOURCE_PERF;
		else {
			snprintf(why, why_len,
				 "PYPROF_SOURCE=%s: expected auto, timer or perf", v);
			return -1;
		}
	}
	st->start = 1;
	if ((v = get("PYPROF_START")) && settings_parse_bool(v, &st->start)) {
		snprintf(why, why_len, "PYPROF_START=%s: expected 1 or 0", v);
		return -1;
	}
	st->floor = 0;
	if ((v = get("PYPROF_FLOOR")) && settings_parse_bool(v, &st->floor)) {
		snprintf(why, why_len, "PYPROF_FLOOR=%s: expected 1 or 0", v);
		return -1;
	}
	st->native = 0;
	if ((v = get("PYPROF_NATIVE")) && settings_parse_bool(v, &st->native)) {
		snprintf(why, why_len, "PYPROF_NATIVE=%s: expected 1 or 0", v);
		return -1;
	}
	st->control = 0;
	if ((v = get("PYPROF_CONTROL")) && settings_parse_bool(v, &st->control)) {
		snprintf(why, why_len, "PYPROF_CONTROL=%s: expected 1 or 0", v);
		return -1;
	}
	st->rotate_ns = st->rotate_bytes = st->keep_files = st->keep_bytes = 0;
	if ((v = get("PYPROF_ROTATE")) && *v &&
	    settings_parse_rotate(v, &st->rotate_ns, &st->rotate_bytes)) {
		snprintf(why, why_len,
			 "PYPROF_ROTATE=%s: expected a period of at least 100ms "
			 "(60s, 10m, 1h) and/or a size of at least 1M (100M), "
			 "comma-separated", v);
		return -1;
	}
	if ((v = get("PYPROF_KEEP")) && *v) {
		if (settings_parse_keep(v, &st->keep_files, &st->keep_bytes)) {
			snprintf(why, why_len,
				 "PYPROF_KEEP=%s: expected a number of files (10) "
				 "and/or a total size (1G), comma-separated", v);
			return -1;
		}
		if (!st->rotate_ns && !st->rotate_bytes) {
			snprintf(why, why_len,
				 "PYPROF_KEEP=%s: needs PYPROF_ROTATE", v);
			return -1;
		}
	}
	if ((v = get("PYPROF_OUTPUT")) && *v)
		st->output = v;
	if ((v = get("PYPROF_LOG")) && *v) {
		int on;
		if (settings_parse_bool(v, &on) == 0)
			st->log = on ? "stderr" : NULL;
		else
			st->log = v;
	}
	return 0;
}

/* Appends s to buf at *n; -1 if it does not fit. */
static int put(char *buf, size_t cap, size_t *n, const char *s, size_t len)
{
	if (*n + len >= cap)
		return -1;
	memcpy(buf + *n, s, len);
	*n += len;
	buf[*n] = '\0';
	return 0;
}

int settings_output_path(const char *output, int pid, long start_time,
			 const char *host, unsigned seq, int attempt, char *buf,
			 size_t cap)
{
	static const char dflt[] = "pyprof-%p.pyprof";
	char tmpl[4096], num[32];
	size_t n = 0, tl;
	struct stat st;

	if (!cap)
		return -1;
	buf[0] = '\0';
	if (!output) {
		snprintf(tmpl, sizeof tmpl, "%s", dflt);
	} else {
		size_t ol = strlen(output);
		int is_dir = (ol && output[ol - 1] == '/') ||
			     (stat(output, &st) == 0 && S_ISDIR(st.st_mode));
		if (is_dir) {
			if ((size_t)snprintf(tmpl, sizeof tmpl, "%s%s%s", output,
					     output[ol - 1] == '/' ? "" : "/",
					     dflt) >= sizeof tmpl)
				return -1;
		} else if ((size_t)snprintf(tmpl, sizeof tmpl, "%s", output) >=
			   sizeof tmpl) {
			return -1;
		}
	}
	tl = strlen(tmpl);
	/* the ".N" of a repeated attempt, and a rotated file's number where
	 * the template has none, go before a ".pyprof" suffix */
	size_t stem = tl;
	int number = seq > 0;
	for (size_t i = 0; i < tl && number; i++)
		if (tmpl[i] == '%' && tmpl[++i] == 'n')
			number = 0; /* %n, not %%n */
	if ((attempt > 0 || number) && tl >= 7 && !strcmp(tmpl + tl - 7, ".pyprof"))
		stem = tl - 7;
	for (size_t i = 0; i < stem; i++) {
		if (tmpl[i] != '%') {
			if (put(buf, cap, &n, tmpl + i, 1))
				return -1;
			continue;
		}
		switch (tmpl[++i]) {
		case 'p':
			snprintf(num, sizeof num, "%d", pid);
			break;
		case 't':
			snprintf(num, sizeof num, "%ld", start_time);
			break;
		case 'h':
			/* The host name is anybody's to set (a container's
			 * is its image's): inside a path it is one name,
			 * never a separator or a way up. */
			for (size_t k = 0; host[k]; k++) {
				char ch = host[k];
				if (!((ch >= 'a' && ch <= 'z') ||
				      (ch >= 'A' && ch <= 'Z') ||
				      (ch >= '0' && ch <= '9') || ch == '-' ||
				      ch == '_' || (ch == '.' && k > 0)))
					ch = '_';
				if (put(buf, cap, &n, &ch, 1))
					return -1;
			}
			continue;
		case 'n':
			snprintf(num, sizeof num, "%04u", seq);
			break;
		case '%':
			snprintf(num, sizeof num, "%%");
			break;
		default:
			return -1;
		}
		if (put(buf, cap, &n, num, strlen(num)))
			return -1;
	}
	if (number) {
		snprintf(num, sizeof num, "-%04u", seq);
		if (put(buf, cap, &n, num, strlen(num)))
			return -1;
	}
	if (attempt > 0) {
		snprintf(num, sizeof num, ".%d", attempt);
		if (put(buf, cap, &n, num, strlen(num)))
			return -1;
	}
	if (stem < tl && put(buf, cap, &n, tmpl + stem, tl - stem))
		return -1;
	return 0;
}
