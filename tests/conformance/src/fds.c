/*
 * fds: descriptor table operations, locks, pipes and the descriptor-based
 * notification objects (eventfd, timerfd, signalfd, inotify, epoll,
 * poll/select). Pipes that a case reads are non-blocking so that a
 * difference shows up as a result, not as a hung group.
 */
#include "common.h"

#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <linux/close_range.h>

#define DIR_ "/tmp/cfds"

static const char *cloexec(int fd)
{
	KEEP_E;
	long r = C(fcntl(fd, F_GETFD));
	if (r < 0)
		return RESTORE_E((const char *)(r_(r)));
	return RESTORE_E((const char *)((r & FD_CLOEXEC) ? "cloexec" : "no-cloexec"));
}

static const char *pollev(int ev)
{
	static const struct {
		int bit;
		const char *name;
	} names[] = {{POLLIN, "IN"}, {POLLPRI, "PRI"}, {POLLOUT, "OUT"}, {POLLERR, "ERR"}, {POLLHUP, "HUP"}, {POLLNVAL, "NVAL"}, {POLLRDNORM, "RDNORM"}, {POLLRDBAND, "RDBAND"}, {POLLWRNORM, "WRNORM"}, {POLLWRBAND, "WRBAND"}, {POLLRDHUP, "RDHUP"}};
	char *b = sbuf();
	int k = 0;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (ev & names[i].bit) {
			k += snprintf(b + k, 2048 - k, "%s%s", k ? "|" : "", names[i].name);
			ev &= ~names[i].bit;
		}
	if (ev)
		k += snprintf(b + k, 2048 - k, "%s%#x", k ? "|" : "", ev);
	if (!k)
		snprintf(b, 2048, "0");
	return b;
}

static void g_dup(void)
{
	int fd = open("/dev/null", O_RDONLY);
	int d = C(dup(fd));
	CASE("dup.basic", "%s", d == fd + 1 ? "lowest" : r_(d));
	close(d);
	close(fd);
	T("dup.bad", dup(999));
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	d = dup(fd);
	CASE("dup.clears_cloexec", "%s", cloexec(d));
	close(d);
	T("dup2.target", dup2(fd, 50));
	CASE("dup2.target_cloexec", "%s", cloexec(50));
	T("dup2.same_fd", dup2(fd, fd));
	CASE("dup2.same_fd_keeps_cloexec", "%s", cloexec(fd));
	T("dup2.bad_old", dup2(999, 51));
	T("dup2.negative_new", dup2(fd, -1));
	T("dup2.beyond_rlimit", dup2(fd, 1 << 30));
	T("dup3.same_fd", dup3(fd, fd, 0));
	T("dup3.cloexec", dup3(fd, 52, O_CLOEXEC));
	CASE("dup3.cloexec_flag", "%s", cloexec(52));
	T("dup3.bad_flags", dup3(fd, 53, O_NONBLOCK));
	T("dup2.replaces_open", dup2(fd, 52));
	CASE("dup2.replaces_open_cloexec", "%s", cloexec(52));
	/* Duplicates share the file offset and status flags. */
	int f = open("/proc/self/exe", O_RDONLY);
	int g = dup(f);
	lseek(f, 10, SEEK_SET);
	T("dup.shared_offset", lseek(g, 0, SEEK_CUR));
	fcntl(f, F_SETFL, O_NONBLOCK);
	CASE("dup.shared_status_flags", "%s", (fcntl(g, F_GETFL) & O_NONBLOCK) ? "shared" : "separate");
	close(f);
	close(g);

	T("fcntl.dupfd_min", fcntl(fd, F_DUPFD, 100));
	T("fcntl.dupfd_min_taken", fcntl(fd, F_DUPFD, 100));
	CASE("fcntl.dupfd_no_cloexec", "%s", cloexec(100));
	T("fcntl.dupfd_cloexec", fcntl(fd, F_DUPFD_CLOEXEC, 200));
	CASE("fcntl.dupfd_cloexec_flag", "%s", cloexec(200));
	T("fcntl.dupfd_negative", fcntl(fd, F_DUPFD, -1));
	T("fcntl.dupfd_beyond_rlimit", fcntl(fd, F_DUPFD, 1 << 30));
	T("fcntl.setfd", fcntl(100, F_SETFD, FD_CLOEXEC));
	T("fcntl.getfd", fcntl(100, F_GETFD));
	T("fcntl.setfd_garbage", fcntl(100, F_SETFD, 0xfe));
	T("fcntl.getfd_after_garbage", fcntl(100, F_GETFD));
	T("fcntl.bad_fd", fcntl(999, F_GETFD));
	T("fcntl.bad_cmd", fcntl(fd, 9999));

	int rw = open("/dev/null", O_RDWR);
	CASE("fcntl.getfl", "%s", openflags(fcntl(rw, F_GETFL)));
	T("fcntl.setfl_append_nonblock", fcntl(rw, F_SETFL, O_APPEND | O_NONBLOCK));
	CASE("fcntl.getfl_after", "%s", openflags(fcntl(rw, F_GETFL)));
	T("fcntl.setfl_accmode_ignored", fcntl(rw, F_SETFL, O_WRONLY));
	CASE("fcntl.getfl_accmode_kept", "%s", openflags(fcntl(rw, F_GETFL)));
	T("fcntl.setfl_creat_ignored", fcntl(rw, F_SETFL, O_CREAT | O_TRUNC));
	CASE("fcntl.getfl_creat_ignored", "%s", openflags(fcntl(rw, F_GETFL)));
	T("fcntl.getown", fcntl(rw, F_GETOWN));
	T("fcntl.getsig", fcntl(rw, F_GETSIG));
	T("fcntl.setsig_bad", fcntl(rw, F_SETSIG, 1000));
	T("fcntl.getlease", fcntl(rw, F_GETLEASE));
	T("fcntl.get_seals_non_memfd", fcntl(rw, F_GET_SEALS));
	T("fcntl.getpipe_sz_non_pipe", fcntl(rw, F_GETPIPE_SZ));
	{
		struct f_owner_ex o;
		T("fcntl.getown_ex", fcntl(rw, F_GETOWN_EX, &o));
		CASE("fcntl.getown_ex_value", "type=%d pid=%d", o.type, o.pid);
	}
	close(rw);

	/* ioctls on descriptors. */
	int p[2];
	pipe(p);
	int on = 1;
	T("ioctl.fionbio", ioctl(p[0], FIONBIO, &on));
	CASE("ioctl.fionbio_flag", "%s", openflags(fcntl(p[0], F_GETFL)));
	T("ioctl.fioclex", ioctl(p[0], FIOCLEX));
	CASE("ioctl.fioclex_flag", "%s", cloexec(p[0]));
	T("ioctl.fionclex", ioctl(p[0], FIONCLEX));
	CASE("ioctl.fionclex_flag", "%s", cloexec(p[0]));
	T("ioctl.tcgets_on_pipe", ({ char t[64]; ioctl(p[0], 0x5401, t); }));
	T("ioctl.bad_request", ioctl(p[0], 0x12345678));

	/* Descriptor limit. */
	struct rlimit old, rl;
	getrlimit(RLIMIT_NOFILE, &old);
	rl = old;
	rl.rlim_cur = 64;
	setrlimit(RLIMIT_NOFILE, &rl);
	int last = 0, count = 0;
	for (;;) {
		int x = C(open("/dev/null", O_RDONLY));
		if (x < 0)
			break;
		last = x;
		count++;
	}
	CASE("rlimit_nofile.exhaust", "%s last=%d", r_(-1), last);
	T("rlimit_nofile.dup_at_limit", dup(0));
	T("rlimit_nofile.pipe_at_limit", ({ int q[2]; pipe(q); }));
	for (int i = 3; i < 64; i++)
		close(i);
	(void)count;
	setrlimit(RLIMIT_NOFILE, &old);

	/* close_range */
	for (int i = 10; i < 20; i++)
		dup2(0, i);
	T("close_range.range", close_range(10, 14, 0));
	T("close_range.closed", fcntl(12, F_GETFD));
	T("close_range.kept", fcntl(15, F_GETFD));
	T("close_range.cloexec", close_range(15, 16, CLOSE_RANGE_CLOEXEC));
	CASE("close_range.cloexec_flag", "%s %s", cloexec(15), cloexec(17));
	T("close_range.first_gt_last", close_range(20, 10, 0));
	T("close_range.bad_flag", close_range(10, 20, 0x80));
	T("close_range.unshare", close_range(15, ~0U, CLOSE_RANGE_UNSHARE));
	T("close_range.unshare_closed", fcntl(17, F_GETFD));
	T("close.bad", close(999));
	T("close.twice", ({ int z = dup(0); close(z); close(z); }));
}

