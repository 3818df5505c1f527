/*
 * profile.h - the profile model every renderer works from.
 *
 * Renderers never see the file format: profile_load_file() decodes .pyprof
 * files into this model, and the renderers, the merge, hide and trim stages
 * read only what is declared here.  The one idea: everything is interned
 * into integer ids once, so that per-sample work is a few array reads.
 *
 *   strings    one GStringChunk; equal strings share one pointer, so frames
 *              compare strings by pointer
 *   frames     (kind, filename, name, qualname, firstlineno, line, thread)
 *              -> frame id.  A frame is a function *at a line*; each frame
 *              also names its line-less twin (`function`), for renderers
 *              that group by function only
 *   stacks     a prefix tree shared by every thread and process: stack id
 *              -> (parent stack id, leaf frame id, depth).  Stack 0 is the
 *              empty stack, so a whole stack is one integer and pushing a
 *              frame is one hash lookup of (parent, frame)
 *   threads    per process (one loaded file) and thread serial; each has
 *              either a timeline, an array of samples {mono_ns, cpu_ns,
 *              wall_ns, flags, stack} in the order they were taken, or,
 *              when the caller said it needs no timeline
 *              (profile_set_timelines), its samples summed by what the
 *              tree can tell apart (struct profile_aggregate): memory then
 *              grows with distinct stacks, not with samples
 *   tree       built on demand from either (profile_tree_build):
 *              node 0 is the root of everything, its children are one node
 *              per thread (a PROFILE_FRAME_THREAD frame; or per family of
 *              threads, thread name or process, or one for all, by
 *              profile_tree_options.group), below them the Python
 *              frames, root-most first.  Each node has self and total
 *              weight in ns and in samples, and its children sorted by total
 *              weight, heaviest first.  A hide predicate given to the build
 *              drops frames (their time goes to the nearest kept caller).
 *
 * Weight: a sample stands for the CPU time it measured (cpu_ns) in CPU
 * mode, and for the wall time since the thread's previous sample (wall_ns)
 * in wall mode -- never samples x interval, because the achieved rate is
 * often far from the asked one (see ARCHITECTURE.md, "Time").
 *
 * Synthetic frames: `[truncated]` sits at the root side of a stack whose
 * root-most frames were lost (PF_SAMPLE_TRUNCATED); `[unknown]` stands for
 * a frame whose code object is not known.
 *
 * `[idle]` (PROFILE_FRAME_IDLE) holds a wall-mode sample's waiting time
 * (profile_sample_wait_ns: its wall time less its thread's CPU time),
 * below the sample's stack, whose innermost Python frame made the
 * blocking call.  It is a frame of its own kind, interned once, but it is
 * never part of a stack: the tree builder adds it under the sample's node
 * (and leaves the waiting time out with opts->no_idle).  So the stacks stay
 * what the file recorded, and hide, collapse and show rules, which
 * profile_tree_build asks only about frames of stacks, can never hide it
 * or fold it into a group; hide.c judges Python frames only anyway, and
 * the stem trimmer (trim.c) counts an [idle] node as its caller's own
 * time, so it never trims the frame that waited nor the [idle] below it.
 * --show-all, which only turns those off, still shows it.  Renderers of
 * timelines split each sample into its running and waiting pieces with
 * emit_map_pieces (render/emit.h).
 *
 * Ownership: a struct profile owns everything reachable from it; pointers
 * returned by accessors stay valid until profile_free().  A struct
 * profile_tree is independent of later additions to the profile but must
 * not outlive it.  Nothing here exits or prints: errors are GErrors,
 * warnings are collected in profile->warnings for the caller to print.
 */
#ifndef PYPROF_PROFILE_H
#define PYPROF_PROFILE_H

#include <stdint.h>

#include <glib.h>

#define PROFILE_ERROR (profile_error_quark())
GQuark profile_error_quark(void);

enum profile_error_code {
	PROFILE_ERROR_IO,     /* the file could not be opened or read */
	PROFILE_ERROR_FORMAT, /* not a pyprof file, or its header is damaged */
	PROFILE_ERROR_LIMIT,  /* more frames/stacks than the model can count */
};

/* Same values as enum pf_mode / pf_source / pf_end_reason in format.h
 * (checked in load.c); repeated so renderers need not see the format. */
enum profile_mode {
	PROFILE_MODE_CPU = 1,
	PROFILE_MODE_WALL = 2,
};

enum profile_source {
	PROFILE_SOURCE_NONE = 0,
	PROFILE_SOURCE_THREAD_CPU_TIMER = 1,
	PROFILE_SOURCE_PERF_TASK_CLOCK = 2,
};

