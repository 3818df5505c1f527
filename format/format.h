/*
 * format.h - the bytes of a .pyprof file, and nothing else.
 *
 * This header is the specification; man/pyprof-format.5 says the same in
 * prose.  The writer (format/write.c, called from a signal handler) and the
 * reader (format/read.c, called from the collector) are the only code that
 * knows these bytes.
 *
 * The one idea: a file is a fixed header followed by fixed-size chunks, each
 * owned by exactly one thread of the profiled process at a time.  A thread
 * appends records to its own chunk without locks; claiming a new chunk is
 * one atomic add on the header.  A thread that ends hands the unused rest of
 * its chunk on (2.0): a new thread takes it over and marks where with a
 * PF_REC_SEGMENT record, so a thread costs the file what it records, not a
 * whole chunk.  A record is committed by storing its first word last
 * (release order), and a zero first word means "nothing committed after
 * this point".  So every prefix of the writing process's life - including a
 * SIGKILL at any instant - leaves a file whose committed records all decode.
 *
 * Layout (all integers little-endian; the writer stores them natively and
 * byte_order lets a reader refuse a big-endian file):
 *
 *   offset 0                    struct pf_header (header_size bytes)
 *   header_size + i*chunk_size  chunk i, i = 0 .. chunks_claimed-1
 *
 * magic, version_major/minor and byte_order keep their offsets (0, 8, 12)
 * in every version, so any reader can refuse a file it does not know.
 * A chunk is claimed before its space is allocated, so the file may end
 * before a claimed chunk (a writer mid-claim, or a full disk): such a
 * chunk is simply absent, like one with a zero magic.  The command line
 * holds cmdline_len bytes; arguments may be empty.
 *
 * A chunk starts with struct pf_chunk_header; its records follow at offset
 * PF_CHUNK_HEADER_SIZE, each 4-byte aligned:
 *
 *   u32 head = type | (length << 8)   length counts the head itself and the
 *                                     body, not the padding to 4 bytes
 *   body (length - 4 bytes)
 *
 * A reader skips record types it does not know by their length.  Every chunk
 * opens with a PF_REC_THREAD record, so a chunk decodes on its own: the
 * time baselines for the deltas in PF_REC_SAMPLE and the "previous stack"
 * that a sample shares frames with both restart at each chunk.  A
 * PF_REC_SEGMENT record ends the records of the chunk's thread so far; what
 * follows it belongs to the thread it names, as if it were a chunk of that
 * thread's of its own (opening with a PF_REC_THREAD record too).  Only string
 * and code ids cross chunks: they are process-wide, and a record that uses
 * an id is always written after the record that defines it has committed.
 *
 * Variable-length integers ("varint") are unsigned LEB128: 7 bits per byte,
 * least significant group first, high bit set on every byte but the last;
 * at most 10 bytes.
 */
#ifndef PYPROF_FORMAT_H
#define PYPROF_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#define PF_MAGIC "\x7fPYPROF\n"
#define PF_MAGIC_LEN 8
#define PF_VERSION_MAJOR 2 /* a reader refuses a major it does not know */
#define PF_VERSION_MAJOR_MIN 1 /* the oldest it reads: 1 has no segments */
#define PF_VERSION_MINOR 4 /* a reader accepts a newer minor; 1 adds
			    * native frames (PF_REC_NATIVE, PF_REC_OBJECT),
			    * 2 the starting directory and the executable,
			    * 3 rotation: the file's number in its run and
			    * the run's start, end reason ROTATE,
			    * 4 repeated samples (PF_SAMPLE_REPEAT) */
#define PF_BYTE_ORDER 0x01020304u

#define PF_HEADER_SIZE 4096u
#define PF_CHUNK_SIZE 65536u
#define PF_CHUNK_HEADER_SIZE 16u
#define PF_CHUNK_MAGIC 0x4b4e4843u /* "CHNK" */
#define PF_CMDLINE_MAX (PF_HEADER_SIZE - 1024u)

/* Deepest stack recorded in one sample.  Deeper stacks keep their leaf-most
 * PF_MAX_DEPTH frames and carry PF_SAMPLE_TRUNCATED. */
#define PF_MAX_DEPTH 2048

/* pf_header.state */
enum pf_state {
	PF_STATE_WRITING = 0,  /* still being written, or the writer died */
	PF_STATE_COMPLETE = 1, /* the writer finished it */
};