/* Record locks need a second process: lock owners are processes. */
static int lockfd;

static const char *getlk(int fd, int type, off_t start, off_t len, pid_t expect, int ofd)
{
	KEEP_E;
	struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
	long r = C(fcntl(fd, ofd ? F_OFD_GETLK : F_GETLK, &fl));
	if (r < 0)
		return RESTORE_E((const char *)(r_(r)));
	char *b = sbuf();
	const char *t = fl.l_type == F_RDLCK ? "F_RDLCK" : fl.l_type == F_WRLCK ? "F_WRLCK" : fl.l_type == F_UNLCK ? "F_UNLCK" : "?";
	if (fl.l_type == F_UNLCK)
		snprintf(b, 2048, "%s", t);
	else
		snprintf(b, 2048, "%s start=%lld len=%lld pid=%s", t, (long long)fl.l_start, (long long)fl.l_len,
			 fl.l_pid == expect ? "owner" : fl.l_pid == -1 ? "-1" : fl.l_pid == 0 ? "0" : "other");
	return RESTORE_E((const char *)(b));
}

static int setlk(int fd, int cmd, int type, off_t start, off_t len)
{
	struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
	return fcntl(fd, cmd, &fl);
}

static void noop_handler(int sig)
{
	(void)sig;
}

