/*
 * load.c - .pyprof files into the model: the only collector file that
 * knows the format (format.h, read.h), through the reader's visitor.
 *
 * Loading keeps, per thread being decoded, the previous sample's frames
 * and the stack id reached after each of them.  Consecutive samples share
 * most of their root side, so a sample costs one comparison per shared
 * frame and, per new frame, an array read for its frame and a stack push
 * (the parent's last child, else one probe of the stack index) -- O(depth),
 * no allocation.  (code id, lasti) -> frame id is an array per code
 * object, so the line table is decoded once per distinct instruction.
 * A memo of whole stacks (one hash of every frame of each sample) used to
 * sit in front of this; with these lookups this cheap it cost more than
 * it saved, on generated and on real files alike (bench/README.md).
 */
#include "config.h"

#include "collector/profile.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "collector/profile-private.h"
#include "format.h"
#include "read.h"
#include "pack.h"
#include "linetable.h"
#include "collector/symbols.h"

_Static_assert((int)PROFILE_MODE_CPU == (int)PF_MODE_CPU, "mode");
_Static_assert((int)PROFILE_MODE_WALL == (int)PF_MODE_WALL, "mode");
_Static_assert((int)PROFILE_SOURCE_PERF_TASK_CLOCK == (int)PF_SOURCE_PERF_TASK_CLOCK,
	       "source");
_Static_assert((int)PROFILE_END_STOP == (int)PF_END_STOP, "end");
_Static_assert((int)PROFILE_END_ROTATE == (int)PF_END_ROTATE, "end");
_Static_assert(PROFILE_DROP_COUNT == PF_DROP_COUNT, "drops");
_Static_assert(PROFILE_SAMPLE_GIL == PF_SAMPLE_GIL &&
		       PROFILE_SAMPLE_TRUNCATED == PF_SAMPLE_TRUNCATED &&
		       PROFILE_SAMPLE_IDLE == PF_SAMPLE_IDLE &&
		       PROFILE_SAMPLE_UNMERGED == PF_SAMPLE_UNMERGED &&
		       PROFILE_SAMPLE_WAIT_MASK == PF_SAMPLE_WAIT_MASK,
	       "sample flags");
_Static_assert(PROFILE_THREAD_MAIN == PF_THREAD_MAIN, "thread flags");

/* The drop reasons are indices into the file header's counters, so they
 * are named here, where the format is known. */
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
	/* what every frame of a sample reads first, in one cache line: a
	 * program's code objects are thousands, and the lookups of their
	 * frames are most of what reading costs once the file's bytes are
	 * decoded */
	int last_lasti;       /* the last lookup, answered without looking */
	guint32 last_frame;
	gboolean native;      /* a PF_REC_NATIVE id: address, no code */
	guint32 n_frames;
	/* frame id by lasti / 2 + 1 (lasti is even, or -1: not started),
	 * for the low offsets where nearly every sample is; the rest, and
	 * every offset once the loader's budget for these is spent, in
	 * by_lasti (lasti + 1 -> frame id) */
	guint32 *frames;
	GHashTable *by_lasti;
	guint32 filename, name, qualname; /* string ids */
	int firstlineno;
	guint32 flags;
	const guint8 *linetable; /* in the mapping: valid during the visit */
	guint32 linetable_len;
	const char *s_filename, *s_name, *s_qualname; /* resolved lazily */
	gboolean resolved;    /* the s_ strings are set */
	guint64 address;
};

/* A code object's frames by instruction offset are an array up to this
 * index (a function of 64 KiB of bytecode; CPython's own largest are a
 * few KiB), and all the arrays of a file together stay under the budget,
 * so that a hostile file naming huge offsets in many codes costs hash
 * entries, not arrays. */
#define LOAD_FRAMES_MAX_INDEX (1u << 15)
#define LOAD_FRAMES_MAX_BYTES (64u << 20)

static void load_code_free(gpointer data)
{
	struct load_code *c = data;
	g_free(c->frames);
	if (c->by_lasti)
		g_hash_table_unref(c->by_lasti);
	g_free(c);
}

