/*
 * encode.c - the records whose bodies are a struct of format.h and some
 * bytes.  Stores only, no calls but memcpy: the handler uses these too.
 */
#include "config.h"

#include <string.h>

#include "encode.h"

/* A fixed part and len bytes after it; memcpy because p is only 4-byte
 * aligned in a chunk, and a test's buffer may be less. */
static size_t put_fixed(uint8_t *p, const void *rec, size_t size,
			const void *bytes, size_t len)
{
	memcpy(p, rec, size);
	if (len)
		memcpy(p + size, bytes, len);
	return size + len;
}

size_t pf_put_thread(uint8_t *p, const struct pf_rec_thread *rec,
		     const char *name)
{
	return put_fixed(p, rec, sizeof *rec, name, rec->name_len);
}

size_t pf_put_string(uint8_t *p, uint32_t id, const char *s, size_t len)
{
	return put_fixed(p, &id, sizeof id, s, len);
}

size_t pf_put_code(uint8_t *p, const struct pf_rec_code *rec)
{
	return put_fixed(p, rec, sizeof *rec, NULL, 0);
}

size_t pf_put_thread_name(uint8_t *p, const struct pf_rec_thread_name *rec,
			  const char *name)
{
	return put_fixed(p, rec, sizeof *rec, name, rec->name_len);
}

size_t pf_put_segment(uint8_t *p, const struct pf_rec_segment *rec)
{
	return put_fixed(p, rec, sizeof *rec, NULL, 0);
}

size_t pf_put_mark(uint8_t *p, const struct pf_rec_mark *rec,
		   const char *label)
{
	return put_fixed(p, rec, sizeof *rec, label, rec->label_len);
}

size_t pf_put_native(uint8_t *p, const struct pf_rec_native *rec)
{
	return put_fixed(p, rec, sizeof *rec, NULL, 0);
}

size_t pf_put_object(uint8_t *p, const struct pf_rec_object *rec,
		     const char *path, const uint8_t *build_id)
{
	size_t n = put_fixed(p, rec, sizeof *rec, path, rec->path_len);

	if (rec->build_id_len)
		memcpy(p + n, build_id, rec->build_id_len);
	return n + rec->build_id_len;
}
