/*
 * hide.c - compiling hide/collapse/show/plumbing rules, the presets, and
 * the per-frame verdicts the tree builder and the stem trimmer read.
 *
 * The one idea: rules are matched against frames, not samples.  A profile
 * of millions of samples has a few thousand frames, and every line of one
 * function shares its verdict (a frame's line-less twin is evaluated and
 * its lines copy it), so rule matching costs nothing worth measuring.
 */
#include "config.h"

#include "hide.h"

#include <stdlib.h>
#include <string.h>

G_DEFINE_QUARK(pyprof-hide-error-quark, hide_error)

enum field {
	FIELD_FUNCTION = 0, /* name or qualname */
	FIELD_FILE,
	FIELD_MODULE,
	FIELD_NAME,
	FIELD_QUALNAME,
	FIELD_OBJECT,       /* a native frame's object, by base name */
	FIELD_IPYTHON_CELL, /* internal: <ipython-input-N-...> <module> */
};

static const char *const field_names[] = {
	[FIELD_FUNCTION] = "function", [FIELD_FILE] = "file",
	[FIELD_MODULE] = "module", [FIELD_NAME] = "name",
	[FIELD_QUALNAME] = "qualname", [FIELD_OBJECT] = "object",
};

struct term {
	enum field field;
	gboolean caller;    /* caller.FIELD: tests the frame's Python caller */
	GPatternSpec *glob; /* one of glob, re */
	GRegex *re;
};

struct rule {
	enum hide_level level;
	enum hide_action action;
	GArray *terms;      /* of struct term */
	gboolean contextual; /* has a caller. term */
	char *group;        /* collapse: the group's label */
	guint32 group_frame; /* interned by hide_rules_apply */
};

struct hide_rules {
	GPtrArray *rules;   /* of struct rule * */
	guint32 n;          /* frames evaluated: ids 1..n */
	guint32 *verdict;   /* frame id -> 0, PROFILE_TREE_HIDDEN, group, or
			     * PROFILE_TREE_CONTEXTUAL */
	guint8 *plumbing;   /* frame id -> 1 if plumbing */
	GHashTable *cells;  /* cell number -> group frame id */
	GHashTable *modules; /* filename -> its module, of the profile applied */
	GHashTable *in_context; /* (function, caller function) -> verdict */
};

static void term_clear(gpointer data)
{
	struct term *t = data;
	if (t->glob)
		g_pattern_spec_free(t->glob);
	if (t->re)
		g_regex_unref(t->re);
}

static void rule_free(gpointer data)
{
	struct rule *r = data;
	g_array_unref(r->terms);
	g_free(r->group);
	g_free(r);
}

struct hide_rules *hide_rules_new(void)
{
	struct hide_rules *r = g_new0(struct hide_rules, 1);
	r->rules = g_ptr_array_new_with_free_func(rule_free);
	r->cells = g_hash_table_new(g_direct_hash, g_direct_equal);
	r->modules = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
	r->in_context = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
	return r;
}

void hide_rules_free(struct hide_rules *r)
{
	if (!r)
		return;
	g_ptr_array_unref(r->rules);
	g_hash_table_unref(r->cells);
	g_hash_table_unref(r->modules);
	g_hash_table_unref(r->in_context);
	g_free(r->verdict);
	g_free(r->plumbing);
	g_free(r);
}

guint hide_rules_count(const struct hide_rules *r)
{
	return r->rules->len;
}

/* ---- parsing ---- */

static gboolean parse_term(const char *text, struct term *t, GError **error)
{
	const char *sep = strpbrk(text, ":~");
	const char *pattern = text;
	gboolean regex = FALSE;

	memset(t, 0, sizeof *t);
	t->field = FIELD_FUNCTION;
	if (sep) {
		const char *name = text;
		gsize len = (gsize)(sep - text);
		gboolean known = FALSE;
		if (len > 7 && !strncmp(text, "caller.", 7)) {
			t->caller = TRUE;
			name += 7;
			len -= 7;
		}
		for (gsize i = 0; i < G_N_ELEMENTS(field_names); i++)
			if (len == strlen(field_names[i]) &&
			    !strncmp(name, field_names[i], len)) {
				t->field = (enum field)i;
				known = TRUE;
			}
		if (known && t->caller && t->field == FIELD_OBJECT) {
			/* a caller is the nearest Python frame below */
			g_set_error(error, HIDE_ERROR, HIDE_ERROR_SYNTAX,
				    "'%s': a caller is a Python frame: it has no object", text);
			return FALSE;
		}
		if (known || len == 0) {
			regex = *sep == '~';
			pattern = sep + 1;
		} else if (*sep == '~' || g_ascii_isalpha(*text)) {
			/* "modul:x" is a typo, not a function called that */
			char *f = g_strndup(text, (gsize)(sep - text));
			g_set_error(error, HIDE_ERROR, HIDE_ERROR_SYNTAX,
				    "'%s': unknown field '%s' (expected file, module, "
				    "name, qualname, function or object, or caller.FIELD)",
				    text, f);
			g_free(f);
			return FALSE;
		}
	}
	if (!*pattern) {
		g_set_error(error, HIDE_ERROR, HIDE_ERROR_SYNTAX,
			    "'%s': empty pattern", text);
		return FALSE;
	}
	if (regex) {
		GError *e = NULL;
		t->re = g_regex_new(pattern, G_REGEX_OPTIMIZE, 0, &e);
		if (!t->re) {
			g_set_error(error, HIDE_ERROR, HIDE_ERROR_SYNTAX,
				    "'%s': bad regular expression: %s", text, e->message);
			g_error_free(e);
			return FALSE;
		}
	} else {
		t->glob = g_pattern_spec_new(pattern);
	}
	return TRUE;
}

