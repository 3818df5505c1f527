/*
 * control.c - the control channel's socket and the thread that serves it
 * (see control.h for the protocol).
 *
 * The one idea: nothing of it ever reaches the program.  No signal is
 * sent (the thread and the peer talk through a socket); the socket and the
 * eventfd that wakes the thread for a fork are made in the constructor,
 * before the program runs, close-on-exec and in the upper descriptor range
 * (pf_fd_high); a request is a datagram, so serving it opens no
 * descriptor at all.  The thread is stopped around every fork like wall
 * mode's (helper.h), and a forked child gets a channel of its own.
 *
 * The same thread keeps rotation's clock (PYPROF_ROTATE, preload.c), with
 * or without the socket: it sleeps until the next boundary instead of
 * for good.
 *
 * Loaded late, the channel is pyprof attach's: made by pyprof_attach,
 * with the same descriptors and thread, and gone with pyprof_detach
 * (control_release), so that no request can start a recording nobody
 * attached; a child forked while attached gets none (attach.c).
 *
 * Ordinary context throughout: the commands lock and open files, as the
 * control API does when a program calls it.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "attach.h"
#include "control.h"
#include "helper.h"
#include "write.h"

static int sock_fd = -1, wake_fd = -1;
/* What the two descriptors were opened as: a program that closes them (a
 * daemon's closerange) may get their numbers again for its own files,
 * which pyprof must then never read or write. */
static dev_t sock_dev, wake_dev;
static ino_t sock_ino, wake_ino;
static pthread_t thread;
static int running, stop_flag;
/* control_init's until control_release (pyprof attach --stop); a child
 * forked meanwhile gets a channel of its own only if this is set and
 * the parent is not attached (in_child, decided before the fork) */
static int wanted, in_child;
/* Rotation's clock (PYPROF_ROTATE): called when the thread wakes, it
 * does what is due and says how long to sleep (0: until asked) */
static uint64_t (*tick)(void);
/* Starting and stopping the thread; a fork holds it from prepare to
 * parent and child (where it is made anew). */
static pthread_mutex_t ctl_lock = PTHREAD_MUTEX_INITIALIZER;

/* An abstract name is gone when its socket closes (SIGKILL and exec
 * included): nothing to clean up, no directory to choose or trust.  The
 * pid in it is for people reading ss(8); pyprof ctl finds the socket by
 * the process's descriptors, so another process with the same pid
 * number in another pid namespace only moves this one to "-PID-N". */
static int open_socket(void)
{
	struct sockaddr_un a;
	int fd, on = 1;

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || (fd = pf_fd_high(fd)) < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof on) != 0)
		goto fail;
	for (int n = 0; n < 10; n++) {
		int len;

		memset(&a, 0, sizeof a);
		a.sun_family = AF_UNIX;
		len = n ? snprintf(a.sun_path + 1, sizeof a.sun_path - 1,
				   CONTROL_NAME_PREFIX "%d-%d", (int)getpid(), n)
			: snprintf(a.sun_path + 1, sizeof a.sun_path - 1,
				   CONTROL_NAME_PREFIX "%d", (int)getpid());
		if (bind(fd, (struct sockaddr *)&a,
			 (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
				     (size_t)len)) == 0)
			return fd;
		if (errno != EADDRINUSE)
			break;
	}
fail:
	close(fd);
	return -1;
}

/* Runs one request; the reply goes into out. */
static void run(char *req, size_t len, char *out, size_t cap)
{
	static const struct {
		const char *word;
		int (*fn)(const char *);
	} cmds[] = {{"start", pyprof_start}, {"stop", pyprof_stop},
		    {"mark", pyprof_mark}};
	char *label;

	req[len] = '\0';
	if (!strcmp(req, "status")) {
		snprintf(out, cap, "ok\n");
		preload_status(out + 3, cap - 3);
		return;
	}
	if (strlen(req) != len || !(label = strchr(req, ' ')) || !label[1] ||
	    strlen(label + 1) > CONTROL_LABEL_MAX) {
		snprintf(out, cap, "error: bad request (expected start, stop "
			 "or mark and a label of 1 to %d bytes, or status)",
			 CONTROL_LABEL_MAX);
		return;
	}
	*label++ = '\0';
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		if (strcmp(req, cmds[i].word))
			continue;
		if (cmds[i].fn(label) == 0)
			snprintf(out, cap, "ok");
		else if (cmds[i].fn == pyprof_start)
			snprintf(out, cap, "error: cannot start recording: %s "
				 "(the process's standard error says more)",
				 strerror(errno));
		else if (cmds[i].fn == pyprof_stop)
			snprintf(out, cap, "error: no window is open");
		else
			snprintf(out, cap, "error: not recording");
		return;
	}
	snprintf(out, cap, "error: unknown command '%.40s'", req);
}