/* pf_header.end_reason, meaningful once state is COMPLETE */
enum pf_end_reason {
	PF_END_NONE = 0,
	PF_END_EXIT = 1,   /* exit() or return from main */
	PF_END__EXIT = 2,  /* _exit(), e.g. os._exit() */
	PF_END_SIGNAL = 3, /* a fatal signal; end_signal says which */
	PF_END_EXEC = 4,   /* the process image was replaced by exec */
	PF_END_STOP = 5,   /* stopped through the control API */
	PF_END_ROTATE = 6, /* 2.3: rotated; the run goes on in the file
			    * numbered sequence + 1 */
};

enum pf_mode {
	PF_MODE_CPU = 1,  /* each thread sampled on its own CPU-time clock */
	PF_MODE_WALL = 2, /* each thread sampled on wall-clock time */
};

/* pf_header.source: what raised the sampling signal */
enum pf_source {
	PF_SOURCE_NONE = 0,
	PF_SOURCE_THREAD_CPU_TIMER = 1, /* timer_create(CLOCK_THREAD_CPUTIME_ID):
					 * tick-driven, at most CONFIG_HZ/s */
	PF_SOURCE_PERF_TASK_CLOCK = 2,  /* perf_event task-clock per thread:
					 * precise, dearer per signal */
};

/* pf_header.dropped[] indexes: why a sample was not written.  Every signal
 * the handler takes ends as exactly one sample or one drop. */
enum pf_drop {
	PF_DROP_FULL = 0,       /* size bound or disk space reached */
	PF_DROP_BUSY = 1,       /* thread was inside pyprof's own code */
	PF_DROP_NO_PYTHON = 2,  /* thread has no Python thread state */
	PF_DROP_FINALIZING = 3, /* interpreter shutting down */
	PF_DROP_BAD_STACK = 4,  /* frame chain failed validation */
	PF_DROP_CODE_TABLE = 5, /* code/string intern table full */
	PF_DROP_NO_THREAD = 6,  /* no per-thread state (thread pyprof missed) */
	PF_DROP_COUNT = 16,
};

/* pf_header.flags */
#define PF_FLAG_CMDLINE_TRUNCATED 0x1u
#define PF_FLAG_PY_STATIC 0x2u   /* libpython linked into the executable */
#define PF_FLAG_NATIVE 0x4u      /* 2.1: native stacks recorded (PYPROF_NATIVE) */

struct pf_header {
	char magic[8];               /* 0   PF_MAGIC */
	uint16_t version_major;      /* 8 */
	uint16_t version_minor;      /* 10 */
	uint32_t byte_order;         /* 12  PF_BYTE_ORDER */
	uint32_t header_size;        /* 16  PF_HEADER_SIZE */
	uint32_t chunk_size;         /* 20  PF_CHUNK_SIZE */
	uint64_t max_size;           /* 24  the writer never grows past this */
	uint32_t chunks_claimed;     /* 32  atomic; chunks in use (some may be
				      *     zero if their space could not be had) */
	uint32_t state;              /* 36  enum pf_state */
	uint32_t end_reason;         /* 40  enum pf_end_reason */
	uint32_t end_signal;         /* 44  with PF_END_SIGNAL */
	uint32_t mode;               /* 48  enum pf_mode */
	uint32_t source;             /* 52  enum pf_source */
	uint64_t interval_ns;        /* 56  asked-for sampling interval */
	int32_t pid;                 /* 64 */
	int32_t ppid;                /* 68 */
	uint64_t start_realtime_ns;  /* 72  CLOCK_REALTIME at start */
	uint64_t start_monotonic_ns; /* 80  CLOCK_MONOTONIC at start */
	uint64_t end_monotonic_ns;   /* 88  at finish; 0 while writing */
	uint32_t py_hexversion;      /* 96  PY_VERSION_HEX of the target */
	uint32_t flags;              /* 100 PF_FLAG_* */
	char py_version[64];         /* 104 Py_GetVersion(), NUL-terminated */
	uint64_t signals;            /* 168 atomic; handler entries */
	uint64_t samples;            /* 176 atomic; samples committed */
	uint64_t dropped[PF_DROP_COUNT]; /* 184 atomic; enum pf_drop */
	char hostname[64];           /* 312 NUL-terminated */
	uint32_t cmdline_len;        /* 376 bytes used in cmdline[] */
	uint32_t reserved0;          /* 380 */
	char cwd[256];               /* 384 2.2: the directory the process
				      *     started in, NUL-terminated; "" if
				      *     unknown or longer */
	char exe[256];               /* 640 2.2: the executable's real path,
				      *     likewise */
	uint32_t sequence;           /* 896 2.3: this file's number in its run
				      *     (PYPROF_ROTATE), from 1; 0 when
				      *     the run is one file */
	uint32_t reserved1;          /* 900 */
	uint64_t run_start_realtime_ns; /* 904 2.3: start_realtime_ns of the
				      *     run's first file: with pid and
				      *     hostname, what ties a run's files
				      *     together; 0 when not rotated */
	uint8_t reserved[1024 - 912];/* 912 zero */
	char cmdline[PF_CMDLINE_MAX];/* 1024 argv, each NUL-terminated */
};

