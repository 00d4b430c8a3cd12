/*
 * tcprr: TCP latency, request/response on one connection and on a new
 * connection each time (netperf's TCP_RR and TCP_CRR, reduced).
 *
 *   tcprr server PORT [-D]
 *     listen on 0.0.0.0:PORT and serve any number of connections at once
 *     (one epoll loop): echo every byte read. A read whose last byte is
 *     'c' is echoed and the connection then closed by the server, so the
 *     server end, not the client, holds TIME_WAIT and repeated runs never
 *     run out of ephemeral ports. -D: detach once listening (like
 *     iperf3 -D), so `tcprr server PORT -D && next` starts next only when
 *     the port accepts.
 *   tcprr rr HOST PORT N [SIZE]
 *     one connection, TCP_NODELAY; N round trips of SIZE bytes (default 1)
 *     out and the same back, each timed on its own, after an untimed
 *     warm-up of N/10. Reports the median round trip as ns_per_op and the
 *     99th percentile as p99_ns_per_op.
 *   tcprr crr HOST PORT N
 *     N times: socket, connect, send 1 byte, receive it, receive the
 *     server's close, close; each timed on its own after an untimed
 *     warm-up of N/10. Reports the median connection as ns_per_op and
 *     the 99th percentile as p99_ns_per_op.
 *
 * HOST is a numeric IPv4 address. Output is one JSON line as in common.h,
 * with "batches" 1 (every round trip is a sample; min and max are the
 * fastest and slowest one) and p99_ns_per_op added.
 */
#define _GNU_SOURCE /* accept4 */
#include "common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAXSIZE 65536

static char buf[MAXSIZE];

static void usage(const char *prog)
{
	fprintf(stderr, "usage: %s server PORT [-D] | rr HOST PORT N [SIZE] | crr HOST PORT N\n", prog);
	exit(2);
}

static int parse_port(const char *s)
{
	long long p = parse_n(s);
	if (p > 65535) {
		fprintf(stderr, "bad port %s\n", s);
		exit(2);
	}
	return (int)p;
}

static void nodelay(int fd)
{
	int one = 1;
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
		die("setsockopt TCP_NODELAY");
}

/* write_all and read_full loop over short transfers and EINTR. */
static void write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			die("write");
		}
		p += w;
		n -= (size_t)w;
	}
}

static void read_full(int fd, char *p, size_t n)
{
	while (n > 0) {
		ssize_t r = read(fd, p, n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			die("read");
		}
		if (r == 0) {
			fprintf(stderr, "read: connection closed early\n");
			exit(1);
		}
		p += r;
		n -= (size_t)r;
	}
}

static int serve(int port, int detach)
{
	signal(SIGPIPE, SIG_IGN);
	int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ls < 0)
		die("socket");
	int one = 1;
	if (setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0)
		die("setsockopt SO_REUSEADDR");
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_ANY)};
	if (bind(ls, (struct sockaddr *)&a, sizeof a) != 0)
		die("bind");
	if (listen(ls, 1024) != 0)
		die("listen");
	if (detach) {
		pid_t pid = fork();
		if (pid < 0)
			die("fork");
		if (pid > 0)
			_exit(0);
		setsid();
		int nul = open("/dev/null", O_RDWR);
		if (nul >= 0) {
			dup2(nul, 0);
			dup2(nul, 1);
			dup2(nul, 2);
			if (nul > 2)
				close(nul);
		}
	}
	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die("epoll_create1");
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = ls};
	if (epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev) != 0)
		die("epoll_ctl");
	struct epoll_event evs[64];
	for (;;) {
		int n = epoll_wait(ep, evs, 64, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("epoll_wait");
		}
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == ls) {
				int c = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
				if (c < 0)
					continue; /* ECONNABORTED, EMFILE, ...: keep serving */
				nodelay(c);
				struct epoll_event cev = {.events = EPOLLIN, .data.fd = c};
				if (epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev) != 0)
					close(c);
				continue;
			}
			/*
			 * Accepted sockets stay blocking: replies are small and
			 * the clients always read them, so a write never waits
			 * for long. A failed write just drops that client.
			 */
			ssize_t r = read(fd, buf, sizeof buf);
			if (r < 0 && errno == EINTR)
				continue;
			int done = r <= 0;
			for (ssize_t off = 0; !done && off < r;) {
				ssize_t w = write(fd, buf + off, (size_t)(r - off));
				if (w < 0 && errno == EINTR)
					continue;
				if (w <= 0)
					done = 1;
				else
					off += w;
			}
			if (r > 0 && buf[r - 1] == 'c')
				done = 1;
			if (done)
				close(fd); /* also leaves the epoll set */
		}
	}
}

