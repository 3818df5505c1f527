/*
 * pack.c - `pyprof pack`: finished .pyprof files made small for keeping
 * (FILE.pyprof -> FILE.pyprofz, see collector/packed.h), with what each
 * costs before and after.  Every command reads the packed files as it
 * reads live ones.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "cli/cli.h"
#include "cli/options.h"
#include "cli/pipeline.h"
#include "collector/packed.h"

/* zstd's highest level short of its "ultra" ones, whose windows the
 * reader refuses: a file is packed once, to be kept.  Against level 12 it
 * measured 2% smaller on a real program's profile for 4 times the time (13
 * us a sample here), 8% on gen-profile's for 7 times (bench/README.md). */
#define PACK_LEVEL_DEFAULT 19

struct pack_opts {
	gboolean delete_input, force;
	int level;
	guint32 quantum_ns;
	char *output;
};

static gboolean opt_round(const gchar *name, const gchar *value,
			  gpointer data, GError **error)
{
	struct pack_opts *po = data;
	double v = options_duration_ns(value);

	if (!(v >= 1 && v <= 1e6) || v != floor(v)) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "%s: expected a duration with a unit from 1ns to "
			    "1ms, e.g. 1us, got '%s'", name, value);
		return FALSE;
	}
	po->quantum_ns = (guint32)v;
	return TRUE;
}

static void print_size(guint64 n)
{
	if (n >= 10u << 20)
		printf("%.1f MB", (double)n / 1e6);
	else if (n >= 10u << 10)
		printf("%.1f kB", (double)n / 1e3);
	else
		printf("%" G_GUINT64_FORMAT " bytes", n);
}

/* One file; 0 or an exit status */
static int pack_one(const char *path, const struct pack_opts *po)
{
	struct packed_options o = { po->level, po->quantum_ns, po->force };
	struct packed_result r;
	GPtrArray *warnings = g_ptr_array_new_with_free_func(g_free);
	GError *error = NULL;
	char *out = po->output ? g_strdup(po->output) : packed_name(path);
	int rc = 0;

	if (!packed_write(path, out, &o, &r, warnings, &error)) {
		fflush(stdout);
		for (guint i = 0; i < warnings->len; i++)
			fprintf(stderr, "pyprof: warning: %s\n",
				(char *)g_ptr_array_index(warnings, i));
		fprintf(stderr, "pyprof: pack: %s%s\n", error->message,
			g_error_matches(error, PACKED_ERROR, PACKED_ERROR_UNFINISHED)
				? " (--force packs what it holds now)" :
			g_error_matches(error, PACKED_ERROR, PACKED_ERROR_EXISTS)
				? " (--force replaces it)" : "");
		rc = EXIT_INPUT;
		goto out;
	}
	printf("%s -> %s: ", path, out);
	print_size(r.live_size);
	printf(" -> ");
	print_size(r.packed_size);
	printf(" (%.1f%%)", r.live_size ? 100.0 * (double)r.packed_size /
					  (double)r.live_size : 0.0);
	printf(", %" G_GUINT64_FORMAT " samples", r.samples);
	if (r.samples)
		printf(", %.1f -> %.2f bytes per sample",
		       (double)r.live_size / (double)r.samples,
		       (double)r.packed_size / (double)r.samples);
	if (po->quantum_ns > 1)
		printf(", times rounded to %u ns", po->quantum_ns);
	if (r.exact_segments)
		printf(" (%u of %u runs kept exact)", r.exact_segments, r.segments);
	printf("\n");
	fflush(stdout);
	for (guint i = 0; i < warnings->len; i++)
		fprintf(stderr, "pyprof: warning: %s\n",
			(char *)g_ptr_array_index(warnings, i));
	if (po->delete_input && g_unlink(path) != 0) {
		fprintf(stderr, "pyprof: pack: %s: cannot delete: %s\n", path,
			g_strerror(errno));
		rc = EXIT_INPUT;
	}
out:
	g_clear_error(&error);
	g_ptr_array_unref(warnings);
	g_free(out);
	return rc;
}

int cmd_pack(int argc, char **argv)
{
	struct pack_opts po = { .level = PACK_LEVEL_DEFAULT, .quantum_ns = 1 };
	GOptionEntry entries[] = {
		{"delete", 'd', 0, G_OPTION_ARG_NONE, &po.delete_input,
		 "Delete each FILE once its packed file is written and read back",
		 NULL},
		{"force", 'f', 0, G_OPTION_ARG_NONE, &po.force,
		 "Pack a file its process has not finished, and replace a packed "
		 "file that exists", NULL},
		{"level", 'l', 0, G_OPTION_ARG_INT, &po.level,
		 "zstd level, 1 (fast) to 19 (small, the default); 0 stores the "
		 "streams uncompressed", "N"},
		{"round", 0, 0, G_OPTION_ARG_CALLBACK, opt_round,
		 "Round sample times to D (1ns to 1ms, e.g. 1us): smaller, and "
		 "every time within D/2 (default: exact)", "D"},
		{"output", 'o', 0, G_OPTION_ARG_FILENAME, &po.output,
		 "Write the packed file to OUT (one FILE only; default "
		 "FILE.pyprofz beside it)", "OUT"},
		G_OPTION_ENTRY_NULL,
	};
	GOptionContext *ctx = g_option_context_new("FILE...");
	GOptionGroup *g = g_option_group_new("pack", "", "", &po, NULL);
	int rc = 0;

	g_option_group_add_entries(g, entries);
	g_option_context_set_main_group(ctx, g);
	g_option_context_set_summary(ctx, "Pack finished .pyprof files for "
				     "keeping: FILE.pyprof becomes FILE.pyprofz, "
				     "a few bytes per sample, which every pyprof "
				     "command reads as it reads FILE.");
	g_option_context_set_description(ctx, "See pyprof(1) for details.");
	if (!options_parse(ctx, "pack", &argc, &argv)) {
		rc = EXIT_USAGE;
		goto out;
	}
	if (argc < 2 || (po.output && argc != 2) || po.level < 0 ||
	    po.level > 19) {
		fprintf(stderr, "pyprof: pack: %s\nTry 'pyprof pack --help'.\n",
			argc < 2 ? "no FILE given" :
			po.level < 0 || po.level > 19 ?
				"--level: expected 0 to 19" :
				"--output takes one FILE");
		rc = EXIT_USAGE;
		goto out;
	}
	for (int i = 1; i < argc; i++) {
		int r = pack_one(argv[i], &po);
		if (r)
			rc = r;
	}
out:
	g_free(po.output);
	g_option_context_free(ctx);
	return rc;
}
