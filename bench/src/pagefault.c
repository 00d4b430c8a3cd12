/*
 * pagefault: cost of anonymous memory faults and of mapping churn. Under
 * gVisor a fault on fresh memory is first taken by the host kernel and then
 * by the Sentry, which must populate its own mappings; this shows it.
 *
 *   pagefault touch PAGES ROUNDS
 *     per round: mmap PAGES fresh anonymous pages, write one byte to each
 *     (one fault per page, timed), munmap. Reports ns per page, the median
 *     round.
 *   pagefault churn N
 *     N times: mmap 16 pages, write the first, munmap. Reports ns per
 *     mmap+fault+munmap cycle.
 */
#include "common.h"

#include <sys/mman.h>
#include <unistd.h>

static long page;

static void op_churn(long long n, void *arg)
{
	(void)arg;
	size_t len = 16 * page;
	for (long long i = 0; i < n; i++) {
		char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			die("mmap");
		p[0] = 1;
		if (munmap(p, len) != 0)
			die("munmap");
	}
}

int main(int argc, char **argv)
{
	page = sysconf(_SC_PAGESIZE);
	if (argc >= 4 && strcmp(argv[1], "touch") == 0) {
		long long pages = parse_n(argv[2]);
		long long rounds = parse_n(argv[3]);
		double *v = calloc(rounds, sizeof *v);
		if (v == NULL)
			die("calloc");
		long long total = 0;
		/* Each round is a batch: fresh pages every time, so no warm-up. */
		for (long long r = 0; r < rounds; r++) {
			char *p = mmap(NULL, pages * page, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (p == MAP_FAILED)
				die("mmap");
			long long t0 = now_ns();
			for (long long i = 0; i < pages; i++)
				p[i * page] = 1;
			long long dt = now_ns() - t0;
			total += dt;
			v[r] = (double)dt / (double)pages;
			if (munmap(p, pages * page) != 0)
				die("munmap");
		}
		emit("pagefault_touch", pages * rounds, total, v, (int)rounds);
		return 0;
	}
	if (argc >= 3 && strcmp(argv[1], "churn") == 0) {
		measure("mmap_churn", parse_n(argv[2]), op_churn, NULL);
		return 0;
	}
	fprintf(stderr, "usage: %s touch PAGES ROUNDS | churn N\n", argv[0]);
	return 2;
}
