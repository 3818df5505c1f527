/*
 * fuzz_config.c - the pyprof.conf parser on arbitrary files.
 *
 * The input is the file; config_load_file reads it (through a memfd, as
 * a path), and the rules it holds are applied to a small profile
 * (frames.h).  A file that is refused must say why.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <glib.h>

#include "collector/conf.h"
#include "collector/hide.h"
#include "collector/profile.h"
#include "frames.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	struct config c;
	struct profile *p;
	GError *e = NULL;

	if (fd < 0) {
		fd = memfd_create("pyprof.conf", 0);
		if (fd < 0)
			abort();
		g_snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	config_init(&c);
	if (config_load_file(&c, path, &e)) {
		p = fuzz_profile();
		hide_rules_apply(c.rules, p);
		for (guint32 id = 1; id <= profile_n_frames(p); id++)
			hide_rules_classify(p, id, c.rules);
		profile_free(p);
	} else if (!e || !e->message) {
		abort();
	}
	g_clear_error(&e);
	config_release(&c);
	return 0;
}