struct load_slots {
	guint32 *frames;
	guint32 n;
};

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
	/* beside it, each code's frames by offset (its frames array and
	 * length, kept equal to the code's): the loader's first look, which
	 * touches no code struct (bench/README.md) */
	struct load_slots *code_slots;
	guint32 code_array_len;
	guint32 code_max_id;
	gboolean codes_indexed;
	gsize frames_bytes;  /* of every load_code's frames array */
	GHashTable *threads; /* serial -> thread index + 1 */
	/* the thread being decoded and its previous sample */
	gboolean have_cur;
	guint32 cur_serial;
	guint cur_thread;
	GArray *prev_stacks; /* guint32: stack after frame i */
	guint32 prev_depth;
	guint32 prev_flags;
	guint32 stack_truncated; /* stack of just "[truncated]" */
	GArray *names;           /* struct load_name, applied after the visit */
	guint symbols_process;   /* this file's process in `symbols` */
	guint32 stack_unmerged;  /* stack of just "[native: unmerged]" */
	GError *error;
};

/* One symbolizer for every file loaded in this run: a report of a process
 * tree opens each libpython or libz once (collector/symbols.h).  Each file
 * is its own process in it. */
static struct symbolizer *symbols;
static guint symbols_processes;
static GHashTable *symbols_told; /* of symbolizer_missing()'s lines */

void profile_set_sysroot(const char *root)
{
	if (!symbols)
		symbols = symbolizer_new();
	symbolizer_set_root(symbols, root);
}

__attribute__((destructor)) static void symbols_release(void)
{
	symbolizer_free(symbols);
	symbols = NULL;
	if (symbols_told)
		g_hash_table_destroy(symbols_told);
	symbols_told = NULL;
}

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
				  (enum profile_mark_kind)m->kind, NULL, -1};
	/* the threads are known: the visit gives them before any mark */
	guint index = GPOINTER_TO_UINT(g_hash_table_lookup(l->threads,
							   GUINT_TO_POINTER(m->thread)));

	if (m->kind < PF_MARK_START || m->kind > PF_MARK_POINT)
		return 0;
	pm.label = profile_intern(l->p, m->label, m->label_len);
	if (index)
		pm.thread = (int)index - 1;
	g_array_append_val(l->p->marks, pm);
	return 0;
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
			guint64 start = t->first_mono_ns;

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

static int on_native(void *ctx, const struct pf_native_info *ni)
{
	struct load *l = ctx;
	struct load_code *c;

	if (g_hash_table_contains(l->codes, GUINT_TO_POINTER(ni->id)))
		return 0;
	c = g_new0(struct load_code, 1);
	if (ni->id > l->code_max_id)
		l->code_max_id = ni->id;
	c->native = TRUE;
	c->address = ni->address;
	g_hash_table_insert(l->codes, GUINT_TO_POINTER(ni->id), c);
	return 0;
}

static int on_object(void *ctx, const struct pf_object_info *o)
{
	struct load *l = ctx;
	char *path = g_strndup(o->path, o->path_len);
	struct sym_object so = {
		.path = path,
		.build_id = o->build_id_len ? o->build_id : NULL,
		.build_id_len = o->build_id_len,
		.bias = o->bias,
		.lo = o->lo,
		.hi = o->hi,
	};

	if (!symbols)
		symbols = symbolizer_new();
	if (!symbols_told)
		symbols_told = g_hash_table_new(g_str_hash, g_str_equal);
	symbolizer_add(symbols, l->symbols_process, &so);
	g_free(path);
	return 0;
}

/* The frame of a native address: its function where the object's symbols
 * say, else "object+0xOFFSET", else the bare address. */
