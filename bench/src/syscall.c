/*
 * syscall: latency of cheap system calls, the cost gVisor adds most visibly
 * (every syscall is trapped and served by the Sentry instead of the host
 * kernel).
 *
 *   syscall OP N [FILE]
 *     getppid      getppid() through libc's wrapper (glibc never caches it):
 *                  the cheapest call, in the form most C programs make it
 *     getppid_raw  syscall(SYS_getppid), the generic wrapper. gVisor's
 *                  systrap platform rewrites the "mov $NR,%eax; syscall"
 *                  of libc's wrappers into a jump to its fast path; the
 *                  generic wrapper loads the number from a register, so
 *                  its syscall cannot be rewritten and always traps
 *     read       pread of 1 byte at offset 0 from FILE (page-cache hit)
 *     openclose  open(FILE, O_RDONLY) + close
 *     stat       stat(FILE)
 *
 * FILE defaults to /tmp/athena-bench-file in the container's root file
 * system; it is created (4 KiB) if missing.
 */
#define _GNU_SOURCE
#include "common.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *path = "/tmp/athena-bench-file";
static int fd;

static void ensure_file(void)
{
	struct stat st;
	if (stat(path, &st) == 0 && st.st_size >= 4096)
		return;
	int f = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (f < 0)
		die("create");
	char buf[4096];
	memset(buf, 'a', sizeof buf);
	if (write(f, buf, sizeof buf) != sizeof buf)
		die("write");
	close(f);
}

static void op_getppid(long long n, void *arg)
{
	(void)arg;
	for (long long i = 0; i < n; i++)
		getppid();
}

static void op_getppid_raw(long long n, void *arg)
{
	(void)arg;
	for (long long i = 0; i < n; i++)
		syscall(SYS_getppid);
}

static void op_read(long long n, void *arg)
{
	(void)arg;
	char c;
	for (long long i = 0; i < n; i++)
		if (pread(fd, &c, 1, 0) != 1)
			die("pread");
}

static void op_openclose(long long n, void *arg)
{
	(void)arg;
	for (long long i = 0; i < n; i++) {
		int f = open(path, O_RDONLY);
		if (f < 0)
			die("open");
		close(f);
	}
}

static void op_stat(long long n, void *arg)
{
	(void)arg;
	struct stat st;
	for (long long i = 0; i < n; i++)
		if (stat(path, &st) != 0)
			die("stat");
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s getppid|getppid_raw|read|openclose|stat N [FILE]\n", argv[0]);
		return 2;
	}
	const char *op = argv[1];
	long long n = parse_n(argv[2]);
	if (argc > 3)
		path = argv[3];
	ensure_file();
	fd = open(path, O_RDONLY);
	if (fd < 0)
		die("open");

	static const struct {
		const char *op, *name;
		op_fn fn;
	} ops[] = {
		{"getppid", "syscall_getppid", op_getppid},
		{"getppid_raw", "syscall_getppid_raw", op_getppid_raw},
		{"read", "syscall_read", op_read},
		{"openclose", "syscall_openclose", op_openclose},
		{"stat", "syscall_stat", op_stat},
	};
	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
		if (strcmp(op, ops[i].op) == 0) {
			measure(ops[i].name, n, ops[i].fn, NULL);
			return 0;
		}
	}
	fprintf(stderr, "unknown op %s\n", op);
	return 2;
}
