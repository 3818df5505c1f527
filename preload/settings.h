/*
 * settings.h - PYPROF_* environment variables, parsed without allocation.
 *
 * Parsing is pure (strings in, struct out) so the unit tests can feed it bad
 * values; the constructor calls settings_load() once.  A bad value never
 * stops the target: the caller prints the one-line reason and stays dormant.
 */
#ifndef PYPROF_SETTINGS_H
#define PYPROF_SETTINGS_H

#include <stddef.h>
#include <stdint.h>

#define SETTINGS_DEFAULT_INTERVAL_NS 10000000ull /* 10 ms: see libpyprof(7) */
#define SETTINGS_DEFAULT_MAX_SIZE (256ull << 20)
#define SETTINGS_MIN_INTERVAL_NS 100000ull       /* 100 us */
#define SETTINGS_MAX_INTERVAL_NS 10000000000ull  /* 10 s */
#define SETTINGS_MIN_MAX_SIZE (1ull << 20)

enum settings_source {
	SETTINGS_SOURCE_AUTO = 0,
	SETTINGS_SOURCE_TIMER = 1, /* timer_create(CLOCK_THREAD_CPUTIME_ID) */
	SETTINGS_SOURCE_PERF = 2,  /* perf_event task-clock */
};

struct settings {
	int enable;
	int mode; /* enum pf_mode */
	uint64_t interval_ns;
	uint64_t max_size;
	int source; /* enum settings_source */
	const char *output; /* NULL: current directory */
	const char *log;    /* NULL: silent; "stderr", or a file to append to */
	int floor;          /* benchmarks: take signals, record nothing */
	int start;          /* record from load; 0: wait for pyprof_start() */
	int native;         /* native stacks too (PYPROF_NATIVE) */
	int control;        /* the control channel (PYPROF_CONTROL, control.c) */
	/* PYPROF_ROTATE: a new file every rotate_ns and/or when the file
	 * reaches rotate_bytes (0: not by that); PYPROF_KEEP: at most
	 * keep_files files and keep_bytes bytes of them (0: no bound) */
	uint64_t rotate_ns, rotate_bytes;
	uint64_t keep_files, keep_bytes;
};

#define SETTINGS_MIN_ROTATE_NS 100000000ull   /* 100 ms */
#define SETTINGS_MIN_ROTATE_BYTES (1ull << 20)

/* Parses "250us", "1ms", "0.5ms", "10ms", "1s" (units ns, us, ms, s).  A
 * bare number is refused so that "10" is never misread; the result must lie
 * in [100us, 10s].  Returns 0 or -1. */
int settings_parse_interval(const char *s, uint64_t *out_ns);

/* Parses "256M", "1G", "512K", "1048576" (bytes).  Returns 0 or -1. */
int settings_parse_size(const char *s, uint64_t *out);

/* PYPROF_ROTATE: "60s", "10m", "1h", "200ms" (a period of at least
 * 100ms), "100M" (a size of at least 1M, its unit a capital: 10m is ten
 * minutes), or both, comma-separated ("10m,100M").  0 or -1. */
int settings_parse_rotate(const char *s, uint64_t *ns, uint64_t *bytes);

/* PYPROF_KEEP: "10" (files), "1G" (bytes), or both ("10,1G").  0 or -1. */
int settings_parse_keep(const char *s, uint64_t *files, uint64_t *bytes);

/* Parses "1/0/yes/no/true/false/on/off".  Returns 0 or -1. */
int settings_parse_bool(const char *s, int *out);

/*
 * Fills st from the environment (getenv is passed in so tests can fake it).
 * Returns 0, or -1 with a one-line reason in why naming the variable and
 * its value.
 */
int settings_load(struct settings *st, const char *(*get)(const char *name),
		  char *why, size_t why_len);

/*
 * Expands the output template into buf: `%p` pid, `%t` start time
 * (seconds since the epoch), `%h` host name, `%n` the file's number in a
 * rotated run (seq, four digits at least: 0001), `%%` a percent sign.
 * With seq > 0 and no `%n`, "-%n" goes before a ".pyprof" suffix (or at
 * the end).  An
 * output that names an existing directory, or ends in '/', means
 * DIR/pyprof-%p.pyprof; NULL means ./pyprof-%p.pyprof.  attempt > 0 adds
 * ".N" before a ".pyprof" suffix (or at the end) so that a second file of
 * the same pid (after exec) does not collide.  Returns 0 or -1 (too long,
 * or a bad % sequence).
 */
int settings_output_path(const char *output, int pid, long start_time,
			 const char *host, unsigned seq, int attempt, char *buf,
			 size_t cap);

#endif