/* Splits spec into its terms: runs of non-blank characters. */
static char **split_terms(const char *spec)
{
	GPtrArray *a = g_ptr_array_new();
	const char *s = spec;

	for (;;) {
		const char *start;
		while (g_ascii_isspace(*s))
			s++;
		if (!*s)
			break;
		start = s;
		while (*s && !g_ascii_isspace(*s))
			s++;
		g_ptr_array_add(a, g_strndup(start, (gsize)(s - start)));
	}
	g_ptr_array_add(a, NULL);
	return (char **)g_ptr_array_free(a, FALSE);
}

gboolean hide_rules_add(struct hide_rules *r, enum hide_level level,
			enum hide_action action, const char *spec,
			GError **error)
{
	struct rule *rule;
	const char *eq = strchr(spec, '='), *body = spec;
	char *group = NULL, **terms;

	/* GLib's globs and regexes take UTF-8 only (a glob ending in a
	 * truncated sequence fails an assertion in g_pattern_spec_new) */
	if (!g_utf8_validate(spec, -1, NULL)) {
		char *shown = g_utf8_make_valid(spec, -1);
		g_set_error(error, HIDE_ERROR, HIDE_ERROR_SYNTAX,
			    "'%s': not valid UTF-8", shown);
		g_free(shown);
		return FALSE;
	}
	/* "NAME=..." names a group when NAME is a plain word */
	if (eq && eq > spec) {
		gboolean word = TRUE;
		for (const char *c = spec; c < eq; c++)
			if (g_ascii_isspace(*c) || *c == ':' || *c == '~')
				word = FALSE;
		if (word) {
			if (action != HIDE_ACTION_COLLAPSE) {
				g_set_error(error, HIDE_ERROR, HIDE_ERROR_SYNTAX,
					    "'%s': a group name (before '=') is only "
					    "for collapse rules", spec);
				return FALSE;
			}
			group = g_strndup(spec, (gsize)(eq - spec));
			body = eq + 1;
		}
	}
	terms = split_terms(body);
	if (!terms[0]) {
		g_set_error(error, HIDE_ERROR, HIDE_ERROR_SYNTAX,
			    "'%s': empty rule", spec);
		g_strfreev(terms);
		g_free(group);
		return FALSE;
	}
	rule = g_new0(struct rule, 1);
	rule->level = level;
	rule->action = action;
	rule->terms = g_array_new(FALSE, FALSE, sizeof(struct term));
	g_array_set_clear_func(rule->terms, term_clear);
	for (char **t = terms; *t; t++) {
		struct term term;
		if (!parse_term(*t, &term, error)) {
			g_strfreev(terms);
			g_free(group);
			rule_free(rule);
			return FALSE;
		}
		g_array_append_val(rule->terms, term);
		rule->contextual |= term.caller;
	}
	if (rule->contextual && action == HIDE_ACTION_PLUMBING) {
		/* the trimmer reads the shown tree, where a frame's parent
		 * is not the caller the stack recorded */
		g_set_error(error, HIDE_ERROR, HIDE_ERROR_SYNTAX,
			    "'%s': caller. terms are for hide, collapse and show "
			    "rules, not plumbing", spec);
		g_strfreev(terms);
		g_free(group);
		rule_free(rule);
		return FALSE;
	}
	if (action == HIDE_ACTION_COLLAPSE && !group) {
		/* named after the first pattern: "module:requests" -> requests */
		const char *sep = strpbrk(terms[0], ":~");
		group = g_strdup(sep ? sep + 1 : terms[0]);
	}
	if (group) {
		rule->group = g_strdup_printf("[%s]", group);
		g_free(group);
	}
	g_strfreev(terms);
	g_ptr_array_add(r->rules, rule);
	return TRUE;
}