struct pf_chunk_header {
	uint32_t magic;  /* PF_CHUNK_MAGIC; stored last: zero = unused chunk */
	uint32_t thread; /* process-wide thread serial, from 1 */
	uint32_t tid;    /* native thread id */
	uint32_t seq;    /* this thread's chunk number, from 0 */
};

/* Record types */
enum pf_record_type {
	PF_REC_THREAD = 1,
	PF_REC_STRING = 2,
	PF_REC_CODE = 3,
	PF_REC_SAMPLE = 4,
	PF_REC_THREAD_NAME = 5,
	PF_REC_MARK = 6,
	PF_REC_SEGMENT = 7,
	PF_REC_NATIVE = 8,  /* 2.1 */
	PF_REC_OBJECT = 9,  /* 2.1 */
};

/*
 * PF_REC_NATIVE (2.1): a frame id that names a native instruction address
 * instead of a code object.  Ids are drawn from the code ids (one space),
 * once per process and address, and a sample's frame with this id is a
 * native frame (its lasti_plus_1 is 0 and means nothing).  Body:
 *   u32 id
 *   u32 flags          0
 *   u64 address        the one to look up: the interrupted instruction for
 *                      the leaf-most native frame of a sample, a return
 *                      address less one for the others
 * Which object holds the address, the PF_REC_OBJECT records say.
 */
struct pf_rec_native {
	uint32_t id;
	uint32_t flags;
	uint64_t address;
};

/*
 * PF_REC_OBJECT (2.1): an object (executable, shared library) the process
 * had loaded, written at start and whenever the set of loaded objects
 * changed; in any thread's chunk.  Of two records whose ranges overlap,
 * the one with the later mono_ns is the object mapped there since.  Body:
 *   u64 mono_ns        when it was seen loaded
 *   u64 bias           load bias: an address is bias + the ELF vaddr
 *   u64 lo, hi         its executable segments span [lo, hi)
 *   u32 path_len       bytes of path after the fixed part
 *   u32 build_id_len   bytes of NT_GNU_BUILD_ID after the path (may be 0)
 *   path, build-id     path as the loader has it; the executable's is the
 *                      resolved /proc/self/exe; "[vdso]" for the vDSO
 */
struct pf_rec_object {
	uint64_t mono_ns;
	uint64_t bias;
	uint64_t lo, hi;
	uint32_t path_len;
	uint32_t build_id_len;
};

/*
 * PF_REC_SEGMENT (2.0): the rest of this chunk is another thread's, taken
 * over when the chunk's thread ended; a chunk may hold several.  Body:
 *   u32 thread, tid, seq   as in struct pf_chunk_header, for what follows
 * The next record is that thread's PF_REC_THREAD.
 */
struct pf_rec_segment {
	uint32_t thread;
	uint32_t tid;
	uint32_t seq;
};

/*
 * PF_REC_THREAD: opens every chunk.
 *   u32 flags            PF_THREAD_*
 *   u32 name_len         bytes of name that follow the fixed part
 *   u64 base_mono_ns     CLOCK_MONOTONIC baseline for the first sample's dt
 *   u64 base_cpu_ns      thread CPU-clock baseline for the first sample's dcpu
 *   u64 pthread          pthread_self(), to tell reused tids apart
 *   name_len bytes       thread name, UTF-8, not NUL-terminated (may be 0)
 */
#define PF_THREAD_MAIN 0x1u
struct pf_rec_thread {
	uint32_t flags;
	uint32_t name_len;
	uint64_t base_mono_ns;
	uint64_t base_cpu_ns;
	uint64_t pthread;
};

/*
 * PF_REC_STRING: one string, interned by content, once per process.
 *   u32 id               from 1; 0 means "no string"
 *   bytes                UTF-8 (length - 8 bytes)
 */