/* Reads one datagram and answers it.  The sender's credentials come from
 * the kernel (SO_PASSCRED), whatever the sender says. */
static void serve(void)
{
	char req[CONTROL_LABEL_MAX + 64], reply[8192];
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(struct ucred))];
	} ctl;
	struct sockaddr_un from;
	struct iovec iov = {req, sizeof req - 1};
	struct msghdr m = {0};
	struct cmsghdr *c;
	const struct ucred *cred = NULL;
	ssize_t n;

	m.msg_name = &from;
	m.msg_namelen = sizeof from;
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = ctl.buf;
	m.msg_controllen = sizeof ctl.buf;
	n = recvmsg(sock_fd, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC | MSG_TRUNC);
	if (n < 0)
		return;
	for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS &&
		    c->cmsg_len >= CMSG_LEN(sizeof *cred))
			cred = (const struct ucred *)(void *)CMSG_DATA(c);
	if (m.msg_namelen <= offsetof(struct sockaddr_un, sun_path))
		return; /* an unbound sender: there is nobody to answer */
	if (!cred || (cred->uid != geteuid() && cred->uid != 0))
		snprintf(reply, sizeof reply, "error: permission denied");
	else if ((size_t)n >= sizeof req - 1)
		snprintf(reply, sizeof reply, "error: request too long");
	else
		run(req, (size_t)n, reply, sizeof reply);
	/* never blocks: a peer that is gone or not reading loses its reply */
	sendto(sock_fd, reply, strlen(reply), MSG_DONTWAIT | MSG_NOSIGNAL,
	       (struct sockaddr *)&from, m.msg_namelen);
}

static void note(int fd, dev_t *dev, ino_t *ino)
{
	struct stat st;

	*dev = 0;
	*ino = 0;
	if (fstat(fd, &st) == 0) {
		*dev = st.st_dev;
		*ino = st.st_ino;
	}
}

static int still_ours(int fd, dev_t dev, ino_t ino)
{
	struct stat st;

	return fd >= 0 && fstat(fd, &st) == 0 && st.st_dev == dev &&
	       st.st_ino == ino;
}

static int thread_tid; /* the control thread's, from helper_enter */

static void *control_main(void *arg)
{
	(void)arg;
	__atomic_store_n(&thread_tid, helper_enter(), __ATOMIC_RELEASE);
	while (!__atomic_load_n(&stop_flag, __ATOMIC_ACQUIRE)) {
		struct pollfd p[2] = {{sock_fd, POLLIN, 0}, {wake_fd, POLLIN, 0}};
		uint64_t sleep_ns = tick ? tick() : 0;
		int ms = sleep_ns ? (int)(sleep_ns / 1000000 + 1) : -1;

		/* every signal is blocked here: no EINTR to care for; a
		 * socket of -1 (no channel, rotation only) is not polled */
		if (poll(p, 2, ms) < 0 || ((p[0].revents | p[1].revents) & POLLNVAL) ||
		    (sock_fd >= 0 && !still_ours(sock_fd, sock_dev, sock_ino)) ||
		    !still_ours(wake_fd, wake_dev, wake_ino))
			break; /* the program closed them: the channel is gone */
		if (p[1].revents) {
			uint64_t v;
			if (read(wake_fd, &v, sizeof v) < 0 && errno != EAGAIN)
				break;
		}
		if (p[0].revents & POLLIN)
			serve();
	}
	helper_leave();
	return NULL;
}