enum profile_end {
	PROFILE_END_NONE = 0,
	PROFILE_END_EXIT = 1,
	PROFILE_END__EXIT = 2,
	PROFILE_END_SIGNAL = 3,
	PROFILE_END_EXEC = 4,
	PROFILE_END_STOP = 5,
	PROFILE_END_ROTATE = 6,
};

#define PROFILE_DROP_COUNT 16 /* = PF_DROP_COUNT */

/* Same bits as PF_SAMPLE_* */
#define PROFILE_SAMPLE_GIL 0x1u
#define PROFILE_SAMPLE_TRUNCATED 0x2u
#define PROFILE_SAMPLE_IDLE 0x4u
#define PROFILE_SAMPLE_UNMERGED 0x10u
/* Wall mode: what the thread waited for in the sample's waiting time
 * (= PF_SAMPLE_WAIT_*, enum pf_wait): 1 the GIL, 2 a lock, 3 a sleep, 4
 * I/O, 5 a child process, 6 another system call; 0 not known */
#define PROFILE_SAMPLE_WAIT_SHIFT 5
#define PROFILE_SAMPLE_WAIT_MASK (7u << PROFILE_SAMPLE_WAIT_SHIFT)
#define PROFILE_WAIT_KINDS 8

#define PROFILE_THREAD_MAIN 0x1u /* = PF_THREAD_MAIN */

/* One loaded file: a process (or one exec image of it). */
struct profile_process {
	const char *path;      /* the file it was read from */
	int pid, ppid;
	char **argv;           /* NULL-terminated */
	gboolean argv_truncated;
	const char *hostname;
	const char *py_version;
	guint32 py_hexversion;
	const char *cwd;       /* where it started, NULL if unknown */
	const char *exe;       /* its executable's real path, NULL if unknown */
	const char *stdlib;    /* the standard library's directory, with a
				* trailing slash, NULL if unknown */
	gboolean py_static;    /* libpython linked into the executable */
	gboolean native;       /* native stacks were recorded */
	enum profile_mode mode;
	enum profile_source source;
	guint64 interval_ns;   /* asked for */
	guint64 start_realtime_ns, start_mono_ns;
	guint64 end_mono_ns;   /* 0 when unfinished */
	gboolean complete;     /* the writer finished the file */
	enum profile_end end_reason;
	int end_signal;
	guint64 signals;       /* handler entries, from the header */
	guint64 header_samples;
	guint64 dropped[PROFILE_DROP_COUNT];
	guint64 last_mono_ns;  /* latest sample seen, 0 if none */
	/* A rotated run (PYPROF_ROTATE) is one process: its files, read one
	 * after the other in order, add to it; the fields above that
	 * describe the end are its last file's, the counts are sums */
	guint32 sequence;      /* the last file's number in its run, 0 none */
	guint64 run_start_realtime_ns;
	guint n_files;         /* files read into it */
	guint first_thread, n_threads; /* its threads: a range of p->threads */
	guint32 frame;         /* its PROFILE_FRAME_THREAD frame, "process
				* PID", the root of PROFILE_GROUP_PROCESS;
				* shared by the exec images of one pid */
};

struct profile_sample {
	guint64 mono_ns; /* CLOCK_MONOTONIC when taken */
	guint64 cpu_ns;  /* thread CPU time it stands for */
	guint64 wall_ns; /* wall time since the thread's previous sample */
	guint32 flags;   /* PROFILE_SAMPLE_* */
	guint32 stack;   /* stack id */
};

/*
 * Samples of one thread that the call tree cannot tell apart, summed: the
 * same stack and flags, and the same answers to the tree builder's two
 * questions about a wall-mode sample taken one by one (did it wait, did
 * it run: PROFILE_AGGREGATE_*, always 0 in CPU mode).  With those equal,
 * the samples take the same path through profile_tree_build and add to
 * the same nodes, so a tree built from aggregates is the tree built from
 * the timeline, node for node and in the same order, when the aggregates
 * come in the order of their first sample, as they do.  So there are at
 * most two per (stack, flags) in wall mode, one in CPU mode, whatever the
 * number of samples.
 */
struct profile_aggregate {
	guint32 stack, flags; /* as the samples' */
	guint32 kind;         /* PROFILE_AGGREGATE_* */
	guint64 count;        /* samples */
	guint64 cpu_ns, wall_ns;
	guint64 wait_ns;      /* sum of profile_sample_wait_ns */
};

#define PROFILE_AGGREGATE_WAITED 0x1u /* wait_ns > 0 in each (wall mode) */
#define PROFILE_AGGREGATE_RAN 0x2u    /* wall_ns > wait_ns in each (wall mode) */

