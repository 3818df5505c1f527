/*
 * dump.c - print what preload/layout.c believes, for check-layout.sh.
 *
 * Built two ways from this one file:
 *   cc dump.c layout.c -o layout-dump        layout-dump MINOR
 *       prints the static table row for 3.MINOR;
 *   cc -shared -DDUMP_PRELOAD dump.c layout.c -o layout-dump.so
 *       LAYOUT_DUMP_OUT=file LD_PRELOAD=layout-dump.so python3.X -c pass
 *       runs pyintro_init() from a constructor, as libpyprof does (so
 *       before Py_Initialize), and writes the layout it produced.
 * Both print "name=value" lines in the format of probe.c.
 */
#include <stdio.h>
#include <stdlib.h>

#include "layout.h"

static void dump(const struct py_layout *L, FILE *f)
{
	size_t dbg = layout_debug_offsets_size(L->minor);

	fprintf(f, "minor=%d\n", L->minor);
	for (int i = 0; i < layout_field_count(); i++)
		fprintf(f, "%s=%d\n", layout_field_name(i),
			layout_field_value(L, i));
	if (dbg)
		fprintf(f, "debug_offsets_size=%zu\n", dbg);
}

#ifdef DUMP_PRELOAD
__attribute__((constructor)) static void dump_at_load(void)
{
	const char *path = getenv("LAYOUT_DUMP_OUT");
	struct py_layout L;
	char why[256];
	FILE *f;
	int rc;

	if (!path || !(f = fopen(path, "w")))
		return;
	rc = pyintro_init(&L, why, sizeof why);
	fprintf(f, "init=%d\n", rc);
	if (rc == 0) {
		fprintf(f, "# version=%s\n# hexversion=%#x is_static=%d\n",
			L.version, L.hexversion, L.is_static);
		dump(&L, f);
	} else {
		fprintf(f, "# why=%s\n", why);
	}
	fclose(f);
}
#else
int main(int argc, char **argv)
{
	const struct py_layout *row;

	if (argc != 2) {
		fprintf(stderr, "usage: %s MINOR\n", argv[0]);
		return 2;
	}
	row = layout_table_for_minor(atoi(argv[1]));
	if (!row) {
		fprintf(stderr, "%s: no table row for 3.%s\n", argv[0], argv[1]);
		return 1;
	}
	dump(row, stdout);
	return 0;
}
#endif