/*
 * PF_REC_CODE: one code object, once per process (per distinct object).
 *   u32 id               from 1
 *   u32 filename         string id
 *   u32 name             string id (co_name)
 *   u32 qualname         string id (co_qualname, 3.11+), 0 when absent
 *   i32 firstlineno
 *   u32 flags            PF_CODE_*
 *   bytes                the code's raw line table, as the interpreter keeps
 *                        it (co_lnotab 3.8-3.9, co_linetable 3.10+); its
 *                        encoding follows from pf_header.py_hexversion
 */
#define PF_CODE_LINETABLE_TRUNCATED 0x1u
/* The bytes are not the interpreter's table but, in a packed file's
 * records (pack.h), the lines of the offsets its samples name, where that
 * is smaller: struct pf_line_pair each, ascending by lasti; an offset
 * not among them has no line known (-1).  The preload never writes it. */
#define PF_CODE_LINE_PAIRS 0x2u
struct pf_line_pair {
	int32_t lasti; /* byte offset of the instruction, >= 0 */
	int32_t line;  /* its line, or -1 */
};
struct pf_rec_code {
	uint32_t id;
	uint32_t filename;
	uint32_t name;
	uint32_t qualname;
	int32_t firstlineno;
	uint32_t flags;
};

/*
 * PF_REC_SAMPLE: one sample of the chunk's thread.  Body, all varints:
 *   dt_ns       CLOCK_MONOTONIC now minus the previous sample's (or the
 *               chunk's PF_REC_THREAD base_mono_ns for the first)
 *   dcpu_ns     thread CPU time since the previous sample (or base_cpu_ns):
 *               the CPU time this sample stands for
 *   flags       PF_SAMPLE_*
 *   shared      frames, counted from the root, equal to the previous
 *               sample's in this chunk (0 for the first)
 *   count       new frames that follow, root-most first
 *   count x { code_id, lasti_plus_1 }
 *               lasti_plus_1 = 1 + (offset in bytes of the instruction being
 *               executed) / 2; 0 means "not started" (lasti -1)
 *   repeats     with PF_SAMPLE_REPEAT only (2.4)
 * The sample's stack is the previous stack's first `shared` frames followed
 * by the `count` new ones; depth = shared + count <= PF_MAX_DEPTH.  A
 * code_id of 0 stands for a frame whose code could not be interned.
 */
#define PF_SAMPLE_GIL 0x1u       /* thread held the GIL */
#define PF_SAMPLE_TRUNCATED 0x2u /* root-side frames beyond PF_MAX_DEPTH lost */
#define PF_SAMPLE_IDLE 0x4u      /* wall mode: thread was waiting */
/* No sample: dt_ns and dcpu_ns are time that no sample stands for (a
 * dropped sample, recording paused).  Written so that a reader's clock,
 * which adds up the deltas, stays right; shared is the previous depth
 * and count 0, so the stack carries on.  Readers count nothing for it. */
#define PF_SAMPLE_GAP 0x8u
/* 2.1, native mode: the native stack could not be merged with the Python
 * frames (it ended early, or its eval-loop calls did not pair with the
 * Python runs): the frames are the Python stack alone, never a guess */
#define PF_SAMPLE_UNMERGED 0x10u
/* 2.1, wall mode: what the thread waited for in the time the sample stands
 * for that it was not on CPU (all of it with PF_SAMPLE_IDLE), from the
 * system call it was seen blocked in; 0 when not known */
#define PF_SAMPLE_WAIT_SHIFT 5
#define PF_SAMPLE_WAIT_MASK (7u << PF_SAMPLE_WAIT_SHIFT)
/* 2.4, wall mode: the record stands for 1 + repeats samples in a row of
 * one stack, taken at ticks at which the thread had not run since (its CPU
 * clock had not moved), which the writer kept back and wrote as one: dt
 * and dcpu are their total, and repeats, a varint, follows the frames.  A
 * reader gives them out as 1 + repeats samples, the time spread evenly;
 * a 2.3 reader skips the field and sees one sample of all the time.  A
 * waiting thread costs the file a record a second, not one a tick. */
