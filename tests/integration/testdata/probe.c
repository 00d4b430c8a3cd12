// probe: one system call per command, for the gate's integration tests.
// Each command prints "ok" or the errno name of its failure, so a test can
// compare the outcome under a policy with the outcome without one.
//
//   probe openat DIR NAME       open DIR, then openat(dirfd, NAME, O_RDONLY)
//   probe clone-newuser         clone(CLONE_NEWUSER) (the child exits at once)
//   probe socket-packet         socket(AF_PACKET, SOCK_RAW, 0)
//   probe socket-inet           socket(AF_INET, SOCK_STREAM, 0)
//   probe ioctl-tiocsti         ioctl(0, TIOCSTI, "x")
//   probe connect IP PORT       TCP connect to IPv4 IP:PORT
//   probe sendto IP PORT        one UDP datagram to IPv4 IP:PORT
//   probe listen-unix PATH      bind and listen on a unix socket, then sleep
//   probe connect-unix PATH     connect a unix stream socket to PATH
//   probe touch ADDR PAGES SECS map PAGES anonymous pages at hex ADDR, write
//                               one byte to each (one fault each), sleep SECS
//   probe anonexec              map anonymous memory read-write, write a
//                               "ret" into it, make it read+exec, call it
//   probe wx                    mmap anonymous memory with PROT_WRITE|PROT_EXEC
//   probe alloc MIB SECS        allocate and touch MIB MiB, then sleep SECS
//   probe scan IP LO HI         TCP connect to IP on ports LO..HI, 200 ms
//                               each at most; prints "open N closed N"
//   probe spin SECS THREADS     THREADS threads loop without a system call
//                               for SECS; prints "cpu SECONDS" (getrusage)
//   probe ticker MS SECS        sleep MS ms then work ~100 us, for SECS;
//                               prints "ticks N worst-late MICROSECONDS"
//   probe forks N SECS          fork N children at once, each sleeping SECS
//                               then exiting; prints "forked N" after
//                               reaping them
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <pthread.h>
#include <time.h>