static int dial(const struct sockaddr_in *a)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket");
	if (connect(fd, (const struct sockaddr *)a, sizeof *a) != 0)
		die("connect");
	nodelay(fd);
	return fd;
}

static double pct(const double *sorted, long long n, double p)
{
	long long i = (long long)(p * (double)(n - 1) + 0.5);
	return sorted[i];
}

static void report(const char *name, double *v, long long n, long long total)
{
	qsort(v, n, sizeof *v, cmp_double);
	double med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	printf("{\"bench\":\"%s\",\"iters\":%lld,\"batches\":1,\"total_ns\":%lld,"
	       "\"ns_per_op\":%.2f,\"min_ns_per_op\":%.2f,\"max_ns_per_op\":%.2f,"
	       "\"p99_ns_per_op\":%.2f}\n",
	       name, n, total, med, v[0], v[n - 1], pct(v, n, 0.99));
	fflush(stdout);
}

static void rr(const struct sockaddr_in *a, long long n, size_t size)
{
	double *v = calloc(n, sizeof *v);
	if (v == NULL)
		die("calloc");
	char *req = malloc(size), *resp = malloc(size);
	if (req == NULL || resp == NULL)
		die("malloc");
	memset(req, 'r', size); /* never 'c': the server keeps the connection */
	int fd = dial(a);
	for (long long i = 0; i < n / 10 + 1; i++) {
		write_all(fd, req, size);
		read_full(fd, resp, size);
	}
	long long total = 0;
	for (long long i = 0; i < n; i++) {
		long long t0 = now_ns();
		write_all(fd, req, size);
		read_full(fd, resp, size);
		long long dt = now_ns() - t0;
		total += dt;
		v[i] = (double)dt;
	}
	close(fd);
	report("tcp_rr", v, n, total);
}

static void crr_once(const struct sockaddr_in *a)
{
	char c = 'c', r;
	int fd = dial(a);
	write_all(fd, &c, 1);
	read_full(fd, &r, 1);
	/* Wait for the server's FIN, so the connection is fully closed. */
	for (;;) {
		ssize_t got = read(fd, &r, 1);
		if (got == 0)
			break;
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			die("read");
		fprintf(stderr, "crr: unexpected data after the reply\n");
		exit(1);
	}
	close(fd);
}

static void crr(const struct sockaddr_in *a, long long n)
{
	double *v = calloc(n, sizeof *v);
	if (v == NULL)
		die("calloc");
	for (long long i = 0; i < n / 10 + 1; i++)
		crr_once(a);
	long long total = 0;
	for (long long i = 0; i < n; i++) {
		long long t0 = now_ns();
		crr_once(a);
		long long dt = now_ns() - t0;
		total += dt;
		v[i] = (double)dt;
	}
	report("tcp_crr", v, n, total);
}

static void addr(struct sockaddr_in *a, const char *host, const char *port)
{
	memset(a, 0, sizeof *a);
	a->sin_family = AF_INET;
	a->sin_port = htons(parse_port(port));
	if (inet_pton(AF_INET, host, &a->sin_addr) != 1) {
		fprintf(stderr, "bad IPv4 address %s\n", host);
		exit(2);
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in a;
	if (argc >= 3 && strcmp(argv[1], "server") == 0) {
		int detach = argc >= 4 && strcmp(argv[3], "-D") == 0;
		if (argc > 4 || (argc == 4 && !detach))
			usage(argv[0]);
		return serve(parse_port(argv[2]), detach);
	}
	if ((argc == 5 || argc == 6) && strcmp(argv[1], "rr") == 0) {
		long long size = argc == 6 ? parse_n(argv[5]) : 1;
		if (size > MAXSIZE) {
			fprintf(stderr, "size %lld above %d\n", size, MAXSIZE);
			return 2;
		}
		addr(&a, argv[2], argv[3]);
		rr(&a, parse_n(argv[4]), (size_t)size);
		return 0;
	}
	if (argc == 5 && strcmp(argv[1], "crr") == 0) {
		addr(&a, argv[2], argv[3]);
		crr(&a, parse_n(argv[4]));
		return 0;
	}
	usage(argv[0]);
	return 2;
}
