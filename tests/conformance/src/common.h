/*
 * Shared helpers for the differential conformance programs.
 *
 * Every program prints one line per case:
 *
 *     CASE <area>.<name> <result>
 *
 * and nothing in <result> may vary between two runs on the same native
 * kernel: no pids, fd numbers that depend on history, addresses, inode
 * numbers or times. Results are compared textually by the Go runner
 * (tests/conformance/cmd/conformance), so this header centralises the
 * formatting (errno names, escaping, sorted lists) to keep it uniform.
 *
 * Cases are organised in groups; each group runs in a forked child with a
 * deadline so that one crash or hang loses one group, not the whole area. A
 * group that dies abnormally is reported as the extra case
 * "<area>.<group>.ABORTED", which never appears in a clean native run.
 *
 * Output goes through write(2) only (never stdio) so that nothing is lost or
 * duplicated across fork and abnormal exits.
 */
#ifndef CONFORMANCE_COMMON_H
#define CONFORMANCE_COMMON_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *g_area = "unknown";

/* E holds errno as it was right after the last C() evaluation. */
static int E;
#define C(expr) ({ errno = 0; long _c_r = (long)(expr); E = errno; _c_r; })

static __attribute__((unused)) const char *ename(int e)
{
	static char buf[8][32];
	static int i;
	const char *n = strerrorname_np(e);
	if (n)
		return n;
	char *b = buf[i++ & 7];
	snprintf(b, 32, "E#%d", e);
	return b;
}

static __attribute__((unused)) const char *signame(int s)
{
	static char buf[8][32];
	static int i;
	char *b = buf[i++ & 7];
	if (s >= SIGRTMIN && s <= SIGRTMAX) {
		snprintf(b, 32, "SIGRTMIN+%d", s - SIGRTMIN);
		return b;
	}
	const char *n = sigabbrev_np(s);
	if (n)
		snprintf(b, 32, "SIG%s", n);
	else
		snprintf(b, 32, "SIG#%d", s);
	return b;
}

/* A pool of scratch strings so helpers can be nested in one CASE call. */
static __attribute__((unused)) char *sbuf(void)
{
	static char pool[32][2048];
	static int i;
	char *b = pool[i++ & 31];
	b[0] = 0;
	return b;
}

/* r_: "-1 ENAME" on failure, the value otherwise. Reads E. */
static __attribute__((unused)) const char *r_(long r)
{
	char *b = sbuf();
	if (r < 0 && E != 0)
		snprintf(b, 2048, "-1 %s", ename(E));
	else
		snprintf(b, 2048, "%ld", r);
	return b;
}

/* r_fd: like r_, but a descriptor is shown as "fd" (its number is history). */
static __attribute__((unused)) const char *r_fd(long r)
{
	return r >= 0 ? "fd" : r_(r);
}

/* r_ok: "ok" for any non-negative result (used where the value varies). */
static __attribute__((unused)) const char *r_ok(long r)
{
	return r >= 0 ? "ok" : r_(r);
}

static __attribute__((unused)) void emit_raw(const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(1, s, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		s += w;
		n -= (size_t)w;
	}
}

/* CASE prints one record; the result is escaped to stay on one line. */
__attribute__((format(printf, 2, 3))) static __attribute__((unused)) void CASE(const char *name, const char *fmt, ...)
{
	char val[4096], line[8192];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(val, sizeof val, fmt, ap);
	va_end(ap);
	int n = snprintf(line, sizeof line, "CASE %s.%s ", g_area, name);
	for (const unsigned char *p = (const unsigned char *)val; *p && n < (int)sizeof line - 8; p++) {
		if (*p == '\n')
			n += snprintf(line + n, sizeof line - n, "\\n");
		else if (*p == '\\')
			n += snprintf(line + n, sizeof line - n, "\\\\");
		else if (*p < 0x20 || *p >= 0x7f)
			n += snprintf(line + n, sizeof line - n, "\\x%02x", *p);
		else
			line[n++] = (char)*p;
	}
	line[n++] = '\n';
	emit_raw(line, (size_t)n);
}

/* T records the return of a call that yields 0/-1 or a meaningful count. */
#define T(name, expr) CASE(name, "%s", r_(C(expr)))
/* TFD records a descriptor-returning call and evaluates to the descriptor. */
#define TFD(name, expr) ({ long _t_fd = C(expr); CASE(name, "%s", r_fd(_t_fd)); (int)_t_fd; })

/* quoted renders bytes as a printable quoted string. */
static __attribute__((unused)) const char *quoted(const void *data, long n)
{
	char *b = sbuf();
	const unsigned char *p = data;
	int k = 0;
	if (n < 0)
		return r_(n);
	b[k++] = '"';
	for (long i = 0; i < n && k < 2000; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' && p[i] != '\\')
			b[k++] = (char)p[i];
		else
			k += snprintf(b + k, 2048 - k, "\\x%02x", p[i]);
	}
	b[k++] = '"';
	b[k] = 0;
	return b;
}

