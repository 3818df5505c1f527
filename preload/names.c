/*
 * names.c - Python thread names, learned from the threading module.
 *
 * A thread's name (threading.Thread.name) lives in a Python object that
 * nothing in the thread state points to, so the signal handler cannot read
 * it.  Instead, when a thread starts or ends, pyprof asks the interpreter
 * to run a small C callback at its next safe point (Py_AddPendingCall: no
 * GIL or thread state needed to ask; the callback runs in the main thread
 * holding the GIL).  The callback walks threading._active and writes a
 * PF_REC_THREAD_NAME record for every thread whose name it has not written
 * yet, so renames are seen too, at the next start or end of a thread.
 *
 * What it costs the target: one callback per thread start or end, at most
 * one queued at a time, running a dictionary walk in the main thread.  It
 * calls only functions that take no lock of the program's and raise
 * nothing it could see: every error is cleared and the exception state the
 * program had is restored.  A thread that starts and ends between two
 * callbacks keeps its native id as its name.
 */
#include "config.h"

#include <dlfcn.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "encode.h"
#include "names.h"
#include "sampler.h"

typedef void PyObject;
typedef intptr_t Py_ssize_t;

static struct {
	int (*AddPendingCall)(int (*)(void *), void *);
	PyObject *(*GetModuleDict)(void);
	PyObject *(*DictGetItemString)(PyObject *, const char *);
	int (*DictNext)(PyObject *, Py_ssize_t *, PyObject **, PyObject **);
	PyObject *(*GetAttrString)(PyObject *, const char *);
	const char *(*AsUTF8AndSize)(PyObject *, Py_ssize_t *);
	unsigned long long (*AsUnsignedLongLong)(PyObject *);
	void (*DecRef)(PyObject *);
	void (*ErrFetch)(PyObject **, PyObject **, PyObject **);
	void (*ErrRestore)(PyObject *, PyObject *, PyObject *);
	void (*ErrClear)(void);
} py;

static const struct py_layout *layout;
static int pending; /* a callback is queued */
/* Bumped when a rotated run moves to its next file: every name is
 * written again there (names_forget) */
static uint32_t epoch;

/* The last name written per native id, to write each name once: a hash
 * of it, direct-mapped by tid.  Written only by the callback (GIL held). */
#define SEEN 4096
static struct {
	uint32_t tid;
	uint32_t epoch;
	uint64_t hash;
} seen[SEEN];

int names_init(const struct py_layout *L)
{
#define SYM(field, name) \
	if (!(*(void **)&py.field = dlsym(RTLD_DEFAULT, name))) \
		return -1
	SYM(AddPendingCall, "Py_AddPendingCall");
	SYM(GetModuleDict, "PyImport_GetModuleDict");
	SYM(DictGetItemString, "PyDict_GetItemString");
	SYM(DictNext, "PyDict_Next");
	SYM(GetAttrString, "PyObject_GetAttrString");
	SYM(AsUTF8AndSize, "PyUnicode_AsUTF8AndSize");
	SYM(AsUnsignedLongLong, "PyLong_AsUnsignedLongLong");
	SYM(DecRef, "Py_DecRef");
	SYM(ErrFetch, "PyErr_Fetch");
	SYM(ErrRestore, "PyErr_Restore");
	SYM(ErrClear, "PyErr_Clear");
#undef SYM
	layout = L;
	return 0;
}

void names_reset(void)
{
	pending = 0;
	memset(seen, 0, sizeof seen);
}

static uint64_t hash_name(const char *s, size_t n, uint64_t pthread)
{
	uint64_t h = 0xcbf29ce484222325ull ^ pthread;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)s[i]) * 0x100000001b3ull;
	return h | 1; /* never 0, the empty slot */
}

/* 1 if a record was written, 0 if the name was written already or could
 * not be */
static int write_name(uint32_t tid, uint64_t pthread, const char *name,
		      size_t len)
{
	struct pf_rec_thread_name rec;
	uint8_t body[sizeof rec + 256];
	struct timespec ts;
	uint64_t h;

	if (len > sizeof body - sizeof rec)
		len = sizeof body - sizeof rec;
	uint32_t e = __atomic_load_n(&epoch, __ATOMIC_ACQUIRE);

	h = hash_name(name, len, pthread);
	if (seen[tid % SEEN].tid == tid && seen[tid % SEEN].hash == h &&
	    seen[tid % SEEN].epoch == e)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	rec.tid = tid;
	rec.name_len = (uint32_t)len;
	rec.pthread = pthread;
	rec.mono_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	if (sampler_write_record(PF_REC_THREAD_NAME, body,
				 pf_put_thread_name(body, &rec, name)) == 0) {
		seen[tid % SEEN].tid = tid;
		seen[tid % SEEN].hash = h;
		seen[tid % SEEN].epoch = e;
		return 1;
	}
	return 0;
}