static void g_locks(void)
{
	/* Blocking lock calls are bounded by alarm(); EINTR, not death. */
	struct sigaction sa = {.sa_handler = noop_handler};
	sigaction(SIGALRM, &sa, NULL);
	rmtree(DIR_);
	mkdir(DIR_, 0755);
	lockfd = open(DIR_ "/lock", O_CREAT | O_RDWR, 0644);
	ftruncate(lockfd, 100);
	pid_t me = getpid();
	T("posix.setlk_write", setlk(lockfd, F_SETLK, F_WRLCK, 0, 10));
	T("posix.setlk_read_other_range", setlk(lockfd, F_SETLK, F_RDLCK, 20, 10));
	int sync1[2], sync2[2];
	pipe(sync1);
	pipe(sync2);
	pid_t c = fork();
	if (c == 0) {
		int fd = open(DIR_ "/lock", O_RDWR);
		CASE("posix.child_getlk_write", "%s", getlk(fd, F_WRLCK, 0, 0, me, 0));
		CASE("posix.child_getlk_read_on_read", "%s", getlk(fd, F_RDLCK, 20, 10, me, 0));
		CASE("posix.child_getlk_free_range", "%s", getlk(fd, F_WRLCK, 50, 10, me, 0));
		T("posix.child_setlk_conflict", setlk(fd, F_SETLK, F_WRLCK, 5, 1));
		T("posix.child_setlk_read_shared", setlk(fd, F_SETLK, F_RDLCK, 20, 5));
		T("posix.child_setlk_free", setlk(fd, F_SETLK, F_WRLCK, 60, 5));
		write(sync1[1], "1", 1);
		char ch;
		read(sync2[0], &ch, 1);
		/* Parent closed a dup of its fd: all its locks are gone. */
		CASE("posix.child_after_parent_close_dup", "%s", getlk(fd, F_WRLCK, 0, 10, me, 0));
		_exit(0);
	}
	char ch;
	read(sync1[0], &ch, 1);
	CASE("posix.parent_sees_child_lock", "%s", getlk(lockfd, F_WRLCK, 60, 5, c, 0));
	CASE("posix.own_lock_invisible", "%s", getlk(lockfd, F_WRLCK, 0, 10, me, 0));
	/* Splitting: unlock the middle of our range. */
	T("posix.unlock_middle", setlk(lockfd, F_SETLK, F_UNLCK, 4, 2));
	int dupfd = dup(lockfd);
	close(dupfd);
	write(sync2[1], "1", 1);
	CASE("posix.child_status", "%s", waitchild(c));

	T("posix.bad_type", setlk(lockfd, F_SETLK, 42, 0, 1));
	T("posix.negative_start", setlk(lockfd, F_SETLK, F_WRLCK, -1, 1));
	T("posix.negative_len", setlk(lockfd, F_SETLK, F_WRLCK, 10, -5));
	{
		int ro = open(DIR_ "/lock", O_RDONLY);
		T("posix.write_lock_on_rdonly", setlk(ro, F_SETLK, F_WRLCK, 0, 1));
		T("posix.read_lock_on_rdonly", setlk(ro, F_SETLK, F_RDLCK, 0, 1));
		close(ro);
		int wo = open(DIR_ "/lock", O_WRONLY);
		T("posix.read_lock_on_wronly", setlk(wo, F_SETLK, F_RDLCK, 0, 1));
		close(wo);
	}
	/* F_SETLKW blocks until the holder releases. */
	setlk(lockfd, F_SETLK, F_WRLCK, 0, 0);
	c = fork();
	if (c == 0) {
		int fd = open(DIR_ "/lock", O_RDWR);
		write(sync1[1], "1", 1);
		long long t0 = now_ns(CLOCK_MONOTONIC);
		long r = C(setlk(fd, F_SETLKW, F_WRLCK, 0, 1));
		long long ms = (now_ns(CLOCK_MONOTONIC) - t0) / 1000000;
		CASE("posix.setlkw_waits", "%s waited=%s", r_(r), ms >= 50 ? ">=50ms" : "<50ms");
		_exit(0);
	}
	read(sync1[0], &ch, 1);
	sleep_ms(100);
	setlk(lockfd, F_SETLK, F_UNLCK, 0, 0);
	waitchild(c);
	/* Deadlock detection: each holds one byte and waits for the other's. */
	setlk(lockfd, F_SETLK, F_WRLCK, 0, 1);
	c = fork();
	if (c == 0) {
		int fd = open(DIR_ "/lock", O_RDWR);
		setlk(fd, F_SETLK, F_WRLCK, 1, 1);
		write(sync1[1], "1", 1);
		struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1};
		alarm(3);
		long r = C(fcntl(fd, F_SETLKW, &fl));
		_exit(r < 0 ? (E == EDEADLK ? 35 : E == EINTR ? 4 : 1) : 0);
	}
	read(sync1[0], &ch, 1);
	wait_blocked(c);
	{
		struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 1, .l_len = 1};
		/*
		 * Without deadlock detection both block; the child's 3s alarm
		 * must fire first (its exit releases our byte) for a stable result.
		 */
		alarm(6);
		long r = C(fcntl(lockfd, F_SETLKW, &fl));
		alarm(0);
		const char *mine = r_(r);
		if (r < 0 && E == EDEADLK)
			setlk(lockfd, F_SETLK, F_UNLCK, 0, 0);
		const char *theirs = waitchild(c);
		CASE("posix.deadlock_detect", "parent=%s child=%s", mine, theirs);
	}
	setlk(lockfd, F_SETLK, F_UNLCK, 0, 0);

	/* Open file description locks. */
	int a = open(DIR_ "/lock", O_RDWR), b = open(DIR_ "/lock", O_RDWR);
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10, .l_pid = 0};
	T("ofd.setlk", fcntl(a, F_OFD_SETLK, &fl));
	fl.l_pid = 0;
	T("ofd.conflict_same_process", fcntl(b, F_OFD_SETLK, &fl));
	CASE("ofd.getlk_from_other_ofd", "%s", getlk(b, F_WRLCK, 0, 10, me, 1));
	fl.l_pid = 1;
	T("ofd.nonzero_pid", fcntl(b, F_OFD_SETLK, &fl));
	T("ofd.posix_vs_ofd", setlk(lockfd, F_SETLK, F_WRLCK, 0, 1));
	int a2 = dup(a);
	close(a2);
	fl = (struct flock){.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10};
	T("ofd.survives_dup_close", fcntl(b, F_OFD_SETLK, &fl));
	close(a);
	fl = (struct flock){.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10};
	T("ofd.released_on_close", fcntl(b, F_OFD_SETLK, &fl));
	fl = (struct flock){.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10};
	T("ofd.convert_to_read", fcntl(b, F_OFD_SETLK, &fl));
	CASE("ofd.getlk_read_held", "%s", getlk(lockfd, F_WRLCK, 0, 10, me, 1));
	close(b);
	close(lockfd);
	rmtree(DIR_);
}

