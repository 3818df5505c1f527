/*
 * pprof.c - gzipped profile.proto, what `go tool pprof` and Grafana
 * Pyroscope read.  The messages come from render/profile.proto through
 * protoc-c; the encoding is libprotobuf-c's, the gzip zlib's.
 *
 *   sample types   samples/count, then cpu/nanoseconds (wall/nanoseconds
 *                  in wall mode), the default
 *   sample         one per call-tree node with samples of its own: its
 *                  path in the tree, leaf first; labels thread (name),
 *                  thread_id and pid, or thread (the group's label) when
 *                  threads are grouped, with pid for a family of threads
 *   location       one per frame of the tree: a function at a line
 *   function       one per function: name is the qualified name,
 *                  system_name the code object's name, start_line the
 *                  line of the definition
 *   period         the sampling interval asked for, in ns
 *   mapping        one, "python", marked as symbolized so that pprof
 *                  neither looks for a binary nor tries to symbolize
 *
 * pprof shortens function names as if they were C++: it drops anything
 * between '<' and '>' as template arguments, so Python's "<module>",
 * "<lambda>" and "<listcomp>" would all show as nothing.  Function names
 * here spell the angle brackets as U+2039 and U+203A ("‹module›");
 * system_name keeps the code object's real name.
 *
 * Because samples are the tree's nodes, hiding and trimming apply, and
 * pprof's totals are the text report's.
 */
#include "config.h"

#include "render.h"

#include <string.h>

#include <zlib.h>

#include "render/profile.pb-c.h"

typedef Perftools__Profiles__Profile PbProfile;
typedef Perftools__Profiles__Sample PbSample;
typedef Perftools__Profiles__Location PbLocation;
typedef Perftools__Profiles__Line PbLine;
typedef Perftools__Profiles__Function PbFunction;
typedef Perftools__Profiles__Label PbLabel;
typedef Perftools__Profiles__ValueType PbValueType;
typedef Perftools__Profiles__Mapping PbMapping;

struct pprof {
	const struct profile *p;
	const struct profile_tree *t;
	GHashTable *string_index; /* interned string -> index + 1 */
	GPtrArray *strings;
	guint64 *location;        /* frame id -> location id, 0 none */
	guint64 *function;        /* frame id of a function -> function id */
	GPtrArray *locations, *functions; /* of PbLocation *, PbFunction * */
	GPtrArray *free_list;     /* allocations to free at the end */
};

static gint64 str_index(struct pprof *x, const char *s)
{
	gpointer v = g_hash_table_lookup(x->string_index, s);

	if (v)
		return GPOINTER_TO_INT(v) - 1;
	g_ptr_array_add(x->strings, (gpointer)s);
	g_hash_table_insert(x->string_index, (gpointer)s,
			    GINT_TO_POINTER((gint)x->strings->len));
	return (gint64)x->strings->len - 1;
}

static void *keep(struct pprof *x, void *mem)
{
	g_ptr_array_add(x->free_list, mem);
	return mem;
}

/* name with '<' and '>' spelled as single guillemets (see the top) */
static const char *pprof_name(struct pprof *x, const char *name)
{
	GString *b;

	if (!strpbrk(name, "<>"))
		return name;
	b = g_string_new(NULL);
	for (const char *c = name; *c; c++) {
		if (*c == '<')
			g_string_append(b, "\u2039");
		else if (*c == '>')
			g_string_append(b, "\u203a");
		else
			g_string_append_c(b, *c);
	}
	return keep(x, g_string_free(b, FALSE));
}

static guint64 function_id(struct pprof *x, guint32 frame)
{
	const struct profile_frame *f = profile_frame(x->p, frame);
	guint32 fn = f->function ? f->function : frame;
	const struct profile_frame *ff = profile_frame(x->p, fn);
	PbFunction *pf;

	if (x->function[fn])
		return x->function[fn];
	pf = keep(x, g_new(PbFunction, 1));
	perftools__profiles__function__init(pf);
	pf->id = x->functions->len + 1;
	pf->name = str_index(x, pprof_name(x, profile_frame_label(ff)));
	pf->system_name = str_index(x, ff->name);
	pf->filename = str_index(x, ff->kind == PROFILE_FRAME_NATIVE
					    ? render_native_file(ff)
					    : ff->filename);
	pf->start_line = ff->firstlineno > 0 ? ff->firstlineno : 0;
	g_ptr_array_add(x->functions, pf);
	return x->function[fn] = pf->id;
}

