/*
 * profile.c - samples in, interned frames, stacks and call trees out.
 *
 * Frames, stacks and tree nodes live in "pages" (fixed blocks that never
 * move), so a GHashTable can use a pointer to the stored element as its
 * key and a probe on the C stack for lookups: interning costs no
 * allocation per lookup, and an id is an index into the pages.
 *
 * Loading keeps, per thread being decoded, the previous sample's frames
 * and the stack id reached after each of them.  Consecutive samples share
 * most of their root side, so a sample costs one comparison per shared
 * frame and one hash lookup per new frame -- O(depth), no allocation.
 * (code id, lasti) -> frame id is cached per code object, so the line
 * table is decoded once per distinct instruction.
 */
#include "profile.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "format.h"
#include "read.h"
#include "linetable.h"

_Static_assert((int)PROFILE_MODE_CPU == (int)PF_MODE_CPU, "mode");
_Static_assert((int)PROFILE_MODE_WALL == (int)PF_MODE_WALL, "mode");
_Static_assert((int)PROFILE_SOURCE_PERF_TASK_CLOCK == (int)PF_SOURCE_PERF_TASK_CLOCK,
	       "source");
_Static_assert((int)PROFILE_END_STOP == (int)PF_END_STOP, "end");
_Static_assert(PROFILE_DROP_COUNT == PF_DROP_COUNT, "drops");
_Static_assert(PROFILE_SAMPLE_GIL == PF_SAMPLE_GIL &&
		       PROFILE_SAMPLE_TRUNCATED == PF_SAMPLE_TRUNCATED &&
		       PROFILE_SAMPLE_IDLE == PF_SAMPLE_IDLE,
	       "sample flags");
_Static_assert(PROFILE_THREAD_MAIN == PF_THREAD_MAIN, "thread flags");

G_DEFINE_QUARK(pyprof-profile-error-quark, profile_error)

/* ---- pages: arrays whose elements never move ---- */

#define PAGE_SHIFT 12
#define PAGE_LEN (1u << PAGE_SHIFT)
#define ID_LIMIT 0xfffffff0u

static inline void *page_slot(GPtrArray *pages, gsize elem, guint32 id)
{
	return (char *)g_ptr_array_index(pages, id >> PAGE_SHIFT) +
	       (gsize)(id & (PAGE_LEN - 1)) * elem;
}

/* Slot for id, which must be the next one (== elements stored). */
static void *page_append(GPtrArray *pages, gsize elem, guint32 id)
{
	if ((id >> PAGE_SHIFT) >= pages->len)
		g_ptr_array_add(pages, g_malloc0(elem * PAGE_LEN));
	return page_slot(pages, elem, id);
}

/* ---- hashing ---- */

static inline guint mix(guint64 h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return (guint)h;
}

/* Keys of both stacks and tree edges start with {parent, frame}. */
struct edge {
	guint32 parent, frame;
};

static guint edge_hash(gconstpointer k)
{
	const struct edge *e = k;
	return mix(((guint64)e->parent << 32) | e->frame);
}

static gboolean edge_equal(gconstpointer a, gconstpointer b)
{
	const struct edge *x = a, *y = b;
	return x->parent == y->parent && x->frame == y->frame;
}

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
	p->strings = g_string_chunk_new(64 * 1024);
	p->frame_index = g_hash_table_new(frame_hash, frame_equal);
	p->stack_index = g_hash_table_new(edge_hash, edge_equal);
	p->frame_pages = g_ptr_array_new_with_free_func(g_free);
	p->stack_pages = g_ptr_array_new_with_free_func(g_free);

	/* frame 0 is "no frame"; stack 0 is the empty stack */
	page_append(p->frame_pages, sizeof(struct profile_frame), 0);
	p->n_frames = 1;
	root = page_append(p->stack_pages, sizeof(struct profile_stack), 0);
	root->parent = root->frame = root->depth = 0;
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
	g_array_unref(p->marks);
	g_hash_table_unref(p->frame_index);
	g_hash_table_unref(p->stack_index);
	g_ptr_array_unref(p->frame_pages);
	g_ptr_array_unref(p->stack_pages);
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
	pr->argv = info->argv ? g_strdupv(info->argv) : g_new0(char *, 1);
	pr->first_thread = p->threads->len;
	pr->n_threads = 0;
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
	t->frame = profile_frame_intern(p, PROFILE_FRAME_THREAD, empty, t->name,
					NULL, -1, -1, (int)index);
	t->name_frame = profile_frame_intern(p, PROFILE_FRAME_THREAD, empty,
					     t->name, NULL, -1, -1, -1);
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
	g_hash_table_insert(p->frame_index, f, GUINT_TO_POINTER(id));
	return id;
}

