/*
 * fuzz_settings.c - the preload's PYPROF_* parser on arbitrary values.
 *
 * The input is an environment, one NAME=VALUE per line; settings_load reads
 * it through a fake getenv, as tests/unit/test_config.c does.  Every value
 * also goes through each single-value parser, and the output template,
 * when set, is expanded.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "preload/settings.h"

#define MAX_VARS 32

static char *names[MAX_VARS], *values[MAX_VARS];
static int n_vars;

static const char *fake_get(const char *name)
{
	for (int i = 0; i < n_vars; i++)
		if (!strcmp(names[i], name))
			return values[i];
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *line, *next;
	char why[256], path[4096];
	struct settings c;
	uint64_t u;
	int b;

	memcpy(text, data, size);
	text[size] = '\0';
	n_vars = 0;
	for (line = text; line && n_vars < MAX_VARS; line = next) {
		char *eq;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (!(eq = strchr(line, '=')))
			continue;
		*eq = '\0';
		names[n_vars] = line;
		values[n_vars++] = eq + 1;
	}
	for (int i = 0; i < n_vars; i++) {
		settings_parse_interval(values[i], &u);
		settings_parse_size(values[i], &u);
		settings_parse_bool(values[i], &b);
		settings_parse_rotate(values[i], &u, &u);
		settings_parse_keep(values[i], &u, &u);
		settings_output_path(values[i], 42, 1700000000, "host", i % 4,
				   i % 3, path, i % 2 ? sizeof path : 16);
	}
	memset(&c, 0, sizeof c);
	if (settings_load(&c, fake_get, why, sizeof why) == 0)
		settings_output_path(c.output, 1234, 1700000000, "box", 2, 1, path,
				   sizeof path);
	else if (!memchr(why, '\0', sizeof why))
		abort(); /* the reason must be a string */
	free(text);
	return 0;
}