/* readstr reads up to n bytes at the current offset and quotes them. */
/*
 * Helpers that make their own calls leave E as they found it, so that they
 * can sit in the same CASE argument list as an r_() of an earlier result
 * (argument evaluation order is unspecified).
 */
#define KEEP_E int _saved_E = E
#define RESTORE_E(v) ({ __typeof__(v) _rv = (v); E = _saved_E; _rv; })

static __attribute__((unused)) const char *readstr(int fd, long n)
{
	KEEP_E;
	char tmp[1024];
	if (n > (long)sizeof tmp)
		n = sizeof tmp;
	long r = C(read(fd, tmp, n));
	return RESTORE_E(quoted(tmp, r));
}

static __attribute__((unused)) const char *preadstr(int fd, long n, off_t off)
{
	KEEP_E;
	char tmp[1024];
	if (n > (long)sizeof tmp)
		n = sizeof tmp;
	long r = C(pread(fd, tmp, n, off));
	return RESTORE_E(quoted(tmp, r));
}

static __attribute__((unused)) int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* joinsorted sorts v[0..n) in place and joins with sep. */
static __attribute__((unused)) const char *joinsorted(char **v, int n, const char *sep)
{
	char *b = sbuf();
	qsort(v, n, sizeof v[0], cmpstr);
	int k = 0;
	for (int i = 0; i < n && k < 2000; i++)
		k += snprintf(b + k, 2048 - k, "%s%s", i ? sep : "", v[i]);
	return b;
}

