/*
 * profile.c - the model: interned strings, frames and stacks, processes
 * and threads with their samples, in timelines or summed.
 *
 * Files become a model in load.c and a model becomes a call tree in
 * tree.c; this file knows neither the file format nor trees.  Equal
 * strings share one pointer, so a frame is hashed and compared by its
 * strings' addresses.
 */
#include "config.h"

#include "collector/profile.h"

#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "collector/profile-private.h"

G_DEFINE_QUARK(pyprof-profile-error-quark, profile_error)

#define ID_LIMIT 0xfffffff0u

static guint frame_hash(gconstpointer k)
{
	const struct profile_frame *f = k;
	guint64 h = (guint64)(guintptr)f->filename * 31 +
		    (guint64)(guintptr)f->name;
	h = h * 31 + (guint64)(guintptr)f->qualname;
	h = h * 31 + (guint64)(guint32)f->firstlineno;
	h = h * 31 + (guint64)(guint32)f->line;
	h = h * 31 + (guint64)(guint32)f->thread;
	h = h * 31 + (guint64)f->kind;
	return mix(h);
}

/* Strings are interned, so pointer equality is string equality. */
static gboolean frame_equal(gconstpointer a, gconstpointer b)
{
	const struct profile_frame *x = a, *y = b;
	return x->kind == y->kind && x->filename == y->filename &&
	       x->name == y->name && x->qualname == y->qualname &&
	       x->firstlineno == y->firstlineno && x->line == y->line &&
	       x->thread == y->thread;
}

/* ---- the profile ---- */

static void process_free(gpointer data)
{
	struct profile_process *pr = data;
	g_strfreev(pr->argv);
	g_free(pr);
}

static void thread_free(gpointer data)
{
	struct profile_thread *t = data;
	g_array_unref(t->samples);
	g_array_unref(t->aggregates);
	g_free(t->agg_slots);
	g_free(t);
}

struct profile *profile_new(void)
{
	struct profile *p = g_new0(struct profile, 1);
	struct profile_stack *root;

	p->processes = g_ptr_array_new_with_free_func(process_free);
	p->threads = g_ptr_array_new_with_free_func(thread_free);
	p->warnings = g_ptr_array_new_with_free_func(g_free);
	p->marks = g_array_new(FALSE, FALSE, sizeof(struct profile_mark));
	p->mode = PROFILE_MODE_CPU;
	p->timelines = TRUE;
	p->strings = g_string_chunk_new(64 * 1024);
	p->frame_index = g_hash_table_new(frame_hash, frame_equal);
	p->frame_pages = g_ptr_array_new_with_free_func(g_free);
	p->stack_pages = g_ptr_array_new_with_free_func(g_free);

	/* frame 0 is "no frame"; stack 0 is the empty stack */
	page_append(p->frame_pages, sizeof(struct profile_frame), 0);
	p->n_frames = 1;
	root = page_append(p->stack_pages, sizeof(struct profile_stack), 0);
	root->parent = root->frame = 0;
	p->n_stacks = 1;

	p->frame_truncated =
		profile_frame_intern(p, PROFILE_FRAME_TRUNCATED, profile_intern(p, "", -1),
				     profile_intern(p, "[truncated]", -1), NULL, -1, -1, -1);
	p->frame_unknown =
		profile_frame_intern(p, PROFILE_FRAME_UNKNOWN, profile_intern(p, "", -1),
				     profile_intern(p, "[unknown]", -1), NULL, -1, -1, -1);
	p->frame_all_threads =
		profile_frame_intern(p, PROFILE_FRAME_THREAD, profile_intern(p, "", -1),
				     profile_intern(p, "[all threads]", -1), NULL, -1, -1, -1);
	p->frame_idle =
		profile_frame_intern(p, PROFILE_FRAME_IDLE, profile_intern(p, "", -1),
				     profile_intern(p, "[idle]", -1), NULL, -1, -1, -1);
	return p;
}