/* The rule naming each IPython cell "In [N]". */
static void add_cell_rule(struct hide_rules *r, enum hide_level level)
{
	struct rule *rule = g_new0(struct rule, 1);
	struct term t = {.field = FIELD_IPYTHON_CELL};

	rule->level = level;
	rule->action = HIDE_ACTION_COLLAPSE;
	rule->terms = g_array_new(FALSE, FALSE, sizeof(struct term));
	g_array_set_clear_func(rule->terms, term_clear);
	g_array_append_val(rule->terms, t);
	g_ptr_array_add(r->rules, rule);
}

/* ---- presets and the plumbing list ---- */

struct preset_rule {
	enum hide_action action;
	const char *spec;
};

/* The presets below up to asyncio are Python's machinery: frames that
 * exist to start, import or hand over to the program's code, never a
 * place the program calls for its own sake.  hide_rules_add_machinery
 * applies them by default; a frame of theirs that holds time (the import
 * machinery reading a .pyc, a fork in Popen) gives it to its nearest shown
 * caller, which is the program's line that imported or started it.
 *
 * An import shows as the importing line calling the module's <module>. */
static const struct preset_rule preset_importlib[] = {
	{HIDE_ACTION_HIDE, "module:importlib._bootstrap"},
	{HIDE_ACTION_HIDE, "module:importlib._bootstrap_external"},
	{HIDE_ACTION_HIDE, "module:zipimport"},
	{HIDE_ACTION_HIDE, "module:importlib function~^(\\w+\\.)?import_module$"},
	{0, NULL},
};

/* Start-up's site module: <frozen site> from 3.11, the standard library's
 * site.py before, by file, because a module guessed from a path is the
 * base name outside the library and a program may well be called site.py.
 *
 * The lines of .pth files that start with "import" are run by
 * exec(line) in site (addpackage; StartupState._exec_imports from 3.15),
 * which compiles them as <string> -- as `python -c CODE` and any exec of
 * the program's own are compiled.  So the frame itself cannot tell, and
 * its caller says it: the rule hides a <string> module whose Python caller
 * is one of those two functions of site. */
static const struct preset_rule preset_site[] = {
	{HIDE_ACTION_HIDE, "file~^(<frozen\\ssite>|.*/lib/python3\\.[0-9]+/site\\.py)$"},
	{HIDE_ACTION_HIDE, "file:<string> name:<module> caller.module:site "
			   "caller.function~^(\\w+\\.)?(addpackage|_exec_imports)$"},
	{0, NULL},
};

static const struct preset_rule preset_runpy[] = {
	{HIDE_ACTION_HIDE, "module:runpy"},
	{0, NULL},
};

static const struct preset_rule preset_asyncio[] = {
	{HIDE_ACTION_HIDE, "module:asyncio"},
	{HIDE_ACTION_HIDE, "module:selectors"},
	{0, NULL},
};

/* Python < 3.11 has no qualname: function~ patterns make the class
 * optional. */
static const struct preset_rule preset_threading[] = {
	{HIDE_ACTION_HIDE,
	 "module:threading function~^(Thread\\.)?(_bootstrap|_bootstrap_inner|run)$"},
	{HIDE_ACTION_HIDE,
	 "module:concurrent.futures.thread function~^(_worker|(_WorkItem\\.)?run)$"},
	{0, NULL},
};

/* A child's way to its target: fork (Popen._launch in the parent's copied
 * stack, under the start() that forked), spawn and forkserver (spawn_main,
 * forkserver.main, _serve_one), then _bootstrap and run; a pool's worker
 * loop and concurrent.futures' _process_worker.  The parent's side of
 * start() (context's _Popen, Popen, spawn's preparation data) is its
 * implementation: its time, a fork's included, stays start()'s. */
static const struct preset_rule preset_multiprocessing[] = {
	{HIDE_ACTION_HIDE,
	 "module:multiprocessing.process function~^(BaseProcess\\.)?(_bootstrap|run)$"},
	{HIDE_ACTION_HIDE, "module~^multiprocessing\\.popen_"},
	{HIDE_ACTION_HIDE, "module:multiprocessing.context function~^(\\w+\\.)?_Popen$"},
	{HIDE_ACTION_HIDE, "module:multiprocessing.spawn"},
	{HIDE_ACTION_HIDE, "module:multiprocessing.forkserver"},
	{HIDE_ACTION_HIDE, "module:multiprocessing.pool function~^(worker|mapstar|starmapstar)$"},
	{HIDE_ACTION_HIDE, "module:concurrent.futures.process function~^_process_worker$"},
	{0, NULL},
};

/* IPython: the frames between the process's start and a cell are hidden,
 * so cells are the main thread's top frames; the rest of IPython and the
 * libraries it brings (start-up, the prompt, completion, exit) collapse
 * into one [IPython] node.  Magics' own frames are hidden (what a magic
 * runs stays), as is the import machinery. */
