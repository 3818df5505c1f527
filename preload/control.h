/*
 * control.h - the control channel: `pyprof ctl PID start|stop|mark|status`
 * on a running process, opted into with PYPROF_CONTROL=1.
 *
 * The channel is a datagram socket in the abstract Unix namespace,
 * "pyprof-ctl-PID", served by a thread of pyprof's (pyprof-ctl) that
 * sleeps in poll(2) and wakes only for a request.  The protocol, as
 * libpyprof(7) gives it: a request is one datagram, a command word
 * (start, stop, mark, status) and, for the first three, one space and a
 * label (UTF-8, at most CONTROL_LABEL_MAX bytes); the reply is one
 * datagram to the sender's address, "ok" or "error: WHY", and for status
 * "key: value" lines after "ok".  A sender whose uid (SCM_CREDENTIALS,
 * from the kernel) is neither this process's effective uid nor root gets
 * "error: permission denied" and nothing is done.
 *
 * Why a socket and not a signal, in libpyprof(7): a signal lands on one
 * of the program's threads, maybe one blocked in a call that then fails
 * with EINTR; its default action kills a process that has no handler for
 * it; and its value is too small for a label and has no way back.
 */
#ifndef PYPROF_CONTROL_H
#define PYPROF_CONTROL_H

#include <stddef.h>
#include <stdint.h>

#define CONTROL_NAME_PREFIX "pyprof-ctl-"
#define CONTROL_LABEL_MAX 1000

/* Opens the socket (with socket set) and starts the thread that serves
 * it, and sees that forks do the same in the child (with the child's
 * pid).  rotation, when not NULL, is called whenever the thread wakes
 * (first thing, and at least as often as it asks): it does what is due
 * and returns the ns until it is wanted again (0: not until the thread
 * wakes for another reason).  Ordinary context: in the constructor, or
 * in pyprof_attach.  0, or -1 with errno (EBUSY: a thread released
 * before never stopped). */
int control_init(int socket, uint64_t (*rotation)(void));

/* Undoes control_init (pyprof_detach): the thread stopped and joined,
 * the descriptors closed, no channel in a child forked after this.
 * Not from the control thread itself; nothing of it may be held. */
void control_release(void);

/* What the channel calls, in preload.c: the control API (libpyprof(7))
 * and a status report ("key: value" lines into buf). */
int pyprof_start(const char *label);
int pyprof_stop(const char *label);
int pyprof_mark(const char *label);
void preload_status(char *buf, size_t cap);

#endif