guint32 profile_frame_truncated(struct profile *p) { return p->frame_truncated; }
guint32 profile_frame_unknown(struct profile *p) { return p->frame_unknown; }
guint32 profile_frame_idle(const struct profile *p) { return p->frame_idle; }

guint32 profile_stack_push(struct profile *p, guint32 parent, guint32 frame)
{
	struct edge probe = {parent, frame};
	struct profile_stack *s, *up;
	guint32 id;

	if (parent >= p->n_stacks)
		return 0;
	/* the same call path recurs sample after sample: try the child
	 * pushed last before hashing */
	up = page_slot(p->stack_pages, sizeof *up, parent);
	if (up->hint) {
		s = page_slot(p->stack_pages, sizeof *s, up->hint);
		if (s->frame == frame)
			return up->hint;
	}
	id = GPOINTER_TO_UINT(g_hash_table_lookup(p->stack_index, &probe));
	if (id) {
		up->hint = id;
		return id;
	}
	if (p->n_stacks >= ID_LIMIT)
		return 0;
	id = p->n_stacks++;
	s = page_append(p->stack_pages, sizeof *s, id);
	s->parent = parent;
	s->frame = frame;
	s->depth = up->depth + 1;
	s->hint = 0;
	up->hint = id;
	g_hash_table_insert(p->stack_index, s, GUINT_TO_POINTER(id));
	return id;
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

	g_array_append_val(t->samples, s);
	t->cpu_ns += cpu_ns;
	t->wall_ns += wall_ns;
	t->idle_ns += profile_sample_wait_ns(p, t, &s);
	if (mono_ns > pr->last_mono_ns)
		pr->last_mono_ns = mono_ns;
	p->n_samples++;
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
	}
	return "unknown";
}

const char *profile_drop_name(guint i)
{
	static const char *const names[] = {
		[PF_DROP_FULL] = "full",
		[PF_DROP_BUSY] = "busy",
		[PF_DROP_NO_PYTHON] = "no-python",
		[PF_DROP_FINALIZING] = "finalizing",
		[PF_DROP_BAD_STACK] = "bad-stack",
		[PF_DROP_CODE_TABLE] = "code-table",
		[PF_DROP_NO_THREAD] = "no-thread",
	};
	return i < G_N_ELEMENTS(names) ? names[i] : NULL;
}

/* ---- loading a file ---- */

struct load_code {
	guint32 filename, name, qualname; /* string ids */
	int firstlineno;
	guint32 flags;
	const guint8 *linetable; /* in the mapping: valid during the visit */
	guint32 linetable_len;
	const char *s_filename, *s_name, *s_qualname; /* resolved lazily */
	GHashTable *by_lasti; /* lasti + 1 -> frame id */
	int last_lasti;       /* the last lookup, answered without hashing */
	guint32 last_frame;
};

/* A whole sample's frames, as the file gives them, -> stack id.  Programs
 * revisit the same few thousand stacks millions of times, so one hash of
 * the frame array (integers only, no pointer chasing) usually replaces a
 * lookup per frame.  Keys are allocated per distinct stack, never per
 * sample, and the memo stops growing at LOAD_MEMO_MAX_BYTES. */
#define LOAD_MEMO_MAX_BYTES (64u << 20)

struct memo_key {
	guint hash;
	guint32 depth;
	guint32 truncated;
	const struct pf_frame *frames;
};

static guint memo_hash(gconstpointer k)
{
	return ((const struct memo_key *)k)->hash;
}

static gboolean memo_equal(gconstpointer a, gconstpointer b)
{
	const struct memo_key *x = a, *y = b;
	return x->hash == y->hash && x->depth == y->depth &&
	       x->truncated == y->truncated &&
	       (x->depth == 0 ||
		!memcmp(x->frames, y->frames, x->depth * sizeof *x->frames));
}

static guint memo_hash_frames(const struct pf_frame *f, guint32 depth,
			      guint32 truncated)
{
	guint64 h = 0x9e3779b97f4a7c15ull ^ depth ^ ((guint64)truncated << 40);
	for (guint32 i = 0; i < depth; i++)
		h = (h ^ (((guint64)f[i].code_id << 32) | (guint32)f[i].lasti)) *
		    0x100000001b3ull;
	return mix(h);
}

static void load_code_free(gpointer data)
{
	struct load_code *c = data;
	if (c->by_lasti)
		g_hash_table_unref(c->by_lasti);
	g_free(c);
}

