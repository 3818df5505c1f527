/*
 * conf.c - pyprof.conf and PYPROF_* for the report's shaping: the config
 * file module, named apart from autoconf's config.h.
 *
 * Values are read raw (g_key_file_get_value, not get_string): GKeyFile's
 * own unescaping would reject "\." in a regex, and rules are full of
 * regexes.  Lists are split here at unescaped ';'.
 */
#include "config.h"

#include "collector/conf.h"

#include <errno.h>
#include <string.h>

#define CONFIG_GROUP "report"

void config_init(struct config *c)
{
	memset(c, 0, sizeof *c);
	c->rules = hide_rules_new();
	c->show_all = -1;
	c->fold = -1;
	c->trim = -1;
	c->trim_self_percent = -1;
}

void config_release(struct config *c)
{
	hide_rules_free(c->rules);
	g_free(c->file);
	c->rules = NULL;
	c->file = NULL;
}

char *config_find_file(const char *explicit_path)
{
	const char *env = g_getenv("PYPROF_CONFIG");
	char *path;

	if (explicit_path)
		return g_strdup(explicit_path);
	if (env && *env)
		return g_strdup(env);
	if (g_file_test("pyprof.conf", G_FILE_TEST_IS_REGULAR))
		return g_strdup("pyprof.conf");
	/* g_get_user_config_dir() honours XDG_CONFIG_HOME, else ~/.config */
	path = g_build_filename(g_get_user_config_dir(), "pyprof", "pyprof.conf", NULL);
	if (g_file_test(path, G_FILE_TEST_IS_REGULAR))
		return path;
	g_free(path);
	return NULL;
}

char **config_split_list(const char *value)
{
	GPtrArray *items = g_ptr_array_new();
	GString *cur = g_string_new(NULL);

	for (const char *s = value;; s++) {
		if (*s == '\\' && s[1] == ';') {
			g_string_append_c(cur, ';');
			s++;
			continue;
		}
		if (*s == ';' || !*s) {
			char *item = g_strstrip(g_strdup(cur->str));
			if (*item)
				g_ptr_array_add(items, item);
			else
				g_free(item);
			g_string_truncate(cur, 0);
			if (!*s)
				break;
			continue;
		}
		g_string_append_c(cur, *s);
	}
	g_string_free(cur, TRUE);
	g_ptr_array_add(items, NULL);
	return (char **)g_ptr_array_free(items, FALSE);
}

gboolean config_parse_bool(const char *s, gboolean *out)
{
	static const char *const yes[] = {"1", "yes", "true", "on"};
	static const char *const no[] = {"0", "no", "false", "off"};

	for (gsize i = 0; i < G_N_ELEMENTS(yes); i++) {
		if (!g_ascii_strcasecmp(s, yes[i]))
			return *out = TRUE, TRUE;
		if (!g_ascii_strcasecmp(s, no[i]))
			return *out = FALSE, TRUE;
	}
	return FALSE;
}

static gboolean parse_percent(const char *s, double *out)
{
	char *end = NULL;
	double v;

	errno = 0;
	v = g_ascii_strtod(s, &end);
	if (!*s || errno || !end || *end || !(v >= 0 && v <= 100))
		return FALSE;
	*out = v;
	return TRUE;
}

/* Adds each rule of a list value; `where` names it in errors. */
static gboolean add_list(struct config *c, enum hide_level level,
			 const char *key, const char *value, const char *where,
			 GError **error)
{
	char **items = config_split_list(value);
	gboolean ok = TRUE;

	for (char **it = items; ok && *it; it++) {
		GError *e = NULL;
		if (!strcmp(key, "preset"))
			ok = hide_rules_add_preset(c->rules, level, *it, &e);
		else
			ok = hide_rules_add(c->rules, level,
					    !strcmp(key, "hide") ? HIDE_ACTION_HIDE
					    : !strcmp(key, "collapse") ? HIDE_ACTION_COLLAPSE
					    : !strcmp(key, "show") ? HIDE_ACTION_SHOW
								   : HIDE_ACTION_PLUMBING,
					    *it, &e);
		if (!ok) {
			g_set_error(error, HIDE_ERROR, e->code, "%s: %s", where, e->message);
			g_error_free(e);
		}
	}
	g_strfreev(items);
	return ok;
}