static void g_pipes(void)
{
	int p[2];
	T("pipe2.cloexec_nonblock", pipe2(p, O_CLOEXEC | O_NONBLOCK));
	CASE("pipe2.flags", "r=%s w=%s %s", openflags(fcntl(p[0], F_GETFL)), openflags(fcntl(p[1], F_GETFL)), cloexec(p[0]));
	char buf[70000];
	T("pipe.read_empty_nonblock", read(p[0], buf, 10));
	T("pipe.fionread_empty", ({ int n = -1; ioctl(p[0], FIONREAD, &n) < 0 ? -1 : n; }));
	T("pipe.write", write(p[1], "hello", 5));
	T("pipe.fionread", ({ int n = -1; ioctl(p[0], FIONREAD, &n) < 0 ? -1 : n; }));
	T("pipe.write_to_read_end", write(p[0], "x", 1));
	T("pipe.read_from_write_end", read(p[1], buf, 1));
	CASE("pipe.read", "%s", readstr(p[0], 3));
	CASE("pipe.read_rest", "%s", readstr(p[0], 100));
	T("pipe.getpipe_sz", fcntl(p[0], F_GETPIPE_SZ));
	long filled = 0;
	memset(buf, 'a', sizeof buf);
	for (;;) {
		long w = C(write(p[1], buf, 4096));
		if (w < 0)
			break;
		filled += w;
	}
	CASE("pipe.fill_nonblock", "%ld then %s", filled, r_(-1));
	T("pipe.partial_write_large", write(p[1], buf, 70000));
	T("pipe.setpipe_sz_below_content", fcntl(p[0], F_SETPIPE_SZ, 4096));
	while (read(p[0], buf, sizeof buf) > 0)
		;
	T("pipe.setpipe_sz_4096", fcntl(p[0], F_SETPIPE_SZ, 4096));
	T("pipe.getpipe_sz_after", fcntl(p[1], F_GETPIPE_SZ));
	T("pipe.setpipe_sz_rounds_up", fcntl(p[0], F_SETPIPE_SZ, 5000));
	T("pipe.setpipe_sz_one_page_min", fcntl(p[0], F_SETPIPE_SZ, 1));
	T("pipe.setpipe_sz_1m", fcntl(p[0], F_SETPIPE_SZ, 1 << 20));
	T("pipe.setpipe_sz_over_max", fcntl(p[0], F_SETPIPE_SZ, (1 << 20) + 1));
	T("pipe.setpipe_sz_huge", fcntl(p[0], F_SETPIPE_SZ, 1 << 30));
	long mx = 0;
	{
		char *s = readfile("/proc/sys/fs/pipe-max-size", NULL);
		if (s) {
			mx = atol(s);
			free(s);
		}
	}
	CASE("pipe.max_size_sysctl_readable", "%s", mx > 0 ? "yes" : "no");
	T("pipe.lseek", lseek(p[0], 0, SEEK_SET));
	T("pipe.pread", pread(p[0], buf, 1, 0));
	close(p[1]);
	T("pipe.read_eof", read(p[0], buf, 10));
	close(p[0]);

	pipe2(p, O_NONBLOCK);
	close(p[0]);
	signal(SIGPIPE, SIG_IGN);
	T("pipe.write_no_reader", write(p[1], "x", 1));
	close(p[1]);
	T("pipe2.bad_flags", pipe2(p, O_APPEND));

	/* O_DIRECT: packet mode keeps write boundaries. */
	long r = C(pipe2(p, O_DIRECT | O_NONBLOCK));
	CASE("packet.create", "%s", r_(r));
	if (r == 0) {
		CASE("packet.getfl", "%s", openflags(fcntl(p[1], F_GETFL)));
		write(p[1], "abc", 3);
		write(p[1], "defgh", 5);
		CASE("packet.read1", "%s", readstr(p[0], 100));
		CASE("packet.read2", "%s", readstr(p[0], 100));
		write(p[1], "123456", 6);
		CASE("packet.short_read", "%s", readstr(p[0], 2));
		CASE("packet.short_read_rest_discarded", "%s", readstr(p[0], 100));
		T("packet.clear_o_direct", fcntl(p[1], F_SETFL, O_NONBLOCK));
		write(p[1], "ab", 2);
		write(p[1], "cd", 2);
		CASE("packet.after_clear", "%s", readstr(p[0], 100));
		T("packet.set_o_direct", fcntl(p[1], F_SETFL, O_DIRECT | O_NONBLOCK));
		CASE("packet.set_getfl", "%s", openflags(fcntl(p[1], F_GETFL)));
		close(p[0]);
		close(p[1]);
	}
	/* Writes of at most PIPE_BUF are atomic: with little space, EAGAIN. */
	pipe2(p, O_NONBLOCK);
	fcntl(p[0], F_SETPIPE_SZ, 4096);
	write(p[1], buf, 4000);
	T("pipe.atomic_write_no_room", write(p[1], buf, 200));
	T("pipe.nonatomic_write_partial", write(p[1], buf, 5000));
	close(p[0]);
	close(p[1]);
	/* Named pipe via /proc/self/fd reopen. */
	pipe2(p, O_NONBLOCK);
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", p[1]);
	int w2 = TFD("pipe.reopen_via_proc", open(path, O_WRONLY));
	if (w2 >= 0) {
		write(w2, "via", 3);
		CASE("pipe.reopen_via_proc_data", "%s", readstr(p[0], 10));
		close(w2);
	}
	close(p[0]);
	close(p[1]);
}

static void g_eventfd(void)
{
	int e = TFD("eventfd.create", eventfd(0, EFD_NONBLOCK));
	uint64_t v = 3, out = 0;
	T("eventfd.write", write(e, &v, 8));
	v = 4;
	T("eventfd.write_adds", write(e, &v, 8));
	long r = C(read(e, &out, 8));
	CASE("eventfd.read", "%s value=%llu", r_(r), (unsigned long long)out);
	T("eventfd.read_empty", read(e, &out, 8));
	T("eventfd.read_short_buf", read(e, &out, 4));
	T("eventfd.write_short_buf", write(e, &v, 4));
	v = ~0ULL;
	T("eventfd.write_max", write(e, &v, 8));
	v = ~0ULL - 1;
	T("eventfd.write_max_minus1", write(e, &v, 8));
	v = 1;
	T("eventfd.write_overflow_nonblock", write(e, &v, 8));
	{
		struct pollfd pf = {e, POLLIN | POLLOUT, 0};
		poll(&pf, 1, 0);
		CASE("eventfd.poll_full", "%s", pollev(pf.revents));
	}
	r = C(read(e, &out, 8));
	CASE("eventfd.read_big", "%s value=%llu", r_(r), (unsigned long long)out);
	{
		struct pollfd pf = {e, POLLIN | POLLOUT, 0};
		poll(&pf, 1, 0);
		CASE("eventfd.poll_empty", "%s", pollev(pf.revents));
	}
	close(e);
	e = TFD("eventfd.semaphore", eventfd(3, EFD_SEMAPHORE | EFD_NONBLOCK));
	for (int i = 0; i < 4; i++) {
		char name[64];
		snprintf(name, sizeof name, "eventfd.semaphore_read%d", i);
		out = 0;
		r = C(read(e, &out, 8));
		CASE(name, "%s value=%llu", r_(r), (unsigned long long)out);
	}
	CASE("eventfd.flags", "%s %s", openflags(fcntl(e, F_GETFL)), cloexec(e));
	close(e);
	e = eventfd(0, EFD_CLOEXEC);
	CASE("eventfd.cloexec", "%s", cloexec(e));
	close(e);
	T("eventfd.bad_flags", syscall(SYS_eventfd2, 0, 0x1));
	T("eventfd.old_syscall", ({ long f = syscall(SYS_eventfd, 5); if (f >= 0) close(f); f >= 0 ? 0 : -1; }));
	{
		char *fdinfo;
		e = eventfd(7, 0);
		char path[64];
		snprintf(path, sizeof path, "/proc/self/fdinfo/%d", e);
		fdinfo = readfile(path, NULL);
		CASE("eventfd.fdinfo_count", "%s", fdinfo ? (strstr(fdinfo, "eventfd-count:") ? (strstr(fdinfo, "eventfd-count:                7") || strstr(fdinfo, "eventfd-count:\t7") || strstr(fdinfo, "eventfd-count: 7") ? "7" : "present") : "absent") : r_(-1));
		free(fdinfo);
		close(e);
	}
	/* Blocking read wakes on write from another process. */
	e = eventfd(0, 0);
	pid_t c = fork();
	if (c == 0) {
		sleep_ms(50);
		uint64_t one = 9;
		write(e, &one, 8);
		_exit(0);
	}
	out = 0;
	r = C(read(e, &out, 8));
	CASE("eventfd.blocking_read_wakes", "%s value=%llu", r_(r), (unsigned long long)out);
	waitchild(c);
	close(e);
}