void profile_free(struct profile *p)
{
	if (!p)
		return;
	g_ptr_array_unref(p->processes);
	g_ptr_array_unref(p->threads);
	g_ptr_array_unref(p->warnings);
	if (p->running)
		g_hash_table_unref(p->running);
	g_array_unref(p->marks);
	g_hash_table_unref(p->frame_index);
	id_index_release(&p->stack_index);
	g_ptr_array_unref(p->frame_pages);
	g_ptr_array_unref(p->stack_pages);
	g_free(p->stack_hints);
	g_free(p->agg_hints);
	g_string_chunk_free(p->strings);
	g_free(p);
}

const char *profile_intern(struct profile *p, const char *s, gssize len)
{
	const char *end;
	gsize n;

	if (!s)
		s = "", len = 0;
	n = len < 0 ? strlen(s) : (gsize)len;
	end = memchr(s, '\0', n);
	if (end)
		n = (gsize)(end - s);
	if (g_utf8_validate_len(s, n, NULL)) {
		/* insert_const needs a terminated string; copy only if the
		 * caller's is not (a file's strings never are) */
		if (len < 0)
			return g_string_chunk_insert_const(p->strings, s);
		char small[256];
		if (n < sizeof small) {
			memcpy(small, s, n);
			small[n] = '\0';
			return g_string_chunk_insert_const(p->strings, small);
		}
		char *tmp = g_strndup(s, n);
		const char *r = g_string_chunk_insert_const(p->strings, tmp);
		g_free(tmp);
		return r;
	}
	char *fixed = g_utf8_make_valid(s, (gssize)n);
	const char *r = g_string_chunk_insert_const(p->strings, fixed);
	g_free(fixed);
	return r;
}

guint profile_add_process(struct profile *p, const struct profile_process *info)
{
	struct profile_process *pr = g_new(struct profile_process, 1);

	*pr = *info;
	pr->path = profile_intern(p, info->path, -1);
	pr->hostname = profile_intern(p, info->hostname, -1);
	pr->py_version = profile_intern(p, info->py_version, -1);
	pr->cwd = info->cwd && *info->cwd ? profile_intern(p, info->cwd, -1) : NULL;
	pr->exe = info->exe && *info->exe ? profile_intern(p, info->exe, -1) : NULL;
	{
		char *dir = profile_stdlib_dir(pr->exe, pr->py_hexversion);
		pr->stdlib = dir ? profile_intern(p, dir, -1) : NULL;
		g_free(dir);
	}
	pr->argv = info->argv ? g_strdupv(info->argv) : g_new0(char *, 1);
	pr->first_thread = p->threads->len;
	pr->n_threads = 0;
	pr->n_files = 1;
	{
		char name[32];
		g_snprintf(name, sizeof name, "process %d", info->pid);
		pr->frame = profile_frame_intern(p, PROFILE_FRAME_THREAD,
						 profile_intern(p, "", -1),
						 profile_intern(p, name, -1),
						 NULL, -1, -1, -1);
	}
	if (p->processes->len == 0)
		p->mode = info->mode == PROFILE_MODE_WALL ? PROFILE_MODE_WALL
							  : PROFILE_MODE_CPU;
	else if (info->mode != p->mode)
		p->mixed_modes = TRUE;
	g_ptr_array_add(p->processes, pr);
	return p->processes->len - 1;
}

guint profile_add_thread(struct profile *p, guint process, guint32 serial,
			 guint32 tid, guint32 flags, guint64 pthread,
			 const char *name, gsize name_len)
{
	struct profile_thread *t = g_new0(struct profile_thread, 1);
	struct profile_process *pr = profile_process(p, process);
	const char *empty = profile_intern(p, "", -1);
	guint index = p->threads->len;

	g_return_val_if_fail(process == p->processes->len - 1, 0);
	t->process = process;
	t->serial = serial;
	t->tid = tid;
	t->flags = flags;
	t->pthread = pthread;
	if (name && name_len && (t->name = profile_intern(p, name, (gssize)name_len))[0])
		;
	else if (flags & PROFILE_THREAD_MAIN)
		t->name = profile_intern(p, "MainThread", -1);
	else {
		char buf[32];
		g_snprintf(buf, sizeof buf, "Thread %" G_GUINT32_FORMAT, tid);
		t->name = profile_intern(p, buf, -1);
	}
	t->samples = g_array_new(FALSE, FALSE, sizeof(struct profile_sample));
	t->aggregates = g_array_new(FALSE, FALSE, sizeof(struct profile_aggregate));
	t->frame = profile_frame_intern(p, PROFILE_FRAME_THREAD, empty, t->name,
					NULL, -1, -1, (int)index);
	t->name_frame = profile_frame_intern(p, PROFILE_FRAME_THREAD, empty,
					     t->name, NULL, -1, -1, -1);
	t->family_frame = t->frame;
	g_ptr_array_add(p->threads, t);
	pr->n_threads++;
	return index;
}

