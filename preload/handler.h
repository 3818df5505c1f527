/*
 * handler.h - the one mark for code that runs inside a signal handler.
 *
 * HANDLER stands on the definition (and the prototype) of every preload
 * function that a signal handler of pyprof's can reach: the one kernel
 * handler for the signals pyprof claims (sigchain.c's dispatch, which
 * also runs the program's handlers), pyprof's part of SIGPROF
 * (handler.c) and of SIGBUS (on_sigbus, preload.c), and on_death
 * (preload.c), which finishes the file before a default action kills.  Such a function interrupts the target at any
 * instruction, perhaps inside malloc or holding a lock, so it keeps the
 * handler's rules: no malloc, stdio, locks, dlsym or Python C API; no
 * waiting (drop and count instead); memory mapped before the signal
 * came, lock-free atomics and plain system calls only; errno as it was
 * found.  It calls only other HANDLER functions, format/'s
 * async-signal-safe ones (write.h, encode.h, linetable.h) and the system
 * calls listed at the top of handler.c.  A function without the mark may
 * do anything ordinary code does, and the handler must never call it.
 *
 * It expands to nothing: it is for the reader and for grep.
 */
#ifndef PYPROF_HANDLER_H
#define PYPROF_HANDLER_H

#define HANDLER

#endif
