/*
 * intern.c - lock-free id tables for code objects and strings.
 *
 * Slot states: 0 empty, 1 being defined by some thread, 2 published.  A
 * thread claims an empty slot with one CAS, writes the record, then
 * publishes with a release store.  Readers skip slots in state 1 instead of
 * waiting for them (see intern.h on duplicates), so no thread ever spins.
 */
#include "intern.h"

#include <string.h>
#include <sys/mman.h>

#include "encode.h"

#define CODE_SLOTS (1u << 17)
#define STRING_SLOTS (1u << 16)
#define NATIVE_SLOTS (1u << 16)
#define MAX_NAME 4096
/* A code record must fit a fresh chunk beside its thread record. */
#define MAX_LINETABLE (PF_CHUNK_SIZE / 2)

struct code_slot {
	uint32_t state;
	uint32_t id;
	uintptr_t code, filename, name, qualname;
	const uint8_t *linetable;
	int32_t firstlineno;
};

struct string_slot {
	uint32_t state;
	uint32_t id;
	uint64_t hash;
	uint32_t len;
	const char *bytes; /* the record's body, in the file mapping */
};

struct native_slot {
	uint32_t state;
	uint32_t id;
	uintptr_t address;
};

/* One set per file being written: a rotated run's next file defines its
 * ids afresh, and its string slots point into its own mapping. */
static struct tables {
	struct code_slot *codes;
	struct string_slot *strings;
	struct native_slot *natives;
	uint32_t code_count, string_count, native_count; /* slots taken,
							   * for the 3/4 cap */
	uint32_t next_code_id, next_string_id;
} sets[INTERN_SETS];

#define TABLES_SIZE                                     \
	(sizeof(struct code_slot) * CODE_SLOTS +          \
	 sizeof(struct string_slot) * STRING_SLOTS +      \
	 sizeof(struct native_slot) * NATIVE_SLOTS)

int intern_init(int n)
{
	for (int i = 0; i < n && i < INTERN_SETS; i++) {
		/* never touched pages cost nothing: without native frames
		 * the native table stays unbacked, and so does a second set
		 * until a rotation */
		void *p;

		if (sets[i].codes)
			continue; /* mapped for an earlier pyprof attach */
		p = mmap(NULL, TABLES_SIZE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return -1;
		sets[i].codes = p;
		sets[i].strings = (struct string_slot *)(sets[i].codes + CODE_SLOTS);
		sets[i].natives = (struct native_slot *)(sets[i].strings + STRING_SLOTS);
	}
	return 0;
}

void intern_reset(int set)
{
	struct tables *T = &sets[set];

	if (!T->codes)
		return;
	/* MADV_DONTNEED on private anonymous memory gives zero pages back,
	 * without touching the pages that were never used. */
	madvise(T->codes, TABLES_SIZE, MADV_DONTNEED);
	T->code_count = T->string_count = T->native_count = 0;
	T->next_code_id = T->next_string_id = 0;
}

HANDLER static uint64_t mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* FNV-1a: content hashing for short strings, without a library the
 * preload could not depend on inside a signal handler. */
HANDLER static uint64_t fnv1a(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)s[i]) * 0x100000001b3ull;
	return h;
}