static void g_timerfd(void)
{
	int t = TFD("timerfd.create_monotonic", timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK));
	uint64_t n = 0;
	T("timerfd.read_unarmed", read(t, &n, 8));
	struct itimerspec its = {{0, 0}, {10, 0}}, cur;
	timerfd_settime(t, 0, &its, NULL);
	timerfd_gettime(t, &cur);
	CASE("timerfd.gettime_armed", "%s", (cur.it_value.tv_sec > 0 || cur.it_value.tv_nsec > 0) && cur.it_value.tv_sec < 10 ? "0<remaining<=10s" : "unexpected");
	its = (struct itimerspec){{0, 0}, {0, 30000000}};
	T("timerfd.settime", timerfd_settime(t, 0, &its, NULL));
	sleep_ms(60);
	long r = C(read(t, &n, 8));
	CASE("timerfd.read_expired", "%s count=%llu", r_(r), (unsigned long long)n);
	timerfd_gettime(t, &cur);
	CASE("timerfd.gettime_disarmed", "%ld.%09ld", (long)cur.it_value.tv_sec, cur.it_value.tv_nsec);
	T("timerfd.read_short", read(t, &n, 4));
	its = (struct itimerspec){{0, 10000000}, {0, 10000000}};
	timerfd_settime(t, 0, &its, NULL);
	sleep_ms(55);
	r = C(read(t, &n, 8));
	CASE("timerfd.periodic_count", "%s count>=3:%d", r_(r), n >= 3);
	struct itimerspec old;
	its = (struct itimerspec){{0, 0}, {100, 0}};
	T("timerfd.settime_old", timerfd_settime(t, 0, &its, &old));
	CASE("timerfd.settime_old_interval", "%ld.%09ld", (long)old.it_interval.tv_sec, old.it_interval.tv_nsec);
	{
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		/* 1ns past the clock's zero: always in the past. now-1s is not: a
	 * sandbox's CLOCK_MONOTONIC starts near 0 when it boots. */
	its = (struct itimerspec){{0, 0}, {0, 1}};
		T("timerfd.abstime_past", timerfd_settime(t, TFD_TIMER_ABSTIME, &its, NULL));
		r = C(read(t, &n, 8));
		CASE("timerfd.abstime_past_fires", "%s count=%llu", r_(r), (unsigned long long)n);
	}
	its = (struct itimerspec){{0, 0}, {0, 1000000000}};
	T("timerfd.settime_bad_nsec", timerfd_settime(t, 0, &its, NULL));
	its = (struct itimerspec){{0, 0}, {1, 0}};
	T("timerfd.settime_bad_flags", timerfd_settime(t, 0x10, &its, NULL));
	T("timerfd.cancel_on_set_monotonic", timerfd_settime(t, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &its, NULL));
	close(t);
	t = TFD("timerfd.create_realtime", timerfd_create(CLOCK_REALTIME, 0));
	T("timerfd.cancel_on_set_realtime", timerfd_settime(t, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &its, NULL));
	close(t);
	t = TFD("timerfd.create_boottime", timerfd_create(CLOCK_BOOTTIME, 0));
	close(t);
	TFD("timerfd.create_realtime_alarm", timerfd_create(CLOCK_REALTIME_ALARM, 0));
	TFD("timerfd.create_process_cputime", timerfd_create(CLOCK_PROCESS_CPUTIME_ID, 0));
	TFD("timerfd.create_bad_clock", timerfd_create(99, 0));
	TFD("timerfd.create_bad_flags", timerfd_create(CLOCK_MONOTONIC, 0x1));
	T("timerfd.settime_on_non_timerfd", timerfd_settime(0, 0, &its, NULL));
	/* Blocking read returns once. */
	t = timerfd_create(CLOCK_MONOTONIC, 0);
	its = (struct itimerspec){{0, 0}, {0, 20000000}};
	timerfd_settime(t, 0, &its, NULL);
	long long t0 = now_ns(CLOCK_MONOTONIC);
	r = C(read(t, &n, 8));
	CASE("timerfd.blocking_read", "%s count=%llu elapsed>=20ms:%d", r_(r), (unsigned long long)n, now_ns(CLOCK_MONOTONIC) - t0 >= 20000000);
	close(t);
}

static void g_signalfd(void)
{
	sigset_t m;
	sigemptyset(&m);
	sigaddset(&m, SIGUSR1);
	sigaddset(&m, SIGUSR2);
	sigprocmask(SIG_BLOCK, &m, NULL);
	int s = TFD("signalfd.create", signalfd(-1, &m, SFD_NONBLOCK));
	struct signalfd_siginfo si;
	T("signalfd.read_empty", read(s, &si, sizeof si));
	raise(SIGUSR1);
	memset(&si, 0, sizeof si);
	long r = C(read(s, &si, sizeof si));
	CASE("signalfd.read_raise", "%s signo=%s code=%d pid=%s", r_(r), signame(si.ssi_signo), si.ssi_code, si.ssi_pid == (uint32_t)getpid() ? "self" : "other");
	union sigval sv = {.sival_int = 77};
	sigqueue(getpid(), SIGUSR2, sv);
	memset(&si, 0, sizeof si);
	r = C(read(s, &si, sizeof si));
	CASE("signalfd.read_sigqueue", "%s signo=%s code=%d int=%d", r_(r), signame(si.ssi_signo), si.ssi_code, si.ssi_int);
	raise(SIGUSR1);
	T("signalfd.read_small_buf", read(s, &si, 10));
	{
		struct pollfd pf = {s, POLLIN, 0};
		poll(&pf, 1, 0);
		CASE("signalfd.poll_pending", "%s", pollev(pf.revents));
	}
	{
		struct signalfd_siginfo two[2];
		raise(SIGUSR2);
		r = C(read(s, two, sizeof two));
		CASE("signalfd.read_two", "%s", r_(r));
	}
	sigset_t m2;
	sigemptyset(&m2);
	sigaddset(&m2, SIGUSR2);
	{
		long u = C(signalfd(s, &m2, 0));
		CASE("signalfd.update_mask", "%s", u == s ? "same fd" : u >= 0 ? "new fd" : r_(u));
	}
	raise(SIGUSR1);
	T("signalfd.masked_out_after_update", read(s, &si, sizeof si));
	sigset_t pend;
	sigpending(&pend);
	CASE("signalfd.still_pending_after_update", "%d", sigismember(&pend, SIGUSR1));
	sigset_t k;
	sigemptyset(&k);
	sigaddset(&k, SIGKILL);
	sigaddset(&k, SIGSTOP);
	T("signalfd.sigkill_ignored", ({ int f = signalfd(-1, &k, 0); if (f >= 0) close(f); f >= 0 ? 0 : -1; }));
	T("signalfd.bad_fd", signalfd(0, &m, 0));
	T("signalfd.bad_flags", signalfd(-1, &m, 0x1));
	T("signalfd.bad_size", syscall(SYS_signalfd4, -1, &m, 4, 0));
	CASE("signalfd.flags", "%s", openflags(fcntl(s, F_GETFL)));
	/* A child's signalfd sees its own signals, not the parent's. */
	pid_t c = fork();
	if (c == 0) {
		struct signalfd_siginfo ci;
		raise(SIGUSR2);
		long rr = C(read(s, &ci, sizeof ci));
		CASE("signalfd.child_reads_own", "%s signo=%s", r_(rr), rr > 0 ? signame(ci.ssi_signo) : "");
		_exit(0);
	}
	waitchild(c);
	close(s);
}

