/*
 * symbols.c - native addresses to function, file and line, with libdw.
 *
 * The one idea: everything is looked up in an object's own ELF address
 * space.  A process's ranges (sorted, one array per process) turn an
 * address into (object, vaddr = address - bias); the object, shared by
 * every process that loaded the same build-id, turns the vaddr into an
 * answer and keeps it, so a libpython mapped at a different place in each
 * of forty workers is read, and each of its addresses answered, once.
 *
 * Two things libdw does not do the way a report needs:
 *
 * - Its offline reporting (dwfl_report_offline) places an ET_DYN object
 *   at 0x10000, not at 0, so a vaddr looked up as is silently names
 *   another function.  Objects are reported with dwfl_report_elf at base
 *   0 relative to their p_vaddr, and every lookup still adds the module
 *   bias libdw reports (dwfl_module_getelf), whatever it is.
 * - dwfl_module_addrinfo scans the whole symbol table on every call
 *   (155 us an address in libc's 10,000 symbols, measured with 0.188):
 *   a report of 100,000 addresses would take most of a minute.  Each
 *   object's function symbols are read once into a sorted array instead
 *   (from .symtab, of the file or its debug file, else .dynsym, as
 *   dwfl_module_getsymtab chooses) and searched by bisection.
 *
 * Objects are opened the first time a lookup needs them, so only objects
 * that some sample actually hit are read, and only those are reported
 * missing.
 */
#include "config.h"

#include "symbols.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>

#ifdef HAVE_CXA_DEMANGLE
/* libstdc++'s, declared here so that this stays a C file */
char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);
#endif

enum object_state {
	OBJECT_UNREAD, /* no lookup has needed it yet, or a path is untried */
	OBJECT_OPEN,
	OBJECT_FAILED, /* every path tried; see failures */
};

/* A function symbol, in the module's address space. */
struct sym {
	guint64 addr, end;  /* [addr, end); end == addr when sizeless */
	guint64 reach;      /* the largest end of this and every earlier sym */
	const char *name;   /* in libdw's ELF data, valid until dwfl_end */
	const char *shown;  /* demangled and interned, on first use */
	int rank;           /* lower is the better name of one address */
};

struct answer {
	guint64 vaddr;      /* the key */
	const char *function, *source;
	int line;
	guint64 start;      /* no function: where the unwind information
			     * says its code begins, else vaddr */
};

struct failure {
	const char *path, *line; /* interned; line is "PATH: REASON" */
};

/* One ELF file, by build-id (or by path, without one). */
struct object {
	guint8 *build_id;
	gsize build_id_len;
	GPtrArray *paths;    /* interned names it was loaded by, in order */
	guint tried;         /* paths[0, tried) failed */
	GArray *failures;    /* of struct failure, one per path tried */
	enum object_state state;
	Dwfl *dwfl;
	Dwfl_Module *mod;
	guint64 mod_bias;    /* module address = ELF vaddr + mod_bias */
	struct sym *syms;
	gsize n_syms;
	GHashTable *answers; /* vaddr -> struct answer */
};

/* Where one process had one object. */
struct range {
	guint64 lo, hi, bias;
	const char *path;    /* interned, as this process named it */
	struct object *obj;
};

struct symbolizer {
	GStringChunk *strings;
	GHashTable *objects;   /* GBytes key -> struct object */
	GPtrArray *order;      /* the objects in the order first added */
	GHashTable *processes; /* process -> GArray of struct range, sorted */
	GPtrArray *missing;    /* NULL-terminated, rebuilt when dirty */
	gboolean missing_dirty;
	gboolean raised_fd_limit;
	char *root;            /* symbolizer_set_root */
};

static const Dwfl_Callbacks callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	/* the file's .gnu_debuglink, then /usr/lib/debug/.build-id/xx/... */
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.section_address = dwfl_offline_section_address,
};

char *symbols_demangle(const char *name)
{
#ifdef HAVE_CXA_DEMANGLE
	char *raw, *out;
	int status;

	if (!name || strncmp(name, "_Z", 2))
		return NULL;
	raw = __cxa_demangle(name, NULL, NULL, &status);
	if (status || !raw) {
		free(raw);
		return NULL;
	}
	out = g_strdup(raw);
	free(raw);
	return out;
#else
	(void)name;
	return NULL;
#endif
}

/* Names no file is behind: the vDSO (which the kernel, not a file,
 * provides), and an object whose path the recorder did not know. */
