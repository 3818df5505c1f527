/*
 * fuzz_hide.c - hide rules: parsing, presets, and matching against frames.
 *
 * The input is one rule per line; the line's first byte says what to do
 * with the rest: h hide, c collapse, s show, p plumbing, P a preset,
 * f a frame "file:qualname" to add to the profile.  Each rule's level is
 * its line number modulo 4.  The rules are then applied to a small
 * profile (frames.h) plus the input's frames, and the tree is built,
 * classified and trimmed as a report would.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "collector/hide.h"
#include "collector/profile.h"
#include "collector/trim.h"
#include "frames.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = g_strndup((const char *)data, size); /* a NUL ends it */
	char **lines = g_strsplit(text, "\n", 64);
	struct profile *p = fuzz_profile();
	struct hide_rules *r = hide_rules_new();
	struct profile_tree_options opts = {.classify = hide_rules_classify,
					    .classify_stack = hide_rules_classify_stack,
					    .classify_data = r};
	struct trim_options trim = {.plumbing = hide_rules_plumbing, .data = r,
				    .self_percent = 5.0};
	struct profile_tree *t;
	guint32 stack = 0;

	hide_rules_add_plumbing(r);
	hide_rules_add_machinery(r);
	for (int i = 0; lines[i]; i++) {
		const char *spec = lines[i][0] ? lines[i] + 1 : lines[i];
		enum hide_level level = (enum hide_level)(i % 4);
		GError *e = NULL;
		gboolean ok = TRUE;
		const char *colon;

		switch (lines[i][0]) {
		case 'h': ok = hide_rules_add(r, level, HIDE_ACTION_HIDE, spec, &e); break;
		case 'c': ok = hide_rules_add(r, level, HIDE_ACTION_COLLAPSE, spec, &e); break;
		case 's': ok = hide_rules_add(r, level, HIDE_ACTION_SHOW, spec, &e); break;
		case 'p': ok = hide_rules_add(r, level, HIDE_ACTION_PLUMBING, spec, &e); break;
		case 'P': ok = hide_rules_add_preset(r, level, spec, &e); break;
		case 'f':
			colon = strrchr(spec, ':');
			if (!colon)
				colon = spec + strlen(spec);
			stack = fuzz_push(p, stack, spec, colon - spec,
					  *colon ? colon + 1 : "", *colon ? colon + 1 : NULL);
			profile_add_sample(p, 0, 2000 + i, 1000000, 0, 0, stack);
			g_free(hide_module_of(spec));
			break;
		}
		if (!ok && (!e || !e->message || e->domain != HIDE_ERROR))
			abort(); /* a refused rule says why */
		g_clear_error(&e);
	}
	hide_rules_apply(r, p);
	for (guint32 id = 1; id <= profile_n_frames(p); id++) {
		hide_rules_classify(p, id, r);
		hide_rules_plumbing(p, id, r);
		g_free(trim_spell_frame(p, id));
	}
	hide_profile_is_ipython(p);
	t = profile_tree_build(p, &opts);
	trim_stem(t, &trim);
	profile_tree_free(t);
	hide_rules_free(r);
	profile_free(p);
	g_strfreev(lines);
	g_free(text);
	return 0;
}
