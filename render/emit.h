/*
 * emit.h - what the JSON, trace, speedscope, gecko, svg, pprof and html
 * renderers share: fast escaping and number output, the flame graphs'
 * colours, and the map from a sample's recorded stack to the node of the
 * (hidden, trimmed) call tree it counts in.
 *
 * Why streaming output with our own escaper rather than json-glib's
 * generator: trace, speedscope and gecko grow with the number of samples
 * (10 million samples make gigabytes of JSON), and a generator needs the
 * whole document as a tree of JsonNodes in memory first.  The escaper is
 * small, is the only place that turns a profile string into JSON, and the
 * unit tests parse every renderer's output and hostile strings back with
 * json-glib's parser.
 *
 * Why a stack -> node map: renderers of timelines (trace, speedscope,
 * gecko) must show the frames the call tree shows, so that hiding,
 * trimming and --show-all apply to them exactly as to the tree renderers.
 * A sample's node is found by the tree builder's own walk
 * (profile_walk_node), from the thread's root node: a frame that has no
 * child node under the current node was left out of the tree (trimmed)
 * and is skipped.
 */
#ifndef PYPROF_RENDER_EMIT_H
#define PYPROF_RENDER_EMIT_H

#include <stdio.h>

#include <glib.h>

#include "collector/profile.h"

/* Appends s (UTF-8, as profile_intern makes every string) to buf as a JSON
 * string with its quotes.  Besides '"', '\\' and control characters it
 * escapes '<', '>', '&' and U+2028/U+2029, so the result is also safe
 * inside an HTML <script> element and in JavaScript source. */
void emit_json_string(GString *buf, const char *s);

/* Appends s to buf escaped for XML text and attribute values (&<>"'),
 * control characters dropped (XML 1.0 cannot carry them). */
void emit_xml_text(GString *buf, const char *s);

/* Writes v in decimal, faster than fprintf for the millions of numbers of
 * a trace. */
void emit_u64(FILE *out, guint64 v);
/* Writes ns / 1000 as a decimal number of microseconds with up to three
 * decimals ("12.345", "7"). */
void emit_us(FILE *out, guint64 ns);
/* Writes ns as milliseconds with up to six decimals ("1.5", "0.000001"). */
void emit_ms(FILE *out, guint64 ns);
/* Writes ns as seconds with nine decimals, trailing zeros removed. */
void emit_seconds(FILE *out, guint64 ns);

/* The CLOCK_MONOTONIC instant that timelines count from: the earliest
 * process start or sample (all processes of a report share the clock,
 * so their tracks line up); 0 for an empty profile. */
guint64 emit_time_base(const struct profile *p);

/* The process's command line, its arguments joined by spaces, else the
 * file it was read from.  Newly allocated; the caller frees it. */
char *emit_command_line(const struct profile_process *pr);

/* The fill of frame f in the flame graphs (svg, html) as 0xRRGGBB, by
 * where its code lives: a hue range per origin -- the program's own code
 * red to amber, the standard library blue, installed packages green,
 * native code violet -- and within it a shade per emit_color_key, from a
 * hash of it, so that a package has the same colour in every report;
 * synthetic frames (threads, folded groups, [idle]) grey. */
guint32 emit_frame_color(const struct profile_frame *f);
/* The middle of origin o's range, for legends */
guint32 emit_origin_color(enum profile_origin o);
/* What f's shade is derived from: its package ("json", "botocore",
 * "libz.so.1"), the file of the program's own code, "thread", "group",
 * "idle" or "other" for synthetic frames.  Owned by the profile. */
const char *emit_color_key(const struct profile_frame *f);

struct emit_map;

/* A map for tree t of profile p, built with opts (may be NULL).  Owned by
 * the caller: emit_map_free(). */
struct emit_map *emit_map_new(const struct profile *p,
			      const struct profile_tree *t,
			      const struct profile_tree_options *opts);
void emit_map_free(struct emit_map *m);

/* Starts resolving the samples of thread ti; returns its root node in the
 * tree (a thread, thread-name, process or all-threads node), 0 if the
 * tree has none for it. */
guint32 emit_map_thread(struct emit_map *m, guint ti);

/* The tree node a sample with stack `stack` of the current thread counts
 * in.  Never 0 once emit_map_thread() returned non-zero. */
guint32 emit_map_node(struct emit_map *m, guint32 stack);

/* Where sample s's time goes in the tree, as up to two (node, ns) pieces:
 * its running time at its node, and in wall mode its waiting time at the
 * [idle] below (see profile_sample_wait_ns).  Returns how many pieces. */
guint emit_map_pieces(struct emit_map *m, const struct profile_sample *s,
		      guint32 node[2], guint64 ns[2]);

/* emit_map_pieces, the pieces in the order they are drawn on a
 * timeline.  Where in the period the thread waited is not recorded: a
 * sample the thread's own clock took (it was running then) has its wait
 * first, one the sampler thread took of a waiting thread its running
 * first. */
guint emit_map_pieces_in_time(struct emit_map *m, const struct profile_sample *s,
			      guint32 node[2], guint64 ns[2]);

#endif