static const char *inotify_events(int fd)
{
	KEEP_E;
	char buf[4096] __attribute__((aligned(8)));
	char *b = sbuf();
	long n = C(read(fd, buf, sizeof buf));
	if (n < 0)
		return RESTORE_E((const char *)(r_(n)));
	int k = 0;
	uint32_t cookie = 0;
	for (char *p = buf; p < buf + n;) {
		struct inotify_event *ev = (struct inotify_event *)p;
		static const struct {
			uint32_t bit;
			const char *name;
		} names[] = {{IN_ACCESS, "ACCESS"}, {IN_MODIFY, "MODIFY"}, {IN_ATTRIB, "ATTRIB"}, {IN_CLOSE_WRITE, "CLOSE_WRITE"}, {IN_CLOSE_NOWRITE, "CLOSE_NOWRITE"}, {IN_OPEN, "OPEN"}, {IN_MOVED_FROM, "MOVED_FROM"}, {IN_MOVED_TO, "MOVED_TO"}, {IN_CREATE, "CREATE"}, {IN_DELETE, "DELETE"}, {IN_DELETE_SELF, "DELETE_SELF"}, {IN_MOVE_SELF, "MOVE_SELF"}, {IN_UNMOUNT, "UNMOUNT"}, {IN_Q_OVERFLOW, "Q_OVERFLOW"}, {IN_IGNORED, "IGNORED"}, {IN_ISDIR, "ISDIR"}};
		k += snprintf(b + k, 2048 - k, "%s", k ? ";" : "");
		int first = 1;
		for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
			if (ev->mask & names[i].bit) {
				k += snprintf(b + k, 2048 - k, "%s%s", first ? "" : "|", names[i].name);
				first = 0;
			}
		if (ev->len)
			k += snprintf(b + k, 2048 - k, ":%s", ev->name);
		if (ev->cookie) {
			k += snprintf(b + k, 2048 - k, cookie == 0 ? ":cookie" : ev->cookie == cookie ? ":samecookie" : ":othercookie");
			cookie = ev->cookie;
		}
		p += sizeof *ev + ev->len;
	}
	return RESTORE_E((const char *)(b));
}

static void g_inotify(void)
{
	rmtree(DIR_);
	mkdir(DIR_, 0755);
	int in = TFD("inotify.init", inotify_init1(IN_NONBLOCK));
	int wd = C(inotify_add_watch(in, DIR_, IN_ALL_EVENTS));
	CASE("inotify.add_watch_dir", "%s", wd > 0 ? "positive" : r_(wd));
	CASE("inotify.read_empty", "%s", inotify_events(in));
	int fd = open(DIR_ "/f", O_CREAT | O_WRONLY, 0644);
	CASE("inotify.create", "%s", inotify_events(in));
	write(fd, "x", 1);
	CASE("inotify.modify", "%s", inotify_events(in));
	close(fd);
	CASE("inotify.close_write", "%s", inotify_events(in));
	fd = open(DIR_ "/f", O_RDONLY);
	char c;
	read(fd, &c, 1);
	close(fd);
	CASE("inotify.open_access_close", "%s", inotify_events(in));
	chmod(DIR_ "/f", 0600);
	CASE("inotify.attrib", "%s", inotify_events(in));
	rename(DIR_ "/f", DIR_ "/g");
	CASE("inotify.rename", "%s", inotify_events(in));
	mkdir(DIR_ "/sub", 0755);
	CASE("inotify.mkdir", "%s", inotify_events(in));
	rmdir(DIR_ "/sub");
	CASE("inotify.rmdir", "%s", inotify_events(in));
	{
		int n = -1;
		writefile(DIR_ "/h", "", 0644);
		ioctl(in, FIONREAD, &n);
		CASE("inotify.fionread", "%s", n > 0 ? "positive" : r_(n));
		inotify_events(in);
	}
	unlink(DIR_ "/g");
	CASE("inotify.unlink", "%s", inotify_events(in));
	/* Watch on a file. */
	writefile(DIR_ "/w", "", 0644);
	inotify_events(in);
	int wf = C(inotify_add_watch(in, DIR_ "/w", IN_MODIFY | IN_DELETE_SELF | IN_ATTRIB));
	CASE("inotify.add_watch_file", "%s", wf > 0 ? (wf != wd ? "new" : "same") : r_(wf));
	int again = C(inotify_add_watch(in, DIR_ "/w", IN_MODIFY));
	CASE("inotify.add_watch_again_same_wd", "%s", again == wf ? "same" : r_(again));
	T("inotify.mask_create_existing", inotify_add_watch(in, DIR_ "/w", IN_MODIFY | IN_MASK_CREATE));
	T("inotify.mask_add_create", inotify_add_watch(in, DIR_ "/w", IN_MODIFY | IN_MASK_ADD | IN_MASK_CREATE));
	inotify_rm_watch(in, wd);
	CASE("inotify.rm_watch_ignored", "%s", inotify_events(in));
	T("inotify.rm_watch_again", inotify_rm_watch(in, wd));
	unlink(DIR_ "/w");
	CASE("inotify.delete_self", "%s", inotify_events(in));
	T("inotify.add_missing", inotify_add_watch(in, DIR_ "/missing", IN_ALL_EVENTS));
	writefile(DIR_ "/file", "", 0644);
	T("inotify.onlydir_on_file", inotify_add_watch(in, DIR_ "/file", IN_ONLYDIR | IN_MODIFY));
	T("inotify.zero_mask", inotify_add_watch(in, DIR_, 0));
	T("inotify.bad_fd", inotify_add_watch(0, DIR_, IN_MODIFY));
	T("inotify.init_bad_flags", inotify_init1(0x1));
	/* Oneshot: one event then IGNORED. */
	int wo = inotify_add_watch(in, DIR_ "/file", IN_MODIFY | IN_ONESHOT);
	(void)wo;
	fd = open(DIR_ "/file", O_WRONLY);
	write(fd, "a", 1);
	write(fd, "b", 1);
	close(fd);
	CASE("inotify.oneshot", "%s", inotify_events(in));
	/* Watching with IN_DONT_FOLLOW on a symlink watches the link. */
	symlink("file", DIR_ "/link");
	int wl = C(inotify_add_watch(in, DIR_ "/link", IN_ATTRIB | IN_DONT_FOLLOW));
	chmod(DIR_ "/file", 0600);
	CASE("inotify.dont_follow", "%s %s", wl > 0 ? "ok" : r_(wl), inotify_events(in));
	/* Watches on the same inode via a hard link. */
	int wdir = inotify_add_watch(in, DIR_, IN_CREATE | IN_EXCL_UNLINK);
	(void)wdir;
	link(DIR_ "/file", DIR_ "/hard");
	CASE("inotify.link_create", "%s", inotify_events(in));
	close(in);
	rmtree(DIR_);
}