struct load {
	struct profile *p;
	const char *path;
	guint process;
	guint32 py_hexversion;
	GHashTable *strings; /* string id -> interned string */
	GHashTable *codes;   /* code id -> struct load_code */
	/* code id -> struct load_code, filled when samples start if the ids
	 * are dense enough (the writer numbers them from 1) */
	struct load_code **code_array;
	guint32 code_array_len;
	guint32 code_max_id;
	gboolean codes_indexed;
	GHashTable *threads; /* serial -> thread index + 1 */
	/* the thread being decoded and its previous sample */
	gboolean have_cur;
	guint32 cur_serial;
	guint cur_thread;
	GArray *prev_frames; /* struct pf_frame */
	GArray *prev_stacks; /* guint32: stack after frame i */
	guint32 prev_depth;
	guint32 prev_flags;
	guint32 stack_truncated; /* stack of just "[truncated]" */
	GHashTable *memo;        /* struct memo_key * -> stack id */
	gsize memo_bytes;
	GArray *names;           /* struct load_name, applied after the visit */
	GError *error;
};

struct load_name {
	guint32 tid;
	guint64 pthread, mono_ns;
	const char *name; /* interned */
	gsize len;
};

static void load_warn(struct load *l, guint64 offset, const char *msg)
{
	g_ptr_array_add(l->p->warnings,
			g_strdup_printf("%s: offset %" G_GUINT64_FORMAT ": %s",
					l->path, offset, msg));
}

static int on_thread(void *ctx, const struct pf_thread_info *ti)
{
	struct load *l = ctx;
	guint index;

	if (g_hash_table_contains(l->threads, GUINT_TO_POINTER(ti->thread)))
		return 0;
	index = profile_add_thread(l->p, l->process, ti->thread, ti->tid,
				   ti->flags, ti->pthread, ti->name,
				   ti->name_len);
	g_hash_table_insert(l->threads, GUINT_TO_POINTER(ti->thread),
			    GUINT_TO_POINTER(index + 1));
	return 0;
}

static int on_thread_name(void *ctx, const struct pf_thread_name *n)
{
	struct load *l = ctx;
	struct load_name ln = {n->tid, n->pthread, n->mono_ns, NULL, 0};

	if (!n->name_len)
		return 0;
	ln.name = profile_intern(l->p, n->name, n->name_len);
	ln.len = strlen(ln.name);
	g_array_append_val(l->names, ln);
	return 0;
}

static int on_mark(void *ctx, const struct pf_mark *m)
{
	struct load *l = ctx;
	struct profile_mark pm = {l->process, m->mono_ns,
				  (enum profile_mark_kind)m->kind, NULL};

	if (m->kind < PF_MARK_START || m->kind > PF_MARK_POINT)
		return 0;
	pm.label = profile_intern(l->p, m->label, m->label_len);
	g_array_append_val(l->p->marks, pm);
	return 0;
}

guint profile_keep_window(struct profile *p, const char *label)
{
	/* per process: the windows as [start, stop) pairs */
	GArray *win = g_array_new(FALSE, FALSE, sizeof(guint64) * 3);
	guint n = 0;

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
	p->n_samples = 0;
	for (guint t = 0; t < p->threads->len; t++) {
		struct profile_thread *th = profile_thread(p, t);
		guint kept = 0;

		th->cpu_ns = th->wall_ns = th->idle_ns = 0;
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
			/* A window's first sample of a thread stands for the
			 * time since that thread's previous one, maybe long
			 * before the window (a prompt that waited for input):
			 * only the part inside the window is the window's,
			 * and of its CPU time the same share. */
			if (sm->wall_ns > sm->mono_ns - from) {
				guint64 in_ns = sm->mono_ns - from;

				sm->cpu_ns = (guint64)((double)sm->cpu_ns * (double)in_ns /
						       (double)sm->wall_ns);
				sm->wall_ns = in_ns;
			}
			th->cpu_ns += sm->cpu_ns;
			th->wall_ns += sm->wall_ns;
			th->idle_ns += profile_sample_wait_ns(p, th, sm);
			g_array_index(th->samples, struct profile_sample, kept++) = *sm;
		}
		g_array_set_size(th->samples, kept);
		p->n_samples += kept;
	}
	g_array_unref(win);
	return n;
}

static gint load_name_cmp(gconstpointer a, gconstpointer b)
{
	const struct load_name *x = a, *y = b;
	return x->mono_ns < y->mono_ns ? -1 : x->mono_ns > y->mono_ns;
}

/* Gives each thread of this process its recorded Python name: the thread
 * with that tid (and pthread) that started latest before the name was
 * learned, since tids are reused; later names (renames) win. */
static void load_apply_names(struct load *l)
{
	const struct profile_process *pr = profile_process(l->p, l->process);

	g_array_sort(l->names, load_name_cmp);
	for (guint i = 0; i < l->names->len; i++) {
		const struct load_name *n = &g_array_index(l->names, struct load_name, i);
		guint best = G_MAXUINT;
		guint64 best_start = 0;
		gboolean best_before = FALSE;

		for (guint k = pr->first_thread; k < pr->first_thread + pr->n_threads; k++) {
			const struct profile_thread *t = profile_thread(l->p, k);
			guint64 start = t->samples->len
				? g_array_index(t->samples, struct profile_sample, 0).mono_ns : 0;

			if (t->tid != n->tid || (t->pthread && n->pthread && t->pthread != n->pthread))
				continue;
			gboolean before = start <= n->mono_ns;
			if (best == G_MAXUINT ||
			    (before && (!best_before || start >= best_start))) {
				best = k;
				best_start = start;
				best_before = before;
			}
		}
		if (best != G_MAXUINT)
			profile_thread_rename(l->p, best, n->name, n->len);
	}
}

