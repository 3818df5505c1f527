/*
 * test_symbols.c - the symbolizer against real objects: this program
 * itself (built with -g, so it has DWARF) and the libc it runs with.
 *
 * Each object is described as the recorder describes it: found with
 * dl_iterate_phdr, its load bias, the PT_LOAD that is executable and the
 * NT_GNU_BUILD_ID note read from memory.  So the addresses looked up are
 * this process's real ones, and a test fails if the symbolizer confuses
 * an address with the ELF vaddr it stands for.
 */
#define _GNU_SOURCE
#include "config.h"

#include <elf.h>
#include <link.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "collector/symbols.h"
#include "tests/unit/unit.h"

/* ---- the function looked up, and the lines that bracket it ---- */

int symbols_test_target(int x);

static const int target_first_line = __LINE__ + 1;
__attribute__((noinline)) int symbols_test_target(int x)
{
	volatile int v = x;

	v = v * 3 + 1;
	return v;
}
static const int target_last_line = __LINE__ - 1;

/* ---- objects as the recorder sees them ---- */

struct found {
	char path[4096];
	guint8 build_id[64];
	gsize build_id_len;
	guint64 bias, lo, hi;
	guint64 want; /* the address whose object this is */
	gboolean ok;
};

/* The NT_GNU_BUILD_ID note among the notes at [p, end). */
static void read_build_id(const guint8 *p, const guint8 *end, gsize align,
			  struct found *f)
{
	while (p + sizeof(ElfW(Nhdr)) <= end) {
		const ElfW(Nhdr) *n = (const void *)p;
		const guint8 *name = p + sizeof *n;
		const guint8 *desc = name + ((n->n_namesz + align - 1) & ~(align - 1));

		if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 &&
		    !memcmp(name, "GNU", 4) && n->n_descsz <= sizeof f->build_id) {
			memcpy(f->build_id, desc, n->n_descsz);
			f->build_id_len = n->n_descsz;
			return;
		}
		p = desc + ((n->n_descsz + align - 1) & ~(align - 1));
	}
}

static int find_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	struct found *f = data;
	int hit = -1;

	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		guint64 lo = info->dlpi_addr + ph->p_vaddr;
		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) &&
		    f->want >= lo && f->want < lo + ph->p_memsz)
			hit = i;
	}
	if (hit < 0)
		return 0;
	f->bias = info->dlpi_addr;
	f->lo = info->dlpi_addr + info->dlpi_phdr[hit].p_vaddr;
	f->hi = f->lo + info->dlpi_phdr[hit].p_memsz;
	for (int i = 0; i < info->dlpi_phnum && !f->build_id_len; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		const guint8 *p = (const guint8 *)(info->dlpi_addr + ph->p_vaddr);
		if (ph->p_type == PT_NOTE)
			read_build_id(p, p + ph->p_filesz,
				      ph->p_align == 8 ? 8 : 4, f);
	}
	/* the main program has no name here, as in the recorder */
	if (*info->dlpi_name) {
		g_strlcpy(f->path, info->dlpi_name, sizeof f->path);
	} else {
		ssize_t n = readlink("/proc/self/exe", f->path,
				    sizeof f->path - 1);
		f->path[n > 0 ? n : 0] = '\0';
	}
	f->ok = TRUE;
	return 1;
}

/* The loaded object that holds addr. */
static struct found find(const void *addr)
{
	struct found f = {.want = (guint64)(uintptr_t)addr};

	dl_iterate_phdr(find_cb, &f);
	CU_ASSERT_FATAL(f.ok);
	CU_ASSERT_FATAL(f.build_id_len > 0);
	return f;
}

static struct sym_object as_object(const struct found *f)
{
	return (struct sym_object){.path = f->path, .build_id = f->build_id,
				   .build_id_len = f->build_id_len,
				   .bias = f->bias, .lo = f->lo, .hi = f->hi};
}

static guint64 target_addr(void)
{
	return (guint64)(uintptr_t)symbols_test_target;
}

/* How many of the missing entries are line. */
static int count_missing(struct symbolizer *s, const char *line)
{
	int n = 0;

	for (const char *const *m = symbolizer_missing(s); *m; m++)
		n += !strcmp(*m, line);
	return n;
}

static int n_missing(struct symbolizer *s)
{
	int n = 0;

	for (const char *const *m = symbolizer_missing(s); *m; m++)
		n++;
	return n;
}

