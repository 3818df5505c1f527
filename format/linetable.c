/*
 * linetable.c - CPython's three line-table encodings (see linetable.h).
 *
 * Each decoder is CPython's PyCode_Addr2Line for its versions, rewritten so
 * that garbage cannot make it read past the table or loop: CPython trusts
 * its own tables (asserts, unbounded varints), we cannot trust a file.
 * Lines are summed in 64 bits and a sum that leaves int range, like a
 * table that ends inside an entry, makes the answer "unknown" (-1).
 *
 *   3.8-3.9   co_lnotab: (unsigned byte delta, signed line delta) pairs.
 *             The line of an offset is firstlineno plus the line deltas of
 *             every pair whose cumulative address is <= the offset.
 *   3.10      co_linetable: (unsigned byte delta, signed line delta) pairs,
 *             each one an address range; line delta -128 = no line; a
 *             zero-length range only moves the line (lnotab_notes.txt).
 *   3.11+     location table (Objects/locations.md): entries whose first
 *             byte is 1CCCCLLL cover LLL+1 code units (2 bytes each); the
 *             line delta comes from the code C: 0-9 short form (same line),
 *             10-12 one-line form (delta C-10), 13 no-column and 14 long
 *             form (signed varint delta), 15 no location (no line).
 */
#include <limits.h>
#include <string.h>

#include "format.h"
#include "linetable.h"

/* An address range of the table being walked, as CPython's
 * PyCodeAddressRange: [start, end) has line `line` (-1: none). */
struct range {
	const uint8_t *t;
	size_t len, pos;
	int64_t start, end, line, computed;
	int bad; /* the table does not decode */
};

static int line_ok(int64_t line)
{
	return line >= INT_MIN && line <= INT_MAX;
}

/* --- 3.8-3.9: co_lnotab -------------------------------------------------- */

static int lnotab_line(const uint8_t *t, size_t len, int firstlineno,
		       int lasti)
{
	int64_t line = firstlineno, addr = 0;
	size_t i;

	/* an odd trailing byte is ignored, as CPython's len/2 does */
	for (i = 0; i + 1 < len; i += 2) {
		addr += t[i];
		if (addr > lasti)
			break;
		line += (int8_t)t[i + 1];
		if (!line_ok(line))
			return -1;
	}
	return (int)line;
}

/* --- 3.10: co_linetable -------------------------------------------------- */

static int v310_at_end(const struct range *r) { return r->pos + 2 > r->len; }

static void v310_advance(struct range *r)
{
	int ldelta = (int8_t)r->t[r->pos + 1];

	r->start = r->end;
	r->end += r->t[r->pos];
	r->pos += 2;
	if (ldelta == -128) {
		r->line = -1;
	} else {
		r->computed += ldelta;
		r->line = r->computed;
		if (!line_ok(r->computed))
			r->bad = 1;
	}
}

/* PyLineTable_NextAddressRange: the next non-empty range. */
static int v310_next(struct range *r)
{
	if (v310_at_end(r))
		return 0;
	v310_advance(r);
	while (r->start == r->end) {
		if (v310_at_end(r)) /* CPython asserts this cannot happen */
			return 0;
		v310_advance(r);
	}
	return 1;
}

/* --- 3.11+: location table ----------------------------------------------- */

/* locations.md varint: 6-bit groups, least significant first, bit 6 set
 * on all but the last.  Bounded to 32 bits and to the table. */
static int loc_varint(struct range *r, size_t *p, uint32_t *out)
{
	uint32_t val = 0;
	unsigned shift = 0;

	for (;;) {
		uint8_t b;

		if (*p >= r->len || shift > 30)
			return -1;
		b = r->t[(*p)++];
		val |= (uint32_t)(b & 63) << shift;
		if (!(b & 64))
			break;
		shift += 6;
	}
	*out = val;
	return 0;
}

static void loc_advance(struct range *r)
{
	uint8_t first = r->t[r->pos];
	unsigned code = (first >> 3) & 15;
	int64_t delta = 0;
	size_t p = r->pos + 1;
	uint32_t u;

	switch (code) {
	case 13: /* no column info */
	case 14: /* long form; the fields after the line delta do not matter */
		if (loc_varint(r, &p, &u) != 0) {
			r->bad = 1;
			break;
		}
		/* signed varint: sign in the low bit */
		delta = (u & 1) ? -(int64_t)(u >> 1) : (int64_t)(u >> 1);
		break;
	case 10: case 11: case 12: /* one-line forms */
		delta = code - 10;
		break;
	default: /* 0-9 short forms, 15 no location: same line */
		break;
	}
	r->computed += delta;
	if (!line_ok(r->computed))
		r->bad = 1;
	r->line = (first >> 3) == 0x1f ? -1 : r->computed;
	r->start = r->end;
	r->end += ((first & 7) + 1) * 2;
	/* entries start at bytes with the top bit set */
	do {
		r->pos++;
	} while (r->pos < r->len && !(r->t[r->pos] & 128));
}

static int loc_next(struct range *r)
{
	if (r->pos >= r->len)
		return 0;
	loc_advance(r); /* always a non-empty range: 1 to 8 code units */
	return 1;
}

/* --- the common lookup --------------------------------------------------- */

int linetable_line(uint32_t py_hexversion, const uint8_t *table, size_t len,
		   int firstlineno, int lasti_bytes)
{
	unsigned minor = (py_hexversion >> 16) & 0xffff;
	struct range r;
	int (*next)(struct range *);

	/* Newer 3.x minors: the 3.11+ encoding.  libpyprof records an
	 * untested version only after its self-check decoded lines with it
	 * (preload/pystack.c). */
	if (minor < 0x0308 || minor > 0x03ff)
		return -1;
	if (lasti_bytes < 0)
		return firstlineno;
	if (!table)
		len = 0;
	if (minor <= 0x0309)
		return lnotab_line(table, len, firstlineno, lasti_bytes);
	next = minor == 0x030a ? v310_next : loc_next;

	/* _PyCode_CheckLineNumber from a fresh range (start -1, end 0) */
	r.t = table;
	r.len = len;
	r.pos = 0;
	r.start = -1;
	r.end = 0;
	r.line = -1;
	r.computed = firstlineno;
	r.bad = 0;
	while (r.end <= lasti_bytes) {
		if (!next(&r) || r.bad)
			return -1;
	}
	return (int)r.line;
}

int linetable_line_of(uint32_t py_hexversion, uint32_t code_flags,
		      const uint8_t *table, size_t len, int firstlineno,
		      int lasti_bytes)
{
	size_t lo = 0, hi;

	if (!(code_flags & PF_CODE_LINE_PAIRS))
		return linetable_line(py_hexversion, table, len, firstlineno,
				      lasti_bytes);
	if (lasti_bytes < 0)
		return firstlineno;
	hi = table ? len / sizeof(struct pf_line_pair) : 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		struct pf_line_pair lp;

		memcpy(&lp, table + mid * sizeof lp, sizeof lp);
		if (lp.lasti == lasti_bytes)
			return lp.line;
		if (lp.lasti < lasti_bytes)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}