/* readfile reads a whole small file into a static-per-call heap buffer. */
static __attribute__((unused)) char *readfile(const char *path, long *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		E = errno;
		if (len)
			*len = -1;
		return NULL;
	}
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap + 1);
	for (;;) {
		if (n == cap) {
			cap *= 2;
			buf = realloc(buf, cap + 1);
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0) {
			E = errno;
			close(fd);
			free(buf);
			if (len)
				*len = -1;
			return NULL;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = 0;
	if (len)
		*len = (long)n;
	return buf;
}

static __attribute__((unused)) int writefile(const char *path, const char *data, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -1;
	size_t n = strlen(data);
	int r = write(fd, data, n) == (ssize_t)n ? 0 : -1;
	close(fd);
	return r;
}

static __attribute__((unused)) long long now_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static __attribute__((unused)) void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* waitstatus renders a wait(2) status without the pid. */
static __attribute__((unused)) const char *waitstatus(int st)
{
	char *b = sbuf();
	if (WIFEXITED(st))
		snprintf(b, 2048, "exit %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(b, 2048, "signal %s%s", signame(WTERMSIG(st)), WCOREDUMP(st) ? " core" : "");
	else if (WIFSTOPPED(st))
		snprintf(b, 2048, "stopped %s", signame(WSTOPSIG(st)));
	else if (WIFCONTINUED(st))
		snprintf(b, 2048, "continued");
	else
		snprintf(b, 2048, "status %#x", st);
	return b;
}

/* waitchild reaps pid (retrying EINTR) and returns its rendered status. */
static __attribute__((unused)) const char *waitchild(pid_t pid)
{
	KEEP_E;
	int st;
	pid_t r;
	while ((r = waitpid(pid, &st, __WALL)) < 0 && errno == EINTR)
		;
	if (r < 0) {
		E = errno;
		return RESTORE_E(r_(-1));
	}
	return waitstatus(st);
}

/*
 * subproc runs fn in a child whose exit status is the result; used for
 * cases that are expected to die by a signal or need changed credentials.
 * The child is made non-dumpable so an intended crash never writes a core.
 */
static __attribute__((unused)) const char *subproc(int (*fn)(void *), void *arg)
{
	KEEP_E;
	pid_t p = fork();
	if (p < 0) {
		E = errno;
		return RESTORE_E(r_(-1));
	}
	if (p == 0) {
		prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
		_exit(fn(arg) & 0xff);
	}
	return waitchild(p);
}

static __attribute__((unused)) const char *openflags(int fl)
{
	static const struct {
		int bit;
		const char *name;
	} names[] = {
	    {O_APPEND, "O_APPEND"}, {O_NONBLOCK, "O_NONBLOCK"}, {O_DSYNC, "O_DSYNC"},
	    {O_ASYNC, "O_ASYNC"}, {O_DIRECT, "O_DIRECT"}, {0100000, "O_LARGEFILE"},
	    {O_DIRECTORY, "O_DIRECTORY"}, {O_NOFOLLOW, "O_NOFOLLOW"}, {O_NOATIME, "O_NOATIME"},
	    {O_CLOEXEC, "O_CLOEXEC"}, {O_SYNC & ~O_DSYNC, "__O_SYNC"}, {O_PATH, "O_PATH"},
	    {O_CREAT, "O_CREAT"}, {O_EXCL, "O_EXCL"}, {O_NOCTTY, "O_NOCTTY"},
	    {O_TRUNC, "O_TRUNC"}, {__O_TMPFILE & ~O_DIRECTORY, "__O_TMPFILE"},
	};
	char *b = sbuf();
	if (fl < 0)
		return r_(fl);
	int acc = fl & O_ACCMODE;
	int k = snprintf(b, 2048, "%s", acc == O_RDONLY ? "O_RDONLY" : acc == O_WRONLY ? "O_WRONLY" : acc == O_RDWR ? "O_RDWR" : "O_ACC3");
	fl &= ~O_ACCMODE;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if ((fl & names[i].bit) == names[i].bit) {
			k += snprintf(b + k, 2048 - k, "|%s", names[i].name);
			fl &= ~names[i].bit;
		}
	if (fl)
		snprintf(b + k, 2048 - k, "|%#x", fl);
	return b;
}

/* ftype names the file type bits of a mode. */
static __attribute__((unused)) const char *ftype(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFREG: return "reg";
	case S_IFDIR: return "dir";
	case S_IFLNK: return "lnk";
	case S_IFIFO: return "fifo";
	case S_IFSOCK: return "sock";
	case S_IFCHR: return "chr";
	case S_IFBLK: return "blk";
	}
	return "?";
}

/* statdesc: type, permission bits, size and link count (no inode, no times). */
static __attribute__((unused)) const char *statdesc(const char *path, int nofollow)
{
	KEEP_E;
	struct stat st;
	long r = nofollow ? C(lstat(path, &st)) : C(stat(path, &st));
	if (r < 0)
		return RESTORE_E(r_(r));
	char *b = sbuf();
	snprintf(b, 2048, "%s mode=%04o size=%lld nlink=%lu uid=%u gid=%u", ftype(st.st_mode),
		 st.st_mode & 07777, (long long)st.st_size, (unsigned long)st.st_nlink, st.st_uid, st.st_gid);
	return RESTORE_E((const char *)b);
}

static __attribute__((unused)) const char *fstatdesc(int fd)
{
	KEEP_E;
	struct stat st;
	long r = C(fstat(fd, &st));
	if (r < 0)
		return RESTORE_E(r_(r));
	char *b = sbuf();
	snprintf(b, 2048, "%s mode=%04o size=%lld nlink=%lu uid=%u gid=%u", ftype(st.st_mode),
		 st.st_mode & 07777, (long long)st.st_size, (unsigned long)st.st_nlink, st.st_uid, st.st_gid);
	return RESTORE_E((const char *)b);
}

/* rmtree removes a scratch directory left by an earlier group. */
static __attribute__((unused)) int rmtree_cb(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
	(void)sb;
	(void)flag;
	(void)f;
	remove(p);
	return 0;
}

static __attribute__((unused)) void rmtree(const char *path)
{
	nftw(path, rmtree_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/*
 * wait_blocked waits (bounded) until pid sleeps in the kernel, so that a
 * case about waking a blocked waiter does not race with the waiter getting
 * there. A sleep alone is not enough on a loaded machine.
 */
static __attribute__((unused)) void wait_blocked(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	for (int i = 0; i < 600; i++) {
		char *s = readfile(path, NULL);
		char *q = s ? strrchr(s, ')') : NULL;
		char st = q ? q[2] : '?';
		free(s);
		if (st == 'S' || st == 'D')
			break;
		sleep_ms(5);
	}
	sleep_ms(10);
}

/*
 * run_group forks fn with a deadline. The parent is usually pid 1 in the
 * container, so it reaps any orphan it sees while waiting.
 */
static __attribute__((unused)) void run_group(const char *group, void (*fn)(void), int timeout_s)
{
	pid_t p = fork();
	if (p < 0) {
		CASE("harness.fork", "%s", r_(-1));
		return;
	}
	if (p == 0) {
		setpgid(0, 0);
		fn();
		_exit(0);
	}
	setpgid(p, p);
	long long deadline = now_ns(CLOCK_MONOTONIC) + (long long)timeout_s * 1000000000LL;
	int st = 0, done = 0, timed_out = 0;
	while (!done) {
		int s;
		pid_t r = waitpid(-1, &s, WNOHANG | __WALL);
		if (r == p) {
			st = s;
			done = 1;
			break;
		}
		if (r > 0)
			continue;
		if (now_ns(CLOCK_MONOTONIC) > deadline) {
			kill(-p, SIGKILL);
			kill(p, SIGKILL);
			waitpid(p, &st, __WALL);
			timed_out = 1;
			break;
		}
		struct timespec ts = {0, 2000000};
		nanosleep(&ts, NULL);
	}
	/* Helpers left behind by the group must not leak into the next one. */
	kill(-p, SIGKILL);
	while (waitpid(-1, NULL, WNOHANG | __WALL) > 0)
		;
	char name[256];
	snprintf(name, sizeof name, "%s.ABORTED", group);
	if (timed_out)
		CASE(name, "timeout after %ds", timeout_s);
	else if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0))
		CASE(name, "%s", waitstatus(st));
}

#endif