/* An answer that is symbols_test_target: by name, file and line. */
static void assert_target(const struct sym_info *info, const char *path)
{
	CU_ASSERT_STRING_EQUAL(info->object, path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(info->function);
	CU_ASSERT_STRING_EQUAL(info->function, "symbols_test_target");
	CU_ASSERT_PTR_NOT_NULL_FATAL(info->source);
	CU_ASSERT(g_str_has_suffix(info->source, "test_symbols.c"));
	CU_ASSERT(info->line >= target_first_line);
	CU_ASSERT(info->line <= target_last_line);
}

/* ---- tests ---- */

static void test_symbols__own_function_by_name_file_and_line(void)
{
	struct found f = find((const void *)symbols_test_target);
	struct sym_object o = as_object(&f);
	struct symbolizer *s = symbolizer_new();
	struct sym_info info;

	symbolizer_add(s, 0, &o);
	CU_ASSERT_TRUE(symbolizer_lookup(s, 0, target_addr(), &info));
	assert_target(&info, f.path);
	CU_ASSERT_EQUAL(info.offset, target_addr() - f.bias);
	/* inside the function, not only at its first byte; and again,
	 * from the cache */
	for (int i = 0; i < 2; i++) {
		CU_ASSERT_TRUE(symbolizer_lookup(s, 0, target_addr() + 4, &info));
		assert_target(&info, f.path);
	}
	CU_ASSERT_EQUAL(n_missing(s), 0);
	symbolizer_free(s);
}

static void test_symbols__libc_function(void)
{
	struct found f = find((const void *)getpid);
	struct sym_object o = as_object(&f);
	struct symbolizer *s = symbolizer_new();
	struct sym_info info;
	static const char *const names[] = {"getpid", "__getpid",
					    "__GI___getpid", NULL};
	gboolean known = FALSE;

	symbolizer_add(s, 3, &o);
	CU_ASSERT_TRUE(symbolizer_lookup(s, 3, (guint64)(uintptr_t)getpid,
					 &info));
	CU_ASSERT_STRING_EQUAL(info.object, f.path);
	CU_ASSERT(strstr(f.path, "libc") != NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(info.function);
	for (int i = 0; names[i]; i++)
		known |= !strcmp(info.function, names[i]);
	CU_ASSERT(known);
	if (!known)
		fprintf(stderr, "getpid answered as %s\n", info.function);
	CU_ASSERT_EQUAL(n_missing(s), 0);
	symbolizer_free(s);
}

static void test_symbols__address_in_no_object(void)
{
	struct found f = find((const void *)symbols_test_target);
	struct sym_object o = as_object(&f);
	struct symbolizer *s = symbolizer_new();
	struct sym_info info;

	symbolizer_add(s, 0, &o);
	CU_ASSERT_FALSE(symbolizer_lookup(s, 0, 0x10, &info));
	CU_ASSERT_PTR_NULL(info.object);
	CU_ASSERT_PTR_NULL(info.function);
	CU_ASSERT_EQUAL(info.line, -1);
	CU_ASSERT_FALSE(symbolizer_lookup(s, 0, f.hi, &info));
	CU_ASSERT_PTR_NULL(info.object);
	/* the right address, but of a process that has no objects */
	CU_ASSERT_FALSE(symbolizer_lookup(s, 1, target_addr(), &info));
	CU_ASSERT_PTR_NULL(info.object);
	symbolizer_free(s);
}

static void test_symbols__wrong_build_id_is_not_used(void)
{
	struct found f = find((const void *)symbols_test_target);
	struct sym_object o;
	struct symbolizer *s = symbolizer_new();
	struct sym_info info;
	char *line = g_strdup_printf("%s: build-id differs", f.path);

	f.build_id[0] ^= 0xff;
	o = as_object(&f);
	symbolizer_add(s, 0, &o);
	CU_ASSERT_TRUE(symbolizer_lookup(s, 0, target_addr(), &info));
	CU_ASSERT_STRING_EQUAL(info.object, f.path);
	CU_ASSERT_PTR_NULL(info.function);
	CU_ASSERT_PTR_NULL(info.source);
	CU_ASSERT_EQUAL(info.line, -1);
	CU_ASSERT_EQUAL(info.offset, target_addr() - f.bias);
	CU_ASSERT_EQUAL(count_missing(s, line), 1);
	CU_ASSERT_EQUAL(n_missing(s), 1);
	g_free(line);
	symbolizer_free(s);
}

static void test_symbols__missing_file_listed_once(void)
{
	static const guint8 id[] = {1, 2, 3, 4};
	struct sym_object o = {.path = "/nonexistent/pyprof-test/libnone.so.1",
			       .build_id = id, .build_id_len = sizeof id,
			       .bias = 0x7f0000000000,
			       .lo = 0x7f0000001000, .hi = 0x7f0000009000};
	struct symbolizer *s = symbolizer_new();
	struct sym_info info;

	symbolizer_add(s, 0, &o);
	CU_ASSERT_EQUAL(n_missing(s), 0); /* not needed yet */
	CU_ASSERT_TRUE(symbolizer_lookup(s, 0, 0x7f0000001234, &info));
	CU_ASSERT_STRING_EQUAL(info.object, o.path);
	CU_ASSERT_EQUAL(info.offset, 0x1234);
	CU_ASSERT_PTR_NULL(info.function);
	CU_ASSERT_EQUAL(count_missing(s, "/nonexistent/pyprof-test/libnone.so.1: not found"), 1);
	/* another address, another process with the same object */
	symbolizer_add(s, 1, &o);
	CU_ASSERT_TRUE(symbolizer_lookup(s, 0, 0x7f0000002000, &info));
	CU_ASSERT_TRUE(symbolizer_lookup(s, 1, 0x7f0000001234, &info));
	CU_ASSERT_PTR_NULL(info.function);
	CU_ASSERT_EQUAL(n_missing(s), 1);
	symbolizer_free(s);
}

static void test_symbols__vdso_is_not_missing(void)
{
	static const guint8 id[] = {9, 9, 9, 9};
	struct sym_object vdso = {.path = "[vdso]", .build_id = id,
				  .build_id_len = sizeof id,
				  .bias = 0x7ffd0000, .lo = 0x7ffd0000,
				  .hi = 0x7ffd2000};
	struct sym_object named = vdso, unknown = vdso;
	struct symbolizer *s = symbolizer_new();
	struct sym_info info;

	named.path = "linux-vdso.so.1";
	unknown.path = "";
	unknown.build_id = NULL;
	unknown.build_id_len = 0;
	symbolizer_add(s, 0, &vdso);
	symbolizer_add(s, 1, &named);
	symbolizer_add(s, 2, &unknown);
	for (guint p = 0; p < 3; p++) {
		CU_ASSERT_TRUE(symbolizer_lookup(s, p, 0x7ffd0100, &info));
		CU_ASSERT_PTR_NULL(info.function);
		CU_ASSERT_EQUAL(info.offset, 0x100);
	}
	CU_ASSERT_STRING_EQUAL(info.object, "");
	CU_ASSERT_EQUAL(n_missing(s), 0);
	symbolizer_free(s);
}

static void test_symbols__demangles_cxx_names(void)
{
	char *d;

	CU_ASSERT_PTR_NULL(symbols_demangle("main"));
	CU_ASSERT_PTR_NULL(symbols_demangle("_Z")); /* not a whole name */
	CU_ASSERT_PTR_NULL(symbols_demangle(NULL));
#ifdef HAVE_CXA_DEMANGLE
	d = symbols_demangle("_ZN3foo3barEi");
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_STRING_EQUAL(d, "foo::bar(int)");
	g_free(d);
	/* GCC's split-off cold part of a function */
	d = symbols_demangle("_ZN3foo3barEv.cold");
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_STRING_EQUAL(d, "foo::bar() [clone .cold]");
	g_free(d);
#else
	d = symbols_demangle("_ZN3foo3barEi");
	CU_ASSERT_PTR_NULL(d);
	g_free(d);
#endif
}

static void test_symbols__same_object_at_two_biases(void)
{
	struct found f = find((const void *)symbols_test_target);
	struct sym_object o = as_object(&f);
	const guint64 moved = 0x100000000ull;
	struct symbolizer *s = symbolizer_new();
	struct sym_info info;

	symbolizer_add(s, 0, &o);
	o.bias += moved;
	o.lo += moved;
	o.hi += moved;
	symbolizer_add(s, 1, &o);
	CU_ASSERT_TRUE(symbolizer_lookup(s, 1, target_addr() + moved, &info));
	assert_target(&info, f.path);
	CU_ASSERT_EQUAL(info.offset, target_addr() - f.bias);
	CU_ASSERT_TRUE(symbolizer_lookup(s, 0, target_addr(), &info));
	assert_target(&info, f.path);
	/* each process's address is its own: process 0 has nothing at
	 * process 1's */
	CU_ASSERT_FALSE(symbolizer_lookup(s, 0, target_addr() + moved, &info));
	symbolizer_free(s);
}

static void test_symbols__later_object_wins_overlap(void)
{
	struct found f = find((const void *)symbols_test_target);
	struct sym_object self = as_object(&f);
	struct sym_object before = {.path = "/nonexistent/unloaded.so",
				    .bias = f.bias, .lo = f.lo - 0x1000,
				    .hi = f.lo + 0x1000};
	struct sym_object after = {.path = "/nonexistent/later.so",
				   .bias = f.bias, .lo = target_addr() - 0x10,
				   .hi = target_addr() + 0x10};
	struct symbolizer *s = symbolizer_new();
	struct sym_info info;

	symbolizer_add(s, 0, &before);
	symbolizer_add(s, 0, &self);
	CU_ASSERT_TRUE(symbolizer_lookup(s, 0, target_addr(), &info));
	assert_target(&info, f.path);
	/* what was dropped is gone where nothing replaced it */
	CU_ASSERT_FALSE(symbolizer_lookup(s, 0, f.lo - 0x800, &info));
	/* a later one over part of self's range wins, and self is gone
	 * (as an object dlclose'd before another took its place) */
	symbolizer_add(s, 0, &after);
	CU_ASSERT_TRUE(symbolizer_lookup(s, 0, target_addr(), &info));
	CU_ASSERT_STRING_EQUAL(info.object, "/nonexistent/later.so");
	CU_ASSERT_PTR_NULL(info.function);
	CU_ASSERT_FALSE(symbolizer_lookup(s, 0, f.lo, &info));
	CU_ASSERT_FALSE(symbolizer_lookup(s, 0, f.hi - 1, &info));
	CU_ASSERT_EQUAL(count_missing(s, "/nonexistent/later.so: not found"), 1);
	CU_ASSERT_EQUAL(count_missing(s, "/nonexistent/unloaded.so: not found"), 0);
	symbolizer_free(s);
}

static void test_symbols__same_build_id_by_another_path(void)
{
	struct found f = find((const void *)symbols_test_target);
	struct sym_object gone = as_object(&f), here = as_object(&f);
	struct symbolizer *s = symbolizer_new();
	struct sym_info info;

	gone.path = "/nonexistent/elsewhere/test_symbols";
	symbolizer_add(s, 0, &gone);
	CU_ASSERT_TRUE(symbolizer_lookup(s, 0, target_addr(), &info));
	CU_ASSERT_PTR_NULL(info.function);
	CU_ASSERT_EQUAL(count_missing(s, "/nonexistent/elsewhere/test_symbols: not found"), 1);
	/* another process had the same file by a name that exists: both
	 * processes are answered from it, and nothing is missing */
	symbolizer_add(s, 1, &here);
	CU_ASSERT_TRUE(symbolizer_lookup(s, 1, target_addr(), &info));
	assert_target(&info, f.path);
	CU_ASSERT_TRUE(symbolizer_lookup(s, 0, target_addr(), &info));
	assert_target(&info, gone.path);
	CU_ASSERT_EQUAL(n_missing(s), 0);
	symbolizer_free(s);
}

static void test_symbols__object_without_build_id(void)
{
	struct found f = find((const void *)symbols_test_target);
	struct sym_object o = as_object(&f);
	struct symbolizer *s = symbolizer_new();
	struct sym_info info;

	o.build_id = NULL;
	o.build_id_len = 0;
	symbolizer_add(s, 0, &o);
	CU_ASSERT_TRUE(symbolizer_lookup(s, 0, target_addr(), &info));
	assert_target(&info, f.path);
	symbolizer_free(s);
}

UNIT_MAIN("symbols",
	  UNIT_TEST(test_symbols__own_function_by_name_file_and_line),
	  UNIT_TEST(test_symbols__libc_function),
	  UNIT_TEST(test_symbols__address_in_no_object),
	  UNIT_TEST(test_symbols__wrong_build_id_is_not_used),
	  UNIT_TEST(test_symbols__missing_file_listed_once),
	  UNIT_TEST(test_symbols__vdso_is_not_missing),
	  UNIT_TEST(test_symbols__demangles_cxx_names),
	  UNIT_TEST(test_symbols__same_object_at_two_biases),
	  UNIT_TEST(test_symbols__later_object_wins_overlap),
	  UNIT_TEST(test_symbols__same_build_id_by_another_path),
	  UNIT_TEST(test_symbols__object_without_build_id))