static int on_string(void *ctx, guint32 id, const char *s, guint32 len)
{
	struct load *l = ctx;

	if (!g_hash_table_contains(l->strings, GUINT_TO_POINTER(id)))
		g_hash_table_insert(l->strings, GUINT_TO_POINTER(id),
				    (gpointer)profile_intern(l->p, s, len));
	return 0;
}

static int on_code(void *ctx, const struct pf_code_info *ci)
{
	struct load *l = ctx;
	struct load_code *c;

	if (g_hash_table_contains(l->codes, GUINT_TO_POINTER(ci->id)))
		return 0;
	c = g_new0(struct load_code, 1);
	if (ci->id > l->code_max_id)
		l->code_max_id = ci->id;
	c->filename = ci->filename;
	c->name = ci->name;
	c->qualname = ci->qualname;
	c->firstlineno = ci->firstlineno;
	c->flags = ci->flags;
	c->linetable = ci->linetable;
	c->linetable_len = ci->linetable_len;
	g_hash_table_insert(l->codes, GUINT_TO_POINTER(ci->id), c);
	return 0;
}

static const char *load_string(struct load *l, guint32 id, const char *dflt)
{
	const char *s = id ? g_hash_table_lookup(l->strings, GUINT_TO_POINTER(id))
			   : NULL;
	return s ? s : profile_intern(l->p, dflt, -1);
}

/* The frame of (code, lasti); 0 if the frame table is full. */
static guint32 load_frame(struct load *l, const struct pf_frame *pf)
{
	struct load_code *c;
	guint32 id;
	int line;

	if (pf->code_id < l->code_array_len)
		c = l->code_array[pf->code_id];
	else if (l->code_array || !pf->code_id)
		c = NULL;
	else
		c = g_hash_table_lookup(l->codes, GUINT_TO_POINTER(pf->code_id));
	if (!c)
		return l->p->frame_unknown;
	if (c->last_frame && c->last_lasti == pf->lasti)
		return c->last_frame;
	if (!c->by_lasti) {
		c->by_lasti = g_hash_table_new(g_direct_hash, g_direct_equal);
		/* strings are all known once samples start (read.h) */
		c->s_filename = load_string(l, c->filename, "?");
		c->s_name = load_string(l, c->name, "?");
		c->s_qualname = c->qualname ? load_string(l, c->qualname, "?")
					    : NULL;
	}
	id = GPOINTER_TO_UINT(g_hash_table_lookup(
		c->by_lasti, GINT_TO_POINTER(pf->lasti + 1)));
	if (id) {
		c->last_lasti = pf->lasti;
		c->last_frame = id;
		return id;
	}
	if (pf->lasti < 0)
		line = c->firstlineno; /* not started: at the def line */
	else
		line = linetable_line(l->py_hexversion, c->linetable,
				      c->linetable_len, c->firstlineno,
				      pf->lasti);
	id = profile_frame_intern(l->p, PROFILE_FRAME_PYTHON, c->s_filename,
				  c->s_name, c->s_qualname, c->firstlineno,
				  line < 0 ? -1 : line, -1);
	if (id) {
		g_hash_table_insert(c->by_lasti,
				    GINT_TO_POINTER(pf->lasti + 1),
				    GUINT_TO_POINTER(id));
		c->last_lasti = pf->lasti;
		c->last_frame = id;
	}
	return id;
}

static int load_limit(struct load *l)
{
	g_set_error(&l->error, PROFILE_ERROR, PROFILE_ERROR_LIMIT,
		    "%s: too many distinct frames or stacks", l->path);
	return 1;
}

/* Codes all come before samples (read.h): index them by id in an array
 * when the ids are dense, so a frame costs no hash lookup. */
static void load_index_codes(struct load *l)
{
	GHashTableIter it;
	gpointer k, v;
	guint n = g_hash_table_size(l->codes);

	l->codes_indexed = TRUE;
	if (!n || l->code_max_id > 4u * n + 4096u)
		return;
	l->code_array_len = l->code_max_id + 1;
	l->code_array = g_new0(struct load_code *, l->code_array_len);
	g_hash_table_iter_init(&it, l->codes);
	while (g_hash_table_iter_next(&it, &k, &v))
		l->code_array[GPOINTER_TO_UINT(k)] = v;
}