struct profile_thread {
	guint process;   /* index in p->processes */
	guint32 serial;  /* process-wide thread serial from the file */
	guint32 tid;
	guint32 flags;   /* PROFILE_THREAD_* */
	guint64 pthread;
	const char *name; /* never NULL: recorded name, MainThread, Thread <tid> */
	/* Its samples, one of two ways (p->timelines): each of them in time
	 * order (samples), for the renderers that draw time and the stages
	 * that cut it; or summed (aggregates), which is all a call tree
	 * needs and grows with the distinct stacks only.  The other array
	 * stays empty.  Read them through profile_thread_aggregates() to
	 * work from either. */
	GArray *samples;    /* of struct profile_sample, in time order */
	GArray *aggregates; /* of struct profile_aggregate, by first sample */
	guint64 n_samples;  /* however they are kept */
	guint64 first_mono_ns, last_mono_ns; /* of its first and latest
					      * sample, 0 if none */
	guint64 cpu_ns, wall_ns; /* sums over samples */
	guint64 idle_ns;  /* sum of wall_ns over the samples that are idle
			   * (profile_sample_idle): its time spent waiting */
	guint32 frame;      /* its PROFILE_FRAME_THREAD frame (thread = index) */
	guint32 name_frame; /* the same, shared by threads of that name */
	guint32 family_frame; /* its family's root (profile_family_group), or
			       * `frame` when it is alone in its family */
	/* private (profile.c): aggregates by key (a slot the stack << 32 |
	 * the index + 1), and the last one added to, index + 1 */
	guint64 *agg_slots;
	guint32 agg_mask, agg_last;
};

enum profile_frame_kind {
	PROFILE_FRAME_PYTHON = 0,
	PROFILE_FRAME_TRUNCATED, /* "[truncated]" */
	PROFILE_FRAME_UNKNOWN,   /* "[unknown]" */
	PROFILE_FRAME_THREAD,    /* a thread root in a tree */
	PROFILE_FRAME_GROUP,     /* a collapsed group of frames, or a
				  * relabelled one ("[requests]", "In [3]");
				  * see collector/hide.h */
	PROFILE_FRAME_IDLE,      /* "[idle]", only as a tree leaf: see the
				  * top of this file */
	PROFILE_FRAME_NATIVE,    /* a native function: filename is its
				  * object's path, source and line its place
				  * in the source where debug info says */
	PROFILE_FRAME_UNMERGED,  /* "[native: unmerged]": at the root side of
				  * a native-mode sample whose native stack
				  * could not be merged; its Python frames
				  * follow, whole */
};

/* Where a frame's code lives (collector/origin.c) */
enum profile_origin {
	PROFILE_ORIGIN_OTHER = 0, /* synthetic frames: threads, [idle], groups */
	PROFILE_ORIGIN_PROGRAM,   /* the program's own code */
	PROFILE_ORIGIN_STDLIB,    /* the standard library, <frozen ...> too */
	PROFILE_ORIGIN_LIBRARY,   /* an installed package (site-packages) */
	PROFILE_ORIGIN_NATIVE,    /* native code */
};

struct profile_frame {
	enum profile_frame_kind kind;
	const char *filename; /* "" for synthetic frames */
	const char *name;     /* co_name; the label of synthetic frames */
	const char *qualname; /* co_qualname, NULL when absent (< 3.11) */
	int firstlineno;      /* line of the definition, -1 unknown */
	int line;             /* line being executed, -1 unknown */
	int thread;           /* PROFILE_FRAME_THREAD: thread index, -1 if
			       * grouped by name (or process, or all),
			       * PROFILE_FAMILY_THREAD(process) for a family
			       * of threads; -1 for other kinds */
	guint32 function;     /* the frame id of this frame with line = -1 */
	const char *source;   /* PROFILE_FRAME_NATIVE: the source file of
			       * line, NULL if unknown; NULL for others */
	enum profile_origin origin;
	const char *package;  /* the package (stdlib: top-level module,
			       * native: object base name), NULL for the
			       * program's code and synthetic frames */
	const char *short_file; /* filename as reports for people show it:
			       * the program's relative to its starting
			       * directory, a package's from its top
			       * directory ("botocore/session.py"), the
			       * standard library's as "<stdlib>/json/
			       * decoder.py"; else filename itself */
};

/* The `thread` of a family's frame: below -1, and the process's own, so
 * that a family is never one root with a name group, a thread of that
 * name or another process's family of that label. */
#define PROFILE_FAMILY_THREAD(process) (-2 - (int)(process))

/* The process of the threads under f when f roots a family of them, else
 * -1 */
static inline int profile_frame_family(const struct profile_frame *f)
{
	return f->kind == PROFILE_FRAME_THREAD && f->thread <= -2 ? -2 - f->thread : -1;
}

/* Whether f names a function at a place (Python or native code), as
 * opposed to the synthetic frames */
static inline gboolean profile_frame_is_code(const struct profile_frame *f)
{
	return f->kind == PROFILE_FRAME_PYTHON || f->kind == PROFILE_FRAME_NATIVE;
}