static guint32 native_frame(struct load *l, struct load_code *c)
{
	struct sym_info si = {0};
	const char *object, *name, *source = NULL;
	char *tmp = NULL;

	if (!symbols)
		symbols = symbolizer_new();
	symbolizer_lookup(symbols, l->symbols_process, c->address, &si);
	object = profile_intern(l->p, si.object ? si.object : "", -1);
	if (si.function) {
		name = profile_intern(l->p, si.function, -1);
		source = si.source ? profile_intern(l->p, si.source, -1) : NULL;
	} else if (si.object) {
		const char *base = strrchr(si.object, '/');
		tmp = g_strdup_printf("%s+0x%" G_GINT64_MODIFIER "x",
				      base ? base + 1 : si.object, si.offset);
		name = profile_intern(l->p, tmp, -1);
	} else {
		tmp = g_strdup_printf("0x%" G_GINT64_MODIFIER "x", c->address);
		name = profile_intern(l->p, tmp, -1);
	}
	g_free(tmp);
	return profile_frame_intern_native(l->p, object, name, source,
					   source ? si.line : -1);
}

static const char *load_string(struct load *l, guint32 id, const char *dflt)
{
	const char *s = id ? g_hash_table_lookup(l->strings, GUINT_TO_POINTER(id))
			   : NULL;
	return s ? s : profile_intern(l->p, dflt, -1);
}

/* The slot for pf's frame in c->frames, grown to hold it; NULL when its
 * offset is past what the arrays cover or the budget is spent (then the
 * hash table answers). */
static guint32 *load_frame_slot(struct load *l, struct load_code *c,
				const struct pf_frame *pf)
{
	guint32 i = (guint32)(pf->lasti + 2) >> 1, n;

	if (i < c->n_frames)
		return &c->frames[i];
	if (i >= LOAD_FRAMES_MAX_INDEX)
		return NULL;
	for (n = c->n_frames ? c->n_frames : 16; n <= i; n *= 2)
		;
	if (l->frames_bytes + (n - c->n_frames) * sizeof *c->frames >
	    LOAD_FRAMES_MAX_BYTES)
		return NULL;
	l->frames_bytes += (n - c->n_frames) * sizeof *c->frames;
	c->frames = g_renew(guint32, c->frames, n);
	memset(c->frames + c->n_frames, 0, (n - c->n_frames) * sizeof *c->frames);
	c->n_frames = n;
	if (pf->code_id < l->code_array_len)
		l->code_slots[pf->code_id] = (struct load_slots){c->frames, n};
	return &c->frames[i];
}