static int on_sample(void *ctx, const struct pf_sample *s)
{
	struct load *l = ctx;
	guint32 shared = 0, stack, i, base;
	const gboolean trunc = (s->flags & PF_SAMPLE_TRUNCATED) != 0;

	if (G_UNLIKELY(!l->codes_indexed))
		load_index_codes(l);

	if (!l->have_cur || s->thread != l->cur_serial) {
		gpointer v = g_hash_table_lookup(l->threads,
						 GUINT_TO_POINTER(s->thread));
		if (!v) {
			/* the reader reports threads first; be safe anyway */
			struct pf_thread_info ti = {.thread = s->thread};
			on_thread(l, &ti);
			v = g_hash_table_lookup(l->threads,
						GUINT_TO_POINTER(s->thread));
		}
		l->cur_thread = GPOINTER_TO_UINT(v) - 1;
		l->cur_serial = s->thread;
		l->have_cur = TRUE;
		l->prev_depth = 0;
	}

	if (trunc && !l->stack_truncated &&
	    !(l->stack_truncated = profile_stack_push(l->p, 0, l->p->frame_truncated)))
		return load_limit(l);
	base = trunc ? l->stack_truncated : 0;

	if (((l->prev_flags ^ s->flags) & PF_SAMPLE_TRUNCATED) == 0) {
		const struct pf_frame *prev =
			(const struct pf_frame *)(gpointer)l->prev_frames->data;
		guint32 n = MIN(l->prev_depth, s->depth);
		while (shared < n && prev[shared].code_id == s->frames[shared].code_id &&
		       prev[shared].lasti == s->frames[shared].lasti)
			shared++;
	}
	struct memo_key probe = {0, s->depth, trunc, s->frames};
	if (shared < s->depth) {
		probe.hash = memo_hash_frames(s->frames, s->depth, trunc);
		stack = GPOINTER_TO_UINT(g_hash_table_lookup(l->memo, &probe));
		if (stack) {
			/* the per-frame path is not known: nothing to share
			 * with the next sample but the memo itself */
			l->prev_depth = 0;
			l->prev_flags = s->flags;
			profile_add_sample(l->p, l->cur_thread, s->mono_ns,
					   s->cpu_ns, s->wall_ns, s->flags, stack);
			return 0;
		}
	}
	if (s->depth > l->prev_frames->len) {
		g_array_set_size(l->prev_frames, s->depth);
		g_array_set_size(l->prev_stacks, s->depth);
	}
	stack = shared ? g_array_index(l->prev_stacks, guint32, shared - 1) : base;
	for (i = shared; i < s->depth; i++) {
		guint32 frame = load_frame(l, &s->frames[i]);
		if (!frame || !(stack = profile_stack_push(l->p, stack, frame))) {
			l->prev_depth = 0;
			return load_limit(l);
		}
		g_array_index(l->prev_frames, struct pf_frame, i) = s->frames[i];
		g_array_index(l->prev_stacks, guint32, i) = stack;
	}
	l->prev_depth = s->depth;
	l->prev_flags = s->flags;
	if (shared < s->depth && s->depth && l->memo_bytes < LOAD_MEMO_MAX_BYTES) {
		gsize fb = s->depth * sizeof *s->frames;
		struct memo_key *k = g_malloc(sizeof *k + fb);
		*k = probe;
		k->frames = memcpy(k + 1, s->frames, fb);
		g_hash_table_insert(l->memo, k, GUINT_TO_POINTER(stack));
		l->memo_bytes += sizeof *k + fb + 32;
	}
	profile_add_sample(l->p, l->cur_thread, s->mono_ns, s->cpu_ns,
			   s->wall_ns, s->flags, stack);
	return 0;
}

static void on_warning(void *ctx, const struct pf_error *w)
{
	struct load *l = ctx;
	char msg[sizeof w->msg + 1];

	memcpy(msg, w->msg, sizeof w->msg);
	msg[sizeof w->msg] = '\0';
	load_warn(l, w->offset, msg);
}

static char *header_string(const char *s, gsize cap)
{
	const char *end = memchr(s, '\0', cap);
	return g_strndup(s, end ? (gsize)(end - s) : cap);
}