/* Whether frame f is Python code of the standard library or of an
 * installed package: what reports fold between the program's own frames
 * (native frames are recorded only when asked for, and stay) */
static inline gboolean profile_frame_is_library(const struct profile_frame *f)
{
	return f->origin == PROFILE_ORIGIN_STDLIB ||
	       f->origin == PROFILE_ORIGIN_LIBRARY;
}

/* "program", "stdlib", "library", "native" or "other" */
const char *profile_origin_name(enum profile_origin o);

/* The origin of code in file `filename` of a process that started in cwd
 * with its standard library in stdlib (either may be NULL: unknown); sets
 * *package and *short_file to new strings, or NULL when the package is
 * none or the file's short spelling is itself. */
enum profile_origin profile_classify_file(const char *filename, const char *cwd,
					  const char *stdlib, char **package,
					  char **short_file);

/* The standard library's directory of an interpreter at exe (its real
 * path) of version hexversion: "<prefix>/lib/pythonX.Y/"; NULL if exe is
 * unknown.  Newly allocated. */
char *profile_stdlib_dir(const char *exe, guint32 hexversion);

/* The name to show: qualname when present, else name. */
static inline const char *profile_frame_label(const struct profile_frame *f)
{
	return f->qualname ? f->qualname : f->name;
}

struct profile_stack {
	guint32 parent; /* 0 for a one-frame stack */
	guint32 frame;
};

struct profile;

/* The model's own index of stacks (collector/profile-private.h) */
struct id_index {
	guint32 *slots;
	guint32 mask, n;
};

/* A point named through libpyprof's control API (PF_REC_MARK) */
enum profile_mark_kind {
	PROFILE_MARK_START = 1,
	PROFILE_MARK_STOP = 2,
	PROFILE_MARK_POINT = 3,
};

struct profile_mark {
	guint process;
	guint64 mono_ns;
	enum profile_mark_kind kind;
	const char *label; /* interned */
	int thread;        /* index in p->threads of the thread that made
			    * it, -1 if the file did not say */
};

struct profile {
	GPtrArray *processes; /* of struct profile_process * */
	GPtrArray *threads;   /* of struct profile_thread *, grouped by process */
	GPtrArray *warnings;  /* of char *: "FILE: offset N: message" */
	/* pid -> name (char *) of processes the caller knows are still
	 * running, whose files are unfinished for that reason; NULL: none */
	GHashTable *running;
	enum profile_mode mode; /* of the first process loaded; CPU if none */
	gboolean mixed_modes;   /* processes disagree on the mode */
	guint64 n_samples;
	GArray *marks;          /* of struct profile_mark, in file order */
	gboolean timelines;     /* threads keep their samples in order, not
				 * summed (profile_set_timelines) */
	/* private */
	GStringChunk *strings;
	GHashTable *frame_index;
	struct id_index stack_index; /* profile-private.h */
	GPtrArray *frame_pages, *stack_pages;
	/* struct stack_hint by stack id, stack_hints_len of them: the child
	 * pushed last and its frame, profile_stack_push's shortcut (one load
	 * where the child's own frame would be a second); one array, not
	 * pages, since a sample's frames make a chain of these loads, each
	 * waiting for the one before; dropped with the index when loading
	 * ends, and zeros (no hint) again if stacks come after that */
	struct stack_hint *stack_hints;
	guint32 stack_hints_len;
	/* by stack id, agg_hints_len of them: the index + 1 of the aggregate
	 * a sample of that stack was added to last, in whichever thread:
	 * an aggregate is the only one of its thread with its stack, flags
	 * and kind, so one of this thread's that matches them is the one
	 * (no hash, no probing, most samples); dropped when loading ends */
	guint32 *agg_hints;
	guint32 agg_hints_len;
	guint32 n_frames, n_stacks;
	guint32 frame_truncated, frame_unknown, frame_all_threads, frame_idle;
	guint32 frame_unmerged;
	/* "[idle: GIL]" ...: the [idle] of samples that say what they
	 * waited for, made when the first such sample is loaded */
	guint32 frame_idle_kind[PROFILE_WAIT_KINDS];
};

struct profile *profile_new(void);
void profile_free(struct profile *p);

/* Whether threads keep each sample in time order (TRUE, the default) or
 * only their aggregates: call before the first sample is added.  Without
 * timelines, the renderers of time (trace, speedscope), --window
 * (profile_keep_window) and top (profile_keep_recent) have nothing to
 * work from; everything built from call trees works the same. */
void profile_set_timelines(struct profile *p, gboolean keep);

/*
 * Reads one .pyprof file into p, as a new process.  A file that cannot be
 * read at all fails with a GError "FILE: offset N: message" (or "FILE:
 * message" when it cannot be opened) and leaves p as it was apart from
 * interned strings.  Damage after the header, and a file whose writer did
 * not finish, add warnings to p->warnings and keep the valid part.
 */