void profile_thread_rename(struct profile *p, guint thread, const char *name,
			   gsize name_len)
{
	struct profile_thread *t = profile_thread(p, thread);
	const char *empty = profile_intern(p, "", -1);

	if (!name_len)
		return;
	t->name = profile_intern(p, name, (gssize)name_len);
	t->frame = profile_frame_intern(p, PROFILE_FRAME_THREAD, empty, t->name,
					NULL, -1, -1, (int)thread);
	t->name_frame = profile_frame_intern(p, PROFILE_FRAME_THREAD, empty,
					     t->name, NULL, -1, -1, -1);
	t->family_frame = t->frame;
}

guint32 profile_frame_intern(struct profile *p, enum profile_frame_kind kind,
			     const char *filename, const char *name,
			     const char *qualname, int firstlineno, int line,
			     int thread)
{
	struct profile_frame probe = {
		.kind = kind, .filename = filename, .name = name,
		.qualname = qualname, .firstlineno = firstlineno,
		.line = line, .thread = thread,
	};
	struct profile_frame *f;
	guint32 id, function;

	id = GPOINTER_TO_UINT(g_hash_table_lookup(p->frame_index, &probe));
	if (id)
		return id;
	/* the line-less twin first, so that it exists for `function` */
	function = 0;
	if (line != -1) {
		function = profile_frame_intern(p, kind, filename, name,
						qualname, firstlineno, -1,
						thread);
		if (!function)
			return 0;
	}
	if (p->n_frames >= ID_LIMIT)
		return 0;
	id = p->n_frames++;
	f = page_append(p->frame_pages, sizeof *f, id);
	*f = probe;
	f->function = function ? function : id;
	profile_frame_set_origin(p, f);
	g_hash_table_insert(p->frame_index, f, GUINT_TO_POINTER(id));
	return id;
}

guint32 profile_frame_truncated(struct profile *p) { return p->frame_truncated; }

guint32 profile_frame_unmerged(struct profile *p)
{
	if (!p->frame_unmerged)
		p->frame_unmerged = profile_frame_intern(
			p, PROFILE_FRAME_UNMERGED, profile_intern(p, "", -1),
			profile_intern(p, "[native: unmerged]", -1), NULL, -1,
			-1, -1);
	return p->frame_unmerged;
}

static const char *const wait_labels[PROFILE_WAIT_KINDS] = {
	NULL, "[idle: GIL]", "[idle: lock]", "[idle: sleep]", "[idle: I/O]",
	"[idle: child]", "[idle: syscall]", NULL,
};

guint32 profile_frame_idle_intern(struct profile *p, guint32 flags)
{
	guint k = (flags & PROFILE_SAMPLE_WAIT_MASK) >> PROFILE_SAMPLE_WAIT_SHIFT;

	if (!wait_labels[k])
		return p->frame_idle;
	if (!p->frame_idle_kind[k])
		p->frame_idle_kind[k] = profile_frame_intern(
			p, PROFILE_FRAME_IDLE, profile_intern(p, "", -1),
			profile_intern(p, wait_labels[k], -1), NULL, -1, -1, -1);
	return p->frame_idle_kind[k] ? p->frame_idle_kind[k] : p->frame_idle;
}

guint32 profile_idle_frame_of(const struct profile *p, guint32 flags)
{
	guint k = (flags & PROFILE_SAMPLE_WAIT_MASK) >> PROFILE_SAMPLE_WAIT_SHIFT;

	if (!p->frame_idle_kind[k])
		return p->frame_idle;
	return p->frame_idle_kind[k];
}