static const struct preset_rule preset_ipython[] = {
	{HIDE_ACTION_HIDE, "file:*/bin/ipython*"},
	{HIDE_ACTION_HIDE, "module:IPython.__main__"},
	{HIDE_ACTION_HIDE, "module:runpy"}, /* python -m IPython */
	{HIDE_ACTION_HIDE,
	 "module:IPython function~^(\\w+\\.)?(start_ipython|launch_new_instance|"
	 "start|mainloop|interact|run_cell|_run_cell|run_cell_async|"
	 "run_ast_nodes|run_code|_pseudo_sync_runner|run_line_magic|"
	 "run_cell_magic|safe_execfile|safe_run_module)$"},
	{HIDE_ACTION_HIDE, "module:traitlets function~^(\\w+\\.)?launch_instance$"},
	{HIDE_ACTION_HIDE, "module:IPython.core.magic"},
	{HIDE_ACTION_HIDE, "module:IPython.core.magics"},
	{HIDE_ACTION_HIDE, "file:<decorator-gen-*>"},
	{HIDE_ACTION_HIDE, "module:importlib._bootstrap"},
	{HIDE_ACTION_HIDE, "module:importlib._bootstrap_external"},
	{HIDE_ACTION_COLLAPSE, "IPython=module:IPython"},
	{HIDE_ACTION_COLLAPSE, "IPython=module:traitlets"},
	{HIDE_ACTION_COLLAPSE, "IPython=module:prompt_toolkit"},
	{HIDE_ACTION_COLLAPSE, "IPython=module:jedi"},
	{HIDE_ACTION_COLLAPSE, "IPython=module:parso"},
	{HIDE_ACTION_COLLAPSE, "IPython=module:pygments"},
	{HIDE_ACTION_COLLAPSE, "IPython=module:stack_data"},
	{HIDE_ACTION_COLLAPSE, "IPython=module:executing"},
	{HIDE_ACTION_COLLAPSE, "IPython=module:asttokens"},
	{HIDE_ACTION_COLLAPSE, "IPython=module:pure_eval"},
	{HIDE_ACTION_COLLAPSE, "IPython=module:pexpect"},
	{HIDE_ACTION_COLLAPSE, "IPython=module:ptyprocess"},
	{HIDE_ACTION_COLLAPSE, "IPython=module:wcwidth"},
	{HIDE_ACTION_COLLAPSE, "IPython=module:decorator"},
	{HIDE_ACTION_COLLAPSE, "IPython=module:pickleshare"},
	{HIDE_ACTION_COLLAPSE, "IPython=module:backcall"},
	{HIDE_ACTION_COLLAPSE, "IPython=module:matplotlib_inline"},
	{0, NULL},
};

/* What the stem trimmer may remove: interpreter and tool plumbing that
 * runs *before* a program's own first frame.  Only frames that exist to
 * start something else belong here; anything a program calls for its own
 * sake (json, re, asyncio.sleep) does not.  The machinery hidden by
 * default (runpy, the import system, the threads' and processes'
 * bootstrap) is not listed: a hidden frame never reaches the tree, and
 * one a show rule brings back is exempt from trimming. */
static const struct preset_rule plumbing[] = {
	{HIDE_ACTION_PLUMBING, "module:asyncio.runners"},
	{HIDE_ACTION_PLUMBING,
	 "module:asyncio.base_events function~^(BaseEventLoop\\.)?(run_until_complete|run_forever|_run_once)$"},
	{HIDE_ACTION_PLUMBING, "module:asyncio.events function~^(Handle\\.)?_run$"},
	{HIDE_ACTION_PLUMBING, "module:cProfile function~^(\\w+\\.)?(main|runctx)$"},
	{HIDE_ACTION_PLUMBING, "file:*/bin/ipython*"},
	{HIDE_ACTION_PLUMBING, "module:IPython.__main__"},
	{HIDE_ACTION_PLUMBING,
	 "module:IPython function~^(\\w+\\.)?(start_ipython|launch_new_instance|"
	 "start|mainloop|interact|run_cell|_run_cell|run_cell_async|"
	 "run_ast_nodes|run_code|_pseudo_sync_runner|run_line_magic|run_cell_magic)$"},
	{HIDE_ACTION_PLUMBING, "module:traitlets function~^(\\w+\\.)?launch_instance$"},
	{0, NULL},
};

/* The interpreter's own native frames: the eval loop and the calls
 * between a Python function and the C function it calls, and the process's
 * and threads' entry points.  Hidden, so that a native stack reads
 * compress_part -> zlib_compress -> deflate; their time is their nearest
 * shown caller's, which for the eval loop is the Python function it runs.
 * `object:*` keeps them to native frames. */