gboolean profile_load_file(struct profile *p, const char *path, GError **error);

/* Native frames of the files loaded from now on are named from the
 * objects under root (see symbolizer_set_root); NULL: at their paths. */
void profile_set_sysroot(const char *root);

/* --- building a profile (the loader uses these; so can tests) --- */

/* Returns an interned copy of s[0..len) (len -1: NUL-terminated); invalid
 * UTF-8 is repaired and a NUL cuts the string.  Owned by p. */
const char *profile_intern(struct profile *p, const char *s, gssize len);

/* Adds a process; info is copied (strings interned, argv duplicated). */
guint profile_add_process(struct profile *p, const struct profile_process *info);

/* Adds a thread to process `process` (which must be the last one added);
 * name may be NULL or empty for the default naming.  Returns its index. */
guint profile_add_thread(struct profile *p, guint process, guint32 serial,
			 guint32 tid, guint32 flags, guint64 pthread,
			 const char *name, gsize name_len);

/*
 * Keeps only the samples taken inside the windows labelled `label` (from
 * a START mark to the next STOP mark with that label, in the same process;
 * to the end of the file if the window was never closed) and drops the
 * rest, threads' totals included.  Returns the number of windows found;
 * with none, the profile is left as it was.
 */
guint profile_keep_window(struct profile *p, const char *label);

/* Keeps only the samples of the last span_ns before each process's latest
 * sample (the first one clipped to the span, as a window's is).  Both
 * this and profile_keep_window need timelines. */
void profile_keep_recent(struct profile *p, guint64 span_ns);

/* Thread ti's samples summed: its aggregates, or, when p keeps timelines,
 * made from its timeline into scratch (a GArray of struct
 * profile_aggregate the caller owns; its contents are replaced).  *n is
 * set to their count; the result is valid until p or scratch changes. */
const struct profile_aggregate *profile_thread_aggregates(const struct profile *p,
							  guint ti, GArray *scratch,
							  guint *n);

/* Drops every sample of thread ti, and its totals. */
void profile_thread_clear(struct profile *p, guint ti);

/* Thread ti's totals (and p's count of samples) computed again from its
 * timeline, for a caller that cut or changed it. */
void profile_thread_retotal(struct profile *p, guint ti);

/* Keeps only the samples taken from from_ns to until_ns (wall-clock ns
 * since the epoch, each process's monotonic times placed by its start;
 * the first one clipped to the span, as a window's is).  Returns how many
 * samples are left. */
guint64 profile_keep_between(struct profile *p, guint64 from_ns, guint64 until_ns);

/* Names a thread (its Python name, learned after it was added). */
void profile_thread_rename(struct profile *p, guint thread, const char *name,
			   gsize name_len);
/*
 * Families of threads (collector/family.c): the threads of one process
 * whose names differ only by their numbers, "Thread-12 (handle)" and
 * "Thread-13 (handle)", are one family, rooted at one tree in
 * PROFILE_GROUP_FAMILY.  Only threads with samples are members, and a
 * main thread never is.
 */

/* A name's family key: the name with each run of ASCII digits as one
 * 0xff byte, except that Python's default "Thread-N (target)" keeps the
 * target's digits.  Names with equal keys are one family.  Newly
 * allocated. */
char *profile_family_key(const char *name);
/* The label of the family of names[0..n) (n >= 1, one key): the target
 * of Python's "Thread-N (target)" ("handle"), else the name with each
 * digit run the names do not all share as N ("ThreadPoolExecutor-0_N").
 * Newly allocated. */
char *profile_family_label(const char *const *names, guint n);
/* Sets the family_frame of every thread of process `process` from their
 * names and samples.  The loader calls it once a file is read, and so do
 * profile_keep_window and profile_keep_recent once they dropped samples;
 * a caller that adds or renames threads, or empties them, after that
 * calls it again.  Until then each thread is alone in its family. */
void profile_family_group(struct profile *p, guint process);

/* Returns the id of the frame, adding it if new.  Strings must come from
 * profile_intern (qualname may be NULL).  Ids start at 1; 0 is never a
 * frame.  Returns 0 only when the table is full. */
guint32 profile_frame_intern(struct profile *p, enum profile_frame_kind kind,
			     const char *filename, const char *name,
			     const char *qualname, int firstlineno, int line,
			     int thread);
/* A native frame: function `name` of the object at path `object`, at
 * `line` of `source` (NULL and -1 when unknown).  Strings from
 * profile_intern.  Its identity is (object, name, line); 0 if full. */
guint32 profile_frame_intern_native(struct profile *p, const char *object,
				    const char *name, const char *source,
				    int line);
