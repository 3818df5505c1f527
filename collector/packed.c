/*
 * packed.c - `pyprof pack`'s work: a live file packed beside itself
 * (format/pack.c does the bytes), read back and checked, then renamed
 * into place.
 *
 * The check is a digest of everything the reader hands out, in the order
 * it hands it out, taken of the live file and of the packed one: records,
 * stacks, names, and the times too unless they were rounded; of a code
 * record, not its line table (a packed one may hold only the lines its
 * samples need, pack.h) but the line of every frame.  It costs a second
 * read of each, and it is what makes deleting the live file safe.
 */
#include "config.h"

#include "collector/packed.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "format.h"
#include "linetable.h"
#include "read.h"
#include "pack.h"

G_DEFINE_QUARK(pyprof-packed-error-quark, packed_error)

char *packed_name(const char *path)
{
	if (g_str_has_suffix(path, ".pyprof"))
		return g_strconcat(path, "z", NULL);
	return g_strconcat(path, ".pyprofz", NULL);
}

/* --- the digest ---------------------------------------------------------- */

struct digest_code {
	guint32 flags;
	int firstlineno;
	const guint8 *linetable; /* in the file, open while digested */
	guint32 len;
};

struct digest {
	guint64 h;
	guint64 samples;
	gboolean times; /* sample times count too */
	GPtrArray *warnings; /* or NULL */
	const char *path;
	guint32 py_hexversion;
	GHashTable *codes; /* id -> struct digest_code, the first of each id
			    * as the loader takes it */
};

static void mix(struct digest *d, guint64 v)
{
	/* a multiply-rotate round, as xxHash's: cheap, and any changed
	 * field changes the result */
	d->h ^= v * 0x9e3779b97f4a7c15ull;
	d->h = (d->h << 31 | d->h >> 33) * 0xc2b2ae3d27d4eb4full;
}

static void mix_bytes(struct digest *d, const void *p, gsize n)
{
	const guint8 *b = p;
	guint64 w;

	mix(d, n);
	for (; n >= 8; b += 8, n -= 8) {
		memcpy(&w, b, 8);
		mix(d, w);
	}
	w = 0;
	memcpy(&w, b, n);
	mix(d, w);
}

static int d_thread(void *ctx, const struct pf_thread_info *t)
{
	struct digest *d = ctx;

	mix(d, 1);
	mix(d, t->thread);
	mix(d, t->tid);
	mix(d, t->flags);
	mix(d, t->pthread);
	mix_bytes(d, t->name, t->name_len);
	return 0;
}

static int d_string(void *ctx, uint32_t id, const char *s, uint32_t len)
{
	struct digest *d = ctx;

	mix(d, 2);
	mix(d, id);
	mix_bytes(d, s, len);
	return 0;
}

static int d_code(void *ctx, const struct pf_code_info *c)
{
	struct digest *d = ctx;

	mix(d, 3);
	mix(d, c->id);
	mix(d, c->filename);
	mix(d, c->name);
	mix(d, c->qualname);
	mix(d, (guint64)(gint64)c->firstlineno);
	mix(d, c->flags & ~PF_CODE_LINE_PAIRS);
	if (!g_hash_table_contains(d->codes, GUINT_TO_POINTER(c->id))) {
		struct digest_code *dc = g_new(struct digest_code, 1);

		*dc = (struct digest_code){c->flags, c->firstlineno,
					   c->linetable, c->linetable_len};
		g_hash_table_insert(d->codes, GUINT_TO_POINTER(c->id), dc);
	}
	return 0;
}