static const struct preset_rule native_interpreter[] = {
	{HIDE_ACTION_HIDE, "object:* name~^_?PyEval_"},
	{HIDE_ACTION_HIDE, "object:* name~^_TAIL_CALL_"},
	{HIDE_ACTION_HIDE, "object:* name~^_?Py(Object|Function|Vectorcall|CFunction|Method)_"
			   "(Vectorcall|Call|FastCall)"},
	{HIDE_ACTION_HIDE, "object:* name~^_PyObject_(MakeTpCall|Call_Prepend|VectorcallTstate)"},
	{HIDE_ACTION_HIDE, "object:* name~^_Py_(BuiltinCall|CallBuiltin|VectorCall).*StackRef"},
	{HIDE_ACTION_HIDE, "object:* name~vectorcall"},
	{HIDE_ACTION_HIDE, "object:* name~^(cfunction_call|function_code_fastcall|call_function|"
			   "do_call_core|slot_tp_call|method_call|partial_call|call_trampoline|"
			   "context_run|object_vacall|exec_code_in_module)$"},
	{HIDE_ACTION_HIDE, "object:* name~^(builtin_exec|_Py_call_instrumentation)"},
	/* resuming generators and coroutines (IPython runs each cell so) */
	{HIDE_ACTION_HIDE, "object:* name~^(gen_send|gen_send_ex2?|gen_iternext|PyGen_am_send|"
			   "_PyGen_Send|coro_wrapper_send|PyIter_Send)$"},
	{HIDE_ACTION_HIDE, "object:* name~^(main|_start|__libc_start_main|__libc_start_call_main|"
			   "Py_BytesMain|Py_Main|Py_RunMain|run_mod|run_eval_code_obj|"
			   "thread_run|pythread_wrapper|start_thread|clone|clone3)$"},
	{HIDE_ACTION_HIDE, "object:* name~^(pymain_|_PyRun_|PyRun_|pyrun_)"},
	/* a stripped interpreter names only its exported functions: the
	 * rest of it is the eval loop's parts and the call machinery */
	{HIDE_ACTION_HIDE, "object~^(python3(\\.[0-9]+)?|libpython3.*)$ "
			   "name~\\+0x[0-9a-f]+$"},
	{0, NULL},
};

static const struct {
	const char *name, *description;
	const struct preset_rule *rules;
	gboolean cells;
	gboolean machinery; /* applied by default */
} presets[] = {
	{"ipython", "IPython's shell and its libraries; each cell shown as In [N]",
	 preset_ipython, TRUE, FALSE},
	{"importlib", "the import machinery (hidden by default)", preset_importlib,
	 FALSE, TRUE},
	{"site", "start-up's site module and the .pth lines it runs (hidden by "
		 "default)", preset_site, FALSE, TRUE},
	{"runpy", "interpreter start-up for -m and run_path (hidden by default)",
	 preset_runpy, FALSE, TRUE},
	{"threading", "thread bootstrap (threading, concurrent.futures; hidden "
		      "by default)", preset_threading, FALSE, TRUE},
	{"multiprocessing", "process bootstrap (multiprocessing, concurrent.futures; "
			    "hidden by default)", preset_multiprocessing, FALSE, TRUE},
	{"asyncio", "the event loop's plumbing", preset_asyncio, FALSE, FALSE},
};

const char *const *hide_presets(void)
{
	static const char *names[G_N_ELEMENTS(presets) + 1];
	for (gsize i = 0; i < G_N_ELEMENTS(presets); i++)
		names[i] = presets[i].name;
	return names;
}

const char *hide_preset_description(const char *name)
{
	for (gsize i = 0; i < G_N_ELEMENTS(presets); i++)
		if (!strcmp(presets[i].name, name))
			return presets[i].description;
	return NULL;
}

static void add_builtin(struct hide_rules *r, enum hide_level level,
			const struct preset_rule *rules)
{
	for (; rules->spec; rules++) {
		GError *e = NULL;
		if (!hide_rules_add(r, level, rules->action, rules->spec, &e))
			g_error("built-in rule %s: %s", rules->spec, e->message);
	}
}

gboolean hide_rules_add_preset(struct hide_rules *r, enum hide_level level,
			       const char *name, GError **error)
{
	GString *known;

	for (gsize i = 0; i < G_N_ELEMENTS(presets); i++) {
		if (strcmp(presets[i].name, name))
			continue;
		add_builtin(r, level, presets[i].rules);
		if (presets[i].cells)
			add_cell_rule(r, level);
		return TRUE;
	}
	known = g_string_new(NULL);
	for (gsize i = 0; i < G_N_ELEMENTS(presets); i++)
		g_string_append_printf(known, "%s%s", i ? ", " : "", presets[i].name);
	g_set_error(error, HIDE_ERROR, HIDE_ERROR_PRESET,
		    "unknown preset '%s' (expected %s)", name, known->str);
	g_string_free(known, TRUE);
	return FALSE;
}