guint32 profile_frame_intern_native(struct profile *p, const char *object,
				    const char *name, const char *source,
				    int line)
{
	guint32 id = profile_frame_intern(p, PROFILE_FRAME_NATIVE, object,
					  name, NULL, -1, line, -1);
	struct profile_frame *f;

	/* The source is not part of the identity (an inlined function's
	 * lines may come from a header): the first one seen names it. */
	if (id && source && !(f = (struct profile_frame *)profile_frame(p, id))->source)
		f->source = source;
	if (id && source) {
		f = (struct profile_frame *)profile_frame(p, profile_frame(p, id)->function);
		if (!f->source)
			f->source = source;
	}
	return id;
}
guint32 profile_frame_unknown(struct profile *p) { return p->frame_unknown; }
guint32 profile_frame_idle(const struct profile *p) { return p->frame_idle; }

/* ---- the index of ids by (parent, frame) ---- */

static void id_index_grow(struct id_index *x, guint32 size, id_index_key_fn key,
			  gconstpointer owner)
{
	guint32 *old = x->slots, old_size = old ? x->mask + 1 : 0;

	x->slots = g_new0(guint32, size);
	x->mask = size - 1;
	for (guint32 j = 0; j < old_size; j++) {
		struct edge e;
		guint32 i;

		if (!old[j])
			continue;
		e = key(owner, old[j]);
		for (i = edge_hash(&e) & x->mask; x->slots[i]; i = (i + 1) & x->mask)
			;
		x->slots[i] = old[j];
	}
	g_free(old);
}

void id_index_insert(struct id_index *x, guint32 at, guint32 id,
		     id_index_key_fn key, gconstpointer owner)
{
	if (!x->slots) {
		id_index_grow(x, 1024, key, owner);
		id_index_find(x, key(owner, id), key, owner, &at);
	}
	x->slots[at] = id;
	/* at most three quarters full: linear probing's misses stay near
	 * two probes */
	if (++x->n > (x->mask + 1) / 4 * 3)
		id_index_grow(x, (x->mask + 1) * 2, key, owner);
}

void id_index_release(struct id_index *x)
{
	g_free(x->slots);
	memset(x, 0, sizeof *x);
}

/* ---- stacks ---- */

static struct edge stack_key(gconstpointer owner, guint32 id)
{
	const struct profile *p = owner;
	const struct profile_stack *s = page_slot(p->stack_pages, sizeof *s, id);
	return (struct edge){s->parent, s->frame};
}

/* The index is dropped when loading ends (profile_loaded) and made again
 * here if stacks come after that. */
static void stack_index_make(struct profile *p)
{
	guint32 size = 1024, at = 0;

	while (size / 4 * 3 < p->n_stacks)
		size *= 2;
	p->stack_index.slots = g_new0(guint32, size);
	p->stack_index.mask = size - 1;
	for (guint32 id = 1; id < p->n_stacks; id++) {
		id_index_find(&p->stack_index, stack_key(p, id), stack_key, p, &at);
		p->stack_index.slots[at] = id;
	}
	p->stack_index.n = p->n_stacks - 1;
}

void profile_loaded(struct profile *p)
{
	id_index_release(&p->stack_index);
	g_clear_pointer(&p->stack_hints, g_free);
	p->stack_hints_len = 0;
	g_clear_pointer(&p->agg_hints, g_free);
	p->agg_hints_len = 0;
	for (guint i = 0; i < p->threads->len; i++) {
		struct profile_thread *t = profile_thread(p, i);
		g_clear_pointer(&t->agg_slots, g_free);
		t->agg_mask = t->agg_last = 0;
	}
#ifdef __GLIBC__
	/* the shortcuts' pages are small blocks of the heap, which a tree's
	 * large arrays (mapped apart) would never reuse: give them back */
	malloc_trim(0);
#endif
}

static struct stack_hint *stack_hint(struct profile *p, guint32 id)
{
	if (id >= p->stack_hints_len) {
		guint32 n = p->stack_hints_len ? p->stack_hints_len : PAGE_LEN;

		while (n <= id)
			n *= 2;
		p->stack_hints = g_renew(struct stack_hint, p->stack_hints, n);
		memset(p->stack_hints + p->stack_hints_len, 0,
		       (n - p->stack_hints_len) * sizeof *p->stack_hints);
		p->stack_hints_len = n;
	}
	return &p->stack_hints[id];
}