gboolean profile_load_file(struct profile *p, const char *path, GError **error)
{
	static const struct pf_visitor visitor = {
		.on_thread = on_thread,
		.on_string = on_string,
		.on_code = on_code,
		.on_sample = on_sample,
		.on_warning = on_warning,
		.on_thread_name = on_thread_name,
		.on_mark = on_mark,
	};
	struct pf_file *f = NULL;
	struct pf_error err = {0};
	const struct pf_header *h;
	struct profile_process info = {0};
	struct load l = {0};
	struct stat st;
	const char *const *argv;
	int argc, rc;
	char *hostname, *pyver;

	if (stat(path, &st) != 0) {
		int e = errno;
		g_set_error(error, PROFILE_ERROR, PROFILE_ERROR_IO, "%s: %s",
			    path, g_strerror(e));
		return FALSE;
	}
	if (S_ISDIR(st.st_mode)) {
		g_set_error(error, PROFILE_ERROR, PROFILE_ERROR_IO,
			    "%s: is a directory", path);
		return FALSE;
	}
	if (pf_file_open(path, &f, &err) != 0) {
		err.msg[sizeof err.msg - 1] = '\0';
		g_set_error(error, PROFILE_ERROR, PROFILE_ERROR_FORMAT,
			    "%s: offset %" G_GUINT64_FORMAT ": %s", path,
			    (guint64)err.offset, err.msg);
		return FALSE;
	}
	h = pf_file_header(f);

	info.path = path;
	info.pid = h->pid;
	info.ppid = h->ppid;
	argv = pf_file_argv(f, &argc);
	info.argv = g_new0(char *, (argc > 0 ? (gsize)argc : 0) + 1);
	for (int i = 0; i < argc && argv; i++)
		info.argv[i] = g_utf8_make_valid(argv[i] ? argv[i] : "", -1);
	info.argv_truncated = (h->flags & PF_FLAG_CMDLINE_TRUNCATED) != 0;
	info.hostname = hostname = header_string(h->hostname, sizeof h->hostname);
	info.py_version = pyver = header_string(h->py_version, sizeof h->py_version);
	info.py_hexversion = h->py_hexversion;
	info.py_static = (h->flags & PF_FLAG_PY_STATIC) != 0;
	info.mode = h->mode == PF_MODE_WALL ? PROFILE_MODE_WALL : PROFILE_MODE_CPU;
	info.source = h->source <= PF_SOURCE_PERF_TASK_CLOCK ? h->source
							     : PROFILE_SOURCE_NONE;
	info.interval_ns = h->interval_ns;
	info.start_realtime_ns = h->start_realtime_ns;
	info.start_mono_ns = h->start_monotonic_ns;
	info.complete = h->state == PF_STATE_COMPLETE;
	info.end_mono_ns = info.complete ? h->end_monotonic_ns : 0;
	info.end_reason = info.complete && h->end_reason <= PF_END_STOP
				  ? h->end_reason : PROFILE_END_NONE;
	info.end_signal = (int)h->end_signal;
	info.signals = h->signals;
	info.header_samples = h->samples;
	memcpy(info.dropped, h->dropped, sizeof info.dropped);

	l.p = p;
	l.path = profile_intern(p, path, -1);
	l.process = profile_add_process(p, &info);
	g_strfreev(info.argv);
	g_free(hostname);
	g_free(pyver);
	l.py_hexversion = h->py_hexversion;
	l.strings = g_hash_table_new(g_direct_hash, g_direct_equal);
	l.codes = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
					load_code_free);
	l.threads = g_hash_table_new(g_direct_hash, g_direct_equal);
	l.prev_frames = g_array_new(FALSE, FALSE, sizeof(struct pf_frame));
	l.memo = g_hash_table_new_full(memo_hash, memo_equal, g_free, NULL);
	l.prev_stacks = g_array_new(FALSE, FALSE, sizeof(guint32));

	if (!info.complete)
		g_ptr_array_add(p->warnings,
				g_strdup_printf("%s: was cut short (the process did "
						"not finish writing it)", path));
	l.names = g_array_new(FALSE, FALSE, sizeof(struct load_name));
	rc = pf_file_visit(f, &visitor, &l);
	if (rc == 0)
		load_apply_names(&l);
	g_array_unref(l.names);

	g_hash_table_unref(l.strings);
	g_hash_table_unref(l.codes);
	g_free(l.code_array);
	g_hash_table_unref(l.threads);
	g_array_unref(l.prev_frames);
	g_array_unref(l.prev_stacks);
	g_hash_table_unref(l.memo);
	pf_file_close(f);
	if (rc != 0) {
		if (!l.error)
			g_set_error(&l.error, PROFILE_ERROR, PROFILE_ERROR_FORMAT,
				    "%s: decoding stopped", path);
		g_propagate_error(error, l.error);
		return FALSE;
	}
	return TRUE;
}

/* ---- the call tree ---- */

struct tree_build {
	const struct profile *p;
	const struct profile_tree_options *opts;
	struct profile_tree *t;
	GPtrArray *edge_pages;  /* struct edge per node: the index keys */
	GHashTable *edges;      /* (parent node, frame) -> node */
	guint32 *stack_node;    /* stack id -> node, for the current thread */
	GArray *touched;        /* stack ids set in stack_node */
	GArray *walk;           /* scratch: stack ids awaiting a node */
	guint32 *verdict;       /* frame id -> VERDICT_UNKNOWN, or the
				 * answer of opts->classify (or hide) */
};

#define VERDICT_UNKNOWN 0xfffffffeu