static int d_sample(void *ctx, const struct pf_sample *s)
{
	struct digest *d = ctx;

	mix(d, 4);
	mix(d, s->thread);
	mix(d, s->flags);
	mix(d, s->depth);
	if (d->times) {
		mix(d, s->mono_ns);
		mix(d, s->cpu_ns);
		mix(d, s->wall_ns);
	}
	for (guint32 i = 0; i < s->depth; i++)
		mix(d, (guint64)s->frames[i].code_id << 32 |
		       (guint32)s->frames[i].lasti);
	/* the lines of the new frames (the shared ones were the sample
	 * before's) */
	for (guint32 i = s->shared; i < s->depth; i++) {
		const struct digest_code *c = g_hash_table_lookup(
			d->codes, GUINT_TO_POINTER(s->frames[i].code_id));

		if (c)
			mix(d, (guint64)(gint64)linetable_line_of(
				    d->py_hexversion, c->flags, c->linetable,
				    c->len, c->firstlineno, s->frames[i].lasti));
	}
	d->samples++;
	return 0;
}

static int d_thread_name(void *ctx, const struct pf_thread_name *n)
{
	struct digest *d = ctx;

	mix(d, 5);
	mix(d, n->tid);
	mix(d, n->pthread);
	mix(d, n->mono_ns);
	mix_bytes(d, n->name, n->name_len);
	return 0;
}

static int d_mark(void *ctx, const struct pf_mark *m)
{
	struct digest *d = ctx;

	mix(d, 6);
	mix(d, m->thread);
	mix(d, m->mono_ns);
	mix(d, m->kind);
	mix_bytes(d, m->label, m->label_len);
	return 0;
}

static int d_object(void *ctx, const struct pf_object_info *o)
{
	struct digest *d = ctx;

	mix(d, 9);
	mix(d, o->mono_ns);
	mix(d, o->bias);
	mix(d, o->lo);
	mix(d, o->hi);
	mix_bytes(d, o->path, o->path_len);
	mix_bytes(d, o->build_id, o->build_id_len);
	return 0;
}

static int d_native(void *ctx, const struct pf_native_info *n)
{
	struct digest *d = ctx;

	mix(d, 8);
	mix(d, n->id);
	mix(d, n->address);
	return 0;
}

static void d_warning(void *ctx, const struct pf_error *w)
{
	struct digest *d = ctx;

	if (d->warnings)
		g_ptr_array_add(d->warnings,
				g_strdup_printf("%s: offset %" G_GUINT64_FORMAT ": %.*s",
						d->path, (guint64)w->offset,
						(int)sizeof w->msg, w->msg));
}

static const struct pf_visitor digest_visitor = {
	.on_thread = d_thread,
	.on_string = d_string,
	.on_code = d_code,
	.on_sample = d_sample,
	.on_warning = d_warning,
	.on_thread_name = d_thread_name,
	.on_mark = d_mark,
	.on_object = d_object,
	.on_native = d_native,
};

/* --- packing ------------------------------------------------------------- */

static gboolean format_error(GError **error, const char *path,
			     const struct pf_error *e)
{
	g_set_error(error, PACKED_ERROR, PACKED_ERROR_FORMAT,
		    "%s: offset %" G_GUINT64_FORMAT ": %.*s", path,
		    (guint64)e->offset, (int)sizeof e->msg, e->msg);
	return FALSE;
}

static gboolean io_error(GError **error, const char *path, const char *what,
			 int e)
{
	g_set_error(error, PACKED_ERROR, PACKED_ERROR_IO, "%s: %s: %s", path,
		    what, g_strerror(e));
	return FALSE;
}

static gboolean is_packed_file(const char *path)
{
	char magic[PF_MAGIC_LEN];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	gboolean packed;

	if (fd < 0)
		return FALSE;
	packed = pread(fd, magic, sizeof magic, 0) == (ssize_t)sizeof magic &&
		 pf_pack_is_packed(magic, sizeof magic);
	close(fd);
	return packed;
}

/* The directory entry of a rename, on disk before the live file may go */
static void sync_dir_of(const char *path)
{
	char *dir = g_path_get_dirname(path);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	g_free(dir);
}