guint32 profile_stack_push(struct profile *p, guint32 parent, guint32 frame)
{
	struct edge probe = {parent, frame};
	struct profile_stack *s;
	struct stack_hint *hint;
	guint32 id, at;

	if (parent >= p->n_stacks)
		return 0;
	/* the same call path recurs sample after sample: try the child
	 * pushed last before hashing */
	hint = stack_hint(p, parent);
	if (hint->child && hint->frame == frame)
		return hint->child;
	if (!p->stack_index.slots && p->n_stacks > 1)
		stack_index_make(p);
	id = id_index_find(&p->stack_index, probe, stack_key, p, &at);
	if (id) {
		*hint = (struct stack_hint){id, frame};
		return id;
	}
	if (p->n_stacks >= ID_LIMIT)
		return 0;
	id = p->n_stacks++;
	s = page_append(p->stack_pages, sizeof *s, id);
	s->parent = parent;
	s->frame = frame;
	*hint = (struct stack_hint){id, frame};
	id_index_insert(&p->stack_index, at, id, stack_key, p);
	return id;
}

/* ---- samples, in a timeline or summed ---- */

void profile_set_timelines(struct profile *p, gboolean keep)
{
	g_return_if_fail(p->n_samples == 0);
	p->timelines = keep;
}

/* What sets apart samples of one (stack, flags) for the tree builder */
static guint32 aggregate_kind(const struct profile *p, const struct profile_thread *t,
			      const struct profile_sample *s, guint64 wait)
{
	if (profile_process(p, t->process)->mode != PROFILE_MODE_WALL)
		return 0;
	return (wait ? PROFILE_AGGREGATE_WAITED : 0) |
	       (s->wall_ns > wait ? PROFILE_AGGREGATE_RAN : 0);
}

static guint aggregate_hash(guint32 stack, guint32 flags, guint32 kind)
{
	return mix((((guint64)stack << 32) | flags) ^ ((guint64)kind << 61));
}

/* A set of aggregates: the array, its index (open addressing, at most
 * three quarters full, a slot the aggregate's stack << 32 | its index +
 * 1, so that a probe reads an aggregate only when its stack is the one
 * looked for) and the one added to last, which the next sample of a
 * thread usually is too. */
struct aggregates {
	GArray *a;
	guint64 **slots;
	guint32 *mask, *last;
};

static void aggregates_grow(struct aggregates *x)
{
	guint32 size = *x->slots ? (*x->mask + 1) * 2 : 64;
	guint64 *slots;

	/* the index is dropped when loading ends (profile_loaded) */
	while ((x->a->len + 1) * 4ull > size * 3ull)
		size *= 2;
	slots = g_new0(guint64, size);

	for (guint i = 0; i < x->a->len; i++) {
		const struct profile_aggregate *g =
			&g_array_index(x->a, struct profile_aggregate, i);
		guint32 j = aggregate_hash(g->stack, g->flags, g->kind) & (size - 1);
		while (slots[j])
			j = (j + 1) & (size - 1);
		slots[j] = (guint64)g->stack << 32 | (i + 1);
	}
	g_free(*x->slots);
	*x->slots = slots;
	*x->mask = size - 1;
}