static const char *const list_keys[] = {"preset", "hide", "collapse", "show",
					"plumbing"};

gboolean config_load_file(struct config *c, const char *path, GError **error)
{
	GKeyFile *kf = g_key_file_new();
	GError *e = NULL;
	char **keys = NULL;
	gboolean ok = TRUE;

	if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &e)) {
		g_set_error(error, e->domain, e->code, "%s: %s", path, e->message);
		g_error_free(e);
		g_key_file_free(kf);
		return FALSE;
	}
	g_free(c->file);
	c->file = g_strdup(path);
	if (g_key_file_has_group(kf, CONFIG_GROUP))
		keys = g_key_file_get_keys(kf, CONFIG_GROUP, NULL, NULL);
	for (char **k = keys; ok && k && *k; k++) {
		char *v = g_key_file_get_value(kf, CONFIG_GROUP, *k, NULL);
		char *where = g_strdup_printf("%s: [%s] %s", path, CONFIG_GROUP, *k);
		gboolean b, is_list = FALSE;
		double pct;

		for (gsize i = 0; i < G_N_ELEMENTS(list_keys); i++)
			if (!strcmp(*k, list_keys[i]))
				is_list = TRUE;
		if (is_list) {
			ok = add_list(c, HIDE_LEVEL_CONFIG, *k, v, where, error);
		} else if (!strcmp(*k, "show-all") || !strcmp(*k, "trim") ||
			   !strcmp(*k, "fold")) {
			if ((ok = config_parse_bool(g_strstrip(v), &b)))
				*(!strcmp(*k, "trim") ? &c->trim
				  : !strcmp(*k, "fold") ? &c->fold : &c->show_all) = b;
			else
				g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
					    "%s: expected true or false, got '%s'", where, v);
		} else if (!strcmp(*k, "trim-self-percent")) {
			if ((ok = parse_percent(g_strstrip(v), &pct)))
				c->trim_self_percent = pct;
			else
				g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
					    "%s: expected a percentage from 0 to 100, got '%s'",
					    where, v);
		} else {
			ok = FALSE;
			g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND,
				    "%s: unknown key (expected preset, hide, collapse, show, "
				    "plumbing, show-all, trim, trim-self-percent or fold)", where);
		}
		g_free(where);
		g_free(v);
	}
	g_strfreev(keys);
	g_key_file_free(kf);
	return ok;
}

gboolean config_load_env(struct config *c, GError **error)
{
	static const struct { const char *var, *key; } lists[] = {
		{"PYPROF_PRESET", "preset"}, {"PYPROF_HIDE", "hide"},
		{"PYPROF_COLLAPSE", "collapse"}, {"PYPROF_SHOW", "show"},
	};
	const char *v;
	gboolean b;

	for (gsize i = 0; i < G_N_ELEMENTS(lists); i++)
		if ((v = g_getenv(lists[i].var)) && *v &&
		    !add_list(c, HIDE_LEVEL_ENV, lists[i].key, v, lists[i].var, error))
			return FALSE;
	if ((v = g_getenv("PYPROF_SHOW_ALL")) && *v) {
		if (!config_parse_bool(v, &b)) {
			g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
				    "PYPROF_SHOW_ALL=%s: expected 1 or 0", v);
			return FALSE;
		}
		c->show_all = b;
	}
	if ((v = g_getenv("PYPROF_TRIM")) && *v) {
		if (!config_parse_bool(v, &b)) {
			g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
				    "PYPROF_TRIM=%s: expected 1 or 0", v);
			return FALSE;
		}
		c->trim = b;
	}
	return TRUE;
}
