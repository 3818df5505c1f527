/*
 * test_sigchain.c - the program's view of claimed signals (preload/
 * sigchain.c), linked into this program so that its own sigaction() and
 * signal() calls go through the interposer as a target's would.  What the
 * kernel really holds is read with the raw rt_sigaction system call.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>


#include "preload/sigchain.h"
#include "tests/unit/unit.h"

/* the kernel's handler for sig, past every libc wrapper */
static void *kernel_handler(int sig)
{
	struct {
		void *handler;
		unsigned long flags;
		void *restorer;
		unsigned long mask;
	} k;

	if (syscall(SYS_rt_sigaction, sig, NULL, &k, 8) != 0)
		return (void *)-1;
	return k.handler;
}

static int ours_seen, program_seen, program_blocked_usr2;
static int cookie;

/* pyprof's part: a sigqueue'd signal carrying &cookie is ours */
static int ours(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	if (si->si_code == SI_QUEUE && si->si_value.sival_ptr == &cookie) {
		ours_seen++;
		return 1;
	}
	return 0;
}

static void program_handler(int sig)
{
	sigset_t now;

	(void)sig;
	program_seen++;
	pthread_sigmask(SIG_BLOCK, NULL, &now);
	program_blocked_usr2 = sigismember(&now, SIGUSR2);
}

static void send_ours(int sig)
{
	union sigval v = {.sival_ptr = &cookie};
	sigqueue(getpid(), sig, v);
}

static void reset_counts(void)
{
	ours_seen = program_seen = program_blocked_usr2 = 0;
}

static void test_sigchain__view_is_what_the_process_had(void)
{
	struct sigaction old;

	signal(SIGUSR1, SIG_IGN); /* inherited, say, from nohup */
	CU_ASSERT_EQUAL(sigchain_claim(SIGUSR1, SIGCHAIN_FIRST, ours, SA_RESTART), 0);
	CU_ASSERT_EQUAL(sigaction(SIGUSR1, NULL, &old), 0);
	CU_ASSERT_PTR_EQUAL(old.sa_handler, SIG_IGN);
	/* ...while the kernel holds pyprof's handler */
	CU_ASSERT_PTR_NOT_EQUAL(kernel_handler(SIGUSR1), (void *)SIG_IGN);
	CU_ASSERT_PTR_NOT_EQUAL(kernel_handler(SIGUSR1), NULL);
}

static void test_sigchain__ours_never_reach_the_program(void)
{
	struct sigaction sa;

	reset_counts();
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = program_handler;
	sigemptyset(&sa.sa_mask);
	CU_ASSERT_EQUAL(sigaction(SIGUSR1, &sa, NULL), 0);
	send_ours(SIGUSR1);
	CU_ASSERT_EQUAL(ours_seen, 1);
	CU_ASSERT_EQUAL(program_seen, 0);
	raise(SIGUSR1); /* the program's own */
	CU_ASSERT_EQUAL(ours_seen, 1);
	CU_ASSERT_EQUAL(program_seen, 1);
}

static void test_sigchain__save_and_restore(void)
{
	struct sigaction sa, saved, now;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = program_handler;
	sigemptyset(&sa.sa_mask);
	CU_ASSERT_EQUAL(sigaction(SIGUSR1, &sa, &saved), 0);
	CU_ASSERT_EQUAL(sigaction(SIGUSR1, &saved, NULL), 0);
	CU_ASSERT_EQUAL(sigaction(SIGUSR1, NULL, &now), 0);
	CU_ASSERT_PTR_EQUAL(now.sa_handler, saved.sa_handler);
	CU_ASSERT_EQUAL(now.sa_flags & SA_SIGINFO, saved.sa_flags & SA_SIGINFO);
	/* signal(3) returns the previous handler too */
	CU_ASSERT_PTR_EQUAL(signal(SIGUSR1, program_handler), now.sa_handler);
	CU_ASSERT_PTR_EQUAL(signal(SIGUSR1, SIG_IGN), program_handler);
}