/* hint: the stack's slot in p->agg_hints, or NULL */
static void aggregates_add(struct aggregates *x, const struct profile_sample *s,
			   guint32 kind, guint64 wait, guint32 *hint)
{
	struct profile_aggregate *g = NULL;
	guint64 slot;
	guint32 j, k;

	if (*x->last) {
		g = &g_array_index(x->a, struct profile_aggregate, *x->last - 1);
		if (g->stack != s->stack || g->flags != s->flags || g->kind != kind)
			g = NULL;
	}
	if (!g && hint && *hint && *hint <= x->a->len) {
		g = &g_array_index(x->a, struct profile_aggregate, *hint - 1);
		if (g->stack != s->stack || g->flags != s->flags || g->kind != kind)
			g = NULL;
		else
			*x->last = *hint;
	}
	if (!g) {
		if (!*x->slots || (x->a->len + 1) * 4ull > (*x->mask + 1) * 3ull)
			aggregates_grow(x);
		for (j = aggregate_hash(s->stack, s->flags, kind) & *x->mask;
		     (slot = (*x->slots)[j]); j = (j + 1) & *x->mask) {
			if ((guint32)(slot >> 32) != s->stack)
				continue;
			k = (guint32)slot;
			g = &g_array_index(x->a, struct profile_aggregate, k - 1);
			if (g->flags == s->flags && g->kind == kind)
				break;
			g = NULL;
		}
		if (!g) {
			struct profile_aggregate n = {.stack = s->stack,
						      .flags = s->flags,
						      .kind = kind};
			g_array_append_val(x->a, n);
			k = x->a->len;
			(*x->slots)[j] = (guint64)s->stack << 32 | k;
			g = &g_array_index(x->a, struct profile_aggregate, k - 1);
		}
		*x->last = k;
	}
	if (hint)
		*hint = *x->last;
	g->count++;
	g->cpu_ns += s->cpu_ns;
	g->wall_ns += s->wall_ns;
	g->wait_ns += wait;
}

/* stack's slot in p->agg_hints, which grows to hold it; NULL for a
 * stack id no stack has (a caller's bug, kept out of the array) */
static guint32 *agg_hint(struct profile *p, guint32 stack)
{
	if (stack >= p->n_stacks)
		return NULL;
	if (stack >= p->agg_hints_len) {
		guint32 n = p->agg_hints_len ? p->agg_hints_len : PAGE_LEN;

		while (n <= stack)
			n *= 2;
		p->agg_hints = g_renew(guint32, p->agg_hints, n);
		memset(p->agg_hints + p->agg_hints_len, 0,
		       (n - p->agg_hints_len) * sizeof *p->agg_hints);
		p->agg_hints_len = n;
	}
	return &p->agg_hints[stack];
}

void profile_add_sample(struct profile *p, guint thread, guint64 mono_ns,
			guint64 cpu_ns, guint64 wall_ns, guint32 flags,
			guint32 stack)
{
	struct profile_thread *t = profile_thread(p, thread);
	struct profile_process *pr = profile_process(p, t->process);
	struct profile_sample s = {
		.mono_ns = mono_ns, .cpu_ns = cpu_ns, .wall_ns = wall_ns,
		.flags = flags, .stack = stack,
	};
	guint64 wait = profile_sample_wait_ns(p, t, &s);

	if (p->timelines) {
		g_array_append_val(t->samples, s);
	} else {
		struct aggregates x = {t->aggregates, &t->agg_slots, &t->agg_mask,
				       &t->agg_last};
		aggregates_add(&x, &s, aggregate_kind(p, t, &s, wait), wait,
			       agg_hint(p, stack));
	}
	if (!t->n_samples++)
		t->first_mono_ns = mono_ns;
	t->last_mono_ns = mono_ns;
	t->cpu_ns += cpu_ns;
	t->wall_ns += wall_ns;
	t->idle_ns += wait;
	if (mono_ns > pr->last_mono_ns)
		pr->last_mono_ns = mono_ns;
	p->n_samples++;
}

const struct profile_aggregate *profile_thread_aggregates(const struct profile *p,
							  guint ti, GArray *scratch,
							  guint *n)
{
	const struct profile_thread *t = profile_thread(p, ti);
	guint64 *slots = NULL;
	guint32 mask = 0, last = 0;
	struct aggregates x = {scratch, &slots, &mask, &last};

	if (!p->timelines) {
		*n = t->aggregates->len;
		return (const struct profile_aggregate *)(gpointer)t->aggregates->data;
	}
	g_array_set_size(scratch, 0);
	for (guint i = 0; i < t->samples->len; i++) {
		const struct profile_sample *s =
			&g_array_index(t->samples, struct profile_sample, i);
		guint64 wait = profile_sample_wait_ns(p, t, s);
		aggregates_add(&x, s, aggregate_kind(p, t, s, wait), wait, NULL);
	}
	g_free(slots);
	*n = scratch->len;
	return (const struct profile_aggregate *)(gpointer)scratch->data;
}

