/*
 * family.c - families of threads: the threads of a process whose names
 * differ only by their numbers, which the default report shows as one
 * tree (PROFILE_GROUP_FAMILY).
 *
 * A server that starts a thread per request has thousands of threads
 * that are one thread repeated, "Thread-12 (process_request_thread)",
 * "Thread-13 (process_request_thread)", ...; one tree each buries the
 * report, and merging by exact name merges nothing.  So a name's family
 * key is the name with every run of ASCII digits made one byte 0xff,
 * which no interned string holds (they are valid UTF-8), so no name
 * spells a key by accident.  Python's own default, "Thread-N (target)"
 * since 3.10, keeps the target's digits: a function called worker2 is
 * not worker3.
 *
 * The label says what the threads share: the target for Python's
 * default form ("process_request_thread"), else the name with the digit
 * runs that differ between the threads as N and those they share kept
 * ("ThreadPoolExecutor-0_N" for one executor's workers,
 * "ThreadPoolExecutor-N_N" for an executor per request, "Dummy-N",
 * "asyncio_N", and "Thread N" for threads without a Python name, which
 * the model names by their tid).
 *
 * Only threads with samples count (nothing shows the others), and a
 * process's main thread is never in a family: it is the program, not one
 * of its workers, even when a thread shares its name.
 */
#include "config.h"

#include "collector/profile.h"

#include <string.h>

#define FAMILY_DIGITS '\xff'

/* The target of Python's default name "Thread-<digits> (<target>)", as
 * [*start, *start + *len); FALSE for any other name. */
static gboolean default_form(const char *name, const char **start, gsize *len)
{
	static const char prefix[] = "Thread-";
	const char *s, *t;
	gsize n = strlen(name);

	if (strncmp(name, prefix, sizeof prefix - 1))
		return FALSE;
	s = name + sizeof prefix - 1;
	if (!g_ascii_isdigit(*s))
		return FALSE;
	while (g_ascii_isdigit(*s))
		s++;
	if (strncmp(s, " (", 2) || name[n - 1] != ')')
		return FALSE;
	t = s + 2;
	if (t >= name + n - 1)
		return FALSE; /* "Thread-1 ()": no target to name it by */
	*start = t;
	*len = (gsize)(name + n - 1 - t);
	return TRUE;
}

char *profile_family_key(const char *name)
{
	GString *k = g_string_sized_new(strlen(name));
	const char *target;
	gsize len;

	if (default_form(name, &target, &len)) {
		g_string_append(k, "Thread-");
		g_string_append_c(k, FAMILY_DIGITS);
		g_string_append(k, " (");
		g_string_append_len(k, target, (gssize)len);
		g_string_append_c(k, ')');
		return g_string_free(k, FALSE);
	}
	for (const char *s = name; *s;) {
		if (!g_ascii_isdigit(*s)) {
			g_string_append_c(k, *s++);
			continue;
		}
		g_string_append_c(k, FAMILY_DIGITS);
		while (g_ascii_isdigit(*s))
			s++;
	}
	return g_string_free(k, FALSE);
}

/* The length of the digit run at s */
static gsize digits_at(const char *s)
{
	gsize n = 0;

	while (g_ascii_isdigit(s[n]))
		n++;
	return n;
}

char *profile_family_label(const char *const *names, guint n)
{
	const char *target;
	gsize len;
	GString *l;
	/* where each name's next digit run starts: the names share one key,
	 * so they have as many runs, with the same text between them */
	const char **at;

	g_return_val_if_fail(n > 0, NULL);
	if (default_form(names[0], &target, &len))
		return g_strndup(target, len);
	l = g_string_new(NULL);
	at = g_new(const char *, n);
	for (guint i = 0; i < n; i++)
		at[i] = names[i];
	for (const char *s = names[0]; *s;) {
		gsize run = digits_at(s);
		gboolean shared = TRUE;

		if (!run) {
			g_string_append_c(l, *s++);
			continue;
		}
		for (guint i = 1; i < n; i++) {
			while (*at[i] && !g_ascii_isdigit(*at[i]))
				at[i]++;
			if (digits_at(at[i]) != run || strncmp(at[i], s, run))
				shared = FALSE;
			at[i] += digits_at(at[i]);
		}
		if (shared)
			g_string_append_len(l, s, (gssize)run);
		else
			g_string_append_c(l, 'N');
		s += run;
	}
	g_free(at);
	return g_string_free(l, FALSE);
}

void profile_family_group(struct profile *p, guint process)
{
	const struct profile_process *pr = profile_process(p, process);
	/* key -> GArray of the thread indices in it, in thread order */
	GHashTable *families = g_hash_table_new_full(g_str_hash, g_str_equal,
						     g_free,
						     (GDestroyNotify)g_array_unref);
	GPtrArray *order = g_ptr_array_new();
	const char *empty = profile_intern(p, "", -1);

	for (guint ti = pr->first_thread; ti < pr->first_thread + pr->n_threads; ti++) {
		struct profile_thread *th = profile_thread(p, ti);
		char *key;
		GArray *members;

		th->family_frame = th->frame;
		if ((th->flags & PROFILE_THREAD_MAIN) || !th->n_samples)
			continue;
		key = profile_family_key(th->name);
		members = g_hash_table_lookup(families, key);
		if (!members) {
			members = g_array_new(FALSE, FALSE, sizeof(guint));
			g_hash_table_insert(families, key, members);
			g_ptr_array_add(order, members);
		} else {
			g_free(key);
		}
		g_array_append_val(members, ti);
	}
	for (guint i = 0; i < order->len; i++) {
		GArray *members = g_ptr_array_index(order, i);
		const char **names;
		char *label;
		guint32 frame;

		if (members->len < 2)
			continue; /* alone: the thread is shown as itself */
		names = g_new(const char *, members->len);
		for (guint k = 0; k < members->len; k++)
			names[k] = profile_thread(p, g_array_index(members, guint, k))->name;
		label = profile_family_label(names, members->len);
		frame = profile_frame_intern(p, PROFILE_FRAME_THREAD, empty,
					     profile_intern(p, label, -1), NULL,
					     -1, -1, PROFILE_FAMILY_THREAD(process));
		for (guint k = 0; k < members->len && frame; k++)
			profile_thread(p, g_array_index(members, guint, k))->family_frame = frame;
		g_free(label);
		g_free(names);
	}
	g_ptr_array_unref(order);
	g_hash_table_unref(families);
}
