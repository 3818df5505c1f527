/*
 * frames.h - a small profile for the rule harnesses to judge: frames of
 * the kinds hide.c and trim.c tell apart (frozen modules, the standard
 * library, site-packages, IPython, plain scripts, odd file names), one
 * stack through all of them, plus the harness's own.
 */
#ifndef FUZZ_FRAMES_H
#define FUZZ_FRAMES_H

#include <string.h>

#include <glib.h>

#include "collector/profile.h"

static const char *const fuzz_frames[][3] = { /* file, name, qualname */
	{"<frozen runpy>", "_run_code", "_run_code"},
	{"/usr/lib/python3.11/runpy.py", "_run_module_as_main", NULL},
	{"/usr/lib/python3.11/threading.py", "_bootstrap_inner", "Thread._bootstrap_inner"},
	{"/usr/lib/python3.11/json/__init__.py", "loads", "loads"},
	{"/venv/lib/python3.11/site-packages/IPython/core/interactiveshell.py",
	 "run_cell", "InteractiveShell.run_cell"},
	{"<ipython-input-1-abc>", "<module>", "<module>"},
	{"/home/me/app.py", "main", "main"},
	{"/home/me/app.py", "f", "A.f"},
	{"<string>", "<lambda>", "g.<locals>.<lambda>"},
	{"", "", ""},
};

/* Adds one frame "file:qualname" (the name is the qualname's last part)
 * on top of stack `parent`; returns the new stack. */
static inline guint32 fuzz_push(struct profile *p, guint32 parent,
				const char *file, gssize file_len,
				const char *name, const char *qual)
{
	guint32 frame = profile_frame_intern(
		p, PROFILE_FRAME_PYTHON, profile_intern(p, file, file_len),
		profile_intern(p, name, -1), qual ? profile_intern(p, qual, -1) : NULL,
		1, 2, -1);
	return frame ? profile_stack_push(p, parent, frame) : parent;
}

/* A process of one thread whose samples walk fuzz_frames. */
static inline struct profile *fuzz_profile(void)
{
	struct profile *p = profile_new();
	struct profile_process info = {.path = "fuzz.pyprof", .pid = 7,
				       .mode = PROFILE_MODE_CPU, .complete = TRUE};
	guint32 stack = 0;

	profile_add_process(p, &info);
	profile_add_thread(p, 0, 1, 7, PROFILE_THREAD_MAIN, 0, NULL, 0);
	for (gsize i = 0; i < G_N_ELEMENTS(fuzz_frames); i++) {
		stack = fuzz_push(p, stack, fuzz_frames[i][0], -1, fuzz_frames[i][1],
				  fuzz_frames[i][2]);
		profile_add_sample(p, 0, 1000 + i, 1000000 * (i + 1), 0, 0, stack);
	}
	return p;
}

#endif