void profile_thread_clear(struct profile *p, guint ti)
{
	struct profile_thread *t = profile_thread(p, ti);

	p->n_samples -= t->n_samples;
	g_array_set_size(t->samples, 0);
	g_array_set_size(t->aggregates, 0);
	g_clear_pointer(&t->agg_slots, g_free);
	t->agg_mask = t->agg_last = 0;
	t->n_samples = t->first_mono_ns = t->last_mono_ns = 0;
	t->cpu_ns = t->wall_ns = t->idle_ns = 0;
}

void profile_thread_retotal(struct profile *p, guint ti)
{
	struct profile_thread *t = profile_thread(p, ti);
	const struct profile_sample *s =
		(const struct profile_sample *)(gpointer)t->samples->data;

	p->n_samples -= t->n_samples;
	t->n_samples = t->samples->len;
	p->n_samples += t->n_samples;
	t->first_mono_ns = t->n_samples ? s[0].mono_ns : 0;
	t->last_mono_ns = t->n_samples ? s[t->n_samples - 1].mono_ns : 0;
	t->cpu_ns = t->wall_ns = t->idle_ns = 0;
	for (guint i = 0; i < t->samples->len; i++) {
		t->cpu_ns += s[i].cpu_ns;
		t->wall_ns += s[i].wall_ns;
		t->idle_ns += profile_sample_wait_ns(p, t, &s[i]);
	}
}

guint32 profile_n_frames(const struct profile *p) { return p->n_frames - 1; }

const struct profile_frame *profile_frame(const struct profile *p, guint32 id)
{
	g_return_val_if_fail(id > 0 && id < p->n_frames, NULL);
	return page_slot(p->frame_pages, sizeof(struct profile_frame), id);
}

guint32 profile_n_stacks(const struct profile *p) { return p->n_stacks; }

const struct profile_stack *profile_stack(const struct profile *p, guint32 id)
{
	g_return_val_if_fail(id < p->n_stacks, NULL);
	return page_slot(p->stack_pages, sizeof(struct profile_stack), id);
}

guint64 profile_sample_weight(const struct profile *p,
			      const struct profile_thread *t,
			      const struct profile_sample *s)
{
	const struct profile_process *pr = profile_process(p, t->process);
	return pr->mode == PROFILE_MODE_WALL ? s->wall_ns : s->cpu_ns;
}

const char *profile_mode_name(enum profile_mode m)
{
	switch (m) {
	case PROFILE_MODE_CPU: return "cpu";
	case PROFILE_MODE_WALL: return "wall";
	}
	return "unknown";
}

const char *profile_source_name(enum profile_source s)
{
	switch (s) {
	case PROFILE_SOURCE_NONE: return "none";
	case PROFILE_SOURCE_THREAD_CPU_TIMER: return "thread CPU timer";
	case PROFILE_SOURCE_PERF_TASK_CLOCK: return "perf task-clock";
	}
	return "unknown";
}

const char *profile_end_name(enum profile_end e)
{
	switch (e) {
	case PROFILE_END_NONE: return "none";
	case PROFILE_END_EXIT: return "exit";
	case PROFILE_END__EXIT: return "_exit";
	case PROFILE_END_SIGNAL: return "signal";
	case PROFILE_END_EXEC: return "exec";
	case PROFILE_END_STOP: return "stopped";
	case PROFILE_END_ROTATE: return "rotated";
	}
	return "unknown";
}


/* A window's first sample of a thread stands for the time since that
 * thread's previous one, maybe long before the window (a prompt that
 * waited for input): only the part inside the window is the window's, and
 * of its CPU time the same share. */
static void clip_from(struct profile_sample *sm, guint64 from)
{
	if (sm->wall_ns > sm->mono_ns - from) {
		guint64 in_ns = sm->mono_ns - from;

		sm->cpu_ns = (guint64)((double)sm->cpu_ns * (double)in_ns /
				       (double)sm->wall_ns);
		sm->wall_ns = in_ns;
	}
}

/* Keeps thread th's samples taken from `from` to `until` (its process's
 * monotonic ns), the first clipped; returns how many. */
/* Keeps thread ti's samples taken from `from` to `until` (monotonic ns),
 * the first clipped to the span */