void hide_rules_add_plumbing(struct hide_rules *r)
{
	add_builtin(r, HIDE_LEVEL_DEFAULT, plumbing);
}

void hide_rules_add_native(struct hide_rules *r)
{
	add_builtin(r, HIDE_LEVEL_DEFAULT, native_interpreter);
}

void hide_rules_add_machinery(struct hide_rules *r)
{
	for (gsize i = 0; i < G_N_ELEMENTS(presets); i++)
		if (presets[i].machinery)
			add_builtin(r, HIDE_LEVEL_DEFAULT, presets[i].rules);
}

/* ---- modules ---- */

char *hide_module_of(const char *filename)
{
	static const char *const roots[] = {"/site-packages/", "/dist-packages/"};
	const char *s = filename, *at;
	char *m, *dot;
	gsize len;

	if (g_str_has_prefix(s, "<frozen ") && g_str_has_suffix(s, ">"))
		return g_strndup(s + 8, strlen(s) - 9);
	if (*s == '<')
		return g_strdup("");
	for (gsize i = 0; i < G_N_ELEMENTS(roots); i++)
		if ((at = g_strrstr(s, roots[i])) && at + strlen(roots[i]) > s)
			s = at + strlen(roots[i]);
	if (s == filename) {
		/* the standard library: .../lib/pythonX.Y/ */
		const char *lib = g_strrstr(filename, "/lib/python");
		const char *slash = lib ? strchr(lib + 11, '/') : NULL;
		if (slash)
			s = slash + 1;
		else if ((at = strrchr(filename, '/')))
			s = at + 1;
	}
	len = strlen(s);
	if (len > 3 && !strcmp(s + len - 3, ".py"))
		len -= 3;
	m = g_strndup(s, len);
	if (g_str_has_suffix(m, "/__init__"))
		m[strlen(m) - 9] = '\0';
	for (dot = m; *dot; dot++)
		if (*dot == '/')
			*dot = '.';
	return m;
}

/* ---- matching ---- */

static gboolean glob_or_re(const struct term *t, const char *s)
{
	if (t->re)
		return g_regex_match(t->re, s, 0, NULL);
	return g_pattern_spec_match_string(t->glob, s);
}

/* "module:a" matches a and a.b.c: a glob is tried on the module and on
 * each of its parent packages; a regex searches the full name. */
static gboolean match_module(const struct term *t, const char *module)
{
	char *m;
	gboolean hit = FALSE;

	if (t->re || !strchr(module, '.'))
		return glob_or_re(t, module);
	m = g_strdup(module);
	for (;;) {
		char *dot;
		if ((hit = glob_or_re(t, m)))
			break;
		if (!(dot = strrchr(m, '.')))
			break;
		*dot = '\0';
	}
	g_free(m);
	return hit;
}

/* The cell number of an IPython cell's top-level code, or -1.  IPython
 * 8 compiles cell N as "<ipython-input-N-HASH>" (compilerop.py). */
static int ipython_cell(const struct profile_frame *f)
{
	const char *s = f->filename;
	char *end;
	long n;

	if (!g_str_has_prefix(s, "<ipython-input-") || strcmp(f->name, "<module>"))
		return -1;
	n = strtol(s + 15, &end, 10);
	return end != s + 15 && *end == '-' && n >= 0 && n < G_MAXINT ? (int)n : -1;
}

static gboolean term_match(const struct term *t, const struct profile_frame *f,
			   const char *module)
{
	const char *q = f->qualname ? f->qualname : f->name;

	switch (t->field) {
	case FIELD_FUNCTION:
		return glob_or_re(t, f->name) || (q != f->name && glob_or_re(t, q));
	case FIELD_FILE:
		return glob_or_re(t, f->filename);
	case FIELD_MODULE:
		return match_module(t, module);
	case FIELD_NAME:
		return glob_or_re(t, f->name);
	case FIELD_QUALNAME:
		return glob_or_re(t, q);
	case FIELD_OBJECT: {
		const char *base;
		if (f->kind != PROFILE_FRAME_NATIVE)
			return FALSE;
		base = strrchr(f->filename, '/');
		return glob_or_re(t, base ? base + 1 : f->filename);
	}
	case FIELD_IPYTHON_CELL:
		return ipython_cell(f) >= 0;
	}
	return FALSE;
}

static guint32 group_frame(struct profile *p, const char *label)
{
	return profile_frame_intern(p, PROFILE_FRAME_GROUP, profile_intern(p, "", -1),
				    profile_intern(p, label, -1), NULL, -1, -1, -1);
}