static void g_epoll(void)
{
	int ep = TFD("epoll.create1", epoll_create1(0));
	T("epoll.create_zero", epoll_create(0));
	T("epoll.create1_bad_flags", epoll_create1(1));
	int p[2];
	pipe2(p, O_NONBLOCK);
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 0x1122334455667788ULL}, out[8];
	T("epoll.ctl_add", epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
	T("epoll.ctl_add_again", epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
	T("epoll.ctl_mod_missing", epoll_ctl(ep, EPOLL_CTL_MOD, p[1], &ev));
	T("epoll.ctl_del_missing", epoll_ctl(ep, EPOLL_CTL_DEL, p[1], &ev));
	T("epoll.ctl_add_self", epoll_ctl(ep, EPOLL_CTL_ADD, ep, &ev));
	{
		int f = open("/proc/self/exe", O_RDONLY);
		T("epoll.ctl_add_regular_file", epoll_ctl(ep, EPOLL_CTL_ADD, f, &ev));
		close(f);
	}
	T("epoll.ctl_bad_op", epoll_ctl(ep, 99, p[0], &ev));
	T("epoll.ctl_on_non_epoll", epoll_ctl(p[0], EPOLL_CTL_ADD, p[1], &ev));
	T("epoll.wait_empty", epoll_wait(ep, out, 8, 0));
	T("epoll.wait_maxevents_zero", epoll_wait(ep, out, 0, 0));
	write(p[1], "x", 1);
	long r = C(epoll_wait(ep, out, 8, 0));
	CASE("epoll.level_first", "%s ev=%s data=%s", r_(r), pollev(out[0].events), out[0].data.u64 == 0x1122334455667788ULL ? "match" : "mismatch");
	T("epoll.level_second", epoll_wait(ep, out, 8, 0));
	ev.events = EPOLLIN | EPOLLET;
	epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev);
	T("epoll.edge_first", epoll_wait(ep, out, 8, 0));
	T("epoll.edge_second", epoll_wait(ep, out, 8, 0));
	write(p[1], "y", 1);
	T("epoll.edge_new_data", epoll_wait(ep, out, 8, 0));
	T("epoll.edge_after_new_data", epoll_wait(ep, out, 8, 0));
	ev.events = EPOLLIN | EPOLLONESHOT;
	epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev);
	T("epoll.oneshot_first", epoll_wait(ep, out, 8, 0));
	T("epoll.oneshot_second", epoll_wait(ep, out, 8, 0));
	T("epoll.oneshot_rearm", epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev));
	T("epoll.oneshot_after_rearm", epoll_wait(ep, out, 8, 0));
	ev.events = EPOLLIN | EPOLLEXCLUSIVE;
	T("epoll.exclusive_mod", epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev));
	epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL);
	T("epoll.exclusive_add", epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
	epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL);
	ev.events = EPOLLOUT;
	epoll_ctl(ep, EPOLL_CTL_ADD, p[1], &ev);
	r = C(epoll_wait(ep, out, 8, 0));
	CASE("epoll.pipe_writable", "%s ev=%s", r_(r), pollev(out[0].events));
	close(p[0]);
	r = C(epoll_wait(ep, out, 8, 0));
	CASE("epoll.pipe_reader_closed", "%s ev=%s", r_(r), pollev(out[0].events));
	epoll_ctl(ep, EPOLL_CTL_DEL, p[1], NULL);
	/* Closing an fd removes it from the set. */
	pipe2(p, O_NONBLOCK);
	ev.events = EPOLLIN;
	epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
	write(p[1], "z", 1);
	close(p[0]);
	T("epoll.closed_fd_removed", epoll_wait(ep, out, 8, 0));
	close(p[1]);
	/* Socket events: RDHUP on shutdown, HUP when both directions close. */
	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
	epoll_ctl(ep, EPOLL_CTL_ADD, sv[0], &ev);
	r = C(epoll_wait(ep, out, 8, 0));
	CASE("epoll.socket_idle", "%s ev=%s", r_(r), pollev(out[0].events));
	shutdown(sv[1], SHUT_WR);
	r = C(epoll_wait(ep, out, 8, 0));
	CASE("epoll.socket_peer_shut_wr", "%s ev=%s", r_(r), pollev(out[0].events));
	close(sv[1]);
	r = C(epoll_wait(ep, out, 8, 0));
	CASE("epoll.socket_peer_closed", "%s ev=%s", r_(r), pollev(out[0].events));
	close(sv[0]);
	/* Timeouts and pwait2. */
	long long t0 = now_ns(CLOCK_MONOTONIC);
	T("epoll.wait_timeout", epoll_wait(ep, out, 8, 30));
	CASE("epoll.wait_timeout_elapsed", ">=30ms:%d", now_ns(CLOCK_MONOTONIC) - t0 >= 30000000);
	struct timespec ts = {0, 20000000};
	t0 = now_ns(CLOCK_MONOTONIC);
	T("epoll.pwait2", syscall(441 /* epoll_pwait2 */, ep, out, 8, &ts, NULL, 8));
	CASE("epoll.pwait2_elapsed", ">=20ms:%d", now_ns(CLOCK_MONOTONIC) - t0 >= 20000000);
	/* Nested epoll and an eventfd. */
	int ep2 = epoll_create1(0);
	int e = eventfd(1, 0);
	ev.events = EPOLLIN;
	epoll_ctl(ep2, EPOLL_CTL_ADD, e, &ev);
	T("epoll.nested_add", epoll_ctl(ep, EPOLL_CTL_ADD, ep2, &ev));
	r = C(epoll_wait(ep, out, 8, 0));
	CASE("epoll.nested_ready", "%s ev=%s", r_(r), pollev(out[0].events));
	T("epoll.nested_loop", epoll_ctl(ep2, EPOLL_CTL_ADD, ep, &ev));
	close(e);
	close(ep2);
	close(ep);
}