static void test_sigchain__mask_and_resethand_honoured(void)
{
	struct sigaction sa, now;

	reset_counts();
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = program_handler;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR2);
	sa.sa_flags = SA_RESETHAND;
	CU_ASSERT_EQUAL(sigaction(SIGUSR1, &sa, NULL), 0);
	raise(SIGUSR1);
	CU_ASSERT_EQUAL(program_seen, 1);
	CU_ASSERT_EQUAL(program_blocked_usr2, 1);
	CU_ASSERT_EQUAL(sigaction(SIGUSR1, NULL, &now), 0);
	CU_ASSERT_PTR_EQUAL(now.sa_handler, SIG_DFL);
	/* and pyprof keeps its handler through it all */
	send_ours(SIGUSR1);
	CU_ASSERT_EQUAL(ours_seen, 1);
}

static void test_sigchain__ignored_is_ignored(void)
{
	reset_counts();
	signal(SIGUSR1, SIG_IGN);
	raise(SIGUSR1);
	CU_ASSERT_EQUAL(program_seen, 0);
}

static int died_of;
static void on_death(int sig) { died_of = sig; }

static void test_sigchain__default_kills_with_that_signal(void)
{
	pid_t pid;
	int status;

	signal(SIGUSR1, SIG_DFL);
	pid = fork();
	if (pid == 0) {
		raise(SIGUSR1);
		_exit(died_of == SIGUSR1 ? 0 : 1); /* not reached */
	}
	CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
	CU_ASSERT(WIFSIGNALED(status));
	CU_ASSERT_EQUAL(WTERMSIG(status), SIGUSR1);
	/* ours still never kill */
	pid = fork();
	if (pid == 0) {
		send_ours(SIGUSR1);
		_exit(7);
	}
	CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
	CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 7);
}

static void test_sigchain__while_default_gives_the_kernel_the_program_s(void)
{
	struct sigaction sa, now;
	void *ours_in_kernel;

	CU_ASSERT_EQUAL(sigchain_claim(SIGUSR2, SIGCHAIN_WHILE_DEFAULT, NULL, 0), 0);
	ours_in_kernel = kernel_handler(SIGUSR2);
	CU_ASSERT_PTR_NOT_EQUAL(ours_in_kernel, NULL);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = program_handler;
	sigemptyset(&sa.sa_mask);
	CU_ASSERT_EQUAL(sigaction(SIGUSR2, &sa, NULL), 0);
	CU_ASSERT_PTR_EQUAL(kernel_handler(SIGUSR2), (void *)program_handler);
	CU_ASSERT_EQUAL(sigaction(SIGUSR2, NULL, &now), 0);
	CU_ASSERT_PTR_EQUAL(now.sa_handler, program_handler);
	signal(SIGUSR2, SIG_DFL);
	CU_ASSERT_PTR_EQUAL(kernel_handler(SIGUSR2), ours_in_kernel);
	CU_ASSERT_EQUAL(sigaction(SIGUSR2, NULL, &now), 0);
	CU_ASSERT_PTR_EQUAL(now.sa_handler, SIG_DFL);
}

static void test_sigchain__hand_back_for_exec(void)
{
	signal(SIGUSR1, SIG_IGN);
	sigchain_hand_back();
	CU_ASSERT_PTR_EQUAL(kernel_handler(SIGUSR1), (void *)SIG_IGN);
	sigchain_take_again();
	CU_ASSERT_PTR_NOT_EQUAL(kernel_handler(SIGUSR1), (void *)SIG_IGN);
}

static void test_sigchain__unclaimed_signals_pass_through(void)
{
	signal(SIGWINCH, program_handler);
	CU_ASSERT_PTR_EQUAL(kernel_handler(SIGWINCH), (void *)program_handler);
	signal(SIGWINCH, SIG_DFL);
	CU_ASSERT_PTR_EQUAL(kernel_handler(SIGWINCH), NULL);
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_sigchain__view_is_what_the_process_had),
		UNIT_TEST(test_sigchain__ours_never_reach_the_program),
		UNIT_TEST(test_sigchain__save_and_restore),
		UNIT_TEST(test_sigchain__mask_and_resethand_honoured),
		UNIT_TEST(test_sigchain__ignored_is_ignored),
		UNIT_TEST(test_sigchain__default_kills_with_that_signal),
		UNIT_TEST(test_sigchain__while_default_gives_the_kernel_the_program_s),
		UNIT_TEST(test_sigchain__hand_back_for_exec),
		UNIT_TEST(test_sigchain__unclaimed_signals_pass_through),
	};

	if (sigchain_init(on_death) != 0)
		return 2;
	return unit_run("sigchain", tests, sizeof tests / sizeof tests[0]);
}