static guint64 location_id(struct pprof *x, guint32 frame)
{
	const struct profile_frame *f;
	PbLocation *loc;
	PbLine *line;

	if (x->location[frame])
		return x->location[frame];
	f = profile_frame(x->p, frame);
	loc = keep(x, g_new(PbLocation, 1));
	perftools__profiles__location__init(loc);
	line = keep(x, g_new(PbLine, 1));
	perftools__profiles__line__init(line);
	line->function_id = function_id(x, frame);
	line->line = f->line > 0 ? f->line : 0;
	loc->id = x->locations->len + 1;
	loc->mapping_id = 1;
	loc->n_line = 1;
	loc->line = keep(x, g_new(PbLine *, 1));
	loc->line[0] = line;
	g_ptr_array_add(x->locations, loc);
	return x->location[frame] = loc->id;
}

static PbLabel *label(struct pprof *x, const char *key, const char *str,
		      gint64 num)
{
	PbLabel *l = keep(x, g_new(PbLabel, 1));

	perftools__profiles__label__init(l);
	l->key = str_index(x, key);
	if (str)
		l->str = str_index(x, str);
	else
		l->num = num;
	return l;
}

/* The labels of samples under root node r */
static PbLabel **root_labels(struct pprof *x, guint32 r, size_t *n)
{
	const struct profile_node *nd = profile_tree_node(x->t, r);
	PbLabel **l = keep(x, g_new(PbLabel *, 3));

	if (nd->thread >= 0) {
		const struct profile_thread *th = profile_thread(x->p, (guint)nd->thread);
		l[0] = label(x, "thread", th->name, 0);
		l[1] = label(x, "thread_id", NULL, th->tid);
		l[2] = label(x, "pid", NULL, profile_process(x->p, th->process)->pid);
		*n = 3;
	} else {
		const struct profile_frame *f = profile_frame(x->p, nd->frame);
		int family = profile_frame_family(f);

		l[0] = label(x, "thread", profile_frame_label(f), 0);
		*n = 1;
		/* a family's threads are all of one process */
		if (family >= 0)
			l[(*n)++] = label(x, "pid", NULL,
					  profile_process(x->p, (guint)family)->pid);
	}
	return l;
}

static gboolean write_gzip(const guint8 *data, gsize len, FILE *out,
			   GError **error)
{
	z_stream z = {0};
	guint8 buf[65536];
	int rc;

	/* 15 + 16: a gzip wrapper rather than zlib's */
	if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		g_set_error(error, RENDER_ERROR, RENDER_ERROR_WRITE, "zlib: cannot start");
		return FALSE;
	}
	z.next_in = (Bytef *)data;
	z.avail_in = (uInt)len; /* the caller keeps len below 4 GiB */
	do {
		z.next_out = buf;
		z.avail_out = sizeof buf;
		rc = deflate(&z, Z_FINISH);
		fwrite(buf, 1, sizeof buf - z.avail_out, out);
	} while (rc == Z_OK);
	deflateEnd(&z);
	if (rc != Z_STREAM_END) {
		g_set_error(error, RENDER_ERROR, RENDER_ERROR_WRITE, "zlib: %s",
			    z.msg ? z.msg : "compression failed");
		return FALSE;
	}
	return TRUE;
}