/* "[native: unmerged]" */
guint32 profile_frame_unmerged(struct profile *p);
/* The [idle] frame for a sample with these flags: "[idle: GIL]", "[idle:
 * lock]", "[idle: sleep]", "[idle: I/O]", "[idle: child]", "[idle:
 * syscall]" where it says what it waited for, else "[idle]".  The _intern
 * form makes it (the loader's); the other only finds it. */
guint32 profile_frame_idle_intern(struct profile *p, guint32 flags);
guint32 profile_idle_frame_of(const struct profile *p, guint32 flags);
/* The synthetic "[truncated]", "[unknown]" and "[idle]" frames */
guint32 profile_frame_truncated(struct profile *p);
guint32 profile_frame_unknown(struct profile *p);
guint32 profile_frame_idle(const struct profile *p);

/* Returns the id of stack `parent` + `frame`, adding it if new; 0 only if
 * the table is full. */
guint32 profile_stack_push(struct profile *p, guint32 parent, guint32 frame);

/* Says that no more stacks or samples are coming for a while (the files
 * are read): frees what only adding them needs, before a tree is built --
 * the index profile_stack_push looks stacks up in, which is as big as the
 * stack table itself, its shortcuts, and the index of each thread's
 * aggregates.  Adding again later makes them anew. */
void profile_loaded(struct profile *p);

/* Adds a sample to thread `thread`: appends it to its timeline, or adds
 * it to its aggregate. */
void profile_add_sample(struct profile *p, guint thread, guint64 mono_ns,
			guint64 cpu_ns, guint64 wall_ns, guint32 flags,
			guint32 stack);

/* --- reading --- */

guint32 profile_n_frames(const struct profile *p); /* ids 1 .. n */
const struct profile_frame *profile_frame(const struct profile *p, guint32 id);
guint32 profile_n_stacks(const struct profile *p); /* ids 0 .. n-1 */
const struct profile_stack *profile_stack(const struct profile *p, guint32 id);

static inline struct profile_thread *profile_thread(const struct profile *p,
						    guint i)
{
	return g_ptr_array_index(p->threads, i);
}
static inline struct profile_process *profile_process(const struct profile *p,
						      guint i)
{
	return g_ptr_array_index(p->processes, i);
}

/* The weight of a sample of thread t: cpu_ns or wall_ns by its mode. */
guint64 profile_sample_weight(const struct profile *p,
			      const struct profile_thread *t,
			      const struct profile_sample *s);

/* Whether sample s of thread t was taken while the thread waited: the
 * IDLE flag, in a wall-mode process.  A CPU-mode sample stands for CPU
 * time the thread used, so it is never idle, whatever its flags say. */
static inline gboolean profile_sample_idle(const struct profile *p,
					   const struct profile_thread *t,
					   const struct profile_sample *s)
{
	return (s->flags & PROFILE_SAMPLE_IDLE) &&
	       profile_process(p, t->process)->mode == PROFILE_MODE_WALL;
}

/*
 * Wall mode: the part of sample s its thread spent waiting, its wall time
 * less the CPU time its clock counted meanwhile (0 in CPU mode).  This,
 * not the IDLE flag, is what [idle] leaves and the waiting figures add
 * up: a running sample's period holds the waits since the previous one
 * too (the GIL, a CPU), and an idle one the moments the thread ran, and
 * only the clocks know how much.  The rest is running time.
 */
static inline guint64 profile_sample_wait_ns(const struct profile *p,
					     const struct profile_thread *t,
					     const struct profile_sample *s)
{
	if (profile_process(p, t->process)->mode != PROFILE_MODE_WALL)
		return 0;
	return s->wall_ns > s->cpu_ns ? s->wall_ns - s->cpu_ns : 0;
}

/* Names of enum values, for reports: "cpu", "thread CPU timer", ... */
const char *profile_mode_name(enum profile_mode m);
const char *profile_source_name(enum profile_source s);
const char *profile_end_name(enum profile_end e);
/* Name of a dropped[] index ("full", "busy", ...), NULL if unassigned. */
const char *profile_drop_name(guint i);

/* --- the call tree --- */

enum profile_group {
	PROFILE_GROUP_THREAD = 0, /* one root per thread of each process */
	PROFILE_GROUP_NAME,       /* threads of the same name merged */
	PROFILE_GROUP_ALL,        /* one root, "all threads" */
	PROFILE_GROUP_PROCESS,    /* one root per process id */
	PROFILE_GROUP_FAMILY,     /* one root per family of threads (see
				   * profile_family_group), a thread alone
				   * in its family as itself; the reports'
				   * default */
};

