/*
 * gen-profile.c - writes a synthetic .pyprof file of N samples, for the
 * collector's throughput benchmark (a real program would need hours of CPU
 * to produce ten million samples).
 *
 * The stacks are shaped like a real program's: 4 threads, 2,000 code
 * objects in 40 files, stacks 10 to 30 deep that wander (each sample keeps
 * a random prefix of the previous one and grows new frames), so the
 * shared-prefix encoding is exercised as it is in real files.  Line tables are empty: lines resolve to firstlineno.
 *
 * usage: gen-profile OUT.pyprof SAMPLES [BRANCHY [callsite]]
 *
 * BRANCHY (default 6) is how many levels from the root choose among 4
 * callees; below that a callee is fixed by its caller.  6 gives about 10^4
 * distinct stacks, like a real program; 30 makes nearly every sample a new
 * stack, the collector's worst case.
 *
 * Each new frame's instruction offset is drawn at random, which no program
 * does: a caller's frame is at its call site.  `callsite` makes it so (the
 * offset follows from the caller and the callee; only the leaf's is drawn)
 * and shares the frames a real stack walk would, for measuring what a file
 * packs to (bench/README.md); without it the file is as it always was.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encode.h"
#include "write.h"

#define THREADS 4
#define CODES 2000
#define FILES 40

static struct pf_writer w;
static struct pf_cursor cur[THREADS];
static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t branchy;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

static uint8_t *space(struct pf_cursor *c, size_t n)
{
	uint8_t *p = pf_cursor_space(c, n);
	if (!p) {
		struct pf_rec_thread t = {c->thread == 1 ? PF_THREAD_MAIN : 0,
					  0, 0, 0, c->thread};
		if (pf_writer_next_chunk(&w, c) != 0) {
			fprintf(stderr, "gen-profile: file full\n");
			exit(1);
		}
		p = pf_cursor_space(c, sizeof t);
		pf_cursor_commit(c, PF_REC_THREAD, pf_put_thread(p, &t, NULL));
		p = pf_cursor_space(c, n);
	}
	return p;
}

int main(int argc, char **argv)
{
	char err[256], name[64];
	uint64_t n;
	uint32_t stack[THREADS][64], depth[THREADS] = {0};
	int32_t lasti[THREADS][64] = {{0}};
	uint32_t chunk_seq[THREADS];
	int callsite;

	if (argc < 3 || argc > 5 || (argc == 5 && strcmp(argv[4], "callsite"))) {
		fprintf(stderr, "usage: gen-profile OUT.pyprof SAMPLES [BRANCHY [callsite]]\n");
		return 2;
	}
	n = strtoull(argv[2], NULL, 10);
	branchy = argc >= 4 ? (uint32_t)atoi(argv[3]) : 6;
	callsite = argc == 5;
	if (pf_writer_create(&w, argv[1], 4ull << 30, err, sizeof err) != 0) {
		fprintf(stderr, "gen-profile: %s\n", err);
		return 1;
	}
	w.hdr->mode = PF_MODE_CPU;
	w.hdr->source = PF_SOURCE_THREAD_CPU_TIMER;
	w.hdr->interval_ns = 1000000;
	w.hdr->py_hexversion = 0x030b07f0;
	w.hdr->pid = 4242;
	snprintf(w.hdr->py_version, sizeof w.hdr->py_version, "3.11.7 (synthetic)");
	for (int t = 0; t < THREADS; t++) {
		cur[t].thread = (uint32_t)t + 1;
		cur[t].tid = 5000u + (uint32_t)t;
	}
	/* strings and codes, in thread 1's chunks */
	for (uint32_t i = 1; i <= FILES + CODES; i++) {
		int len = i <= FILES ? snprintf(name, sizeof name, "/srv/app/module%u.py", i)
				     : snprintf(name, sizeof name, "function_%u", i);
		uint8_t *p = space(&cur[0], 4 + (size_t)len);
		pf_cursor_commit(&cur[0], PF_REC_STRING,
				 pf_put_string(p, i, name, (size_t)len));
	}
	for (uint32_t i = 1; i <= CODES; i++) {
		struct pf_rec_code c = {i, 1 + i % FILES, FILES + i, 0,
					(int32_t)(10 + i % 500), 0};
		uint8_t *p = space(&cur[0], sizeof c);
		pf_cursor_commit(&cur[0], PF_REC_CODE, pf_put_code(p, &c));
	}
	for (int t = 0; t < THREADS; t++)
		chunk_seq[t] = cur[t].chunk ? cur[t].seq : ~0u;
	for (uint64_t s = 0; s < n; s++) {
		int t = (int)rnd(THREADS);
		uint8_t buf[1024], *p = buf;
		uint32_t keep = depth[t] ? rnd(depth[t] + 1) : 0, d;
		uint32_t prev_stack[64];
		int32_t prev_lasti[64];

		if (keep < 3 && depth[t] >= 3)
			keep = 3; /* a common root, like <module> -> main */
		memcpy(prev_stack, stack[t], sizeof prev_stack);
		memcpy(prev_lasti, lasti[t], sizeof prev_lasti);
		d = keep + 1 + rnd(30 - (keep < 29 ? keep : 29));
		if (d > 30)
			d = 30;
		if (d < 10)
			d = 10;
		/* A callee depends on its caller, with a few choices near the
		 * root only, as in a real program. */
		for (uint32_t i = keep; i < d; i++) {
			uint32_t parent = i ? stack[t][i - 1] : 0;
			uint32_t choice = rnd(i < branchy ? 4 : 1);
			stack[t][i] = i < 3 ? 1 + i
				: 1 + (parent * 2654435761u + choice * 40503u + i) % CODES;
		}
		if (callsite) {
			/* a caller waits at the call of its callee; and a
			 * stack walk shares every frame that did not change,
			 * which is often more than were kept */
			for (uint32_t i = keep ? keep - 1 : 0; i < d; i++)
				lasti[t][i] = i + 1 < d
					? (int32_t)(2 * ((stack[t][i] * 31u +
							  stack[t][i + 1]) % 40))
					: (int32_t)(2 * rnd(40));
			for (keep = 0; keep < d && keep < depth[t] &&
			     stack[t][keep] == prev_stack[keep] &&
			     lasti[t][keep] == prev_lasti[keep]; keep++)
				;
		}
		/* the shared prefix holds only within a chunk */
		if (cur[t].seq != chunk_seq[t])
			keep = 0;
		/* dt and dcpu 1 ms; lasti even, below 80 */
		p += pf_put_sample_head(p, 1000000, 1000000, PF_SAMPLE_GIL,
					keep, d - keep);
		for (uint32_t i = keep; i < d; i++)
			p += pf_put_frame(p, stack[t][i], callsite ? lasti[t][i]
							: (int32_t)(2 * rnd(40)));
		uint8_t *dst = pf_cursor_space(&cur[t], (size_t)(p - buf));
		if (!dst) {
			/* new chunk: write the full stack */
			space(&cur[t], (size_t)(p - buf));
			p = buf;
			p += pf_put_sample_head(p, 1000000, 1000000,
						PF_SAMPLE_GIL, 0, d);
			for (uint32_t i = 0; i < d; i++)
				p += pf_put_frame(p, stack[t][i], callsite
						  ? lasti[t][i] : (int32_t)(2 * rnd(40)));
			dst = pf_cursor_space(&cur[t], (size_t)(p - buf));
		}
		memcpy(dst, buf, (size_t)(p - buf));
		pf_cursor_commit(&cur[t], PF_REC_SAMPLE, (size_t)(p - buf));
		chunk_seq[t] = cur[t].seq;
		depth[t] = d;
	}
	w.hdr->samples = n;
	pf_writer_finish(&w, PF_END_EXIT, 0);
	pf_writer_close(&w);
	return 0;
}
