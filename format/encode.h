/*
 * encode.h - the bodies of the records of format.h, put into memory.
 *
 * Each pf_put_* writes one record body at p and returns its length; the
 * caller gets the space (pf_cursor_space, or a test's buffer) and commits
 * the record under its type.  Every function here is async-signal-safe:
 * stores into memory the caller owns, nothing else, so the sampling
 * handler may call any of them at any instant (see write.h).
 *
 * A sample is a head and then its new frames: pf_put_sample_head() says
 * how many frames follow, and pf_put_frame() writes each, so a caller
 * encodes straight from its own frame array.  Both are inline, being on
 * the handler's per-frame path.
 */
#ifndef PYPROF_ENCODE_H
#define PYPROF_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include "format.h"

/* Largest sample head, and largest frame, in bytes; a PF_SAMPLE_REPEAT's
 * count takes at most PF_VARINT_MAX more */
#define PF_SAMPLE_HEAD_MAX (5 * PF_VARINT_MAX)
#define PF_FRAME_MAX (2 * PF_VARINT_MAX)

/* A PF_REC_SAMPLE's head; count frames must follow (pf_put_frame). */
static inline size_t pf_put_sample_head(uint8_t *p, uint64_t dt_ns,
					uint64_t dcpu_ns, uint32_t flags,
					uint32_t shared, uint32_t count)
{
	uint8_t *q = p;

	q += pf_varint_put(q, dt_ns);
	q += pf_varint_put(q, dcpu_ns);
	q += pf_varint_put(q, flags);
	q += pf_varint_put(q, shared);
	q += pf_varint_put(q, count);
	return (size_t)(q - p);
}

/* One frame of a sample: its code id and the byte offset of the
 * instruction being executed. */
static inline size_t pf_put_frame(uint8_t *p, uint32_t code_id, int32_t lasti)
{
	size_t n = pf_varint_put(p, code_id);

	return n + pf_varint_put(p + n, (uint64_t)(lasti / 2 + 1));
}

/* PF_SAMPLE_REPEAT's count, after the frames (2.4) */
static inline size_t pf_put_repeats(uint8_t *p, uint32_t repeats)
{
	return pf_varint_put(p, repeats);
}

/* A whole PF_SAMPLE_GAP sample: time no sample stands for, the stack of
 * depth frames carrying on.  At most PF_SAMPLE_HEAD_MAX bytes. */
static inline size_t pf_put_gap(uint8_t *p, uint64_t dt_ns, uint64_t dcpu_ns,
				uint32_t depth)
{
	return pf_put_sample_head(p, dt_ns, dcpu_ns, PF_SAMPLE_GAP, depth, 0);
}

/* PF_REC_THREAD: rec, then rec->name_len bytes of name. */
size_t pf_put_thread(uint8_t *p, const struct pf_rec_thread *rec,
		     const char *name);

/* PF_REC_STRING: 4 + len bytes. */
size_t pf_put_string(uint8_t *p, uint32_t id, const char *s, size_t len);

/* PF_REC_CODE's fixed part.  The line table's bytes go right after it
 * and are the caller's to copy: the preload reads them with a read that
 * may fail, and then commits nothing. */
size_t pf_put_code(uint8_t *p, const struct pf_rec_code *rec);

/* PF_REC_THREAD_NAME: rec, then rec->name_len bytes of name. */
size_t pf_put_thread_name(uint8_t *p, const struct pf_rec_thread_name *rec,
			  const char *name);

/* PF_REC_SEGMENT: 12 bytes. */
size_t pf_put_segment(uint8_t *p, const struct pf_rec_segment *rec);

/* PF_REC_MARK: rec, then rec->label_len bytes of label. */
size_t pf_put_mark(uint8_t *p, const struct pf_rec_mark *rec,
		   const char *label);

/* PF_REC_NATIVE: 16 bytes. */
size_t pf_put_native(uint8_t *p, const struct pf_rec_native *rec);

/* PF_REC_OBJECT: rec, then path_len bytes of path, then build_id_len
 * bytes of build-id. */
size_t pf_put_object(uint8_t *p, const struct pf_rec_object *rec,
		     const char *path, const uint8_t *build_id);

#endif