struct profile_tree_options {
	enum profile_group group;
	/* When set, frames for which it returns TRUE are left out; their
	 * weight goes to the nearest kept caller. */
	gboolean (*hide)(const struct profile *p, guint32 frame, gpointer data);
	gpointer hide_data;
	/* When set (it takes the place of hide): called once per frame id,
	 * the answer cached; returns 0 to keep the frame, PROFILE_TREE_HIDDEN
	 * to leave it out as hide does, or the id of a PROFILE_FRAME_GROUP
	 * frame to show instead.  Consecutive frames of one group (hidden
	 * frames between them do not count) become one node. */
	guint32 (*classify)(const struct profile *p, guint32 frame, gpointer data);
	gpointer classify_data;
	/* When classify answers PROFILE_TREE_CONTEXTUAL for a frame (its
	 * verdict depends on what called it): the verdict on the leaf frame
	 * of `stack`, a stack that ends in that frame, with classify_data;
	 * asked once per stack and thread.  Without it such a frame is
	 * kept. */
	guint32 (*classify_stack)(const struct profile *p, guint32 stack,
				  gpointer data);
	/* Leave out the idle samples (profile_sample_idle): the tree, its
	 * totals and its shares are then running time only.  Otherwise
	 * each idle sample counts in an [idle] leaf below its stack. */
	gboolean no_idle;
};

#define PROFILE_TREE_HIDDEN 0xffffffffu
#define PROFILE_TREE_CONTEXTUAL 0xfffffffdu

/* Whether a tree built with opts (may be NULL) counts sample s of thread
 * t as a sample (its count): all but the idle ones when opts->no_idle is
 * set.  Their running time still counts (profile_sample_wait_ns). */
static inline gboolean profile_tree_counts(const struct profile_tree_options *opts,
					   const struct profile *p,
					   const struct profile_thread *t,
					   const struct profile_sample *s)
{
	return !(opts && opts->no_idle && profile_sample_idle(p, t, s));
}

/* The time thread t stands for in a tree built with opts (may be NULL):
 * its CPU time in CPU mode, its wall time in wall mode, less the time it
 * waited when opts->no_idle leaves that out. */
static inline guint64 profile_thread_tree_ns(const struct profile_tree_options *opts,
					     const struct profile *p,
					     const struct profile_thread *t)
{
	if (profile_process(p, t->process)->mode != PROFILE_MODE_WALL)
		return t->cpu_ns;
	return opts && opts->no_idle ? t->wall_ns - t->idle_ns : t->wall_ns;
}

/* A stem of plumbing frames removed from above a thread's first frame
 * (collector/trim.h), for renderers to mention. */
struct profile_trim {
	guint32 node;     /* the thread node (level 1) it was removed from */
	guint32 n_frames;
	char *first, *last; /* spelled "label (module)"; equal if n_frames 1 */
};

/* 48 bytes: a tree of a profile where nearly every sample is a new stack
 * has a node for each of them (bench/README.md).  What only some nodes
 * have lives beside the nodes (tree->repeat, tree->lines); a node's depth
 * is its parents' count (profile_tree_depth), its children are a slice
 * of tree->children up to the next node's (profile_tree_children). */
struct profile_node {
	guint32 frame;       /* 0 for the root */
	guint32 parent;      /* 0 for the root and thread nodes */
	int thread;          /* thread index, -1 when grouped */
	guint32 first_child; /* where its slice of tree->children begins */
	guint64 self_ns, total_ns;
	guint64 self_samples, total_samples;
};

/* Where a function's time was, by line (its frame at that line): the time
 * of its node at that line, its callees' included */
struct profile_line {
	guint32 node, frame;
	guint64 ns;
};

/* A node of the tree as profile_tree_build made it, and the node of this
 * (maybe reshaped) tree it now counts in: what lets the renderers of
 * timelines walk samples the builder's way (profile_walk) after trimming
 * and folding.  Built ids are the indices of tree->built. */
struct profile_built {
	guint32 parent, frame; /* of the built tree */
	guint32 node;          /* of this tree */
};

struct profile_tree {
	const struct profile *profile;
	GArray *nodes;    /* of struct profile_node; node 0 is the root */
	GArray *children; /* of guint32 node ids, each node's a slice */
	GPtrArray *trims; /* of struct profile_trim *, owned; may be empty */
	GArray *lines;    /* of struct profile_line, by node, each node's
			   * heaviest first (profile_tree_lines); may be
			   * empty */
	/* of guint32 by node: the recursion folded into it (shape_fold), the
	 * depth of the deepest chain of it calling itself, 0 none; NULL
	 * when none was (profile_tree_repeat) */
	GArray *repeat;
	GArray *built;    /* of struct profile_built; NULL when the profile
			   * keeps no timelines (nothing walks samples then) */
};

/* A reshaping stage made t's nodes anew: node `old` of the tree before is
 * now map[old].  Keeps t->built and t->trims pointing right. */
void profile_tree_remap(struct profile_tree *t, const guint32 *map);