#define PF_SAMPLE_REPEAT 0x100u
/* Most repeats one record carries: a writer writes a run out before */
#define PF_SAMPLE_REPEATS_MAX 1024u
enum pf_wait {
	PF_WAIT_UNKNOWN = 0,
	PF_WAIT_GIL = 1,   /* a futex of the interpreter's GIL */
	PF_WAIT_LOCK = 2,  /* any other futex: a lock, a condition, a queue */
	PF_WAIT_SLEEP = 3, /* nanosleep, clock_nanosleep */
	PF_WAIT_IO = 4,    /* read, write, poll, select, epoll, accept, ... */
	PF_WAIT_CHILD = 5, /* wait4, waitid */
	PF_WAIT_OTHER = 6, /* another system call */
};

/*
 * PF_REC_THREAD_NAME: a Python thread name learned at mono_ns, for the
 * thread of this process with native id tid (and pthread_self() ==
 * pthread).  It may sit in any thread's chunk.  Where a tid was reused,
 * it names the latest such thread that started before mono_ns; of
 * several names for one thread, the latest mono_ns wins (a rename).
 *   u32 tid
 *   u32 name_len
 *   u64 pthread
 *   u64 mono_ns
 *   name_len bytes, UTF-8
 */
struct pf_rec_thread_name {
	uint32_t tid;
	uint32_t name_len;
	uint64_t pthread;
	uint64_t mono_ns;
};

/*
 * PF_REC_MARK: a point in time named through the control API
 * (libpyprof(7)): pyprof_start/pyprof_stop/pyprof_mark.  In the chunk of
 * the thread that called it.
 *   u64 mono_ns
 *   u32 kind            PF_MARK_*
 *   u32 label_len
 *   label_len bytes, UTF-8
 */
enum pf_mark_kind {
	PF_MARK_START = 1, /* recording of a window begins */
	PF_MARK_STOP = 2,  /* and ends */
	PF_MARK_POINT = 3, /* a labelled instant */
};
struct pf_rec_mark {
	uint64_t mono_ns;
	uint32_t kind;
	uint32_t label_len;
};

/* Largest varint, in bytes */
#define PF_VARINT_MAX 10

static inline size_t pf_align4(size_t n) { return (n + 3u) & ~(size_t)3u; }

static inline uint32_t pf_head_make(unsigned type, uint32_t length)
{
	return (uint32_t)type | (length << 8);
}
static inline unsigned pf_head_type(uint32_t head) { return head & 0xffu; }
static inline uint32_t pf_head_length(uint32_t head) { return head >> 8; }

/* Encodes v at p; returns bytes written (1..10).  p must have room. */
static inline size_t pf_varint_put(uint8_t *p, uint64_t v)
{
	size_t n = 0;
	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

/* Decodes a varint from [*p, end).  Returns 0 and advances *p, or -1 if
 * the input ends first or the varint is longer than 10 bytes / 64 bits. */
static inline int pf_varint_get(const uint8_t **p, const uint8_t *end,
				uint64_t *out)
{
	uint64_t v = 0;
	unsigned shift = 0;
	const uint8_t *q = *p;
	while (q < end) {
		uint8_t b = *q++;
		if (shift == 63 && b > 1)
			return -1;
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*p = q;
			*out = v;
			return 0;
		}
		shift += 7;
		if (shift > 63)
			return -1;
	}
	return -1;
}

_Static_assert(sizeof(struct pf_header) == PF_HEADER_SIZE, "header size");
_Static_assert(offsetof(struct pf_header, dropped) == 184, "dropped");
_Static_assert(offsetof(struct pf_header, hostname) == 312, "hostname");
_Static_assert(offsetof(struct pf_header, cwd) == 384, "cwd");
_Static_assert(offsetof(struct pf_header, exe) == 640, "exe");
_Static_assert(offsetof(struct pf_header, sequence) == 896, "sequence");
_Static_assert(offsetof(struct pf_header, run_start_realtime_ns) == 904, "run");
_Static_assert(offsetof(struct pf_header, cmdline) == 1024, "cmdline");
_Static_assert(sizeof(struct pf_chunk_header) == PF_CHUNK_HEADER_SIZE, "chunk");
_Static_assert(sizeof(struct pf_rec_thread) == 32, "thread record");
_Static_assert(sizeof(struct pf_rec_segment) == 12, "segment record");
_Static_assert(sizeof(struct pf_rec_code) == 24, "code record");
_Static_assert(sizeof(struct pf_rec_thread_name) == 24, "thread name record");
_Static_assert(sizeof(struct pf_rec_mark) == 16, "mark record");
_Static_assert(sizeof(struct pf_rec_native) == 16, "native record");
_Static_assert(sizeof(struct pf_rec_object) == 40, "object record");

#endif