static guint32 cell_frame(struct hide_rules *r, struct profile *p,
			  const struct profile_frame *f)
{
	int n = ipython_cell(f);
	gpointer id = g_hash_table_lookup(r->cells, GINT_TO_POINTER(n));
	char label[32];

	if (id)
		return GPOINTER_TO_UINT(id);
	g_snprintf(label, sizeof label, "In [%d]", n);
	guint32 g = group_frame(p, label);
	g_hash_table_insert(r->cells, GINT_TO_POINTER(n), GUINT_TO_POINTER(g));
	return g;
}

static int action_rank(enum hide_action a)
{
	/* hide before collapse: a preset collapses a package and hides
	 * chosen functions of it */
	return a == HIDE_ACTION_SHOW ? 3 : a == HIDE_ACTION_HIDE ? 2 : 1;
}

/* The frame a caller. term tests, and its module; f NULL when the frame
 * has no Python caller (a thread's first frame). */
struct caller {
	const struct profile_frame *f;
	const char *module;
};

struct judgement {
	const struct rule *best; /* the deciding hide, collapse or show rule */
	gboolean plumbing, shown;
	gboolean contextual; /* a caller. rule would match, given the caller */
};

/* What the rules say of frame f.  Without ctx (hide_rules_apply's pass
 * over frames, which knows no stack) a rule with caller. terms is left
 * undecided: it only sets j->contextual when its other terms match. */
static void judge(const struct hide_rules *r, const struct profile_frame *f,
		  const char *module, const struct caller *ctx,
		  struct judgement *j)
{
	memset(j, 0, sizeof *j);
	for (guint i = 0; i < r->rules->len; i++) {
		const struct rule *rule = g_ptr_array_index(r->rules, i);
		gboolean all = TRUE;
		for (guint k = 0; all && k < rule->terms->len; k++) {
			const struct term *t = &g_array_index(rule->terms, struct term, k);
			if (!t->caller)
				all = term_match(t, f, module);
			else if (ctx)
				all = ctx->f && term_match(t, ctx->f, ctx->module);
		}
		if (!all)
			continue;
		if (rule->contextual && !ctx) {
			j->contextual = TRUE;
			continue;
		}
		if (rule->action == HIDE_ACTION_PLUMBING) {
			j->plumbing = TRUE;
			continue;
		}
		if (rule->action == HIDE_ACTION_SHOW)
			j->shown = TRUE;
		if (!j->best || rule->level > j->best->level ||
		    (rule->level == j->best->level &&
		     action_rank(rule->action) > action_rank(j->best->action)))
			j->best = rule;
	}
}

/* The verdict `best` gives f: 0, PROFILE_TREE_HIDDEN or a group frame,
 * interned into p.  With p NULL (a contextual verdict, asked while a tree
 * is being built on p) the group frame must have been interned already. */
static guint32 verdict_of(struct hide_rules *r, struct profile *p,
			  const struct profile_frame *f, const struct rule *best)
{
	if (!best || best->action == HIDE_ACTION_SHOW)
		return 0;
	if (best->action == HIDE_ACTION_HIDE)
		return PROFILE_TREE_HIDDEN;
	if (!best->group)
		return p ? cell_frame(r, p, f)
			 : GPOINTER_TO_UINT(g_hash_table_lookup(
				   r->cells, GINT_TO_POINTER(ipython_cell(f))));
	if (!best->group_frame && p)
		((struct rule *)best)->group_frame = group_frame(p, best->group);
	return best->group_frame;
}

static const char *module_of(struct hide_rules *r, const struct profile_frame *f)
{
	const char *m;

	if (f->kind == PROFILE_FRAME_NATIVE)
		return "";
	if (!(m = g_hash_table_lookup(r->modules, f->filename))) {
		m = hide_module_of(f->filename);
		g_hash_table_insert(r->modules, (gpointer)f->filename, (gpointer)m);
	}
	return m;
}

/* A contextual frame's verdict may come from any collapse rule that
 * matches it, whatever the caller: their groups are interned now, while
 * p may still grow. */
static void intern_groups(struct hide_rules *r, struct profile *p,
			  const struct profile_frame *f, const char *module)
{
	for (guint i = 0; i < r->rules->len; i++) {
		const struct rule *rule = g_ptr_array_index(r->rules, i);
		gboolean all = rule->action == HIDE_ACTION_COLLAPSE;
		for (guint k = 0; all && k < rule->terms->len; k++) {
			const struct term *t = &g_array_index(rule->terms, struct term, k);
			all = t->caller || term_match(t, f, module);
		}
		if (all)
			verdict_of(r, p, f, rule);
	}
}