static gboolean path_is_pseudo(const char *path)
{
	return !*path || *path == '[' || !strcmp(path, "linux-vdso.so.1") ||
	       !strcmp(path, "linux-gate.so.1");
}

static void object_close(struct object *o)
{
	if (o->dwfl)
		dwfl_end(o->dwfl);
	o->dwfl = NULL;
	o->mod = NULL;
	g_free(o->syms);
	o->syms = NULL;
	o->n_syms = 0;
	if (o->answers)
		g_hash_table_destroy(o->answers);
	o->answers = NULL;
}

static void object_free(gpointer data)
{
	struct object *o = data;

	object_close(o);
	g_free(o->build_id);
	g_ptr_array_free(o->paths, TRUE);
	g_array_free(o->failures, TRUE);
	g_free(o);
}

/* Sorted by address, the best name of an address first. */
static int sym_cmp(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	if (x->rank != y->rank)
		return x->rank - y->rank;
	return strcmp(x->name, y->name);
}

/* The length of a name without its symbol version: glibc's .symtab has
 * "openpty@GLIBC_2.2.5" and "aio_suspend64@@GLIBC_2.34". */
static gsize name_len(const char *name)
{
	return strcspn(name, "@");
}

/* Of the names one address has (getpid, __getpid, __GI___getpid; a
 * function and its local aliases), an exported one, a function, a sized
 * one, then the shortest: aliases add prefixes (__GI_, _IO_, __). */
static int sym_rank(const GElf_Sym *sym, const char *name)
{
	int rank = (int)MIN(name_len(name), 999);

	switch (GELF_ST_BIND(sym->st_info)) {
	case STB_GLOBAL:
	case STB_GNU_UNIQUE:
		break;
	case STB_WEAK:
		rank += 4000;
		break;
	default:
		rank += 8000;
	}
	if (GELF_ST_TYPE(sym->st_info) == STT_NOTYPE)
		rank += 2000;
	if (!sym->st_size)
		rank += 1000;
	return rank;
}

/* NOTYPE symbols are what hand-written assembly often has; they name
 * code only in an executable section.  ARM's mapping symbols ($x, $d)
 * name nothing. */
static gboolean sym_is_code(Elf *elf, const GElf_Sym *sym, GElf_Word shndx,
			    const char *name)
{
	GElf_Shdr shdr;
	Elf_Scn *scn;

	switch (GELF_ST_TYPE(sym->st_info)) {
	case STT_FUNC:
	case STT_GNU_IFUNC:
		return TRUE;
	case STT_NOTYPE:
		if (*name == '$' || !elf || shndx == SHN_UNDEF ||
		    shndx >= SHN_LORESERVE)
			return FALSE;
		scn = elf_getscn(elf, shndx);
		return scn && gelf_getshdr(scn, &shdr) &&
		       (shdr.sh_flags & SHF_EXECINSTR);
	default:
		return FALSE;
	}
}

static void object_read_syms(struct object *o)
{
	int n = dwfl_module_getsymtab(o->mod);
	GArray *syms;

	if (n <= 0)
		return;
	syms = g_array_sized_new(FALSE, FALSE, sizeof(struct sym), (guint)n);
	for (int i = 0; i < n; i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		GElf_Word shndx;
		Elf *elf = NULL;
		const char *name = dwfl_module_getsym_info(o->mod, i, &sym,
							   &addr, &shndx,
							   &elf, NULL);
		struct sym s;

		if (!name || !*name || shndx == SHN_UNDEF ||
		    !sym_is_code(elf, &sym, shndx, name))
			continue;
		s = (struct sym){.addr = addr, .end = addr + sym.st_size,
				 .name = name,
				 .rank = sym_rank(&sym, name)};
		g_array_append_val(syms, s);
	}
	g_array_sort(syms, sym_cmp);

	/* one name an address: the first, the best ranked */
	gsize kept = 0;
	struct sym *v = (struct sym *)(void *)syms->data;
	for (gsize i = 0; i < syms->len; i++) {
		if (kept && v[kept - 1].addr == v[i].addr)
			continue;
		v[kept] = v[i];
		v[kept].reach = MAX(v[kept].end,
				    kept ? v[kept - 1].reach : 0);
		kept++;
	}
	o->n_syms = kept;
	o->syms = (struct sym *)(void *)g_array_free(syms, FALSE);
}

/* The function containing module address a: the innermost sized symbol
 * that contains it, else a sizeless one that is the closest below it.
 * NULL in the padding after a function, as libdw answers. */