static double now_s(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double spin_until;

static void *spin_thread(void *arg) {
	(void)arg;
	volatile unsigned long x = 0;
	while (now_s() < spin_until)
		for (int i = 0; i < 1 << 20; i++)
			x += i;
	return NULL;
}

static int report(long rc) {
	if (rc < 0) {
		printf("%s\n", strerrorname_np(errno) ? strerrorname_np(errno) : "E?");
		return 1;
	}
	printf("ok\n");
	return 0;
}

static int inet_addr_of(const char *ip, const char *port, struct sockaddr_in *sa) {
	memset(sa, 0, sizeof *sa);
	sa->sin_family = AF_INET;
	sa->sin_port = htons(atoi(port));
	return inet_pton(AF_INET, ip, &sa->sin_addr) == 1 ? 0 : -1;
}

int main(int argc, char **argv) {
	if (argc < 2) {
		fprintf(stderr, "usage: probe COMMAND ARGS\n");
		return 2;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "openat") && argc == 4) {
		int dfd = open(argv[2], O_RDONLY | O_DIRECTORY);
		if (dfd < 0)
			return report(-1);
		return report(openat(dfd, argv[3], O_RDONLY));
	}
	if (!strcmp(cmd, "clone-newuser")) {
		long pid = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
		if (pid == 0)
			_exit(0);
		if (pid > 0)
			waitpid(pid, NULL, 0);
		return report(pid);
	}
	if (!strcmp(cmd, "socket-packet"))
		return report(socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL)));
	if (!strcmp(cmd, "socket-inet"))
		return report(socket(AF_INET, SOCK_STREAM, 0));
	if (!strcmp(cmd, "ioctl-tiocsti")) {
		char c = 'x';
		return report(ioctl(0, TIOCSTI, &c));
	}
	if ((!strcmp(cmd, "connect") || !strcmp(cmd, "sendto")) && argc == 4) {
		struct sockaddr_in sa;
		if (inet_addr_of(argv[2], argv[3], &sa) < 0) {
			fprintf(stderr, "bad address\n");
			return 2;
		}
		int udp = !strcmp(cmd, "sendto");
		int fd = socket(AF_INET, udp ? SOCK_DGRAM : SOCK_STREAM, 0);
		if (fd < 0)
			return report(-1);
		if (udp)
			return report(sendto(fd, "x", 1, 0, (struct sockaddr *)&sa, sizeof sa));
		return report(connect(fd, (struct sockaddr *)&sa, sizeof sa));
	}
	if ((!strcmp(cmd, "listen-unix") || !strcmp(cmd, "connect-unix")) && argc == 3) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		strncpy(sa.sun_path, argv[2], sizeof sa.sun_path - 1);
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (fd < 0)
			return report(-1);
		if (!strcmp(cmd, "connect-unix"))
			return report(connect(fd, (struct sockaddr *)&sa, sizeof sa));
		if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 8) < 0)
			return report(-1);
		printf("listening\n");
		fflush(stdout);
		pause();
		return 0;
	}
	if (!strcmp(cmd, "touch") && argc == 5) {
		unsigned long addr = strtoul(argv[2], NULL, 16);
		long pages = atol(argv[3]);
		char *p = mmap((void *)addr, pages * 4096, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		if (p == MAP_FAILED)
			return report(-1);
		for (long i = 0; i < pages; i++)
			p[i * 4096] = 1;
		printf("ok %p\n", (void *)p);
		fflush(stdout);
		sleep(atoi(argv[4]));
		return 0;
	}
	if (!strcmp(cmd, "anonexec")) {
		unsigned char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return report(-1);
		p[0] = 0xc3; /* ret */
		if (mprotect(p, 4096, PROT_READ | PROT_EXEC) < 0)
			return report(-1);
		((void (*)(void))p)();
		printf("ok %p\n", (void *)p);
		return 0;
	}
	if (!strcmp(cmd, "wx")) {
		void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		return report(p == MAP_FAILED ? -1 : 0);
	}
	if (!strcmp(cmd, "alloc") && argc == 4) {
		long mib = atol(argv[2]);
		for (long i = 0; i < mib; i++) {
			char *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (p == MAP_FAILED)
				return report(-1);
			memset(p, 1, 1 << 20);
		}
		printf("ok\n");
		fflush(stdout);
		sleep(atoi(argv[3]));
		return 0;
	}
	if (!strcmp(cmd, "scan") && argc == 5) {
		int open_ = 0, closed = 0;
		for (int port = atoi(argv[3]); port <= atoi(argv[4]); port++) {
			struct sockaddr_in sa;
			char ps[8];
			snprintf(ps, sizeof ps, "%d", port);
			if (inet_addr_of(argv[2], ps, &sa) < 0)
				return 2;
			int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
			if (fd < 0)
				return report(-1);
			int rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
			if (rc < 0 && errno == EINPROGRESS) {
				struct pollfd pfd = {.fd = fd, .events = POLLOUT};
				int err = ETIMEDOUT;
				socklen_t len = sizeof err;
				if (poll(&pfd, 1, 200) == 1)
					getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
				rc = err ? -1 : 0;
			}
			if (rc == 0)
				open_++;
			else
				closed++;
			close(fd);
		}
		printf("open %d closed %d\n", open_, closed);
		return 0;
	}
	if (!strcmp(cmd, "spin") && argc == 4) {
		int threads = atoi(argv[3]);
		pthread_t th[64];
		if (threads < 1 || threads > 64)
			return 2;
		spin_until = now_s() + atof(argv[2]);
		for (int i = 1; i < threads; i++)
			pthread_create(&th[i], NULL, spin_thread, NULL);
		spin_thread(NULL);
		for (int i = 1; i < threads; i++)
			pthread_join(th[i], NULL);
		struct rusage ru;
		getrusage(RUSAGE_SELF, &ru);
		printf("cpu %.3f\n", ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
		return 0;
	}
	if (!strcmp(cmd, "ticker") && argc == 4) {
		double ms = atof(argv[2]), end = now_s() + atof(argv[3]), worst = 0;
		long ticks = 0;
		volatile unsigned long x = 0;
		while (now_s() < end) {
			double t0 = now_s();
			usleep(ms * 1000);
			double late = now_s() - t0 - ms / 1000;
			if (late > worst)
				worst = late;
			for (double w = now_s() + 0.0001; now_s() < w;)
				x++;
			ticks++;
		}
		printf("ticks %ld worst-late %.0f\n", ticks, worst * 1e6);
		return 0;
	}
	if (!strcmp(cmd, "forks") && argc == 4) {
		int n = atoi(argv[2]), forked = 0;
		unsigned secs = atoi(argv[3]);
		for (int i = 0; i < n; i++) {
			pid_t pid = fork();
			if (pid == 0) {
				sleep(secs);
				_exit(0);
			}
			if (pid > 0)
				forked++;
		}
		while (wait(NULL) > 0)
			;
		printf("forked %d\n", forked);
		return 0;
	}
	fprintf(stderr, "probe: unknown command %s\n", cmd);
	return 2;
}