static int start_locked(void)
{
	if (running || wake_fd < 0)
		return 0;
	stop_flag = 0;
	thread_tid = 0;
	if (helper_spawn(&thread, control_main, NULL, "pyprof-ctl") != 0)
		return -1;
	running = 1;
	return 0;
}

static void stop_locked(void)
{
	uint64_t one = 1;

	if (!running)
		return;
	__atomic_store_n(&stop_flag, 1, __ATOMIC_RELEASE);
	/* A closed descriptor does not wake a poll(2) on it: the thread may
	 * sleep for good then, and is left so, never joined. */
	if (!still_ours(wake_fd, wake_dev, wake_ino) ||
	    write(wake_fd, &one, sizeof one) < 0)
		return;
	helper_join(thread, __atomic_load_n(&thread_tid, __ATOMIC_ACQUIRE));
	running = 0;
}

static int with_socket;

static int open_fds(void)
{
	if (with_socket && (sock_fd = open_socket()) < 0)
		return -1;
	wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (wake_fd < 0 || (wake_fd = pf_fd_high(wake_fd)) < 0) {
		if (sock_fd >= 0)
			close(sock_fd);
		sock_fd = wake_fd = -1;
		return -1;
	}
	if (sock_fd >= 0)
		note(sock_fd, &sock_dev, &sock_ino);
	note(wake_fd, &wake_dev, &wake_ino);
	return 0;
}

/* The descriptors, closed unless the program took their numbers; under
 * ctl_lock, the thread stopped. */
static void close_fds(void)
{
	if (still_ours(sock_fd, sock_dev, sock_ino))
		close(sock_fd);
	if (still_ours(wake_fd, wake_dev, wake_ino))
		close(wake_fd);
	sock_fd = wake_fd = -1;
}

/* Fork: as wall mode's sampler thread (wall.c), and for one more reason:
 * a command runs with the control API's locks and may be opening the
 * file, which a fork must not copy halfway. */
static int restart(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&ctl_lock);
	start_locked();
	pthread_mutex_unlock(&ctl_lock);
	return 0;
}

static void start_now(void)
{
	start_locked();
}

static void prepare(void)
{
	pthread_mutex_lock(&ctl_lock);
	/* A child of an attached process is not profiled (attach.c): a
	 * channel there would answer for a process with no recording and
	 * start a thread the child's program never had. */
	in_child = wanted && !attach_polling();
	stop_locked();
}

static void parent(void)
{
	if (!running)
		helper_restart_after_fork(restart, NULL, start_now);
	pthread_mutex_unlock(&ctl_lock);
}

/* The child is another process: another pid, another name.  It has one
 * thread, so the descriptors it opens here cannot take a number from
 * under another thread's open(). */
static void child(void)
{
	pthread_mutex_init(&ctl_lock, NULL);
	running = 0;
	close_fds();
	wanted = in_child;
	if (wanted && open_fds() != 0)
		wanted = 0;
	if (wanted)
		start_locked();
}

int control_init(int socket, uint64_t (*rotation)(void))
{
	static int forks_watched;
	int r = -1;

	pthread_mutex_lock(&ctl_lock);
	if (running || wanted) {
		/* pyprof attach after a detach whose thread would not stop */
		errno = EBUSY;
		goto out;
	}
	with_socket = socket;
	tick = rotation;
	if (open_fds() != 0)
		goto out;
	if (start_locked() != 0) {
		int e = errno;
		close_fds();
		errno = e;
		goto out;
	}
	wanted = 1;
	r = 0;
	/* once: pyprof attach may start the channel again after a detach */
	if (!forks_watched++)
		pthread_atfork(prepare, parent, child);
out:
	pthread_mutex_unlock(&ctl_lock);
	return r;
}

void control_release(void)
{
	pthread_mutex_lock(&ctl_lock);
	if (wanted) {
		wanted = 0;
		stop_locked();
		/* a thread that could not be woken keeps polling them */
		if (!running) {
			close_fds();
			tick = NULL;
		}
	}
	pthread_mutex_unlock(&ctl_lock);
}
