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
};

/* Parses "250us", "1ms", "0.5ms", "10ms", "1s" (units ns, us, ms, s).  A
 * bare number is refused so that "10" is never misread; the result must lie
 * in [100us, 10s].  Returns 0 or -1. */
int settings_parse_interval(const char *s, uint64_t *out_ns);

/* Parses "256M", "1G", "512K", "1048576" (bytes).  Returns 0 or -1. */
int settings_parse_size(const char *s, uint64_t *out);

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
 * (seconds since the epoch), `%h` host name, `%%` a percent sign.  An
 * output that names an existing directory, or ends in '/', means
 * DIR/pyprof-%p.pyprof; NULL means ./pyprof-%p.pyprof.  attempt > 0 adds
 * ".N" before a ".pyprof" suffix (or at the end) so that a second file of
 * the same pid (after exec) does not collide.  Returns 0 or -1 (too long,
 * or a bad % sequence).
 */
int settings_output_path(const char *output, int pid, long start_time,
			 const char *host, int attempt, char *buf, size_t cap);

#endif
