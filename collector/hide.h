/*
 * hide.h - rules that hide, collapse, exempt and mark frames as plumbing:
 * one mechanism for every report format.
 *
 * A rule is written the same way on the command line, in the environment
 * and in pyprof.conf (the manual is pyprof.conf(5)):
 *
 *     [GROUP=]TERM [TERM...]        every TERM must match
 *     TERM = FIELD:GLOB | FIELD~REGEX | GLOB
 *     FIELD = file | module | name | qualname | function | object
 *           | caller.FIELD (but object)
 *
 * A bare GLOB tests `function` (the name or the qualified name).  Rules
 * are compiled once (hide_rules_add) and evaluated once per frame of a
 * profile (hide_rules_apply), never per sample: the tree builder asks
 * hide_rules_classify, which reads the answer from an array.
 *
 * A caller.FIELD term tests the frame's Python caller as the stack
 * recorded it (hidden or not; native frames between are skipped).  A frame
 * that a rule with such terms would match but for them is contextual:
 * hide_rules_classify says PROFILE_TREE_CONTEXTUAL, and the tree builder
 * asks hide_rules_classify_stack once per stack that ends in it, which
 * judges every rule again with the caller known, once per pair of
 * functions.  Only a few frames are ever contextual (the built-in rule of
 * this kind is about <string> code that site runs for .pth files).
 *
 * Rules judge Python and native frames (object matches only the latter,
 * by its object's base name; module only the former): synthetic frames ([truncated],
 * [unknown], and [idle], which is not even part of a stack; see
 * profile.h) are always kept, whatever a rule's pattern matches.
 *
 * Precedence: each rule belongs to a level (default < config file <
 * environment < command line).  For each frame, the highest level with a
 * hide, collapse or show rule that matches decides; within one level,
 * show beats hide beats collapse (a preset collapses a package and hides
 * chosen functions of it); among collapse rules the first added wins.
 * Plumbing rules (the stem trimmer's list of interpreter and tool frames)
 * only mark; a frame that any show rule matches is never plumbing.  The
 * trimmer reads the shown tree, not the recorded stacks, so plumbing
 * rules cannot have caller. terms and show rules with them do not exempt
 * from trimming.
 *
 * Ownership: struct hide_rules owns its compiled rules and verdicts; the
 * group frames it interns belong to the profile.
 */
#ifndef PYPROF_HIDE_H
#define PYPROF_HIDE_H

#include <glib.h>

#include "collector/profile.h"

#define HIDE_ERROR (hide_error_quark())
GQuark hide_error_quark(void);
enum hide_error_code {
	HIDE_ERROR_SYNTAX, /* a rule that does not parse */
	HIDE_ERROR_PRESET, /* no preset of that name */
};

enum hide_level {
	HIDE_LEVEL_DEFAULT = 0, /* built-in: plumbing, automatic presets */
	HIDE_LEVEL_CONFIG,
	HIDE_LEVEL_ENV,
	HIDE_LEVEL_CMDLINE,
};

enum hide_action {
	HIDE_ACTION_HIDE = 0,
	HIDE_ACTION_COLLAPSE,
	HIDE_ACTION_SHOW,
	HIDE_ACTION_PLUMBING,
};

struct hide_rules;

struct hide_rules *hide_rules_new(void);
void hide_rules_free(struct hide_rules *r);

/* Compiles `spec` as a rule; FALSE with a HIDE_ERROR naming the problem
 * if it does not parse.  A GROUP= prefix is only allowed with collapse;
 * without one a collapse rule's group is named after its first pattern. */
gboolean hide_rules_add(struct hide_rules *r, enum hide_level level,
			enum hide_action action, const char *spec,
			GError **error);

/* Adds the rules of preset `name` at `level`.  Presets: see hide_presets. */
gboolean hide_rules_add_preset(struct hide_rules *r, enum hide_level level,
			       const char *name, GError **error);

/* Adds the built-in plumbing list (asyncio's loop, cProfile's entry,
 * IPython's entry point: what the machinery hidden by default leaves) at
 * the default level. */
void hide_rules_add_plumbing(struct hide_rules *r);

/* Adds the hide rules for Python's machinery (the presets importlib,
 * site, runpy, threading and multiprocessing: see hide.c) at the default
 * level. */
void hide_rules_add_machinery(struct hide_rules *r);

/* Adds the hide rules for the interpreter's own native frames (the eval
 * loop, the call machinery, the entry points: see hide.c) at the default
 * level. */
void hide_rules_add_native(struct hide_rules *r);

/* The preset names, NULL-terminated, and a one-line description of each. */
const char *const *hide_presets(void);
const char *hide_preset_description(const char *name);

/* The number of rules added, plumbing included. */
guint hide_rules_count(const struct hide_rules *r);

/* Whether a profile looks like it was taken of IPython: an ipython
 * command line, or frames of IPython's interactive shell or cells. */
gboolean hide_profile_is_ipython(const struct profile *p);

/* Evaluates the rules on every frame of p, once; interns the group frames
 * into p.  Call again after frames are added to p. */
void hide_rules_apply(struct hide_rules *r, struct profile *p);

/* For struct profile_tree_options.classify (data: the rules, applied to
 * p): 0, PROFILE_TREE_HIDDEN or a group frame id. */
guint32 hide_rules_classify(const struct profile *p, guint32 frame,
			    gpointer data);

/* For struct profile_tree_options.classify_stack: the verdict on the leaf
 * frame of stack, judged with its caller (see above). */
guint32 hide_rules_classify_stack(const struct profile *p, guint32 stack,
				  gpointer data);

/* Whether frame is plumbing (after hide_rules_apply). */
gboolean hide_rules_plumbing(const struct profile *p, guint32 frame,
			     gpointer data);
/* Whether a show rule matches frame (after hide_rules_apply): such a
 * frame is also never folded away (collector/shape.h). */
gboolean hide_rules_shown(const struct profile *p, guint32 frame,
			  gpointer data);

/* The module a frame's file belongs to, guessed from its path:
 * "<frozen runpy>" -> runpy, ".../site-packages/a/b.py" -> a.b,
 * ".../lib/python3.11/json/__init__.py" -> json, "/home/me/app.py" -> app,
 * "<string>" -> "".  Newly allocated. */
char *hide_module_of(const char *filename);

#endif
