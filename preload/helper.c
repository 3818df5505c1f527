/*
 * helper.c - starting pyprof's own threads, and knowing them (helper.h).
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "helper.h"
#include "names.h"
#include "sampler-int.h"

static int (*real_pthread_create)(pthread_t *, const pthread_attr_t *,
				  void *(*)(void *), void *);

/* The running helpers' tids: a handful at most (wall, control) */
#define HELPERS_MAX 4
static int own[HELPERS_MAX];

int helper_spawn(pthread_t *th, void *(*fn)(void *), void *arg,
		 const char *name)
{
	sigset_t all, old;
	int r;

	if (!real_pthread_create)
		*(void **)&real_pthread_create = dlsym(RTLD_NEXT, "pthread_create");
	if (!real_pthread_create) {
		errno = ENOSYS;
		return -1;
	}
	/* The new thread inherits this mask. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = real_pthread_create(th, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		errno = r;
		return -1;
	}
	pthread_setname_np(*th, name);
	return 0;
}

int helper_enter(void)
{
	int tid = (int)syscall(SYS_gettid);

	for (int i = 0; i < HELPERS_MAX; i++) {
		int none = 0;
		if (__atomic_compare_exchange_n(&own[i], &none, tid, 0,
						__ATOMIC_RELEASE, __ATOMIC_RELAXED))
			break;
	}
	return tid;
}

void helper_join(pthread_t th, int tid)
{
	const struct timespec step = {0, 50000};
	int saved = errno;

	pthread_join(th, NULL);
	/* ESRCH once the thread is out of its group, as it is from the
	 * count in the same step; any other failure (a seccomp filter's) is
	 * no reason to wait */
	for (int i = 0; tid > 0 && i < 2000; i++) {
		if (syscall(SYS_tgkill, getpid(), tid, 0) != 0)
			break;
		nanosleep(&step, NULL);
	}
	errno = saved;
}

void helper_leave(void)
{
	int tid = (int)syscall(SYS_gettid);

	for (int i = 0; i < HELPERS_MAX; i++)
		if (__atomic_load_n(&own[i], __ATOMIC_ACQUIRE) == tid)
			__atomic_store_n(&own[i], 0, __ATOMIC_RELEASE);
}

int helper_is_own(int tid)
{
	for (int i = 0; i < HELPERS_MAX; i++)
		if (tid && __atomic_load_n(&own[i], __ATOMIC_ACQUIRE) == tid)
			return 1;
	return 0;
}

void helper_after_fork(void)
{
	for (int i = 0; i < HELPERS_MAX; i++)
		own[i] = 0;
}

void helper_restart_after_fork(int (*restart)(void *), void *arg,
			       void (*start_now)(void))
{
	if (layout->minor < 12 || names_call_soon(restart, arg) != 0)
		start_now();
}