void hide_rules_apply(struct hide_rules *r, struct profile *p)
{
	guint32 n = profile_n_frames(p);

	r->verdict = g_renew(guint32, r->verdict, n + 1);
	r->plumbing = g_renew(guint8, r->plumbing, n + 1);
	r->verdict[0] = 0;
	r->plumbing[0] = 0;
	r->n = n;
	g_hash_table_remove_all(r->modules);
	g_hash_table_remove_all(r->in_context);
	for (guint32 id = 1; id <= n; id++) {
		const struct profile_frame *f = profile_frame(p, id);
		struct judgement j;
		const char *module;

		r->verdict[id] = 0;
		r->plumbing[id] = 0;
		if (!profile_frame_is_code(f))
			continue;
		if (f->function != id && f->function < id) {
			r->verdict[id] = r->verdict[f->function];
			r->plumbing[id] = r->plumbing[f->function];
			continue;
		}
		module = module_of(r, f);
		judge(r, f, module, NULL, &j);
		/* bit 1: plumbing; bit 2: a show rule matched */
		r->plumbing[id] = (guint8)((j.plumbing && !j.shown) | (j.shown << 1));
		if (j.contextual) {
			intern_groups(r, p, f, module);
			r->verdict[id] = PROFILE_TREE_CONTEXTUAL;
		} else {
			r->verdict[id] = verdict_of(r, p, f, j.best);
		}
	}
}

guint32 hide_rules_classify(const struct profile *p, guint32 frame,
			    gpointer data)
{
	const struct hide_rules *r = data;
	(void)p;
	return frame <= r->n && r->verdict ? r->verdict[frame] : 0;
}

guint32 hide_rules_classify_stack(const struct profile *p, guint32 stack,
				  gpointer data)
{
	struct hide_rules *r = data;
	const struct profile_stack *s = profile_stack(p, stack);
	const struct profile_frame *f = profile_frame(p, s->frame);
	struct caller ctx = {NULL, NULL};
	struct judgement j;
	gint64 key;
	gpointer v;
	guint32 verdict;

	if (hide_rules_classify(p, s->frame, r) != PROFILE_TREE_CONTEXTUAL)
		return hide_rules_classify(p, s->frame, r);
	/* native frames between two Python ones are how the interpreter
	 * made the call (exec, the eval loop), as Python's own f_back
	 * skips them */
	for (guint32 up = s->parent; up; up = profile_stack(p, up)->parent) {
		const struct profile_frame *c = profile_frame(p, profile_stack(p, up)->frame);
		if (c->kind != PROFILE_FRAME_NATIVE) {
			ctx.f = c->kind == PROFILE_FRAME_PYTHON ? c : NULL;
			break;
		}
	}
	/* rules never read lines: one verdict per pair of functions */
	key = ((gint64)f->function << 32) | (ctx.f ? ctx.f->function : 0);
	if (g_hash_table_lookup_extended(r->in_context, &key, NULL, &v))
		return GPOINTER_TO_UINT(v);
	if (ctx.f)
		ctx.module = module_of(r, ctx.f);
	judge(r, f, module_of(r, f), &ctx, &j);
	verdict = verdict_of(r, NULL, f, j.best);
	g_hash_table_insert(r->in_context, g_memdup2(&key, sizeof key),
			    GUINT_TO_POINTER(verdict));
	return verdict;
}

gboolean hide_rules_plumbing(const struct profile *p, guint32 frame,
			     gpointer data)
{
	const struct hide_rules *r = data;
	(void)p;
	return frame <= r->n && r->plumbing ? (r->plumbing[frame] & 1) != 0 : FALSE;
}

gboolean hide_rules_shown(const struct profile *p, guint32 frame, gpointer data)
{
	const struct hide_rules *r = data;
	(void)p;
	return frame <= r->n && r->plumbing ? (r->plumbing[frame] & 2) != 0 : FALSE;
}

/* ---- IPython detection ---- */

gboolean hide_profile_is_ipython(const struct profile *p)
{
	guint32 n = profile_n_frames(p);

	for (guint i = 0; i < p->processes->len; i++) {
		char **argv = profile_process(p, i)->argv;
		for (int a = 0; argv[a] && a < 3; a++) {
			char *base = g_path_get_basename(argv[a]);
			gboolean hit = g_str_has_prefix(base, "ipython") ||
				       (a > 0 && !strcmp(base, "IPython") &&
					!strcmp(argv[a - 1], "-m"));
			g_free(base);
			if (hit)
				return TRUE;
		}
	}
	for (guint32 id = 1; id <= n; id++) {
		const struct profile_frame *f = profile_frame(p, id);
		if (f->kind == PROFILE_FRAME_PYTHON &&
		    (ipython_cell(f) >= 0 ||
		     g_str_has_suffix(f->filename, "/IPython/core/interactiveshell.py")))
			return TRUE;
	}
	return FALSE;
}