/* Names the threads of one of threading's dicts; returns how many are
 * still starting (no native id yet), and counts in *wrote the names
 * written. */
static int name_threads(PyObject *threading, const char *dict, int *wrote)
{
	PyObject *d = py.GetAttrString(threading, dict), *key, *thread;
	Py_ssize_t pos = 0;
	int starting = 0;

	while (d && py.DictNext(d, &pos, &key, &thread)) {
		PyObject *name = py.GetAttrString(thread, "_name");
		PyObject *nid = py.GetAttrString(thread, "_native_id");
		PyObject *ident = py.GetAttrString(thread, "_ident");
		unsigned long long tid = nid ? py.AsUnsignedLongLong(nid) : 0;
		unsigned long long id = ident ? py.AsUnsignedLongLong(ident) : 0;
		Py_ssize_t len = 0;
		const char *s = name ? py.AsUTF8AndSize(name, &len) : NULL;

		/* a thread still starting has _native_id None: -1 here */
		if (s && tid && tid < 0xffffffffull && id != (unsigned long long)-1)
			*wrote += write_name((uint32_t)tid, id, s, (size_t)len);
		else
			starting++;
		if (name)
			py.DecRef(name);
		if (nid)
			py.DecRef(nid);
		if (ident)
			py.DecRef(ident);
		py.ErrClear();
	}
	if (d)
		py.DecRef(d);
	py.ErrClear();
	return starting;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Runs in the main thread with the GIL held, between two bytecodes. */
static int refresh(void *arg)
{
	static uint64_t starting_since;
	PyObject *et, *ev, *tb, *threading;
	int starting = 0, wrote = 0;

	(void)arg;
	__atomic_store_n(&pending, 0, __ATOMIC_RELEASE);
	if (pyintro_finalizing(layout))
		return 0;
	py.ErrFetch(&et, &ev, &tb);
	threading = py.DictGetItemString(py.GetModuleDict(), "threading");
	if (threading) {
		/* _limbo: started, not yet in _active; the new thread sets
		 * its native id before it moves over */
		starting += name_threads(threading, "_limbo", &wrote);
		starting += name_threads(threading, "_active", &wrote);
	}
	py.ErrClear();
	py.ErrRestore(et, ev, tb);
	/* A thread that has not reached Python yet: look again at the next
	 * safe point rather than wait for the next thread to start or end.
	 * A start takes well under a millisecond, more on a loaded machine;
	 * give up after 200 ms without a name learned (a thread stuck before
	 * its bootstrap) so the callbacks stop.  A program that starts
	 * threads all the time has one starting at nearly every look: each
	 * name learned starts the 200 ms again, or a thread starting as the
	 * looks stopped might end before the next start asks again. */
	if (!starting) {
		starting_since = 0;
	} else {
		if (!starting_since || wrote)
			starting_since = mono_ns();
		if (mono_ns() - starting_since < 200000000u)
			names_request();
	}
	return 0;
}

void names_request(void)
{
	int expect = 0;

	/* After finalization the pending-call lock is freed: a daemon thread
	 * that exits then must not ask for anything. */
	if (!py.AddPendingCall || !pyintro_running(layout) ||
	    !__atomic_compare_exchange_n(&pending, &expect, 1, 0,
					 __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
		return;
	if (py.AddPendingCall(refresh, NULL) != 0)
		__atomic_store_n(&pending, 0, __ATOMIC_RELEASE);
}

void names_forget(void)
{
	__atomic_add_fetch(&epoch, 1, __ATOMIC_RELEASE);
	names_request();
}

int names_self(const char *name)
{
	size_t len = strlen(name);

	write_name((uint32_t)syscall(SYS_gettid), (uint64_t)pthread_self(),
		   name, len);
	return 0;
}

int names_call_soon(int (*fn)(void *), void *arg)
{
	if (!py.AddPendingCall || !pyintro_running(layout))
		return -1;
	return py.AddPendingCall(fn, arg) == 0 ? 0 : -1;
}