gboolean packed_write(const char *path, const char *out_path,
		      const struct packed_options *o, struct packed_result *r,
		      GPtrArray *warnings, GError **error)
{
	struct pf_pack_options po = { o->level, o->quantum_ns ? o->quantum_ns : 1,
				      NULL, NULL };
	struct pf_pack_stats st;
	struct pf_file *f = NULL, *back = NULL;
	struct pf_error err = {0};
	struct digest live = {0}, packed = {0};
	char *tmp = NULL;
	gboolean ok = FALSE;
	int fd = -1;

	if (pf_file_open(path, &f, &err) != 0) {
		if (is_packed_file(path)) {
			g_set_error(error, PACKED_ERROR, PACKED_ERROR_PACKED,
				    "%s: packed already", path);
			return FALSE;
		}
		return format_error(error, path, &err);
	}
	if (pf_file_header(f)->state != PF_STATE_COMPLETE && !o->force) {
		g_set_error(error, PACKED_ERROR, PACKED_ERROR_UNFINISHED,
			    "%s: not finished: its process may still be writing it",
			    path);
		goto out;
	}
	if (!o->force && g_file_test(out_path, G_FILE_TEST_EXISTS)) {
		g_set_error(error, PACKED_ERROR, PACKED_ERROR_EXISTS,
			    "%s: exists already", out_path);
		goto out;
	}
	tmp = g_strconcat(out_path, ".XXXXXX", NULL);
	if ((fd = g_mkstemp_full(tmp, O_RDWR | O_CLOEXEC, 0600)) < 0) {
		io_error(error, tmp, "cannot create", errno);
		g_clear_pointer(&tmp, g_free);
		goto out;
	}
	if (pf_pack_write(f, fd, &po, &st, &err) != 0) {
		format_error(error, path, &err);
		goto out;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		fd = -1;
		io_error(error, tmp, "cannot write", errno);
		goto out;
	}
	fd = -1;

	live.times = packed.times = po.quantum_ns == 1;
	live.warnings = warnings;
	live.path = path;
	live.py_hexversion = packed.py_hexversion = pf_file_header(f)->py_hexversion;
	live.codes = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
	packed.codes = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
	pf_file_visit(f, &digest_visitor, &live);
	if (pf_pack_open(tmp, &back, &err) != 0) {
		g_set_error(error, PACKED_ERROR, PACKED_ERROR_MISMATCH,
			    "%s: the packed file does not read back: offset %"
			    G_GUINT64_FORMAT ": %.*s", path, (guint64)err.offset,
			    (int)sizeof err.msg, err.msg);
		goto out;
	}
	pf_file_visit(back, &digest_visitor, &packed);
	if (live.samples != packed.samples) {
		g_set_error(error, PACKED_ERROR, PACKED_ERROR_MISMATCH,
			    "%s: the packed file reads back %" G_GUINT64_FORMAT
			    " samples, not %" G_GUINT64_FORMAT ": not written",
			    path, packed.samples, live.samples);
		goto out;
	}
	if (live.h != packed.h) {
		g_set_error(error, PACKED_ERROR, PACKED_ERROR_MISMATCH,
			    "%s: the packed file reads back different records: "
			    "not written", path);
		goto out;
	}
	if (g_rename(tmp, out_path) != 0) {
		io_error(error, out_path, "cannot rename into place", errno);
		goto out;
	}
	g_clear_pointer(&tmp, g_free);
	sync_dir_of(out_path);
	r->live_size = st.live_size;
	r->packed_size = st.packed_size;
	r->samples = live.samples;
	r->segments = st.segments;
	r->exact_segments = st.exact_segments;
	ok = TRUE;
out:
	if (fd >= 0)
		close(fd);
	if (tmp) {
		g_unlink(tmp);
		g_free(tmp);
	}
	if (live.codes)
		g_hash_table_destroy(live.codes);
	if (packed.codes)
		g_hash_table_destroy(packed.codes);
	pf_file_close(back);
	pf_file_close(f);
	return ok;
}
