/*
 * check.c - linetable_line() against what CPython itself reports.
 *
 * Reads a fixture written by gen.py (a version line, then one line per code
 * object: firstlineno, the raw table in hex, offset:line pairs) and checks
 * every pair.  Then feeds deterministic garbage tables of every encoding
 * through it, each in a buffer of its exact size so AddressSanitizer (when
 * built with it) sees any read past the end.  Prints "<N> offsets" and
 * exits 0 when all agree; lists the first mismatches and exits 1
 * otherwise.  Usage: check FIXTURE
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/linetable.h"

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

/* Garbage must give an answer (any) without reading out of bounds. */
static void garbage(void)
{
	static const uint32_t versions[] = { 0x030812f0, 0x030912f0,
					     0x030a0df0, 0x030b07f0,
					     0x030c01f0, 0x030d00f0,
					     0x030e00f0, 0x030f00a0 };

	for (int round = 0; round < 20000; round++) {
		size_t len = rng() % 64;
		uint8_t *t = malloc(len ? len : 1);

		for (size_t i = 0; i < len; i++)
			t[i] = (uint8_t)(rng() % 4 ? rng() : 0xff);
		for (size_t v = 0; v < sizeof(versions) / sizeof(*versions);
		     v++)
			for (int k = 0; k < 8; k++)
				(void)linetable_line(versions[v], t, len,
						     (int)(rng() % 3 ? rng() % 100
								     : rng()),
						     (int)(rng() % 600) - 1);
		free(t);
	}
}

int main(int argc, char **argv)
{
	FILE *in;
	char *line = NULL;
	size_t cap = 0;
	unsigned long hexversion = 0;
	unsigned long long checked = 0, bad = 0, codes = 0;
	uint8_t *table = NULL;
	size_t table_cap = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s FIXTURE\n", argv[0]);
		return 2;
	}
	in = fopen(argv[1], "r");
	if (!in) {
		perror(argv[1]);
		return 2;
	}
	while (getline(&line, &cap, in) > 0) {
		char *save = NULL, *tok, *hex;
		int firstlineno;
		size_t n = 0;

		if (strncmp(line, "version ", 8) == 0) {
			hexversion = strtoul(line + 8, NULL, 16);
			continue;
		}
		if (strncmp(line, "code ", 5) != 0) {
			fprintf(stderr, "%s: bad line: %.40s\n", argv[1], line);
			return 2;
		}
		codes++;
		strtok_r(line, " \n", &save);
		firstlineno = atoi(strtok_r(NULL, " \n", &save));
		hex = strtok_r(NULL, " \n", &save);
		if (strlen(hex) / 2 + 1 > table_cap) {
			table_cap = strlen(hex) / 2 + 1;
			table = realloc(table, table_cap);
		}
		if (strcmp(hex, "-") != 0)
			for (; hex[2 * n] && hex[2 * n + 1]; n++)
				table[n] = (uint8_t)(hexval(hex[2 * n]) << 4 |
						     hexval(hex[2 * n + 1]));
		while ((tok = strtok_r(NULL, " \n", &save))) {
			int off, want, got;

			if (sscanf(tok, "%d:%d", &off, &want) != 2) {
				fprintf(stderr, "%s: bad pair %s\n", argv[1],
					tok);
				return 2;
			}
			got = linetable_line((uint32_t)hexversion, table, n,
					     firstlineno, off);
			checked++;
			if (got != want && bad++ < 20)
				fprintf(stderr, "mismatch: code #%llu "
					"firstlineno %d offset %d: got %d, "
					"cpython says %d\n", codes,
					firstlineno, off, got, want);
		}
	}
	fclose(in);
	free(line);
	free(table);
	if (!hexversion || !codes) {
		fprintf(stderr, "%s: no version line or no code\n", argv[1]);
		return 2;
	}
	if (bad) {
		fprintf(stderr, "%llu of %llu offsets wrong\n", bad, checked);
		return 1;
	}
	garbage();
	printf("%llu offsets\n", checked);
	return 0;
}