/* Builds the call tree of every sample in p (opts may be NULL). */
struct profile_tree *profile_tree_build(const struct profile *p,
					const struct profile_tree_options *opts);
void profile_tree_free(struct profile_tree *t);

/* One function's times in a tree (its nodes under one node, summed) */
struct profile_function_total {
	guint32 function;       /* the function's frame (line -1) */
	guint32 line_frame;     /* its frame at its hottest line */
	guint64 line_self_ns;   /* that line's own time */
	guint64 self_ns;        /* its own time */
	guint64 total_ns;       /* with its callees, recursion counted once */
	guint active;           /* private: its nodes on the walk's path */
};
/* The functions of the nodes below node `under` (0: the whole tree),
 * unsorted: a GPtrArray of struct profile_function_total *, owning them. */
GPtrArray *profile_tree_functions(const struct profile_tree *t, guint32 under);

/*
 * The walk from a sample's stack to the node it counts in, as
 * profile_tree_build() walks it: the builder makes the nodes on the way,
 * renderers of timelines find them in the finished (hidden, trimmed) tree
 * (render/emit.h), so that both place a sample alike.  Each frame gets the
 * verdict of opts (may be NULL) once, a contextual one once per stack;
 * each stack is resolved once per thread.
 */

/* The child of node `parent` for frame `frame`; 0 when there is none (a
 * frame trimmed away: the walk stays at parent). */
typedef guint32 (*profile_walk_child_fn)(gpointer data, guint32 parent,
					 guint32 frame);

/* A stack resolved lately: its node, if epoch is the thread's */
struct profile_walk_stack {
	guint32 stack, epoch, node;
};

struct profile_walk {
	/* private (tree.c) */
	const struct profile *p;
	const struct profile_tree *t;
	const struct profile_tree_options *opts;
	profile_walk_child_fn child;
	gpointer data;
	/* a cache of stacks resolved, by a hash of their id: a stack's
	 * callers were nearly always resolved just before it, and a memo of
	 * every stack would be 8 bytes a stack where stacks are millions */
	struct profile_walk_stack *stacks;
	guint32 cur_epoch, top;
	GArray *scratch;  /* stack ids awaiting a node */
	guint32 *verdict; /* frame id -> the answer of opts->classify (or
			   * hide), or not asked yet */
	/* public: when set, node ids are t->built's (the tree as built),
	 * not t's own */
	gboolean built;
};

/* A walk over the stacks of p into tree t (which may still be growing);
 * profile_walk_release() frees what it holds. */
void profile_walk_init(struct profile_walk *w, const struct profile *p,
		       const struct profile_tree *t,
		       const struct profile_tree_options *opts,
		       profile_walk_child_fn child, gpointer data);
void profile_walk_release(struct profile_walk *w);
/* Starts on the samples of another thread, whose root node is top. */
void profile_walk_thread(struct profile_walk *w, guint32 top);
/* The node of stack `stack` for the current thread: top for stack 0. */
guint32 profile_walk_node(struct profile_walk *w, guint32 stack);

/* For stages that reshape a tree (trim.c): recomputes every node's totals
 * from the self weights, the children slices and their order.  Only
 * nodes' frame, parent (smaller than the node's id), thread and self
 * weights are read. */
void profile_tree_finish(struct profile_tree *t);

static inline const struct profile_node *
profile_tree_node(const struct profile_tree *t, guint32 id)
{
	return &g_array_index(t->nodes, struct profile_node, id);
}
/* The children of node id, heaviest first (ties: by label, file, line);
 * *n set to their count. */
static inline const guint32 *profile_tree_children(const struct profile_tree *t,
						    guint32 id, guint32 *n)
{
	guint32 from = profile_tree_node(t, id)->first_child;
	guint32 to = id + 1 < t->nodes->len ? profile_tree_node(t, id + 1)->first_child
					    : t->children->len;
	*n = to - from;
	return &g_array_index(t->children, guint32, from);
}

/* 0 for the root, 1 for a thread or group node, 2 for its top frame... */
static inline guint32 profile_tree_depth(const struct profile_tree *t, guint32 id)
{
	guint32 d = 0;

	for (; id; id = profile_tree_node(t, id)->parent)
		d++;
	return d;
}

/* The recursion folded into node id (shape_fold): see tree->repeat */
static inline guint32 profile_tree_repeat(const struct profile_tree *t, guint32 id)
{
	return t->repeat && id < t->repeat->len ? g_array_index(t->repeat, guint32, id) : 0;
}

/* A node of one function for all its lines (shape_functions): its lines,
 * heaviest first, *n of them; *n 0 if the node's frame has its line
 * itself. */
const struct profile_line *profile_tree_lines(const struct profile_tree *t,
					      guint32 id, guint32 *n);

#endif
