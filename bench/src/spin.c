/*
 * spin: CPU hogs that count their work. "spin PROCS SECONDS" forks PROCS
 * processes (thread groups) that each run a loop without a system call
 * for SECONDS, reading the clock (vDSO, no system call) once every 2^20
 * iterations; the parent sums the iterations and the children's CPU
 * time as the kernel the program runs on accounts it (wait4's rusage),
 * and prints one JSON line:
 *
 *   {"bench":"spin","procs":P,"seconds":S,"iters":N,"iters_per_s":R,
 *    "cpu_s":C,"wall_s":W}
 *
 * The iteration rate is the hogs' throughput, the figure the noisy
 * neighbour benchmark compares across runtimes.
 */
#include "common.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static long long spin_for(long long ns)
{
	volatile unsigned long long x = 0;
	long long iters = 0, end = now_ns() + ns;
	for (;;) {
		for (int i = 0; i < (1 << 20); i++)
			x += i;
		iters += 1 << 20;
		if (now_ns() >= end)
			return iters;
	}
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: spin PROCS SECONDS\n");
		return 2;
	}
	long long procs = parse_n(argv[1]);
	long long seconds = parse_n(argv[2]);
	int fds[2];
	if (pipe(fds) != 0)
		die("pipe");
	long long t0 = now_ns();
	for (long long p = 0; p < procs; p++) {
		pid_t pid = fork();
		if (pid < 0)
			die("fork");
		if (pid == 0) {
			long long n = spin_for(seconds * 1000000000LL);
			if (write(fds[1], &n, sizeof n) != sizeof n)
				die("write");
			_exit(0);
		}
	}
	close(fds[1]);
	long long total = 0, n;
	for (long long p = 0; p < procs; p++) {
		if (read(fds[0], &n, sizeof n) != sizeof n)
			die("read");
		total += n;
	}
	double cpu = 0;
	for (long long p = 0; p < procs; p++) {
		struct rusage ru;
		int status;
		if (wait4(-1, &status, 0, &ru) < 0)
			die("wait4");
		cpu += ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	}
	double wall = (now_ns() - t0) / 1e9;
	printf("{\"bench\":\"spin\",\"procs\":%lld,\"seconds\":%lld,\"iters\":%lld,\"iters_per_s\":%.0f,"
	       "\"cpu_s\":%.3f,\"wall_s\":%.3f}\n",
	       procs, seconds, total, total / wall, cpu, wall);
	return 0;
}