static void thread_keep_span(struct profile *p, guint ti, guint64 from,
			     guint64 until)
{
	struct profile_thread *th = profile_thread(p, ti);
	guint kept = 0;

	for (guint k = 0; k < th->samples->len; k++) {
		struct profile_sample sm =
			g_array_index(th->samples, struct profile_sample, k);

		if (sm.mono_ns < from || sm.mono_ns > until)
			continue;
		clip_from(&sm, from);
		g_array_index(th->samples, struct profile_sample, kept++) = sm;
	}
	g_array_set_size(th->samples, kept);
	profile_thread_retotal(p, ti);
}

void profile_keep_recent(struct profile *p, guint64 span_ns)
{
	g_return_if_fail(p->timelines);
	for (guint t = 0; t < p->threads->len; t++) {
		guint64 last = profile_process(p, profile_thread(p, t)->process)->last_mono_ns;

		thread_keep_span(p, t, last > span_ns ? last - span_ns : 0, G_MAXUINT64);
	}
	/* a thread left without samples leaves its family */
	for (guint i = 0; i < p->processes->len; i++)
		profile_family_group(p, i);
}

/* A wall-clock instant as process pr's monotonic ns (0 if before its
 * clock's start) */
static guint64 process_mono(const struct profile_process *pr, guint64 realtime_ns)
{
	gint64 shift = (gint64)pr->start_realtime_ns - (gint64)pr->start_mono_ns;

	if (realtime_ns == G_MAXUINT64)
		return G_MAXUINT64;
	return (gint64)realtime_ns - shift > 0 ? (guint64)((gint64)realtime_ns - shift) : 0;
}

guint64 profile_keep_between(struct profile *p, guint64 from_ns, guint64 until_ns)
{
	g_return_val_if_fail(p->timelines, p->n_samples);
	for (guint t = 0; t < p->threads->len; t++) {
		const struct profile_process *pr =
			profile_process(p, profile_thread(p, t)->process);

		thread_keep_span(p, t, process_mono(pr, from_ns),
				 process_mono(pr, until_ns));
	}
	for (guint i = 0; i < p->processes->len; i++)
		profile_family_group(p, i);
	return p->n_samples;
}

guint profile_keep_window(struct profile *p, const char *label)
{
	/* per process: the windows as [start, stop) pairs */
	GArray *win;
	guint n = 0;

	g_return_val_if_fail(p->timelines, 0);
	win = g_array_new(FALSE, FALSE, sizeof(guint64) * 3);

	for (guint i = 0; i < p->marks->len; i++) {
		const struct profile_mark *m = &g_array_index(p->marks, struct profile_mark, i);
		guint64 w[3] = {m->process, m->mono_ns, G_MAXUINT64};

		if (m->kind != PROFILE_MARK_START || strcmp(m->label, label))
			continue;
		for (guint k = i + 1; k < p->marks->len; k++) {
			const struct profile_mark *e = &g_array_index(p->marks, struct profile_mark, k);
			if (e->kind == PROFILE_MARK_STOP && e->process == m->process &&
			    !strcmp(e->label, label) && e->mono_ns >= m->mono_ns) {
				w[2] = e->mono_ns;
				break;
			}
		}
		g_array_append_vals(win, w, 1);
		n++;
	}
	if (!n) {
		g_array_unref(win);
		return 0;
	}
	for (guint t = 0; t < p->threads->len; t++) {
		struct profile_thread *th = profile_thread(p, t);
		guint kept = 0;

		for (guint k = 0; k < th->samples->len; k++) {
			struct profile_sample *sm = &g_array_index(th->samples, struct profile_sample, k);
			gboolean in = FALSE;

			guint64 from = 0;

			for (guint w = 0; w < win->len && !in; w++) {
				const guint64 *x = (const guint64 *)(gpointer)win->data + 3 * w;
				in = x[0] == th->process && sm->mono_ns >= x[1] && sm->mono_ns < x[2];
				from = x[1];
			}
			if (!in)
				continue;
			clip_from(sm, from);
			g_array_index(th->samples, struct profile_sample, kept++) = *sm;
		}
		g_array_set_size(th->samples, kept);
		profile_thread_retotal(p, t);
	}
	g_array_unref(win);
	for (guint i = 0; i < p->processes->len; i++)
		profile_family_group(p, i);
	return n;
}