gboolean render_pprof(const struct profile *p, const struct profile_tree *t,
		      const struct render_options *o, FILE *out, GError **error)
{
	struct pprof x = {.p = p, .t = t};
	PbProfile pb;
	PbValueType vt[2], period;
	PbValueType *vtp[2] = {&vt[0], &vt[1]};
	GPtrArray *samples = g_ptr_array_new();
	guint32 n_nodes = t->nodes->len, *root_of = g_new0(guint32, n_nodes);
	PbLabel ***labels = g_new0(PbLabel **, n_nodes);
	size_t *n_labels = g_new0(size_t, n_nodes);
	GArray *path = g_array_new(FALSE, FALSE, sizeof(guint64));
	const char *wname = p->mode == PROFILE_MODE_WALL ? "wall" : "cpu";
	guint64 start = G_MAXUINT64, end = 0;
	guint8 *buf;
	gsize len;
	gboolean ok;

	x.string_index = g_hash_table_new(g_str_hash, g_str_equal);
	x.strings = g_ptr_array_new();
	x.location = g_new0(guint64, profile_n_frames(p) + 1);
	x.function = g_new0(guint64, profile_n_frames(p) + 1);
	x.locations = g_ptr_array_new();
	x.functions = g_ptr_array_new();
	x.free_list = g_ptr_array_new_with_free_func(g_free);
	str_index(&x, "");

	perftools__profiles__profile__init(&pb);
	perftools__profiles__value_type__init(&vt[0]);
	perftools__profiles__value_type__init(&vt[1]);
	perftools__profiles__value_type__init(&period);
	vt[0].type = str_index(&x, "samples");
	vt[0].unit = str_index(&x, "count");
	vt[1].type = str_index(&x, wname);
	vt[1].unit = str_index(&x, "nanoseconds");
	period = vt[1];
	pb.n_sample_type = 2;
	pb.sample_type = vtp;
	pb.period_type = &period;
	pb.default_sample_type = vt[1].type;

	/* nodes come after their parents: the root of each is known */
	for (guint32 i = 1; i < n_nodes; i++) {
		const struct profile_node *nd = profile_tree_node(t, i);
		root_of[i] = nd->parent ? root_of[nd->parent] : i;
		if (!nd->parent)
			labels[i] = root_labels(&x, i, &n_labels[i]);
	}
	for (guint32 i = 1; i < n_nodes; i++) {
		const struct profile_node *nd = profile_tree_node(t, i);
		PbSample *s;

		/* a wall-mode [idle] leaf may have time and no sample */
		if (!nd->self_samples && !nd->self_ns)
			continue;
		g_array_set_size(path, 0);
		for (guint32 n = i; n && n != root_of[i]; n = profile_tree_node(t, n)->parent) {
			guint64 id = location_id(&x, profile_tree_node(t, n)->frame);
			g_array_append_val(path, id);
		}
		s = keep(&x, g_new(PbSample, 1));
		perftools__profiles__sample__init(s);
		s->n_location_id = path->len;
		s->location_id = keep(&x, g_memdup2(path->data, path->len * sizeof(guint64)));
		s->n_value = 2;
		s->value = keep(&x, g_new(int64_t, 2));
		s->value[0] = (int64_t)nd->self_samples;
		s->value[1] = (int64_t)nd->self_ns;
		s->n_label = n_labels[root_of[i]];
		s->label = labels[root_of[i]];
		g_ptr_array_add(samples, s);
	}
	{
		PbMapping *m = keep(&x, g_new(PbMapping, 1));
		perftools__profiles__mapping__init(m);
		m->id = 1;
		m->filename = str_index(&x, "python");
		m->has_functions = m->has_filenames = m->has_line_numbers = 1;
		pb.n_mapping = 1;
		pb.mapping = keep(&x, g_new(PbMapping *, 1));
		pb.mapping[0] = m;
	}
	pb.n_sample = samples->len;
	pb.sample = (PbSample **)samples->pdata;
	pb.n_location = x.locations->len;
	pb.location = (PbLocation **)x.locations->pdata;
	pb.n_function = x.functions->len;
	pb.function = (PbFunction **)x.functions->pdata;

	for (guint i = 0; i < p->processes->len; i++) {
		const struct profile_process *pr = profile_process(p, i);
		guint64 last = pr->end_mono_ns ? pr->end_mono_ns : pr->last_mono_ns;
		if (pr->start_realtime_ns && pr->start_realtime_ns < start)
			start = pr->start_realtime_ns;
		if (last > pr->start_mono_ns && last - pr->start_mono_ns > end)
			end = last - pr->start_mono_ns;
	}
	if (p->processes->len) {
		pb.period = (int64_t)profile_process(p, 0)->interval_ns;
		pb.time_nanos = start == G_MAXUINT64 ? 0 : (int64_t)start;
		pb.duration_nanos = (int64_t)end;
	}
	{
		char *note = g_strdup_printf("pyprof: %s mode, %u process%s",
					     wname, p->processes->len,
					     p->processes->len == 1 ? "" : "es");
		gint64 ci;
		keep(&x, note);
		ci = str_index(&x, note);
		pb.n_comment = 1;
		pb.comment = keep(&x, g_memdup2(&ci, sizeof ci));
	}
	pb.n_string_table = x.strings->len;
	pb.string_table = (char **)x.strings->pdata;

	len = protobuf_c_message_get_packed_size(&pb.base);
	if (len >= G_MAXUINT32) {
		g_set_error(error, RENDER_ERROR, RENDER_ERROR_WRITE,
			    "the profile is too large for pprof (%" G_GSIZE_FORMAT " bytes)", len);
		ok = FALSE;
	} else {
		buf = g_malloc(len ? len : 1);
		protobuf_c_message_pack(&pb.base, buf);
		ok = write_gzip(buf, len, out, error);
		g_free(buf);
	}

	g_ptr_array_unref(samples);
	g_free(root_of);
	g_free(labels);
	g_free(n_labels);
	g_array_unref(path);
	g_hash_table_unref(x.string_index);
	g_ptr_array_unref(x.strings);
	g_free(x.location);
	g_free(x.function);
	g_ptr_array_unref(x.locations);
	g_ptr_array_unref(x.functions);
	g_ptr_array_unref(x.free_list);
	return ok && render_check_stream(out, error);
}