static struct sym *object_find_sym(struct object *o, guint64 a)
{
	gsize lo = 0, hi = o->n_syms;

	while (lo < hi) {
		gsize mid = lo + (hi - lo) / 2;
		if (o->syms[mid].addr <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	/* reach is the furthest any symbol up to here ends: once it is
	 * not past a, no earlier symbol can contain a */
	for (gsize i = lo; i-- > 0 && o->syms[i].reach > a;)
		if (o->syms[i].end > a)
			return &o->syms[i];
	return o->syms[lo - 1].end == o->syms[lo - 1].addr ? &o->syms[lo - 1]
							 : NULL;
}

static const char *intern(struct symbolizer *s, const char *str)
{
	return str ? g_string_chunk_insert_const(s->strings, str) : NULL;
}

static void object_fail(struct symbolizer *s, struct object *o,
			const char *path, const char *reason)
{
	char *line = g_strdup_printf("%s: %s", path, reason);
	struct failure f = {.path = path, .line = intern(s, line)};

	g_free(line);
	g_array_append_val(o->failures, f);
	s->missing_dirty = TRUE;
}

/* Every opened object holds its file and its debug file open until
 * symbolizer_free (libdwfl reads them lazily): a report of a program
 * with a few hundred extension modules goes past the usual soft limit
 * of 1024 descriptors.  The hard limit is the user's real one. */
static void raise_fd_limit(struct symbolizer *s)
{
	struct rlimit rl;

	if (s->raised_fd_limit)
		return;
	s->raised_fd_limit = TRUE;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* Opens o from path: TRUE, or FALSE with a failure recorded. */
static gboolean object_try(struct symbolizer *s, struct object *o,
			   const char *path)
{
	const unsigned char *id;
	GElf_Addr id_vaddr;
	Dwarf_Addr bias = 0;
	int fd, id_len;

	struct stat st;

	raise_fd_limit(s);
	/* A path comes from the file being read: a FIFO or a device named
	 * there must neither block the report nor be read. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		object_fail(s, o, path, errno == ENOENT || errno == ENOTDIR
						? "not found" : g_strerror(errno));
		return FALSE;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		object_fail(s, o, path, "not a regular file");
		return FALSE;
	}
	o->dwfl = dwfl_begin(&callbacks);
	if (!o->dwfl) {
		close(fd);
		object_fail(s, o, path, dwfl_errmsg(-1));
		return FALSE;
	}
	/* base 0 from p_vaddr: module addresses are the ELF's vaddrs */
	o->mod = dwfl_report_elf(o->dwfl, path, path, fd, 0, true);
	if (!o->mod) {
		/* libdw consumes the descriptor only when it succeeds */
		close(fd);
		object_fail(s, o, path, dwfl_errmsg(-1));
		object_close(o);
		return FALSE;
	}
	dwfl_report_end(o->dwfl, NULL, NULL);

	if (o->build_id_len) {
		id_len = dwfl_module_build_id(o->mod, &id, &id_vaddr);
		if (id_len <= 0 || (gsize)id_len != o->build_id_len ||
		    memcmp(id, o->build_id, o->build_id_len)) {
			object_fail(s, o, path, "build-id differs");
			object_close(o);
			return FALSE;
		}
	}
	if (!dwfl_module_getelf(o->mod, &bias)) {
		object_fail(s, o, path, dwfl_errmsg(-1));
		object_close(o);
		return FALSE;
	}
	o->mod_bias = bias;
	object_read_syms(o);
	o->answers = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL,
					   g_free);
	return TRUE;
}

/* TRUE when o can answer: opened now or before.  Paths that were added
 * since the last try (the same build-id, loaded by another name in
 * another process) are tried too. */
static gboolean object_ready(struct symbolizer *s, struct object *o)
{
	if (o->state == OBJECT_OPEN)
		return TRUE;
	while (o->tried < o->paths->len) {
		const char *path = g_ptr_array_index(o->paths, o->tried);
		o->tried++;
		if (s->root && *path == '/') {
			/* under the root first; then the path itself (a folder
			 * shared with the host), which the build-id vouches for */
			char *under = g_strconcat(s->root, path, NULL);
			gboolean ok = object_try(s, o, intern(s, under));
			g_free(under);
			if (ok) {
				o->state = OBJECT_OPEN;
				s->missing_dirty = TRUE;
				return TRUE;
			}
			if (!o->build_id_len)
				continue;
		}
		if (object_try(s, o, path)) {
			o->state = OBJECT_OPEN;
			s->missing_dirty = TRUE;
			return TRUE;
		}
	}
	if (o->tried)
		o->state = OBJECT_FAILED;
	return FALSE;
}

static const char *sym_shown(struct symbolizer *s, struct sym *sym)
{
	if (!sym->shown) {
		char *bare = g_strndup(sym->name, name_len(sym->name));
		char *d = symbols_demangle(bare);
		sym->shown = intern(s, d ? d : bare);
		g_free(d);
		g_free(bare);
	}
	return sym->shown;
}

static struct answer *object_answer(struct symbolizer *s, struct object *o,
				    guint64 vaddr)
{
	struct answer *ans = g_hash_table_lookup(o->answers, &vaddr);
	guint64 a = vaddr + o->mod_bias;
	struct sym *sym;
	Dwfl_Line *l;
	int line = 0;

	if (ans)
		return ans;
	ans = g_new0(struct answer, 1);
	ans->vaddr = vaddr;
	ans->line = -1;
	ans->start = vaddr;
	if ((sym = object_find_sym(o, a))) {
		ans->function = sym_shown(s, sym);
	} else {
		/* A function no symbol names (a static one of a stripped
		 * library) still has its own unwind entry: all its addresses
		 * then make one frame, not one each. */
		Dwarf_Addr cfi_bias;
		Dwarf_CFI *cfi = dwfl_module_eh_cfi(o->mod, &cfi_bias);
		Dwarf_Frame *fr = NULL;
		Dwarf_Addr lo, hi;

		if (!cfi)
			cfi = dwfl_module_dwarf_cfi(o->mod, &cfi_bias);
		if (cfi && dwarf_cfi_addrframe(cfi, a - cfi_bias, &fr) == 0) {
			if (dwarf_frame_info(fr, &lo, &hi, NULL) >= 0 &&
			    lo + cfi_bias >= o->mod_bias)
				ans->start = lo + cfi_bias - o->mod_bias;
			free(fr);
		}
	}
	if ((l = dwfl_module_getsrc(o->mod, a))) {
		const char *src = dwfl_lineinfo(l, NULL, &line, NULL, NULL,
						NULL);
		if (src) {
			ans->source = intern(s, src);
			ans->line = line > 0 ? line : -1;
		}
	}
	g_hash_table_insert(o->answers, &ans->vaddr, ans);
	return ans;
}

struct symbolizer *symbolizer_new(void)
{
	struct symbolizer *s = g_new0(struct symbolizer, 1);

	s->strings = g_string_chunk_new(4096);
	s->objects = g_hash_table_new_full(g_bytes_hash, g_bytes_equal,
					   (GDestroyNotify)g_bytes_unref,
					   object_free);
	s->order = g_ptr_array_new();
	s->processes = g_hash_table_new_full(g_direct_hash, g_direct_equal,
					     NULL,
					     (GDestroyNotify)g_array_unref);
	s->missing = g_ptr_array_new();
	g_ptr_array_add(s->missing, NULL);
	return s;
}

void symbolizer_free(struct symbolizer *s)
{
	if (!s)
		return;
	g_free(s->root);
	g_hash_table_destroy(s->processes);
	g_ptr_array_free(s->order, TRUE);
	g_hash_table_destroy(s->objects);
	g_ptr_array_free(s->missing, TRUE);
	g_string_chunk_free(s->strings);
	g_free(s);
}

/* The object o names, made on first sight.  Keys are tagged so that a
 * path can never equal a build-id. */
static struct object *object_get(struct symbolizer *s,
				 const struct sym_object *o)
{
	gboolean by_id = o->build_id && o->build_id_len;
	const char *path = o->path ? o->path : "";
	gsize len = by_id ? o->build_id_len : strlen(path);
	guint8 *key = g_malloc(len + 1);
	GBytes *bytes;
	struct object *obj;

	key[0] = by_id ? 'b' : 'p';
	memcpy(key + 1, by_id ? (const void *)o->build_id : path, len);
	bytes = g_bytes_new_take(key, len + 1);
	if ((obj = g_hash_table_lookup(s->objects, bytes))) {
		g_bytes_unref(bytes);
		return obj;
	}
	obj = g_new0(struct object, 1);
	if (by_id) {
		obj->build_id = g_memdup2(o->build_id, o->build_id_len);
		obj->build_id_len = o->build_id_len;
	}
	obj->paths = g_ptr_array_new();
	obj->failures = g_array_new(FALSE, FALSE, sizeof(struct failure));
	g_hash_table_insert(s->objects, bytes, obj);
	g_ptr_array_add(s->order, obj);
	return obj;
}

void symbolizer_add(struct symbolizer *s, guint process,
		    const struct sym_object *o)
{
	const char *path = intern(s, o->path ? o->path : "");
	GArray *ranges;
	struct range r;
	guint i, lo, hi;

	/* an empty range holds no address; nothing to remember */
	if (o->lo >= o->hi)
		return;
	r = (struct range){.lo = o->lo, .hi = o->hi, .bias = o->bias,
			   .path = path, .obj = object_get(s, o)};
	if (!path_is_pseudo(path)) {
		/* interned: the same name is the same pointer */
		for (i = 0; i < r.obj->paths->len; i++)
			if (g_ptr_array_index(r.obj->paths, i) == path)
				break;
		if (i == r.obj->paths->len)
			g_ptr_array_add(r.obj->paths, (gpointer)path);
	}

	ranges = g_hash_table_lookup(s->processes, GUINT_TO_POINTER(process));
	if (!ranges) {
		ranges = g_array_new(FALSE, FALSE, sizeof(struct range));
		g_hash_table_insert(s->processes, GUINT_TO_POINTER(process),
				    ranges);
	}
	/* The ranges never overlap, so their ends are sorted too: the
	 * first to end after r.lo is the first r may overlap. */
	lo = 0;
	hi = ranges->len;
	while (lo < hi) {
		guint mid = lo + (hi - lo) / 2;
		if (g_array_index(ranges, struct range, mid).hi <= r.lo)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (hi = lo; hi < ranges->len &&
		      g_array_index(ranges, struct range, hi).lo < r.hi;
	     hi++)
		;
	if (hi > lo)
		g_array_remove_range(ranges, lo, hi - lo);
	g_array_insert_val(ranges, lo, r);
}

static const struct range *find_range(GArray *ranges, guint64 addr)
{
	guint lo = 0, hi = ranges->len;

	while (lo < hi) {
		guint mid = lo + (hi - lo) / 2;
		if (g_array_index(ranges, struct range, mid).lo <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || addr >= g_array_index(ranges, struct range, lo - 1).hi)
		return NULL;
	return &g_array_index(ranges, struct range, lo - 1);
}

gboolean symbolizer_lookup(struct symbolizer *s, guint process, guint64 addr,
			   struct sym_info *out)
{
	GArray *ranges = g_hash_table_lookup(s->processes,
					     GUINT_TO_POINTER(process));
	const struct range *r = ranges ? find_range(ranges, addr) : NULL;
	struct answer *ans;

	*out = (struct sym_info){.offset = addr, .line = -1};
	if (!r)
		return FALSE;
	out->object = r->path;
	out->offset = addr - r->bias;
	if (!object_ready(s, r->obj))
		return TRUE;
	ans = object_answer(s, r->obj, out->offset);
	out->function = ans->function;
	out->source = ans->source;
	out->line = ans->line;
	if (!ans->function)
		out->offset = ans->start;
	return TRUE;
}

static int failure_cmp(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

const char *const *symbolizer_missing(struct symbolizer *s)
{
	GHashTable *seen;

	if (!s->missing_dirty)
		return (const char *const *)s->missing->pdata;
	s->missing_dirty = FALSE;
	g_ptr_array_set_size(s->missing, 0);
	/* a path once, with the first reason it failed for */
	seen = g_hash_table_new(g_direct_hash, g_direct_equal);
	for (guint i = 0; i < s->order->len; i++) {
		struct object *o = g_ptr_array_index(s->order, i);
		if (o->state == OBJECT_OPEN)
			continue;
		for (guint j = 0; j < o->failures->len; j++) {
			struct failure *f = &g_array_index(o->failures,
							   struct failure, j);
			if (g_hash_table_add(seen, (gpointer)f->path))
				g_ptr_array_add(s->missing, (gpointer)f->line);
		}
	}
	g_hash_table_destroy(seen);
	g_ptr_array_sort(s->missing, failure_cmp);
	g_ptr_array_add(s->missing, NULL);
	return (const char *const *)s->missing->pdata;
}

void symbolizer_set_root(struct symbolizer *s, const char *root)
{
	g_free(s->root);
	s->root = root && *root && strcmp(root, "/") ? g_strdup(root) : NULL;
	if (s->root && g_str_has_suffix(s->root, "/"))
		s->root[strlen(s->root) - 1] = '\0';
}
