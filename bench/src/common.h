/*
 * Shared helpers for the micro-benchmarks. Each program times its loop
 * itself with CLOCK_MONOTONIC, so container start-up, docker exec and the
 * shell never enter the figure: only the operation under test does.
 *
 * The N iterations run as BATCHES timed batches and the reported ns_per_op
 * is the median batch: on a shared machine a neighbour's burst then spoils
 * one batch, not the result. Output is one JSON object on stdout, read by
 * bench/cmd/bench.
 */
#ifndef ATHENA_BENCH_COMMON_H
#define ATHENA_BENCH_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BATCHES 5

static inline long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static inline void die(const char *what)
{
	perror(what);
	exit(1);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/*
 * emit prints the result line from nb per-batch costs (ns per operation):
 * the median as ns_per_op, plus min, max and the totals.
 */
static inline void emit(const char *name, long long iters, long long total_ns, double *per_batch, int nb)
{
	qsort(per_batch, nb, sizeof *per_batch, cmp_double);
	double med = nb % 2 ? per_batch[nb / 2] : (per_batch[nb / 2 - 1] + per_batch[nb / 2]) / 2;
	printf("{\"bench\":\"%s\",\"iters\":%lld,\"batches\":%d,\"total_ns\":%lld,"
	       "\"ns_per_op\":%.2f,\"min_ns_per_op\":%.2f,\"max_ns_per_op\":%.2f}\n",
	       name, iters, nb, total_ns, med, per_batch[0], per_batch[nb - 1]);
	fflush(stdout);
}

typedef void (*op_fn)(long long n, void *arg);

/*
 * measure runs fn for n iterations in BATCHES timed batches after an
 * untimed warm-up of a tenth of a batch, and emits the result.
 */
static inline void measure(const char *name, long long n, op_fn fn, void *arg)
{
	long long per = n / BATCHES > 0 ? n / BATCHES : 1;
	double v[BATCHES];
	long long total = 0;
	fn(per / 10 + 1, arg);
	for (int b = 0; b < BATCHES; b++) {
		long long t0 = now_ns();
		fn(per, arg);
		long long dt = now_ns() - t0;
		total += dt;
		v[b] = (double)dt / (double)per;
	}
	emit(name, per * BATCHES, total, v, BATCHES);
}

/* parse_n reads s as a positive iteration count or exits. */
static inline long long parse_n(const char *s)
{
	char *end;
	long long n = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || n <= 0) {
		fprintf(stderr, "bad count %s\n", s);
		exit(2);
	}
	return n;
}

#endif