/* Alone in its group: a sandbox that ignores the bad timeout blocks here. */
static void g_epoll_badtimeout(void)
{
	int ep = epoll_create1(0);
	struct epoll_event out[1];
	struct timespec ts = {0, -1};
	T("epoll.pwait2_bad_timeout", syscall(441, ep, out, 1, &ts, NULL, 8));
	close(ep);
}

static void g_poll(void)
{
	int p[2];
	pipe2(p, O_NONBLOCK);
	struct pollfd pf[4];
	pf[0] = (struct pollfd){p[0], POLLIN, 0};
	pf[1] = (struct pollfd){p[1], POLLOUT, 0};
	long r = C(poll(pf, 2, 0));
	CASE("poll.idle_pipe", "%s r=%s w=%s", r_(r), pollev(pf[0].revents), pollev(pf[1].revents));
	write(p[1], "x", 1);
	r = C(poll(pf, 2, 0));
	CASE("poll.data", "%s r=%s w=%s", r_(r), pollev(pf[0].revents), pollev(pf[1].revents));
	pf[0].events = 0;
	r = C(poll(pf, 1, 0));
	CASE("poll.events_zero", "%s r=%s", r_(r), pollev(pf[0].revents));
	pf[0] = (struct pollfd){-1, POLLIN, 0x7};
	r = C(poll(pf, 1, 0));
	CASE("poll.negative_fd", "%s revents=%s", r_(r), pollev(pf[0].revents));
	pf[0] = (struct pollfd){999, POLLIN, 0};
	r = C(poll(pf, 1, 0));
	CASE("poll.bad_fd", "%s revents=%s", r_(r), pollev(pf[0].revents));
	close(p[1]);
	pf[0] = (struct pollfd){p[0], POLLIN, 0};
	r = C(poll(pf, 1, 0));
	CASE("poll.writer_closed_with_data", "%s revents=%s", r_(r), pollev(pf[0].revents));
	char c;
	read(p[0], &c, 1);
	r = C(poll(pf, 1, 0));
	CASE("poll.writer_closed_empty", "%s revents=%s", r_(r), pollev(pf[0].revents));
	close(p[0]);
	pipe2(p, O_NONBLOCK);
	close(p[0]);
	pf[0] = (struct pollfd){p[1], POLLOUT, 0};
	r = C(poll(pf, 1, 0));
	CASE("poll.reader_closed", "%s revents=%s", r_(r), pollev(pf[0].revents));
	close(p[1]);
	int f = open("/proc/self/exe", O_RDONLY);
	pf[0] = (struct pollfd){f, POLLIN | POLLOUT | POLLPRI, 0};
	r = C(poll(pf, 1, 0));
	CASE("poll.regular_file", "%s revents=%s", r_(r), pollev(pf[0].revents));
	close(f);
	f = open("/dev/null", O_RDWR);
	pf[0] = (struct pollfd){f, POLLIN | POLLOUT, 0};
	r = C(poll(pf, 1, 0));
	CASE("poll.dev_null", "%s revents=%s", r_(r), pollev(pf[0].revents));
	close(f);
	long long t0 = now_ns(CLOCK_MONOTONIC);
	r = C(poll(NULL, 0, 30));
	CASE("poll.timeout_only", "%s elapsed>=30ms:%d", r_(r), now_ns(CLOCK_MONOTONIC) - t0 >= 30000000);
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	T("poll.nfds_over_rlimit", poll(pf, rl.rlim_cur + 1, 0));
	struct timespec ts = {0, 10000000};
	sigset_t m;
	sigemptyset(&m);
	T("ppoll.timeout", ppoll(NULL, 0, &ts, &m));
	ts.tv_nsec = 2000000000L;
	T("ppoll.bad_timeout", ppoll(NULL, 0, &ts, &m));

	pipe2(p, O_NONBLOCK);
	fd_set rs, ws, es;
	FD_ZERO(&rs);
	FD_ZERO(&ws);
	FD_ZERO(&es);
	FD_SET(p[0], &rs);
	FD_SET(p[1], &ws);
	struct timeval tv = {0, 0};
	r = C(select(p[1] + 1, &rs, &ws, &es, &tv));
	CASE("select.idle", "%s r=%d w=%d", r_(r), FD_ISSET(p[0], &rs), FD_ISSET(p[1], &ws));
	write(p[1], "x", 1);
	FD_SET(p[0], &rs);
	FD_SET(p[1], &ws);
	r = C(select(p[1] + 1, &rs, &ws, &es, &tv));
	CASE("select.data", "%s r=%d w=%d", r_(r), FD_ISSET(p[0], &rs), FD_ISSET(p[1], &ws));
	FD_ZERO(&rs);
	FD_SET(p[0], &rs);
	FD_SET(900, &rs);
	T("select.bad_fd", select(901, &rs, NULL, NULL, &tv));
	T("select.negative_nfds", select(-1, NULL, NULL, NULL, &tv));
	tv.tv_usec = 30000;
	t0 = now_ns(CLOCK_MONOTONIC);
	r = C(select(0, NULL, NULL, NULL, &tv));
	CASE("select.timeout", "%s elapsed>=30ms:%d remaining=%ld.%06ld", r_(r), now_ns(CLOCK_MONOTONIC) - t0 >= 30000000, (long)tv.tv_sec, (long)tv.tv_usec);
	tv.tv_usec = -1;
	T("select.bad_timeout", select(0, NULL, NULL, NULL, &tv));
	struct timespec pts = {0, 20000000};
	T("pselect.timeout", pselect(0, NULL, NULL, NULL, &pts, &m));
	CASE("pselect.timeout_unchanged", "%ld.%09ld", (long)pts.tv_sec, pts.tv_nsec);
	FD_ZERO(&rs);
	FD_SET(p[0], &rs);
	tv = (struct timeval){0, 0};
	T("select.nfds_huge", select(1 << 20, &rs, NULL, NULL, &tv));
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	g_area = "fds";
	signal(SIGPIPE, SIG_IGN);
	run_group("dup", g_dup, 20);
	run_group("locks", g_locks, 30);
	run_group("pipes", g_pipes, 20);
	run_group("eventfd", g_eventfd, 20);
	run_group("timerfd", g_timerfd, 20);
	run_group("signalfd", g_signalfd, 20);
	run_group("inotify", g_inotify, 20);
	run_group("epoll", g_epoll, 20);
	run_group("epoll_badtimeout", g_epoll_badtimeout, 5);
	run_group("poll", g_poll, 20);
	return 0;
}