static guint32 tree_child(struct tree_build *b, guint32 parent, guint32 frame,
			  int thread)
{
	struct edge probe = {parent, frame}, *key;
	struct profile_node node = {0};
	const struct profile_node *up;
	guint32 id;

	id = GPOINTER_TO_UINT(g_hash_table_lookup(b->edges, &probe));
	if (id)
		return id;
	up = profile_tree_node(b->t, parent);
	id = b->t->nodes->len;
	node.frame = frame;
	node.parent = parent;
	node.depth = up->depth + 1;
	node.thread = thread;
	g_array_append_val(b->t->nodes, node);
	key = page_append(b->edge_pages, sizeof *key, id);
	*key = probe;
	g_hash_table_insert(b->edges, key, GUINT_TO_POINTER(id));
	return id;
}

/* 0 (keep), PROFILE_TREE_HIDDEN or a group frame: asked once per frame */
static guint32 tree_verdict(struct tree_build *b, guint32 frame)
{
	const struct profile_tree_options *o = b->opts;

	if (!o || (!o->hide && !o->classify))
		return 0;
	if (b->verdict[frame] == VERDICT_UNKNOWN) {
		if (o->classify)
			b->verdict[frame] = o->classify(b->p, frame, o->classify_data);
		else
			b->verdict[frame] = o->hide(b->p, frame, o->hide_data)
						    ? PROFILE_TREE_HIDDEN : 0;
	}
	return b->verdict[frame];
}

/* The node of stack s under thread node `top`, creating the path. */
static guint32 tree_node_for(struct tree_build *b, guint32 s, guint32 top,
			     int thread)
{
	guint32 node;

	if (s == 0)
		return top;
	if (b->stack_node[s])
		return b->stack_node[s];
	g_array_set_size(b->walk, 0);
	while (s != 0 && !b->stack_node[s]) {
		g_array_append_val(b->walk, s);
		s = profile_stack(b->p, s)->parent;
	}
	node = s ? b->stack_node[s] : top;
	for (guint i = b->walk->len; i-- > 0;) {
		guint32 id = g_array_index(b->walk, guint32, i);
		guint32 frame = profile_stack(b->p, id)->frame;
		guint32 v = tree_verdict(b, frame);
		if (v == 0)
			node = tree_child(b, node, frame, thread);
		else if (v != PROFILE_TREE_HIDDEN &&
			 profile_tree_node(b->t, node)->frame != v)
			node = tree_child(b, node, v, thread);
		b->stack_node[id] = node;
		g_array_append_val(b->touched, id);
	}
	return node;
}

static int tree_compare(gconstpointer a, gconstpointer b, gpointer data)
{
	const struct profile_tree *t = data;
	guint32 ia = *(const guint32 *)a, ib = *(const guint32 *)b;
	const struct profile_node *x = profile_tree_node(t, ia);
	const struct profile_node *y = profile_tree_node(t, ib);
	const struct profile_frame *fx, *fy;
	int c;

	if (x->total_ns != y->total_ns)
		return x->total_ns > y->total_ns ? -1 : 1;
	if (x->total_samples != y->total_samples)
		return x->total_samples > y->total_samples ? -1 : 1;
	fx = profile_frame(t->profile, x->frame);
	fy = profile_frame(t->profile, y->frame);
	if ((c = strcmp(profile_frame_label(fx), profile_frame_label(fy))))
		return c;
	if ((c = strcmp(fx->filename, fy->filename)))
		return c;
	if (fx->line != fy->line)
		return fx->line < fy->line ? -1 : 1;
	if (x->thread != y->thread)
		return x->thread < y->thread ? -1 : 1;
	return ia < ib ? -1 : ia > ib;
}