/* The frame of (code, lasti); 0 if the frame table is full. */
static guint32 load_frame(struct load *l, const struct pf_frame *pf)
{
	struct load_code *c;
	guint32 id, *slot;
	int line;

	if (pf->code_id < l->code_array_len)
		c = l->code_array[pf->code_id];
	else if (l->code_array || !pf->code_id)
		c = NULL;
	else
		c = g_hash_table_lookup(l->codes, GUINT_TO_POINTER(pf->code_id));
	if (!c)
		return l->p->frame_unknown;
	if (c->native) {
		if (!c->last_frame)
			c->last_frame = native_frame(l, c);
		return c->last_frame;
	}
	if (c->last_frame && c->last_lasti == pf->lasti)
		return c->last_frame;
	slot = load_frame_slot(l, c, pf);
	if (slot && *slot) {
		c->last_lasti = pf->lasti;
		c->last_frame = *slot;
		return *slot;
	}
	if (!c->resolved) {
		/* strings are all known once samples start (read.h) */
		c->s_filename = load_string(l, c->filename, "?");
		c->s_name = load_string(l, c->name, "?");
		c->s_qualname = c->qualname ? load_string(l, c->qualname, "?")
					    : NULL;
		c->resolved = TRUE;
	}
	if (!slot) {
		if (!c->by_lasti)
			c->by_lasti = g_hash_table_new(g_direct_hash, g_direct_equal);
		id = GPOINTER_TO_UINT(g_hash_table_lookup(
			c->by_lasti, GINT_TO_POINTER(pf->lasti + 1)));
		if (id) {
			c->last_lasti = pf->lasti;
			c->last_frame = id;
			return id;
		}
	}
	if (pf->lasti < 0)
		line = c->firstlineno; /* not started: at the def line */
	else
		line = linetable_line_of(l->py_hexversion, c->flags,
					 c->linetable, c->linetable_len,
					 c->firstlineno, pf->lasti);
	id = profile_frame_intern(l->p, PROFILE_FRAME_PYTHON, c->s_filename,
				  c->s_name, c->s_qualname, c->firstlineno,
				  line < 0 ? -1 : line, -1);
	if (id) {
		if (slot)
			*slot = id;
		else
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
	l->code_slots = g_new0(struct load_slots, l->code_array_len);
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
	if (s->flags & PF_SAMPLE_UNMERGED) {
		if (!l->stack_unmerged &&
		    !(l->stack_unmerged = profile_stack_push(
			      l->p, 0, profile_frame_unmerged(l->p))))
			return load_limit(l);
		base = l->stack_unmerged;
	}

	/* the frames the file says the sample shares with the one before
	 * (read.h), which this loader saw last unless the thread changed */
	if (((l->prev_flags ^ s->flags) &
	     (PF_SAMPLE_TRUNCATED | PF_SAMPLE_UNMERGED)) == 0)
		shared = MIN(s->shared, l->prev_depth);
	if (s->depth > l->prev_stacks->len)
		g_array_set_size(l->prev_stacks, s->depth);
	stack = shared ? g_array_index(l->prev_stacks, guint32, shared - 1) : base;
	for (i = shared; i < s->depth; i++) {
		const struct pf_frame *pf = &s->frames[i];
		guint32 frame = 0, next, at = (guint32)(pf->lasti + 2) >> 1;

		if (pf->code_id < l->code_array_len &&
		    at < l->code_slots[pf->code_id].n)
			frame = l->code_slots[pf->code_id].frames[at];
		if (!frame)
			frame = load_frame(l, pf);

		if (frame && (next = profile_stack_hint(l->p, stack, frame)))
			stack = next;
		else if (!frame || !(stack = profile_stack_push(l->p, stack, frame))) {
			l->prev_depth = 0;
			return load_limit(l);
		}
		g_array_index(l->prev_stacks, guint32, i) = stack;
	}
	l->prev_depth = s->depth;
	l->prev_flags = s->flags;
	if (s->flags & PF_SAMPLE_WAIT_MASK)
		profile_frame_idle_intern(l->p, s->flags);
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

/*
 * A rotated run's next file (format 2.3): the process read last is the
 * same run (pid, host and the run's start) and this file comes right
 * after its last.  Then the file adds to that process, its threads (by
 * serial, which a process keeps across its files) to those threads, and
 * the header's end and counts are the run's so far; threads gets the
 * serials known.  Files read in another order, or with another file
 * between them, stay processes of their own.
 */
static gboolean run_goes_on(struct profile *p, const struct profile_process *info,
			    GHashTable *threads)
{
	struct profile_process *pr;

	if (info->sequence < 2 || !info->run_start_realtime_ns || !p->processes->len)
		return FALSE;
	pr = profile_process(p, p->processes->len - 1);
	if (pr->pid != info->pid || pr->sequence + 1 != info->sequence ||
	    pr->run_start_realtime_ns != info->run_start_realtime_ns ||
	    g_strcmp0(pr->hostname, info->hostname))
		return FALSE;
	pr->sequence = info->sequence;
	pr->n_files++;
	pr->complete = info->complete;
	pr->end_mono_ns = info->end_mono_ns;
	pr->end_reason = info->end_reason;
	pr->end_signal = info->end_signal;
	pr->signals += info->signals;
	pr->header_samples += info->header_samples;
	for (guint i = 0; i < PROFILE_DROP_COUNT; i++)
		pr->dropped[i] += info->dropped[i];
	for (guint i = 0; i < pr->n_threads; i++)
		g_hash_table_insert(threads,
				    GUINT_TO_POINTER(profile_thread(p, pr->first_thread + i)->serial),
				    GUINT_TO_POINTER(pr->first_thread + i + 1));
	return TRUE;
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
		.on_native = on_native,
		.on_object = on_object,
	};
	struct pf_file *f = NULL;
	struct pf_error err = {0};
	const struct pf_header *h;
	struct profile_process info = {0};
	struct load l = {0};
	struct stat st;
	const char *const *argv;
	int argc, rc;
	char *hostname, *pyver, *cwd, *exe;

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
	if (pf_pack_open(path, &f, &err) != 0) {
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
	info.cwd = cwd = header_string(h->cwd, sizeof h->cwd);
	info.exe = exe = header_string(h->exe, sizeof h->exe);
	info.py_static = (h->flags & PF_FLAG_PY_STATIC) != 0;
	info.native = (h->flags & PF_FLAG_NATIVE) != 0;
	info.mode = h->mode == PF_MODE_WALL ? PROFILE_MODE_WALL : PROFILE_MODE_CPU;
	info.source = h->source <= PF_SOURCE_PERF_TASK_CLOCK ? h->source
							     : PROFILE_SOURCE_NONE;
	info.interval_ns = h->interval_ns;
	info.start_realtime_ns = h->start_realtime_ns;
	info.start_mono_ns = h->start_monotonic_ns;
	info.complete = h->state == PF_STATE_COMPLETE;
	info.end_mono_ns = info.complete ? h->end_monotonic_ns : 0;
	info.end_reason = info.complete && h->end_reason <= PF_END_ROTATE
				  ? h->end_reason : PROFILE_END_NONE;
	info.end_signal = (int)h->end_signal;
	info.signals = h->signals;
	info.header_samples = h->samples;
	memcpy(info.dropped, h->dropped, sizeof info.dropped);
	info.sequence = h->sequence;
	info.run_start_realtime_ns = h->run_start_realtime_ns;

	l.p = p;
	l.path = profile_intern(p, path, -1);
	l.threads = g_hash_table_new(g_direct_hash, g_direct_equal);
	if (!run_goes_on(p, &info, l.threads))
		l.process = profile_add_process(p, &info);
	else
		l.process = p->processes->len - 1;
	g_strfreev(info.argv);
	g_free(hostname);
	g_free(pyver);
	g_free(cwd);
	g_free(exe);
	l.py_hexversion = h->py_hexversion;
	l.strings = g_hash_table_new(g_direct_hash, g_direct_equal);
	l.codes = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
					load_code_free);
	l.prev_stacks = g_array_new(FALSE, FALSE, sizeof(guint32));

	if (!info.complete) {
		const char *name = p->running ?
			g_hash_table_lookup(p->running,
					    GINT_TO_POINTER(info.pid)) : NULL;
		if (name)
			g_ptr_array_add(p->warnings,
					g_strdup_printf("%s: process %d (%s) is still "
							"running: its profile so far",
							path, (int)info.pid, name));
		else
			g_ptr_array_add(p->warnings,
					g_strdup_printf("%s: was cut short (the process did "
							"not finish writing it)", path));
	}
	l.names = g_array_new(FALSE, FALSE, sizeof(struct load_name));
	l.symbols_process = symbols_processes++;
	rc = pf_file_visit(f, &visitor, &l);
	if (symbols) {
		/* each missing object once, by the first file that needed it */
		for (const char *const *m = symbolizer_missing(symbols); m && *m; m++)
			if (g_hash_table_add(symbols_told, (gpointer)*m))
				g_ptr_array_add(p->warnings,
						g_strdup_printf("%s: native frames not "
								"named: %s", path, *m));
	}
	if (rc == 0)
		load_apply_names(&l);
	/* families go by names, so only once the names are known */
	profile_family_group(p, l.process);
	g_array_unref(l.names);

	g_hash_table_unref(l.strings);
	g_hash_table_unref(l.codes);
	g_free(l.code_array);
	g_free(l.code_slots);
	g_hash_table_unref(l.threads);
	g_array_unref(l.prev_stacks);
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