HANDLER static int claim(uint32_t *state, uint32_t *count, uint32_t slots)
{
	uint32_t expect = 0;

	if (__atomic_load_n(count, __ATOMIC_RELAXED) >= slots / 4 * 3)
		return 0;
	if (!__atomic_compare_exchange_n(state, &expect, 1, 0,
					 __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
		return 0;
	__atomic_fetch_add(count, 1, __ATOMIC_RELAXED);
	return 1;
}

HANDLER uint32_t intern_string(const char *s, size_t len,
			       const struct rec_sink *sink)
{
	struct tables *T = &sets[sink->set];
	uint64_t h = fnv1a(s, len);
	uint32_t i = (uint32_t)mix(h) & (STRING_SLOTS - 1);

	if (!T->strings || len > MAX_NAME)
		return 0;
	for (uint32_t probe = 0; probe < STRING_SLOTS; probe++) {
		struct string_slot *e = &T->strings[(i + probe) & (STRING_SLOTS - 1)];
		uint32_t st = __atomic_load_n(&e->state, __ATOMIC_ACQUIRE);

		if (st == 2) {
			if (e->hash == h && e->len == len &&
			    !memcmp(e->bytes, s, len))
				return e->id;
			continue;
		}
		if (st == 1)
			continue;
		if (!claim(&e->state, &T->string_count, STRING_SLOTS)) {
			if (__atomic_load_n(&e->state, __ATOMIC_RELAXED) == 0)
				return 0; /* table full */
			continue;         /* lost the race for this slot */
		}
		uint8_t *body = sink->space(sink->ctx, 4 + len);
		if (!body)
			return 0; /* slot stays claimed: it is never published */
		uint32_t id = __atomic_add_fetch(&T->next_string_id, 1,
						 __ATOMIC_RELAXED);
		sink->commit(sink->ctx, PF_REC_STRING,
			     pf_put_string(body, id, s, len));
		e->id = id;
		e->hash = h;
		e->len = (uint32_t)len;
		e->bytes = (const char *)body + 4;
		__atomic_store_n(&e->state, 2, __ATOMIC_RELEASE);
		return id;
	}
	return 0;
}

HANDLER static uint32_t intern_str_obj(const struct py_layout *L,
				       uintptr_t obj,
				       const struct rec_sink *sink)
{
	char buf[MAX_NAME];
	int n = pystr_utf8(L, obj, buf, sizeof buf);

	if (n < 0)
		return 0;
	return intern_string(buf, (size_t)n, sink);
}

HANDLER static int same_code(const struct code_slot *e, uintptr_t code,
			     const struct py_code_view *v)
{
	return e->code == code && e->filename == v->filename &&
	       e->name == v->name && e->qualname == v->qualname &&
	       e->linetable == v->linetable &&
	       e->firstlineno == v->firstlineno;
}

HANDLER uint32_t intern_code(const struct py_layout *L, uintptr_t code,
			     const struct rec_sink *sink)
{
	struct tables *T = &sets[sink->set];
	struct py_code_view v;
	uint32_t i;

	if (!T->codes || pycode_read(L, code, &v) != 0)
		return 0;
	/* The key is the object's identity and its fields' identities: a
	 * freed code object whose address is reused by another code gets a
	 * new id unless every field matches too, and then it is the same
	 * function for all a report can tell. */
	i = (uint32_t)mix(code ^ mix(v.name) ^ (uint64_t)v.firstlineno) &
	    (CODE_SLOTS - 1);
	for (uint32_t probe = 0; probe < CODE_SLOTS; probe++) {
		struct code_slot *e = &T->codes[(i + probe) & (CODE_SLOTS - 1)];
		uint32_t st = __atomic_load_n(&e->state, __ATOMIC_ACQUIRE);

		if (st == 2) {
			if (same_code(e, code, &v))
				return e->id;
			continue;
		}
		if (st == 1)
			continue;
		if (!claim(&e->state, &T->code_count, CODE_SLOTS)) {
			if (__atomic_load_n(&e->state, __ATOMIC_RELAXED) == 0)
				return 0;
			continue;
		}
		struct pf_rec_code rec = {0};
		rec.filename = intern_str_obj(L, v.filename, sink);
		rec.name = intern_str_obj(L, v.name, sink);
		rec.qualname = v.qualname ? intern_str_obj(L, v.qualname, sink)
					  : 0;
		rec.firstlineno = v.firstlineno;
		if (!rec.filename || !rec.name)
			return 0;
		size_t lt = v.linetable_len;
		if (lt > MAX_LINETABLE) {
			lt = MAX_LINETABLE;
			rec.flags |= PF_CODE_LINETABLE_TRUNCATED;
		}
		uint8_t *body = sink->space(sink->ctx, sizeof rec + lt);
		if (!body)
			return 0;
		rec.id = __atomic_add_fetch(&T->next_code_id, 1, __ATOMIC_RELAXED);
		size_t fixed = pf_put_code(body, &rec);
		/* The slot stays claimed if the table cannot be read (wall
		 * mode's remote reads): one slot of 131072 lost, no more. */
		if (lt && pyintro_copy(body + fixed, (uintptr_t)v.linetable,
				       lt) < 0)
			return 0;
		sink->commit(sink->ctx, PF_REC_CODE, fixed + lt);
		e->id = rec.id;
		e->code = code;
		e->filename = v.filename;
		e->name = v.name;
		e->qualname = v.qualname;
		e->linetable = v.linetable;
		e->firstlineno = v.firstlineno;
		__atomic_store_n(&e->state, 2, __ATOMIC_RELEASE);
		return rec.id;
	}
	return 0;
}

HANDLER uint32_t intern_native(uintptr_t address, const struct rec_sink *sink)
{
	struct tables *T = &sets[sink->set];
	uint32_t i = (uint32_t)mix(address) & (NATIVE_SLOTS - 1);

	if (!T->natives)
		return 0;
	for (uint32_t probe = 0; probe < NATIVE_SLOTS; probe++) {
		struct native_slot *e = &T->natives[(i + probe) & (NATIVE_SLOTS - 1)];
		uint32_t st = __atomic_load_n(&e->state, __ATOMIC_ACQUIRE);

		if (st == 2) {
			if (e->address == address)
				return e->id;
			continue;
		}
		if (st == 1)
			continue;
		if (!claim(&e->state, &T->native_count, NATIVE_SLOTS)) {
			if (__atomic_load_n(&e->state, __ATOMIC_RELAXED) == 0)
				return 0;
			continue;
		}
		struct pf_rec_native rec = {0};
		uint8_t *body = sink->space(sink->ctx, sizeof rec);
		if (!body)
			return 0;
		/* one id space with the codes: a frame is (id, lasti) */
		rec.id = __atomic_add_fetch(&T->next_code_id, 1, __ATOMIC_RELAXED);
		rec.address = address;
		sink->commit(sink->ctx, PF_REC_NATIVE, pf_put_native(body, &rec));
		e->id = rec.id;
		e->address = address;
		__atomic_store_n(&e->state, 2, __ATOMIC_RELEASE);
		return rec.id;
	}
	return 0;
}