struct profile_tree *profile_tree_build(const struct profile *p,
					const struct profile_tree_options *opts)
{
	struct profile_tree *t = g_new0(struct profile_tree, 1);
	struct tree_build b = {.p = p, .opts = opts, .t = t};
	enum profile_group group = opts ? opts->group : PROFILE_GROUP_THREAD;
	struct profile_node root = {0};

	t->profile = p;
	t->nodes = g_array_new(FALSE, FALSE, sizeof(struct profile_node));
	root.thread = -1;
	g_array_append_val(t->nodes, root);
	b.edge_pages = g_ptr_array_new_with_free_func(g_free);
	page_append(b.edge_pages, sizeof(struct edge), 0);
	b.edges = g_hash_table_new(edge_hash, edge_equal);
	b.stack_node = g_new0(guint32, p->n_stacks);
	b.touched = g_array_new(FALSE, FALSE, sizeof(guint32));
	b.walk = g_array_new(FALSE, FALSE, sizeof(guint32));
	b.verdict = g_new(guint32, p->n_frames);
	for (guint32 i = 0; i < p->n_frames; i++)
		b.verdict[i] = VERDICT_UNKNOWN;

	for (guint ti = 0; ti < p->threads->len; ti++) {
		const struct profile_thread *th = profile_thread(p, ti);
		const struct profile_sample *s =
			(const struct profile_sample *)(gpointer)th->samples->data;
		gboolean wall = profile_process(p, th->process)->mode ==
				PROFILE_MODE_WALL;
		guint32 top;
		int thread = group == PROFILE_GROUP_THREAD ? (int)ti : -1;

		top = tree_child(&b, 0,
				 group == PROFILE_GROUP_THREAD ? th->frame
				 : group == PROFILE_GROUP_PROCESS
					 ? profile_process(p, th->process)->frame
				 : group == PROFILE_GROUP_NAME ? th->name_frame
							       : p->frame_all_threads,
				 thread);
		for (guint i = 0; i < th->samples->len; i++) {
			guint32 node, idle = 0;
			struct profile_node *nd;
			guint64 wait = profile_sample_wait_ns(p, th, &s[i]);
			gboolean counts = profile_tree_counts(opts, p, th, &s[i]);

			if (!counts && wait >= s[i].wall_ns)
				continue;
			node = tree_node_for(&b, s[i].stack, top, thread);
			/* no verdict is asked for [idle]: it is no frame of
			 * the program, and no rule may take it away.  A
			 * wall-mode sample's running time goes to its stack,
			 * its waiting time to the [idle] below it. */
			if (wall && (wait || profile_sample_idle(p, th, &s[i])) &&
			    !(opts && opts->no_idle))
				idle = tree_child(&b, node, p->frame_idle, thread);
			nd = &g_array_index(t->nodes, struct profile_node, node);
			nd->self_ns += wall ? s[i].wall_ns - wait : s[i].cpu_ns;
			if (counts && !(idle && profile_sample_idle(p, th, &s[i])))
				nd->self_samples++;
			if (idle) {
				nd = &g_array_index(t->nodes, struct profile_node, idle);
				nd->self_ns += wait;
				if (profile_sample_idle(p, th, &s[i]))
					nd->self_samples++;
			}
		}
		for (guint i = 0; i < b.touched->len; i++)
			b.stack_node[g_array_index(b.touched, guint32, i)] = 0;
		g_array_set_size(b.touched, 0);
	}

	g_ptr_array_unref(b.edge_pages);
	g_hash_table_unref(b.edges);
	g_free(b.stack_node);
	g_array_unref(b.touched);
	g_array_unref(b.walk);
	g_free(b.verdict);
	profile_tree_finish(t);
	return t;
}

static void trim_free(gpointer data)
{
	struct profile_trim *tr = data;
	g_free(tr->first);
	g_free(tr->last);
	g_free(tr);
}

void profile_tree_finish(struct profile_tree *t)
{
	guint32 n, *fill;

	if (!t->trims)
		t->trims = g_ptr_array_new_with_free_func(trim_free);
	if (t->children)
		g_array_unref(t->children);
	/* a child always has a larger id than its parent */
	n = t->nodes->len;
	for (guint32 i = 0; i < n; i++) {
		struct profile_node *nd = &g_array_index(t->nodes, struct profile_node, i);
		nd->total_ns = nd->self_ns;
		nd->total_samples = nd->self_samples;
		nd->n_children = 0;
	}
	for (guint32 i = n; i-- > 1;) {
		struct profile_node *nd = &g_array_index(t->nodes, struct profile_node, i);
		struct profile_node *up = &g_array_index(t->nodes, struct profile_node, nd->parent);
		up->total_ns += nd->total_ns;
		up->total_samples += nd->total_samples;
		up->n_children++;
	}
	t->children = g_array_sized_new(FALSE, FALSE, sizeof(guint32), n);
	g_array_set_size(t->children, n ? n - 1 : 0);
	fill = g_new0(guint32, n);
	for (guint32 i = 0, at = 0; i < n; i++) {
		struct profile_node *nd = &g_array_index(t->nodes, struct profile_node, i);
		nd->first_child = at;
		fill[i] = at;
		at += nd->n_children;
	}
	for (guint32 i = 1; i < n; i++) {
		guint32 up = g_array_index(t->nodes, struct profile_node, i).parent;
		g_array_index(t->children, guint32, fill[up]++) = i;
	}
	for (guint32 i = 0; i < n; i++) {
		const struct profile_node *nd = profile_tree_node(t, i);
		if (nd->n_children > 1)
			g_qsort_with_data(&g_array_index(t->children, guint32, nd->first_child),
					  (gint)nd->n_children, sizeof(guint32),
					  tree_compare, t);
	}

	g_free(fill);
}

void profile_tree_free(struct profile_tree *t)
{
	if (!t)
		return;
	g_array_unref(t->nodes);
	g_array_unref(t->children);
	g_ptr_array_unref(t->trims);
	g_free(t);
}
